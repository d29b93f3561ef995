"""The erase and audit services over the memory store: contacts, accounts, merges,
idempotency results, the duplicate index, the store capability and the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.desk import Desk
from leadkit.duplicates.record_view import RecordRef, RecordType
from leadkit.erasure import ERASED, ErasureMode, ErasureSubject, SubjectKind
from leadkit.errors import ConfigurationError, InvalidValue, NotFound, PermissionDenied
from leadkit.merging import Survivorship, plan_merge
from leadkit.ports import StoredResponse
from leadkit.privacy import audit, erase
from leadkit.records import Account, Contact
from leadkit.serialization import make_converter
from leadkit.services import merge
from leadkit.values import AccountId, ContactId, LeadId, PersonName, UserRef

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ANN = UserRef("ann", "Ann Seller")


def desk() -> Desk:
    return Desk(MemoryStore(), clock=lambda: T0).acting_as(ANN)


def dump(d: Desk) -> str:
    converter = make_converter()
    with d.store.unit_of_work() as uow:
        parts = [converter.dumps(x) for x in uow.leads.stream()]
        parts += [converter.dumps(x) for x in uow.contacts.list()]
        parts += [converter.dumps(x) for x in uow.accounts.list()]
        parts += [converter.dumps(x) for x in uow.merges.list()]
    parts += [e.payload for e in d.store.outbox.pending(1000)]
    return "\n".join(parts).casefold()


def test_erasing_a_contact_deletes_it_and_scrubs_the_leads_mentioning_it() -> None:
    d = desk()
    lead = d.create(topic="Chairs", name="Bo Ek", description="ask zora@quill.example.com")
    with d.store.unit_of_work() as uow:
        uow.contacts.add(
            Contact(id=ContactId("C1"), name=PersonName("Zora", "Quill"),
                    email="zora@quill.example.com")
        )  # fmt: skip
        uow.commit()
    report = erase(d.store, "contact:C1")
    assert report.records == ("contact:C1",)
    assert report.counts == {"contacts": 1, "leads": 1, "events": 1}
    assert "zora" not in dump(d)
    assert d.get(lead.id).description == f"ask {ERASED}"
    with d.store.unit_of_work() as uow, pytest.raises(NotFound):
        uow.contacts.get(ContactId("C1"))


def test_anonymizing_an_account_keeps_it_without_its_name() -> None:
    d = desk()
    with d.store.unit_of_work() as uow:
        uow.accounts.add(
            Account(
                id=AccountId("A1"), name="Zora Quill Consulting", email="zora@quill.example.com"
            )
        )
        uow.commit()  # fmt: skip
    report = erase(d.store, ErasureSubject(SubjectKind.ACCOUNT, "A1"), ErasureMode.ANONYMIZE)
    assert report.counts == {"accounts": 1}
    with d.store.unit_of_work() as uow:
        kept = uow.accounts.get(AccountId("A1"))
    assert (kept.name, kept.email) == (ERASED, None)


def test_erasing_by_email_finds_every_record_of_it_in_any_case() -> None:
    d = desk()
    a = d.create(topic="A", name="Zora Quill", email="zora@quill.example.com")
    b = d.create(topic="B", name="Z. Quill", email="ZORA@Quill.example.com")
    d.create(topic="C", name="Bo Ek", email="bo@ek.example.com")
    report = erase(d.store, "email:zora@QUILL.example.com", "anonymize")
    assert sorted(report.records) == sorted([f"lead:{a.id.value}", f"lead:{b.id.value}"])
    assert "quill" not in dump(d)


def test_the_duplicate_index_forgets_the_erased_person() -> None:
    d = desk()
    lead = d.create(topic="A", name="Zora Quill", email="zora@quill.example.com")
    keys = d.duplicates.index.store
    ref = RecordRef(RecordType.LEAD, lead.id.value)
    assert any("zora" in k for k in keys.keys_of(ref))
    erase(d.store, f"lead:{lead.id.value}", "anonymize")
    assert not any("zora" in k or "quill" in k for k in keys.keys_of(ref))
    d.create(topic="B", name="Other Person", email="x@y.example.com")
    erase(d.store, "email:x@y.example.com")
    assert len(d.duplicates.index) == 1  # the other person's keys are gone too


def test_merge_records_and_merge_events_lose_the_merged_person() -> None:
    d = desk()
    master = d.create(topic="A", name="Bo Ek", email="bo@ek.example.com")
    twin = d.create(topic="B", name="Zora Quill", email="zora@quill.example.com")
    plan = plan_merge(master, [twin], Survivorship())
    merge(d.store, plan, ids=lambda: "M1", at=T0, by=ANN)
    assert "zora" in dump(d)
    report = erase(d.store, f"lead:{twin.id.value}")
    assert report.counts["merges"] == 1
    assert "zora" not in dump(d)


def test_idempotency_results_are_scrubbed_in_place() -> None:
    d = desk()
    lead = d.create(topic="A", name="Zora Quill", email="zora@quill.example.com")
    text = json.dumps({"id": lead.id.value, "email": "zora@quill.example.com", "n": 1})
    far = datetime(2999, 1, 1, tzinfo=UTC)
    with d.store.unit_of_work() as uow:
        uow.idempotency.put(StoredResponse("k1", "f" * 64, text, T0, far))
        uow.commit()
    report = erase(d.store, "email:zora@quill.example.com")
    assert report.counts["idempotency_results"] == 1
    with d.store.unit_of_work() as uow:
        kept = uow.idempotency.get("k1")
    assert json.loads(kept.result) == {"id": lead.id.value, "email": None, "n": 1}


class _NoPrivacy:
    """A unit of work of the memory store that offers no ``privacy``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "privacy":
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __enter__(self) -> _NoPrivacy:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)


class _Bare:
    def __init__(self) -> None:
        self._inner = MemoryStore()

    def unit_of_work(self) -> Any:
        return _NoPrivacy(self._inner.unit_of_work())

    def close(self) -> None:
        self._inner.close()


def test_a_store_without_erasure_support_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        erase(_Bare(), "lead:x")
    with pytest.raises(ConfigurationError):
        audit(_Bare(), "x")


def test_bad_arguments_are_typed_errors() -> None:
    d = desk()
    with pytest.raises(InvalidValue) as caught:
        erase(d.store, 42)  # type: ignore[arg-type]
    assert caught.value.field == "subject"
    with pytest.raises(InvalidValue) as caught:
        audit(d.store, 42)  # type: ignore[arg-type]
    assert caught.value.field == "lead_id"
    with pytest.raises(NotFound):
        erase(d.store, "account:nope")


def test_the_desk_erases_and_audits() -> None:
    d = desk()
    lead = d.create(topic="A", name="Zora Quill", email="zora@quill.example.com")
    d.update(lead.id, job_title="Buyer")
    assert [e.event for e in d.audit(lead.id)] == ["LeadCreated", "LeadUpdated"]
    report = d.erase(f"lead:{lead.id.value}", "anonymize")
    assert report.mode is ErasureMode.ANONYMIZE
    assert d.audit(lead.id)[1].changes[0].after == ERASED
    d.erase(ErasureSubject(SubjectKind.LEAD, lead.id.value))
    with pytest.raises(NotFound):
        d.audit(LeadId(lead.id.value))


def test_erase_and_audit_through_a_principal_need_erase_and_read() -> None:
    from leadkit import Action, Depth, Principal, Role, RoleDepthAuthorizer, UnitTree

    tree = UnitTree({"org": None}, {"ann": "org", "bo": "org"})
    roles = [
        Role("own", dict.fromkeys(Action, Depth.USER)),
        Role("reader", {Action.READ: Depth.ORGANIZATION}),
    ]
    d = Desk(MemoryStore(), clock=lambda: T0)
    bo = d.acting_for(Principal("bo", roles={"own"}), authorizer=RoleDepthAuthorizer(roles, tree))
    theirs = bo.create(topic="Chairs", name="Zora Quill", email="zora@quill.example.com")
    mine = d.acting_as(ANN).create(
        topic="Desks", name="Bo Ek", description="met zora@quill.example.com"
    )
    ann = d.acting_for(Principal("ann", roles={"reader"}), authorizer=bo.authorizer)
    with pytest.raises(PermissionDenied):
        ann.erase(f"lead:{theirs.id.value}")
    assert d.get(theirs.id) == theirs  # nothing changed
    assert [e.event for e in ann.audit(theirs.id)] == ["LeadCreated"]
    report = bo.erase("email:zora@quill.example.com")
    assert report.records == (f"lead:{theirs.id.value}",)
    # ann's lead, which bo may not read, still loses the mention
    assert d.get(mine.id).description == f"met {ERASED}"
    nobody = d.acting_for(Principal("cai"), authorizer=bo.authorizer)
    with pytest.raises(PermissionDenied):
        nobody.audit(mine.id)


def test_contact_merge_records_lose_an_erased_contact() -> None:
    from leadkit.policies import RecordKind
    from leadkit.record_merge_service import merge_records
    from leadkit.record_merging import RecordSurvivorship, plan_record_merge

    d = desk()
    master = Contact(id=ContactId("C1"), name=PersonName("Bo", "Ek"), email="bo@ek.example.com")
    twin = Contact(
        id=ContactId("C2"), name=PersonName("Zora", "Quill"), email="zora@quill.example.com"
    )
    with d.store.unit_of_work() as uow:
        master, twin = uow.contacts.add(master), uow.contacts.add(twin)
        uow.commit()
    plan = plan_record_merge(master, [twin], RecordSurvivorship(RecordKind.CONTACT))
    merge_records(d.store, plan, ids=lambda: "RM1", at=T0, by=ANN)
    converter = make_converter()
    with d.store.unit_of_work() as uow:
        before = [converter.dumps(m) for m in uow.record_merges.list()]
    assert "quill" in "".join(before).casefold()
    report = erase(d.store, "contact:C2", "anonymize")
    assert report.counts["record_merges"] == 1
    with d.store.unit_of_work() as uow:
        after = [converter.dumps(m) for m in uow.record_merges.list()]
    assert "quill" not in "".join(after).casefold()
