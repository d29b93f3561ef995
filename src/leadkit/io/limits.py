"""The limits every reader and the e-mail intake keep, so that no small file can exhaust
memory or time (a zip bomb, a sheet that declares a million columns, a message nested two
thousand parts deep).

Each limit is a setting of :class:`ReadLimits` (the ``limits`` of an
:class:`~leadkit.io.ImportPolicy`, or ``limits=`` of :func:`~leadkit.io.open_source`) or of
:class:`~leadkit.io.EmailIntakePolicy`; input over a limit is refused with
:class:`~leadkit.io.MalformedSource` / :class:`~leadkit.io.MalformedMessage` naming the header,
row, cell or part. The defaults are documented in docs/import-export.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from leadkit.errors import ConfigurationError

__all__ = ["DEFAULT_READ_LIMITS", "ReadLimits", "positive_limit"]

_HARD_COLUMNS: Final = 16_384
"""Excel's own column limit (XFD): no setting may allow more."""


Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def positive_limit(what: str, maximum: int | None = None) -> Validator:
    """An attrs validator: the value is an int (not a bool) of at least 1 and at most
    ``maximum``; raises ConfigurationError naming ``what`` and the field otherwise."""

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(what, f"{attribute.name} must be a positive integer")
        if maximum is not None and value > maximum:
            raise ConfigurationError(what, f"{attribute.name} must be at most {maximum:,}")

    return check


def _ratio(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 1:
        raise ConfigurationError("read limits", f"{attribute.name} must be a number >= 1")
    if value == float("inf"):
        raise ConfigurationError("read limits", f"{attribute.name} must be finite")


@attrs.frozen(kw_only=True)
class ReadLimits:
    """How much a reader accepts before refusing a file (MalformedSource).

    - ``max_columns``: columns of the header row (cells further right in a data row are
      never allocated; a filled one is reported as one cell too many). At most 16,384.
    - ``max_cell_chars``: characters in one cell (Excel's own limit, 32,767, by default).
    - ``max_header_bytes``: bytes of a CSV header record.
    - ``max_rows``: the highest row number a sheet may use (Excel's 1,048,576).
    - ``max_member_bytes``: the uncompressed size of one part of an ``.xlsx`` archive, and
      ``max_total_bytes`` of all parts together, checked before anything is parsed.
    - ``max_compression_ratio``: uncompressed to compressed size of an ``.xlsx`` part (of at
      least 1 MiB uncompressed): a zip bomb is far above it, real workbooks far below.
    - ``max_shared_strings``: entries in an ``.xlsx`` shared-string table.
    - ``max_archive_members``: files in an ``.xlsx`` archive.
    - ``max_xml_depth``: how deep elements of an XML file (XML Spreadsheet 2003 or leadkit
      XML) may nest. Real files nest fewer than ten deep; a file nested thousands deep only
      costs time to read.

    Raises ConfigurationError for a setting that is not a positive integer.
    """

    max_columns: int = attrs.field(
        default=1_024, validator=positive_limit("read limits", _HARD_COLUMNS)
    )
    max_cell_chars: int = attrs.field(default=32_767, validator=positive_limit("read limits"))
    max_header_bytes: int = attrs.field(default=1 << 20, validator=positive_limit("read limits"))
    max_rows: int = attrs.field(default=1_048_576, validator=positive_limit("read limits"))
    max_member_bytes: int = attrs.field(default=256 << 20, validator=positive_limit("read limits"))
    max_total_bytes: int = attrs.field(default=512 << 20, validator=positive_limit("read limits"))
    max_compression_ratio: float = attrs.field(default=100, validator=_ratio)
    max_shared_strings: int = attrs.field(
        default=2_000_000, validator=positive_limit("read limits")
    )
    max_archive_members: int = attrs.field(default=10_000, validator=positive_limit("read limits"))
    max_xml_depth: int = attrs.field(default=100, validator=positive_limit("read limits"))


DEFAULT_READ_LIMITS: Final = ReadLimits()
"""The limits used when none are given."""
