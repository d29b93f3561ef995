"""Merge duplicate contacts or accounts, and undo the merge: the lead machinery, for records.

The same steps as :mod:`leadkit.merging`: :func:`plan_record_merge` is pure and decides, field
by field with the same :class:`~leadkit.merging.SurvivorshipStrategy` values, which value
survives and where it came from (:class:`RecordFieldDecision`), and which notes move to the
master (:class:`MovedRecordNote`, the provenance). ``leadkit.record_merge_service`` stores the
plan in one unit of work, re-points what referred to a merged record (opportunities'
customer and contact, accounts' primary contact, contacts' account: :class:`RepointedReference`)
and keeps a :class:`RecordMergeRecord` with every record's image from before, so that its
unmerge restores them exactly: :func:`plan_record_unmerge` (pure too) lists every field
touched since the merge (:class:`~leadkit.errors.UnmergeConflict`) unless forced.

A merged contact or account is not deleted: it keeps ``merged_into`` naming the master (the
Dynamics 365 ``masterid``), stays readable and is inactive until the merge is undone.

Strategies that apply to records: ``MASTER_UNLESS_BLANK`` (the default), ``MASTER``,
``FIRST_NON_BLANK`` (ranking: more recently modified before less, more complete before less,
then the order given), ``NEWEST``, ``LONGEST``, ``CONCATENATE`` (``description``) and ``CHOICE``.
``MAXIMUM`` and ``UNION`` have no record field to apply to.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs

from leadkit.errors import ConfigurationError, InvalidValue, MergeRefused, UnmergeConflict
from leadkit.merging import SurvivorshipStrategy
from leadkit.policies import RecordKind
from leadkit.profiles import is_blank
from leadkit.records import Account, Contact
from leadkit.timeline import Note
from leadkit.values import AccountId, ContactId, MergeId, UserRef, require_aware

__all__ = [
    "RECORD_MERGE_FIELDS",
    "MovedRecordNote",
    "RecordFieldDecision",
    "RecordMergePlan",
    "RecordMergeRecord",
    "RecordSurvivorship",
    "RecordSurvivorshipRule",
    "RepointedReference",
    "plan_record_merge",
    "plan_record_unmerge",
]

RECORD_MERGE_FIELDS: Final[Mapping[RecordKind, tuple[str, ...]]] = {
    RecordKind.CONTACT: (
        "name",
        "job_title",
        "company",
        "business_phone",
        "mobile_phone",
        "email",
        "address",
        "description",
        "account_id",
        "source",
        "owner",
    ),
    RecordKind.ACCOUNT: (
        "name",
        "website",
        "business_phone",
        "email",
        "address",
        "description",
        "primary_contact",
        "owner",
    ),
}
"""The fields survivorship decides, per mergeable record kind (contacts and accounts)."""

_CONCATENATED: Final = frozenset({"description"})
_RECORD_STRATEGIES: Final = frozenset(SurvivorshipStrategy) - {
    SurvivorshipStrategy.MAXIMUM,
    SurvivorshipStrategy.UNION,
}

RecordT = TypeVar("RecordT", Account, Contact)
_Id = AccountId | ContactId


def _kind(value: RecordKind) -> RecordKind:
    if value not in RECORD_MERGE_FIELDS:
        raise ConfigurationError("record survivorship kind", "only contacts and accounts merge")
    return value


@attrs.frozen
class RecordSurvivorshipRule:
    """How one field of a contact or account survives a merge; ``choice`` names the record
    whose value a ``CHOICE`` keeps.

    Raises ConfigurationError for a strategy records do not use (MAXIMUM, UNION), CONCATENATE
    on another field than ``description``, or a CHOICE without a record (or a record without
    CHOICE).
    """

    field: str
    strategy: SurvivorshipStrategy
    choice: AccountId | ContactId | None = None

    def __attrs_post_init__(self) -> None:
        where = f"survivorship rule for {self.field!r}"
        if self.strategy not in _RECORD_STRATEGIES:
            raise ConfigurationError(where, f"{self.strategy} does not apply to records")
        if self.strategy is SurvivorshipStrategy.CONCATENATE and self.field not in _CONCATENATED:
            raise ConfigurationError(where, "concatenate applies only to description")
        if (self.strategy is SurvivorshipStrategy.CHOICE) != (self.choice is not None):
            raise ConfigurationError(where, "a record is chosen exactly with CHOICE")
        if self.choice is not None and not isinstance(self.choice, AccountId | ContactId):
            raise ConfigurationError(where, "the choice must be an AccountId or ContactId")


def _rule_tuple(value: Iterable[RecordSurvivorshipRule]) -> tuple[RecordSurvivorshipRule, ...]:
    return tuple(value)


def _max_records(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ConfigurationError("survivorship.max_records", "must be an integer of at least 2")
    return value


@attrs.frozen
class RecordSurvivorship:
    """The merge policy for contacts (``kind`` CONTACT) or accounts (ACCOUNT): a rule per
    field (others use ``MASTER_UNLESS_BLANK``) and how many records one merge may take.

    Raises ConfigurationError for an opportunity kind, a rule for a field the kind has not,
    two rules for one field, a rule that is not a RecordSurvivorshipRule or ``max_records``
    below 2.
    """

    kind: RecordKind = attrs.field(converter=_kind)
    rules: tuple[RecordSurvivorshipRule, ...] = attrs.field(default=(), converter=_rule_tuple)
    max_records: int = attrs.field(default=4, converter=_max_records)

    def __attrs_post_init__(self) -> None:
        fields = RECORD_MERGE_FIELDS[self.kind]
        seen: set[str] = set()
        for rule in self.rules:
            if not isinstance(rule, RecordSurvivorshipRule):
                raise ConfigurationError("survivorship", f"{rule!r} is not a rule")
            if rule.field not in fields:
                raise ConfigurationError(
                    f"survivorship rule for {rule.field!r}",
                    f"not a mergeable {self.kind.value} field",
                )
            if rule.field in seen:
                raise ConfigurationError("survivorship", f"two rules for {rule.field!r}")
            seen.add(rule.field)

    def rule(self, field: str) -> RecordSurvivorshipRule:
        """The rule deciding ``field``. Raises ConfigurationError for a field not merged."""
        for rule in self.rules:
            if rule.field == field:
                return rule
        if field not in RECORD_MERGE_FIELDS[self.kind]:
            raise ConfigurationError(f"survivorship rule for {field!r}", "not a mergeable field")
        return RecordSurvivorshipRule(field, SurvivorshipStrategy.MASTER_UNLESS_BLANK)


@attrs.frozen
class RecordFieldDecision:
    """One field's outcome: the values the records hold (master first), the surviving value
    and the record it came from (None when several contributed)."""

    field: str
    strategy: SurvivorshipStrategy
    values: tuple[tuple[_Id, Any], ...]
    value: Any
    source: _Id | None

    @property
    def changes_master(self) -> bool:
        """True when the surviving value is not the master's."""
        return bool(self.value != self.values[0][1])


@attrs.frozen
class MovedRecordNote:
    """A note moved to the master: its id on the merged record and on the master."""

    from_record: str
    from_id: int
    to_id: int


@attrs.frozen
class RepointedReference:
    """A reference the merge re-pointed from a merged record to the master: ``field`` of the
    record ``kind``/``record_id`` held ``from_id``."""

    kind: RecordKind
    record_id: str
    field: str
    from_id: str


def _modified(record: Account | Contact) -> float:
    return record.modified_at.timestamp() if record.modified_at is not None else float("-inf")


def _rank(records: Sequence[RecordT], fields: Sequence[str]) -> list[RecordT]:
    order = {record.id: n for n, record in enumerate(records)}
    return sorted(
        records,
        key=lambda r: (
            -_modified(r),
            -sum(not is_blank(getattr(r, f)) for f in fields),
            order[r.id],
        ),
    )


def _text(value: object) -> str:
    full = getattr(value, "full", None)
    if isinstance(full, str):
        return full
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else str(value)


def _decide(
    field: str, rule: RecordSurvivorshipRule, records: Sequence[RecordT], fields: Sequence[str]
) -> RecordFieldDecision:
    master = records[0]
    values = tuple((r.id, getattr(r, field)) for r in records)
    ranked = [(r, getattr(r, field)) for r in _rank(records, fields)]
    non_blank = [(r, v) for r, v in ranked if not is_blank(v)]
    own = getattr(master, field)

    def pick(found: tuple[RecordT, Any] | None) -> RecordFieldDecision:
        record, value = found if found is not None else (master, own)
        return RecordFieldDecision(field, rule.strategy, values, value, record.id)

    match rule.strategy:
        case SurvivorshipStrategy.MASTER:
            return pick(None)
        case SurvivorshipStrategy.MASTER_UNLESS_BLANK:
            return pick(None if not is_blank(own) else next(iter(non_blank), None))
        case SurvivorshipStrategy.FIRST_NON_BLANK:
            return pick(next(iter(non_blank), None))
        case SurvivorshipStrategy.NEWEST:
            return pick(max(non_blank, key=lambda p: _modified(p[0]), default=None))
        case SurvivorshipStrategy.LONGEST:
            return pick(max(non_blank, key=lambda p: len(_text(p[1])), default=None))
        case SurvivorshipStrategy.CHOICE:
            for record in records:
                if record.id == rule.choice:
                    return pick((record, getattr(record, field)))
            raise InvalidValue(
                f"survivorship.{field}", rule.choice, "the chosen record is not part of the merge"
            )
        case SurvivorshipStrategy.CONCATENATE:
            parts: list[str] = []
            ordered: list[tuple[RecordT, Any]] = [(master, own)]
            ordered += [(r, v) for r, v in ranked if r is not master]
            for record, value in ordered:
                text = value.strip()
                if text and text not in parts and not any(text in p for p in parts):
                    parts.append(text if record is master else f"[merged from {record.id}]\n{text}")
            return RecordFieldDecision(field, rule.strategy, values, "\n\n".join(parts), None)
    raise AssertionError(rule.strategy)  # pragma: no cover - the rule refuses the others


@attrs.frozen
class RecordMergePlan:
    """What a contact or account merge will do (see :func:`plan_record_merge`): the records
    as read (master first; versions are checked again when it runs), one decision per field,
    the notes moving to the master (renumbered) and where each came from."""

    master: Account | Contact
    others: tuple[Account, ...] | tuple[Contact, ...]
    survivorship: RecordSurvivorship
    decisions: tuple[RecordFieldDecision, ...]
    notes: tuple[Note, ...]
    moved: tuple[MovedRecordNote, ...]

    @property
    def kind(self) -> RecordKind:
        """CONTACT or ACCOUNT."""
        return self.survivorship.kind

    @property
    def records(self) -> tuple[Account | Contact, ...]:
        """The master then the others."""
        return (self.master, *self.others)

    @property
    def changed(self) -> tuple[RecordFieldDecision, ...]:
        """The decisions that change the master."""
        return tuple(d for d in self.decisions if d.changes_master)

    def apply(self, *, at: datetime) -> tuple[Account | Contact, ...]:
        """The master and the others after the merge (master first): the master takes the
        surviving values and the moved notes; the others name it in ``merged_into``.

        Raises InvalidValue when the surviving values do not make a valid record.
        """
        require_aware("at", at)
        master: Any = self.master
        values = {d.field: d.value for d in self.changed}
        merged_master = attrs.evolve(
            master, **values, notes=(*master.notes, *self.notes), modified_at=at
        )
        others = tuple(
            attrs.evolve(other, merged_into=master.id, modified_at=at) for other in self.others
        )
        return (merged_master, *others)


def plan_record_merge(
    master: RecordT, others: Iterable[RecordT], survivorship: RecordSurvivorship
) -> RecordMergePlan:
    """Plan merging ``others`` into ``master`` (all contacts or all accounts, as
    ``survivorship.kind`` says). Pure: reads only its arguments.

    Raises MergeRefused for no other record, a record given twice (or the master among the
    others), a record already merged, or more records than ``survivorship.max_records``;
    InvalidValue for a record of another kind than the policy's or a CHOICE naming a record
    not in the merge.
    """
    if not isinstance(survivorship, RecordSurvivorship):
        raise InvalidValue("survivorship", survivorship, "must be a RecordSurvivorship")
    kind = survivorship.kind
    records: tuple[RecordT, ...] = (master,) + tuple(others)  # noqa: RUF005 - mypy and TypeVar
    wanted = kind.record_type
    for record in records:
        if not isinstance(record, wanted):
            raise InvalidValue("records", record, f"must be {wanted.__name__} values")
    name = kind.value
    if len(records) < 2:
        raise MergeRefused(master.id, f"no other {name} to merge into it", name)
    seen: set[object] = set()
    for record in records:
        if record.id in seen:
            raise MergeRefused(record.id, f"the {name} is given twice", name)
        seen.add(record.id)
    if len(records) > survivorship.max_records:
        raise MergeRefused(
            master.id,
            f"{len(records)} {name}s; the policy merges at most {survivorship.max_records}",
            name,
        )
    for record in records:
        if record.merged_into is not None:
            raise MergeRefused(record.id, f"it was already merged into {record.merged_into}", name)
    fields = RECORD_MERGE_FIELDS[kind]
    decisions = tuple(_decide(f, survivorship.rule(f), records, fields) for f in fields)
    notes: list[Note] = []
    moved: list[MovedRecordNote] = []
    next_id = max((n.id for n in master.notes), default=0)
    for other in records[1:]:
        for note in other.notes:
            next_id += 1
            notes.append(attrs.evolve(note, id=next_id))
            moved.append(MovedRecordNote(other.id.value, note.id, next_id))
    return RecordMergePlan(
        master=master,
        others=records[1:],
        survivorship=survivorship,
        decisions=decisions,
        notes=tuple(notes),
        moved=tuple(moved),
    )


@attrs.frozen(kw_only=True)
class RecordMergeRecord:
    """A stored contact or account merge: what its unmerge needs to restore the records.

    ``before`` / ``after`` hold every record as it was before the merge and as the merge
    stored it, master first, in ``contacts_*`` for a contact merge and ``accounts_*`` for an
    account merge; ``moved`` and ``repointed`` are the provenance of what moved.
    ``undone_at`` / ``undone_by`` are set once the merge is undone.

    Raises InvalidValue for images that do not match the kind and ids, or a naive time.
    """

    id: MergeId
    kind: RecordKind
    master: str
    merged: tuple[str, ...]
    at: datetime
    by: UserRef
    contacts_before: tuple[Contact, ...] = ()
    contacts_after: tuple[Contact, ...] = ()
    accounts_before: tuple[Account, ...] = ()
    accounts_after: tuple[Account, ...] = ()
    moved: tuple[MovedRecordNote, ...] = ()
    repointed: tuple[RepointedReference, ...] = ()
    undone_at: datetime | None = None
    undone_by: UserRef | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        require_aware("at", self.at)
        if self.undone_at is not None:
            require_aware("undone_at", self.undone_at)
        if self.kind not in RECORD_MERGE_FIELDS:
            raise InvalidValue("kind", self.kind, "only contacts and accounts merge")
        before, after = self.before, self.after
        ids = [self.master, *self.merged]
        if [r.id.value for r in before] != ids or [r.id.value for r in after] != ids:
            raise InvalidValue("before", len(before), "one image per record, before and after")
        if (self.contacts_before or self.contacts_after) and (
            self.accounts_before or self.accounts_after
        ):
            raise InvalidValue("before", self.kind, "images of one kind only")

    @property
    def before(self) -> tuple[Account | Contact, ...]:
        """The images from before the merge, master first."""
        return self.contacts_before if self.kind is RecordKind.CONTACT else self.accounts_before

    @property
    def after(self) -> tuple[Account | Contact, ...]:
        """The images the merge stored, master first."""
        return self.contacts_after if self.kind is RecordKind.CONTACT else self.accounts_after

    @property
    def originating_lead(self) -> None:
        """None: a record merge has no lead (stores index lead merges by it)."""
        return None

    @property
    def is_undone(self) -> bool:
        """True once the merge was undone."""
        return self.undone_at is not None


_NOT_COMPARED: Final = frozenset({"id", "version", "modified_at", "notes"})


def plan_record_unmerge(
    record: RecordMergeRecord,
    current: Mapping[str, Account | Contact],
    force: Collection[str] = (),
) -> tuple[Account | Contact, ...]:
    """The images to restore the merge's records to (master first), given the stored ones
    (by id value). A field is touched when its stored value differs from the one the merge
    left (notes: a note the merge left was edited or removed; notes added since stay on the
    record). Touched fields named in ``force`` take the value from before anyway. Pure.

    Raises UnmergeConflict listing every (record id, field) touched and not forced,
    MergeRefused when the merge was already undone, InvalidValue for a record missing from
    ``current``.
    """
    if record.is_undone:
        raise MergeRefused(
            record.master, f"merge {record.id} was already undone", record.kind.value
        )
    conflicts: list[tuple[object, str]] = []
    restored: list[Account | Contact] = []
    for before, after in zip(record.before, record.after, strict=True):
        found = current.get(after.id.value)
        if found is None:
            raise InvalidValue(
                "records", after.id, f"a {record.kind.value} of the merge is missing"
            )
        for a in attrs.fields(type(after)):
            name = a.name
            if name in _NOT_COMPARED or name in force:
                continue
            if getattr(found, name) != getattr(after, name):
                conflicts.append((after.id, name))
        left = {note.id: note for note in after.notes}
        now = {note.id: note for note in found.notes}
        if any(now.get(i) != note for i, note in left.items()) and "notes" not in force:
            conflicts.append((after.id, "notes"))
        added = tuple(note for note in found.notes if note.id not in left)
        image: Any = before
        restored.append(attrs.evolve(image, version=found.version, notes=(*before.notes, *added)))
    if conflicts:
        raise UnmergeConflict(record.id, conflicts)
    return tuple(restored)
