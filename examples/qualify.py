"""leadkit qualification: one lead through PROMPT mode (show the plan, answer its questions,
resolve a duplicate warning by linking the existing contact), one through AUTO_CREATE mode in
another currency, then a look at what was stored.

Everything goes through the front door, :class:`leadkit.Desk`: wired once with the clock, the
id factory and the policy, its duplicate check is the duplicate engine (default rules), which
indexes the stored records and is kept current by every write of the desk.

Run it with ``python examples/qualify.py``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from leadkit import (
    ContactId,
    Desk,
    EmailAddress,
    PersonName,
    UserRef,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.errors import DuplicatesUnresolved
from leadkit.policies import CurrencyRegistry, QualificationPolicy, QualifyMode
from leadkit.records import Contact
from leadkit.services import timeline_notes

ANNA = UserRef("anna", "Anna Svensson")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_minutes = itertools.count(1)
_ids = itertools.count(1)


def clock() -> datetime:
    """A deterministic clock for the demo: every call is one minute later."""
    return START + timedelta(minutes=next(_minutes))


def new_id() -> str:
    """The IdFactory: leadkit never invents ids (a real host would use uuid4 or a sequence)."""
    return f"rec-{next(_ids)}"


REGISTRY = CurrencyRegistry(
    "SEK", {"EUR": Decimal("0.087"), "USD": Decimal("0.095")}
)  # base SEK: 1 SEK buys 0.087 EUR


def heading(text: str) -> None:
    print()
    print(text)
    print("-" * len(text))


def main() -> None:
    raw_store = MemoryStore()

    # Åsa is already a contact (from last year's deal).
    with raw_store.unit_of_work() as uow:
        uow.contacts.add(
            Contact(
                id=ContactId("contact-asa"),
                name=PersonName(first="Åsa", last="Öberg"),
                email=EmailAddress("asa.oberg@fika.example"),
                job_title="Office manager",
            )
        )
        uow.commit()

    # One line of wiring: the desk indexes the stored accounts and contacts for its duplicate
    # check (the engine) and writes through it, so every record it creates is indexed too.
    prompt = QualificationPolicy(mode=QualifyMode.PROMPT, currencies=REGISTRY)
    desk = Desk(raw_store, clock=clock, ids=new_id, policy=prompt, phone_region="SE")
    anna = desk.acting_as(ANNA)
    print(f"duplicate index: {desk.duplicates.index.stats().records} stored record(s)")

    # She comes back as a new lead, typed in by hand.
    lead = anna.create(
        topic="Coffee machines for 12 offices",
        name="Åsa Öberg",
        job_title="Head of Purchasing",
        company="Fika Systems AB",
        email="asa.oberg@fika.example",
        mobile_phone="070-123 45 67",  # the desk's default region reads it
        source="Trade Show",
        budget_amount="250000 SEK",
        purchase_timeframe="This Quarter",
    )
    anna.note(lead.id, "Met at the Stockholm trade show; wants a pilot in Q1.")

    # 1. PROMPT mode: the plan says what it would do and what it needs to know.
    heading("1. Prompt mode: the plan before any answer")
    plan = anna.plan_qualification(lead.id)
    for line in plan.describe():
        print(line)

    # The host shows the questions to its user; here we accept every suggestion.
    heading("2. Answering the questions")
    answers: dict[str, Any] = {}
    for question in plan.questions:
        print(f"{question.text} -> {question.suggestion}")
        answers[question.field] = question.suggestion

    # Qualifying now stops at the duplicate warning: nothing is stored.
    try:
        anna.qualify(lead.id, **answers)
    except DuplicatesUnresolved as warning:
        heading("3. Duplicate warning")
        for candidate in warning.candidates:
            print(f"possible duplicate: {candidate}")
        # The user says: "that is her, link the existing contact".
        answers["link_contact"] = warning.candidates[0].record_id

    result = anna.qualify(lead.id, **answers)
    heading("4. Qualified")
    for line in result.plan.describe():
        print(line)
    print(
        f"created: {[k.value for k in result.created]}, linked: {[k.value for k in result.linked]}"
    )
    for kind, fields in result.filled.items():
        print(f"filled on the linked {kind.value}: {', '.join(fields)} (nothing overwritten)")
    store = desk.store
    with store.unit_of_work() as uow:
        asa = uow.contacts.get(ContactId("contact-asa"))
        assert result.opportunity_id is not None
        opportunity = uow.opportunities.get(result.opportunity_id)
    print(f"contact job title kept: {asa.job_title!r}; mobile filled: {asa.mobile_phone}")
    print(
        f"opportunity: {opportunity.name}, {opportunity.budget_amount}, "
        f"customer {opportunity.customer}"
    )
    print("opportunity timeline (the lead's notes, linked, not copied):")
    for note in timeline_notes(store, opportunity):
        print(f"  {note.at:%Y-%m-%d %H:%M} {note.text}")

    # 5. AUTO_CREATE in another currency: a US lead, budget in USD, opportunity in EUR.
    heading("5. Auto mode in another currency")
    auto = anna.with_policy(QualificationPolicy(currencies=REGISTRY))  # same store and index
    us_lead = auto.create(
        topic="Espresso bar for the Boston office",
        name="Grace Hopper",
        company="Acme Inc.",
        email="grace@acme.example",
        budget_amount={"amount": "12000", "currency": "USD"},
        estimated_value={"amount": "10000", "currency": "USD"},
    )
    result = auto.qualify(us_lead.id, currency="EUR")
    for line in result.plan.describe():
        print(line)
    with auto.store.unit_of_work() as uow:
        assert result.opportunity_id is not None
        opportunity = uow.opportunities.get(result.opportunity_id)
    print(
        f"budget 12000.00 USD -> {opportunity.budget_amount}, "
        f"estimated value 10000.00 USD -> {opportunity.estimated_value} "
        f"(rates per 1 {REGISTRY.base}: USD {REGISTRY.rate('USD')}, EUR {REGISTRY.rate('EUR')})"
    )

    heading("6. Stored")
    with raw_store.unit_of_work() as uow:
        for account in uow.accounts.list():
            print(f"account {account.id}: {account.name}")
        for contact in uow.contacts.list():
            print(f"contact {contact.id}: {contact.name} <{contact.email}>")
        for opp in uow.opportunities.list():
            print(f"opportunity {opp.id}: {opp.name} ({opp.currency}), from {opp.originating_lead}")
        for stored in uow.leads.stream():
            print(f"lead {stored.id}: {stored.state}, contact {stored.qualified_contact}")
    records = desk.duplicates.index.stats().records
    print(f"duplicate index: {records} records, kept current by the desk")
    raw_store.close()


if __name__ == "__main__":
    main()
