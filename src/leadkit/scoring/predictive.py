"""Predictive scoring: a naive Bayes model learned from closed leads.

Qualified leads are won, Disqualified leads lost; Open leads teach nothing. For each chosen
feature (an option field, a text field such as the country, a custom field, or whether
e-mail / phone are present) training counts how often each value occurred among won and among
lost leads. With ``K`` distinct values of a feature and Laplace smoothing ``alpha``::

    P(value | won)  = (won_value  + alpha) / (won  + alpha * K)
    P(value | lost) = (lost_value + alpha) / (lost + alpha * K)
    log_odds(value) = ln P(value | won) - ln P(value | lost)

A lead's log-odds of winning are ``ln(won / lost)`` plus the log-odds of each of its feature
values (a value never seen in training adds nothing), and its probability is the logistic of
that, clamped to [0.01, 0.99]. The per-feature log-odds are the explanation.

Training is a pure function of the data: the model holds only integer counts, sorted, so the
same leads in any order give an equal model, and every float is computed from those counts in
a fixed order. Training refuses fewer than 40 won or 40 lost leads
(:class:`InsufficientTrainingData`). :func:`backtest` holds out a deterministic share of the
leads (chosen by a hash of the lead id, not at random) and reports AUC and calibration.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

import attrs

from leadkit.errors import ConfigurationError, InvalidValue, LeadkitError
from leadkit.fields import OptionSet, OptionValue, custom_kind
from leadkit.scoring.predicates import (
    IsSet,
    ScoringFieldKind,
    compile_predicate,
    field_reader,
    field_spec,
)
from leadkit.scoring.result import FeatureContribution, PredictiveExplanation, check_slug
from leadkit.status import LeadState

if TYPE_CHECKING:
    from leadkit.lead import Lead

__all__ = [
    "DEFAULT_FEATURES",
    "MIN_CLASS_SIZE",
    "Backtest",
    "CalibrationBin",
    "Feature",
    "FeatureCounts",
    "FeatureKind",
    "InsufficientTrainingData",
    "PredictiveModel",
    "ValueCount",
    "auc",
    "backtest",
    "holdout_bucket",
    "outcome",
    "train",
]

MIN_CLASS_SIZE: Final = 40
"""Training needs at least this many won and this many lost leads."""

P_MIN: Final = 0.01
P_MAX: Final = 0.99


class InsufficientTrainingData(LeadkitError, ValueError):
    """Training was refused: fewer than ``minimum`` won or lost leads."""

    def __init__(self, won: int, lost: int, minimum: int) -> None:
        self.won = won
        self.lost = lost
        self.minimum = minimum
        super().__init__(
            f"predictive training needs at least {minimum} won (Qualified) and {minimum} lost "
            f"(Disqualified) leads; got {won} won and {lost} lost"
        )


class FeatureKind(Enum):
    """How a feature reads a lead: the field's value, or whether any of its fields is set."""

    VALUE = "value"
    PRESENT = "present"


def _paths(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class Feature:
    """A field the predictive model learns from.

    ``VALUE`` reads one option, text or custom field (text is trimmed and case-folded);
    ``PRESENT`` is ``yes`` when any of ``paths`` is set. Raises ConfigurationError for a bad
    name, an unknown path, or a ``VALUE`` feature over several paths or an amount, date or
    count field.
    """

    name: str
    paths: tuple[str, ...] = attrs.field(converter=_paths)
    kind: FeatureKind = FeatureKind.VALUE

    def __attrs_post_init__(self) -> None:
        try:
            check_slug("feature.name", self.name)
        except InvalidValue as e:
            raise ConfigurationError("feature", e.reason) from None
        if not self.paths:
            raise ConfigurationError(f"feature {self.name}", "needs at least one field")
        specs = [field_spec(p) for p in self.paths]
        if self.kind is FeatureKind.VALUE:
            if len(specs) != 1:
                raise ConfigurationError(f"feature {self.name}", "a value feature reads one field")
            if specs[0].kind not in (
                ScoringFieldKind.OPTION,
                ScoringFieldKind.TEXT,
                ScoringFieldKind.CUSTOM,
            ):
                raise ConfigurationError(
                    f"feature {self.name}",
                    f"a value feature reads an option, text or custom field, not "
                    f"{specs[0].kind.value} field {specs[0].path!r}",
                )

    def reader(self) -> Callable[[Lead], str]:
        """A function giving the feature's value key for a lead ("" for no value)."""
        if self.kind is FeatureKind.PRESENT:
            tests = tuple(compile_predicate(IsSet(p), "") for p in self.paths)
            return lambda lead: "yes" if any(t(lead, _EPOCH) for t in tests) else "no"
        spec = field_spec(self.paths[0])
        get = field_reader(spec)
        if spec.kind is ScoringFieldKind.OPTION:
            return lambda lead: "" if (v := get(lead)) is None else v.name
        if spec.kind is ScoringFieldKind.TEXT:
            return lambda lead: get(lead).strip().casefold()
        return lambda lead: _custom_key(get(lead))


def _custom_key(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, OptionValue):
        return str(value.code)
    if isinstance(value, OptionSet):
        return value.name
    kind = custom_kind(value)  # type: ignore[arg-type]
    if kind == "text":
        return str(value).strip().casefold()
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("date", "datetime"):
        return value.isoformat()  # type: ignore[attr-defined, no-any-return]
    return str(value)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)  # IsSet never reads the scoring time.

DEFAULT_FEATURES: Final[tuple[Feature, ...]] = (
    Feature("source", "source"),
    Feature("rating", "rating"),
    Feature("budget", "budget"),
    Feature("need", "need"),
    Feature("purchase_timeframe", "purchase_timeframe"),
    Feature("country", "address.country"),
    Feature("email", "email", FeatureKind.PRESENT),
    Feature("phone", ("business_phone", "mobile_phone"), FeatureKind.PRESENT),
)
"""Source, rating, budget, need, purchase timeframe, country, e-mail and phone present."""


@attrs.frozen(order=True)
class ValueCount:
    """How many won and lost training leads had ``value`` (the value key, "" for none)."""

    value: str
    won: int
    lost: int


@attrs.frozen
class FeatureCounts:
    """A feature's value counts, sorted by value."""

    feature: str
    counts: tuple[ValueCount, ...]


def _alpha(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ConfigurationError(
            "alpha", f"must be a Decimal, an int or a decimal string: {value!r}"
        )
    number = Decimal(value)
    if not number.is_finite() or not 0 < number <= 100:
        raise ConfigurationError("alpha", f"Laplace smoothing must be in (0, 100]: {value}")
    return number


def _check_predictive(model: PredictiveModel) -> None:
    what = f"predictive model {model.name!r}"
    try:
        check_slug("name", model.name)
    except InvalidValue as e:
        raise ConfigurationError(what, e.reason) from None
    names = [f.name for f in model.features]
    if not names:
        raise ConfigurationError(what, "needs at least one feature")
    if len(set(names)) != len(names):
        raise ConfigurationError(what, "feature names must be unique")
    if [t.feature for t in model.tables] != names:
        raise ConfigurationError(what, "needs one count table per feature, in feature order")
    if model.won < 1 or model.lost < 1:
        raise ConfigurationError(what, "needs at least one won and one lost lead")
    for table in model.tables:
        values = [c.value for c in table.counts]
        if values != sorted(set(values)):
            raise ConfigurationError(what, f"counts of {table.feature} must be sorted and unique")
        won = sum(c.won for c in table.counts)
        lost = sum(c.lost for c in table.counts)
        if (won, lost) != (model.won, model.lost) or any(
            c.won < 0 or c.lost < 0 for c in table.counts
        ):
            raise ConfigurationError(what, f"counts of {table.feature} do not add up")


@attrs.frozen(kw_only=True)
class PredictiveModel:
    """A trained naive Bayes model: its features, smoothing and the counts it learned.

    Build one with :func:`train`. Equal training data gives an equal model. ``id`` is the
    name plus a fingerprint of the counts. Raises ConfigurationError for counts that do not
    add up.
    """

    name: str
    features: tuple[Feature, ...]
    alpha: Decimal = attrs.field(converter=_alpha)
    won: int
    lost: int
    tables: tuple[FeatureCounts, ...]

    def __attrs_post_init__(self) -> None:
        _check_predictive(self)

    @functools.cached_property
    def id(self) -> str:
        """``name:fingerprint``: the fingerprint is a hash of the features and counts."""
        digest = hashlib.sha256()
        digest.update(f"{self.name}|{self.alpha}|{self.won}|{self.lost}".encode())
        for feature, table in zip(self.features, self.tables, strict=True):
            digest.update(
                f"|{feature.name}:{feature.kind.value}:{','.join(feature.paths)}".encode()
            )
            for c in table.counts:
                digest.update(f"|{c.value}\x1f{c.won}\x1f{c.lost}".encode())
        return f"{self.name}:{digest.hexdigest()[:12]}"

    @property
    def prior_log_odds(self) -> float:
        """``ln(won / lost)``."""
        return math.log(self.won / self.lost)

    @functools.cached_property
    def _compiled(self) -> tuple[tuple[str, Callable[[Any], str], dict[str, float]], ...]:
        # (Any, not Lead: cattrs resolves the annotations of cached properties at runtime.)
        alpha = float(self.alpha)
        compiled = []
        for feature, table in zip(self.features, self.tables, strict=True):
            k = len(table.counts)
            won_total = self.won + alpha * k
            lost_total = self.lost + alpha * k
            odds = {
                c.value: math.log((c.won + alpha) / won_total)
                - math.log((c.lost + alpha) / lost_total)
                for c in table.counts
            }
            compiled.append((feature.name, feature.reader(), odds))
        return tuple(compiled)

    def log_odds(self, feature: str, value: str) -> float | None:
        """The learned log-odds of ``value`` of ``feature`` (None if never seen)."""
        for name, _, odds in self._compiled:
            if name == feature:
                return odds.get(value)
        raise InvalidValue("feature", feature, f"model {self.name} has no such feature")

    def probability(self, lead: Lead) -> float:
        """The probability that ``lead`` is won, clamped to [0.01, 0.99]."""
        total = self.prior_log_odds
        for _, read, odds in self._compiled:
            total += odds.get(read(lead), 0.0)
        return _clamp(_logistic(total))

    def explain(self, lead: Lead) -> PredictiveExplanation:
        """The probability with the prior and every feature's log-odds."""
        contributions = []
        for name, read, odds in self._compiled:
            value = read(lead)
            found = odds.get(value)
            contributions.append(
                FeatureContribution(
                    feature=name,
                    value=value,
                    log_odds=0.0 if found is None else found,
                    seen=found is not None,
                )
            )
        explanation = PredictiveExplanation(
            model=self.id,
            prior_log_odds=self.prior_log_odds,
            contributions=tuple(contributions),
            probability=0.0,
        )
        return attrs.evolve(explanation, probability=_clamp(_logistic(explanation.log_odds)))


def _logistic(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _clamp(p: float) -> float:
    return min(P_MAX, max(P_MIN, p))


def outcome(lead: Lead) -> bool | None:
    """True for a won (Qualified) lead, False for a lost (Disqualified) one, None if Open."""
    if lead.state is LeadState.QUALIFIED:
        return True
    if lead.state is LeadState.DISQUALIFIED:
        return False
    return None


def train(
    leads: Iterable[Lead],
    *,
    features: Sequence[Feature] = DEFAULT_FEATURES,
    name: str = "predictive",
    alpha: Decimal | int | str = 1,
    minimum: int = MIN_CLASS_SIZE,
) -> PredictiveModel:
    """Learn a naive Bayes model from the closed leads among ``leads`` (Open ones are skipped).

    Pure and order-independent: only integer counts are kept. Raises InsufficientTrainingData
    with fewer than ``minimum`` (at least 40) won or lost leads, ConfigurationError for bad
    features, alpha or minimum.
    """
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < MIN_CLASS_SIZE:
        raise ConfigurationError("minimum", f"must be a whole number of at least {MIN_CLASS_SIZE}")
    feature_list = tuple(features)
    readers = [f.reader() for f in feature_list]
    counts: list[dict[str, list[int]]] = [{} for _ in feature_list]
    won = lost = 0
    for lead in leads:
        result = outcome(lead)
        if result is None:
            continue
        slot = 0 if result else 1
        if result:
            won += 1
        else:
            lost += 1
        for read, table in zip(readers, counts, strict=True):
            key = read(lead)
            entry = table.get(key)
            if entry is None:
                entry = table[key] = [0, 0]
            entry[slot] += 1
    if won < minimum or lost < minimum:
        raise InsufficientTrainingData(won, lost, minimum)
    tables = tuple(
        FeatureCounts(
            feature.name,
            tuple(ValueCount(value, w, l_) for value, (w, l_) in sorted(table.items())),
        )
        for feature, table in zip(feature_list, counts, strict=True)
    )
    return PredictiveModel(
        name=name, features=feature_list, alpha=alpha, won=won, lost=lost, tables=tables
    )


# ---------------------------------------------------------------------------------------------
# Backtest


@attrs.frozen
class CalibrationBin:
    """Held-out leads whose predicted probability fell in ``[low, high)`` (the last bin
    includes 1): how many, their mean prediction and the share actually won."""

    low: float
    high: float
    count: int
    mean_predicted: float
    observed_rate: float


@attrs.frozen(kw_only=True)
class Backtest:
    """How a model trained on part of the history predicts the held-out rest.

    ``auc`` is the probability that a random won lead is ranked above a random lost one (ties
    count half; None without both outcomes held out); ``brier`` is the mean squared error.
    """

    model: PredictiveModel
    train_won: int
    train_lost: int
    test_won: int
    test_lost: int
    auc: float | None
    brier: float
    calibration: tuple[CalibrationBin, ...]

    def lines(self) -> tuple[str, ...]:
        """A human-readable summary."""
        auc_text = "n/a" if self.auc is None else f"{self.auc:.3f}"
        out = [
            f"trained on {self.train_won} won / {self.train_lost} lost, "
            f"tested on {self.test_won} won / {self.test_lost} lost held-out leads",
            f"AUC {auc_text}, Brier {self.brier:.4f}",
        ]
        out.extend(
            f"  p in [{b.low:.1f}, {b.high:.1f}): {b.count:5d} leads, predicted "
            f"{b.mean_predicted:.3f}, observed {b.observed_rate:.3f}"
            for b in self.calibration
            if b.count
        )
        return tuple(out)


def holdout_bucket(lead_id: str) -> int:
    """A stable number 0-99 for a lead id (a hash, the same on every run and machine)."""
    digest = hashlib.blake2b(lead_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


def auc(scored: Iterable[tuple[float, bool]]) -> float | None:
    """The area under the ROC curve of ``(probability, won)`` pairs (ties count half);
    None unless both outcomes occur."""
    pairs = sorted(scored)
    positives = sum(1 for _, won in pairs if won)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def backtest(
    leads: Iterable[Lead],
    *,
    features: Sequence[Feature] = DEFAULT_FEATURES,
    holdout_percent: int = 25,
    bins: int = 10,
    alpha: Decimal | int | str = 1,
    minimum: int = MIN_CLASS_SIZE,
    name: str = "predictive",
) -> Backtest:
    """Train on the closed leads outside the holdout and measure on the held-out ones.

    A lead is held out when :func:`holdout_bucket` of its id is below ``holdout_percent``, so
    the split is the same on every run and in any order. Raises InsufficientTrainingData when
    the training part is too small, InvalidValue for a holdout outside 1-99 or bins outside
    1-100.
    """
    if isinstance(holdout_percent, bool) or not 1 <= holdout_percent <= 99:
        raise InvalidValue("holdout_percent", holdout_percent, "must be from 1 to 99")
    if isinstance(bins, bool) or not 1 <= bins <= 100:
        raise InvalidValue("bins", bins, "must be from 1 to 100")
    training: list[Lead] = []
    held_out: list[Lead] = []
    for lead in leads:
        if outcome(lead) is None:
            continue
        (held_out if holdout_bucket(lead.id.value) < holdout_percent else training).append(lead)
    model = train(training, features=features, name=name, alpha=alpha, minimum=minimum)
    held_out.sort(key=lambda lead: lead.id.value)
    predictions = [(model.probability(lead), outcome(lead) is True) for lead in held_out]
    test_won = sum(1 for _, won in predictions if won)
    width = 1.0 / bins
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for p, won in predictions:
        grouped[min(int(p * bins), bins - 1)].append((p, won))
    calibration = tuple(
        CalibrationBin(
            low=i * width,
            high=(i + 1) * width,
            count=len(group),
            mean_predicted=math.fsum(p for p, _ in group) / len(group) if group else 0.0,
            observed_rate=sum(1 for _, won in group if won) / len(group) if group else 0.0,
        )
        for i, group in enumerate(grouped)
    )
    brier = (
        math.fsum((p - (1.0 if won else 0.0)) ** 2 for p, won in predictions) / len(predictions)
        if predictions
        else 0.0
    )
    return Backtest(
        model=model,
        train_won=model.won,
        train_lost=model.lost,
        test_won=test_won,
        test_lost=len(predictions) - test_won,
        auc=auc(predictions),
        brier=brier,
        calibration=calibration,
    )
