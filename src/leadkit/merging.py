"""Merge duplicate leads, and undo a merge: survivorship rules as data, pure plans.

:func:`plan_merge` is pure, like :func:`~leadkit.conversion.plan_qualification`: given the
master lead, the others and a :class:`Survivorship` it decides, field by field, which value
survives and where it came from (:class:`FieldDecision`), which notes, activities and
stakeholders move to the master (:class:`MovedChild`, the provenance), and what the master
and the merged leads look like afterwards. ``leadkit.services.merge`` stores the plan in one
unit of work, with a :class:`MergeRecord` that keeps every lead's image from before, so that
``leadkit.services.unmerge`` can restore them exactly: :func:`plan_unmerge` (pure too)
compares the stored leads with their images from right after the merge and lists every
field touched since (:class:`~leadkit.errors.UnmergeConflict`) unless the caller forces it.

How a merged lead is modelled (Dynamics 365): the subordinate lead is deactivated, not
deleted: state Disqualified, reason Canceled, ``merged_into`` naming the master (D365
``masterid``). It stays readable and shows in "Closed leads"; reactivating it or adding to
its timeline raises :class:`~leadkit.errors.LeadMerged` (unmerge instead).

Survivorship strategies (:class:`SurvivorshipStrategy`), per field:

- ``MASTER_UNLESS_BLANK`` (the default): the master's value, unless blank; then the first
  non-blank value by the ranking below.
- ``MASTER``: the master's value, even blank.
- ``FIRST_NON_BLANK``: the first non-blank value by the ranking: open before closed, newer
  (``modified_at``) before older, more complete (more non-blank fields) before less; ties keep
  the order given (master first).
- ``NEWEST``: the non-blank value of the most recently modified lead.
- ``LONGEST``: the longest non-blank value (as text).
- ``MAXIMUM``: the greatest non-blank value: Hot before Warm before Cold for ``rating``, the
  most stars for ``manual_score``, the largest amount, the latest date.
- ``UNION``: every value (``ticked_criteria``; ``custom_fields``, where a name two leads set
  differently keeps the value of the first by ranking and is listed as a conflict).
- ``CONCATENATE``: the non-blank texts joined, each from another lead after a line naming it
  (``description``, ``topic``...).
- ``CHOICE``: the value of the lead named in the rule (the D365 merge dialog).

Stakeholders always move as a union (a contact with the same role on two leads is kept
once); notes and activities always move, renumbered after the master's timeline.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, Final

import attrs

from leadkit.errors import ConfigurationError, InvalidValue, MergeRefused, UnmergeConflict
from leadkit.fields import CustomFields, OptionSet, Rating
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.profiles import is_blank
from leadkit.scoring.result import ManualScore
from leadkit.timeline import Activity, Note, Stakeholder
from leadkit.values import LeadId, MergeId, Money, OpportunityId, UserRef, require_aware

__all__ = [
    "MERGE_FIELDS",
    "FieldDecision",
    "MergePlan",
    "MergeRecord",
    "MovedChild",
    "MovedOpportunity",
    "Survivorship",
    "SurvivorshipRule",
    "SurvivorshipStrategy",
    "plan_merge",
    "plan_unmerge",
    "rank_leads",
]


class SurvivorshipStrategy(Enum):
    """How the surviving value of one field is chosen (see the module docstring)."""

    MASTER_UNLESS_BLANK = "master_unless_blank"
    MASTER = "master"
    FIRST_NON_BLANK = "first_non_blank"
    NEWEST = "newest"
    LONGEST = "longest"
    MAXIMUM = "maximum"
    UNION = "union"
    CONCATENATE = "concatenate"
    CHOICE = "choice"


MERGE_FIELDS: Final[tuple[str, ...]] = (*PATCH_FIELDS, "ticked_criteria", "manual_score")
"""The lead fields survivorship decides: the editable fields and the scoring choices."""

_TEXT_FIELDS: Final = frozenset(
    a.name for a in attrs.fields(Lead) if a.name in PATCH_FIELDS and a.type in ("str", str)
)
_UNION_FIELDS: Final = frozenset({"ticked_criteria", "custom_fields"})
_MAXIMUM_FIELDS: Final = frozenset(
    {
        "rating",
        "manual_score",
        "budget_amount",
        "estimated_value",
        "estimated_close_date",
        "budget",
        "need",
        "purchase_timeframe",
        "purchase_process",
    }
)
_DEFAULTS: Final[Mapping[str, SurvivorshipStrategy]] = MappingProxyType(
    {"ticked_criteria": SurvivorshipStrategy.UNION, "custom_fields": SurvivorshipStrategy.UNION}
)


def _check_strategy(field: str, strategy: SurvivorshipStrategy) -> None:
    if field not in MERGE_FIELDS:
        raise ConfigurationError(f"survivorship rule for {field!r}", "not a mergeable lead field")
    allowed = {
        SurvivorshipStrategy.UNION: _UNION_FIELDS,
        SurvivorshipStrategy.CONCATENATE: _TEXT_FIELDS,
        SurvivorshipStrategy.MAXIMUM: _MAXIMUM_FIELDS,
    }.get(strategy)
    if allowed is not None and field not in allowed:
        raise ConfigurationError(
            f"survivorship rule for {field!r}",
            f"{strategy.value} applies only to {', '.join(sorted(allowed))}",
        )


@attrs.frozen
class SurvivorshipRule:
    """How one field survives a merge: a strategy, and for ``CHOICE`` the lead whose value
    is kept.

    Raises ConfigurationError for a field survivorship does not decide, a strategy that does
    not apply to the field, or a CHOICE without a lead (or a lead without CHOICE).
    """

    field: str
    strategy: SurvivorshipStrategy
    choice: LeadId | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.strategy, SurvivorshipStrategy):
            raise ConfigurationError(
                f"survivorship rule for {self.field!r}", "not a SurvivorshipStrategy"
            )
        _check_strategy(self.field, self.strategy)
        if (self.strategy is SurvivorshipStrategy.CHOICE) != (self.choice is not None):
            raise ConfigurationError(
                f"survivorship rule for {self.field!r}", "a lead is chosen exactly with CHOICE"
            )
        if self.choice is not None and not isinstance(self.choice, LeadId):
            raise ConfigurationError(
                f"survivorship rule for {self.field!r}", "the choice must be a LeadId"
            )


def _rules(value: Iterable[SurvivorshipRule]) -> tuple[SurvivorshipRule, ...]:
    rules = tuple(value)
    seen: set[str] = set()
    for rule in rules:
        if not isinstance(rule, SurvivorshipRule):
            raise ConfigurationError("survivorship", f"{rule!r} is not a SurvivorshipRule")
        if rule.field in seen:
            raise ConfigurationError("survivorship", f"two rules for {rule.field!r}")
        seen.add(rule.field)
    return rules


def _max_leads(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ConfigurationError("survivorship.max_leads", "must be an integer of at least 2")
    return value


@attrs.frozen
class Survivorship:
    """The merge policy: a rule per field (fields without one use ``MASTER_UNLESS_BLANK``,
    ``ticked_criteria`` and ``custom_fields`` ``UNION``), how many leads one merge may take
    (master included; Dynamics 365 merges up to 4 records in its newer dialog) and whether
    the master may be closed.

    Raises ConfigurationError for a bad rule, two rules for one field or ``max_leads``
    below 2.
    """

    rules: tuple[SurvivorshipRule, ...] = attrs.field(default=(), converter=_rules)
    max_leads: int = attrs.field(default=4, converter=_max_leads)
    allow_closed_master: bool = False

    def rule(self, field: str) -> SurvivorshipRule:
        """The rule that decides ``field``. Raises ConfigurationError for an unknown field."""
        for rule in self.rules:
            if rule.field == field:
                return rule
        if field not in MERGE_FIELDS:
            raise ConfigurationError(f"survivorship rule for {field!r}", "not a mergeable field")
        return SurvivorshipRule(
            field, _DEFAULTS.get(field, SurvivorshipStrategy.MASTER_UNLESS_BLANK)
        )

    def choosing(self, choices: Mapping[str, LeadId]) -> Survivorship:
        """This policy with an explicit choice per field (the D365 merge dialog).

        Raises ConfigurationError for a field that cannot be chosen.
        """
        chosen = {
            f: SurvivorshipRule(f, SurvivorshipStrategy.CHOICE, lead) for f, lead in choices.items()
        }
        kept = [r for r in self.rules if r.field not in chosen]
        return attrs.evolve(self, rules=(*kept, *chosen.values()))


@attrs.frozen
class FieldDecision:
    """One field's outcome: the values the leads hold (master first), the surviving value,
    the lead it came from (None when several contributed) and, for a UNION of custom
    fields, the names whose values conflicted (the first by ranking won)."""

    field: str
    strategy: SurvivorshipStrategy
    values: tuple[tuple[LeadId, Any], ...]
    value: Any
    source: LeadId | None
    conflicts: tuple[str, ...] = ()

    @property
    def changes_master(self) -> bool:
        """True when the surviving value is not the master's."""
        return bool(self.value != self.values[0][1])


@attrs.frozen
class MovedChild:
    """Provenance of one moved child: a note or activity (``from_id`` on the merged lead,
    ``to_id`` on the master) or a stakeholder link (``stakeholder``; ``moved`` False when
    the master already had it)."""

    kind: str
    from_lead: LeadId
    from_id: int | None = None
    to_id: int | None = None
    stakeholder: Stakeholder | None = None
    moved: bool = True


@attrs.frozen
class MovedOpportunity:
    """An opportunity whose originating lead (and linked notes) the merge re-pointed."""

    opportunity_id: OpportunityId
    from_lead: LeadId
    notes_re_pointed: bool = False


def _completeness(lead: Lead) -> int:
    return sum(not is_blank(getattr(lead, name)) for name in PATCH_FIELDS)


def rank_leads(leads: Sequence[Lead]) -> tuple[Lead, ...]:
    """``leads`` in survivorship ranking order: open before closed, more recently modified
    before less, more complete before less; ties keep the given order."""
    order = {lead.id: position for position, lead in enumerate(leads)}
    return tuple(
        sorted(
            leads,
            key=lambda lead: (
                lead.is_closed,
                -lead.modified_at.timestamp(),
                -_completeness(lead),
                order[lead.id],
            ),
        )
    )


def _blank(value: object) -> bool:
    return value is None or is_blank(value) or (isinstance(value, Collection) and not value)


def _as_text(value: object) -> str:
    full = getattr(value, "full", None)
    if isinstance(full, str):
        return full
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else str(value)


def _maximum_key(field: str, value: Any) -> Any:
    if isinstance(value, Rating):
        return -value.code  # Hot (1) is the best rating
    if isinstance(value, ManualScore):
        return value.stars
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, OptionSet):
        return value.code
    if isinstance(value, date | datetime | int | Decimal):
        return value
    raise InvalidValue(field, value, "has no order for the MAXIMUM strategy")


def _concatenate(field: str, ranked: Sequence[tuple[Lead, Any]]) -> str:
    parts: list[str] = []
    seen: set[str] = set()
    for position, (lead, value) in enumerate(ranked):
        text = value.strip()
        if not text or text in seen:
            continue
        seen.add(text)
        if position == 0:
            parts.append(text)
        else:
            label = lead.full_name or lead.company or lead.topic
            parts.append(f"[merged from {lead.id}{f' ({label})' if label else ''}]\n{text}")
    return "\n\n".join(parts)


def _decide(
    field: str, rule: SurvivorshipRule, master: Lead, leads: Sequence[Lead]
) -> FieldDecision:
    values = tuple((lead.id, getattr(lead, field)) for lead in leads)
    ranked = [(lead, getattr(lead, field)) for lead in rank_leads(leads)]
    non_blank = [(lead, value) for lead, value in ranked if not _blank(value)]
    strategy = rule.strategy
    own = getattr(master, field)

    def pick(found: tuple[Lead, Any] | None) -> FieldDecision:
        if found is None:
            return FieldDecision(field, strategy, values, own, master.id)
        return FieldDecision(field, strategy, values, found[1], found[0].id)

    match strategy:
        case SurvivorshipStrategy.MASTER:
            return pick((master, own))
        case SurvivorshipStrategy.MASTER_UNLESS_BLANK:
            return pick((master, own) if not _blank(own) else next(iter(non_blank), None))
        case SurvivorshipStrategy.FIRST_NON_BLANK:
            return pick(next(iter(non_blank), None))
        case SurvivorshipStrategy.NEWEST:
            newest = sorted(non_blank, key=lambda pair: -pair[0].modified_at.timestamp())
            return pick(next(iter(newest), None))
        case SurvivorshipStrategy.LONGEST:
            longest = sorted(non_blank, key=lambda pair: -len(_as_text(pair[1])))
            return pick(next(iter(longest), None))
        case SurvivorshipStrategy.MAXIMUM:
            best: tuple[Lead, Any] | None = None
            for lead, value in non_blank:
                if best is None or _maximum_key(field, value) > _maximum_key(field, best[1]):
                    best = (lead, value)
            return pick(best)
        case SurvivorshipStrategy.CHOICE:
            for lead in leads:
                if lead.id == rule.choice:
                    return pick((lead, getattr(lead, field)))
            raise InvalidValue(
                f"survivorship.{field}", rule.choice, "the chosen lead is not part of the merge"
            )
        case SurvivorshipStrategy.CONCATENATE:
            ordered = [(master, own), *((lead, v) for lead, v in ranked if lead is not master)]
            return FieldDecision(field, strategy, values, _concatenate(field, ordered), None)
        case SurvivorshipStrategy.UNION:
            if field == "ticked_criteria":
                union: frozenset[str] = frozenset().union(*(v for _, v in values))
                return FieldDecision(field, strategy, values, union, None)
            return _union_custom(field, values, master, ranked)
    raise AssertionError(strategy)  # pragma: no cover - every strategy is matched


def _union_custom(
    field: str,
    values: tuple[tuple[LeadId, Any], ...],
    master: Lead,
    ranked: Sequence[tuple[Lead, Any]],
) -> FieldDecision:
    merged: dict[str, Any] = {}
    conflicts: list[str] = []
    ordered = [
        (master, master.custom_fields),
        *((lead, v) for lead, v in ranked if lead is not master),
    ]
    for _, custom in ordered:
        for name, value in custom.items():
            if name not in merged:
                merged[name] = value
            elif merged[name] != value and name not in conflicts:
                conflicts.append(name)
    return FieldDecision(
        field,
        SurvivorshipStrategy.UNION,
        values,
        CustomFields(merged),
        None,
        tuple(sorted(conflicts)),
    )


@attrs.frozen
class MergePlan:
    """What a merge will do, decided before anything is stored (see :func:`plan_merge`).

    ``master`` and ``others`` are the leads as read (their versions are checked again when
    the plan runs); ``decisions`` has one entry per field of :data:`MERGE_FIELDS`;
    ``notes``, ``activities`` and ``stakeholders`` are what moves to the master (renumbered),
    ``moved`` where each came from.
    """

    master: Lead
    others: tuple[Lead, ...]
    survivorship: Survivorship
    decisions: tuple[FieldDecision, ...]
    notes: tuple[Note, ...]
    activities: tuple[Activity, ...]
    stakeholders: tuple[Stakeholder, ...]
    moved: tuple[MovedChild, ...]

    @property
    def leads(self) -> tuple[Lead, ...]:
        """The master then the others."""
        return (self.master, *self.others)

    @property
    def changed(self) -> tuple[FieldDecision, ...]:
        """The decisions that change the master."""
        return tuple(d for d in self.decisions if d.changes_master)

    def decision(self, field: str) -> FieldDecision:
        """The decision on ``field``. Raises InvalidValue for a field the plan has not."""
        for decision in self.decisions:
            if decision.field == field:
                return decision
        raise InvalidValue("field", field, "not a field a merge decides")

    def patch(self) -> LeadPatch:
        """The editable fields the merge changes on the master."""
        return LeadPatch(**{d.field: d.value for d in self.changed if d.field in PATCH_FIELDS})

    def apply(self, merge_id: MergeId, *, at: datetime, by: UserRef) -> tuple[Lead, ...]:
        """The master and the others after the merge, each with its pending event.

        Raises LeadMerged when a lead was merged meanwhile.
        """
        master = self.master.absorb(
            merge_id,
            tuple(lead.id for lead in self.others),
            self.patch(),
            at=at,
            by=by,
            ticked_criteria=self.decision("ticked_criteria").value,
            manual_score=self.decision("manual_score").value,
            notes=self.notes,
            activities=self.activities,
            stakeholders=self.stakeholders,
            before=self.leads,
        )
        merged = tuple(
            lead.merge_into(self.master.id, merge_id, at=at, by=by) for lead in self.others
        )
        return (master, *merged)


def plan_merge(master: Lead, others: Iterable[Lead], survivorship: Survivorship) -> MergePlan:
    """Plan merging ``others`` into ``master``. Pure: reads only its arguments.

    Raises MergeRefused for no other lead, a lead given twice (or the master among the
    others), a lead already merged, more leads than ``survivorship.max_leads`` or a closed
    master the policy does not allow; InvalidValue when a CHOICE names a lead not in the
    merge or a MAXIMUM meets values without an order.
    """
    others = tuple(others)
    if not isinstance(survivorship, Survivorship):
        raise InvalidValue("survivorship", survivorship, "must be a Survivorship")
    for lead in (master, *others):
        if not isinstance(lead, Lead):
            raise InvalidValue("leads", lead, "must be Lead values")
    if not others:
        raise MergeRefused(master.id, "no other lead to merge into it")
    seen = {master.id}
    for lead in others:
        if lead.id in seen:
            raise MergeRefused(lead.id, "the lead is given twice")
        seen.add(lead.id)
    if 1 + len(others) > survivorship.max_leads:
        raise MergeRefused(
            master.id,
            f"{1 + len(others)} leads; the policy merges at most {survivorship.max_leads}",
        )
    for lead in (master, *others):
        if lead.merged_into is not None:
            raise MergeRefused(lead.id, f"it was already merged into {lead.merged_into}")
    if master.is_closed and not survivorship.allow_closed_master:
        raise MergeRefused(master.id, f"the master is {master.state} and the policy needs it Open")
    leads = (master, *others)
    decisions = tuple(_decide(f, survivorship.rule(f), master, leads) for f in MERGE_FIELDS)

    notes: list[Note] = []
    activities: list[Activity] = []
    stakeholders: list[Stakeholder] = []
    moved: list[MovedChild] = []
    next_id = master.timeline_seq
    have = set(master.stakeholders)
    for lead in others:
        entries: list[Note | Activity] = sorted((*lead.notes, *lead.activities), key=lambda e: e.id)
        for entry in entries:
            next_id += 1
            if isinstance(entry, Note):
                notes.append(attrs.evolve(entry, id=next_id))
                moved.append(MovedChild("note", lead.id, entry.id, next_id))
            else:
                activities.append(attrs.evolve(entry, id=next_id))
                moved.append(MovedChild("activity", lead.id, entry.id, next_id))
        for stakeholder in lead.stakeholders:
            is_new = stakeholder not in have
            if is_new:
                have.add(stakeholder)
                stakeholders.append(stakeholder)
            moved.append(MovedChild("stakeholder", lead.id, stakeholder=stakeholder, moved=is_new))
    return MergePlan(
        master=master,
        others=others,
        survivorship=survivorship,
        decisions=decisions,
        notes=tuple(notes),
        activities=tuple(activities),
        stakeholders=tuple(stakeholders),
        moved=tuple(moved),
    )


@attrs.frozen(kw_only=True)
class MergeRecord:
    """A stored merge: what ``unmerge`` needs to restore the leads exactly.

    ``before`` holds every lead as it was before the merge and ``after`` as the merge stored
    it (master first in both); ``moved`` and ``opportunities`` are the provenance of what
    moved. ``undone_at`` / ``undone_by`` are set once the merge is undone. ``originating_lead``
    (the master) lets a store list the merges of a lead.
    """

    id: MergeId
    master: LeadId
    merged: tuple[LeadId, ...]
    at: datetime
    by: UserRef
    before: tuple[Lead, ...]
    after: tuple[Lead, ...]
    moved: tuple[MovedChild, ...] = ()
    opportunities: tuple[MovedOpportunity, ...] = ()
    undone_at: datetime | None = None
    undone_by: UserRef | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        require_aware("at", self.at)
        if self.undone_at is not None:
            require_aware("undone_at", self.undone_at)
        if len(self.before) != len(self.after) or len(self.before) != 1 + len(self.merged):
            raise InvalidValue("before", len(self.before), "one image per lead, before and after")

    @property
    def originating_lead(self) -> LeadId:
        """The master lead (stores index merges by it)."""
        return self.master

    @property
    def is_undone(self) -> bool:
        """True once the merge was undone."""
        return self.undone_at is not None


# Fields an unmerge does not compare: the store's bookkeeping, the edit stamp (every change
# moves it, and the field that changed is reported instead) and derived scoring data (a
# rescoring is no user's edit; the images' scores are restored and the next scoring run
# recomputes them).
_NOT_COMPARED: Final = frozenset(
    {
        "id",
        "version",
        "pending_events",
        "modified_at",
        "modified_by",
        "timeline_seq",
        "notes",
        "activities",
        "score",
        "stars",
        "score_rating",
        "score_model",
        "score_model_version",
    }
)
_COMPARED: Final = tuple(a.name for a in attrs.fields(Lead) if a.name not in _NOT_COMPARED)


def _timeline_changes(
    field: str, after: Sequence[Note | Activity], current: Sequence[Note | Activity]
) -> tuple[bool, tuple[Any, ...]]:
    """Whether an entry the merge left was changed or removed since, and the entries added
    since (kept on the lead by an unmerge)."""
    known = {entry.id: entry for entry in after}
    now = {entry.id: entry for entry in current}
    touched = any(now.get(entry_id) != entry for entry_id, entry in known.items())
    return touched, tuple(entry for entry in current if entry.id not in known)


def plan_unmerge(
    record: MergeRecord, current: Mapping[LeadId, Lead], force: Collection[str] = ()
) -> tuple[Lead, ...]:
    """The images to restore the merge's leads to (master first), given the stored leads.

    A field is touched when a lead's stored value differs from the one the merge left
    (notes and activities: an entry the merge left was edited or removed; entries added
    since are kept on the lead and touch nothing). Touched fields named in ``force`` take the
    value from before the merge anyway. Pure.

    Raises UnmergeConflict listing every (lead id, field) touched and not forced, MergeRefused
    when the merge was already undone, InvalidValue for a lead missing from ``current``.
    """
    if record.is_undone:
        raise MergeRefused(record.master, f"merge {record.id} was already undone")
    conflicts: list[tuple[object, str]] = []
    restored: list[Lead] = []
    for before, after in zip(record.before, record.after, strict=True):
        lead = current.get(after.id)
        if lead is None:
            raise InvalidValue("leads", after.id, "a lead of the merge is missing")
        for name in _COMPARED:
            if getattr(lead, name) != getattr(after, name) and name not in force:
                conflicts.append((after.id, name))
        extra: dict[str, Any] = {}
        added_any = False
        for name in ("notes", "activities"):
            touched, added = _timeline_changes(name, getattr(after, name), getattr(lead, name))
            if touched and name not in force:
                conflicts.append((after.id, name))
            extra[name] = (*getattr(before, name), *added)
            added_any = added_any or bool(added)
        if added_any:
            extra["timeline_seq"] = lead.timeline_seq
        restored.append(attrs.evolve(before, version=lead.version, **extra))
    if conflicts:
        raise UnmergeConflict(record.id, conflicts)
    return tuple(restored)
