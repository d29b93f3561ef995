"""A scoring model compiled for speed: integer weights, predicate functions, cached mappings.

Built once per model (``ScoringModel.compiled``). Weights are scaled to integers so the whole
formula runs in exact integer arithmetic:

* ``W`` is the sum of the (scaled) weights and ``M`` the sum of the met ones; the signed sum
  ``S = M - (W - M)`` lies in ``[-W, W]`` and maps linearly onto 0-100, which is
  ``100 * M / W``.
* With ``q = 10 ** decimals``, the value in units of ``1/q`` is ``100 * q * M / W`` rounded
  half up: ``(200 * q * M + W) // (2 * W)``.
* A criterion's exact share of the score is ``+-50 * w / W`` around the base of 50. The shares
  are rounded down to units and the units the rounding left over are handed, one each, to
  the criteria with the largest remainders (ties: smallest criterion id), so the shares add
  up to the rounded value exactly and no criterion is off by a unit or more.

Everything cached depends only on the model, so the caches never go stale.

This module does not import :mod:`leadkit.scoring.model` (which imports it for
``ScoringModel.compiled``): it reads the model through the small protocols below, and
``CompiledModel`` is generic in the model type, so ``model.compiled.model`` is still typed
as the ``ScoringModel`` it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Generic, NamedTuple, Protocol, TypeVar

from leadkit.fields import Rating
from leadkit.scoring.predicates import Predicate, compile_predicate
from leadkit.scoring.result import Contribution, ScoreSource

if TYPE_CHECKING:
    from leadkit.lead import Lead

__all__ = ["CompiledModel", "QuickScore"]


class _Criterion(Protocol):
    """What compiling reads of a criterion (``scoring.model.Criterion``)."""

    @property
    def id(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def rule(self) -> Predicate: ...
    @property
    def is_manual(self) -> bool: ...


class _Stars(Protocol):
    def stars_for(self, value: Decimal, /) -> int: ...


class _Ratings(Protocol):
    def rating_for(self, value: Decimal, /) -> Rating: ...


class _Model(Protocol):
    """What compiling reads of a model (``scoring.model.ScoringModel``)."""

    @property
    def criteria(self) -> Sequence[_Criterion]: ...
    @property
    def decimals(self) -> int: ...
    @property
    def stars(self) -> _Stars: ...
    @property
    def ratings(self) -> _Ratings: ...
    def weight_of(self, criterion: Any, /) -> Decimal: ...


_ModelT = TypeVar("_ModelT", bound=_Model)

_MASK_CACHE_LIMIT: Final = 4096


class QuickScore(NamedTuple):
    """A score without its explanation: the bulk fast path's result."""

    value: Decimal
    stars: int
    rating: Rating
    source: ScoreSource


class CompiledModel(Generic[_ModelT]):
    """A :class:`ScoringModel` ready to score many leads quickly. Build it through
    ``model.compiled``; it holds no state that changes what it returns. Raises nothing for a
    valid model (the model checked itself when built)."""

    __slots__ = (
        "_base",
        "_by_mask",
        "_by_met",
        "_checks",
        "_floor_delta",
        "_floor_none",
        "_half",
        "_n",
        "_pairs",
        "_q",
        "_ranked",
        "_variants",
        "_weight_decimals",
        "_weight_scale",
        "decimals",
        "model",
        "total",
        "total_weight",
    )

    def __init__(self, model: _ModelT) -> None:
        self.model = model
        criteria = model.criteria
        weights = [model.weight_of(c) for c in criteria]
        places = max(max(0, -int(w.as_tuple().exponent)) for w in weights)
        self._weight_scale = places
        ints = [int(w.scaleb(places)) for w in weights]
        self.total = sum(ints)
        self.total_weight = Decimal(self.total).scaleb(-places)
        self.decimals = model.decimals
        self._q: int = 10**model.decimals
        self._n = len(criteria)
        self._checks = tuple(
            (compile_predicate(c.rule, c.id), weight, 1 << i)
            for i, (c, weight) in enumerate(zip(criteria, ints, strict=True))
        )
        self._pairs = tuple((test, weight) for test, weight, _ in self._checks)
        self._half = half = 50 * self._q
        self._base = Decimal(half).scaleb(-self.decimals)
        # Per criterion and met flag (0 unmet, 1 met): the share rounded down to units, and
        # the remainder (in 1/W units) that rounding dropped.
        floors = [(divmod(-half * w, self.total), divmod(half * w, self.total)) for w in ints]
        self._floor_none = sum(f[0][0] for f in floors)
        self._floor_delta = tuple(f[1][0] - f[0][0] for f in floors)
        # Who gets a left-over unit first: the largest remainder, ties by the smaller id.
        self._ranked = tuple(
            sorted(
                ((i, flag) for i in range(self._n) for flag in (0, 1)),
                key=lambda pair: (-floors[pair[0]][pair[1]][1], criteria[pair[0]].id),
            )
        )
        self._variants = tuple(
            tuple(
                tuple(
                    Contribution(
                        criterion_id=c.id,
                        description=c.description,
                        manual=c.is_manual,
                        weight=weight,
                        met=bool(flag),
                        points=Decimal(floors[i][flag][0] + bump).scaleb(-self.decimals),
                    )
                    for bump in (0, 1)
                )
                for flag in (0, 1)
            )
            for i, (c, weight) in enumerate(zip(criteria, weights, strict=True))
        )
        self._by_met: dict[int, QuickScore] = {}
        self._by_mask: dict[int, tuple[Contribution, ...]] = {}
        self._weight_decimals: dict[int, Decimal] = {}

    # Evaluation -------------------------------------------------------------------------------

    def met_weight(self, lead: Lead, at: datetime) -> int:
        """``M``: the sum of the scaled weights of the criteria ``lead`` meets at ``at``."""
        met = 0
        for test, weight in self._pairs:
            if test(lead, at):
                met += weight
        return met

    def evaluate(self, lead: Lead, at: datetime) -> tuple[int, int]:
        """``(mask, M)``: which criteria are met (bit i = criterion i) and their weight."""
        mask = 0
        met = 0
        for test, weight, bit in self._checks:
            if test(lead, at):
                mask |= bit
                met += weight
        return mask, met

    # Mapping ----------------------------------------------------------------------------------

    def units(self, met: int) -> int:
        """The criteria score in units of ``10 ** -decimals``, rounded half up."""
        return (200 * self._q * met + self.total) // (2 * self.total)

    def criteria_score(self, met: int) -> QuickScore:
        """Value, stars and rating for a met weight (cached: there are few distinct sums)."""
        found = self._by_met.get(met)
        if found is None:
            value = Decimal(self.units(met)).scaleb(-self.decimals)
            found = QuickScore(
                value,
                self.model.stars.stars_for(value),
                self.model.ratings.rating_for(value),
                ScoreSource.CRITERIA,
            )
            self._by_met[met] = found
        return found

    def met_weight_decimal(self, met: int) -> Decimal:
        """A scaled met weight back in the model's weight units."""
        found = self._weight_decimals.get(met)
        if found is None:
            found = self._weight_decimals[met] = Decimal(met).scaleb(-self._weight_scale)
        return found

    def contributions(self, mask: int, met: int) -> tuple[Contribution, ...]:
        """Every criterion's contribution for the met set ``mask``, in model order; their
        points plus the base of 50 add up to the criteria score exactly."""
        found = self._by_mask.get(mask)
        if found is not None:
            return found
        n = self._n
        flags = [(mask >> i) & 1 for i in range(n)]
        delta = self._floor_delta
        left = self.units(met) - self._half - self._floor_none
        left -= sum(delta[i] for i in range(n) if flags[i])
        bumps = [0] * n
        if left:
            for i, flag in self._ranked:
                if flags[i] == flag:
                    bumps[i] = 1
                    left -= 1
                    if not left:
                        break
        variants = self._variants
        found = tuple([variants[i][flags[i]][bumps[i]] for i in range(n)])
        if len(self._by_mask) >= _MASK_CACHE_LIMIT:
            self._by_mask.clear()
        self._by_mask[mask] = found
        return found

    @property
    def base(self) -> Decimal:
        """The score with every criterion's share at zero: 50."""
        return self._base

    @property
    def checks(self) -> tuple[tuple[Callable[[Lead, datetime], bool], int, int], ...]:
        """``(test, scaled weight, bit)`` per criterion, in model order."""
        return self._checks

    @property
    def pairs(self) -> tuple[tuple[Callable[[Lead, datetime], bool], int], ...]:
        """``(test, scaled weight)`` per criterion, in model order (the fast path's loop)."""
        return self._pairs
