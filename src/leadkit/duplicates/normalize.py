"""Pure normalisers for duplicate-detection rules.

Each normaliser takes a text (or ``None``) and returns a normalised ``str``: ``""`` for blank
input, never ``None``. They run on dirty imported data, so they never raise on the text they are
given; only bad *configuration* (an unknown region, a malformed nickname table, an unknown
normaliser name) raises :class:`~leadkit.errors.ConfigurationError`.

Every normaliser is idempotent: ``f(f(x)) == f(x)``, so a stored normalised value can be
normalised again (when a rule is re-run, or a value is compared with a fresh one) without
drifting. The module holds no mutable state: the tables are frozen ``MappingProxyType`` /
``frozenset`` values built once when the module loads.

Rules-as-data name a normaliser by string through :data:`NORMALIZERS` / :func:`get_normalizer`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Final

import phonenumbers

from leadkit.errors import ConfigurationError

__all__ = [
    "DEFAULT_NICKNAMES",
    "LEGAL_FORMS",
    "NORMALIZERS",
    "get_normalizer",
    "nickname_table",
    "normalize_company",
    "normalize_domain",
    "normalize_email",
    "normalize_none",
    "normalize_person_name",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_text",
    "strip_accents",
]


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def _as_text(value: str | None) -> str:
    """``None`` -> ``""``; a non-``str`` (a number from a spreadsheet) -> ``str(value)``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)  # dirty imports hand us ints and floats despite the annotation


# Letters that NFKD does not decompose into a base letter plus combining marks.
_LETTER_MAP: Final[Mapping[int, str]] = MappingProxyType(
    {
        ord("ß"): "ss",
        ord("ẞ"): "SS",
        ord("ł"): "l",
        ord("Ł"): "L",
        ord("ø"): "o",
        ord("Ø"): "O",
        ord("æ"): "ae",
        ord("Æ"): "AE",
        ord("œ"): "oe",
        ord("Œ"): "OE",
        ord("đ"): "d",
        ord("Đ"): "D",
        ord("ð"): "d",
        ord("Ð"): "D",
        ord("þ"): "th",
        ord("Þ"): "TH",
        ord("ı"): "i",
        ord("ħ"): "h",
        ord("Ħ"): "H",
        ord("ŧ"): "t",
        ord("Ŧ"): "T",
    }
)


def _is_mark(char: str) -> bool:
    # Non-spacing and enclosing marks, and any character that takes part in canonical
    # reordering (ccc != 0). Spacing marks with ccc 0 (Indic vowel signs) are kept.
    return unicodedata.category(char) in ("Mn", "Me") or unicodedata.combining(char) != 0


def strip_accents(text: str | None) -> str:
    """Return ``text`` without accents, keeping its case: ``"Åsa Öberg"`` -> ``"Asa Oberg"``.

    Decomposes with Unicode NFKD and drops the combining marks, then maps the letters NFKD does
    not decompose: ß->ss, ł->l, ø->o, æ->ae, œ->oe, đ/ð->d, þ->th, ı->i, ħ->h, ŧ->t (upper-case
    forms likewise). Compatibility characters are unfolded too (``"ﬁ"`` -> ``"fi"``,
    full-width digits -> ASCII). ``None`` gives ``""``. Never raises on any text; idempotent.
    """
    plain = _as_text(text)
    if plain.isascii():
        # NFKD leaves ASCII as it is, and no ASCII character is a mark or in _LETTER_MAP.
        return plain
    return _strip_accents(plain)


def _strip_accents(text: str) -> str:
    """:func:`strip_accents` without its fast path for ASCII text (a property test holds the
    fast path to it)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(char for char in decomposed if not _is_mark(char))
    return kept.translate(_LETTER_MAP)


def _caseless(text: str) -> str:
    # str.casefold is idempotent and case-insensitive for every code point except the dotless
    # ı, whose upper-case form is I: fold it to i so that f(x.upper()) == f(x.lower()) holds.
    return text.casefold().replace("ı", "i")


def _fold(text: str) -> str:
    """Case-fold and strip accents until stable (compatibility forms can uncover upper case).

    Case-folds *before* dropping marks: a few marks have case mappings (U+0345 folds to ι).
    """
    current = text
    for _ in range(8):
        folded = strip_accents(_caseless(current))
        if folded == current:
            break
        current = folded
    return current


_APOSTROPHES: Final = frozenset("'’‘ʼ`´′ˈ")


def _tokens(folded: str, *, dropped: frozenset[str]) -> list[str]:
    """Split folded text into word tokens.

    Characters in ``dropped`` vanish (``O'Brien`` -> ``obrien``); any other punctuation,
    symbol, control or separator character splits words. Letters, digits and spacing marks are
    kept.
    """
    out: list[str] = []
    for char in folded:
        if char in dropped:
            continue
        category = unicodedata.category(char)
        if category[0] in "LN" or category == "Mc":
            out.append(char)
        else:
            out.append(" ")
    return "".join(out).split()


# --------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------


def normalize_none(text: str | None) -> str:
    """Return ``text`` trimmed of surrounding whitespace and nothing else (the ``"none"`` rule).

    ``None`` gives ``""``. Never raises on any text; idempotent.
    """
    return _as_text(text).strip()


def normalize_text(text: str | None, *, case_sensitive: bool = False) -> str:
    """Trim, collapse every run of whitespace to one space and (by default) case-fold.

    ``"  Acme\\t  Sales "`` -> ``"acme sales"``. With ``case_sensitive=True`` the case is kept.
    Case-folding uses :meth:`str.casefold` (``"Straße"`` -> ``"strasse"``), with the dotless
    ``ı`` folded to ``i`` so the result does not depend on the case of the input. ``None``
    gives ``""``. Never raises on any text; idempotent.
    """
    collapsed = " ".join(_as_text(text).split())
    return collapsed if case_sensitive else _caseless(collapsed)


# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------

_GMAIL_DOMAINS: Final = frozenset({"gmail.com", "googlemail.com"})


def normalize_email(text: str | None, *, provider_rules: bool = False) -> str:
    """Normalise an e-mail address for comparison: trim and case-fold local part and domain.

    ``" Anna.Berg@Example.SE "`` -> ``"anna.berg@example.se"``.

    With ``provider_rules=True`` (off by default, because it merges addresses that a strict
    reading keeps apart) it also drops a ``+tag`` from the local part for every domain
    (``"anna+news@example.se"`` -> ``"anna@example.se"``), and for gmail.com/googlemail.com drops
    the dots in the local part and maps googlemail.com to gmail.com
    (``"Anna.Berg+x@googlemail.com"`` -> ``"annaberg@gmail.com"``). A tag is only dropped when
    something precedes the ``+``; if the provider rules would leave an empty local part they are
    not applied.

    Text that is not an address (no single ``@``, an empty local part or domain) is returned
    trimmed and case-folded, otherwise unchanged. ``None`` gives ``""``. Never raises on any
    text; idempotent.
    """
    folded = _caseless(_as_text(text).strip())
    if folded.count("@") != 1:
        return folded
    local, domain = folded.split("@")
    if not local or not domain:
        return folded
    if provider_rules:
        domain = "gmail.com" if domain in _GMAIL_DOMAINS else domain
        plus = local.find("+")
        bare = local[:plus] if plus > 0 else local
        if domain == "gmail.com":
            bare = bare.replace(".", "")
        if bare:
            local = bare
    return f"{local}@{domain}"


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------

_VALID_REGIONS: Final = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"ZZ"}
_PLUS_SIGNS: Final = ("+", "＋")
# Where an extension starts, for the digits-only fallback: "ext", "ext.", "extension", "x",
# "#", ";ext=" (RFC 3966). Only what follows a digit counts, so a bare "x..." is left alone.
_EXTENSION: Final = re.compile(r"(?<=\d)\s*(?:;\s*ext\s*=|#|ext(?:ension)?\b\.?|x(?=\s*\d))", re.I)


def _digits(text: str) -> str:
    """Every decimal digit of ``text`` (any script) as ASCII."""
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())


def _e164(text: str, region: str) -> str | None:
    """The E.164 form of ``text``, if it parses to a possible number that parses back to itself.

    The round trip matters: a "national" number that starts with the trunk prefix (``+46 0...``)
    formats to an E.164 string that parses to a different number.
    """
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:  # local-only: no area code
        return None
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    try:
        again = phonenumbers.parse(formatted, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.format_number(again, phonenumbers.PhoneNumberFormat.E164) != formatted:
        return None
    return formatted


def normalize_phone(text: str | None, *, default_region: str = "US") -> str:
    """Normalise a phone number to E.164 (``"+46812345678"``), dropping any extension.

    Parsed with :func:`phonenumbers.parse`; ``default_region`` (ISO 3166 alpha-2, any case)
    applies to numbers written without a country code: ``"08-123 456 78"`` with ``"SE"`` ->
    ``"+46812345678"``, ``"(202) 555-0143"`` -> ``"+12025550143"``. The number must be a
    *possible* one (a plausible length for its country, with an area code where the country
    uses them); it is not checked for being assigned (valid).

    When the text cannot be parsed, is not a possible number (``"555-0143"`` in ``"US"`` gives
    ``"5550143"``, not a made-up ``"+15550143"``) or its E.164 form would not parse back to
    itself, the result falls back to its digits (ASCII, extension cut off) with a leading ``+``
    kept if the text had one; if those digits alone do parse, their E.164 form is returned.
    Either way the result is a fixed point. Text without digits gives ``""``. Never raises on
    any text; idempotent.

    Raises ConfigurationError if ``default_region`` is not a region phonenumbers knows
    (``"ZZ"`` is accepted: then only numbers written with ``+`` parse).
    """
    region = default_region.upper()
    if region not in _VALID_REGIONS:
        raise ConfigurationError(
            "default_region", f"unknown phone region {default_region!r}; use e.g. 'US' or 'SE'"
        )
    raw = _as_text(text).strip()
    if not raw:
        return ""
    parsed = _e164(raw, region)
    if parsed is not None:
        return parsed
    extension = _EXTENSION.search(raw)
    digits = _digits(raw[: extension.start()] if extension else raw)
    if not digits:
        return ""
    fallback = f"+{digits}" if raw.startswith(_PLUS_SIGNS) else digits
    reparsed = _e164(fallback, region)
    return fallback if reparsed is None else reparsed


# --------------------------------------------------------------------------------------------
# Person names
# --------------------------------------------------------------------------------------------


def _name_tokens(text: str) -> list[str]:
    return _tokens(_fold(text), dropped=_APOSTROPHES)


def nickname_table(entries: Mapping[str, str] | Iterable[tuple[str, str]]) -> Mapping[str, str]:
    """Build a frozen nickname table for :func:`normalize_person_name`.

    Keys and values are normalised the way names are (``"Bob"`` -> ``"bob"``, ``"Łukasz"`` ->
    ``"lukasz"``), so the table matches the tokens the normaliser produces. Returns a
    ``MappingProxyType``.

    Raises ConfigurationError if a key is not exactly one name token, a value is blank, or a
    value token is itself a key mapping elsewhere (``bob -> rob -> robert``): a table must map
    straight to canonical forms, or normalising would not be idempotent.
    """
    pairs = entries.items() if isinstance(entries, Mapping) else entries
    table: dict[str, str] = {}
    for key, value in pairs:
        key_tokens = _name_tokens(key)
        value_tokens = _name_tokens(value)
        if len(key_tokens) != 1:
            raise ConfigurationError(
                "nicknames", f"nickname {key!r} must be exactly one name token"
            )
        if not value_tokens:
            raise ConfigurationError("nicknames", f"nickname {key!r} maps to a blank name")
        table[key_tokens[0]] = " ".join(value_tokens)
    for key, value in table.items():
        for token in value.split():
            if table.get(token, token) != token:
                raise ConfigurationError(
                    "nicknames",
                    f"{key!r} maps to {value!r}, but {token!r} is itself mapped to "
                    f"{table[token]!r}; map {key!r} straight to the canonical form",
                )
    return MappingProxyType(table)


_NICKNAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "robert": ("bob", "bobby", "rob", "robbie", "robby"),
    "william": ("bill", "billy", "will", "willie", "willy"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "betsy", "libby"),
    "james": ("jim", "jimmy", "jamie"),
    "michael": ("mike", "mikey", "mick", "mickey"),
    "katherine": ("kate", "katie", "kathy", "kat", "katy"),
    "richard": ("rick", "ricky", "rich", "richie", "dick"),
    "thomas": ("tom", "tommy"),
    "joseph": ("joe", "joey"),
    "charles": ("charlie", "chuck"),
    "christopher": ("topher",),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey"),
    "edward": ("ed", "eddie", "ned"),
    "anthony": ("tony",),
    "andrew": ("andy", "drew"),
    "benjamin": ("ben", "benny"),
    "matthew": ("matt",),
    "nicholas": ("nick", "nicky"),
    "steven": ("steve",),
    "jonathan": ("jon",),
    "john": ("jack", "johnny"),
    "margaret": ("maggie", "meg", "peggy", "marge", "margie"),
    "patricia": ("patty", "trish"),
    "jennifer": ("jen", "jenny"),
    "susan": ("sue", "susie"),
    "deborah": ("deb", "debbie"),
    "rebecca": ("becky", "becca"),
    "victoria": ("vicky", "tori"),
    "abigail": ("abby",),
    "gregory": ("greg",),
    "jeffrey": ("jeff",),
    "kenneth": ("ken", "kenny"),
    "lawrence": ("larry",),
    "ronald": ("ron", "ronnie"),
    "donald": ("don", "donnie"),
    "timothy": ("tim", "timmy"),
    "raymond": ("ray",),
    "frederick": ("fred", "freddie"),
    "henry": ("hank",),
    "peter": ("pete",),
    "philip": ("phil",),
    "douglas": ("doug",),
    "zachary": ("zach",),
    "dorothy": ("dot", "dottie"),
    "barbara": ("barb",),
    "cynthia": ("cindy",),
    "pamela": ("pam",),
    "judith": ("judy",),
}

DEFAULT_NICKNAMES: Final[Mapping[str, str]] = nickname_table(
    (nickname, canonical) for canonical, nicknames in _NICKNAMES.items() for nickname in nicknames
)
"""Common English given-name nicknames -> canonical form (``bob`` -> ``robert``).

Short forms shared by several names (chris, alex, sam, pat, ted, jerry, terry) are left out on
purpose: mapping them would merge people who are not the same.
"""


def normalize_person_name(text: str | None, *, nicknames: Mapping[str, str] | None = None) -> str:
    """Normalise a person's name: case-fold, strip accents and punctuation, collapse spaces.

    ``"Åsa Öberg"`` -> ``"asa oberg"``, ``"Łukasz Żółć"`` -> ``"lukasz zolc"``,
    ``"Jürgen Groß"`` -> ``"jurgen gross"``, ``"O'Brien-Smith, Mary"`` -> ``"obrien smith mary"``
    (apostrophes vanish, other punctuation separates words).

    With ``nicknames`` (e.g. :data:`DEFAULT_NICKNAMES`), every token found in the table is
    replaced by its canonical form: ``"Bob Smith"`` -> ``"robert smith"``. Keys are matched
    against normalised tokens; build a table with :func:`nickname_table` to normalise and check
    it (a table whose values are themselves keys would not be idempotent). ``None`` gives
    ``""``. Never raises on any text; idempotent and case-insensitive.
    """
    tokens = _name_tokens(_as_text(text))
    if nicknames:
        mapped: list[str] = []
        for token in tokens:
            canonical = nicknames.get(token)
            mapped.extend([token] if canonical is None else _name_tokens(canonical))
        tokens = mapped
    return " ".join(tokens)


# --------------------------------------------------------------------------------------------
# Companies
# --------------------------------------------------------------------------------------------

# Company names also lose their periods ("S.A." -> "sa"); other punctuation separates words.
_COMPANY_DROPPED: Final = _APOSTROPHES | frozenset(".")

_LEGAL_FORM_SPELLINGS: Final = (
    "AB", "AB (publ)", "publ",
    "GmbH", "mbH", "AG", "KG", "KGaA", "GmbH & Co KG", "GmbH & Co. KGaA", "e.V.",
    "& Co", "Co", "Company",
    "Sp. z o.o.", "Spółka z o.o.", "S.A.", "SA", "S.A.S.", "SAS", "SARL", "S.à r.l.",
    "S.r.l.", "SRL", "SpA", "S.p.A.",
    "Ltd", "Limited", "Inc", "Incorporated", "Corp", "Corporation",
    "LLC", "L.L.C.", "LLP", "LP", "PLC",
    "Oy", "Oyj", "AS", "ASA", "A/S", "ApS",
    "BV", "B.V.", "NV", "N.V.",
    "KK", "Pty", "Pty Ltd", "Pte", "Pte Ltd",
    # Spelled out, as people type them on web forms.
    "Aktiebolag", "Aktiebolaget", "Spółka z ograniczoną odpowiedzialnością", "Spółka Akcyjna",
    "Gesellschaft mit beschränkter Haftung", "Aktiengesellschaft", "Osakeyhtiö",
    "Public Limited Company", "Limited Liability Company",
)  # fmt: skip


def _merges(tokens: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Every way of gluing neighbouring tokens: ("s", "a") -> {("s", "a"), ("sa",)}."""
    if len(tokens) <= 1:
        return {tokens}
    found: set[tuple[str, ...]] = set()
    for rest in _merges(tokens[1:]):
        found.add((tokens[0], *rest))
        found.add((tokens[0] + rest[0], *rest[1:]))
    return found


def _legal_forms(spellings: Iterable[str]) -> frozenset[tuple[str, ...]]:
    forms: set[tuple[str, ...]] = set()
    for spelling in spellings:
        # Split at periods as well as spaces, then allow any of them to be glued back, so that
        # "Sp. z o.o." matches "sp z oo", "sp z o o", "spz oo" and "spzoo".
        split = tuple(_tokens(_fold(spelling), dropped=_APOSTROPHES))
        forms |= _merges(split)
    return frozenset(forms)


LEGAL_FORMS: Final[frozenset[tuple[str, ...]]] = _legal_forms(_LEGAL_FORM_SPELLINGS)
"""Legal-form suffixes :func:`normalize_company` strips, as normalised token sequences."""

_LONGEST_FORM: Final = max(len(form) for form in LEGAL_FORMS)
_ARTICLES: Final = frozenset({"the"})


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    while len(tokens) > 1:
        if tokens[0] in _ARTICLES:
            tokens = tokens[1:]
            continue
        for size in range(min(_LONGEST_FORM, len(tokens) - 1), 0, -1):
            if tuple(tokens[-size:]) in LEGAL_FORMS:
                tokens = tokens[:-size]
                break
        else:
            break
    return tokens


def normalize_company(text: str | None) -> str:
    """Normalise a company name: case-fold, strip accents, punctuation and legal forms.

    ``"Acme Holding GmbH & Co. KG"`` -> ``"acme holding"``, ``"Żabka Polska Sp. z o.o."`` ->
    ``"zabka polska"``, ``"The Coca-Cola Company"`` -> ``"coca cola"``,
    ``"Volvo AB (publ)"`` -> ``"volvo"``.

    Periods and apostrophes vanish (``"S.A."`` -> ``"sa"``), other punctuation separates
    words. Legal forms (:data:`LEGAL_FORMS`: AB, GmbH, AG, KG, & Co, Sp. z o.o., S.A., SAS,
    SARL, S.r.l., SpA, Ltd, Inc, Corp, LLC, LLP, PLC, Oy, AS, A/S, ApS, BV, NV, KK, Pty, e.V.,
    Company, ...) are stripped from the end, longest first and repeatedly, matched on the token
    sequence in any spacing (``"Sp. z o.o."``, ``"sp. z o. o."`` and ``"SP Z OO"`` all match). A
    leading "The" is dropped. A name is never stripped to nothing: ``"AB"`` stays ``"ab"``,
    ``"GmbH & Co KG"`` becomes ``"gmbh"``. ``None`` gives ``""``. Never raises on any text;
    idempotent and case-insensitive.
    """
    tokens = _tokens(_fold(_as_text(text)), dropped=_COMPANY_DROPPED)
    return " ".join(_strip_legal_forms(tokens))


# --------------------------------------------------------------------------------------------
# Domains and postal codes
# --------------------------------------------------------------------------------------------

_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_AUTHORITY_END: Final = re.compile(r"[/?#\\]")
_HOST_EDGES: Final = re.compile(r"[\s.]+$")  # trailing whitespace and dots


def normalize_domain(text: str | None) -> str:
    """Return the host of a URL, bare host name or e-mail address, for comparison.

    ``"https://user@www.Example.com:8443/path?q=1"`` -> ``"example.com"``,
    ``"anna@Example.SE"`` -> ``"example.se"``, ``"www.acme.de."`` -> ``"acme.de"``.

    Case-folds and drops the scheme (or ``mailto:``), path, query, fragment, user info (for an
    e-mail address: everything up to the ``@``), port, trailing dots and leading ``www.``
    labels (a ``www.`` is kept when nothing with a dot would remain, as in ``"www.com"``).
    IPv6 literals keep their brackets. ``None`` gives ``""``. Never raises on any text;
    idempotent and case-insensitive.
    """
    rest = _caseless(_as_text(text).strip())
    scheme = _SCHEME.match(rest)
    if scheme:
        rest = rest[scheme.end() :]
    elif rest.startswith("mailto:") and "@" in rest:
        rest = rest[len("mailto:") :]
    elif rest.startswith("//"):
        rest = rest[2:]
    end = _AUTHORITY_END.search(rest)
    host = rest[: end.start()] if end else rest
    host = host.rpartition("@")[2]
    while True:  # every pass only shortens the host, so this ends; the result is a fixed point
        before = host
        host = host.strip()
        if host.startswith("[") and "]" in host:  # IPv6 literal, maybe with a port
            host = host[: host.index("]") + 1]
        elif host.count(":") == 1:  # host:port (a bare IPv6 address has several colons)
            host = host.partition(":")[0]
        host = _HOST_EDGES.sub("", host)
        if host.startswith("www.") and "." in host[4:]:
            host = host[4:]
        if host == before:
            return host


_POSTAL_SEPARATORS: Final = re.compile(r"[\s\-‐‑‒–—―−]+")


def normalize_postal_code(text: str | None) -> str:
    """Upper-case a postal code and remove its spaces and dashes.

    ``"123 45"`` -> ``"12345"``, ``"sw1a 1aa"`` -> ``"SW1A1AA"``, ``"00-950"`` -> ``"00950"``.
    Compatibility characters are unfolded first (full-width ``"１２３"`` -> ``"123"``). ``None``
    gives ``""``. Never raises on any text; idempotent and case-insensitive.
    """
    current = _as_text(text)
    for _ in range(8):
        upper = unicodedata.normalize("NFKC", current).casefold().upper()  # ẞ and ß -> SS
        cleaned = _POSTAL_SEPARATORS.sub("", upper)
        if cleaned == current:
            break
        current = cleaned
    return current


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

NORMALIZERS: Final[Mapping[str, Callable[[str], str]]] = MappingProxyType(
    {
        "none": normalize_none,
        "text": normalize_text,
        "email": normalize_email,
        "phone": normalize_phone,
        "person_name": normalize_person_name,
        "company": normalize_company,
        "domain": normalize_domain,
        "postal_code": normalize_postal_code,
    }
)
"""The normalisers rules can name, each with its default configuration."""


def get_normalizer(name: str) -> Callable[[str], str]:
    """Return the normaliser registered under ``name`` in :data:`NORMALIZERS`.

    Raises ConfigurationError naming the known normalisers if ``name`` is not one of them.
    """
    try:
        return NORMALIZERS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(NORMALIZERS))
        raise ConfigurationError(
            "normalizer", f"unknown normalizer {name!r}; known: {known}"
        ) from None
