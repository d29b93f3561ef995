"""Scoring models: named, versioned, immutable sets of weighted criteria.

A :class:`Criterion` has an id, a description, an importance (low, normal, high) whose weight
the model defines (1/2/3 by default) or an explicit weight of its own, and a rule: the user
ticks it on the lead (:class:`Ticked`, the Outlook BCM check box) or a predicate decides it
from the lead's fields. A :class:`ScoringModel` maps the weighted sum onto a 0-100 score, stars
and a Hot/Warm/Cold rating (see docs/scoring.md for the exact formula and rounding).

Models are values: every edit (add, replace or remove a criterion, change a weight, an
importance weight, the star scale, the rating thresholds or the blend) returns a new model
whose version is one higher; an edit that changes nothing returns the same model. A model
with no criteria, a duplicate criterion id or a non-positive weight raises
:class:`ConfigurationError` when built.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from typing import Any, Final

import attrs

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import Rating
from leadkit.scoring.compiled import CompiledModel
from leadkit.scoring.predicates import Predicate, Ticked
from leadkit.scoring.result import MAX_STARS, Blend, check_slug

__all__ = [
    "MAX_DECIMALS",
    "Criterion",
    "Importance",
    "ImportanceWeights",
    "RatingThresholds",
    "ScoringModel",
    "StarScale",
]

MAX_DECIMALS: Final = 4
"""The most decimals a model's score may have."""

_MAX_WEIGHT: Final = Decimal(1_000_000)
_WEIGHT_PLACES: Final = 6


def _weight(what: str, value: object) -> Decimal:
    """A positive, finite weight of at most 1,000,000 with at most 6 decimals."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ConfigurationError(
            what, f"a weight must be a Decimal, an int or a decimal string (not {value!r})"
        )
    try:
        weight = Decimal(value)
    except InvalidOperation:
        raise ConfigurationError(what, f"{value!r} is not a number") from None
    if not weight.is_finite() or weight <= 0:
        raise ConfigurationError(what, f"a weight must be positive, not {value}")
    if weight > _MAX_WEIGHT:
        raise ConfigurationError(what, f"a weight must be at most {_MAX_WEIGHT}, not {value}")
    if weight != weight.quantize(Decimal(1).scaleb(-_WEIGHT_PLACES), rounding=ROUND_HALF_UP):
        raise ConfigurationError(what, f"a weight has at most {_WEIGHT_PLACES} decimals")
    return weight


def _limit(what: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ConfigurationError(what, f"must be a Decimal, an int or a decimal string: {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ConfigurationError(what, f"{value!r} is not a number") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise ConfigurationError(what, f"must be on the 0-100 score scale, not {value}")
    return number


Number = Decimal | int | str
"""What a weight or limit may be given as (never a float)."""


def _low(value: Number) -> Decimal:
    return _weight("weights.low", value)


def _normal(value: Number) -> Decimal:
    return _weight("weights.normal", value)


def _high(value: Number) -> Decimal:
    return _weight("weights.high", value)


def _hot(value: Number) -> Decimal:
    return _limit("ratings.hot", value)


def _warm(value: Number) -> Decimal:
    return _limit("ratings.warm", value)


def _criterion_id(value: str) -> str:
    return _slug("criterion.id", value)


def _model_id(value: str) -> str:
    return _slug("scoring model id", value)


class Importance(Enum):
    """How much a criterion matters; the model says what each level weighs."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


@attrs.frozen
class ImportanceWeights:
    """The weight of each importance level: 1, 2 and 3 by default; any positive number.

    Raises ConfigurationError for a weight that is not positive.
    """

    low: Decimal = attrs.field(default=Decimal(1), converter=_low)
    normal: Decimal = attrs.field(default=Decimal(2), converter=_normal)
    high: Decimal = attrs.field(default=Decimal(3), converter=_high)

    def of(self, importance: Importance) -> Decimal:
        """The weight of ``importance``."""
        match importance:
            case Importance.LOW:
                return self.low
            case Importance.NORMAL:
                return self.normal
            case Importance.HIGH:
                return self.high


def _optional_weight(value: Number | None) -> Decimal | None:
    return None if value is None else _weight("criterion.weight", value)


def _description(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200:
        raise ConfigurationError("criterion.description", "must be 1-200 characters of text")
    return value.strip()


def _slug(what: str, value: object) -> str:
    try:
        return check_slug(what, value)
    except InvalidValue as e:
        raise ConfigurationError(what, f"{e.reason} (got {value!r})") from None


_TICKED: Final = Ticked()


@attrs.frozen(kw_only=True)
class Criterion:
    """One scoring criterion: met adds its weight to the sum, unmet subtracts it.

    ``rule`` decides it: :class:`Ticked` (the default) makes it a check box the user ticks on
    the lead; any other predicate decides it from the lead's fields. ``weight``, when given,
    replaces the weight of the criterion's importance. Raises ConfigurationError for a bad id,
    an empty description, a non-positive weight or a rule that is not a predicate.
    """

    id: str = attrs.field(converter=_criterion_id)
    description: str = attrs.field(converter=_description)
    importance: Importance = Importance.NORMAL
    rule: Predicate = _TICKED
    weight: Decimal | None = attrs.field(default=None, converter=_optional_weight)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.importance, Importance):
            raise ConfigurationError(
                f"criterion {self.id}", f"importance must be an Importance: {self.importance!r}"
            )
        if not isinstance(self.rule, Predicate) or type(self.rule) is Predicate:
            raise ConfigurationError(
                f"criterion {self.id}", f"rule must be a predicate: {self.rule!r}"
            )

    @property
    def is_manual(self) -> bool:
        """True when a user's tick on the lead decides (part of) this criterion."""
        return self.rule.uses_tick()


def _thresholds(value: Iterable[Number]) -> tuple[Decimal, ...]:
    items = tuple(_limit("stars.thresholds", v) for v in value)
    if not 1 <= len(items) <= MAX_STARS:
        raise ConfigurationError("stars", f"a star scale has 1 to {MAX_STARS} stars")
    if items[0] <= 0 or any(a >= b for a, b in itertools.pairwise(items)):
        raise ConfigurationError(
            "stars", "thresholds must be strictly increasing and above 0 (0 stars needs none)"
        )
    return items


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


@attrs.frozen
class StarScale:
    """Stars from a score: ``thresholds[k]`` is the lowest score that earns ``k + 1`` stars.

    The default, ``StarScale.even(5)``, gives 1 star from 10, 2 from 30, 3 from 50, 4 from 70
    and 5 from 90: the score times five divided by 100, rounded half up. Raises
    ConfigurationError for thresholds that are not strictly increasing within (0, 100] or a
    scale of more than 10 stars.
    """

    thresholds: tuple[Decimal, ...] = attrs.field(
        default=(Decimal(10), Decimal(30), Decimal(50), Decimal(70), Decimal(90)),
        converter=_thresholds,
    )

    @classmethod
    def even(cls, max_stars: int) -> StarScale:
        """``max_stars`` stars, each for an equal share of the scale (rounded half up)."""
        if isinstance(max_stars, bool) or not isinstance(max_stars, int):
            raise ConfigurationError("stars", f"max_stars must be a whole number: {max_stars!r}")
        if not 1 <= max_stars <= MAX_STARS:
            raise ConfigurationError("stars", f"a star scale has 1 to {MAX_STARS} stars")
        cents = (
            _round_half_up(Fraction(100 * (2 * s - 1) * 100, 2 * max_stars))
            for s in range(1, max_stars + 1)
        )
        return cls(tuple(Decimal(c).scaleb(-2) for c in cents))

    @property
    def max_stars(self) -> int:
        """The number of stars a full score earns."""
        return len(self.thresholds)

    def stars_for(self, value: Decimal) -> int:
        """How many stars ``value`` earns."""
        stars = 0
        for threshold in self.thresholds:
            if value < threshold:
                break
            stars += 1
        return stars

    def value_for(self, stars: int, decimals: int) -> Decimal:
        """The score a manual override of ``stars`` stands for: ``stars / max_stars * 100``
        rounded half up to ``decimals``, moved into the ``stars`` band if custom thresholds
        put it elsewhere. ``stars`` above the scale count as ``max_stars``."""
        stars = max(0, min(stars, self.max_stars))
        q = 10**decimals
        units = _round_half_up(Fraction(100 * stars * q, self.max_stars))
        low = 0 if stars == 0 else math.ceil(Fraction(self.thresholds[stars - 1]) * q)
        if stars < self.max_stars:
            high = math.ceil(Fraction(self.thresholds[stars]) * q) - 1
        else:
            high = 100 * q
        units = max(low, min(units, high))
        return Decimal(units).scaleb(-decimals)


@attrs.frozen
class RatingThresholds:
    """Hot from ``hot`` (70 by default), Warm from ``warm`` (40), Cold below.

    Raises ConfigurationError unless ``0 <= warm <= hot <= 100``.
    """

    hot: Decimal = attrs.field(default=Decimal(70), converter=_hot)
    warm: Decimal = attrs.field(default=Decimal(40), converter=_warm)

    def __attrs_post_init__(self) -> None:
        if self.warm > self.hot:
            raise ConfigurationError("ratings", f"warm ({self.warm}) is above hot ({self.hot})")

    def rating_for(self, value: Decimal) -> Rating:
        """Hot, Warm or Cold for ``value``."""
        if value >= self.hot:
            return Rating.HOT
        if value >= self.warm:
            return Rating.WARM
        return Rating.COLD


def _criteria(value: Iterable[Criterion] | Criterion) -> tuple[Criterion, ...]:
    if isinstance(value, Criterion):
        value = (value,)
    return tuple(value)


def _check_model(model: ScoringModel) -> None:
    what = f"scoring model {model.id!r}"
    if isinstance(model.version, bool) or not isinstance(model.version, int) or model.version < 1:
        raise ConfigurationError(what, f"version must be a whole number from 1: {model.version!r}")
    if not model.criteria:
        raise ConfigurationError(what, "a model needs at least one criterion")
    seen: set[str] = set()
    for criterion in model.criteria:
        if not isinstance(criterion, Criterion):
            raise ConfigurationError(what, f"not a criterion: {criterion!r}")
        if criterion.id in seen:
            raise ConfigurationError(what, f"duplicate criterion id {criterion.id!r}")
        seen.add(criterion.id)
    for name, kind in (
        ("weights", ImportanceWeights),
        ("stars", StarScale),
        ("ratings", RatingThresholds),
    ):
        if not isinstance(getattr(model, name), kind):
            raise ConfigurationError(what, f"{name} must be a {kind.__name__}")
    if model.blend is not None and not isinstance(model.blend, Blend):
        raise ConfigurationError(what, "blend must be a Blend or None")
    decimals = model.decimals
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise ConfigurationError(what, f"decimals must be a whole number: {decimals!r}")
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ConfigurationError(what, f"decimals must be from 0 to {MAX_DECIMALS}")
    for stars in range(model.stars.max_stars + 1):
        if model.stars.stars_for(model.stars.value_for(stars, decimals)) != stars:
            raise ConfigurationError(
                what, f"no score with {decimals} decimals earns {stars} stars on this scale"
            )


def _name(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200:
        raise ConfigurationError("scoring model", "a name is 1-200 characters of text")
    return value.strip()


def _text(value: str) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise ConfigurationError("scoring model", "a description is text of at most 2000")
    return value.strip()


@attrs.frozen(kw_only=True)
class ScoringModel:
    """A named, versioned, immutable set of criteria and the mapping to score, stars and
    rating.

    ``decimals`` is the number of decimals of the 0-100 score (2 by default); ``blend``, when
    set, blends the criteria score with a predictive probability. Raises ConfigurationError
    for no criteria, a duplicate criterion id, a non-positive weight, a bad id or name, or a
    star scale that cannot show every number of stars at ``decimals``.
    """

    id: str = attrs.field(converter=_model_id)
    name: str = attrs.field(converter=_name)
    criteria: tuple[Criterion, ...] = attrs.field(converter=_criteria)
    version: int = 1
    weights: ImportanceWeights = ImportanceWeights()
    stars: StarScale = StarScale()
    ratings: RatingThresholds = RatingThresholds()
    decimals: int = 2
    blend: Blend | None = None
    description: str = attrs.field(default="", converter=_text)

    def __attrs_post_init__(self) -> None:
        _check_model(self)

    # Queries ----------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """``id@version``, e.g. ``bcm@3``."""
        return f"{self.id}@{self.version}"

    @property
    def max_stars(self) -> int:
        """The number of stars a full score earns."""
        return self.stars.max_stars

    @property
    def manual_criteria(self) -> tuple[Criterion, ...]:
        """The criteria a user ticks on the lead (the BCM check boxes), in model order."""
        return tuple(c for c in self.criteria if c.is_manual)

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with ``criterion_id``. Raises InvalidValue if there is none."""
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise InvalidValue("criterion_id", criterion_id, f"model {self.id} has no such criterion")

    def weight_of(self, criterion: Criterion) -> Decimal:
        """The criterion's own weight, else its importance's weight in this model."""
        return (
            criterion.weight
            if criterion.weight is not None
            else self.weights.of(criterion.importance)
        )

    @property
    def total_weight(self) -> Decimal:
        """``W``: the sum of every criterion's weight."""
        return sum((self.weight_of(c) for c in self.criteria), Decimal(0))

    @functools.cached_property
    def compiled(self) -> CompiledModel[ScoringModel]:
        """The model compiled for fast scoring (built on first use, then kept)."""
        return CompiledModel(self)

    # Edits: each returns a new version ---------------------------------------------------------

    def edit(self, **changes: Any) -> ScoringModel:
        """A new version with ``changes`` (any field but ``version``); the same model when
        nothing changes. Raises ConfigurationError when the result is not a valid model."""
        if "version" in changes:
            raise ConfigurationError(f"scoring model {self.id!r}", "versions are not edited")
        edited = attrs.evolve(self, **changes)
        if edited == self:
            return self
        return attrs.evolve(edited, version=self.version + 1)

    def add_criterion(self, criterion: Criterion) -> ScoringModel:
        """Add a criterion at the end. Raises ConfigurationError for a duplicate id."""
        return self.edit(criteria=(*self.criteria, criterion))

    def replace_criterion(self, criterion: Criterion) -> ScoringModel:
        """Replace the criterion with the same id. Raises InvalidValue if there is none."""
        self.criterion(criterion.id)
        return self.edit(
            criteria=tuple(criterion if c.id == criterion.id else c for c in self.criteria)
        )

    def remove_criterion(self, criterion_id: str) -> ScoringModel:
        """Remove a criterion. Raises InvalidValue if there is none and ConfigurationError when
        it is the last one."""
        self.criterion(criterion_id)
        return self.edit(criteria=tuple(c for c in self.criteria if c.id != criterion_id))

    def set_weight(self, criterion_id: str, weight: Decimal | int | str | None) -> ScoringModel:
        """Give a criterion its own weight (``None``: back to its importance's weight)."""
        criterion = self.criterion(criterion_id)
        return self.replace_criterion(attrs.evolve(criterion, weight=weight))

    def set_importance(self, criterion_id: str, importance: Importance) -> ScoringModel:
        """Change a criterion's importance."""
        criterion = self.criterion(criterion_id)
        return self.replace_criterion(attrs.evolve(criterion, importance=importance))

    def set_importance_weights(self, weights: ImportanceWeights) -> ScoringModel:
        """Change what low, normal and high weigh."""
        return self.edit(weights=weights)

    def set_star_scale(self, stars: StarScale) -> ScoringModel:
        """Change the star scale."""
        return self.edit(stars=stars)

    def set_rating_thresholds(self, ratings: RatingThresholds) -> ScoringModel:
        """Change the Hot and Warm thresholds."""
        return self.edit(ratings=ratings)

    def set_blend(self, blend: Blend | None) -> ScoringModel:
        """Blend with a predictive probability (``None``: criteria only)."""
        return self.edit(blend=blend)
