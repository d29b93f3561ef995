"""What the SQL repositories share: writing one row by its key (the version checks and the
errors of a write), refusing text a database cannot hold, reading stored versions and times.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Connection

from leadkit.adapters.sql.statements import _CONFLICT_STATES, _Prepared, _sqlstate
from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    InvalidValue,
    NotFound,
    StorageUnavailable,
)

if TYPE_CHECKING:
    from leadkit.adapters.sql.store import SqlStore
    from leadkit.adapters.sql.unit_of_work import SqlUnitOfWork


def _storable(document: str, kind: str, key: object) -> str:
    """``document`` if a database can hold it. Raises InvalidValue for text holding an
    unpaired surrogate (JSON keeps it; no UTF-8 database can store it) or a NUL character
    (PostgreSQL text cannot hold one; refused on every engine, so a store moves between them).
    """
    if "\\u0000" in document and _holds_nul(json.loads(document)):
        raise InvalidValue(
            kind, key, "holds text with a NUL character (U+0000), which cannot be stored"
        )
    if document.isascii():
        return document
    try:
        document.encode()
    except UnicodeEncodeError:
        raise InvalidValue(
            kind, key, "holds text with an unpaired surrogate, which cannot be stored"
        ) from None
    return document


def _holds_nul(value: object) -> bool:
    """True when a decoded JSON value holds a NUL character in any text or key."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class _Rows:
    """What the lead and record repositories share: writing one row by its key."""

    _store: SqlStore
    _uow: SqlUnitOfWork

    def _write_failed(self, error: BaseException, action: str, key: Any, expected: int) -> NoReturn:
        """Raise for a driver error of a write: a deadlock or serialization failure (the
        server aborted the transaction, so the unit of work is rolled back: nothing since the
        last commit is stored) as ConcurrencyConflict with the version stored now, anything
        else as StorageUnavailable."""
        store = self._store
        if _sqlstate(error) not in _CONFLICT_STATES:
            store._fail(action, error)
        uow = self._uow
        try:
            uow.rollback()
            with store._engine.connect() as conn:
                actual = self._version_of(conn, key)
        except store._driver_errors as e:
            store._fail(action, e)
        raise ConcurrencyConflict(key, expected, actual) from error

    def _version_of(self, conn: Connection, key: Any) -> int | None:
        raise NotImplementedError

    def _insert_new(
        self, conn: Connection, insert: _Prepared, values: Mapping[str, Any], kind: str, key: Any
    ) -> None:
        """Insert a new row; raises AlreadyExists when ``key`` is taken, else re-raises the
        integrity error. PostgreSQL inserts nothing for a taken id (``ON CONFLICT DO
        NOTHING``: one round trip, and a concurrent insert of the id is waited for); other
        servers insert in a savepoint."""
        store = self._store
        try:
            if store._sqlite:
                insert.run(conn, values)
            elif store._statements.skips_taken_ids:
                if insert.run(conn, values).rowcount == 0:
                    raise AlreadyExists(kind, key)
            else:
                with conn.begin_nested():
                    insert.run(conn, values)
        except store._integrity_errors as e:
            if self._version_of(conn, key) is not None:
                raise AlreadyExists(kind, key) from e
            raise

    def _require_one(
        self, conn: Connection, written: int, kind: str, key: Any, expected: int
    ) -> None:
        """After a write that must touch exactly one row: NotFound when ``key`` has no row,
        else ConcurrencyConflict (``expected`` vs. the stored version)."""
        if written != 1:
            actual = self._version_of(conn, key)
            if actual is None:
                raise NotFound(kind, key)
            raise ConcurrencyConflict(key, expected, actual)

    def _delete_one(
        self,
        conn: Connection,
        delete: _Prepared,
        delete_versioned: _Prepared,
        kind: str,
        key: Any,
        expected_version: int | None,
    ) -> None:
        """Delete ``key``'s row (only at ``expected_version`` when given); raises as
        :meth:`_require_one` does."""
        if expected_version is None:
            removed = delete.run(conn, {"key": key.value}).rowcount
        else:
            removed = delete_versioned.run(
                conn, {"key": key.value, "expected": expected_version}
            ).rowcount
        self._require_one(conn, removed, kind, key, expected_version or 0)


def _version_number(found: object, kind: str, key: object) -> int:
    """A stored version as an int; StorageUnavailable naming the row when it is not one."""
    if type(found) is int:
        return found
    raise StorageUnavailable(f"{kind} {key} has a version that is not an integer: {found!r}")


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
