"""Duplicate rules as data: conditions, rules, rule sets and the default rule set for leads.

A :class:`Condition` compares one field of the record being checked (the *base* record) with
one field of a stored record (the *matching* record), after a named normaliser, with one
operator. A :class:`DuplicateRule` ANDs its conditions over a base and a matching record type
(which may differ: a lead against contacts); a :class:`DuplicateRuleSet` ORs its rules. All
three are frozen attrs classes built from plain values and enums, so the leadkit converter
(:func:`leadkit.make_converter`) turns them into JSON-safe data and back; they are validated
when built and raise :class:`~leadkit.errors.ConfigurationError` naming the problem.

Every condition yields *blocking keys* (the Dataverse "matchcode"): exact-style operators use
the compared value itself; a similarity condition must say how to block it (:class:`Blocking`),
so that no lookup ever compares a record with every stored one.

The parts live in modules of their own, all re-exported here (the import path of every name):
:mod:`~leadkit.duplicates.rule_normalizers` (the normalisers a condition may name),
:mod:`~leadkit.duplicates.conditions` (the enums, :class:`Blocking`, :class:`Condition`) and
:mod:`~leadkit.duplicates.rule_sets` (:class:`DuplicateRule`, :class:`DuplicateRuleSet`); this
module holds the default rule set for leads.
"""

from __future__ import annotations

from typing import Final

from leadkit._named import named
from leadkit.duplicates.conditions import (
    Blocking,
    BlockingMethod,
    Condition,
    Operator,
    Phonetic,
    Similarity,
)
from leadkit.duplicates.record_view import RecordType
from leadkit.duplicates.rule_normalizers import (
    FREE_MAIL_DOMAINS,
    NICKNAMES,
    ROLE_MAILBOXES,
    RULE_NORMALIZERS,
    normalize_business_domain,
    normalize_personal_email,
    rule_normalizer,
)
from leadkit.duplicates.rule_sets import CheckMode, DuplicateRule, DuplicateRuleSet, WeightedRule

__all__ = [
    "DEFAULT_LEAD_RULES",
    "FREE_MAIL_DOMAINS",
    "NICKNAMES",
    "ROLE_MAILBOXES",
    "RULE_NORMALIZERS",
    "Blocking",
    "BlockingMethod",
    "CheckMode",
    "Condition",
    "DuplicateRule",
    "DuplicateRuleSet",
    "Operator",
    "Phonetic",
    "Similarity",
    "WeightedRule",
    "default_rule_set",
    "normalize_business_domain",
    "normalize_personal_email",
    "rule_normalizer",
]


# --------------------------------------------------------------------------------------------
# The default rule set for leads
# --------------------------------------------------------------------------------------------

_NAME_THRESHOLD: Final = 90.0
_COMPATIBLE_NAME_THRESHOLD: Final = 85.0
_LEAD, _CONTACT, _ACCOUNT = RecordType.LEAD, RecordType.CONTACT, RecordType.ACCOUNT


def _similar_name() -> Condition:
    return Condition.similar(
        "full_name",
        _NAME_THRESHOLD,
        Similarity.PERSON_NAME,
        normalizer="person_name_nicknames",
        blocking=(Blocking.phonetic_tokens(Phonetic.METAPHONE),),
    )


def _same_email() -> Condition:
    return Condition.exact("email", normalizer="personal_email")


def _same_phone() -> Condition:
    return Condition.exact("phones")


def _compatible_name() -> Condition:
    # Colleagues share a switchboard number: a shared phone needs names that could be the
    # same person (an initial, a middle name, a nickname, a typo), not just any two names.
    return Condition.similar(
        "full_name",
        _COMPATIBLE_NAME_THRESHOLD,
        Similarity.PERSON_NAME,
        normalizer="person_name_nicknames",
        blocking=(Blocking.phonetic_tokens(Phonetic.METAPHONE),),
    )


def _same_company() -> Condition:
    return Condition.exact("company")


def _same_business_domain() -> Condition:
    return Condition.exact("email_domain", normalizer="business_domain")


def _rule(
    name: str,
    base: RecordType,
    matching: RecordType,
    description: str,
    *conditions: Condition,
) -> DuplicateRule:
    return DuplicateRule(
        name=name,
        base_type=base,
        matching_type=matching,
        conditions=conditions,
        description=description,
    )


def _lead_rules() -> tuple[DuplicateRule, ...]:
    """Leads against leads."""
    return (
        _rule(
            "lead-same-email",
            _LEAD,
            _LEAD,
            "Leads with the same e-mail address (shared role mailboxes such as info@ aside)",
            _same_email(),
        ),
        _rule(
            "lead-same-phone",
            _LEAD,
            _LEAD,
            "Leads with a phone number in common and compatible names",
            _same_phone(),
            _compatible_name(),
        ),
        _rule(
            "lead-similar-name-same-company",
            _LEAD,
            _LEAD,
            "Leads with similar names at the same company",
            _similar_name(),
            _same_company(),
        ),
        _rule(
            "lead-similar-name-same-email-domain",
            _LEAD,
            _LEAD,
            "Leads with similar names and the same company e-mail domain (free-mail aside)",
            _similar_name(),
            _same_business_domain(),
        ),
        _rule(
            "lead-similar-name-same-postal-code",
            _LEAD,
            _LEAD,
            "Leads with similar names at the same postal code",
            _similar_name(),
            Condition.exact("postal_code"),
        ),
    )


def _lead_contact_and_account_rules() -> tuple[DuplicateRule, ...]:
    """Leads against contacts and accounts."""
    return (
        _rule(
            "lead-contact-same-email",
            _LEAD,
            _CONTACT,
            "A contact with the lead's e-mail address",
            _same_email(),
        ),
        _rule(
            "lead-contact-same-phone",
            _LEAD,
            _CONTACT,
            "A contact with a phone number of the lead and a compatible name",
            _same_phone(),
            _compatible_name(),
        ),
        _rule(
            "lead-contact-similar-name-same-company",
            _LEAD,
            _CONTACT,
            "A contact with a similar name at the lead's company",
            _similar_name(),
            _same_company(),
        ),
        _rule(
            "lead-contact-similar-name-same-email-domain",
            _LEAD,
            _CONTACT,
            "A contact with a similar name and the lead's company e-mail domain",
            _similar_name(),
            _same_business_domain(),
        ),
        _rule(
            "lead-account-same-company",
            _LEAD,
            _ACCOUNT,
            "An account named like the lead's company (legal forms aside)",
            _same_company(),
        ),
        _rule(
            "lead-account-same-website",
            _LEAD,
            _ACCOUNT,
            "An account with the lead's website",
            Condition.exact("website_domain"),
        ),
    )


def _default_rules() -> tuple[DuplicateRule, ...]:
    return _lead_rules() + _lead_contact_and_account_rules()


DEFAULT_LEAD_RULES: Final[DuplicateRuleSet] = DuplicateRuleSet(
    name="Default lead duplicate rules",
    rules=_default_rules(),
    mode=CheckMode.WARN,
    description=(
        "Same e-mail; same phone; similar name at the same company or company e-mail domain; "
        "the same checks against contacts; leads against accounts by company and website."
    ),
)
"""The rule set a user would accept out of the box for leads (see docs/duplicates.md)."""


def default_rule_set(mode: CheckMode = CheckMode.WARN) -> DuplicateRuleSet:
    """:data:`DEFAULT_LEAD_RULES`, with ``mode`` as its check mode."""
    return DEFAULT_LEAD_RULES.with_mode(mode)


named(DEFAULT_LEAD_RULES, "DEFAULT_LEAD_RULES")  # help() shows the name, not every rule
