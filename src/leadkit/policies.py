"""Qualification policy: what qualifying a lead creates, asks, copies and checks.

Everything here is configuration an organisation sets once and a user can list, edit,
serialise (with :func:`leadkit.serialization.make_converter`) and have explained back. Every
value is validated when built and raises :class:`ConfigurationError` for a bad setting, never
later when a lead is qualified.

- :class:`QualificationPolicy`: AUTO_CREATE or PROMPT, the currency rules, notes carry-over
  (LINK, COPY, NONE), duplicate handling (WARN, BLOCK, IGNORE), whether a disqualification
  may keep the person as a prospect, and the field maps.
- :class:`CurrencyRegistry`: the organisation's base currency and the exchange rates of the
  other currencies it uses (ISO 4217 codes), as in Dynamics 365.
- :class:`FieldMap`: which lead field fills which account, contact or opportunity field,
  checked when built (same type, one source per target, known fields only);
  :data:`D365_MAPS` holds the Dynamics 365 defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import Enum
from functools import cache
from types import NoneType, UnionType
from typing import Any, Final, Union, get_args, get_origin

import attrs

from leadkit._named import named
from leadkit.errors import ConfigurationError, CurrencyMismatch, InvalidValue
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS
from leadkit.records import Account, Contact, Opportunity
from leadkit.values import Money, currency_exponent

__all__ = [
    "BCM_POLICY",
    "D365_ACCOUNT_MAP",
    "D365_CONTACT_MAP",
    "D365_MAPS",
    "D365_OPPORTUNITY_MAP",
    "DEFAULT_POLICY",
    "PROMPT_POLICY",
    "ConversionMaps",
    "CurrencyRegistry",
    "DuplicateHandling",
    "ExchangeRate",
    "FieldMap",
    "FieldMapping",
    "NotesCarryOver",
    "QualificationPolicy",
    "QualifyMode",
    "RecordKind",
    "mappable_targets",
]


class QualifyMode(Enum):
    """AUTO_CREATE: create every record that applies (the Dynamics 365 setting "create
    account, contact and opportunity by default"). PROMPT: the caller must answer which to
    create (and the customer and currency when the request does not say)."""

    AUTO_CREATE = "auto_create"
    PROMPT = "prompt"


class NotesCarryOver(Enum):
    """What happens to the lead's notes when it is converted.

    LINK (default): nothing is copied; the notes stay owned by the lead and the new records'
    timelines show them through ``notes_from_lead``. COPY: the notes are copied onto every
    record created or linked. NONE: the records neither copy nor show them (the lead keeps
    them, as always).
    """

    LINK = "link"
    COPY = "copy"
    NONE = "none"


class DuplicateHandling(Enum):
    """What possible duplicates of a record about to be created do.

    WARN (default): they stop the qualification until the caller links one or answers
    "create anyway". BLOCK: they stop it until the caller links one ("create anyway" is not
    accepted). IGNORE: no duplicate check.
    """

    WARN = "warn"
    BLOCK = "block"
    IGNORE = "ignore"


class RecordKind(Enum):
    """The three record types a qualification creates or links."""

    ACCOUNT = "account"
    CONTACT = "contact"
    OPPORTUNITY = "opportunity"

    @property
    def record_type(self) -> type[Account] | type[Contact] | type[Opportunity]:
        """The record class (``Account``, ``Contact`` or ``Opportunity``)."""
        return _RECORD_TYPES[self]


_RECORD_TYPES: Final[Mapping[RecordKind, type[Account] | type[Contact] | type[Opportunity]]] = {
    RecordKind.ACCOUNT: Account,
    RecordKind.CONTACT: Contact,
    RecordKind.OPPORTUNITY: Opportunity,
}


# ---------------------------------------------------------------------------------------------
# Currencies


def _code(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(what, f"{value!r} is not an ISO 4217 currency code")
    code = value.strip().upper()
    try:
        currency_exponent(code)
    except InvalidValue:
        raise ConfigurationError(what, f"{value!r} is not an ISO 4217 currency code") from None
    return code


def _rate(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ConfigurationError("exchange rate", f"{value!r} must be a Decimal (not a float)")
    try:
        rate = Decimal(value)
    except ArithmeticError:
        raise ConfigurationError("exchange rate", f"{value!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise ConfigurationError("exchange rate", f"{value!r} must be positive")
    return rate


@attrs.frozen
class ExchangeRate:
    """How many units of ``currency`` one unit of the base currency buys (Dynamics 365's
    exchange rate), as a Decimal, an int or a decimal string. Raises ConfigurationError for
    an unknown code or a rate that is not positive (floats are refused)."""

    currency: str
    per_base: Decimal = attrs.field(converter=_rate)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "currency", _code("exchange rate", self.currency))


def _rates(
    value: Iterable[ExchangeRate] | Mapping[str, Decimal | int | str],
) -> tuple[ExchangeRate, ...]:
    if isinstance(value, Mapping):
        return tuple(ExchangeRate(code, rate) for code, rate in value.items())
    return tuple(value)


@attrs.frozen
class CurrencyRegistry:
    """The organisation's currencies: a base currency and exchange rates for the others.

    ``rates`` may be given as a mapping ``{"SEK": Decimal("11.5")}``. With ``only_listed``
    an opportunity may use only the base currency and the listed ones; otherwise any
    ISO 4217 currency is accepted (amounts are converted only when both rates are known).
    Raises ConfigurationError for an unknown code, a currency listed twice or a rate given
    for the base currency.
    """

    base: str
    rates: tuple[ExchangeRate, ...] = attrs.field(default=(), converter=_rates)
    only_listed: bool = False

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "base", _code("currency registry base", self.base))
        seen: set[str] = set()
        for rate in self.rates:
            if not isinstance(rate, ExchangeRate):
                raise ConfigurationError("currency registry", f"{rate!r} is not an ExchangeRate")
            if rate.currency == self.base:
                raise ConfigurationError(
                    "currency registry", f"{self.base} is the base currency: its rate is 1"
                )
            if rate.currency in seen:
                raise ConfigurationError("currency registry", f"{rate.currency} listed twice")
            seen.add(rate.currency)
        if not isinstance(self.only_listed, bool):
            raise ConfigurationError("currency registry", "only_listed must be true or false")

    @property
    def codes(self) -> tuple[str, ...]:
        """The base currency first, then the listed ones."""
        return (self.base, *(r.currency for r in self.rates))

    def rate(self, code: str) -> Decimal | None:
        """Units of ``code`` per unit of the base currency (1 for the base; None if unknown)."""
        if code == self.base:
            return Decimal(1)
        for rate in self.rates:
            if rate.currency == code:
                return rate.per_base
        return None

    def allows(self, code: str) -> bool:
        """True when an opportunity may use ``code``."""
        return not self.only_listed or code in self.codes

    def check(self, code: str, field: str = "currency") -> str:
        """Return the normalised code if allowed. Raises InvalidValue naming ``field``."""
        if not isinstance(code, str):
            raise InvalidValue(field, code, "must be an ISO 4217 code such as 'EUR'")
        normal = code.strip().upper()
        try:
            currency_exponent(normal)
        except InvalidValue:
            raise InvalidValue(field, code, "not an ISO 4217 currency code") from None
        if not self.allows(normal):
            raise InvalidValue(
                field, code, f"not a currency of this organisation ({', '.join(self.codes)})"
            )
        return normal

    def convert(self, money: Money, to: str, field: str = "amount") -> Money:
        """``money`` in currency ``to`` at the registry's rates (unchanged if already in it).

        Raises CurrencyMismatch naming ``field`` when a rate is missing.
        """
        if money.currency == to:
            return money
        source, target = self.rate(money.currency), self.rate(to)
        if source is None or target is None:
            raise CurrencyMismatch(money.currency, to, field)
        return Money(money.amount / source * target, to)


# ---------------------------------------------------------------------------------------------
# Field maps


@attrs.frozen
class FieldMapping:
    """One line of a field map: the lead field ``source`` fills the record field ``target``.

    Both are dotted paths (``name.first``, ``address``). Checked by the :class:`FieldMap`
    that holds it.
    """

    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


def _members(annotation: Any) -> frozenset[Any]:
    """The member types of an annotation (``Url | None`` -> {Url, NoneType})."""
    if isinstance(annotation, UnionType) or get_origin(annotation) is Union:
        return frozenset(get_args(annotation))
    return frozenset({annotation})


@cache
def _field_types(cls: type) -> Mapping[str, Any]:
    resolved = attrs.resolve_types(cls)
    return {f.name: f.type for f in attrs.fields(resolved)}


def _path_type(cls: type, path: str, allowed_heads: Iterable[str] | None = None) -> Any:
    """The type at ``path`` in ``cls`` or None when the path does not name a field."""
    parts = path.split(".")
    if allowed_heads is not None and parts[0] not in allowed_heads:
        return None
    current: Any = cls
    for part in parts:
        if not (isinstance(current, type) and attrs.has(current)):
            return None
        types = _field_types(current)
        if part not in types:
            return None
        current = types[part]
    return current


_SOURCE_HEADS: Final = frozenset({*PATCH_FIELDS, "owner"}) - {"custom_fields"}

_RESERVED_COMMON: Final = frozenset(
    {
        "id",
        "version",
        "originating_lead",
        "notes",
        "notes_from_lead",
        "created_at",
        "modified_at",
        "merged_into",
    }
)
_RESERVED: Final[Mapping[RecordKind, frozenset[str]]] = {
    RecordKind.ACCOUNT: _RESERVED_COMMON | {"primary_contact"},
    RecordKind.CONTACT: _RESERVED_COMMON | {"account_id"},
    RecordKind.OPPORTUNITY: _RESERVED_COMMON | {"customer", "currency", "contact", "state"},
}
_REQUIRED: Final[Mapping[RecordKind, tuple[frozenset[str], str]]] = {
    RecordKind.ACCOUNT: (frozenset({"name"}), "the account name"),
    RecordKind.CONTACT: (
        frozenset({"name", "name.first", "name.last"}),
        "the contact's name (name, name.first or name.last)",
    ),
    RecordKind.OPPORTUNITY: (frozenset({"name"}), "the opportunity name"),
}


def mappable_targets(kind: RecordKind) -> tuple[str, ...]:
    """The top-level fields of ``kind`` a field map may fill (sub-fields such as
    ``name.first`` or ``address.city`` of these are mappable too). The others (ids,
    versions, links between the records, currency, notes, timestamps) are set by the
    conversion itself."""
    record: type = kind.record_type
    names = _field_types(record)
    return tuple(n for n in names if n not in _RESERVED[kind])


def _mappings(value: Iterable[FieldMapping | tuple[str, str]]) -> tuple[FieldMapping, ...]:
    if isinstance(value, str | bytes | Mapping):
        raise ConfigurationError("field map", "give a sequence of (source, target) pairs")
    out: list[FieldMapping] = []
    for item in value:
        if isinstance(item, FieldMapping):
            out.append(item)
        elif isinstance(item, tuple) and len(item) == 2:
            out.append(FieldMapping(item[0], item[1]))
        else:
            raise ConfigurationError("field map", f"{item!r} is not a (source, target) pair")
    return tuple(out)


def _type_name(annotation: Any) -> str:
    names = sorted(
        "None" if m is NoneType else getattr(m, "__name__", str(m)) for m in _members(annotation)
    )
    return " | ".join(names)


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


@attrs.frozen
class FieldMap:
    """Which lead field fills which field of one record type.

    Checked when built; raises ConfigurationError for an unknown lead field or record field,
    a target the conversion sets itself (ids, links, currency, notes), a source whose type
    differs from the target's (a ``T`` may fill a ``T | None``, not the reverse), two sources
    for one target (or for overlapping targets such as ``address`` and ``address.city``), or
    a map that leaves a required field (the account or opportunity name, the contact's name)
    unmapped.

        >>> FieldMap(RecordKind.ACCOUNT, [("company", "name"), ("website", "website")])
        FieldMap(kind=<RecordKind.ACCOUNT: 'account'>, mappings=(...))
    """

    kind: RecordKind
    mappings: tuple[FieldMapping, ...] = attrs.field(converter=_mappings)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.kind, RecordKind):
            raise ConfigurationError("field map", f"{self.kind!r} is not a RecordKind")
        what = f"{self.kind.value} field map"
        record = self.kind.record_type
        targets: list[str] = []
        for mapping in self.mappings:
            if not isinstance(mapping, FieldMapping):
                raise ConfigurationError(what, f"{mapping!r} is not a FieldMapping")
            source_type = _path_type(Lead, mapping.source, _SOURCE_HEADS)
            if source_type is None:
                raise ConfigurationError(what, f"{mapping.source!r} is not a mappable lead field")
            head = mapping.target.split(".", 1)[0]
            if head in _RESERVED[self.kind]:
                raise ConfigurationError(
                    what, f"{mapping.target!r} is set by the conversion and cannot be mapped"
                )
            target_type = _path_type(record, mapping.target)
            if target_type is None:
                raise ConfigurationError(
                    what, f"{mapping.target!r} is not a field of {record.__name__}"
                )
            if not _members(source_type) <= _members(target_type):
                raise ConfigurationError(
                    what,
                    f"{mapping}: a {_type_name(source_type)} cannot fill a "
                    f"{_type_name(target_type)}",
                )
            for earlier in targets:
                if _overlaps(earlier, mapping.target):
                    raise ConfigurationError(
                        what,
                        f"two sources for one target: {mapping.target!r} is already filled "
                        f"through {earlier!r}",
                    )
            targets.append(mapping.target)
        required, label = _REQUIRED[self.kind]
        if not required & set(targets):
            raise ConfigurationError(what, f"nothing fills {label}")

    @property
    def targets(self) -> tuple[str, ...]:
        """The record fields this map fills, in map order."""
        return tuple(m.target for m in self.mappings)

    def values(self, lead: Lead) -> dict[str, object]:
        """Target path -> the lead's value at the source path."""
        out: dict[str, object] = {}
        for mapping in self.mappings:
            value: object = lead
            for part in mapping.source.split("."):
                value = getattr(value, part)
            out[mapping.target] = value
        return out

    def describe(self) -> tuple[str, ...]:
        """One ``source -> target`` line per mapping."""
        return tuple(str(m) for m in self.mappings)


def _contact_map() -> FieldMap:
    return FieldMap(
        RecordKind.CONTACT,
        [
            ("name.salutation", "name.salutation"),
            ("name.first", "name.first"),
            ("name.middle", "name.middle"),
            ("name.last", "name.last"),
            ("name.suffix", "name.suffix"),
            ("job_title", "job_title"),
            ("company", "company"),
            ("business_phone", "business_phone"),
            ("mobile_phone", "mobile_phone"),
            ("email", "email"),
            ("address", "address"),
            ("source", "source"),
            ("owner", "owner"),
        ],
    )


D365_ACCOUNT_MAP: Final = FieldMap(
    RecordKind.ACCOUNT,
    [
        ("company", "name"),
        ("website", "website"),
        ("business_phone", "business_phone"),
        ("address", "address"),
        ("owner", "owner"),
    ],
)
"""Dynamics 365: company -> account name, website, business phone, address; owner."""

D365_CONTACT_MAP: Final = _contact_map()
"""Dynamics 365: the name parts, job title, phones, e-mail, address, lead source and owner
(and the company name as text, which leadkit keeps on the contact too)."""

D365_OPPORTUNITY_MAP: Final = FieldMap(
    RecordKind.OPPORTUNITY,
    [
        ("topic", "name"),
        ("budget_amount", "budget_amount"),
        ("budget", "budget"),
        ("need", "need"),
        ("purchase_timeframe", "purchase_timeframe"),
        ("purchase_process", "purchase_process"),
        ("description", "description"),
        ("estimated_value", "estimated_value"),
        ("estimated_close_date", "estimated_close_date"),
        ("source", "source"),
        ("owner", "owner"),
    ],
)
"""Dynamics 365: topic -> name, budget amount and budget, need, purchase timeframe and
process, description, estimated value and close date, lead source, owner."""


@attrs.frozen
class ConversionMaps:
    """The account, contact and opportunity maps of a policy. Raises ConfigurationError when
    a map is for another record type."""

    account: FieldMap = D365_ACCOUNT_MAP
    contact: FieldMap = D365_CONTACT_MAP
    opportunity: FieldMap = D365_OPPORTUNITY_MAP

    def __attrs_post_init__(self) -> None:
        for kind in RecordKind:
            found = self.for_kind(kind)
            if not isinstance(found, FieldMap) or found.kind is not kind:
                raise ConfigurationError(
                    "conversion maps", f"the {kind.value} map must be a FieldMap for {kind.value}"
                )

    def for_kind(self, kind: RecordKind) -> FieldMap:
        """The map of ``kind``."""
        match kind:
            case RecordKind.ACCOUNT:
                return self.account
            case RecordKind.CONTACT:
                return self.contact
            case RecordKind.OPPORTUNITY:
                return self.opportunity


D365_MAPS: Final = ConversionMaps()
"""The Dynamics 365 default maps for the three records."""


# ---------------------------------------------------------------------------------------------
# The policy


def _check_enum(name: str, value: object, kind: type[Enum]) -> None:
    if not isinstance(value, kind):
        choices = ", ".join(m.name for m in kind)
        raise ConfigurationError("qualification policy", f"{name} must be one of {choices}")


@attrs.frozen(kw_only=True)
class QualificationPolicy:
    """How an organisation qualifies leads. See ``docs/qualification.md`` for the table.

    - ``mode``: AUTO_CREATE (create every record that applies) or PROMPT (the caller answers
      which records to create, the customer and, when nothing else gives one, the currency).
    - ``currencies`` and ``default_currency``: an opportunity's currency comes from the
      request, else the lead's budget amount (then estimated value), else
      ``default_currency``. When that is None, AUTO_CREATE uses the base currency and PROMPT
      asks (suggesting the base currency). Amounts in another currency are converted at the
      registry's rates.
    - ``notes``: LINK (default), COPY or NONE, see :class:`NotesCarryOver`.
    - ``duplicates``: WARN (default), BLOCK or IGNORE, see :class:`DuplicateHandling`.
    - ``prospects_on_disqualify``: whether a disqualification may still create (or link) the
      account and contact, to keep nurturing the person.
    - ``maps``: the field maps (default :data:`D365_MAPS`).

    Raises ConfigurationError for a setting of the wrong kind or a default currency the
    registry does not allow.
    """

    mode: QualifyMode = QualifyMode.AUTO_CREATE
    currencies: CurrencyRegistry = CurrencyRegistry("EUR")
    default_currency: str | None = None
    notes: NotesCarryOver = NotesCarryOver.LINK
    duplicates: DuplicateHandling = DuplicateHandling.WARN
    prospects_on_disqualify: bool = False
    maps: ConversionMaps = D365_MAPS

    def __attrs_post_init__(self) -> None:
        _check_enum("mode", self.mode, QualifyMode)
        _check_enum("notes", self.notes, NotesCarryOver)
        _check_enum("duplicates", self.duplicates, DuplicateHandling)
        if not isinstance(self.currencies, CurrencyRegistry):
            raise ConfigurationError("qualification policy", "currencies must be a registry")
        if not isinstance(self.maps, ConversionMaps):
            raise ConfigurationError("qualification policy", "maps must be ConversionMaps")
        if not isinstance(self.prospects_on_disqualify, bool):
            raise ConfigurationError(
                "qualification policy", "prospects_on_disqualify must be true or false"
            )
        if self.default_currency is not None:
            code = _code("qualification policy default currency", self.default_currency)
            if not self.currencies.allows(code):
                listed = ", ".join(self.currencies.codes)
                raise ConfigurationError(
                    "qualification policy",
                    f"default currency {code} is not in the registry ({listed})",
                )
            object.__setattr__(self, "default_currency", code)

    @property
    def fallback_currency(self) -> str:
        """The currency used (AUTO_CREATE) or suggested (PROMPT) when neither the request nor
        the lead gives one: ``default_currency``, else the base currency."""
        return self.default_currency or self.currencies.base

    def describe(self) -> tuple[tuple[str, str], ...]:
        """(setting, value) rows, for showing the policy to a person."""
        return (
            ("mode", self.mode.name),
            ("base currency", self.currencies.base),
            ("other currencies", ", ".join(self.currencies.codes[1:]) or "-"),
            ("default currency", self.default_currency or "-"),
            ("notes carry-over", self.notes.name),
            ("duplicates", self.duplicates.name),
            ("prospects on disqualify", "yes" if self.prospects_on_disqualify else "no"),
            *((f"{k.value} map", "; ".join(self.maps.for_kind(k).describe())) for k in RecordKind),
        )


DEFAULT_POLICY: Final = QualificationPolicy()
"""AUTO_CREATE, base currency EUR, notes LINK, duplicates WARN, the Dynamics 365 maps."""

PROMPT_POLICY: Final = QualificationPolicy(mode=QualifyMode.PROMPT)
"""Like :data:`DEFAULT_POLICY`, but the caller answers which records to create."""

BCM_POLICY: Final = QualificationPolicy(notes=NotesCarryOver.COPY)
"""Outlook Business Contact Manager: converting a lead carries its notes onto the contact."""


for _preset, _name in (
    (D365_ACCOUNT_MAP, "D365_ACCOUNT_MAP"),
    (D365_CONTACT_MAP, "D365_CONTACT_MAP"),
    (D365_OPPORTUNITY_MAP, "D365_OPPORTUNITY_MAP"),
    (D365_MAPS, "D365_MAPS"),
    (DEFAULT_POLICY, "DEFAULT_POLICY"),
    (PROMPT_POLICY, "PROMPT_POLICY"),
    (BCM_POLICY, "BCM_POLICY"),
):
    named(_preset, _name)  # help() shows the name, not the expanded preset
