"""Rule sets compiled for speed: normalised features, blocking keys and rule evaluation.

Internal to the duplicate engine (the index and the engine share it); the public face is
:mod:`leadkit.duplicates.index` and :mod:`leadkit.duplicates.engine`.

A record is *prepared* once per rule set: every (field, normaliser) pair the rules read is
normalised into a tuple of distinct, non-blank values. Conditions then compare prepared
values, and blocking keys are made from them, so nothing is normalised twice.

A blocking key is ``<namespace><value>``. The namespace names the matching record type, the
matching field, the normaliser and the key method (``lead|email|personal_email|=|``): two
conditions that would produce the same keys share them, and keys of unrelated conditions never
collide. A stored record is indexed under the keys of the conditions that may match it; a
record being checked looks up the keys made from its base fields in the same namespaces.

A rule of several conditions also gets *compound* keys: one per combination of a key of each
condition (``&`` + a 64-bit BLAKE2b digest of the condition keys joined by ``\x1f``), so
that its block holds only the records that share a key in every condition (a name at a
company, not every lead at the company). A record whose combinations would exceed
:data:`MAX_COMPOUND_KEYS` is indexed under the rule's overflow key instead, which every
compound lookup of the rule also reads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from itertools import permutations
from typing import Final, cast

import attrs
import jellyfish
from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, Jaro, JaroWinkler, Levenshtein

from leadkit.duplicates.matches import ConditionEvidence, RuleEvidence
from leadkit.duplicates.record_view import (
    FIELDS,
    DuplicateFieldKind,
    DuplicateRecord,
    RecordRef,
    RecordType,
    duplicate_field_spec,
)
from leadkit.duplicates.rules import (
    Blocking,
    BlockingMethod,
    Condition,
    DuplicateRule,
    DuplicateRuleSet,
    Operator,
    Phonetic,
    Similarity,
    WeightedRule,
    rule_normalizer,
)

__all__ = [
    "KEY_FORMAT_VERSION",
    "MAX_COMPOUND_KEYS",
    "CompiledCondition",
    "CompiledRule",
    "CompiledRuleSet",
    "Prepared",
    "compile_rule_set",
    "person_name_similarity",
    "phonetic_code",
    "similarity",
    "sort_evidence",
    "word_similarity",
]

KEY_FORMAT_VERSION: Final = 3
"""The version of the blocking keys' form and normalisation: bump it whenever a change to this
module (or to the normalisers it calls) gives a record other keys, so that persisted keys are
rebuilt (it is part of ``EngineDuplicateCheck.fingerprint``). 3: the SQL key store keeps each
record's normalised values with its keys (``duplicate_values``)."""

MAX_COMPOUND_KEYS: Final = 32
"""The most compound keys one record gets per rule; beyond, it takes the rule's overflow key."""

_JOIN: Final = "\x1f"

Values = tuple[str, ...]
Outcome = tuple[float, str, str] | None
Scorer = Callable[[str, str, float], float]


# --------------------------------------------------------------------------------------------
# Similarity and phonetic codes
# --------------------------------------------------------------------------------------------


def _sorted_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def _jw(a: str, b: str, cutoff: float) -> float:
    return float(JaroWinkler.normalized_similarity(a, b, score_cutoff=cutoff / 100) * 100)


def word_similarity(a: str, b: str) -> float:
    """How alike two words of a name are, 0-100: equal 100; an initial of the other 90;
    otherwise Jaro-Winkler."""
    if a == b:
        return 100.0
    if len(a) == 1 or len(b) == 1:
        return 90.0 if a[0] == b[0] else 0.0
    return float(JaroWinkler.normalized_similarity(a, b) * 100)


def person_name_similarity(a: str, b: str, cutoff: float = 0.0) -> float:
    """Every word of the shorter name is paired with a different word of the longer one (in
    any order); the score is that of the weakest pair, for the best pairing. Extra words of
    the longer name (a middle name) are ignored. 0 when either name is blank."""
    if a == b:
        return 100.0 if a else 0.0
    words_a, words_b = a.split(), b.split()
    if not words_a or not words_b:
        return 0.0
    if len(words_a) > len(words_b):
        words_a, words_b = words_b, words_a
    if len(words_a) == 1:
        return max(word_similarity(words_a[0], y) for y in words_b)
    if len(words_a) == 2 and len(words_b) == 2:
        # The common case, without the general search; a pairing whose first pair already
        # scores below the cutoff is not finished.
        (x1, x2), (y1, y2) = words_a, words_b
        best = 0.0
        first = word_similarity(x1, y1)
        if first >= cutoff:
            best = min(first, word_similarity(x2, y2))
        if best < 100.0:
            crossed = word_similarity(x1, y2)
            if crossed >= cutoff and crossed > best:
                best = max(best, min(crossed, word_similarity(x2, y1)))
        return best
    grid = [[word_similarity(x, y) for y in words_b] for x in words_a]
    if len(words_b) > 5:  # long names: pair greedily, best pairs first
        pairs = sorted(
            ((grid[i][j], i, j) for i in range(len(words_a)) for j in range(len(words_b))),
            reverse=True,
        )
        used_a: set[int] = set()
        used_b: set[int] = set()
        weakest = 100.0
        for score, i, j in pairs:
            if i not in used_a and j not in used_b:
                used_a.add(i)
                used_b.add(j)
                weakest = min(weakest, score)
        return weakest
    best = 0.0
    for chosen in permutations(range(len(words_b)), len(words_a)):
        weakest = min(grid[i][j] for i, j in enumerate(chosen))
        best = max(best, weakest)
    return best


_SCORERS: Final[Mapping[Similarity, Scorer]] = {
    Similarity.RATIO: lambda a, b, c: fuzz.ratio(a, b, score_cutoff=c),
    Similarity.PERSON_NAME: person_name_similarity,
    Similarity.BEST_RATIO: lambda a, b, c: max(
        fuzz.ratio(a, b, score_cutoff=c), fuzz.token_sort_ratio(a, b, score_cutoff=c)
    ),
    Similarity.PARTIAL_RATIO: lambda a, b, c: fuzz.partial_ratio(a, b, score_cutoff=c),
    Similarity.TOKEN_SORT_RATIO: lambda a, b, c: fuzz.token_sort_ratio(a, b, score_cutoff=c),
    Similarity.TOKEN_SET_RATIO: lambda a, b, c: fuzz.token_set_ratio(a, b, score_cutoff=c),
    Similarity.WRATIO: lambda a, b, c: fuzz.WRatio(a, b, score_cutoff=c),
    Similarity.QRATIO: lambda a, b, c: fuzz.QRatio(a, b, score_cutoff=c),
    Similarity.JARO: lambda a, b, c: float(
        Jaro.normalized_similarity(a, b, score_cutoff=c / 100) * 100
    ),
    Similarity.JARO_WINKLER: _jw,
    Similarity.TOKEN_SORT_JARO_WINKLER: lambda a, b, c: _jw(
        _sorted_tokens(a), _sorted_tokens(b), c
    ),
    Similarity.LEVENSHTEIN: lambda a, b, c: float(
        Levenshtein.normalized_similarity(a, b, score_cutoff=c / 100) * 100
    ),
    Similarity.DAMERAU_LEVENSHTEIN: lambda a, b, c: float(
        DamerauLevenshtein.normalized_similarity(a, b, score_cutoff=c / 100) * 100
    ),
}


def similarity(algorithm: Similarity, a: str, b: str) -> float:
    """The similarity of two texts with ``algorithm``, 0-100."""
    return float(_SCORERS[algorithm](a, b, 0.0))


_PHONETIC: Final[Mapping[Phonetic, Callable[[str], str]]] = {
    Phonetic.SOUNDEX: jellyfish.soundex,
    Phonetic.METAPHONE: jellyfish.metaphone,
    Phonetic.NYSIIS: jellyfish.nysiis,
    Phonetic.MATCH_RATING: jellyfish.match_rating_codex,
}


def _word_code(algorithm: Phonetic, word: str) -> str:
    try:
        code = _PHONETIC[algorithm](word)
    except ValueError:  # match rating accepts letters only
        code = ""
    # Digits and scripts the algorithm does not know give no code: keep the word itself.
    return code.replace(" ", "") if code.strip() else f"#{word}"


def phonetic_code(algorithm: Phonetic, text: str) -> str:
    """The phonetic codes of the words of ``text``, sorted and joined by spaces
    (``"anna berg"`` -> ``"AN BRK"`` with metaphone). Blank text gives ``""``."""
    return " ".join(sorted(_word_code(algorithm, word) for word in text.split()))


# --------------------------------------------------------------------------------------------
# Features: (field, normaliser) pairs, normalised once per record
# --------------------------------------------------------------------------------------------

_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")

_NORMALIZED_CACHE: Final = 1 << 14
"""Normalised texts each feature of a compiled rule set remembers (names, companies and
domains repeat; e-mail addresses hardly): enough for the distinct values of a big batch."""


def _feature_normalizer(normalizer: str, case_sensitive: bool) -> Callable[[str], str]:
    normalize = rule_normalizer(normalizer, case_sensitive=case_sensitive)
    if normalizer != "phone":
        # Company names, given names and domains repeat across records: remember the
        # latest results (per compiled rule set, bounded).
        return lru_cache(maxsize=_NORMALIZED_CACHE)(normalize)

    def phone(text: str) -> str:
        # The view already holds E.164 (PhoneNumber.e164), which normalize_phone returns
        # unchanged; parsing it again costs 60 us per number.
        return text if _E164.fullmatch(text) else normalize(text)

    return phone


Feature = tuple[str, str | None, bool]  # field, normaliser, case-sensitive


def _feature_reader(feature: Feature) -> Callable[[DuplicateRecord], Values]:
    field, normalizer, case_sensitive = feature
    kind = duplicate_field_spec(field).kind
    if field not in FIELDS:  # a custom field: read through the view, then normalise
        normalize_custom = (
            _feature_normalizer(normalizer, case_sensitive) if normalizer is not None else None
        )

        def custom(record: DuplicateRecord) -> Values:
            found = record.values(field)
            if normalize_custom is None:
                return found
            normalized = tuple(v for v in (normalize_custom(x) for x in found) if v)
            return normalized

        return custom
    if kind not in (DuplicateFieldKind.TEXT, DuplicateFieldKind.MULTI_TEXT):

        def raw(record: DuplicateRecord) -> Values:
            return record.values(field)

        return raw
    assert normalizer is not None
    normalize = _feature_normalizer(normalizer, case_sensitive)
    if kind is DuplicateFieldKind.TEXT:

        def one(record: DuplicateRecord) -> Values:
            value: str = getattr(record, field)
            if not value:
                return ()
            normalized = normalize(value)
            return (normalized,) if normalized else ()

        return one

    def many(record: DuplicateRecord) -> Values:
        found = {normalize(value) for value in getattr(record, field)}
        found.discard("")
        return tuple(sorted(found))

    return many


@attrs.frozen
class Prepared:
    """A record's reference, active flag and normalised feature values for one rule set."""

    ref: RecordRef
    active: bool
    values: tuple[Values, ...]


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------


def _exact(a: Values, b: Values) -> Outcome:
    if len(a) == 1 and len(b) == 1:
        return (100.0, a[0], b[0]) if a[0] == b[0] else None
    common = set(a).intersection(b)
    if not common:
        return None
    value = min(common)
    return (100.0, value, value)


def _by_key(key: Callable[[str], str]) -> Callable[[Values, Values], Outcome]:
    def compare(a: Values, b: Values) -> Outcome:
        best: tuple[str, str] | None = None
        for x in a:
            kx = key(x)
            for y in b:
                if kx == key(y) and (best is None or (x, y) < best):
                    best = (x, y)
        return None if best is None else (100.0, best[0], best[1])

    return compare


def _similar(scorer: Scorer, threshold: float) -> Callable[[Values, Values], Outcome]:
    def compare(a: Values, b: Values) -> Outcome:
        if len(a) == 1 and len(b) == 1:
            score = scorer(a[0], b[0], threshold)
            return (round(score, 2), a[0], b[0]) if score >= threshold else None
        best: tuple[float, str, str] | None = None
        for x in a:
            for y in b:
                score = scorer(x, y, threshold)
                if score >= threshold and (best is None or score > best[0]):
                    best = (score, x, y)
        return None if best is None else (round(best[0], 2), best[1], best[2])

    return compare


def _key_function(condition: Condition) -> Callable[[str], str]:
    op = condition.operator
    n = condition.n or 0
    if op is Operator.SAME_FIRST_CHARACTERS:
        return lambda v: v[:n]
    if op is Operator.SAME_LAST_CHARACTERS:
        return lambda v: v[-n:]
    if op is Operator.SAME_DATE:
        return lambda v: v[:10]
    if op is Operator.SOUNDS_LIKE:
        assert condition.phonetic is not None
        algorithm = condition.phonetic
        return lambda v: phonetic_code(algorithm, v)
    return lambda v: v


def _blocking_keys(blocking: Blocking) -> Callable[[str], list[str]]:
    method, n, tag = blocking.method, blocking.n or 0, blocking.tag + ":"
    if method is BlockingMethod.VALUE:
        return lambda v: [tag + v]
    if method is BlockingMethod.PREFIX:
        return lambda v: [tag + v[:n]]
    if method is BlockingMethod.TOKENS:
        return lambda v: [tag + t for t in v.split()]
    if method is BlockingMethod.SORTED_TOKENS:
        return lambda v: [tag + _sorted_tokens(v)]
    if method is BlockingMethod.TOKEN_PREFIXES:
        return lambda v: [tag + t[:n] for t in v.split()]
    assert blocking.phonetic is not None
    algorithm = blocking.phonetic

    @lru_cache(maxsize=1 << 16)
    def code(word: str) -> str:
        return _word_code(algorithm, word)

    return lambda v: [tag + code(t) for t in v.split()]


_OP_TAGS: Final[Mapping[Operator, str]] = {
    Operator.EXACT: "=",
    Operator.SAME_OPTION: "=",
    Operator.SAME_FIRST_CHARACTERS: "^",
    Operator.SAME_LAST_CHARACTERS: "$",
    Operator.SAME_DATE: "date",
    Operator.SAME_DATE_AND_TIME: "time",
    Operator.SOUNDS_LIKE: "~",
    Operator.SIMILAR: "sim",
}
# Cheap conditions are checked first; the evidence keeps the rule's own order.
_COST: Final[Mapping[Operator, int]] = {
    Operator.EXACT: 0,
    Operator.SAME_OPTION: 0,
    Operator.SAME_DATE: 1,
    Operator.SAME_DATE_AND_TIME: 1,
    Operator.SAME_FIRST_CHARACTERS: 1,
    Operator.SAME_LAST_CHARACTERS: 1,
    Operator.SIMILAR: 2,
    Operator.SOUNDS_LIKE: 3,
}


_CACHE_SIZE: Final = 1 << 13
"""Values whose keys a compiled condition remembers (names, companies and domains repeat);
a full cache starts over. A bound on its memory, as :data:`_COMBINATION_CACHE` is."""

_COMBINATION_CACHE: Final = 1 << 12
"""Combinations of values whose compound keys a compiled rule remembers: mostly one person's
(looked up, then indexed), so about a batch of them; a full cache starts over."""


def _compound_key(joined: str) -> str:
    """``&`` and 16 hex digits of BLAKE2b of the joined condition keys: short in memory and
    in a key table, the same in every process. Two combinations sharing a digest (one in
    2**64) only make a pair a candidate; the rule still decides."""
    digest = hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=8)
    return "&" + digest.hexdigest()


def _remember(cache: dict[Values, tuple[str, ...]], values: Values, keys: tuple[str, ...]) -> None:
    """Keep the keys of ``values`` (names and companies repeat); a full cache starts over."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[values] = keys


@attrs.frozen
class CompiledCondition:
    """A condition with its feature positions, comparison and key functions."""

    condition: Condition | None  # None: a probabilistic rule's blocking keys
    base: int
    matching: int
    namespace: str
    compare: Callable[[Values, Values], Outcome]
    key_values: Callable[[str], list[str]]
    _keys: dict[Values, tuple[str, ...]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )
    _compound: dict[Values, tuple[str, ...]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    def keys(self, values: Values) -> list[str]:
        """The blocking keys of ``values`` (a record's values of one side's field)."""
        found = self._keys.get(values)
        if found is None:
            namespace, key_values = self.namespace, self.key_values
            found = tuple(namespace + key for value in values for key in key_values(value))
            _remember(self._keys, values, found)
        return list(found)

    def compound_keys(self, values: Values) -> tuple[str, ...]:
        """The keys of ``values`` in a rule's compound keys: :meth:`keys`, plus for a
        similarity condition the first letter of each word (distinct, in order)."""
        found = self._compound.get(values)
        if found is None:
            keys = self.keys(values)
            condition = self.condition
            if condition is not None and condition.operator is Operator.SIMILAR:
                namespace = self.namespace + "1:"
                keys += [namespace + word[0] for value in values for word in value.split()]
            found = tuple(dict.fromkeys(keys))
            _remember(self._compound, values, found)
        return found

    @property
    def blank_key(self) -> str:
        """The key blank values share when a rule does not ignore blanks."""
        return self.namespace


def _compile_condition(
    condition: Condition, rule: DuplicateRule, features: dict[Feature, int]
) -> CompiledCondition:
    def position(field: str) -> int:
        feature = (field, condition.normalizer, condition.case_sensitive)
        return features.setdefault(feature, len(features))

    op = condition.operator
    tag = _OP_TAGS[op]
    if op in (Operator.SAME_FIRST_CHARACTERS, Operator.SAME_LAST_CHARACTERS):
        tag += str(condition.n)
    elif op is Operator.SOUNDS_LIKE:
        assert condition.phonetic is not None
        tag += condition.phonetic.value
    sensitivity = "|cs" if condition.case_sensitive else ""
    namespace = (
        f"{rule.matching_type.value}|{condition.matching_field}|"
        f"{condition.normalizer or ''}{sensitivity}|{tag}|"
    )
    if op is Operator.SIMILAR:
        assert condition.algorithm is not None
        assert condition.threshold is not None
        compare = _similar(_SCORERS[condition.algorithm], condition.threshold)
        makers = [_blocking_keys(b) for b in condition.blocking]

        def key_values(value: str) -> list[str]:
            return [key for make in makers for key in make(value)]

    else:
        key = _key_function(condition)
        compare = _exact if op in (Operator.EXACT, Operator.SAME_OPTION) else _by_key(key)

        def key_values(value: str) -> list[str]:
            return [key(value)]

    return CompiledCondition(
        condition=condition,
        base=position(condition.base_field),
        matching=position(condition.matching_field),
        namespace=namespace,
        compare=compare,
        key_values=key_values,
    )


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


@attrs.frozen
class CompiledRule:
    """A rule with its compiled conditions and the order in which to check them."""

    rule: DuplicateRule | WeightedRule
    conditions: tuple[CompiledCondition, ...]
    order: tuple[int, ...]
    symmetric: bool
    # A probabilistic rule: the feature positions of its comparisons' values (``conditions``
    # then holds one condition, its blocking keys, whose candidates are their union).
    compared: tuple[int, ...] | None = None
    compound: bool = True
    _compound_cache: dict[tuple[Values, ...], tuple[str, ...] | None] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    @property
    def overflow_key(self) -> str:
        """The key of records with more than :data:`MAX_COMPOUND_KEYS` combinations."""
        return "&*" + _JOIN.join(c.namespace for c in self.conditions)

    def compound_keys(self, record: Prepared, *, matching: bool) -> list[str] | None:
        """The compound keys of ``record`` (as the matching record, or as the base record
        looking up): one per combination of a key of each condition, a similarity
        condition contributing its blocking keys and the first letter of each word (so that
        "M. Vrunnmann" and "Michael Brunnmann" meet). None for a rule of one condition, a
        blank value the rule ignores, or more than :data:`MAX_COMPOUND_KEYS` combinations."""
        if not self.compound or len(self.conditions) < 2:
            return None
        parts = tuple(record.values[c.matching if matching else c.base] for c in self.conditions)
        cache = self._compound_cache
        if parts in cache:
            known = cache[parts]
            return None if known is None else list(known)
        made = self._combine(parts)
        if len(cache) >= _COMBINATION_CACHE:
            cache.clear()
        cache[parts] = None if made is None else tuple(made)
        return made

    def condition_key_lists(self, parts: Sequence[Values]) -> list[Sequence[str]] | None:
        """The keys each condition contributes to the compound keys of ``parts`` (one value
        tuple per condition): a blank value's key where the rule matches blanks. None for a
        blank value the rule ignores or more than :data:`MAX_COMPOUND_KEYS` combinations."""
        lists: list[Sequence[str]] = []
        total = 1
        for compiled, values in zip(self.conditions, parts, strict=True):
            keys: Sequence[str]
            if values:
                keys = compiled.compound_keys(values)
            elif self.rule.ignore_blank:
                return None
            else:
                keys = (compiled.blank_key,)
            total *= len(keys)
            if total > MAX_COMPOUND_KEYS:
                return None
            lists.append(keys)
        return lists

    def _combine(self, parts: tuple[Values, ...]) -> list[str] | None:
        lists = self.condition_key_lists(parts)
        if lists is None:
            return None
        found = [""]
        for condition_keys in lists:
            found = [f"{head}{_JOIN}{key}" for head in found for key in condition_keys]
        return [_compound_key(key[1:]) for key in found]

    def cannot_match(self, record: Prepared) -> bool:
        """True when a blank value of ``record`` (as the matching record) means the rule
        cannot match it."""
        if not self.rule.ignore_blank:
            return False
        return any(not record.values[c.matching] for c in self.conditions)

    def query_keys(self, record: Prepared) -> list[list[str]] | None:
        """Per condition, the keys to look up for ``record`` as the base record; None when a
        blank value means the rule cannot match it."""
        found: list[list[str]] = []
        for compiled in self.conditions:
            values = record.values[compiled.base]
            if values:
                found.append(compiled.keys(values))
            elif self.rule.ignore_blank:
                return None
            else:
                found.append([compiled.blank_key])
        return found

    def evaluate(self, base: Prepared, matching: Prepared) -> RuleEvidence | None:
        """The evidence that ``matching`` is a duplicate of ``base`` under this rule, or None.

        Does not look at record types or the active flag: the caller picks the candidates.
        """
        if self.compared is not None:
            weighted = cast(WeightedRule, self.rule)
            found = weighted.evidence(
                [base.values[i] for i in self.compared],
                [matching.values[i] for i in self.compared],
            )
            return cast(RuleEvidence | None, found)
        outcomes: list[tuple[float, str, str]] = [(0.0, "", "")] * len(self.conditions)
        for i in self.order:
            compiled = self.conditions[i]
            a, b = base.values[compiled.base], matching.values[compiled.matching]
            if not a or not b:
                if a or b or self.rule.ignore_blank:
                    return None
                outcomes[i] = (100.0, "", "")
                continue
            outcome = compiled.compare(a, b)
            if outcome is None:
                return None
            outcomes[i] = outcome
        evidence = tuple(
            ConditionEvidence(c.condition, base_value, matching_value, score)  # type: ignore[arg-type]
            for c, (score, base_value, matching_value) in zip(
                self.conditions, outcomes, strict=True
            )
        )
        score = round(sum(o[0] for o in outcomes) / len(outcomes), 2)
        return RuleEvidence(self.rule.name, score, evidence)


def _compile_probabilistic(
    rule: WeightedRule,
    features: dict[Feature, int],
    custom: dict[Feature, Callable[[DuplicateRecord], Values]],
) -> CompiledRule:
    """A probabilistic rule as a compiled rule: its comparisons' values and its blocking keys
    are features of their own (read by the rule, keyed by the rule's name), and its one
    condition looks its keys up as alternatives (the candidates are their union)."""

    def position(tag: str, read: Callable[[DuplicateRecord], Values]) -> int:
        feature = (f"\x00{rule.name}|{tag}", None, False)
        custom[feature] = read
        return features.setdefault(feature, len(features))

    compared = tuple(position(str(n), read) for n, read in enumerate(rule.readers()))
    keys = position("keys", rule.blocking_keys)
    blocking = CompiledCondition(
        condition=None,
        base=keys,
        matching=keys,
        namespace=f"{rule.matching_type.value}|~{rule.name}|",
        compare=_exact,
        key_values=lambda value: [value],
    )
    return CompiledRule(rule, (blocking,), (0,), True, compared)


def _compile_rule(
    rule: DuplicateRule,
    features: dict[Feature, int],
    compound: bool,
    shared: dict[tuple[Condition, RecordType], CompiledCondition],
) -> CompiledRule:
    """The compiled rule; a condition that an earlier rule against the same matching type
    holds too is the same compiled condition (its keys, and their caches, made once)."""
    conditions: list[CompiledCondition] = []
    for condition in rule.conditions:
        made = shared.get((condition, rule.matching_type))
        if made is None:
            made = _compile_condition(condition, rule, features)
            shared[condition, rule.matching_type] = made
        conditions.append(made)
    order = tuple(
        sorted(range(len(conditions)), key=lambda i: (_COST[rule.conditions[i].operator], i))
    )
    return CompiledRule(rule, tuple(conditions), order, rule.is_symmetric, compound=compound)


@attrs.frozen
class CompiledRuleSet:
    """A rule set ready to prepare records, make keys and evaluate pairs."""

    rule_set: DuplicateRuleSet
    rules: tuple[CompiledRule, ...]
    readers: tuple[Callable[[DuplicateRecord], Values], ...]
    needed: Mapping[RecordType, tuple[int, ...]]
    by_base: Mapping[RecordType, tuple[CompiledRule, ...]]
    by_matching: Mapping[RecordType, tuple[CompiledRule, ...]]
    key_spaces: frozenset[str]

    def prepare(self, record: DuplicateRecord) -> Prepared:
        """Normalise the features the rules read from a record of this type."""
        values: list[Values] = [()] * len(self.readers)
        readers = self.readers
        for i in self.needed.get(record.record_type, ()):
            values[i] = readers[i](record)
        return Prepared(record.ref, record.active, tuple(values))

    def index_keys(self, record: Prepared) -> frozenset[str]:
        """The keys a stored record is indexed under: those of every condition of every rule
        that may match it, and the compound (or overflow) keys of those rules."""
        keys: set[str] = set()
        for rule in self.by_matching.get(record.ref.record_type, ()):
            if rule.compound and len(rule.conditions) > 1 and not rule.cannot_match(record):
                compound = rule.compound_keys(record, matching=True)
                keys.update(compound if compound is not None else (rule.overflow_key,))
            for compiled in rule.conditions:
                values = record.values[compiled.matching]
                if values:
                    keys.update(compiled.keys(values))
                elif not rule.rule.ignore_blank:
                    keys.add(compiled.blank_key)
        return frozenset(keys)


def compile_rule_set(rule_set: DuplicateRuleSet, *, compound: bool = True) -> CompiledRuleSet:
    """Compile ``rule_set``; ``compound=False`` leaves out the compound keys (the blocking
    of key format 1, for comparisons in benchmarks).

    Each call compiles afresh: a compiled rule set's caches of normalised values and keys
    (names, e-mails, companies) live as long as the index or scan that holds it, never in
    the process (no personal data kept after a job or an erasure; no caches shared between
    threads). Raises what the rules' own compilation raises."""
    return _compile_rule_set(rule_set, compound=compound)


def _compile_rule_set(rule_set: DuplicateRuleSet, *, compound: bool) -> CompiledRuleSet:
    features: dict[Feature, int] = {}
    custom: dict[Feature, Callable[[DuplicateRecord], Values]] = {}
    shared: dict[tuple[Condition, RecordType], CompiledCondition] = {}
    rules = tuple(
        _compile_rule(rule, features, compound, shared)
        if isinstance(rule, DuplicateRule)
        else _compile_probabilistic(rule, features, custom)
        for rule in rule_set.rules
    )
    needed: dict[RecordType, set[int]] = {}
    for compiled in rules:
        for c in compiled.conditions:
            needed.setdefault(compiled.rule.base_type, set()).add(c.base)
            needed.setdefault(compiled.rule.matching_type, set()).add(c.matching)
        for i in compiled.compared or ():
            needed.setdefault(compiled.rule.base_type, set()).add(i)
    by_base: dict[RecordType, list[CompiledRule]] = {}
    by_matching: dict[RecordType, list[CompiledRule]] = {}
    for compiled in rules:
        by_base.setdefault(compiled.rule.base_type, []).append(compiled)
        by_matching.setdefault(compiled.rule.matching_type, []).append(compiled)
    ordered = sorted(features, key=features.__getitem__)
    return CompiledRuleSet(
        rule_set=rule_set,
        rules=rules,
        readers=tuple(custom[f] if f in custom else _feature_reader(f) for f in ordered),
        needed={t: tuple(sorted(ix)) for t, ix in needed.items()},
        by_base={t: tuple(rs) for t, rs in by_base.items()},
        by_matching={t: tuple(rs) for t, rs in by_matching.items()},
        key_spaces=frozenset(space for r in rules for space in _key_spaces(r)),
    )


def _key_spaces(compiled: CompiledRule) -> list[str]:
    """The key spaces a rule reads: one per condition (one per blocking for a similarity
    condition), plus the blank key of each condition when the rule does not ignore blanks."""
    spaces: list[str] = []
    for c in compiled.conditions:
        if c.condition is None:
            spaces.append(c.namespace)
        elif c.condition.operator is Operator.SIMILAR:
            spaces += [f"{c.namespace}{b.tag}:" for b in c.condition.blocking]
        else:
            spaces.append(c.namespace)
        if not compiled.rule.ignore_blank:
            spaces.append(c.blank_key + "<blank>")
    return spaces


def sort_evidence(found: Sequence[RuleEvidence]) -> list[RuleEvidence]:
    """Best first: score descending, then rule name."""
    return sorted(found, key=lambda e: (-e.score, e.rule))
