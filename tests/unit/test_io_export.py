"""Export: chosen columns and display names, formula-injection neutralising (header cells too)
and its exact reversal on import, CSV and .xlsx files written whole or not at all."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import CustomFields, LeadSource, Rating
from leadkit.io import (
    DEFAULT_EXPORT_COLUMNS,
    XlsxSource,
    export_csv,
    export_xlsx,
    header_row,
    neutralise,
    open_source,
    restore,
    suggest_mapping,
)
from leadkit.io.mapping import ParseOptions, RowParser
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import Address, EmailAddress, LeadId, Money, PersonName, PhoneNumber, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("u1", "Ulla")


def _lead(lead_id: str = "L-1", **fields: object) -> Lead:
    values: dict[str, object] = {"topic": "Fleet", "name": PersonName(first="Åsa", last="Öberg")}
    values.update(fields)
    return Lead.create(LeadId(lead_id), LeadPatch.from_mapping(values), at=AT, by=BY)


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+46 70", "'+46 70"),
        ("-5.00", "'-5.00"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=already", "''=already"),
        ("'quoted", "'quoted"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_formula_triggers_get_one_quote_and_restore_removes_exactly_it(
    text: str, safe: str
) -> None:
    assert neutralise(text) == safe
    assert restore(safe) == text


def test_header_cells_are_neutralised_and_named_in_the_chosen_language() -> None:
    assert header_row(["last_name", "email"], language="sv") == ["Efternamn", "E-post"]
    assert header_row(["last_name", "email"], language="pl") == ["Nazwisko", "Adres e-mail"]
    assert header_row(["last_name"], language="de") == ["Nachname"]
    out = io.StringIO(newline="")
    export_csv([_lead()], out, ["topic", "last_name"], names={"topic": "=cmd|' /C calc'!A0"})
    first = out.getvalue().splitlines()[0]
    assert first.startswith("'=cmd")


def test_bad_export_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        header_row(["topic"], language="fr")
    with pytest.raises(ConfigurationError):
        header_row(["nope"])
    with pytest.raises(ConfigurationError):
        header_row(["topic", "last_name"], names={"topic": "Last Name"})
    with pytest.raises(ConfigurationError):
        export_csv([], io.StringIO(), delimiter="|")


def test_a_csv_export_with_chosen_columns_reads_back_as_the_same_fields(tmp_path: Path) -> None:
    lead = _lead(
        company="=1+2 Consulting",
        business_phone=PhoneNumber("070-123 45 67", "SE"),
        email=EmailAddress("asa@skargard.se"),
        address=Address(line1="Storgatan 1", city="Göteborg", postal_code="411 01"),
        source=LeadSource.TRADE_SHOW,
        rating=Rating.HOT,
        budget_amount=Money("-1234.50", "SEK"),
        estimated_close_date=date(2026, 12, 31),
        description='Ring "efter" lunch;\r\nfråga om leasing',
        custom_fields=CustomFields({"industry": "Marin"}),
    )
    path = tmp_path / "out.csv"
    columns = (*DEFAULT_EXPORT_COLUMNS, "custom.industry", "id", "owner")
    assert export_csv([lead], path, columns, language="sv", delimiter=";") == 1
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[1][columns.index("company")] == "'=1+2 Consulting"
    assert rows[1][columns.index("budget_amount")] == "'-1234.50"

    source = open_source(path)
    mapping = suggest_mapping(source.headers)
    assert mapping.ignored == ("Ägare",)  # the owner column is export-only
    parsed = RowParser(mapping, source.headers, ParseOptions(phone_region="SE")).parse(
        2, next(source.rows()).cells
    )
    assert parsed.errors == ()
    assert parsed.patch is not None
    patch = parsed.patch
    assert patch.company == "=1+2 Consulting"
    assert patch.budget_amount == Money("-1234.50", "SEK")
    assert patch.description == 'Ring "efter" lunch;\r\nfråga om leasing'
    assert patch.address == lead.address
    assert patch.custom_fields == lead.custom_fields
    assert parsed.ident == "L-1"


def test_an_xlsx_export_holds_text_cells_never_formulas(tmp_path: Path) -> None:
    lead = _lead(company='=HYPERLINK("http://evil")', job_title="@admin")
    path = tmp_path / "out.xlsx"
    assert export_xlsx([lead, _lead("L-2")], path, ["topic", "company", "job_title"]) == 2
    book = openpyxl.load_workbook(path)
    sheet = book["Leads"]
    assert sheet["B2"].value == '\'=HYPERLINK("http://evil")'
    assert sheet["B2"].data_type == "s"
    assert sheet["C2"].value == "'@admin"
    book.close()
    rows = list(XlsxSource(path).rows())
    assert restore(rows[0].cells[1]) == lead.company


def test_a_failed_export_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"

    def leads() -> Iterator[Lead]:
        yield _lead()
        raise InvalidValue("lead", None, "the store failed half-way")

    with pytest.raises(InvalidValue, match="half-way"):
        export_xlsx(leads(), path, ["topic", "description"])
    assert list(tmp_path.iterdir()) == []


def test_a_control_character_spoils_only_its_own_cell(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    bad = _lead("L-2", description="bell \x07 and NUL \x00 here")
    assert export_xlsx([_lead(), bad], path, ["topic", "description"]) == 2
    rows = list(XlsxSource(path).rows())
    assert rows[1].cells[1] == "bell \ufffd and NUL \ufffd here"
    assert rows[0].cells == (_lead().topic, _lead().description)


def test_money_and_custom_values_export_as_plain_text() -> None:
    lead = _lead(
        estimated_value=Money(Decimal("1E+3"), "JPY"),
        custom_fields=CustomFields(
            {"vip": True, "since": date(2020, 1, 2), "ratio": Decimal("0.5")}
        ),
    )
    out = io.StringIO(newline="")
    export_csv(
        [lead],
        out,
        [
            "estimated_value",
            "estimated_value_currency",
            "custom.vip",
            "custom.since",
            "custom.ratio",
        ],
    )
    assert out.getvalue().splitlines()[1] == "1000,JPY,true,2020-01-02,0.5"
