"""Readers: CSV encodings and delimiters, .xlsx, XML Spreadsheet 2003, the leadkit XML format,
and the refusal of unsafe XML. Every fixture is written by the test that reads it."""

from __future__ import annotations

import io
import tracemalloc
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from leadkit.io import (
    CsvSource,
    LeadkitXmlSource,
    MalformedSource,
    UnsafeXml,
    XlsxSource,
    XmlSpreadsheetSource,
    detect_encoding,
    open_source,
)

SWEDISH_HEADER = "Ämne;Förnamn;Efternamn;Företag;Telefon\r\n"
SWEDISH_ROWS = (
    "Offert lastbilar;Åsa;Öberg;Skärgårdens Båt AB;070-123 45 67\r\n"
    "Serviceavtal;Björn;Ärlebäck;Göta Stål;031-12 34 56\r\n"
)


def _cells(
    source: CsvSource | XlsxSource | XmlSpreadsheetSource | LeadkitXmlSource,
) -> list[tuple[int, tuple[str, ...]]]:
    return [(r.number, r.cells) for r in source.rows()]


def test_a_semicolon_csv_in_windows_1252_keeps_its_swedish_names(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes((SWEDISH_HEADER + SWEDISH_ROWS).encode("cp1252"))
    source = CsvSource(path)
    assert source.encoding == "cp1252"
    assert source.delimiter == ";"
    assert source.headers == ("Ämne", "Förnamn", "Efternamn", "Företag", "Telefon")
    rows = _cells(source)
    assert rows[0] == (
        2,
        ("Offert lastbilar", "Åsa", "Öberg", "Skärgårdens Båt AB", "070-123 45 67"),
    )
    assert rows[1][1][2] == "Ärlebäck"


def test_a_utf8_bom_is_detected_and_not_part_of_the_first_header() -> None:
    data = "\ufeffTopic,Last Name\r\nFleet,Nowak\r\n".encode()
    source = CsvSource(data)
    assert source.encoding == "utf-8-sig"
    assert source.headers == ("Topic", "Last Name")
    assert _cells(source) == [(2, ("Fleet", "Nowak"))]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_or_without_a_bom_is_read(codec: str) -> None:
    text = "Topic\tNazwisko\r\nFlota\tŻółkiewski\r\n"
    source = CsvSource(text.encode(codec))
    assert source.delimiter == "\t"
    assert _cells(source) == [(2, ("Flota", "Żółkiewski"))]


def test_plain_utf8_is_preferred_when_it_decodes() -> None:
    assert detect_encoding("Groß;Łódź".encode()) == "utf-8"
    assert detect_encoding("Groß;Åsa".encode("cp1252")) == "cp1252"
    # 0x81 is undefined in Windows-1252: Latin-1 is the last resort.
    assert detect_encoding(b"Gro\x81") == "latin-1"


def test_a_quoted_field_may_span_lines_and_stays_one_row() -> None:
    data = (
        b"Topic,Description,Last Name\r\n"
        b'Fleet,"line one\r\nline two, with comma",Nowak\r\n'
        b"Next,x,Berg\r\n"
    )
    rows = _cells(CsvSource(data))
    assert rows == [
        (2, ("Fleet", "line one\r\nline two, with comma", "Nowak")),
        (3, ("Next", "x", "Berg")),
    ]


def test_the_delimiter_is_the_one_that_splits_the_rows_consistently() -> None:
    data = b'Topic;Company\r\n"Hello, world";"Acme, Inc."\r\n'
    assert CsvSource(data).delimiter == ";"
    assert CsvSource(b"a,b\r\n1,2\r\n").delimiter == ","


def test_the_given_encoding_and_delimiter_override_detection() -> None:
    data = "Ämne|x\r\n".encode("cp1252")
    source = CsvSource(data, encoding="latin-1", delimiter="|")
    assert source.headers == ("Ämne", "x")


def test_an_empty_file_has_no_header_and_is_refused() -> None:
    with pytest.raises(MalformedSource) as caught:
        CsvSource(b"")
    assert caught.value.field == "header"


def test_a_repeated_header_is_refused() -> None:
    with pytest.raises(MalformedSource, match="repeats a header"):
        CsvSource(b"Topic,topic\r\nx,y\r\n")


def test_bytes_that_are_not_utf8_after_the_sample_name_the_row() -> None:
    head = "Topic,Last Name\r\n" + "".join(f"Lead {i},Berg\r\n" for i in range(7000))
    data = head.encode() + "Sista,Öberg\r\n".encode("cp1252")
    source = CsvSource(data)
    assert source.encoding == "utf-8"
    with pytest.raises(MalformedSource) as caught:
        list(source.rows())
    assert caught.value.field.startswith("row ")
    assert "encoding" in caught.value.reason


def test_a_stream_is_read_once_and_a_second_pass_is_refused() -> None:
    source = CsvSource(io.BytesIO(b"Topic,Last Name\r\nA,B\r\n"))
    assert _cells(source) == [(2, ("A", "B"))]
    with pytest.raises(MalformedSource, match="read once"):
        list(source.rows())


def test_a_blank_row_is_yielded_so_it_can_be_accounted_for() -> None:
    rows = list(CsvSource(b"Topic,Last Name\r\nA,B\r\n\r\nC,D\r\n").rows())
    assert [r.number for r in rows] == [2, 3, 4]
    assert rows[1].is_blank


def test_neutralised_header_cells_are_restored() -> None:
    assert CsvSource(b"'=Topic,Last Name\r\n").headers == ("=Topic", "Last Name")


# ---------------------------------------------------------------------------------------------
# Excel


def _workbook(rows: list[list[object]], *, sheet: str = "Leads", first: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    default = book.active
    assert default is not None
    if first is not None:
        default.title = first
        default.append(["not", "this"])
        worksheet = book.create_sheet(sheet)
    else:
        default.title = sheet
        worksheet = default
    for row in rows:
        worksheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_made_with_openpyxl_is_read_with_its_row_numbers() -> None:
    data = _workbook(
        [
            ["Topic", "Nachname", "Telefon", "Est. Close Date", "Budget Amount"],
            ["Flotte", "Groß", 46701234567, None, 1500.5],
            [],
            ["Messe", "Müller", "030 1234567", datetime(2026, 3, 1), 2000.0],
        ]
    )
    source = XlsxSource(data)
    assert source.headers == ("Topic", "Nachname", "Telefon", "Est. Close Date", "Budget Amount")
    rows = _cells(source)
    assert rows[0] == (2, ("Flotte", "Groß", "46701234567", "", "1500.5"))
    # Row 3 is absent from the sheet's XML: only rows present in the file are read (a sheet
    # declaring row 1,048,576 costs nothing), with their own numbers.
    assert rows[1] == (4, ("Messe", "Müller", "030 1234567", "2026-03-01", "2000"))
    assert len(rows) == 2


def test_a_named_sheet_is_read_and_an_unknown_one_refused() -> None:
    data = _workbook([["Topic", "Last Name"], ["A", "B"]], sheet="Import", first="Info")
    assert XlsxSource(data, sheet="Import").headers == ("Topic", "Last Name")
    assert XlsxSource(data).headers == ("not", "this")
    with pytest.raises(MalformedSource, match="no such sheet"):
        XlsxSource(data, sheet="Nope")


def test_a_file_that_is_not_a_workbook_is_refused() -> None:
    with pytest.raises(MalformedSource, match=r"not an \.xlsx"):
        XlsxSource(b"PK\x03\x04 this is no zip")


# ---------------------------------------------------------------------------------------------
# XML

SPREADSHEET_2003 = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="Lead">
  <Table>
   <Column ss:Width="80"/>
   <Row>
    <Cell><Data ss:Type="String">Topic</Data></Cell>
    <Cell><Data ss:Type="String">Last Name</Data></Cell>
    <Cell><Data ss:Type="String">Business Phone</Data></Cell>
    <Cell><Data ss:Type="String">Est. Close Date</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">Flota pojazdów</Data></Cell>
    <Cell><Data ss:Type="String">Wiśniewska</Data></Cell>
    <Cell><Data ss:Type="Number">221234567</Data></Cell>
    <Cell><Data ss:Type="DateTime">2026-05-31T00:00:00.000</Data></Cell>
   </Row>
   <Row ss:Index="5">
    <Cell ss:Index="2"><Data ss:Type="String">Nowak</Data></Cell>
   </Row>
  </Table>
 </Worksheet>
 <Worksheet ss:Name="Other"><Table>
  <Row><Cell><Data ss:Type="String">x</Data></Cell></Row>
 </Table></Worksheet>
</Workbook>
"""


def test_an_xml_spreadsheet_2003_file_is_read_with_indexes_honoured() -> None:
    source = XmlSpreadsheetSource(SPREADSHEET_2003.encode())
    assert source.headers == ("Topic", "Last Name", "Business Phone", "Est. Close Date")
    assert _cells(source) == [
        (2, ("Flota pojazdów", "Wiśniewska", "221234567", "2026-05-31")),
        (5, ("", "Nowak")),
    ]
    assert XmlSpreadsheetSource(SPREADSHEET_2003.encode(), sheet="Other").headers == ("x",)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="x"><Table><Row><Cell><Data ss:Type="String">&lol9;</Data></Cell></Row>
 </Table></Worksheet>
</Workbook>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE leads [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<leads><lead><topic>&secret;</topic><last_name>x</last_name></lead></leads>
"""


def test_a_billion_laughs_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "lol.xml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(UnsafeXml) as caught:
        open_source(path)
    assert "entity" in str(caught.value)
    assert isinstance(caught.value, MalformedSource)


def test_an_external_entity_is_refused_and_never_fetched() -> None:
    with pytest.raises(UnsafeXml):
        LeadkitXmlSource(EXTERNAL_ENTITY.encode())


def test_broken_xml_is_malformed_not_a_parser_crash() -> None:
    with pytest.raises(MalformedSource, match="well-formed"):
        LeadkitXmlSource(b"<leads><lead><topic>x</lead></leads>")


def test_the_leadkit_xml_format_collects_its_columns_in_order() -> None:
    data = (
        '<leads xmlns="urn:leadkit:leads:1">'
        "<lead><topic>Fleet</topic><last_name>Öberg</last_name></lead>"
        '<lead id="L-7"><last_name>Nowak</last_name>'
        "<custom.industry>Retail</custom.industry></lead>"
        "</leads>"
    ).encode()
    source = LeadkitXmlSource(data)
    assert source.headers == ("topic", "last_name", "id", "custom.industry")
    assert _cells(source) == [
        (2, ("Fleet", "Öberg", "", "")),
        (3, ("", "Nowak", "L-7", "Retail")),
    ]


def test_open_source_picks_the_reader_from_the_content(tmp_path: Path) -> None:
    assert isinstance(open_source(b"Topic,Last Name\r\n"), CsvSource)
    assert isinstance(open_source(SPREADSHEET_2003.encode()), XmlSpreadsheetSource)
    assert isinstance(
        open_source(b"<leads><lead><topic>x</topic></lead></leads>"), LeadkitXmlSource
    )
    assert isinstance(open_source(_workbook([["Topic"]])), XlsxSource)
    path = tmp_path / "x.csv"
    path.write_bytes(b"Topic\r\n")
    assert open_source(path).name == "x.csv"
    with pytest.raises(MalformedSource):
        open_source(b"x", format="json")


# ---------------------------------------------------------------------------------------------
# Streaming


def _peak_while_reading(source: CsvSource | XmlSpreadsheetSource) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in source.rows())
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_large_csv_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("Topic;Last Name;Description\r\n")
        for i in range(10_000):
            f.write(f'Lead {i};Öberg;"a description, number {i}"\r\n')
    size = path.stat().st_size
    count, peak = _peak_while_reading(CsvSource(path))
    assert count == 10_000
    assert peak < min(size // 2, 400_000)  # a few buffers, never the file


def test_reading_a_large_xml_spreadsheet_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    row = (
        '<Row><Cell><Data ss:Type="String">Lead {}</Data></Cell>'
        '<Cell><Data ss:Type="String">Groß</Data></Cell></Row>\n'
    )
    with path.open("w", encoding="utf-8") as f:
        f.write(
            '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"'
            ' xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="L">'
            "<Table>\n"
        )
        f.write(row.format("Topic").replace("Groß", "Last Name"))
        for i in range(10_000):
            f.write(row.format(i))
        f.write("</Table></Worksheet></Workbook>\n")
    size = path.stat().st_size
    count, peak = _peak_while_reading(XmlSpreadsheetSource(path))
    assert count == 10_000
    assert peak < min(size // 2, 500_000)


@pytest.mark.parametrize("name", [NotImplemented, 5, ""])
def test_a_source_that_is_no_stream_is_refused_whatever_its_name(name: object) -> None:
    # Found by fuzzing: the name was truth-tested (NotImplemented warns in a boolean context).
    with pytest.raises(MalformedSource) as caught:
        LeadkitXmlSource(object(), name=name)  # type: ignore[arg-type]

    assert caught.value.reason == "must be a path, bytes or a binary stream"
