"""The erasure part of the adapter contract (:class:`ErasureContract`, a base of
:class:`leadkit.testing.contract.LeadStoreContract`).

A store offering ``uow.privacy`` (:class:`leadkit.privacy.PrivacyRepository`) must erase a
person everywhere it keeps them. The property test fills a store through a
:class:`~leadkit.desk.Desk` (so its duplicate keys are kept as a host keeps them) with a
person of random, unique personal values — a lead with notes, an attachment, an activity
and an update, a contact of the same e-mail, another lead whose note mentions the person, an
idempotency result and an import outcome holding them — erases them (by lead, e-mail or
phone; DELETE or ANONYMIZE) and then searches, case-insensitively, for every erased value
(as typed, case-folded and in E.164 form):

- everything the ports can read (every lead, record, merge, outbox event, the idempotency
  results, the events of every lead) and the duplicate keys of the desk's index;
- a fresh CSV and XLSX export of every lead (every column; the XLSX unzipped);
- the bytes the store holds at rest, from :meth:`ErasureContract.stored_bytes`: by default
  the SQLite file and its write-ahead log for a store with a ``path``, and a ``pg_dump``
  (or, without one, every table's rows as text) for a store on PostgreSQL.

It must find none. ``supports_erasure = False`` switches the tests off; ``erasure_examples``
sets how many random people the property tries.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import string
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.desk import Desk
from leadkit.erasure import ERASED, ErasureMode, ErasureSubject, SubjectKind
from leadkit.errors import InvalidValue, NotFound
from leadkit.idempotency import result_data
from leadkit.io.columns import COLUMNS
from leadkit.io.export import export_csv, export_xlsx
from leadkit.io.run import RowOutcome, RowStatus
from leadkit.merging import Survivorship, plan_merge
from leadkit.ports import LeadStore, StoredResponse
from leadkit.privacy import audit, erase
from leadkit.records import Contact
from leadkit.serialization import make_converter
from leadkit.services import merge
from leadkit.testing.reliability import _Capabilities
from leadkit.timeline import Attachment
from leadkit.values import Address, ContactId, LeadId, UserRef

__all__ = ["ErasureContract", "Person", "people"]

_T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
_ANN = UserRef("ann", "Ann Seller")
_TOKEN = st.text(alphabet=string.ascii_lowercase, min_size=10, max_size=14).map(lambda s: "qz" + s)


class Person:
    """The random personal values of one test person (each unique in the store)."""

    def __init__(self, tokens: list[str], digits: str) -> None:
        self.first = tokens[0].capitalize()
        self.last = tokens[1].capitalize()
        self.email = f"{tokens[2]}@{tokens[3]}.example.com"
        self.phone = f"+46 8 {digits[:3]} {digits[3:6]} {digits[6:8]}"
        self.e164 = "+468" + digits[:8]
        self.street = f"{tokens[4].capitalize()}gatan 12"
        self.job = tokens[5].capitalize()
        self.note = f"met {tokens[6]} at the fair"
        self.file_name = f"{tokens[7]}.pdf"
        self.activity = f"call {tokens[8]}"

    def needles(self) -> list[str]:
        """Every value that must be gone, lower-cased (the search folds the haystack)."""
        values = [
            self.first,
            self.last,
            self.email,
            self.phone,
            self.e164,
            self.e164[1:],
            self.street,
            self.job,
            self.note,
            self.file_name,
            self.activity,
        ]
        return [v.casefold() for v in values]

    def __repr__(self) -> str:
        return f"Person({self.first} {self.last} <{self.email}> {self.phone})"


def people() -> st.SearchStrategy[Person]:
    """Random people with unique tokens for every personal value."""
    return st.builds(
        Person,
        st.lists(_TOKEN, min_size=9, max_size=9, unique=True),
        st.text(alphabet="123456789", min_size=8, max_size=8),
    )


def _fill(store: LeadStore, person: Person) -> Desk:
    """Store the person (see the module doc) through a desk; returns the desk."""
    desk = Desk(store, clock=lambda: _T0).acting_as(_ANN)
    lead = desk.create(
        topic="Forty chairs",
        name=f"{person.first} {person.last}",
        email=person.email,
        business_phone=person.phone,
        address=Address(line1=person.street, city="Uppsala", country="Sweden"),
        description=f"reach {person.first} on {person.phone}",
        source="Web",
    )
    desk.update(lead.id, job_title=person.job)
    attachment = Attachment(person.file_name, "application/pdf", 1234, "a" * 64)
    with desk.store.unit_of_work() as uow:
        stored = uow.leads.get(lead.id)
        uow.leads.save(stored.add_note(person.note, at=_T0, by=_ANN, attachment=attachment))
        uow.contacts.add(Contact(id=ContactId("C-person"), name=_name(person), email=person.email))
        uow.commit()
    desk.log_activity(lead.id, "phone_call", person.activity, description=person.note)
    other = desk.create(topic="Desks", name="Bo Other", email="bo@other.example.org")
    desk.note(other.id, f"colleague of {person.email}, phone {person.phone}")
    with desk.store.unit_of_work() as uow:
        keys = uow.idempotency
        created = uow.leads.get(lead.id)
        for key, data in (
            ("create-1", result_data(created)),
            ("import-1/batch-0", result_data(
                (RowOutcome(2, RowStatus.REJECTED, reason=f"{person.email} is a duplicate"),)
            )),
        ):  # fmt: skip
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            keys.put(StoredResponse(key, "f" * 64, text, _T0, datetime(2999, 1, 1, tzinfo=UTC)))
        uow.commit()
    return desk


def _name(person: Person) -> Any:
    from leadkit.values import PersonName

    return PersonName(first=person.first, last=person.last)


def _ports_text(store: LeadStore, desk: Desk) -> str:
    """Everything the ports read back, as one text."""
    converter = make_converter()
    parts: list[str] = []
    with store.unit_of_work() as uow:
        leads = list(uow.leads.stream())
        parts += [converter.dumps(lead) for lead in leads]
        for repository in (uow.contacts, uow.accounts, uow.opportunities):
            parts += [converter.dumps(r) for r in repository.list()]
        merges = getattr(uow, "merges", None)
        if merges is not None:
            parts += [converter.dumps(m) for m in merges.list()]
        privacy = uow.privacy  # type: ignore[attr-defined]
        for lead in leads:
            parts += [converter.dumps(e) for e in privacy.events_of(lead.id)]
        for key in ("create-1", "import-1/batch-0"):
            found = uow.idempotency.get(key)  # type: ignore[attr-defined]
            if found is not None:
                parts.append(found.result)
    outbox = getattr(store, "outbox", None)
    if outbox is not None:
        parts += [e.payload for e in outbox.pending(1000)]
    index = desk.duplicates.index.store
    for lead in leads:
        from leadkit.duplicates.record_view import RecordRef, RecordType

        parts += sorted(index.keys_of(RecordRef(RecordType.LEAD, lead.id.value)))
    parts += [json.dumps(p) for p in parts if "\\u" in json.dumps(p)]
    return "\n".join(parts)


def _export_text(store: LeadStore) -> str:
    """A fresh CSV and XLSX export of every lead (every column), as text."""
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "leads.csv"
        xlsx_path = Path(folder) / "leads.xlsx"
        columns = list(COLUMNS)
        with store.unit_of_work() as uow:
            export_csv(uow.leads.stream(), csv_path, columns)
        with store.unit_of_work() as uow:
            export_xlsx(uow.leads.stream(), xlsx_path, columns)
        text = csv_path.read_text(encoding="utf-8")
        with zipfile.ZipFile(xlsx_path) as book:
            text += "".join(book.read(n).decode("utf-8") for n in book.namelist())
    return text


def sqlite_bytes(path: Path) -> bytes:
    """The SQLite main file and its write-ahead log (if any), as stored."""
    found = path.read_bytes()
    wal = Path(f"{path}-wal")
    if wal.exists():
        found += wal.read_bytes()
    return found


def postgres_bytes(url: str) -> bytes:
    """A ``pg_dump`` of the database at ``url`` (a SQLAlchemy URL); without ``pg_dump``,
    every table's rows as text."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql")
    dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    if os.path.exists(dump):
        out = subprocess.run(
            [dump, "--data-only", plain.render_as_string(hide_password=False)],
            capture_output=True,
            check=True,
            timeout=120,
        )
        return out.stdout
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = [
                repr(list(conn.execute(text(f'SELECT * FROM "{name}"'))))
                for name in inspect(conn).get_table_names()
            ]
    finally:
        engine.dispose()
    return "\n".join(rows).encode()


class ErasureContract(_Capabilities):
    """Tests of erasure and audit every store with ``uow.privacy`` must pass."""

    supports_erasure: ClassVar[bool] = True
    erasure_examples: ClassVar[int] = 6

    def stored_bytes(self, store: LeadStore) -> bytes | None:
        """Override: every byte ``store`` holds at rest (None: nothing on disk). The default
        reads a SQLite store's file and WAL and dumps a PostgreSQL store."""
        path = getattr(store, "path", None)
        if isinstance(path, Path):
            return sqlite_bytes(path)
        engine = getattr(store, "engine", None)
        if engine is not None and engine.dialect.name == "postgresql":
            return postgres_bytes(engine.url.render_as_string(hide_password=False))
        return None

    def _require_erasure(self) -> None:
        if not self.supports_erasure:
            pytest.skip("the store does not declare supports_erasure")

    def test_erasure_leaves_no_erased_value_anywhere(self, new_store: Any) -> None:
        """The property of the module doc, for random people, subjects and modes."""
        self._require_erasure()

        @settings(
            max_examples=self.erasure_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(
            person=people(),
            kind=st.sampled_from([SubjectKind.LEAD, SubjectKind.EMAIL, SubjectKind.PHONE]),
            mode=st.sampled_from(ErasureMode),
        )
        def check(person: Person, kind: SubjectKind, mode: ErasureMode) -> None:
            store = new_store()
            try:
                desk = _fill(store, person)
                with store.unit_of_work() as uow:
                    (target,) = [
                        lead for lead in uow.leads.stream() if lead.email is not None
                        and lead.email.text == person.email
                    ]  # fmt: skip
                value = {
                    SubjectKind.LEAD: target.id.value,
                    SubjectKind.EMAIL: person.email.upper(),
                    SubjectKind.PHONE: person.e164,
                }[kind]
                before = _ports_text(store, desk).casefold()
                assert person.email in before  # the search can find what is there
                report = erase(desk.store, ErasureSubject(kind, value), mode)
                assert f"lead:{target.id.value}" in report.records
                haystacks = {
                    "ports": _ports_text(store, desk),
                    "export": _export_text(store),
                }
                stored = self.stored_bytes(store)
                if stored is not None:
                    haystacks["stored bytes"] = stored.decode("utf-8", "replace")
                for where, text in haystacks.items():
                    folded = text.casefold()
                    found = [n for n in person.needles() if n in folded]
                    assert not found, f"{where} still holds {found} after {report.summary()}"
                with store.unit_of_work() as uow:
                    other = [lead for lead in uow.leads.stream() if lead.topic == "Desks"]
                    assert len(other) == 1
                    assert other[0].notes[0].text.count(ERASED) == 2
                    if mode is ErasureMode.ANONYMIZE:
                        kept = uow.leads.get(target.id)
                        assert (kept.topic, kept.source, kept.state) == (
                            "Forty chairs",
                            target.source,
                            target.state,
                        )
                        assert kept.created_at == target.created_at
                    else:
                        with pytest.raises(NotFound):
                            uow.leads.get(target.id)
            finally:
                with contextlib.suppress(Exception):
                    store.close()

        check()

    def test_a_merged_persons_copies_in_merge_records_and_events_are_erased(
        self, empty_store: LeadStore
    ) -> None:
        """A merge keeps images of the merged leads (the merge record, the master's
        ``LeadsMerged`` event): erasing a merged lead erases them too."""
        self._require_erasure()
        self._require("supports_merges")
        desk = Desk(empty_store, clock=lambda: _T0).acting_as(_ANN)
        master = desk.create(topic="Chairs", name="Bo Ek", email="bo@ek.example.com")
        twin = desk.create(topic="Desks", name="Zora Quixlet", email="zora@quixlet.example.com")
        plan = plan_merge(master, [twin], Survivorship())
        merge(desk.store, plan, ids=lambda: "M-1", at=_T0, by=_ANN)
        assert "quixlet" in _ports_text(empty_store, desk).casefold()
        report = erase(desk.store, f"lead:{twin.id.value}")
        assert report.counts["merges"] == 1
        assert "quixlet" not in _ports_text(empty_store, desk).casefold()
        stored = self.stored_bytes(empty_store)
        assert stored is None or b"quixlet" not in stored.lower()
        assert desk.get(master.id).email is not None  # the master keeps its own e-mail

    def test_erasure_of_an_unknown_lead_raises_not_found_and_changes_nothing(
        self, empty_store: LeadStore
    ) -> None:
        self._require_erasure()
        desk = Desk(empty_store, clock=lambda: _T0).acting_as(_ANN)
        lead = desk.create(topic="Chairs", name="Ann Lind", email="ann@lind.example.com")
        with pytest.raises(NotFound):
            erase(empty_store, ErasureSubject(SubjectKind.LEAD, "nope"))
        assert desk.get(lead.id) == lead

    def test_bad_subjects_and_modes_raise_invalid_value_naming_the_field(
        self, empty_store: LeadStore
    ) -> None:
        self._require_erasure()
        for subject, field in (
            ("nokind", "subject"),
            ("planet:x", "subject.kind"),
            ("email:not-an-address", "subject"),
            ("phone:abc", "subject"),
            ("lead:   ", "subject"),
        ):
            with pytest.raises(InvalidValue) as caught:
                erase(empty_store, subject)
            assert caught.value.field == field
        with pytest.raises(InvalidValue) as caught:
            erase(empty_store, "lead:x", "shred")
        assert caught.value.field == "mode"

    def test_a_denying_authorizer_stops_the_erasure_before_any_write(
        self, empty_store: LeadStore
    ) -> None:
        self._require_erasure()
        desk = Desk(empty_store, clock=lambda: _T0).acting_as(_ANN)
        lead = desk.create(topic="Chairs", name="Ann Lind", email="ann@lind.example.com")
        seen: list[tuple[str, object]] = []

        class Denied(Exception):
            pass

        def deny(action: str, record: object) -> None:
            seen.append((action, record))
            raise Denied

        with pytest.raises(Denied):
            erase(empty_store, f"lead:{lead.id.value}", authorize=deny)
        assert seen == [("erase", lead)]
        assert desk.get(lead.id) == lead

    def test_a_failure_midway_stores_nothing(self, empty_store: LeadStore) -> None:
        """All or nothing: an error while scrubbing (here: an authoriser that fails on the
        second record of an e-mail) leaves every record as it was."""
        self._require_erasure()
        desk = Desk(empty_store, clock=lambda: _T0).acting_as(_ANN)
        first = desk.create(topic="A", name="Ann Lind", email="ann@lind.example.com")
        second = desk.create(topic="B", name="Ann Lind", email="ann@lind.example.com")
        calls: list[object] = []

        def second_fails(action: str, record: object) -> None:
            calls.append(record)
            if len(calls) == 2:
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            erase(empty_store, "email:ann@lind.example.com", authorize=second_fails)
        assert desk.get(first.id) == first
        assert desk.get(second.id) == second

    def test_audit_shows_who_changed_which_field_and_erased_values_as_erased(
        self, empty_store: LeadStore
    ) -> None:
        self._require_erasure()
        desk = Desk(empty_store, clock=lambda: _T0).acting_as(_ANN)
        lead = desk.create(topic="Chairs", name="Ann Lind", email="ann@lind.example.com")
        desk.acting_as(UserRef("bo", "Bo")).update(lead.id, job_title="Buyer", topic="Tables")
        history = audit(empty_store, lead.id)
        assert [e.event for e in history] == ["LeadCreated", "LeadUpdated"]
        update = history[1]
        assert update.by == UserRef("bo", "Bo")
        assert update.at == _T0
        changes = {c.field: (c.before, c.after) for c in update.changes}
        assert changes == {"job_title": ("", "Buyer"), "topic": ("Chairs", "Tables")}
        erase(empty_store, f"lead:{lead.id.value}", ErasureMode.ANONYMIZE)
        after = audit(empty_store, lead.id)
        changes = {c.field: (c.before, c.after) for c in after[1].changes}
        assert changes == {"job_title": ("", ERASED), "topic": ("Chairs", "Tables")}
        created = {c.field: c.after for c in after[0].changes}
        assert created["email"] == ERASED
        assert created["name"] == ERASED
        assert "lind" not in repr(after).casefold()

    def test_audit_of_an_unknown_or_deleted_lead_raises_not_found(
        self, empty_store: LeadStore
    ) -> None:
        self._require_erasure()
        with pytest.raises(NotFound):
            audit(empty_store, LeadId("nope"))
        with pytest.raises(InvalidValue) as caught:
            audit(empty_store, " ")
        assert caught.value.field == "lead_id"
        desk = Desk(empty_store, clock=lambda: _T0).acting_as(_ANN)
        lead = desk.create(topic="Chairs", name="Ann Lind")
        erase(empty_store, f"lead:{lead.id.value}")
        with pytest.raises(NotFound):
            audit(empty_store, lead.id)
