"""What every reader of :mod:`leadkit.io.readers` shares: the :class:`Source` protocol, a
:class:`SourceRow`, the checks of the header row and of cell sizes, and opening the bytes of
a path, a bytes value or a binary stream."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol

import attrs

from leadkit.io.cells import restore
from leadkit.io.errors import MalformedSource
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits

__all__ = ["LEADKIT_NAMESPACE", "SAMPLE_SIZE", "SS_NAMESPACE", "Data", "Source", "SourceRow"]

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
