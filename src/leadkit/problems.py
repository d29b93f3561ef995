"""HTTP problem details (RFC 9457) for every leadkit error.

:func:`problem` turns a :class:`~leadkit.errors.LeadkitError` into ``(status, document)``: a
web host returns the status and the document as ``application/problem+json``::

    try:
        result = desk.qualify(lead_id)
    except LeadkitError as e:
        status, body = problem(e)
        return JSONResponse(body, status, media_type=PROBLEM_MEDIA_TYPE)

The document has the RFC's members ``type`` (``urn:leadkit:problem:<slug>``), ``title``,
``status`` and ``detail``, and the error's data as extension members:

=========================  ======  =============================================================
error                      status  extension members
=========================  ======  =============================================================
InvalidValue (and kin)     422     ``errors``: one ``{field, label, reason[, value]}`` per field
QualificationIncomplete    422     ``questions``: ``{field, text, choices, suggestion}``
NotFound                   404     ``kind``, ``key``
ConcurrencyConflict        409     ``key``, ``expected_version``, ``current_version``
DuplicatesUnresolved       409     ``candidates``: ``{record_type, record_id, score, reason}``
IllegalTransition          409     ``lead_id``, ``current``, ``requested``
LeadClosed                 409     ``lead_id``, ``state``, ``action``
OpportunityLinked          409     ``lead_id``, ``opportunity_id``
AlreadyExists              409     ``kind``, ``key``
UnmergeConflict            409     ``merge_id``, ``fields``: ``{record_id, field}``
DomainRuleViolation        409     (another refusal by a rule)
InsufficientTrainingData   422     ``won``, ``lost``, ``minimum``
PermissionDenied           403     ``action``, ``key`` (null for a query)
StorageUnavailable         503
ConfigurationError         500     (the host's configuration is wrong: not the client's fault)
LeadkitError               500     (any other leadkit error)
=========================  ======  =============================================================

An error maps by its class hierarchy: the nearest class in the table decides, so a new
subclass gets its parent's status until it is given its own entry
(:func:`register_problem`). A value is shown only when it is safe to echo back: a short
string, number, boolean or null, never an object's ``repr``; ``label`` is the field's label
as users know it (:mod:`leadkit.labels`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import attrs

from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConfigurationError,
    DomainRuleViolation,
    DuplicatesUnresolved,
    FieldProblem,
    IllegalTransition,
    InvalidValue,
    LeadClosed,
    LeadkitError,
    NotFound,
    OpportunityLinked,
    PermissionDenied,
    QualificationIncomplete,
    RepositoryError,
    StorageUnavailable,
    UnmergeConflict,
)
from leadkit.scoring.predictive import InsufficientTrainingData

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_PREFIX",
    "ProblemType",
    "problem",
    "problem_type",
    "register_problem",
]

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
"""The media type of a problem document (RFC 9457)."""

PROBLEM_TYPE_PREFIX: Final = "urn:leadkit:problem:"
"""Every problem ``type`` is this prefix and the problem's slug."""

_SAFE_TEXT: Final = 200

Extension = Callable[[Any], dict[str, object]]


@attrs.frozen
class ProblemType:
    """How one error class maps: the HTTP ``status``, the ``slug`` of its ``type`` URI, a
    short ``title``, and ``extend``, which returns the error's extension members."""

    status: int
    slug: str
    title: str
    extend: Extension | None = None

    @property
    def type(self) -> str:
        """The problem's ``type`` URI."""
        return PROBLEM_TYPE_PREFIX + self.slug


def _safe(value: object) -> bool:
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float | Decimal):
        return value.is_finite() if isinstance(value, Decimal) else value == value
    return isinstance(value, str) and len(value) <= _SAFE_TEXT


def _plain(value: object) -> object:
    """An id, enum or value as JSON-safe text (ids by their value)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    inner = getattr(value, "value", None)
    if isinstance(value, Enum):
        label = getattr(value, "label", None)
        return label if isinstance(label, str) else str(value.value)
    if isinstance(inner, str):
        return inner
    return str(value)


def _label(problem: FieldProblem) -> str:
    """The field's label as users know it (``FieldProblem.label``), else its path's last part
    in words ("Postal Code")."""
    if problem.label:
        return problem.label
    bare = re.sub(r"\[\d+\]", "", problem.field)
    last = bare.rsplit(".", 1)[-1] or problem.field
    return last.replace("_", " ").strip().title() or problem.field


def _invalid(error: InvalidValue) -> dict[str, object]:
    entries: list[dict[str, object]] = []
    for p in error.problems:
        entry: dict[str, object] = {
            "field": p.field,
            "label": _label(p),
            "reason": p.reason,
        }
        if _safe(p.value):
            entry["value"] = str(p.value) if isinstance(p.value, Decimal) else p.value
        entries.append(entry)
    return {"errors": entries}


def _invalid_detail(error: InvalidValue) -> str:
    if len(error.problems) == 1:
        return f"invalid {error.field}: {error.reason}"
    return f"{len(error.problems)} invalid fields: {', '.join(error.fields)}"


def _questions(error: QualificationIncomplete) -> dict[str, object]:
    return {
        "questions": [
            {
                "field": str(getattr(q, "field", "")),
                "text": str(getattr(q, "text", q)),
                "choices": [str(c) for c in getattr(q, "choices", ())],
                "suggestion": str(getattr(q, "suggestion", "")),
            }
            for q in error.questions
        ]
    }


def _candidate(candidate: object) -> dict[str, object]:
    record_type = getattr(candidate, "record_type", None)
    record_id = getattr(candidate, "record_id", None)
    return {
        "record_type": _plain(getattr(record_type, "value", record_type)),
        "record_id": _plain(record_id),
        "score": float(getattr(candidate, "score", 0.0)),
        "reason": str(getattr(candidate, "reason", "")),
    }


def _candidates(error: DuplicatesUnresolved) -> dict[str, object]:
    return {"candidates": [_candidate(c) for c in error.candidates]}


def _conflict(error: ConcurrencyConflict) -> dict[str, object]:
    return {
        "key": _plain(error.key),
        "expected_version": error.expected_version,
        "current_version": error.actual_version,
    }


_TABLE: dict[type[LeadkitError], ProblemType] = {
    LeadkitError: ProblemType(500, "leadkit-error", "leadkit could not do this"),
    InvalidValue: ProblemType(422, "invalid-value", "Invalid value", _invalid),
    DomainRuleViolation: ProblemType(409, "rule-violation", "Refused by a business rule"),
    IllegalTransition: ProblemType(
        409,
        "illegal-transition",
        "The lead's status does not allow this",
        lambda e: {
            "lead_id": _plain(e.lead_id),
            "current": _plain(e.current),
            "requested": _plain(e.requested),
        },
    ),
    LeadClosed: ProblemType(
        409,
        "lead-closed",
        "The lead is closed and read-only",
        lambda e: {"lead_id": _plain(e.lead_id), "state": _plain(e.state), "action": e.action},
    ),
    OpportunityLinked: ProblemType(
        409,
        "opportunity-linked",
        "An opportunity is linked to the lead",
        lambda e: {"lead_id": _plain(e.lead_id), "opportunity_id": _plain(e.opportunity_id)},
    ),
    QualificationIncomplete: ProblemType(
        422, "qualification-incomplete", "The qualification needs answers", _questions
    ),
    DuplicatesUnresolved: ProblemType(
        409, "duplicates-unresolved", "Possible duplicates need an answer", _candidates
    ),
    PermissionDenied: ProblemType(
        403,
        "permission-denied",
        "Not allowed",
        lambda e: {"action": e.action, "key": _plain(e.key)},
    ),
    ConfigurationError: ProblemType(500, "configuration-error", "leadkit is misconfigured"),
    RepositoryError: ProblemType(500, "storage-error", "The store failed"),
    NotFound: ProblemType(
        404,
        "not-found",
        "Not found",
        lambda e: {"kind": str(e.kind), "key": _plain(e.key)},
    ),
    AlreadyExists: ProblemType(
        409,
        "already-exists",
        "Already exists",
        lambda e: {"kind": str(e.kind), "key": _plain(e.key)},
    ),
    ConcurrencyConflict: ProblemType(
        409, "concurrency-conflict", "Changed by someone else since it was read", _conflict
    ),
    StorageUnavailable: ProblemType(503, "storage-unavailable", "The store is unavailable"),
    UnmergeConflict: ProblemType(
        409,
        "unmerge-conflict",
        "Changed since the merge",
        lambda e: {
            "merge_id": _plain(e.merge_id),
            "fields": [{"record_id": _plain(key), "field": name} for key, name in e.fields],
        },
    ),
    InsufficientTrainingData: ProblemType(
        422,
        "insufficient-training-data",
        "Too few won or lost leads to train on",
        lambda e: {"won": e.won, "lost": e.lost, "minimum": e.minimum},
    ),
}

# Errors other parts of leadkit define (or will): mapped by class name so that they need no
# import here. An entry in _TABLE for the class itself wins.
_BY_NAME: dict[str, ProblemType] = {
    "PermissionDenied": ProblemType(403, "permission-denied", "Not allowed"),
}


def register_problem(kind: type[LeadkitError], mapping: ProblemType) -> None:
    """Map ``kind`` (and its subclasses without an entry of their own) to ``mapping``.

    Raises InvalidValue when ``kind`` is not a LeadkitError class or the status is not an
    HTTP error status (400-599).
    """
    if not (isinstance(kind, type) and issubclass(kind, LeadkitError)):
        raise InvalidValue("kind", getattr(kind, "__name__", None), "must be a LeadkitError class")
    if not isinstance(mapping, ProblemType) or not 400 <= mapping.status <= 599:
        raise InvalidValue("mapping", None, "must be a ProblemType with a 4xx or 5xx status")
    _TABLE[kind] = mapping


def problem_type(kind: type[BaseException]) -> ProblemType | None:
    """The mapping of an error class: its own entry, else its nearest ancestor's (None for a
    class that is not a LeadkitError)."""
    for cls in kind.__mro__:
        found = _TABLE.get(cls)
        if found is None and issubclass(cls, LeadkitError):
            found = _BY_NAME.get(cls.__name__)
        if found is not None:
            return found
    return None


def problem(error: BaseException) -> tuple[int, dict[str, object]]:
    """The HTTP status and RFC 9457 problem document of a leadkit error (see the module
    doc). Raises InvalidValue naming ``error`` for anything that is not a LeadkitError: it
    is not leadkit's to map."""
    mapping = problem_type(type(error)) if isinstance(error, LeadkitError) else None
    if mapping is None:
        raise InvalidValue("error", type(error).__name__, "not a leadkit error; not mapped")
    detail = _invalid_detail(error) if isinstance(error, InvalidValue) else str(error)
    document: dict[str, object] = {
        "type": mapping.type,
        "title": mapping.title,
        "status": mapping.status,
        "detail": detail,
    }
    if mapping.extend is not None:
        document.update(mapping.extend(error))
    return mapping.status, document
