"""Leads with a recorded score, for the storage tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.scoring.result import Explanation, Score, ScoreSource
from leadkit.values import UserRef

__all__ = ["scored"]


def scored(
    lead: Lead,
    value: str | None,
    *,
    at: datetime,
    by: UserRef,
) -> Lead:
    """``lead`` with ``value`` recorded as its score at ``at`` by ``by`` (None: unscored)."""
    if value is None:
        return lead
    number = Decimal(value)
    explanation = Explanation(
        base=number,
        contributions=(),
        criteria_value=number,
        met_weight=Decimal(0),
        total_weight=Decimal(1),
    )
    score = Score(
        lead_id=lead.id,
        value=number,
        stars=3,
        max_stars=5,
        rating=Rating.WARM,
        source=ScoreSource.CRITERIA,
        model_id="test",
        model_version=1,
        explanation=explanation,
    )
    return lead.record_score(score, at=at, by=by)
