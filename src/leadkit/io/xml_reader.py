"""The XML readers of :mod:`leadkit.io.readers`: Excel "XML Spreadsheet 2003" and the leadkit XML
format."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterator
from typing import Any

from leadkit.io.errors import MalformedSource, UnsafeXml
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits
from leadkit.io.source import (
    SS_NAMESPACE,
    Data,
    SourceRow,
    _check_headers,
    _column_letter,
    _name_of,
    _Opener,
    _read_all,
    _sheet_data,
)

__all__ = ["LeadkitXmlSource", "XmlSpreadsheetSource"]

# ---------------------------------------------------------------------------------------------
# XML


def _iterparse(data: Data, name: str, max_depth: int) -> Iterator[tuple[str, Any]]:
    """Safe ``(event, element)`` pairs: entity declarations and external references are
    refused with UnsafeXml, malformed XML and elements nested deeper than ``max_depth`` with
    MalformedSource."""
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
    depth = 0
    try:
        for event, element in SafeTree.iterparse(stream, events=("start", "end"), forbid_dtd=False):
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise MalformedSource(
                        "xml",
                        _local(element.tag),
                        f"elements nest more than {max_depth:,} deep (ReadLimits.max_xml_depth)",
                    )
            else:
                depth -= 1
            yield event, element
    except MalformedSource:
        raise
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
        for event, element in _iterparse(self._data, self._name, self._limits.max_xml_depth):
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
        for event, element in _iterparse(self._data, self._name, self._limits.max_xml_depth):
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
