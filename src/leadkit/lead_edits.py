"""The edits a mass edit applies: one change to a lead, validated once when built.

:class:`SetFields` (a typed :class:`LeadPatch`), :func:`set_field` / :func:`set_fields` (fields
by name, parts of the name, address and custom fields merged), :class:`SetManualScore`,
:class:`ClearManualScore`, :func:`set_source`, :class:`Reassign`, :class:`MarkContacted` and
:class:`Disqualify`. A bad field or value raises InvalidValue when the edit is built, before
any lead is read; :func:`leadkit.mass_editing.mass_edit` runs one over many leads (and
re-exports every name here).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, Final, Protocol, cast

import attrs

from leadkit.errors import InvalidValue
from leadkit.fields import CustomFields, LeadSource
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.scoring.result import ManualScore
from leadkit.status import LeadState, StatusReason
from leadkit.values import Address, PersonName, UserRef, require_aware

__all__ = [
    "EDITABLE_FIELDS",
    "ClearManualScore",
    "Disqualify",
    "LeadEdit",
    "MarkContacted",
    "Reassign",
    "SetField",
    "SetFields",
    "SetManualScore",
    "field_path",
    "set_field",
    "set_fields",
    "set_source",
]


class LeadEdit(Protocol):
    """One change to apply to a lead; validated when built, so ``apply`` only meets the
    lead's own rules. ``apply`` returns the lead itself when nothing changes."""

    @property
    def description(self) -> str:
        """What the edit does, for people ("set source = Web")."""
        ...

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead: ...


# ---------------------------------------------------------------------------------------------
# Edits


@attrs.frozen
class SetFields:
    """Apply a typed patch (``Lead.update``). Raises InvalidValue for an empty patch."""

    patch: LeadPatch

    def __attrs_post_init__(self) -> None:
        if self.patch.is_empty:
            raise InvalidValue("patch", self.patch, "sets no field")

    @property
    def description(self) -> str:
        """``set a = x, b = y``."""
        parts = ", ".join(f"{name} = {_show(value)}" for name, value in self.patch.items())
        return f"set {parts}"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        """``lead.update(patch)``."""
        return lead.update(self.patch, at=at, by=by)


def _show(value: object) -> str:
    """A value as a user would type it: an option's label, ``5000 SEK``, an ISO date, the
    parts of an address or name, ``name=value`` pairs of custom fields."""
    if value is None or value == "":
        return "(empty)"
    label = getattr(value, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(value, Address):
        parts = (getattr(value, part) for part in _ADDRESS_PARTS)
        return ", ".join(p for p in parts if p) or "(empty)"
    if isinstance(value, CustomFields):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items()) or "(empty)"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) or "(empty)"


_ADDRESS_PARTS: Final = tuple(a.name for a in attrs.fields(Address))
_NAME_PARTS: Final = tuple(a.name for a in attrs.fields(PersonName))
_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **{part: f"address.{part}" for part in _ADDRESS_PARTS},
        **{f"street{n}": f"address.line{n}" for n in (1, 2, 3)},
        **{f"{part}_name": f"name.{part}" for part in ("first", "middle", "last")},
        "salutation": "name.salutation",
        "suffix": "name.suffix",
    }
)

EDITABLE_FIELDS: Final[tuple[str, ...]] = (
    *(f for f in PATCH_FIELDS if f not in ("address", "name", "custom_fields")),
    *(f"{part}_name" for part in ("first", "middle", "last")),
    "salutation",
    "suffix",
    "name",
    *_ADDRESS_PARTS,
    "address",
    "custom.<name>",
)
"""The field names :func:`set_field` understands, as a user would type them: every
:data:`~leadkit.patch.PATCH_FIELDS` name, the parts of the name (``first_name``,
``last_name``, ``middle_name``, ``salutation``, ``suffix``; also ``name.first``...) and of the
address (``city``, ``postal_code``, ``line1``...; also ``address.city``, ``street1``) and one
custom field (``custom.<name>`` or ``custom_fields.<name>``)."""


def field_path(name: str) -> str:
    """The canonical path of a field name: a patch field (``company``), a part
    (``address.city``, ``name.first``) or a custom field (``custom_fields.industry``).
    Raises InvalidValue naming the field (and listing the editable ones) when it is
    unknown."""
    if not isinstance(name, str):
        raise InvalidValue("field", name, "must be a field name")
    key = name.strip().replace("-", "_")
    key = _ALIASES.get(key, key)
    head, dot, part = key.partition(".")
    if not dot and key in PATCH_FIELDS:
        return key
    if head == "address" and part in _ADDRESS_PARTS:
        return key
    if head == "name" and part in _NAME_PARTS:
        return key
    if head in ("custom", "custom_fields") and part:
        _check_custom_name(part)
        return f"custom_fields.{part}"
    raise InvalidValue(
        name, None, f"not an editable lead field; editable: {', '.join(EDITABLE_FIELDS)}"
    )


def _check_custom_name(name: str) -> None:
    try:
        CustomFields({name: 0})
    except InvalidValue as e:
        raise InvalidValue(f"custom_fields.{name}", name, e.reason) from None


def _checked(path: str, value: object) -> object:
    """``value`` converted and validated for ``path`` (InvalidValue naming the path)."""
    head, _, part = path.partition(".")
    if not part:
        converted = LeadPatch.from_mapping({path: value}).as_dict()
        if path not in converted:
            raise InvalidValue(path, value, "must be a value (None clears the field)")
        return converted[path]
    if head == "address":
        return getattr(Address(**{part: "" if value is None else value}), part)  # type: ignore[arg-type]
    if head == "name":
        return getattr(PersonName(**{part: "" if value is None else value}), part)  # type: ignore[arg-type]
    if value is None or value == "":
        return None
    try:
        return CustomFields({part: value})[part]
    except InvalidValue as e:
        raise InvalidValue(path, value, e.reason) from None


def _to_changes(values: Mapping[str, object]) -> tuple[tuple[str, object], ...]:
    if not isinstance(values, Mapping):
        raise InvalidValue("changes", values, "must be a mapping of field name to value")
    changes: dict[str, object] = {}
    for name, value in values.items():
        path = field_path(name)
        changes[path] = _checked(path, value)
    return tuple(changes.items())


@attrs.frozen
class SetField:
    """Set fields by name, each merged into the lead's current value: a part of the address
    (``city``), of the name (``first_name``) or one custom field (``custom.industry``)
    changes only that part, whatever the lead held before; other fields are set whole.

    ``changes`` maps a field name (see :data:`EDITABLE_FIELDS`) to its value, converted as
    :class:`LeadPatch` converts it (None or ``""`` clears). Raises InvalidValue, naming the
    field, for an unknown field, a bad value or no change at all.
    """

    changes: tuple[tuple[str, object], ...] = attrs.field(converter=_to_changes)

    def __attrs_post_init__(self) -> None:
        if not self.changes:
            raise InvalidValue("changes", {}, "sets no field")

    @property
    def description(self) -> str:
        """``set city = Oslo, source = Web``, values as a user would type them."""
        parts = ", ".join(f"{_user_name(p)} = {_show(v)}" for p, v in self.changes)
        return f"set {parts}"

    def patch_for(self, lead: Lead | None) -> LeadPatch:
        """The patch that applies these changes to ``lead`` (parts merged into its
        address, name and custom fields; into empty ones for None, a lead to create)."""
        fields: dict[str, object] = {}
        address: dict[str, Any] = {}
        name: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        for path, value in self.changes:
            head, _, part = path.partition(".")
            if not part:
                fields[path] = value
            else:
                {"address": address, "name": name, "custom_fields": custom}[head][part] = value
        if address:
            base = cast(Address, fields.get("address", lead.address if lead else Address()))
            fields["address"] = attrs.evolve(base, **address)
        if name:
            base_name = cast(PersonName, fields.get("name", lead.name if lead else PersonName()))
            fields["name"] = attrs.evolve(base_name, **name)
        if custom:
            current = lead.custom_fields if lead else CustomFields()
            base_custom = cast(CustomFields, fields.get("custom_fields", current))
            fields["custom_fields"] = base_custom.merged(custom)
        return LeadPatch.from_mapping(fields)

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        """``lead.update(patch_for(lead))``: the lead itself when nothing changes."""
        return lead.update(self.patch_for(lead), at=at, by=by)


def _user_name(path: str) -> str:
    head, _, part = path.partition(".")
    if not part:
        return path
    if head == "address":
        return part
    if head == "name":
        return part if part in ("salutation", "suffix") else f"{part}_name"
    if head == "custom_fields":
        return f"custom.{part}"
    return path


def set_field(name: str, value: object) -> SetField:
    """Set one field by name (``"source"``, ``"company"``, ``"city"``, ``"first_name"``,
    ``"custom.industry"``; see :data:`EDITABLE_FIELDS`) to ``value``, converted as
    :class:`LeadPatch` converts it. A part of the address or name, or one custom field,
    changes only that part of each lead. Raises InvalidValue for an unknown field or a bad
    value."""
    return SetField({name: value})


def set_fields(values: Mapping[str, object]) -> SetField:
    """Set several fields by name at once, as :func:`set_field` does. Raises InvalidValue for
    an unknown field, a bad value or an empty mapping."""
    return SetField(values)


def set_source(source: LeadSource | str | int | None) -> SetFields:
    """Set (or, with None, clear) the lead source. Raises InvalidValue for an unknown
    source."""
    return SetFields(LeadPatch(source=source))


@attrs.frozen
class SetManualScore:
    """Set the manual score (``Lead.set_manual_score``): ``stars`` 0-10, a reason and an
    optional expiry. Raises InvalidValue for stars out of range or a naive expiry."""

    stars: int
    reason: str = ""
    expires_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if self.expires_at is not None:
            require_aware("expires_at", self.expires_at)
        # Validate stars and reason once, with the ManualScore rules.
        ManualScore(
            stars=self.stars,
            author=UserRef("validation"),
            at=datetime(1970, 1, 1, tzinfo=UTC),
            reason=self.reason,
        )

    @property
    def description(self) -> str:
        """``set manual score = N stars``."""
        return f"set manual score = {self.stars} stars"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        """``lead.set_manual_score(...)``."""
        return lead.set_manual_score(
            self.stars, at=at, by=by, reason=self.reason, expires_at=self.expires_at
        )


@attrs.frozen
class ClearManualScore:
    """Clear the manual score (``Lead.clear_manual_score``)."""

    @property
    def description(self) -> str:
        """``clear manual score``."""
        return "clear manual score"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        """``lead.clear_manual_score()``."""
        return lead.clear_manual_score(at=at, by=by)


@attrs.frozen
class Reassign:
    """Give every lead to ``owner``; the ``LeadAssigned`` event names ``rule``."""

    owner: UserRef
    rule: str = "mass-edit"

    @property
    def description(self) -> str:
        """``assign to <owner>``."""
        return f"assign to {self.owner}"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        """``lead.assign(owner, rule=rule)``."""
        return lead.assign(self.owner, at=at, by=by, rule=self.rule)


@attrs.frozen
class MarkContacted:
    """Set the status reason to Contacted (``Lead.mark_contacted``); a lead already
    Contacted is unchanged."""

    @property
    def description(self) -> str:
        """``mark contacted``."""
        return "mark contacted"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        """``lead.mark_contacted()``."""
        if lead.reason == StatusReason.CONTACTED:
            return lead
        return lead.mark_contacted(at=at, by=by)


def _disqualification(reason: StatusReason) -> StatusReason:
    if not isinstance(reason, StatusReason) or reason.state is not LeadState.DISQUALIFIED:
        raise InvalidValue("reason", reason, "not a disqualification reason")
    return reason


@attrs.frozen
class Disqualify:
    """Close every lead as disqualified with ``reason`` (``Lead.disqualify``): the bulk
    disqualify. A lead with a linked opportunity FAILS with OpportunityLinked; closed leads
    are refused. Raises InvalidValue naming ``reason`` for a reason that does not
    disqualify."""

    reason: StatusReason = attrs.field(converter=_disqualification)

    @property
    def description(self) -> str:
        """``disqualify (Lost)``."""
        return f"disqualify ({self.reason.label})"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        """``lead.disqualify(reason)``."""
        return lead.disqualify(self.reason, at=at, by=by)
