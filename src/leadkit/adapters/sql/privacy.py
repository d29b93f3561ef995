"""``uow.privacy`` of the SQL adapter: what erasure and audit need beyond the repositories
(see :class:`leadkit.privacy.PrivacyRepository`).

Every read and rewrite runs on the unit of work's connection inside its write transaction,
so an erasure commits or rolls back as one. Outbox payloads and idempotency results are
read in batches by key and only those an erasure wants (a cheap text test) are decoded.

Leaving no copy behind (:meth:`SqlPrivacy.secure`, after the commit):

- SQLite: every connection runs with ``PRAGMA secure_delete = ON`` (set by the store's
  connect hook), so the space a delete or an update frees is overwritten with zeros; then a
  ``PRAGMA wal_checkpoint(TRUNCATE)`` copies the new pages into the main file and truncates
  the write-ahead log, which held the old page images.
- PostgreSQL: an update or delete leaves dead row versions until ``VACUUM``; the erasure runs
  ``VACUUM`` on the tables it may have touched (outside the transaction). Free space is then
  reusable but not overwritten, and the server's own WAL files keep old pages until they are
  recycled: see docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from sqlalchemy import Connection, column, delete, func, select, table, update

from leadkit.adapters.sql.schema import idempotency_keys, outbox
from leadkit.erasure import ErasureScope
from leadkit.events import LeadEvent
from leadkit.values import LeadId

__all__ = ["SqlPrivacy"]

_BATCH: Final = 500

# The duplicate keys table (adapters.sql.duplicate_keys) when a key store shares the database.
_keys = table("duplicate_keys", column("key"), column("record_type"), column("record_id"))
# The normalised values stored with the keys (adapters.sql.duplicate_keys.duplicate_values).
_values = table("duplicate_values", column("record_type"), column("record_id"), column("data"))

_VACUUMED: Final = (
    "leads",
    "lead_notes",
    "lead_activities",
    "lead_stakeholders",
    "accounts",
    "contacts",
    "opportunities",
    "merges",
    "outbox",
    "idempotency_keys",
)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlPrivacy:
    """The erasure and audit support of one :class:`~leadkit.adapters.sql.SqlUnitOfWork`.
    Raises StorageUnavailable when the database fails."""

    def __init__(self, uow: Any) -> None:
        self._uow = uow  # a SqlUnitOfWork (not imported: the store module imports this one)

    def _run(self, doing: str, work: Callable[[Connection], Any], *, write: bool = True) -> Any:
        uow = self._uow
        store = uow.store
        conn = uow._writer() if write else uow._reader()
        try:
            return work(conn)
        except store._driver_errors as e:
            store._fail(doing, e)

    def events_of(self, lead_id: LeadId) -> Sequence[LeadEvent]:
        """Every stored event of ``lead_id``, in outbox order."""
        loads = self._uow.store._converter.loads

        def read(conn: Connection) -> list[LeadEvent]:
            rows = conn.execute(
                select(outbox.c.payload)
                .where(outbox.c.lead_id == lead_id.value)
                .order_by(outbox.c.position)
            )
            return [loads(payload, LeadEvent) for (payload,) in rows]

        found: list[LeadEvent] = self._run("reading the events", read, write=False)
        return found

    def rewrite_events(
        self,
        rewrite: Callable[[LeadEvent], LeadEvent | None],
        wanted: Callable[[str, str], bool],
    ) -> tuple[int, int]:
        """Rewrite (or delete) the wanted outbox events; returns (rewritten, deleted)."""
        converter = self._uow.store._converter

        def work(conn: Connection) -> tuple[int, int]:
            changed = deleted = 0
            after = 0
            while True:
                rows = conn.execute(
                    select(outbox.c.position, outbox.c.lead_id, outbox.c.payload)
                    .where(outbox.c.position > after)
                    .order_by(outbox.c.position)
                    .limit(_BATCH)
                ).all()
                if not rows:
                    return changed, deleted
                after = rows[-1][0]
                for position, lead_id, payload in rows:
                    if not wanted(lead_id, payload):
                        continue
                    event = converter.loads(payload, LeadEvent)
                    new = rewrite(event)
                    if new is None:
                        conn.execute(delete(outbox).where(outbox.c.position == position))
                        deleted += 1
                    elif new is not event:
                        conn.execute(
                            update(outbox)
                            .where(outbox.c.position == position)
                            .values(payload=converter.dumps(new))
                        )
                        changed += 1

        result: tuple[int, int] = self._run("rewriting the outbox", work)
        return result

    def rewrite_results(self, rewrite: Callable[[str], str], wanted: Callable[[str], bool]) -> int:
        """Rewrite the wanted idempotency results; returns how many changed."""

        def work(conn: Connection) -> int:
            done = 0
            after = ""
            c = idempotency_keys.c
            while True:
                rows = conn.execute(
                    select(c.key, c.result).where(c.key > after).order_by(c.key).limit(_BATCH)
                ).all()
                if not rows:
                    return done
                after = rows[-1][0]
                for key, result in rows:
                    if not wanted(result):
                        continue
                    text = rewrite(result)
                    if text != result:
                        conn.execute(
                            update(idempotency_keys).where(c.key == key).values(result=text)
                        )
                        done += 1

        found: int = self._run("rewriting idempotency results", work)
        return found

    def forget_keys(self, refs: Iterable[tuple[str, str]], scope: ErasureScope) -> int:
        """Delete the duplicate keys (``duplicate_keys``, when the database holds it) of
        ``refs`` and every key holding a needle of ``scope``; returns how many. The values
        stored with the keys (``duplicate_values``) go the same way (not counted)."""
        wanted = list(refs)

        def work(conn: Connection) -> int:
            if not conn.dialect.has_table(conn, "duplicate_keys"):
                return 0
            if conn.dialect.has_table(conn, "duplicate_values"):
                _forget_values(conn, wanted, scope)
            gone = 0
            for kind, record_id in wanted:
                gone += conn.execute(
                    delete(_keys).where(_keys.c.record_type == kind, _keys.c.record_id == record_id)
                ).rowcount
            for needle in scope.needles:
                pattern = f"%{_like_escaped(needle.casefold())}%"
                gone += conn.execute(
                    delete(_keys).where(func.lower(_keys.c.key).like(pattern, escape="\\"))
                ).rowcount
            return gone

        found: int = self._run("forgetting duplicate keys", work)
        return found

    def secure(self) -> str:
        """After the commit: on SQLite a truncating WAL checkpoint (secure_delete is on for
        every connection), on PostgreSQL a VACUUM of the touched tables. Returns what was
        done."""
        store = self._uow.store
        engine = store.engine
        try:
            if store._sqlite:
                with engine.connect() as conn:
                    busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                state = "truncated" if busy == 0 else "not truncated (busy readers)"
                return f"sqlite: secure_delete on; write-ahead log checkpointed, {state}"
            if engine.dialect.name == "postgresql":
                names = list(_VACUUMED)
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    if conn.dialect.has_table(conn, "duplicate_keys"):
                        names.append("duplicate_keys")
                    if conn.dialect.has_table(conn, "duplicate_values"):
                        names.append("duplicate_values")
                    conn.exec_driver_sql("VACUUM " + ", ".join(names))
                return f"postgresql: VACUUM of {len(names)} tables (dead row versions removed)"
        except store._driver_errors as e:
            store._fail("securing the erasure", e)
        return f"{engine.dialect.name}: nothing more done"


def _forget_values(conn: Connection, refs: list[tuple[str, str]], scope: ErasureScope) -> None:
    """Delete the stored values of ``refs`` and every value row holding a needle of
    ``scope``."""
    for kind, record_id in refs:
        conn.execute(
            delete(_values).where(_values.c.record_type == kind, _values.c.record_id == record_id)
        )
    for needle in scope.needles:
        pattern = f"%{_like_escaped(needle.casefold())}%"
        conn.execute(delete(_values).where(func.lower(_values.c.data).like(pattern, escape="\\")))
