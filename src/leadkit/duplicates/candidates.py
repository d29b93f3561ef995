"""What the duplicate engine's matches become outside the engine: the qualification candidate of
a match (its record, score and explanation on one line) and the fingerprint of the keys a check
keeps. Pure functions of the rules and matches."""

from __future__ import annotations

import hashlib

from leadkit.conversion_request import DuplicateCandidate
from leadkit.duplicates.compiled import KEY_FORMAT_VERSION
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.duplicates.rule_sets import DuplicateRuleSet

__all__ = ["candidate_from_match", "keys_fingerprint"]


def keys_fingerprint(rule_set: DuplicateRuleSet, *, leads: bool = False) -> str:
    """The fingerprint of the keys an :class:`EngineDuplicateCheck` with ``rule_set`` (and
    ``leads``) keeps: a hash of the rules (their names, types, conditions and flags; not the
    set's mode), the indexed record types and the key format version. Raises nothing."""
    types = "lead,contact,account" if leads else "contact,account"
    text = f"{KEY_FORMAT_VERSION}|{types}|{rule_set.rules!r}"
    return "v1:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def candidate_from_match(
    match: DuplicateMatch, rule_set: DuplicateRuleSet | None = None
) -> DuplicateCandidate:
    """The qualification candidate for one engine match: the candidate record's type and id,
    the match's score (0 to 100) and, as the reason, the explanation on one line: the rule's
    description when ``rule_set`` holds the rule, the rule's name and each condition's
    evidence (``A contact with the lead's e-mail address [lead-contact-same-email: email =
    email: 'ada@example.com' vs 'ada@example.com' (100.0)]``).

    Raises InvalidValue only for a match no engine makes (a negative score).
    """
    description = ""
    if rule_set is not None:
        description = next((r.description for r in rule_set.rules if r.name == match.rule), "")
    return _candidate(match, description)


def _candidate(match: DuplicateMatch, description: str) -> DuplicateCandidate:
    evidence = "; ".join(c.explain() for c in match.conditions)
    why = f"{match.rule}: {evidence}" if evidence else match.rule
    if match.other_rules:
        why += f"; also {', '.join(r.rule for r in match.other_rules)}"
    reason = f"{description} [{why}]" if description else why
    return DuplicateCandidate(
        match.candidate.record_type, match.candidate.record_id, match.score, reason
    )
