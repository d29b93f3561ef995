"""The query values the ports accept: :class:`LeadQuery` and :class:`LeadSort`, the search
folding and sort keys every adapter orders by, keyset cursors, :class:`Page` and the named
:class:`Views`.

Part of the ports (:mod:`leadkit.ports` re-exports every name here).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import attrs

from leadkit.errors import InvalidValue
from leadkit.fields import LeadSource, Rating
from leadkit.lead import Lead
from leadkit.status import LeadState
from leadkit.values import UserRef, require_aware

__all__ = [
    "MAX_PAGE_SIZE",
    "LeadQuery",
    "LeadSort",
    "Page",
    "Views",
    "check_limit",
    "decode_cursor",
    "encode_cursor",
    "fold_search",
    "score_sort_value",
    "search_key",
    "search_texts",
    "sort_key",
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


class _Combining(dict[int, int | None]):
    """A ``str.translate`` table that drops combining characters, filled as characters are
    seen (at most 4,096 kept): ``text.translate`` then runs in C, not a loop per character."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if len(self) < 4096:
            self[code] = kept
        return kept


_DROP_COMBINING: Final = _Combining()


def fold_search(text: str) -> str:
    """Text as a text filter compares it: case-folded, accents dropped, ``ß``/``ł``/``ø``/``æ``
    spelled out, the umlaut spellings ``ue``/``oe``/``ae`` read as ``u``/``o``/``a`` and every
    run of white space one space, so ``mueller``, ``muller`` and ``Müller`` fold alike, and
    ``Ostrom`` and ``Öström``. Both adapters compare folded texts."""
    if text.isascii():  # case-folding is lower-casing; nothing to spell out or decompose
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED_OUT))
        text = text.translate(_DROP_COMBINING).casefold()
    return _SPACES.sub(" ", _UMLAUT_SPELLING.sub("", text)).strip()


def search_key(lead: Lead, texts: tuple[str, str, str] | None = None) -> str:
    """What a text filter searches: the folded (:func:`fold_search`) full name, company and
    e-mail, one per line (a folded filter has no line break, so it matches within one).
    ``texts`` is ``search_texts(lead)`` when the caller has it already."""
    return "\n".join(map(fold_search, texts or search_texts(lead)))


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


def check_limit(limit: int) -> None:
    """Raise InvalidValue unless 1 <= limit <= MAX_PAGE_SIZE."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidValue("limit", limit, f"must be an integer from 1 to {MAX_PAGE_SIZE}")


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
