"""Cell text: formula-injection neutralising on export and its exact reversal on import,
and the text form of spreadsheet cell values.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (and tab or
carriage return can smuggle one in), so a lead whose company is ``=HYPERLINK(...)`` must not be
exported as it is. :func:`neutralise` prefixes such a cell with one single quote, the OWASP
advice; :func:`restore` removes exactly that quote again. To make the pair a bijection, a value
that already *looks* neutralised (quotes followed by a trigger character, ``'=x``) gets one more
quote, so ``restore(neutralise(v)) == v`` for every text ``v``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Final

__all__ = ["FORMULA_TRIGGERS", "cell_text", "neutralise", "restore"]

FORMULA_TRIGGERS: Final = frozenset("=+-@\t\r")
"""The first characters that make a spreadsheet treat a cell as a formula."""


def _looks_escaped(text: str) -> bool:
    return text.lstrip("'")[:1] in FORMULA_TRIGGERS


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: prefixed with ``'`` when it begins with
    a formula trigger (or with quotes followed by one)."""
    if text and (text[0] in FORMULA_TRIGGERS or (text[0] == "'" and _looks_escaped(text))):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo :func:`neutralise`: drop one leading quote when quotes are followed by a formula
    trigger; any other text is returned unchanged."""
    if text[:1] == "'" and _looks_escaped(text):
        return text[1:]
    return text


def cell_text(value: object) -> str:
    """The text of a spreadsheet cell value: ``""`` for empty, whole floats without ``.0``
    (a phone number typed as a number), dates as ISO ``YYYY-MM-DD`` (a date-time at midnight
    too), booleans as ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
