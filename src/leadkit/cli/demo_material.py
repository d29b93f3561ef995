"""The material the demo's sample leads are made of: a tiny seeded generator, weighted
and Zipf-like picks, and per country the names, companies, cities, phone formats and mail
domains; the shares of titles, products, sources, ratings, budgets and needs."""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Sequence
from itertools import accumulate
from typing import Final, TypeVar

import attrs

from leadkit.fields import Budget, LeadSource, Need, PurchaseTimeframe, Rating

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
        # _next inlined (the generator's most frequent call): the same numbers.
        z = self._state = (self._state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return ((z ^ (z >> 31)) >> 11) / 9007199254740992.0  # 2**53

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


_TOTALS: Final[dict[int, tuple[object, float]]] = {}
"""The sum of the weights of each options table :func:`_weighted` has seen, by ``id`` (the
table kept with it, so the id stays its own): the tables are module constants."""


def _weighted(rng: _Rng, options: Sequence[tuple[T, float]]) -> T:
    known = _TOTALS.get(id(options))
    if known is not None and known[0] is options:
        total = known[1]
    else:
        total = sum(w for _, w in options)
        if len(_TOTALS) < 256:  # a table built per call is summed each time
            _TOTALS[id(options)] = (options, total)
    point = rng.random() * total
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
