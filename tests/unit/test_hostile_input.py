"""Issue 22: hostile input gets a typed leadkit error naming the place, or is read correctly;
the limits are configurable."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.io import (
    CsvSource,
    EmailIntakePolicy,
    MalformedMessage,
    MalformedSource,
    ReadLimits,
    XlsxSource,
    XmlSpreadsheetSource,
    lead_from_email,
    open_source,
)
from leadkit.values import Money, PersonName
from support.hostile import HEADER_ROW, case_bytes, xlsx, xml2003


def _rows(source: object) -> list[tuple[int, tuple[str, ...]]]:
    return [(r.number, r.cells) for r in source.rows()]  # type: ignore[attr-defined]


def test_a_csv_with_cr_only_line_endings_is_read_row_by_row() -> None:
    source = CsvSource(case_bytes("cr-only.csv"))
    assert source.headers == ("Topic", "Last Name")
    assert _rows(source) == [(2, ("Fleet", "Nowak")), (3, ("Trucks", "Berg"))]


def test_a_header_wider_than_the_sniffing_sample_is_read_whole() -> None:
    headers = [f"column number {i:04d} " + "x" * 60 for i in range(900)]
    data = (",".join(headers) + "\r\n" + ",".join("v" for _ in headers) + "\r\n").encode()
    assert len(data) > 64 * 1024
    source = CsvSource(data)
    assert source.headers == tuple(h.strip() for h in headers)
    assert _rows(source)[0][1] == ("v",) * 900


def test_a_header_wider_than_the_sample_is_read_whole_from_a_stream_too() -> None:
    import io

    headers = [f"h{i:05d}" + "y" * 70 for i in range(1000)]
    data = (",".join(headers) + "\r\nA," + "\r\n").encode()
    source = CsvSource(io.BytesIO(data), limits=ReadLimits(max_columns=1000))
    assert len(source.headers) == 1000
    assert _rows(source) == [(2, ("A", ""))]


def test_the_column_limit_is_configurable_and_names_the_header() -> None:
    data = b"a,b,c,d\r\n1,2,3,4\r\n"
    with pytest.raises(MalformedSource, match=r"ReadLimits\.max_columns") as caught:
        CsvSource(data, limits=ReadLimits(max_columns=3))
    assert caught.value.field == "header"
    assert CsvSource(data, limits=ReadLimits(max_columns=4)).headers == ("a", "b", "c", "d")


def test_a_cell_over_the_character_limit_names_its_row_and_cell() -> None:
    data = b"Topic,Last Name\r\nok,fine\r\nx," + b"y" * 50 + b"\r\n"
    with pytest.raises(MalformedSource, match=r"cell B holds 50 characters") as caught:
        list(CsvSource(data, limits=ReadLimits(max_cell_chars=49)).rows())
    assert caught.value.field == "row 3"


def test_binary_garbage_and_broken_quoting_are_malformed_sources() -> None:
    with pytest.raises(MalformedSource, match="row 2"):
        list(CsvSource(case_bytes("unclosed-quote.csv")).rows())
    source = open_source(case_bytes("binary-garbage.csv"))
    assert isinstance(source, CsvSource)


def test_the_encoding_advice_names_the_cli_option() -> None:
    data = b"Topic,Last Name\r\nA,B\r\n" + b"x,\xff\xfe\r\n"
    with pytest.raises(MalformedSource, match="--encoding cp1252"):
        list(CsvSource(data, encoding="utf-8").rows())


def test_a_delimiter_that_cannot_delimit_is_refused() -> None:
    for bad in ('"', "\n", "ab", 5):
        with pytest.raises(MalformedSource) as caught:
            CsvSource(b"a,b\r\n", delimiter=bad)  # type: ignore[arg-type]
        assert caught.value.field == "delimiter"


def test_an_xlsx_dimension_is_ignored_and_far_cells_are_not_allocated() -> None:
    data = xlsx(
        HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>T</t></is></c>'
        '<c r="XFD2" t="inlineStr"><is><t>far</t></is></c></row>',
        dimension='<dimension ref="A1:XFD1048576"/>',
    )
    source = XlsxSource(data)
    assert source.headers == ("Topic", "Last Name")
    # The far cell is kept as one extra cell beyond the header (the importer rejects the row).
    assert _rows(source) == [(2, ("T", "", "far"))]


def test_the_shared_string_limit_is_configurable() -> None:
    data = xlsx(HEADER_ROW, strings="<si><t>a</t></si>" * 50)
    with pytest.raises(MalformedSource, match=r"ReadLimits\.max_shared_strings"):
        XlsxSource(data, limits=ReadLimits(max_shared_strings=10))
    assert XlsxSource(data).headers == ("Topic", "Last Name")


def test_a_broken_xlsx_cell_names_its_row() -> None:
    with pytest.raises(MalformedSource) as caught:
        list(XlsxSource(case_bytes("value-not-a-number.xlsx")).rows())
    assert caught.value.field == "row 2"


def test_xml_spreadsheet_index_and_merge_stop_at_the_header_width() -> None:
    data = xml2003(
        '<Row><Cell ss:MergeAcross="5"><Data ss:Type="String">a</Data></Cell>'
        '<Cell ss:Index="9"><Data ss:Type="String">far</Data></Cell></Row>'
    )
    assert _rows(XmlSpreadsheetSource(data)) == [(2, ("a", "", "far"))]
    with pytest.raises(MalformedSource, match="ss:Index is beyond") as caught:
        list(XmlSpreadsheetSource(case_bytes("cell-index-1500000000.xml")).rows())
    assert caught.value.field == "row 2"


def test_eight_bit_utf8_headers_are_decoded() -> None:
    intake = lead_from_email(case_bytes("utf8-8bit-from.eml"))
    assert isinstance(intake.patch.name, PersonName)
    assert intake.patch.name.full == "Jürgen Groß"


def test_cr_lf_in_an_encoded_display_name_becomes_a_space() -> None:
    intake = lead_from_email(case_bytes("crlf-display-name.eml"))
    assert isinstance(intake.patch.name, PersonName)
    assert intake.patch.name.full == "Ada Lovelace"
    assert str(intake.sender) == "ada@example.com"


def test_e_mail_limits_are_configurable() -> None:
    message = b"From: a@example.com\r\nSubject: " + b"x" * 200 + b"\r\n\r\nbody"
    with pytest.raises(MalformedMessage, match="max_header_chars") as caught:
        lead_from_email(message, policy=EmailIntakePolicy(max_header_chars=100))
    assert caught.value.field == "Subject"
    with pytest.raises(MalformedMessage, match="max_message_bytes"):
        lead_from_email(message, policy=EmailIntakePolicy(max_message_bytes=100))
    assert lead_from_email(message).patch.topic == "x" * 200
    with pytest.raises(ConfigurationError, match="max_mime_depth"):
        EmailIntakePolicy(max_mime_depth=0)


def test_money_refuses_huge_exponents_before_rounding() -> None:
    for text in ("1e1000000", "-9e999999999"):
        with pytest.raises(InvalidValue, match="10\\^15"):
            Money(text, "EUR")
    assert Money("1e-999999999", "EUR") == Money(0, "EUR")


def test_money_arithmetic_never_raises_a_decimal_signal() -> None:
    amount = Money("5", "EUR")
    for factor in (Decimal("sNaN"), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(InvalidValue, match="finite"):
            amount * factor
    with pytest.raises(InvalidValue, match="10\\^15"):
        amount * Decimal("1e999999")
    big = Money("999999999999999", "JPY")
    with pytest.raises(InvalidValue, match="10\\^15"):
        big + big


def test_read_limits_refuse_bad_settings() -> None:
    for bad in (0, -1, True, "5", 2.5):
        with pytest.raises(ConfigurationError):
            ReadLimits(max_columns=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="at most 16,384"):
        ReadLimits(max_columns=20_000)
    with pytest.raises(ConfigurationError):
        ReadLimits(max_compression_ratio=float("nan"))


def test_the_cli_import_takes_encoding_and_delimiter(tmp_path: Path) -> None:
    from leadkit.cli import cli

    db = tmp_path / "leads.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "init"]).exit_code == 0
    path = tmp_path / "leads.csv"
    path.write_bytes("Topic|Last Name\r\nFlotte|Groß\r\n".encode("cp1252"))
    done = runner.invoke(
        cli,
        ["--db", str(db), "import", str(path), "--yes", "--encoding", "cp1252", "--delimiter", "|"],
    )
    assert done.exit_code == 0, done.output
    assert "created 1" in done.output
    shown = runner.invoke(cli, ["--db", str(db), "--json", "list"])
    assert "Groß" in shown.output


def test_the_cli_refuses_a_busy_timeout_of_nan(tmp_path: Path) -> None:
    from leadkit.cli import cli

    done = CliRunner().invoke(cli, ["--busy-timeout", "nan", "--db", str(tmp_path / "x"), "list"])
    assert done.exit_code != 0
    assert "busy-timeout" in done.output
    assert "ValueError" not in done.output


def test_json_nested_too_deep_is_an_invalid_value() -> None:
    from leadkit import Lead, make_converter

    with pytest.raises(InvalidValue, match="nested too deep"):
        make_converter().loads("[" * 100_000, Lead)


def test_a_datetime_that_overflows_in_utc_is_refused_at_create_and_in_queries() -> None:
    from datetime import datetime, timedelta, timezone

    from leadkit import Lead, LeadId, LeadPatch, LeadQuery, UserRef

    late = datetime.max.replace(tzinfo=timezone(timedelta(hours=-14)))
    with pytest.raises(InvalidValue, match="out of range once converted to UTC") as caught:
        LeadQuery(created_from=late)
    assert caught.value.field == "created_from"
    patch = LeadPatch(topic="t", name=PersonName(last="N"))
    with pytest.raises(InvalidValue, match="UTC") as caught:
        Lead.create(LeadId("L-1"), patch, at=late, by=UserRef("u"))
    assert caught.value.field == "at"


def test_a_nul_in_a_text_filter_is_refused_for_every_adapter() -> None:
    from leadkit import LeadQuery

    with pytest.raises(InvalidValue, match="NUL") as caught:
        LeadQuery(text="a\x00b")
    assert caught.value.field == "text"


def test_a_hand_edited_sql_row_is_storage_unavailable_naming_the_lead(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime

    from leadkit import Lead, LeadId, LeadPatch, LeadQuery, StorageUnavailable, UserRef
    from leadkit.adapters.sql import SqlStore

    path = tmp_path / "leads.db"
    store = SqlStore.open(path=path, create=True)
    lead = Lead.create(
        LeadId("L-1"), LeadPatch(topic="t", name=PersonName(last="N")),
        at=datetime(2026, 1, 1, tzinfo=UTC), by=UserRef("u"),
    )  # fmt: skip
    with store.unit_of_work() as uow:
        uow.leads.add(lead)
        uow.commit()
    store.close()
    deep = '{"schema":1,"kind":"Lead","data":' + "[" * 100_000 + "]" * 100_000 + "}"
    for column, value in (("version", "abc"), ("document", deep)):
        with sqlite3.connect(path) as connection:
            connection.execute(f"UPDATE leads SET {column} = ?", (value,))
        store = SqlStore.open(path=path)
        try:
            with pytest.raises(StorageUnavailable, match="L-1"), store.unit_of_work() as uow:
                uow.leads.get(LeadId("L-1"))
            with pytest.raises(StorageUnavailable, match="L-1"), store.unit_of_work() as uow:
                list(uow.leads.stream(LeadQuery()))
        finally:
            store.close()
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE leads SET version = 1")


def _nested(depth: int) -> str:
    return "<B>" * depth + "x" + "</B>" * depth


def test_xml_nested_deeper_than_the_limit_is_refused_naming_the_limit() -> None:
    # Workbook/Worksheet/Table/Row/Cell/Data are six levels; the <B> elements come below them.
    data = xml2003(f'<Row><Cell><Data ss:Type="String">{_nested(94)}</Data></Cell></Row>')
    source = XmlSpreadsheetSource(data)
    assert _rows(source) == [(2, ("x",))]
    deeper = xml2003(f'<Row><Cell><Data ss:Type="String">{_nested(95)}</Data></Cell></Row>')
    with pytest.raises(MalformedSource, match=r"more than 100 deep \(ReadLimits\.max_xml_depth\)"):
        _rows(XmlSpreadsheetSource(deeper))
    assert _rows(XmlSpreadsheetSource(deeper, limits=ReadLimits(max_xml_depth=101))) == [
        (2, ("x",))
    ]


def test_a_leadkit_xml_file_nested_too_deep_is_refused() -> None:
    data = f"<leads><lead><topic>{_nested(3)}</topic></lead></leads>".encode()
    assert open_source(data, name="leads.xml").headers == ("topic",)
    with pytest.raises(MalformedSource, match=r"ReadLimits\.max_xml_depth"):
        open_source(data, name="leads.xml", limits=ReadLimits(max_xml_depth=4))


def test_the_xml_depth_limit_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="max_xml_depth"):
        ReadLimits(max_xml_depth=0)
