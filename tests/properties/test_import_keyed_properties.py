"""Properties of the keyed duplicate check of an import: looking a batch of rows up in the
persisted keys (``plan_import(..., duplicates=check)``), and the rows' e-mail addresses up in
the store, plans every row as reading the whole store into an in-memory index and e-mail map
does, on the in-memory store and on SQLite (comparing with the normalised values stored with
the keys, with leads read and decoded where no values are stored, and with leads written
through ``check.store`` after the keys were built); and
``search_many`` finds for each record what ``DuplicateIndex.search`` finds, stop keys
included."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import SqlKeyStore, duplicate_values
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import DEFAULT_LEAD_RULES, DuplicateIndex
from leadkit.duplicates.batch import search_many
from leadkit.duplicates.index import MemoryKeyStore
from leadkit.duplicates.record_view import duplicate_record
from leadkit.io import ImportPlan, ImportPolicy, plan_import
from leadkit.io import plan as plan_module
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore
from leadkit.records import Account, Contact
from leadkit.values import AccountId, ContactId, EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("importer")
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIRST = ("Åsa", "Anna", "Björn", "Jürgen", "Emily")
LAST = ("Öberg", "Nowak", "Smith", "Smyth", "Müller")
COMPANY = ("Nordic Trä AB", "Nordic Tra AB", "Baltic Data", "Alpen Bau GmbH", "")
DOMAIN = ("nordic.se", "baltic.pl", "Alpen.DE")
PHONE = ("+46701234567", "070-123 45 67", "+48221234567", "")

person = st.tuples(
    st.sampled_from(FIRST),
    st.sampled_from(LAST),
    st.sampled_from(COMPANY),
    st.sampled_from(("", "anna", "asa.oberg", "b.nowak", "info")),
    st.sampled_from(DOMAIN),
    st.sampled_from(PHONE),
)
Person = tuple[str, str, str, str, str, str]


def _email(person: Person) -> str:
    return f"{person[3]}@{person[4]}" if person[3] else ""


def _fill(store: LeadStore, people: list[Person], contacts: list[Person]) -> None:
    with store.unit_of_work() as uow:
        for i, p in enumerate(people):
            email = _email(p)
            patch = LeadPatch(
                topic=f"Stored {i}",
                name=PersonName(first=p[0], last=p[1]),
                company=p[2],
                email=EmailAddress(email) if email else None,
            )
            uow.leads.add(Lead.create(LeadId(f"S-{i}"), patch, at=AT, by=BY))
        if contacts:
            account = Account(id=AccountId("A-1"), name=contacts[0][2] or "Acme", created_at=AT)
            uow.accounts.add(account)
        for i, p in enumerate(contacts):
            email = _email(p)
            contact = Contact(
                id=ContactId(f"C-{i}"),
                name=PersonName(first=p[0], last=p[1]),
                company=p[2],
                email=EmailAddress(email) if email else None,
                account_id=AccountId("A-1") if i % 2 == 0 else None,
                created_at=AT,
            )
            uow.contacts.add(contact)
        uow.commit()


def _file(rows: list[Person]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Topic", "First Name", "Last Name", "Company Name", "Email", "Mobile Phone"])
    for i, p in enumerate(rows):
        writer.writerow([f"Offer {i}", p[0], p[1], p[2], _email(p), p[5]])
    return out.getvalue().encode()


def _outcomes(plan: ImportPlan) -> list[tuple[Any, ...]]:
    return [
        (
            r.number,
            r.action,
            r.skip_reason,
            r.lead_id,
            r.duplicate_of_row,
            [(m.candidate, m.rule, m.score) for m in r.matches],
        )
        for r in plan.rows
    ]


KINDS = ("memory", "sqlite", "sqlite-without-values", "sqlite-written-after")


@contextmanager
def _stores(kind: str) -> Iterator[tuple[LeadStore, Any]]:
    """A store and a key store for the check: in memory, or SQLite with the keys in it."""
    if kind == "memory":
        yield MemoryStore(), MemoryKeyStore()
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore.open(path=Path(tmp) / "leads.db")
        try:
            yield store, SqlKeyStore(store.engine)
        finally:
            store.close()


def _keyed_check(
    kind: str, store: LeadStore, keys: Any, stored: list[Person], contacts: list[Person]
) -> EngineDuplicateCheck:
    """The check of ``kind`` over ``store`` holding ``stored`` and ``contacts``: keys built
    after the records were written (their values with them), then for
    ``sqlite-without-values`` the values forgotten (the leads are read and decoded), for
    ``sqlite-written-after`` keys built first and the records written through
    ``check.store`` (keys and values written by its commits)."""
    if kind == "sqlite-written-after":
        check = EngineDuplicateCheck.from_store(store, key_store=keys, leads=True)
        _fill(check.store, stored, contacts)
        return check
    _fill(store, stored, contacts)
    check = EngineDuplicateCheck.from_store(store, key_store=keys, leads=True)
    if kind == "sqlite-without-values":
        with cast(SqlStore, store).engine.begin() as conn:
            conn.execute(duplicate_values.delete())
    return check


@PROPERTY
@given(
    kind=st.sampled_from(KINDS),
    stored=st.lists(person, max_size=12),
    contacts=st.lists(person, max_size=3),
    rows=st.lists(person, min_size=1, max_size=12),
    batch=st.integers(1, 5),
    match_by_email=st.booleans(),
)
def test_the_keyed_check_plans_every_row_as_the_full_index_does(
    kind: str,
    stored: list[Person],
    contacts: list[Person],
    rows: list[Person],
    batch: int,
    match_by_email: bool,
) -> None:
    data = _file(rows)
    policy = ImportPolicy(phone_region="SE", match_by_email=match_by_email)
    with _stores(kind) as (store, keys), mock.patch.object(plan_module, "PLAN_BATCH_SIZE", batch):
        # The reference: the in-memory store (no lookup by e-mail) read whole.
        reference = MemoryStore()
        _fill(reference, stored, contacts)
        full = plan_import(data, policy=policy, store=reference)
        check = _keyed_check(kind, store, keys, stored, contacts)
        keyed = plan_import(data, policy=policy, duplicates=check)
        assert _outcomes(keyed) == _outcomes(full)
        assert keyed.file_duplicates == full.file_duplicates
        assert keyed.fingerprint == full.fingerprint


@PROPERTY
@given(
    stored=st.lists(person, max_size=15),
    probes=st.lists(person, min_size=1, max_size=8),
    block=st.integers(1, 4),
)
def test_search_many_finds_what_search_finds_record_by_record(
    stored: list[Person], probes: list[Person], block: int
) -> None:
    store = MemoryStore()
    _fill(store, stored, [])
    index = DuplicateIndex(DEFAULT_LEAD_RULES, max_block_size=block)
    with store.unit_of_work() as uow:
        index.rebuild(uow.leads.stream())
    compiled = index.compiled
    records = []
    for i, p in enumerate(probes):
        email = _email(p)
        lead = Lead.create(
            LeadId(f"P-{i}"),
            LeadPatch(
                topic="Probe",
                name=PersonName(first=p[0], last=p[1]),
                company=p[2],
                email=EmailAddress(email) if email else None,
            ),
            at=AT,
            by=BY,
        )
        prepared = compiled.prepare(duplicate_record(lead))
        records.append((prepared, compiled.by_base.get(prepared.ref.record_type, ())))
    one_by_one = [index.search(prepared, rules) for prepared, rules in records]
    assert search_many(index, records) == one_by_one
