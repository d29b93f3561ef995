"""The hostile-file corpus: small files that once broke a reader (a hang, gigabytes of memory
or a raw exception), made by code so that the large ones never need committing.

Each case is a name (its file name, whose extension says the reader), the bytes and what a
safe reader must do: ``"refuse"`` (a leadkit error) or ``"either"`` (a leadkit error, or
an accepted file read safely). ``python -m tests.support.hostile`` rewrites the small ones
(at most :data:`COMMITTED_MAX` bytes) into tests/data/hostile/.
"""

from __future__ import annotations

import functools
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

COMMITTED_MAX: Final = 16 * 1024
HOSTILE_DIR: Final = Path(__file__).resolve().parent.parent / "data" / "hostile"

_CONTENT_TYPES: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADER_ROW: Final = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Topic</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Last Name</t></is></c></row>'
)


def xlsx(rows: str | bytes, *, strings: str | bytes = "", dimension: str = "") -> bytes:
    """A minimal workbook whose one sheet holds ``rows`` (``<row>`` XML) and whose shared
    string table holds ``strings`` (``<si>`` XML)."""
    rows_b = rows.encode() if isinstance(rows, str) else rows
    strings_b = strings.encode() if isinstance(strings, str) else strings
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">{dimension}'
        "<sheetData>".encode()
        + rows_b
        + b"</sheetData></worksheet>"
    )
    shared = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'.encode()
    shared += strings_b + b"</sst>"
    out = io.BytesIO()
    parts: list[tuple[str, str | bytes]] = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("xl/workbook.xml", _WORKBOOK),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", shared),
    ]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts:
            # A fixed time stamp: the same case always makes the same bytes.
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


def _data_row(cells: str) -> str:
    return f'{HEADER_ROW}<row r="2">{cells}</row>'


def xml2003(rows: str) -> bytes:
    """An Excel XML Spreadsheet 2003 file holding ``rows`` (``<Row>`` XML)."""
    return (
        '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        '<Worksheet ss:Name="Leads"><Table>'
        '<Row><Cell><Data ss:Type="String">Topic</Data></Cell>'
        '<Cell><Data ss:Type="String">Last Name</Data></Cell></Row>'
        f"{rows}</Table></Worksheet></Workbook>"
    ).encode()


def _multipart(depth: int) -> bytes:
    out = [b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n']
    for k in range(1, depth):
        out.append(b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (k - 1, k))
    return b"".join(out)


def _whitespace_bomb() -> bytes:
    return xlsx(HEADER_ROW + " " * (300 << 20))


def _shared_strings_bomb() -> bytes:
    return xlsx(_data_row('<c r="A2" t="s"><v>0</v></c>'), strings=b"<si><t>a</t></si>" * 6_000_000)


def _long_inline_string() -> bytes:
    return xlsx(_data_row(f'<c r="A2" t="inlineStr"><is><t>{"a" * (20 << 20)}</t></is></c>'))


def _deep_xml() -> bytes:
    return xml2003(
        '<Row><Cell><Data ss:Type="String">'
        + "<B>" * 100_000
        + "x"
        + "</B>" * 100_000
        + "</Data></Cell></Row>"
    )


def _random_bytes() -> bytes:
    import random

    return bytes(random.Random(22).randrange(256) for _ in range(4096))


CASES: Final[dict[str, tuple[Callable[[], bytes], str]]] = {
    # .xlsx
    "dimension-xfd1048576.xlsx": (
        lambda: xlsx(HEADER_ROW, dimension='<dimension ref="A1:XFD1048576"/>'),
        "either",
    ),
    "whitespace-zip-bomb.xlsx": (_whitespace_bomb, "refuse"),
    "shared-strings-bomb.xlsx": (_shared_strings_bomb, "refuse"),
    "long-inline-string.xlsx": (_long_inline_string, "refuse"),
    "value-not-a-number.xlsx": (
        lambda: xlsx(_data_row('<c r="A2"><v>notanumber</v></c>')),
        "refuse",
    ),
    "bad-iso-date.xlsx": (
        lambda: xlsx(_data_row('<c r="A2" t="d"><v>2024-13-45</v></c>')),
        "refuse",
    ),
    "shared-string-out-of-range.xlsx": (
        lambda: xlsx(_data_row('<c r="A2" t="s"><v>99999</v></c>')),
        "refuse",
    ),
    "cell-at-xfd.xlsx": (
        lambda: xlsx(_data_row('<c r="XFD2" t="inlineStr"><is><t>far</t></is></c>')),
        "either",
    ),
    "bad-coordinate.xlsx": (lambda: xlsx(_data_row('<c r="ZZZZ2"><v>1</v></c>')), "refuse"),
    "last-row.xlsx": (
        lambda: xlsx(HEADER_ROW + '<row r="1048576"><c r="A1048576"><v>1</v></c></row>'),
        "either",
    ),
    "row-beyond-excel.xlsx": (
        lambda: xlsx(HEADER_ROW + '<row r="99999999999"><c><v>1</v></c></row>'),
        "refuse",
    ),
    "header-wider-than-limit.xlsx": (
        lambda: xlsx(
            '<row r="1">'
            + "".join(f'<c t="inlineStr"><is><t>h{i}</t></is></c>' for i in range(2000))
            + "</row>"
        ),
        "refuse",
    ),
    "huge-amount.xlsx": (
        lambda: xlsx(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Topic</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Last Name</t></is></c>'
            '<c r="C1" t="inlineStr"><is><t>Budget Amount</t></is></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>T</t></is></c>'
            '<c r="B2" t="inlineStr"><is><t>N</t></is></c>'
            '<c r="C2" t="inlineStr"><is><t>1e1000000</t></is></c></row>'
        ),
        "either",
    ),
    "not-a-zip.xlsx": (lambda: b"PK\x03\x04" + b"\x00" * 200, "refuse"),
    # XML Spreadsheet 2003
    "cell-index-1500000000.xml": (
        lambda: xml2003(
            '<Row><Cell ss:Index="1500000000"><Data ss:Type="String">x</Data></Cell></Row>'
        ),
        "refuse",
    ),
    "merge-across-huge.xml": (
        lambda: xml2003(
            '<Row><Cell ss:MergeAcross="1500000000"><Data ss:Type="String">x</Data></Cell></Row>'
        ),
        "refuse",
    ),
    "row-index-huge.xml": (
        lambda: xml2003(
            '<Row ss:Index="99999999999"><Cell><Data ss:Type="String">x</Data></Cell></Row>'
        ),
        "refuse",
    ),
    "billion-laughs.xml": (
        lambda: (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Data>&lol3;</Data>'
            b"</Workbook>"
        ),
        "refuse",
    ),
    "deeply-nested-data.xml": (_deep_xml, "refuse"),
    "not-well-formed.xml": (lambda: b"<Workbook><Row>", "refuse"),
    "leadkit-many-fields.xml": (
        lambda: (
            '<leads xmlns="urn:leadkit:leads:1"><lead>'
            + "".join(f"<f{i}>x</f{i}>" for i in range(3000))
            + "</lead></leads>"
        ).encode(),
        "refuse",
    ),
    # CSV
    "cr-only.csv": (lambda: b"Topic,Last Name\rFleet,Nowak\rTrucks,Berg\r", "either"),
    "binary-garbage.csv": (_random_bytes, "either"),
    "nul-bytes.csv": (lambda: b"Topic,Last Name\r\nA\x00B,C\r\n", "either"),
    "field-over-limit.csv": (
        lambda: b'Topic,Last Name\r\n"' + b"a" * 200_000 + b'",x\r\n',
        "refuse",
    ),
    "header-over-limit.csv": (
        lambda: b",".join(b"h%d" % i for i in range(600_000)) + b"\r\n",
        "refuse",
    ),
    "huge-amount.csv": (lambda: b"Topic,Last Name,Budget Amount\r\nT,N,1e1000000\r\n", "either"),
    "unclosed-quote.csv": (lambda: b'Topic,Last Name\r\n"open,x\r\n', "either"),
    # e-mail (library only: the CLI has no e-mail command)
    "folded-subject-5mb.eml": (
        lambda: b"From: a@example.com\r\nSubject: " + b"word\r\n " * 1_000_000 + b"\r\n\r\nbody",
        "refuse",
    ),
    "multipart-2000-deep.eml": (lambda: _multipart(2000), "refuse"),
    "multipart-100-deep.eml": (lambda: _multipart(100), "refuse"),
    "utf8-8bit-from.eml": (
        lambda: "From: Jürgen Groß <jg@example.com>\r\nSubject: Flotte\r\n\r\nHallo".encode(),
        "either",
    ),
    "crlf-display-name.eml": (
        lambda: b"From: =?utf-8?q?Ada=0D=0ALovelace?= <ada@example.com>\r\nSubject: x\r\n\r\nb",
        "either",
    ),
    "no-headers.eml": (lambda: b"\x00\xff\xfe garbage without any header", "refuse"),
}
"""Every hostile case: file name -> (maker, expected outcome)."""


@functools.cache
def case_bytes(name: str) -> bytes:
    """The bytes of case ``name``: the committed file when there is one, else made."""
    committed = HOSTILE_DIR / name
    if committed.exists():
        return committed.read_bytes()
    return CASES[name][0]()


def write_committed() -> list[str]:
    """(Re)write the small cases into tests/data/hostile/; returns their names."""
    HOSTILE_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (make, _) in CASES.items():
        data = make()
        if len(data) <= COMMITTED_MAX:
            (HOSTILE_DIR / name).write_bytes(data)
            written.append(name)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    for name in write_committed():
        print(os.path.join("tests/data/hostile", name))
