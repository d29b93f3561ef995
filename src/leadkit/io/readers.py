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
import contextlib
import csv
import io
import os
import re
import warnings
import zipfile
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, Protocol

import attrs

from leadkit.errors import LeadkitError
from leadkit.io.cells import cell_text, restore
from leadkit.io.errors import MalformedSource, UnsafeXml
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits

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


def _check_headers(
    headers: Sequence[str], limits: ReadLimits = DEFAULT_READ_LIMITS
) -> tuple[str, ...]:
    cleaned = [restore(h).strip() for h in headers]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if len(cleaned) > limits.max_columns:
        raise MalformedSource(
            "header",
            f"{len(cleaned):,} columns",
            f"has more columns than the limit of {limits.max_columns:,} (ReadLimits.max_columns)",
        )
    _check_lengths("header", cleaned, limits)
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


def _check_lengths(where: str, cells: Sequence[str], limits: ReadLimits) -> None:
    for index, cell in enumerate(cells, start=1):
        if len(cell) > limits.max_cell_chars:
            raise MalformedSource(
                where,
                cell[:40],
                f"cell {_column_letter(index)} holds {len(cell):,} characters; the limit is "
                f"{limits.max_cell_chars:,} (ReadLimits.max_cell_chars)",
            )


def _column_letter(index: int) -> str:
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _fit(cells: list[str], width: int) -> tuple[str, ...]:
    """The cells of a data row cut to ``width`` columns, keeping one filled cell beyond it
    (the importer reports it as a cell the header has no column for)."""
    if len(cells) > width:
        extra = next((c for c in cells[width:] if c.strip()), None)
        cells = cells[:width] if extra is None else [*cells[:width], extra]
    return tuple(cells)


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
            records = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))[:20]
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


class _Budget(io.RawIOBase):
    """A binary stream that refuses to give more than ``budget`` bytes (None: no limit)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.budget: int | None = None
        self.used = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = len(view)
        if self.budget is not None:
            if self.used >= self.budget:
                raise _OverBudget
            want = min(want, self.budget - self.used + 1)
        data = self._stream.read(want)
        view[: len(data)] = data
        self.used += len(data)
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


class _OverBudget(Exception):
    """The header record is longer than ReadLimits.max_header_bytes."""


class CsvSource:
    """A CSV file read as a stream of rows (see the module doc for what is detected).

    ``data`` is a path, bytes or a binary stream (a stream can be read once). ``encoding``
    and ``delimiter`` override detection; ``limits`` bounds the header and the cells. Lines
    may end in CR LF, LF or a lone CR. Raises MalformedSource when there is no header row,
    the header repeats a name or breaks a limit; reading rows raises it for undecodable bytes,
    broken quoting or a cell over the limit, naming the row.
    """

    def __init__(
        self,
        data: Data,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        name: str | None = None,
        limits: ReadLimits = DEFAULT_READ_LIMITS,
    ) -> None:
        if not isinstance(limits, ReadLimits):
            raise MalformedSource("limits", limits, "must be a ReadLimits")
        if encoding is not None and not isinstance(encoding, str):
            raise MalformedSource("encoding", encoding, "must be the name of a text encoding")
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
            raise MalformedSource("delimiter", delimiter, "must be one character")
        if delimiter is not None and delimiter in '\r\n"\0':
            raise MalformedSource("delimiter", delimiter, "cannot be a quote, NUL or line break")
        self._opener = _Opener(data)
        self._name = _name_of(data, name)
        self._limits = limits
        stream = self._opener.open()
        try:
            sample = stream.read(SAMPLE_SIZE + 1)
        except (OSError, ValueError) as e:
            stream.close()
            raise MalformedSource("source", self._name, f"cannot be read: {e}") from e
        if not isinstance(sample, bytes):
            stream.close()
            raise MalformedSource("source", self._name, "must be a binary stream")
        complete = len(sample) <= SAMPLE_SIZE
        sample = sample[:SAMPLE_SIZE] if not complete else sample
        pending: BinaryIO | None = None
        if self._opener.reusable:
            stream.close()
        else:
            pending = stream
        self._head = sample
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise MalformedSource("encoding", encoding, "not a known text encoding") from None
        self.encoding: str = encoding or detect_encoding(sample, complete=complete)
        text = sample.decode(self.encoding, errors="replace").lstrip("\ufeff")
        self.delimiter: str = delimiter or _sniff_delimiter(text)
        binary = (
            io.BufferedReader(_Prefixed(self._head, pending))
            if pending is not None
            else self._opener.open()
        )
        # The header is read from the file itself, not the sample: it may be wider.
        self._reader: tuple[Iterator[list[str]], IO[str]] | None = None
        reader, handle = self._open_reader(binary)
        self._headers = _check_headers(self._first(reader, handle), limits)
        if pending is not None:
            self._reader = (reader, handle)
        else:
            handle.close()

    def _open_reader(self, binary: IO[bytes]) -> tuple[Iterator[list[str]], IO[str]]:
        budget = _Budget(binary)
        budget.budget = self._limits.max_header_bytes
        text = io.TextIOWrapper(
            io.BufferedReader(budget), encoding=self.encoding, errors="strict", newline=""
        )
        self._budget = budget
        return csv.reader(text, delimiter=self.delimiter, strict=True), text

    def _first(self, reader: Iterator[list[str]], handle: IO[str]) -> list[str]:
        try:
            first = next(reader, [])
        except _OverBudget:
            handle.close()
            raise MalformedSource(
                "header",
                f"over {self._limits.max_header_bytes:,} bytes",
                "the header record is longer than the limit (ReadLimits.max_header_bytes)",
            ) from None
        except UnicodeDecodeError as e:
            handle.close()
            raise MalformedSource(
                "header", e.object[e.start : e.end], self._encoding_advice()
            ) from None
        except (csv.Error, ValueError, OSError) as e:
            handle.close()
            raise MalformedSource("header", "", f"broken CSV: {e}") from None
        self._budget.budget = None
        if first and first[0].startswith("\ufeff"):
            first[0] = first[0][1:]
        return first

    def _encoding_advice(self) -> str:
        return (
            f"bytes that are not {self.encoding}; give the file's encoding "
            "(encoding='cp1252' in Python, --encoding cp1252 on the command line)"
        )

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def headers(self) -> tuple[str, ...]:
        """The header row."""
        return self._headers

    def rows(self) -> Iterator[SourceRow]:
        """The data rows (record 2 onwards), decoded and split lazily."""
        if self._reader is not None:
            (reader, text), self._reader = self._reader, None
        else:
            reader, text = self._open_reader(self._opener.open())
            self._first(reader, text)
        width = len(self._headers)
        limits = self._limits
        number = 1
        try:
            try:
                for number, record in enumerate(reader, start=2):
                    where = f"row {number}"
                    _check_lengths(where, record, limits)
                    yield SourceRow(number, _fit(record, width))
            except LeadkitError:
                raise
            except UnicodeDecodeError as e:
                raise MalformedSource(
                    f"row {number + 1}", e.object[e.start : e.end], self._encoding_advice()
                ) from None
            except (csv.Error, ValueError, OSError) as e:
                raise MalformedSource(f"row {number + 1}", "", f"broken CSV: {e}") from None
        finally:
            text.close()


# ---------------------------------------------------------------------------------------------
# Excel


_SHARED_STRING: Final = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s>/]")
_MIB: Final = 1 << 20


def _check_archive(data: str | os.PathLike[str] | bytes, name: str, limits: ReadLimits) -> None:
    """Refuse an ``.xlsx`` archive whose parts would be too large once inflated, before any
    part is parsed: the declared sizes bound what zipfile will ever return."""
    target: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with zipfile.ZipFile(target) as archive:
            members = archive.infolist()
            if len(members) > limits.max_archive_members:
                raise MalformedSource(
                    "source",
                    name,
                    f"the archive holds {len(members):,} files; the limit is "
                    f"{limits.max_archive_members:,} (ReadLimits.max_archive_members)",
                )
            total = 0
            for member in members:
                size = member.file_size
                total += size
                if size > limits.max_member_bytes:
                    raise MalformedSource(
                        "source",
                        member.filename,
                        f"inflates to {size:,} bytes; the limit is "
                        f"{limits.max_member_bytes:,} (ReadLimits.max_member_bytes)",
                    )
                ratio = size / max(member.compress_size, 1)
                if size >= _MIB and ratio > limits.max_compression_ratio:
                    raise MalformedSource(
                        "source",
                        member.filename,
                        f"compresses {ratio:,.0f} to 1, over the "
                        f"limit of {limits.max_compression_ratio:,} (a zip bomb?; "
                        "ReadLimits.max_compression_ratio)",
                    )
            if total > limits.max_total_bytes:
                raise MalformedSource(
                    "source",
                    name,
                    f"inflates to {total:,} bytes; the limit is "
                    f"{limits.max_total_bytes:,} (ReadLimits.max_total_bytes)",
                )
            for member in members:
                if member.filename.lower().endswith("sharedstrings.xml"):
                    _count_shared_strings(archive, member, limits)
    except LeadkitError:
        raise
    except Exception as e:
        raise MalformedSource("source", name, f"not an .xlsx workbook: {e}") from None


def _count_shared_strings(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ReadLimits
) -> None:
    count = 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_MIB):
            block = tail + chunk
            count += len(_SHARED_STRING.findall(block))
            # Keep the last bytes that cannot hold a whole match for the next block.
            cut = max(block.rfind(b"<"), len(block) - 64)
            if _SHARED_STRING.match(block, cut):
                cut = len(block)
            tail = block[cut:]
            if count > limits.max_shared_strings:
                raise MalformedSource(
                    "source",
                    member.filename,
                    f"holds over {limits.max_shared_strings:,} "
                    "shared strings (ReadLimits.max_shared_strings)",
                )


class XlsxSource:
    """The first sheet (or the sheet named ``sheet``) of an ``.xlsx`` workbook, read with
    openpyxl in read-only mode. The header is the first non-blank row.

    The archive's part sizes and compression ratios are checked against ``limits`` before
    anything is parsed, the sheet's declared ``<dimension>`` is ignored (only cells present
    in the file are read) and no row is made wider than the header. Raises MalformedSource
    for a file that is not a workbook, an unknown sheet, a missing header, a broken cell or a
    limit broken, naming the row or cell. Needs the ``io`` extra (openpyxl).
    """

    def __init__(
        self,
        data: Data,
        *,
        sheet: str | None = None,
        name: str | None = None,
        limits: ReadLimits = DEFAULT_READ_LIMITS,
    ) -> None:
        self._name = _name_of(data, name)
        self._data: str | os.PathLike[str] | bytes = _sheet_data(data, sheet, name, limits)
        self._sheet = sheet
        self._limits = limits
        self._header_row = 0
        self._width = limits.max_columns
        _check_archive(self._data, self._name, limits)
        headers: tuple[str, ...] | None = None
        # Closed at once: a generator left half read would keep the file open until collected.
        with contextlib.closing(self._raw_rows()) as raw:
            for number, values in raw:
                if any(v.strip() for v in values):
                    headers, self._header_row = _check_headers(values, limits), number
                    break
        if headers is None:
            raise MalformedSource("header", "", "the sheet has no header row (it is empty)")
        self._headers = headers
        self._width = len(headers)

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def headers(self) -> tuple[str, ...]:
        """The header row."""
        return self._headers

    def _raw_rows(self) -> Generator[tuple[int, tuple[str, ...]], None, None]:
        try:
            import openpyxl
            from openpyxl.worksheet._reader import WorkSheetParser
        except ImportError as e:  # pragma: no cover - the io extra is missing
            raise MalformedSource(
                "source", self._name, 'reading .xlsx needs openpyxl: pip install "leadkit[io]"'
            ) from e
        target = io.BytesIO(self._data) if isinstance(self._data, bytes) else self._data
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                book: Any = openpyxl.load_workbook(
                    target, read_only=True, data_only=True, keep_links=False
                )
        except Exception as e:
            raise MalformedSource("source", self._name, f"not an .xlsx workbook: {e}") from None
        number = 0
        try:
            if self._sheet is None:
                if not book.worksheets:
                    raise MalformedSource("sheet", None, "the workbook has no worksheet")
                worksheet = book.worksheets[0]
            elif self._sheet in book.sheetnames:
                worksheet = book[self._sheet]
            else:
                raise MalformedSource(
                    "sheet", self._sheet, f"no such sheet; the workbook has {book.sheetnames}"
                )
            if not hasattr(worksheet, "_get_source"):
                raise MalformedSource("sheet", self._sheet, "is not a worksheet")
            source = worksheet._get_source()
            try:
                parser = WorkSheetParser(
                    source,
                    book.shared_strings,
                    data_only=True,
                    epoch=book.epoch,
                    date_formats=book._date_formats,
                    timedelta_formats=book._timedelta_formats,
                )
                rows = parser.parse()
                while True:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        found = next(rows, None)
                    if found is None:
                        break
                    number, cells = found
                    yield number, self._row(number, cells)
            finally:
                source.close()
        except LeadkitError:
            raise
        except Exception as e:
            raise MalformedSource(
                f"row {number + 1}", self._name, f"broken worksheet: {type(e).__name__}: {e}"
            ) from None
        finally:
            book.close()

    def _row(self, number: int, cells: list[dict[str, Any]]) -> tuple[str, ...]:
        limits = self._limits
        where = f"row {number}"
        if not 1 <= number <= limits.max_rows:
            raise MalformedSource(
                where,
                number,
                f"row numbers run from 1 to {limits.max_rows:,} (ReadLimits.max_rows)",
            )
        width = self._width
        values: list[str] = []
        extra: str | None = None
        for cell in cells:
            column = cell["column"]
            text = cell_text(cell["value"])
            if len(text) > limits.max_cell_chars:
                raise MalformedSource(
                    where,
                    text[:40],
                    f"cell {_column_letter(column)}{number} holds "
                    f"{len(text):,} characters; the limit is {limits.max_cell_chars:,} "
                    "(ReadLimits.max_cell_chars)",
                )
            if column > width:
                if self._header_row == 0 and text.strip():
                    raise MalformedSource(
                        where,
                        f"column {column:,}",
                        f"is beyond the limit of "
                        f"{limits.max_columns:,} columns (ReadLimits.max_columns)",
                    )
                if extra is None and text.strip():
                    extra = text
                continue
            if column > len(values):
                values.extend([""] * (column - len(values)))
            values[column - 1] = text
        if extra is not None:
            values.extend([""] * (width - len(values)))
            values.append(extra)
        return tuple(values)

    def rows(self) -> Iterator[SourceRow]:
        """The rows after the header row, with their sheet row numbers."""
        with contextlib.closing(self._raw_rows()) as raw:
            for number, values in raw:
                if number > self._header_row:
                    yield SourceRow(number, values)


def _sheet_data(
    data: Data, sheet: object, name: str | None, limits: object
) -> str | os.PathLike[str] | bytes:
    """The arguments of a sheet reader checked: the data as a path or bytes (a stream read
    whole). Raises MalformedSource for a limits or sheet of the wrong type."""
    if not isinstance(limits, ReadLimits):
        raise MalformedSource("limits", limits, "must be a ReadLimits")
    if sheet is not None and not isinstance(sheet, str):
        raise MalformedSource("sheet", sheet, "must be a sheet name")
    if isinstance(data, bytearray):
        return bytes(data)
    if not isinstance(data, str | os.PathLike | bytes):
        return _read_all(data, name)
    return data


def _read_all(data: Any, name: str | None) -> bytes:
    if not hasattr(data, "read"):
        shown = name if isinstance(name, str) and name else data  # no truth test of a stranger
        raise MalformedSource("source", shown, "must be a path, bytes or a binary stream")
    try:
        content = data.read()
    except (OSError, ValueError) as e:
        raise MalformedSource("source", name or "<data>", f"cannot be read: {e}") from e
    if not isinstance(content, bytes | bytearray):
        raise MalformedSource("source", name or "<data>", "must be a binary stream")
    return bytes(content)


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
    except (ParseError, ValueError, LookupError) as e:
        raise MalformedSource("xml", name, f"not well-formed XML: {e}") from None
    finally:
        stream.close()


def _text(element: Any) -> str:
    """The text of ``element`` and its descendants, like ``itertext`` but without recursion
    (a document nested thousands deep cannot exhaust the stack)."""
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(element, True)]
    while stack:
        node, opening = stack.pop()
        if opening:
            if isinstance(node.tag, str) and node.text:
                parts.append(node.text)
            stack.append((node, False))
            stack.extend((child, True) for child in reversed(node))
        elif node is not element and node.tail:
            parts.append(node.tail)
    return "".join(parts)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _ss(name: str) -> str:
    return f"{{{SS_NAMESPACE}}}{name}"


def _index(element: Any, default: int, where: str, limit: int, what: str) -> int:
    raw = element.get(_ss("Index"))
    if raw is None:
        value = default
    else:
        try:
            value = int(raw)
        except ValueError:
            raise MalformedSource(where, raw, "ss:Index is not a number") from None
        if value < default:
            raise MalformedSource(where, raw, "ss:Index goes backwards")
    if value > limit:
        raise MalformedSource(where, raw, f"ss:Index is beyond the limit of {limit:,} {what}")
    return value


def _ss_value(data: Any) -> str:
    if data is None:
        return ""
    text = _text(data)
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

    def __init__(
        self,
        data: Data,
        *,
        sheet: str | None = None,
        name: str | None = None,
        limits: ReadLimits = DEFAULT_READ_LIMITS,
    ) -> None:
        self._name = _name_of(data, name)
        self._data: Data = _sheet_data(data, sheet, name, limits)
        self._sheet = sheet
        self._limits = limits
        self._header_row = 0
        self._width = limits.max_columns
        # Closed at once: a generator left half read would keep the file open until collected.
        with contextlib.closing(self._raw_rows()) as raw:
            for number, values in raw:
                if any(v.strip() for v in values):
                    self._headers = _check_headers(values, limits)
                    self._header_row = number
                    self._width = len(self._headers)
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

    def _raw_rows(self) -> Generator[tuple[int, tuple[str, ...]], None, None]:
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
                limits = self._limits
                where = f"row {row_number + 1}"
                row_number = _index(element, row_number + 1, where, limits.max_rows, "rows")
                yield row_number, self._cells(element, f"row {row_number}")
                if table is not None:
                    table.clear()
                else:  # pragma: no cover - a Row outside a Table
                    element.clear()
        if not seen_sheet:
            wanted = "a worksheet" if self._sheet is None else f"worksheet {self._sheet!r}"
            raise MalformedSource("sheet", self._sheet, f"no {wanted}; the file has {sheets}")

    def _cells(self, row: Any, where: str) -> tuple[str, ...]:
        """The cells of one ``Row``: ``ss:Index`` and ``ss:MergeAcross`` never pad past the
        header width (before the header: ``max_columns``); a filled cell further right is
        kept as one extra cell, which the importer reports."""
        limits = self._limits
        width = self._width
        cells: list[str] = []
        extra: str | None = None
        position = 0
        for cell in row:
            if cell.tag != _ss("Cell"):
                continue
            position = _index(cell, position + 1, where, limits.max_columns, "columns")
            text = _ss_value(cell.find(_ss("Data")))
            if len(text) > limits.max_cell_chars:
                raise MalformedSource(
                    where,
                    text[:40],
                    f"cell {_column_letter(position)} holds {len(text):,} "
                    f"characters; the limit is {limits.max_cell_chars:,} "
                    "(ReadLimits.max_cell_chars)",
                )
            if position > width:
                if extra is None and text.strip():
                    extra = text
            else:
                cells.extend([""] * (position - 1 - len(cells)))
                cells.append(text)
            across = cell.get(_ss("MergeAcross"))
            if across is not None:
                try:
                    span = int(across)
                except ValueError:
                    raise MalformedSource(where, across, "ss:MergeAcross is not a number") from None
                if span < 0 or position + span > limits.max_columns:
                    raise MalformedSource(
                        where,
                        across,
                        f"ss:MergeAcross reaches beyond the limit of "
                        f"{limits.max_columns:,} columns (ReadLimits.max_columns)",
                    )
                position += span
        while cells and not cells[-1]:
            cells.pop()
        if extra is not None:
            cells.extend([""] * (width - len(cells)))
            cells.append(extra)
        return tuple(cells)

    def rows(self) -> Iterator[SourceRow]:
        """The rows after the header row, with their sheet row numbers."""
        with contextlib.closing(self._raw_rows()) as raw:
            for number, values in raw:
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

    def __init__(
        self, data: Data, *, name: str | None = None, limits: ReadLimits = DEFAULT_READ_LIMITS
    ) -> None:
        if not isinstance(limits, ReadLimits):
            raise MalformedSource("limits", limits, "must be a ReadLimits")
        if not isinstance(data, str | os.PathLike | bytes | bytearray):
            data = _read_all(data, name)
        self._data: Data = data
        self._name = _name_of(data, name)
        self._limits = limits
        keys: dict[str, None] = {}
        for record in self._records():
            keys.update(dict.fromkeys(record))
            if len(keys) > limits.max_columns:
                raise MalformedSource(
                    "header",
                    f"{len(keys):,} fields",
                    f"the leads use more fields than the "
                    f"limit of {limits.max_columns:,} columns (ReadLimits.max_columns)",
                )
        self._headers = _check_headers(list(keys), limits) if keys else ()
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
        number = 1
        limit = self._limits.max_cell_chars
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
                number += 1
                record = {_local(k): v for k, v in element.attrib.items()}
                for child in element:
                    record[_local(child.tag)] = _text(child)
                for key, text in record.items():
                    if len(text) > limit:
                        raise MalformedSource(
                            f"row {number}",
                            text[:40],
                            f"<{key}> holds {len(text):,} "
                            f"characters; the limit is {limit:,} (ReadLimits.max_cell_chars)",
                        )
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
