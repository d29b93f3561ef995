"""Properties of import and export: every input row is accounted for exactly once, an import
that fails leaves the store unchanged, and export then import is the identity on the exported
fields (CSV and .xlsx)."""

from __future__ import annotations

import csv
import io
import itertools
import string
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.adapters.memory import MemoryStore
from leadkit.errors import StorageUnavailable
from leadkit.fields import CustomFields, CustomValue
from leadkit.io import (
    DEFAULT_EXPORT_COLUMNS,
    ExistingAction,
    ImportInterrupted,
    ImportPolicy,
    export_csv,
    export_xlsx,
    open_source,
    plan_import,
    run_import,
    suggest_mapping,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore, UnitOfWork
from leadkit.testing.strategies import lead_patches
from leadkit.values import EmailAddress, LeadId, PersonName, PhoneNumber, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("importer")
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def new_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"N-{next(counter)}"


def snapshot(store: LeadStore) -> dict[LeadId, tuple[int, Lead]]:
    with store.unit_of_work() as uow:
        return {lead.id: (lead.version, lead) for lead in uow.leads.stream()}


# ---------------------------------------------------------------------------------------------
# Random files: valid, invalid, blank and duplicate rows, some matching stored leads

NAMES = ("Åsa", "Björn", "Łukasz", "Jürgen", "Emily", "Zofia")
EMAILS = (
    *(f"{n}@example.se" for n in ("asa", "bjorn", "lukasz", "jurgen", "emily")),
    "broken@",
    "",
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """A semicolon CSV (UTF-8) and its number of data rows."""
    rows = draw(
        st.lists(
            st.one_of(
                st.just(["", "", "", ""]),
                st.tuples(
                    st.sampled_from(("Fleet", "Service", "", "=Offer")),
                    st.sampled_from(NAMES),
                    st.sampled_from((*NAMES, "")),
                    st.sampled_from(EMAILS),
                ).map(list),
            ),
            max_size=25,
        )
    )
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Topic", "First Name", "Last Name", "Email"])
    writer.writerows(rows)
    return out.getvalue().encode(), len(rows)


def _store_with(emails: list[str]) -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for i, email in enumerate(emails):
            patch = LeadPatch(
                topic="Stored", name=PersonName(last=f"Stored{i}"), email=EmailAddress(email)
            )
            uow.leads.add(Lead.create(LeadId(f"S-{i}"), patch, at=AT, by=BY))
        uow.commit()
    return store


@PROPERTY
@given(
    file=csv_files(),
    stored_emails=st.lists(st.sampled_from(EMAILS[:5]), unique=True, max_size=3),
    update=st.booleans(),
    batch=st.none() | st.integers(1, 7),
)
def test_every_input_row_is_accounted_for_exactly_once(
    file: tuple[bytes, int], stored_emails: list[str], update: bool, batch: int | None
) -> None:
    data, count = file
    store = _store_with(stored_emails)
    policy = ImportPolicy(on_existing=ExistingAction.UPDATE if update else ExistingAction.SKIP)
    plan = plan_import(data, policy=policy, store=store)
    numbers = [r.number for r in open_source(data).rows()]
    assert [r.number for r in plan.rows] == numbers == list(range(2, count + 2))
    totals = plan.totals
    assert totals.rows == totals.create + totals.update + totals.skip + totals.reject == count
    report = run_import(store, plan, ids=new_ids(), at=AT, by=BY, batch_size=batch)
    assert [o.row for o in report.outcomes] == numbers
    assert report.rows == report.created + report.updated + report.skipped + report.rejected
    assert (report.created, report.updated) == (totals.create, totals.update)
    assert len(snapshot(store)) == len(stored_emails) + report.created
    store.close()


class FailingStore:
    """Fails the ``fail_on``-th write (add or save) with a storage error."""

    def __init__(self, inner: LeadStore, fail_on: int) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.writes = 0

    def _count(self, write: Callable[[Lead], Lead]) -> Callable[[Lead], Lead]:
        def run(lead: Lead) -> Lead:
            self.writes += 1
            if self.writes == self.fail_on:
                raise StorageUnavailable("injected failure")
            return write(lead)

        return run

    def unit_of_work(self) -> UnitOfWork:
        uow = self.inner.unit_of_work()
        uow.leads.add = self._count(uow.leads.add)  # type: ignore[method-assign,assignment]
        uow.leads.save = self._count(uow.leads.save)  # type: ignore[method-assign,assignment]
        return uow

    def close(self) -> None:
        self.inner.close()


@PROPERTY
@given(
    file=csv_files(),
    stored_emails=st.lists(st.sampled_from(EMAILS[:5]), unique=True, max_size=3),
    fail_on=st.integers(1, 12),
)
def test_an_import_that_fails_leaves_the_store_unchanged(
    file: tuple[bytes, int], stored_emails: list[str], fail_on: int
) -> None:
    data, _ = file
    store = _store_with(stored_emails)
    before = snapshot(store)
    policy = ImportPolicy(on_existing=ExistingAction.UPDATE)
    plan = plan_import(data, policy=policy, store=store)
    writes = plan.totals.create + plan.totals.update
    failing = FailingStore(store, fail_on)
    if fail_on <= writes:
        with pytest.raises(ImportInterrupted) as caught:
            run_import(failing, plan, ids=new_ids(), at=AT, by=BY)
        assert caught.value.checkpoint.position == 0
        assert snapshot(store) == before
    else:
        report = run_import(failing, plan, ids=new_ids(), at=AT, by=BY)
        assert len(snapshot(store)) == len(before) + report.created
    store.close()


# ---------------------------------------------------------------------------------------------
# Export then import

CUSTOM_KINDS = {
    "note": "text",
    "employees": "integer",
    "ratio": "decimal",
    "vip": "boolean",
    "since": "date",
}
_TEXT = string.ascii_letters + "åäöÅÄÖłŁßü0123456789 .,;:'\"-+=@"


def _custom() -> st.SearchStrategy[CustomFields]:
    values: dict[str, st.SearchStrategy[Any]] = {
        "note": st.text(_TEXT, min_size=1, max_size=30).map(str.strip).filter(bool),
        "employees": st.integers(-(10**12), 10**12),
        "ratio": st.decimals(allow_nan=False, allow_infinity=False, places=4),
        "vip": st.booleans(),
        "since": st.dates(date(1990, 1, 1), date(2100, 1, 1)),
    }
    return st.fixed_dictionaries({}, optional=values).map(
        lambda d: CustomFields(dict[str, CustomValue](d))
    )


@st.composite
def leads(draw: st.DrawFn) -> list[Lead]:
    patches = draw(st.lists(lead_patches(), min_size=1, max_size=4))
    made = []
    for i, patch in enumerate(patches):
        patch = LeadPatch.from_mapping({**patch.as_dict(), "custom_fields": draw(_custom())})
        made.append(Lead.create(LeadId(f"L-{i}"), patch, at=AT, by=BY))
    return made


COLUMNS = ("id", *DEFAULT_EXPORT_COLUMNS, *(f"custom.{n}" for n in CUSTOM_KINDS))
FIELDS = (
    "topic",
    "name",
    "job_title",
    "company",
    "email",
    "website",
    "address",
    "source",
    "initiated_by",
    "rating",
    "budget_amount",
    "budget",
    "need",
    "purchase_timeframe",
    "purchase_process",
    "description",
    "estimated_value",
    "estimated_close_date",
    "custom_fields",
)


def _phone(phone: PhoneNumber | None) -> tuple[str, str] | None:
    return None if phone is None else (phone.e164, phone.extension)


def _roundtrip(data: bytes, originals: list[Lead]) -> None:
    source = open_source(data)
    mapping = suggest_mapping(source.headers, custom_kinds=CUSTOM_KINDS)
    assert mapping.ignored == ()
    policy = ImportPolicy(check_duplicates=False, match_by_email=False)
    store = MemoryStore()
    plan = plan_import(source, mapping, policy, store=store)
    assert plan.errors == ()
    run_import(store, plan, ids=new_ids(), at=AT, by=BY)
    back = {lead_id: lead for lead_id, (_, lead) in snapshot(store).items()}
    assert set(back) == {lead.id for lead in originals}
    for original in originals:
        imported = back[original.id]
        for field in FIELDS:
            assert getattr(imported, field) == getattr(original, field), field
        for field in ("business_phone", "mobile_phone"):
            assert _phone(getattr(imported, field)) == _phone(getattr(original, field)), field
    store.close()


@PROPERTY
@given(
    originals=leads(),
    language=st.sampled_from(("en", "sv", "pl", "de")),
    delimiter=st.sampled_from((",", ";", "\t")),
)
def test_csv_export_then_import_is_the_identity_on_the_exported_fields(
    originals: list[Lead], language: str, delimiter: str
) -> None:
    out = io.StringIO(newline="")
    export_csv(originals, out, COLUMNS, language=language, delimiter=delimiter)
    _roundtrip(out.getvalue().encode("utf-8-sig"), originals)


@settings(PROPERTY, max_examples=10)
@given(originals=leads())
def test_xlsx_export_then_import_is_the_identity_on_the_exported_fields(
    originals: list[Lead],
) -> None:
    out = io.BytesIO()
    export_xlsx(originals, out, COLUMNS, language="sv")
    _roundtrip(out.getvalue(), originals)
