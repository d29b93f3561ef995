"""The Excel ``.xlsx`` reader of :mod:`leadkit.io.readers`, streamed (read-only workbooks), with
the archive checks of :class:`~leadkit.io.ReadLimits`."""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
import zipfile
from collections.abc import Generator, Iterator
from typing import Any, Final

from leadkit.errors import LeadkitError
from leadkit.io.cells import cell_text
from leadkit.io.errors import MalformedSource
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits
from leadkit.io.source import (
    Data,
    SourceRow,
    _check_headers,
    _column_letter,
    _name_of,
    _sheet_data,
)

__all__ = ["XlsxSource"]

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
