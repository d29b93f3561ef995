"""A seeded generator of realistic lead data with known duplicates, to measure duplicate rules.

:func:`generate_leads` makes Swedish, Polish, German, British and American leads: people with
common and rare names working at companies of very different sizes (so colleagues share a
company, a switchboard, an e-mail domain and often a last name), plus duplicates of some of
them, typed again the way people do: typos, swapped first and last names, nicknames, accents
dropped or transliterated, upper case, phone numbers in another format, e-mail addresses in
another case or another address altogether, company legal forms added, dropped or spelled
out, and fields left blank. Every row names the real person (``entity``), so the true
duplicate pairs are known; :func:`pair_quality` scores predicted pairs against them.

The same seed always gives the same rows. Nothing here is tuned to a rule set: the
probabilities describe messy data, not what the default rules happen to catch.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from leadkit.duplicates.normalize import strip_accents
from leadkit.duplicates.records import DuplicateRecord, RecordType
from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import Address, EmailAddress, LeadId, PersonName, PhoneNumber, Url, UserRef

__all__ = [
    "DuplicateDataset",
    "LeadRow",
    "PairQuality",
    "generate_leads",
    "pair_quality",
]


# --------------------------------------------------------------------------------------------
# Name and company material per locale
# --------------------------------------------------------------------------------------------


@attrs.frozen
class _Locale:
    code: str
    region: str
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    surname_heads: tuple[str, ...]
    surname_tails: tuple[str, ...]
    nicknames: tuple[tuple[str, tuple[str, ...]], ...]
    company_roots: tuple[str, ...]
    company_tails: tuple[str, ...]
    legal_forms: tuple[tuple[str, float], ...]
    legal_variants: tuple[tuple[str, tuple[str, ...]], ...]
    tld: str
    free_mail: tuple[str, ...]
    role_mailboxes: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # name, postal-code pattern (# digit, @ letter)
    feminine: Callable[[str], str] = attrs.field(default=lambda s: s)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _polish_feminine(surname: str) -> str:
    for masculine, feminine in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if surname.endswith(masculine):
            return surname[: -len(masculine)] + feminine
    return surname


_SE = _Locale(
    code="SE",
    region="SE",
    female=_words(
        "Anna Eva Maria Karin Sara Lena Emma Kristina Elin Johanna Sofia Ida Linnea Åsa Märta "
        "Ingrid Malin Helena Cecilia Charlotte Susanne Ulla Birgitta Camilla Frida Hanna Jenny"
    ),
    male=_words(
        "Lars Mikael Anders Johan Per Erik Karl Peter Thomas Jan Daniel Fredrik Hans Magnus "
        "Andreas Stefan Mattias Nils Olof Björn Göran Joakim Sven Åke Jonas Oskar Henrik"
    ),
    surnames=_words(
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
        "Gustafsson Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson "
        "Magnusson Lindström Olofsson Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lind "
        "Lundgren Lundqvist Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg Sjöberg "
        "Wallin Engström Eklund Danielsson Lundin Håkansson Björk Bergman Gunnarsson Holm "
        "Wikström Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg Arvidsson Löfgren "
        "Söderberg Nyberg Blomqvist Claesson Nordström Åberg Öberg"
    ),
    surname_heads=_words(
        "Berg Lind Sjö Ek Holm Ström Dahl Sand Ny Ros Ljung Lund Fors Hag Sten Wall Ås Blom "
        "Gran Hed Al Björk Ceder Lööf Rud Skog Strand Vik Åker"
    ),
    surname_tails=_words(
        "berg ström qvist gren lund dahl man blad feldt holm stedt löf vall bäck mark ling"
    ),
    nicknames=(
        ("Lars", ("Lasse",)),
        ("Karl", ("Kalle",)),
        ("Per", ("Pelle",)),
        ("Nils", ("Nisse",)),
        ("Olof", ("Olle",)),
        ("Mikael", ("Micke",)),
        ("Joakim", ("Jocke",)),
        ("Kristina", ("Stina", "Kicki")),
        ("Charlotte", ("Lotta",)),
        ("Magnus", ("Mange",)),
        ("Fredrik", ("Fredde",)),
        ("Thomas", ("Tomas",)),
        ("Johanna", ("Jossan",)),
        ("Camilla", ("Millan",)),
        ("Andreas", ("Andy",)),
    ),
    company_roots=_words(
        "Nord Väst Norr Syd Berg Sjö Ek Lind Björk Stål Kraft Skog Fjäll Havs Sol Vind Glas "
        "Trä Bygg Data Tele Miljö Fastighets Älv Ö Sten Malm Järn Gota Svea Mälar Vänern"
    ),
    company_tails=_words(
        "teknik bygg konsult data transport logistik invest industri gruppen el service "
        "handel media design system fastigheter energi maskin"
    ),
    legal_forms=(("AB", 0.9), ("HB", 0.05), ("", 0.05)),
    legal_variants=(("AB", ("", "Aktiebolag", "ab", "AB (publ)")), ("HB", ("", "Handelsbolag"))),
    tld="se",
    free_mail=("gmail.com", "hotmail.com", "outlook.com", "telia.com", "live.se", "yahoo.se"),
    role_mailboxes=("info", "kontakt", "forsaljning", "order"),
    cities=(
        ("Stockholm", "1## ##"),
        ("Göteborg", "41# ##"),
        ("Malmö", "21# ##"),
        ("Uppsala", "75# ##"),
        ("Västerås", "72# ##"),
        ("Örebro", "70# ##"),
        ("Linköping", "58# ##"),
        ("Umeå", "90# ##"),
        ("Luleå", "97# ##"),
    ),
)

_PL = _Locale(
    code="PL",
    region="PL",
    female=_words(
        "Anna Katarzyna Maria Małgorzata Agnieszka Barbara Ewa Krystyna Elżbieta Zofia Joanna "
        "Magdalena Monika Aleksandra Dorota Beata Jolanta Iwona Natalia Karolina Justyna Marta"
    ),
    male=_words(
        "Piotr Krzysztof Andrzej Tomasz Paweł Jan Michał Marcin Stanisław Jakub Adam Marek "
        "Łukasz Grzegorz Mateusz Wojciech Bartłomiej Aleksander Rafał Dariusz Kamil Robert"
    ),
    surnames=_words(
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
        "Woźniak Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk "
        "Kaczmarek Piotrowski Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński "
        "Wróbel Nowakowski Majewski Olszewski Stępień Malinowski Jaworski Adamczyk Dudek "
        "Nowicki Pawlak Górski Witkowski Walczak Sikora Baran Rutkowski Michalak Szewczyk "
        "Ostrowski Tomaszewski Pietrzak Duda Zalewski"
    ),
    surname_heads=_words(
        "Kowal Nowa Wiśniew Zieliń Lewan Kamień Wrób Sobcz Grab Jabłoń Dąbrow Kaczmar Sław "
        "Pilch Bąk Kraw Gołęb Jasiń Czerw Sokoł Borow Szczep Mróz Kubi Lis"
    ),
    surname_tails=_words("ski owski ewski czyk ak ek iak iński ecki"),
    nicknames=(
        ("Katarzyna", ("Kasia",)),
        ("Małgorzata", ("Gosia", "Małgosia")),
        ("Barbara", ("Basia",)),
        ("Joanna", ("Asia",)),
        ("Magdalena", ("Magda",)),
        ("Agnieszka", ("Aga",)),
        ("Tomasz", ("Tomek",)),
        ("Bartłomiej", ("Bartek",)),
        ("Jakub", ("Kuba",)),
        ("Wojciech", ("Wojtek",)),
        ("Krzysztof", ("Krzysiek",)),
        ("Piotr", ("Piotrek",)),
        ("Stanisław", ("Staszek",)),
        ("Zofia", ("Zosia",)),
        ("Aleksander", ("Olek",)),
        ("Grzegorz", ("Grzesiek",)),
        ("Aleksandra", ("Ola",)),
        ("Michał", ("Michu",)),
    ),
    company_roots=_words(
        "Pol Inter Trans Bud Euro Tech Med Agro Eko Info Stal Drew Elektro Mazow Wisła Bałtyk "
        "Tatra Warta Kama Orbi Mega Proma Unimor Fabro Hydro"
    ),
    company_tails=_words("mex pol bud tech trans med soft net ex land stal gaz plast"),
    legal_forms=(("Sp. z o.o.", 0.7), ("S.A.", 0.2), ("", 0.1)),
    legal_variants=(
        (
            "Sp. z o.o.",
            (
                "",
                "sp. z o. o.",
                "SP. Z O.O.",
                "Spółka z ograniczoną odpowiedzialnością",
                "Sp.z.o.o.",
                "Sp. z o.o. Sp.k.",
            ),
        ),
        ("S.A.", ("", "SA", "Spółka Akcyjna")),
    ),
    tld="pl",
    free_mail=("gmail.com", "wp.pl", "o2.pl", "onet.pl", "interia.pl", "op.pl"),
    role_mailboxes=("biuro", "kontakt", "sekretariat", "info"),
    cities=(
        ("Warszawa", "0#-###"),
        ("Kraków", "3#-###"),
        ("Łódź", "9#-###"),
        ("Wrocław", "5#-###"),
        ("Poznań", "6#-###"),
        ("Gdańsk", "80-###"),
        ("Szczecin", "7#-###"),
        ("Lublin", "20-###"),
        ("Katowice", "40-###"),
    ),
    feminine=_polish_feminine,
)

_DE = _Locale(
    code="DE",
    region="DE",
    female=_words(
        "Maria Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid Erika "
        "Andrea Gisela Claudia Susanne Gabriele Christa Katharina Stefanie Julia Anna Jutta"
    ),
    male=_words(
        "Peter Michael Wolfgang Thomas Klaus Jürgen Andreas Hans Stefan Uwe Christian Werner "
        "Frank Bernd Matthias Sebastian Markus Jörg Ulrich Josef Florian Tobias Jan Günter"
    ),
    surnames=_words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
        "Hofmann Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze "
        "Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz "
        "Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler "
        "Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm"
    ),
    surname_heads=_words(
        "Schwarz Weiß Roth Grün Stein Berg Wald Feld Bach Hof Brunn Eich Linden Kirch Mühl "
        "Rosen Sonnen Stahl Holz Kessel Hage Lind Rieder Zell"
    ),
    surname_tails=_words("mann er hauser berger meier müller huber feld bach inger ke"),
    nicknames=(
        ("Josef", ("Sepp",)),
        ("Ulrich", ("Uli",)),
        ("Stefanie", ("Steffi",)),
        ("Gabriele", ("Gabi",)),
        ("Andreas", ("Andi",)),
        ("Sebastian", ("Basti",)),
        ("Katharina", ("Kathi",)),
        ("Matthias", ("Matze",)),
        ("Wolfgang", ("Wolle",)),
        ("Thomas", ("Tom",)),
        ("Christian", ("Chris",)),
        ("Susanne", ("Susi",)),
        ("Michael", ("Micha",)),
    ),
    company_roots=_words(
        "Nord Süd West Rhein Elb Alpen Berg Stahl Auto Bau Techno Medi Energie Solar Logi "
        "Main Isar Weser Donau Spree Hansa Ruhr Saar"
    ),
    company_tails=_words(
        "tec bau werk technik systeme logistik service data consult energie druck metall"
    ),
    legal_forms=(("GmbH", 0.7), ("AG", 0.12), ("GmbH & Co. KG", 0.13), ("", 0.05)),
    legal_variants=(
        ("GmbH", ("", "Gmbh", "GMBH", "G.m.b.H.", "Gesellschaft mit beschränkter Haftung")),
        ("AG", ("", "Aktiengesellschaft")),
        ("GmbH & Co. KG", ("", "GmbH & Co KG", "GmbH u. Co. KG", "GmbH")),
    ),
    tld="de",
    free_mail=("gmail.com", "web.de", "gmx.de", "t-online.de", "gmx.net", "outlook.com"),
    role_mailboxes=("info", "kontakt", "vertrieb", "buero"),
    cities=(
        ("Berlin", "1####"),
        ("Hamburg", "2####"),
        ("München", "8####"),
        ("Köln", "50###"),
        ("Frankfurt am Main", "60###"),
        ("Stuttgart", "70###"),
        ("Düsseldorf", "40###"),
        ("Leipzig", "04###"),
        ("Dortmund", "44###"),
    ),
)

_EN_FEMALE = _words(
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy "
    "Margaret Sandra Ashley Emily Katherine Rebecca Victoria Emma Olivia Sophie Charlotte "
    "Samantha Rachel Laura Amy"
)
_EN_MALE = _words(
    "James John Robert Michael William David Richard Joseph Thomas Christopher Daniel "
    "Matthew Anthony Mark Steven Andrew Paul Joshua Kenneth Kevin Alexander Benjamin Edward "
    "Jonathan Peter Gregory Timothy"
)
_EN_SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Wilkinson Foster Chapman Powell Webb Rogers "
    "Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight"
)
_EN_NICKNAMES = (
    ("Robert", ("Bob", "Rob", "Bobby")), ("William", ("Bill", "Will")),
    ("James", ("Jim", "Jimmy", "Jamie")), ("Michael", ("Mike", "Mick")),
    ("Richard", ("Rick", "Rich")), ("Thomas", ("Tom", "Tommy")), ("Joseph", ("Joe",)),
    ("Christopher", ("Chris",)), ("Daniel", ("Dan", "Danny")), ("Matthew", ("Matt",)),
    ("Anthony", ("Tony",)), ("Andrew", ("Andy", "Drew")), ("Steven", ("Steve",)),
    ("Kenneth", ("Ken",)), ("Joshua", ("Josh",)), ("Alexander", ("Alex",)),
    ("Benjamin", ("Ben",)), ("Edward", ("Ed", "Eddie")), ("Jonathan", ("Jon",)),
    ("Gregory", ("Greg",)), ("Timothy", ("Tim",)), ("Peter", ("Pete",)),
    ("Elizabeth", ("Liz", "Beth", "Betty")), ("Katherine", ("Kate", "Kathy", "Katie")),
    ("Margaret", ("Maggie", "Peggy")), ("Jennifer", ("Jen", "Jenny")), ("Susan", ("Sue",)),
    ("Rebecca", ("Becky",)), ("Victoria", ("Vicky", "Tori")), ("Patricia", ("Patty", "Trish")),
    ("Samantha", ("Sam",)), ("Jessica", ("Jess",)), ("Barbara", ("Barb",)),
)  # fmt: skip
_EN_HEADS = _words("Ash Brad Black Bright Brook Ches Clay Cress Hart Pen Ring Stan Whit Wood Thorn")
_EN_TAILS = _words("ley ford well ton wood field more worth by stone ham")
_EN_ROOTS = _words(
    "Blue River Summit Pinnacle Harbor Crest Oak Silver Bright Northstar Redkite Granite "
    "Meridian Beacon Falcon Cobalt Evergreen Horizon Keystone Maple Quantum Sterling"
)
_EN_TAILS_CO = _words(
    "Solutions Systems Group Partners Labs Consulting Logistics Analytics Software Holdings "
    "Digital Media Works Capital"
)

_GB = _Locale(
    code="GB",
    region="GB",
    female=_EN_FEMALE,
    male=_EN_MALE,
    surnames=_EN_SURNAMES,
    surname_heads=_EN_HEADS,
    surname_tails=_EN_TAILS,
    nicknames=_EN_NICKNAMES,
    company_roots=_EN_ROOTS,
    company_tails=_EN_TAILS_CO,
    legal_forms=(("Ltd", 0.75), ("Limited", 0.1), ("PLC", 0.05), ("", 0.1)),
    legal_variants=(
        ("Ltd", ("", "Limited", "Ltd.", "LTD")),
        ("Limited", ("", "Ltd")),
        ("PLC", ("", "plc", "Public Limited Company")),
    ),
    tld="co.uk",
    free_mail=("gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com"),
    role_mailboxes=("info", "sales", "enquiries", "hello"),
    cities=(
        ("London", "SW# #@@"),
        ("Manchester", "M# #@@"),
        ("Birmingham", "B# #@@"),
        ("Leeds", "LS# #@@"),
        ("Bristol", "BS# #@@"),
        ("Edinburgh", "EH# #@@"),
    ),
)

_US = _Locale(
    code="US",
    region="US",
    female=_EN_FEMALE,
    male=_EN_MALE,
    surnames=_EN_SURNAMES,
    surname_heads=_EN_HEADS,
    surname_tails=_EN_TAILS,
    nicknames=_EN_NICKNAMES,
    company_roots=_EN_ROOTS,
    company_tails=_EN_TAILS_CO,
    legal_forms=(("Inc.", 0.5), ("LLC", 0.3), ("Corp.", 0.1), ("", 0.1)),
    legal_variants=(
        ("Inc.", ("", "Inc", "Incorporated", ", Inc.")),
        ("LLC", ("", "L.L.C.", "llc", "Limited Liability Company")),
        ("Corp.", ("", "Corporation", "Corp")),
    ),
    tld="com",
    free_mail=("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com", "icloud.com"),
    role_mailboxes=("info", "sales", "contact", "hello"),
    cities=(
        ("New York", "100##"),
        ("San Francisco", "941##"),
        ("Chicago", "606##"),
        ("Boston", "021##"),
        ("Austin", "787##"),
        ("Seattle", "981##"),
    ),
)

_LOCALES: Final = ((_SE, 0.3), (_PL, 0.25), (_DE, 0.25), (_GB, 0.12), (_US, 0.08))


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


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


@attrs.frozen
class LeadRow:
    """One generated lead as it was typed in: raw text, not yet validated.

    ``entity`` names the real person: rows with the same entity are duplicates of one another.
    ``business_e164`` and ``mobile_e164`` are the numbers the phone fields hold, as the
    generator made them (what parsing the typed text gives). ``changes`` lists what was done
    to a duplicate (empty for an original).
    """

    id: str
    entity: int
    locale: str
    first_name: str
    last_name: str
    company: str
    email: str
    business_phone: str
    mobile_phone: str
    business_e164: str
    mobile_e164: str
    region: str
    city: str
    postal_code: str
    website: str
    created_at: datetime
    changes: tuple[str, ...] = ()

    @property
    def topic(self) -> str:
        """The lead's topic: "Enquiry from <company or name>"."""
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return f"Enquiry from {self.company or name}"

    @property
    def is_duplicate(self) -> bool:
        """True for a row made by copying another one."""
        return bool(self.changes)

    def to_lead(self, *, by: UserRef | None = None) -> Lead:
        """A new Open lead with these fields (topic from the company or the name)."""
        user = by or UserRef("generator")
        name = PersonName(first=self.first_name, last=self.last_name)
        patch = LeadPatch(
            topic=self.topic,
            name=name,
            company=self.company,
            email=EmailAddress(self.email) if self.email else None,
            business_phone=self._phone(self.business_phone),
            mobile_phone=self._phone(self.mobile_phone),
            website=Url(self.website) if self.website else None,
            address=Address(city=self.city, postal_code=self.postal_code, country=self.locale),
        )
        return Lead.create(LeadId(self.id), patch, at=self.created_at, by=user)

    def to_record(self) -> DuplicateRecord:
        """The flat view the duplicate rules read, built straight from the row: the same
        values :func:`~leadkit.duplicates.records.duplicate_record` takes from
        :meth:`to_lead`, without validating a lead (fast enough for a million rows)."""
        business, mobile = self.business_e164, self.mobile_e164
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return DuplicateRecord(
            record_type=RecordType.LEAD,
            record_id=self.id,
            first_name=self.first_name,
            last_name=self.last_name,
            full_name=full,
            email=self.email,
            email_domain=self.email.rpartition("@")[2].lower() if self.email else "",
            phones=(business, mobile),
            business_phone=business,
            mobile_phone=mobile,
            company=self.company,
            website_domain=Url(self.website).host if self.website else "",
            city=self.city,
            postal_code=self.postal_code,
            country=self.locale,
            topic=self.topic,
            created_at=self.created_at,
        )

    def _phone(self, raw: str) -> PhoneNumber | None:
        return PhoneNumber(raw, self.region) if raw else None


@attrs.frozen
class PairQuality:
    """Predicted duplicate pairs scored against the true ones."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """The share of predicted pairs that are true duplicates (1.0 with no predictions)."""
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        """The share of true duplicate pairs that were predicted (1.0 with none to find)."""
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    def describe(self) -> str:
        """``precision 0.981 recall 0.934 (tp 1234, fp 23, fn 87)``."""
        return (
            f"precision {self.precision:.3f} recall {self.recall:.3f} "
            f"(tp {self.true_positives}, fp {self.false_positives}, fn {self.false_negatives})"
        )


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


@attrs.frozen
class DuplicateDataset:
    """Generated rows, in a shuffled order, and the truth about them."""

    seed: int
    rows: tuple[LeadRow, ...]

    def duplicate_pairs(self) -> frozenset[tuple[str, str]]:
        """Every pair of row ids (smaller id first) that belong to the same person."""
        by_entity: dict[int, list[str]] = {}
        for row in self.rows:
            by_entity.setdefault(row.entity, []).append(row.id)
        pairs: set[tuple[str, str]] = set()
        for ids in by_entity.values():
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    pairs.add(_pair(a, b))
        return frozenset(pairs)

    def leads(self) -> list[Lead]:
        """Every row as a new lead."""
        return [row.to_lead() for row in self.rows]

    def records(self) -> list[DuplicateRecord]:
        """Every row as the flat view duplicate rules read."""
        return [row.to_record() for row in self.rows]

    def quality(self, predicted: Iterable[tuple[str, str]]) -> PairQuality:
        """:func:`pair_quality` against this dataset's true pairs."""
        return pair_quality(predicted, self.duplicate_pairs())


def pair_quality(
    predicted: Iterable[tuple[str, str]], truth: Iterable[tuple[str, str]]
) -> PairQuality:
    """Score predicted duplicate pairs (in either order) against the true pairs."""
    found = {_pair(a, b) for a, b in predicted if a != b}
    actual = {_pair(a, b) for a, b in truth}
    tp = len(found & actual)
    return PairQuality(tp, len(found) - tp, len(actual) - tp)


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@attrs.frozen
class _Company:
    name: str
    core: str
    legal_form: str
    domain: str
    locale: _Locale
    city: tuple[str, str]
    switchboard: _Phone | None
    role_mailbox: str


@attrs.frozen
class _Person:
    entity: int
    locale: _Locale
    first: str
    last: str
    company: _Company | None
    email: str
    business: _Phone | None
    business_style: int
    mobile: _Phone | None
    mobile_style: int
    city: tuple[str, str]
    website: str
    created_at: datetime


def _weighted(rng: random.Random, options: Sequence[tuple[_Locale, float]]) -> _Locale:
    roll = rng.random() * sum(w for _, w in options)
    for option, weight in options:
        roll -= weight
        if roll <= 0:
            return option
    return options[-1][0]


def _zipf_weights(size: int, exponent: float) -> list[float]:
    """Cumulative weights: rank r is drawn with weight 1 / r**exponent (a few names are very
    common, most are rare)."""
    total, out = 0.0, []
    for rank in range(1, size + 1):
        total += 1 / rank**exponent
        out.append(total)
    return out


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.emails: set[str] = set()
        self.pools: dict[str, list[_Company]] = {}
        self.tickets: dict[str, list[_Company]] = {}
        self.company_names: set[str] = set()
        self.phones: set[str] = set()
        self._ascii: dict[str, str] = {}
        self._weights: dict[tuple[int, float], list[float]] = {}

    def zipf(self, items: Sequence[str], exponent: float) -> str:
        key = (len(items), exponent)
        weights = self._weights.get(key)
        if weights is None:
            weights = self._weights[key] = _zipf_weights(len(items), exponent)
        return self.rng.choices(items, cum_weights=weights)[0]

    def ascii(self, text: str) -> str:
        found = self._ascii.get(text)
        if found is None:
            found = self._ascii[text] = _ascii(text)
        return found

    # Material -------------------------------------------------------------------------------

    def surname(self, locale: _Locale, female: bool) -> str:
        rng = self.rng
        if rng.random() < 0.55:
            base = self.zipf(locale.surnames, 0.7)
        else:
            base = rng.choice(locale.surname_heads) + rng.choice(locale.surname_tails)
            base = base[0].upper() + base[1:].lower()
        return locale.feminine(base) if female else base

    def phone(self, locale: _Locale, *, mobile: bool) -> _Phone:
        while True:
            phone = _new_phone(self.rng, locale, mobile=mobile)
            key = phone.locale + phone.national
            if key not in self.phones:
                self.phones.add(key)
                return phone

    def company(self, locale: _Locale) -> _Company:
        rng = self.rng
        tries = 0
        while True:
            tries += 1
            roll = rng.random()
            if tries > 3 or roll < 0.15:
                # An invented brand ("Kelmora", "Vantrix Logistics"): endless variety.
                core = _brand(rng)
                if rng.random() < 0.5:
                    core = f"{core} {rng.choice(locale.company_tails).capitalize()}"
            elif roll < 0.4:
                owner = self.surname(locale, female=False)
                core = f"{owner} {rng.choice(locale.company_tails).capitalize()}"
            elif locale.code in ("GB", "US"):
                core = f"{rng.choice(locale.company_roots)} {rng.choice(locale.company_tails)}"
            else:
                core = rng.choice(locale.company_roots) + rng.choice(locale.company_tails)
                if rng.random() < 0.3:
                    core = f"{core} {rng.choice(locale.company_roots)}"
            if core not in self.company_names:
                break
        self.company_names.add(core)
        forms = locale.legal_forms
        legal = rng.choices([f for f, _ in forms], [w for _, w in forms])[0]
        name = f"{core} {legal}".strip()
        domain = f"{_slug(core).replace('-', '')}.{locale.tld}"
        switchboard = self.phone(locale, mobile=False) if rng.random() < 0.35 else None
        role = rng.choice(locale.role_mailboxes)
        return _Company(name, core, legal, domain, locale, self.address(locale), switchboard, role)

    def address(self, locale: _Locale) -> tuple[str, str]:
        """A city of the locale and a postal code in it."""
        city, pattern = self.rng.choice(locale.cities)
        return city, _postal(self.rng, pattern)

    def pick_company(self, locale: _Locale) -> _Company | None:
        """A company for a new person: 12% have none. A new company one time in five;
        otherwise an existing one, half the time in proportion to its size (big companies
        get bigger) and half the time any of them, which gives a few large companies and
        many small ones."""
        rng = self.rng
        if rng.random() < 0.12:
            return None
        pool = self.pools.setdefault(locale.code, [])
        tickets = self.tickets.setdefault(locale.code, [])
        if not pool or rng.random() < 0.2:
            company = self.company(locale)
            pool.append(company)
        elif rng.random() < 0.5:
            company = rng.choice(tickets)
        else:
            company = rng.choice(pool)
        tickets.append(company)
        return company

    def email(self, locale: _Locale, first: str, last: str, company: _Company | None) -> str:
        rng = self.rng
        f, la = self.ascii(first), self.ascii(last)
        roll = rng.random()
        if company is not None and roll < 0.04:
            return f"{company.role_mailbox}@{company.domain}"  # shared by colleagues
        patterns: tuple[str, ...]
        if company is not None and roll < 0.68:
            patterns = (f"{f}.{la}", f"{f[0]}.{la}", f"{f}{la}", f"{f}", f"{f[0]}{la}", f"{la}.{f}")
            choice = rng.choices(patterns, (50, 15, 8, 8, 12, 7))[0]
            domain = company.domain
        elif roll < 0.92:
            patterns = (f"{f}.{la}", f"{f}{la}", f"{la}.{f}", f"{f}_{la}", f"{f[0]}{la}")
            choice = rng.choice(patterns)
            if rng.random() < 0.5:
                choice += str(rng.randrange(1, 99))
            domain = rng.choice(locale.free_mail)
        else:
            return ""
        address = f"{choice}@{domain}"
        counter = 2
        while address in self.emails:
            address = f"{choice}{counter}@{domain}"
            counter += 1
        self.emails.add(address)
        return address

    def person(self, entity: int) -> _Person:
        rng = self.rng
        locale = _weighted(rng, _LOCALES)
        female = rng.random() < 0.5
        first = self.zipf(locale.female if female else locale.male, 0.6)
        last = self.surname(locale, female)
        company = self.pick_company(locale)
        business: _Phone | None = None
        if company is not None and rng.random() < 0.75:
            switchboard = company.switchboard
            use_switchboard = switchboard is not None and rng.random() < 0.5
            business = switchboard if use_switchboard else self.phone(locale, mobile=False)
        mobile = self.phone(locale, mobile=True) if rng.random() < 0.6 else None
        website = ""
        if company is not None and rng.random() < 0.3:
            website = rng.choice(
                (f"www.{company.domain}", f"https://{company.domain}", company.domain)
            )
        city = company.city if company is not None and rng.random() < 0.8 else self.address(locale)
        created = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(1_000_000))
        return _Person(
            entity=entity,
            locale=locale,
            first=first,
            last=last,
            company=company,
            email=self.email(locale, first, last, company),
            business=business,
            business_style=rng.randrange(7),
            mobile=mobile,
            mobile_style=rng.randrange(7),
            city=city,
            website=website,
            created_at=created,
        )

    # Rows -----------------------------------------------------------------------------------

    def original(self, person: _Person, row_id: str) -> LeadRow:
        company = person.company
        return LeadRow(
            id=row_id,
            entity=person.entity,
            locale=person.locale.code,
            first_name=person.first,
            last_name=person.last,
            company=company.name if company else "",
            email=person.email,
            business_phone=_format_phone(person.business, person.business_style)
            if person.business
            else "",
            mobile_phone=_format_phone(person.mobile, person.mobile_style) if person.mobile else "",
            business_e164=person.business.e164 if person.business else "",
            mobile_e164=person.mobile.e164 if person.mobile else "",
            region=person.locale.region,
            city=person.city[0],
            postal_code=person.city[1],
            website=person.website,
            created_at=person.created_at,
        )

    def duplicate(self, person: _Person, original: LeadRow, row_id: str) -> LeadRow:
        rng = self.rng
        changes: list[str] = []
        first, last = original.first_name, original.last_name

        # Names: most duplicates are typed again by someone else, from a card or a call.
        nicknames = dict(person.locale.nicknames)
        if first in nicknames and rng.random() < 0.12:
            first = rng.choice(nicknames[first])
            changes.append("nickname")
        if rng.random() < 0.14:
            last = _typo(rng, last)
            changes.append("typo-last")
        if rng.random() < 0.1:
            first = _typo(rng, first)
            changes.append("typo-first")
        if rng.random() < 0.15 and (first != strip_accents(first) or last != strip_accents(last)):
            first, last = _deaccent(rng, first), _deaccent(rng, last)
            changes.append("accents")
        if rng.random() < 0.04:
            first = f"{first[0]}."
            changes.append("initial")
        elif rng.random() < 0.03:
            first = f"{first} {rng.choice(person.locale.female + person.locale.male)}"
            changes.append("middle-name")
        if rng.random() < 0.02:
            last = self.surname(person.locale, female=False)
            changes.append("new-last-name")
        if rng.random() < 0.07:
            first, last = last, first
            changes.append("swapped")
        case = rng.random()
        if case < 0.05:
            first, last = first.upper(), last.upper()
            changes.append("upper")
        elif case < 0.09:
            first, last = first.lower(), last.lower()
            changes.append("lower")

        # E-mail: the same, in another case, another address, or none.
        email = original.email
        roll = rng.random()
        if email and roll < 0.15:
            local, _, domain = email.partition("@")
            email = f"{local.title()}@{domain.upper() if rng.random() < 0.5 else domain}"
            changes.append("email-case")
        elif roll < 0.35:
            other = self.email(person.locale, person.first, person.last, person.company)
            if other != email:
                email = other
                changes.append("email-other")
        elif roll < 0.6:
            email = ""
            changes.append("email-missing")

        business, mobile = original.business_phone, original.mobile_phone
        business_e164, mobile_e164 = original.business_e164, original.mobile_e164
        if business and person.business is not None:
            roll = rng.random()
            if roll < 0.4:
                business = _format_phone(person.business, rng.randrange(7))
                changes.append("phone-format")
            elif roll < 0.75:
                business = business_e164 = ""
                changes.append("phone-missing")
        if mobile and person.mobile is not None:
            roll = rng.random()
            if roll < 0.4:
                mobile = _format_phone(person.mobile, rng.randrange(7))
                changes.append("mobile-format")
            elif roll < 0.75:
                mobile = mobile_e164 = ""
                changes.append("mobile-missing")
        if rng.random() < 0.15 and not mobile:
            # A mobile number the original did not have: new information.
            spare = self.phone(person.locale, mobile=True)
            mobile, mobile_e164 = _format_phone(spare, rng.randrange(7)), spare.e164
            changes.append("phone-new")

        company = original.company
        if company and person.company is not None:
            roll = rng.random()
            core, legal = person.company.core, person.company.legal_form
            variants = dict(person.locale.legal_variants).get(legal, ("",))
            if roll < 0.25:
                company = f"{core} {rng.choice(variants)}".strip()
                changes.append("legal-form")
            elif roll < 0.33:
                company = company.upper() if rng.random() < 0.5 else company.lower()
                changes.append("company-case")
            elif roll < 0.4:
                company = f"{_typo(rng, core)} {legal}".strip()
                changes.append("company-typo")
            elif roll < 0.55:
                company = ""
                changes.append("company-missing")

        website = original.website if rng.random() < 0.5 else ""
        city, postal = (original.city, original.postal_code) if rng.random() < 0.6 else ("", "")
        created = original.created_at + timedelta(days=rng.randrange(1, 400))
        if not changes:
            changes.append("retyped")
        return attrs.evolve(
            original,
            id=row_id,
            first_name=first,
            last_name=last,
            company=company,
            email=email,
            business_phone=business,
            mobile_phone=mobile,
            business_e164=business_e164,
            mobile_e164=mobile_e164,
            website=website,
            city=city,
            postal_code=postal,
            created_at=created,
            changes=tuple(changes),
        )


def generate_leads(n: int, *, seed: int = 0, duplicate_share: float = 0.22) -> DuplicateDataset:
    """``n`` generated leads, about ``duplicate_share`` of them duplicates of another.

    Four in five duplicated people appear twice, one in five three times. Rows are numbered
    ``L0000001``... in a shuffled order (and returned sorted by id), so ids say nothing about
    duplicates.
    Raises InvalidValue for ``n`` < 1 or a share outside 0-0.5.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidValue("n", n, "must be a positive integer")
    if not 0 <= duplicate_share <= 0.5:
        raise InvalidValue("duplicate_share", duplicate_share, "must be between 0 and 0.5")
    gen = _Generator(seed)
    rng = gen.rng
    # Ids are drawn in a shuffled order, so that they say nothing about duplicates.
    width = max(7, len(str(n)))
    ids = [f"L{i:0{width}d}" for i in range(1, n + 1)]
    rng.shuffle(ids)
    rows: list[LeadRow] = []
    entity = 0
    while len(rows) < n:
        entity += 1
        person = gen.person(entity)
        original = gen.original(person, ids[len(rows)])
        rows.append(original)
        # Each original gets duplicates with the probability that yields the wanted share:
        # with 1.2 copies on average, p * 1.2 / (1 + p * 1.2) = share.
        p = duplicate_share / (1.2 * (1 - duplicate_share)) if duplicate_share < 1 else 1
        if rng.random() < p:
            copies = 2 if rng.random() < 0.2 else 1
            for _ in range(copies):
                if len(rows) < n:
                    rows.append(gen.duplicate(person, original, ids[len(rows)]))
    rows.sort(key=lambda row: row.id)
    return DuplicateDataset(seed, tuple(rows))
