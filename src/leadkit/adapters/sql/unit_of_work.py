"""``SqlUnitOfWork``: one transaction on one pooled connection of a
:class:`~leadkit.adapters.sql.store.SqlStore` (see that module for the transactions, the
key locks and the batched inserts), and the key locks' numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from sqlalchemy import Connection

from leadkit.adapters.sql.idempotency_keys import SqlIdempotencyRepository
from leadkit.adapters.sql.lead_repository import SqlLeadRepository
from leadkit.adapters.sql.privacy import SqlPrivacy
from leadkit.adapters.sql.record_repository import (
    _ACCOUNTS,
    _CONTACTS,
    _MERGES,
    _OPPORTUNITIES,
    _RECORD_MERGES,
    SqlRecordRepository,
)
from leadkit.adapters.sql.rows import utc_text
from leadkit.adapters.sql.statements import _CONFLICT_STATES, _Prepared, _sqlstate
from leadkit.errors import AlreadyExists, ConcurrencyConflict, RepositoryError, StorageUnavailable
from leadkit.events import LeadEvent
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    IdempotencyRepository,
    LeadRepository,
    MergeRepository,
    OpportunityRepository,
    RecordMergeRepository,
)
from leadkit.values import LeadId

if TYPE_CHECKING:
    from leadkit.adapters.sql.store import SqlStore

KEY_LOCK_CLASS: Final = 0x4C4B
"""The first key of the PostgreSQL advisory locks :meth:`SqlUnitOfWork.lock_keys` takes (the
second is :func:`key_lock_id` of the key)."""

_READ: Final = "read"
_WRITE: Final = "write"

_DEFERRED_ROWS: Final = 256
"""New lead rows a SQLite unit of work collects before inserting them in one go."""

_BULK_INSERT_ROWS: Final = 1000
"""New lead rows a bulk unit of work on a server sends in one ``INSERT`` (one array per
column)."""


def key_lock_id(key: str) -> int:
    """The 32-bit signed number standing for ``key`` in an advisory lock (two keys may share
    one: they are then serialised together, which is safe)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class SqlUnitOfWork:
    """One transaction on one pooled connection; see :mod:`leadkit.adapters.sql.store`.

    ``commit()`` stores every change or none and then hands the collected events to the
    store's event sink; leaving the ``with`` block without commit rolls back.

    On SQLite, new leads without notes, activities or stakeholders are inserted in batches
    (see "Speed" in :mod:`leadkit.adapters.sql.store`): ``add`` checks the id at once, under
    the write lock, and the rows go in before any other statement of the unit of work, at
    the latest at commit. Should a batch fail in the database, the whole transaction is
    rolled back and StorageUnavailable raised, so no lead that ``add`` accepted is silently
    missing.
    """

    def __init__(self, store: SqlStore, *, bulk: bool = False) -> None:
        self._store = store
        self._bulk = bulk and not store._sqlite and store._statements.skips_taken_ids
        self._conn: Connection | None = None
        self._phase: str | None = None
        self._holds_lock = False
        self._finished = False
        self._events: list[LeadEvent] = []
        self._payloads: list[str | None] = []  # per event: its outbox payload, if encoded
        self._deferred: list[Any] = []  # driver parameters of leads to insert
        self._deferred_ids: set[str] = set()
        self._deferred_children: list[tuple[_Prepared, list[dict[str, Any]]]] = []
        self._id_cursor: Any = None  # the driver cursor of _taken
        self._locked: set[int] = set()  # advisory lock ids held in this transaction
        self.leads: LeadRepository = SqlLeadRepository(self)
        self.idempotency: IdempotencyRepository = SqlIdempotencyRepository(self)
        self.accounts: AccountRepository = SqlRecordRepository(self, _ACCOUNTS)
        self.contacts: ContactRepository = SqlRecordRepository(self, _CONTACTS)
        self.opportunities: OpportunityRepository = SqlRecordRepository(self, _OPPORTUNITIES)
        self.merges: MergeRepository = SqlRecordRepository(self, _MERGES)
        self.privacy: Final = SqlPrivacy(self)
        """Erasure and audit support (:class:`leadkit.privacy.PrivacyRepository`)."""
        self.record_merges: RecordMergeRepository = SqlRecordRepository(self, _RECORD_MERGES)

    def __enter__(self) -> Self:
        self._connection()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        except RepositoryError:
            if exc is None:
                raise
        finally:
            self._finished = True
            self._release()

    @property
    def events(self) -> Sequence[LeadEvent]:
        """The events collected since the last commit or rollback."""
        return tuple(self._events)

    def commit(self) -> None:
        """Store every change made in this unit of work, or none; then hand the events to
        the event sink (a sink that raises does not undo the commit).

        Raises StorageUnavailable when the database fails (nothing since the last commit is
        stored then), the store is closed or the unit of work has ended.
        """
        store = self._store
        conn = self._connection()
        if self._phase is not None:
            self._flush()
            try:
                self._write_outbox(conn)
                conn.commit()
            except store._driver_errors as e:
                store._fail("commit", e)
            self._phase = None
            self._locked.clear()
            self._unlock()
        events, self._events = tuple(self._events), []
        self._payloads = []
        if events and store._event_sink is not None:
            store._event_sink(events)

    def rollback(self) -> None:
        """Forget every change made since the last commit.

        Raises StorageUnavailable when the database fails to roll back; not when the
        connection was lost (the server has forgotten the changes then already).
        """
        self._events = []
        self._payloads = []
        self._forget_deferred()
        if self._phase is not None and self._conn is not None:
            self._phase = None
            self._locked.clear()
            try:
                self._conn.rollback()
            except self._store._driver_errors as e:
                if not self._connection_lost(e):
                    self._store._fail("rollback", e)
                self._drop_connection()
            finally:
                self._unlock()

    def _connection_lost(self, error: BaseException) -> bool:
        """True when ``error`` says the server connection is gone (not on SQLite)."""
        if self._store._sqlite:
            return False
        if getattr(error, "connection_invalidated", False):
            return True
        try:
            raw = self._conn.connection.driver_connection  # type: ignore[union-attr]
        except Exception:
            return True
        return bool(getattr(raw, "closed", False))

    def _drop_connection(self) -> None:
        """Close a lost connection for good, so that the pool never hands it out again."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()
                conn.close()

    @property
    def store(self) -> SqlStore:
        """The store this unit of work belongs to."""
        return self._store

    def connection(self) -> Connection:
        """The connection of this unit of work inside its write transaction (begun now if
        need be; on SQLite that takes the write lock): for an extension that stores its own
        rows together with the unit of work, committed or rolled back with it (leadkit's
        ``SqlKeyStore`` keeps the duplicate keys so). Do not commit or roll it back.

        Raises StorageUnavailable when the database fails or the unit of work has ended.
        """
        return self._writer()

    def lock_keys(self, keys: Collection[str]) -> None:
        """Lock named keys (the duplicate check's blocking keys, say) until this unit of work
        commits, rolls back or ends, so that another unit of work — in any thread or process
        — that locks one of them waits until then.

        On SQLite this is the write lock (``BEGIN IMMEDIATE``), which serialises every
        writer of the database anyway. On PostgreSQL each key is a transaction-scoped
        advisory lock (``pg_advisory_xact_lock``), taken in one order. Raises
        StorageUnavailable when the database fails.
        """
        conn = self._writer()
        if self._store._sqlite or self._store._engine.dialect.name != "postgresql":
            return
        wanted = sorted({key_lock_id(key) for key in keys} - self._locked)
        store = self._store
        try:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for lock_id in wanted:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", (KEY_LOCK_CLASS, lock_id))
                self._locked.add(lock_id)
        except store._driver_errors as e:
            store._fail(f"locking {len(wanted)} key(s)", e)

    def _release(self) -> None:
        self._forget_deferred()
        conn, self._conn, self._phase = self._conn, None, None
        self._locked.clear()
        try:
            if conn is not None:
                if self._store._closed:  # the pool is gone: close the driver connection
                    conn.invalidate()
                conn.close()  # the pool rolls back whatever is still open
        except self._store._driver_errors as e:
            self._store._fail("releasing the connection", e)
        finally:
            self._unlock()

    def _connection(self) -> Connection:
        store = self._store
        if self._finished:
            raise StorageUnavailable(
                f"this unit of work on {store._where} is closed: its block has ended"
            )
        store._check_open()
        if self._conn is None:
            try:
                self._conn = store._engine.connect()
            except store._driver_errors as e:
                store._fail("connecting", e)
        return self._conn

    def _reader(self) -> Connection:
        """The connection inside a transaction that may read (deferred leads inserted)."""
        if self._deferred:
            self._flush()
        conn = self._connection()
        if self._phase is None:
            self._begin(conn, "BEGIN")
            self._phase = _READ
        return conn

    def _writer(self, *, flush: bool = True) -> Connection:
        """The connection inside a transaction that holds the write lock (SQLite), the
        deferred leads inserted unless ``flush`` is False."""
        if flush and self._deferred:
            self._flush()
        conn = self._connection()
        if self._phase != _WRITE:
            if self._store._sqlite:
                self._lock()
                if self._phase == _READ:
                    self._phase = None
                    try:
                        conn.rollback()  # the read snapshot has written nothing
                    except self._store._driver_errors as e:
                        self._unlock()
                        self._store._fail("ending the read transaction", e)
            self._begin(conn, "BEGIN IMMEDIATE")
            self._phase = _WRITE
        return conn

    def _begin(self, conn: Connection, sql: str) -> None:
        """Start a transaction: ``sql`` on SQLite, SQLAlchemy's own begin elsewhere."""
        try:
            if self._store._sqlite:
                conn.exec_driver_sql(sql)
            elif not conn.in_transaction():
                conn.begin()
        except self._store._driver_errors as e:
            self._phase = None
            self._unlock()
            self._store._fail("starting a transaction", e)

    def _lock(self) -> None:
        """Queue behind this store's other writers before asking SQLite for its lock.

        SQLite's busy handler polls with growing sleeps, so under steady contention a writer
        that has waited a while keeps losing to fresh ones; waiting on a lock instead lets
        the writers of one process take turns. Other processes still meet SQLite's lock.
        """
        store = self._store
        if self._holds_lock:
            return
        if not store._write_lock.acquire(timeout=store._busy_timeout):
            raise StorageUnavailable(
                f"{store._where} is locked: another unit of work of this store kept the "
                f"write lock for {store._busy_timeout:g} s"
            )
        self._holds_lock = True

    def _unlock(self) -> None:
        if self._holds_lock:
            self._holds_lock = False
            self._store._write_lock.release()

    def _record(
        self, events: Sequence[LeadEvent], payloads: Sequence[str | None] | None = None
    ) -> None:
        """Collect ``events`` for the outbox; ``payloads`` (one per event, None for "encode
        it") are their outbox payloads when the caller has them encoded already."""
        if payloads is None:
            self._payloads.extend([None] * len(events))
        else:
            if len(payloads) != len(events):
                raise ValueError("one payload (or None) per event")
            self._payloads.extend(payloads)
        self._events.extend(events)

    def _write_outbox(self, conn: Connection) -> None:
        """Insert the collected events into the outbox, in the transaction about to commit
        (after every other write, so a later commit touching the same lead gets later
        positions: it waited for this one's row locks)."""
        if not self._events:
            return
        encode = self._store._converter.dumps
        events = self._events
        payloads = [
            encode(e) if p is None else p for e, p in zip(events, self._payloads, strict=True)
        ]
        stamps: dict[datetime, str] = {}  # a bulk job's events share a few times

        def stamp(at: datetime) -> str:
            found = stamps.get(at)
            if found is None:
                found = stamps[at] = utc_text(at)
            return found

        commit_id = uuid.uuid4().hex  # one draw per commit; the index makes each id unique
        statements = self._store._statements
        columns: dict[str, Sequence[Any]] = {
            "event_id": [f"{commit_id}-{n}" for n in range(len(events))],
            "lead_id": [e.lead_id.value for e in events],
            "type": [e.type for e in events],
            "payload": payloads,
            "occurred_at": [stamp(e.at) for e in events],
            "attempts": [0] * len(events),
        }
        if statements.skips_taken_ids and len(events) > 1:  # PostgreSQL: one statement
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(statements.insert_outbox_arrays, tuple(columns.values()))
            return
        statements.insert_outbox.run_columns(conn, columns)

    def _defer(
        self,
        lead_id: str,
        parameters: Any,
        children: Sequence[tuple[_Prepared, list[dict[str, Any]]]] = (),
    ) -> None:
        """Insert a lead row (and its child rows) with the next batch: on SQLite its id
        checked free by the caller, in a bulk unit of work checked when the batch goes in."""
        self._deferred.append(parameters)
        self._deferred_ids.add(lead_id)
        self._deferred_children.extend(children)
        if len(self._deferred) >= (_BULK_INSERT_ROWS if self._bulk else _DEFERRED_ROWS):
            self._flush()

    def _flush(self) -> None:
        """Insert the deferred lead rows: on SQLite one ``executemany``; in a bulk unit of
        work one multi-row ``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id``, then the
        child rows (one ``executemany`` per table).

        Raises AlreadyExists naming the first lead whose id was taken (bulk), StorageUnavailable
        when the database fails, ConcurrencyConflict for a deadlock; the transaction is rolled
        back then (the adds of the batch returned already, so none of them may be committed).
        """
        if not self._deferred:
            return
        rows, children = self._deferred, self._deferred_children
        self._forget_deferred()
        store = self._store
        taken: str | None = None
        try:
            conn = self._connection()
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            if self._bulk:
                taken = self._insert_batch(conn, cursor, rows, children)
            else:
                cursor.executemany(store._statements.insert_lead.sql, rows)
        except store._driver_errors as e:
            try:
                self.rollback()
            finally:
                if _sqlstate(e) in _CONFLICT_STATES:
                    raise ConcurrencyConflict(LeadId(rows[0][0]), 0, None) from e
                action = f"adding {len(rows)} leads (the unit of work was rolled back)"
                store._fail(action, e)
        if taken is not None:
            self.rollback()
            raise AlreadyExists("lead", LeadId(taken))

    def _insert_batch(
        self,
        conn: Connection,
        cursor: Any,
        rows: Sequence[tuple[Any, ...]],
        children: Sequence[tuple[_Prepared, list[dict[str, Any]]]],
    ) -> str | None:
        """Insert a bulk batch of lead rows, then their children; returns the first id that
        was taken (nothing more is inserted then), else None."""
        statements = self._store._statements
        cursor.execute(
            statements.insert_leads, [list(column) for column in zip(*rows, strict=True)]
        )
        inserted = cursor.fetchall()
        if len(inserted) != len(rows):
            stored = {row[0] for row in inserted}
            return str(next(row[0] for row in rows if row[0] not in stored))
        grouped: dict[_Prepared, list[dict[str, Any]]] = {}
        for statement, values in children:
            grouped.setdefault(statement, []).extend(values)
        for statement, values in grouped.items():
            statement.run_many(conn, values)
        return None

    def _forget_deferred(self) -> None:
        self._deferred = []
        self._deferred_ids = set()
        self._deferred_children = []
        self._id_cursor = None

    def _taken(self, conn: Connection, lead_id: str) -> bool:
        """True when a lead ``lead_id`` is stored or deferred (in the write transaction).

        One driver cursor serves every call until the deferred rows are inserted or
        forgotten: each call reads its one row at once.
        """
        if lead_id in self._deferred_ids:
            return True
        cursor = self._id_cursor
        if cursor is None:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            self._id_cursor = cursor
        sql = self._store._statements.lead_version.sql
        return cursor.execute(sql, (lead_id,)).fetchone() is not None
