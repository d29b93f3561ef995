"""Hypothesis strategies for every leadkit value, event and lead.

Each strategy is a function returning a ``SearchStrategy``; nothing is built when the module is
imported. Every strategy only produces values the domain accepts: text is already stripped,
lengths respect the Dynamics 365 column limits of :data:`leadkit.profiles.DEFAULT_PROFILE`, and
leads are made by :meth:`Lead.create` and real commands, never by calling the constructor, so
a lead drawn here is one the library itself could have produced.

Text includes Swedish, Polish and German letters (``å ä ö ł ś ż ß ü`` ...).

    >>> from hypothesis import given
    >>> from leadkit.testing.strategies import leads
    >>> @given(leads())
    ... def test_a_lead_has_a_topic(lead): assert lead.topic
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any, Final, ParamSpec, TypeVar, cast

import attrs
import phonenumbers
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from leadkit.errors import InvalidValue
from leadkit.events import (
    EVENT_TYPES,
    ActivityCompleted,
    ActivityLogged,
    CriterionTicked,
    CriterionUnticked,
    ExistingAccountLinked,
    ExistingAccountUnlinked,
    ExistingContactLinked,
    ExistingContactUnlinked,
    LeadAssigned,
    LeadCreated,
    LeadDisqualified,
    LeadEvent,
    LeadMergedInto,
    LeadQualified,
    LeadRated,
    LeadReactivated,
    LeadScored,
    LeadsMerged,
    LeadUnmerged,
    LeadUpdated,
    ManualScoreCleared,
    ManualScoreSet,
    NoteAdded,
    NoteEdited,
    NoteRemoved,
    OpportunityRelated,
    OpportunityUnlinked,
    StakeholderAdded,
    StakeholderRemoved,
    StatusReasonChanged,
)
from leadkit.fields import (
    Budget,
    CustomFields,
    CustomValue,
    LeadSource,
    Need,
    OptionValue,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadkit.lead import Lead
from leadkit.patch import UNSET, LeadPatch
from leadkit.ports import LeadQuery, LeadSort
from leadkit.records import Account, Contact, Opportunity, OpportunityState
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
from leadkit.timeline import (
    Activity,
    ActivityKind,
    Attachment,
    Note,
    Stakeholder,
    StakeholderRole,
)
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
    RecordId,
    Url,
    UserRef,
    currency_exponent,
)

__all__ = [
    "CURRENCIES",
    "Command",
    "LinkedRecords",
    "account_ids",
    "accounts",
    "activities",
    "addresses",
    "aware_datetimes",
    "contact_ids",
    "contacts",
    "criterion_ids",
    "custom_fields",
    "custom_values",
    "email_addresses",
    "lead_events",
    "lead_histories",
    "lead_ids",
    "lead_patches",
    "lead_queries",
    "leads",
    "linked_records",
    "manual_scores",
    "money",
    "notes",
    "notes_attachments",
    "opportunities",
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


# ---------------------------------------------------------------------------------------------
# Patches, records, events


@_cached
def lead_patches(required: bool = True) -> SearchStrategy[LeadPatch]:
    """Patches whose values fit :data:`leadkit.profiles.DEFAULT_PROFILE`.

    With ``required=True`` the patch always sets a topic (1-300 characters) and a name with a
    last name (1-40), so ``Lead.create`` accepts it; with ``required=False`` every field may be
    left UNSET (a topic or name, when set, is still valid), so ``Lead.update`` of a valid lead
    with it is accepted too. Optional fields are sometimes set to None/"" (cleared).
    """
    must: dict[str, SearchStrategy[Any]] = {
        "topic": _text(1, 300),
        "name": person_names(last_required=True),
    }
    optional: dict[str, SearchStrategy[Any]] = {
        "job_title": _text(0, 100),
        "company": _text(0, 100),
        "business_phone": _optional(phone_numbers()),
        "mobile_phone": _optional(phone_numbers()),
        "email": _optional(email_addresses()),
        "website": _optional(urls()),
        "address": addresses(),
        "source": _optional(st.sampled_from(LeadSource)),
        "initiated_by": _text(0, 60),
        "rating": _optional(st.sampled_from(Rating)),
        "budget_amount": _optional(money()),
        "budget": _optional(st.sampled_from(Budget)),
        "need": _optional(st.sampled_from(Need)),
        "purchase_timeframe": _optional(st.sampled_from(PurchaseTimeframe)),
        "purchase_process": _optional(st.sampled_from(PurchaseProcess)),
        "description": _text(0, 300),
        "estimated_value": _optional(money()),
        "estimated_close_date": _optional(st.dates(date(2000, 1, 1), date(2100, 12, 31))),
        "custom_fields": custom_fields(),
    }
    if not required:
        optional = {**must, **optional}
        must = {}
    return st.fixed_dictionaries(must, optional=optional).map(LeadPatch.from_mapping)


@_cached
def accounts() -> SearchStrategy[Account]:
    """Existing accounts whose name (1-100 characters) fits a lead's company field."""
    return st.builds(
        Account,
        id=account_ids(),
        name=_text(1, 100),
        website=_optional(urls()),
        business_phone=_optional(phone_numbers()),
    )


@_cached
def contacts() -> SearchStrategy[Contact]:
    """Existing contacts whose details fit a lead's fields (first name at most 30 characters,
    so autofilling it keeps a lead's full name within 160)."""
    names = person_names(last_required=True) | person_names(first_required=True)
    return st.builds(
        Contact,
        id=contact_ids(),
        name=names,
        job_title=_text(0, 100),
        business_phone=_optional(phone_numbers()),
        mobile_phone=_optional(phone_numbers()),
        email=_optional(email_addresses()),
    )


@_cached
def opportunities(
    customers: SearchStrategy[AccountId | ContactId] | None = None,
) -> SearchStrategy[Opportunity]:
    """Opportunities as qualification makes them: a name of 1-300 characters, a customer
    (an account or a contact id, or drawn from ``customers``), amounts in the opportunity's
    own currency, and sometimes the contact to talk to and the originating lead."""
    return st.sampled_from(CURRENCIES).flatmap(
        lambda currency: st.builds(
            Opportunity,
            id=opportunity_ids(),
            name=_text(1, 300),
            customer=customers if customers is not None else account_ids() | contact_ids(),
            currency=st.just(currency),
            estimated_value=_optional(money(currency)),
            budget_amount=_optional(money(currency)),
            budget=_optional(st.sampled_from(Budget)),
            need=_optional(st.sampled_from(Need)),
            estimated_close_date=_optional(st.dates(date(2000, 1, 1), date(2100, 12, 31))),
            purchase_timeframe=_optional(st.sampled_from(PurchaseTimeframe)),
            purchase_process=_optional(st.sampled_from(PurchaseProcess)),
            source=_optional(st.sampled_from(LeadSource)),
            description=_text(0, 300),
            contact=_optional(contact_ids()),
            owner=_optional(user_refs()),
            originating_lead=_optional(lead_ids()),
            state=st.sampled_from(OpportunityState),
        )
    )


@attrs.frozen
class LinkedRecords:
    """Accounts, contacts and opportunities that refer only to each other: every contact's
    account, every account's primary contact and every opportunity's customer and contact is
    one of the records here (or none), so a store can hold them all without dangling links."""

    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]
    opportunities: tuple[Opportunity, ...]


@_cached
@st.composite
def linked_records(draw: st.DrawFn, max_size: int = 5) -> LinkedRecords:
    """:class:`LinkedRecords`: up to ``max_size`` accounts and contacts with valid links
    between them, and up to ``max_size`` opportunities of those customers."""
    firms = draw(st.lists(accounts(), max_size=max_size, unique_by=lambda a: a.id))
    people = draw(st.lists(contacts(), max_size=max_size, unique_by=lambda c: c.id))
    firm_ids = [a.id for a in firms]
    people_ids = [c.id for c in people]
    people = [
        attrs.evolve(c, account_id=draw(_optional(st.sampled_from(firm_ids)))) if firm_ids else c
        for c in people
    ]
    firms = [
        attrs.evolve(a, primary_contact=draw(_optional(st.sampled_from(people_ids))))
        if people_ids
        else a
        for a in firms
    ]
    deals: list[Opportunity] = []
    customers: list[AccountId | ContactId] = [*firm_ids, *people_ids]
    if customers:
        deals = draw(
            st.lists(
                opportunities(st.sampled_from(customers)),
                max_size=max_size,
                unique_by=lambda o: o.id,
            )
        )
        deals = [
            attrs.evolve(d, contact=draw(st.sampled_from(people_ids)) if people_ids else None)
            for d in deals
        ]
    return LinkedRecords(tuple(firms), tuple(people), tuple(deals))


@_cached
@st.composite
def lead_queries(draw: st.DrawFn) -> LeadQuery:
    """Valid :class:`~leadkit.ports.LeadQuery` values: any mix of filters (states, reasons,
    owner, an owner set, ratings, sources, half-open date ranges with ``from <= to``, text,
    an inclusive score range with ``min <= max``), a sort key and a direction."""

    def maybe(strategy: SearchStrategy[T]) -> T | None:
        return draw(_optional(strategy))

    def span() -> tuple[datetime | None, datetime | None]:
        low, high = maybe(aware_datetimes()), maybe(aware_datetimes())
        if low is not None and high is not None and low > high:
            low, high = high, low
        return low, high

    created, modified = span(), span()
    score_min = maybe(st.decimals(min_value=0, max_value=100, places=2))
    score_max = maybe(st.decimals(min_value=0, max_value=100, places=2))
    if score_min is not None and score_max is not None and score_min > score_max:
        score_min, score_max = score_max, score_min
    return LeadQuery(
        states=maybe(st.frozensets(st.sampled_from(LeadState), min_size=1)),
        reason_codes=maybe(st.frozensets(st.integers(0, 12), min_size=1)),
        owner_id=maybe(user_refs().map(lambda u: u.id)),
        owner_ids=maybe(st.frozensets(user_refs().map(lambda u: u.id), max_size=3)),
        ratings=maybe(st.frozensets(st.sampled_from(Rating), min_size=1)),
        sources=maybe(st.frozensets(st.sampled_from(LeadSource), min_size=1)),
        created_from=created[0],
        created_to=created[1],
        modified_from=modified[0],
        modified_to=modified[1],
        text=maybe(_text(1, 20).filter(bool)),
        score_min=score_min,
        score_max=score_max,
        sort=draw(st.sampled_from(LeadSort)),
        descending=draw(st.booleans()),
    )


@_cached
def _gaps() -> SearchStrategy[timedelta]:
    return st.integers(0, 3 * 24 * 3600).map(lambda s: timedelta(seconds=s))


def _event_fields(kind: type[LeadEvent]) -> dict[str, SearchStrategy[Any]]:
    open_reasons = status_reasons(LeadState.OPEN)
    ratings = _optional(st.sampled_from(Rating))
    table: dict[type[LeadEvent], Callable[[], dict[str, SearchStrategy[Any]]]] = {
        LeadCreated: lambda: {
            "fields": lead_patches(),
            "owner": user_refs(),
            "reason": open_reasons,
        },
        LeadUpdated: lambda: {"before": lead_patches(False), "after": lead_patches(False)},
        LeadRated: lambda: {"rating": ratings, "previous": ratings},
        ExistingAccountLinked: lambda: {
            "account_id": account_ids(),
            "filled": lead_patches(False),
        },
        ExistingAccountUnlinked: lambda: {"account_id": account_ids()},
        ExistingContactLinked: lambda: {
            "contact_id": contact_ids(),
            "filled": lead_patches(False),
        },
        ExistingContactUnlinked: lambda: {"contact_id": contact_ids()},
        NoteAdded: lambda: {"note": notes()},
        NoteEdited: lambda: {
            "note_id": st.integers(1, 10_000),
            "title": _text(0, 40),
            "text": _text(0, 200),
            "attachment": _optional(notes_attachments()),
            "previous_title": _text(0, 40),
            "previous_text": _text(0, 200),
            "previous_attachment": _optional(notes_attachments()),
        },
        NoteRemoved: lambda: {"note_id": st.integers(1, 10_000)},
        ActivityLogged: lambda: {"activity": activities()},
        ActivityCompleted: lambda: {
            "activity_id": st.integers(1, 10_000),
            "done_at": aware_datetimes(),
        },
        StakeholderAdded: lambda: {"stakeholder": stakeholders()},
        StakeholderRemoved: lambda: {"stakeholder": stakeholders()},
        LeadAssigned: lambda: {
            "owner": user_refs(),
            "previous": user_refs(),
            "rule": st.sampled_from(("", "round robin", "territory: Norr")),
        },
        StatusReasonChanged: lambda: {"reason": open_reasons, "previous": open_reasons},
        LeadDisqualified: lambda: {
            "reason": status_reasons(LeadState.DISQUALIFIED),
            "previous": open_reasons,
        },
        LeadQualified: lambda: {
            "reason": status_reasons(LeadState.QUALIFIED),
            "previous": open_reasons,
            "account_id": _optional(account_ids()),
            "contact_id": _optional(contact_ids()),
            "opportunity_id": _optional(opportunity_ids()),
        },
        LeadReactivated: lambda: {
            "reason": open_reasons,
            "previous_state": st.sampled_from((LeadState.QUALIFIED, LeadState.DISQUALIFIED)),
            "previous": status_reasons(LeadState.QUALIFIED)
            | status_reasons(LeadState.DISQUALIFIED),
        },
        OpportunityUnlinked: lambda: {"opportunity_id": opportunity_ids()},
        OpportunityRelated: lambda: {"opportunity_id": opportunity_ids()},
        LeadsMerged: lambda: {
            "merge_id": _record_ids(MergeId),
            "merged": st.lists(lead_ids(), min_size=1, max_size=3).map(tuple),
            "changed": lead_patches(False),
            "ticked_criteria": st.frozensets(criterion_ids(), max_size=3),
            "manual_score": _optional(manual_scores()),
            "notes": st.lists(notes(), max_size=2).map(tuple),
            "activities": st.lists(activities(), max_size=2).map(tuple),
            "stakeholders": st.lists(stakeholders(), max_size=2, unique=True).map(tuple),
            "before": st.lists(leads(), max_size=1).map(tuple),
        },
        LeadMergedInto: lambda: {
            "merge_id": _record_ids(MergeId),
            "master_id": lead_ids(),
            "previous_state": st.sampled_from(LeadState),
            "previous": status_reasons(),
        },
        LeadUnmerged: lambda: {"merge_id": _record_ids(MergeId), "restored": leads()},
        CriterionTicked: lambda: {"criterion_id": criterion_ids()},
        CriterionUnticked: lambda: {"criterion_id": criterion_ids()},
        ManualScoreSet: lambda: {
            "manual": manual_scores(),
            "previous": _optional(manual_scores()),
        },
        ManualScoreCleared: lambda: {"previous": manual_scores()},
        LeadScored: lambda: {
            "score": scores(),
            "previous": _optional(st.decimals(min_value=0, max_value=100, places=2)),
        },
    }
    if kind not in table:
        raise InvalidValue("kind", kind, "no strategy for this event type")
    return {
        "lead_id": lead_ids(),
        "at": aware_datetimes(),
        "by": user_refs(),
        **table[kind](),
    }


@_cached
def lead_events(kind: type[LeadEvent] | None = None) -> SearchStrategy[LeadEvent]:
    """Events of ``kind`` (default: any of :data:`leadkit.events.EVENT_TYPES`) built directly
    from valid values. They need not belong to one history; for events a real lead produced,
    use ``lead_histories()`` and read ``pending_events``. Raises InvalidValue for a kind
    without a strategy."""
    if kind is None:
        return st.one_of([lead_events(k) for k in EVENT_TYPES.values()])
    event_type = kind
    return st.fixed_dictionaries(_event_fields(kind)).map(lambda kw: event_type(**kw))


# ---------------------------------------------------------------------------------------------
# Commands, histories and leads


@attrs.frozen(repr=False)
class Command:
    """One command applied to a lead: the method name and its keyword arguments.

    ``command(lead)`` runs it and returns the new lead; the repr reads like the call, so a
    failing history shrinks to a readable program.
    """

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self, lead: Lead) -> Lead:
        method: Callable[..., Lead] = getattr(lead, self.name)
        return method(**dict(self.kwargs))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
        return f"{self.name}({args})"


def _command(name: str, **kwargs: Any) -> Command:
    return Command(name, tuple(kwargs.items()))


def _pick(draw: st.DrawFn, options: Sequence[T]) -> T:
    """One of ``options`` (drawn as an index: no new strategy per step)."""
    return options[draw(st.integers(0, len(options) - 1))]


_Builder = Callable[[st.DrawFn, Lead, datetime, UserRef, Sequence[UserRef]], Command]


def _add_note(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    text, title, attachment = draw(_note_content())
    return _command("add_note", text=text, title=title, attachment=attachment, at=at, by=by)


def _log_activity(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    due = draw(_optional(_gaps()))
    return _command(
        "log_activity",
        kind=draw(st.sampled_from(ActivityKind)),
        subject=draw(_text(1, 80)),
        description=draw(_text(0, 100)),
        due_at=None if due is None else at + due,
        done_at=at if draw(st.booleans()) else None,
        at=at,
        by=by,
    )


def _complete_activity(
    draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object
) -> Command:
    pending = [a.id for a in lead.activities if not a.is_done]
    return _command(
        "complete_activity",
        activity_id=_pick(draw, pending),
        done_at=at if draw(st.booleans()) else None,
        at=at,
        by=by,
    )


def _edit_note(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    note = _pick(draw, lead.notes)
    text = draw(_optional(_text(1, 200)))
    title = draw(_optional(_text(0, 40)))
    attachment: Any = draw(st.sampled_from((UNSET, None)) | notes_attachments())
    kept = note.attachment if attachment is UNSET else attachment
    has_words = (note.text if text is None else text) or (note.title if title is None else title)
    if not has_words and kept is None:
        # A note needs text, a title or a file: keep or give it one.
        attachment = UNSET if note.attachment is not None else draw(notes_attachments())
    return _command(
        "edit_note", note_id=note.id, text=text, title=title, attachment=attachment, at=at, by=by
    )


def _remove_note(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("remove_note", note_id=_pick(draw, lead.notes).id, at=at, by=by)


def _update(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("update", patch=draw(lead_patches(required=False)), at=at, by=by)


def _rate(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("rate", rating=draw(_optional(st.sampled_from(Rating))), at=at, by=by)


def _assign(
    draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, users: Sequence[UserRef]
) -> Command:
    rule = draw(st.sampled_from(("", "round robin")))
    return _command("assign", owner=_pick(draw, users), rule=rule, at=at, by=by)


def _mark_contacted(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("mark_contacted", at=at, by=by)


def _change_reason(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    reason = draw(status_reasons(LeadState.OPEN))
    return _command("change_reason", reason=reason, at=at, by=by)


def _add_stakeholder(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    taken = {(s.contact_id, s.role) for s in lead.stakeholders}
    contact_id = draw(contact_ids())
    role = draw(stakeholder_roles().filter(lambda r: (contact_id, r) not in taken))
    return _command("add_stakeholder", contact_id=contact_id, role=role, at=at, by=by)


def _remove_stakeholder(
    draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object
) -> Command:
    gone = _pick(draw, lead.stakeholders)
    return _command("remove_stakeholder", contact_id=gone.contact_id, role=gone.role, at=at, by=by)


def _link_account(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("link_account", account=draw(accounts()), at=at, by=by)


def _link_contact(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("link_contact", contact=draw(contacts()), at=at, by=by)


def _plain(name: str) -> _Builder:
    def build(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
        return _command(name, at=at, by=by)

    return build


def _disqualify(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    reason = draw(status_reasons(LeadState.DISQUALIFIED))
    return _command("disqualify", reason=reason, at=at, by=by)


def _mark_qualified(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command(
        "mark_qualified",
        account_id=draw(_optional(account_ids())),
        contact_id=draw(_optional(contact_ids())),
        opportunity_id=draw(_optional(opportunity_ids())),
        at=at,
        by=by,
    )


def _tick(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("tick_criterion", criterion_id=draw(criterion_ids()), at=at, by=by)


def _untick(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    ticked = sorted(lead.ticked_criteria)
    return _command("untick_criterion", criterion_id=_pick(draw, ticked), at=at, by=by)


def _set_manual_score(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    expiry = draw(_optional(st.integers(1, 90 * 24 * 3600)))
    return _command(
        "set_manual_score",
        stars=draw(st.integers(0, MAX_STARS)),
        reason=draw(_text(0, 60)),
        expires_at=None if expiry is None else at + timedelta(seconds=expiry),
        at=at,
        by=by,
    )


def _record_score(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("record_score", score=draw(scores(lead.id)), at=at, by=by)


def _reactivate(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("reactivate", reason=draw(status_reasons(LeadState.OPEN)), at=at, by=by)


def _builders(lead: Lead) -> tuple[_Builder, ...]:
    """The command builders whose commands ``lead`` accepts in its current state."""
    found: list[_Builder] = [_add_note, _log_activity, _record_score]
    if any(not a.is_done for a in lead.activities):
        found.append(_complete_activity)
    if lead.is_closed:
        found.append(_reactivate)
        return tuple(found)
    found += [
        _update,
        _rate,
        _assign,
        _mark_contacted,
        _change_reason,
        _add_stakeholder,
        _link_account,
        _link_contact,
        _mark_qualified,
        _tick,
        _set_manual_score,
    ]
    if lead.ticked_criteria:
        found.append(_untick)
    if lead.manual_score is not None:
        found.append(_plain("clear_manual_score"))
    if lead.notes:
        found += [_edit_note, _remove_note]
    if lead.stakeholders:
        found.append(_remove_stakeholder)
    if lead.existing_account is not None:
        found.append(_plain("unlink_account"))
    if lead.existing_contact is not None:
        found.append(_plain("unlink_contact"))
    if lead.qualifying_opportunity is not None:
        found.append(_plain("unlink_opportunity"))
    else:
        found.append(_disqualify)
    return tuple(found)


def _drive(
    draw: st.DrawFn, lead: Lead, state: LeadState, at: datetime, by: UserRef
) -> list[Command]:
    """The commands that take ``lead`` to ``state`` (none if it is there already)."""
    steps: list[Command] = []
    if lead.state is state:
        return steps
    if lead.is_closed:
        steps.append(_command("reactivate", at=at, by=by))
    if state is LeadState.QUALIFIED:
        opportunity = draw(_optional(opportunity_ids()))
        steps.append(_command("mark_qualified", opportunity_id=opportunity, at=at, by=by))
    elif state is LeadState.DISQUALIFIED:
        if lead.qualifying_opportunity is not None:
            steps.append(_command("unlink_opportunity", at=at, by=by))
        steps.append(_disqualify(draw, lead, at, by, ()))
    return steps


@_cached
@st.composite
def lead_histories(
    draw: st.DrawFn,
    state: LeadState | None = None,
    max_steps: int = 12,
    *,
    owner: UserRef | None = None,
    scored: bool | None = None,
    ids: SearchStrategy[LeadId] | None = None,
) -> tuple[Lead, list[Command]]:
    """A lead made by ``Lead.create`` and up to ``max_steps`` random valid commands, and the
    commands applied after the creation, in order (``pending_events`` holds the events).

    With ``state`` the last commands drive the lead to that state (reactivate, unlink the
    opportunity, qualify or disqualify as needed). ``owner`` fixes the owner (no command
    reassigns the lead); ``scored=True`` ends with a recorded score, ``scored=False`` records
    none; ``ids`` draws the lead's id. Timestamps never go backwards.
    """
    users = draw(st.lists(user_refs(), min_size=1, max_size=3, unique_by=lambda u: u.id))
    if owner is not None:
        users = [owner, *(u for u in users if u.id != owner.id)]
    at = draw(aware_datetimes(max_value=_HISTORY_END))
    by = _pick(draw, users)
    lead = Lead.create(
        draw(ids if ids is not None else lead_ids()),
        draw(lead_patches()),
        at=at,
        by=by,
        owner=owner if owner is not None else _pick(draw, users),
    )
    skipped = {_assign if owner is not None else None, _record_score if scored is False else None}
    applied: list[Command] = []
    for _ in range(draw(st.integers(0, max_steps))):
        at = at + draw(_gaps())
        build = _pick(draw, [b for b in _builders(lead) if b not in skipped])
        command = build(draw, lead, at, _pick(draw, users), users)
        lead = command(lead)
        applied.append(command)
    at = at + draw(_gaps())
    finish = _drive(draw, lead, state, at, _pick(draw, users)) if state is not None else []
    if scored:
        finish.append(_record_score(draw, lead, at, _pick(draw, users), users))
    for command in finish:
        lead = command(lead)
        applied.append(command)
    return lead, applied


@_cached
def leads(
    state: LeadState | None = None,
    *,
    owner: UserRef | None = None,
    scored: bool | None = None,
    ids: SearchStrategy[LeadId] | None = None,
) -> SearchStrategy[Lead]:
    """Valid leads built through ``Lead.create`` and a few random commands; ``pending_events``
    holds their whole history.

    ``state`` drives them to Open, Qualified or Disqualified; without it the three states come
    about equally often. ``owner`` fixes the owner, ``scored`` asks for a recorded score
    (``True``) or none (``False``), ``ids`` draws the ids (e.g. ``st.just(LeadId("L-1"))`` or a
    strategy of a few ids for collisions).
    """
    if state is None:
        return st.sampled_from(LeadState).flatmap(
            lambda s: leads(s, owner=owner, scored=scored, ids=ids)
        )
    return lead_histories(state=state, max_steps=6, owner=owner, scored=scored, ids=ids).map(
        lambda history: history[0]
    )
