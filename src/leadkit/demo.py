"""Realistic, seeded sample leads for ``leadkit demo`` (no hypothesis needed).

:func:`demo_patches` yields the fields of ``count`` plausible leads: Nordic and English names,
companies, e-mail addresses and phone numbers, sources, ratings, budgets and needs, with a few
near-duplicates (a nickname, a typo, another case) so that a duplicate scan has something to
find. The same seed gives the same leads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Final, TypeVar

from leadkit.fields import Budget, LeadSource, Need, PurchaseTimeframe, Rating
from leadkit.patch import LeadPatch
from leadkit.values import Address, Money, PersonName

__all__ = ["DEMO_SELLERS", "demo_patches"]

T = TypeVar("T")


class _Rng:
    """A tiny seeded generator (splitmix64): pure and deterministic, so the core imports no
    ``random`` and holds no global state."""

    def __init__(self, seed: int) -> None:
        self._state = seed & 0xFFFFFFFFFFFFFFFF

    def _next(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next() >> 11) / float(1 << 53)

    def randrange(self, low: int, high: int | None = None) -> int:
        if high is None:
            low, high = 0, low
        return low + self._next() % (high - low)

    def choice(self, items: Sequence[T]) -> T:
        return items[self._next() % len(items)]


_FIRST: Final = (
    "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Sara", "Per", "Emma", "Nils",
    "Ingrid", "Olof", "Elin", "Magnus", "Sofia", "Henrik", "Ada", "James", "Olivia", "Liam",
    "Noah", "Mia", "Lucas", "Freja", "Oskar", "Astrid", "Hugo", "Ella", "Axel", "Maja",
)  # fmt: skip
_LAST: Final = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Lindberg", "Berg", "Hansen", "Jensen", "Virtanen",
    "Smith", "Jones", "Taylor", "Brown", "Lovelace", "Holm", "Dahl", "Lund", "Sandberg",
    "Nyström", "Åkesson", "Öberg", "Lindqvist", "Wallin", "Ek",
)  # fmt: skip
_COMPANY_A: Final = (
    "Nord", "Fjäll", "Havs", "Skog", "Sol", "Berg", "Ljus", "Stål", "Vind", "Kust", "Polar",
    "Blue", "Iron", "Bright", "North", "Silver",
)  # fmt: skip
_COMPANY_B: Final = (
    "data", "tech", "logistik", "bygg", "energi", "media", "systems", "works", "consult",
    "foods", "design", "labs",
)  # fmt: skip
_FORMS: Final = ("AB", "AB", "Oy", "AS", "A/S", "Ltd", "Inc.", "")
_CITIES: Final = (
    ("Stockholm", "Sweden", "+46 8"),
    ("Göteborg", "Sweden", "+46 31"),
    ("Malmö", "Sweden", "+46 40"),
    ("Oslo", "Norway", "+47 2"),
    ("Helsinki", "Finland", "+358 9"),
    ("Copenhagen", "Denmark", "+45 3"),
    ("London", "United Kingdom", "+44 20"),
)
_TOPICS: Final = (
    "New CRM rollout", "Fleet tracking pilot", "Office furniture", "Cloud migration",
    "Annual support contract", "Website redesign", "Training for 20 staff", "Solar panels",
    "Warehouse scanners", "Security audit", "Licence renewal", "Trade show follow-up",
)  # fmt: skip
_TITLES: Final = ("CEO", "CTO", "Purchasing manager", "IT manager", "Head of Sales", "")
_NICK: Final = {"Johan": "Jon", "Margareta": "Maggan", "Magnus": "Mange", "James": "Jim"}
_SOURCES: Final = tuple(LeadSource)

DEMO_SELLERS: Final = ("anna.s", "bo.k", "cecilia.m", "david.l", "eva.n")
"""The user ids the demo assigns leads to."""


def _ascii(text: str) -> str:
    return (
        text.lower()
        .replace("å", "a")
        .replace("ä", "a")
        .replace("ö", "o")
        .replace("ø", "o")
        .replace("/", "")
        .replace(" ", "")
        .replace(".", "")
    )


def _one(rng: _Rng, n: int) -> dict[str, object]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    company = f"{rng.choice(_COMPANY_A)}{rng.choice(_COMPANY_B)} {rng.choice(_FORMS)}".strip()
    city, country, prefix = rng.choice(_CITIES)
    domain = _ascii(company.rsplit(" ", 1)[0]) + rng.choice((".se", ".com", ".no", ".fi"))
    fields: dict[str, object] = {
        "topic": rng.choice(_TOPICS),
        "name": PersonName(first=first, last=last),
        "company": company,
        "job_title": rng.choice(_TITLES),
        "email": f"{_ascii(first)}.{_ascii(last)}{n}@{domain}",
        "business_phone": f"{prefix} {rng.randrange(100, 999)} {rng.randrange(10, 99)} "
        f"{rng.randrange(10, 99)}",
        "address": Address(city=city, country=country),
        "source": rng.choice(_SOURCES),
    }
    if rng.random() < 0.6:
        fields["rating"] = rng.choice(tuple(Rating))
    if rng.random() < 0.5:
        fields["budget"] = rng.choice(tuple(Budget))
    if rng.random() < 0.5:
        fields["need"] = rng.choice(tuple(Need))
    if rng.random() < 0.4:
        fields["purchase_timeframe"] = rng.choice(tuple(PurchaseTimeframe))
    if rng.random() < 0.5:
        fields["estimated_value"] = Money(Decimal(rng.randrange(5, 500) * 1000), "SEK")
    return fields


def _near_duplicate(rng: _Rng, fields: dict[str, object]) -> dict[str, object]:
    copy = dict(fields)
    name = fields["name"]
    assert isinstance(name, PersonName)
    kind = rng.randrange(3)
    if kind == 0:
        first = _NICK.get(name.first, name.first)
        copy["name"] = PersonName(first=first, last=name.last)
    elif kind == 1:
        last = name.last
        copy["name"] = PersonName(first=name.first, last=last[:-1] + last[-1] * 2)
    else:
        copy["email"] = str(fields["email"]).upper()
    copy["topic"] = "Re: " + str(fields["topic"])
    return copy


def demo_patches(
    count: int, *, seed: int = 2024, duplicate_share: float = 0.03
) -> Iterator[LeadPatch]:
    """The fields of ``count`` demo leads; about ``duplicate_share`` of them are
    near-duplicates of an earlier one. Deterministic for a seed."""
    rng = _Rng(seed)
    recent: list[dict[str, object]] = []
    for n in range(count):
        if recent and rng.random() < duplicate_share:
            fields = _near_duplicate(rng, rng.choice(recent))
        else:
            fields = _one(rng, n)
            recent.append(fields)
            if len(recent) > 200:
                recent.pop(0)
        yield LeadPatch.from_mapping(fields)
