"""Ports: the protocols storage adapters implement, and the query values they accept.

The docstrings are the contract; ``leadkit.testing.contract`` checks every promise made
here. Adapters raise only :class:`RepositoryError` subclasses (and :class:`InvalidValue` for a
malformed query or cursor).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from types import TracebackType
from typing import Any, Final, Generic, Protocol, Self, TypeVar

import attrs

from leadkit.errors import ConcurrencyConflict, InvalidValue
from leadkit.events import LeadEvent
from leadkit.fields import LeadSource, Rating
from leadkit.lead import Lead
from leadkit.merging import MergeRecord
from leadkit.record_merging import RecordMergeRecord
from leadkit.records import Account, Contact, Opportunity
from leadkit.shards import Shard
from leadkit.status import LeadState
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    MergeId,
    OpportunityId,
    RecordId,
    UserRef,
    require_aware,
)

__all__ = [
    "KEY_TYPES",
    "MAX_PAGE_SIZE",
    "MAX_SCAN_SIZE",
    "AccountRepository",
    "BulkLeadRepository",
    "ContactRepository",
    "EventSink",
    "IdFactory",
    "IdempotencyRepository",
    "LeadQuery",
    "LeadRepository",
    "LeadSort",
    "LeadStore",
    "MergeRepository",
    "OpportunityRepository",
    "Outbox",
    "OutboxBacklog",
    "OutboxEvent",
    "Page",
    "RecordMergeRepository",
    "RecordRepository",
    "StoredResponse",
    "UnitOfWork",
    "Views",
    "check_batch_size",
    "check_bulk_saves",
    "check_claim",
    "check_expected_version",
    "check_key",
    "check_limit",
    "check_scan_limit",
    "checked_record",
    "claimable",
    "decode_cursor",
    "encode_cursor",
    "fold_search",
    "score_sort_value",
    "search_key",
    "search_texts",
    "sort_key",
    "stored_copy",
    "utc_text",
]

MAX_PAGE_SIZE: Final = 1000


class LeadSort(Enum):
    """What a lead query is ordered by; ties are broken by id, so the order is total.

    ``descending`` reverses the whole order, ties included. Text compares case-folded, by code
    point; datetimes compare as instants; ``SCORE`` compares ``Lead.score`` numerically
    (``50`` and ``50.0`` tie). The one exception to "reverses the whole order": leads without
    a score come last in both directions, among themselves by id in the query's direction
    (the order CRMs show, best first, unscored at the end). See :func:`sort_key`.
    """

    CREATED_AT = "created_at"
    MODIFIED_AT = "modified_at"
    TOPIC = "topic"
    COMPANY = "company"
    LAST_NAME = "last_name"
    ID = "id"
    SCORE = "score"


def _frozen_set(value: Any) -> frozenset[Any] | None:
    return None if value is None else frozenset(value)


def _owner_set(value: Any) -> frozenset[str] | None:
    """``value`` as a set of user ids. Raises InvalidValue naming ``owner_ids`` for a single
    text (a set of its letters is never meant) or anything that is not an iterable of texts."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValue("owner_ids", value, "must be a set of user ids")
    owners = frozenset(value)
    if not all(isinstance(owner, str) for owner in owners):
        raise InvalidValue("owner_ids", sorted(map(repr, owners)), "must be user ids (texts)")
    return owners


def _aware_or_none(field: str, value: datetime | None) -> None:
    if value is not None:
        require_aware(field, value)


def _score_bound(field: str, value: object) -> Decimal | None:
    """``value`` as a finite Decimal (an int is exact, so it is accepted and converted).

    Raises InvalidValue naming ``field`` for a float (binary, not the decimal the user wrote:
    ``Decimal(0.1)`` is not 0.1), a bool, a string or any other type, NaN or an infinity.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidValue(field, value, "must be a Decimal or an int (not a float)")
    bound = Decimal(value)
    if not bound.is_finite():
        raise InvalidValue(field, value, "must be a finite number")
    return bound


def _score_min(value: Decimal | int | None) -> Decimal | None:
    return _score_bound("score_min", value)


def _score_max(value: Decimal | int | None) -> Decimal | None:
    return _score_bound("score_max", value)


@attrs.frozen(kw_only=True)
class LeadQuery:
    """Filters, all ANDed; ``None`` means "any". Text matches name, company and e-mail,
    case-insensitively, as a substring. Date ranges are half-open: ``from <= x < to``.

    ``owner_ids`` keeps the leads whose owner is one of the ids (an empty set matches
    nothing): the owner set an authoriser's scope gives (:mod:`leadkit.access`), which the
    adapters put in their query (an SQL ``IN`` list) and never apply after reading a page.

    ``score_min`` / ``score_max`` bound ``Lead.score`` inclusively: ``min <= score <= max``,
    compared exactly as Decimals. A lead without a score never matches a query with a score
    bound. The bounds take a Decimal or an int (stored as a Decimal); floats are refused, as
    :class:`~leadkit.values.Money` refuses them.

    Raises InvalidValue for a naive datetime or one out of range in UTC, an empty text filter
    or one holding NUL, a field of the wrong type (``sort="x"``, ``owner_ids="alice"``), an
    inverted range
    (``score_min`` above ``score_max`` included), or a score bound that is not a Decimal or an
    int, or is NaN or infinite (naming the field).
    """

    states: frozenset[LeadState] | None = attrs.field(default=None, converter=_frozen_set)
    reason_codes: frozenset[int] | None = attrs.field(default=None, converter=_frozen_set)
    owner_id: str | None = None
    owner_ids: frozenset[str] | None = attrs.field(default=None, converter=_owner_set)
    ratings: frozenset[Rating] | None = attrs.field(default=None, converter=_frozen_set)
    sources: frozenset[LeadSource] | None = attrs.field(default=None, converter=_frozen_set)
    created_from: datetime | None = None
    created_to: datetime | None = None
    modified_from: datetime | None = None
    modified_to: datetime | None = None
    text: str | None = None
    score_min: Decimal | None = attrs.field(default=None, converter=_score_min)
    score_max: Decimal | None = attrs.field(default=None, converter=_score_max)
    sort: LeadSort = LeadSort.CREATED_AT
    descending: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("created_from", "created_to", "modified_from", "modified_to"):
            _aware_or_none(name, getattr(self, name))
        for lo, hi in (("created_from", "created_to"), ("modified_from", "modified_to")):
            low, high = getattr(self, lo), getattr(self, hi)
            if low is not None and high is not None and low > high:
                raise InvalidValue(hi, high, f"must not be before {lo}")
        if self.text is not None and not self.text.strip():
            raise InvalidValue("text", self.text, "an empty text filter matches nothing useful")
        if self.text is not None and "\x00" in self.text:
            # SQL adapters and Python's ``in`` disagree about NUL: refused for every adapter.
            raise InvalidValue("text", self.text, "must not hold a NUL character")
        if (
            self.score_min is not None
            and self.score_max is not None
            and self.score_min > self.score_max
        ):
            raise InvalidValue("score_max", self.score_max, "must not be below score_min")

    def matches(self, lead: Lead) -> bool:
        """True when ``lead`` passes every filter (the reference semantics adapters follow)."""
        if self.states is not None and lead.state not in self.states:
            return False
        if self.reason_codes is not None and lead.reason.code not in self.reason_codes:
            return False
        if self.owner_id is not None and lead.owner.id != self.owner_id:
            return False
        if self.owner_ids is not None and lead.owner.id not in self.owner_ids:
            return False
        if self.ratings is not None and lead.rating not in self.ratings:
            return False
        if self.sources is not None and lead.source not in self.sources:
            return False
        if not _in_range(lead.created_at, self.created_from, self.created_to):
            return False
        if not _in_range(lead.modified_at, self.modified_from, self.modified_to):
            return False
        if (self.score_min is not None or self.score_max is not None) and not _score_in_range(
            lead.score, self.score_min, self.score_max
        ):
            return False
        if self.text is not None:
            return fold_search(self.text) in search_key(lead)
        return True


def search_texts(lead: Lead) -> tuple[str, str, str]:
    """The case-folded texts a text filter searches: full name, company and e-mail."""
    return (
        lead.name.full.casefold(),
        lead.company.casefold(),
        lead.email.text.casefold() if lead.email else "",
    )


_SPELLED_OUT: Final = str.maketrans(
    {"ß": "ss", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "đ": "d", "Đ": "d",
     "œ": "oe", "Œ": "oe", "\u0131": "i"}
)  # fmt: skip
# German and Scandinavian spellings without umlauts: "ue" for "ü", "oe" for "ö", "ae" for "ä".
_UMLAUT_SPELLING: Final = re.compile(r"(?<=[aou])e")
_SPACES: Final = re.compile(r"\s+")


def fold_search(text: str) -> str:
    """Text as a text filter compares it: case-folded, accents dropped, ``ß``/``ł``/``ø``/``æ``
    spelled out, the umlaut spellings ``ue``/``oe``/``ae`` read as ``u``/``o``/``a`` and every
    run of white space one space, so ``mueller``, ``muller`` and ``Müller`` fold alike, and
    ``Ostrom`` and ``Öström``. Both adapters compare folded texts."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED_OUT))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _SPACES.sub(" ", _UMLAUT_SPELLING.sub("", text)).strip()


def search_key(lead: Lead) -> str:
    """What a text filter searches: the folded (:func:`fold_search`) full name, company and
    e-mail, one per line (a folded filter has no line break, so it matches within one)."""
    return "\n".join(fold_search(text) for text in search_texts(lead))


def _in_range(value: datetime, low: datetime | None, high: datetime | None) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def _score_in_range(score: Decimal | None, low: Decimal | None, high: Decimal | None) -> bool:
    if score is None or score.is_nan():
        return False
    return (low is None or score >= low) and (high is None or score <= high)


_NO_SCORE_ASCENDING: Final = "~"
_NO_SCORE_DESCENDING: Final = ""
_DIGITS_COMPLEMENT: Final = str.maketrans("0123456789", "9876543210")


def _exponent_text(exponent: int) -> str:
    """Order-preserving, prefix-free digits for any int: ``1`` + length + digits for
    ``n >= 0``, ``0`` + the nines' complement of that for ``n < 0`` (a larger magnitude then
    sorts lower). Every text of one length class has the same width, so none is a prefix of
    another and the complement reverses the order exactly."""
    digits = str(abs(exponent))
    body = f"{len(digits):02}{digits}"
    return f"1{body}" if exponent >= 0 else "0" + body.translate(_DIGITS_COMPLEMENT)


def score_sort_value(score: Decimal | None, *, descending: bool = False) -> str:
    """The text a :attr:`LeadSort.SCORE` sort orders on: for any two scores, the texts
    compare (by code point, as SQL's ``C``/``BINARY`` collations do) exactly as the Decimals
    do, and equal Decimals (``50``, ``50.0``, ``5E+1``) give equal texts.

    The text is a sign letter (``L`` minus infinity, ``M`` negative, ``N`` zero, ``P``
    positive, ``Q`` plus infinity), the decimal exponent of the leading digit in an
    order-preserving form and the significant digits (for a negative number both in nines'
    complement and followed by ``~``, so that a longer magnitude sorts lower). It is exact for
    every finite Decimal, however many digits. ``None`` (no score) gives ``~``, after every
    score, or with ``descending`` the empty text, before every score, so that unscored leads
    come last in both directions.

    Raises InvalidValue for NaN, which has no place in an order.
    """
    if score is None:
        return _NO_SCORE_DESCENDING if descending else _NO_SCORE_ASCENDING
    if score.is_nan():
        raise InvalidValue("score", score, "NaN has no place in an order")
    if score.is_infinite():
        return "L" if score.is_signed() else "Q"
    sign, digit_tuple, exponent = score.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    if not digits:
        return "N"
    # ``adjusted`` is the power of ten of the leading digit: 50 -> 1, 7.5 -> 0, 0.05 -> -2.
    adjusted = exponent + len(digit_tuple) - 1
    body = _exponent_text(adjusted) + digits
    if sign:
        return "M" + body.translate(_DIGITS_COMPLEMENT) + "~"
    return "P" + body


def sort_key(lead: Lead, sort: LeadSort, *, descending: bool = False) -> tuple[Any, str]:
    """The (value, id) pair a query sorts on; datetimes as UTC ISO text, text case-folded,
    the score as :func:`score_sort_value` text.

    A query's order is ``sorted(leads, key=lambda x: sort_key(x, sort, descending=d),
    reverse=d)``. ``descending`` changes only the value of a lead without a score (so that
    it sorts last either way); every other key ignores it. Raises InvalidValue for a NaN
    score under :attr:`LeadSort.SCORE`.
    """
    value: Any
    match sort:
        case LeadSort.CREATED_AT:
            value = _utc_text(lead.created_at)
        case LeadSort.MODIFIED_AT:
            value = _utc_text(lead.modified_at)
        case LeadSort.TOPIC:
            value = lead.topic.casefold()
        case LeadSort.COMPANY:
            value = lead.company.casefold()
        case LeadSort.LAST_NAME:
            value = lead.name.last.casefold()
        case LeadSort.ID:
            value = lead.id.value
        case LeadSort.SCORE:
            value = score_sort_value(lead.score, descending=descending)
    return value, lead.id.value


def utc_text(value: datetime) -> str:
    """The UTC ISO text of an aware datetime, ``2024-05-01T09:30:00.000000``: what the time
    sorts of :func:`sort_key` compare, and what an adapter storing text compares the date
    bounds of a :class:`LeadQuery` (``created_from`` ...) against. Fixed width, so a plain
    text comparison orders it like the instants. Raises nothing for an aware datetime."""
    # isoformat pads the year to four digits (strftime's %Y does not below year 1000), so the
    # text sorts like the instant.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


_utc_text = utc_text


KEY_TYPES: Final[dict[str, type[RecordId]]] = {
    "lead": LeadId,
    "account": AccountId,
    "contact": ContactId,
    "opportunity": OpportunityId,
    "merge": MergeId,
    "record_merge": MergeId,
}
"""The ``kind`` strings a store gives :class:`~leadkit.errors.NotFound` and
:class:`~leadkit.errors.AlreadyExists`, each with the id type of its records."""


def check_key(kind: str, key: object) -> None:
    """Refuse a key that is not the id type of ``kind`` (a :data:`KEY_TYPES` name).

    Raises InvalidValue naming ``{kind}_id`` for anything else, such as a plain ``str``
    (``LeadId("x")``, not ``"x"``); KeyError for an unknown ``kind``.
    """
    wanted = KEY_TYPES[kind]
    if type(key) is not wanted and not isinstance(key, wanted):
        raise InvalidValue(
            f"{kind}_id", key, f"must be a {wanted.__name__}, not {type(key).__name__}"
        )


def stored_copy(lead: Lead, version: int) -> Lead:
    """What a store returns and reads back for ``lead`` stored at ``version``: the same lead
    with that version and no pending events (``add`` gives version 1, ``save`` the copy's
    version + 1). Raises nothing."""
    return attrs.evolve(lead, version=version, pending_events=())


def encode_cursor(sort: LeadSort, descending: bool, key: tuple[Any, str]) -> str:
    """An opaque keyset cursor: the sort and the last (value, id) seen."""
    raw = json.dumps([sort.value, descending, key[0], key[1]], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, sort: LeadSort, descending: bool) -> tuple[Any, str]:
    """Read a cursor made by :func:`encode_cursor` for the same sort.

    Raises InvalidValue naming ``after`` for a malformed cursor or one made for another sort.
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        name, desc, value, last_id = data
    except Exception:
        raise InvalidValue("after", cursor, "not a cursor returned by this query") from None
    if name != sort.value or desc != descending:
        raise InvalidValue("after", cursor, "the cursor belongs to a query with another order")
    return value, last_id


@attrs.frozen
class Page:
    """One page of a query: the leads and the cursor of the next page (None at the end)."""

    items: tuple[Lead, ...]
    next_cursor: str | None


class Views:
    """The named views of Dynamics 365 as query presets."""

    @staticmethod
    def my_open_leads(owner: UserRef | str) -> LeadQuery:
        """Open leads owned by ``owner``, newest first."""
        owner_id = owner.id if isinstance(owner, UserRef) else owner
        return LeadQuery(states={LeadState.OPEN}, owner_id=owner_id, descending=True)

    @staticmethod
    def closed_leads() -> LeadQuery:
        """Qualified and Disqualified leads, most recently changed first."""
        return LeadQuery(
            states={LeadState.QUALIFIED, LeadState.DISQUALIFIED},
            sort=LeadSort.MODIFIED_AT,
            descending=True,
        )

    @staticmethod
    def all_leads() -> LeadQuery:
        """Every lead, oldest first."""
        return LeadQuery()

    @staticmethod
    def open_leads() -> LeadQuery:
        """Every Open lead, oldest first."""
        return LeadQuery(states={LeadState.OPEN})


class LeadRepository(Protocol):
    """Leads in a store, reached through a :class:`UnitOfWork`.

    Writes are visible to later reads in the same unit of work and to nobody else until it
    commits. A lead's ``version`` is the stored version: 0 for a lead never stored.
    """

    def get(self, lead_id: LeadId) -> Lead:
        """The stored lead (no pending events). Raises NotFound."""
        ...

    def add(self, lead: Lead) -> Lead:
        """Store a new lead; its pending events go to the unit of work.

        Returns the stored copy (version 1, no pending events). Raises AlreadyExists when the
        id is taken, InvalidValue when ``lead.version`` is not 0.
        """
        ...

    def save(self, lead: Lead, *, expected_version: int | None = None) -> Lead:
        """Store ``lead`` if the stored version equals ``lead.version`` — and, when given,
        ``expected_version`` (the version a client last saw: an HTTP ``If-Match``).

        Returns the stored copy (version + 1, no pending events); its pending events go to the
        unit of work. Raises ConcurrencyConflict if the stored version differs (with the
        expected and actual versions), NotFound if there is none, InvalidValue for an
        ``expected_version`` that is not an integer.
        """
        ...

    def delete(self, lead_id: LeadId, *, expected_version: int | None = None) -> None:
        """Remove the lead with its notes, activities, attachment metadata and stakeholder
        links. Raises NotFound, or ConcurrencyConflict when ``expected_version`` is given and
        differs from the stored version."""
        ...

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        """One page of leads matching ``query`` in its order; pass ``page.next_cursor`` as
        ``after`` for the next. Keyset pagination: a page never repeats or skips a lead that
        stays unchanged between calls. Every page but the last holds ``limit`` leads; the last
        one has ``next_cursor`` None. Raises InvalidValue for ``limit`` outside 1..1000 or a
        foreign cursor."""
        ...

    def count(self, query: LeadQuery) -> int:
        """How many leads match ``query``."""
        ...

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        """Every matching lead in the query's order, read ``batch_size`` at a time so that a
        scan never holds the whole store in memory. Raises InvalidValue for a batch size
        below 1."""
        ...


class BulkLeadRepository(LeadRepository, Protocol):
    """A :class:`LeadRepository` that also reads and writes many leads per call: what the bulk
    paths (rescoring, mass edit and assignment, bulk qualify and disqualify) use when a store
    offers it (both leadkit adapters do; ``leadkit.bulk`` falls back to one call per lead on a
    store without it). Same promises as ``get``/``save``, one round trip per batch."""

    def get_many(self, lead_ids: Iterable[LeadId]) -> dict[LeadId, Lead]:
        """The stored leads among ``lead_ids`` by id (an id with no lead is left out; one
        listed twice is read once). Raises InvalidValue for a key that is not a LeadId."""
        ...

    def save_many(self, leads: Sequence[Lead]) -> tuple[Lead, ...]:
        """``save`` of every lead, in order, all or none: each stored version must equal the
        lead's ``version``. Returns the stored copies (version + 1, no pending events); the
        pending events go to the unit of work in order.

        Raises ConcurrencyConflict or NotFound for the first lead that fails the check, and
        then stores none of them (the unit of work's earlier changes stay); InvalidValue for
        a value that is not a Lead or a lead listed twice.
        """
        ...

    def scan(
        self,
        query: LeadQuery | None = None,
        *,
        limit: int = 500,
        after: str | None = None,
        shard: Shard | None = None,
    ) -> Page:
        """The next ``limit`` matching leads in the query's order from ``after`` on, of which
        only those whose id is in ``shard`` are returned (and decoded): the page of a sharded
        bulk job, resumable in another unit of work. ``next_cursor`` continues after the last
        lead looked at, in the shard or not; it is None when no lead is left.

        Raises InvalidValue for a ``limit`` below 1 or above 100,000 or a foreign cursor.
        """
        ...


MAX_SCAN_SIZE: Final = 100_000
"""The most leads one :meth:`BulkLeadRepository.scan` call looks at."""


def check_scan_limit(limit: int) -> None:
    """Raise InvalidValue naming ``limit`` unless 1 <= limit <= MAX_SCAN_SIZE."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SCAN_SIZE:
        raise InvalidValue("limit", limit, f"must be an integer from 1 to {MAX_SCAN_SIZE}")


def check_bulk_saves(leads: Sequence[Lead]) -> None:
    """For adapters' ``save_many``: refuse anything but leads (InvalidValue naming ``lead``)
    and a lead listed twice (InvalidValue naming ``leads``)."""
    seen: set[LeadId] = set()
    for lead in leads:
        checked_record("lead", lead)
        if lead.id in seen:
            raise InvalidValue("leads", lead.id.value, "lists the lead twice")
        seen.add(lead.id)


R = TypeVar("R")
K = TypeVar("K", contravariant=True)
K2 = TypeVar("K2")


class RecordRepository(Protocol, Generic[R, K]):
    """Accounts, contacts or opportunities: the same promises as :class:`LeadRepository`'s
    get/add/save/delete, keyed by the record's id, plus a scan."""

    def get(self, record_id: K) -> R:
        """The stored record. Raises NotFound."""
        ...

    def add(self, record: R) -> R:
        """Store a new record; returns it with version 1. Raises AlreadyExists, or
        InvalidValue when its version is not 0."""
        ...

    def save(self, record: R) -> R:
        """Store a changed record if the stored version equals its version; returns it with
        version + 1. Raises ConcurrencyConflict or NotFound."""
        ...

    def delete(self, record_id: K, *, expected_version: int | None = None) -> None:
        """Remove the record. Raises NotFound or ConcurrencyConflict."""
        ...

    def list(self, *, originating_lead: LeadId | None = None) -> Sequence[R]:
        """Every stored record (those created from ``originating_lead`` when given), by id."""
        ...


AccountRepository = RecordRepository[Account, AccountId]
ContactRepository = RecordRepository[Contact, ContactId]
OpportunityRepository = RecordRepository[Opportunity, OpportunityId]
MergeRepository = RecordRepository[MergeRecord, MergeId]
"""Stored merges (``uow.merges`` on stores that keep them: both leadkit adapters do;
``list(originating_lead=master)`` lists a master's merges). Optional for third-party
adapters: ``leadkit.services.merge`` raises ConfigurationError on a store without it."""
RecordMergeRepository = RecordRepository[RecordMergeRecord, MergeId]
"""Stored contact and account merges (``uow.record_merges``; both leadkit adapters keep
them). Optional for third-party adapters: ``leadkit.record_merge_service`` raises
ConfigurationError on a store without it."""


class EventSink(Protocol):
    """Receives the events of a committed unit of work, in the order they were recorded."""

    def __call__(self, events: Sequence[LeadEvent]) -> None: ...


class UnitOfWork(Protocol):
    """A context manager over the repositories: ``commit()`` stores every change or none.

    Leaving the block without ``commit()`` (or by an exception) rolls back. After commit the
    collected events go to the store's event sink, if any; a sink that raises does not undo
    the commit (the error propagates). Raises StorageUnavailable when the store fails and
    ConcurrencyConflict when a change raced another commit. Once its block is left, the unit
    of work is closed: every later use raises StorageUnavailable.
    """

    leads: LeadRepository
    accounts: AccountRepository
    contacts: ContactRepository
    opportunities: OpportunityRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Store every change made in this unit of work, or none of them."""
        ...

    def rollback(self) -> None:
        """Forget every change made since the last commit."""
        ...

    @property
    def events(self) -> Sequence[LeadEvent]:
        """The events collected since the last commit or rollback."""
        ...


class LeadStore(Protocol):
    """An adapter: hands out units of work over one store."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work. Raises StorageUnavailable if the store cannot be used."""
        ...

    def close(self) -> None:
        """Release the store's resources; later use raises StorageUnavailable."""
        ...


class IdFactory(Protocol):
    """Makes new ids (uuid4 text, a database sequence ...); the core never invents one."""

    def __call__(self) -> str: ...


_KINDS: Final[Mapping[str, tuple[type[RecordId], type]]] = {
    "lead": (LeadId, Lead),
    "account": (AccountId, Account),
    "contact": (ContactId, Contact),
    "opportunity": (OpportunityId, Opportunity),
}


def checked_record(kind: str, value: object) -> None:
    """For adapters, at the boundary of ``add`` and ``save``: refuse anything but a ``kind``
    record (InvalidValue naming ``kind``), so nothing of another type is ever stored."""
    if kind not in _KINDS:
        return
    record_type = _KINDS[kind][1]
    if not isinstance(value, record_type):
        raise InvalidValue(kind, type(value).__name__, f"must be a {record_type.__name__}")


def check_expected_version(
    lead: Lead, expected_version: int | None, stored_version: Callable[[], int]
) -> None:
    """For adapters' ``save(lead, expected_version=...)``: return when ``expected_version`` is
    None or equals ``lead.version`` (the adapter's own check against the stored version
    follows); otherwise raise ConcurrencyConflict with the version the store holds
    (``stored_version()``, which raises NotFound when there is none). Raises InvalidValue
    for an ``expected_version`` that is not an integer."""
    if expected_version is None:
        return
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise InvalidValue("expected_version", expected_version, "must be an integer version")
    if expected_version == lead.version:
        return
    stored = stored_version()
    raise ConcurrencyConflict(
        lead.id, expected_version if stored != expected_version else lead.version, stored
    )


def check_limit(limit: int) -> None:
    """Raise InvalidValue unless 1 <= limit <= MAX_PAGE_SIZE."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidValue("limit", limit, f"must be an integer from 1 to {MAX_PAGE_SIZE}")


def check_batch_size(batch_size: int) -> None:
    """Raise InvalidValue unless batch_size >= 1."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidValue("batch_size", batch_size, "must be a positive integer")


# ---------------------------------------------------------------------------------------------
# Idempotency keys


@attrs.frozen
class StoredResponse:
    """What an idempotency key remembers: the request's fingerprint and the JSON text of the
    first result, kept until ``expires_at``.

    Raises InvalidValue for an empty key or a naive or inverted time.
    """

    key: str
    request_hash: str
    result: str
    created_at: datetime
    expires_at: datetime

    def __attrs_post_init__(self) -> None:
        if not self.key:
            raise InvalidValue("key", self.key, "an idempotency key must not be empty")
        require_aware("created_at", self.created_at)
        require_aware("expires_at", self.expires_at)
        if self.expires_at <= self.created_at:
            raise InvalidValue("expires_at", self.expires_at, "must be after created_at")

    def live_at(self, at: datetime) -> bool:
        """True while the key holds at ``at`` (``at`` before ``expires_at``)."""
        return at < self.expires_at


class IdempotencyRepository(Protocol):
    """The idempotency keys of a store, reached through a unit of work as
    ``uow.idempotency``: written in the same transaction as the change they guard, so a key
    is stored exactly when its change is.

    A store that keeps no keys leaves the attribute out; the services then refuse a key with
    ConfigurationError.
    """

    def get(self, key: str) -> StoredResponse | None:
        """The stored response of ``key`` (expired or not; this unit of work's own puts
        included), None when there is none."""
        ...

    def put(self, response: StoredResponse) -> None:
        """Remember ``response``; it replaces a stored response of the same key that has
        expired by ``response.created_at``.

        Raises AlreadyExists when the key holds a live response (in the store or put earlier
        in this unit of work); a concurrent unit of work storing the same key makes the later
        commit fail (AlreadyExists or ConcurrencyConflict) and store nothing.
        """
        ...

    def prune(self, *, now: datetime) -> int:
        """Delete every response expired by ``now`` (``expires_at <= now``); returns how many.
        Raises InvalidValue for a naive ``now``."""
        ...


# ---------------------------------------------------------------------------------------------
# The transactional outbox


@attrs.frozen
class OutboxEvent:
    """One committed event in the outbox.

    ``event_id`` is stable (the same on every delivery: consumers de-duplicate on it; at most
    40 characters; the shipped stores use a random UUID per commit and the event's index),
    ``position`` orders the outbox (commit order; a later commit touching the same lead
    always has higher positions), ``payload`` is the event as the converter's JSON text
    (``make_converter().loads(payload, LeadEvent)`` reads it back), ``occurred_at`` the
    event's own time and ``attempts`` how many times it has been claimed (this claim included).
    """

    event_id: str
    position: int
    lead_id: LeadId
    type: str
    payload: str
    occurred_at: datetime
    attempts: int = 1


@attrs.frozen
class OutboxBacklog:
    """How the outbox stands: events waiting (``pending``, of which ``leased`` are claimed
    under a live lease), ``delivered`` ones not yet purged, and the oldest waiting one's
    position and time (None when nothing waits)."""

    pending: int
    leased: int
    delivered: int
    oldest_position: int | None = None
    oldest_occurred_at: datetime | None = None


class Outbox(Protocol):
    """The store's outbox (``store.outbox``): every event a unit of work commits is written
    in the same transaction (or under the same lock) as the changes that raised it.

    Publishers ``claim`` events, deliver them and ``ack`` them: delivery is at least once
    (a publisher that dies before ``ack`` leaves its events to come back when the lease
    ends; consumers de-duplicate on ``event_id``). ``at`` arguments default to the system
    clock (UTC); pass them to run on another clock.
    """

    def claim(
        self, limit: int, *, lease: timedelta, at: datetime | None = None
    ) -> tuple[OutboxEvent, ...]:
        """Lease up to ``limit`` undelivered events, oldest first, for ``lease``.

        Hands out only events not under a live lease, and of a lead only while none of its
        earlier undelivered events is under another live lease: one publisher holds a lead's
        next events, so per-lead order survives several publishers. Claims by several
        publishers (threads or processes) never hand out the same event under a live lease.
        Raises InvalidValue for ``limit`` outside 1..1000, a lease that is not positive or a
        naive ``at``; StorageUnavailable when the store fails.
        """
        ...

    def ack(self, event_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark the events delivered (at ``at``); returns how many were waiting. Unknown or
        already delivered ids are ignored. Raises InvalidValue for a naive ``at``."""
        ...

    def purge(self, *, delivered_before: datetime) -> int:
        """Delete the events delivered before ``delivered_before``; returns how many.
        Undelivered events are never purged. Raises InvalidValue for a naive datetime."""
        ...

    def backlog(self, *, at: datetime | None = None) -> OutboxBacklog:
        """Counts of waiting, leased and delivered events (leases judged at ``at``)."""
        ...

    def pending(self, limit: int = 50) -> tuple[OutboxEvent, ...]:
        """The first ``limit`` undelivered events in order, without claiming them.
        Raises InvalidValue for ``limit`` outside 1..1000."""
        ...


def check_claim(limit: int, lease: timedelta, at: datetime) -> None:
    """Validate a claim's arguments. Raises InvalidValue naming ``limit``, ``lease`` or ``at``."""
    check_limit(limit)
    if not isinstance(lease, timedelta) or lease <= timedelta(0):
        raise InvalidValue("lease", lease, "must be a positive timedelta")
    require_aware("at", at)


def claimable(
    waiting: Iterable[tuple[K2, str, datetime | None]], limit: int, at: datetime
) -> list[K2]:
    """The claim rule every adapter follows, over the undelivered events in outbox order as
    ``(key, lead id, leased_until)``: the keys of up to ``limit`` events to hand out.

    An event under a live lease (``leased_until`` after ``at``) is skipped and blocks its
    lead: no later event of that lead is handed out until the leased one is acked or its
    lease ends. Stops reading ``waiting`` once ``limit`` keys are chosen.
    """
    chosen: list[K2] = []
    blocked: set[str] = set()
    for key, lead_id, leased_until in waiting:
        if leased_until is not None and leased_until > at:
            blocked.add(lead_id)
        elif lead_id not in blocked:
            chosen.append(key)
            if len(chosen) >= limit:
                break
    return chosen
