"""Phones and text damage for the duplicate-data generator: new numbers and the formats people
type them in, typos, dropped accents, invented brands, postal codes and slugs.

Part of :mod:`leadkit.testing.dupdata`; nothing here is public.
"""

from __future__ import annotations

import random
import unicodedata
from typing import Final

import attrs

from leadkit.duplicates.normalize import strip_accents
from leadkit.testing.dupdata_locales import _Locale

__all__: list[str] = []

# --------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


@attrs.frozen
class _Phone:
    """A phone number as its country code and national digits (without trunk prefix)."""

    locale: str
    national: str
    mobile: bool

    @property
    def e164(self) -> str:
        return f"+{_COUNTRY_CODES[self.locale]}{self.national}"


def _new_phone(rng: random.Random, locale: _Locale, *, mobile: bool) -> _Phone:
    code = locale.code
    if code == "SE":
        national = (
            rng.choice(("70", "72", "73", "76", "79")) + _digits(rng, 7)
            if mobile
            else rng.choice(("8", "31", "40", "18", "13")) + _digits(rng, 7)
        )
    elif code == "PL":
        national = (
            rng.choice("5678") + _digits(rng, 8)
            if mobile
            else rng.choice(("22", "12", "61", "71", "58")) + _digits(rng, 7)
        )
    elif code == "DE":
        national = (
            rng.choice(("151", "152", "160", "170", "171", "176")) + _digits(rng, 8)
            if mobile
            else rng.choice(("30", "40", "89", "221", "69")) + _digits(rng, 7)
        )
    elif code == "GB":
        national = (
            "7" + rng.choice("4579") + _digits(rng, 8)
            if mobile
            else "20" + rng.choice("378") + _digits(rng, 7)
        )
    else:
        area = rng.choice(("212", "415", "312", "617", "512", "206"))
        national = area + rng.choice("23456789") + _digits(rng, 6)
    return _Phone(code, national, mobile)


_COUNTRY_CODES: Final = {"SE": "46", "PL": "48", "DE": "49", "GB": "44", "US": "1"}


def _format_phone(phone: _Phone, style: int) -> str:
    """The number as a person would type it; ``style`` picks one of the local habits."""
    n, cc = phone.national, _COUNTRY_CODES[phone.locale]
    styles: tuple[str, ...]
    if phone.locale == "SE":
        split = 2 if n[0] == "7" else (1 if n[0] == "8" else 2)
        head, rest = n[:split], n[split:]
        grouped = f"{rest[:3]} {rest[3:5]} {rest[5:]}"
        styles = (
            f"0{head}-{grouped}", f"0{head} {grouped}", f"0{n}", f"+{cc} {head} {grouped}",
            f"+{cc}{n}", f"00{cc} {head} {grouped}", f"+{cc} (0){head}-{grouped}",
        )  # fmt: skip
    elif phone.locale == "PL":
        styles = (
            f"{n[:3]} {n[3:6]} {n[6:]}", f"+{cc} {n[:3]} {n[3:6]} {n[6:]}",
            f"{n[:3]}-{n[3:6]}-{n[6:]}", f"{n}", f"00{cc}{n}", f"+{cc}{n}",
            f"({n[:2]}) {n[2:5]} {n[5:7]} {n[7:]}",
        )  # fmt: skip
    elif phone.locale == "DE":
        split = 3 if n[0] == "1" else (2 if len(n) == 9 else 3)
        head, rest = n[:split], n[split:]
        styles = (
            f"0{head} {rest}", f"+{cc} {head} {rest}", f"0{head}/{rest}", f"+{cc} (0){head} {rest}",
            f"0{head}-{rest}", f"+{cc}{n}", f"00{cc} {head} {rest}",
        )  # fmt: skip
    elif phone.locale == "GB":
        if n[0] == "7":
            head, rest = n[:4], n[4:]
        else:
            head, rest = n[:2], f"{n[2:6]} {n[6:]}"
        styles = (
            f"0{head} {rest}", f"+{cc} {head} {rest}", f"+{cc} (0){head} {rest}",
            f"0{n}", f"+{cc}{n}", f"00{cc} {head} {rest}",
        )  # fmt: skip
    else:
        styles = (
            f"({n[:3]}) {n[3:6]}-{n[6:]}", f"{n[:3]}-{n[3:6]}-{n[6:]}", f"{n[:3]}.{n[3:6]}.{n[6:]}",
            f"+1 {n[:3]} {n[3:6]} {n[6:]}", f"+1{n}", f"1-{n[:3]}-{n[3:6]}-{n[6:]}",
        )  # fmt: skip
    return styles[style % len(styles)]


# --------------------------------------------------------------------------------------------
# Text damage
# --------------------------------------------------------------------------------------------

_KEYBOARD: Final = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij",
    "i": "uok", "o": "ipl", "p": "ol", "a": "qsz", "s": "adwx", "d": "sfe", "f": "dgr",
    "g": "fht", "h": "gjy", "j": "hku", "k": "jli", "l": "ko", "z": "xa", "x": "zcs",
    "c": "xvd", "v": "cbf", "b": "vng", "n": "bmh", "m": "nj",
}  # fmt: skip


def _typo(rng: random.Random, text: str) -> str:
    """One typing slip: a letter dropped, doubled, swapped with the next, or a neighbour key."""
    if len(text) < 3:
        return text + text[-1:]
    # Slips at the first letter are rare: people look at the start of a word.
    i = rng.randrange(1, len(text)) if rng.random() < 0.9 else 0
    kind = rng.random()
    if kind < 0.3:
        return text[:i] + text[i + 1 :]
    if kind < 0.5:
        return text[:i] + text[i] + text[i:]
    if kind < 0.75 and i < len(text) - 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    char = text[i]
    near = _KEYBOARD.get(char.lower())
    if not near:
        return text[:i] + text[i + 1 :]
    swap = rng.choice(near)
    return text[:i] + (swap.upper() if char.isupper() else swap) + text[i + 1 :]


_TRANSLITERATE: Final = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "å": "aa",
     "Å": "Aa"}
)  # fmt: skip


def _deaccent(rng: random.Random, text: str) -> str:
    """Accents dropped (``Åsa`` -> ``Asa``) or, sometimes, transliterated (``Müller`` ->
    ``Mueller``), as a keyboard without them produces."""
    if rng.random() < 0.4:
        return text.translate(_TRANSLITERATE)
    return strip_accents(text)


_ONSETS: Final = ("b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
                   "br", "cr", "dr", "fl", "gr", "kl", "pr", "st", "tr", "vr")  # fmt: skip
_VOWELS: Final = ("a", "e", "i", "o", "u", "y", "ai", "eo", "io")
_CODAS: Final = ("", "", "n", "r", "s", "x", "l", "m", "nt", "rk", "ll", "ra", "ix", "on")


def _brand(rng: random.Random) -> str:
    syllables = rng.choice((2, 2, 3))
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
    return (word + rng.choice(_CODAS)).capitalize()


def _postal(rng: random.Random, pattern: str) -> str:
    return "".join(
        str(rng.randrange(10))
        if c == "#"
        else rng.choice("ABDEFGHJLNPQRSTUWXYZ")
        if c == "@"
        else c
        for c in pattern
    )


def _ascii(text: str) -> str:
    folded = strip_accents(text).lower()
    return "".join(c for c in folded if c.isalnum())


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKC", strip_accents(text)).lower()
    return "".join(c if c.isalnum() else "-" for c in folded).strip("-").replace("--", "-")
