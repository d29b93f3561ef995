"""Account, Contact and Opportunity: validation, notes and the converter round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from leadkit import (
    AccountId,
    Budget,
    ContactId,
    Lead,
    LeadId,
    LeadkitConverter,
    LeadPatch,
    Money,
    Need,
    Note,
    OpportunityId,
    PersonName,
    UserRef,
    make_converter,
)
from leadkit.errors import InvalidValue
from leadkit.records import (
    Account,
    Contact,
    Opportunity,
    OpportunityState,
    append_notes,
    record_notes,
)

ANN = UserRef("ann")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    return make_converter()  # building one costs ~0.4 s: share it


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def note(n: int, text: str, minutes: int) -> Note:
    return Note(id=n, text=text, at=at(minutes), by=ANN)


def test_account_needs_a_name() -> None:
    with pytest.raises(InvalidValue) as error:
        Account(id=AccountId("A-1"), name="  ")
    assert error.value.field == "name"


def test_account_description_longer_than_2000_characters_is_refused() -> None:
    with pytest.raises(InvalidValue) as error:
        Account(id=AccountId("A-1"), name="Acme", description="x" * 2001)
    assert error.value.field == "description"


def test_contact_needs_a_first_or_last_name() -> None:
    with pytest.raises(InvalidValue) as error:
        Contact(id=ContactId("C-1"), name=PersonName(salutation="Dr."))
    assert error.value.field == "name"


def test_contact_keeps_the_company_name_as_text() -> None:
    contact = Contact(id=ContactId("C-1"), name=PersonName(last="Byron"), company=" Acme ")
    assert contact.company == "Acme"


def test_record_notes_must_be_a_tuple_of_notes() -> None:
    with pytest.raises(InvalidValue) as error:
        Contact(id=ContactId("C-1"), name=PersonName(last="Byron"), notes=("hi",))  # type: ignore[arg-type]
    assert error.value.field == "notes"


def test_record_timestamps_must_be_timezone_aware() -> None:
    with pytest.raises(InvalidValue):
        Account(id=AccountId("A-1"), name="Acme", created_at=datetime(2026, 1, 1))


def test_opportunity_amounts_must_be_in_its_currency() -> None:
    with pytest.raises(InvalidValue) as error:
        Opportunity(
            id=OpportunityId("O-1"),
            name="Deal",
            customer=AccountId("A-1"),
            currency="EUR",
            budget_amount=Money("10", "SEK"),
        )
    assert error.value.field == "budget_amount"


def test_opportunity_carries_budget_need_and_parent_contact() -> None:
    opportunity = Opportunity(
        id=OpportunityId("O-1"),
        name="Deal",
        customer=AccountId("A-1"),
        currency="sek",
        budget=Budget.CAN_BUY,
        need=Need.MUST_HAVE,
        contact=ContactId("C-1"),
    )
    assert opportunity.currency == "SEK"
    assert opportunity.state is OpportunityState.OPEN
    assert opportunity.contact == ContactId("C-1")


def test_append_notes_renumbers_after_the_records_last_note() -> None:
    account = Account(id=AccountId("A-1"), name="Acme", notes=(note(4, "own", 0),))
    copied = append_notes(account, [note(1, "first", 1), note(2, "second", 2)])
    assert [n.id for n in copied.notes] == [4, 5, 6]
    assert [n.text for n in copied.notes] == ["own", "first", "second"]


def test_append_notes_twice_adds_nothing_the_second_time() -> None:
    account = Account(id=AccountId("A-1"), name="Acme")
    once = append_notes(account, [note(1, "first", 1)])
    assert append_notes(once, [note(1, "first", 1)]) is once


def test_record_notes_show_the_linked_leads_notes_oldest_first() -> None:
    lead = Lead.create(LeadId("L-1"), LeadPatch(topic="t", name="Ada Byron"), at=at(0), by=ANN)
    lead = lead.add_note("from the lead", at=at(5), by=ANN)
    contact = Contact(
        id=ContactId("C-1"),
        name=PersonName(last="Byron"),
        notes=(note(1, "own", 1), note(2, "later", 9)),
        notes_from_lead=lead.id,
    )
    assert [n.text for n in record_notes(contact, lead)] == ["own", "from the lead", "later"]


def test_record_notes_ignore_a_lead_the_record_does_not_link() -> None:
    lead = Lead.create(LeadId("L-1"), LeadPatch(topic="t", name="Ada Byron"), at=at(0), by=ANN)
    lead = lead.add_note("from the lead", at=at(5), by=ANN)
    contact = Contact(id=ContactId("C-1"), name=PersonName(last="Byron"))
    assert record_notes(contact, lead) == ()
    assert record_notes(contact, None) == ()


@pytest.mark.parametrize(
    "record",
    [
        Account(
            id=AccountId("A-1"),
            name="Acme",
            primary_contact=ContactId("C-1"),
            notes=(note(1, "n", 0),),
            notes_from_lead=LeadId("L-1"),
            created_at=T0,
            modified_at=T0,
        ),
        Contact(
            id=ContactId("C-1"),
            name=PersonName(first="Ada", last="Byron"),
            company="Acme",
            account_id=AccountId("A-1"),
            notes=(note(1, "n", 0),),
            created_at=T0,
        ),
    ],
    ids=["account", "contact"],
)
def test_records_round_trip_through_the_converter(
    record: Account | Contact, converter: LeadkitConverter
) -> None:
    assert converter.loads(converter.dumps(record), type(record)) == record


def test_opportunity_fields_other_than_the_customer_round_trip(converter: LeadkitConverter) -> None:
    opportunity = Opportunity(
        id=OpportunityId("O-1"),
        name="Deal",
        customer=AccountId("A-1"),
        currency="EUR",
        budget=Budget.CAN_BUY,
        estimated_close_date=date(2026, 6, 1),
        notes=(note(1, "n", 0),),
    )
    data = converter.unstructure(opportunity)
    assert data["customer"] == "A-1"
    assert data["notes"][0]["text"] == "n"
    assert data["budget"] == Budget.CAN_BUY.code
