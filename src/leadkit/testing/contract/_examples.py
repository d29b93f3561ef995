"""The suite's example data: leads, the population the query tests read, the record kinds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final, Generic, TypeVar

import attrs

from leadkit.fields import (
    Budget,
    LeadSource,
    Need,
    OptionValue,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort, RecordRepository, UnitOfWork
from leadkit.records import Account, Contact, Opportunity, OpportunityState
from leadkit.scoring.result import Explanation, Score, ScoreSource
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import ActivityKind, Attachment, StakeholderRole
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    LeadId,
    Money,
    OpportunityId,
    PersonName,
    PhoneNumber,
    Url,
    UserRef,
)

# ---------------------------------------------------------------------------------------------
# Example data

_T0: Final = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
_ALICE: Final = UserRef("alice", "Alice Andersson")
_BOB: Final = UserRef("bob", "Bob")
_CAROL: Final = UserRef("carol")
_PLUS_TWO: Final = timezone(timedelta(hours=2))


def _hours(n: float) -> datetime:
    return _T0 + timedelta(hours=n)


def _days(n: float) -> datetime:
    return _T0 + timedelta(days=n)


def _lead(
    key: str,
    *,
    topic: str = "Solar panels",
    first: str = "",
    last: str = "Doe",
    company: str = "",
    email: str | None = None,
    owner: UserRef = _ALICE,
    at: datetime = _T0,
    rating: Rating | None = None,
    source: LeadSource | None = None,
) -> Lead:
    """A new (unstored) Open lead with one pending ``LeadCreated`` event."""
    patch = LeadPatch(
        topic=topic,
        name=PersonName(first=first, last=last),
        company=company,
        email=email,
        rating=rating,
        source=source,
    )
    return Lead.create(LeadId(key), patch, at=at, by=owner, owner=owner)


def _scored(lead: Lead, value: Decimal | str | None, *, at: datetime = _T0) -> Lead:
    """The lead with ``value`` recorded as its score (a ``LeadScored`` event); None: as is."""
    if value is None:
        return lead
    number = Decimal(value)
    score = Score(
        lead_id=lead.id,
        value=number,
        stars=min(5, int(number) // 20),
        max_stars=5,
        rating=Rating.HOT if number >= 70 else Rating.WARM if number >= 40 else Rating.COLD,
        source=ScoreSource.CRITERIA,
        model_id="contract",
        model_version=1,
        explanation=Explanation(
            base=number,
            contributions=(),
            criteria_value=number,
            met_weight=Decimal(0),
            total_weight=Decimal(1),
        ),
    )
    return lead.record_score(score, at=at, by=_ALICE)


def _touch(lead: Lead, text: str, *, at: datetime | None = None) -> Lead:
    """The lead with a changed description (an Open lead) or a new note (a closed one)."""
    when = at or _days(30)
    if lead.is_open:
        return lead.update(LeadPatch(description=text), at=when, by=_ALICE)
    return lead.add_note(text, at=when, by=_ALICE)


_POPULATION_SCORES: Final[dict[str, str]] = {
    "p01": "85", "p02": "85.0", "p03": "42.5", "p05": "100", "p06": "7.25", "p07": "0",
    "p09": "42.50", "p10": "99.99", "p12": "9.5",
}  # fmt: skip
"""The recorded scores (p04, p08 and p11 have none): ties written two ways (85 and 85.0,
42.5 and 42.50), and values whose text order is not their numeric order (9.5, 42.5, 100)."""


def _population() -> list[Lead]:
    """Twelve leads covering every filter, with ties in every sort (see the cases below)."""
    leads = [
        _lead("p01", topic="Solar panels", first="Ada", last="Lovelace", company="Contoso",
              email="ada@contoso.com", at=_T0, rating=Rating.HOT, source=LeadSource.WEB),
        _lead("p02", topic="solar panels", first="Bo", last="Ek", company="contoso", at=_T0,
              rating=Rating.WARM, source=LeadSource.TRADE_SHOW),
        _lead("p03", topic="Wind turbines", first="Cid", last="Åberg", company="Fabrikam",
              email="cid_aberg@fabrikam.example", owner=_BOB, at=_hours(1), rating=Rating.COLD),
        _lead("p04", topic="Heat pumps", last="Straße", company="Straße GmbH", owner=_BOB,
              at=datetime(2024, 3, 1, 11, 30, tzinfo=_PLUS_TWO)),  # 09:30 UTC
        _lead("p05", topic="Batteries", first="Dee", last="lovelace", company="100% Solar AB",
              owner=_CAROL, at=_hours(2), source=LeadSource.WEB),
        _lead("p06", topic="Wind turbines", last="Zed", at=_hours(3), rating=Rating.HOT),
        _lead("p07", topic="Hydro power", last="Young", company="Northwind", at=_hours(4),
              email="young@gross.example", source=LeadSource.PARTNER),
        _lead("p08", topic="Geothermal", last="Xu", company="Tailspin", owner=_BOB, at=_hours(5),
              rating=Rating.WARM),
        _lead("p09", topic="Insulation", first="Eve", last="Vik", company="Wingtip", at=_hours(6)),
        _lead("p10", topic="Heat pumps", first="Fay", last="Ulm", company="Litware", at=_hours(7),
              rating=Rating.COLD),
        _lead("p11", topic="Solar roof", first="Gus", last="Tor", company="Adatum", owner=_CAROL,
              at=_hours(8)),
        _lead("p12", topic="Smart meters", last="Sund", company="Proseware",
              at=_hours(9) + timedelta(microseconds=250)),
    ]  # fmt: skip
    return [_scored(lead, _POPULATION_SCORES.get(lead.id.value)) for lead in leads]


def _population_changes() -> dict[str, Callable[[Lead], Lead]]:
    """Commands applied to stored population leads (saved in a second unit of work)."""
    return {
        "p06": lambda lead: lead.disqualify(StatusReason.LOST, at=_days(5), by=_ALICE),
        "p07": lambda lead: lead.mark_qualified(at=_days(6), by=_ALICE),
        "p08": lambda lead: lead.disqualify(StatusReason.CANCELED, at=_days(4), by=_BOB),
        "p09": lambda lead: lead.mark_contacted(at=_days(1), by=_ALICE),
        "p10": lambda lead: lead.disqualify(
            StatusReason.NO_LONGER_INTERESTED, at=_days(2), by=_ALICE
        ).reactivate(at=_days(3), by=_ALICE),
        "p11": lambda lead: lead.assign(_ALICE, at=_days(1), by=_CAROL),
    }


_OPEN, _QUALIFIED, _DISQUALIFIED = LeadState.OPEN, LeadState.QUALIFIED, LeadState.DISQUALIFIED

_FILTER_CASES: Final[list[tuple[str, LeadQuery, list[str]]]] = [
    ("every lead", LeadQuery(), [f"p{n:02}" for n in range(1, 13)]),
    ("state Open", LeadQuery(states={_OPEN}),
     ["p01", "p02", "p03", "p04", "p05", "p09", "p10", "p11", "p12"]),
    ("states Qualified or Disqualified", LeadQuery(states={_QUALIFIED, _DISQUALIFIED}),
     ["p06", "p07", "p08"]),
    ("state Disqualified", LeadQuery(states={_DISQUALIFIED}), ["p06", "p08"]),
    ("reasons Contacted or Lost", LeadQuery(reason_codes={2, 4}), ["p06", "p09"]),
    ("owner", LeadQuery(owner_id="alice"),
     ["p01", "p02", "p06", "p07", "p09", "p10", "p11", "p12"]),
    ("owner without leads", LeadQuery(owner_id="nobody"), []),
    ("ratings", LeadQuery(ratings={Rating.HOT, Rating.COLD}), ["p01", "p03", "p06", "p10"]),
    ("sources", LeadQuery(sources={LeadSource.WEB}), ["p01", "p05"]),
    ("created range is half-open", LeadQuery(created_from=_hours(1), created_to=_hours(4)),
     ["p03", "p05", "p06"]),
    ("created from, in another time zone",
     LeadQuery(created_from=datetime(2024, 3, 1, 11, 30, tzinfo=_PLUS_TWO)),
     ["p03", "p04", "p05", "p06", "p07", "p08", "p09", "p10", "p11", "p12"]),
    ("created before", LeadQuery(created_to=_hours(1)), ["p01", "p02", "p04"]),
    ("modified range is half-open", LeadQuery(modified_from=_days(2), modified_to=_days(5)),
     ["p08", "p10"]),
    ("text in the name, any case", LeadQuery(text="LOVELACE"), ["p01", "p05"]),
    ("text in the company", LeadQuery(text="contoso"), ["p01", "p02"]),
    ("text in the e-mail", LeadQuery(text="fabrikam.example"), ["p03"]),
    ("text is case-folded", LeadQuery(text="strasse"), ["p04"]),
    ("text ß is case-folded to ss, not only lower-cased", LeadQuery(text="ß"), ["p04", "p07"]),
    ("text '_' is no wildcard", LeadQuery(text="_"), ["p03"]),
    ("text '%' is no wildcard", LeadQuery(text="0%"), ["p05"]),
    ("text is stripped", LeadQuery(text="  ada  "), ["p01", "p11"]),
    ("filters are ANDed",
     LeadQuery(states={_OPEN}, owner_id="alice", ratings={Rating.HOT, Rating.WARM}),
     ["p01", "p02"]),
    ("score from is inclusive", LeadQuery(score_min=Decimal("42.5")),
     ["p01", "p02", "p03", "p05", "p09", "p10"]),
    ("score up to is inclusive", LeadQuery(score_max=Decimal("9.5")), ["p06", "p07", "p12"]),
    ("score range, bounds written otherwise", LeadQuery(score_min=Decimal("42.50"), score_max=85),
     ["p01", "p02", "p03", "p09"]),
    ("score range of one value", LeadQuery(score_min=0, score_max=Decimal("0.00")), ["p07"]),
    ("score bound just above a score", LeadQuery(score_min=Decimal("99.991")), ["p05"]),
    ("score bound just below a score", LeadQuery(score_max=Decimal("99.989")),
     ["p01", "p02", "p03", "p06", "p07", "p09", "p12"]),
    ("score bound excludes unscored leads", LeadQuery(score_min=Decimal("-1E+6")),
     ["p01", "p02", "p03", "p05", "p06", "p07", "p09", "p10", "p12"]),
    ("score range matching nothing", LeadQuery(score_min=Decimal("100.0001")), []),
    ("score bound beyond float precision (min)",
     LeadQuery(score_min=Decimal("42.500000000000000001")), ["p01", "p02", "p05", "p10"]),
    ("score bound beyond float precision (max)",
     LeadQuery(score_max=Decimal("42.499999999999999999")), ["p06", "p07", "p12"]),
    ("score with state and owner", LeadQuery(states={_OPEN}, owner_id="alice", score_min=50),
     ["p01", "p02", "p10"]),
    ("score with text", LeadQuery(text="lovelace", score_max=90), ["p01"]),
    ("score with a closed state", LeadQuery(states={_DISQUALIFIED}, score_max=10), ["p06"]),
]  # fmt: skip
"""(label, query, the ids it matches in the population, sorted)."""

_SORTED_POPULATION: Final[dict[LeadSort, list[str]]] = {
    LeadSort.CREATED_AT: ["p01", "p02", "p04", "p03", "p05", "p06", "p07", "p08", "p09", "p10",
                          "p11", "p12"],
    LeadSort.MODIFIED_AT: ["p01", "p02", "p04", "p03", "p05", "p12", "p09", "p11", "p10", "p08",
                           "p06", "p07"],
    LeadSort.TOPIC: ["p05", "p08", "p04", "p10", "p07", "p09", "p12", "p01", "p02", "p11", "p03",
                     "p06"],
    LeadSort.COMPANY: ["p06", "p05", "p11", "p01", "p02", "p03", "p10", "p07", "p12", "p04",
                       "p08", "p09"],
    LeadSort.LAST_NAME: ["p02", "p01", "p05", "p04", "p12", "p11", "p10", "p09", "p08", "p07",
                         "p06", "p03"],
    LeadSort.ID: [f"p{n:02}" for n in range(1, 13)],
    LeadSort.SCORE: ["p07", "p06", "p12", "p03", "p09", "p01", "p02", "p10", "p05",
                     "p04", "p08", "p11"],
}  # fmt: skip
"""The population in ascending order of each sort; descending is the exact reverse (ties by
id included), text compares case-folded by code point, datetimes by instant. The score sort
is numeric with the unscored leads (p04, p08, p11) last in both directions."""

_UNSCORED: Final = ("p04", "p08", "p11")


def _population_order(sort: LeadSort, descending: bool) -> list[str]:
    """The population ids in the order of ``sort``: the reverse when ``descending``, except
    that the unscored leads stay last under the score sort (reversed among themselves)."""
    ascending = _SORTED_POPULATION[sort]
    if not descending:
        return ascending
    if sort is not LeadSort.SCORE:
        return ascending[::-1]
    scored = [key for key in ascending if key not in _UNSCORED]
    return scored[::-1] + [key for key in ascending if key in _UNSCORED][::-1]


def _full_patch() -> LeadPatch:
    """Every field of a lead set: all value types and custom fields of every kind."""
    return LeadPatch(
        topic="Fleet of electric vans",
        name=PersonName(
            first="Åsa", middle="Maria", last="Lindström-Öberg", salutation="Dr.", suffix="PhD"
        ),
        job_title="Head of Logistics",
        company="Nordic Freight AB",
        business_phone=PhoneNumber("08-123 456 78 ext. 12", region="SE"),
        mobile_phone=PhoneNumber("+46 70 123 45 67"),
        email=EmailAddress("asa.lindstrom@nordicfreight.se"),
        website=Url("www.nordicfreight.se/fleet?x=1"),
        address=Address(
            line1="Sveavägen 1",
            line2="Floor 3",
            line3="c/o Reception",
            city="Stockholm",
            state_or_province="Stockholms län",
            postal_code="111 22",
            country="Sweden",
        ),
        source=LeadSource.TRADE_SHOW,
        initiated_by="Booth visit",
        rating=Rating.HOT,
        budget_amount=Money("250000.50", "SEK"),
        budget=Budget.CAN_BUY,
        need=Need.MUST_HAVE,
        purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
        purchase_process=PurchaseProcess.COMMITTEE,
        description="Two lines,\nwith ünïcode ✓ and 'quotes' \"too\"",
        estimated_value=Money("1200000", "JPY"),
        estimated_close_date=date(2024, 9, 30),
        custom_fields={
            "industry": "Logistics",
            "fleet_size": 42,
            "big_number": -(2**62),
            "discount": Decimal("0.125"),
            "is_partner": True,
            "was_customer": False,
            "first_contact": date(2024, 4, 1),
            "next_call": datetime(
                2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))
            ),
            "tier": OptionValue(3, "Gold"),
        },
    )


def _full_lead(key: str = "full-1") -> Lead:
    """A lead with every field set: all value types, custom fields of every kind, notes with
    attachments (one edited), activities (one done), stakeholders, links, and a qualification."""
    at = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=_PLUS_TWO)
    patch = _full_patch()
    lead = Lead.create(LeadId(key), patch, at=at, by=_ALICE, owner=_BOB)
    step = timedelta(minutes=7)
    account = Account(id=AccountId("acc-nordic"), name="Nordic Freight AB")
    big_file = Attachment("offer.pdf", "application/pdf", 2**63 - 1, "ab" * 32)
    small_file = Attachment("notes.txt", "text/plain", 0, "0" * 64)
    lead = lead.link_account(account, at=at + step, by=_ALICE)
    lead = lead.add_note("First call went well", at=at + 2 * step, by=_BOB, title="Call")
    lead = lead.add_note("", at=at + 3 * step, by=_BOB, title="Offer", attachment=big_file)
    lead = lead.edit_note(1, at=at + 4 * step, by=_ALICE, text="First call went very well")
    lead = lead.add_note("See file", at=at + 5 * step, by=_BOB, attachment=small_file)
    lead = lead.log_activity(
        ActivityKind.PHONE_CALL,
        "Follow-up call",
        at=at + 6 * step,
        by=_BOB,
        description="Ask about the budget",
        due_at=at + timedelta(days=2),
    )
    lead = lead.log_activity(ActivityKind.MEETING, "Site visit", at=at + 7 * step, by=_BOB)
    lead = lead.complete_activity(4, at=at + 8 * step, by=_BOB)
    lead = lead.add_stakeholder(
        ContactId("con-1"), StakeholderRole.DECISION_MAKER, at=at + 9 * step, by=_BOB
    )
    lead = lead.add_stakeholder(
        ContactId("con-2"), StakeholderRole("Procurement lead"), at=at + 10 * step, by=_BOB
    )
    lead = lead.mark_contacted(at=at + 11 * step, by=_BOB)
    return lead.mark_qualified(
        at=at + 12 * step,
        by=_BOB,
        account_id=AccountId("acc-nordic"),
        contact_id=ContactId("con-1"),
        opportunity_id=OpportunityId("opp-1"),
    )


def _round_trip_cases() -> list[tuple[str, Lead]]:
    minimal = Lead.create(
        LeadId("min-1"), LeadPatch(topic="T", name=PersonName(last="L")), at=_T0, by=_CAROL
    )
    reactivated = (
        _full_lead("full-2")
        .reactivate(at=_days(40), by=_ALICE)
        .add_note("Back again", at=_days(41), by=_ALICE)
    )
    disqualified = _lead("dq-1", email="x@example.com").disqualify(
        StatusReason.CANNOT_CONTACT, at=_days(1), by=_BOB
    )
    return [
        ("every field set", _full_lead()),
        ("only the required fields", minimal),
        ("reactivated with its history", reactivated),
        ("disqualified", disqualified),
    ]


# ---------------------------------------------------------------------------------------------
# Records: accounts, contacts and opportunities share one set of tests

R = TypeVar("R")
K = TypeVar("K")
T = TypeVar("T")


@attrs.frozen
class _RecordKind(Generic[R, K]):
    """How the record tests reach one record type."""

    name: str
    repository: Callable[[UnitOfWork], RecordRepository[R, K]]
    make: Callable[[int, LeadId | None], R]
    change: Callable[[R, str], R]
    key: Callable[[R], K]

    def __str__(self) -> str:
        return self.name


def _account(n: int, lead: LeadId | None) -> Account:
    return Account(
        id=AccountId(f"acc-{n:03}"),
        name=f"Account {n}",
        website=Url(f"https://account{n}.example"),
        business_phone=PhoneNumber("+46 8 123 456 78"),
        address=Address(city="Malmö", postal_code="211 20", country="Sweden"),
        owner=_ALICE,
        originating_lead=lead,
    )


def _contact(n: int, lead: LeadId | None) -> Contact:
    return Contact(
        id=ContactId(f"con-{n:03}"),
        name=PersonName(first="Ann", last=f"Contact {n}"),
        job_title="Buyer",
        email=EmailAddress(f"ann{n}@example.com"),
        mobile_phone=PhoneNumber("+46 70 000 00 00"),
        account_id=AccountId("acc-001"),
        source=LeadSource.WEB,
        owner=_BOB,
        originating_lead=lead,
    )


def _opportunity(n: int, lead: LeadId | None) -> Opportunity:
    customer: AccountId | ContactId = (
        ContactId(f"con-{n:03}") if n % 2 else AccountId(f"acc-{n:03}")
    )
    return Opportunity(
        id=OpportunityId(f"opp-{n:03}"),
        name=f"Deal {n}",
        customer=customer,
        currency="EUR",
        estimated_value=Money("1000.10", "EUR"),
        budget_amount=Money("900", "EUR"),
        estimated_close_date=date(2024, 12, 31),
        purchase_timeframe=PurchaseTimeframe.NEXT_QUARTER,
        purchase_process=PurchaseProcess.INDIVIDUAL,
        source=LeadSource.PARTNER,
        description="From the lead",
        owner=_ALICE,
        originating_lead=lead,
        state=OpportunityState.OPEN,
    )


_RECORD_KINDS: Final[list[_RecordKind[Any, Any]]] = [
    _RecordKind(
        "account",
        lambda uow: uow.accounts,
        _account,
        lambda r, text: attrs.evolve(r, name=text),
        lambda r: r.id,
    ),
    _RecordKind(
        "contact",
        lambda uow: uow.contacts,
        _contact,
        lambda r, text: attrs.evolve(r, job_title=text),
        lambda r: r.id,
    ),
    _RecordKind(
        "opportunity",
        lambda uow: uow.opportunities,
        _opportunity,
        lambda r, text: attrs.evolve(r, description=text, state=OpportunityState.WON),
        lambda r: r.id,
    ),
]
