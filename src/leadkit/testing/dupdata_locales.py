"""The name and company material of each locale the duplicate-data generator draws from
(Sweden, Poland, Germany, the United Kingdom, the United States), with its weights.

Part of :mod:`leadkit.testing.dupdata`; nothing here is public.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import attrs

__all__: list[str] = []

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
