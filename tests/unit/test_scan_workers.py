"""The scan in worker processes gives the one-process scan's result."""

from __future__ import annotations

import pytest

from leadkit import InvalidValue
from leadkit.duplicates import DEFAULT_LEAD_RULES, scan_report
from leadkit.scan_workers import scan_in_processes
from leadkit.testing.dupdata import generate_leads


def test_workers_find_the_groups_of_one_process() -> None:
    records = [row.to_record() for row in generate_leads(400, seed=11).rows]
    whole = scan_report(records, DEFAULT_LEAD_RULES)
    assert whole.groups
    for workers in (1, 2, 3):
        found = scan_in_processes(records, DEFAULT_LEAD_RULES, workers=workers)
        assert found.groups == whole.groups
        assert found.records == whole.records


@pytest.mark.parametrize("workers", [0, -1, True, 1.5, 65, 10_000])
def test_a_bad_worker_count_is_refused(workers: object) -> None:
    with pytest.raises(InvalidValue) as raised:
        scan_in_processes([], DEFAULT_LEAD_RULES, workers=workers)  # type: ignore[arg-type]
    assert raised.value.field == "workers"


def test_a_record_given_twice_is_refused_in_a_worker() -> None:
    record = generate_leads(2, seed=1).rows[0].to_record()
    with pytest.raises(InvalidValue):
        scan_in_processes([record, record], DEFAULT_LEAD_RULES, workers=2)
