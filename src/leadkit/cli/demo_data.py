"""Realistic, seeded sample leads for ``leadkit demo`` (no hypothesis, no ``random``).

:func:`demo_leads` yields ``count`` plausible leads from six countries (Sweden, Norway,
Finland, Denmark, the United Kingdom, Germany): people with common and rare names drawn from
large per-country pools (Zipf-like, as real names are), working at companies of very
different sizes (a few large customers, a long tail of small ones), with company or free-mail
e-mail addresses, direct, switchboard and mobile numbers in several formats, addresses with
postal codes, sources, ratings, budgets, needs and values that go together (a hot lead more
often has a budget), and creation dates spread over the period before ``end``.

About ``duplicate_share`` of the leads (2.5 % by default) are the same person typed in again
the way people do: a typo, a nickname, accents dropped, another case, a phone number in
another format or left out, another e-mail address, the company's legal form dropped or
added, a few days later. Each names the lead it duplicates (``duplicate_of``), so a duplicate
scan has a known, realistic amount to find. The same seed gives the same leads.
"""

from __future__ import annotations

import bisect
import multiprocessing
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Final, TypeVar

import attrs

from leadkit.errors import InvalidValue
from leadkit.fields import Budget, LeadSource, Need, PurchaseTimeframe, Rating
from leadkit.patch import LeadPatch
from leadkit.values import Address, Money, PersonName, require_aware

__all__ = ["DEMO_SELLERS", "DemoLead", "demo_batches", "demo_leads"]

T = TypeVar("T")

DEMO_SELLERS: Final = ("anna.s", "bo.k", "cecilia.m", "david.l", "eva.n")
"""The user ids the demo assigns leads to."""


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

    def digits(self, n: int) -> str:
        return str(self._next() % 10**n).zfill(n)  # n <= 19


class _Zipf:
    """Picks from a list with weight 1 / rank**exponent (the first items most often)."""

    def __init__(self, items: Sequence[str], exponent: float = 0.25) -> None:
        self.items = tuple(items)
        weights = [1 / (rank**exponent) for rank in range(1, len(self.items) + 1)]
        self._cumulative = list(accumulate(weights))

    def pick(self, rng: _Rng) -> str:
        point = rng.random() * self._cumulative[-1]
        return self.items[min(bisect.bisect_right(self._cumulative, point), len(self.items) - 1)]


def _weighted(rng: _Rng, options: Sequence[tuple[T, float]]) -> T:
    point = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        point -= weight
        if point < 0:
            return value
    return options[-1][0]


# ---------------------------------------------------------------------------------------------
# Material per country


@attrs.frozen
class _Country:
    code: str
    female: _Zipf
    male: _Zipf
    surnames: _Zipf
    roots: tuple[str, ...]
    trades: tuple[str, ...]
    forms: tuple[tuple[str, float], ...]
    tld: str
    free_mail: tuple[str, ...]
    cities: tuple[tuple[str, str, str], ...]  # city, postal pattern (# digit), phone area
    country: str
    calling: str
    mobile: tuple[str, ...]
    national_digits: int
    currency: str


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SE = _Country(
    code="SE",
    female=_Zipf(
        _names(
            "Anna Maria Karin Sara Emma Elin Sofia Ingrid Kristina Eva Lena Kerstin Linnéa Johanna "
            "Malin Ida Hanna Frida Åsa Ebba Maja Astrid Klara Lisa Camilla Helena Ulrika Annika "
            "Margareta Birgitta Cecilia Jenny Therese Louise Matilda Agnes Wilma Alice Elsa Signe"
        )
    ),
    male=_Zipf(
        _names(
            "Erik Lars Johan Per Nils Olof Magnus Henrik Anders Karl Mikael Jan Hans Peter "
            "Fredrik Daniel Andreas Stefan Mattias Jonas Gustav Oskar Axel Hugo Viktor Björn "
            "Göran Ulf Mats Sven Bengt Tomas Patrik Joakim Emil Filip Linus Rasmus Kalle Leif"
        )
    ),
    surnames=_Zipf(
        _names(
            "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
            "Gustafsson Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson "
            "Magnusson Lindström Olofsson Lindqvist Lindgren Berg Axelsson Bergström Lundberg "
            "Lundqvist Lind Lundgren Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg "
            "Sjöberg Wallin Engström Eklund Danielsson Lundin Håkansson Björk Bergman Gunnarsson "
            "Holm Wikström Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg Arvidsson "
            "Löfgren Söderberg Nyberg Blomqvist Claesson Nordström Mårtensson Lundström Viklund "
            "Björklund Eliasson Pålsson Berggren Sandström Nordin Ström Åberg Falk Ekström "
            "Hermansson Holmgren Dahlberg Hellström Hedlund Sundberg Sjögren Ek Öberg Åkesson "
            "Strand Dahl Hassan Ali"
        ),
        0.35,
    ),
    roots=_names(
        "Nord Fjäll Havs Skog Sol Berg Ljus Stål Vind Kust Polar Norr Syd Öst Väst Älv Sjö Dal "
        "Ek Gran Björk Lin Sten Järn Guld Silver Stjärn Måne Is Eld Vatten Klipp Ängs Lönn "
        "Malm Hav Storm Dimma Tall Rosen"
    ),
    trades=_names(
        "data tech logistik bygg energi media system konsult mat design labb transport "
        "fastigheter el rör plast trä verkstad automation miljö finans vård optik print "
        "säkerhet"
    ),
    forms=(("AB", 0.85), ("HB", 0.05), ("Aktiebolag", 0.03), ("", 0.07)),
    tld="se",
    free_mail=("gmail.com", "hotmail.com", "outlook.com", "telia.com", "live.se", "hotmail.se"),
    cities=(
        ("Stockholm", "11# ##", "8"),
        ("Göteborg", "41# ##", "31"),
        ("Malmö", "21# ##", "40"),
        ("Uppsala", "75# ##", "18"),
        ("Västerås", "72# ##", "21"),
        ("Örebro", "70# ##", "19"),
        ("Linköping", "58# ##", "13"),
        ("Umeå", "90# ##", "90"),
        ("Lund", "22# ##", "46"),
        ("Jönköping", "55# ##", "36"),
    ),
    country="Sweden",
    calling="46",
    mobile=("70", "72", "73", "76"),
    national_digits=9,
    currency="SEK",
)

_NO = _Country(
    code="NO",
    female=_Zipf(
        _names(
            "Nora Emma Ingrid Sofie Maja Ida Hanna Kari Anne Inger Marit Liv Randi Silje Ragnhild "
            "Tone Hilde Solveig Guro Sigrid Thea Marte Line Kristin Heidi Tuva"
        )
    ),
    male=_Zipf(
        _names(
            "Jan Per Bjørn Ole Lars Kjell Knut Arne Svein Thomas Hans Geir Tor Morten Terje Odd "
            "Erik Martin Andreas Jon Harald Magnus Sindre Eirik Håkon Sander Jakob Henrik"
        )
    ),
    surnames=_Zipf(
        _names(
            "Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Kristiansen Jensen Karlsen "
            "Johnsen Pettersen Eriksen Berg Haugen Hagen Johannessen Andreassen Jacobsen Dahl "
            "Jørgensen Halvorsen Henriksen Lund Sørensen Jakobsen Moen Gundersen Iversen Strand "
            "Solberg Svendsen Eide Knutsen Martinsen Paulsen Bakken Kristoffersen Mathisen Lie "
            "Amundsen Nguyen Rasmussen Lunde Solheim Berntsen Nygård Bakke Kristensen Haug"
        ),
        0.35,
    ),
    roots=_names(
        "Fjord Nord Vest Fjell Havn Bre Elv Skog Stein Vind Lys Kyst Øy Dal Berg Tind Sjø "
        "Nordlys Viking Polar Midnatt Furu Bjørk"
    ),
    trades=_names(
        "data teknikk bygg energi media system konsult mat design transport eiendom elektro "
        "rør sjømat offshore shipping helse sikkerhet"
    ),
    forms=(("AS", 0.9), ("ASA", 0.03), ("", 0.07)),
    tld="no",
    free_mail=("gmail.com", "hotmail.com", "outlook.com", "icloud.com", "live.com"),
    cities=(
        ("Oslo", "0###", "2"),
        ("Bergen", "50##", "5"),
        ("Trondheim", "70##", "7"),
        ("Stavanger", "40##", "5"),
        ("Tromsø", "90##", "7"),
    ),
    country="Norway",
    calling="47",
    mobile=("4", "9"),
    national_digits=8,
    currency="NOK",
)

_FI = _Country(
    code="FI",
    female=_Zipf(
        _names(
            "Anne Tuula Päivi Anna Leena Kaarina Johanna Pirjo Sari Minna Marja Riitta Aino Eeva "
            "Helmi Kirsi Laura Elina Hanna Sanna Satu Tiina Heidi Outi"
        )
    ),
    male=_Zipf(
        _names(
            "Juha Timo Matti Kari Mikko Jari Antti Jukka Mika Markku Pekka Hannu Heikki Seppo "
            "Janne Ari Sami Ville Petri Jussi Tuomas Eero Lauri Olli"
        )
    ),
    surnames=_Zipf(
        _names(
            "Korhonen Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen "
            "Järvinen Lehtonen Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen "
            "Turunen Salo Laitinen Tuominen Rantanen Karjalainen Jokinen Mattila Savolainen "
            "Lahtinen Ahonen Leppänen Hiltunen Miettinen Kettunen Väisänen Pitkänen"
        ),
        0.35,
    ),
    roots=_names(
        "Suomen Pohjolan Järvi Metsä Kivi Tuuli Revontuli Karhu Kotka Saimaan Lapin Meri "
        "Aurora Nokka Sisu"
    ),
    trades=_names(
        "data tekniikka rakennus energia media systeemi konsultointi ruoka design logistiikka "
        "kiinteistö sähkö"
    ),
    forms=(("Oy", 0.85), ("Oyj", 0.05), ("Ab", 0.03), ("", 0.07)),
    tld="fi",
    free_mail=("gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com"),
    cities=(
        ("Helsinki", "00###", "9"),
        ("Espoo", "02###", "9"),
        ("Tampere", "33###", "3"),
        ("Turku", "20###", "2"),
        ("Oulu", "90###", "8"),
    ),
    country="Finland",
    calling="358",
    mobile=("40", "50", "44"),
    national_digits=9,
    currency="EUR",
)

_DK = _Country(
    code="DK",
    female=_Zipf(
        _names(
            "Anne Kirsten Mette Hanne Helle Anna Susanne Lene Maria Marianne Lone Camilla Pia "
            "Louise Charlotte Tina Gitte Bente Karen Rikke Ida Freja Sofie Laura"
        )
    ),
    male=_Zipf(
        _names(
            "Peter Jens Michael Lars Henrik Thomas Søren Jan Niels Christian Martin Jørgen Hans "
            "Anders Morten Rasmus Mads Jesper Ole Per Kasper Mikkel Frederik Emil"
        )
    ),
    surnames=_Zipf(
        _names(
            "Nielsen Jensen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen "
            "Jørgensen Petersen Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen "
            "Møller Mortensen Knudsen Jakobsen Mikkelsen Olesen Frederiksen Laursen Henriksen Lund "
            "Schmidt Eriksen Holm Kristiansen Clausen Simonsen Svendsen Andreasen Iversen Jeppesen "
            "Mogensen Jacobsen"
        ),
        0.35,
    ),
    roots=_names(
        "Dansk Nordisk Sjælland Jysk Fyns Øresund Havne Kyst Vinge Lys Skov Strand Bølge "
        "Anker Fyr Klint"
    ),
    trades=_names(
        "data teknik byg energi medie system konsult mad design logistik ejendomme el vvs transport"
    ),
    forms=(("A/S", 0.55), ("ApS", 0.35), ("", 0.1)),
    tld="dk",
    free_mail=("gmail.com", "hotmail.com", "outlook.com", "live.com", "icloud.com"),
    cities=(
        ("København", "1###", "3"),
        ("Aarhus", "8###", "8"),
        ("Odense", "5###", "6"),
        ("Aalborg", "9###", "9"),
    ),
    country="Denmark",
    calling="45",
    mobile=("2", "3", "4"),
    national_digits=8,
    currency="DKK",
)

_GB = _Country(
    code="GB",
    female=_Zipf(
        _names(
            "Olivia Amelia Isla Ava Emily Sophie Grace Lily Freya Mia Ella Charlotte Jessica Sarah "
            "Emma Laura Rebecca Rachel Hannah Claire Helen Karen Susan Julie Louise Victoria "
            "Catherine Elizabeth Margaret Lucy"
        )
    ),
    male=_Zipf(
        _names(
            "Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James John David "
            "Michael Paul Andrew Mark Richard Peter Robert Stephen Christopher Daniel Matthew "
            "Simon Ian Gareth Alan Neil Graham"
        )
    ),
    surnames=_Zipf(
        _names(
            "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
            "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel "
            "Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker "
            "Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young "
            "Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
            "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson "
            "Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen "
            "Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins "
            "Murray Dixon Harvey"
        ),
        0.35,
    ),
    roots=_names(
        "Blue Iron Bright North Silver Red Oak Harbour Summit Thames Crown Anchor Falcon "
        "Granite Meadow Beacon Kestrel Willow Atlas Orbit Pioneer Sterling Highland Riverside "
        "Cobalt Ember Vertex Lantern"
    ),
    trades=_names(
        "Data Technologies Logistics Construction Energy Media Systems Consulting Foods "
        "Design Labs Engineering Properties Electrical Plumbing Security Health Print Finance"
    ),
    forms=(("Ltd", 0.7), ("Limited", 0.1), ("plc", 0.05), ("LLP", 0.05), ("", 0.1)),
    tld="co.uk",
    free_mail=("gmail.com", "hotmail.co.uk", "outlook.com", "btinternet.com", "yahoo.co.uk"),
    cities=(
        ("London", "EC# #AA", "20"),
        ("Manchester", "M# #AA", "161"),
        ("Birmingham", "B# #AA", "121"),
        ("Leeds", "LS# #AA", "113"),
        ("Bristol", "BS# #AA", "117"),
        ("Edinburgh", "EH# #AA", "131"),
    ),
    country="United Kingdom",
    calling="44",
    mobile=("77", "78", "79"),
    national_digits=10,
    currency="GBP",
)

_DE = _Country(
    code="DE",
    female=_Zipf(
        _names(
            "Anna Maria Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid "
            "Erika Andrea Gisela Claudia Susanne Gabriele Christa Christine Julia Katrin Stefanie "
            "Sandra Nicole Lena Laura Lea Jana Jutta"
        )
    ),
    male=_Zipf(
        _names(
            "Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Günter Stefan Christian Uwe Werner "
            "Horst Frank Dieter Manfred Gerhard Hans Bernd Torsten Markus Matthias Sebastian "
            "Tobias Jan Lukas Felix Jonas Florian Jörg"
        )
    ),
    surnames=_Zipf(
        _names(
            "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
            "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
            "Hofmann Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze "
            "Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller "
            "Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck "
            "Lorenz"
        ),
        0.35,
    ),
    roots=_names(
        "Nord Süd Rhein Alpen Elb Sonnen Stahl Licht Wind Berg Wald Stern Adler Falken Main "
        "Isar Hanse Donau Blau Grün Eichen Linden"
    ),
    trades=_names(
        "Daten Technik Logistik Bau Energie Medien Systeme Beratung Lebensmittel Design Labor "
        "Maschinenbau Immobilien Elektro Sanitär Sicherheit Druck Finanz"
    ),
    forms=(("GmbH", 0.75), ("AG", 0.08), ("GmbH & Co. KG", 0.07), ("e.K.", 0.03), ("", 0.07)),
    tld="de",
    free_mail=("gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.com"),
    cities=(
        ("Berlin", "10###", "30"),
        ("Hamburg", "20###", "40"),
        ("München", "80###", "89"),
        ("Köln", "50###", "221"),
        ("Frankfurt am Main", "60###", "69"),
        ("Stuttgart", "70###", "711"),
    ),
    country="Germany",
    calling="49",
    mobile=("151", "160", "170", "172", "176"),
    national_digits=11,
    currency="EUR",
)

_COUNTRIES: Final = ((_SE, 0.34), (_NO, 0.12), (_FI, 0.1), (_DK, 0.1), (_GB, 0.2), (_DE, 0.14))

_NICKNAMES: Final = {
    "Lars": "Lasse", "Karl": "Kalle", "Per": "Pelle", "Nils": "Nisse", "Olof": "Olle",
    "Mikael": "Micke", "Joakim": "Jocke", "Kristina": "Stina", "Margareta": "Maggan",
    "Magnus": "Mange", "Thomas": "Tom", "William": "Bill", "Robert": "Bob", "James": "Jim",
    "Richard": "Rick", "Elizabeth": "Liz", "Catherine": "Kate", "Michael": "Mike",
    "Christopher": "Chris", "Andrew": "Andy", "Daniel": "Dan", "Matthew": "Matt",
    "Stephen": "Steve", "Rebecca": "Becky", "Jessica": "Jess", "Wolfgang": "Wolf",
    "Johannes": "Hannes", "Christian": "Chris", "Andreas": "Andi", "Stefanie": "Steffi",
    "Gabriele": "Gabi", "Matthias": "Matze", "Susanne": "Susi",
    "Frederik": "Frede", "Johanna": "Hanna", "Henrik": "Henke", "Fredrik": "Freddie",
}  # fmt: skip

_TITLES: Final = (
    ("", 0.25), ("CEO", 0.06), ("CTO", 0.04), ("CFO", 0.03), ("COO", 0.02),
    ("Purchasing manager", 0.08), ("IT manager", 0.08), ("Head of Sales", 0.05),
    ("Marketing manager", 0.05), ("Office manager", 0.06), ("Project manager", 0.06),
    ("Operations manager", 0.04), ("Facility manager", 0.03), ("HR manager", 0.03),
    ("Controller", 0.03), ("Buyer", 0.04), ("Owner", 0.05),
)  # fmt: skip
_PRODUCTS: Final = (
    "CRM rollout", "fleet tracking", "office furniture", "cloud migration", "support contract",
    "website redesign", "staff training", "solar panels", "warehouse scanners",
    "security audit", "licence renewal", "IP telephony", "laptops", "meeting-room screens",
    "backup service", "ERP integration", "access control", "e-learning platform",
    "printing service", "network upgrade", "cleaning contract", "coffee machines",
    "EV chargers", "data analytics", "payroll service", "ticketing system",
)  # fmt: skip
_TOPIC_FORMS: Final = (
    ("{P}", 0.35),
    ("{P} for {N} users", 0.15),
    ("{P}: quote requested", 0.1),
    ("{P} pilot", 0.1),
    ("Follow-up: {P}", 0.1),
    ("{P} ({C})", 0.1),
    ("Enquiry about {P}", 0.1),
)
_SOURCES: Final = (
    (LeadSource.WEB, 0.3),
    (LeadSource.ADVERTISEMENT, 0.1),
    (LeadSource.EMPLOYEE_REFERRAL, 0.05),
    (LeadSource.EXTERNAL_REFERRAL, 0.06),
    (LeadSource.PARTNER, 0.12),
    (LeadSource.PUBLIC_RELATIONS, 0.03),
    (LeadSource.SEMINAR, 0.06),
    (LeadSource.TRADE_SHOW, 0.1),
    (LeadSource.WORD_OF_MOUTH, 0.08),
    (LeadSource.OTHER, 0.04),
    (None, 0.06),
)
_RATINGS: Final = ((Rating.HOT, 0.15), (Rating.WARM, 0.35), (Rating.COLD, 0.25), (None, 0.25))
_BUDGETS: Final = {
    Rating.HOT: (
        (Budget.WILL_BUY, 0.4),
        (Budget.CAN_BUY, 0.35),
        (Budget.MAY_BUY, 0.15),
        (None, 0.1),
    ),
    Rating.WARM: (
        (Budget.CAN_BUY, 0.25),
        (Budget.MAY_BUY, 0.4),
        (Budget.NO_COMMITTED_BUDGET, 0.15),
        (None, 0.2),
    ),
    Rating.COLD: ((Budget.MAY_BUY, 0.15), (Budget.NO_COMMITTED_BUDGET, 0.45), (None, 0.4)),
    None: ((Budget.MAY_BUY, 0.2), (Budget.NO_COMMITTED_BUDGET, 0.2), (None, 0.6)),
}
_NEEDS: Final = {
    Rating.HOT: ((Need.MUST_HAVE, 0.5), (Need.SHOULD_HAVE, 0.3), (None, 0.2)),
    Rating.WARM: ((Need.SHOULD_HAVE, 0.35), (Need.GOOD_TO_HAVE, 0.35), (None, 0.3)),
    Rating.COLD: ((Need.GOOD_TO_HAVE, 0.3), (Need.NO_NEED, 0.3), (None, 0.4)),
    None: ((Need.GOOD_TO_HAVE, 0.2), (Need.SHOULD_HAVE, 0.1), (None, 0.7)),
}
_TIMEFRAMES: Final = {
    Rating.HOT: (
        (PurchaseTimeframe.IMMEDIATE, 0.35),
        (PurchaseTimeframe.THIS_QUARTER, 0.4),
        (None, 0.25),
    ),
    Rating.WARM: (
        (PurchaseTimeframe.NEXT_QUARTER, 0.35),
        (PurchaseTimeframe.THIS_YEAR, 0.3),
        (None, 0.35),
    ),
    Rating.COLD: (
        (PurchaseTimeframe.THIS_YEAR, 0.2),
        (PurchaseTimeframe.UNKNOWN, 0.4),
        (None, 0.4),
    ),
    None: ((PurchaseTimeframe.UNKNOWN, 0.3), (None, 0.7)),
}
# Rough exchange to the demo's value scale (value units per EUR thousand).
_PER_THOUSAND_EUR: Final = {"SEK": 11, "NOK": 11, "DKK": 7, "EUR": 1, "GBP": 1}


def _ascii(text: str) -> str:
    """Lower-case ASCII for e-mail addresses and domains ("Åsa Öberg" -> "asaoberg")."""
    text = text.lower().replace("ø", "o").replace("æ", "ae").replace("ß", "ss").replace("&", "")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "-."))


def _deaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# ---------------------------------------------------------------------------------------------
# Companies and people


@attrs.frozen
class _Company:
    country: _Country
    name: str
    base: str  # the name without the legal form
    domain: str
    city: str
    postal_code: str
    area: str
    switchboard: str


def _postal(rng: _Rng, pattern: str) -> str:
    out = []
    for char in pattern:
        if char == "#":
            out.append(str(rng.randrange(10)))
        elif char == "A":
            out.append(rng.choice("ABDEFGHJLNPQRSTUWXYZ"))
        else:
            out.append(char)
    return "".join(out)


def _company(seed: int, k: int) -> _Company:
    """Company number ``k``: always the same for a seed, whoever asks first."""
    rng = _Rng(seed * 1_000_003 + k * 7919 + 17)
    country = _weighted(rng, _COUNTRIES)
    style = rng.random()
    trade = rng.choice(country.trades)
    if style < 0.45:
        root = rng.choice(country.roots)
        joined = root + (trade if country.code in ("SE", "NO", "DK", "FI") else " " + trade)
        base = joined[0].upper() + joined[1:]
    elif style < 0.8:
        base = f"{country.surnames.pick(rng)} {trade.capitalize()}"
    elif style < 0.9:
        base = f"{country.surnames.pick(rng)} & {country.surnames.pick(rng)}"
    else:
        base = f"{rng.choice(country.roots)} {rng.choice(country.roots)} {trade.capitalize()}"
    form = _weighted(rng, country.forms)
    name = f"{base} {form}".strip()
    domain = f"{_ascii(base.replace(' ', ''))}.{country.tld}"
    city, pattern, area = rng.choice(country.cities)
    switchboard = _phone(rng, country, area, rng.digits(country.national_digits - len(area)))
    return _Company(
        country=country,
        name=name,
        base=base,
        domain=domain,
        city=city,
        postal_code=_postal(rng, pattern),
        area=area,
        switchboard=switchboard,
    )


def _group(digits: str, style: int) -> str:
    if style == 0:
        return digits
    if style == 1:
        parts = [digits[i : i + 2] for i in range(0, len(digits), 2)]
        if len(parts) > 1 and len(parts[-1]) == 1:
            parts[-2:] = [parts[-2] + parts[-1]]
        return " ".join(parts)
    return f"{digits[:3]} {digits[3:]}".strip()


def _phone(rng: _Rng, country: _Country, area: str, local: str, style: int | None = None) -> str:
    """An international number in one of the ways people write one."""
    style = rng.randrange(4) if style is None else style
    if style == 0:
        return f"+{country.calling} {area} {_group(local, 1)}"
    if style == 1:
        return f"+{country.calling} {area} {_group(local, 2)}"
    if style == 2:
        return f"+{country.calling}{area}{local}"
    return f"+{country.calling}-{area}-{local}"


@attrs.frozen
class _Person:
    first: str
    last: str
    country: _Country
    company: _Company | None
    email: str
    business_phone: str
    mobile_phone: str


def _email_local(rng: _Rng, first: str, last: str) -> str:
    f, last_part = _ascii(first), _ascii(last.replace(" ", ""))
    return _weighted(
        rng,
        (
            (f"{f}.{last_part}", 0.6),
            (f"{f[:1]}.{last_part}", 0.12),
            (f"{f}{last_part[:1]}", 0.08),
            (f"{f[:1]}{last_part}", 0.1),
            (f, 0.1),
        ),
    )


# ---------------------------------------------------------------------------------------------
# The generator


@attrs.frozen
class DemoLead:
    """One generated lead: its fields, when it was created and, for a lead typed in again,
    the index (0-based, in generation order) of the lead it duplicates."""

    patch: LeadPatch
    created_at: datetime
    duplicate_of: int | None = None


@attrs.frozen
class _Raw:
    index: int
    fields: dict[str, object]
    first: str
    last: str
    company: _Company | None
    created_at: datetime


class _Generator:
    def __init__(self, count: int, seed: int, end: datetime, days: int) -> None:
        self.rng = _Rng(seed)
        self.seed = seed
        self.count = count
        self.end = end
        self.span = timedelta(days=days)
        # About three leads per company on average, a few companies with many.
        self.companies = max(20, count // 3)
        self._cache: dict[int, _Company] = {}
        self._emails: set[str] = set()
        self._staff: dict[str, set[tuple[str, str]]] = {}

    def email(self, local: str, domain: str) -> str:
        """``local@domain``, numbered when someone else has that address already."""
        address, n = f"{local}@{domain}", 2
        while address in self._emails:
            address, n = f"{local}{n}@{domain}", n + 1
        self._emails.add(address)
        return address

    def company(self) -> _Company:
        k = int(self.companies * self.rng.random() ** 1.2)
        found = self._cache.get(k)
        if found is None:
            found = self._cache[k] = _company(self.seed, k)
        return found

    def created_at(self, n: int) -> datetime:
        step = self.span / max(self.count, 1)
        jitter = timedelta(seconds=self.rng.randrange(max(int(step.total_seconds()), 1)))
        return self.end - self.span + step * n + jitter

    def person(self) -> _Person:
        rng = self.rng
        company = self.company() if rng.random() < 0.93 else None
        country = (
            company.country
            if company is not None and rng.random() < 0.9
            else _weighted(rng, _COUNTRIES)
        )
        names = (country.female if rng.random() < 0.48 else country.male), country.surnames
        first, last = names[0].pick(rng), names[1].pick(rng)
        if company is not None:
            # Namesakes at one company are rare: draw again (a few times) for a name taken.
            staff = self._staff.setdefault(company.name, set())
            for _ in range(3):
                if (first, last) not in staff:
                    break
                first, last = names[0].pick(rng), names[1].pick(rng)
            staff.add((first, last))
        mail = rng.random()
        if company is not None and mail < 0.75:
            email = self.email(_email_local(rng, first, last), company.domain)
        elif mail < 0.95:
            number = "" if rng.random() < 0.3 else str(rng.randrange(1955, 2004))
            local = f"{_ascii(first)}.{_ascii(last)}{number}"
            email = self.email(local, rng.choice(country.free_mail))
        else:
            email = ""
        home = company.country if company is not None else country
        area = company.area if company is not None else rng.choice(home.cities)[2]
        phone = rng.random()
        if phone < 0.65:
            business = _phone(rng, home, area, rng.digits(home.national_digits - len(area)))
        elif phone < 0.8 and company is not None:
            business = company.switchboard
        else:
            business = ""
        mobile = ""
        if rng.random() < 0.4:
            prefix = rng.choice(home.mobile)
            mobile = _phone(rng, home, prefix, rng.digits(home.national_digits - len(prefix)))
        return _Person(first, last, home, company, email, business, mobile)

    def original(self, n: int) -> _Raw:
        rng = self.rng
        person = self.person()
        company = person.company
        country = person.country
        rating = _weighted(rng, _RATINGS)
        topic_form = _weighted(rng, _TOPIC_FORMS)
        topic = (
            topic_form.replace("{P}", rng.choice(_PRODUCTS))
            .replace("{N}", str(rng.choice((5, 10, 20, 25, 50, 120, 300))))
            .replace("{C}", company.base if company is not None else person.last)
        )
        topic = topic[0].upper() + topic[1:]
        fields: dict[str, object] = {
            "topic": topic,
            "name": PersonName(first=person.first, last=person.last),
            "company": company.name if company is not None else "",
            "job_title": _weighted(rng, _TITLES),
            "email": person.email or None,
            "business_phone": person.business_phone or None,
            "mobile_phone": person.mobile_phone or None,
            "source": _weighted(rng, _SOURCES),
            "rating": rating,
            "budget": _weighted(rng, _BUDGETS[rating]),
            "need": _weighted(rng, _NEEDS[rating]),
            "purchase_timeframe": _weighted(rng, _TIMEFRAMES[rating]),
        }
        if company is not None:
            fields["address"] = Address(
                city=company.city, postal_code=company.postal_code, country=country.country
            )
            if rng.random() < 0.3:
                fields["website"] = f"https://www.{company.domain}"
        if rng.random() < 0.45:
            thousands = int(2 + 400 * rng.random() ** 3)  # many small deals, a few big ones
            amount = Decimal(thousands * _PER_THOUSAND_EUR[country.currency] * 1000)
            fields["estimated_value"] = Money(amount, country.currency)
        return _Raw(n, fields, person.first, person.last, company, self.created_at(n))

    def duplicate(self, original: _Raw, n: int) -> _Raw:
        """``original`` typed in again: one or two changes, never every way to match it."""
        rng = self.rng
        fields = dict(original.fields)
        first, last = original.first, original.last
        changes = {_weighted(rng, _CHANGES) for _ in range(1 + (rng.random() < 0.4))}
        if "typo" in changes:
            last = _typo(rng, last)
        if "nickname" in changes:
            first = _NICKNAMES.get(first, first)
        if "accents" in changes:
            first, last = _deaccent(first), _deaccent(last)
        if "case" in changes:
            first, last = first.upper(), last.upper()
        fields["name"] = PersonName(first=first, last=last)
        email = str(fields.get("email") or "")
        if "email-case" in changes and email:
            fields["email"] = email.upper()
        if "other-email" in changes and email and original.company is not None:
            country = original.company.country
            local = f"{_ascii(first)}.{_ascii(last)}{rng.randrange(1955, 2004)}"
            fields["email"] = self.email(local, rng.choice(country.free_mail))
        phone = str(fields.get("business_phone") or "")
        if "phone-format" in changes and phone:
            digits = "".join(c for c in phone if c.isdigit())
            fields["business_phone"] = "+" + digits
        if "no-phone" in changes:
            fields["business_phone"] = None
        company = original.company
        if "legal-form" in changes and company is not None:
            fields["company"] = company.base if company.name != company.base else company.name
        if rng.random() < 0.5:
            fields["topic"] = "Re: " + str(fields["topic"])
        created = max(original.created_at, self.created_at(n))
        created += timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(1, 600))
        return _Raw(original.index, fields, first, last, company, min(created, self.end))


_CHANGES: Final = (
    ("typo", 0.22),
    ("nickname", 0.12),
    ("accents", 0.1),
    ("case", 0.08),
    ("email-case", 0.12),
    ("other-email", 0.1),
    ("phone-format", 0.12),
    ("no-phone", 0.06),
    ("legal-form", 0.08),
)


def _typo(rng: _Rng, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swap two letters
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:  # drop one
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]  # double one


def demo_leads(
    count: int,
    *,
    end: datetime,
    seed: int = 2024,
    days: int = 540,
    duplicate_share: float = 0.025,
) -> Iterator[DemoLead]:
    """``count`` demo leads created over the ``days`` before ``end``, in creation order;
    about ``duplicate_share`` of them re-type an earlier lead (``duplicate_of`` says which).
    Deterministic for a seed and ``end``.

    Raises InvalidValue for a negative ``count``, a naive ``end``, ``days`` < 1 or a share
    outside 0-0.5.
    """
    require_aware("end", end)
    if count < 0:
        raise InvalidValue("count", count, "must not be negative")
    if days < 1:
        raise InvalidValue("days", days, "must be at least 1")
    if not 0 <= duplicate_share <= 0.5:
        raise InvalidValue("duplicate_share", duplicate_share, "must be between 0 and 0.5")
    gen = _Generator(count, seed, end, days)
    recent: list[_Raw] = []
    for n in range(count):
        if recent and gen.rng.random() < duplicate_share:
            original = recent[gen.rng.randrange(len(recent))]
            raw = gen.duplicate(original, n)
            yield DemoLead(LeadPatch.from_mapping(raw.fields), raw.created_at, original.index)
            continue
        raw = gen.original(n)
        recent.append(raw)
        if len(recent) > 2000:
            recent.pop(0)
        yield DemoLead(LeadPatch.from_mapping(raw.fields), raw.created_at)


def _produce(
    out: multiprocessing.queues.Queue[list[DemoLead] | None],
    count: int,
    end: datetime,
    seed: int,
    size: int,
) -> None:  # pragma: no cover - runs in the child process
    batch: list[DemoLead] = []
    for made in demo_leads(count, end=end, seed=seed):
        batch.append(made)
        if len(batch) == size:
            out.put(batch)
            batch = []
    out.put(batch)
    out.put(None)


def demo_batches(
    count: int, *, end: datetime, seed: int = 2024, size: int = 1000
) -> Iterator[list[DemoLead]]:
    """:func:`demo_leads` in lists of ``size``, made in a child process while the caller
    stores the previous ones (generating, with the validation of every e-mail address and
    phone number, costs about as much as storing). The same leads as :func:`demo_leads`.

    Raises InvalidValue for a negative ``count``, a naive ``end`` or a ``size`` below 1;
    RuntimeError when the child process dies.
    """
    require_aware("end", end)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidValue("size", size, "must be at least 1")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidValue("count", count, "must be a whole number, not negative")
    if count == 0:
        return
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.queues.Queue[list[DemoLead] | None] = context.Queue(maxsize=8)
    child = context.Process(target=_produce, args=(out, count, end, seed, size), daemon=True)
    child.start()
    try:
        while True:
            try:
                batch = out.get(timeout=5.0)
            except Exception as e:  # queue.Empty: is the child still there?
                if not child.is_alive():
                    raise RuntimeError("the demo data process died") from e
                continue
            if batch is None:
                return
            yield batch
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
