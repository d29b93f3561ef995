"""The normalisers a duplicate condition may name: the registry of
:mod:`leadkit.duplicates.normalize`, plus the free-mail, role-mailbox and nickname aware ones.

Part of the rules as data (:mod:`leadkit.duplicates.rules` re-exports every name here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Final

from leadkit.duplicates.normalize import (
    DEFAULT_NICKNAMES,
    NORMALIZERS,
    nickname_table,
    normalize_domain,
    normalize_email,
    normalize_person_name,
    normalize_text,
)
from leadkit.errors import ConfigurationError

__all__ = [
    "FREE_MAIL_DOMAINS",
    "NICKNAMES",
    "ROLE_MAILBOXES",
    "RULE_NORMALIZERS",
    "normalize_business_domain",
    "normalize_personal_email",
    "rule_normalizer",
]


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
