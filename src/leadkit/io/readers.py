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

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, Protocol

import attrs

from leadkit.io.cells import cell_text, restore
from leadkit.io.errors import MalformedSource, UnsafeXml

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

SAMPLE_SIZE: Final = 64 * 1024
"""How many bytes encoding and delimiter sniffing read."""

SS_NAMESPACE: Final = "urn:schemas-microsoft-com:office:spreadsheet"
"""The namespace of Excel's XML Spreadsheet 2003 format."""

LEADKIT_NAMESPACE: Final = "urn:leadkit:leads:1"

Data = str | os.PathLike[str] | bytes | BinaryIO


@attrs.frozen(slots=True)
class SourceRow:
    """One data row: its row number in the file and its cells as text."""

    number: int
    cells: tuple[str, ...]

    @property
    def is_blank(self) -> bool:
        """True when every cell is empty or white space."""
        return not any(c.strip() for c in self.cells)


class Source(Protocol):
    """A table read from a file: a name, the header row and the data rows, streamed."""

    @property
    def name(self) -> str:
        """What to call the source in reports (the file name)."""
        ...

    @property
    def headers(self) -> tuple[str, ...]:
        """The header row."""
        ...

    def rows(self) -> Iterator[SourceRow]:
        """The data rows in file order, read lazily."""
        ...


def _check_headers(headers: Sequence[str]) -> tuple[str, ...]:
    cleaned = [restore(h).strip() for h in headers]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if not cleaned:
        raise MalformedSource("header", "", "the file has no header row (the first row is empty)")
    named: list[str] = []
    seen: set[str] = set()
    for index, header in enumerate(cleaned, start=1):
        name = header or f"(column {index})"
        if name.casefold() in seen:
            raise MalformedSource("header", header, f"column {index} repeats a header name")
        seen.add(name.casefold())
        named.append(name)
    return tuple(named)


def _name_of(data: Data, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(data, str | os.PathLike):
        return Path(data).name
    return getattr(data, "name", None) or "<data>"


class _Opener:
    """Opens the bytes of a path, a bytes value or a (single-use) binary stream."""

    def __init__(self, data: Data) -> None:
        if not isinstance(data, str | os.PathLike | bytes | bytearray) and not hasattr(
            data, "read"
        ):
            raise MalformedSource("source", data, "must be a path, bytes or a binary stream")
        self._data = data
        self._used = False

    @property
    def reusable(self) -> bool:
        return isinstance(self._data, str | os.PathLike | bytes | bytearray)

    def open(self) -> BinaryIO:
        data = self._data
        if isinstance(data, bytes | bytearray):
            return io.BytesIO(bytes(data))
        if isinstance(data, str | os.PathLike):
            try:
                return open(data, "rb")
            except OSError as e:
                raise MalformedSource("source", str(data), f"cannot be opened: {e}") from e
        if self._used:
            raise MalformedSource("source", data, "a stream can be read once; pass a path or bytes")
        self._used = True
        return data


# ---------------------------------------------------------------------------------------------
# CSV

_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DELIMITERS: Final = (",", ";", "\t")


def detect_encoding(sample: bytes, *, complete: bool = False) -> str:
    """The encoding of a CSV file from its first bytes (see the module doc for the order).

    ``complete`` says ``sample`` is the whole file (a multi-byte character cut at the end of
    a partial sample is no evidence against UTF-8).
    """
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    pairs = len(sample) // 2
    if pairs >= 2:
        even_nuls = sample[0 : pairs * 2 : 2].count(0)
        odd_nuls = sample[1 : pairs * 2 : 2].count(0)
        if odd_nuls > pairs * 0.3 and even_nuls < pairs * 0.05:
            return "utf-16-le"
        if even_nuls > pairs * 0.3 and odd_nuls < pairs * 0.05:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines(keepends=True)
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut short
    sample = "".join(lines[:50])
    best: tuple[int, int, int] | None = None
    choice = ","
    for order, delimiter in enumerate(_DELIMITERS):
        try:
            records = list(csv.reader(io.StringIO(sample), delimiter=delimiter))[:20]
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        agree = sum(1 for r in records[1:] if len(r) == width or not r)
        score = (int(width > 1), agree * width, -order)
        if best is None or score > best:
            best, choice = score, delimiter
    return choice


class _Prefixed(io.RawIOBase):
    """A stream that first returns ``head`` and then the rest of ``tail``."""

    def __init__(self, head: bytes, tail: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head.nbytes:
            n = min(len(view), self._head.nbytes)
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._tail.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._tail.close()
        super().close()


class CsvSource:
    """A CSV file read as a stream of rows (see the module doc for what is detected).

    ``data`` is a path, bytes or a binary stream (a stream can be read once). ``encoding``
    and ``delimiter`` override detection. Raises MalformedSource when there is no header row
    or the header repeats a name; reading rows raises it for undecodable bytes or broken
    quoting, naming the row.
    """

    def __init__(
        self,
        data: Data,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        name: str | None = None,
    ) -> None:
        self._opener = _Opener(data)
        self._name = _name_of(data, name)
        stream = self._opener.open()
        try:
            sample = stream.read(SAMPLE_SIZE + 1)
        except OSError as e:
            stream.close()
            raise MalformedSource("source", self._name, f"cannot be read: {e}") from e
        complete = len(sample) <= SAMPLE_SIZE
        sample = sample[:SAMPLE_SIZE] if not complete else sample
        if self._opener.reusable:
            stream.close()
            self._pending: BinaryIO | None = None
        else:
            self._pending = stream
        self._head = sample
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise MalformedSource("encoding", encoding, "not a known text encoding") from None
        self.encoding: str = encoding or detect_encoding(sample, complete=complete)
        text = sample.decode(self.encoding, errors="replace").lstrip("\ufeff")
        if delimiter is not None and delimiter not in _DELIMITERS and len(delimiter) != 1:
            raise MalformedSource("delimiter", delimiter, "must be one character")
        self.delimiter: str = delimiter or _sniff_delimiter(text)
        first = next(csv.reader(io.StringIO(text), delimiter=self.delimiter), [])
        self._headers = _check_headers(first)

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def headers(self) -> tuple[str, ...]:
        """The header row."""
        return self._headers

    def _binary(self) -> IO[bytes]:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return io.BufferedReader(_Prefixed(self._head, pending))
        return self._opener.open()

    def rows(self) -> Iterator[SourceRow]:
        """The data rows (record 2 onwards), decoded and split lazily."""
        binary = self._binary()
        text = io.TextIOWrapper(binary, encoding=self.encoding, errors="strict", newline="")
        reader = csv.reader(text, delimiter=self.delimiter, strict=True)
        number = 1
        try:
            try:
                next(reader)
                for number, record in enumerate(reader, start=2):
                    yield SourceRow(number, tuple(record))
            except UnicodeDecodeError as e:
                raise MalformedSource(
                    f"row {number + 1}",
                    e.object[e.start : e.end],
                    f"bytes that are not {self.encoding} near this row; give the file's "
                    "encoding (encoding='cp1252', say)",
                ) from None
            except csv.Error as e:
                raise MalformedSource(f"row {number + 1}", "", f"broken CSV: {e}") from None
            except StopIteration:  # pragma: no cover - the header was read already
                return
        finally:
            text.close()


# ---------------------------------------------------------------------------------------------
# Excel


class XlsxSource:
    """The first sheet (or the sheet named ``sheet``) of an ``.xlsx`` workbook, read with
    openpyxl in read-only mode. The header is the first non-blank row.

    Raises MalformedSource for a file that is not a workbook, an unknown sheet or a missing
    header. Needs the ``io`` extra (openpyxl).
    """

    def __init__(self, data: Data, *, sheet: str | None = None, name: str | None = None) -> None:
        if not isinstance(data, str | os.PathLike | bytes | bytearray):
            data = data.read()
        self._data: str | os.PathLike[str] | bytes = (
            bytes(data) if isinstance(data, bytearray) else data
        )
        self._name = _name_of(data, name)
        self._sheet = sheet
        self._header_row = 0
        headers: tuple[str, ...] | None = None
        for number, values in self._raw_rows():
            if any(v.strip() for v in values):
                headers, self._header_row = _check_headers(values), number
                break
        if headers is None:
            raise MalformedSource("header", "", "the sheet has no header row (it is empty)")
        self._headers = headers

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def headers(self) -> tuple[str, ...]:
        """The header row."""
        return self._headers

    def _raw_rows(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        try:
            import openpyxl
            from openpyxl.utils.exceptions import InvalidFileException
        except ImportError as e:  # pragma: no cover - the io extra is missing
            raise MalformedSource(
                "source", self._name, 'reading .xlsx needs openpyxl: pip install "leadkit[io]"'
            ) from e
        target = io.BytesIO(self._data) if isinstance(self._data, bytes) else self._data
        try:
            book = openpyxl.load_workbook(target, read_only=True, data_only=True, keep_links=False)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
            raise MalformedSource("source", self._name, f"not an .xlsx workbook: {e}") from None
        try:
            if self._sheet is None:
                worksheet = book.worksheets[0]
            elif self._sheet in book.sheetnames:
                worksheet = book[self._sheet]
            else:
                raise MalformedSource(
                    "sheet", self._sheet, f"no such sheet; the workbook has {book.sheetnames}"
                )
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                yield number, tuple(cell_text(v) for v in values)
        finally:
            book.close()

    def rows(self) -> Iterator[SourceRow]:
        """The rows after the header row, with their sheet row numbers."""
        for number, values in self._raw_rows():
            if number > self._header_row:
                yield SourceRow(number, values)


# ---------------------------------------------------------------------------------------------
# XML


def _iterparse(data: Data, name: str) -> Iterator[tuple[str, Any]]:
    """Safe ``(event, element)`` pairs: entity declarations and external references are
    refused with UnsafeXml, malformed XML with MalformedSource."""
    try:
        from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
        from defusedxml import ElementTree as SafeTree
    except ImportError as e:  # pragma: no cover - the io extra is missing
        raise MalformedSource(
            "source", name, 'reading XML needs defusedxml: pip install "leadkit[io]"'
        ) from e
    from xml.etree.ElementTree import ParseError

    opener = _Opener(data)
    stream = opener.open()
    try:
        yield from SafeTree.iterparse(stream, events=("start", "end"), forbid_dtd=False)
    except EntitiesForbidden as e:
        raise UnsafeXml("entity declarations", f"entity {e.name!r}") from None
    except DTDForbidden as e:  # pragma: no cover - DTDs are allowed, entities are not
        raise UnsafeXml("a document type declaration", str(e.name)) from None
    except DefusedXmlException as e:
        raise UnsafeXml("external references", str(e)) from None
    except ParseError as e:
        raise MalformedSource("xml", name, f"not well-formed XML: {e}") from None
    finally:
        stream.close()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _ss(name: str) -> str:
    return f"{{{SS_NAMESPACE}}}{name}"


def _index(element: Any, default: int) -> int:
    raw = element.get(_ss("Index"))
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MalformedSource("xml", raw, "ss:Index is not a number") from None
    if value < default:
        raise MalformedSource("xml", raw, "ss:Index goes backwards")
    return value


def _ss_value(data: Any) -> str:
    if data is None:
        return ""
    text = "".join(data.itertext())
    kind = data.get(_ss("Type"), "String")
    if kind == "Boolean":
        return "true" if text.strip() in ("1", "true") else "false"
    if kind == "DateTime" and text.endswith("T00:00:00.000"):
        return text[:10]
    if kind == "DateTime" and text.endswith(".000"):
        return text[:-4]
    return text


class XmlSpreadsheetSource:
    """The first worksheet (or the one named ``sheet``) of an Excel "XML Spreadsheet 2003"
    file, the format of Dynamics 365 import templates, parsed with defusedxml.

    Rows are streamed (``iterparse``, each row cleared after use). The header is the first
    non-blank row. Raises UnsafeXml for entity declarations or external references,
    MalformedSource for other broken or foreign XML.
    """

    def __init__(self, data: Data, *, sheet: str | None = None, name: str | None = None) -> None:
        if not isinstance(data, str | os.PathLike | bytes | bytearray):
            data = data.read()
        self._data: Data = data
        self._name = _name_of(data, name)
        self._sheet = sheet
        self._header_row = 0
        for number, values in self._raw_rows():
            if any(v.strip() for v in values):
                self._headers = _check_headers(values)
                self._header_row = number
                break
        else:
            raise MalformedSource("header", "", "the worksheet has no header row")

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def headers(self) -> tuple[str, ...]:
        """The header row."""
        return self._headers

    def _raw_rows(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        in_sheet = False
        seen_sheet = False
        first = True
        row_number = 0
        table: Any = None
        sheets: list[str] = []
        for event, element in _iterparse(self._data, self._name):
            tag = _local(element.tag)
            if first:
                first = False
                if element.tag != _ss("Workbook"):
                    raise MalformedSource(
                        "xml", tag, "not an XML Spreadsheet 2003 workbook (root is not Workbook)"
                    )
            if event == "start":
                if element.tag == _ss("Worksheet"):
                    sheet_name = element.get(_ss("Name"), "")
                    sheets.append(sheet_name)
                    in_sheet = not seen_sheet and (self._sheet in (None, sheet_name))
                    row_number = 0
                elif element.tag == _ss("Table") and in_sheet:
                    table = element
                continue
            if element.tag == _ss("Worksheet"):
                if in_sheet:
                    seen_sheet = True
                in_sheet = False
                element.clear()
            elif element.tag == _ss("Row") and in_sheet:
                row_number = _index(element, row_number + 1)
                cells: list[str] = []
                for cell in element:
                    if cell.tag != _ss("Cell"):
                        continue
                    position = _index(cell, len(cells) + 1)
                    cells.extend([""] * (position - 1 - len(cells)))
                    cells.append(_ss_value(cell.find(_ss("Data"))))
                    across = cell.get(_ss("MergeAcross"))
                    if across is not None and across.isdigit():
                        cells.extend([""] * int(across))
                while cells and not cells[-1]:
                    cells.pop()
                yield row_number, tuple(cells)
                if table is not None:
                    table.clear()
                else:  # pragma: no cover - a Row outside a Table
                    element.clear()
        if not seen_sheet:
            wanted = "a worksheet" if self._sheet is None else f"worksheet {self._sheet!r}"
            raise MalformedSource("sheet", self._sheet, f"no {wanted}; the file has {sheets}")

    def rows(self) -> Iterator[SourceRow]:
        """The rows after the header row, with their sheet row numbers."""
        for number, values in self._raw_rows():
            if number > self._header_row:
                yield SourceRow(number, values)


class LeadkitXmlSource:
    """The leadkit XML format: ``<leads>`` holding ``<lead>`` elements whose children are
    named by column key (``<first_name>``, ``<custom.industry>``)::

        <leads xmlns="urn:leadkit:leads:1">
          <lead><topic>Fleet renewal</topic><last_name>Nowak</last_name></lead>
        </leads>

    The headers are the column keys in order of first appearance (a first streaming pass
    collects them); row numbers count ``<lead>`` elements from 2, as if the header were row 1.
    Raises UnsafeXml / MalformedSource as :class:`XmlSpreadsheetSource` does.
    """

    def __init__(self, data: Data, *, name: str | None = None) -> None:
        if not isinstance(data, str | os.PathLike | bytes | bytearray):
            data = data.read()
        self._data: Data = data
        self._name = _name_of(data, name)
        keys: dict[str, None] = {}
        for record in self._records():
            keys.update(dict.fromkeys(record))
        self._headers = _check_headers(list(keys)) if keys else ()
        if not keys:
            raise MalformedSource("header", "", "the file has no <lead> with any field")

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def headers(self) -> tuple[str, ...]:
        """The column keys found."""
        return self._headers

    def _records(self) -> Iterator[dict[str, str]]:
        first = True
        root: Any = None
        for event, element in _iterparse(self._data, self._name):
            if first:
                first = False
                root = element
                if _local(element.tag) != "leads":
                    raise MalformedSource(
                        "xml", element.tag, "not a leadkit file (root is not leads)"
                    )
                continue
            if event == "end" and _local(element.tag) == "lead":
                record = {_local(k): v for k, v in element.attrib.items()}
                for child in element:
                    record[_local(child.tag)] = "".join(child.itertext())
                yield record
                root.clear()

    def rows(self) -> Iterator[SourceRow]:
        """One row per ``<lead>``, cells in header order."""
        headers = self._headers
        for number, record in enumerate(self._records(), start=2):
            yield SourceRow(number, tuple(record.get(h, "") for h in headers))


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
) -> Source:
    """Open a lead file as a :class:`Source`, choosing the reader from ``format``
    (``"csv"``, ``"xlsx"``, ``"xml"``), else from the content: a zip archive is ``.xlsx``, a
    document starting with ``<`` is XML (a ``Workbook`` root is XML Spreadsheet 2003, a
    ``leads`` root the leadkit format), anything else CSV.

    Raises MalformedSource for an unknown format or as the readers do.
    """
    if not isinstance(data, str | os.PathLike | bytes | bytearray):
        data = data.read()
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
        return CsvSource(data, encoding=encoding, delimiter=delimiter, name=name)
    if kind == "xlsx":
        return XlsxSource(data, sheet=sheet, name=name)
    if kind == "xml":
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head or b"<Workbook" in head:
            return XmlSpreadsheetSource(data, sheet=sheet, name=name)
        return LeadkitXmlSource(data, name=name)
    raise MalformedSource("format", format, "must be csv, xlsx or xml")
