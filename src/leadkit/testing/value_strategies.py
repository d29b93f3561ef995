"""Hypothesis strategies for leadkit's values: ids and users, contact details (e-mail,
phone, money, names, addresses, URLs, aware date-times), custom fields, the timeline (notes,
activities, stakeholders), status reasons and scores.

Part of :mod:`leadkit.testing.strategies`, which re-exports every public name here.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Final, ParamSpec, TypeVar, cast

import phonenumbers
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from leadkit.fields import CustomFields, CustomValue, OptionValue, Rating
from leadkit.scoring.result import (
    MAX_STARS,
    Blend,
    Contribution,
    Explanation,
    FeatureContribution,
    ManualScore,
    PredictiveExplanation,
    Score,
    ScoreSource,
)
from leadkit.status import STANDARD_REASONS, LeadState, StatusReason
from leadkit.timeline import Activity, ActivityKind, Attachment, Note, Stakeholder, StakeholderRole
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
    RecordId,
    Url,
    UserRef,
    currency_exponent,
)

__all__ = [
    "CURRENCIES",
    "account_ids",
    "activities",
    "addresses",
    "aware_datetimes",
    "contact_ids",
    "criterion_ids",
    "custom_fields",
    "custom_values",
    "email_addresses",
    "lead_ids",
    "manual_scores",
    "money",
    "notes",
    "notes_attachments",
    "opportunity_ids",
    "option_values",
    "person_names",
    "phone_numbers",
    "scores",
    "stakeholder_roles",
    "stakeholders",
    "status_reasons",
    "urls",
    "user_refs",
]

T = TypeVar("T")
P = ParamSpec("P")
IdT = TypeVar("IdT", bound=RecordId)


def _cached(build: Callable[P, T]) -> Callable[P, T]:
    """Memoise a strategy factory: strategies are immutable, and building (and validating) a
    strategy tree once instead of on every draw keeps generation fast."""
    return cast(Callable[P, T], cache(build))


# ---------------------------------------------------------------------------------------------
# Alphabets (plain strings: building them creates no strategy)

_NORDIC: Final = "åäöÅÄÖ"
_POLISH: Final = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"
_GERMAN: Final = "üßÜ"
_LETTERS: Final = string.ascii_letters + _NORDIC + _POLISH + _GERMAN
_NAME_CHARS: Final = _LETTERS + " -'"
_TEXT_CHARS: Final = _LETTERS + string.digits + " .,;:!?-'&()/#@+%\""
_ID_CHARS: Final = string.ascii_letters + string.digits + "._:-"
_HEX: Final = "0123456789abcdef"

CURRENCIES: Final = ("SEK", "EUR", "PLN", "USD", "GBP", "NOK", "DKK", "CHF", "JPY", "KWD", "XAU")
"""The currencies :func:`money` draws from: 0, 2 and 3 minor digits and one without (gold)."""

_OFFSETS_MINUTES: Final = (0, 60, 120, -300, 330, -210, 545, 840, -720)
_TLDS: Final = ("se", "pl", "de", "com", "org", "net", "eu", "io")
_IDN_LABELS: Final = ("företag", "łódź", "müller", "göteborg", "kraków")
_SALUTATIONS: Final = ("", "Dr.", "Mr.", "Ms.", "Herr", "Frau", "Pan", "Pani", "Fru", "Prof.")
_SUFFIXES: Final = ("", "Jr.", "Sr.", "II", "III", "PhD")
_MEDIA_TYPES: Final = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
_EXTENSIONS: Final = ("pdf", "png", "jpg", "txt", "docx", "xlsx")
_PHONE_REGIONS: Final = ("SE", "PL", "DE", "US", "GB", "NO", "DK", "FI", "FR", "CH", "AT", "NL")
_START: Final = datetime(2000, 1, 1)
_END: Final = datetime(2099, 12, 31, 23, 59, 59)
_HISTORY_END: Final = datetime(2090, 1, 1)


@_cached
def _text(
    min_size: int = 0, max_size: int = 40, alphabet: str = _TEXT_CHARS
) -> SearchStrategy[str]:
    """Stripped text of ``min_size``..``max_size`` characters from ``alphabet``."""
    stripped = st.text(alphabet, min_size=min_size, max_size=max_size).map(str.strip)
    return stripped.filter(lambda s: len(s) >= min_size) if min_size else stripped


def _optional(strategy: SearchStrategy[T]) -> SearchStrategy[T | None]:
    return st.none() | strategy


# ---------------------------------------------------------------------------------------------
# Identities and users


@_cached
def _record_ids(kind: type[IdT]) -> SearchStrategy[IdT]:
    return st.builds(
        lambda head, tail: kind(head + tail),
        st.sampled_from(string.ascii_letters + string.digits),
        st.text(_ID_CHARS, max_size=30),
    )


@_cached
def lead_ids() -> SearchStrategy[LeadId]:
    """Valid lead ids (letters, digits and ``. _ : -``)."""
    return _record_ids(LeadId)


@_cached
def account_ids() -> SearchStrategy[AccountId]:
    """Valid account ids."""
    return _record_ids(AccountId)


@_cached
def contact_ids() -> SearchStrategy[ContactId]:
    """Valid contact ids."""
    return _record_ids(ContactId)


@_cached
def opportunity_ids() -> SearchStrategy[OpportunityId]:
    """Valid opportunity ids."""
    return _record_ids(OpportunityId)


@_cached
def user_refs() -> SearchStrategy[UserRef]:
    """Users with an id and an optional display name."""
    return st.builds(
        UserRef,
        id=_text(1, 30, _LETTERS + string.digits + ".@_-"),
        name=_text(0, 40, _NAME_CHARS),
    )


# ---------------------------------------------------------------------------------------------
# Contact details


@_cached
@st.composite
def email_addresses(draw: st.DrawFn) -> EmailAddress:
    """Syntactically valid addresses of at most 100 characters, some with non-ASCII local
    parts or internationalised domains."""
    atoms = draw(
        st.lists(st.text(_LETTERS + string.digits, min_size=1, max_size=10), min_size=1, max_size=3)
    )
    local = ".".join(atoms)
    if draw(st.booleans()):
        local += "+" + draw(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6))
    labels = draw(
        st.lists(
            st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
            | st.sampled_from(_IDN_LABELS),
            min_size=1,
            max_size=2,
        )
    )
    domain = ".".join([*labels, draw(st.sampled_from(_TLDS))])
    return EmailAddress(f"{local}@{domain}")


@cache
def _phone_bases() -> tuple[tuple[str, phonenumbers.PhoneNumber], ...]:
    """Example fixed-line and mobile numbers of the sampled regions (computed on first use)."""
    found: list[tuple[str, phonenumbers.PhoneNumber]] = []
    for region in _PHONE_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.append((region, example))
    return tuple(found)


@_cached
@st.composite
def phone_numbers(draw: st.DrawFn) -> PhoneNumber:
    """Possible numbers of a dozen regions, written in E.164, international or national form.

    Each is a region's example number with its last four digits varied (same length, so always
    a possible number); national forms carry their region.
    """
    region, example = draw(st.sampled_from(_phone_bases()))
    digits = str(example.national_number)
    varied = digits[:-4] + draw(st.text(string.digits, min_size=4, max_size=4))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int(varied),
        italian_leading_zero=example.italian_leading_zero,
    )
    style = draw(st.sampled_from(("e164", "international", "national")))
    if style == "e164":
        return PhoneNumber(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if style == "international":
        raw = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return PhoneNumber(raw, draw(st.sampled_from((None, region))))
    raw = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return PhoneNumber(raw, draw(st.sampled_from((region, region.lower()))))


@_cached
@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    """Amounts below 10^12 in magnitude in ``currency`` (default: one of :data:`CURRENCIES`),
    with at most the currency's minor digits. Raises InvalidValue for an unknown currency."""
    code = currency.strip().upper() if currency is not None else draw(st.sampled_from(CURRENCIES))
    exponent = currency_exponent(code)
    places = exponent if exponent is not None else draw(st.integers(0, 6))
    amount = draw(
        st.decimals(
            min_value=-(10**12),
            max_value=10**12,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )
    return Money(amount, code)


@_cached
@st.composite
def person_names(
    draw: st.DrawFn, *, last_required: bool = False, first_required: bool = False
) -> PersonName:
    """Names whose parts fit the D365 lengths (first 30, middle 20, last 40 characters), so the
    full name stays under 160."""
    return PersonName(
        first=draw(_text(1 if first_required else 0, 30, _NAME_CHARS)),
        last=draw(_text(1 if last_required else 0, 40, _NAME_CHARS)),
        middle=draw(st.just("") | _text(0, 20, _NAME_CHARS)),
        salutation=draw(st.sampled_from(_SALUTATIONS)),
        suffix=draw(st.sampled_from(_SUFFIXES)),
    )


@_cached
def addresses() -> SearchStrategy[Address]:
    """Postal addresses, empty parts included, with plausible postal codes."""
    postal = st.just("") | st.from_regex(r"[0-9A-Z]{1,5}( ?[0-9A-Z\-]{1,4})?", fullmatch=True)
    return st.builds(
        Address,
        line1=_text(0, 60),
        line2=st.just("") | _text(0, 40),
        line3=st.just("") | _text(0, 40),
        city=_text(0, 40, _NAME_CHARS),
        state_or_province=_text(0, 30, _NAME_CHARS),
        postal_code=postal,
        country=st.sampled_from(("", "Sverige", "Polska", "Deutschland", "Österreich"))
        | _text(0, 30, _NAME_CHARS),
    )


@_cached
@st.composite
def urls(draw: st.DrawFn) -> Url:
    """http(s) addresses with a lower-case host, an optional port and path; sometimes a bare
    host (``www.x.se``), which :class:`Url` completes with ``https://``."""
    labels = draw(
        st.lists(
            st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12),
            min_size=1,
            max_size=3,
        )
    )
    host = ".".join([*labels, draw(st.sampled_from(_TLDS))])
    if draw(st.integers(0, 4)) == 0:
        return Url(host)
    scheme = draw(st.sampled_from(("http", "https")))
    port = draw(st.sampled_from(("", "", ":8080", ":443")))
    segments = draw(
        st.lists(
            st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=10),
            max_size=3,
        )
    )
    path = "".join("/" + s for s in segments)
    return Url(f"{scheme}://{host}{port}{path}")


@_cached
def _zones() -> SearchStrategy[timezone]:
    return st.sampled_from([UTC, *(timezone(timedelta(minutes=m)) for m in _OFFSETS_MINUTES if m)])


@_cached
def aware_datetimes(
    min_value: datetime = _START, max_value: datetime = _END
) -> SearchStrategy[datetime]:
    """Timezone-aware date-times between 2000 and 2100 in UTC or a fixed offset."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=_zones())


# ---------------------------------------------------------------------------------------------
# Custom fields, timeline


@_cached
def option_values() -> SearchStrategy[OptionValue]:
    """Host option values: an integer code and an optional label."""
    return st.builds(OptionValue, code=st.integers(-(2**31), 2**31), label=_text(0, 40))


@_cached
def custom_values() -> SearchStrategy[CustomValue]:
    """Values of all seven custom field kinds: text, integer, decimal, boolean, date,
    datetime and option."""
    return st.one_of(
        _text(0, 60),
        st.integers(-(2**63), 2**63),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.dates(),
        aware_datetimes(),
        option_values(),
    )


@_cached
def custom_fields() -> SearchStrategy[CustomFields]:
    """Up to five custom fields of any kind."""
    names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
    return st.dictionaries(names, custom_values(), max_size=5).map(CustomFields)


@_cached
def notes_attachments() -> SearchStrategy[Attachment]:
    """Attachment metadata: a plain file name, a media type, a size and a sha256."""
    file_names = st.builds(
        lambda stem, ext: f"{stem}.{ext}",
        _text(1, 40, _LETTERS + string.digits + " -_()"),
        st.sampled_from(_EXTENSIONS),
    )
    return st.builds(
        Attachment,
        file_name=file_names,
        media_type=st.sampled_from(_MEDIA_TYPES),
        size=st.integers(0, 2**40),
        sha256=st.text(_HEX, min_size=64, max_size=64),
    )


@_cached
def stakeholder_roles() -> SearchStrategy[StakeholderRole]:
    """The preset roles and custom ones."""
    presets = st.sampled_from(
        (
            StakeholderRole.STAKEHOLDER,
            StakeholderRole.DECISION_MAKER,
            StakeholderRole.TECHNICAL_BUYER,
            StakeholderRole.ECONOMIC_BUYER,
            StakeholderRole.INFLUENCER,
        )
    )
    return presets | _text(1, 40, _NAME_CHARS).map(StakeholderRole)


@_cached
def stakeholders() -> SearchStrategy[Stakeholder]:
    """A contact with a role."""
    return st.builds(Stakeholder, contact_id=contact_ids(), role=stakeholder_roles())


@_cached
@st.composite
def _note_content(draw: st.DrawFn) -> tuple[str, str, Attachment | None]:
    """(text, title, attachment) with at least one of them set."""
    which = draw(st.sampled_from(("text", "title", "attachment")))
    text = draw(_text(1 if which == "text" else 0, 200))
    title = draw(_text(1 if which == "title" else 0, 40))
    if which == "attachment":
        return text, title, draw(notes_attachments())
    return text, title, draw(_optional(notes_attachments()))


@_cached
@st.composite
def notes(draw: st.DrawFn) -> Note:
    """Notes with text, a title or an attachment (at least one), possibly edited."""
    text, title, attachment = draw(_note_content())
    at = draw(aware_datetimes())
    edited = draw(st.booleans())
    return Note(
        id=draw(st.integers(1, 10_000)),
        text=text,
        at=at,
        by=draw(user_refs()),
        title=title,
        attachment=attachment,
        edited_at=at + draw(_gaps()) if edited else None,
        edited_by=draw(user_refs()) if edited else None,
    )


@_cached
@st.composite
def activities(draw: st.DrawFn) -> Activity:
    """Phone calls, e-mails, meetings and tasks, open or done."""
    at = draw(aware_datetimes(max_value=_HISTORY_END))
    return Activity(
        id=draw(st.integers(1, 10_000)),
        kind=draw(st.sampled_from(ActivityKind)),
        subject=draw(_text(1, 80)),
        at=at,
        by=draw(user_refs()),
        description=draw(_text(0, 100)),
        due_at=draw(_optional(st.just(at) | aware_datetimes())),
        done_at=draw(_optional(aware_datetimes())),
    )


@_cached
def status_reasons(state: LeadState | None = None) -> SearchStrategy[StatusReason]:
    """The standard reasons (of ``state``, if given)."""
    return st.sampled_from([r for r in STANDARD_REASONS if state is None or r.state is state])


# ---------------------------------------------------------------------------------------------
# Scoring values


@_cached
def criterion_ids() -> SearchStrategy[str]:
    """Criterion and model ids: 1-64 characters of ``a-z 0-9 _ . -``, starting with a letter
    or digit."""
    return st.from_regex(r"[a-z0-9][a-z0-9_.\-]{0,20}", fullmatch=True)


@_cached
@st.composite
def manual_scores(draw: st.DrawFn) -> ManualScore:
    """Manual star overrides, with or without a reason and an expiry after they were set."""
    at = draw(aware_datetimes(max_value=_HISTORY_END))
    expiry = draw(_optional(st.integers(1, 90 * 24 * 3600)))
    return ManualScore(
        stars=draw(st.integers(0, MAX_STARS)),
        author=draw(user_refs()),
        at=at,
        reason=draw(_text(0, 60)),
        expires_at=None if expiry is None else at + timedelta(seconds=expiry),
    )


def _points() -> SearchStrategy[Decimal]:
    return st.decimals(min_value=-100, max_value=100, places=2)


def _weights() -> SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=1000, places=1)


def _log_odds() -> SearchStrategy[float]:
    return st.floats(min_value=-20, max_value=20, allow_nan=False)


@_cached
def _explanations() -> SearchStrategy[Explanation]:
    contributions = st.builds(
        Contribution,
        criterion_id=criterion_ids(),
        description=_text(1, 60),
        manual=st.booleans(),
        weight=_weights(),
        met=st.booleans(),
        points=_points(),
    )
    predictive = st.builds(
        PredictiveExplanation,
        model=criterion_ids(),
        prior_log_odds=_log_odds(),
        contributions=st.lists(
            st.builds(
                FeatureContribution,
                feature=criterion_ids(),
                value=_text(0, 30),
                log_odds=_log_odds(),
                seen=st.booleans(),
            ),
            max_size=3,
        ).map(tuple),
        probability=st.floats(min_value=0.01, max_value=0.99),
    )
    blends = st.builds(
        Blend,
        criteria=st.decimals(min_value=1, max_value=1000, places=1),
        predictive=st.decimals(min_value=1, max_value=1000, places=1),
    )
    return st.builds(
        Explanation,
        base=_points(),
        contributions=st.lists(contributions, max_size=4).map(tuple),
        criteria_value=st.decimals(min_value=0, max_value=100, places=2),
        met_weight=_weights(),
        total_weight=_weights(),
        blend=_optional(blends),
        predictive=_optional(predictive),
        manual=_optional(manual_scores()),
        expired_manual=_optional(manual_scores()),
    )


@_cached
@st.composite
def scores(draw: st.DrawFn, lead_id: LeadId | None = None) -> Score:
    """Scores of ``lead_id`` (default: any lead) with an explanation. The explanation's
    numbers are arbitrary (not what the engine would compute): these are for storage and
    round trips, not for checking the engine's arithmetic."""
    max_stars = draw(st.integers(1, MAX_STARS))
    return Score(
        lead_id=lead_id if lead_id is not None else draw(lead_ids()),
        value=draw(st.decimals(min_value=0, max_value=100, places=draw(st.integers(0, 2)))),
        stars=draw(st.integers(0, max_stars)),
        max_stars=max_stars,
        rating=draw(st.sampled_from(Rating)),
        source=draw(st.sampled_from(ScoreSource)),
        model_id=draw(criterion_ids()),
        model_version=draw(st.integers(1, 50)),
        explanation=draw(_explanations()),
    )


@_cached
def _gaps() -> SearchStrategy[timedelta]:
    return st.integers(0, 3 * 24 * 3600).map(lambda s: timedelta(seconds=s))
