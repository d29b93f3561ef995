"""Duplicate detection: normalisers, rules, blocking keys and the matching engine.

Only the normalisers exist so far (:mod:`leadkit.duplicates.normalize`); they are re-exported
here.
"""

from leadkit.duplicates.normalize import (
    DEFAULT_NICKNAMES,
    LEGAL_FORMS,
    NORMALIZERS,
    get_normalizer,
    nickname_table,
    normalize_company,
    normalize_domain,
    normalize_email,
    normalize_none,
    normalize_person_name,
    normalize_phone,
    normalize_postal_code,
    normalize_text,
    strip_accents,
)

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
