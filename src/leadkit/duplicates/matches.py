"""What the duplicate engine answers: explained matches and duplicate groups.

Every value here is frozen and built from plain values, so the leadkit converter serialises
it for an API or a review screen.
"""

from __future__ import annotations

import attrs

from leadkit.duplicates.record_view import RecordRef
from leadkit.duplicates.rules import Condition

__all__ = ["ConditionEvidence", "DuplicateGroup", "DuplicateMatch", "RuleEvidence"]


@attrs.frozen
class ConditionEvidence:
    """Why one condition held: the two normalised values compared and their similarity
    (100 for the exact-style operators). For a probabilistic rule, each compared field: the
    ``level`` it reached (``blank`` when either value is blank) and its ``weight`` (its
    contribution, ``log2(m/u)``, to the match weight)."""

    condition: Condition
    base_value: str
    matching_value: str
    similarity: float
    level: str | None = None
    weight: float | None = None

    def explain(self) -> str:
        """``full_name ~ full_name (token_sort_ratio >= 88): 'anna berg' vs 'ana berg' (94.1)``;
        for a probabilistic rule, the field's level and its weight:
        ``full_name >=92 +11.4: 'anna berg' vs 'ana berg'``."""
        if self.weight is not None:
            return (
                f"{self.condition.base_field} {self.level} {self.weight:+.1f}: "
                f"{self.base_value!r} vs {self.matching_value!r}"
            )
        return (
            f"{self.condition.describe()}: {self.base_value!r} vs {self.matching_value!r} "
            f"({self.similarity:.1f})"
        )


@attrs.frozen
class RuleEvidence:
    """A rule that matched, its score (the mean similarity of its conditions) and the evidence
    of every condition, in the rule's order."""

    rule: str
    score: float
    conditions: tuple[ConditionEvidence, ...]


@attrs.frozen
class DuplicateMatch:
    """``candidate`` is a possible duplicate of ``record``.

    ``rule``, ``score`` and ``conditions`` are those of the best-scoring rule that matched;
    ``other_rules`` holds the evidence of any other rule that matched too.
    """

    record: RecordRef
    candidate: RecordRef
    rule: str
    score: float
    conditions: tuple[ConditionEvidence, ...]
    other_rules: tuple[RuleEvidence, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of every rule that matched, best first."""
        return (self.rule, *(r.rule for r in self.other_rules))

    def explain(self) -> str:
        """A few lines a person can read: the candidate, the rule and score, each condition."""
        lines = [f"{self.candidate} (rule {self.rule}, score {self.score:.1f})"]
        lines += [f"  - {c.explain()}" for c in self.conditions]
        if self.other_rules:
            lines.append(f"  also matched: {', '.join(r.rule for r in self.other_rules)}")
        return "\n".join(lines)


@attrs.frozen
class DuplicateGroup:
    """Records that are duplicates of one another: the union of pairwise matches.

    ``members`` are sorted; ``edges`` hold the evidence of every matching pair, each with the
    smaller record of the pair in ``record`` unless the rule only matched the other way.
    """

    members: tuple[RecordRef, ...]
    edges: tuple[DuplicateMatch, ...]

    @property
    def size(self) -> int:
        """The number of records in the group."""
        return len(self.members)
