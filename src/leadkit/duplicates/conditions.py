"""Duplicate conditions as data: the operators, similarity and phonetic algorithms, blocking
methods, :class:`Blocking` and :class:`Condition`.

A :class:`Condition` compares one field of the record being checked (the *base* record) with
one field of a stored record (the *matching* record), after a named normaliser, with one
operator. Every condition yields *blocking keys* (the Dataverse "matchcode"): exact-style
operators use the compared value itself; a similarity condition must say how to block it
(:class:`Blocking`), so that no lookup ever compares a record with every stored one.

Part of the rules as data (:mod:`leadkit.duplicates.rules` re-exports every public name here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from types import MappingProxyType
from typing import Final, TypeVar

import attrs

from leadkit.duplicates.record_view import DuplicateFieldKind, FieldSpec, duplicate_field_spec
from leadkit.duplicates.rule_normalizers import rule_normalizer
from leadkit.errors import ConfigurationError

__all__ = [
    "Blocking",
    "BlockingMethod",
    "Condition",
    "Operator",
    "Phonetic",
    "Similarity",
]


# --------------------------------------------------------------------------------------------
# Enums
# --------------------------------------------------------------------------------------------


class Operator(Enum):
    """How a condition compares its two fields (the Dataverse operators, and more)."""

    EXACT = "exact"
    """The normalised values are equal."""
    SAME_FIRST_CHARACTERS = "same_first_characters"
    """The first ``n`` characters of the normalised values are equal."""
    SAME_LAST_CHARACTERS = "same_last_characters"
    """The last ``n`` characters of the normalised values are equal."""
    SAME_DATE = "same_date"
    """The same calendar date (date-times compared in UTC)."""
    SAME_DATE_AND_TIME = "same_date_and_time"
    """The same point in time, to the second."""
    SAME_OPTION = "same_option"
    """The same option-set value."""
    SIMILAR = "similar"
    """A rapidfuzz similarity of at least ``threshold`` (0-100)."""
    SOUNDS_LIKE = "sounds_like"
    """The same phonetic code for every word (jellyfish), in any word order."""


class Similarity(Enum):
    """The similarity algorithms a ``SIMILAR`` condition may name (rapidfuzz, 0-100)."""

    RATIO = "ratio"
    BEST_RATIO = "best_ratio"
    """The better of ``ratio`` and ``token_sort_ratio``: survives swapped words and a slip in
    the first letter of a word (which moves it in the sorted order)."""
    PERSON_NAME = "person_name"
    """For names: each word of the shorter name paired with a word of the other, in any
    order, by Jaro-Winkler (an initial scores 90, a short form such as chris/christopher
    95); the weakest pair is the score. Survives swapped names, middle names, initials and
    typos, and keeps "Lars Eriksson" apart from "Lars Persson"."""
    PARTIAL_RATIO = "partial_ratio"
    TOKEN_SORT_RATIO = "token_sort_ratio"
    TOKEN_SET_RATIO = "token_set_ratio"
    WRATIO = "wratio"
    QRATIO = "qratio"
    JARO = "jaro"
    JARO_WINKLER = "jaro_winkler"
    TOKEN_SORT_JARO_WINKLER = "token_sort_jaro_winkler"
    LEVENSHTEIN = "levenshtein"
    DAMERAU_LEVENSHTEIN = "damerau_levenshtein"


class Phonetic(Enum):
    """Phonetic codes from jellyfish, applied word by word."""

    SOUNDEX = "soundex"
    METAPHONE = "metaphone"
    NYSIIS = "nysiis"
    MATCH_RATING = "match_rating"


class BlockingMethod(Enum):
    """How a similarity condition turns a normalised value into blocking keys."""

    VALUE = "value"
    """The whole normalised value."""
    PREFIX = "prefix"
    """Its first ``n`` characters."""
    TOKENS = "tokens"
    """Each word."""
    SORTED_TOKENS = "sorted_tokens"
    """The words in sorted order (survives swapped first and last names)."""
    TOKEN_PREFIXES = "token_prefixes"
    """The first ``n`` characters of each word."""
    PHONETIC_TOKENS = "phonetic_tokens"
    """The phonetic code of each word (survives most typos and transliterations)."""


# --------------------------------------------------------------------------------------------
# Blocking and conditions
# --------------------------------------------------------------------------------------------

E = TypeVar("E", bound=Enum)


def _member(kind: type[E], what: str, value: object) -> E:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(str(m.value) for m in kind)
        raise ConfigurationError(
            what, f"unknown {kind.__name__} {value!r}; known: {known}"
        ) from None


def _operator(value: Operator | str) -> Operator:
    return _member(Operator, "condition operator", value)


def _similarity(value: Similarity | str | None) -> Similarity | None:
    return None if value is None else _member(Similarity, "condition algorithm", value)


def _phonetic(value: Phonetic | str | None) -> Phonetic | None:
    return None if value is None else _member(Phonetic, "phonetic algorithm", value)


def _method(value: BlockingMethod | str) -> BlockingMethod:
    return _member(BlockingMethod, "blocking method", value)


def _positive(what: str, n: int | None) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigurationError(what, f"n must be an integer >= 1 (got {n!r})")


@attrs.frozen
class Blocking:
    """How a similarity condition is blocked: the method, ``n`` for the prefix methods and the
    phonetic algorithm for ``PHONETIC_TOKENS``.

    Raises ConfigurationError for a missing or superfluous parameter or ``n`` < 1.
    """

    method: BlockingMethod = attrs.field(converter=_method)
    n: int | None = None
    phonetic: Phonetic | None = attrs.field(default=None, converter=_phonetic)

    def __attrs_post_init__(self) -> None:
        needs_n = self.method in (BlockingMethod.PREFIX, BlockingMethod.TOKEN_PREFIXES)
        if needs_n:
            _positive(f"blocking {self.method.value}", self.n)
        elif self.n is not None:
            raise ConfigurationError(f"blocking {self.method.value}", "takes no n")
        if self.method is BlockingMethod.PHONETIC_TOKENS:
            if not isinstance(self.phonetic, Phonetic):
                raise ConfigurationError(
                    "blocking phonetic_tokens", "needs a phonetic algorithm (Phonetic)"
                )
        elif self.phonetic is not None:
            raise ConfigurationError(f"blocking {self.method.value}", "takes no phonetic")

    @classmethod
    def prefix(cls, n: int) -> Blocking:
        """Block on the first ``n`` characters."""
        return cls(BlockingMethod.PREFIX, n=n)

    @classmethod
    def tokens(cls) -> Blocking:
        """Block on each word."""
        return cls(BlockingMethod.TOKENS)

    @classmethod
    def sorted_tokens(cls) -> Blocking:
        """Block on the words in sorted order."""
        return cls(BlockingMethod.SORTED_TOKENS)

    @classmethod
    def token_prefixes(cls, n: int) -> Blocking:
        """Block on the first ``n`` characters of each word."""
        return cls(BlockingMethod.TOKEN_PREFIXES, n=n)

    @classmethod
    def phonetic_tokens(cls, phonetic: Phonetic = Phonetic.METAPHONE) -> Blocking:
        """Block on the phonetic code of each word."""
        return cls(BlockingMethod.PHONETIC_TOKENS, phonetic=phonetic)

    @property
    def tag(self) -> str:
        """A short, stable name of the method used inside blocking keys (``prefix3``)."""
        if self.n is not None:
            return f"{self.method.value}{self.n}"
        if self.phonetic is not None:
            return f"{self.method.value}-{self.phonetic.value}"
        return self.method.value


_TEXT_KINDS: Final = frozenset({DuplicateFieldKind.TEXT, DuplicateFieldKind.MULTI_TEXT})
_DATE_KINDS: Final = frozenset({DuplicateFieldKind.DATE, DuplicateFieldKind.DATETIME})
_OPERATOR_KINDS: Final[Mapping[Operator, frozenset[DuplicateFieldKind]]] = MappingProxyType(
    {
        Operator.EXACT: _TEXT_KINDS
        | {DuplicateFieldKind.DATE, DuplicateFieldKind.OPTION, DuplicateFieldKind.NUMBER},
        Operator.SAME_FIRST_CHARACTERS: _TEXT_KINDS,
        Operator.SAME_LAST_CHARACTERS: _TEXT_KINDS,
        Operator.SAME_DATE: frozenset({DuplicateFieldKind.DATE, DuplicateFieldKind.DATETIME}),
        Operator.SAME_DATE_AND_TIME: frozenset({DuplicateFieldKind.DATETIME}),
        Operator.SAME_OPTION: frozenset({DuplicateFieldKind.OPTION}),
        Operator.SIMILAR: _TEXT_KINDS,
        Operator.SOUNDS_LIKE: _TEXT_KINDS,
    }
)
_WITH_N: Final = frozenset({Operator.SAME_FIRST_CHARACTERS, Operator.SAME_LAST_CHARACTERS})


def _blockings(value: Iterable[Blocking] | Blocking) -> tuple[Blocking, ...]:
    if isinstance(value, Blocking):
        return (value,)
    return tuple(value)


def _field_spec(role: str, name: object) -> FieldSpec:
    try:
        return duplicate_field_spec(name)
    except ConfigurationError as e:
        raise ConfigurationError(f"condition {role}", e.reason) from None


@attrs.frozen(kw_only=True)
class Condition:
    """One comparison of a base field with a matching field.

    ``normalizer`` names an entry of
    :data:`~leadkit.duplicates.rule_normalizers.RULE_NORMALIZERS`; left out, the field's default
    (:data:`~leadkit.duplicates.record_view.FIELDS`) is filled in. ``matching_field`` defaults to
    ``base_field``. ``n`` belongs to the first/last-characters operators, ``threshold`` and
    ``algorithm`` to ``SIMILAR`` (which must also name its ``blocking``), ``phonetic`` to
    ``SOUNDS_LIKE``. Build one with the class methods (:meth:`exact`, :meth:`similar`, ...).

    Raises ConfigurationError for an unknown field or normaliser, an operator the field's kind
    does not support, two fields of incompatible kinds, ``n`` < 1, a threshold outside 0-100,
    a missing algorithm, a similarity condition without a blocking key, or a parameter the
    operator does not take.
    """

    operator: Operator = attrs.field(converter=_operator)
    base_field: str
    matching_field: str = attrs.field(
        default=attrs.Factory(lambda self: self.base_field, takes_self=True)
    )
    normalizer: str | None = None
    case_sensitive: bool = False
    n: int | None = None
    threshold: float | None = None
    algorithm: Similarity | None = attrs.field(default=None, converter=_similarity)
    phonetic: Phonetic | None = attrs.field(default=None, converter=_phonetic)
    blocking: tuple[Blocking, ...] = attrs.field(default=(), converter=_blockings)

    def __attrs_post_init__(self) -> None:
        what = f"condition {self.describe()}"
        base = _field_spec("base_field", self.base_field)
        matching = _field_spec("matching_field", self.matching_field)
        kinds = {base.kind, matching.kind}
        if not (kinds <= _TEXT_KINDS or kinds <= _DATE_KINDS or len(kinds) == 1):
            raise ConfigurationError(
                what,
                f"{self.base_field} ({base.kind.value}) cannot be compared with "
                f"{self.matching_field} ({matching.kind.value})",
            )
        allowed = _OPERATOR_KINDS[self.operator]
        if not kinds <= allowed:
            raise ConfigurationError(
                what,
                f"{self.operator.value} does not apply to a {base.kind.value} field; "
                f"it takes {', '.join(sorted(k.value for k in allowed))}",
            )
        self._check_normalizer(what, base.kind, base.normalizer)
        self._check_parameters(what)

    def _check_normalizer(self, what: str, kind: DuplicateFieldKind, default: str | None) -> None:
        if not isinstance(self.case_sensitive, bool):
            raise ConfigurationError(what, "case_sensitive must be true or false")
        if kind not in _TEXT_KINDS:
            if self.normalizer is not None or self.case_sensitive:
                raise ConfigurationError(what, f"a {kind.value} field takes no normalizer")
            return
        if self.normalizer is None:
            name = "none" if self.case_sensitive else default
            object.__setattr__(self, "normalizer", name)
        assert self.normalizer is not None
        rule_normalizer(self.normalizer, case_sensitive=self.case_sensitive)

    def _check_parameters(self, what: str) -> None:
        op = self.operator
        if op in _WITH_N:
            _positive(what, self.n)
        elif self.n is not None:
            raise ConfigurationError(what, f"{op.value} takes no n")
        if op is Operator.SIMILAR:
            threshold = self.threshold
            if (
                isinstance(threshold, bool)
                or not isinstance(threshold, int | float)
                or not 0 <= threshold <= 100
            ):
                raise ConfigurationError(what, f"threshold must be 0-100 (got {threshold!r})")
            object.__setattr__(self, "threshold", float(threshold))
            if not isinstance(self.algorithm, Similarity):
                known = ", ".join(a.value for a in Similarity)
                raise ConfigurationError(what, f"needs a similarity algorithm: {known}")
            if not self.blocking:
                raise ConfigurationError(
                    what,
                    "a similarity condition needs a blocking key (blocking=Blocking...), "
                    "or lookups would compare every stored record",
                )
            if not all(isinstance(b, Blocking) for b in self.blocking):
                raise ConfigurationError(what, "blocking must hold Blocking values")
        else:
            for name in ("threshold", "algorithm"):
                if getattr(self, name) is not None:
                    raise ConfigurationError(what, f"{op.value} takes no {name}")
            if self.blocking:
                raise ConfigurationError(
                    what, f"{op.value} blocks on its own values; blocking is for similar"
                )
        if op is Operator.SOUNDS_LIKE:
            if not isinstance(self.phonetic, Phonetic):
                known = ", ".join(p.value for p in Phonetic)
                raise ConfigurationError(what, f"needs a phonetic algorithm: {known}")
        elif self.phonetic is not None:
            raise ConfigurationError(what, f"{op.value} takes no phonetic")

    # Builders ---------------------------------------------------------------------------------

    @classmethod
    def exact(
        cls,
        field: str,
        matching_field: str | None = None,
        *,
        normalizer: str | None = None,
        case_sensitive: bool = False,
    ) -> Condition:
        """The normalised values are equal (Dataverse "Exact Match")."""
        return cls(
            operator=Operator.EXACT,
            base_field=field,
            matching_field=matching_field or field,
            normalizer=normalizer,
            case_sensitive=case_sensitive,
        )

    @classmethod
    def first_characters(
        cls,
        field: str,
        n: int,
        matching_field: str | None = None,
        *,
        normalizer: str | None = None,
        case_sensitive: bool = False,
    ) -> Condition:
        """The first ``n`` normalised characters are equal ("Same First Characters")."""
        return cls(
            operator=Operator.SAME_FIRST_CHARACTERS,
            base_field=field,
            matching_field=matching_field or field,
            n=n,
            normalizer=normalizer,
            case_sensitive=case_sensitive,
        )

    @classmethod
    def last_characters(
        cls,
        field: str,
        n: int,
        matching_field: str | None = None,
        *,
        normalizer: str | None = None,
        case_sensitive: bool = False,
    ) -> Condition:
        """The last ``n`` normalised characters are equal ("Same Last Characters")."""
        return cls(
            operator=Operator.SAME_LAST_CHARACTERS,
            base_field=field,
            matching_field=matching_field or field,
            n=n,
            normalizer=normalizer,
            case_sensitive=case_sensitive,
        )

    @classmethod
    def same_date(cls, field: str, matching_field: str | None = None) -> Condition:
        """The same calendar date ("Same Date")."""
        return cls(
            operator=Operator.SAME_DATE, base_field=field, matching_field=matching_field or field
        )

    @classmethod
    def same_date_and_time(cls, field: str, matching_field: str | None = None) -> Condition:
        """The same point in time, to the second ("Same Date and Time")."""
        return cls(
            operator=Operator.SAME_DATE_AND_TIME,
            base_field=field,
            matching_field=matching_field or field,
        )

    @classmethod
    def same_option(cls, field: str, matching_field: str | None = None) -> Condition:
        """The same option-set value ("Exact Match" on a choice column)."""
        return cls(
            operator=Operator.SAME_OPTION,
            base_field=field,
            matching_field=matching_field or field,
        )

    @classmethod
    def similar(
        cls,
        field: str,
        threshold: float,
        algorithm: Similarity = Similarity.JARO_WINKLER,
        *,
        blocking: Iterable[Blocking] | Blocking,
        matching_field: str | None = None,
        normalizer: str | None = None,
    ) -> Condition:
        """A similarity of at least ``threshold`` (0-100), blocked by ``blocking``."""
        return cls(
            operator=Operator.SIMILAR,
            base_field=field,
            matching_field=matching_field or field,
            threshold=threshold,
            algorithm=algorithm,
            blocking=_blockings(blocking),
            normalizer=normalizer,
        )

    @classmethod
    def sounds_like(
        cls,
        field: str,
        phonetic: Phonetic = Phonetic.METAPHONE,
        matching_field: str | None = None,
        *,
        normalizer: str | None = None,
    ) -> Condition:
        """Every word has the same phonetic code, in any order."""
        return cls(
            operator=Operator.SOUNDS_LIKE,
            base_field=field,
            matching_field=matching_field or field,
            phonetic=phonetic,
            normalizer=normalizer,
        )

    # Queries ----------------------------------------------------------------------------------

    @property
    def is_symmetric(self) -> bool:
        """True when swapping the two records cannot change the outcome."""
        return self.base_field == self.matching_field

    def describe(self) -> str:
        """A short human reading: ``email = email``, ``full_name ~ full_name (jaro_winkler >=
        90)``, ``postal_code first 3 = postal_code``."""
        fields = (self.base_field, self.matching_field)
        op = self.operator
        if op is Operator.SIMILAR:
            algorithm = self.algorithm.value if isinstance(self.algorithm, Similarity) else "?"
            threshold = self.threshold
            shown = f"{threshold:g}" if isinstance(threshold, int | float) else repr(threshold)
            return f"{fields[0]} ~ {fields[1]} ({algorithm} >= {shown})"
        if op is Operator.SOUNDS_LIKE:
            phonetic = self.phonetic.value if isinstance(self.phonetic, Phonetic) else "?"
            return f"{fields[0]} sounds like {fields[1]} ({phonetic})"
        if op is Operator.SAME_FIRST_CHARACTERS:
            return f"{fields[0]} first {self.n} = {fields[1]}"
        if op is Operator.SAME_LAST_CHARACTERS:
            return f"{fields[0]} last {self.n} = {fields[1]}"
        if op is Operator.SAME_DATE:
            return f"{fields[0]} same date as {fields[1]}"
        if op is Operator.SAME_DATE_AND_TIME:
            return f"{fields[0]} same date and time as {fields[1]}"
        return f"{fields[0]} = {fields[1]}"


# --------------------------------------------------------------------------------------------
# Rules and rule sets
# --------------------------------------------------------------------------------------------
