"""Field labels: the names users know the lead fields by, in the languages the import
headers understand (English, Swedish, Polish, German).

Every :class:`~leadkit.errors.FieldProblem` carries the English label of its field, and its
``describe(language)`` names the field as users know it and by its path:
"Last Name (name.last): is required". The labels are the first column names of the import
headers (``leadkit.io.columns``; a test keeps the two in step). Pure data, stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["FIELD_LABELS", "LABEL_LANGUAGES", "field_label"]

LABEL_LANGUAGES: Final = ("en", "sv", "pl", "de")
"""The languages of :data:`FIELD_LABELS`, in the order of each entry."""

_LABELS: Final[dict[str, tuple[str, str, str, str]]] = {
    "topic": ("Topic", "Ämne", "Temat", "Thema"),
    "name": ("Name", "Namn", "Imię i nazwisko", "Name"),
    "job_title": ("Job Title", "Befattning", "Stanowisko", "Berufsbezeichnung"),
    "company": ("Company Name", "Företag", "Firma", "Unternehmen"),
    "business_phone": ("Business Phone", "Telefon", "Telefon służbowy", "Telefon geschäftlich"),
    "mobile_phone": ("Mobile Phone", "Mobiltelefon", "Telefon komórkowy", "Handy"),
    "email": ("Email", "E-post", "Adres e-mail", "E-Mail-Adresse"),
    "website": ("Website", "Webbplats", "Strona internetowa", "Webseite"),
    "address": ("Address", "Adress", "Adres", "Adresse"),
    "source": ("Lead Source", "Leadkälla", "Źródło leada", "Leadquelle"),
    "initiated_by": ("Initiated By", "Initierad av", "Zainicjowane przez", "Initiiert von"),
    "rating": ("Rating", "Betyg", "Ocena", "Bewertung"),
    "budget_amount": ("Budget Amount", "Budgetbelopp", "Kwota budżetu", "Budgetbetrag"),
    "budget": ("Budget", "Budget", "Budżet", "Budgetstatus"),
    "need": ("Need", "Behov", "Potrzeba", "Bedarf"),
    "purchase_timeframe": (
        "Purchase Timeframe",
        "Tidsram för köp",
        "Termin zakupu",
        "Kaufzeitrahmen",
    ),
    "purchase_process": ("Purchase Process", "Köpprocess", "Proces zakupu", "Kaufprozess"),
    "description": ("Description", "Beskrivning", "Opis", "Beschreibung"),
    "estimated_value": ("Est. Value", "Uppskattat värde", "Szacowana wartość", "Geschätzter Wert"),
    "estimated_close_date": (
        "Est. Close Date",
        "Beräknat slutdatum",
        "Szacowana data zamknięcia",
        "Voraussichtliches Abschlussdatum",
    ),
    "custom_fields": (
        "Custom Fields",
        "Egna fält",
        "Pola niestandardowe",
        "Benutzerdefinierte Felder",
    ),
    "name.first": ("First Name", "Förnamn", "Imię", "Vorname"),
    "name.last": ("Last Name", "Efternamn", "Nazwisko", "Nachname"),
    "name.middle": ("Middle Name", "Mellannamn", "Drugie imię", "Zweiter Vorname"),
    "name.salutation": ("Salutation", "Tilltal", "Zwrot grzecznościowy", "Anrede"),
    "name.suffix": ("Suffix", "Namnsuffix", "Przyrostek", "Namenszusatz"),
    "name.full": ("Full Name", "Fullständigt namn", "Pełne imię i nazwisko", "Vollständiger Name"),
    "address.line1": ("Street 1", "Gatuadress", "Ulica", "Straße"),
    "address.line2": ("Street 2", "Gatuadress 2", "Ulica 2", "Straße 2"),
    "address.line3": ("Street 3", "Gatuadress 3", "Ulica 3", "Straße 3"),
    "address.city": ("City", "Stad", "Miasto", "Stadt"),
    "address.state_or_province": ("State/Province", "Län", "Województwo", "Bundesland"),
    "address.postal_code": ("ZIP/Postal Code", "Postnummer", "Kod pocztowy", "Postleitzahl"),
    "address.country": ("Country/Region", "Land", "Kraj", "Staat"),
}

FIELD_LABELS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        path: MappingProxyType(dict(zip(LABEL_LANGUAGES, names, strict=True)))
        for path, names in _LABELS.items()
    }
)
"""Each labelled dotted field path's label per language."""


def field_label(path: str, language: str = "en") -> str:
    """The label of the dotted field ``path`` in ``language`` (English when that language
    has none); ``""`` for a path without a label (a custom field, an internal argument).
    A path nested under a prefix (``fields.name.last``) takes the label of its longest
    labelled tail. Raises nothing."""
    parts = path.split(".")
    for start in range(len(parts)):
        found = FIELD_LABELS.get(".".join(parts[start:]))
        if found is not None:
            return found.get(language) or found["en"]
    return ""
