"""Imports of one person at once store one lead (``run_import(..., duplicates=check)``).

``plan_import`` finds duplicates of the records stored when it plans; rows planned as new can
meet a lead that another import stored since. With ``duplicates=`` (an EngineDuplicateCheck
indexing leads, its keys in the store's database) ``run_import`` locks the blocking keys of
each batch's new leads and checks each again before adding it, so four processes importing
rows of the same 20 people at once store 20 leads, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates.rules import DEFAULT_LEAD_RULES, DuplicateRuleSet
from leadkit.errors import InvalidValue
from leadkit.io import ImportPolicy, RowStatus, SkipReason, plan_import, run_import
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import LeadId, PersonName
from support.import_race import AT, BY, email_of, people_csv
from support.postgres import fresh_database
from support.races import go_together

PEOPLE = 20
PER_PERSON = 3
TESTS = Path(__file__).resolve().parents[1]


def _url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'leads.db'}"
    return fresh_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    with SqlStore.open(_url(request.param, tmp_path)) as opened:
        yield opened


def _check(store: SqlStore) -> EngineDuplicateCheck:
    return EngineDuplicateCheck.from_store(store, key_store=SqlKeyStore(store.engine), leads=True)


def _ids(prefix: str) -> Any:
    numbers = iter(range(1_000_000))
    return lambda: f"{prefix}-{next(numbers)}"


def test_a_lead_stored_since_the_plan_skips_its_row(store: SqlStore) -> None:
    check = _check(store)
    plan = plan_import(people_csv(2, 1, seed=1), store=check.store)
    assert len(plan.to_create) == 2
    with check.store.unit_of_work() as uow:  # another import, after the plan was made
        uow.leads.add(
            Lead.create(
                LeadId("earlier"),
                LeadPatch(topic="Earlier", name=PersonName(first="Ada", last="Lovelace"),
                          email=email_of(0), company="Analytical Engines"),
                at=AT, by=BY,
            )
        )  # fmt: skip
        uow.commit()
    report = run_import(check.store, plan, ids=_ids("new"), at=AT, by=BY, duplicates=check)
    skipped = [o for o in report.outcomes if o.status is RowStatus.SKIPPED]
    assert [o.skip_reason for o in skipped] == [SkipReason.DUPLICATE_OF_STORED]
    assert "earlier" in skipped[0].reason
    assert "since the plan was made" in skipped[0].reason
    assert report.created == 1
    with store.unit_of_work() as uow:
        emails = sorted(str(lead.email) for lead in uow.leads.stream())
    assert emails == sorted([email_of(0), email_of(1)])


def test_without_the_check_the_row_is_created_again(store: SqlStore) -> None:
    """The control: the plan alone does not see a lead stored after it."""
    check = _check(store)
    plan = plan_import(people_csv(1, 1, seed=1), store=check.store)
    run_import(check.store, plan, ids=_ids("first"), at=AT, by=BY)
    report = run_import(check.store, plan, ids=_ids("second"), at=AT, by=BY)
    assert report.created == 1
    with store.unit_of_work() as uow:
        assert len(list(uow.leads.stream())) == 2


def test_an_unfit_check_is_refused(store: SqlStore) -> None:
    plan = plan_import(people_csv(1, 1, seed=1), store=store)
    without_leads = EngineDuplicateCheck.from_store(store)
    with pytest.raises(InvalidValue, match="must index leads"):
        run_import(without_leads.store, plan, ids=_ids("x"), at=AT, by=BY,
                   duplicates=without_leads)  # fmt: skip
    check = _check(store)
    with pytest.raises(InvalidValue, match=r"duplicates\.store"):
        run_import(store, plan, ids=_ids("x"), at=AT, by=BY, duplicates=check)
    fewer = DuplicateRuleSet(name="fewer", rules=DEFAULT_LEAD_RULES.rules[:1])
    other_rules = ImportPolicy(rule_set=fewer)
    other = plan_import(people_csv(1, 1, seed=1), policy=other_rules, store=store)
    with pytest.raises(InvalidValue, match="rule set"):
        run_import(check.store, other, ids=_ids("x"), at=AT, by=BY, duplicates=check)
    with pytest.raises(InvalidValue, match="EngineDuplicateCheck"):
        run_import(store, plan, ids=_ids("x"), at=AT, by=BY, duplicates=object())  # type: ignore[arg-type]
    with store.unit_of_work() as uow:
        assert list(uow.leads.stream()) == []


def _race(url: str, *extra: str) -> list[dict[str, int]]:
    """Four worker processes (``support.import_race``) plan, then import at once."""
    with SqlStore.open(url) as store:
        _check(store)  # builds the keys (none: the store is empty) once
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "support.import_race",
                url,
                str(n),
                str(PEOPLE),
                str(PER_PERSON),
                *extra,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(4)
    ]
    return go_together(processes)


def _emails(url: str) -> list[str]:
    with SqlStore.open(url, create=False) as store, store.unit_of_work() as uow:
        return sorted(str(lead.email) for lead in uow.leads.stream())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_four_processes_importing_the_same_20_people_store_20_leads(
    kind: str, tmp_path: Path
) -> None:
    url = _url(kind, tmp_path)
    summaries = _race(url)
    print(f"[{kind}] {summaries}")  # pytest -s
    assert all(s["planned"] == PEOPLE for s in summaries), summaries  # each saw an empty store
    assert sum(s["created"] for s in summaries) == PEOPLE, summaries
    assert sum(s["skipped_as_stored"] for s in summaries) == 3 * PEOPLE, summaries
    assert _emails(url) == sorted(email_of(p) for p in range(PEOPLE))


@pytest.mark.slow
def test_four_processes_importing_unchecked_store_every_person_four_times(
    tmp_path: Path,
) -> None:
    """The control of the race above: without ``duplicates=`` every process creates all."""
    url = _url("sqlite", tmp_path)
    summaries = _race(url, "unchecked")
    assert sum(s["created"] for s in summaries) == 4 * PEOPLE, summaries
    assert len(_emails(url)) == 4 * PEOPLE
