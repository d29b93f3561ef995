"""The adapter contract suite: every promise of :mod:`leadkit.ports`, as tests.

A storage adapter proves itself by subclassing :class:`LeadStoreContract` and overriding one
fixture, ``make_store``, that returns a factory of fresh, empty stores::

    import pytest
    from leadkit.adapters.memory import MemoryStore
    from leadkit.testing.contract import LeadStoreContract, StoreFactory

    class TestMemoryStore(LeadStoreContract):
        @pytest.fixture
        def make_store(self) -> StoreFactory:
            return MemoryStore

The factory is called with no arguments, except by the event tests, which pass
``event_sink=...`` (so ``lambda event_sink=None: MyStore(url, event_sink=event_sink)``).
Every call must return a new store that holds nothing.

Capability flags (class attributes) switch off the tests of optional behaviour:

``supports_concurrent_readers`` (default True)
    While one unit of work holds uncommitted changes, another can be opened in the same
    thread and read (it must not see those changes).
``supports_concurrent_writers`` (default True)
    Two units of work in the same thread may both hold uncommitted changes without blocking
    each other; a conflict between them is reported as ConcurrencyConflict at save or commit.
    Set it False for a store whose writer holds a lock until it commits (a SQLite write
    transaction, row locks).
``supports_threads`` (default True)
    Several threads may run their own units of work against one store at the same time.
``supports_reopen`` (default False)
    The store keeps its data when closed and opened again; override :meth:`reopen_store`.
``supports_idempotency``, ``supports_outbox`` (default True)
    Idempotency keys (``uow.idempotency``) and the transactional outbox (``store.outbox``):
    the tests of :mod:`leadkit.testing.reliability`, which this suite inherits.
``supports_merges`` (default True)
    Its units of work have a ``merges`` repository (:data:`leadkit.ports.MergeRepository`),
    so ``leadkit.services.merge`` and ``unmerge`` work on it.

The suite also runs a hypothesis :class:`~hypothesis.stateful.RuleBasedStateMachine`
(:func:`make_store_machine`) that drives random adds, saves (fresh and stale), deletes,
reads, queries, commits and rollbacks against the store and a dict model. Its size is set by
``state_machine_examples`` and ``state_machine_steps``; ``state_machine_derandomize = True``
makes it run the same programs every time, ``state_machine_fast = True`` runs a third of the
examples without shrinking a failure (for a slow store while developing).

When a test that runs two units of work in one thread fails on a lock or timeout error, its
message names the capability flag to set. Failures list lead ids before comparing contents.

This module imports pytest and hypothesis; ``import leadkit`` never imports it.
"""

from __future__ import annotations

import contextlib
import functools
import random
import threading
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar, Final, Generic, Protocol, TypeVar, cast

import attrs
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    InvalidValue,
    NotFound,
    StorageUnavailable,
)
from leadkit.events import LeadEvent
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
from leadkit.merging import MergeRecord, Survivorship, plan_merge
from leadkit.patch import LeadPatch
from leadkit.ports import (
    MAX_PAGE_SIZE,
    EventSink,
    LeadQuery,
    LeadRepository,
    LeadSort,
    LeadStore,
    Page,
    RecordRepository,
    UnitOfWork,
    Views,
    encode_cursor,
    sort_key,
)
from leadkit.records import Account, Contact, Opportunity, OpportunityState
from leadkit.scoring.result import Explanation, Score, ScoreSource
from leadkit.services import merge, unmerge
from leadkit.status import LeadState, StatusReason
from leadkit.testing.contract_erasure import ErasureContract
from leadkit.testing.reliability import IdempotencyContract, OutboxContract
from leadkit.testing.strategies import leads
from leadkit.timeline import ActivityKind, Attachment, StakeholderRole
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    LeadId,
    MergeId,
    Money,
    OpportunityId,
    PersonName,
    PhoneNumber,
    Url,
    UserRef,
)

__all__ = [
    "LeadStoreContract",
    "LeadStoreMachine",
    "MachineLead",
    "StoreFactory",
    "make_store_machine",
]


class StoreFactory(Protocol):
    """Makes a fresh, empty store; ``event_sink`` is passed only by the event tests."""

    def __call__(self, *, event_sink: EventSink | None = None) -> LeadStore: ...


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


def _full_lead(key: str = "full-1") -> Lead:
    """A lead with every field set: all value types, custom fields of every kind, notes with
    attachments (one edited), activities (one done), stakeholders, links, and a qualification."""
    at = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=_PLUS_TWO)
    patch = LeadPatch(
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


# ---------------------------------------------------------------------------------------------
# Helpers


class _Boom(Exception):
    """Raised inside a unit of work by the rollback tests."""


@attrs.define
class _RecordingSink:
    """An event sink that remembers every delivery."""

    calls: list[tuple[LeadEvent, ...]] = attrs.field(factory=list)
    check: Callable[[Sequence[LeadEvent]], None] | None = None

    def __call__(self, events: Sequence[LeadEvent]) -> None:
        self.calls.append(tuple(events))
        if self.check is not None:
            self.check(events)

    @property
    def deliveries(self) -> list[tuple[LeadEvent, ...]]:
        """The non-empty deliveries (a sink may or may not be called with no events)."""
        return [call for call in self.calls if call]


def _store_leads(store: LeadStore, *leads: Lead) -> list[Lead]:
    """Add ``leads`` in one unit of work, commit, and return the stored copies."""
    with store.unit_of_work() as uow:
        stored = [uow.leads.add(lead) for lead in leads]
        uow.commit()
    return stored


def _store_records(store: LeadStore, kind: _RecordKind[R, K], *records: R) -> list[R]:
    """Add ``records`` of ``kind`` in one unit of work, commit, and return the stored copies."""
    with store.unit_of_work() as uow:
        repository = kind.repository(uow)
        stored = [repository.add(record) for record in records]
        uow.commit()
    return stored


def _read(store: LeadStore, lead_id: LeadId) -> Lead:
    with store.unit_of_work() as uow:
        return uow.leads.get(lead_id)


def _exists(store: LeadStore, lead_id: LeadId) -> bool:
    with store.unit_of_work() as uow:
        try:
            uow.leads.get(lead_id)
        except NotFound:
            return False
        return True


def _count(store: LeadStore, query: LeadQuery | None = None) -> int:
    with store.unit_of_work() as uow:
        return uow.leads.count(query or LeadQuery())


def _pages(
    repository: LeadRepository, query: LeadQuery, limit: int, *, most: int = 1000
) -> list[Page]:
    """Every page of ``query``, following the cursors: at most ``most`` pages, and a cursor
    handed out twice fails at once (a cursor that does not advance would loop for ever)."""
    pages: list[Page] = []
    after: str | None = None
    seen: set[str] = set()
    for _ in range(most):
        page = repository.query(query, limit=limit, after=after)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        if page.next_cursor in seen:
            raise AssertionError(
                f"query {query!r} gave the cursor {page.next_cursor!r} twice (after "
                f"{len(pages)} pages of {limit}): the cursor does not advance"
            )
        seen.add(page.next_cursor)
        after = page.next_cursor
    raise AssertionError(f"pagination of {query!r} did not end after {most} pages of {limit}")


def _streamed(repository: LeadRepository, query: LeadQuery | None, batch_size: int) -> list[Lead]:
    """``list(repository.stream(...))``, failing instead of hanging when the stream yields
    far more leads than the store holds (a batch position that does not advance)."""
    bound = repository.count(LeadQuery()) + 1
    found: list[Lead] = []
    for lead in repository.stream(query, batch_size=batch_size):
        found.append(lead)
        if len(found) > bound:
            raise AssertionError(
                f"stream(batch_size={batch_size}) yielded more than the {bound - 1} stored "
                f"leads; it repeats (ids so far: {_ids(found)[:20]} ...)"
            )
    return found


def _ids(leads: Sequence[Lead]) -> list[str]:
    return [lead.id.value for lead in leads]


def _reference(leads: Sequence[Lead], query: LeadQuery) -> list[Lead]:
    """The reference answer: ``LeadQuery.matches`` ordered by ``sort_key``."""
    found = [lead for lead in leads if query.matches(lead)]
    return sorted(
        found,
        key=lambda lead: sort_key(lead, query.sort, descending=query.descending),
        reverse=query.descending,
    )


def _lock_hint(flag: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a test that opens two units of work in one thread: when it fails on a lock or
    timeout error (a store whose writer holds a lock until it commits waits for itself),
    the failure says which capability flag to set."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(test)
        def run(self: LeadStoreContract, *args: Any, **kwargs: Any) -> None:
            try:
                test(self, *args, **kwargs)
            except (StorageUnavailable, TimeoutError) as e:
                text = str(e).lower()
                if not any(word in text for word in ("lock", "timeout", "timed out", "busy")):
                    raise
                raise AssertionError(
                    f"{type(e).__name__}: {e}\n-> this test runs two units of work in one "
                    f"thread; a store whose writer (or reader) waits for another's lock cannot "
                    f"pass it: set {flag} = False on {type(self).__name__}"
                ) from e

        return run

    return decorate


def _check_conflict(
    error: ConcurrencyConflict, key: object, expected: int, actual: int | None
) -> None:
    assert str(error.key) == str(key)
    assert error.expected_version == expected
    assert error.actual_version == actual


# ---------------------------------------------------------------------------------------------
# The suite


class LeadStoreContract(IdempotencyContract, OutboxContract, ErasureContract):
    """Mixin of tests every :class:`~leadkit.ports.LeadStore` adapter must pass.

    Override the ``make_store`` fixture; set the capability flags your store needs. Every
    test opens its own store(s) through the factory and closes them afterwards.
    """

    supports_concurrent_readers: ClassVar[bool] = True
    supports_concurrent_writers: ClassVar[bool] = True
    supports_threads: ClassVar[bool] = True
    supports_reopen: ClassVar[bool] = False
    supports_merges: ClassVar[bool] = True
    state_machine_examples: ClassVar[int] = 30
    state_machine_steps: ClassVar[int] = 20
    state_machine_derandomize: ClassVar[bool] = False
    state_machine_fast: ClassVar[bool] = False

    # Hooks ------------------------------------------------------------------------------------

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """Override: return a factory of fresh, empty stores (see the module docstring)."""
        raise NotImplementedError("override the make_store fixture of LeadStoreContract")

    def reopen_store(self, store: LeadStore) -> LeadStore:
        """Override when ``supports_reopen``: close ``store`` and open it again on the same
        data."""
        raise NotImplementedError("override reopen_store when supports_reopen is True")

    # Fixtures ---------------------------------------------------------------------------------

    @pytest.fixture
    def new_store(self, make_store: StoreFactory) -> Iterator[StoreFactory]:
        """Like ``make_store``, and every store it makes is closed after the test."""
        made: list[LeadStore] = []

        def new(*, event_sink: EventSink | None = None) -> LeadStore:
            store = make_store() if event_sink is None else make_store(event_sink=event_sink)
            made.append(store)
            return store

        yield new
        for store in made:
            with contextlib.suppress(StorageUnavailable):
                store.close()

    @pytest.fixture
    def empty_store(self, new_store: StoreFactory) -> LeadStore:
        """A fresh store holding nothing."""
        return new_store()

    @pytest.fixture
    def population(self, empty_store: LeadStore) -> tuple[LeadStore, list[Lead]]:
        """A store holding the twelve population leads, as stored (versions 1 and 2)."""
        _store_leads(empty_store, *_population())
        changes = _population_changes()
        with empty_store.unit_of_work() as uow:
            for key, change in changes.items():
                uow.leads.save(change(uow.leads.get(LeadId(key))))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            stored = list(uow.leads.stream(LeadQuery(sort=LeadSort.ID)))
        return empty_store, stored

    def _require(self, flag: str) -> None:
        if not getattr(self, flag):
            pytest.skip(f"the store does not declare {flag}")

    # merges (supports_merges) -----------------------------------------------------------------

    def test_merge_records_are_stored_versioned_and_listed_by_master(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_merges")
        master, other = _store_leads(
            empty_store, _lead("m01", company="Contoso"), _lead("m02", email="a@b.example")
        )
        plan = plan_merge(master, [other], Survivorship())
        with empty_store.unit_of_work() as uow:
            merged = plan.apply(MergeId("merge-1"), at=_hours(1), by=_ALICE)
            after = tuple(uow.leads.save(lead) for lead in merged)
            record = MergeRecord(
                id=MergeId("merge-1"),
                master=master.id,
                merged=(other.id,),
                at=_hours(1),
                by=_ALICE,
                before=(master, other),
                after=after,
                moved=plan.moved,
            )
            stored = uow.merges.add(record)  # type: ignore[attr-defined]
            assert stored == attrs.evolve(record, version=1)
            uow.rollback()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.merges.get(MergeId("merge-1"))  # type: ignore[attr-defined]
            uow.merges.add(record)  # type: ignore[attr-defined]
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.merges.get(MergeId("merge-1")) == stored  # type: ignore[attr-defined]
            assert list(uow.merges.list(originating_lead=master.id)) == [stored]  # type: ignore[attr-defined]
            assert list(uow.merges.list(originating_lead=other.id)) == []  # type: ignore[attr-defined]
            done = attrs.evolve(stored, undone_at=_hours(2), undone_by=_BOB)
            assert uow.merges.save(done).version == 2  # type: ignore[attr-defined]
            with pytest.raises(ConcurrencyConflict):
                uow.merges.save(done)  # type: ignore[attr-defined]
            uow.commit()

    def test_merge_then_unmerge_restores_every_lead(self, empty_store: LeadStore) -> None:
        self._require("supports_merges")
        master = _lead("m01").add_note("Mine", at=_T0, by=_ALICE)
        other = (
            _lead("m02", company="Fabrikam")
            .add_note("Theirs", at=_T0, by=_BOB)
            .add_stakeholder(ContactId("c1"), StakeholderRole.DECISION_MAKER, at=_T0, by=_BOB)
        )
        stored = _store_leads(empty_store, master, other)
        plan = plan_merge(stored[0], stored[1:], Survivorship())
        result = merge(empty_store, plan, ids=lambda: "merge-1", at=_hours(1), by=_ALICE)
        with empty_store.unit_of_work() as uow:
            merged_master = uow.leads.get(master.id)
            merged_other = uow.leads.get(other.id)
        assert [n.text for n in merged_master.notes] == ["Mine", "Theirs"]
        assert merged_master.company == "Fabrikam"
        assert merged_other.merged_into == master.id
        assert merged_other.state is LeadState.DISQUALIFIED
        unmerge(empty_store, result.merge_id, at=_hours(2), by=_ALICE)
        with empty_store.unit_of_work() as uow:
            back = [uow.leads.get(lead.id) for lead in stored]
        assert [attrs.evolve(lead, version=0) for lead in back] == [
            attrs.evolve(lead, version=0) for lead in stored
        ]

    # get / add --------------------------------------------------------------------------------

    def test_a_key_of_the_wrong_type_is_refused_with_invalid_value(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("x"))
        _store_records(empty_store, _RECORD_KINDS[0], _account(1, None))
        plain: Any = "x"  # a str where a LeadId belongs: refused, never NotFound or a crash
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue):
                uow.leads.get(plain)
            with pytest.raises(InvalidValue):
                uow.leads.delete(plain)
            with pytest.raises(InvalidValue):
                uow.accounts.get(cast(Any, "acc-001"))
            with pytest.raises(InvalidValue):
                uow.accounts.get(cast(Any, LeadId("acc-001")))  # another kind's id
            with pytest.raises(InvalidValue):
                uow.contacts.delete(cast(Any, "x"))
            uow.commit()
        assert _exists(empty_store, LeadId("x"))
        with empty_store.unit_of_work() as uow:
            assert [a.id.value for a in uow.accounts.list()] == ["acc-001"]

    def test_get_of_an_unknown_id_raises_not_found(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound) as caught:
            uow.leads.get(LeadId("nobody"))
        assert isinstance(caught.value, LookupError)

    def test_add_returns_the_stored_copy_with_version_1_and_no_pending_events(
        self, empty_store: LeadStore
    ) -> None:
        lead = _lead("a1")
        assert lead.pending_events
        with empty_store.unit_of_work() as uow:
            stored = uow.leads.add(lead)
            uow.commit()
        assert stored.version == 1
        assert stored.pending_events == ()
        assert stored == attrs.evolve(lead, version=1)

    def test_an_added_lead_reads_back_equal(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("a1", company="Contoso"))
        got = _read(empty_store, LeadId("a1"))
        assert got == stored
        assert got.version == 1
        assert got.pending_events == ()

    def test_add_of_a_stored_id_raises_already_exists(self, empty_store: LeadStore) -> None:
        _store_leads(empty_store, _lead("a1", topic="First"))
        with empty_store.unit_of_work() as uow:
            with pytest.raises(AlreadyExists) as caught:
                uow.leads.add(_lead("a1", topic="Second"))
            assert str(caught.value.key) == "a1"
        assert _read(empty_store, LeadId("a1")).topic == "First"

    def test_add_of_an_id_added_in_the_same_unit_of_work_raises_already_exists(
        self, empty_store: LeadStore
    ) -> None:
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("a1"))
            with pytest.raises(AlreadyExists):
                uow.leads.add(_lead("a1", topic="Again"))

    @pytest.mark.parametrize("version", [1, 2, -1])
    def test_add_of_a_lead_with_a_version_is_refused(
        self, empty_store: LeadStore, version: int
    ) -> None:
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue):
                uow.leads.add(attrs.evolve(_lead("a1"), version=version))
            uow.commit()
        assert not _exists(empty_store, LeadId("a1"))

    def test_add_hands_the_pending_events_to_the_unit_of_work(self, empty_store: LeadStore) -> None:
        lead = _lead("a1").add_note("Hello", at=_hours(1), by=_ALICE)
        with empty_store.unit_of_work() as uow:
            uow.leads.add(lead)
            assert list(uow.events) == list(lead.pending_events)

    # types at the boundary ---------------------------------------------------------------------

    @pytest.mark.parametrize("bad", ["a1", 42, None, b"a1", AccountId("a1")])
    def test_an_id_of_another_type_is_refused_naming_it(
        self, empty_store: LeadStore, bad: object
    ) -> None:
        _store_leads(empty_store, _lead("a1"))
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue) as caught:
                uow.leads.get(bad)  # type: ignore[arg-type]
            assert caught.value.field == "lead_id"
            with pytest.raises(InvalidValue):
                uow.leads.delete(bad)  # type: ignore[arg-type]
            with pytest.raises(InvalidValue) as caught:
                uow.accounts.get(LeadId("a1"))  # type: ignore[arg-type]
            assert caught.value.field == "account_id"

    def test_a_value_of_another_type_is_never_stored(self, empty_store: LeadStore) -> None:
        account = _account(1, None)
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue) as caught:
                uow.leads.add(account)  # type: ignore[arg-type]
            assert caught.value.field == "lead"
            with pytest.raises(InvalidValue):
                uow.leads.save(account)  # type: ignore[arg-type]
            with pytest.raises(InvalidValue) as caught:
                uow.contacts.add(account)  # type: ignore[arg-type]
            assert caught.value.field == "contact"
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.leads.count(LeadQuery()) == 0
            assert list(uow.contacts.list()) == []

    # save -------------------------------------------------------------------------------------

    def test_save_bumps_the_version_and_returns_the_stored_copy(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        changed = _touch(stored, "changed")
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(changed)
            assert list(uow.events) == list(changed.pending_events)
            uow.commit()
        assert saved.version == 2
        assert saved.pending_events == ()
        assert saved == attrs.evolve(changed, version=2)
        assert _read(empty_store, LeadId("s1")) == saved

    def test_save_without_changes_still_bumps_the_version(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            assert uow.leads.save(stored).version == 2
            uow.commit()
        assert _read(empty_store, LeadId("s1")).version == 2

    def test_saving_twice_in_one_unit_of_work_bumps_twice(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            second = uow.leads.save(_touch(stored, "one"))
            third = uow.leads.save(_touch(second, "two"))
            uow.commit()
        assert (second.version, third.version) == (2, 3)
        got = _read(empty_store, LeadId("s1"))
        assert got.version == 3
        assert got.description == "two"

    def test_save_of_a_stale_copy_raises_concurrency_conflict_with_both_versions(
        self, empty_store: LeadStore
    ) -> None:
        (stale,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.save(_touch(uow.leads.get(LeadId("s1")), "theirs"))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                uow.leads.save(_touch(stale, "mine"))
            uow.commit()
        _check_conflict(caught.value, "s1", expected=1, actual=2)
        got = _read(empty_store, LeadId("s1"))
        assert (got.version, got.description) == (2, "theirs")

    def test_save_of_a_copy_ahead_of_the_store_raises_concurrency_conflict(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict) as caught:
            uow.leads.save(attrs.evolve(stored, version=5))
        _check_conflict(caught.value, "s1", expected=5, actual=1)

    def test_save_with_the_expected_version_stores_the_lead(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(_touch(stored, "mine"), expected_version=1)
            uow.commit()
        assert saved.version == 2
        assert _read(empty_store, LeadId("s1")).description == "mine"

    def test_save_with_an_expected_version_the_store_no_longer_holds_conflicts(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            current = uow.leads.save(_touch(stored, "theirs"))
            uow.commit()
        # A client saw version 1 (If-Match: "1"); the host read version 2 and changed it.
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                uow.leads.save(_touch(current, "mine"), expected_version=1)
            uow.commit()
        _check_conflict(caught.value, "s1", expected=1, actual=2)
        got = _read(empty_store, LeadId("s1"))
        assert (got.version, got.description) == (2, "theirs")

    def test_save_with_an_expected_version_of_a_missing_lead_raises_not_found(
        self, empty_store: LeadStore
    ) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.leads.save(attrs.evolve(_lead("ghost"), version=1), expected_version=3)

    @pytest.mark.parametrize("bad", ["1", 1.0, True])
    def test_save_refuses_an_expected_version_that_is_not_an_integer(
        self, empty_store: LeadStore, bad: object
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow, pytest.raises(InvalidValue) as caught:
            uow.leads.save(stored, expected_version=bad)  # type: ignore[arg-type]
        assert caught.value.field == "expected_version"

    def test_save_of_a_lead_never_stored_raises_not_found(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.leads.save(_lead("ghost"))
            with pytest.raises(NotFound):
                uow.leads.save(attrs.evolve(_lead("ghost"), version=1))
            uow.commit()
        assert not _exists(empty_store, LeadId("ghost"))

    def test_save_of_a_deleted_lead_raises_not_found(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("s1"))
            uow.commit()
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.leads.save(_touch(stored, "too late"))

    # delete -----------------------------------------------------------------------------------

    def test_delete_removes_the_lead(self, empty_store: LeadStore) -> None:
        _store_leads(empty_store, _lead("d1"), _lead("d2"))
        with empty_store.unit_of_work() as uow:
            assert uow.leads.delete(LeadId("d1")) is None  # type: ignore[func-returns-value]
            uow.commit()
        assert not _exists(empty_store, LeadId("d1"))
        assert _exists(empty_store, LeadId("d2"))
        assert _count(empty_store) == 1

    def test_delete_with_the_stored_version_removes_the_lead(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("d1"))
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(_touch(stored, "x"))
            uow.leads.delete(LeadId("d1"), expected_version=saved.version)
            uow.commit()
        assert not _exists(empty_store, LeadId("d1"))

    def test_delete_with_a_stale_version_raises_concurrency_conflict_and_keeps_the_lead(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("d1"))
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                uow.leads.delete(LeadId("d1"), expected_version=2)
            uow.commit()
        _check_conflict(caught.value, "d1", expected=2, actual=1)
        assert _exists(empty_store, LeadId("d1"))

    def test_delete_of_an_unknown_id_raises_not_found(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.leads.delete(LeadId("nobody"))
            with pytest.raises(NotFound):
                uow.leads.delete(LeadId("nobody"), expected_version=1)

    def test_delete_of_a_lead_deleted_in_the_same_unit_of_work_raises_not_found(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("d1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("d1"))
            with pytest.raises(NotFound):
                uow.leads.delete(LeadId("d1"))

    def test_delete_removes_notes_activities_attachments_and_stakeholders(
        self, empty_store: LeadStore
    ) -> None:
        full = _full_lead("x1")
        assert full.notes
        assert full.activities
        assert full.stakeholders
        _store_leads(empty_store, full)
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("x1"))
            uow.commit()
        assert not _exists(empty_store, LeadId("x1"))
        _store_leads(empty_store, _lead("x1"))
        again = _read(empty_store, LeadId("x1"))
        assert (again.notes, again.activities, again.stakeholders) == ((), (), ())
        assert again.version == 1

    def test_delete_and_add_again_in_one_unit_of_work_leaves_only_the_new_lead(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _full_lead("x1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("x1"))
            with pytest.raises(NotFound):
                uow.leads.get(LeadId("x1"))
            added = uow.leads.add(_lead("x1", topic="Fresh start"))
            uow.commit()
        got = _read(empty_store, LeadId("x1"))
        assert got == added
        assert (got.notes, got.activities, got.stakeholders) == ((), (), ())

    # query: filters, order, pagination --------------------------------------------------------

    def test_the_population_is_stored_as_expected(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        _, stored = population
        assert _ids(stored) == _SORTED_POPULATION[LeadSort.ID]
        versions = {lead.id.value: lead.version for lead in stored}
        changed = set(_population_changes())
        assert versions == {key: 2 if key in changed else 1 for key in versions}

    @pytest.mark.parametrize(
        ("query", "expected"),
        [pytest.param(q, ids, id=label) for label, q, ids in _FILTER_CASES],
    )
    def test_query_filters(
        self, population: tuple[LeadStore, list[Lead]], query: LeadQuery, expected: list[str]
    ) -> None:
        store, stored = population
        reference = _reference(stored, query)
        assert sorted(_ids(reference)) == expected  # the case itself is right
        with store.unit_of_work() as uow:
            page = uow.leads.query(query, limit=MAX_PAGE_SIZE)
        assert _ids(page.items) == _ids(reference)
        assert list(page.items) == reference
        assert page.next_cursor is None

    @pytest.mark.parametrize(
        ("query", "expected"),
        [pytest.param(q, ids, id=label) for label, q, ids in _FILTER_CASES],
    )
    def test_count_counts_the_matching_leads(
        self, population: tuple[LeadStore, list[Lead]], query: LeadQuery, expected: list[str]
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert uow.leads.count(query) == len(expected)

    def test_count_of_an_empty_store_is_zero(self, empty_store: LeadStore) -> None:
        assert _count(empty_store) == 0
        assert _count(empty_store, Views.my_open_leads(_ALICE)) == 0

    @pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
    @pytest.mark.parametrize("sort", list(LeadSort), ids=[s.value for s in LeadSort])
    def test_query_sorts_with_ties_broken_by_id(
        self, population: tuple[LeadStore, list[Lead]], sort: LeadSort, descending: bool
    ) -> None:
        store, stored = population
        query = LeadQuery(sort=sort, descending=descending)
        expected = _population_order(sort, descending)
        assert _ids(_reference(stored, query)) == expected
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.query(query, limit=100).items) == expected

    @pytest.mark.parametrize("limit", [1, 2, 5, 12, 13])
    @pytest.mark.parametrize(
        "query",
        [
            pytest.param(LeadQuery(), id="created"),
            pytest.param(LeadQuery(sort=LeadSort.COMPANY, descending=True), id="company-desc"),
            pytest.param(LeadQuery(sort=LeadSort.TOPIC), id="topic"),
            pytest.param(Views.closed_leads(), id="closed-leads"),
            pytest.param(Views.my_open_leads(_ALICE), id="my-open-leads"),
            pytest.param(LeadQuery(sort=LeadSort.SCORE), id="score"),
            pytest.param(LeadQuery(sort=LeadSort.SCORE, descending=True), id="score-desc"),
            pytest.param(
                LeadQuery(states={_OPEN}, sort=LeadSort.SCORE, descending=True),
                id="open-by-score-desc",
            ),
            pytest.param(
                LeadQuery(owner_id="alice", score_min=Decimal("7.25"), sort=LeadSort.SCORE),
                id="owner-and-score-range-by-score",
            ),
        ],
    )
    def test_pages_never_repeat_or_skip_a_lead(
        self, population: tuple[LeadStore, list[Lead]], query: LeadQuery, limit: int
    ) -> None:
        store, stored = population
        expected = _reference(stored, query)
        with store.unit_of_work() as uow:
            pages = _pages(uow.leads, query, limit)
        seen = [lead for page in pages for lead in page.items]
        assert _ids(seen) == _ids(expected)
        assert seen == expected
        for page in pages[:-1]:
            assert len(page.items) == limit  # only the last page may be short
        assert pages[-1].next_cursor is None
        assert len(pages) == max(1, -(-len(expected) // limit))

    def test_pages_keep_their_place_while_other_leads_change(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, stored = population
        query = LeadQuery()  # created_at ascending: p01 p02 p04 | p03 p05 p06 | ...
        with store.unit_of_work() as uow:
            first = uow.leads.query(query, limit=3)
        assert _ids(first.items) == ["p01", "p02", "p04"]
        with store.unit_of_work() as uow:
            uow.leads.delete(LeadId("p02"))  # already seen
            uow.leads.delete(LeadId("p09"))  # not seen yet
            uow.leads.add(_lead("p00", at=_T0 - timedelta(days=1)))  # sorts before the cursor
            uow.leads.add(_lead("p99", at=_days(99)))  # sorts after everything
            uow.leads.save(_touch(uow.leads.get(LeadId("p05")), "changed"))
            uow.commit()
        seen = list(first.items)
        after = first.next_cursor
        while after is not None:
            with store.unit_of_work() as uow:
                page = uow.leads.query(query, limit=3, after=after)
            seen.extend(page.items)
            after = page.next_cursor
        seen_ids = _ids(seen)
        assert len(seen_ids) == len(set(seen_ids)), "a lead was repeated"
        unchanged = {lead.id.value for lead in stored} - {"p02", "p09", "p05"}
        assert unchanged <= set(seen_ids), "an unchanged lead was skipped"
        assert "p00" not in seen_ids
        assert seen_ids[-1] == "p99"

    @pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1, 10**9, True])
    def test_query_refuses_a_limit_outside_1_to_1000(
        self, population: tuple[LeadStore, list[Lead]], limit: int
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow, pytest.raises(InvalidValue):
            uow.leads.query(LeadQuery(), limit=limit)

    def test_query_accepts_the_largest_limit(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert len(uow.leads.query(LeadQuery(), limit=MAX_PAGE_SIZE).items) == 12
            assert len(uow.leads.query(LeadQuery(), limit=1).items) == 1

    def test_query_refuses_a_foreign_cursor(self, population: tuple[LeadStore, list[Lead]]) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            by_topic = uow.leads.query(LeadQuery(sort=LeadSort.TOPIC), limit=2).next_cursor
            descending = uow.leads.query(LeadQuery(descending=True), limit=2).next_cursor
            assert by_topic is not None
            assert descending is not None
            for cursor in (by_topic, descending, "not a cursor", "", "e30="):
                with pytest.raises(InvalidValue):
                    uow.leads.query(LeadQuery(), limit=2, after=cursor)

    def test_a_cursor_past_the_end_gives_an_empty_last_page(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        cursor = encode_cursor(LeadSort.ID, False, ("zzz", "zzz"))
        with store.unit_of_work() as uow:
            page = uow.leads.query(LeadQuery(sort=LeadSort.ID), limit=5, after=cursor)
        assert page == Page((), None)

    def test_query_of_an_empty_store_gives_one_empty_page(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            assert uow.leads.query(LeadQuery()) == Page((), None)

    # score: filter and sort -------------------------------------------------------------------

    @pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
    def test_score_pages_cross_from_scored_to_unscored_leads(
        self, population: tuple[LeadStore, list[Lead]], descending: bool
    ) -> None:
        store, _ = population
        query = LeadQuery(sort=LeadSort.SCORE, descending=descending)
        expected = _population_order(LeadSort.SCORE, descending)
        with store.unit_of_work() as uow:
            pages = _pages(uow.leads, query, 4)
            assert [_ids(page.items) for page in pages] == [
                expected[0:4],
                expected[4:8],
                expected[8:12],
            ]  # the third page starts with the last scored lead and ends with the unscored
            assert uow.leads.count(query) == 12
            assert _ids(list(uow.leads.stream(query, batch_size=5))) == expected

    def test_score_bounds_accept_ints_and_keep_decimals_exact(self, empty_store: LeadStore) -> None:
        query = LeadQuery(score_min=42, score_max=Decimal("42.000"))
        assert query.score_min == Decimal(42)
        assert isinstance(query.score_min, Decimal)
        _store_leads(
            empty_store,
            _scored(_lead("s1"), "42"),
            _scored(_lead("s2"), "42.0001"),
            _scored(_lead("s3"), "41.9999"),
            _lead("s4"),
        )
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(query).items) == ["s1"]
            assert uow.leads.count(LeadQuery(score_max=Decimal("41.99990"))) == 1
            assert uow.leads.count(LeadQuery(score_min=Decimal("42.0000999"))) == 1
            assert uow.leads.count(LeadQuery(score_min=Decimal("42.00010001"))) == 0

    @pytest.mark.parametrize("field", ["score_min", "score_max"])
    @pytest.mark.parametrize(
        "bound",
        [
            pytest.param(50.0, id="float"),
            pytest.param("50", id="string"),
            pytest.param(True, id="bool"),
            pytest.param(Decimal("NaN"), id="nan"),
            pytest.param(Decimal("sNaN"), id="signalling-nan"),
            pytest.param(Decimal("Infinity"), id="infinity"),
            pytest.param(Decimal("-Infinity"), id="minus-infinity"),
        ],
    )
    def test_a_score_bound_that_is_no_finite_decimal_is_refused(
        self, field: str, bound: object
    ) -> None:
        given_bound: dict[str, Any] = {field: bound}
        with pytest.raises(InvalidValue) as caught:
            LeadQuery(**given_bound)
        assert caught.value.field == field

    def test_a_score_range_with_min_above_max_is_refused(self) -> None:
        with pytest.raises(InvalidValue) as caught:
            LeadQuery(score_min=Decimal("50.01"), score_max=50)
        assert caught.value.field == "score_max"
        assert LeadQuery(score_min=50, score_max=Decimal("50.00")).score_max == 50

    def test_a_rescored_lead_moves_in_the_score_order_and_filter(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(
            empty_store, _scored(_lead("r1"), "10"), _scored(_lead("r2"), "20"), _lead("r3")
        )
        by_score = LeadQuery(sort=LeadSort.SCORE, descending=True)
        high = LeadQuery(score_min=15)
        with empty_store.unit_of_work() as uow:
            uow.leads.save(_scored(uow.leads.get(LeadId("r1")), "30", at=_days(1)))
            uow.leads.save(_scored(uow.leads.get(LeadId("r3")), "15", at=_days(1)))
            assert _ids(uow.leads.query(by_score).items) == ["r1", "r2", "r3"]  # own writes
            assert uow.leads.count(high) == 3
            lowest_high = LeadQuery(score_min=15, sort=LeadSort.SCORE)
            assert _ids(uow.leads.query(lowest_high, limit=2).items) == ["r3", "r2"]
            with empty_store.unit_of_work() as other:  # not yet committed
                if self.supports_concurrent_readers:
                    assert _ids(other.leads.query(by_score).items) == ["r2", "r1", "r3"]
                    assert other.leads.count(high) == 1
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(by_score).items) == ["r1", "r2", "r3"]
            assert uow.leads.count(high) == 3
            uow.leads.delete(LeadId("r2"))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(by_score).items) == ["r1", "r3"]
            assert _ids(uow.leads.query(LeadQuery(score_max=15)).items) == ["r3"]

    # stream -----------------------------------------------------------------------------------

    @pytest.mark.parametrize("batch_size", [1, 2, 5, 500, 5000])
    def test_stream_yields_every_lead_in_order(
        self, population: tuple[LeadStore, list[Lead]], batch_size: int
    ) -> None:
        store, stored = population
        with store.unit_of_work() as uow:
            everything = _streamed(uow.leads, None, batch_size)
            closed = _streamed(uow.leads, Views.closed_leads(), batch_size)
            by_name = list(
                uow.leads.stream(
                    LeadQuery(sort=LeadSort.LAST_NAME, descending=True), batch_size=batch_size
                )
            )
        assert _ids(everything) == _ids(_reference(stored, Views.all_leads()))
        assert everything == _reference(stored, Views.all_leads())
        assert _ids(closed) == ["p07", "p06", "p08"]
        assert _ids(by_name) == _SORTED_POPULATION[LeadSort.LAST_NAME][::-1]

    def test_stream_reads_in_batches_not_the_whole_store(self, empty_store: LeadStore) -> None:
        text = "x" * 1900
        _store_leads(
            empty_store,
            *(_lead(f"s{n:04}").update(LeadPatch(description=text), at=_days(1), by=_ALICE)
              for n in range(400)),
        )  # fmt: skip
        with empty_store.unit_of_work() as uow:
            was_tracing = tracemalloc.is_tracing()
            if not was_tracing:
                tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                everything = list(uow.leads.stream(batch_size=1000))
                whole = tracemalloc.get_traced_memory()[1] - base
                assert len(everything) == 400
                del everything
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                count = 0
                for _ in uow.leads.stream(batch_size=10):
                    count += 1
                streaming = tracemalloc.get_traced_memory()[1] - base
            finally:
                if not was_tracing:
                    tracemalloc.stop()
        assert count == 400
        assert streaming <= max(whole / 3, 512 * 1024), (
            f"stream(batch_size=10) over 400 leads peaked at {streaming:,} bytes, holding all "
            f"of them takes {whole:,}: it must read batch by batch, not the whole store"
        )

    def test_stream_of_an_empty_store_yields_nothing(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            assert list(uow.leads.stream()) == []

    @pytest.mark.parametrize("batch_size", [0, -1, True])
    def test_stream_refuses_a_batch_size_below_1(
        self, population: tuple[LeadStore, list[Lead]], batch_size: int
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow, pytest.raises(InvalidValue):
            list(uow.leads.stream(batch_size=batch_size))

    # views ------------------------------------------------------------------------------------

    def test_my_open_leads_lists_the_owners_open_leads_newest_first(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        expected = ["p12", "p11", "p10", "p09", "p02", "p01"]
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.query(Views.my_open_leads(_ALICE)).items) == expected
            assert _ids(uow.leads.query(Views.my_open_leads("alice")).items) == expected
            assert _ids(uow.leads.query(Views.my_open_leads(_CAROL)).items) == ["p05"]

    def test_closed_leads_lists_qualified_and_disqualified_most_recently_changed_first(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.query(Views.closed_leads()).items) == ["p07", "p06", "p08"]
            assert uow.leads.count(Views.closed_leads()) == 3

    def test_all_leads_and_open_leads(self, population: tuple[LeadStore, list[Lead]]) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert (
                _ids(uow.leads.query(Views.all_leads()).items)
                == _SORTED_POPULATION[LeadSort.CREATED_AT]
            )
            open_ids = _ids(uow.leads.query(Views.open_leads()).items)
        assert open_ids == ["p01", "p02", "p04", "p03", "p05", "p09", "p10", "p11", "p12"]

    def test_a_reactivated_lead_shows_again_in_my_open_leads(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("v1", owner=_BOB))
        mine = Views.my_open_leads(_BOB)

        def views() -> tuple[list[str], list[str]]:
            with empty_store.unit_of_work() as uow:
                return (
                    _ids(uow.leads.query(mine).items),
                    _ids(uow.leads.query(Views.closed_leads()).items),
                )

        assert views() == (["v1"], [])
        with empty_store.unit_of_work() as uow:
            lost = uow.leads.save(stored.disqualify(StatusReason.LOST, at=_days(1), by=_BOB))
            uow.commit()
        assert views() == ([], ["v1"])
        with empty_store.unit_of_work() as uow:
            uow.leads.save(lost.reactivate(at=_days(2), by=_BOB))
            uow.commit()
        assert views() == (["v1"], [])

    def test_an_assigned_lead_moves_to_its_new_owners_open_leads(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("v1", owner=_BOB))
        with empty_store.unit_of_work() as uow:
            uow.leads.save(stored.assign(_CAROL, at=_days(1), by=_BOB))
            assert _ids(uow.leads.query(Views.my_open_leads(_CAROL)).items) == ["v1"]
            assert _ids(uow.leads.query(Views.my_open_leads(_BOB)).items) == []
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(Views.my_open_leads(_CAROL)).items) == ["v1"]
            assert _ids(uow.leads.query(Views.my_open_leads(_BOB)).items) == []

    # round trip -------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "lead", [pytest.param(lead, id=label) for label, lead in _round_trip_cases()]
    )
    def test_a_lead_reads_back_equal_after_add_and_after_save(
        self, empty_store: LeadStore, lead: Lead
    ) -> None:
        (stored,) = _store_leads(empty_store, lead)
        got = _read(empty_store, lead.id)
        assert got == attrs.evolve(lead, version=1)
        assert got == stored
        changed = got.add_note("One more", at=_days(90), by=_CAROL, title="Later")
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(changed)
            uow.commit()
        assert _read(empty_store, lead.id) == saved == attrs.evolve(changed, version=2)

    def test_any_lead_reads_back_equal(self, make_store: StoreFactory) -> None:
        # An inner function, not @given on the method: every adapter's subclass runs this test,
        # and hypothesis refuses one property called from several classes.
        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(lead=leads())
        def reads_back_equal(lead: Lead) -> None:
            store = make_store()
            try:
                _store_leads(store, lead)
                assert _read(store, lead.id) == attrs.evolve(lead, version=1)
            finally:
                store.close()

        reads_back_equal()

    # unit of work -----------------------------------------------------------------------------

    def test_leaving_the_block_without_commit_rolls_back(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("u1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("u2"))
            uow.leads.save(_touch(stored, "not kept"))
            uow.accounts.add(_account(1, None))
        assert not _exists(empty_store, LeadId("u2"))
        assert _read(empty_store, LeadId("u1")) == stored
        with empty_store.unit_of_work() as uow:
            assert list(uow.accounts.list()) == []

    def test_an_exception_in_the_block_rolls_back_and_propagates(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("u1"))
        with pytest.raises(_Boom), empty_store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("u2"))
            uow.leads.delete(LeadId("u1"))
            raise _Boom
        assert not _exists(empty_store, LeadId("u2"))
        assert _read(empty_store, LeadId("u1")) == stored

    def test_rollback_forgets_the_changes_since_the_last_commit(
        self, empty_store: LeadStore
    ) -> None:
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("u1"))
            uow.commit()
            uow.leads.add(_lead("u2"))
            uow.rollback()
            assert list(uow.events) == []
            with pytest.raises(NotFound):
                uow.leads.get(LeadId("u2"))
            uow.leads.add(_lead("u3"))
            uow.commit()
        assert [_exists(empty_store, LeadId(k)) for k in ("u1", "u2", "u3")] == [
            True,
            False,
            True,
        ]

    def test_a_unit_of_work_may_commit_more_than_once(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            stored = uow.leads.add(_lead("u1"))
            uow.commit()
            uow.leads.save(_touch(stored, "second commit"))
            uow.commit()
        assert _read(empty_store, LeadId("u1")).version == 2

    def test_commit_stores_the_changes_of_every_repository(self, empty_store: LeadStore) -> None:
        lead_id = LeadId("q1")
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("q1"))
            account = uow.accounts.add(_account(1, lead_id))
            contact = uow.contacts.add(_contact(1, lead_id))
            opportunity = uow.opportunities.add(_opportunity(1, lead_id))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.leads.get(lead_id).version == 1
            assert uow.accounts.get(account.id) == account
            assert uow.contacts.get(contact.id) == contact
            assert uow.opportunities.get(opportunity.id) == opportunity

    def test_a_unit_of_work_reads_its_own_writes(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("w1", at=_T0), _lead("w2", at=_hours(1)))[:1]
        with empty_store.unit_of_work() as uow:
            added = uow.leads.add(_lead("w3", at=_hours(2), owner=_BOB))
            assert uow.leads.get(LeadId("w3")) == added
            saved = uow.leads.save(_touch(stored, "mine", at=_days(1)))
            assert uow.leads.get(LeadId("w1")) == saved
            uow.leads.delete(LeadId("w2"))
            with pytest.raises(NotFound):
                uow.leads.get(LeadId("w2"))
            assert uow.leads.count(LeadQuery()) == 2
            assert _ids(uow.leads.query(LeadQuery()).items) == ["w1", "w3"]
            assert list(uow.leads.stream(batch_size=1)) == [saved, added]
            assert _ids(uow.leads.query(Views.my_open_leads(_BOB)).items) == ["w3"]
            assert _ids(uow.leads.query(LeadQuery(sort=LeadSort.MODIFIED_AT)).items) == [
                "w3",
                "w1",
            ]
            account = uow.accounts.add(_account(1, LeadId("w3")))
            assert list(uow.accounts.list(originating_lead=LeadId("w3"))) == [account]

    @_lock_hint("supports_concurrent_readers")
    def test_uncommitted_writes_are_invisible_to_other_units_of_work(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_concurrent_readers")
        stored = _store_leads(empty_store, _lead("i1"), _lead("i2"))
        with empty_store.unit_of_work() as writer:
            writer.leads.add(_lead("i3"))
            writer.leads.save(_touch(stored[0], "uncommitted"))
            writer.leads.delete(LeadId("i2"))
            writer.accounts.add(_account(1, None))
            with empty_store.unit_of_work() as reader:
                with pytest.raises(NotFound):
                    reader.leads.get(LeadId("i3"))
                assert reader.leads.get(LeadId("i1")) == stored[0]
                assert reader.leads.get(LeadId("i2")) == stored[1]
                assert reader.leads.count(LeadQuery()) == 2
                assert _ids(reader.leads.query(LeadQuery()).items) == ["i1", "i2"]
                assert list(reader.accounts.list()) == []
            writer.commit()
        with empty_store.unit_of_work() as later:
            assert _ids(later.leads.query(LeadQuery(sort=LeadSort.ID)).items) == ["i1", "i3"]
            assert later.leads.get(LeadId("i1")).description == "uncommitted"

    def test_a_stale_save_stores_none_of_the_unit_of_works_changes(
        self, empty_store: LeadStore
    ) -> None:
        stale, other = _store_leads(empty_store, _lead("c1"), _lead("c2"))
        with empty_store.unit_of_work() as uow:
            uow.leads.save(_touch(uow.leads.get(LeadId("c1")), "theirs"))
            uow.commit()
        with pytest.raises(ConcurrencyConflict), empty_store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("c3"))
            uow.leads.save(_touch(other, "mine too"))
            uow.accounts.add(_account(1, None))
            uow.leads.save(_touch(stale, "mine"))
            uow.commit()
        assert not _exists(empty_store, LeadId("c3"))
        assert _read(empty_store, LeadId("c2")) == other
        assert _read(empty_store, LeadId("c1")).description == "theirs"
        with empty_store.unit_of_work() as uow:
            assert list(uow.accounts.list()) == []

    @_lock_hint("supports_concurrent_writers")
    def test_a_conflict_at_commit_stores_nothing(self, empty_store: LeadStore) -> None:
        self._require("supports_concurrent_writers")
        _, other = _store_leads(empty_store, _lead("c1"), _lead("c2"))
        with empty_store.unit_of_work() as first, empty_store.unit_of_work() as second:
            first.leads.add(_lead("c3"))
            first.leads.save(_touch(other, "first"))
            first.contacts.add(_contact(1, None))
            first.leads.save(_touch(first.leads.get(LeadId("c1")), "first"))
            second.leads.save(_touch(second.leads.get(LeadId("c1")), "second"))
            second.commit()
            with pytest.raises(ConcurrencyConflict) as caught:
                first.commit()
        _check_conflict(caught.value, "c1", expected=1, actual=2)
        assert not _exists(empty_store, LeadId("c3"))
        assert _read(empty_store, LeadId("c2")) == other
        got = _read(empty_store, LeadId("c1"))
        assert (got.version, got.description) == (2, "second")
        with empty_store.unit_of_work() as uow:
            assert list(uow.contacts.list()) == []

    @_lock_hint("supports_concurrent_writers")
    def test_of_two_units_of_work_saving_one_lead_only_the_first_commit_lands(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_concurrent_writers")
        _store_leads(empty_store, _lead("c1"))
        with empty_store.unit_of_work() as first, empty_store.unit_of_work() as second:
            mine = first.leads.get(LeadId("c1"))
            theirs = second.leads.get(LeadId("c1"))
            first.leads.save(_touch(mine, "first"))
            first.commit()
            with pytest.raises(ConcurrencyConflict) as caught:  # noqa: PT012
                second.leads.save(_touch(theirs, "second"))
                second.commit()
        _check_conflict(caught.value, "c1", expected=1, actual=2)
        assert _read(empty_store, LeadId("c1")).description == "first"

    @_lock_hint("supports_concurrent_writers")
    def test_two_units_of_work_adding_one_id_store_only_the_first(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_concurrent_writers")
        with empty_store.unit_of_work() as first, empty_store.unit_of_work() as second:
            first.leads.add(_lead("c1", topic="First"))
            second.leads.add(_lead("c1", topic="Second"))
            first.commit()
            with pytest.raises((ConcurrencyConflict, AlreadyExists)):
                second.commit()
        assert _read(empty_store, LeadId("c1")).topic == "First"

    # events -----------------------------------------------------------------------------------

    def test_events_reach_the_sink_once_in_order_only_after_commit(
        self, new_store: StoreFactory
    ) -> None:
        sink = _RecordingSink()
        store = new_store(event_sink=sink)
        created = _lead("e1").add_note("Hi", at=_hours(1), by=_ALICE)
        with store.unit_of_work() as uow:
            uow.leads.add(created)
            second = _lead("e2", at=_hours(2))
            rated = uow.leads.add(second).rate(Rating.HOT, at=_hours(3), by=_BOB)
            uow.leads.save(rated)
            expected = (*created.pending_events, *second.pending_events, *rated.pending_events)
            assert len(expected) == 4
            assert sink.deliveries == []
            assert tuple(uow.events) == expected
            uow.commit()
            assert sink.deliveries == [expected]
            assert list(uow.events) == []
        with store.unit_of_work() as uow:
            uow.leads.add(_lead("e3"))
            uow.rollback()
            uow.commit()
        with store.unit_of_work() as uow:
            uow.leads.add(_lead("e4"))
        assert sink.deliveries == [expected]

    @_lock_hint("supports_concurrent_readers")
    def test_the_sink_is_called_after_the_changes_are_stored(self, new_store: StoreFactory) -> None:
        self._require("supports_concurrent_readers")
        seen: list[bool] = []
        holder: list[LeadStore] = []
        sink = _RecordingSink(check=lambda _: seen.append(_exists(holder[0], LeadId("e1"))))
        store = new_store(event_sink=sink)
        holder.append(store)
        _store_leads(store, _lead("e1"))
        assert seen == [True]

    def test_a_sink_that_raises_does_not_undo_the_commit(self, new_store: StoreFactory) -> None:
        def explode(events: Sequence[LeadEvent]) -> None:
            raise _Boom

        store = new_store(event_sink=_RecordingSink(check=explode))
        with pytest.raises(_Boom):
            _store_leads(store, _lead("e1"))
        assert _exists(store, LeadId("e1"))

    def test_the_events_of_a_failed_unit_of_work_are_not_delivered(
        self, new_store: StoreFactory
    ) -> None:
        sink = _RecordingSink()
        store = new_store(event_sink=sink)
        (stale,) = _store_leads(store, _lead("e1"))
        with store.unit_of_work() as uow:
            uow.leads.save(_touch(stale, "theirs"))
            uow.commit()
        delivered = len(sink.deliveries)
        with pytest.raises(ConcurrencyConflict), store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("e2"))
            uow.leads.save(_touch(stale, "mine"))
            uow.commit()
        assert len(sink.deliveries) == delivered

    # closing ----------------------------------------------------------------------------------

    def test_a_closed_store_refuses_new_units_of_work(self, empty_store: LeadStore) -> None:
        _store_leads(empty_store, _lead("z1"))
        empty_store.close()
        with pytest.raises(StorageUnavailable), empty_store.unit_of_work() as uow:
            uow.leads.get(LeadId("z1"))

    def test_a_unit_of_work_open_when_the_store_closes_refuses_further_use(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("z1"))
        with pytest.raises(StorageUnavailable), empty_store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("z2"))
            empty_store.close()
            uow.commit()

    def test_a_unit_of_work_refuses_use_after_its_block(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("z1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.get(LeadId("z1"))
        uses: list[Callable[[], object]] = [
            lambda: uow.leads.get(LeadId("z1")),
            lambda: uow.leads.add(_lead("z2")),
            lambda: uow.leads.save(stored),
            lambda: uow.leads.delete(LeadId("z1")),
            lambda: uow.leads.query(LeadQuery()),
            lambda: uow.leads.count(LeadQuery()),
            lambda: list(uow.leads.stream()),
            lambda: uow.accounts.list(),
            lambda: uow.commit(),
        ]
        for use in uses:
            with pytest.raises(StorageUnavailable):
                use()
        assert _read(empty_store, LeadId("z1")) == stored

    # accounts, contacts, opportunities --------------------------------------------------------

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_get_of_an_unknown_id_raises_not_found(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        missing = kind.key(kind.make(999, None))
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            kind.repository(uow).get(missing)

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_add_returns_version_1_and_reads_back_equal(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        record = kind.make(1, LeadId("lead-1"))
        (stored,) = _store_records(empty_store, kind, record)
        assert stored == attrs.evolve(record, version=1)
        with empty_store.unit_of_work() as uow:
            assert kind.repository(uow).get(kind.key(record)) == stored

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_add_of_a_stored_id_raises_already_exists(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        record = kind.make(1, None)
        _store_records(empty_store, kind, record)
        with empty_store.unit_of_work() as uow, pytest.raises(AlreadyExists):
            kind.repository(uow).add(kind.change(record, "Another"))

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_add_with_a_version_is_refused(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(InvalidValue):
            kind.repository(uow).add(attrs.evolve(kind.make(1, None), version=3))

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_save_bumps_the_version(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        (stored,) = _store_records(empty_store, kind, kind.make(1, None))
        changed = kind.change(stored, "Changed")
        with empty_store.unit_of_work() as uow:
            saved = kind.repository(uow).save(changed)
            uow.commit()
        assert saved == attrs.evolve(changed, version=2)
        with empty_store.unit_of_work() as uow:
            assert kind.repository(uow).get(kind.key(stored)) == saved

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_save_of_a_stale_copy_raises_concurrency_conflict(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        with empty_store.unit_of_work() as uow:
            stale = kind.repository(uow).add(kind.make(1, None))
            kind.repository(uow).save(kind.change(stale, "Theirs"))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                kind.repository(uow).save(kind.change(stale, "Mine"))
            assert kind.repository(uow).get(kind.key(stale)).version == 2
        _check_conflict(caught.value, kind.key(stale), expected=1, actual=2)

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_save_of_an_unknown_record_raises_not_found(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            kind.repository(uow).save(attrs.evolve(kind.make(1, None), version=1))

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_delete_removes_it(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        first, second = _store_records(empty_store, kind, kind.make(1, None), kind.make(2, None))
        with empty_store.unit_of_work() as uow:
            kind.repository(uow).delete(kind.key(first))
            kind.repository(uow).delete(kind.key(second), expected_version=1)
            uow.commit()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                kind.repository(uow).get(kind.key(first))
            assert list(kind.repository(uow).list()) == []

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_delete_raises_not_found_or_concurrency_conflict(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        (stored,) = _store_records(empty_store, kind, kind.make(1, None))
        with empty_store.unit_of_work() as uow:
            repository = kind.repository(uow)
            with pytest.raises(NotFound):
                repository.delete(kind.key(kind.make(2, None)))
            with pytest.raises(ConcurrencyConflict) as caught:
                repository.delete(kind.key(stored), expected_version=7)
            uow.commit()
        _check_conflict(caught.value, kind.key(stored), expected=7, actual=1)
        with empty_store.unit_of_work() as uow:
            assert kind.repository(uow).get(kind.key(stored)) == stored

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_list_is_ordered_by_id_and_filters_by_originating_lead(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        one, two = LeadId("lead-1"), LeadId("lead-2")
        stored = _store_records(
            empty_store,
            kind,
            *(kind.make(n, lead) for n, lead in ((3, one), (1, two), (2, one), (4, None))),
        )
        by_id = sorted(stored, key=lambda r: str(kind.key(r)))
        with empty_store.unit_of_work() as uow:
            repository = kind.repository(uow)
            assert list(repository.list()) == by_id
            assert list(repository.list(originating_lead=one)) == [by_id[1], by_id[2]]
            assert list(repository.list(originating_lead=LeadId("none"))) == []
            added = repository.add(kind.make(0, one))
            repository.delete(kind.key(by_id[1]))
            assert list(repository.list(originating_lead=one)) == [added, by_id[2]]

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_changes_are_rolled_back_without_commit(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        (stored,) = _store_records(empty_store, kind, kind.make(1, None))
        with empty_store.unit_of_work() as uow:
            kind.repository(uow).save(kind.change(stored, "Lost"))
            kind.repository(uow).add(kind.make(2, None))
        with empty_store.unit_of_work() as uow:
            assert list(kind.repository(uow).list()) == [stored]

    # threads and persistence ------------------------------------------------------------------

    def test_concurrent_read_modify_save_cycles_lose_no_update(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_threads")
        keys = [LeadId(f"t{n}") for n in range(3)]
        _store_leads(empty_store, *(_lead(key.value) for key in keys))
        landed = dict.fromkeys(keys, 0)
        errors: list[BaseException] = []
        guard = threading.Lock()
        start = threading.Barrier(4)

        def work(seed: int) -> None:
            rng = random.Random(seed)
            try:
                start.wait()
                for cycle in range(25):
                    key = rng.choice(keys)
                    try:
                        with empty_store.unit_of_work() as uow:
                            lead = uow.leads.get(key)  # add one to the lead's counter
                            counted = int(lead.description or "0") + 1
                            uow.leads.save(_touch(lead, str(counted), at=_days(30 + cycle)))
                            uow.commit()
                    except ConcurrencyConflict:
                        continue
                    with guard:
                        landed[key] += 1
            except BaseException as e:  # report in the test thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert sum(landed.values()) > 0
        with empty_store.unit_of_work() as uow:
            stored = {key: uow.leads.get(key) for key in keys}
        # Contents, not only versions: a save that skipped the version check but bumped the
        # stored version would keep the counts right and lose the counters' increments.
        assert {key: int(lead.description or "0") for key, lead in stored.items()} == landed
        assert {key: lead.version - 1 for key, lead in stored.items()} == landed

    def test_committed_data_survives_reopening_the_store(self, empty_store: LeadStore) -> None:
        self._require("supports_reopen")
        full = _full_lead()
        _store_leads(empty_store, full, _lead("r2"))
        with empty_store.unit_of_work() as uow:
            uow.accounts.add(_account(1, full.id))
            uow.leads.save(_touch(uow.leads.get(LeadId("r2")), "saved"))
            uow.commit()
            uow.leads.add(_lead("r3"))  # never committed
        reopened = self.reopen_store(empty_store)
        try:
            with reopened.unit_of_work() as uow:
                assert uow.leads.get(full.id) == attrs.evolve(full, version=1)
                assert uow.leads.get(LeadId("r2")).version == 2
                with pytest.raises(NotFound):
                    uow.leads.get(LeadId("r3"))
                assert [a.id for a in uow.accounts.list()] == [AccountId("acc-001")]
                saved = uow.leads.save(_touch(uow.leads.get(LeadId("r2")), "again"))
                uow.commit()
            assert saved.version == 3
        finally:
            reopened.close()

    # the state machine ------------------------------------------------------------------------

    def test_random_operations_match_a_dict_model(self, make_store: StoreFactory) -> None:
        run_state_machine_as_test(make_store_machine(make_store), settings=self._machine_settings())

    def _machine_settings(self) -> settings:
        """The state machine's settings from the class attributes: ``derandomize`` gives the
        same programs on every run (and keeps no example database); ``fast`` runs a third of
        the examples and does not shrink a failure (it reports the first failing program as
        found: shrinking against a slow store may take minutes)."""
        options: dict[str, Any] = {}
        examples = self.state_machine_examples
        if self.state_machine_derandomize:
            options.update(derandomize=True, database=None)
        if self.state_machine_fast:
            examples = max(1, examples // 3)
            options["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]
        return settings(
            max_examples=examples,
            stateful_step_count=self.state_machine_steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            **options,
        )


# ---------------------------------------------------------------------------------------------
# The state machine

_MACHINE_IDS: Final = tuple(LeadId(f"m{n}") for n in range(4))
_MACHINE_OWNERS: Final = (_ALICE, _BOB, _CAROL)


@attrs.frozen
class MachineLead:
    """What the state machine varies in a new lead: few values, so that ties and matches
    happen. Public so that a printed failing program runs as it is: ``build`` makes the lead.
    Raises nothing."""

    topic: str
    last: str
    company: str
    owner: UserRef
    rating: Rating | None
    source: LeadSource | None
    minutes: int
    score: Decimal | None

    def build(self, lead_id: LeadId) -> Lead:
        """The lead with this id and these values, as stored by the machine."""
        patch = LeadPatch(
            topic=self.topic,
            name=PersonName(last=self.last),
            company=self.company,
            rating=self.rating,
            source=self.source,
        )
        at = _T0 + timedelta(minutes=self.minutes)
        lead = Lead.create(lead_id, patch, at=at, by=self.owner, owner=self.owner)
        return _scored(lead, self.score, at=at)


_MACHINE_SCORES: Final = (Decimal(0), Decimal("42.5"), Decimal("42.50"), Decimal(85), Decimal(100))
"""Scores the machine records: ties written two ways, the ends of the scale."""
_MACHINE_BOUNDS: Final = (Decimal(0), Decimal("42.49"), Decimal("42.5"), Decimal(85), Decimal(100))


_specs: Final = st.builds(
    MachineLead,
    topic=st.sampled_from(["Solar", "solar", "Wind", "Heat pumps"]),
    last=st.sampled_from(["Lind", "lind", "Berg", "Åström"]),
    company=st.sampled_from(["", "Contoso", "contoso", "Straße AG"]),
    owner=st.sampled_from(_MACHINE_OWNERS),
    rating=st.none() | st.sampled_from(Rating),
    source=st.none() | st.sampled_from([LeadSource.WEB, LeadSource.PARTNER]),
    minutes=st.integers(0, 3),
    score=st.none() | st.sampled_from(_MACHINE_SCORES),
)


def _sometimes(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    """``strategy`` a third of the time, else None (so that queries often match something)."""
    return st.one_of(st.none(), st.none(), strategy)


def _score_range(bounds: tuple[Decimal | None, Decimal | None]) -> dict[str, Decimal | None]:
    low, high = bounds
    if low is not None and high is not None and low > high:
        low, high = high, low
    return {"score_min": low, "score_max": high}


_queries: Final = st.builds(
    lambda score_range, **fields: LeadQuery(**fields, **score_range),
    states=_sometimes(st.frozensets(st.sampled_from(LeadState), min_size=1)),
    owner_id=_sometimes(st.sampled_from([u.id for u in _MACHINE_OWNERS])),
    ratings=_sometimes(st.frozensets(st.sampled_from(Rating), min_size=1)),
    text=_sometimes(st.sampled_from(["sol", "LIND", "contoso", "strasse", "ström"])),
    score_range=st.tuples(
        _sometimes(st.sampled_from(_MACHINE_BOUNDS)), _sometimes(st.sampled_from(_MACHINE_BOUNDS))
    ).map(_score_range),
    sort=st.sampled_from(LeadSort),
    descending=st.booleans(),
)


def _change(lead: Lead, choice: int, at: datetime) -> Lead:
    """Apply one of a few commands that are valid for ``lead`` in its state."""
    by = _MACHINE_OWNERS[choice % len(_MACHINE_OWNERS)]
    rescore = _MACHINE_SCORES[choice % len(_MACHINE_SCORES)]
    if lead.is_closed:
        if choice % 3 == 2:
            return _scored(lead, rescore, at=at)  # scores are recorded on closed leads too
        if choice % 2:
            return lead.reactivate(at=at, by=by)
        return lead.add_note(f"note {choice}", at=at, by=by)
    commands: list[Callable[[], Lead]] = [
        lambda: lead.update(LeadPatch(topic=f"Topic {choice}"), at=at, by=by),
        lambda: lead.assign(by, at=at, by=by),
        lambda: lead.rate(list(Rating)[choice % 3], at=at, by=by),
        lambda: lead.disqualify(StatusReason.LOST, at=at, by=by),
        lambda: lead.mark_qualified(at=at, by=by),
        lambda: lead.mark_contacted(at=at, by=by),
        lambda: lead.add_note(f"note {choice}", at=at, by=by),
        lambda: _scored(lead, rescore, at=at),
    ]
    return commands[choice % len(commands)]()


class LeadStoreMachine(RuleBasedStateMachine):
    """Random operations on a store, checked against a dict model after every step.

    It starts from two to four committed leads. One unit of work is open at a time (opened
    when needed). ``committed`` models the store, ``working`` what the open unit of work sees
    and ``events`` what it has collected; ``copies`` holds leads handed out earlier, fresh or
    stale, for saves. Use :func:`make_store_machine` to bind a store factory.
    """

    make_store: ClassVar[StoreFactory]
    copies = Bundle("copies")

    def __init__(self) -> None:
        super().__init__()
        self.store = type(self).make_store()
        self.uow: UnitOfWork | None = None
        self.committed: dict[LeadId, Lead] = {}
        self.working: dict[LeadId, Lead] = {}
        self.events: list[LeadEvent] = []  # what the open unit of work must have collected
        self.clock = _T0 + timedelta(days=1)

    # Helpers ----------------------------------------------------------------------------------

    def _unit(self) -> UnitOfWork:
        if self.uow is None:
            self.uow = self.store.unit_of_work().__enter__()
        return self.uow

    def _leave(self) -> None:
        if self.uow is not None:
            uow, self.uow = self.uow, None
            uow.__exit__(None, None, None)

    def _tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    # Rules ------------------------------------------------------------------------------------

    @initialize(target=copies, specs=st.lists(_specs, min_size=2, max_size=len(_MACHINE_IDS)))
    def seed(self, specs: list[MachineLead]) -> Any:
        """Start from a few committed leads, so that most steps meet stored ones."""
        repository = self._unit().leads
        keys = _MACHINE_IDS[: len(specs)]
        stored = [repository.add(spec.build(key)) for key, spec in zip(keys, specs, strict=True)]
        self._unit().commit()
        self._leave()
        self.working = {lead.id: lead for lead in stored}
        self.committed = dict(self.working)
        return multiple(*stored)

    @rule(target=copies, lead_id=st.sampled_from(_MACHINE_IDS), spec=_specs, free=st.booleans())
    def add(self, lead_id: LeadId, spec: MachineLead, free: bool) -> Any:
        """Add a lead; with ``free``, under an id not in use (often one deleted earlier)."""
        unused = [key for key in _MACHINE_IDS if key not in self.working]
        if free and unused:
            lead_id = unused[_MACHINE_IDS.index(lead_id) % len(unused)]
        lead = spec.build(lead_id)
        repository = self._unit().leads
        if lead_id in self.working:
            event("add: id taken")
            with pytest.raises(AlreadyExists):
                repository.add(lead)
            return multiple()
        event("add: stored")
        stored = repository.add(lead)
        self.events.extend(lead.pending_events)
        assert stored == attrs.evolve(lead, version=1)
        assert stored.pending_events == ()
        self.working[lead_id] = stored
        return stored

    @rule(target=copies, lead_id=st.sampled_from(_MACHINE_IDS))
    def get(self, lead_id: LeadId) -> Any:
        repository = self._unit().leads
        if lead_id not in self.working:
            with pytest.raises(NotFound):
                repository.get(lead_id)
            return multiple()
        got = repository.get(lead_id)
        assert got == self.working[lead_id]
        return got

    @rule(target=copies, lead_id=st.sampled_from(_MACHINE_IDS), choice=st.integers(0, 20))
    def edit(self, lead_id: LeadId, choice: int) -> Any:
        """Read, change and save: the everyday cycle, which must land."""
        if lead_id not in self.working:
            return multiple()
        return self._save(self._unit().leads.get(lead_id), choice)

    @rule(target=copies, copy=copies, choice=st.integers(0, 20))
    def save(self, copy: Lead, choice: int) -> Any:
        """Save a copy handed out earlier: fresh, stale, or of a deleted lead."""
        return self._save(copy, choice)

    def _save(self, copy: Lead, choice: int) -> Any:
        changed = _change(copy, choice, self._tick())
        repository = self._unit().leads
        current = self.working.get(copy.id)
        if current is None:
            event("save: deleted lead")
            with pytest.raises(NotFound):
                repository.save(changed)
            return multiple()
        if current.version != copy.version:
            event("save: stale copy")
            with pytest.raises(ConcurrencyConflict) as caught:
                repository.save(changed)
            _check_conflict(caught.value, copy.id, copy.version, current.version)
            return multiple()
        event("save: stored")
        saved = repository.save(changed)
        self.events.extend(changed.pending_events)
        assert saved == attrs.evolve(changed, version=copy.version + 1)
        assert saved.pending_events == ()
        self.working[copy.id] = saved
        return saved

    @rule(
        lead_id=st.sampled_from(_MACHINE_IDS),
        mode=st.sampled_from(["any version", "stored version", "stale version"]),
    )
    def delete(self, lead_id: LeadId, mode: str) -> None:
        repository = self._unit().leads
        current = self.working.get(lead_id)
        stored_version = 1 if current is None else current.version
        expected = {
            "any version": None,
            "stored version": stored_version,
            "stale version": stored_version + 1,
        }[mode]
        event(f"delete: {'missing' if current is None else mode}")
        if current is None:
            with pytest.raises(NotFound):
                repository.delete(lead_id, expected_version=expected)
        elif expected is not None and expected != current.version:
            with pytest.raises(ConcurrencyConflict) as caught:
                repository.delete(lead_id, expected_version=expected)
            _check_conflict(caught.value, lead_id, expected, current.version)
        else:
            repository.delete(lead_id, expected_version=expected)
            del self.working[lead_id]

    @rule(query=_queries, limit=st.integers(1, 4), batch_size=st.integers(1, 3))
    def query(self, query: LeadQuery, limit: int, batch_size: int) -> None:
        """Every page, the count and the stream of a random query agree with the model."""
        repository = self._unit().leads
        expected = _reference(list(self.working.values()), query)
        event(f"query: {min(len(expected), 3)}+ matches")
        pages = _pages(repository, query, limit)
        seen = [lead for page in pages for lead in page.items]
        assert _ids(seen) == _ids(expected)
        assert seen == expected
        assert all(len(page.items) == limit for page in pages[:-1])
        assert repository.count(query) == len(expected)
        streamed = _streamed(repository, query, batch_size)
        assert _ids(streamed) == _ids(expected)
        assert streamed == expected

    @rule(leave=st.booleans())
    def commit(self, leave: bool) -> None:
        self._unit().commit()
        self.committed = dict(self.working)
        self.events.clear()
        if leave:
            self._leave()

    @rule(explicitly=st.booleans())
    def rollback(self, explicitly: bool) -> None:
        if explicitly:
            self._unit().rollback()
        else:
            self._leave()
        self.working = dict(self.committed)
        self.events.clear()

    # Invariants -------------------------------------------------------------------------------

    @invariant()
    def store_matches_the_model(self) -> None:
        repository = self._unit().leads
        expected = _reference(list(self.working.values()), LeadQuery())
        streamed = _streamed(repository, None, 4)
        assert _ids(streamed) == _ids(expected)
        assert streamed == expected  # leads and versions
        assert repository.count(LeadQuery()) == len(self.working)
        assert list(self._unit().events) == self.events

    def teardown(self) -> None:
        try:
            self._leave()
        finally:
            self.store.close()


def make_store_machine(make_store: StoreFactory) -> type[LeadStoreMachine]:
    """A :class:`LeadStoreMachine` over stores made by ``make_store`` (one per example).

    Run it with ``hypothesis.stateful.run_state_machine_as_test(machine)`` or expose
    ``machine.TestCase`` to unittest/pytest.
    """

    class BoundLeadStoreMachine(LeadStoreMachine):
        pass

    BoundLeadStoreMachine.make_store = staticmethod(make_store)
    return BoundLeadStoreMachine
