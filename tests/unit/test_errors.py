"""Specification of the exception tree (leadkit.errors)."""

from __future__ import annotations

import pytest

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
)


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (InvalidValue, (LeadkitError, ValueError)),
        (CurrencyMismatch, (InvalidValue,)),
        (DomainRuleViolation, (LeadkitError,)),
        (IllegalTransition, (DomainRuleViolation,)),
        (LeadClosed, (DomainRuleViolation,)),
        (OpportunityLinked, (DomainRuleViolation,)),
        (QualificationIncomplete, (DomainRuleViolation,)),
        (DuplicatesUnresolved, (DomainRuleViolation,)),
        (ConfigurationError, (LeadkitError,)),
        (RepositoryError, (LeadkitError,)),
        (NotFound, (RepositoryError, LookupError)),
        (AlreadyExists, (RepositoryError,)),
        (ConcurrencyConflict, (RepositoryError,)),
        (StorageUnavailable, (RepositoryError,)),
    ],
)
def test_every_error_sits_in_the_documented_place_of_the_tree(
    error: type[Exception], bases: tuple[type[Exception], ...]
) -> None:
    for base in bases:
        assert issubclass(error, base)


def test_domain_rule_violations_are_not_value_errors() -> None:
    assert not issubclass(DomainRuleViolation, ValueError)
    assert not issubclass(RepositoryError, DomainRuleViolation)


def test_invalid_value_keeps_field_value_and_reason_and_builds_its_message() -> None:
    error = InvalidValue("address.postal_code", "12#4", "bad characters")

    assert error.field == "address.postal_code"
    assert error.value == "12#4"
    assert error.reason == "bad characters"
    assert error.fields == ("address.postal_code",)
    assert error.problems == (FieldProblem("address.postal_code", "12#4", "bad characters"),)
    assert (
        str(error) == "invalid ZIP/Postal Code (address.postal_code): bad characters (got '12#4')"
    )


def test_invalid_value_many_lists_every_problem_and_exposes_the_first() -> None:
    error = InvalidValue.many(
        [FieldProblem("topic", "", "is required"), FieldProblem("name.last", "", "is required")]
    )

    assert error.fields == ("topic", "name.last")
    assert error.field == "topic"
    assert str(error).startswith("2 invalid fields: Topic (topic): is required")
    assert "Last Name (name.last): is required" in str(error)


def test_invalid_value_many_refuses_an_empty_list_of_problems() -> None:
    with pytest.raises(ValueError, match="at least one"):
        InvalidValue.many([])


def test_invalid_value_at_nests_every_path_under_a_prefix() -> None:
    error = InvalidValue.many([FieldProblem("city", 1, "must be text"), FieldProblem("", 2, "x")])

    moved = error.at("address")

    assert moved.fields == ("address.city", "address")
    assert error.fields == ("city", "")  # the original is untouched


def test_field_problem_describe_shortens_a_long_value() -> None:
    problem = FieldProblem("description", "x" * 500, "too long")

    text = problem.describe()

    assert text.startswith("Description (description): too long (got 'xxx")
    assert text.endswith("...)")
    assert len(text) < 120


def test_currency_mismatch_keeps_left_and_right() -> None:
    error = CurrencyMismatch("EUR", "USD")

    assert (error.left, error.right) == ("EUR", "USD")
    assert error.field == "currency"
    assert error.value == "USD"
    assert "cannot combine EUR with USD" in str(error)


def test_illegal_transition_keeps_lead_current_and_requested() -> None:
    error = IllegalTransition("L-1", "Qualified", "Disqualified")

    assert (error.lead_id, error.current, error.requested) == ("L-1", "Qualified", "Disqualified")
    assert str(error) == "lead L-1: cannot go from Qualified to Disqualified"


def test_lead_closed_names_the_refused_action() -> None:
    error = LeadClosed("L-1", "Qualified", "update")

    assert (error.lead_id, error.state, error.action) == ("L-1", "Qualified", "update")
    assert "update refused" in str(error)
    assert "reactivate" in str(error)


def test_opportunity_linked_names_the_opportunity() -> None:
    error = OpportunityLinked("L-1", "O-9")

    assert (error.lead_id, error.opportunity_id) == ("L-1", "O-9")
    assert "O-9" in str(error)


def test_qualification_incomplete_lists_the_questions() -> None:
    error = QualificationIncomplete(["currency", "account"])

    assert error.questions == ("currency", "account")
    assert str(error) == "qualification needs answers: currency, account"


def test_duplicates_unresolved_counts_the_candidates() -> None:
    error = DuplicatesUnresolved(["a", "b"])

    assert error.candidates == ("a", "b")
    assert str(error).startswith("2 possible duplicate")


def test_configuration_error_keeps_what_and_reason() -> None:
    error = ConfigurationError("status model 'x'", "has no labels")

    assert (error.what, error.reason) == ("status model 'x'", "has no labels")
    assert str(error) == "bad configuration of status model 'x': has no labels"


def test_not_found_and_already_exists_keep_kind_and_key() -> None:
    missing = NotFound("lead", "L-1")
    taken = AlreadyExists("lead", "L-1")

    assert (missing.kind, missing.key) == ("lead", "L-1")
    assert (taken.kind, taken.key) == ("lead", "L-1")
    assert str(missing) == "no lead with id L-1"
    assert "already stored" in str(taken)


def test_concurrency_conflict_reports_a_deleted_record() -> None:
    changed = ConcurrencyConflict("L-1", 3, 4)
    deleted = ConcurrencyConflict("L-1", 3, None)

    assert (changed.key, changed.expected_version, changed.actual_version) == ("L-1", 3, 4)
    assert "stored is version 4" in str(changed)
    assert deleted.actual_version is None
    assert "stored is deleted" in str(deleted)


def test_storage_unavailable_wraps_the_driver_error() -> None:
    cause = OSError("disk full")

    def store() -> None:
        try:
            raise cause
        except OSError as e:
            raise StorageUnavailable("cannot write") from e

    with pytest.raises(StorageUnavailable) as caught:
        store()

    assert caught.value.reason == "cannot write"
    assert caught.value.__cause__ is cause


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "invalid Last Name (name.last): is required (got '')"),
        ("sv", "invalid Efternamn (name.last): is required (got '')"),
        ("pl", "invalid Nazwisko (name.last): is required (got '')"),
        ("de", "invalid Nachname (name.last): is required (got '')"),
        ("fi", "invalid Last Name (name.last): is required (got '')"),
    ],
)
def test_invalid_value_names_the_field_by_its_label_in_every_header_language(
    language: str, expected: str
) -> None:
    error = InvalidValue("name.last", "", "is required")
    assert error.describe(language) == expected
    assert error.problems[0].label == "Last Name"


def test_a_field_without_a_label_is_named_by_its_path_only() -> None:
    error = InvalidValue("limit", 0, "must be positive")
    assert error.problems[0].label == ""
    assert str(error) == "invalid limit: must be positive (got 0)"


def test_a_nested_path_takes_the_label_of_its_field() -> None:
    problem = FieldProblem("fields.name.last", "", "is required")
    assert problem.label == "Last Name"
    assert problem.label_in("de") == "Nachname"
    assert problem == FieldProblem("fields.name.last", "", "is required", label="other")
