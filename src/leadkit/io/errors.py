"""The errors of :mod:`leadkit.io`, all under :class:`leadkit.errors.LeadkitError`.

::

    InvalidValue
    ├── MalformedSource        a file that cannot be read as a table (encoding, no header, ...)
    │   └── UnsafeXml          an XML file with entity declarations or external references
    ├── MappingIncomplete      a column mapping that leaves a required field unmapped
    └── MalformedMessage       an e-mail message that cannot become a lead

``ImportInterrupted`` (a LeadkitError: ``run_import`` stopped, carrying the checkpoint to resume
from) lives beside its checkpoint in :mod:`leadkit.io.run`.
"""

from __future__ import annotations

from collections.abc import Iterable

from leadkit.errors import FieldProblem, InvalidValue

__all__ = [
    "MalformedMessage",
    "MalformedSource",
    "MappingIncomplete",
    "UnsafeXml",
]


class MalformedSource(InvalidValue):
    """A file could not be read as a table: undecodable bytes, no header row, a duplicate
    header, a broken workbook or XML document. ``field`` says where (``"header"``,
    ``"row 12"``, ``"encoding"``), ``reason`` what is wrong."""


class UnsafeXml(MalformedSource):
    """An XML file was refused because it declares entities (the "billion laughs"
    entity-expansion attack) or references external resources (XXE). ``attack`` names it."""

    def __init__(self, attack: str, detail: str) -> None:
        self.attack = attack
        super().__init__(
            "xml",
            detail,
            f"refused: the document uses {attack}, which leadkit never expands or fetches "
            "(entity-expansion and external-entity attacks)",
        )


class MappingIncomplete(InvalidValue):
    """A column mapping leaves fields the chosen profile requires without a column.

    ``problems`` names each missing field (``name.last``) and ``missing`` lists them.
    """

    @classmethod
    def of(cls, missing: Iterable[FieldProblem]) -> MappingIncomplete:
        """One error listing every missing field."""
        error = InvalidValue.many(missing)
        found = cls(error.field, error.value, error.reason)
        found.problems = error.problems
        found.args = error.args
        return found

    @property
    def missing(self) -> tuple[str, ...]:
        """The dotted paths of the required fields no column supplies."""
        return self.fields


class MalformedMessage(InvalidValue):
    """An e-mail message could not be read (no sender, an unparsable From header, not
    RFC 5322 at all). ``field`` names the header or part."""
