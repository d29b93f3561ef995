"""leadkit qualification: one lead through PROMPT mode (show the plan, answer its questions,
resolve a duplicate warning by linking the existing contact), one through AUTO_CREATE mode in
another currency, then a look at what was stored.

The duplicate check is the duplicate engine (``EngineDuplicateCheck``, default rules): it
indexes the stored accounts and contacts, and qualifying through ``check.store`` keeps that
index current.

Run it with ``python examples/qualify.py``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from leadkit import (
    ContactId,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    LeadSource,
    Money,
    PersonName,
    PhoneNumber,
    PurchaseTimeframe,
    UserRef,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.conversion import QualifyRequest, Resolution
from leadkit.duplicates import EngineDuplicateCheck
from leadkit.errors import DuplicatesUnresolved
from leadkit.policies import CurrencyRegistry, QualificationPolicy, QualifyMode
from leadkit.records import Contact
from leadkit.services import prepare_qualification, qualify, timeline_notes

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

    # Åsa is already a contact (from last year's deal); she comes back as a new lead.
    with raw_store.unit_of_work() as uow:
        uow.contacts.add(
            Contact(
                id=ContactId("contact-asa"),
                name=PersonName(first="Åsa", last="Öberg"),
                email=EmailAddress("asa.oberg@fika.example"),
                job_title="Office manager",
            )
        )
        lead = Lead.create(
            LeadId("lead-fika"),
            LeadPatch(
                topic="Coffee machines for 12 offices",
                name=PersonName(first="Åsa", last="Öberg"),
                job_title="Head of Purchasing",
                company="Fika Systems AB",
                email="asa.oberg@fika.example",
                mobile_phone=PhoneNumber("070-123 45 67", "SE"),
                source=LeadSource.TRADE_SHOW,
                budget_amount=Money("250000", "SEK"),
                purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
            ),
            at=clock(),
            by=ANNA,
        )
        lead = lead.add_note(
            "Met at the Stockholm trade show; wants a pilot in Q1.", at=clock(), by=ANNA
        )
        uow.leads.add(lead)
        uow.commit()

    # The duplicate engine as the qualification's check: index what is stored, then work
    # through check.store so that every record a qualification creates is indexed too.
    finder = EngineDuplicateCheck.from_store(raw_store)
    store = finder.store
    print(f"duplicate index: {finder.index.stats().records} stored account or contact")

    # 1. PROMPT mode: the plan says what it would do and what it needs to know.
    heading("1. Prompt mode: the plan before any answer")
    prompt = QualificationPolicy(mode=QualifyMode.PROMPT, currencies=REGISTRY)
    request = QualifyRequest()
    plan = prepare_qualification(
        store, lead.id, request, prompt, at=clock(), by=ANNA, finder=finder, id_factory=new_id
    )
    for line in plan.describe():
        print(line)

    # The host shows the questions to its user; here we accept every suggestion.
    heading("2. Answering the questions")
    for question in plan.questions:
        print(f"{question.text} -> {question.suggestion}")
        request = request.answering(question, question.suggestion)

    # Qualifying now stops at the duplicate warning: nothing is stored.
    try:
        qualify(
            store, lead.id, request, prompt, at=clock(), by=ANNA, finder=finder, id_factory=new_id
        )
    except DuplicatesUnresolved as warning:
        heading("3. Duplicate warning")
        for candidate in warning.candidates:
            print(f"possible duplicate: {candidate}")
        # The user says: "that is her, link the existing contact".
        request = request.answer(warning.candidates[0], Resolution.LINK)

    result = qualify(
        store, lead.id, request, prompt, at=clock(), by=ANNA, finder=finder, id_factory=new_id
    )
    heading("4. Qualified")
    for line in result.plan.describe():
        print(line)
    print(
        f"created: {[k.value for k in result.created]}, linked: {[k.value for k in result.linked]}"
    )
    for kind, fields in result.filled.items():
        print(f"filled on the linked {kind.value}: {', '.join(fields)} (nothing overwritten)")
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
    with store.unit_of_work() as uow:
        us_lead = Lead.create(
            LeadId("lead-acme"),
            LeadPatch(
                topic="Espresso bar for the Boston office",
                name=PersonName(first="Grace", last="Hopper"),
                company="Acme Inc.",
                email="grace@acme.example",
                budget_amount=Money("12000", "USD"),
                estimated_value=Money("10000", "USD"),
            ),
            at=clock(),
            by=ANNA,
        )
        uow.leads.add(us_lead)
        uow.commit()
    auto = QualificationPolicy(currencies=REGISTRY)
    result = qualify(
        store,
        us_lead.id,
        QualifyRequest(currency="EUR"),
        auto,
        at=clock(),
        by=ANNA,
        finder=finder,
        id_factory=new_id,
    )
    for line in result.plan.describe():
        print(line)
    with store.unit_of_work() as uow:
        assert result.opportunity_id is not None
        opportunity = uow.opportunities.get(result.opportunity_id)
    print(
        f"budget 12000.00 USD -> {opportunity.budget_amount}, "
        f"estimated value 10000.00 USD -> {opportunity.estimated_value} "
        f"(rates per 1 {REGISTRY.base}: USD {REGISTRY.rate('USD')}, EUR {REGISTRY.rate('EUR')})"
    )

    heading("6. Stored")
    with store.unit_of_work() as uow:
        for account in uow.accounts.list():
            print(f"account {account.id}: {account.name}")
        for contact in uow.contacts.list():
            print(f"contact {contact.id}: {contact.name} <{contact.email}>")
        for opp in uow.opportunities.list():
            print(f"opportunity {opp.id}: {opp.name} ({opp.currency}), from {opp.originating_lead}")
        for stored in uow.leads.stream():
            print(f"lead {stored.id}: {stored.state}, contact {stored.qualified_contact}")
    print(f"duplicate index: {finder.index.stats().records} accounts/contacts, kept current")
    store.close()


if __name__ == "__main__":
    main()
