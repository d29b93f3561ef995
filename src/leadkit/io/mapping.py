"""Column mapping: which header feeds which lead field, suggested from the header names and
overridable, and the row parser that turns a row's cells into a :class:`LeadPatch`.

Suggestions understand the English, Swedish, Polish and German display names of the lead
fields, case- and accent-insensitively ("Efternamn", "Nazwisko", "Nachname" -> last name), and
``custom.<name>`` headers. A mapping is checked when built (``ConfigurationError`` for an
unknown column or one fed by two headers) and against a profile before an import
(:class:`MappingIncomplete` naming every required field no column supplies).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final, Literal

import attrs

from leadkit._typecheck import trusted
from leadkit.errors import ConfigurationError, FieldProblem, InvalidValue
from leadkit.fields import (
    Budget,
    CustomFields,
    CustomValue,
    LeadSource,
    Need,
    OptionSet,
    OptionValue,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadkit.io.cells import restore
from leadkit.io.columns import (
    COLUMNS,
    CUSTOM_KINDS,
    CUSTOM_PREFIX,
    column_spec,
    header_key,
    suggest_key,
)
from leadkit.io.countries import region_of_country
from leadkit.io.errors import MappingIncomplete
from leadkit.patch import LeadPatch
from leadkit.profiles import FieldProfile
from leadkit.values import Address, EmailAddress, Money, PersonName, PhoneNumber, Url

__all__ = [
    "OPTION_LABELS",
    "ColumnMapping",
    "ParseOptions",
    "ParsedRow",
    "RowError",
    "RowParser",
    "parse_date",
    "parse_decimal",
    "suggest_mapping",
]

DateOrder = Literal["DMY", "MDY"]


@attrs.frozen
class RowError:
    """Why a row was refused: its row number in the file, the header of the column (``""``
    for the row as a whole), the lead field, the cell's value and the reason."""

    row: int
    column: str
    field: str
    value: object
    reason: str

    def describe(self) -> str:
        """``row 12, column "E-post" (email): not a valid address (got "anna@")``; the cell
        as it was written, nothing when it was empty."""
        where = f'column "{self.column}"' if self.column else "the row"
        field = f" ({self.field})" if self.field and self.field != self.column else ""
        got = "" if self.value is None or self.value == "" else f' (got "{self.value}")'
        return f"row {self.row}, {where}{field}: {self.reason}{got}"


# ---------------------------------------------------------------------------------------------
# Option labels in the other languages

_OPTION_SETS: Final[Mapping[str, type[OptionSet]]] = MappingProxyType(
    {
        "source": LeadSource,
        "rating": Rating,
        "budget": Budget,
        "need": Need,
        "purchase_timeframe": PurchaseTimeframe,
        "purchase_process": PurchaseProcess,
    }
)

OPTION_LABELS: Final[Mapping[str, Mapping[str, OptionSet]]] = MappingProxyType(
    {
        "rating": MappingProxyType(
            {
                header_key(label): member
                for member, labels in (
                    (Rating.HOT, ("Het", "Varm lead", "Gorący", "Heiß")),
                    (Rating.WARM, ("Varm", "Ljummen", "Ciepły", "Warm")),
                    (Rating.COLD, ("Kall", "Zimny", "Kalt")),
                )
                for label in labels
            }
        ),
        "source": MappingProxyType(
            {
                header_key(label): member
                for member, labels in (
                    (LeadSource.ADVERTISEMENT, ("Annons", "Reklama", "Werbung", "Anzeige")),
                    (LeadSource.EMPLOYEE_REFERRAL, ("Medarbetarrekommendation",
                                                    "Polecenie pracownika",
                                                    "Mitarbeiterempfehlung")),
                    (LeadSource.EXTERNAL_REFERRAL, ("Extern rekommendation", "Polecenie",
                                                    "Empfehlung")),
                    (LeadSource.PARTNER, ("Partner", "Partnerföretag")),
                    (LeadSource.PUBLIC_RELATIONS, ("PR", "Public relations")),
                    (LeadSource.SEMINAR, ("Seminarium", "Seminar", "Webinar")),
                    (LeadSource.TRADE_SHOW, ("Mässa", "Targi", "Messe")),
                    (LeadSource.WEB, ("Webb", "Webbplats", "Internet", "Strona internetowa",
                                      "Website", "Webseite")),
                    (LeadSource.WORD_OF_MOUTH, ("Mun till mun", "Poczta pantoflowa",
                                                "Mundpropaganda")),
                    (LeadSource.OTHER, ("Annat", "Övrigt", "Inne", "Sonstige", "Andere")),
                )
                for label in labels
            }
        ),
    }
)  # fmt: skip
"""Option labels in Swedish, Polish and German (folded) that the parser understands besides
the English labels, member names and codes every option set accepts."""


# ---------------------------------------------------------------------------------------------
# The mapping


def _columns(value: Iterable[tuple[str, str | None]]) -> tuple[tuple[str, str | None], ...]:
    return tuple((str(h), k) for h, k in value)


def _kinds(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _value_maps(
    value: Mapping[str, Mapping[str, str | int]],
) -> Mapping[str, Mapping[str, str | int]]:
    return MappingProxyType(
        {
            key: MappingProxyType({header_key(k): v for k, v in m.items()})
            for key, m in value.items()
        }
    )


@attrs.frozen
class ColumnMapping:
    """Which column key each header feeds (``None``: the column is ignored), in file order.

    ``custom_kinds`` names how a custom column is read (``{"employees": "integer"}``; text by
    default); ``values`` maps a file's own option labels per column
    (``{"source": {"Mässa 2026": "Trade Show"}}``, the target as a label, name or code).

    Raises ConfigurationError for an unknown or export-only column, a column fed by two
    headers, a header listed twice, an unknown custom kind or a value map for a column that is
    not an option set.
    """

    columns: tuple[tuple[str, str | None], ...] = attrs.field(converter=_columns)
    custom_kinds: Mapping[str, str] = attrs.field(factory=dict, converter=_kinds)
    values: Mapping[str, Mapping[str, str | int]] = attrs.field(factory=dict, converter=_value_maps)

    def __attrs_post_init__(self) -> None:
        headers = [h for h, _ in self.columns]
        if len(set(headers)) != len(headers):
            raise ConfigurationError("column mapping", "a header is listed twice")
        seen: dict[str, str] = {}
        for header, key in self.columns:
            if key is None:
                continue
            spec = column_spec(key)
            if not spec.importable:
                raise ConfigurationError(
                    f"column mapping of {header!r}", f"{key!r} is written by export only"
                )
            if key in seen:
                raise ConfigurationError(
                    "column mapping", f"{seen[key]!r} and {header!r} both map to {key!r}"
                )
            seen[key] = header
        for name, kind in self.custom_kinds.items():
            if kind not in CUSTOM_KINDS:
                raise ConfigurationError(
                    f"custom column {name!r}", f"kind {kind!r}; known: {', '.join(CUSTOM_KINDS)}"
                )
        for key, table in self.values.items():
            option_set = _OPTION_SETS.get(key)
            if option_set is None:
                raise ConfigurationError(f"value map of {key!r}", "not an option-set column")
            for label, target in table.items():
                try:
                    option_set.parse(target, key)
                except InvalidValue as e:
                    raise ConfigurationError(
                        f"value map of {key!r}", f"{label}: {e.reason}"
                    ) from None

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header, mapped or not, in file order."""
        return tuple(h for h, _ in self.columns)

    @property
    def mapped(self) -> Mapping[str, str]:
        """Column key -> the header that feeds it."""
        return {k: h for h, k in self.columns if k is not None}

    @property
    def ignored(self) -> tuple[str, ...]:
        """The headers no column takes (their cells are not imported)."""
        return tuple(h for h, k in self.columns if k is None)

    def key_of(self, header: str) -> str | None:
        """The column key ``header`` feeds (None if ignored). Raises ConfigurationError for a
        header the mapping does not list."""
        for h, k in self.columns:
            if h == header:
                return k
        raise ConfigurationError("column mapping", f"no header {header!r}")

    def override(
        self,
        changes: Mapping[str, str | None],
        *,
        custom_kinds: Mapping[str, str] | None = None,
        values: Mapping[str, Mapping[str, str | int]] | None = None,
    ) -> ColumnMapping:
        """A copy with ``changes`` applied (header -> column key, or None to ignore it).

        A key taken from another header moves: that header becomes ignored. Raises
        ConfigurationError for a header the mapping does not list, or as the constructor does.
        """
        unknown = sorted(set(changes) - set(self.headers))
        if unknown:
            raise ConfigurationError("column mapping", f"no header {unknown[0]!r} in the file")
        taken = {k for k in changes.values() if k is not None}
        columns = []
        for header, key in self.columns:
            if header in changes:
                columns.append((header, changes[header]))
            else:
                columns.append((header, None if key in taken else key))
        kinds = dict(self.custom_kinds) | dict(custom_kinds or {})
        merged = dict(self.values) | dict(values or {})
        return ColumnMapping(columns, kinds, merged)

    def missing(self, profile: FieldProfile) -> tuple[str, ...]:
        """The fields ``profile`` requires that no mapped column supplies."""
        supplied = {p for key in self.mapped for p in column_spec(key).supplies}
        return tuple(f for f in profile.required_fields if f not in supplied)

    def check(self, profile: FieldProfile) -> None:
        """Raise MappingIncomplete naming every field ``profile`` requires that no column
        supplies."""
        missing = self.missing(profile)
        if missing:
            raise MappingIncomplete.of(
                FieldProblem(
                    field,
                    None,
                    f"is required by the {profile.name} profile but no column is mapped to it",
                )
                for field in missing
            )


def suggest_mapping(
    headers: Sequence[str],
    *,
    custom_kinds: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str | int]] | None = None,
    unknown_as_custom: bool = False,
) -> ColumnMapping:
    """Suggest a mapping from header names (English, Swedish, Polish or German display names,
    case- and accent-insensitive; ``custom.<name>`` for a custom field).

    A header naming a column an earlier header already took is left unmapped. With
    ``unknown_as_custom`` an unknown header becomes a text custom field named after it
    (``"Kundnummer"`` -> ``custom.kundnummer``) when that name is valid.
    """
    taken: set[str] = set()
    columns: list[tuple[str, str | None]] = []
    for header in headers:
        key = suggest_key(header)
        if key is None and unknown_as_custom:
            slug = re.sub(r"[^a-z0-9]+", "_", header_key_spaced(header)).strip("_")[:64]
            if re.match(r"^[a-z][a-z0-9_]*$", slug):
                key = CUSTOM_PREFIX + slug
        if key is not None and key in taken:
            key = None
        if key is not None:
            taken.add(key)
        columns.append((header, key))
    return ColumnMapping(columns, custom_kinds or {}, values or {})


def header_key_spaced(header: str) -> str:
    """Like :func:`header_key` but keeping word breaks as spaces (for custom names)."""
    return " ".join(header_key(word) for word in re.split(r"[\s\-_./:]+", header) if word)


# ---------------------------------------------------------------------------------------------
# Parsing cells


@attrs.frozen
class ParseOptions:
    """How cell text is read: the default phone region (numbers without a country code,
    ``"SE"``), the default currency of amounts without a currency column and the order of
    slash dates (``DMY``: 31/12/2026; ``MDY``: 12/31/2026)."""

    phone_region: str | None = None
    currency: str | None = None
    date_order: DateOrder = "DMY"


_PLAIN_DECIMAL: Final = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED: Final = re.compile(r"^[+-]?\d+(\.\d+)?$")


def parse_decimal(text: str, field: str = "amount") -> Decimal:
    """A decimal from cell text: ``1234.5``, ``1 234,50``, ``1.234,50``, ``1,234.50``,
    ``1'234.50``, ``1E+3``. With both separators the last one is the decimal mark; a single
    comma alone is a decimal comma. Raises InvalidValue naming ``field``."""
    t = text.strip()
    if _PLAIN_DECIMAL.match(t):
        return Decimal(t)
    t = re.sub(r"[\s\u00a0\u202f']", "", t)
    commas, dots = t.count(","), t.count(".")
    if commas and dots:
        mark = "," if t.rfind(",") > t.rfind(".") else "."
        group = "." if mark == "," else ","
        t = t.replace(group, "").replace(mark, ".")
    elif commas == 1:
        t = t.replace(",", ".")
    elif commas > 1:
        t = t.replace(",", "")
    elif dots > 1:
        t = t.replace(".", "")
    if not _GROUPED.match(t):
        raise InvalidValue(field, text, "not a number")
    try:
        return Decimal(t)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise InvalidValue(field, text, "not a number") from None


_DOTTED: Final = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_SLASHED: Final = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YMD_SLASH: Final = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")


def parse_date(text: str, order: DateOrder = "DMY", field: str = "date") -> date:
    """A date from ``2026-12-31`` (a date-time's date part too), ``31.12.2026``,
    ``2026/12/31`` or a slash date in ``order``. Raises InvalidValue naming ``field``."""
    t = text.strip()
    try:
        if len(t) >= 10 and t[4:5] == "-":
            return date.fromisoformat(t[:10]) if len(t) == 10 else datetime.fromisoformat(t).date()
        if m := _DOTTED.match(t):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _YMD_SLASH.match(t):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _SLASHED.match(t):
            first, second = int(m[1]), int(m[2])
            day, month = (first, second) if order == "DMY" else (second, first)
            return date(int(m[3]), month, day)
    except ValueError:
        raise InvalidValue(field, text, "not a valid date") from None
    raise InvalidValue(field, text, "not a date (use YYYY-MM-DD or DD.MM.YYYY)")


_TRUE: Final = frozenset({"true", "yes", "y", "1", "x", "ja", "j", "tak", "t", "wahr"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "nej", "nie", "nein", "falsch", "f"})


def _boolean(text: str, field: str) -> bool:
    folded = header_key(text)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise InvalidValue(field, text, "not a yes/no value (true/false, yes/no, ja/nej, tak/nie)")


def _custom(text: str, kind: str, field: str, order: DateOrder) -> CustomValue:
    if kind == "text":
        return text
    if kind == "integer":
        if not re.match(r"^[+-]?\d+$", text):
            raise InvalidValue(field, text, "not a whole number")
        return int(text)
    if kind == "decimal":
        return parse_decimal(text, field)
    if kind == "boolean":
        return _boolean(text, field)
    if kind == "date":
        return parse_date(text, order, field)
    if kind == "datetime":
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValue(field, text, "not an ISO 8601 date-time") from None
        if value.tzinfo is None:
            raise InvalidValue(field, text, "needs a UTC offset (such as +01:00)")
        return value
    if not re.match(r"^[+-]?\d+$", text):
        raise InvalidValue(field, text, "not an option code")
    return OptionValue(int(text))


_NAME_KEYS: Final = {
    "salutation": "salutation",
    "first_name": "first",
    "middle_name": "middle",
    "last_name": "last",
    "suffix": "suffix",
}
_ADDRESS_KEYS: Final = {
    "street1": "line1",
    "street2": "line2",
    "street3": "line3",
    "city": "city",
    "state_or_province": "state_or_province",
    "postal_code": "postal_code",
    "country": "country",
}
_TEXT_KEYS: Final = frozenset({"topic", "job_title", "company", "initiated_by", "description"})
_MONEY: Final = (
    ("budget_amount", "budget_currency"),
    ("estimated_value", "estimated_value_currency"),
)


# The row parser's own construction path: every argument it passes is exactly of its
# parameter's type (cell text is a ``str`` from ``str.strip``, the rest are values built here),
# so the constructors' argument type checks could never refuse one and are skipped
# (leadkit._typecheck.trusted). Each class's own validation still runs, with the same errors.
_NEW_PHONE: Final = trusted(PhoneNumber)
_NEW_EMAIL: Final = trusted(EmailAddress)
_NEW_NAME: Final = trusted(PersonName)
_NEW_ADDRESS: Final = trusted(Address)
_NEW_MONEY: Final = trusted(Money)
_NEW_PATCH: Final = trusted(LeadPatch)


@attrs.frozen
class ParsedRow:
    """One parsed row: its number, the patch of its good cells, the id cell (``""`` when
    none), the column keys it filled and its errors (the row is refused when there are
    any)."""

    number: int
    patch: LeadPatch | None
    ident: str
    given: frozenset[str]
    errors: tuple[RowError, ...]


class RowParser:
    """Turns the cells of one row into a :class:`LeadPatch` plus the id cell, collecting every
    bad cell as a :class:`RowError` instead of stopping at the first.

    Cells are restored (:func:`leadkit.io.cells.restore`) and trimmed; an empty cell leaves its
    field unset. Built for one header row and mapping; cheap to call per row.
    """

    def __init__(
        self, mapping: ColumnMapping, headers: Sequence[str], options: ParseOptions
    ) -> None:
        if tuple(headers) != mapping.headers:
            raise ConfigurationError("column mapping", "was made for other headers than the file's")
        self._mapping = mapping
        self._options = options
        self._width = len(headers)
        self._plan: tuple[tuple[int, str, str], ...] = tuple(
            (i, key, header) for i, (header, key) in enumerate(mapping.columns) if key is not None
        )

    @property
    def mapping(self) -> ColumnMapping:
        """The mapping the parser reads with."""
        return self._mapping

    def header_for(self, path: str) -> str:
        """The header of the first mapped column that supplies lead field ``path``."""
        for _, key, header in self._plan:
            if path in column_spec(key).supplies or _primary(key) == path:
                return header
        return ""

    def parse(self, number: int, cells: Sequence[str]) -> ParsedRow:
        """The row's patch (of the cells that parsed), id cell, the columns it fills and its
        errors."""
        errors: list[RowError] = []
        texts: dict[str, tuple[str, str]] = {}
        for index, key, header in self._plan:
            if index < len(cells):
                text = restore(cells[index]).strip()
                if "\x00" in text:
                    # The SQL store refuses it on every engine (PostgreSQL text cannot hold
                    # one): the row is refused here, not the whole import at commit.
                    shown = text.replace("\x00", "\\0")
                    nul = "holds a NUL character (U+0000)"
                    errors.append(RowError(number, header, _primary(key), shown, nul))
                elif text:
                    texts[key] = (text, header)
        if len(cells) > self._width:
            extra = [c for c in cells[self._width :] if c.strip()]
            if extra:
                errors.append(
                    RowError(number, "", "", extra[0], "more cells than the header has columns")
                )
        values: dict[str, Any] = {}
        opts = self._options
        # A number without +country is read in the row's country, else the default region.
        country = region_of_country(texts["country"][0]) if "country" in texts else None
        phone_region = country or opts.phone_region

        def fail(key: str, e: InvalidValue) -> None:
            text, header = texts[key]
            for problem in e.problems:
                errors.append(RowError(number, header, _primary(key), text, problem.reason))

        for key, (text, _) in texts.items():
            try:
                if key in _TEXT_KEYS:
                    values[key] = text
                elif key in ("business_phone", "mobile_phone"):
                    values[key] = _NEW_PHONE(text, phone_region)
                elif key == "email":
                    values[key] = _NEW_EMAIL(text)
                elif key == "website":
                    values[key] = Url(text)
                elif key in _OPTION_SETS:
                    values[key] = self._option(key, text)
                elif key == "estimated_close_date":
                    values[key] = parse_date(text, opts.date_order, key)
            except InvalidValue as e:
                fail(key, e)
        self._name(texts, values, fail)
        self._address(texts, values, fail)
        self._money(texts, values, fail, errors, number)
        self._custom_fields(texts, values, fail)
        ident = texts.get("id", ("", ""))[0]
        given = frozenset(texts)
        try:
            patch: LeadPatch | None = _NEW_PATCH(**values)
        except InvalidValue as e:  # pragma: no cover - every value was checked above
            errors += [RowError(number, "", p.field, p.value, p.reason) for p in e.problems]
            patch = None
        return ParsedRow(number, patch, ident, given, tuple(errors))

    def _option(self, key: str, text: str) -> OptionSet:
        kind = _OPTION_SETS[key]
        folded = header_key(text)
        own = self._mapping.values.get(key)
        if own is not None and folded in own:
            return kind.parse(own[folded], key)
        builtin = OPTION_LABELS.get(key, {}).get(folded)
        if builtin is not None:
            return builtin
        return kind.parse(text, key)

    @staticmethod
    def _name(texts: dict[str, tuple[str, str]], values: dict[str, Any], fail: Any) -> None:
        parts = {_NAME_KEYS[k]: texts[k][0] for k in _NAME_KEYS if k in texts}
        if "full_name" not in texts and not parts:
            return
        base = _NEW_NAME()
        if "full_name" in texts and "first" not in parts and "last" not in parts:
            try:
                base = PersonName.parse(texts["full_name"][0])
            except InvalidValue as e:
                fail("full_name", e)
                return
        fields = {**attrs.asdict(base), **parts}
        try:
            values["name"] = _NEW_NAME(**fields)
        except InvalidValue as e:
            part = e.field.rpartition(".")[2]
            key = next((k for k, p in _NAME_KEYS.items() if p == part and k in texts), "full_name")
            fail(key, e)

    @staticmethod
    def _address(texts: dict[str, tuple[str, str]], values: dict[str, Any], fail: Any) -> None:
        parts = {_ADDRESS_KEYS[k]: texts[k][0] for k in _ADDRESS_KEYS if k in texts}
        if not parts:
            return
        try:
            values["address"] = _NEW_ADDRESS(**parts)
        except InvalidValue as e:
            part = e.field.rpartition(".")[2]
            fail(next(k for k, p in _ADDRESS_KEYS.items() if p == part), e)

    def _money(
        self,
        texts: dict[str, tuple[str, str]],
        values: dict[str, Any],
        fail: Any,
        errors: list[RowError],
        number: int,
    ) -> None:
        for amount_key, currency_key in _MONEY:
            if amount_key not in texts:
                continue
            text, header = texts[amount_key]
            currency = (
                texts.get(currency_key, texts.get("currency", ("", "")))[0]
                or self._options.currency
            )
            if not currency:
                errors.append(
                    RowError(
                        number,
                        header,
                        amount_key,
                        text,
                        "has no currency: map a currency column or set the policy's currency",
                    )
                )
                continue
            try:
                amount = parse_decimal(text, amount_key)
            except InvalidValue as e:
                fail(amount_key, e)
                continue
            try:
                values[amount_key] = _NEW_MONEY(amount, currency)
            except InvalidValue as e:
                key = (
                    amount_key
                    if e.field == "amount"
                    else (currency_key if currency_key in texts else "currency")
                )
                if key not in texts:
                    errors.append(RowError(number, header, amount_key, currency, e.reason))
                else:
                    fail(key, e)

    def _custom_fields(
        self, texts: dict[str, tuple[str, str]], values: dict[str, Any], fail: Any
    ) -> None:
        found: dict[str, CustomValue] = {}
        for key, (text, _) in texts.items():
            if not key.startswith(CUSTOM_PREFIX):
                continue
            name = key[len(CUSTOM_PREFIX) :]
            kind = self._mapping.custom_kinds.get(name, "text")
            try:
                found[name] = _custom(text, kind, f"custom_fields.{name}", self._options.date_order)
            except InvalidValue as e:
                fail(key, e)
        if found:
            try:
                values["custom_fields"] = CustomFields(found)
            except InvalidValue as e:
                name = e.field.rpartition(".")[2]
                fail(
                    CUSTOM_PREFIX + name if CUSTOM_PREFIX + name in texts else next(iter(texts)), e
                )


def _primary(key: str) -> str:
    """The lead field a column writes (``street1`` -> ``address.line1``)."""
    if key in _NAME_KEYS:
        return f"name.{_NAME_KEYS[key]}"
    if key == "full_name":
        return "name.full"
    if key in _ADDRESS_KEYS:
        return f"address.{_ADDRESS_KEYS[key]}"
    if key in ("budget_currency", "currency"):
        return "budget_amount"
    if key == "estimated_value_currency":
        return "estimated_value"
    if key.startswith(CUSTOM_PREFIX):
        return f"custom_fields.{key[len(CUSTOM_PREFIX) :]}"
    if key in COLUMNS:
        return key
    return key
