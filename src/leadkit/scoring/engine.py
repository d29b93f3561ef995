"""The scoring engine: one lead or a million, with the same compiled model.

:func:`score` gives a :class:`Score` with its explanation; :func:`quick_score` and
:func:`quick_scores` give the same value, stars and rating without the explanation (the bulk
fast path); :func:`score_lead` scores a lead and records a ``LeadScored`` event on it.

What decides a score, first match wins:

1. an active manual override on the lead (:class:`ManualScore`): its stars, and the score
   those stars stand for on the model's star scale;
2. a model with a :class:`Blend`: the criteria score blended with the predictive probability;
3. the criteria alone: ``100 * met weight / total weight`` (see :mod:`.compiled`).

Closed leads are scored like open ones: a score is derived data, and reports over closed
leads stay right when a model changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from leadkit.errors import InvalidValue
from leadkit.scoring.compiled import CompiledModel, QuickScore
from leadkit.scoring.model import ScoringModel
from leadkit.scoring.predictive import PredictiveModel
from leadkit.scoring.result import (
    Explanation,
    ManualScore,
    PredictiveExplanation,
    Score,
    ScoreSource,
)
from leadkit.values import UserRef, require_aware

if TYPE_CHECKING:
    from leadkit.lead import Lead

__all__ = [
    "QuickScore",
    "is_outdated",
    "quick_score",
    "quick_scores",
    "score",
    "score_lead",
]


def _check_predictive(model: ScoringModel, predictive: PredictiveModel | None) -> None:
    if model.blend is None and predictive is not None:
        raise InvalidValue(
            "predictive", predictive.id, f"model {model.key} does not blend a predictive score"
        )
    if model.blend is not None and predictive is None:
        raise InvalidValue(
            "predictive",
            None,
            f"model {model.key} blends a predictive probability; pass the trained model",
        )


def _manual(compiled: CompiledModel[ScoringModel], manual: ManualScore) -> QuickScore:
    model = compiled.model
    value = model.stars.value_for(manual.stars, model.decimals)
    return QuickScore(
        value, model.stars.stars_for(value), model.ratings.rating_for(value), ScoreSource.MANUAL
    )


def _blended(compiled: CompiledModel[ScoringModel], met: int, probability: float) -> QuickScore:
    model = compiled.model
    blend = model.blend
    assert blend is not None
    criteria = Fraction(blend.criteria)
    predictive = Fraction(blend.predictive)
    exact = (
        criteria * Fraction(100 * met, compiled.total) + predictive * 100 * Fraction(probability)
    ) / (criteria + predictive)
    units = math.floor(exact * 10**model.decimals + Fraction(1, 2))
    value = Decimal(units).scaleb(-model.decimals)
    return QuickScore(
        value, model.stars.stars_for(value), model.ratings.rating_for(value), ScoreSource.BLENDED
    )


def score(
    lead: Lead,
    model: ScoringModel,
    at: datetime,
    *,
    predictive: PredictiveModel | None = None,
) -> Score:
    """Score ``lead`` under ``model`` at ``at``, with the full explanation.

    ``predictive`` is required when the model has a blend and refused otherwise. Raises
    InvalidValue for a naive ``at`` or a missing / unexpected predictive model.
    """
    require_aware("at", at)
    _check_predictive(model, predictive)
    compiled = model.compiled
    mask, met = compiled.evaluate(lead, at)
    result = criteria = compiled.criteria_score(met)
    predicted: PredictiveExplanation | None = None
    if predictive is not None:
        predicted = predictive.explain(lead)
        result = _blended(compiled, met, predicted.probability)
    manual = lead.manual_score
    active = expired = None
    if manual is not None:
        if manual.is_active(at):
            active = manual
            result = _manual(compiled, manual)
        else:
            expired = manual
    explanation = Explanation(
        base=compiled.base,
        contributions=compiled.contributions(mask, met),
        criteria_value=criteria.value,
        met_weight=compiled.met_weight_decimal(met),
        total_weight=compiled.total_weight,
        blend=model.blend,
        predictive=predicted,
        manual=active,
        expired_manual=expired,
    )
    return Score(
        lead_id=lead.id,
        value=result.value,
        stars=result.stars,
        max_stars=model.max_stars,
        rating=result.rating,
        source=result.source,
        model_id=model.id,
        model_version=model.version,
        explanation=explanation,
    )


def quick_score(
    lead: Lead,
    model: ScoringModel,
    at: datetime,
    *,
    predictive: PredictiveModel | None = None,
) -> QuickScore:
    """The value, stars, rating and source :func:`score` gives, without the explanation."""
    require_aware("at", at)
    _check_predictive(model, predictive)
    return _quick(model.compiled, lead, at, predictive)


def _quick(
    compiled: CompiledModel[ScoringModel],
    lead: Lead,
    at: datetime,
    predictive: PredictiveModel | None,
) -> QuickScore:
    manual = lead.manual_score
    if manual is not None and manual.is_active(at):
        return _manual(compiled, manual)
    met = compiled.met_weight(lead, at)
    if predictive is not None:
        return _blended(compiled, met, predictive.probability(lead))
    return compiled.criteria_score(met)


def quick_scores(
    leads: Iterable[Lead],
    model: ScoringModel,
    at: datetime,
    *,
    predictive: PredictiveModel | None = None,
) -> Iterator[QuickScore]:
    """:func:`quick_score` of every lead, in order: the bulk fast path."""
    require_aware("at", at)
    _check_predictive(model, predictive)
    compiled = model.compiled
    if predictive is not None:
        for lead in leads:
            yield _quick(compiled, lead, at, predictive)
        return
    pairs = compiled.pairs
    criteria_score = compiled.criteria_score
    for lead in leads:
        manual = lead.manual_score
        if manual is not None and manual.is_active(at):
            yield _manual(compiled, manual)
            continue
        met = 0
        for test, weight in pairs:
            if test(lead, at):
                met += weight
        yield criteria_score(met)


def score_lead(
    lead: Lead,
    model: ScoringModel,
    *,
    at: datetime,
    by: UserRef,
    predictive: PredictiveModel | None = None,
) -> Lead:
    """Score ``lead`` and record the result on it (a ``LeadScored`` event), open or closed.

    Returns the lead unchanged when the stored score already matches. Raises what
    :func:`score` raises.
    """
    return lead.record_score(score(lead, model, at, predictive=predictive), at=at, by=by)


def is_outdated(lead: Lead, model: ScoringModel) -> bool:
    """True when ``lead`` was never scored or scored by another model or version."""
    return lead.score_model != model.id or lead.score_model_version != model.version
