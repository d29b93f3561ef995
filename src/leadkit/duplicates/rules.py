"""Duplicate rules as data: conditions, rules, rule sets and the default rule set for leads.

A :class:`Condition` compares one field of the record being checked (the *base* record) with
one field of a stored record (the *matching* record), after a named normaliser, with one
operator. A :class:`DuplicateRule` ANDs its conditions over a base and a matching record type
(which may differ: a lead against contacts); a :class:`DuplicateRuleSet` ORs its rules. All
three are frozen attrs classes built from plain values and enums, so the leadkit converter
(:func:`leadkit.make_converter`) turns them into JSON-safe data and back; they are validated
when built and raise :class:`~leadkit.errors.ConfigurationError` naming the problem.

Every condition yields *blocking keys* (the Dataverse "matchcode"): exact-style operators use
the compared value itself; a similarity condition must say how to block it (:class:`Blocking`),
so that no lookup ever compares a record with every stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from functools import partial
from types import MappingProxyType
from typing import Final, Protocol, TypeVar, runtime_checkable

import attrs

from leadkit._named import named
from leadkit.duplicates.normalize import (
    DEFAULT_NICKNAMES,
    NORMALIZERS,
    nickname_table,
    normalize_domain,
    normalize_email,
    normalize_person_name,
    normalize_text,
)
from leadkit.duplicates.records import (
    DuplicateFieldKind,
    DuplicateRecord,
    FieldSpec,
    RecordType,
    duplicate_field_spec,
)
from leadkit.errors import ConfigurationError

__all__ = [
    "DEFAULT_LEAD_RULES",
    "FREE_MAIL_DOMAINS",
    "NICKNAMES",
    "ROLE_MAILBOXES",
    "RULE_NORMALIZERS",
    "Blocking",
    "BlockingMethod",
    "CheckMode",
    "Condition",
    "DuplicateRule",
    "DuplicateRuleSet",
    "Operator",
    "Phonetic",
    "Similarity",
    "WeightedRule",
    "default_rule_set",
    "normalize_business_domain",
    "normalize_personal_email",
    "rule_normalizer",
]


# --------------------------------------------------------------------------------------------
# Normalisers rules can name (the registry of leadkit.duplicates.normalize, plus a few)
# --------------------------------------------------------------------------------------------

FREE_MAIL_DOMAINS: Final[frozenset[str]] = frozenset(
    {
        # international
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk",
        "hotmail.de", "hotmail.se", "live.com", "live.se", "msn.com", "yahoo.com",
        "yahoo.co.uk", "yahoo.de", "yahoo.se", "ymail.com", "icloud.com", "me.com", "mac.com",
        "aol.com", "protonmail.com", "proton.me", "gmx.com", "mail.com", "zoho.com",
        "yandex.com", "fastmail.com",
        # Sweden
        "telia.com", "spray.se", "bredband.net", "comhem.se",
        # Poland
        "wp.pl", "o2.pl", "onet.pl", "onet.eu", "interia.pl", "op.pl", "gazeta.pl", "poczta.fm",
        "tlen.pl",
        # Germany
        "gmx.de", "gmx.net", "web.de", "t-online.de", "freenet.de", "arcor.de", "posteo.de",
        # United Kingdom
        "btinternet.com", "sky.com", "virginmedia.com", "talktalk.net",
        # Denmark, Norway, Finland
        "live.dk", "hotmail.dk", "yahoo.dk", "mail.dk", "jubii.dk", "stofanet.dk",
        "online.no", "live.no", "hotmail.no", "yahoo.no", "frisurf.no", "broadpark.no",
        "luukku.com", "suomi24.fi", "hotmail.fi", "live.fi", "yahoo.fi", "elisanet.fi",
        # United States
        "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "cox.net", "charter.net",
    }
)  # fmt: skip
"""Free-mail providers: an address there says nothing about the person's company."""

ROLE_MAILBOXES: Final[frozenset[str]] = frozenset(
    {
        "info", "sales", "office", "contact", "hello", "admin", "support", "mail", "post",
        "order", "orders", "billing", "invoice", "invoices", "accounts", "finance", "hr",
        "jobs", "careers", "press", "media", "marketing", "service", "help", "team",
        "enquiries", "inquiries", "reception", "noreply", "no-reply", "webmaster",
        # Swedish, Polish, German
        "kontakt", "försäljning", "forsaljning", "kundtjanst", "kundtjänst", "ekonomi",
        "faktura", "fakturor", "växel", "vaxel", "biuro", "sekretariat", "zamowienia",
        "faktury", "buero", "büro", "vertrieb", "zentrale", "bestellung", "rechnung",
    }
)  # fmt: skip
"""Local parts of shared role mailboxes (``info@``, ``biuro@``), which colleagues share."""


def normalize_business_domain(text: str | None) -> str:
    """The domain of an e-mail address or URL, blank for a free-mail provider.

    ``"anna@Acme.se"`` -> ``"acme.se"``, ``"anna@gmail.com"`` -> ``""``: two people at gmail.com
    do not work for the same company. Never raises; idempotent.
    """
    domain = normalize_domain(text)
    return "" if domain in FREE_MAIL_DOMAINS else domain


def normalize_personal_email(text: str | None) -> str:
    """A normalised e-mail address, blank for a shared role mailbox (``info@``, ``biuro@``).

    ``"Anna.Berg@Acme.se"`` -> ``"anna.berg@acme.se"``, ``"INFO@acme.se"`` -> ``""``.
    Never raises; idempotent.
    """
    email = normalize_email(text)
    local, at, _ = email.partition("@")
    return "" if at and local in ROLE_MAILBOXES else email


_EUROPEAN_NICKNAMES: Final[Mapping[str, tuple[str, ...]]] = {
    # Swedish
    "lars": ("lasse",), "karl": ("kalle",), "per": ("pelle",), "nils": ("nisse",),
    "olof": ("olle",), "mikael": ("micke",), "joakim": ("jocke",), "kristina": ("kicki", "stina"),
    "charlotte": ("lotta",), "susanne": ("sussie",), "fredrik": ("fredde",),
    "magnus": ("mange",), "thomas": ("tomas",),
    # Polish
    "katarzyna": ("kasia",), "malgorzata": ("gosia", "malgosia"), "barbara": ("basia",),
    "joanna": ("asia",), "magdalena": ("magda",), "agnieszka": ("aga",),
    "tomasz": ("tomek",), "bartlomiej": ("bartek",), "jakub": ("kuba",), "wojciech": ("wojtek",),
    "krzysztof": ("krzysiek",), "piotr": ("piotrek",), "stanislaw": ("staszek",),
    "zofia": ("zosia",), "aleksander": ("olek",), "grzegorz": ("grzesiek",),
    # German
    "josef": ("sepp", "seppi"), "ulrich": ("uli",), "stefanie": ("steffi",),
    "gabriele": ("gabi",), "andreas": ("andi",), "sebastian": ("basti",),
    "katharina": ("kathi",), "matthias": ("matze",), "wolfgang": ("wolle",),
}  # fmt: skip


def _nicknames() -> Mapping[str, str]:
    entries = dict(DEFAULT_NICKNAMES)
    for canonical, nicknames in _EUROPEAN_NICKNAMES.items():
        for nickname in nicknames:
            entries[nickname] = canonical
    # "thomas" is canonical in both tables; "tomas" (Swedish) maps onto it.
    return nickname_table(entries)


NICKNAMES: Final[Mapping[str, str]] = _nicknames()
"""English (:data:`~leadkit.duplicates.normalize.DEFAULT_NICKNAMES`), Swedish, Polish and
German nicknames -> canonical given name (``kasia`` -> ``katarzyna``, ``lasse`` -> ``lars``)."""


RULE_NORMALIZERS: Final[Mapping[str, Callable[[str], str]]] = MappingProxyType(
    {
        **NORMALIZERS,
        "email_provider_rules": partial(normalize_email, provider_rules=True),
        "personal_email": normalize_personal_email,
        "business_domain": normalize_business_domain,
        "person_name_nicknames": partial(normalize_person_name, nicknames=NICKNAMES),
    }
)
"""The normalisers a condition may name: those of
:data:`~leadkit.duplicates.normalize.NORMALIZERS` plus ``email_provider_rules`` (dots and
``+tags``), ``personal_email`` (blank for role mailboxes), ``business_domain`` (blank for
free-mail) and ``person_name_nicknames`` (with :data:`NICKNAMES`)."""

_CASE_KEEPING: Final = frozenset({"none", "text"})


def rule_normalizer(name: str, *, case_sensitive: bool = False) -> Callable[[str], str]:
    """The normaliser a condition applies. Raises ConfigurationError for an unknown name or
    ``case_sensitive`` with a normaliser that folds case anyway."""
    if name not in RULE_NORMALIZERS:
        known = ", ".join(sorted(RULE_NORMALIZERS))
        raise ConfigurationError("normalizer", f"unknown normalizer {name!r}; known: {known}")
    if case_sensitive and name not in _CASE_KEEPING:
        raise ConfigurationError(
            "case_sensitive",
            f"normalizer {name!r} folds case; a case-sensitive condition needs 'none' or 'text'",
        )
    if name == "text":
        return partial(normalize_text, case_sensitive=case_sensitive)
    if name == "none" and not case_sensitive:
        none = RULE_NORMALIZERS["none"]
        return lambda text: none(text).casefold()
    return RULE_NORMALIZERS[name]


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


class CheckMode(Enum):
    """What a save does when a rule set finds duplicates."""

    ALLOW = "allow"
    """Save without checking."""
    WARN = "warn"
    """Save, and hand the matches back as warnings for the user to look at."""
    BLOCK = "block"
    """Refuse the save (DuplicatesUnresolved) while any match is left unresolved."""


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


def _record_type(value: RecordType | str) -> RecordType:
    return _member(RecordType, "record type", value)


def _mode(value: CheckMode | str) -> CheckMode:
    return _member(CheckMode, "check mode", value)


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

    ``normalizer`` names an entry of :data:`RULE_NORMALIZERS`; left out, the field's default
    (:data:`~leadkit.duplicates.records.FIELDS`) is filled in. ``matching_field`` defaults to
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


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class DuplicateRule:
    """Conditions ANDed over a base record type and a matching record type.

    ``ignore_blank``: a condition with a blank value on either side does not match (with
    False, blank equals blank, as in Dataverse). ``exclude_inactive``: closed leads are never
    matches. Raises ConfigurationError for a blank name, no conditions, or a field the base or
    matching record type does not have.
    """

    name: str
    base_type: RecordType = attrs.field(converter=_record_type)
    matching_type: RecordType = attrs.field(converter=_record_type)
    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)
    ignore_blank: bool = True
    exclude_inactive: bool = True
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("duplicate rule", "needs a name")
        what = f"duplicate rule {self.name!r}"
        if not self.conditions:
            raise ConfigurationError(what, "needs at least one condition")
        for condition in self.conditions:
            if not isinstance(condition, Condition):
                raise ConfigurationError(what, f"{condition!r} is not a Condition")
            for field, record_type in (
                (condition.base_field, self.base_type),
                (condition.matching_field, self.matching_type),
            ):
                if record_type not in duplicate_field_spec(field).record_types:
                    raise ConfigurationError(what, f"a {record_type.value} has no {field} field")
        for flag in ("ignore_blank", "exclude_inactive"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigurationError(what, f"{flag} must be true or false")

    @property
    def is_symmetric(self) -> bool:
        """True when the rule compares one record type with itself, field for field, so that
        it gives the same answer for (a, b) as for (b, a)."""
        return self.base_type is self.matching_type and all(c.is_symmetric for c in self.conditions)

    def describe(self) -> str:
        """``lead vs contact: email = email AND ...``."""
        conditions = " AND ".join(c.describe() for c in self.conditions)
        return f"{self.base_type.value} vs {self.matching_type.value}: {conditions}"


@runtime_checkable
class WeightedRule(Protocol):
    """What a rule set needs of a probabilistic rule: the optional rule kind, implemented by
    :class:`~leadkit.duplicates.probabilistic.FittedRule` (which imports this module)."""

    @property
    def name(self) -> str:
        """The rule's name."""
        ...

    @property
    def base_type(self) -> RecordType:
        """The type of the records checked."""
        ...

    @property
    def matching_type(self) -> RecordType:
        """The type of the candidates."""
        ...

    @property
    def description(self) -> str:
        """The rule's description."""
        ...

    @property
    def ignore_blank(self) -> bool:
        """True when a record without blocking values has no candidates."""
        ...

    @property
    def exclude_inactive(self) -> bool:
        """True when inactive records take no part in a scan."""
        ...

    @property
    def is_symmetric(self) -> bool:
        """True when the rule gives (a, b) and (b, a) the same answer."""
        ...

    def describe(self) -> str:
        """One line saying what the rule compares."""
        ...

    def readers(self) -> tuple[Callable[[DuplicateRecord], tuple[str, ...]], ...]:
        """The readers of the values the rule compares, one per compared field."""
        ...

    def blocking_keys(self, record: DuplicateRecord) -> tuple[str, ...]:
        """The keys a record is blocked under."""
        ...

    def evidence(self, a: Sequence[tuple[str, ...]], b: Sequence[tuple[str, ...]]) -> object:
        """A ``RuleEvidence`` for two records' compared values, or None (no match)."""
        ...


def _rules(
    value: Iterable[DuplicateRule | WeightedRule],
) -> tuple[DuplicateRule | WeightedRule, ...]:
    return tuple(value)


def _is_rule(value: object) -> bool:
    return isinstance(value, DuplicateRule) or isinstance(value, WeightedRule)  # noqa: SIM101


@attrs.frozen(kw_only=True)
class DuplicateRuleSet:
    """Rules ORed: a record is a duplicate of another when any rule matches.

    A rule is a :class:`DuplicateRule` or, the optional probabilistic kind, a
    :class:`~leadkit.duplicates.probabilistic.FittedRule` (``fit(rule, records)``): it takes
    part wherever rules do (``find_duplicates``, the save and qualification checks, imports,
    scans), blocked by its own keys and explained field by field.

    ``mode`` says what a save does on a match (:class:`CheckMode`). Raises ConfigurationError
    for a blank name, no rules, a value that is not a rule or two rules with the same name.
    """

    name: str
    rules: tuple[DuplicateRule | WeightedRule, ...] = attrs.field(converter=_rules)
    mode: CheckMode = attrs.field(default=CheckMode.WARN, converter=_mode)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("duplicate rule set", "needs a name")
        what = f"duplicate rule set {self.name!r}"
        if not self.rules:
            raise ConfigurationError(what, "needs at least one rule")
        names = [r.name for r in self.rules if _is_rule(r)]
        if len(names) != len(self.rules):
            raise ConfigurationError(what, "rules must be DuplicateRule or FittedRule values")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigurationError(what, f"rule names must be unique: {', '.join(repeated)}")

    def rule(self, name: str) -> DuplicateRule:
        """The deterministic rule called ``name``. Raises ConfigurationError if there is none
        (or it is a probabilistic rule: :meth:`fitted` returns those)."""
        found = self._named(name)
        if not isinstance(found, DuplicateRule):
            raise ConfigurationError(
                f"duplicate rule set {self.name!r}", f"{name!r} is a probabilistic rule (fitted)"
            )
        return found

    def fitted(self, name: str) -> WeightedRule:
        """The probabilistic rule called ``name``. Raises ConfigurationError if there is none
        (or it is a deterministic rule: :meth:`rule` returns those)."""
        found = self._named(name)
        if isinstance(found, DuplicateRule):
            raise ConfigurationError(
                f"duplicate rule set {self.name!r}", f"{name!r} is not a probabilistic rule"
            )
        return found

    def _named(self, name: str) -> DuplicateRule | WeightedRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise ConfigurationError(f"duplicate rule set {self.name!r}", f"no rule {name!r}")

    def for_base(self, record_type: RecordType) -> tuple[DuplicateRule | WeightedRule, ...]:
        """The rules that check records of ``record_type``."""
        return tuple(r for r in self.rules if r.base_type is record_type)

    def only(self, *names: str) -> DuplicateRuleSet:
        """A rule set with just the named rules (same name and mode)."""
        return attrs.evolve(self, rules=tuple(self._named(n) for n in names))

    def with_mode(self, mode: CheckMode) -> DuplicateRuleSet:
        """The same rules with another check mode."""
        return attrs.evolve(self, mode=mode)


# --------------------------------------------------------------------------------------------
# The default rule set for leads
# --------------------------------------------------------------------------------------------

_NAME_THRESHOLD: Final = 90.0
_COMPATIBLE_NAME_THRESHOLD: Final = 85.0
_LEAD, _CONTACT, _ACCOUNT = RecordType.LEAD, RecordType.CONTACT, RecordType.ACCOUNT


def _similar_name() -> Condition:
    return Condition.similar(
        "full_name",
        _NAME_THRESHOLD,
        Similarity.PERSON_NAME,
        normalizer="person_name_nicknames",
        blocking=(Blocking.phonetic_tokens(Phonetic.METAPHONE),),
    )


def _same_email() -> Condition:
    return Condition.exact("email", normalizer="personal_email")


def _same_phone() -> Condition:
    return Condition.exact("phones")


def _compatible_name() -> Condition:
    # Colleagues share a switchboard number: a shared phone needs names that could be the
    # same person (an initial, a middle name, a nickname, a typo), not just any two names.
    return Condition.similar(
        "full_name",
        _COMPATIBLE_NAME_THRESHOLD,
        Similarity.PERSON_NAME,
        normalizer="person_name_nicknames",
        blocking=(Blocking.phonetic_tokens(Phonetic.METAPHONE),),
    )


def _same_company() -> Condition:
    return Condition.exact("company")


def _same_business_domain() -> Condition:
    return Condition.exact("email_domain", normalizer="business_domain")


def _default_rules() -> tuple[DuplicateRule, ...]:
    def rule(
        name: str,
        base: RecordType,
        matching: RecordType,
        description: str,
        *conditions: Condition,
    ) -> DuplicateRule:
        return DuplicateRule(
            name=name,
            base_type=base,
            matching_type=matching,
            conditions=conditions,
            description=description,
        )

    return (
        rule(
            "lead-same-email",
            _LEAD,
            _LEAD,
            "Leads with the same e-mail address (shared role mailboxes such as info@ aside)",
            _same_email(),
        ),
        rule(
            "lead-same-phone",
            _LEAD,
            _LEAD,
            "Leads with a phone number in common and compatible names",
            _same_phone(),
            _compatible_name(),
        ),
        rule(
            "lead-similar-name-same-company",
            _LEAD,
            _LEAD,
            "Leads with similar names at the same company",
            _similar_name(),
            _same_company(),
        ),
        rule(
            "lead-similar-name-same-email-domain",
            _LEAD,
            _LEAD,
            "Leads with similar names and the same company e-mail domain (free-mail aside)",
            _similar_name(),
            _same_business_domain(),
        ),
        rule(
            "lead-similar-name-same-postal-code",
            _LEAD,
            _LEAD,
            "Leads with similar names at the same postal code",
            _similar_name(),
            Condition.exact("postal_code"),
        ),
        rule(
            "lead-contact-same-email",
            _LEAD,
            _CONTACT,
            "A contact with the lead's e-mail address",
            _same_email(),
        ),
        rule(
            "lead-contact-same-phone",
            _LEAD,
            _CONTACT,
            "A contact with a phone number of the lead and a compatible name",
            _same_phone(),
            _compatible_name(),
        ),
        rule(
            "lead-contact-similar-name-same-company",
            _LEAD,
            _CONTACT,
            "A contact with a similar name at the lead's company",
            _similar_name(),
            _same_company(),
        ),
        rule(
            "lead-contact-similar-name-same-email-domain",
            _LEAD,
            _CONTACT,
            "A contact with a similar name and the lead's company e-mail domain",
            _similar_name(),
            _same_business_domain(),
        ),
        rule(
            "lead-account-same-company",
            _LEAD,
            _ACCOUNT,
            "An account named like the lead's company (legal forms aside)",
            _same_company(),
        ),
        rule(
            "lead-account-same-website",
            _LEAD,
            _ACCOUNT,
            "An account with the lead's website",
            Condition.exact("website_domain"),
        ),
    )


DEFAULT_LEAD_RULES: Final[DuplicateRuleSet] = DuplicateRuleSet(
    name="Default lead duplicate rules",
    rules=_default_rules(),
    mode=CheckMode.WARN,
    description=(
        "Same e-mail; same phone; similar name at the same company or company e-mail domain; "
        "the same checks against contacts; leads against accounts by company and website."
    ),
)
"""The rule set a user would accept out of the box for leads (see docs/duplicates.md)."""


def default_rule_set(mode: CheckMode = CheckMode.WARN) -> DuplicateRuleSet:
    """:data:`DEFAULT_LEAD_RULES`, with ``mode`` as its check mode."""
    return DEFAULT_LEAD_RULES.with_mode(mode)


named(DEFAULT_LEAD_RULES, "DEFAULT_LEAD_RULES")  # help() shows the name, not every rule
