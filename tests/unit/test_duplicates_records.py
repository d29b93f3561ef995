"""Specification of the flat record view duplicate rules read (leadkit.duplicates.record_view)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from leadkit import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    LeadSource,
    PersonName,
    PhoneNumber,
    Rating,
    StatusReason,
    Url,
    UserRef,
)
from leadkit.duplicates import (
    FIELDS,
    DuplicateFieldKind,
    DuplicateRecord,
    RecordRef,
    RecordType,
    duplicate_record,
    record_ref,
)
from leadkit.errors import InvalidValue
from leadkit.records import Account, Contact

AT = datetime(2024, 5, 6, 22, 30, tzinfo=timezone(timedelta(hours=2)))
USER = UserRef("u1")


def _lead(**fields: object) -> Lead:
    patch = LeadPatch(topic="Offer", **{"name": PersonName("Anna", "Berg"), **fields})  # type: ignore[arg-type]
    return Lead.create(LeadId("L-1"), patch, at=AT, by=USER)


def test_a_lead_is_flattened_with_every_named_field() -> None:
    lead = _lead(
        name=PersonName(first="Anna", middle="Maria", last="Berg", salutation="Dr."),
        job_title="CTO",
        company="Acme AB",
        email=EmailAddress("Anna.Berg@Acme.SE"),
        business_phone=PhoneNumber("08-123 456 78", "SE"),
        mobile_phone=PhoneNumber("070-123 45 67", "SE"),
        website=Url("https://www.acme.se/about"),
        address=Address(line1="Storgatan 1", city="Stockholm", postal_code="111 22", country="SE"),
        source=LeadSource.WEB,
        rating=Rating.HOT,
        estimated_close_date=date(2024, 9, 1),
    )
    record = duplicate_record(lead)
    assert record.ref == RecordRef(RecordType.LEAD, "L-1")
    assert record.active
    assert (record.first_name, record.middle_name, record.last_name) == ("Anna", "Maria", "Berg")
    assert record.full_name == "Anna Maria Berg"  # no salutation or suffix
    assert record.email == "Anna.Berg@Acme.SE"
    assert record.email_domain == "acme.se"
    assert record.phones == ("+46812345678", "+46701234567")
    assert (record.business_phone, record.mobile_phone) == ("+46812345678", "+46701234567")
    assert record.company == "Acme AB"
    assert record.website_domain == "www.acme.se"
    assert (record.street, record.city, record.postal_code) == (
        "Storgatan 1",
        "Stockholm",
        "111 22",
    )
    assert (record.source, record.rating) == (LeadSource.WEB.code, Rating.HOT.code)
    assert record.created_at == AT
    assert record.estimated_close_date == date(2024, 9, 1)
    assert record.topic == "Offer"


def test_a_closed_lead_is_inactive() -> None:
    lead = _lead().disqualify(StatusReason.LOST, at=AT, by=USER)
    assert not duplicate_record(lead).active


def test_a_contact_takes_its_company_from_the_host() -> None:
    contact = Contact(
        id=ContactId("C-1"),
        name=PersonName("Bob", "Smith"),
        email=EmailAddress("bob@contoso.com"),
        mobile_phone=PhoneNumber("+44 7700 900123"),
    )
    plain = duplicate_record(contact)
    assert plain.ref == RecordRef(RecordType.CONTACT, "C-1")
    assert plain.company == ""
    assert plain.phones == ("+447700900123",)
    assert duplicate_record(contact, company="Contoso Ltd").company == "Contoso Ltd"


def test_an_account_is_a_company_with_a_phone_and_a_website() -> None:
    account = Account(
        id=AccountId("A-1"),
        name="Contoso Ltd",
        website=Url("contoso.com"),
        business_phone=PhoneNumber("+1 212 555 0143"),
    )
    record = duplicate_record(account)
    assert record.ref == RecordRef(RecordType.ACCOUNT, "A-1")
    assert (record.company, record.website_domain) == ("Contoso Ltd", "contoso.com")
    assert record.phones == ("+12125550143",)
    assert record.full_name == ""


def test_a_flat_record_passes_through_and_can_take_a_company() -> None:
    record = DuplicateRecord(record_type=RecordType.CONTACT, record_id="C-9", full_name="A B")
    assert duplicate_record(record) is record
    assert duplicate_record(record, company="Acme").company == "Acme"


def test_a_flat_record_trims_text_and_drops_blank_or_repeated_phones() -> None:
    record = DuplicateRecord(
        record_type="lead",
        record_id="L-2",
        full_name="  Anna Berg ",
        phones=("+46701234567", " ", "+46701234567"),
    )
    assert record.record_type is RecordType.LEAD
    assert record.full_name == "Anna Berg"
    assert record.phones == ("+46701234567",)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"record_id": " "}, "record_id"),
        ({"full_name": 3}, "full_name"),
        ({"phones": (1,)}, "phones"),
        ({"created_at": datetime(2024, 1, 1)}, "created_at"),
    ],
)
def test_a_flat_record_refuses_bad_values(fields: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"record_type": RecordType.LEAD, "record_id": "L-1", **fields}
    with pytest.raises(InvalidValue) as caught:
        DuplicateRecord(**values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_values_are_text_for_every_kind_of_field() -> None:
    record = DuplicateRecord(
        record_type=RecordType.LEAD,
        record_id="L-1",
        phones=("+46701234567", "+46812345678"),
        source=8,
        created_at=AT,
        estimated_close_date=date(2024, 9, 1),
    )
    assert record.values("phones") == ("+46701234567", "+46812345678")
    assert record.values("source") == ("8",)
    assert record.values("created_at") == ("2024-05-06T20:30:00",)  # in UTC
    assert record.values("estimated_close_date") == ("2024-09-01",)
    assert record.values("company") == ()
    with pytest.raises(InvalidValue):
        record.values("nope")


def test_every_field_names_its_kind_normaliser_and_record_types() -> None:
    assert FIELDS["phones"].kind is DuplicateFieldKind.MULTI_TEXT
    assert FIELDS["email"].normalizer == "email"
    assert RecordType.ACCOUNT not in FIELDS["first_name"].record_types
    assert set(FIELDS["company"].record_types) == set(RecordType)
    view_fields = {a.name for a in DuplicateRecord.__attrs_attrs__}
    assert set(FIELDS) == view_fields - {"record_type", "record_id", "active", "custom_fields"}


def test_record_refs_order_by_type_then_id_and_print_readably() -> None:
    refs = [
        RecordRef(RecordType.LEAD, "b"),
        RecordRef(RecordType.ACCOUNT, "z"),
        RecordRef(RecordType.LEAD, "a"),
    ]
    assert [str(r) for r in sorted(refs)] == ["account:z", "lead:a", "lead:b"]
    assert RecordRef(RecordType.LEAD, "a") <= RecordRef(RecordType.LEAD, "a")
    assert RecordRef(RecordType.LEAD, "b") > RecordRef(RecordType.LEAD, "a")
    with pytest.raises(InvalidValue):
        RecordRef(RecordType.LEAD, "")


def test_record_ref_accepts_records_views_and_ids() -> None:
    lead = _lead()
    assert record_ref(lead) == RecordRef(RecordType.LEAD, "L-1")
    assert record_ref(LeadId("L-1")) == record_ref(lead)
    assert record_ref(ContactId("C-1")) == RecordRef(RecordType.CONTACT, "C-1")
    assert record_ref(AccountId("A-1")) == RecordRef(RecordType.ACCOUNT, "A-1")
    assert record_ref(duplicate_record(lead)) == record_ref(lead)
    with pytest.raises(InvalidValue):
        record_ref("L-1")  # type: ignore[arg-type]


def test_anything_else_is_refused() -> None:
    with pytest.raises(InvalidValue):
        duplicate_record("Anna")  # type: ignore[arg-type]


def test_created_at_is_compared_in_utc() -> None:
    late = datetime(2024, 5, 6, 23, 30, tzinfo=UTC)
    record = DuplicateRecord(record_type=RecordType.LEAD, record_id="L", created_at=late)
    assert record.values("created_at") == ("2024-05-06T23:30:00",)
