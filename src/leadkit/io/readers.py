"""Streaming readers: CSV, Excel ``.xlsx`` and XML (Excel "XML Spreadsheet 2003" and the
leadkit XML format), each a :class:`Source` with a header row and a generator of rows.

Memory stays constant whatever the file's size: rows are read one at a time and never kept.

CSV encoding detection (when no ``encoding`` is given), on the first 64 KiB:

1. a byte-order mark decides: UTF-8 (``EF BB BF``), UTF-16 LE or BE (``FF FE`` / ``FE FF``);
2. without one, many NUL bytes in every other position mean UTF-16 without a BOM;
3. otherwise the sample must decode as strict UTF-8;
4. otherwise Windows-1252 (the Excel "CSV" of Swedish, German and Polish Windows machines),
   and Latin-1 if even that fails (Windows-1252 leaves five bytes undefined).

A file that passes the sample as UTF-8 but holds a non-UTF-8 byte further on raises
:class:`MalformedSource` naming the row, rather than guessing twice; pass ``encoding=``.

The delimiter is sniffed among comma, semicolon and tab: the one that splits the header into
the most columns with the following rows agreeing in width wins. Quoting is RFC 4180 (double
quotes, doubled inside a field; a quoted field may span lines). The first record is the header
row, and it is required: an empty file, blank header or repeated header raises
:class:`MalformedSource`.

Row numbers are what a spreadsheet shows: the header is row 1, the first data row 2 (a CSV
record spanning several lines is one row); for ``.xlsx`` and XML Spreadsheet the sheet's own
row numbers.
"""

from __future__ import annotations

import os

from leadkit.io.csv_reader import CsvSource, detect_encoding
from leadkit.io.errors import MalformedSource
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits
from leadkit.io.source import (
    SAMPLE_SIZE,
    SS_NAMESPACE,
    Data,
    Source,
    SourceRow,
    _read_all,
)
from leadkit.io.xlsx_reader import XlsxSource
from leadkit.io.xml_reader import LeadkitXmlSource, XmlSpreadsheetSource

__all__ = [
    "SAMPLE_SIZE",
    "SS_NAMESPACE",
    "CsvSource",
    "LeadkitXmlSource",
    "Source",
    "SourceRow",
    "XlsxSource",
    "XmlSpreadsheetSource",
    "detect_encoding",
    "open_source",
]

# ---------------------------------------------------------------------------------------------
# Choosing a reader


def _peek(data: Data) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data[:512])
    if isinstance(data, str | os.PathLike):
        try:
            with open(data, "rb") as f:
                return f.read(512)
        except OSError as e:
            raise MalformedSource("source", str(data), f"cannot be opened: {e}") from e
    return b""


def open_source(
    data: Data,
    *,
    format: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    limits: ReadLimits = DEFAULT_READ_LIMITS,
) -> Source:
    """Open a lead file as a :class:`Source`, choosing the reader from ``format``
    (``"csv"``, ``"xlsx"``, ``"xml"``), else from the content: a zip archive is ``.xlsx``, a
    document starting with ``<`` is XML (a ``Workbook`` root is XML Spreadsheet 2003, a
    ``leads`` root the leadkit format), anything else CSV.

    ``limits`` bounds what the reader accepts (:class:`~leadkit.io.ReadLimits`). Raises
    MalformedSource for an unknown format or as the readers do.
    """
    if not isinstance(data, str | os.PathLike | bytes | bytearray):
        data = _read_all(data, name)
    head = _peek(data)
    kind = format
    if kind is None:
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"PK\x03\x04"):
            kind = "xlsx"
        elif stripped.startswith(b"<"):
            kind = "xml"
        else:
            kind = "csv"
    if kind == "csv":
        return CsvSource(data, encoding=encoding, delimiter=delimiter, name=name, limits=limits)
    if kind == "xlsx":
        return XlsxSource(data, sheet=sheet, name=name, limits=limits)
    if kind == "xml":
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head or b"<Workbook" in head:
            return XmlSpreadsheetSource(data, sheet=sheet, name=name, limits=limits)
        return LeadkitXmlSource(data, name=name, limits=limits)
    raise MalformedSource("format", format, "must be csv, xlsx or xml")
