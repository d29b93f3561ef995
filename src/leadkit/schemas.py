"""JSON Schemas (draft 2020-12) of the documents leadkit writes, generated from the attrs
classes the converter serialises, so they never drift from the code.

- :func:`document_schema` — the converter's envelope (``{"schema", "kind", "data"}``) of any
  type it claims (:data:`~leadkit.serialization.CONVERTED_TYPES`), e.g. the stored lead;
- :func:`data_schema` — the ``data`` part alone (what ``converter.unstructure`` gives);
- :func:`event_schemas` — one envelope schema per event type;
- :func:`lead_json_schema` — the API output mode of :func:`leadkit.dialect.lead_json`
  (option sets as ``{"code", "label"}``);
- :func:`problem_schema` — the problem details of :func:`leadkit.problem`.

Every schema's ``$id`` carries the document schema version (``urn:leadkit:schema:v1:Lead``),
so a host can keep the schemas of each version it stores. Types the converter writes in
their own way (ids, money, phone numbers, status reasons, custom fields, option sets, dates)
have fixed fragments here; every attrs class is walked field by field. A type with no
fragment raises ConfigurationError when its schema is asked for — never a silent ``{}``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, Union, get_args, get_origin

import attrs

from leadkit.conversion_request import QualifyRequest
from leadkit.dialect import _ADDRESS_PARTS, _NAME_PARTS, OPTION_FIELDS
from leadkit.errors import ConfigurationError
from leadkit.events import EVENT_TYPES
from leadkit.fields import CustomFields, OptionSet
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.problems import PROBLEM_TYPE_PREFIX
from leadkit.records import Opportunity
from leadkit.serialization import _BY_NAME, SCHEMA_VERSION
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import StakeholderRole
from leadkit.values import EmailAddress, Money, PhoneNumber, RecordId, Url

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "data_schema",
    "document_schema",
    "event_schemas",
    "lead_fields_schema",
    "lead_json_schema",
    "problem_schema",
    "qualify_request_schema",
    "schema_id",
]

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of every schema here."""

_DECIMAL: Final = {"type": "string", "pattern": r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"}
_DATETIME: Final = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}(:\d{2}(\.\d+)?)?|Z)$",
}
_DATE: Final = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_MONEY: Final = {
    "type": "object",
    "properties": {
        "amount": _DECIMAL,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
    "required": ["amount", "currency"],
    "additionalProperties": False,
}
_PHONE: Final = {
    "type": "object",
    "properties": {
        "raw": {"type": "string"},
        "region": {"type": ["string", "null"]},
        "e164": {"type": "string", "pattern": r"^\+\d+$"},
        "extension": {"type": "string"},
    },
    "required": ["raw", "region", "e164"],
    "additionalProperties": False,
}
_CUSTOM: Final = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "type": {
                "enum": ["text", "integer", "decimal", "boolean", "date", "datetime", "option"]
            },
            "value": {},
        },
        "required": ["type", "value"],
        "additionalProperties": False,
    },
}


def _strict(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """An object with exactly these properties (those in ``required`` must be present)."""
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def schema_id(name: str) -> str:
    """The ``$id`` of a schema: ``urn:leadkit:schema:v<SCHEMA_VERSION>:<name>``."""
    return f"urn:leadkit:schema:v{SCHEMA_VERSION}:{name}"


def _enum(kind: type[Enum]) -> dict[str, Any]:
    if issubclass(kind, OptionSet):
        return {"type": "integer", "enum": [m.code for m in kind]}
    if kind in _BY_NAME:
        return {"type": "string", "enum": [m.name for m in kind]}
    return {"enum": [m.value for m in kind]}


class _Walker:
    """Builds a schema with ``$defs`` for every attrs class met."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}

    def of(self, kind: Any) -> dict[str, Any]:
        origin = get_origin(kind)
        if origin in (Union, types.UnionType):
            return {"anyOf": [self.of(arg) for arg in get_args(kind)]}
        if origin in (tuple, frozenset, list):
            args = get_args(kind)
            return {"type": "array", "items": self.of(args[0])}
        if origin in (dict, Mapping) or origin is typing.Mapping:
            return {"type": "object", "additionalProperties": self.of(get_args(kind)[1])}
        if kind is type(None) or kind is None:
            return {"type": "null"}
        if kind is Any:
            return {}
        return self._leaf(kind)

    def _leaf(self, kind: Any) -> dict[str, Any]:
        fixed: dict[Any, dict[str, Any]] = {
            str: {"type": "string"},
            bool: {"type": "boolean"},
            int: {"type": "integer"},
            float: {"type": "number"},
            Decimal: _DECIMAL,
            datetime: _DATETIME,
            date: _DATE,
            EmailAddress: {"type": "string"},
            Url: {"type": "string"},
            PhoneNumber: _PHONE,
            Money: _MONEY,
            CustomFields: _CUSTOM,
            StakeholderRole: {"type": "string", "minLength": 1},
        }
        if kind in fixed:
            return dict(fixed[kind])
        if isinstance(kind, type) and issubclass(kind, RecordId):
            return {"type": "string", "minLength": 1}
        if isinstance(kind, type) and issubclass(kind, Enum):
            return _enum(kind)
        if kind is StatusReason:
            return self._status_reason()
        if kind is LeadPatch:
            return self._patch()
        if isinstance(kind, type) and attrs.has(kind):
            return self._class(kind)
        raise ConfigurationError("JSON schema", f"no schema for {kind!r}")

    def _status_reason(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "code": {"type": "integer", "minimum": 0},
                "label": {"type": "string", "minLength": 1},
                "state": _enum(LeadState),
            },
            "required": ["code", "label", "state"],
            "additionalProperties": False,
        }

    def _patch(self) -> dict[str, Any]:
        types_by_name = {f.name: f.type for f in attrs.fields(attrs.resolve_types(Lead))}
        return {
            "type": "object",
            "properties": {
                name: {"anyOf": [self.of(types_by_name[name]), {"type": "null"}]}
                for name in PATCH_FIELDS
            },
            "additionalProperties": False,
        }

    def _class(self, kind: type) -> dict[str, Any]:
        name = kind.__name__
        if name not in self.defs:
            self.defs[name] = {}  # a placeholder: recursive types refer to it
            self.defs[name] = self._object(kind)
        return {"$ref": f"#/$defs/{name}"}

    def _object(self, kind: type) -> dict[str, Any]:
        fields = [f for f in attrs.fields(attrs.resolve_types(kind)) if f.name != "pending_events"]
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in fields:
            properties[field.name] = self.of(field.type)
            if field.default is attrs.NOTHING:
                required.append(field.name)
        if kind in EVENT_TYPES.values():
            properties = {"type": {"const": kind.__name__}, **properties}
            required = ["type", *required]
        if kind is Opportunity:
            properties["customer"] = {"type": "string", "minLength": 1}
            properties["customer_kind"] = {"enum": ["account", "contact"]}
            required.append("customer_kind")
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }


def _finish(name: str, body: dict[str, Any], walker: _Walker) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, "$id": schema_id(name), **body}
    if walker.defs:
        schema["$defs"] = dict(sorted(walker.defs.items()))
    return schema


def data_schema(kind: type) -> dict[str, Any]:
    """The schema of ``converter.unstructure(value)`` for a value of ``kind``. Raises
    ConfigurationError for a type with no schema."""
    walker = _Walker()
    return _finish(f"{kind.__name__}.data", walker.of(kind), walker)


def document_schema(kind: type) -> dict[str, Any]:
    """The schema of ``converter.dump(value)`` (the envelope with the schema version) for a
    value of ``kind``: the stored lead document for ``Lead``. Raises ConfigurationError for a
    type with no schema."""
    walker = _Walker()
    body = {
        "type": "object",
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "kind": {"const": kind.__name__},
            "data": walker.of(kind),
        },
        "required": ["schema", "kind", "data"],
        "additionalProperties": False,
    }
    return _finish(kind.__name__, body, walker)


def event_schemas() -> dict[str, dict[str, Any]]:
    """One envelope schema per event type, by type name. Raises nothing."""
    return {name: document_schema(kind) for name, kind in EVENT_TYPES.items()}


def qualify_request_schema() -> dict[str, Any]:
    """The schema of a stored :class:`~leadkit.conversion.QualifyRequest` document."""
    return document_schema(QualifyRequest)


def lead_json_schema() -> dict[str, Any]:
    """The schema of :func:`leadkit.dialect.lead_json`: the lead's data with option sets,
    ``state`` and ``reason`` as ``{"code", "label"}`` (null for an empty option)."""
    walker = _Walker()
    lead = walker._object(Lead)
    labelled = {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "label": {"type": "string"}},
        "required": ["code", "label"],
        "additionalProperties": False,
    }
    properties = dict(lead["properties"])
    for name in OPTION_FIELDS:
        properties[name] = {"anyOf": [labelled, {"type": "null"}]}
    properties["state"] = labelled
    properties["reason"] = labelled
    lead["properties"] = properties
    return _finish("Lead.json", lead, walker)


def lead_fields_schema() -> dict[str, Any]:
    """The schema of the API input dialect of :func:`leadkit.dialect.parse_lead_fields`: lead
    fields by name, options by code or label, the name as text or parts, money as
    ``{"amount", "currency"}``, ``"5000 SEK"`` or a pair, ``null`` to clear; unknown keys are
    not allowed. (The parser decides the rest: labels, codes, currencies, phone numbers.)"""
    nullable_text = {"type": ["string", "null"]}

    def parts(names: tuple[str, ...]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: {"type": "string"} for name in names},
            "additionalProperties": False,
        }

    money = {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "amount": {"anyOf": [_DECIMAL, {"type": "integer"}]},
                    "currency": {"type": "string"},
                },
                "required": ["amount", "currency"],
                "additionalProperties": False,
            },
            {"type": "string", "pattern": r"^\s*-?\d+(\.\d+)?\s+[A-Za-z]{3}\s*$"},
            {
                "type": "array",
                "prefixItems": [{"anyOf": [_DECIMAL, {"type": "integer"}]}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
            {"type": "null"},
        ]
    }
    option = {"type": ["integer", "string", "null"]}
    special: dict[str, Any] = {
        "name": {
            "anyOf": [
                {"type": "string"},
                parts(_NAME_PARTS),
                {"type": "null"},
            ]
        },
        "address": {"anyOf": [parts(_ADDRESS_PARTS), {"type": "null"}]},
        "budget_amount": money,
        "estimated_value": money,
        "estimated_close_date": {"anyOf": [_DATE, {"type": "null"}]},
        "custom_fields": {"type": ["object", "null"]},
    }
    properties = {
        name: special.get(name, option if name in OPTION_FIELDS else nullable_text)
        for name in PATCH_FIELDS
    }
    body = {"type": "object", "properties": properties, "additionalProperties": False}
    return _finish("LeadFields", body, _Walker())


def problem_schema() -> dict[str, Any]:
    """The schema of the problem details :func:`leadkit.problem` returns (RFC 9457 members
    and leadkit's extension members)."""
    walker = _Walker()
    entry = _strict(
        {
            "field": {"type": "string"},
            "label": {"type": "string"},
            "reason": {"type": "string"},
            "value": {"type": ["string", "number", "boolean", "null"]},
        },
        ["field", "label", "reason"],
    )
    candidate = _strict(
        {
            "record_type": {"enum": ["lead", "contact", "account"]},
            "record_id": {"type": "string"},
            "score": {"type": "number", "minimum": 0},
            "reason": {"type": "string"},
        },
        ["record_type", "record_id", "score", "reason"],
    )
    question = _strict(
        {
            "field": {"type": "string"},
            "text": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "string"}},
            "suggestion": {"type": "string"},
        },
        ["field", "text", "choices", "suggestion"],
    )
    body = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "pattern": f"^{PROBLEM_TYPE_PREFIX}[a-z0-9-]+$"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": entry, "minItems": 1},
            "candidates": {"type": "array", "items": candidate},
            "questions": {"type": "array", "items": question},
            "current_version": {"type": ["integer", "null"]},
            "expected_version": {"type": "integer"},
        },
        "required": ["type", "title", "status", "detail"],
    }
    return _finish("Problem", body, walker)
