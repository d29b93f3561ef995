"""``SqlOutbox``: the outbox of a :class:`~leadkit.adapters.sql.store.SqlStore`, every committed
event for publishers to claim and ack.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Row, delete, func, select, text, update

from leadkit.adapters import now_or
from leadkit.adapters.sql.repository import _stamp
from leadkit.adapters.sql.rows import utc_text
from leadkit.adapters.sql.schema import outbox
from leadkit.ports import OutboxBacklog, OutboxEvent, check_claim, check_limit, claimable
from leadkit.values import LeadId, require_aware

if TYPE_CHECKING:
    from leadkit.adapters.sql.store import SqlStore

_CLAIM_PAGE: Final = 500
"""Waiting events a claim reads per query while it picks the ones to hand out."""
_ACK_CHUNK: Final = 500
_CLAIM_LOCK_KEY: Final = 0x4C4B4F42  # "LKOB": the PostgreSQL advisory lock of claims


class SqlOutbox:
    """The outbox of a :class:`SqlStore` (see :class:`leadkit.ports.Outbox`).

    A claim is one short write transaction: on SQLite ``BEGIN IMMEDIATE`` (the database's
    one writer), on PostgreSQL a transaction-scoped advisory lock. Claims are serialised so
    that the per-lead rule (no event of a lead while an earlier one is leased elsewhere) sees
    every other claim's leases; ``FOR UPDATE SKIP LOCKED`` alone would let two publishers
    take consecutive events of one lead and deliver them out of order. Writers are never
    blocked by claims on PostgreSQL (the lock is advisory) and only for the claim's few
    statements on SQLite.
    """

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def claim(
        self, limit: int, *, lease: timedelta, at: datetime | None = None
    ) -> tuple[OutboxEvent, ...]:
        """Lease up to ``limit`` events (see :meth:`leadkit.ports.Outbox.claim`). Raises
        InvalidValue for bad arguments, StorageUnavailable when the database fails."""
        now = now_or(at)
        check_claim(limit, lease, now)
        store = self._store
        table = outbox
        with store.unit_of_work() as uow:
            conn = uow._writer()
            try:
                if not store._sqlite and conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK_KEY})
                chosen = claimable(self._waiting(conn), limit, now)
                if not chosen:
                    uow.rollback()
                    return ()
                until = utc_text(now + lease)
                rows: list[Row[Any]] = []
                for start in range(0, len(chosen), _ACK_CHUNK):
                    part = chosen[start : start + _ACK_CHUNK]
                    conn.execute(
                        update(table)
                        .where(table.c.position.in_(part))
                        .values(leased_until=until, attempts=table.c.attempts + 1)
                    )
                    rows += conn.execute(select(*table.c).where(table.c.position.in_(part))).all()
            except store._driver_errors as e:
                store._fail("claiming outbox events", e)
            uow.commit()
        rows.sort(key=lambda r: r.position)
        return tuple(_outbox_event(r) for r in rows)

    def _waiting(self, conn: Connection) -> Iterator[tuple[int, str, datetime | None]]:
        """The waiting events in order as (position, lead id, leased_until), a page at a
        time."""
        table = outbox
        after = 0
        while True:
            rows = conn.execute(
                select(table.c.position, table.c.lead_id, table.c.leased_until)
                .where(table.c.delivered_at.is_(None), table.c.position > after)
                .order_by(table.c.position)
                .limit(_CLAIM_PAGE)
            ).all()
            for row in rows:
                yield int(row[0]), row[1], None if row[2] is None else _stamp(row[2])
            if len(rows) < _CLAIM_PAGE:
                return
            after = int(rows[-1][0])

    def ack(self, event_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark the events delivered; returns how many were waiting. Raises InvalidValue for
        a naive ``at``, StorageUnavailable when the database fails."""
        now = utc_text(now_or(at))
        ids = sorted(set(event_ids))
        if not ids:
            return 0
        store = self._store
        table = outbox
        done = 0
        with store.unit_of_work() as uow:
            conn = uow._writer()
            try:
                for start in range(0, len(ids), _ACK_CHUNK):
                    result = conn.execute(
                        update(table)
                        .where(
                            table.c.event_id.in_(ids[start : start + _ACK_CHUNK]),
                            table.c.delivered_at.is_(None),
                        )
                        .values(delivered_at=now, leased_until=None)
                    )
                    done += int(result.rowcount)
            except store._driver_errors as e:
                store._fail("acknowledging outbox events", e)
            uow.commit()
        return done

    def purge(self, *, delivered_before: datetime) -> int:
        """Delete the events delivered before ``delivered_before``; returns how many. Raises
        InvalidValue for a naive datetime, StorageUnavailable when the database fails."""
        require_aware("delivered_before", delivered_before)
        store = self._store
        table = outbox
        with store.unit_of_work() as uow:
            conn = uow._writer()
            try:
                result = conn.execute(
                    delete(table).where(
                        table.c.delivered_at.is_not(None),
                        table.c.delivered_at < utc_text(delivered_before),
                    )
                )
            except store._driver_errors as e:
                store._fail("purging the outbox", e)
            uow.commit()
        return int(result.rowcount)

    def backlog(self, *, at: datetime | None = None) -> OutboxBacklog:
        """Counts of waiting, leased and delivered events. Raises InvalidValue for a naive
        ``at``, StorageUnavailable when the database fails."""
        now = utc_text(now_or(at))
        store = self._store
        table = outbox
        waiting = table.c.delivered_at.is_(None)
        with store.unit_of_work() as uow:
            conn = uow._reader()
            try:
                pending = conn.execute(select(func.count()).where(waiting)).scalar_one()
                leased = conn.execute(
                    select(func.count()).where(waiting, table.c.leased_until > now)
                ).scalar_one()
                total = conn.execute(select(func.count()).select_from(table)).scalar_one()
                first = conn.execute(
                    select(table.c.position, table.c.occurred_at)
                    .where(waiting)
                    .order_by(table.c.position)
                    .limit(1)
                ).first()
            except store._driver_errors as e:
                store._fail("reading the outbox backlog", e)
        return OutboxBacklog(
            int(pending),
            int(leased),
            int(total) - int(pending),
            None if first is None else int(first[0]),
            None if first is None else _stamp(first[1]),
        )

    def pending(self, limit: int = 50) -> tuple[OutboxEvent, ...]:
        """The first ``limit`` undelivered events, unclaimed. Raises InvalidValue for a limit
        outside 1..1000, StorageUnavailable when the database fails."""
        check_limit(limit)
        store = self._store
        table = outbox
        with store.unit_of_work() as uow:
            try:
                rows = (
                    uow._reader()
                    .execute(
                        select(*table.c)
                        .where(table.c.delivered_at.is_(None))
                        .order_by(table.c.position)
                        .limit(limit)
                    )
                    .all()
                )
            except store._driver_errors as e:
                store._fail("reading the outbox", e)
        return tuple(_outbox_event(r) for r in rows)


def _outbox_event(row: Row[Any]) -> OutboxEvent:
    return OutboxEvent(
        row.event_id,
        int(row.position),
        LeadId(row.lead_id),
        row.type,
        row.payload,
        _stamp(row.occurred_at),
        int(row.attempts),
    )
