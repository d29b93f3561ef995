"""Export leads to CSV and ``.xlsx`` with chosen columns and display names.

Every cell, the header cells included, is neutralised against formula injection
(:func:`leadkit.io.cells.neutralise`), and the importer reverses exactly that, so importing an
export gives back the exported fields. A file path is written to a temporary file beside it and
moved into place at the end: a failed export never leaves a partial file behind.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, TextIO, cast

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.io.cells import neutralise
from leadkit.io.columns import DEFAULT_EXPORT_COLUMNS, LANGUAGES, column_spec, lead_cell
from leadkit.lead import Lead

__all__ = ["export_csv", "export_rows", "export_xlsx", "header_row"]

_XLSX_ILLEGAL: Final = re.compile(r"[\000-\010\013\014\016-\037]")


def header_row(
    columns: Sequence[str],
    *,
    language: str = "en",
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """The header cells for ``columns``: ``names`` where given, else the display name in
    ``language`` (en, sv, pl, de). Raises ConfigurationError for an unknown column or
    language, or two columns with the same header."""
    if language not in LANGUAGES:
        raise ConfigurationError("export", f"language {language!r}; known: {', '.join(LANGUAGES)}")
    own = dict(names or {})
    unknown = sorted(set(own) - set(columns))
    if unknown:
        raise ConfigurationError("export", f"a display name for {unknown[0]!r}, not exported")
    headers = [own.get(key) or column_spec(key).display_name(language) for key in columns]
    folded = [h.casefold() for h in headers]
    if len(set(folded)) != len(folded):
        raise ConfigurationError("export", "two columns would get the same header")
    if len(set(columns)) != len(columns):
        raise ConfigurationError("export", "a column is listed twice")
    return headers


def export_rows(
    leads: Iterable[Lead],
    columns: Sequence[str] = DEFAULT_EXPORT_COLUMNS,
    *,
    language: str = "en",
    names: Mapping[str, str] | None = None,
) -> Iterator[list[str]]:
    """The neutralised header row, then one neutralised row per lead, lazily."""
    columns = tuple(columns)
    yield [neutralise(h) for h in header_row(columns, language=language, names=names)]
    for lead in leads:
        yield [neutralise(lead_cell(lead, key)) for key in columns]


@contextmanager
def _atomic(target: str | os.PathLike[str], mode: str, **options: Any) -> Iterator[IO[Any]]:
    path = Path(target)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode a new file gets here.
        os.chmod(temp, 0o666 & ~_umask())
        with os.fdopen(fd, mode, **options) as handle:
            yield handle
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def export_csv(
    leads: Iterable[Lead],
    target: str | os.PathLike[str] | TextIO,
    columns: Sequence[str] = DEFAULT_EXPORT_COLUMNS,
    *,
    language: str = "en",
    names: Mapping[str, str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
) -> int:
    """Write ``leads`` (a list, a view's ``uow.leads.stream(query)``) as CSV; returns the
    number of lead rows written.

    ``target`` is a path (written atomically, in ``encoding``: UTF-8 with a BOM by default,
    which Excel opens correctly) or a text stream opened with ``newline=""``. Raises
    ConfigurationError for an unknown column or language.
    """
    if delimiter not in (",", ";", "\t"):
        raise ConfigurationError("export", "delimiter must be ',', ';' or a tab")
    rows = export_rows(leads, columns, language=language, names=names)
    header = next(rows)

    def write(handle: TextIO) -> int:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
        return count

    if isinstance(target, str | os.PathLike):
        with _atomic(target, "w", encoding=encoding, newline="") as handle:
            return write(cast(TextIO, handle))
    return write(target)


def _xlsx_cell(text: str, column: str) -> str:
    if _XLSX_ILLEGAL.search(text):
        raise InvalidValue(column, text, "holds control characters an .xlsx cell cannot hold")
    return text


def export_xlsx(
    leads: Iterable[Lead],
    target: str | os.PathLike[str] | BinaryIO,
    columns: Sequence[str] = DEFAULT_EXPORT_COLUMNS,
    *,
    language: str = "en",
    names: Mapping[str, str] | None = None,
    sheet: str = "Leads",
) -> int:
    """Write ``leads`` to an ``.xlsx`` workbook (openpyxl, write-only: streamed); returns the
    number of lead rows written. Every cell is a text cell.

    ``target`` is a path (written atomically) or a binary stream. Raises InvalidValue for
    text with control characters a workbook cannot hold, ConfigurationError as
    :func:`export_csv` does. Needs the ``io`` extra (openpyxl).
    """
    import openpyxl

    columns = tuple(columns)
    rows = export_rows(leads, columns, language=language, names=names)
    book = openpyxl.Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    count = -1
    try:
        for row in rows:
            worksheet.append([_xlsx_cell(c, k) for c, k in zip(row, columns, strict=True)])
            count += 1
    except BaseException:
        # Finish the write-only sheet in memory so openpyxl releases its temporary file.
        book.save(io.BytesIO())
        raise

    save: Callable[[Any], None] = book.save
    if isinstance(target, str | os.PathLike):
        with _atomic(target, "wb") as handle:
            save(handle)
    else:
        save(target)
    return count
