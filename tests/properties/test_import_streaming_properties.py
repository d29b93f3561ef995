"""Properties of the streaming import (:func:`leadkit.io.streaming.import_streaming`): on drawn
files and stores it gives every row the outcome ``plan_import`` + ``run_import`` give it and
leaves the store holding the same leads, on the in-memory store and on SQLite, with and
without the keyed duplicate check (and its check again under locks as leads are written),
for any plan and write batch sizes."""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates.index import MemoryKeyStore
from leadkit.io import DuplicateAction, ExistingAction, ImportPolicy, plan_import, run_import
from leadkit.io import plan as plan_module
from leadkit.io.run import ImportReport
from leadkit.io.streaming import import_streaming
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
BY = UserRef("importer")
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

person = st.tuples(
    st.sampled_from(("Åsa", "Anna", "Björn", "")),
    st.sampled_from(("Öberg", "Nowak", "Smith", "Smyth")),
    st.sampled_from(("Nordic Trä AB", "Nordic Tra AB", "Baltic Data", "")),
    st.sampled_from(("", "anna", "asa.oberg", "b.nowak", "not an address")),
    st.sampled_from(("nordic.se", "baltic.pl")),
    st.sampled_from(("+46701234567", "070-123 45 67", "", "12")),
    st.sampled_from(("", "", "S-0", "S-1", "N-7")),
    st.sampled_from(("Offer", "Offer", "Other offer", "")),
)
Person = tuple[str, str, str, str, str, str, str, str]


def _email(p: Person) -> str:
    return f"{p[3]}@{p[4]}" if p[3] else ""


def _fill(store: LeadStore, people: list[Person]) -> None:
    with store.unit_of_work() as uow:
        for i, p in enumerate(people):
            email = _email(p)
            patch = LeadPatch(
                topic=f"Stored {i}",
                name=PersonName(first=p[0], last=p[1]),
                company=p[2],
                email=EmailAddress(email) if email and " " not in email else None,
            )
            uow.leads.add(Lead.create(LeadId(f"S-{i}"), patch, at=AT, by=BY))
        uow.commit()


def _file(rows: list[Person]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Lead ID", "Topic", "First Name", "Last Name", "Company Name", "Email",
                     "Mobile Phone"])  # fmt: skip
    for p in rows:
        writer.writerow([p[6], p[7], p[0], p[1], p[2], _email(p), p[5]])
    return out.getvalue().encode()


@contextmanager
def _store(kind: str, keyed: bool, people: list[Person]) -> Iterator[tuple[LeadStore, Any]]:
    """A filled store to import into and the keyed check (None without)."""
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "memory":
            store: Any = MemoryStore()
            keys: Any = MemoryKeyStore()
        else:
            store = SqlStore.open(path=Path(tmp) / "leads.db")
            keys = SqlKeyStore(store.engine)
        try:
            _fill(store, people)
            check = None
            if keyed:
                check = EngineDuplicateCheck.from_store(store, key_store=keys, leads=True)
            yield store, check
        finally:
            if kind != "memory":
                store.close()


def _outcomes(report: ImportReport) -> list[tuple[Any, ...]]:
    return [
        (o.row, o.status, o.lead_id, o.skip_reason, o.errors, o.reason) for o in report.outcomes
    ]


def _leads(store: LeadStore) -> list[Lead]:
    with store.unit_of_work() as uow:
        return sorted(uow.leads.stream(), key=lambda lead: lead.id)


@PROPERTY
@given(
    kind=st.sampled_from(("memory", "sqlite")),
    keyed=st.booleans(),
    recheck=st.booleans(),
    stored=st.lists(person, max_size=6),
    rows=st.lists(person, min_size=1, max_size=14),
    plan_batch=st.integers(1, 5),
    write_batch=st.integers(1, 6),
    on_existing=st.sampled_from(ExistingAction),
    on_duplicate=st.sampled_from(DuplicateAction),
    match_by_email=st.booleans(),
    check_duplicates=st.booleans(),
)
def test_streaming_gives_every_row_the_outcome_of_plan_and_run(
    kind: str,
    keyed: bool,
    recheck: bool,
    stored: list[Person],
    rows: list[Person],
    plan_batch: int,
    write_batch: int,
    on_existing: ExistingAction,
    on_duplicate: DuplicateAction,
    match_by_email: bool,
    check_duplicates: bool,
) -> None:
    data = _file(rows)
    policy = ImportPolicy(
        phone_region="SE",
        on_existing=on_existing,
        on_duplicate=on_duplicate,
        match_by_email=match_by_email,
        check_duplicates=check_duplicates,
    )
    with mock.patch.object(plan_module, "PLAN_BATCH_SIZE", plan_batch):
        with _store(kind, keyed, stored) as (store, check):
            plan = plan_import(data, policy=policy, store=store, duplicates=check)
            ids = itertools.count(1)
            expected = run_import(
                check.store if check is not None else store, plan, ids=lambda: f"L-{next(ids)}",
                at=LATER, by=BY, batch_size=write_batch,
                duplicates=check if recheck else None,
            )  # fmt: skip
            expected_leads = _leads(store)
        with _store(kind, keyed, stored) as (store, check):
            ids = itertools.count(1)
            streamed = import_streaming(
                check.store if check is not None else store, data, policy=policy,
                ids=lambda: f"L-{next(ids)}", at=LATER, by=BY, batch_size=write_batch,
                duplicates=check, recheck=recheck,
            )  # fmt: skip
            assert _outcomes(streamed) == _outcomes(expected)
            assert streamed.source == expected.source
            assert _leads(store) == expected_leads
