"""The leadkit exception tree.

Every error leadkit raises is a :class:`LeadkitError`. Errors keep their data as attributes and
build their message from it, so an application can both show and inspect them::

    LeadkitError
    ├── InvalidValue(LeadkitError, ValueError)      field, value, reason, problems
    │   └── CurrencyMismatch                        left, right
    ├── DomainRuleViolation                         a command was refused
    │   ├── IllegalTransition                       lead_id, current, requested
    │   ├── LeadClosed                              lead_id, state, action
    │   ├── OpportunityLinked                       lead_id, opportunity_id
    │   ├── QualificationIncomplete                 questions
    │   ├── DuplicatesUnresolved                    candidates
    │   ├── LeadMerged                              lead_id, master_id, action
    │   ├── MergeRefused                            lead_id, reason
    │   ├── UnmergeConflict                         merge_id, fields
    │   └── PermissionDenied                        user_id, action, key
    ├── ConfigurationError                          bad rule, weight, map or policy
    └── RepositoryError                             adapters raise only these
        ├── NotFound(RepositoryError, LookupError)  kind, key
        ├── AlreadyExists                           kind, key
        │   └── IdempotencyKeyReuse                 key, operation
        ├── ConcurrencyConflict                     key, expected_version, actual_version
        └── StorageUnavailable                      reason (wraps the driver error)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from leadkit.labels import field_label

__all__ = [
    "AlreadyExists",
    "ConcurrencyConflict",
    "ConfigurationError",
    "CurrencyMismatch",
    "DomainRuleViolation",
    "DuplicatesUnresolved",
    "FieldProblem",
    "IdempotencyKeyReuse",
    "IllegalTransition",
    "InvalidValue",
    "LeadClosed",
    "LeadMerged",
    "LeadkitError",
    "MergeRefused",
    "NotFound",
    "OpportunityLinked",
    "PermissionDenied",
    "QualificationIncomplete",
    "RepositoryError",
    "StorageUnavailable",
    "UnmergeConflict",
]


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LeadkitError(Exception):
    """Base class of every error leadkit raises."""


def _label(problem: FieldProblem) -> str:
    return field_label(problem.field)


@attrs.frozen
class FieldProblem:
    """One bad field: its dotted path (``address.postal_code``), the value given and why,
    and the field's label as users know it (``label``, English; ``""`` when the field has
    none; :meth:`label_in` and :meth:`describe` take a language of the import headers)."""

    field: str
    value: object
    reason: str
    label: str = attrs.field(default=attrs.Factory(_label, takes_self=True), eq=False)

    def label_in(self, language: str = "en") -> str:
        """The field's label in ``language`` (en, sv, pl, de; English for another)."""
        return field_label(self.field, language) if language != "en" else self.label

    def describe(self, language: str = "en") -> str:
        """Return ``Label (field): reason (got value)``, or ``field: reason (got value)`` for
        a field without a label: "Last Name (name.last): is required (got '')"."""
        label = self.label_in(language)
        named = f"{label} ({self.field})" if label else self.field
        return f"{named}: {self.reason} (got {_short(self.value)})"


class InvalidValue(LeadkitError, ValueError):
    """A value was refused. ``field`` names it, ``reason`` says why.

    One error may carry several problems (a required-field profile lists every missing or
    too-long field at once); ``problems`` holds them all and ``field``/``value``/``reason``
    are those of the first.
    """

    problems: tuple[FieldProblem, ...]

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.problems = (FieldProblem(field, value, reason),)
        super().__init__(self._message())

    @classmethod
    def many(cls, problems: Iterable[FieldProblem]) -> InvalidValue:
        """Build one error from several problems (at least one)."""
        found = tuple(problems)
        if not found:
            raise ValueError("InvalidValue.many needs at least one problem")
        error = cls(found[0].field, found[0].value, found[0].reason)
        error.problems = found
        error.args = (error._message(),)
        return error

    @property
    def field(self) -> str:
        """The dotted path of the (first) bad field."""
        return self.problems[0].field

    @property
    def value(self) -> object:
        """The (first) value that was refused."""
        return self.problems[0].value

    @property
    def reason(self) -> str:
        """Why the (first) value was refused."""
        return self.problems[0].reason

    @property
    def fields(self) -> tuple[str, ...]:
        """The paths of every bad field, in the order found."""
        return tuple(p.field for p in self.problems)

    def at(self, prefix: str) -> InvalidValue:
        """Return a copy whose field paths are nested under ``prefix`` (``address`` + ``city``)."""
        moved = [
            FieldProblem(f"{prefix}.{p.field}" if p.field else prefix, p.value, p.reason)
            for p in self.problems
        ]
        return InvalidValue.many(moved)

    def describe(self, language: str = "en") -> str:
        """The message with every field named by its label in ``language`` (en, sv, pl, de)
        and its path; ``str(error)`` is the English one."""
        if len(self.problems) == 1:
            return f"invalid {self.problems[0].describe(language)}"
        listed = "; ".join(p.describe(language) for p in self.problems)
        return f"{len(self.problems)} invalid fields: {listed}"

    def _message(self) -> str:
        return self.describe()


class CurrencyMismatch(InvalidValue):
    """Two amounts in different currencies were combined."""

    def __init__(self, left: str, right: str, field: str = "currency") -> None:
        self.left = left
        self.right = right
        super().__init__(field, right, f"cannot combine {left} with {right}")


class DomainRuleViolation(LeadkitError):
    """A command was refused by a business rule."""


class IllegalTransition(DomainRuleViolation):
    """The lifecycle does not allow moving from ``current`` to ``requested``."""

    def __init__(self, lead_id: object, current: object, requested: object) -> None:
        self.lead_id = lead_id
        self.current = current
        self.requested = requested
        super().__init__(f"lead {lead_id}: cannot go from {current} to {requested}")


class LeadClosed(DomainRuleViolation):
    """An edit was attempted on a Qualified or Disqualified (read-only) lead."""

    def __init__(self, lead_id: object, state: object, action: str) -> None:
        self.lead_id = lead_id
        self.state = state
        self.action = action
        super().__init__(
            f"lead {lead_id} is {state} and read-only: {action} refused (reactivate it first)"
        )


class OpportunityLinked(DomainRuleViolation):
    """Disqualify was refused because an opportunity is linked to the lead."""

    def __init__(self, lead_id: object, opportunity_id: object) -> None:
        self.lead_id = lead_id
        self.opportunity_id = opportunity_id
        super().__init__(
            f"lead {lead_id} cannot be disqualified while opportunity {opportunity_id} "
            "is linked to it"
        )


class QualificationIncomplete(DomainRuleViolation):
    """Prompt mode: the qualification still has questions the caller must answer."""

    def __init__(self, questions: Sequence[Any]) -> None:
        self.questions = tuple(questions)
        listed = ", ".join(str(q) for q in self.questions)
        super().__init__(f"qualification needs answers: {listed}")


class DuplicatesUnresolved(DomainRuleViolation):
    """Duplicate warnings were left unanswered (link one or say "create anyway").

    ``candidates`` holds :class:`~leadkit.conversion.DuplicateCandidate` values wherever the
    error comes from (qualification, e-mail intake, the front door): record type, id, score
    and the explanation.
    """

    def __init__(self, candidates: Sequence[Any]) -> None:
        self.candidates = tuple(candidates)
        super().__init__(f"{len(self.candidates)} possible duplicate(s) left unresolved")


class LeadMerged(DomainRuleViolation):
    """A command was refused because the lead was merged into another (it stays readable;
    ``unmerge`` brings it back)."""

    def __init__(self, lead_id: object, master_id: object, action: str) -> None:
        self.lead_id = lead_id
        self.master_id = master_id
        self.action = action
        super().__init__(
            f"cannot {action} lead {lead_id}: it was merged into {master_id} (unmerge it first)"
        )


class MergeRefused(DomainRuleViolation):
    """A merge was refused for ``lead_id`` (the id of a lead, or of a contact or account when
    ``kind`` says so): ``reason`` says why (a closed master the policy does not allow, a
    record already merged, more records than the policy allows, a record given twice)."""

    def __init__(self, lead_id: object, reason: str, kind: str = "lead") -> None:
        self.lead_id = lead_id
        self.reason = reason
        self.kind = kind
        super().__init__(f"cannot merge {kind} {lead_id}: {reason}")


class UnmergeConflict(DomainRuleViolation):
    """An unmerge was refused: the records were changed since the merge. ``fields`` lists
    each (record id, field) touched since and not forced; pass the field names as ``force``
    to overwrite them with the values from before the merge."""

    def __init__(self, merge_id: object, fields: Sequence[tuple[object, str]]) -> None:
        self.merge_id = merge_id
        self.fields = tuple(fields)
        listed = ", ".join(f"{key}.{name}" for key, name in self.fields)
        super().__init__(f"cannot unmerge {merge_id}: changed since the merge: {listed}")


class PermissionDenied(DomainRuleViolation):
    """The acting principal may not do ``action`` (``"read"``, ``"write"``, ...) on the record
    ``key`` (None: on the records of a query), or its authoriser failed (see
    :mod:`leadkit.access`: an authoriser that raises denies). ``user_id`` names the
    principal. Problem details map it to 403."""

    def __init__(self, user_id: str, action: str, key: object = None, reason: str = "") -> None:
        self.user_id = user_id
        self.action = action
        self.key = key
        self.reason = reason
        target = "these records" if key is None else f"{key}"
        why = f": {reason}" if reason else ""
        super().__init__(f"user {user_id} may not {action} {target}{why}")


class ConfigurationError(LeadkitError):
    """A rule, weight, map, policy or model was refused when it was built."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"bad configuration of {what}: {reason}")


class RepositoryError(LeadkitError):
    """Base of every storage error; adapters raise only these."""


class NotFound(RepositoryError, LookupError):
    """No stored record of ``kind`` has ``key``."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} with id {key}")


class AlreadyExists(RepositoryError):
    """``add`` was given a record whose key is already stored."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"a {kind} with id {key} is already stored")


class IdempotencyKeyReuse(AlreadyExists):
    """An idempotency key came back with another request than the one it was first used with.

    A retry must repeat its request exactly; a new request needs a new key. ``key`` is the
    key, ``operation`` the operation it was used with this time. It is an
    :class:`AlreadyExists` (the key is taken), so problem details map it to 409 Conflict.
    """

    def __init__(self, key: str, operation: str) -> None:
        self.operation = operation
        super().__init__("idempotency key", key)
        self.args = (
            f"the idempotency key {key!r} was used with another request; "
            f"a retry of {operation} must repeat its request exactly (use a new key for a "
            "new request)",
        )


class ConcurrencyConflict(RepositoryError):
    """Optimistic concurrency: the stored version is not the one the change was based on."""

    def __init__(self, key: object, expected_version: int, actual_version: int | None) -> None:
        self.key = key
        self.expected_version = expected_version
        self.actual_version = actual_version
        actual = "deleted" if actual_version is None else f"version {actual_version}"
        super().__init__(
            f"{key} changed underneath: expected version {expected_version}, stored is {actual}"
        )


class StorageUnavailable(RepositoryError):
    """The store could not be used (driver error, locked or corrupt file); see ``__cause__``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
