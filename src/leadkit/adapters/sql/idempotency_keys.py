"""``SqlIdempotencyRepository``: the stored responses of idempotency keys, in the
``idempotency_keys`` table, written in the unit of work's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from leadkit.adapters.sql.repository import _stamp
from leadkit.adapters.sql.rows import utc_text
from leadkit.adapters.sql.schema import idempotency_keys
from leadkit.errors import AlreadyExists
from leadkit.ports import StoredResponse
from leadkit.values import require_aware

if TYPE_CHECKING:
    from leadkit.adapters.sql.unit_of_work import SqlUnitOfWork


class SqlIdempotencyRepository:
    """:class:`~leadkit.ports.IdempotencyRepository` over the ``idempotency_keys`` table, in
    the unit of work's transaction."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        self._store = uow._store

    def get(self, key: str) -> StoredResponse | None:
        """The stored response of ``key`` (expired or not), None when there is none."""
        store = self._store
        table = idempotency_keys
        try:
            row = self._uow._reader().execute(select(*table.c).where(table.c.key == key)).first()
        except store._driver_errors as e:
            store._fail(f"reading idempotency key {key!r}", e)
        if row is None:
            return None
        return StoredResponse(
            row.key, row.request_hash, row.result, _stamp(row.created_at), _stamp(row.expires_at)
        )

    def put(self, response: StoredResponse) -> None:
        """Remember ``response``, replacing an expired one. Raises AlreadyExists when the key
        holds a live response (also when a concurrent transaction stored it first)."""
        store = self._store
        table = idempotency_keys
        conn = self._uow._writer()
        try:
            found = conn.execute(
                select(table.c.expires_at).where(table.c.key == response.key)
            ).scalar()
            if found is not None:
                if response.created_at < _stamp(found):
                    raise AlreadyExists("idempotency key", response.key)
                conn.execute(delete(table).where(table.c.key == response.key))
            values = {
                "key": response.key,
                "request_hash": response.request_hash,
                "result": response.result,
                "created_at": utc_text(response.created_at),
                "expires_at": utc_text(response.expires_at),
            }
            try:
                if store._sqlite:
                    conn.execute(insert(table).values(values))
                else:
                    with conn.begin_nested():
                        conn.execute(insert(table).values(values))
            except store._integrity_errors as e:
                raise AlreadyExists("idempotency key", response.key) from e
        except store._driver_errors as e:
            store._fail(f"storing idempotency key {response.key!r}", e)

    def prune(self, *, now: datetime) -> int:
        """Delete every response expired by ``now``; returns how many."""
        require_aware("now", now)
        store = self._store
        table = idempotency_keys
        conn = self._uow._writer()
        try:
            result = conn.execute(delete(table).where(table.c.expires_at <= utc_text(now)))
        except store._driver_errors as e:
            store._fail("pruning idempotency keys", e)
        return int(result.rowcount)
