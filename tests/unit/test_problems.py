"""Specification of the problem details (leadkit.problems): every leadkit error maps."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import leadkit
from leadkit.conversion import DuplicateCandidate, Question, QuestionKind
from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConfigurationError,
    CurrencyMismatch,
    DomainRuleViolation,
    DuplicatesUnresolved,
    FieldProblem,
    IllegalTransition,
    InvalidValue,
    LeadClosed,
    LeadkitError,
    NotFound,
    OpportunityLinked,
    QualificationIncomplete,
    RepositoryError,
    StorageUnavailable,
    UnmergeConflict,
)
from leadkit.problems import (
    PROBLEM_TYPE_PREFIX,
    ProblemType,
    problem,
    problem_type,
    register_problem,
)
from leadkit.status import LeadState
from leadkit.values import LeadId, OpportunityId


def _import_everything() -> None:
    """Import every leadkit module, so that every error class is defined."""
    for module in pkgutil.walk_packages(leadkit.__path__, "leadkit."):
        importlib.import_module(module.name)


def _tree(root: type[LeadkitError]) -> Iterator[type[LeadkitError]]:
    yield root
    for sub in root.__subclasses__():
        yield from _tree(sub)


_import_everything()
ERRORS = sorted(set(_tree(LeadkitError)), key=lambda c: f"{c.__module__}.{c.__qualname__}")

SAMPLES: dict[str, Callable[[], LeadkitError]] = {
    "UnmergeConflict": lambda: UnmergeConflict("M-1", [(LeadId("L-1"), "company")]),
    "ImportInterrupted": lambda: _import_interrupted(),
    "MappingIncomplete": lambda: _mapping_incomplete(),
    "QualificationIncomplete": lambda: QualificationIncomplete(
        [Question(QuestionKind.CURRENCY, "Which currency?", (), "EUR")]
    ),
    "DuplicatesUnresolved": lambda: DuplicatesUnresolved(
        [DuplicateCandidate("contact", "C-1", 97.5, "same e-mail")]
    ),
}


def _import_interrupted() -> LeadkitError:
    from leadkit.io import ImportCheckpoint, ImportInterrupted

    return ImportInterrupted(ImportCheckpoint("f", 3, ()), StorageUnavailable("disk full"))


def _mapping_incomplete() -> LeadkitError:
    from leadkit.io.errors import MappingIncomplete

    return MappingIncomplete.of([FieldProblem("name.last", None, "no column")])


_BY_TYPE: dict[str, Any] = {"int": 1, "int | None": 2, "str": "x", "object": "x"}


def _sample(kind: type[LeadkitError]) -> LeadkitError:
    """An instance of ``kind``: a known sample, else one built from its signature."""
    if kind.__name__ in SAMPLES:
        return SAMPLES[kind.__name__]()
    parameters = list(inspect.signature(kind.__init__).parameters.values())[1:]
    args = [_BY_TYPE.get(str(p.annotation), "x") for p in parameters if p.default is p.empty]
    try:
        return kind(*args)
    except Exception as e:  # pragma: no cover - a new error class needs a sample here
        pytest.fail(f"add a sample of {kind.__qualname__} to SAMPLES ({e!r})")


def test_the_walk_finds_the_whole_tree() -> None:
    names = {e.__name__ for e in ERRORS}
    assert {"LeadkitError", "InvalidValue", "ConcurrencyConflict", "MalformedSource"} <= names
    assert len(ERRORS) >= 18


@pytest.mark.parametrize("kind", ERRORS, ids=[e.__qualname__ for e in ERRORS])
def test_every_leadkit_error_maps_to_a_problem_document(kind: type[LeadkitError]) -> None:
    error = _sample(kind)
    status, document = problem(error)
    assert 400 <= status <= 599
    assert document["status"] == status
    assert str(document["type"]).startswith(PROBLEM_TYPE_PREFIX)
    assert document["title"]
    assert document["detail"]
    json.dumps(document)  # JSON-safe as it is
    mapping = problem_type(kind)
    assert mapping is not None
    assert mapping.status == status


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (InvalidValue("email", "x", "not an address"), 422, "invalid-value"),
        (CurrencyMismatch("EUR", "SEK"), 422, "invalid-value"),
        (NotFound("lead", LeadId("L-1")), 404, "not-found"),
        (ConcurrencyConflict(LeadId("L-1"), 2, 3), 409, "concurrency-conflict"),
        (DuplicatesUnresolved([]), 409, "duplicates-unresolved"),
        (LeadClosed(LeadId("L-1"), LeadState.QUALIFIED, "update"), 409, "lead-closed"),
        (
            IllegalTransition(LeadId("L-1"), LeadState.OPEN, LeadState.OPEN),
            409,
            "illegal-transition",
        ),
        (OpportunityLinked(LeadId("L-1"), OpportunityId("O-1")), 409, "opportunity-linked"),
        (QualificationIncomplete([]), 422, "qualification-incomplete"),
        (AlreadyExists("lead", LeadId("L-1")), 409, "already-exists"),
        (DomainRuleViolation("no"), 409, "rule-violation"),
        (StorageUnavailable("locked"), 503, "storage-unavailable"),
        (RepositoryError("odd"), 500, "storage-error"),
        (ConfigurationError("rule", "bad"), 500, "configuration-error"),
        (LeadkitError("other"), 500, "leadkit-error"),
    ],
)
def test_each_error_gets_its_status_and_type(error: LeadkitError, status: int, slug: str) -> None:
    got, document = problem(error)
    assert got == status
    assert document["type"] == PROBLEM_TYPE_PREFIX + slug


def test_invalid_value_lists_one_entry_per_field_with_label_and_safe_value() -> None:
    secret = object()
    error = InvalidValue.many(
        [
            FieldProblem("name.last", "", "is required"),
            FieldProblem("budget_amount", Decimal("1.5"), "too small"),
            FieldProblem("custom", secret, "not text"),
            FieldProblem("description", "x" * 500, "too long"),
        ]
    )
    _, document = problem(error)
    assert document["errors"] == [
        {"field": "name.last", "label": "Last Name", "reason": "is required", "value": ""},
        {"field": "budget_amount", "label": "Budget Amount", "reason": "too small", "value": "1.5"},
        {"field": "custom", "label": "Custom", "reason": "not text"},
        {"field": "description", "label": "Description", "reason": "too long"},
    ]
    assert "object at" not in str(document["detail"])


def test_concurrency_conflict_shows_the_current_version() -> None:
    _, document = problem(ConcurrencyConflict(LeadId("L-1"), 2, 5))
    assert document["key"] == "L-1"
    assert document["expected_version"] == 2
    assert document["current_version"] == 5


def test_duplicates_unresolved_carries_the_candidates_with_their_explanations() -> None:
    candidate = DuplicateCandidate("contact", "C-1", 97.5, "same e-mail")
    _, document = problem(DuplicatesUnresolved([candidate]))
    assert document["candidates"] == [
        {"record_type": "contact", "record_id": "C-1", "score": 97.5, "reason": "same e-mail"}
    ]


def test_qualification_incomplete_lists_the_questions() -> None:
    question = Question(QuestionKind.CURRENCY, "Which currency?", (), "EUR")
    _, document = problem(QualificationIncomplete([question]))
    assert document["questions"] == [
        {"field": "currency", "text": "Which currency?", "choices": [], "suggestion": "EUR"}
    ]


def test_unmerge_conflict_lists_the_changed_fields() -> None:
    status, document = problem(UnmergeConflict("M-1", [(LeadId("L-1"), "company")]))
    assert status == 409
    assert document["fields"] == [{"record_id": "L-1", "field": "company"}]


def test_an_error_that_is_not_leadkits_is_not_mapped() -> None:
    with pytest.raises(InvalidValue) as caught:
        problem(KeyError("x"))
    assert caught.value.field == "error"


def test_a_new_subclass_gets_its_parents_status_until_registered() -> None:
    class Throttled(StorageUnavailable):
        pass

    assert problem(Throttled("slow down"))[0] == 503
    register_problem(Throttled, ProblemType(429, "throttled", "Too many requests"))
    status, document = problem(Throttled("slow down"))
    assert (status, document["type"]) == (429, PROBLEM_TYPE_PREFIX + "throttled")


def test_a_permission_denied_error_maps_to_403_by_name() -> None:
    class PermissionDenied(DomainRuleViolation):
        pass

    assert problem(PermissionDenied("not yours"))[0] == 403


@pytest.mark.parametrize(
    ("kind", "mapping"),
    [(KeyError, ProblemType(400, "x", "x")), (LeadkitError, ProblemType(200, "x", "x"))],
)
def test_register_problem_refuses_a_foreign_class_or_a_success_status(
    kind: Any, mapping: ProblemType
) -> None:
    with pytest.raises(InvalidValue):
        register_problem(kind, mapping)


@pytest.mark.parametrize(
    ("path", "label"),
    [("name.last", "Last Name"), ("job_title", "Job Title"), ("notes[0].text", "Text")],
)
def test_each_field_entry_has_the_label_users_know(path: str, label: str) -> None:
    _, document = problem(InvalidValue(path, "", "bad"))
    assert document["errors"] == [{"field": path, "label": label, "reason": "bad", "value": ""}]
