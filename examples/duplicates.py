"""Check a new lead for duplicates among stored leads, contacts and accounts, and explain why.

Run it: ``python examples/duplicates.py``. It builds a few records in memory, indexes them
with the default rule set, checks a new lead typed in a hurry, prints every match with the
evidence of each condition, and shows the allow / warn / block decision a save would get.
"""

from __future__ import annotations

from datetime import UTC, datetime

from leadkit import (
    AccountId,
    ContactId,
    Desk,
    DuplicatesUnresolved,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    PersonName,
    PhoneNumber,
    Url,
    UserRef,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    CheckMode,
    Condition,
    DuplicateIndex,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    Phonetic,
    RecordType,
    check_on_save,
    duplicate_record,
    find_duplicates,
    scan,
)
from leadkit.records import Account, Contact

AT = datetime(2024, 6, 3, 9, 30, tzinfo=UTC)
SELLER = UserRef("maria", "Maria Lind")


def new_lead(lead_id: str, name: str, **fields: object) -> Lead:
    patch = LeadPatch(topic="Website enquiry", name=PersonName.parse(name), **fields)  # type: ignore[arg-type]
    return Lead.create(LeadId(lead_id), patch, at=AT, by=SELLER)


def main() -> None:
    stored_leads = [
        new_lead(
            "L-100",
            "Małgorzata Wiśniewska",
            company="Kowalski Transport Sp. z o.o.",
            email=EmailAddress("m.wisniewska@kowalski-transport.pl"),
            mobile_phone=PhoneNumber("601 234 567", "PL"),
        ),
        new_lead(
            "L-101",
            "Jürgen Müller",
            company="Rheintec GmbH",
            email=EmailAddress("juergen.mueller@rheintec.de"),
            business_phone=PhoneNumber("0221 555 01 00", "DE"),  # the switchboard
        ),
        new_lead(
            "L-102",
            "Sabine Weber",
            company="Rheintec GmbH",
            business_phone=PhoneNumber("0221 555 01 00", "DE"),  # a colleague: same switchboard
        ),
    ]
    account = Account(
        id=AccountId("A-7"),
        name="Kowalski Transport S.A.",
        website=Url("www.kowalski-transport.pl"),
    )
    contact = Contact(
        id=ContactId("C-42"),
        name=PersonName("Gosia", "Wisniewska"),
        email=EmailAddress("gosia.w@kowalski-transport.pl"),
        account_id=account.id,
    )

    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    stats = index.rebuild([*stored_leads, duplicate_record(contact, company=account.name), account])
    print(f"Indexed {stats.records} records under {stats.keys} blocking keys.\n")

    # Typed again from a business card: no accents, legal form spelled out, mobile reformatted.
    typed = new_lead(
        "L-200",
        "Malgorzata Wisniewska",
        company="KOWALSKI TRANSPORT spółka z ograniczoną odpowiedzialnością",
        mobile_phone=PhoneNumber("+48 601-234-567", "PL"),
    )
    print(f"New lead: {typed.full_name}, {typed.company}, {typed.mobile_phone}")
    matches = find_duplicates(typed, DEFAULT_LEAD_RULES, index)
    print(f"{len(matches)} possible duplicate(s), best first:")
    for match in matches:
        print(match.explain())
    print()

    # The same check on save: WARN hands the matches back, BLOCK refuses.
    decision = check_on_save(typed, DEFAULT_LEAD_RULES, index)
    print(f"Save in {decision.mode.value} mode: needs confirmation = {decision.needs_confirmation}")
    try:
        check_on_save(typed, DEFAULT_LEAD_RULES.with_mode(CheckMode.BLOCK), index)
    except DuplicatesUnresolved as e:
        print(f"Save in block mode refused: {e}")
    print()

    # A colleague sharing the switchboard is not flagged: a shared phone needs similar names.
    colleague = new_lead(
        "L-201", "Klaus Becker", company="Rheintec", business_phone=PhoneNumber("+49 221 5550100")
    )
    print(f"{colleague.full_name} (same switchboard as Rheintec): ", end="")
    print(find_duplicates(colleague, DEFAULT_LEAD_RULES, index) or "no duplicates")
    print()

    # A custom rule: last names that sound alike, and the same first three characters of the
    # postal code (the same area).
    custom = DuplicateRuleSet(
        name="Regional namesakes",
        rules=[
            DuplicateRule(
                name="sounds-alike-same-area",
                base_type=RecordType.LEAD,
                matching_type=RecordType.LEAD,
                conditions=[
                    Condition.sounds_like("last_name", Phonetic.METAPHONE),
                    Condition.first_characters("postal_code", 3),
                ],
            )
        ],
    )
    batch = [
        DuplicateRecord(
            record_type=RecordType.LEAD, record_id=f"B-{i}", last_name=last, postal_code=code
        )
        for i, (last, code) in enumerate(
            [("Müller", "50667"), ("Mueller", "50668"), ("Muller", "50999"), ("Weber", "50667")]
        )
    ]
    print(f"Scan with the custom rule set {custom.name!r}:")
    for group in scan(batch, custom):
        print(f"  group {', '.join(str(m) for m in group.members)}")
        for edge in group.edges:
            print("   ", edge.explain().replace("\n", "\n    "))
    print()

    # A host asks the front door the same question with plain fields: the desk's duplicate
    # check indexes the stored leads, contacts and accounts, and answers with candidates.
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for lead in stored_leads:
            uow.leads.add(lead)
        uow.accounts.add(account)
        uow.contacts.add(contact)
        uow.commit()
    desk = Desk(store, phone_region="PL")
    candidates = desk.find_duplicates(
        name="Malgorzata Wisniewska",
        company="KOWALSKI TRANSPORT spółka z ograniczoną odpowiedzialnością",
        mobile_phone="601-234-567",  # read with the desk's default region
    )
    print(f"The desk finds {len(candidates)} candidate(s):")
    for candidate in candidates:
        print(f"  {candidate.record_type.value} {candidate.record_id} ({candidate.score:.1f})")


if __name__ == "__main__":
    main()
