"""Probabilistic matching: a Fellegi-Sunter match weight with m and u estimated without labels.

A :class:`ProbabilisticRule` compares several fields of two records, each at graded
*agreement levels* (:class:`Comparison`: exact after the normaliser, then similarity bands,
else disagreement; a blank value on either side is *null* and weighs nothing). Each level has
an ``m`` probability (how often true duplicates agree at that level) and a ``u`` probability
(how often two different people do); a pair's match weight is the prior log-odds plus, per
field, ``log2(m / u)`` of the level it reached. The pair matches when its match probability
reaches the rule's ``threshold``.

No labels are needed, as in Splink: :func:`fit` estimates ``u`` from a deterministic sample
of record pairs (almost all pairs are different people) and ``m`` and the prior by
expectation maximisation over the candidate pairs the blocking keys produce. Pure and
deterministic: the same records give the same model and the same matches. Every
:class:`ProbabilisticMatch` explains itself: each field's level and its contribution.

    model = fit(DEFAULT_PROBABILISTIC_RULE, records)
    for match in model.scan(records):
        print(match.explain())
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

import attrs
import jellyfish

from leadkit.duplicates.compiled import similarity
from leadkit.duplicates.matches import ConditionEvidence, RuleEvidence
from leadkit.duplicates.record_view import (
    DuplicateFieldKind,
    DuplicateRecord,
    Matchable,
    RecordRef,
    RecordType,
    distinct_records,
    duplicate_field_spec,
    duplicate_record,
)
from leadkit.duplicates.rules import (
    Condition,
    DuplicateRuleSet,
    Operator,
    Similarity,
    rule_normalizer,
)
from leadkit.errors import ConfigurationError, InvalidValue

__all__ = [
    "DEFAULT_PROBABILISTIC_RULE",
    "Comparison",
    "FieldWeight",
    "FittedRule",
    "LevelParameters",
    "ProbabilisticMatch",
    "ProbabilisticRule",
    "fit",
    "with_fitted_rule",
]


def _thresholds(value: Iterable[float]) -> tuple[float, ...]:
    levels = tuple(float(v) for v in value)
    if any(not 0 < v < 100 for v in levels) or list(levels) != sorted(levels, reverse=True):
        raise ConfigurationError(
            "comparison levels", "similarity bands must be descending, between 0 and 100"
        )
    return levels


@attrs.frozen
class Comparison:
    """One compared field and its agreement levels: ``exact`` (equal after the
    normaliser), one level per similarity band in ``bands`` (descending, 0-100, scored with
    ``algorithm``), then ``else``. A multi-valued field (``phones``) agrees exactly when any
    pair of values does. ``block`` makes the field's normalised values blocking keys.

    Raises ConfigurationError for an unknown field or normaliser, bands that are not
    descending within 0-100, or bands on a field that is not text.
    """

    field: str
    normalizer: str | None = None
    bands: tuple[float, ...] = attrs.field(default=(), converter=_thresholds)
    algorithm: Similarity = Similarity.JARO_WINKLER
    block: bool = False

    def __attrs_post_init__(self) -> None:
        spec = duplicate_field_spec(self.field)
        text = spec.kind in (DuplicateFieldKind.TEXT, DuplicateFieldKind.MULTI_TEXT)
        if self.bands and spec.kind is not DuplicateFieldKind.TEXT:
            raise ConfigurationError(f"comparison {self.field}", "bands need a text field")
        name = self.normalizer if self.normalizer is not None else spec.normalizer
        if name is not None and text:
            rule_normalizer(name)
        elif self.normalizer is not None:
            raise ConfigurationError(f"comparison {self.field}", "takes no normalizer")

    @property
    def levels(self) -> tuple[str, ...]:
        """The level labels, best first: ``exact``, ``>=92``..., ``else``."""
        return ("exact", *(f">={band:g}" for band in self.bands), "else")

    def reader(self) -> Callable[[DuplicateRecord], tuple[str, ...]]:
        """Reads the field's normalised, non-blank values from a record."""
        spec = duplicate_field_spec(self.field)
        name = self.normalizer if self.normalizer is not None else spec.normalizer
        normalize = rule_normalizer(name) if name is not None else None

        def read(record: DuplicateRecord) -> tuple[str, ...]:
            values = record.values(self.field)
            if normalize is None:
                return values
            return tuple(dict.fromkeys(v for v in map(normalize, values) if v))

        return read

    def level(self, a: tuple[str, ...], b: tuple[str, ...]) -> int | None:
        """The level index two value tuples reach (0 = exact); None when either is blank."""
        if not a or not b:
            return None
        if set(a) & set(b):
            return 0
        if self.bands:
            best = max(similarity(self.algorithm, x, y) for x in a for y in b)
            for index, band in enumerate(self.bands, start=1):
                if best >= band:
                    return index
        return len(self.bands) + 1


def _comparisons(value: Iterable[Comparison]) -> tuple[Comparison, ...]:
    found = tuple(value)
    if not found or not all(isinstance(c, Comparison) for c in found):
        raise ConfigurationError("probabilistic rule", "needs Comparison values")
    fields = [c.field for c in found]
    if len(set(fields)) != len(fields):
        raise ConfigurationError("probabilistic rule", "a field is compared twice")
    return found


def _probability(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ConfigurationError("probabilistic rule threshold", "must be between 0 and 1")
    return float(value)


@attrs.frozen
class ProbabilisticRule:
    """A Fellegi-Sunter rule: the compared fields, the match-probability ``threshold`` a
    pair must reach, whether the full name's phonetic codes block (``name_blocking``), the
    largest block compared (bigger ones are skipped as uninformative), the size of the
    sample ``u`` is estimated from, the EM iterations and the records it compares (of one
    ``record_type``, leads by default).

    Raises ConfigurationError for a blank name, no comparisons, a field compared twice, a
    threshold outside (0, 1) or non-positive sizes.
    """

    name: str
    comparisons: tuple[Comparison, ...] = attrs.field(converter=_comparisons)
    threshold: float = attrs.field(default=0.9, converter=_probability)
    name_blocking: bool = True
    max_block_size: int = 200
    u_sample: int = 50_000
    iterations: int = 40
    record_type: RecordType = RecordType.LEAD
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("probabilistic rule", "needs a name")
        if not isinstance(self.record_type, RecordType):
            raise ConfigurationError(f"probabilistic rule {self.name!r}", "needs a RecordType")
        for name in ("max_block_size", "u_sample", "iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"probabilistic rule {name}", "must be a positive int")


DEFAULT_PROBABILISTIC_RULE: Final = ProbabilisticRule(
    "lead-probabilistic",
    (
        Comparison(
            "full_name",
            normalizer="person_name_nicknames",
            bands=(92.0, 85.0),
            algorithm=Similarity.PERSON_NAME,
        ),
        Comparison("email", normalizer="personal_email", block=True),
        Comparison("mobile_phone", block=True),
        Comparison("company", bands=(90.0,), algorithm=Similarity.BEST_RATIO),
        Comparison("postal_code"),
    ),
    threshold=0.3,
)
"""A probabilistic rule for leads: the full name graded (nicknames, swaps, typos), the
personal e-mail (a shared ``info@`` is blank), the mobile phone, the company and the postal
code. Colleagues share a company, a switchboard, an e-mail domain and a city: Fellegi-Sunter
adds the fields' weights as if independent, so one field stands for the organisation
(company) and one for the place (postal code); shared-by-colleagues fields would count the
same evidence several times. The name bands and the threshold (a match probability of 0.3,
the best F1) were chosen on the generated set ``generate_leads(3000, seed=20240501)``;
``benchmarks/bench_probabilistic.py`` reports other seeds too."""


@attrs.frozen
class LevelParameters:
    """One comparison's estimated ``m`` and ``u`` per level (best level first)."""

    field: str
    levels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]

    def weight(self, level: int) -> float:
        """``log2(m / u)`` of ``level``."""
        return math.log2(self.m[level] / self.u[level])


@attrs.frozen
class FieldWeight:
    """One field's part of a match weight: the level reached (None: blank) and its weight."""

    field: str
    level: str | None
    weight: float


@attrs.frozen
class ProbabilisticMatch:
    """Two records, their match weight (prior included), probability and the fields'
    contributions."""

    record: RecordRef
    candidate: RecordRef
    weight: float
    probability: float
    contributions: tuple[FieldWeight, ...]

    def explain(self) -> str:
        """One line: the pair, the probability and each field's level and weight."""
        parts = ", ".join(
            f"{c.field} {c.level} {c.weight:+.1f}" for c in self.contributions if c.level
        )
        return (
            f"{self.record} ~ {self.candidate}: p={self.probability:.3f} "
            f"(weight {self.weight:+.1f}: {parts})"
        )


_Pattern = tuple[int | None, ...]
_PRIOR_FLOOR: Final = 1e-12


def _clamp(value: float) -> float:
    return min(max(value, _PRIOR_FLOOR), 1 - _PRIOR_FLOOR)


@attrs.frozen
class FittedRule:
    """A rule with its estimated parameters: the prior probability that a candidate pair is
    a match (``prior``), ``m``/``u`` per comparison and the EM iterations run."""

    rule: ProbabilisticRule
    prior: float
    parameters: tuple[LevelParameters, ...]
    iterations: int

    # As a rule of a DuplicateRuleSet (the optional rule kind) --------------------------------

    @property
    def name(self) -> str:
        """The rule's name (unique in a rule set)."""
        return self.rule.name

    @property
    def base_type(self) -> RecordType:
        """The type of the records checked (the rule's ``record_type``)."""
        return self.rule.record_type

    @property
    def matching_type(self) -> RecordType:
        """The type of the candidates (the same as ``base_type``)."""
        return self.rule.record_type

    @property
    def description(self) -> str:
        """The rule's description."""
        return self.rule.description

    @property
    def ignore_blank(self) -> bool:
        """True: a record without any blocking value has no candidates."""
        return True

    @property
    def exclude_inactive(self) -> bool:
        """True: in a scan, inactive records take no part."""
        return True

    @property
    def is_symmetric(self) -> bool:
        """True: the weight of (a, b) is the weight of (b, a)."""
        return True

    def describe(self) -> str:
        """One line: the compared fields and the threshold."""
        fields = ", ".join(c.field for c in self.rule.comparisons)
        return (
            f"{self.name}: Fellegi-Sunter over {fields}, match probability >= "
            f"{self.rule.threshold:g}"
        )

    def readers(self) -> tuple[Callable[[DuplicateRecord], tuple[str, ...]], ...]:
        """One reader per comparison: the field's normalised, non-blank values."""
        return tuple(c.reader() for c in self.rule.comparisons)

    def blocking_keys(self, record: DuplicateRecord) -> tuple[str, ...]:
        """The keys a record is blocked under (sorted): the normalised values of the
        ``block`` fields and, with ``name_blocking``, the name keys (the whole name's phonetic
        codes, and each name word's code with the company, postal code or a phone)."""
        keys: set[str] = set()
        for comparison, read in zip(self.rule.comparisons, self.readers(), strict=True):
            if comparison.block:
                keys.update(f"{comparison.field}:{v}" for v in read(record))
        if self.rule.name_blocking:
            keys.update(_name_keys(record))
        return tuple(sorted(keys))

    def evidence(
        self, a: Sequence[tuple[str, ...]], b: Sequence[tuple[str, ...]]
    ) -> RuleEvidence | None:
        """The evidence that two records (their comparison values, as :meth:`readers` read
        them) match: None below the threshold; else the score (the match probability times
        100) and, per compared field, the values, the level reached and its weight (a blank
        field: level ``blank``, weight 0)."""
        pattern = _vector(self.rule.comparisons, a, b)
        weight, parts = self._weights(pattern)
        probability = _sigmoid2(weight)
        if probability < self.rule.threshold:
            return None
        conditions = tuple(
            ConditionEvidence(
                _CONDITIONS[c.field],
                min(x, default=""),
                min(y, default=""),
                _band_similarity(c, level),
                level=part.level or "blank",
                weight=round(part.weight, 3),
            )
            for c, x, y, level, part in zip(
                self.rule.comparisons, a, b, pattern, parts, strict=True
            )
        )
        return RuleEvidence(self.name, round(probability * 100, 2), conditions)

    def _weights(self, pattern: _Pattern) -> tuple[float, tuple[FieldWeight, ...]]:
        total = math.log2(self.prior / (1 - self.prior))
        parts: list[FieldWeight] = []
        for level, params in zip(pattern, self.parameters, strict=True):
            if level is None:
                parts.append(FieldWeight(params.field, None, 0.0))
                continue
            weight = params.weight(level)
            total += weight
            parts.append(FieldWeight(params.field, params.levels[level], weight))
        return total, tuple(parts)

    def compare(self, a: Matchable, b: Matchable) -> ProbabilisticMatch:
        """The match weight of two records, explained."""
        left, right = duplicate_record(a), duplicate_record(b)
        readers = [c.reader() for c in self.rule.comparisons]
        pattern = _pattern(self.rule.comparisons, readers, left, right)
        weight, parts = self._weights(pattern)
        return ProbabilisticMatch(left.ref, right.ref, weight, _sigmoid2(weight), parts)

    def scan(self, records: Iterable[Matchable]) -> tuple[ProbabilisticMatch, ...]:
        """Every candidate pair among ``records`` whose probability reaches the rule's
        threshold, best first (ties by the pair). Raises InvalidValue for a record given
        twice."""
        views = _views(records)
        readers = [c.reader() for c in self.rule.comparisons]
        values = [[read(view) for read in readers] for view in views]
        found: list[ProbabilisticMatch] = []
        cache: dict[_Pattern, tuple[float, tuple[FieldWeight, ...]]] = {}
        for i, j in _candidate_pairs(self.rule, views, values):
            pattern = _vector(self.rule.comparisons, values[i], values[j])
            if pattern not in cache:
                cache[pattern] = self._weights(pattern)
            weight, parts = cache[pattern]
            probability = _sigmoid2(weight)
            if probability >= self.rule.threshold:
                a, b = sorted((views[i].ref, views[j].ref))
                found.append(ProbabilisticMatch(a, b, weight, probability, parts))
        found.sort(key=lambda m: (-m.weight, m.record, m.candidate))
        return tuple(found)


class _Conditions(dict[str, Condition]):
    """The condition an explanation names for a compared field (built once per field)."""

    def __missing__(self, field: str) -> Condition:
        made = self[field] = Condition(operator=Operator.EXACT, base_field=field)
        return made


_CONDITIONS: Final = _Conditions()


def _band_similarity(comparison: Comparison, level: int | None) -> float:
    """The similarity an evidence shows: 100 for exact, the band's floor, else 0."""
    if level is None:
        return 0.0
    if level == 0:
        return 100.0
    if level <= len(comparison.bands):
        return comparison.bands[level - 1]
    return 0.0


def _sigmoid2(weight: float) -> float:
    if weight > 60:
        return 1.0
    odds: float = math.pow(2.0, weight)
    return odds / (1 + odds)


def _views(records: Iterable[Matchable]) -> list[DuplicateRecord]:
    views = distinct_records(records)
    views.sort(key=lambda v: v.ref)
    return views


def _vector(
    comparisons: Sequence[Comparison], a: Sequence[tuple[str, ...]], b: Sequence[tuple[str, ...]]
) -> _Pattern:
    return tuple(c.level(x, y) for c, x, y in zip(comparisons, a, b, strict=True))


def _pattern(
    comparisons: Sequence[Comparison],
    readers: Sequence[Callable[[DuplicateRecord], tuple[str, ...]]],
    a: DuplicateRecord,
    b: DuplicateRecord,
) -> _Pattern:
    return _vector(comparisons, [r(a) for r in readers], [r(b) for r in readers])


_NAME_NORMALIZER: Final = rule_normalizer("person_name_nicknames")


_COMPANY_NORMALIZER: Final = rule_normalizer("company")


def _name_keys(record: DuplicateRecord, *, context: bool = True) -> set[str]:
    """The name blocking keys: the sorted phonetic codes of the whole name, and each name
    word's code together with the company, the postal code or a phone (a typo in one word,
    an initial or a middle name still leaves another word and the context to meet on)."""
    words = [w for w in _NAME_NORMALIZER(record.full_name).split() if w]
    if not words:
        return set()
    codes = sorted({jellyfish.metaphone(w) for w in words} - {""})
    keys = {"name:" + " ".join(codes)}
    if not context:
        return keys
    around = [
        f"c={_COMPANY_NORMALIZER(record.company)}" if record.company else "",
        f"z={record.postal_code.replace(' ', '').casefold()}" if record.postal_code else "",
        *(f"p={phone}" for phone in record.phones),
    ]
    for code in codes:
        keys.update(f"word:{code}|{c}" for c in around if c and c not in ("c=", "z="))
    return keys


def _candidate_pairs(
    rule: ProbabilisticRule,
    views: Sequence[DuplicateRecord],
    values: Sequence[Sequence[tuple[str, ...]]],
    *,
    context: bool = True,
) -> list[tuple[int, int]]:
    """Pairs (i < j) sharing a blocking key, from blocks no bigger than the rule allows."""
    blocks: dict[str, list[int]] = {}
    for index, view in enumerate(views):
        keys: set[str] = set()
        for position, comparison in enumerate(rule.comparisons):
            if comparison.block:
                keys.update(f"{comparison.field}:{v}" for v in values[index][position])
        if rule.name_blocking:
            keys.update(_name_keys(view, context=context))
        for key in keys:
            blocks.setdefault(key, []).append(index)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if 1 < len(members) <= rule.max_block_size:
            for n, i in enumerate(members):
                for j in members[n + 1 :]:
                    pairs.add((i, j))
    return sorted(pairs)


def _sample_pairs(size: int, count: int) -> list[tuple[int, int]]:
    """A deterministic spread of distinct pairs (a multiplicative walk, no randomness)."""
    if size < 2:
        return []
    pairs: set[tuple[int, int]] = set()
    total = size * (size - 1) // 2
    wanted = min(count, total)
    step = 7919
    n = 0
    while len(pairs) < wanted and n < wanted * 4:
        i = (n * step) % size
        j = (n * 104_729 + n // size + 1) % size
        n += 1
        if i != j:
            pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def fit(rule: ProbabilisticRule, records: Iterable[Matchable]) -> FittedRule:
    """Estimate the rule's parameters from unlabelled records. Pure and deterministic.

    As Splink does: ``u`` comes from a deterministic sample of record pairs (almost all are
    different people); ``m`` comes from expectation maximisation over the candidate pairs of
    each training blocking (the full name's phonetic key; the ``block`` fields), each session
    leaving out the fields it blocked on (they agree by construction there), so that every
    field's ``m`` is learnt from pairs that did not have to agree on it. The prior is the
    share of all pairs that match, solved over the candidate pairs.

    Raises InvalidValue for fewer than two records or a record given twice.
    """
    views = _views(records)
    if len(views) < 2:
        raise InvalidValue("records", len(views), "at least two records are needed")
    comparisons = rule.comparisons
    readers = [c.reader() for c in comparisons]
    values = [[read(view) for read in readers] for view in views]
    sizes = [len(c.levels) for c in comparisons]

    u_counts = [[1.0] * k for k in sizes]  # Laplace smoothing: no level has u = 0
    for i, j in _sample_pairs(len(views), rule.u_sample):
        for f, level in enumerate(_vector(comparisons, values[i], values[j])):
            if level is not None:
                u_counts[f][level] += 1
    u = [tuple(c / sum(counts) for c in counts) for counts in u_counts]

    blocked_fields = [f for f, c in enumerate(comparisons) if c.block]
    sessions: list[tuple[list[tuple[int, int]], frozenset[int]]] = []
    if rule.name_blocking:
        names = [f for f, c in enumerate(comparisons) if c.field == "full_name"]
        sessions.append((_blocked_pairs(rule, views, values, (), True), frozenset(names)))
    for f in blocked_fields:
        sessions.append((_blocked_pairs(rule, views, values, (f,), False), frozenset({f})))

    learnt: list[list[tuple[float, ...]]] = [[] for _ in comparisons]
    done = 0
    for pairs, left_out in sessions:
        patterns = Counter(_vector(comparisons, values[i], values[j]) for i, j in pairs)
        if not patterns:
            continue
        m, steps = _em(patterns, [tuple(_initial_m(k)) for k in sizes], u, left_out, rule)
        done += steps
        for f in range(len(comparisons)):
            if f not in left_out:
                learnt[f].append(m[f])
    m_final = [
        tuple(sum(col) / len(found) for col in zip(*found, strict=True))
        if found
        else tuple(_initial_m(sizes[f]))
        for f, found in enumerate(learnt)
    ]
    parameters = tuple(
        LevelParameters(c.field, c.levels, m_final[f], u[f]) for f, c in enumerate(comparisons)
    )
    candidates = Counter(
        _vector(comparisons, values[i], values[j]) for i, j in _candidate_pairs(rule, views, values)
    )
    all_pairs = len(views) * (len(views) - 1) / 2
    prior = _global_prior(candidates, parameters, all_pairs)
    return FittedRule(rule, prior, parameters, done)


def _blocked_pairs(
    rule: ProbabilisticRule,
    views: Sequence[DuplicateRecord],
    values: Sequence[Sequence[tuple[str, ...]]],
    fields: Sequence[int],
    by_name: bool,
) -> list[tuple[int, int]]:
    one = attrs.evolve(
        rule,
        comparisons=tuple(
            attrs.evolve(c, block=f in fields) for f, c in enumerate(rule.comparisons)
        ),
        name_blocking=by_name,
    )
    # Training sessions block on the whole name only: the context keys bring colleagues in,
    # whose agreement on the organisation would teach the model that colleagues match.
    return _candidate_pairs(one, views, values, context=False)


def _initial_m(levels: int) -> list[float]:
    raw = [0.9 * (0.2**n) for n in range(levels - 1)] + [0.05]
    total = sum(raw)
    return [x / total for x in raw]


def _log_odds(
    pattern: _Pattern,
    m: Sequence[Sequence[float]],
    u: Sequence[Sequence[float]],
    left_out: frozenset[int],
) -> float:
    total = 0.0
    for f, level in enumerate(pattern):
        if level is not None and f not in left_out:
            total += math.log(m[f][level] / u[f][level])
    return total


def _logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(value, 700.0), -700.0)))


def _em(
    patterns: Mapping[_Pattern, int],
    m: list[tuple[float, ...]],
    u: Sequence[Sequence[float]],
    left_out: frozenset[int],
    rule: ProbabilisticRule,
) -> tuple[list[tuple[float, ...]], int]:
    """EM over one session's comparison patterns: ``m`` and the session's prior move, ``u``
    stays; the fields in ``left_out`` take no part. Returns ``m`` and the steps run."""
    prior = 0.5
    steps = 0
    for steps in range(1, rule.iterations + 1):  # noqa: B007 - the count is returned
        m_counts = [[1e-3] * len(level_m) for level_m in m]  # smoothing: every m positive
        matched = 0.0
        total = 0
        base = math.log(prior / (1 - prior))
        for pattern, count in patterns.items():
            p = _logistic(base + _log_odds(pattern, m, u, left_out))
            matched += p * count
            total += count
            for f, level in enumerate(pattern):
                if level is not None:
                    m_counts[f][level] += p * count
        new_m = [tuple(c / sum(counts) for c in counts) for counts in m_counts]
        new_prior = _clamp(matched / total)
        change = abs(new_prior - prior) + max(
            abs(a - b)
            for old, new in zip(m, new_m, strict=True)
            for a, b in zip(old, new, strict=True)
        )
        m, prior = new_m, new_prior
        if change < 1e-9:
            break
    return m, steps


def _global_prior(
    patterns: Mapping[_Pattern, int], parameters: Sequence[LevelParameters], all_pairs: float
) -> float:
    """The share of all record pairs that match: the fixed point of "expected matches among
    the candidate pairs / all pairs" (the pairs outside the candidates are taken as
    non-matches)."""
    m = [p.m for p in parameters]
    u = [p.u for p in parameters]
    prior = _clamp(1.0 / max(all_pairs, 1.0))
    for _ in range(100):
        base = math.log(prior / (1 - prior))
        expected = sum(
            _logistic(base + _log_odds(pattern, m, u, frozenset())) * count
            for pattern, count in patterns.items()
        )
        new = _clamp(expected / max(all_pairs, 1.0))
        if abs(new - prior) < 1e-12:
            return new
        prior = new
    return prior


def with_fitted_rule(
    rule_set: DuplicateRuleSet,
    records: Iterable[Matchable],
    rule: ProbabilisticRule = DEFAULT_PROBABILISTIC_RULE,
) -> DuplicateRuleSet:
    """``rule_set`` with ``rule`` fitted on ``records`` added (``rule_set`` itself when there
    are fewer than two records to fit on). Pure and deterministic.

    Raises InvalidValue for a record given twice, ConfigurationError when ``rule_set``
    already has a rule of that name.
    """
    views = _views(records)
    if len(views) < 2:
        return rule_set
    return attrs.evolve(rule_set, rules=(*rule_set.rules, fit(rule, views)))
