"""The JSON dialect for APIs: the lead fields a host's API accepts, and a lead shown with labels.

Input (:func:`parse_lead_fields`), one object of lead field names:

- text fields (``topic``, ``company``, ``job_title``, ``description``, ...) as strings;
- ``name`` as a full-name string (``"Dr. Ada Lovelace"``, parsed as Outlook does) or an
  object of parts (``{"first": "Ada", "last": "Lovelace"}``);
- ``address`` as an object of parts (``line1``, ``city``, ``postal_code``, ``country``, ...);
- option sets (``source``, ``rating``, ``budget``, ``need``, ``purchase_timeframe``,
  ``purchase_process``) by label (``"Web"``), member name or Dynamics 365 code (``8``);
- money (``budget_amount``, ``estimated_value``) as ``{"amount": "25000", "currency":
  "EUR"}``, as text ``"5000 SEK"`` or as a pair ``["5000", "SEK"]``; amounts are decimal
  strings or integers, never floats;
- phone numbers as text, read with the host's default region when they have no
  ``+country`` (``phone_region``);
- ``estimated_close_date`` as an ISO date (``"2026-12-31"``);
- ``custom_fields`` as an object of name to value;
- ``null`` clears a field.

Unknown keys are refused with their names; every bad field is reported at once, as one
:class:`~leadkit.errors.InvalidValue` whose ``problems`` carry the field paths
(``address.postal_code``, ``budget_amount.currency``).

Output (:func:`lead_json`): the stored lead document (the converter's form) with each option
set shown as ``{"code": 8, "label": "Web"}`` and the status as labels, for an API's readers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import Any, Final

from leadkit.errors import FieldProblem, InvalidValue
from leadkit.fields import OptionSet
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.serialization import LeadkitConverter, make_converter
from leadkit.values import Address, Money, PersonName, PhoneNumber

__all__ = ["OPTION_FIELDS", "lead_json", "parse_lead_fields", "parse_money"]

OPTION_FIELDS: Final[tuple[str, ...]] = (
    "source",
    "rating",
    "budget",
    "need",
    "purchase_timeframe",
    "purchase_process",
    "score_rating",
)
"""The lead's option-set fields: codes or labels in, ``{"code", "label"}`` out."""

_MONEY_FIELDS: Final = frozenset({"budget_amount", "estimated_value"})
_PHONE_FIELDS: Final = frozenset({"business_phone", "mobile_phone"})
_NAME_PARTS: Final = ("first", "last", "middle", "salutation", "suffix")
_ADDRESS_PARTS: Final = (
    "line1",
    "line2",
    "line3",
    "city",
    "state_or_province",
    "postal_code",
    "country",
)


def _parts(field: str, value: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise InvalidValue.many(
            FieldProblem(f"{field}.{k}", value[k], f"unknown part (one of {', '.join(allowed)})")
            for k in unknown
        )
    return dict(value)


def parse_money(value: object, field: str = "money") -> Money | None:
    """Money from the API forms: a Money, ``{"amount", "currency"}``, ``"5000 SEK"``, a pair
    ``(amount, currency)``, or None. Raises InvalidValue naming ``field`` (``field.amount``,
    ``field.currency`` for a bad part)."""
    if value is None or isinstance(value, Money):
        return value
    amount: object
    currency: object
    if isinstance(value, Mapping):
        parts = _parts(field, value, ("amount", "currency"))
        missing = [p for p in ("amount", "currency") if p not in parts]
        if missing:
            raise InvalidValue(f"{field}.{missing[0]}", None, "is required")
        amount, currency = parts["amount"], parts["currency"]
    elif isinstance(value, str):
        pieces = value.split()
        if len(pieces) != 2:
            raise InvalidValue(field, value, "must be an amount and a currency, e.g. '5000 SEK'")
        amount, currency = pieces
    elif isinstance(value, tuple | list) and len(value) == 2:
        amount, currency = value
    else:
        raise InvalidValue(
            field, value, 'must be {"amount", "currency"}, "5000 SEK" or (amount, currency)'
        )
    if isinstance(amount, float):
        raise InvalidValue(f"{field}.amount", amount, "must be a decimal string, not a float")
    try:
        return Money(amount, currency)
    except InvalidValue as e:
        raise e.at(field) from None


def _name(value: object) -> object:
    if isinstance(value, Mapping):
        try:
            return PersonName(**_parts("name", value, _NAME_PARTS))
        except InvalidValue as e:
            raise e if e.field.startswith("name.") else e.at("name") from None
    return value


def _address(value: object) -> object:
    if isinstance(value, Mapping):
        return Address(**_parts("address", value, _ADDRESS_PARTS))
    return value


def _date(value: object) -> object:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()) if value.strip() else None
        except ValueError:
            raise InvalidValue("estimated_close_date", value, "not an ISO date") from None
    return value


def _phone(field: str, region: str | None) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if isinstance(value, str) and value.strip():
            try:
                return PhoneNumber(value, region)
            except InvalidValue as e:
                raise InvalidValue(field, value, e.reason) from None
        return value

    return convert


def parse_lead_fields(values: Mapping[str, Any], *, phone_region: str | None = None) -> LeadPatch:
    """The :class:`~leadkit.patch.LeadPatch` an API body (or keyword arguments) asks for, in
    the dialect of the module doc; ``phone_region`` reads numbers without ``+country``.

    Raises InvalidValue listing every problem at once: each unknown key by name, each bad
    value by its field path.
    """
    if not isinstance(values, Mapping):
        raise InvalidValue("body", values, "must be an object of lead fields")
    problems: list[FieldProblem] = []
    converted: dict[str, object] = {}
    for key, value in values.items():
        if key not in PATCH_FIELDS:
            problems.append(FieldProblem(str(key), value, "not an editable lead field"))
            continue
        try:
            if key in _MONEY_FIELDS:
                converted[key] = parse_money(value, key)
            elif key in _PHONE_FIELDS:
                converted[key] = _phone(key, phone_region)(value)
            elif key == "name":
                converted[key] = _name(value)
            elif key == "address":
                converted[key] = _address(value)
            elif key == "estimated_close_date":
                converted[key] = _date(value)
            else:
                converted[key] = value
        except InvalidValue as e:
            problems += e.problems
    if not problems:
        try:
            return LeadPatch(**converted)  # type: ignore[arg-type]
        except InvalidValue as e:
            found = _field_problems(converted)  # every bad field, not only the first
            raise (InvalidValue.many(found) if found else e) from None
    raise InvalidValue.many([*problems, *_field_problems(converted)])


def _field_problems(converted: Mapping[str, object]) -> list[FieldProblem]:
    """The problems of each field on its own."""
    problems: list[FieldProblem] = []
    for key, value in converted.items():
        try:
            LeadPatch(**{key: value})  # type: ignore[arg-type]
        except InvalidValue as e:
            problems += e.problems
    return problems


@cache
def _converter() -> LeadkitConverter:
    """One converter for :func:`lead_json`, built on first use (not when leadkit loads)."""
    return make_converter()


def _labelled(value: object, option: OptionSet | None) -> object:
    if option is None:
        return None
    return {"code": option.code, "label": option.label}


def lead_json(lead: Lead) -> dict[str, Any]:
    """The lead as an API shows it: the stored document (see
    :func:`~leadkit.serialization.make_converter`) with option sets as ``{"code", "label"}``,
    ``state`` and ``reason`` as ``{"code", "label"}`` too, and no pending events. Raises
    nothing for a lead built by leadkit."""
    data: dict[str, Any] = _converter().unstructure(lead)
    for name in OPTION_FIELDS:
        data[name] = _labelled(data.get(name), getattr(lead, name))
    data["state"] = {"code": lead.state.value, "label": lead.state.label}
    data["reason"] = {"code": lead.reason.code, "label": lead.reason.label}
    if lead.score is not None:
        data["score"] = str(lead.score)
    data.pop("pending_events", None)
    return data
