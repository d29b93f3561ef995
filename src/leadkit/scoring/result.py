"""What scoring produces and what a lead stores: scores, explanations and manual overrides.

These values sit below the rest of :mod:`leadkit.scoring` on purpose: ``leadkit.events`` and
``leadkit.lead`` import them, so this module imports nothing but values and option sets.
Everything here is frozen and round-trips through :func:`leadkit.make_converter`.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Final

import attrs

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import Rating
from leadkit.values import LeadId, UserRef, require_aware

__all__ = [
    "MAX_STARS",
    "Blend",
    "Contribution",
    "Explanation",
    "FeatureContribution",
    "ManualScore",
    "PredictiveExplanation",
    "Score",
    "ScoreSource",
    "check_slug",
]

MAX_STARS: Final = 10
"""The most stars any star scale (and so any manual override) may have."""

_SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
_REASON_MAX: Final = 500


def check_slug(field: str, value: object) -> str:
    """Return ``value`` if it is an id of 1-64 characters of ``a-z 0-9 _ . -`` starting with a
    letter or digit (criterion and model ids). Raises InvalidValue naming ``field`` otherwise."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise InvalidValue(
            field,
            value,
            "must be 1-64 characters of a-z, 0-9, '_', '.' or '-', starting with a letter or digit",
        )
    return value


def _stars(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STARS:
        raise InvalidValue(field, value, f"must be a whole number of stars from 0 to {MAX_STARS}")
    return value


class ScoreSource(Enum):
    """What decided a score: the criteria, the criteria blended with the predictive
    probability, or a user's manual override."""

    CRITERIA = "criteria"
    BLENDED = "blended"
    MANUAL = "manual"


@attrs.frozen(kw_only=True)
class ManualScore:
    """A user's manual score (Outlook BCM "score type: manual"): the stars they chose.

    It wins over every computed score until it is cleared or, when ``expires_at`` is set,
    until a score is computed at or after ``expires_at``. Raises InvalidValue for stars
    outside 0-10, naive times, an expiry not after ``at`` or a reason over 500 characters.
    """

    stars: int
    author: UserRef
    at: datetime
    reason: str = ""
    expires_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        _stars("manual_score.stars", self.stars)
        require_aware("manual_score.at", self.at)
        if not isinstance(self.reason, str) or len(self.reason.strip()) > _REASON_MAX:
            raise InvalidValue(
                "manual_score.reason", self.reason, f"must be text of at most {_REASON_MAX}"
            )
        object.__setattr__(self, "reason", self.reason.strip())
        if self.expires_at is not None:
            require_aware("manual_score.expires_at", self.expires_at)
            if self.expires_at <= self.at:
                raise InvalidValue(
                    "manual_score.expires_at", self.expires_at, "must be after the time it is set"
                )

    def is_active(self, at: datetime) -> bool:
        """True while the override wins: it has no expiry or ``at`` is before the expiry."""
        return self.expires_at is None or at < self.expires_at


def _share(field: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ConfigurationError(field, f"must be a Decimal, an int or a decimal string: {value!r}")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise ConfigurationError(field, f"not a decimal number: {value!r}") from None
    if not number.is_finite() or number <= 0 or number > 1000:
        raise ConfigurationError(field, f"must be a positive number of at most 1000: {value!r}")
    return number


def _criteria_share(value: Decimal | int | str) -> Decimal:
    return _share("blend.criteria", value)


def _predictive_share(value: Decimal | int | str) -> Decimal:
    return _share("blend.predictive", value)


@attrs.frozen
class Blend:
    """How a model blends its criteria score with a predictive probability (as 0-100).

    ``value = (criteria * criteria_score + predictive * 100 * probability)
    / (criteria + predictive)``. Both weights are positive numbers of at most 1000; raises
    ConfigurationError otherwise.
    """

    criteria: Decimal = attrs.field(converter=_criteria_share)
    predictive: Decimal = attrs.field(converter=_predictive_share)


@attrs.frozen(kw_only=True)
class Contribution:
    """One criterion's part in a score.

    ``points`` is the criterion's signed share of the 0-100 score: the score is
    ``Explanation.base`` plus every contribution's points, exactly (see docs/scoring.md for
    how the rounding is shared out).
    """

    criterion_id: str
    description: str
    manual: bool
    weight: Decimal
    met: bool
    points: Decimal

    @property
    def signed_weight(self) -> Decimal:
        """``+weight`` when met (ticked), ``-weight`` when not."""
        return self.weight if self.met else -self.weight


@attrs.frozen(kw_only=True)
class FeatureContribution:
    """One field's evidence in a predictive score: its value and log-odds (natural log).

    ``seen`` is False for a value the training data never held; it then adds nothing.
    """

    feature: str
    value: str
    log_odds: float
    seen: bool = True


@attrs.frozen(kw_only=True)
class PredictiveExplanation:
    """Why the predictive model gave its probability: the prior log-odds of winning plus
    each field's log-odds, clamped to [0.01, 0.99]."""

    model: str
    prior_log_odds: float
    contributions: tuple[FeatureContribution, ...]
    probability: float

    @property
    def log_odds(self) -> float:
        """The prior plus every contribution (before the clamp)."""
        total = self.prior_log_odds
        for c in self.contributions:
            total += c.log_odds
        return total


@attrs.frozen(kw_only=True)
class Explanation:
    """Every criterion with whether it was met, its weight and its contribution, plus what
    else decided the score (a blend with a predictive probability, a manual override).

    ``base + sum(points)`` equals ``criteria_value`` exactly; so it equals the score's value
    whenever the criteria alone decided it.
    """

    base: Decimal
    contributions: tuple[Contribution, ...]
    criteria_value: Decimal
    met_weight: Decimal
    total_weight: Decimal
    blend: Blend | None = None
    predictive: PredictiveExplanation | None = None
    manual: ManualScore | None = None
    expired_manual: ManualScore | None = None

    @property
    def points_total(self) -> Decimal:
        """``base`` plus every contribution's points."""
        total = self.base
        for c in self.contributions:
            total += c.points
        return total

    def lines(self) -> tuple[str, ...]:
        """A human-readable account, one line per fact."""
        out: list[str] = []
        if self.manual is not None:
            by = self.manual.author
            why = f": {self.manual.reason}" if self.manual.reason else ""
            until = (
                f" until {self.manual.expires_at.isoformat()}"
                if self.manual.expires_at is not None
                else " until cleared"
            )
            stars = f"{self.manual.stars} star{'' if self.manual.stars == 1 else 's'}"
            out.append(f"manual override by {by}: {stars}{why} (wins{until})")
        elif self.expired_manual is not None:
            expired = self.expired_manual.expires_at
            assert expired is not None
            out.append(f"manual override expired at {expired.isoformat()}; criteria decide")
        for c in self.contributions:
            box = "[x]" if c.met else "[ ]"
            kind = "ticked" if c.manual else "rule"
            out.append(
                f"{box} {c.description} ({kind}, weight {c.weight}): "
                f"{'+' if c.points >= 0 else ''}{c.points}"
            )
        out.append(
            f"criteria: {self.base} + contributions = {self.criteria_value} "
            f"(met weight {self.met_weight} of {self.total_weight})"
        )
        if self.predictive is not None and self.blend is not None:
            p = self.predictive
            out.append(
                f"predictive: P(win) = {p.probability:.3f} (prior log-odds {p.prior_log_odds:+.3f})"
            )
            out.extend(
                f"  {f.feature} = {f.value or '(blank)'}: "
                + (f"{f.log_odds:+.3f}" if f.seen else "not seen in training")
                for f in p.contributions
            )
            out.append(
                f"blend: {self.blend.criteria} x criteria + {self.blend.predictive} x predictive"
            )
        return tuple(out)


@attrs.frozen(kw_only=True)
class Score:
    """A lead's score under one model version at one time, with its explanation.

    ``value`` is on the 0-100 scale with the model's number of decimals; ``stars`` is out of
    ``max_stars``; ``rating`` is Hot, Warm or Cold. Raises InvalidValue for a value outside
    0-100 or stars outside 0..max_stars.
    """

    lead_id: LeadId
    value: Decimal
    stars: int
    max_stars: int
    rating: Rating
    source: ScoreSource
    model_id: str
    model_version: int
    explanation: Explanation

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, Decimal) or not 0 <= self.value <= 100:
            raise InvalidValue("score.value", self.value, "must be a Decimal from 0 to 100")
        if not 0 <= self.stars <= self.max_stars <= MAX_STARS:
            raise InvalidValue("score.stars", self.stars, "must be from 0 to max_stars")

    @property
    def star_text(self) -> str:
        """The stars as text: ``★★★☆☆``."""
        return "\u2605" * self.stars + "\u2606" * (self.max_stars - self.stars)

    def describe(self) -> str:
        """One line: value, stars, rating, source and model."""
        return (
            f"{self.value} {self.star_text} {self.rating.label} ({self.source.value}, "
            f"{self.model_id} v{self.model_version})"
        )
