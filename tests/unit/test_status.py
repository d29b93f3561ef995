"""Specification of the lead lifecycle: states, reasons, transitions, status models."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.status import (
    BCM_STATUS_MODEL,
    D365_STATUS_MODEL,
    DEFAULT_STATUS_MODEL,
    ODOO_STATUS_MODEL,
    SALESFORCE_STATUS_MODEL,
    STANDARD_REASONS,
    TRANSITIONS,
    LeadState,
    StatusLabel,
    StatusModel,
    StatusReason,
    _check_table,
    _identity_labels,
    can_transition,
)

OPEN, QUALIFIED, DISQUALIFIED = LeadState.OPEN, LeadState.QUALIFIED, LeadState.DISQUALIFIED

# ---------------------------------------------------------------------------------------------
# States and reasons


def test_states_carry_their_dynamics_365_statecode_and_label() -> None:
    assert [(s.code, s.label, str(s)) for s in LeadState] == [
        (0, "Open", "Open"),
        (1, "Qualified", "Qualified"),
        (2, "Disqualified", "Disqualified"),
    ]


def test_only_qualified_and_disqualified_are_closed() -> None:
    assert not OPEN.is_closed
    assert QUALIFIED.is_closed
    assert DISQUALIFIED.is_closed


@pytest.mark.parametrize(
    ("reason", "code", "label", "state"),
    [
        (StatusReason.NEW, 1, "New", OPEN),
        (StatusReason.CONTACTED, 2, "Contacted", OPEN),
        (StatusReason.QUALIFIED, 3, "Qualified", QUALIFIED),
        (StatusReason.LOST, 4, "Lost", DISQUALIFIED),
        (StatusReason.CANNOT_CONTACT, 5, "Cannot Contact", DISQUALIFIED),
        (StatusReason.NO_LONGER_INTERESTED, 6, "No Longer Interested", DISQUALIFIED),
        (StatusReason.CANCELED, 7, "Canceled", DISQUALIFIED),
    ],
)
def test_the_seven_dynamics_365_reasons_have_their_codes_labels_and_states(
    reason: StatusReason, code: int, label: str, state: LeadState
) -> None:
    assert (reason.code, reason.label, reason.state) == (code, label, state)
    assert str(reason) == label


def test_the_standard_reasons_are_the_seven_in_code_order() -> None:
    assert [r.code for r in STANDARD_REASONS] == [1, 2, 3, 4, 5, 6, 7]


def test_a_host_may_build_its_own_reason() -> None:
    nurturing = StatusReason(100, " Nurturing ", OPEN)

    assert nurturing.label == "Nurturing"
    assert nurturing.state is OPEN


def test_reasons_compare_by_code_and_state_not_label() -> None:
    assert StatusReason(1, "Fresh", OPEN) == StatusReason.NEW
    assert StatusReason(1, "New", QUALIFIED) != StatusReason.NEW


@pytest.mark.parametrize("bad", [-1, True, "1", 1.0, None])
def test_a_reason_code_must_be_a_non_negative_integer(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        StatusReason(bad, "X", OPEN)

    assert caught.value.field == "reason.code"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 101, 5])
def test_a_reason_label_must_be_1_to_100_characters(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        StatusReason(9, bad, OPEN)

    assert caught.value.field == "reason.label"


def test_the_boundaries_of_code_and_label_are_accepted() -> None:
    zero = StatusReason(0, "x" * 100, OPEN)
    assert (zero.code, zero.label) == (0, "x" * 100)
    # The label is stripped before it is measured: 100 characters inside spaces still fit.
    assert StatusReason(1, "  " + "y" * 100 + "  ", OPEN).label == "y" * 100


def test_a_refused_code_or_label_keeps_the_value_and_says_why() -> None:
    with pytest.raises(InvalidValue) as code:
        StatusReason(-1, "X", OPEN)
    assert (code.value.value, code.value.reason) == (-1, "must be a non-negative integer")
    with pytest.raises(InvalidValue) as label:
        StatusReason(9, "x" * 101, OPEN)
    assert (label.value.value, label.value.reason) == (
        "x" * 101,
        "must be 1-100 characters of text",
    )


# ---------------------------------------------------------------------------------------------
# Transitions


def test_the_transition_table_is_the_dynamics_365_lifecycle() -> None:
    assert dict(TRANSITIONS) == {
        OPEN: frozenset({QUALIFIED, DISQUALIFIED}),
        QUALIFIED: frozenset({OPEN}),
        DISQUALIFIED: frozenset({OPEN}),
    }


def test_the_transition_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[OPEN] = frozenset()  # type: ignore[index]


@pytest.mark.parametrize(
    ("current", "requested", "allowed"),
    [
        (OPEN, QUALIFIED, True),
        (OPEN, DISQUALIFIED, True),
        (QUALIFIED, OPEN, True),
        (DISQUALIFIED, OPEN, True),
        (OPEN, OPEN, False),
        (QUALIFIED, QUALIFIED, False),
        (QUALIFIED, DISQUALIFIED, False),
        (DISQUALIFIED, QUALIFIED, False),
        (DISQUALIFIED, DISQUALIFIED, False),
    ],
)
def test_can_transition_follows_the_table(
    current: LeadState, requested: LeadState, allowed: bool
) -> None:
    assert can_transition(current, requested) is allowed


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({OPEN: frozenset({QUALIFIED}), QUALIFIED: frozenset({OPEN})}, "every state needs a row"),
        (
            {
                OPEN: frozenset({QUALIFIED}),
                QUALIFIED: frozenset({OPEN}),
                DISQUALIFIED: frozenset({OPEN}),
            },
            "unreachable states: ['Disqualified']",
        ),
        (
            {
                OPEN: frozenset({OPEN, QUALIFIED, DISQUALIFIED}),
                QUALIFIED: frozenset({OPEN}),
                DISQUALIFIED: frozenset({OPEN}),
            },
            "Open must not lead to itself",
        ),
        (
            {
                OPEN: frozenset({QUALIFIED, DISQUALIFIED}),
                QUALIFIED: frozenset({OPEN}),
                DISQUALIFIED: frozenset({OPEN, DISQUALIFIED}),
            },
            "Disqualified must not lead to itself",
        ),
    ],
)
def test_a_bad_transition_table_is_a_configuration_error(
    table: Mapping[LeadState, frozenset[LeadState]], message: str
) -> None:
    # _check_table runs when leadkit.status is imported; called again here with bad tables.
    with pytest.raises(ConfigurationError) as caught:
        _check_table(table, STANDARD_REASONS)

    assert (caught.value.what, caught.value.reason) == ("TRANSITIONS", message)


def test_the_standard_table_and_reasons_pass_the_check() -> None:
    _check_table(TRANSITIONS, STANDARD_REASONS)


def test_a_reason_set_missing_a_state_is_a_configuration_error() -> None:
    open_only = [StatusReason.NEW, StatusReason.QUALIFIED]

    with pytest.raises(ConfigurationError) as caught:
        _check_table(TRANSITIONS, open_only)

    assert (caught.value.what, caught.value.reason) == (
        "reasons",
        "every state needs at least one reason",
    )


# ---------------------------------------------------------------------------------------------
# StatusModel validation


def _labels(*reasons: StatusReason) -> tuple[StatusLabel, ...]:
    return tuple(StatusLabel(r.label, r) for r in reasons)


MINIMAL = _labels(StatusReason.NEW, StatusReason.QUALIFIED, StatusReason.LOST)


def test_a_minimal_model_needs_one_label_per_state() -> None:
    model = StatusModel("Minimal", MINIMAL)

    assert model.reasons == (StatusReason.NEW, StatusReason.QUALIFIED, StatusReason.LOST)


def test_a_model_without_labels_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        StatusModel("Empty", ())

    assert (caught.value.what, caught.value.reason) == ("status model 'Empty'", "has no labels")


def test_a_label_used_twice_is_a_configuration_error_whatever_its_case() -> None:
    labels = (*MINIMAL, StatusLabel("new", StatusReason.CONTACTED))

    with pytest.raises(ConfigurationError) as caught:
        StatusModel("Twice", labels)

    assert (caught.value.what, caught.value.reason) == (
        "status model 'Twice'",
        "label 'new' is used twice",
    )


def test_a_reason_code_given_two_states_is_a_configuration_error() -> None:
    clash = StatusReason(1, "Reborn", QUALIFIED)
    labels = (*MINIMAL, StatusLabel("Reborn", clash))

    with pytest.raises(ConfigurationError) as caught:
        StatusModel("Clash", labels)

    assert (caught.value.what, caught.value.reason) == (
        "status model 'Clash'",
        "reason code 1 is given two states",
    )


@pytest.mark.parametrize(
    ("labels", "missing"),
    [
        (_labels(StatusReason.NEW, StatusReason.QUALIFIED), "Disqualified"),
        (_labels(StatusReason.NEW, StatusReason.LOST), "Qualified"),
        (_labels(StatusReason.QUALIFIED, StatusReason.LOST), "Open"),
    ],
)
def test_a_model_missing_a_state_is_a_configuration_error(
    labels: tuple[StatusLabel, ...], missing: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        StatusModel("Partial", labels)

    assert (caught.value.what, caught.value.reason) == (
        "status model 'Partial'",
        f"no label for state(s) ['{missing}']",
    )


@pytest.mark.parametrize(
    ("role", "reason", "message"),
    [
        ("initial", StatusReason.QUALIFIED, "initial reason must be of state Open"),
        ("reactivated", StatusReason.LOST, "reactivated reason must be of state Open"),
        ("qualified", StatusReason.NEW, "qualified reason must be of state Qualified"),
        ("initial", StatusReason.CONTACTED, "initial reason Contacted has no label"),
        ("reactivated", StatusReason.CONTACTED, "reactivated reason Contacted has no label"),
        (
            "qualified",
            StatusReason(30, "Won", QUALIFIED),
            "qualified reason Won has no label",
        ),
    ],
)
def test_a_wrong_initial_reactivated_or_qualified_reason_is_a_configuration_error(
    role: str, reason: StatusReason, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        StatusModel("Roles", MINIMAL, **{role: reason})

    assert (caught.value.what, caught.value.reason) == ("status model 'Roles'", message)


def test_a_model_may_start_leads_on_its_own_open_reason() -> None:
    nurturing = StatusReason(100, "Nurturing", OPEN)
    labels = (*MINIMAL, StatusLabel("Nurturing", nurturing))

    model = StatusModel("Custom", labels, initial=nurturing, reactivated=nurturing)

    assert model.initial == nurturing
    assert model.reasons_for(OPEN) == (StatusReason.NEW, nurturing)


def test_a_status_label_must_not_be_empty() -> None:
    with pytest.raises(InvalidValue) as caught:
        StatusLabel("  ", StatusReason.NEW)

    assert caught.value.field == "reason.label"


# ---------------------------------------------------------------------------------------------
# Presets


def test_the_dynamics_365_model_labels_each_reason_with_its_own_label() -> None:
    # _identity_labels builds the D365 model at import time; called again here.
    assert _identity_labels([StatusReason.NEW, StatusReason.LOST]) == (
        StatusLabel("New", StatusReason.NEW),
        StatusLabel("Lost", StatusReason.LOST),
    )
    assert [e.label for e in D365_STATUS_MODEL.labels] == [r.label for r in STANDARD_REASONS]


def test_the_default_model_is_dynamics_365() -> None:
    assert DEFAULT_STATUS_MODEL is D365_STATUS_MODEL
    assert D365_STATUS_MODEL.reasons == STANDARD_REASONS
    assert D365_STATUS_MODEL.initial == StatusReason.NEW
    assert D365_STATUS_MODEL.reactivated == StatusReason.NEW
    assert D365_STATUS_MODEL.qualified == StatusReason.QUALIFIED


def test_the_dynamics_365_model_groups_reasons_by_state() -> None:
    assert D365_STATUS_MODEL.reasons_for(OPEN) == (StatusReason.NEW, StatusReason.CONTACTED)
    assert D365_STATUS_MODEL.reasons_for(QUALIFIED) == (StatusReason.QUALIFIED,)
    assert D365_STATUS_MODEL.reasons_for(DISQUALIFIED) == (
        StatusReason.LOST,
        StatusReason.CANNOT_CONTACT,
        StatusReason.NO_LONGER_INTERESTED,
        StatusReason.CANCELED,
    )


@pytest.mark.parametrize(
    ("model", "label", "reason"),
    [
        (D365_STATUS_MODEL, "New", StatusReason.NEW),
        (D365_STATUS_MODEL, "cannot contact", StatusReason.CANNOT_CONTACT),
        (D365_STATUS_MODEL, " NO LONGER INTERESTED ", StatusReason.NO_LONGER_INTERESTED),
        (SALESFORCE_STATUS_MODEL, "Open - Not Contacted", StatusReason.NEW),
        (SALESFORCE_STATUS_MODEL, "Working - Contacted", StatusReason.CONTACTED),
        (SALESFORCE_STATUS_MODEL, "Closed - Converted", StatusReason.QUALIFIED),
        (SALESFORCE_STATUS_MODEL, "Closed - Not Converted", StatusReason.LOST),
        (ODOO_STATUS_MODEL, "New", StatusReason.NEW),
        (ODOO_STATUS_MODEL, "Qualified", StatusReason.CONTACTED),
        (ODOO_STATUS_MODEL, "Converted", StatusReason.QUALIFIED),
        (ODOO_STATUS_MODEL, "Lost", StatusReason.LOST),
        (BCM_STATUS_MODEL, "Open", StatusReason.NEW),
        (BCM_STATUS_MODEL, "In Progress", StatusReason.CONTACTED),
        (BCM_STATUS_MODEL, "Converted", StatusReason.QUALIFIED),
        (BCM_STATUS_MODEL, "Disqualified", StatusReason.LOST),
        (BCM_STATUS_MODEL, "Not Interested", StatusReason.NO_LONGER_INTERESTED),
    ],
)
def test_each_preset_parses_its_labels_onto_the_standard_reasons(
    model: StatusModel, label: str, reason: StatusReason
) -> None:
    assert model.parse(label) == reason
    assert model.parse(label).state is reason.state


@pytest.mark.parametrize(
    ("model", "reason", "label"),
    [
        (D365_STATUS_MODEL, StatusReason.CANCELED, "Canceled"),
        (SALESFORCE_STATUS_MODEL, StatusReason.CONTACTED, "Working - Contacted"),
        (SALESFORCE_STATUS_MODEL, StatusReason.LOST, "Closed - Not Converted"),
        (ODOO_STATUS_MODEL, StatusReason.CONTACTED, "Qualified"),
        (ODOO_STATUS_MODEL, StatusReason.QUALIFIED, "Converted"),
        (BCM_STATUS_MODEL, StatusReason.NO_LONGER_INTERESTED, "Not Interested"),
        # A reason the model has no label for shows its own label.
        (SALESFORCE_STATUS_MODEL, StatusReason.CANCELED, "Canceled"),
    ],
)
def test_each_preset_shows_its_own_label_for_a_reason(
    model: StatusModel, reason: StatusReason, label: str
) -> None:
    assert model.label_for(reason) == label


def test_a_model_parses_a_code_a_digit_string_and_a_reason_value() -> None:
    assert SALESFORCE_STATUS_MODEL.parse(2) == StatusReason.CONTACTED
    assert SALESFORCE_STATUS_MODEL.parse(" 4 ") == StatusReason.LOST
    assert SALESFORCE_STATUS_MODEL.parse(StatusReason(4, "Whatever", DISQUALIFIED)).label == "Lost"


@pytest.mark.parametrize(
    ("model", "bad"),
    [
        (D365_STATUS_MODEL, "Nurturing"),
        (D365_STATUS_MODEL, 99),
        (D365_STATUS_MODEL, True),
        (D365_STATUS_MODEL, None),
        (SALESFORCE_STATUS_MODEL, "Canceled"),
        (SALESFORCE_STATUS_MODEL, 7),
        (SALESFORCE_STATUS_MODEL, "7"),
        (SALESFORCE_STATUS_MODEL, StatusReason.CANCELED),
        (ODOO_STATUS_MODEL, "Contacted"),
    ],
)
def test_a_model_refuses_a_status_it_does_not_know(model: StatusModel, bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        model.parse(bad)

    assert caught.value.field == "reason"
    assert caught.value.value == bad
    assert caught.value.reason == (
        f"not a status of {model.name}; known: {', '.join(e.label for e in model.labels)}"
    )


def test_a_refused_status_lists_the_labels_the_model_knows() -> None:
    with pytest.raises(InvalidValue) as caught:
        ODOO_STATUS_MODEL.parse("Contacted")

    assert caught.value.reason == "not a status of Odoo; known: New, Qualified, Converted, Lost"


@pytest.mark.parametrize(
    "model",
    [D365_STATUS_MODEL, SALESFORCE_STATUS_MODEL, ODOO_STATUS_MODEL, BCM_STATUS_MODEL],
    ids=lambda m: m.name,
)
def test_every_preset_labels_every_state_and_round_trips_its_labels(model: StatusModel) -> None:
    assert {r.state for r in model.reasons} == set(LeadState)
    for entry in model.labels:
        assert model.label_for(model.parse(entry.label)) == entry.label
