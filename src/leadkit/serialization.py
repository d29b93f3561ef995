"""JSON-safe data for every public value, event and lead, and back.

There is no module-level converter: call :func:`make_converter` and keep the result. The same
converter serves JSON files, the SQL adapter and import/export. ``dump`` wraps data in an
envelope with a schema version; ``load`` checks it. Malformed input raises
:class:`InvalidValue` naming the path of the bad field (``address.postal_code``,
``notes[2].attachment.sha256``), never a bare cattrs error or KeyError.

Leads take a fast path (:mod:`leadkit.fastcodec`): code generated for ``Lead`` reads
well-formed data and writes JSON text directly; on anything unusual the strict converter runs
instead, so results and errors are the same either way, only faster for stored leads. Each
such fallback is counted (:attr:`LeadkitConverter.fallbacks`): well-formed leads never fall
back, so a growing count on good data is a bug, not a slowdown to live with.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, Final, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    IterableValidationError,
    IterableValidationNote,
)

from leadkit.conversion_plan import ConversionPlan, PlannedOpportunity
from leadkit.errors import InvalidValue
from leadkit.events import EVENT_TYPES, LeadCreated, LeadEvent, LeadScored
from leadkit.fastcodec import (
    Codec,
    Fallback,
    Leaf,
    compile_codec,
    compile_partial_loader,
    email_leaf,
    unchecked,
)
from leadkit.fields import CustomFields, CustomValue, OptionSet, OptionValue, custom_kind
from leadkit.json_values import (
    _BOOLEAN,
    _CUSTOM_LOADERS,
    _ID_TEXT,
    _INTEGER,
    _TEXT,
    _decimal,
    _expect,
    _iso_date,
    _iso_datetime,
    _MalformedError,
    _to_invalid,
)
from leadkit.json_values import MAX_PROBLEMS as MAX_PROBLEMS
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.records import Opportunity
from leadkit.scoring.codec import register_scoring_hooks
from leadkit.scoring.result import Explanation
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import ActivityKind, StakeholderRole
from leadkit.values import (
    AccountId,
    ContactId,
    EmailAddress,
    Money,
    PhoneNumber,
    RecordId,
    Url,
)

__all__ = [
    "CONVERTED_TYPES",
    "SCHEMA_VERSION",
    "LeadkitConverter",
    "dump_plan",
    "load_plan",
    "make_converter",
]

SCHEMA_VERSION: Final = 1
"""The version written into every envelope; ``load`` refuses other versions."""

T = TypeVar("T")

_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""What ``dumps`` writes with: compact, non-ASCII kept (thread-safe, holds no state)."""
_LEAD_HEAD: Final = f'{{"schema":{SCHEMA_VERSION},"kind":"Lead","data":'
_FAST_EVENTS: Final = (LeadScored, LeadCreated)  # written by the thousand: generated writers
_BY_NAME: Final[tuple[type[Enum], ...]] = (LeadState, ActivityKind)
"""Enums stored by member name (the others are option sets, stored by code)."""


class LeadkitConverter:
    """Turns leadkit values into JSON-safe data and back. Build it with :func:`make_converter`.

    Methods raise InvalidValue (with the path of the bad field) for malformed input.
    """

    def __init__(self) -> None:
        self._c = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
        _register(self._c)
        self._lead: Final[Codec] = _lead_codec(self._c)
        self._events: Final[dict[type, tuple[str, Codec]]] = {
            k: _event_codec(self._c, k) for k in _FAST_EVENTS
        }
        self._readers: Final[dict[frozenset[str], Callable[[str], Lead]]] = {}
        self._fallbacks: Final[Counter[str]] = Counter(structure=0, dumps=0)

    @property
    def fallbacks(self) -> Mapping[str, int]:
        """How often the generated fast path for leads refused a lead and the strict path ran
        instead, by method (``structure`` and ``dumps``; ``load``/``loads`` count as
        ``structure``). A malformed document counts once; a well-formed lead never should, so
        a count that grows on good data shows a bug in the generated code, not a slow store.
        A snapshot, safe to keep; raises nothing."""
        return dict(self._fallbacks)

    def lead_reader(self, names: frozenset[str]) -> Callable[[str], Lead]:
        """A reader of lead documents (``dumps`` text) setting only the fields ``names`` (see
        :func:`leadkit.fastcodec.compile_partial_loader`); it raises (anything) for text it
        does not take: read that with :meth:`loads`. Raises TypeError for an unknown name."""
        if (found := self._readers.get(names)) is None:
            partial = compile_partial_loader(Lead, names, **_generator(self._c))

            def found(text: str) -> Lead:
                envelope = json.loads(text)
                if envelope["schema"] != SCHEMA_VERSION or envelope["kind"] != "Lead":
                    raise Fallback
                return partial(envelope["data"])

            self._readers[names] = found
        return found

    # Raw data, no envelope -------------------------------------------------------------------

    def unstructure(self, value: object) -> Any:
        """JSON-safe data (dicts, lists, str, int, bool, None) for a leadkit value."""
        return self._c.unstructure(value)

    def structure(self, data: object, kind: type[T]) -> T:
        """Build a ``kind`` from JSON-safe data. Raises InvalidValue naming the bad path."""
        if kind is Lead:
            try:
                return self._lead.load(data)  # type: ignore[no-any-return]
            except Exception:  # refused: counted, and the strict path decides (naming the field)
                self._fallbacks["structure"] += 1
        try:
            return self._c.structure(data, kind)
        except Exception as e:
            raise _to_invalid(e, "") from None

    # With the schema envelope ----------------------------------------------------------------

    def dump(self, value: object) -> dict[str, Any]:
        """``{"schema": 1, "kind": "Lead", "data": ...}`` for a value."""
        return {
            "schema": SCHEMA_VERSION,
            "kind": type(value).__name__,
            "data": self.unstructure(value),
        }

    def load(self, envelope: object, kind: type[T]) -> T:
        """Read an envelope written by :meth:`dump`.

        Raises InvalidValue naming ``schema`` for an unknown version, ``kind`` for data of
        another type, or the path of a bad field.
        """
        if not isinstance(envelope, Mapping):
            raise InvalidValue("", envelope, "must be an object with schema, kind and data")
        version = envelope.get("schema")
        if type(version) is not int or version != SCHEMA_VERSION:  # True == 1, 1.0 == 1
            raise InvalidValue(
                "schema",
                version,
                f"unsupported schema version (this leadkit reads {SCHEMA_VERSION})",
            )
        found = envelope.get("kind")
        expected = kind.__name__
        if kind is LeadEvent:
            if found not in EVENT_TYPES:
                raise InvalidValue("kind", found, "not a lead event type")
        elif found != expected:
            raise InvalidValue("kind", found, f"expected {expected}")
        if "data" not in envelope:
            raise InvalidValue("data", None, "is required")
        return self.structure(envelope["data"], kind)

    def dumps(self, value: object) -> str:
        """The envelope as compact JSON text.

        Raises what ``json`` raises for a value holding something not JSON-safe.
        """
        if type(value) is Lead:
            try:
                return _LEAD_HEAD + self._lead.dump(value) + "}"
            except Exception:  # an unusual lead (another type's value): counted, written strictly
                self._fallbacks["dumps"] += 1
        elif type(value) in self._events:
            head, codec = self._events[type(value)]
            try:
                return head + codec.dump(value)[1:] + "}"
            except Exception:
                self._fallbacks["dumps"] += 1
        return _JSON.encode(self.dump(value))

    def loads(self, text: str | bytes, kind: type[T]) -> T:
        """Read JSON text written by :meth:`dumps`. Raises InvalidValue for bad JSON too (text
        that is not JSON, or nested deeper than the interpreter's recursion limit)."""
        if not isinstance(text, str | bytes | bytearray):
            raise InvalidValue("", text, "must be JSON text (str or bytes)")
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as e:
            raise InvalidValue("", text[:60], f"not JSON: {e}") from None
        except RecursionError:
            raise InvalidValue("", text[:60], "not JSON leadkit reads: nested too deep") from None
        return self.load(data, kind)


def _converted_types() -> tuple[type, ...]:
    from leadkit.fields import OptionValue
    from leadkit.records import Account, Contact
    from leadkit.timeline import Activity, Attachment, Note, Stakeholder
    from leadkit.values import Address, ContactId, LeadId, OpportunityId, PersonName, UserRef

    return (
        LeadId,
        AccountId,
        ContactId,
        OpportunityId,
        UserRef,
        EmailAddress,
        PhoneNumber,
        Money,
        PersonName,
        Address,
        Url,
        CustomFields,
        OptionValue,
        Attachment,
        StakeholderRole,
        Stakeholder,
        Note,
        Activity,
        StatusReason,
        LeadPatch,
        Account,
        Contact,
        Opportunity,
        Lead,
        *EVENT_TYPES.values(),
    )


CONVERTED_TYPES: Final[tuple[type, ...]] = _converted_types()
"""Every type the converter writes and reads back equal (a property test holds it to that):
the values, the records, the lead and every event type."""


def make_converter() -> LeadkitConverter:
    """A new converter for every leadkit value, event and lead."""
    return LeadkitConverter()


# ---------------------------------------------------------------------------------------------
# Hooks


def _register_rules(c: cattrs.Converter) -> None:
    # Imported here, when a converter is built: importing this module must not load the
    # duplicate engine (and its matching libraries).
    from leadkit.duplicates.probabilistic import FittedRule
    from leadkit.duplicates.rules import DuplicateRule, WeightedRule

    def structure(data: object, _: object) -> DuplicateRule | WeightedRule:
        """A rule of a rule set: deterministic (it has ``conditions``) or fitted."""
        if isinstance(data, Mapping) and "conditions" in data:
            return c.structure(data, DuplicateRule)
        fitted: FittedRule = c.structure(data, FittedRule)
        return fitted

    rule = DuplicateRule | WeightedRule
    c.register_structure_hook(rule, structure)
    c.register_unstructure_hook(rule, lambda v: c.unstructure(v, unstructure_as=type(v)))


def _register(c: cattrs.Converter) -> None:
    _register_rules(c)
    c.register_structure_hook(str, lambda v, _: _TEXT(v))
    c.register_structure_hook(int, lambda v, _: _INTEGER(v))
    c.register_structure_hook(bool, lambda v, _: _BOOLEAN(v))
    c.register_structure_hook_func(_is_homogeneous_collection, lambda v, t: _collection(c, v, t))
    c.register_unstructure_hook(Decimal, str)
    c.register_structure_hook(Decimal, lambda v, _: _decimal(v))
    c.register_unstructure_hook(datetime, lambda v: v.isoformat())
    c.register_structure_hook(datetime, lambda v, _: _iso_datetime(v))
    c.register_unstructure_hook(date, lambda v: v.isoformat())
    c.register_structure_hook(date, lambda v, _: _iso_date(v))

    c.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, RecordId), lambda v: v.value
    )
    c.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, RecordId),
        lambda v, t: t(_ID_TEXT(v)),
    )
    c.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, OptionSet), lambda v: v.code
    )
    # Registered by class (singledispatch), not by predicate: an OptionSet is an int, and the
    # strict ``int`` hook above would otherwise win and load a bare int instead of the option.
    c.register_structure_hook(OptionSet, lambda v, t: _option(v, t))
    for enum_type in _BY_NAME:
        c.register_unstructure_hook(enum_type, lambda v: v.name)
        c.register_structure_hook(enum_type, _by_name)

    c.register_unstructure_hook(EmailAddress, lambda v: v.text)
    c.register_structure_hook(EmailAddress, lambda v, _: EmailAddress(_TEXT(v)))
    c.register_unstructure_hook(Url, lambda v: v.text)
    c.register_structure_hook(Url, lambda v, _: Url(_TEXT(v)))
    c.register_unstructure_hook(StakeholderRole, lambda v: v.name)
    c.register_structure_hook(StakeholderRole, lambda v, _: StakeholderRole(_TEXT(v)))
    c.register_unstructure_hook(PhoneNumber, _unstructure_phone)
    c.register_structure_hook(PhoneNumber, lambda v, _: _structure_phone(v))
    c.register_unstructure_hook(Money, lambda v: {"amount": str(v.amount), "currency": v.currency})
    c.register_unstructure_hook(
        StatusReason, lambda v: {"code": v.code, "label": v.label, "state": v.state.name}
    )

    c.register_unstructure_hook(CustomFields, _unstructure_custom)
    c.register_structure_hook(CustomFields, lambda v, _: _structure_custom(c, v))
    patch_types = _patch_types()
    c.register_unstructure_hook(
        LeadPatch, lambda v: {name: c.unstructure(value) for name, value in v.items()}
    )
    c.register_structure_hook(LeadPatch, lambda v, _: _structure_patch(c, patch_types, v))

    # Scoring: predicates as tagged objects, ticked criteria as a sorted list (before Lead's
    # hooks are generated, which look these up).
    register_scoring_hooks(c)

    unstructure_lead = cattrs.gen.make_dict_unstructure_fn(
        Lead, c, pending_events=cattrs.gen.override(omit=True)
    )
    structure_lead = cattrs.gen.make_dict_structure_fn(
        Lead, c, pending_events=cattrs.gen.override(omit=True), _cattrs_forbid_extra_keys=True
    )
    c.register_unstructure_hook(Lead, unstructure_lead)
    c.register_structure_hook(Lead, structure_lead)

    _register_opportunity(c)

    for event_type in EVENT_TYPES.values():
        c.register_unstructure_hook(event_type, _event_unstructurer(c, event_type))
        c.register_structure_hook(event_type, _event_structurer(c, event_type))
    c.register_unstructure_hook(LeadEvent, lambda v: c.unstructure(v, type(v)))
    c.register_structure_hook(LeadEvent, lambda v, _: _structure_event(c, v))


CUSTOMER_KINDS: Final[Mapping[str, type[AccountId] | type[ContactId]]] = {
    "account": AccountId,
    "contact": ContactId,
}
"""An opportunity's ``customer_kind``: what its ``customer`` id names."""


def _register_opportunity(c: cattrs.Converter) -> None:
    """An opportunity's customer is an account or a contact id: the document says which in
    ``customer_kind`` beside the bare ``customer`` id, so that it reads back as written."""
    plain = cattrs.gen.make_dict_unstructure_fn(Opportunity, c)
    typed = cattrs.gen.make_dict_structure_fn(
        Opportunity,
        c,
        customer=cattrs.gen.override(struct_hook=lambda v, _: v),
        _cattrs_forbid_extra_keys=True,
    )

    def unstructure(opportunity: Opportunity) -> dict[str, Any]:
        data: dict[str, Any] = plain(opportunity)
        data["customer_kind"] = (
            "account" if isinstance(opportunity.customer, AccountId) else "contact"
        )
        return data

    def structure(value: object, _: object) -> Opportunity:
        if not isinstance(value, Mapping):
            raise _MalformedError(value, "must be an object")
        data = dict(value)
        kind = data.pop("customer_kind", None)
        if kind not in CUSTOMER_KINDS:
            raise InvalidValue(
                "customer_kind", kind, "must be account or contact (what the customer id names)"
            )
        customer = data.get("customer")
        if not isinstance(customer, str):
            raise InvalidValue("customer", customer, "must be an id string")
        data["customer"] = CUSTOMER_KINDS[str(kind)](customer)
        return typed(data, Opportunity)

    c.register_unstructure_hook(Opportunity, unstructure)
    c.register_structure_hook(Opportunity, structure)


# ---------------------------------------------------------------------------------------------
# The fast path for leads


def _lead_codec(c: cattrs.Converter) -> Codec:
    """Generated code reading and writing ``Lead`` the way ``c`` does (see fastcodec)."""
    return compile_codec(Lead, **_generator(c), omit=("pending_events",))


def _generator(c: cattrs.Converter) -> dict[str, Any]:
    """The arguments the generated code of ``c``'s values is built with."""
    return {
        "leaf": _fast_leaf(c),
        "plain_load": lambda kind: _generated(c.get_structure_hook(kind), "structure"),
        "plain_dump": lambda kind: _generated(c.get_unstructure_hook(kind), "unstructure"),
        "strict_load": c.structure,
        "strict_dump": c.unstructure,
        "encode": _JSON.encode,
    }


def _event_codec(c: cattrs.Converter, event: type) -> tuple[str, Codec]:
    """The envelope's head and generated code writing ``event`` data as ``c`` does, less the
    ``"type"`` key the event hook puts first (:func:`_event_unstructurer`; in the head)."""
    name = event.__name__
    head = f'{{"schema":{SCHEMA_VERSION},"kind":"{name}","data":{{"type":"{name}",'
    args = _generator(c)
    load, dump = args["plain_load"], args["plain_dump"]
    args["plain_load"] = lambda kind: kind is event or load(kind)
    args["plain_dump"] = lambda kind: kind is event or dump(kind)
    return head, compile_codec(event, **args, remember=(Explanation,))


def _generated(hook: object, direction: str) -> bool:
    """True for a hook cattrs generated from a class's fields (the fast path mirrors those
    field by field); a class with a hook of ours is a leaf of the fast path instead."""
    code = getattr(hook, "__code__", None)
    return code is not None and code.co_filename.startswith(f"<cattrs generated {direction} ")


def _fast_leaf(c: cattrs.Converter) -> Callable[[Any], Leaf | None]:
    """The fast path's handling of each type with a hook of ours, mirroring that hook: the
    loaders call the strict hooks' own checks and the value constructors; the writers give
    the JSON text of what the hook returns."""
    enc = json.encoder.encode_basestring
    empty_custom = CustomFields()

    def iso(value: date) -> str:
        return enc(value.isoformat())

    def status_reason(value: StatusReason) -> str:
        return (
            f'{{"code":{int.__repr__(value.code)},"label":{enc(value.label)},'
            f'"state":{enc(value.state.name)}}}'
        )

    def money(value: Money) -> str:
        return f'{{"amount":{enc(str(value.amount))},"currency":{enc(value.currency)}}}'

    def custom_fields(value: object) -> CustomFields:
        if type(value) is dict and not value:
            return empty_custom
        return _structure_custom(c, value)

    fixed: dict[Any, Leaf] = {
        datetime: Leaf(_iso_datetime, iso),
        date: Leaf(_iso_date, iso),
        Decimal: Leaf(_decimal, lambda v: enc(str(v))),
        EmailAddress: Leaf(email_leaf, lambda v: enc(v.text), raw=str),
        Url: _exact(str, Url, lambda v: enc(v.text)),
        StakeholderRole: _exact(str, StakeholderRole, lambda v: enc(v.name)),
        PhoneNumber: _exact(dict, _structure_phone, lambda v: _JSON.encode(_unstructure_phone(v))),
        Money: Leaf(None, money),
        StatusReason: Leaf(None, status_reason),
        CustomFields: Leaf(
            custom_fields, lambda v: _JSON.encode(_unstructure_custom(v)) if v.items_ else "{}"
        ),
        frozenset[str]: Leaf(
            None, lambda v: "[" + ",".join([enc(i) for i in sorted(v)]) + "]" if v else "[]"
        ),
    }

    def leaf(kind: Any) -> Leaf | None:
        try:
            found = fixed.get(kind)
        except TypeError:  # an unhashable annotation
            return None
        if found is not None:
            return found
        if not isinstance(kind, type):
            return None
        if issubclass(kind, RecordId):
            return _exact(str, kind, lambda v: enc(v.value))
        if issubclass(kind, OptionSet):  # by code, as ``kind(code)`` finds it
            by_code = {m.code: m for m in kind}
            return _exact(int, by_code.__getitem__, {m: str(m.code) for m in kind}.__getitem__)
        if kind in _BY_NAME:  # by name, as ``kind[name]`` finds it
            by_name = dict(kind.__members__)
            return _exact(str, by_name.__getitem__, {m: enc(m.name) for m in kind}.__getitem__)
        return None

    return leaf


def _exact(raw: type, build: Callable[[Any], Any], dump: Callable[[Any], str]) -> Leaf:
    """A leaf loading ``build(value)`` from a JSON value of exactly the type ``raw`` (a class
    built without its argument type checks, which such a value always passes)."""
    if isinstance(build, type):
        build = unchecked(build)

    def load(value: object) -> Any:
        if type(value) is not raw:
            raise Fallback
        return build(value)

    return Leaf(load, dump, raw=raw)


def _is_homogeneous_collection(kind: Any) -> bool:
    origin, args = get_origin(kind), get_args(kind)
    return (origin is tuple and len(args) == 2 and args[1] is Ellipsis) or origin is frozenset


MAX_BAD_ITEMS: Final = 10
"""Reading a list stops at its 10th bad item, and the refusal says the rest was not checked:
a small document of thousands of bad items is refused as quickly as one with ten (each bad
item costs far more than a good one)."""


def _collection(c: cattrs.Converter, data: object, kind: Any) -> Any:
    """A tuple[X, ...] or frozenset[X] from a JSON list only (an object is not a list).

    Stops at the :data:`MAX_BAD_ITEMS`-th bad item: the refusal names those and says that the
    rest of the list was not checked.
    """
    if not isinstance(data, list | tuple):
        raise _MalformedError(data, "must be a list")
    item_type = get_args(kind)[0]
    items: list[Any] = []
    errors: list[Exception] = []
    for index, raw in enumerate(data):
        try:
            items.append(c.structure(raw, item_type))
        except Exception as e:
            e.add_note(
                IterableValidationNote(f"Structuring {kind} @ index {index}", index, item_type)
            )
            errors.append(e)
            if len(errors) == MAX_BAD_ITEMS and index + 1 < len(data):
                errors.append(
                    _MalformedError(
                        len(data),
                        f"{MAX_BAD_ITEMS} bad items by index {index}: the other "
                        f"{len(data) - index - 1} items were not checked",
                    )
                )
                break
    if errors:
        raise IterableValidationError(f"While structuring {kind}", errors, kind)
    return tuple(items) if get_origin(kind) is tuple else frozenset(items)


def _unstructure_phone(phone: PhoneNumber) -> dict[str, Any]:
    data: dict[str, Any] = {"raw": phone.raw, "region": phone.region, "e164": phone.e164}
    if phone.extension:
        data["extension"] = phone.extension
    return data


def _structure_phone(data: object) -> PhoneNumber:
    if not isinstance(data, Mapping):
        raise _MalformedError(data, "must be an object with raw, region and e164")
    extra = set(data) - {"raw", "region", "e164", "extension"}
    if extra:
        raise _MalformedError(sorted(extra), "unknown phone field(s)")
    raw, region = data.get("raw"), data.get("region")
    _expect(raw, str, "text")
    if region is not None:
        _expect(region, str, "a region code or null")
    assert isinstance(raw, str)
    assert region is None or isinstance(region, str)
    if "e164" not in data:  # written by hand: parse it
        return PhoneNumber(raw, region)
    e164, extension = data["e164"], data.get("extension", "")
    _expect(e164, str, "an E.164 number")
    _expect(extension, str, "digits")
    return PhoneNumber.restore(raw, region, e164, extension)


def _by_name(value: object, kind: type[Enum]) -> Enum:
    _expect(value, str, f"one of {', '.join(m.name for m in kind)}")
    try:
        return kind[value]  # type: ignore[index]
    except KeyError:
        raise _MalformedError(value, f"must be one of {', '.join(m.name for m in kind)}") from None


def _option(value: object, kind: type[OptionSet]) -> OptionSet:
    _expect(value, int, f"a {kind.__name__} code")
    assert isinstance(value, int)
    try:
        return kind(value)
    except ValueError:
        codes = ", ".join(str(m.code) for m in kind)
        raise _MalformedError(value, f"not a {kind.__name__} code ({codes})") from None


def _event_unstructurer(c: cattrs.Converter, kind: type[LeadEvent]) -> Callable[[Any], Any]:
    plain = cattrs.gen.make_dict_unstructure_fn(kind, c)

    def run(event: Any) -> Any:
        return {"type": kind.__name__, **plain(event)}

    return run


def _event_structurer(c: cattrs.Converter, kind: type[LeadEvent]) -> Callable[[Any, Any], Any]:
    plain = cattrs.gen.make_dict_structure_fn(kind, c, _cattrs_forbid_extra_keys=True)

    def run(data: Any, _: Any) -> Any:
        # ``dump`` writes the type tag into every event, so a concrete load accepts it.
        if isinstance(data, Mapping) and "type" in data:
            if data["type"] != kind.__name__:
                raise InvalidValue("type", data["type"], f"expected {kind.__name__}")
            data = {k: v for k, v in data.items() if k != "type"}
        return plain(data, kind)

    return run


def _structure_event(c: cattrs.Converter, data: object) -> LeadEvent:
    if not isinstance(data, Mapping):
        raise _MalformedError(data, "must be an object")
    name = data.get("type")
    kind = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InvalidValue("type", name, "not a lead event type")
    body = {k: v for k, v in data.items() if k != "type"}
    return c.structure(body, kind)


def _unstructure_custom(fields: CustomFields) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        kind = custom_kind(value)
        if kind == "option":
            assert isinstance(value, OptionValue)
            data: Any = {"code": value.code, "label": value.label}
        elif kind in ("decimal", "date", "datetime"):
            data = str(value) if kind == "decimal" else value.isoformat()  # type: ignore[union-attr]
        else:
            data = value
        out[name] = {"type": kind, "value": data}
    return out


def _structure_custom(c: cattrs.Converter, data: object) -> CustomFields:
    if not isinstance(data, Mapping):
        raise _MalformedError(data, "must be an object of name to {type, value}")
    values: dict[str, CustomValue] = {}
    for name, entry in data.items():
        try:
            if not isinstance(entry, Mapping) or set(entry) != {"type", "value"}:
                raise _MalformedError(entry, "must be an object with exactly 'type' and 'value'")
            kind, raw = entry["type"], entry["value"]
            if kind == "option":
                values[name] = c.structure(raw, OptionValue)
            elif isinstance(kind, str) and kind in _CUSTOM_LOADERS:
                values[name] = _CUSTOM_LOADERS[kind](raw)
            else:
                raise _MalformedError(
                    kind,
                    f"unknown custom field type; known: {', '.join([*_CUSTOM_LOADERS, 'option'])}",
                )
        except Exception as e:
            raise _to_invalid(e, str(name)) from None
    return CustomFields(values)


def _patch_types() -> dict[str, Any]:
    """The declared type of each editable field, read off ``Lead``."""
    resolved = attrs.resolve_types(Lead)
    return {a.name: a.type for a in attrs.fields(resolved) if a.name in PATCH_FIELDS}


def _structure_patch(c: cattrs.Converter, types: Mapping[str, Any], data: object) -> LeadPatch:
    if not isinstance(data, Mapping):
        raise _MalformedError(data, "must be an object of field to value")
    values: dict[str, Any] = {}
    for name, raw in data.items():
        if name not in types:
            raise InvalidValue(str(name), raw, "not an editable lead field")
        try:
            values[name] = c.structure(raw, types[name])
        except Exception as e:
            raise _to_invalid(e, name) from None
    return LeadPatch(**values)


# ---------------------------------------------------------------------------------------------
# Qualification plans (stored with a qualification's result, for idempotent retries)


@cache
def _plan_converter() -> LeadkitConverter:
    """The converter for plans given without one, built once (building one takes about 0.3 s,
    far longer than reading a plan; a built converter is safe to share)."""
    return make_converter()


def dump_plan(plan: ConversionPlan, converter: LeadkitConverter | None = None) -> dict[str, Any]:
    """The plan as JSON-safe data in the converter's envelope (``{"schema", "kind", "data"}``).

    The opportunity's customer is written with its kind (``customer_kind``), as the
    converter writes every opportunity.
    """
    conv = converter or _plan_converter()
    return conv.dump(plan)


def load_plan(data: object, converter: LeadkitConverter | None = None) -> ConversionPlan:
    """Read a plan written by :func:`dump_plan` (a dict, or its JSON text).

    Raises InvalidValue naming the bad field for malformed data.
    """
    conv = converter or _plan_converter()
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as e:
            raise InvalidValue("", str(data)[:60], f"not JSON: {e}") from None
    if not isinstance(data, Mapping):
        raise InvalidValue("", data, "must be an object with schema, kind and data")
    if data.get("schema") != SCHEMA_VERSION or type(data.get("schema")) is not int:
        raise InvalidValue("schema", data.get("schema"), "unsupported schema version")
    if data.get("kind") != "ConversionPlan":
        raise InvalidValue("kind", data.get("kind"), "expected ConversionPlan")
    body = data.get("data")
    if not isinstance(body, Mapping):
        raise InvalidValue("data", body, "must be an object")
    overrides: dict[str, Any] = {}
    raw_opportunity = body.get("opportunity")
    if raw_opportunity is not None:
        overrides["opportunity"] = _load_planned_opportunity(conv, raw_opportunity)
    plan: ConversionPlan = _structure_fields(conv, ConversionPlan, body, overrides, "")
    return plan


def _load_planned_opportunity(conv: LeadkitConverter, data: object) -> PlannedOpportunity:
    """The planned opportunity; a plan written before records carried their
    ``customer_kind`` has it beside the record, and is read as well."""
    if not isinstance(data, Mapping):
        raise InvalidValue("opportunity", data, "must be an object")
    record = data.get("record")
    if not isinstance(record, Mapping):
        raise InvalidValue("opportunity.record", record, "must be an object")
    rest = {k: v for k, v in data.items() if k != "customer_kind"}
    if "customer_kind" in data and "customer_kind" not in record:
        rest["record"] = {**record, "customer_kind": data["customer_kind"]}
    step: PlannedOpportunity = _structure_fields(conv, PlannedOpportunity, rest, {}, "opportunity")
    return step


def _structure_fields(
    conv: LeadkitConverter,
    cls: Any,
    data: Mapping[str, Any],
    overrides: Mapping[str, Any],
    path: str,
) -> Any:
    """Build ``cls`` field by field through the converter, taking ``overrides`` as given."""
    fields = attrs.fields(attrs.resolve_types(cls))
    known = {f.name for f in fields}
    extra = sorted(set(data) - known)
    if extra:
        where = f"{path}.{extra[0]}" if path else extra[0]
        raise InvalidValue(where, extra[0], "unknown field")
    values: dict[str, Any] = {}
    for field in fields:
        if field.name in overrides:
            values[field.name] = overrides[field.name]
        elif field.name in data:
            try:
                values[field.name] = conv.structure(data[field.name], field.type)
            except InvalidValue as e:
                raise e.at(f"{path}.{field.name}" if path else field.name) from None
    try:
        return cls(**values)
    except TypeError as e:
        raise InvalidValue(path, None, f"incomplete ({e})") from None
