"""Value objects: identities, e-mail, phone, money, names, addresses, URLs and user references.

Every value is frozen and validated when built; bad input raises :class:`InvalidValue` naming
the field, the value and the reason. Nothing here does I/O (e-mail syntax only, never DNS).
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import ClassVar, Final
from urllib.parse import urlsplit

import attrs
import email_validator
import phonenumbers
from iso4217 import Currency

from leadkit.errors import CurrencyMismatch, InvalidValue

__all__ = [
    "AccountId",
    "ActivityId",
    "Address",
    "ContactId",
    "EmailAddress",
    "LeadId",
    "MergeId",
    "Money",
    "NoteId",
    "OpportunityId",
    "PersonName",
    "PhoneNumber",
    "RecordId",
    "Url",
    "UserRef",
    "currency_exponent",
    "require_aware",
]

_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$")


def require_aware(field: str, value: datetime) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime that can be expressed in UTC (not
    ``datetime.max`` west of Greenwich, say). Raises InvalidValue otherwise."""
    if not isinstance(value, datetime):
        raise InvalidValue(field, value, "must be a datetime")
    try:
        offset = value.utcoffset()
    except Exception:  # a tzinfo of the caller's that fails or returns nonsense
        raise InvalidValue(field, value, "has a time zone that gives no valid offset") from None
    if offset is None:
        raise InvalidValue(field, value, "must be timezone-aware (a naive datetime is refused)")
    try:
        value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidValue(field, value, "is out of range once converted to UTC") from None
    return value


def _set_clean(obj: object, attr: str, field: str, max_length: int | None = None) -> str:
    text = _clean(field, getattr(obj, attr), max_length)
    object.__setattr__(obj, attr, text)
    return text


def _clean(field: str, value: object, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise InvalidValue(field, value, "must be text")
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise InvalidValue(field, value, f"longer than {max_length} characters")
    return text


# ---------------------------------------------------------------------------------------------
# Identities


@attrs.frozen(order=True)
class RecordId:
    """Base of the identity values: 1-100 characters of letters, digits and ``. _ : -``.

    Raises InvalidValue for anything else.
    """

    value: str

    kind: ClassVar[str] = "record"

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, str) or not _ID_PATTERN.fullmatch(self.value):
            raise InvalidValue(
                f"{self.kind}_id",
                self.value,
                "must be 1-100 characters of letters, digits, '.', '_', ':' or '-', "
                "starting with a letter or digit",
            )

    def __str__(self) -> str:
        return self.value


@attrs.frozen(order=True)
class LeadId(RecordId):
    """The identity of a lead. Raises InvalidValue for a malformed id."""

    kind: ClassVar[str] = "lead"


@attrs.frozen(order=True)
class AccountId(RecordId):
    """The identity of an account. Raises InvalidValue for a malformed id."""

    kind: ClassVar[str] = "account"


@attrs.frozen(order=True)
class ContactId(RecordId):
    """The identity of a contact. Raises InvalidValue for a malformed id."""

    kind: ClassVar[str] = "contact"


@attrs.frozen(order=True)
class OpportunityId(RecordId):
    """The identity of an opportunity. Raises InvalidValue for a malformed id."""

    kind: ClassVar[str] = "opportunity"


@attrs.frozen(order=True)
class MergeId(RecordId):
    """The identity of a stored merge (what ``unmerge`` takes). Raises InvalidValue for a
    malformed id."""

    kind: ClassVar[str] = "merge"


NoteId = int
"""Notes are numbered within their lead (1, 2, 3, ...), never reused."""

ActivityId = int
"""Activities share the lead's timeline numbering with notes."""


@attrs.frozen
class UserRef:
    """A user of the host application: its id and an optional display name.

    Raises InvalidValue for an empty or over-long id or name.
    """

    id: str
    name: str = ""

    def __attrs_post_init__(self) -> None:
        _set_clean(self, "id", "user.id", 100)
        _set_clean(self, "name", "user.name", 200)
        if not self.id:
            raise InvalidValue("user.id", self.id, "must not be empty")

    def __str__(self) -> str:
        return self.name or self.id


# ---------------------------------------------------------------------------------------------
# E-mail


@lru_cache(maxsize=4096)
def _validate_email(text: str) -> tuple[str, str]:
    result = email_validator.validate_email(
        text, check_deliverability=False, allow_smtputf8=True, test_environment=False
    )
    return result.local_part, result.ascii_domain or result.domain


# A plain ASCII address: dot-separated atoms of letters, digits, '_', '+' and '-' before the
# @-sign; after it, labels of 1-63 letters, digits and '-', ending in a top-level domain of
# 2-63 letters. Hyphens at the edge of a label and ``--`` are refused separately.
_PLAIN_EMAIL: Final = re.compile(
    r"(?P<local>[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,63})"
)


def _checked_validator() -> bool:
    """The plain subset was checked against email_validator 2.x (2.1 to 2.4)."""
    try:
        return int(email_validator.__version__.split(".")[0]) == 2
    except (AttributeError, ValueError):
        return False


_VALIDATOR_CHECKED: Final = _checked_validator()
_special: tuple[tuple[str, ...], frozenset[str], tuple[str, ...]] = ((), frozenset(), ())


def _special_use() -> tuple[frozenset[str], tuple[str, ...]]:
    """email_validator's special-use domains (names, and suffixes with their dot), read now:
    callers may edit its list."""
    global _special
    names = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
    if names != _special[0]:
        _special = (names, frozenset(names), tuple("." + n for n in names))
    return _special[1], _special[2]


def plain_email(text: str) -> str | None:
    """The normalised form of ``text`` when it is a plain ASCII address, else None (then
    only ``email_validator`` can tell).

    For text of this shape (no spaces, quotes, display name or non-ASCII; at most 254
    characters, a local part of at most 64; an LDH domain with a dot, without ``--`` and so
    without Punycode, ending in letters, not a special-use name) email_validator 2.x accepts
    the address unchanged but for the domain's case, so the normalised form (local part
    case-folded, domain lower-cased) is ``text.lower()``: the same result without the
    validator's 50 us (tests/properties/test_email_properties.py). Raises nothing.
    """
    if not _VALIDATOR_CHECKED or len(text) > 254:
        return None
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None:
        return None
    domain = match["domain"].lower()
    if (
        len(match["local"]) > 64
        or "--" in domain
        or domain[0] == "-"
        or "-." in domain
        or ".-" in domain
    ):
        return None
    names, suffixes = _special_use()
    if domain in names or domain.endswith(suffixes):
        return None
    return text.lower()


@attrs.frozen
class EmailAddress:
    """An e-mail address checked for syntax only (never a DNS or deliverability check).

    ``text`` keeps the address as given (trimmed); ``normalized`` lower-cases the domain and the
    local part for comparison. Raises InvalidValue for a malformed address.
    """

    text: str
    normalized: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set_clean(self, "text", "email", 254)
        if not self.text:
            raise InvalidValue("email", self.text, "must not be empty")
        normalized = plain_email(self.text)
        if normalized is None:
            try:
                local, domain = _validate_email(self.text)
            except email_validator.EmailNotValidError as e:
                raise InvalidValue("email", self.text, str(e).rstrip(".")) from None
            normalized = f"{local.casefold()}@{domain.lower()}"
        object.__setattr__(self, "normalized", normalized)

    @property
    def domain(self) -> str:
        """The lower-cased domain part."""
        return self.normalized.rpartition("@")[2]

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------------------------
# Phone

_E164: Final = re.compile(r"^\+[1-9][0-9]{3,14}$")
_PARSE_ERRORS: Final = {
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}


@lru_cache(maxsize=16384)
def _parse_phone(raw: str, region: str | None) -> tuple[str, str]:
    """(E.164, extension) of ``raw``; a pure function, so its results are cached."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as e:
        if e.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            reason = (
                "no country code and no default region"
                if region is None
                else ("invalid country code")
            )
        else:
            reason = _PARSE_ERRORS.get(e.error_type, "not a phone number")
        raise InvalidValue("phone", raw, reason) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidValue("phone", raw, "not a possible phone number for its region")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, parsed.extension or ""


@attrs.frozen
class PhoneNumber:
    """A phone number: the raw text as typed and its E.164 form.

    ``region`` is the default region (ISO 3166 alpha-2, e.g. ``"SE"``) used to read a number
    written without a country code; ``None`` means the raw text must start with ``+``.
    Raises InvalidValue for text that is not a possible phone number or an unknown region.
    """

    raw: str
    region: str | None = None
    e164: str = attrs.field(init=False, eq=False, repr=False)
    extension: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set_clean(self, "raw", "phone", 50)
        if self.region is not None and (
            not isinstance(self.region, str)
            or self.region.upper() not in phonenumbers.SUPPORTED_REGIONS
        ):
            raise InvalidValue("phone.region", self.region, "not a known ISO 3166 region code")
        if not self.raw:
            raise InvalidValue("phone", self.raw, "must not be empty")
        region = self.region.upper() if self.region else None
        e164, extension = _parse_phone(self.raw, region)
        object.__setattr__(self, "region", region)
        object.__setattr__(self, "e164", e164)
        object.__setattr__(self, "extension", extension)

    @classmethod
    def restore(cls, raw: str, region: str | None, e164: str, extension: str = "") -> PhoneNumber:
        """Rebuild a stored number without parsing it again (parsing costs ~80 us).

        For data this library wrote: the E.164 form is checked for shape only. Raises
        InvalidValue for an empty or over-long raw text, an unknown region or a malformed
        E.164 number.
        """
        phone = object.__new__(cls)
        object.__setattr__(phone, "raw", raw)
        _set_clean(phone, "raw", "phone", 50)
        if not phone.raw:
            raise InvalidValue("phone", raw, "must not be empty")
        if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
            raise InvalidValue("phone.region", region, "not a known ISO 3166 region code")
        if not isinstance(e164, str) or not _E164.match(e164):
            raise InvalidValue("phone.e164", e164, "not an E.164 number such as +46812345678")
        if not isinstance(extension, str) or (extension and not extension.isdigit()):
            raise InvalidValue("phone.extension", extension, "must be digits")
        object.__setattr__(phone, "region", region)
        object.__setattr__(phone, "e164", e164)
        object.__setattr__(phone, "extension", extension)
        return phone

    def __str__(self) -> str:
        return self.raw


# ---------------------------------------------------------------------------------------------
# Money


def currency_exponent(code: str) -> int | None:
    """The number of minor-unit digits of an ISO 4217 currency (``None`` for e.g. gold, XAU).

    Raises InvalidValue for an unknown code.
    """
    try:
        return Currency(code).exponent
    except (ValueError, TypeError):
        raise InvalidValue("currency", code, "not an ISO 4217 currency code") from None


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidValue(
            "amount", value, "must be a Decimal, an int or a decimal string (not a float)"
        )
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidValue("amount", value, "not a decimal number") from None
    if not amount.is_finite():
        raise InvalidValue("amount", value, "must be a finite number")
    # The exponent is checked before any arithmetic: abs() or rounding of 1e1000000 would
    # overflow the decimal context.
    if amount and amount.adjusted() >= 15:
        raise InvalidValue("amount", value, "must be less than 10^15 in magnitude")
    return amount


def _to_currency(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValue("currency", value, "must be an ISO 4217 code such as 'EUR'")
    code = value.strip().upper()
    currency_exponent(code)
    return code


_MAX_AMOUNT: Final = Decimal("1e15")
_MONEY_CONTEXT: Final = decimal.Context(
    prec=60, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[decimal.InvalidOperation]
)


def _money_of(compute: Callable[[], Decimal], currency: str) -> Money:
    """``Money(compute(), currency)`` with the arithmetic done in a wide, exact-enough
    context: overflow or a signalling NaN becomes InvalidValue, never a decimal signal."""
    try:
        with decimal.localcontext(_MONEY_CONTEXT):
            amount = compute()
    except decimal.DecimalException:
        raise InvalidValue("amount", None, "the result is not a finite number") from None
    return Money(amount, currency)


@attrs.frozen(order=False)
class Money:
    """An amount in an ISO 4217 currency, rounded half-up to the currency's minor units.

    Floats are refused (use Decimal, int or a decimal string). Amounts beyond +/- 10^15 are
    refused. Combining two currencies raises CurrencyMismatch; bad input raises InvalidValue.
    """

    amount: Decimal = attrs.field(converter=_to_decimal)
    currency: str = attrs.field(converter=_to_currency)

    def __attrs_post_init__(self) -> None:
        if abs(self.amount) >= _MAX_AMOUNT:
            raise InvalidValue("amount", self.amount, "must be less than 10^15 in magnitude")
        exponent = currency_exponent(self.currency)
        if exponent is not None:
            quantum = Decimal(1).scaleb(-exponent)
            rounded = self.amount.quantize(quantum, ROUND_HALF_UP)
            # Rounding may carry up to the limit (999999999999999.995 EUR -> 10^15).
            if abs(rounded) >= _MAX_AMOUNT:
                raise InvalidValue("amount", self.amount, "must be less than 10^15 in magnitude")
            object.__setattr__(self, "amount", rounded)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``. Raises InvalidValue for an unknown code."""
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):  # ``Money < 5``: a TypeError, as for any unorderable pair
            raise TypeError(f"cannot compare Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return _money_of(lambda: self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return _money_of(lambda: self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """The amount times ``factor`` (an int or a finite Decimal), rounded to the currency.
        Raises InvalidValue for a NaN or infinite factor or a product of 10^15 or more."""
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            return NotImplemented
        if isinstance(factor, Decimal) and not factor.is_finite():
            raise InvalidValue("factor", factor, "must be a finite number")
        return _money_of(lambda: self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# ---------------------------------------------------------------------------------------------
# Names and addresses

_SALUTATIONS: Final = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "fr", "herr",
        "frau", "pan", "pani", "hr", "fru", "mme", "mlle", "m", "sr", "sra", "srta",
    }
)  # fmt: skip
_SUFFIXES: Final = frozenset(
    {"jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq", "mba", "dds", "cpa", "jd"}
)
_NAME_PART_MAX: Final = 100


@attrs.frozen
class PersonName:
    """A person's name in parts: salutation, first, middle, last and suffix.

    Each part is trimmed text of at most 100 characters; required parts are a profile's
    business (see ``leadkit.profiles``). Raises InvalidValue for non-text or over-long parts.
    """

    first: str = ""
    last: str = ""
    middle: str = ""
    salutation: str = ""
    suffix: str = ""

    def __attrs_post_init__(self) -> None:
        for part in ("first", "last", "middle", "salutation", "suffix"):
            _set_clean(self, part, f"name.{part}", _NAME_PART_MAX)

    @property
    def full(self) -> str:
        """The full name as Outlook shows it: "Dr. Ada M. Lovelace Jr."."""
        parts = (self.salutation, self.first, self.middle, self.last, self.suffix)
        return " ".join(p for p in parts if p)

    @property
    def is_empty(self) -> bool:
        """True when no part is set."""
        return not (self.salutation or self.first or self.middle or self.last or self.suffix)

    @classmethod
    def parse(cls, full_name: str) -> PersonName:
        """Split a full name the way Outlook Business Contact Manager does.

        Understands "Dr. Ada M. Lovelace Jr.", "Lovelace, Ada M." and single names (a single
        word becomes the last name). Raises InvalidValue for non-text or an over-long part.
        """
        text = _clean("name.full", full_name, 400)
        if not text:
            return cls()
        suffix = ""
        if "," in text:
            head, _, tail = text.partition(",")
            tail_words = tail.split()
            if len(tail_words) == 1 and _is(tail_words[0], _SUFFIXES):
                text, suffix = head.strip(), tail_words[0]
            else:
                # "Last, First Middle"
                rest = cls.parse(tail.strip())
                return cls(
                    salutation=rest.salutation,
                    first=rest.first or rest.last,
                    # "Lovelace, Ada M.": the words after the first name are middle names.
                    middle=" ".join(p for p in (rest.middle, rest.last) if p) if rest.first else "",
                    last=head.strip(),
                    suffix=rest.suffix,
                )
        words = text.split()
        salutation = ""
        if len(words) > 1 and _is(words[0], _SALUTATIONS):
            salutation = words.pop(0)
        if not suffix and len(words) > 1 and _is(words[-1], _SUFFIXES):
            suffix = words.pop()
        if len(words) == 1:
            return cls(salutation=salutation, last=words[0], suffix=suffix)
        last_start = len(words) - 1
        # Keep particles with the last name: "Ludwig van Beethoven", "Anna von der Leyen".
        while last_start > 1 and words[last_start - 1].casefold() in _PARTICLES:
            last_start -= 1
        return cls(
            salutation=salutation,
            first=words[0],
            middle=" ".join(words[1:last_start]),
            last=" ".join(words[last_start:]),
            suffix=suffix,
        )

    def __str__(self) -> str:
        return self.full


_PARTICLES: Final = frozenset({"van", "von", "der", "den", "de", "da", "di", "la", "le", "du"})


def _is(word: str, table: frozenset[str]) -> bool:
    return word.rstrip(".").casefold() in table


_ADDRESS_LIMITS: Final = {
    "line1": 250,
    "line2": 250,
    "line3": 250,
    "city": 80,
    "state_or_province": 50,
    "postal_code": 20,
    "country": 80,
}


@attrs.frozen
class Address:
    """A postal address with the Dynamics 365 parts and lengths.

    Lines 1-3 (250 characters each), city (80), state or province (50), postal code (20),
    country (80). Raises InvalidValue naming the part (``address.postal_code``) when a part is
    not text, is too long, or a postal code holds characters no postal code uses.
    """

    line1: str = ""
    line2: str = ""
    line3: str = ""
    city: str = ""
    state_or_province: str = ""
    postal_code: str = ""
    country: str = ""

    def __attrs_post_init__(self) -> None:
        for part, limit in _ADDRESS_LIMITS.items():
            _set_clean(self, part, f"address.{part}", limit)
        if self.postal_code and not _POSTAL.match(self.postal_code):
            raise InvalidValue(
                "address.postal_code",
                self.postal_code,
                "may hold only letters, digits, spaces and dashes",
            )

    @property
    def is_empty(self) -> bool:
        """True when no part is set."""
        return not any(attrs.astuple(self))

    def lines(self) -> tuple[str, ...]:
        """The non-empty lines as printed on an envelope."""
        locality = " ".join(p for p in (self.postal_code, self.city) if p)
        parts = (self.line1, self.line2, self.line3, locality, self.state_or_province, self.country)
        return tuple(p for p in parts if p)


_POSTAL: Final = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-]*$")

# ---------------------------------------------------------------------------------------------
# URL

_HOST: Final = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)+$"
)


@lru_cache(maxsize=16384)
def _normalise_url(text: str) -> str:
    """The normalised URL for ``text``; a pure function, so its results are cached."""
    original = text
    if not text:
        raise InvalidValue("website", text, "must not be empty")
    if any(c.isspace() for c in text):
        raise InvalidValue("website", text, "must not contain spaces")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidValue("website", original, "not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidValue("website", original, "scheme must be http or https")
    host = (parts.hostname or "").lower()
    try:
        ascii_host = host.encode("idna").decode("ascii") if host else ""
    except UnicodeError:
        raise InvalidValue("website", original, "host is not a valid domain name") from None
    if not _HOST.match(ascii_host) or parts.username or parts.password:
        raise InvalidValue("website", original, "host is not a valid domain name")
    netloc = host if port is None else f"{host}:{port}"
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc).geturl()


_NORMAL_URL: Final = re.compile(
    r"https?://([a-z0-9.\-]{1,253})(/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*)?\Z"
)
"""A URL that :func:`_normalise_url` returns unchanged when its host passes ``_HOST``: a
lower-case scheme and host, no port, user, query or fragment, a path of URL characters."""


def _is_normal_url(text: str) -> bool:
    """True when ``text`` is its own normalised form (a stored URL, the usual typed one): then
    ``_normalise_url`` need not split it (its cache holds 16,384 URLs; a large store has
    more). A property test shows ``_normalise_url`` returns every such text unchanged."""
    found = _NORMAL_URL.match(text)
    return found is not None and _HOST.match(found[1]) is not None


@attrs.frozen
class Url:
    """A web address (http or https). A bare host such as ``www.contoso.com`` gets ``https://``.

    ``text`` is the normalised URL (scheme and host lower-cased). Raises InvalidValue for other
    schemes, spaces, a missing or malformed host, or more than 200 characters.
    """

    text: str

    def __attrs_post_init__(self) -> None:
        text = _set_clean(self, "text", "website", 200)
        if not _is_normal_url(text):
            object.__setattr__(self, "text", _normalise_url(text))

    @property
    def host(self) -> str:
        """The lower-cased host name."""
        return urlsplit(self.text).hostname or ""

    def __str__(self) -> str:
        return self.text
