"""The JSON leaf values of the converter (dates, decimals, plain text and numbers) and its
errors with paths: a nested cattrs failure turned into one InvalidValue naming every bad field
(``address.postal_code``, ``notes[2].attachment.sha256``).

Split from :mod:`leadkit.serialization`, which uses them (and re-exports ``MAX_PROBLEMS``).
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final, TypeVar

from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from leadkit.errors import FieldProblem, InvalidValue
from leadkit.fields import CustomValue
from leadkit.values import require_aware

__all__ = ["MAX_PROBLEMS"]

T = TypeVar("T")

MAX_PROBLEMS: Final = 20
"""A refusal names at most 20 problems, then how many more it found."""


class _MalformedError(ValueError):
    """A leaf structuring failure before it becomes an InvalidValue with a path."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(reason)


def _expect(value: object, kind: type | tuple[type, ...], what: str) -> None:
    if isinstance(value, bool) and kind is not bool:
        raise _MalformedError(value, f"must be {what}")
    if not isinstance(value, kind):
        raise _MalformedError(value, f"must be {what}")


def _iso_datetime(value: object) -> datetime:
    _expect(value, str, "an ISO 8601 date-time string")
    assert isinstance(value, str)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _MalformedError(value, "not an ISO 8601 date-time") from None
    try:
        return require_aware("at", parsed)
    except InvalidValue:
        raise _MalformedError(
            value, "must carry a UTC offset (naive date-times are refused)"
        ) from None


def _iso_date(value: object) -> date:
    _expect(value, str, "an ISO 8601 date string")
    assert isinstance(value, str)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _MalformedError(value, "not an ISO 8601 date (YYYY-MM-DD)") from None


def _decimal(value: object) -> Decimal:
    _expect(value, (str, int), "a decimal string")
    try:
        result = Decimal(value)  # type: ignore[arg-type]
    except InvalidOperation:
        raise _MalformedError(value, "not a decimal number") from None
    if not result.is_finite():
        raise _MalformedError(value, "must be a finite number")
    return result


def _strict(kind: type[T], what: str) -> Callable[[object], T]:
    def check(value: object) -> T:
        _expect(value, kind, what)
        return value  # type: ignore[return-value]

    return check


# Built once: the hooks call these for every string and number they read.
_TEXT: Final = _strict(str, "text")
_INTEGER: Final = _strict(int, "an integer")
_BOOLEAN: Final = _strict(bool, "true or false")
_ID_TEXT: Final = _strict(str, "an id string")

_CUSTOM_LOADERS: Final[Mapping[str, Callable[[object], CustomValue]]] = {
    "text": _TEXT,
    "integer": _INTEGER,
    "decimal": _decimal,
    "boolean": _BOOLEAN,
    "date": _iso_date,
    "datetime": _iso_datetime,
}


# ---------------------------------------------------------------------------------------------
# Errors with paths


def _join(path: str, part: str) -> str:
    if not path:
        return part
    if part.startswith("["):
        return path + part
    return f"{path}.{part}"


def _to_invalid(error: BaseException, path: str) -> InvalidValue:
    """Turn a (possibly nested) cattrs failure into one InvalidValue naming every bad path."""
    problems: list[tuple[str, object, str]] = []
    _collect(error, path, problems)
    if not problems:
        problems.append((path, None, str(error)))
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems[MAX_PROBLEMS:] = [(path, None, f"{more} more problems not listed")]
    return InvalidValue.many(FieldProblem(p, v, r) for p, v, r in problems)


def _collect(error: BaseException, path: str, out: list[tuple[str, object, str]]) -> None:
    if isinstance(error, ForbiddenExtraKeysError):
        for key in sorted(error.extra_fields, key=str):
            out.append((_join(path, key), key, "unknown field"))
        return
    if isinstance(error, ClassValidationError | IterableValidationError):
        for sub in error.exceptions:
            sub_path = path
            for note in getattr(sub, "__notes__", []):
                if isinstance(note, AttributeValidationNote):
                    sub_path = _join(path, note.name)
                elif isinstance(note, IterableValidationNote):
                    sub_path = _join(path, f"[{note.index}]")
            _collect(sub, sub_path, out)
        return
    if isinstance(error, InvalidValue):
        for problem in error.problems:
            out.append((_merge(path, problem.field), problem.value, problem.reason))
        return
    if isinstance(error, _MalformedError):
        out.append((path, error.value, error.reason))
        return
    if isinstance(error, KeyError):
        out.append((path, None, "is required"))
        return
    out.append((path, None, f"malformed ({type(error).__name__}: {error})"))


# Value types name their own fields generically ("phone", "user.id"); at a known path the
# path already says which field it is.
_SELF_NAMED: Final = frozenset(
    {
        "address", "attachment", "activity", "custom_fields", "email", "name", "note",
        "option", "phone", "reason", "stakeholder", "user", "website",
        "record_id", "lead_id", "account_id", "contact_id", "opportunity_id",
    }
)  # fmt: skip


def _merge(path: str, field: str) -> str:
    """Join a structuring path with a value's own field name without repeating it:
    ``address`` + ``address.postal_code`` -> ``address.postal_code``; ``owner`` + ``user.id``
    -> ``owner.id``."""
    if not path:
        return field
    if not field:
        return path
    last = path.rsplit(".", 1)[-1].split("[", 1)[0]
    head, _, tail = field.partition(".")
    if head == last or head in _SELF_NAMED:
        # ``stakeholders[0].role`` + ``stakeholder.role`` -> ``stakeholders[0].role``.
        return _join(path, tail) if tail and tail != last else path
    return _join(path, field)
