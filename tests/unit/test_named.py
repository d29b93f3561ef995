"""Presets show their name, so that help() of a function defaulting to one stays short."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from leadkit import (
    BCM_MODEL,
    BCM_POLICY,
    BCM_PROFILE,
    D365_MAPS,
    DEFAULT_LEAD_RULES,
    DEFAULT_POLICY,
    DEFAULT_PROFILE,
    PROMPT_POLICY,
    Desk,
    EngineDuplicateCheck,
    Lead,
    NotesCarryOver,
    QualificationPolicy,
    QualifyMode,
    convert_to_business_contact,
    disqualify,
)


@pytest.mark.parametrize(
    ("preset", "name"),
    [
        (DEFAULT_POLICY, "DEFAULT_POLICY"),
        (PROMPT_POLICY, "PROMPT_POLICY"),
        (BCM_POLICY, "BCM_POLICY"),
        (D365_MAPS, "D365_MAPS"),
        (DEFAULT_PROFILE, "DEFAULT_PROFILE"),
        (BCM_PROFILE, "BCM_PROFILE"),
        (BCM_MODEL, "BCM_MODEL"),
        (DEFAULT_LEAD_RULES, "DEFAULT_LEAD_RULES"),
    ],
)
def test_a_preset_shows_its_name(preset: object, name: str) -> None:
    assert repr(preset) == name


def test_a_value_equal_to_a_preset_shows_the_presets_name_and_another_its_fields() -> None:
    assert repr(QualificationPolicy()) == "DEFAULT_POLICY"
    assert repr(QualificationPolicy(notes=NotesCarryOver.COPY)) == "BCM_POLICY"
    other = QualificationPolicy(mode=QualifyMode.PROMPT, notes=NotesCarryOver.COPY)
    assert repr(other).startswith("QualificationPolicy(mode=")


@pytest.mark.parametrize(
    "function",
    [
        Desk.__init__,
        EngineDuplicateCheck.__init__,
        EngineDuplicateCheck.from_store,
        Lead.create,
        Lead.update,
        convert_to_business_contact,
        disqualify,
    ],
)
def test_help_of_a_function_defaulting_to_presets_stays_short(
    function: Callable[..., Any],
) -> None:
    # Each default shows as a short name (a preset's repr is its name), not a dump of its fields.
    defaults = [p.default for p in inspect.signature(function).parameters.values()]
    assert all(len(repr(d)) < 80 for d in defaults if d is not inspect.Parameter.empty)
