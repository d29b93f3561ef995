"""Duplicate rule sets the property tests share: ones that reach the branches the default
rules do not."""

from __future__ import annotations

from leadkit.duplicates import (
    Blocking,
    Condition,
    DuplicateRule,
    DuplicateRuleSet,
    RecordType,
    Similarity,
)

# Blanks equal blanks and inactive records take part: the other branches of the key choice.
BLANKS_MATCH = DuplicateRuleSet(
    name="blanks match",
    rules=[
        DuplicateRule(
            name="name-and-company",
            base_type=RecordType.LEAD,
            matching_type=RecordType.LEAD,
            conditions=(
                Condition.similar(
                    "full_name", 80, Similarity.JARO_WINKLER, blocking=(Blocking.prefix(2),)
                ),
                Condition.exact("company"),
            ),
            ignore_blank=False,
            exclude_inactive=False,
        ),
        DuplicateRule(
            name="postal-code",
            base_type=RecordType.LEAD,
            matching_type=RecordType.LEAD,
            conditions=(Condition.exact("postal_code"),),
            ignore_blank=False,
        ),
        DuplicateRule(
            name="lead-contact-email",
            base_type=RecordType.LEAD,
            matching_type=RecordType.CONTACT,
            conditions=(Condition.exact("email"), Condition.exact("company")),
            exclude_inactive=False,
        ),
    ],
)

CITY_IS_POSTAL_CODE = DuplicateRule(
    name="city-is-postal-code",
    base_type=RecordType.LEAD,
    matching_type=RecordType.LEAD,
    conditions=(Condition.exact("city", matching_field="postal_code"),),
)
"""A rule whose two sides read different fields: keys looked up that no record is indexed
under."""
