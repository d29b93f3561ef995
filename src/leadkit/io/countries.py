"""Country names to ISO 3166 region codes, for reading phone numbers typed without a country
code (``040-38 86 89`` in a row whose country is ``Sverige`` is a Swedish number).

Names come from pycountry (the ISO 3166 data and its translations, part of the ``io`` extra):
the English common, official and short names, the alpha-2 and alpha-3 codes and the names in
Swedish, Polish and German, matched case- and accent-insensitively.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from leadkit.io.columns import LANGUAGES, header_key

__all__ = ["region_of_country"]


@cache
def _regions() -> Mapping[str, str]:
    import pycountry

    found: dict[str, str] = {}
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in LANGUAGES
        if lang != "en"
    ]
    for country in pycountry.countries:
        code = country.alpha_2
        names = {
            country.alpha_2,
            country.alpha_3,
            country.name,
            getattr(country, "official_name", ""),
            getattr(country, "common_name", ""),
        }
        for english in list(names):
            if english:
                names |= {t.gettext(english) for t in translations}
        for name in names:
            if name:
                found.setdefault(header_key(name), code)
    found.setdefault("uk", "GB")  # not ISO, but what people write
    return MappingProxyType(found)


def region_of_country(country: str) -> str | None:
    """The ISO 3166 alpha-2 code (``"SE"``) a country name or code names (``"Sverige"``,
    ``"Sweden"``, ``"SWE"``, ``"se"``, ``"Szwecja"``, ``"Schweden"``), or None when it names
    none."""
    key = header_key(country)
    return _regions().get(key) if key else None
