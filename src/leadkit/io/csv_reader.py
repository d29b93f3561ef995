"""The CSV reader of :mod:`leadkit.io.readers`: encoding and delimiter detection, streamed rows
(see that module for the rules)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO, Any, BinaryIO, Final

from leadkit.errors import LeadkitError
from leadkit.io.errors import MalformedSource
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits
from leadkit.io.source import (
    SAMPLE_SIZE,
    Data,
    SourceRow,
    _check_headers,
    _check_lengths,
    _fit,
    _name_of,
    _Opener,
)

__all__ = ["CsvSource", "detect_encoding"]

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
