"""Write ``leads_sample.csv``: 200 realistic lead rows with deliberate errors and duplicates.

Run once (``python examples/data/make_leads_sample.py``); the output is committed and
``examples/import_leads.py`` imports it. Seeded, so running it again writes the same file.

The file looks like an export from a Swedish Excel: semicolon-separated, UTF-8 with a BOM
(Polish names do not fit Windows-1252), Swedish headers, phone numbers without a country
code, amounts with a decimal comma. Mixed in on purpose: invalid e-mails and phones, rows
without a topic or last name, a bad amount, an unknown lead source, blank rows, rows repeating
an earlier person (same e-mail, or the same name at the same company), and a cell that tries
formula injection.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = [
    "Ämne",
    "Förnamn",
    "Efternamn",
    "Företag",
    "Befattning",
    "E-post",
    "Telefon",
    "Mobil",
    "Gatuadress",
    "Postnummer",
    "Ort",
    "Land",
    "Leadkälla",
    "Betyg",
    "Budgetbelopp",
    "Valuta",
    "Beskrivning",
    "Kundnummer",
]

FIRST = {
    "Sverige": (
        "Åsa",
        "Björn",
        "Karin",
        "Håkan",
        "Linnéa",
        "Göran",
        "Maja",
        "Örjan",
        "Ingrid",
        "Lars",
        "Sofia",
        "Nils",
        "Elsa",
        "Mårten",
        "Britt",
        "Sven",
    ),
    "Polska": (
        "Małgorzata",
        "Łukasz",
        "Zofia",
        "Paweł",
        "Agnieszka",
        "Grzegorz",
        "Katarzyna",
        "Wojciech",
        "Jadwiga",
        "Michał",
        "Ewa",
        "Krzysztof",
    ),
    "Deutschland": (
        "Jürgen",
        "Käthe",
        "Günther",
        "Jörg",
        "Sabine",
        "Uwe",
        "Heike",
        "Matthias",
        "Ursula",
        "Dieter",
        "Frauke",
        "Björn",
    ),
    "United Kingdom": ("Emily", "Oliver", "Charlotte", "Harry", "Amelia", "George", "Isla"),
}
LAST = {
    "Sverige": (
        "Öberg",
        "Ärlebäck",
        "Lindqvist",
        "Ström",
        "Bäckström",
        "Åkesson",
        "Sjögren",
        "Nyström",
        "Hägglund",
        "Kärrholm",
        "Dahlgren",
        "Wikström",
        "Forsberg",
        "Löfgren",
    ),
    "Polska": (
        "Wiśniewska",
        "Żółkiewski",
        "Dąbrowska",
        "Kowalczyk",
        "Wójcik",
        "Szymański",
        "Kozłowska",
        "Jankowski",
        "Grabowska",
        "Piątek",
        "Mazur",
        "Zieliński",
    ),
    "Deutschland": (
        "Groß",
        "Schäfer",
        "Müller",
        "Weiß",
        "Hoffmann",
        "Schröder",
        "Köhler",
        "Bäcker",
        "Fuchs",
        "Zimmermann",
        "Krüger",
        "Lehmann",
    ),
    "United Kingdom": ("Taylor", "Smith", "Evans", "Walker", "Hughes", "Wright", "Clarke"),
}
CITIES = {
    "Sverige": (
        ("Stockholm", "111 22", "08-{} {} {}"),
        ("Göteborg", "411 03", "031-{} {} {}"),
        ("Malmö", "211 20", "040-{} {} {}"),
    ),
    "Polska": (("Kraków", "30-001", "+48 12 {} {} {}"), ("Łódź", "90-001", "+48 42 {} {} {}")),
    "Deutschland": (("München", "80331", "+49 89 {}{}{}"), ("Köln", "50667", "+49 221 {}{}{}")),
    "United Kingdom": (("London", "SW1A 1AA", "+44 20 7{}{} {}"),),
}
FIRMS = {
    "Sverige": (
        "Skärgårdens Båt AB",
        "Göta Stål AB",
        "Norrlands Trä AB",
        "Mälardalens Bygg AB",
        "Vänerns Fisk AB",
        "Östgöta Logistik AB",
        "Dalarnas Kraft AB",
        "Luleå Hamn AB",
    ),
    "Polska": (
        "Żabka Logistyka sp. z o.o.",
        "Wisła Transport S.A.",
        "Kraków Software sp. z o.o.",
        "Śląskie Maszyny S.A.",
        "Gdańsk Stocznia sp. z o.o.",
    ),
    "Deutschland": (
        "Bäckerei Groß GmbH",
        "Rhein Maschinenbau AG",
        "Alpen Energie GmbH",
        "Elbe Spedition KG",
        "Schwarzwald Holz GmbH",
    ),
    "United Kingdom": ("Thames Freight Ltd", "Severn Data Ltd", "Pennine Foods Ltd"),
}
TITLES = (
    "Inköpschef",
    "VD",
    "Logistikansvarig",
    "IT-chef",
    "Kierownik zakupów",
    "Einkaufsleiter",
    "Head of Procurement",
    "Ekonomichef",
)
TOPICS = (
    "Offert lastbilar",
    "Serviceavtal",
    "Ny webbplats",
    "Flottförnyelse",
    "Leasing 2027",
    "Oferta na flotę",
    "Angebot Fuhrpark",
    "Fleet renewal",
    "Demo av plattformen",
)
SOURCES = (
    "Mässa",
    "Webb",
    "Annons",
    "Partner",
    "Trade Show",
    "Web",
    "Targi",
    "Messe",
    "",
    "Word of Mouth",
    "7",
)
RATINGS = ("Het", "Varm", "Kall", "Hot", "", "")


def _ascii(text: str) -> str:
    table = str.maketrans("åäöÅÄÖéłŁżŻźśŚąęćńóüÜßöÖ", "aaoAAOelLzZzsSaecnouUsoO")
    return text.translate(table).lower()


def make_rows(rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    taken: set[tuple[str, str]] = set()
    for i in range(200):
        country = rng.choice(list(FIRST))
        first, last = rng.choice(FIRST[country]), rng.choice(LAST[country])
        while (first, last) in taken:
            first, last = rng.choice(FIRST[country]), rng.choice(LAST[country])
        taken.add((first, last))
        city, postal, phone = rng.choice(CITIES[country])
        firm = rng.choice(FIRMS[country])
        domain = _ascii(firm.split()[0]) + {
            "Sverige": ".se",
            "Polska": ".pl",
            "Deutschland": ".de",
        }.get(country, ".co.uk")
        digits = [f"{rng.randint(10, 99)}" for _ in range(3)]
        mobile = (
            f"07{rng.randint(0, 9)}-{rng.randint(100, 999)} "
            f"{rng.randint(10, 99)} {rng.randint(10, 99)}"
        )
        rows.append(
            [
                rng.choice(TOPICS),
                first,
                last,
                firm,
                rng.choice(TITLES),
                f"{_ascii(first)}.{_ascii(last)}{i}@{domain}",
                phone.format(*digits),
                mobile if country == "Sverige" and rng.random() < 0.5 else "",
                f"{rng.choice(('Storgatan', 'Ulica Długa', 'Hauptstraße', 'High Street'))} "
                f"{rng.randint(1, 120)}",
                postal,
                city,
                country,
                rng.choice(SOURCES),
                rng.choice(RATINGS),
                f"{rng.randint(10, 900)} {rng.randint(100, 999)},{rng.choice(('00', '50'))}"
                if rng.random() < 0.6
                else "",
                rng.choice(("SEK", "EUR", "PLN")),
                rng.choice(
                    (
                        "",
                        "Ring efter lunch",
                        "Vill ha offert före\njul; två kontaktpersoner",
                        'Intresserad av "Premium"-paketet',
                    )
                ),
                f"K-{10000 + i}",
            ]
        )

    # Deliberate errors: the reason is in the row's description.
    def spoil(index: int, column: str, value: str, why: str) -> None:
        row = rows[index]
        row[HEADER.index(column)] = value
        row[HEADER.index("Beskrivning")] = f"[fel: {why}]"

    spoil(7, "E-post", "anna.berg@", "e-post utan domän")
    spoil(19, "E-post", "lukasz(at)wisla.pl", "e-post utan @")
    spoil(33, "E-post", "jurgen@@gross.de", "två @")
    spoil(41, "Telefon", "12", "för kort telefonnummer")
    spoil(58, "Telefon", "ring växeln", "telefon är text")
    spoil(66, "Ämne", "", "ämne saknas")
    spoil(72, "Efternamn", "", "efternamn saknas")
    spoil(85, "Budgetbelopp", "tio tusen", "belopp är text")
    spoil(97, "Leadkälla", "Cirkus", "okänd leadkälla")
    spoil(103, "Betyg", "Ljum", "okänt betyg")
    spoil(118, "Postnummer", "11#22", "ogiltigt postnummer")
    spoil(127, "Valuta", "KRONOR", "okänd valuta")
    rows[127][HEADER.index("Budgetbelopp")] = "5 000,00"
    rows[140][HEADER.index("Företag")] = '=HYPERLINK("http://example.invalid","Klicka")'
    # Duplicates: the same person again (same e-mail), or the same name at the same company.
    for target, source in ((150, 3), (151, 12), (152, 25), (153, 40), (154, 51)):
        rows[target] = list(rows[source])
        rows[target][HEADER.index("Ämne")] = "Påminnelse: " + rows[source][0]
    for target, source in ((160, 60), (161, 70), (162, 80)):
        copy = list(rows[source])
        copy[HEADER.index("E-post")] = ""
        copy[HEADER.index("Telefon")] = ""
        copy[HEADER.index("Mobil")] = ""
        rows[target] = copy
    for index in (170, 185, 199):
        rows[index] = [""] * len(HEADER)
    return rows


def main() -> None:
    rng = random.Random(2026)
    path = Path(__file__).with_name("leads_sample.csv")
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(make_rows(rng))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
