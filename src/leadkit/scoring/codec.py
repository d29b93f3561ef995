"""JSON-safe data for predicates, and the converter hooks scoring needs.

Predicates are written as tagged objects, e.g. ``{"op": "one_of", "field": "budget",
"values": ["CAN_BUY", "WILL_BUY"]}``; option values by member name (reading also accepts a
code or label), amounts and limits as decimal strings, custom-field values typed like custom
fields (``{"type": "decimal", "value": "10.5"}``). :func:`register_scoring_hooks` installs
these on a cattrs converter; ``leadkit.serialization.make_converter`` calls it, so the
converter round-trips scoring models, scores and predictive models as it does leads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import cattrs

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import OptionSet, OptionValue, custom_kind
from leadkit.scoring.predicates import (
    AllOf,
    AnyOf,
    AtLeast,
    AtMost,
    Contains,
    Equals,
    IsSet,
    Not,
    OneOf,
    Operand,
    Predicate,
    ScoringFieldKind,
    Ticked,
    Window,
    WithinDays,
    field_spec,
)

__all__ = ["predicate_from_data", "predicate_to_data", "register_scoring_hooks"]

_OPS: Final = {
    Ticked: "ticked",
    IsSet: "is_set",
    Equals: "equals",
    OneOf: "one_of",
    AtLeast: "at_least",
    AtMost: "at_most",
    WithinDays: "within_days",
    Contains: "contains",
    AllOf: "all_of",
    AnyOf: "any_of",
    Not: "not",
}


def _operand_to_data(field: str, value: Operand) -> Any:
    kind = field_spec(field).kind
    if kind is ScoringFieldKind.OPTION:
        assert isinstance(value, OptionSet)
        return value.name
    if kind is ScoringFieldKind.TEXT:
        return value
    custom = custom_kind(value)
    data: Any
    if isinstance(value, OptionValue):
        data = {"code": value.code, "label": value.label}
    elif isinstance(value, Decimal):
        data = str(value)
    elif isinstance(value, date):
        data = value.isoformat()
    else:
        data = value
    return {"type": custom, "value": data}


def predicate_to_data(predicate: Predicate) -> dict[str, Any]:
    """The JSON-safe form of ``predicate``."""
    op = _OPS.get(type(predicate))
    if op is None:
        raise InvalidValue("op", predicate, "not a known predicate")
    match predicate:
        case IsSet(field=field):
            return {"op": op, "field": field}
        case Equals(field=field, value=value):
            return {"op": op, "field": field, "value": _operand_to_data(field, value)}
        case OneOf(field=field, values=values):
            return {
                "op": op,
                "field": field,
                "values": [_operand_to_data(field, v) for v in values],
            }
        case (
            AtLeast(field=field, number=number, currency=currency)
            | AtMost(field=field, number=number, currency=currency)
        ):
            return {"op": op, "field": field, "number": str(number), "currency": currency}
        case WithinDays(field=field, days=days, window=window):
            return {"op": op, "field": field, "days": days, "window": window.value}
        case Contains(field=field, text=text):
            return {"op": op, "field": field, "text": text}
        case AllOf(of=of) | AnyOf(of=of):
            return {"op": op, "of": [predicate_to_data(p) for p in of]}
        case Not(predicate=inner):
            return {"op": op, "predicate": predicate_to_data(inner)}
    return {"op": op}


def _key(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if key not in data:
        raise InvalidValue(key, None, "is required")
    value = data[key]
    if isinstance(value, bool) and kind is not bool:
        raise InvalidValue(key, value, f"must be {what}")
    if not isinstance(value, kind):
        raise InvalidValue(key, value, f"must be {what}")
    return value


def _custom_operand(data: object, path: str) -> Operand:
    if not isinstance(data, Mapping) or set(data) != {"type", "value"}:
        raise InvalidValue(path, data, "a custom value is an object with 'type' and 'value'")
    kind, raw = data["type"], data["value"]
    loaders: dict[str, Callable[[Any], Operand]] = {
        "text": lambda v: _typed(v, str),
        "integer": lambda v: _typed(v, int),
        "boolean": lambda v: _typed(v, bool),
        "decimal": lambda v: Decimal(_typed(v, str)),
        "date": lambda v: date.fromisoformat(_typed(v, str)),
        "datetime": lambda v: datetime.fromisoformat(_typed(v, str)),
        "option": lambda v: OptionValue(_typed(v["code"], int), _typed(v.get("label", ""), str)),
    }
    if kind not in loaders:
        raise InvalidValue(f"{path}.type", kind, f"one of {', '.join(loaders)}")
    try:
        return loaders[kind](raw)
    except InvalidValue as e:
        raise InvalidValue(f"{path}.value", raw, e.reason) from None
    except (ValueError, TypeError, KeyError, InvalidOperation):
        raise InvalidValue(f"{path}.value", raw, f"not a {kind} value") from None


def _typed(value: Any, kind: type) -> Any:
    if isinstance(value, bool) and kind is not bool:
        raise InvalidValue("value", value, f"must be {kind.__name__}")
    if not isinstance(value, kind):
        raise InvalidValue("value", value, f"must be {kind.__name__}")
    return value


def _operand_from_data(field: str, data: object, path: str) -> Any:
    if field_spec(field).kind is ScoringFieldKind.CUSTOM:
        return _custom_operand(data, path)
    return data  # options by name, code or label; text as text: the predicate checks them


def predicate_from_data(data: object) -> Predicate:
    """Build a predicate from :func:`predicate_to_data` output.

    Raises InvalidValue naming the bad key (``of[1].field``) for malformed data or a predicate
    the field registry refuses.
    """
    if not isinstance(data, Mapping):
        raise InvalidValue("", data, "a predicate is an object with an 'op'")
    op = data.get("op")
    expected = {
        "ticked": {"op"},
        "is_set": {"op", "field"},
        "equals": {"op", "field", "value"},
        "one_of": {"op", "field", "values"},
        "at_least": {"op", "field", "number", "currency"},
        "at_most": {"op", "field", "number", "currency"},
        "within_days": {"op", "field", "days", "window"},
        "contains": {"op", "field", "text"},
        "all_of": {"op", "of"},
        "any_of": {"op", "of"},
        "not": {"op", "predicate"},
    }
    if not isinstance(op, str) or op not in expected:
        raise InvalidValue("op", op, f"one of {', '.join(expected)}")
    extra = sorted(set(data) - expected[op])
    if extra:
        raise InvalidValue(extra[0], data[extra[0]], "unknown field")
    try:
        return _build(op, data)
    except ConfigurationError as e:
        raise InvalidValue("", dict(data), e.reason) from None


def _build(op: str, data: Mapping[str, Any]) -> Predicate:
    if op == "ticked":
        return Ticked()
    if op in ("all_of", "any_of"):
        items = _key(data, "of", list, "a list of predicates")
        built = []
        for i, item in enumerate(items):
            try:
                built.append(predicate_from_data(item))
            except InvalidValue as e:
                raise e.at(f"of[{i}]") from None
        return AllOf(built) if op == "all_of" else AnyOf(built)
    if op == "not":
        try:
            return Not(predicate_from_data(data.get("predicate")))
        except InvalidValue as e:
            raise e.at("predicate") from None
    field = _key(data, "field", str, "a field path")
    try:
        field_spec(field)
    except ConfigurationError as e:
        raise InvalidValue("field", field, e.reason) from None
    match op:
        case "is_set":
            return IsSet(field)
        case "equals":
            return Equals(field, _operand_from_data(field, data.get("value"), "value"))
        case "one_of":
            raw = _key(data, "values", list, "a list of values")
            values = [_operand_from_data(field, v, f"values[{i}]") for i, v in enumerate(raw)]
            return OneOf(field, values)
        case "at_least" | "at_most":
            number = _key(data, "number", (str, int), "a decimal string")
            currency = data.get("currency")
            if currency is not None and not isinstance(currency, str):
                raise InvalidValue("currency", currency, "must be a currency code or null")
            kind = AtLeast if op == "at_least" else AtMost
            return kind(field, number, currency)
        case "within_days":
            days = _key(data, "days", int, "a whole number of days")
            window = data.get("window", Window.AROUND.value)
            try:
                parsed = Window(window)
            except ValueError:
                raise InvalidValue(
                    "window", window, f"one of {', '.join(w.value for w in Window)}"
                ) from None
            return WithinDays(field, days, parsed)
        case "contains":
            return Contains(field, _key(data, "text", str, "text"))
    raise InvalidValue("op", op, "not a known predicate")


def _is_predicate(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Predicate)


def _structure_predicate(data: object, kind: type[Predicate]) -> Predicate:
    built = predicate_from_data(data)
    if kind is not Predicate and not isinstance(built, kind):
        raise InvalidValue("op", _OPS.get(type(built)), f"expected {_OPS.get(kind, kind.__name__)}")
    return built


def register_scoring_hooks(converter: cattrs.Converter) -> None:
    """Teach ``converter`` predicates (tagged objects) and ``frozenset[str]`` (a sorted list,
    as ``Lead.ticked_criteria`` is written). Call it before hooks for classes holding these
    are generated."""
    converter.register_unstructure_hook_func(_is_predicate, predicate_to_data)
    converter.register_structure_hook_func(_is_predicate, _structure_predicate)
    converter.register_unstructure_hook_func(lambda t: t == frozenset[str], sorted)
