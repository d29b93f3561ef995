"""The columns a lead file may hold: their keys, display names in English, Swedish, Polish and
German, the profile fields each supplies, and how a lead's value is written as cell text.

The table is data, checked when the module loads: no two columns may claim the same
(normalised) header name. Export and import share it, so a file leadkit exported is mapped back
to the same columns whatever language its headers are in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Final

import attrs

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import CustomValue, OptionSet, OptionValue
from leadkit.lead import Lead
from leadkit.values import Money, PhoneNumber

__all__ = [
    "COLUMNS",
    "CUSTOM_KINDS",
    "CUSTOM_PREFIX",
    "DEFAULT_EXPORT_COLUMNS",
    "EXPORT_ONLY",
    "LANGUAGES",
    "ColumnSpec",
    "column_spec",
    "custom_key",
    "custom_text",
    "header_key",
    "lead_cell",
]

LANGUAGES: Final = ("en", "sv", "pl", "de")
"""The languages whose display names the header suggestions understand."""

CUSTOM_PREFIX: Final = "custom."
"""Column keys of custom fields are ``custom.<name>`` (``custom.industry``)."""

CUSTOM_KINDS: Final = ("text", "integer", "decimal", "boolean", "date", "datetime", "option")
"""The kinds a custom-field column may be read as (see :func:`leadkit.fields.custom_kind`)."""

_CUSTOM_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@attrs.frozen
class ColumnSpec:
    """One column: its key, its display names per language (the first is the one export
    writes), the dotted lead fields it supplies (what a profile asks for) and whether an
    import may write it."""

    key: str
    labels: Mapping[str, tuple[str, ...]]
    supplies: tuple[str, ...]
    importable: bool = True

    def display_name(self, language: str = "en") -> str:
        """The name export writes in ``language`` (English when the language has none)."""
        names = self.labels.get(language) or self.labels.get("en") or (self.key,)
        return names[0]


def _spec(
    key: str,
    supplies: tuple[str, ...],
    en: tuple[str, ...],
    sv: tuple[str, ...],
    pl: tuple[str, ...],
    de: tuple[str, ...],
    *,
    importable: bool = True,
) -> ColumnSpec:
    labels = MappingProxyType({"en": en, "sv": sv, "pl": pl, "de": de})
    return ColumnSpec(key, labels, supplies, importable)


_SPECS: Final = (
    _spec("id", (), ("Lead ID", "ID", "Lead Id"), ("Lead-ID",), ("ID leada",), ("Lead-ID",)),
    _spec(
        "topic",
        ("topic",),
        ("Topic", "Subject"),
        ("Ämne", "Rubrik"),
        ("Temat",),
        ("Thema", "Betreff"),
    ),
    _spec(
        "salutation",
        ("name.salutation", "name.full"),
        ("Salutation",),
        ("Tilltal", "Hälsningsfras"),
        ("Zwrot grzecznościowy", "Tytuł"),
        ("Anrede",),
    ),
    _spec(
        "first_name",
        ("name.first", "name.full"),
        ("First Name", "Given Name", "Firstname"),
        ("Förnamn",),
        ("Imię",),
        ("Vorname",),
    ),
    _spec(
        "middle_name",
        ("name.middle", "name.full"),
        ("Middle Name",),
        ("Mellannamn",),
        ("Drugie imię",),
        ("Zweiter Vorname", "Mittelname"),
    ),
    _spec(
        "last_name",
        ("name.last", "name.full"),
        ("Last Name", "Surname", "Family Name", "Lastname"),
        ("Efternamn",),
        ("Nazwisko",),
        ("Nachname", "Familienname"),
    ),
    _spec(
        "suffix",
        ("name.suffix", "name.full"),
        ("Suffix",),
        ("Namnsuffix",),
        ("Przyrostek",),
        ("Namenszusatz",),
    ),
    _spec(
        "full_name",
        ("name.first", "name.last", "name.full"),
        ("Full Name", "Name", "Contact Name"),
        ("Namn", "Fullständigt namn", "Kontaktperson"),
        ("Imię i nazwisko", "Osoba kontaktowa"),
        ("Vollständiger Name", "Ansprechpartner"),
    ),
    _spec(
        "job_title",
        ("job_title",),
        ("Job Title", "Position"),
        ("Befattning", "Titel", "Yrkestitel", "Roll"),
        ("Stanowisko",),
        ("Berufsbezeichnung", "Funktion", "Jobtitel"),
    ),
    _spec(
        "company",
        ("company",),
        ("Company Name", "Company", "Organization", "Organisation"),
        ("Företag", "Företagsnamn", "Bolag"),
        ("Firma", "Nazwa firmy", "Przedsiębiorstwo"),
        ("Unternehmen", "Firmenname"),
    ),
    _spec(
        "business_phone",
        ("business_phone",),
        ("Business Phone", "Phone", "Telephone", "Work Phone"),
        ("Telefon", "Arbetstelefon", "Telefon arbete"),
        ("Telefon służbowy", "Numer telefonu"),
        ("Telefon geschäftlich", "Telefon (geschäftlich)", "Geschäftlich", "Telefonnummer"),
    ),
    _spec(
        "mobile_phone",
        ("mobile_phone",),
        ("Mobile Phone", "Mobile", "Cell Phone", "Cell"),
        ("Mobiltelefon", "Mobil", "Mobilnummer"),
        ("Telefon komórkowy", "Komórka", "Telefon mobilny"),
        ("Handy", "Mobilnummer", "Mobiltelefonnummer"),
    ),
    _spec(
        "email",
        ("email",),
        ("Email", "E-mail", "Email Address", "E-mail Address", "Mail"),
        ("E-post", "E-postadress", "Epost", "Mejl"),
        ("Adres e-mail", "E-mail adres", "Poczta e-mail"),
        ("E-Mail-Adresse", "E-Mail Adresse", "Mailadresse"),
    ),
    _spec(
        "website",
        ("website",),
        ("Website", "Web Site", "Web", "URL", "Homepage"),
        ("Webbplats", "Hemsida", "Webbadress"),
        ("Strona internetowa", "Strona WWW", "WWW"),
        ("Webseite", "Internetseite", "Internetadresse"),
    ),
    _spec(
        "street1",
        ("address.line1",),
        ("Street 1", "Street", "Address", "Address 1: Street 1", "Address Line 1"),
        ("Gatuadress", "Adress", "Gata", "Utdelningsadress"),
        ("Ulica", "Adres", "Ulica 1", "Adres 1"),
        ("Straße", "Adresse", "Anschrift", "Straße 1"),
    ),
    _spec(
        "street2",
        ("address.line2",),
        ("Street 2", "Address 1: Street 2", "Address Line 2"),
        ("Gatuadress 2", "Adress 2", "C/o"),
        ("Ulica 2", "Adres 2"),
        ("Straße 2", "Adresszusatz"),
    ),
    _spec(
        "street3",
        ("address.line3",),
        ("Street 3", "Address 1: Street 3", "Address Line 3"),
        ("Gatuadress 3", "Adress 3"),
        ("Ulica 3", "Adres 3"),
        ("Straße 3",),
    ),
    _spec(
        "city",
        ("address.city",),
        ("City", "Town", "Address 1: City"),
        ("Stad", "Ort", "Postort"),
        ("Miasto", "Miejscowość"),
        ("Stadt",),
    ),
    _spec(
        "state_or_province",
        ("address.state_or_province",),
        ("State/Province", "State", "Province", "Region", "County", "Address 1: State/Province"),
        ("Län", "Delstat", "Landskap"),
        ("Województwo",),
        ("Bundesland", "Provinz"),
    ),
    _spec(
        "postal_code",
        ("address.postal_code",),
        (
            "ZIP/Postal Code",
            "Postal Code",
            "ZIP",
            "ZIP Code",
            "Postcode",
            "Address 1: ZIP/Postal Code",
        ),
        ("Postnummer", "Postnr"),
        ("Kod pocztowy",),
        ("Postleitzahl", "PLZ"),
    ),
    _spec(
        "country",
        ("address.country",),
        ("Country/Region", "Country", "Address 1: Country/Region"),
        ("Land",),
        ("Kraj",),
        ("Staat",),
    ),
    _spec(
        "source",
        ("source",),
        ("Lead Source", "Source"),
        ("Leadkälla", "Källa", "Ursprung"),
        ("Źródło leada", "Źródło"),
        ("Leadquelle", "Lead-Quelle", "Quelle", "Herkunft"),
    ),
    _spec(
        "initiated_by",
        ("initiated_by",),
        ("Initiated By",),
        ("Initierad av",),
        ("Zainicjowane przez", "Inicjowane przez"),
        ("Initiiert von",),
    ),
    _spec(
        "rating",
        ("rating",),
        ("Rating",),
        ("Betyg", "Klassificering", "Värdering"),
        ("Ocena",),
        ("Bewertung",),
    ),
    _spec(
        "budget_amount",
        ("budget_amount",),
        ("Budget Amount",),
        ("Budgetbelopp",),
        ("Kwota budżetu",),
        ("Budgetbetrag",),
    ),
    _spec(
        "budget_currency",
        ("budget_amount",),
        ("Budget Currency",),
        ("Budgetvaluta",),
        ("Waluta budżetu",),
        ("Budgetwährung",),
    ),
    _spec("budget", ("budget",), ("Budget",), ("Budget",), ("Budżet",), ("Budgetstatus",)),
    _spec("need", ("need",), ("Need",), ("Behov",), ("Potrzeba",), ("Bedarf",)),
    _spec(
        "purchase_timeframe",
        ("purchase_timeframe",),
        ("Purchase Timeframe",),
        ("Tidsram för köp", "Inköpstidsram"),
        ("Termin zakupu", "Ramy czasowe zakupu"),
        ("Kaufzeitrahmen", "Zeitrahmen"),
    ),
    _spec(
        "purchase_process",
        ("purchase_process",),
        ("Purchase Process",),
        ("Köpprocess", "Inköpsprocess"),
        ("Proces zakupu",),
        ("Kaufprozess",),
    ),
    _spec(
        "estimated_value",
        ("estimated_value",),
        ("Est. Value", "Estimated Value"),
        ("Uppskattat värde", "Beräknat värde"),
        ("Szacowana wartość",),
        ("Geschätzter Wert",),
    ),
    _spec(
        "estimated_value_currency",
        ("estimated_value",),
        ("Est. Value Currency", "Estimated Value Currency"),
        ("Valuta för uppskattat värde",),
        ("Waluta szacowanej wartości",),
        ("Währung des geschätzten Werts",),
    ),
    _spec(
        "currency",
        ("budget_amount", "estimated_value"),
        ("Currency",),
        ("Valuta",),
        ("Waluta",),
        ("Währung",),
    ),
    _spec(
        "estimated_close_date",
        ("estimated_close_date",),
        ("Est. Close Date", "Estimated Close Date"),
        ("Beräknat slutdatum", "Uppskattat slutdatum"),
        ("Szacowana data zamknięcia",),
        ("Voraussichtliches Abschlussdatum", "Geschätztes Abschlussdatum"),
    ),
    _spec(
        "description",
        ("description",),
        ("Description", "Notes", "Comments"),
        ("Beskrivning", "Anteckningar", "Kommentar"),
        ("Opis", "Uwagi", "Notatki"),
        ("Beschreibung", "Notizen", "Bemerkungen"),
    ),
    # Export only: an import never sets these (the lifecycle and the store do).
    _spec("state", (), ("Status",), ("Status",), ("Stan",), ("Zustand",), importable=False),
    _spec(
        "status_reason",
        (),
        ("Status Reason",),
        ("Statusorsak",),
        ("Przyczyna stanu",),
        ("Statusgrund",),
        importable=False,
    ),
    _spec("owner", (), ("Owner",), ("Ägare",), ("Właściciel",), ("Besitzer",), importable=False),
    _spec("score", (), ("Score",), ("Poäng",), ("Wynik",), ("Punktzahl",), importable=False),
    _spec("stars", (), ("Stars",), ("Stjärnor",), ("Gwiazdki",), ("Sterne",), importable=False),
    _spec(
        "created_at",
        (),
        ("Created On",),
        ("Skapad",),
        ("Utworzono",),
        ("Erstellt am",),
        importable=False,
    ),
    _spec(
        "modified_at",
        (),
        ("Modified On",),
        ("Ändrad",),
        ("Zmodyfikowano",),
        ("Geändert am",),
        importable=False,
    ),
)

COLUMNS: Final[Mapping[str, ColumnSpec]] = MappingProxyType({s.key: s for s in _SPECS})
"""Every built-in column by key."""

EXPORT_ONLY: Final = frozenset(k for k, s in COLUMNS.items() if not s.importable)
"""Columns an export may write that an import ignores (state, owner, timestamps)."""

DEFAULT_EXPORT_COLUMNS: Final = (
    "topic", "salutation", "first_name", "middle_name", "last_name", "suffix", "job_title",
    "company", "business_phone", "mobile_phone", "email", "website", "street1", "street2",
    "street3", "city", "state_or_province", "postal_code", "country", "source",
    "initiated_by", "rating", "budget_amount", "budget_currency", "budget", "need",
    "purchase_timeframe", "purchase_process", "estimated_value", "estimated_value_currency",
    "estimated_close_date", "description",
)  # fmt: skip
"""The columns :func:`leadkit.io.export_csv` writes by default: every importable field."""


# ---------------------------------------------------------------------------------------------
# Header names

_FOLD: Final = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae",
                              "đ": "d", "Đ": "d", "ß": "ss"})  # fmt: skip
_NOT_ALNUM: Final = re.compile(r"[^0-9a-z]+")
_CUSTOM_HEADER: Final = re.compile(r"^\s*custom\s*[.:]\s*([A-Za-z][A-Za-z0-9_]{0,63})\s*$", re.I)


def header_key(header: str) -> str:
    """A header name folded for matching: accents and case dropped, ``ł``/``ß``/``ø`` spelled
    out, everything but letters and digits removed (``"E-post"`` -> ``"epost"``)."""
    text = unicodedata.normalize("NFKD", header.translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _NOT_ALNUM.sub("", text)


def _build_lookup() -> Mapping[str, str]:
    lookup: dict[str, str] = {}
    for spec in _SPECS:
        if not spec.importable:
            continue
        names = [spec.key, *(n for names in spec.labels.values() for n in names)]
        for name in names:
            folded = header_key(name)
            other = lookup.setdefault(folded, spec.key)
            if other != spec.key:
                raise ConfigurationError(
                    "column names", f"{name!r} would name both {other!r} and {spec.key!r}"
                )
    return MappingProxyType(lookup)


HEADER_LOOKUP: Final = _build_lookup()
"""Folded header name -> column key, over every language (checked unambiguous at load)."""


def custom_key(name: str) -> str:
    """The column key of custom field ``name``. Raises InvalidValue for a bad name."""
    if not isinstance(name, str) or not _CUSTOM_NAME.match(name):
        raise InvalidValue(
            "custom_fields",
            name,
            "a custom field name must be 1-64 characters of a-z, 0-9 and '_', starting with a "
            "letter",
        )
    return CUSTOM_PREFIX + name


def suggest_key(header: str) -> str | None:
    """The column key a header names (``"Nazwisko"`` -> ``"last_name"``,
    ``"custom.industry"`` -> ``"custom.industry"``), or None."""
    custom = _CUSTOM_HEADER.match(header)
    if custom is not None:
        return CUSTOM_PREFIX + custom.group(1).lower()
    return HEADER_LOOKUP.get(header_key(header))


def column_spec(key: str) -> ColumnSpec:
    """The spec of a built-in or custom column key. Raises ConfigurationError for an unknown
    key."""
    spec = COLUMNS.get(key)
    if spec is not None:
        return spec
    if key.startswith(CUSTOM_PREFIX):
        name = key[len(CUSTOM_PREFIX) :]
        try:
            custom_key(name)
        except InvalidValue as e:
            raise ConfigurationError(f"column {key!r}", e.reason) from None
        return ColumnSpec(key, MappingProxyType({"en": (key,)}), (f"custom_fields.{name}",))
    raise ConfigurationError(
        f"column {key!r}", f"not a lead column; known: {', '.join(COLUMNS)} or custom.<name>"
    )


# ---------------------------------------------------------------------------------------------
# Cell text of a lead's value


def _iso(value: datetime) -> str:
    return value.isoformat()


def _money_amount(money: Money | None) -> str:
    return "" if money is None else format(money.amount, "f")


def _money_currency(money: Money | None) -> str:
    return "" if money is None else money.currency


def _label(option: OptionSet | None) -> str:
    return "" if option is None else option.label


def _phone(phone: PhoneNumber | None) -> str:
    """The number as typed when it carries its country code, else E.164 (plus the extension):
    a file must read back without knowing the region the number was typed in."""
    if phone is None:
        return ""
    if phone.raw.startswith("+"):
        return phone.raw
    return f"{phone.e164} ext. {phone.extension}" if phone.extension else phone.e164


def custom_text(value: CustomValue) -> str:
    """The cell text of a custom value: ISO dates, ``true``/``false``, plain decimals, an
    option's code."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, OptionValue):
        return str(value.code)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


_READERS: Final[Mapping[str, Callable[[Lead], str]]] = MappingProxyType(
    {
        "id": lambda lead: lead.id.value,
        "topic": lambda lead: lead.topic,
        "salutation": lambda lead: lead.name.salutation,
        "first_name": lambda lead: lead.name.first,
        "middle_name": lambda lead: lead.name.middle,
        "last_name": lambda lead: lead.name.last,
        "suffix": lambda lead: lead.name.suffix,
        "full_name": lambda lead: lead.name.full,
        "job_title": lambda lead: lead.job_title,
        "company": lambda lead: lead.company,
        "business_phone": lambda lead: _phone(lead.business_phone),
        "mobile_phone": lambda lead: _phone(lead.mobile_phone),
        "email": lambda lead: lead.email.text if lead.email else "",
        "website": lambda lead: lead.website.text if lead.website else "",
        "street1": lambda lead: lead.address.line1,
        "street2": lambda lead: lead.address.line2,
        "street3": lambda lead: lead.address.line3,
        "city": lambda lead: lead.address.city,
        "state_or_province": lambda lead: lead.address.state_or_province,
        "postal_code": lambda lead: lead.address.postal_code,
        "country": lambda lead: lead.address.country,
        "source": lambda lead: _label(lead.source),
        "initiated_by": lambda lead: lead.initiated_by,
        "rating": lambda lead: _label(lead.rating),
        "budget_amount": lambda lead: _money_amount(lead.budget_amount),
        "budget_currency": lambda lead: _money_currency(lead.budget_amount),
        "budget": lambda lead: _label(lead.budget),
        "need": lambda lead: _label(lead.need),
        "purchase_timeframe": lambda lead: _label(lead.purchase_timeframe),
        "purchase_process": lambda lead: _label(lead.purchase_process),
        "estimated_value": lambda lead: _money_amount(lead.estimated_value),
        "estimated_value_currency": lambda lead: _money_currency(lead.estimated_value),
        "currency": lambda lead: _money_currency(lead.budget_amount or lead.estimated_value),
        "estimated_close_date": lambda lead: (
            lead.estimated_close_date.isoformat() if lead.estimated_close_date else ""
        ),
        "description": lambda lead: lead.description,
        "state": lambda lead: lead.state.label,
        "status_reason": lambda lead: lead.reason.label,
        "owner": lambda lead: lead.owner.id,
        "score": lambda lead: "" if lead.score is None else format(lead.score, "f"),
        "stars": lambda lead: "" if lead.stars is None else str(lead.stars),
        "created_at": lambda lead: _iso(lead.created_at),
        "modified_at": lambda lead: _iso(lead.modified_at),
    }
)

if set(_READERS) != set(COLUMNS):  # pragma: no cover - checked when the module loads
    raise ConfigurationError("columns", "every column needs a reader and a spec")


def lead_cell(lead: Lead, key: str) -> str:
    """The cell text of column ``key`` for ``lead`` (not yet neutralised). Raises
    ConfigurationError for an unknown column."""
    reader = _READERS.get(key)
    if reader is not None:
        return reader(lead)
    column_spec(key)
    value = lead.custom_fields.get(key[len(CUSTOM_PREFIX) :])
    return "" if value is None else custom_text(value)
