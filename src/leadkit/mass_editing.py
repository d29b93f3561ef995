"""Mass edit: one change applied to many leads in one unit of work, with an outcome per lead.

The leads are read and saved in batches (one bulk read and one bulk save per
1,000 leads on a store with :class:`leadkit.ports.BulkLeadRepository`), inside the one unit
of work that keeps the all-or-nothing promise.

The change is an :class:`LeadEdit` value, validated once when it is built (a bad field or value
raises InvalidValue before any lead is read): :class:`SetFields` (a typed :class:`LeadPatch`),
:func:`set_field` (one field by name), :class:`SetManualScore`, :class:`ClearManualScore`,
:func:`set_source`, :class:`Reassign`, :class:`MarkContacted` and :class:`Disqualify` (the
bulk disqualify); :func:`mass_assign` reassigns through an
assignment strategy. Each lead ends CHANGED, UNCHANGED, REFUSED_CLOSED or FAILED (with the
error). By default the edit is all-or-nothing: one failure and nothing is stored, yet every
lead's outcome is still reported. With ``all_or_nothing=False`` each lead that succeeds is
stored and failures are only reported. With ``idempotency_key=`` a retry returns the stored
result of the first committed run and changes nothing (see :mod:`leadkit.idempotency`)::

    result = mass_edit(store, ids, set_field("source", "Web"), at=now, by=me)
    if not result.committed:
        for outcome in result.failed: print(outcome.lead_id, outcome.error)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from enum import Enum
from types import MappingProxyType
from typing import Any, Final, Protocol, cast

import attrs

from leadkit.assignment import (
    AssignmentState,
    AssignmentStatus,
    AssignmentStrategy,
    assign_leads,
)
from leadkit.bulk import bulk_repository, get_many
from leadkit.errors import InvalidValue, LeadClosed, NotFound
from leadkit.fields import CustomFields, LeadSource
from leadkit.idempotency import (
    IdempotencyKey,
    KeyArgument,
    RecordedError,
    as_key,
    recall,
    remember,
    request_hash,
    result_data,
    result_from,
)
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.ports import LeadQuery, LeadStore, UnitOfWork, is_store, unit_of_work_of
from leadkit.scoring.result import ManualScore
from leadkit.status import LeadState, StatusReason
from leadkit.values import Address, LeadId, PersonName, UserRef, require_aware

__all__ = [
    "EDITABLE_FIELDS",
    "ClearManualScore",
    "Disqualify",
    "EditOutcome",
    "EditStatus",
    "LeadEdit",
    "MarkContacted",
    "MassEditResult",
    "Reassign",
    "SetField",
    "SetFields",
    "SetManualScore",
    "field_path",
    "mass_assign",
    "mass_edit",
    "set_field",
    "set_fields",
    "set_source",
]

Target = UnitOfWork | LeadStore
"""A store (mass edit commits) or an open unit of work (the caller commits)."""

Selection = Iterable[LeadId] | LeadQuery
"""Which leads: ids (in the order given) or a query (in its order)."""


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


# ---------------------------------------------------------------------------------------------
# Outcomes


class EditStatus(Enum):
    """What happened to one lead of a mass edit."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REFUSED_CLOSED = "refused_closed"
    FAILED = "failed"


@attrs.frozen(eq=False)
class EditOutcome:
    """One lead's outcome: ``lead`` is the lead as stored (or as it would have been when the
    run was not committed; None when it could not be read) and ``error`` the refusal or
    failure."""

    lead_id: LeadId
    status: EditStatus
    lead: Lead | None = None
    error: Exception | None = None


@attrs.frozen(eq=False)
class MassEditResult:
    """Every lead's outcome in selection order, and whether the changes were stored
    (``committed`` is False after an all-or-nothing run met a failure)."""

    outcomes: tuple[EditOutcome, ...]
    committed: bool

    def _with(self, status: EditStatus) -> tuple[EditOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is status)

    @property
    def changed(self) -> tuple[EditOutcome, ...]:
        """The leads the edit changed."""
        return self._with(EditStatus.CHANGED)

    @property
    def unchanged(self) -> tuple[EditOutcome, ...]:
        """The leads that already had the value."""
        return self._with(EditStatus.UNCHANGED)

    @property
    def refused(self) -> tuple[EditOutcome, ...]:
        """The closed leads, left alone."""
        return self._with(EditStatus.REFUSED_CLOSED)

    @property
    def failed(self) -> tuple[EditOutcome, ...]:
        """The leads that failed, each with its error."""
        return self._with(EditStatus.FAILED)

    def counts(self) -> dict[str, int]:
        """How many leads ended in each status (every status listed)."""
        return {s.value: len(self._with(s)) for s in EditStatus}


# ---------------------------------------------------------------------------------------------
# Running


@contextmanager
def _unit(target: Target) -> Iterator[tuple[UnitOfWork, bool]]:
    """The unit of work, and whether this module opened it (and so commits it)."""
    with unit_of_work_of(target) as uow:
        yield uow, is_store(target)


_BATCH: Final = 1000
"""Leads per bulk read and bulk save of a mass edit or assignment."""


def _load(uow: UnitOfWork, selection: Selection) -> Iterator[tuple[LeadId, Lead | Exception]]:
    """Each selected lead (or the error reading it), read :data:`_BATCH` at a time."""
    if isinstance(selection, LeadQuery):
        for lead in uow.leads.stream(selection, batch_size=_BATCH):
            yield lead.id, lead
        return
    ids = list(selection)
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        try:
            found: dict[LeadId, Lead] | None = get_many(uow.leads, chunk)
        except Exception:  # a bad id, a storage error: read lead by lead to say whose
            found = None
        for lead_id in chunk:
            if found is None:
                try:
                    yield lead_id, uow.leads.get(lead_id)
                except Exception as e:  # NotFound, StorageUnavailable: reported, never raised
                    yield lead_id, e
            elif lead_id in found:
                yield lead_id, found[lead_id]
            else:
                yield lead_id, NotFound("lead", lead_id)


def _save_in_bulk(uow: UnitOfWork, planned: list[EditOutcome]) -> dict[int, Lead]:
    """Save the CHANGED leads :data:`_BATCH` at a time on a bulk repository (all or none per
    batch): the stored copies by position. Stops at the first batch that fails, which saves
    nothing; the caller saves the rest lead by lead, finding which lead fails."""
    bulk = bulk_repository(uow.leads)
    if bulk is None:
        return {}
    positions = [
        i for i, o in enumerate(planned) if o.status is EditStatus.CHANGED and o.lead is not None
    ]
    stored: dict[int, Lead] = {}
    for start in range(0, len(positions), _BATCH):
        chunk = positions[start : start + _BATCH]
        try:
            saved = bulk.save_many([cast(Lead, planned[i].lead) for i in chunk])
        except Exception:
            break
        stored.update(zip(chunk, saved, strict=True))
    return stored


def _store(
    uow: UnitOfWork,
    opened: bool,
    planned: list[EditOutcome],
    all_or_nothing: bool,
    keep: Callable[[MassEditResult], None] | None = None,
) -> MassEditResult:
    """Save the CHANGED outcomes; commit (when this module opened the unit) unless an
    all-or-nothing run failed. ``keep`` stores the idempotency key of a run that is to be
    committed, in its unit of work (a failure there rolls the unit of work back)."""
    if all_or_nothing and any(o.status is EditStatus.FAILED for o in planned):
        if opened:
            uow.rollback()
        return MassEditResult(tuple(planned), committed=False)
    outcomes: list[EditOutcome] = []
    saved = _save_in_bulk(uow, planned)
    for index, outcome in enumerate(planned):
        if outcome.status is not EditStatus.CHANGED or outcome.lead is None:
            outcomes.append(outcome)
            continue
        if index in saved:
            outcomes.append(attrs.evolve(outcome, lead=saved[index]))
            continue
        try:
            stored = uow.leads.save(outcome.lead)
        except Exception as e:
            failed = EditOutcome(outcome.lead_id, EditStatus.FAILED, outcome.lead, e)
            if all_or_nothing:
                with suppress(Exception):
                    uow.rollback()
                return MassEditResult((*outcomes, failed, *planned[index + 1 :]), committed=False)
            outcomes.append(failed)
            continue
        outcomes.append(attrs.evolve(outcome, lead=stored))
    result = MassEditResult(tuple(outcomes), committed=True)
    if keep is not None:
        try:
            keep(result)
        except BaseException:
            with suppress(Exception):
                uow.rollback()
            raise
    if opened:
        uow.commit()
    return result


def mass_edit(
    target: Target,
    selection: Selection,
    edit: LeadEdit,
    *,
    at: datetime,
    by: UserRef,
    all_or_nothing: bool = True,
    idempotency_key: KeyArgument = None,
) -> MassEditResult:
    """Apply ``edit`` to every selected lead in one unit of work.

    Closed leads are refused (REFUSED_CLOSED) and are not failures. A lead that cannot be
    read, or whose edit raises (InvalidValue from a field profile, anything else), FAILS with
    the error. All-or-nothing (the default): one failure and nothing is stored — the
    outcomes still say what each lead would have become. Per lead: every success is stored.
    With a store as ``target`` the run commits itself; with a unit of work the caller commits
    (an all-or-nothing failure while saving rolls that unit of work back).

    With ``idempotency_key`` a committed run stores its result under the key in its unit of
    work; a retry (same selection, edit, mode and user) returns that result and changes
    nothing (a FAILED outcome's error comes back as a RecordedError); a run that was not
    committed stores no key. Raises InvalidValue for a naive ``at``, IdempotencyKeyReuse when
    the key came with another request; storage errors while committing propagate.
    """
    require_aware("at", at)
    key = as_key(idempotency_key)
    if not isinstance(selection, LeadQuery):
        selection = tuple(selection)
    fingerprint = ""
    if key is not None:
        fingerprint = request_hash(
            "mass_edit",
            {
                "selection": selection,
                "edit": {"type": type(edit).__name__, "value": edit},
                "all_or_nothing": all_or_nothing,
                "by": by,
            },
        )
    with _unit(target) as (uow, opened):
        if key is not None:
            stored = recall(uow, key, fingerprint, "mass_edit", at=at)
            if stored is not None:
                return _result_from(stored[0])
        planned: list[EditOutcome] = []
        for lead_id, loaded in _load(uow, selection):
            planned.append(_plan(lead_id, loaded, edit, at=at, by=by))
        return _store(uow, opened, planned, all_or_nothing, _keeper(uow, key, fingerprint, at))


def _keeper(
    uow: UnitOfWork, key: IdempotencyKey | None, fingerprint: str, at: datetime
) -> Callable[[MassEditResult], None] | None:
    if key is None:
        return None
    found = key

    def keep(result: MassEditResult) -> None:
        remember(uow, found, fingerprint, _result_data(result), at=at)

    return keep


def _error_data(error: Exception | None) -> dict[str, Any] | None:
    if error is None:
        return None
    if isinstance(error, LeadClosed):
        return {
            "type": "LeadClosed",
            "lead_id": str(error.lead_id),
            "state": getattr(error.state, "name", str(error.state)),
            "action": error.action,
        }
    if isinstance(error, RecordedError):
        return {"type": error.kind, "message": error.message}
    return {"type": type(error).__name__, "message": str(error)}


def _error_from(data: dict[str, Any] | None) -> Exception | None:
    if data is None:
        return None
    if data["type"] == "LeadClosed" and "state" in data:
        state = (
            LeadState[data["state"]] if data["state"] in LeadState.__members__ else data["state"]
        )
        return LeadClosed(LeadId(data["lead_id"]), state, data["action"])
    return RecordedError(data["type"], data["message"])


def _result_data(result: MassEditResult) -> dict[str, Any]:
    return {
        "committed": result.committed,
        "outcomes": [
            {
                "lead_id": o.lead_id.value,
                "status": o.status.value,
                "lead": None if o.lead is None else result_data(o.lead),
                "error": _error_data(o.error),
            }
            for o in result.outcomes
        ],
    }


def _result_from(data: Any) -> MassEditResult:
    return MassEditResult(
        tuple(
            EditOutcome(
                LeadId(o["lead_id"]),
                EditStatus(o["status"]),
                None if o["lead"] is None else result_from(o["lead"], Lead),
                _error_from(o["error"]),
            )
            for o in data["outcomes"]
        ),
        committed=bool(data["committed"]),
    )


def _plan(
    lead_id: LeadId, loaded: Lead | Exception, edit: LeadEdit, *, at: datetime, by: UserRef
) -> EditOutcome:
    if isinstance(loaded, Exception):
        return EditOutcome(lead_id, EditStatus.FAILED, None, loaded)
    if loaded.is_closed:
        error = LeadClosed(loaded.id, loaded.state, edit.description)
        return EditOutcome(lead_id, EditStatus.REFUSED_CLOSED, loaded, error)
    try:
        edited = edit.apply(loaded, at=at, by=by)
    except LeadClosed as e:
        return EditOutcome(lead_id, EditStatus.REFUSED_CLOSED, loaded, e)
    except Exception as e:
        return EditOutcome(lead_id, EditStatus.FAILED, loaded, e)
    status = EditStatus.UNCHANGED if edited is loaded else EditStatus.CHANGED
    return EditOutcome(lead_id, status, edited)


_FROM_ASSIGNMENT = {
    AssignmentStatus.ASSIGNED: EditStatus.CHANGED,
    AssignmentStatus.UNCHANGED: EditStatus.UNCHANGED,
    AssignmentStatus.UNASSIGNED: EditStatus.UNCHANGED,
    AssignmentStatus.SKIPPED_CLOSED: EditStatus.REFUSED_CLOSED,
}


def mass_assign(
    target: Target,
    selection: Selection,
    strategy: AssignmentStrategy,
    *,
    at: datetime,
    by: UserRef,
    state: AssignmentState | None = None,
    all_or_nothing: bool = True,
) -> tuple[MassEditResult, AssignmentState]:
    """Reassign the selected leads through an assignment ``strategy`` (round-robin,
    capacity, rules) in one unit of work, like :func:`mass_edit`. Returns the outcomes and
    the assignment state to pass to the next run (the state passed in when nothing was
    committed). Leads left unassigned by the strategy are UNCHANGED."""
    require_aware("at", at)
    with _unit(target) as (uow, opened):
        planned: list[EditOutcome | None] = []
        readable: list[Lead] = []
        for lead_id, loaded in _load(uow, selection):
            if isinstance(loaded, Exception):
                planned.append(EditOutcome(lead_id, EditStatus.FAILED, None, loaded))
            else:
                planned.append(None)
                readable.append(loaded)
        result = assign_leads(readable, strategy, at=at, by=by, state=state)
        changed = iter(result.leads)
        by_lead = iter(zip(readable, result.outcomes, strict=True))
        outcomes: list[EditOutcome] = []
        for slot in planned:
            if slot is not None:
                outcomes.append(slot)
                continue
            lead, assigned = next(by_lead)
            status = _FROM_ASSIGNMENT[assigned.status]
            error = (
                LeadClosed(lead.id, lead.state, "assign")
                if status is EditStatus.REFUSED_CLOSED
                else None
            )
            after = next(changed) if status is EditStatus.CHANGED else lead
            outcomes.append(EditOutcome(lead.id, status, after, error))
        stored = _store(uow, opened, outcomes, all_or_nothing)
        if not stored.committed:
            return stored, state or AssignmentState()
        return stored, result.state
