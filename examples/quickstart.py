"""leadkit quick start: create leads, autofill one from a contact, add notes and stakeholders,
disqualify one as "Cannot Contact", reactivate it, and print each lead's timeline.

Run it with ``python examples/quickstart.py [DB-FILE]``: the leads are stored in a SQLite file
(default ``./leadkit-demo.db``, or ``$LEADKIT_DEMO_DB``); running it again finds them there.
"""

from __future__ import annotations

import itertools
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadkit import (
    ActivityKind,
    ContactId,
    Desk,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    LeadSource,
    Money,
    NotFound,
    PersonName,
    PhoneNumber,
    Rating,
    StakeholderRole,
    StatusReason,
    UserRef,
)
from leadkit.adapters.sql import SqlStore
from leadkit.events import LeadEvent
from leadkit.ports import Views
from leadkit.records import Contact

ANNA = UserRef("anna", "Anna Svensson")
MAREK = UserRef("marek", "Marek Nowak")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


_minutes = itertools.count(1)


def clock() -> datetime:
    """A deterministic clock for the demo: every call is one minute later."""
    return START + timedelta(minutes=next(_minutes))


def build_leads() -> list[Lead]:
    """Walk three leads through the lifecycle and return them."""
    # 1. A lead typed in by hand.
    fika = Lead.create(
        LeadId("lead-fika"),
        LeadPatch(
            topic="Coffee machines for 12 offices",
            name=PersonName(first="Åsa", last="Öberg"),
            company="Fika Systems AB",
            email="asa.oberg@fika.example",
            business_phone=PhoneNumber("08-123 456 78", "SE"),
            source=LeadSource.TRADE_SHOW,
            budget_amount=Money("250000", "SEK"),
        ),
        at=clock(),
        by=ANNA,
    )
    fika = fika.add_note(
        "Met at the Stockholm trade show; wants a pilot in Q1.", at=clock(), by=ANNA
    )
    fika = fika.add_stakeholder(
        ContactId("c-cfo"), StakeholderRole.ECONOMIC_BUYER, at=clock(), by=ANNA
    )
    fika = fika.mark_contacted(at=clock(), by=ANNA)
    fika = fika.rate(Rating.HOT, at=clock(), by=ANNA)

    # 2. A lead autofilled from an existing contact: only empty fields are filled.
    existing = Contact(
        id=ContactId("c-jurgen"),
        name=PersonName(first="Jürgen", last="Groß"),
        job_title="Head of Purchasing",
        email=EmailAddress("j.gross@brau.example"),
        mobile_phone=PhoneNumber("+49 151 23456789"),
    )
    brau = Lead.create(
        LeadId("lead-brau"),
        LeadPatch(topic="Brewery line sensors", job_title="Purchasing", name="Groß"),
        at=clock(),
        by=MAREK,
    )
    brau = brau.link_contact(existing, at=clock(), by=MAREK)
    brau = brau.log_activity(ActivityKind.PHONE_CALL, "Intro call", at=clock(), by=MAREK)

    # 3. A lead disqualified as "Cannot Contact", then reactivated with its history intact.
    krak = Lead.create(
        LeadId("lead-krak"),
        LeadPatch(
            topic="Fleet tracking",
            name=PersonName(first="Łukasz", last="Żółć"),
            company="Kraków Logistics Sp. z o.o.",
        ),
        at=clock(),
        by=MAREK,
    )
    krak = krak.add_note("Three calls, no answer.", at=clock(), by=MAREK)
    krak = krak.disqualify(StatusReason.CANNOT_CONTACT, at=clock(), by=MAREK)
    krak = krak.add_note("He called back after all!", at=clock(), by=MAREK)
    krak = krak.reactivate(at=clock(), by=MAREK)
    return [fika, brau, krak]


def describe(event: LeadEvent) -> str:
    """One readable line for an event."""
    what = event.type
    details = {
        "LeadCreated": lambda e: f"created: {e.fields.topic!r}",
        "NoteAdded": lambda e: f"note: {e.note.text}",
        "StakeholderAdded": lambda e: (
            f"stakeholder {e.stakeholder.contact_id} as {e.stakeholder.role}"
        ),
        "StatusReasonChanged": lambda e: f"status {e.previous} -> {e.reason}",
        "LeadRated": lambda e: f"rated {e.rating}",
        "ExistingContactLinked": lambda e: (
            f"linked contact {e.contact_id}; autofilled {sorted(e.filled.as_dict())}"
        ),
        "ActivityLogged": lambda e: f"{e.activity.kind.label}: {e.activity.subject}",
        "LeadDisqualified": lambda e: f"disqualified: {e.reason}",
        "LeadReactivated": lambda e: f"reactivated ({e.previous_state} -> Open/{e.reason})",
    }
    return details.get(what, lambda e: what)(event)


def print_timeline(lead: Lead) -> None:
    """Print a lead's summary and the events that made it."""
    print(f"\n{lead.id}  {lead.topic}")
    print(
        f"  {lead.full_name} · {lead.job_title or '-'} · {lead.company or '-'}"
        f" · {lead.email or '-'}"
    )
    print(f"  state: {lead.state}/{lead.reason}  owner: {lead.owner}  notes: {len(lead.notes)}")
    for event in lead.pending_events:
        print(f"  {event.at:%Y-%m-%d %H:%M} {event.by.name:<14} {describe(event)}")


def store_leads(leads: list[Lead], path: Path) -> None:
    """Store the leads in a SQLite file; a second run finds them there and keeps them."""
    store = SqlStore.open(path=path)
    try:
        with store.unit_of_work() as uow:
            for lead in leads:
                try:
                    stored = uow.leads.get(lead.id)
                except NotFound:
                    uow.leads.add(lead)
                    print(f"stored {lead.id}")
                else:
                    print(f"{lead.id} was already stored (version {stored.version})")
            uow.commit()
        with store.unit_of_work() as uow:
            total = uow.leads.count(Views.all_leads())
        # A host works through the front door: wired once, acting as a user.
        marek = Desk(store, clock=clock).acting_as(MAREK)
        mine = marek.views.my_open().items
        print(f"{total} leads in {path}; Marek's open leads: {[str(x.id) for x in mine]}")
        krak = marek.note("lead-krak", "Booked a demo for next week.")
        print(
            f"{krak.id}: note {krak.timeline_seq} added through the desk (version {krak.version})"
        )
    finally:
        store.close()


def main() -> None:
    leads = build_leads()
    for lead in leads:
        print_timeline(lead)
    print()
    path = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LEADKIT_DEMO_DB", ""))
    store_leads(leads, path if str(path) not in ("", ".") else Path("leadkit-demo.db"))


if __name__ == "__main__":
    main()
