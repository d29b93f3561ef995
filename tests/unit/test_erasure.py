"""The pure parts of erasure: subjects, scopes, scrubbing typed values and JSON data, the
report and the field history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit.erasure import (
    ERASED,
    ErasureMode,
    ErasureReport,
    ErasureSubject,
    SubjectKind,
    field_history,
    is_erased,
    scope_of,
    scrub,
    scrub_data,
)
from leadkit.errors import InvalidValue
from leadkit.events import LeadAssigned, LeadUpdated
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.records import Account, Contact
from leadkit.timeline import Attachment
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    LeadId,
    PersonName,
    PhoneNumber,
    UserRef,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ANN = UserRef("ann", "Ann Seller")


def person(lead_id: str = "L1") -> Lead:
    patch = LeadPatch(
        topic="Forty chairs",
        name="Zora Quill",
        email="zora@quill.example.com",
        business_phone="+46 8 123 456 78",
        job_title="Buyer",
        company="Quill AB",
        address=Address(line1="Storgatan 1", city="Uppsala", country="Sweden"),
        description="Zora Quill wants chairs",
    )
    lead = Lead.create(LeadId(lead_id), patch, at=T0, by=ANN)
    attachment = Attachment("quill.pdf", "application/pdf", 10, "a" * 64)
    return lead.add_note("call zora@quill.example.com", at=T0, by=ANN, attachment=attachment)


def test_subjects_parse_kind_and_value() -> None:
    assert ErasureSubject.parse("email: ann@x.se") == ErasureSubject(SubjectKind.EMAIL, "ann@x.se")
    assert ErasureSubject.parse("LEAD:L-1").kind is SubjectKind.LEAD
    assert str(ErasureSubject("phone", "+46812345678")) == "phone:+46812345678"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: ErasureSubject.parse("no kind"), "subject"),
        (lambda: ErasureSubject.parse("planet:x"), "subject.kind"),
        (lambda: ErasureSubject(SubjectKind.LEAD, " "), "subject"),
        (lambda: ErasureSubject(SubjectKind.LEAD, 7), "subject"),  # type: ignore[arg-type]
        (lambda: ErasureSubject(SubjectKind.EMAIL, "nope"), "subject"),
        (lambda: ErasureSubject(SubjectKind.PHONE, "12"), "subject"),
        (lambda: ErasureSubject.parse(None), "subject"),  # type: ignore[arg-type]
        (lambda: ErasureMode.parse("shred"), "mode"),
        (lambda: ErasureMode.parse(3), "mode"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_raises_invalid_value_naming_the_field(make: object, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        make()  # type: ignore[operator]
    assert caught.value.field == field


def test_a_phone_subject_reads_a_national_number_in_its_region() -> None:
    assert ErasureSubject(SubjectKind.PHONE, "08 123 456 78", region="SE").region == "SE"
    assert ErasureMode.parse(" Anonymize ") is ErasureMode.ANONYMIZE


def test_the_scope_holds_ids_and_every_form_of_the_needles() -> None:
    scope = scope_of([person()], emails=[EmailAddress("Extra@Example.com")])
    assert scope.lead_ids == {"L1"}
    assert {"zora@quill.example.com", "+46812345678", "+46 8 123 456 78"} <= set(scope.needles)
    assert {"zora quill", "quill, zora"} <= scope.names
    assert "extra@example.com" in scope.emails
    assert scope.mentions("mail ZORA@quill.example.com")
    assert not scope.mentions("nothing")
    assert scope.replace("Hi ZORA QUILL!") == f"Hi {ERASED}!"


def test_a_target_lead_loses_every_personal_value_and_keeps_the_facts() -> None:
    lead = person()
    scope = scope_of([lead])
    gone = scrub(lead, scope)
    assert (gone.name, gone.email, gone.business_phone) == (PersonName(last=ERASED), None, None)
    assert gone.job_title == ERASED
    assert gone.description == ERASED
    assert gone.address == Address(country="Sweden")
    assert gone.notes[0].text == ERASED
    assert gone.notes[0].attachment is None
    assert (gone.topic, gone.company, gone.state, gone.created_at, gone.owner) == (
        lead.topic,
        lead.company,
        lead.state,
        lead.created_at,
        lead.owner,
    )
    assert is_erased(gone)
    assert not is_erased(lead)


def test_another_record_loses_only_the_mentions() -> None:
    scope = scope_of([person()])
    other = Lead.create(
        LeadId("L2"),
        LeadPatch(
            topic="Desks",
            name="Bo Ek",
            email="zora@quill.example.com",
            description="knows Zora Quill",
        ),
        at=T0,
        by=ANN,
    )
    gone = scrub(other, scope)
    assert gone.name == other.name
    assert gone.email is None
    assert gone.description == f"knows {ERASED}"
    untouched = Lead.create(LeadId("L3"), LeadPatch(topic="Desks", name="Bo Ek"), at=T0, by=ANN)
    assert scrub(untouched, scope) is untouched


def test_a_contact_and_an_account_as_targets() -> None:
    contact = Contact(
        id=ContactId("C1"),
        name=PersonName("Zora", "Quill"),
        email="zora@quill.example.com",
        job_title="Buyer",
    )
    account = Account(id=AccountId("A1"), name="Zora Quill Consulting", description="x")
    scope = scope_of([contact, account])
    assert scope.contact_ids == {"C1"}
    assert scope.account_ids == {"A1"}
    assert scrub(contact, scope).email is None
    assert scrub(contact, scope).job_title == ERASED
    assert scrub(account, scope).name == ERASED


def test_events_of_a_target_lose_personal_values_and_keep_who_and_when() -> None:
    lead = person()
    scope = scope_of([lead])
    created = scrub(lead.pending_events[0], scope)
    assert created.fields.email is None  # type: ignore[attr-defined]
    assert created.fields.name == PersonName(last=ERASED)  # type: ignore[attr-defined]
    assert (created.at, created.by) == (T0, ANN)
    assigned = LeadAssigned(lead_id=LeadId("L1"), at=T0, by=ANN, owner=ANN, previous=ANN)
    assert scrub(assigned, scope) is assigned  # a seller's name is not the person's


def test_scrub_data_blanks_targets_by_field_and_mentions_everywhere() -> None:
    scope = scope_of([person()])
    data = {
        "id": "L1",
        "name": {"first": "Zora", "last": "Quill"},
        "email": "zora@quill.example.com",
        "address": {"line1": "Storgatan 1", "country": "Sweden"},
        "job_title": "Buyer",
        "topic": "Forty chairs",
        "others": [{"id": "L9", "email": "zora@quill.example.com", "note": "Zora Quill"}],
    }
    out = scrub_data(data, scope)
    assert out["name"] == {"first": "", "last": ERASED}
    assert out["email"] is None
    assert out["job_title"] == ERASED
    assert out["address"] == {"line1": "", "country": "Sweden"}
    assert out["topic"] == "Forty chairs"
    assert out["others"] == [{"id": "L9", "email": None, "note": ERASED}]


@given(st.text(alphabet="abcdefghij ", max_size=30))
def test_scrubbed_text_never_holds_a_needle(prefix: str) -> None:
    scope = scope_of([person()])
    text = prefix + "Zora Quill" + prefix + "ZORA@QUILL.EXAMPLE.COM"
    out = scope.replace(text).casefold()
    assert all(n.casefold() not in out for n in scope.needles)


def test_the_report_counts_and_summarises() -> None:
    report = ErasureReport(
        ErasureSubject(SubjectKind.LEAD, "L1"),
        ErasureMode.DELETE,
        ("lead:L1",),
        {"leads": 1, "events_deleted": 3},
        "sqlite: ...",
    )
    assert report.total == 4
    assert report.summary().splitlines() == [
        "erased (delete) lead:L1: 1 record(s)",
        "  events_deleted: 3",
        "  leads: 1",
        "  storage: sqlite: ...",
    ]


def test_field_history_lists_before_and_after_and_shows_erased_values() -> None:
    lead = person()
    changed = lead.update(LeadPatch(job_title="Chief buyer"), at=T0, by=UserRef("bo"))
    events = [*lead.pending_events, *changed.pending_events[len(lead.pending_events) :]]
    history = field_history(events)
    update = history[-1]
    assert update.event == "LeadUpdated"
    assert update.by == UserRef("bo")
    assert [(c.field, c.before, c.after) for c in update.changes] == [
        ("job_title", "Buyer", "Chief buyer")
    ]
    erased = field_history(events, erased=True)[-1]
    assert [(c.before, c.after) for c in erased.changes] == [(ERASED, ERASED)]
    assert isinstance(events[-1], LeadUpdated)


def test_field_history_of_other_events_names_the_field_and_the_previous_value() -> None:
    assigned = LeadAssigned(lead_id=LeadId("L1"), at=T0, by=ANN, owner=UserRef("bo"), previous=ANN)
    (entry,) = field_history([assigned])
    assert (entry.changes[0].field, entry.changes[0].before, entry.changes[0].after) == (
        "owner",
        "ann",
        "bo",
    )


def test_a_phone_number_equal_in_e164_is_a_mention() -> None:
    scope = scope_of([person()])
    assert scrub(PhoneNumber("08-123 456 78", "SE"), scope) is None
    assert scrub(PhoneNumber("+46 8 999 999 99"), scope) is not None
