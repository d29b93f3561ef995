"""A wrong-typed argument that makes the class's own code warn (a warning turned into an error
by ``-W error``, as pytest does here) is refused as that argument, with InvalidValue."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest

from leadkit import AssignmentState, ConfigurationError, InvalidValue, StoredResponse

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_a_warning_from_a_wrong_argument_is_that_arguments_refusal() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidValue) as caught:
            StoredResponse(NotImplemented, "h", "{}", T0, T0 + timedelta(hours=1))
    assert caught.value.field == "key"


def test_a_converted_field_of_the_wrong_type_is_refused_without_a_truth_test() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ConfigurationError, match="AssignmentState"):
            AssignmentState(open_counts=NotImplemented)
