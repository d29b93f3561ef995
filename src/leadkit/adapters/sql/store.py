"""``SqlStore``: the SQLAlchemy 2 Core adapter (a SQLite file by default, PostgreSQL by URL).

Transactions
------------
A unit of work holds one pooled connection and runs in one database transaction per commit.

On SQLite the ``sqlite3`` driver's own transaction handling is switched off
(``isolation_level = None`` on every new connection, the recipe of the SQLAlchemy SQLite
documentation) and the adapter emits ``BEGIN`` itself:

- the first read of a unit of work opens a ``BEGIN`` (deferred) read transaction, so the reads
  of a read-only unit of work see one snapshot and never block a writer (WAL);
- the first write opens ``BEGIN IMMEDIATE``, taking the write lock up front (after ending the
  read snapshot, which has written nothing). A deferred transaction that read and then tries
  to write would fail with ``SQLITE_BUSY`` whenever another connection committed in between,
  and no busy timeout cures that; ``BEGIN IMMEDIATE`` waits (up to the busy timeout) instead.
  What was read before the write is protected by the version checks: ``save`` is
  ``UPDATE ... WHERE id = :id AND version = :expected``, and zero rows updated means
  ``ConcurrencyConflict`` (or ``NotFound``) with the version actually stored;
- the writers of one store queue on a lock inside the process before ``BEGIN IMMEDIATE``:
  SQLite's busy handler polls with growing sleeps and can starve a writer under steady
  contention; a queue lets eight threads take turns. Writers in other processes still wait
  through the busy timeout;
- ``commit()`` emits ``COMMIT``, leaving the block without commit emits ``ROLLBACK``.

On other databases SQLAlchemy's own transaction (the driver's ``BEGIN``, READ COMMITTED on
PostgreSQL) serves: the conditional ``UPDATE`` waits for a concurrent writer's row lock and
then re-checks the version, so no update is lost there either.

Key locks
---------
``SqlUnitOfWork.lock_keys`` serialises units of work on named keys (the duplicate check's
blocking keys) until the unit of work ends: on SQLite by beginning the write transaction (one
writer at a time anyway), on PostgreSQL with one transaction-scoped advisory lock per key
(``pg_advisory_xact_lock(KEY_LOCK_CLASS, key_lock_id(key))``, taken in one order). Extensions
that store their own rows with a unit of work (``SqlKeyStore``) use ``SqlUnitOfWork.connection``.

Durability
----------
SQLite runs in WAL mode with ``synchronous = FULL``: every ``COMMIT`` is fsynced before
``commit()`` returns, so a committed unit of work (a qualification that created an account,
a contact and an opportunity) survives a power loss, not just a crash of the process.
``NORMAL`` would be as safe against a crashed process but may lose the last commits on power
loss; the cost of ``FULL`` is one fsync per commit, not per row, so bulk work done in one
unit of work hardly notices it. ``foreign_keys = ON`` makes the child tables cascade;
the busy timeout is :data:`BUSY_TIMEOUT_SECONDS`.

Errors
------
Driver errors never leave the adapter: a taken id is ``AlreadyExists``, a failed version check
``ConcurrencyConflict`` or ``NotFound``, everything else ``StorageUnavailable`` naming the
database (the file path for SQLite), always raised ``from`` the driver error. A file that is
not a database, or is another application's database, is refused when opening.

Speed
-----
The hot paths (``get``, ``add``, ``save``, ``delete``) run Core statements compiled once per
dialect on the connection's driver cursor, skipping SQLAlchemy's per-execution bookkeeping
(about two thirds of its cost per statement); transactions still begin and end through
SQLAlchemy. Queries are built per call from Core constructs and executed normally. One
converter serves every store of the process (building one takes about 0.3 s); its generated
fast path reads and writes lead documents (``leadkit.fastcodec``).

On SQLite, ``add`` of a lead without notes, activities or stakeholders checks the id at once
(a primary-key look-up; the write lock keeps it valid) and queues the row; the queue goes in
with one ``executemany`` per 256 rows, before any other statement of the unit of work and at
commit. SQLite inserts about twice as fast in a run as between bursts of Python work.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import operator
import os
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Generic, NoReturn, Protocol, Self, TypeVar, cast

import attrs
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    Integer,
    Row,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement

from leadkit.adapters import now_or
from leadkit.adapters.sql.privacy import SqlPrivacy
from leadkit.adapters.sql.queries import count_statement, page_statement, read_cursor
from leadkit.adapters.sql.rows import (
    activity_rows,
    customer_kind,
    lead_columns,
    load_opportunity,
    note_rows,
    stakeholder_rows,
    utc_text,
)
from leadkit.adapters.sql.schema import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    accounts,
    contacts,
    current_version,
    idempotency_keys,
    lead_activities,
    lead_columns_at,
    lead_notes,
    lead_stakeholders,
    leads,
    merges,
    migrate,
    opportunities,
    outbox,
    record_merges,
    schema_version,
)
from leadkit.adapters.sql.scores import rescore_page
from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    InvalidValue,
    NotFound,
    RepositoryError,
    StorageUnavailable,
)
from leadkit.events import LeadEvent, LeadScored
from leadkit.fastcodec import compile_evolver
from leadkit.lead import Lead
from leadkit.merging import MergeRecord
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    EventSink,
    IdempotencyRepository,
    LeadQuery,
    LeadRepository,
    MergeRepository,
    OpportunityRepository,
    OutboxBacklog,
    OutboxEvent,
    Page,
    RecordMergeRepository,
    StoredResponse,
    check_batch_size,
    check_bulk_saves,
    check_claim,
    check_expected_version,
    check_key,
    check_limit,
    check_scan_limit,
    checked_record,
    claimable,
    encode_cursor,
)
from leadkit.record_merging import RecordMergeRecord
from leadkit.records import Account, Contact, Opportunity
from leadkit.rescoring import RescoredPage
from leadkit.serialization import LeadkitConverter, make_converter
from leadkit.shards import Shard
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    MergeId,
    OpportunityId,
    RecordId,
    require_aware,
)

__all__ = ["BUSY_TIMEOUT_SECONDS", "KEY_LOCK_CLASS", "POOL_OVERFLOW", "POOL_SIZE",
           "SqlIdempotencyRepository", "SqlLeadRepository", "SqlOutbox", "SqlRecordRepository",
           "SqlStore", "SqlUnitOfWork", "key_lock_id"]  # fmt: skip

BUSY_TIMEOUT_SECONDS: Final = 5.0
"""How long a writer waits by default for another connection's lock (SQLite's write lock, a
PostgreSQL row lock), and a server connection for the pool or the server."""

POOL_SIZE: Final = 5
"""Connections a server store keeps open (``pool_size`` of :meth:`SqlStore.open`)."""

POOL_OVERFLOW: Final = 10
"""Connections a server store opens beyond :data:`POOL_SIZE` under load."""

_CONFLICT_STATES: Final = frozenset({"40001", "40P01"})
"""SQLSTATEs of a serialization failure and a deadlock: the transaction lost a race."""

_LOCK_TIMEOUT_STATE: Final = "55P03"


def _server_settings(url: URL, busy_timeout: float, *, read_only: bool = False) -> dict[str, Any]:
    """The driver's connect arguments for a server: the lock timeout (``busy_timeout``, added
    to the URL's own ``options``), read-only transactions for a read-only store, and a
    connect timeout unless the URL sets one."""
    options = str(url.query.get("options", ""))
    args: dict[str, Any] = {}
    extra = []
    if "lock_timeout" not in options:
        extra.append(f"-c lock_timeout={max(1, int(busy_timeout * 1000))}")
    if read_only:
        extra.append("-c default_transaction_read_only=on")
    if extra:
        args["options"] = " ".join([options, *extra]).strip()
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = max(1, round(busy_timeout))
    return args


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error (wrapped by SQLAlchemy or not), None when it has none."""
    code = getattr(getattr(error, "orig", None) or error, "sqlstate", None)
    return code if isinstance(code, str) else None


KEY_LOCK_CLASS: Final = 0x4C4B
"""The first key of the PostgreSQL advisory locks :meth:`SqlUnitOfWork.lock_keys` takes (the
second is :func:`key_lock_id` of the key)."""

_READ: Final = "read"
_WRITE: Final = "write"


def _sqlite_configurer(
    busy_timeout: float, *, read_only: bool = False
) -> Callable[[Any, Any], None]:
    """The ``connect`` hook of a SQLite engine: no driver-managed transactions (we emit
    ``BEGIN`` ourselves), cascading foreign keys, fsync on commit, the busy timeout; a
    read-only store's connections refuse every write (``query_only``)."""

    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA secure_delete = ON")  # freed space is zeroed (erasure)
            if read_only:
                cursor.execute("PRAGMA query_only = ON")
        finally:
            cursor.close()

    return configure


def key_lock_id(key: str) -> int:
    """The 32-bit signed number standing for ``key`` in an advisory lock (two keys may share
    one: they are then serialised together, which is safe)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Prepared:
    """A Core statement compiled once for a dialect and run on the connection's driver
    cursor: the hot paths skip SQLAlchemy's per-execution work (the statement is still
    built and compiled by Core, and transactions still begin and end through SQLAlchemy)."""

    def __init__(
        self, stmt: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None = None
    ) -> None:
        compiled = cast(
            SQLCompiler,
            stmt.compile(
                dialect=dialect, column_keys=list(column_keys) if column_keys is not None else None
            ),
        )
        self.sql: Final = str(compiled)
        self._positional = bool(compiled.positional)
        self._names: tuple[str, ...] = tuple(
            compiled.positiontup if compiled.positional and compiled.positiontup else ()
        )
        # itemgetter picks the parameters in C; with one name it gives a bare value.
        pick = operator.itemgetter(*self._names) if len(self._names) > 1 else None
        self._pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = pick
        self._only = self._names[0] if len(self._names) == 1 else None

    def bind(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver parameters for ``values`` (keyed by bind name)."""
        if self._positional:
            if self._pick is not None:
                return self._pick(values)
            if self._only is not None:
                return (values[self._only],)
            return ()
        return dict(values)

    def run(self, conn: Connection, values: Mapping[str, Any]) -> _Result:
        """Execute once on the connection's driver cursor."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self.bind(values))
        return _Result(cursor)

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row (``executemany``); nothing for no rows."""
        if len(rows) == 1:
            self.run(conn, rows[0])
        elif rows:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(self.sql, [self.bind(row) for row in rows])


class _Result:
    """What the hot paths read from a driver cursor."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def first(self) -> Any:
        return self._cursor.fetchone()

    def scalar(self) -> Any:
        row = self._cursor.fetchone()
        return None if row is None else row[0]


def _columns(table: Table, *, without: tuple[str, ...] = ()) -> list[str]:
    return [c.key for c in table.c if c.key not in without]


@attrs.frozen
class _RecordStatements:
    columns: tuple[str, ...]
    get: _Prepared
    version: _Prepared
    insert: _Prepared
    update: _Prepared
    delete: _Prepared
    delete_versioned: _Prepared


class _Statements:
    """Every fixed statement of the adapter, compiled for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        key: BindParameter[Any] = bindparam("key")

        def prepared(stmt: ClauseElement, columns: Sequence[str] | None = None) -> _Prepared:
            return _Prepared(stmt, dialect, columns)

        def insert_new(table: Table) -> _Prepared:
            """``INSERT``; on PostgreSQL ``ON CONFLICT (id) DO NOTHING``, so that a taken id
            inserts no row (``rowcount`` 0) instead of aborting the transaction."""
            if dialect.name == "postgresql":
                stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=["id"])
                return prepared(stmt, _columns(table))
            return prepared(insert(table), _columns(table))

        self.skips_taken_ids = dialect.name == "postgresql"
        self.lead_columns = tuple(_columns(leads))
        quote = dialect.identifier_preparer.quote
        arrays = ", ".join(
            "%b::bigint[]" if isinstance(leads.c[c].type, Integer) else "%b::text[]"
            for c in self.lead_columns
        )
        self.insert_leads = (
            f"INSERT INTO {quote(leads.name)} ({', '.join(quote(c) for c in self.lead_columns)}) "
            f"SELECT * FROM unnest({arrays}) ON CONFLICT (id) DO NOTHING RETURNING id"
        )
        """Insert lead rows given column by column (one array per column), skipping taken
        ids and returning the ids inserted (PostgreSQL): one short statement for any number
        of rows, prepared once by the driver."""
        self.pick_lead = operator.itemgetter(*self.lead_columns)

        self.get_lead = prepared(
            select(leads.c.id, leads.c.version, leads.c.document).where(leads.c.id == key)
        )
        self.lead_version = prepared(select(leads.c.version).where(leads.c.id == key))
        self.insert_lead = insert_new(leads)
        self.update_lead = prepared(
            update(leads).where(leads.c.id == key, leads.c.version == bindparam("expected")),
            _columns(leads, without=("id",)),
        )
        self.delete_lead = prepared(delete(leads).where(leads.c.id == key))
        self.delete_lead_versioned = prepared(
            delete(leads).where(leads.c.id == key, leads.c.version == bindparam("expected"))
        )
        self.children = tuple(
            (
                prepared(insert(table), _columns(table)),
                prepared(delete(table).where(table.c.lead_id == key)),
            )
            for table in (lead_notes, lead_activities, lead_stakeholders)
        )
        outbox_columns = ["event_id", "lead_id", "type", "payload", "occurred_at", "attempts"]
        self.insert_outbox = prepared(insert(outbox), outbox_columns)
        # PostgreSQL: every event of a commit in one statement, one array per column; the
        # positions are drawn in the events' order (ORDER BY the arrays' ordinality).
        names = ", ".join(quote(c) for c in outbox_columns)
        self.insert_outbox_arrays = (
            f"INSERT INTO {quote(outbox.name)} ({names}) SELECT {names} FROM unnest("
            "%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::bigint[]) "
            f"WITH ORDINALITY AS events ({names}, n) ORDER BY n"
        )
        self.records = {
            table.name: _RecordStatements(
                columns=tuple(c.key for c in table.c),
                get=prepared(select(*table.c).where(table.c.id == key)),
                version=prepared(select(table.c.version).where(table.c.id == key)),
                insert=insert_new(table),
                update=prepared(
                    update(table).where(
                        table.c.id == key, table.c.version == bindparam("expected")
                    ),
                    _columns(table, without=("id",)),
                ),
                delete=prepared(delete(table).where(table.c.id == key)),
                delete_versioned=prepared(
                    delete(table).where(table.c.id == key, table.c.version == bindparam("expected"))
                ),
            )
            for table in (accounts, contacts, opportunities, merges, record_merges)
        }


_shared: dict[tuple[object, ...], _Statements] = {}
_shared_lock: Final = threading.Lock()


def _statements_for(dialect: Dialect) -> _Statements:
    """The statements compiled for ``dialect``, shared by every store on such a dialect."""
    key = (type(dialect), dialect.paramstyle, dialect.server_version_info)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = _Statements(dialect)
        return found


@functools.cache
def _converter() -> LeadkitConverter:
    """One converter for every store of the process: building one generates code for every
    leadkit type (about 0.3 s), and a built converter is safe to share between threads."""
    return make_converter()


class SqlStore:
    """A leadkit store in a SQL database. Build it with :meth:`SqlStore.open`.

    Thread-safe: every unit of work checks out its own connection from the engine's pool.
    A unit of work itself belongs to one thread.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        where: str,
        path: Path | None,
        event_sink: EventSink | None,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        """Use :meth:`open`; this wraps an engine that is already configured."""
        self._engine = engine
        self._where = where
        self._path = path
        self._event_sink = event_sink
        self._closed = False
        self._busy_timeout = busy_timeout
        self._write_lock = threading.Lock()
        self._sqlite = engine.dialect.name == "sqlite"
        self._converter = _converter()
        self._statements = _statements_for(engine.dialect)
        dbapi = engine.dialect.loaded_dbapi
        self._driver_errors: tuple[type[BaseException], ...] = (
            SQLAlchemyError,
            *((dbapi.Error,) if dbapi is not None and hasattr(dbapi, "Error") else ()),
        )
        self._integrity_errors: tuple[type[BaseException], ...] = (
            IntegrityError,
            *(
                (dbapi.IntegrityError,)
                if dbapi is not None and hasattr(dbapi, "IntegrityError")
                else ()
            ),
        )
        self._schema_version = 0
        self._secret: str | None = None  # the URL's password, kept out of every message

    # -----------------------------------------------------------------------------------------
    # Opening and closing

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        event_sink: EventSink | None = None,
        create: bool = True,
        migrate: bool | None = None,
        read_only: bool = False,
        verify: bool = False,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
        pool_size: int = POOL_SIZE,
        max_overflow: int = POOL_OVERFLOW,
    ) -> SqlStore:
        """Open the store at a SQLAlchemy ``url`` or at a SQLite file ``path``; give exactly
        one.

        What opening may change: with ``create`` (the default) an empty database gets the
        schema, an older schema is migrated (``migrate``, default: ``create``) and a SQLite
        file is switched to WAL. With ``create=False`` opening changes nothing: an older
        schema is refused unless ``migrate=True``, the journal mode is left as it is.
        ``read_only=True`` opens for reading only: nothing is created, migrated or switched,
        and every write (a unit of work's commit of a change, the outbox, the keys) raises
        StorageUnavailable (SQLite ``query_only``; PostgreSQL read-only transactions).
        ``verify=True`` checks the database's integrity first (SQLite ``PRAGMA quick_check``,
        which reads every page: about a second per few hundred MB; PostgreSQL reads every
        leadkit table, which finds pages the server's checksums reject). Before it migrates an
        existing SQLite file, opening always runs the quick check.

        ``event_sink`` receives the events of every committed unit of work; a writer waits up
        to ``busy_timeout`` seconds for another connection's lock (SQLite's write lock, a
        PostgreSQL row lock: ``lock_timeout``). On a server (``postgresql+psycopg://...``) the
        engine keeps up to ``pool_size`` connections (``max_overflow`` more under load, a unit
        of work waits ``busy_timeout`` for one), pings each before use (a connection the server
        dropped is replaced), and connecting gives up after ``busy_timeout`` (at least 1 s)
        unless the URL sets ``connect_timeout``. Raises
        InvalidValue for a malformed URL or an in-memory SQLite URL (use ``MemoryStore``),
        StorageUnavailable naming the database when it cannot be used: a missing file with
        ``create=False``, a file that is not a database or belongs to another application,
        a schema newer than this leadkit, an older schema with ``migrate`` false, a damaged
        database (``verify``, or before a migration), a driver that is not installed, a server
        that cannot be reached (named by its URL without the password). Raises InvalidValue
        for ``migrate=True`` with ``read_only`` (a read-only open ignores ``create``).
        """
        if read_only and migrate:
            raise InvalidValue("migrate", migrate, "a read-only store cannot migrate its schema")
        if read_only:
            create = migrate = False
        elif migrate is None:
            migrate = create
        if (url is None) == (path is None):
            raise InvalidValue(
                "url", url, "give either a SQLAlchemy URL or a path to a SQLite file"
            )
        sa_url = cls._parse_url(url) if url is not None else cls._file_url(path)
        if pool_size < 1:
            raise InvalidValue("pool_size", pool_size, "a store needs at least 1 connection")
        if max_overflow < 0:
            raise InvalidValue("max_overflow", max_overflow, "must be 0 or more")
        file: Path | None = None
        secret: str | None = None
        if sa_url.get_backend_name() == "sqlite":
            database = sa_url.database or ""
            if database in ("", ":memory:") or sa_url.query.get("mode") == "memory":
                raise InvalidValue(
                    "url", url or path, "an in-memory SQLite database is not supported; "
                    "use leadkit.adapters.memory.MemoryStore or a file"
                )  # fmt: skip
            file = Path(os.path.abspath(database))
            if not sa_url.query.get("uri"):  # a later chdir must not move the store
                sa_url = sa_url.set(database=str(file))
            where = f"SQLite database {file}"
            if not create and not file.exists():
                raise StorageUnavailable(f"no leadkit database at {file}: the file does not exist")
        else:
            where = f"database {sa_url.render_as_string(hide_password=True)}"
            secret = sa_url.password
        try:
            if file is not None:
                engine = create_engine(sa_url, connect_args={"timeout": busy_timeout})
            else:
                engine = create_engine(
                    sa_url,
                    pool_pre_ping=True,
                    pool_size=pool_size,
                    max_overflow=max_overflow,
                    pool_timeout=busy_timeout,
                    connect_args=_server_settings(sa_url, busy_timeout, read_only=read_only),
                )
        except (ArgumentError, NoSuchModuleError) as e:
            raise InvalidValue("url", url, f"not a usable SQLAlchemy URL ({e})") from None
        except ImportError as e:
            raise StorageUnavailable(f"the driver for {where} is not installed: {e}") from e
        if file is not None:
            event.listen(engine, "connect", _sqlite_configurer(busy_timeout, read_only=read_only))
        store = cls(
            engine, where=where, path=file, event_sink=event_sink, busy_timeout=busy_timeout
        )
        store._secret = str(secret) if secret else None
        try:
            store._prepare(create=create, migrate=migrate, verify=verify)
        except BaseException:
            engine.dispose()
            raise
        return store

    @staticmethod
    def _parse_url(url: str) -> URL:
        try:
            return make_url(url)
        except ArgumentError as e:
            raise InvalidValue("url", url, f"not a SQLAlchemy URL ({e})") from None

    @staticmethod
    def _file_url(path: str | os.PathLike[str] | None) -> URL:
        assert path is not None
        return URL.create("sqlite+pysqlite", database=os.fspath(path))

    def _prepare(self, *, create: bool, migrate: bool, verify: bool) -> None:
        """Check that the database is ours, then create or migrate its schema.

        SQLite answers "database is locked" at once, without the busy handler, when several
        processes switch a new file to WAL together; that is retried for up to 10 s.
        """
        deadline = time.monotonic() + 10.0
        delay = 0.01
        while True:
            try:
                self._prepare_once(create=create, migrate=migrate, verify=verify)
                return
            except StorageUnavailable as e:
                cause = str(e.__cause__ or "")
                if not self._sqlite or "locked" not in cause or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _prepare_once(self, *, create: bool, migrate: bool, verify: bool) -> None:
        try:
            with self._engine.connect() as conn:
                found = self._inspect(conn)
                if found is None and not create:
                    raise StorageUnavailable(
                        f"{self._where} holds no leadkit schema (open with create=True)"
                    )
                if found is not None and found != SCHEMA_VERSION and not migrate:
                    raise StorageUnavailable(
                        f"{self._where} has schema version {found} and this leadkit uses "
                        f"{SCHEMA_VERSION}: open it with create=True or migrate=True "
                        "(the command line: leadkit init) to migrate it"
                    )
                if verify or (found is not None and found != SCHEMA_VERSION and self._sqlite):
                    self._verify(conn)
                if self._sqlite and create:
                    conn.rollback()
                    mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                    if str(mode).lower() != "wal":
                        conn.exec_driver_sql("PRAGMA journal_mode = WAL")
                if found != SCHEMA_VERSION:
                    self._migrate(conn)
                self._schema_version = current_version(conn)
                conn.rollback()
        except RepositoryError:
            raise
        except self._driver_errors as e:
            raise self._unavailable("opening", e) from e

    def _verify(self, conn: Connection) -> None:
        """Raise StorageUnavailable when the database is damaged (see :meth:`open`)."""
        if self._sqlite:
            try:
                found = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(5)")]
            except self._driver_errors as e:
                found = [str(getattr(e, "orig", None) or e)]
            if found != ["ok"]:
                raise StorageUnavailable(
                    f"{self._where} is damaged (integrity check: {'; '.join(found)}); "
                    "restore it from a backup"
                )
        else:
            for table in sorted(inspect(conn).get_table_names()):
                conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar()
        conn.rollback()

    def _inspect(self, conn: Connection) -> int | None:
        """The schema version of the database, None when it is empty.

        Raises StorageUnavailable for a file that is not ours or written by a newer leadkit.
        """
        foreign = f"{self._where} is not a leadkit database"
        if self._sqlite:
            app_id = conn.exec_driver_sql("PRAGMA application_id").scalar()
            if app_id not in (0, APPLICATION_ID):
                raise StorageUnavailable(f"{foreign} (it belongs to application id {app_id})")
        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        if schema_version.name not in tables:
            if tables:
                listed = ", ".join(sorted(tables)[:5])
                raise StorageUnavailable(f"{foreign}: it holds other tables ({listed})")
            return None
        columns = {c["name"] for c in inspector.get_columns(schema_version.name)}
        if not {"version", "description", "applied_at"} <= columns:
            raise StorageUnavailable(f"{foreign}: its schema_version table is not leadkit's")
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise StorageUnavailable(
                f"{self._where} has schema version {version}, written by a newer leadkit "
                f"(this one knows up to {SCHEMA_VERSION}); upgrade leadkit"
            )
        if version >= 1:
            have = (
                {c["name"] for c in inspector.get_columns(leads.name)}
                if "leads" in tables
                else set()
            )
            missing = lead_columns_at(version) - have  # later columns come by migration
            if missing:
                raise StorageUnavailable(
                    f"{foreign}: its leads table lacks {', '.join(sorted(missing))}"
                )
        return version

    def _migrate(self, conn: Connection) -> None:
        """Migrate under a lock: SQLite's write lock, elsewhere an advisory lock (PostgreSQL)
        held until the migration commits, so that of several processes opening a new
        database at once one migrates and the others find the work done."""
        conn.rollback()
        if self._sqlite:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL lock_timeout = '60s'")  # a long backfill
            conn.execute(select(func.pg_advisory_xact_lock(APPLICATION_ID)))
        # Another process may have migrated while we looked; check again under the lock.
        if self._inspect(conn) != SCHEMA_VERSION:
            migrate(conn)
        conn.commit()

    @property
    def outbox(self) -> SqlOutbox:
        """The outbox: every committed event, for publishers to claim and ack (see
        :class:`leadkit.ports.Outbox`)."""
        return SqlOutbox(self)

    @property
    def schema_version(self) -> int:
        """The schema version of the database (equal to ``schema.SCHEMA_VERSION``)."""
        return self._schema_version

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a database server."""
        return self._path

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine of the store (share it with ``SqlKeyStore``, say)."""
        return self._engine

    def close(self) -> None:
        """Release the connections; later use raises StorageUnavailable."""
        self._closed = True
        try:
            self._engine.dispose()
        except self._driver_errors as e:
            self._fail("closing", e)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlStore({self._where}{', closed' if self._closed else ''})"

    # -----------------------------------------------------------------------------------------
    # Units of work

    def unit_of_work(self, *, bulk: bool = False) -> SqlUnitOfWork:
        """A new unit of work. Raises StorageUnavailable after :meth:`close`.

        With ``bulk`` (for loading many new leads on a server) ``add`` queues new leads and
        inserts them a batch at a time, their notes, activities and stakeholders with them:
        an id taken in the database is then found when the batch goes in (at a later
        ``add``, any other use of the unit of work, or ``commit``), and that call rolls the
        whole unit of work back and raises AlreadyExists naming the id, so nothing of it is
        stored. An id added twice in one batch is refused by the second ``add`` at once.
        On SQLite ``bulk`` changes nothing: ids are checked at once there anyway.
        """
        self._check_open()
        return SqlUnitOfWork(self, bulk=bulk)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageUnavailable(f"the store for {self._where} is closed")

    def _unavailable(self, action: str, error: BaseException) -> StorageUnavailable:
        reason = str(getattr(error, "orig", None) or error).strip()
        if _sqlstate(error) == _LOCK_TIMEOUT_STATE:
            reason = (
                f"another unit of work kept a lock longer than {self._busy_timeout:g} s "
                f"(busy_timeout): {reason}"
            )
        message = f"{action} failed on {self._where}: {reason}"
        if self._secret:
            message = message.replace(self._secret, "***")
        return StorageUnavailable(message)

    def _fail(self, action: str, error: BaseException) -> NoReturn:
        raise self._unavailable(action, error) from error


class SqlUnitOfWork:
    """One transaction on one pooled connection; see the module docstring.

    ``commit()`` stores every change or none and then hands the collected events to the
    store's event sink; leaving the ``with`` block without commit rolls back.

    On SQLite, new leads without notes, activities or stakeholders are inserted in batches
    (see "Speed" in the module docstring): ``add`` checks the id at once, under the write
    lock, and the rows go in before any other statement of the unit of work, at the latest
    at commit. Should a batch fail in the database, the whole transaction is rolled back and
    StorageUnavailable raised, so no lead that ``add`` accepted is silently missing.
    """

    def __init__(self, store: SqlStore, *, bulk: bool = False) -> None:
        self._store = store
        self._bulk = bulk and not store._sqlite and store._statements.skips_taken_ids
        self._conn: Connection | None = None
        self._phase: str | None = None
        self._holds_lock = False
        self._finished = False
        self._events: list[LeadEvent] = []
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
        if events and store._event_sink is not None:
            store._event_sink(events)

    def rollback(self) -> None:
        """Forget every change made since the last commit.

        Raises StorageUnavailable when the database fails to roll back; not when the
        connection was lost (the server has forgotten the changes then already).
        """
        self._events = []
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

    def _record(self, events: Sequence[LeadEvent]) -> None:
        self._events.extend(events)

    def _write_outbox(self, conn: Connection) -> None:
        """Insert the collected events into the outbox, in the transaction about to commit
        (after every other write, so a later commit touching the same lead gets later
        positions: it waited for this one's row locks)."""
        if not self._events:
            return
        dumps = self._store._converter.dumps
        commit_id = uuid.uuid4().hex  # one draw per commit; the index makes each id unique
        statements = self._store._statements
        if statements.skips_taken_ids and len(self._events) > 1:  # PostgreSQL: one statement
            events = self._events
            columns = (
                [f"{commit_id}-{n}" for n in range(len(events))],
                [e.lead_id.value for e in events],
                [e.type for e in events],
                [dumps(e) for e in events],
                [utc_text(e.at) for e in events],
                [0] * len(events),
            )
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(statements.insert_outbox_arrays, columns)
            return
        rows = [
            {
                "event_id": f"{commit_id}-{n}",
                "lead_id": e.lead_id.value,
                "type": e.type,
                "payload": dumps(e),
                "occurred_at": utc_text(e.at),
                "attempts": 0,
            }
            for n, e in enumerate(self._events)
        ]
        self._store._statements.insert_outbox.run_many(conn, rows)

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


# ---------------------------------------------------------------------------------------------
# Leads

_stored_lead: Final = compile_evolver(Lead, "version", "pending_events")
"""``attrs.evolve(lead, version=..., pending_events=...)``, generated (half the time)."""

_DEFERRED_ROWS: Final = 256
"""New lead rows a SQLite unit of work collects before inserting them in one go."""

_BULK_ROWS: Final = 500
"""Ids per ``IN`` list of the bulk reads and version checks (below every engine's limit on
bound parameters)."""

_GET_MANY: Final = select(leads.c.id, leads.c.version, leads.c.document).where(
    leads.c.id.in_(bindparam("ids", expanding=True))
)
_VERSIONS_MANY: Final = select(leads.c.id, leads.c.version).where(
    leads.c.id.in_(bindparam("ids", expanding=True))
)
_LOCK_MANY: Final = _VERSIONS_MANY.order_by(leads.c.id).with_for_update()
"""The versions, row-locked in id order until the transaction ends (on a server: a
concurrent writer of one of the leads waits, and two bulk saves cannot deadlock)."""
_BULK_INSERT_ROWS: Final = 1000
"""New lead rows a bulk unit of work on a server sends in one ``INSERT`` (one array per
column)."""


class SqlLeadRepository(_Rows):
    """:class:`~leadkit.ports.LeadRepository` over the ``leads`` table and its children."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        self._store = uow._store
        self._sql = uow._store._statements

    def get(self, lead_id: LeadId) -> Lead:
        """The stored lead (no pending events). Raises NotFound, InvalidValue for a key that
        is not a LeadId."""
        check_key("lead", lead_id)
        store = self._store
        try:
            row = self._sql.get_lead.run(self._uow._reader(), {"key": lead_id.value}).first()
        except store._driver_errors as e:
            store._fail(f"reading lead {lead_id}", e)
        if row is None:
            raise NotFound("lead", lead_id)
        return self._decode(row[0], row[1], row[2])

    def add(self, lead: Lead) -> Lead:
        """Store a new lead (version 0); returns it with version 1 and no pending events.

        Raises AlreadyExists when the id is taken, InvalidValue for another version,
        StorageUnavailable when the database fails. On SQLite the row may go in with a later
        batch (see :class:`SqlUnitOfWork`): should that fail, the call inserting the batch
        (at the latest ``commit``) raises StorageUnavailable and the unit of work is rolled back.
        """
        checked_record("lead", lead)
        if lead.version != 0:
            raise InvalidValue(
                "version", lead.version, "a new lead has version 0 (save a stored lead instead)"
            )
        stored = _stored_lead(lead, 1, ())
        values = self._row(stored)
        store = self._store
        uow = self._uow
        if uow._bulk:
            key = lead.id.value
            if key in uow._deferred_ids:
                raise AlreadyExists("lead", lead.id)
            uow._writer(flush=False)
            uow._defer(key, self._sql.pick_lead(values), self._child_rows(stored))
            uow._record(lead.pending_events)
            return stored
        defer = store._sqlite and not (stored.notes or stored.activities or stored.stakeholders)
        conn = uow._writer(flush=not defer)
        try:
            if defer:
                # Under SQLite's write lock no one else inserts, so the id checked free here
                # is still free when the batch goes in (SqlUnitOfWork._flush).
                key = lead.id.value
                if uow._taken(conn, key):
                    raise AlreadyExists("lead", lead.id)
                uow._defer(key, self._sql.insert_lead.bind(values))
            else:
                self._insert_new(conn, self._sql.insert_lead, values, "lead", lead.id)
                self._insert_children(conn, stored)
        except store._driver_errors as e:
            self._write_failed(e, f"adding lead {lead.id}", lead.id, 0)
        uow._record(lead.pending_events)
        return stored

    def save(self, lead: Lead, *, expected_version: int | None = None) -> Lead:
        """Store ``lead`` if the stored version equals ``lead.version`` (and
        ``expected_version``, when given); returns the stored copy (version + 1, no pending
        events).

        Raises ConcurrencyConflict (expected and actual versions) or NotFound; InvalidValue
        for an ``expected_version`` that is not an integer.
        """
        checked_record("lead", lead)
        check_expected_version(lead, expected_version, lambda: self.get(lead.id).version)
        stored = _stored_lead(lead, lead.version + 1, ())
        values = self._row(stored)
        values["key"] = lead.id.value
        values["expected"] = lead.version
        store = self._store
        conn = self._uow._writer()
        try:
            updated = self._sql.update_lead.run(conn, values).rowcount
            self._require_one(conn, updated, "lead", lead.id, lead.version)
            key = {"key": lead.id.value}
            for _, remove in self._sql.children:
                remove.run(conn, key)
            self._insert_children(conn, stored)
        except store._driver_errors as e:
            self._write_failed(e, f"saving lead {lead.id}", lead.id, lead.version)
        self._uow._record(lead.pending_events)
        return stored

    def delete(self, lead_id: LeadId, *, expected_version: int | None = None) -> None:
        """Remove the lead; its notes, activities and stakeholder rows go with it (cascade).

        Raises NotFound, or ConcurrencyConflict when ``expected_version`` differs,
        InvalidValue for a key that is not a LeadId.
        """
        check_key("lead", lead_id)
        store = self._store
        conn = self._uow._writer()
        try:
            self._delete_one(
                conn,
                self._sql.delete_lead,
                self._sql.delete_lead_versioned,
                "lead",
                lead_id,
                expected_version,
            )
        except store._driver_errors as e:
            self._write_failed(e, f"deleting lead {lead_id}", lead_id, expected_version or 0)

    def get_many(self, lead_ids: Iterable[LeadId]) -> dict[LeadId, Lead]:
        """The stored leads among ``lead_ids`` by id (missing ones left out), read
        :data:`_BULK_ROWS` at a time. Raises InvalidValue for a key that is not a LeadId."""
        wanted: dict[str, LeadId] = {}
        for lead_id in lead_ids:
            check_key("lead", lead_id)
            wanted.setdefault(lead_id.value, lead_id)
        keys = list(wanted)
        found: dict[LeadId, Lead] = {}
        store = self._store
        for start in range(0, len(keys), _BULK_ROWS):
            chunk = keys[start : start + _BULK_ROWS]
            try:
                rows = self._uow._reader().execute(_GET_MANY, {"ids": chunk}).all()
            except store._driver_errors as e:
                store._fail(f"reading {len(chunk)} leads", e)
            by_id = {row[0]: row for row in rows}
            for key in chunk:  # in the order asked
                row = by_id.get(key)
                if row is not None:
                    found[wanted[key]] = self._decode(row[0], row[1], row[2])
        return found

    def save_many(self, leads: Sequence[Lead]) -> tuple[Lead, ...]:
        """``save`` of every lead, all or none: the stored versions are read (and on a server
        locked, in id order) first; a lead whose version differs raises ConcurrencyConflict
        (NotFound for one not stored) before anything is written. Then one ``executemany``
        updates the rows by primary key and version, the child rows are replaced.

        Raises ConcurrencyConflict, NotFound, InvalidValue (not a Lead, a lead listed twice,
        text that cannot be stored), StorageUnavailable.
        """
        batch = tuple(leads)
        check_bulk_saves(batch)
        if not batch:
            return ()
        stored = tuple(_stored_lead(lead, lead.version + 1, ()) for lead in batch)
        rows = []
        for lead, copy in zip(batch, stored, strict=True):
            values = self._row(copy)
            values["key"] = lead.id.value
            values["expected"] = lead.version
            rows.append(values)
        store = self._store
        uow = self._uow
        conn = uow._writer()
        keys = [lead.id.value for lead in batch]
        try:
            versions: dict[str, object] = {}
            statement = _LOCK_MANY if not store._sqlite else _VERSIONS_MANY
            for start in range(0, len(keys), _BULK_ROWS):
                chunk = sorted(keys[start : start + _BULK_ROWS])
                for key, version in conn.execute(statement, {"ids": chunk}):
                    versions[key] = version
            for lead in batch:
                found = versions.get(lead.id.value)
                if found is None:
                    raise NotFound("lead", lead.id)
                actual = _version_number(found, "lead", lead.id)
                if actual != lead.version:
                    raise ConcurrencyConflict(lead.id, lead.version, actual)
            self._sql.update_lead.run_many(conn, rows)
            ids = [{"key": key} for key in keys]
            for _, remove in self._sql.children:
                remove.run_many(conn, ids)
            for copy in stored:
                if copy.notes or copy.activities or copy.stakeholders:
                    self._insert_children(conn, copy)
        except store._driver_errors as e:
            first = batch[0]
            self._write_failed(e, f"saving {len(batch)} leads", first.id, first.version)
        for lead in batch:
            uow._record(lead.pending_events)
        return stored

    def scan(
        self,
        query: LeadQuery | None = None,
        *,
        limit: int = 500,
        after: str | None = None,
        shard: Shard | None = None,
    ) -> Page:
        """The next ``limit`` matching leads from ``after`` on, only those in ``shard``
        decoded and returned (see :class:`~leadkit.ports.BulkLeadRepository`). Raises
        InvalidValue for a limit outside 1..100,000 or a foreign cursor."""
        check_scan_limit(limit)
        query = LeadQuery() if query is None else query
        position = read_cursor(after, query) if after is not None else None
        rows = self._fetch(query, limit + 1, position)
        more = len(rows) > limit
        rows = rows[:limit]
        items = tuple(
            self._decode(r[0], r[1], r[2]) for r in rows if shard is None or shard.contains(r[0])
        )
        cursor = (
            encode_cursor(query.sort, query.descending, (rows[-1][3], rows[-1][0]))
            if more
            else None
        )
        return Page(items, cursor)

    def rescore_page(
        self,
        query: LeadQuery,
        *,
        limit: int,
        after: str | None,
        shard: Shard | None,
        rescore: Callable[[Lead], LeadScored | None],
    ) -> RescoredPage:
        """See :meth:`leadkit.rescoring.RescoringRepository.rescore_page` (one ``UPDATE`` of
        the score columns per page: :mod:`leadkit.adapters.sql.scores`)."""
        return rescore_page(self, query, limit=limit, after=after, shard=shard, rescore=rescore)

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        """One page of matching leads in the query's order (keyset pagination).

        Raises InvalidValue for ``limit`` outside 1..1000 or a foreign cursor.
        """
        check_limit(limit)
        position = read_cursor(after, query) if after is not None else None
        rows = self._fetch(query, limit + 1, position)
        more = len(rows) > limit
        rows = rows[:limit]
        items = tuple(self._decode(r[0], r[1], r[2]) for r in rows)
        cursor = (
            encode_cursor(query.sort, query.descending, (rows[-1][3], rows[-1][0]))
            if more
            else None
        )
        return Page(items, cursor)

    def count(self, query: LeadQuery) -> int:
        """How many leads match ``query``."""
        store = self._store
        try:
            return self._uow._reader().execute(count_statement(query)).scalar_one()
        except store._driver_errors as e:
            store._fail("counting leads", e)

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        """Every matching lead in the query's order, read ``batch_size`` rows at a time
        (keyset, so memory stays constant). Raises InvalidValue for a batch size below 1."""
        check_batch_size(batch_size)
        return self._scan(query if query is not None else LeadQuery(), batch_size)

    def _scan(self, query: LeadQuery, batch_size: int) -> Iterator[Lead]:
        position: tuple[str, str] | None = None
        while True:
            rows = self._fetch(query, batch_size, position)
            for row in rows:
                yield self._decode(row[0], row[1], row[2])
            if len(rows) < batch_size:
                return
            position = (rows[-1][3], rows[-1][0])

    def _fetch(
        self, query: LeadQuery, limit: int, position: tuple[str, str] | None
    ) -> Sequence[Row[str, int, str, str]]:
        store = self._store
        try:
            return self._uow._reader().execute(page_statement(query, limit, position)).all()
        except store._driver_errors as e:
            store._fail("querying leads", e)

    def _decode(self, lead_id: str, version: int, document: str) -> Lead:
        store = self._store
        try:
            lead = store._converter.loads(document, Lead)
        except Exception as e:  # InvalidValue, or anything a hand-edited row provokes
            raise StorageUnavailable(
                f"lead {lead_id} in {store._where} has an unreadable document: {e}"
            ) from e
        if type(version) is not int:
            raise StorageUnavailable(
                f"lead {lead_id} in {store._where} has a version that is not an integer: "
                f"{version!r}"
            )
        return lead if lead.version == version else attrs.evolve(lead, version=version)

    def _row(self, stored: Lead) -> dict[str, Any]:
        values = lead_columns(stored)
        values["version"] = stored.version
        values["document"] = _storable(self._store._converter.dumps(stored), "lead", stored.id)
        return values

    def _child_rows(self, lead: Lead) -> list[tuple[_Prepared, list[dict[str, Any]]]]:
        """The child rows of ``lead`` with the statement inserting them."""
        (notes, _), (activities, _), (stakeholders, _) = self._sql.children
        found: list[tuple[_Prepared, list[dict[str, Any]]]] = []
        if lead.notes:
            found.append((notes, note_rows(lead)))
        if lead.activities:
            found.append((activities, activity_rows(lead)))
        if lead.stakeholders:
            found.append((stakeholders, stakeholder_rows(lead)))
        return found

    def _insert_children(self, conn: Connection, lead: Lead) -> None:
        for statement, rows in self._child_rows(lead):
            statement.run_many(conn, rows)

    def _version_of(self, conn: Connection, lead_id: LeadId) -> int | None:
        found = self._sql.lead_version.run(conn, {"key": lead_id.value}).scalar()
        return None if found is None else _version_number(found, "lead", lead_id)


# ---------------------------------------------------------------------------------------------
# Accounts, contacts, opportunities


class _Record(Protocol):
    @property
    def id(self) -> Any: ...

    @property
    def version(self) -> int: ...

    @property
    def originating_lead(self) -> LeadId | None: ...


R = TypeVar("R", bound=_Record)
K = TypeVar("K", bound=RecordId)


@attrs.frozen
class _RecordKind(Generic[R, K]):
    """How one record type is stored."""

    name: str
    table: Table
    extra: Callable[[R], dict[str, Any]]
    load: Callable[[LeadkitConverter, Mapping[Any, Any]], R]


def _plain_loader(kind: type[R]) -> Callable[[LeadkitConverter, Mapping[Any, Any]], R]:
    def load(converter: LeadkitConverter, row: Mapping[Any, Any]) -> R:
        return converter.loads(row["document"], kind)

    return load


def _version_number(found: object, kind: str, key: object) -> int:
    """A stored version as an int; StorageUnavailable naming the row when it is not one."""
    if type(found) is int:
        return found
    raise StorageUnavailable(f"{kind} {key} has a version that is not an integer: {found!r}")


def _no_extra(_record: Any) -> dict[str, Any]:
    return {}


_ACCOUNTS: Final = _RecordKind[Account, AccountId](
    "account", accounts, _no_extra, _plain_loader(Account)
)
_CONTACTS: Final = _RecordKind[Contact, ContactId](
    "contact", contacts, _no_extra, _plain_loader(Contact)
)
_OPPORTUNITIES: Final = _RecordKind[Opportunity, OpportunityId](
    "opportunity",
    opportunities,
    lambda o: {"customer_kind": customer_kind(o)},
    lambda converter, row: load_opportunity(converter, row["document"], row["customer_kind"]),
)
_MERGES: Final = _RecordKind[MergeRecord, MergeId](
    "merge", merges, _no_extra, _plain_loader(MergeRecord)
)
_RECORD_MERGES: Final = _RecordKind[RecordMergeRecord, MergeId](
    "record_merge", record_merges, _no_extra, _plain_loader(RecordMergeRecord)
)


class SqlRecordRepository(_Rows, Generic[R, K]):
    """:class:`~leadkit.ports.RecordRepository` for accounts, contacts or opportunities."""

    def __init__(self, uow: SqlUnitOfWork, kind: _RecordKind[R, K]) -> None:
        self._uow = uow
        self._store = uow._store
        self._kind = kind
        self._sql = uow._store._statements.records[kind.table.name]

    def get(self, record_id: K) -> R:
        """The stored record. Raises NotFound, InvalidValue for a key of another type."""
        check_key(self._kind.name, record_id)
        store = self._store
        try:
            row = self._sql.get.run(self._uow._reader(), {"key": record_id.value}).first()
        except store._driver_errors as e:
            store._fail(f"reading {self._kind.name} {record_id}", e)
        if row is None:
            raise NotFound(self._kind.name, record_id)
        return self._decode(dict(zip(self._sql.columns, row, strict=True)))

    def add(self, record: R) -> R:
        """Store a new record (version 0); returns it with version 1 (InvalidValue for a
        value that is not a record of this kind).

        Raises AlreadyExists, or InvalidValue when its version is not 0.
        """
        checked_record(self._kind.name, record)
        if record.version != 0:
            raise InvalidValue("version", record.version, f"a new {self._kind.name} has version 0")
        stored = attrs.evolve(record, version=1)  # type: ignore[misc]
        values = self._row(stored)
        store = self._store
        conn = self._uow._writer()
        try:
            self._insert_new(conn, self._sql.insert, values, self._kind.name, record.id)
        except store._driver_errors as e:
            self._write_failed(e, f"adding {self._kind.name} {record.id}", record.id, 0)
        return stored

    def save(self, record: R) -> R:
        """Store a changed record if the stored version equals its version; returns it with
        version + 1. Raises ConcurrencyConflict or NotFound; InvalidValue for a value that
        is not a record of this kind."""
        checked_record(self._kind.name, record)
        stored = attrs.evolve(record, version=record.version + 1)  # type: ignore[misc]
        values = self._row(stored)
        values["key"] = record.id.value
        values["expected"] = record.version
        store = self._store
        conn = self._uow._writer()
        try:
            updated = self._sql.update.run(conn, values).rowcount
            self._require_one(conn, updated, self._kind.name, record.id, record.version)
        except store._driver_errors as e:
            action = f"saving {self._kind.name} {record.id}"
            self._write_failed(e, action, record.id, record.version)
        return stored

    def delete(self, record_id: K, *, expected_version: int | None = None) -> None:
        """Remove the record. Raises NotFound or ConcurrencyConflict, InvalidValue for a key
        of another type."""
        check_key(self._kind.name, record_id)
        store = self._store
        conn = self._uow._writer()
        try:
            self._delete_one(
                conn,
                self._sql.delete,
                self._sql.delete_versioned,
                self._kind.name,
                record_id,
                expected_version,
            )
        except store._driver_errors as e:
            action = f"deleting {self._kind.name} {record_id}"
            self._write_failed(e, action, record_id, expected_version or 0)

    def list(self, *, originating_lead: LeadId | None = None) -> Sequence[R]:
        """Every stored record (those created from ``originating_lead`` when given), by id."""
        table = self._kind.table
        stmt = select(*table.c).order_by(table.c.id)
        if originating_lead is not None:
            stmt = stmt.where(table.c.originating_lead == originating_lead.value)
        store = self._store
        try:
            rows = self._uow._reader().execute(stmt).all()
        except store._driver_errors as e:
            store._fail(f"listing {self._kind.name} records", e)
        return tuple(self._decode(row._mapping) for row in rows)

    def _decode(self, row: Mapping[Any, Any]) -> R:
        store = self._store
        try:
            record = self._kind.load(store._converter, row)
        except Exception as e:  # InvalidValue, or anything a hand-edited row provokes
            raise StorageUnavailable(
                f"{self._kind.name} {row['id']} in {store._where} has an unreadable document: {e}"
            ) from e
        _version_number(row["version"], self._kind.name, row["id"])
        if record.version != row["version"]:
            record = attrs.evolve(record, version=row["version"])  # type: ignore[misc]
        return record

    def _row(self, stored: R) -> dict[str, Any]:
        origin = stored.originating_lead
        values: dict[str, Any] = {
            "id": stored.id.value,
            "version": stored.version,
            "originating_lead": None if origin is None else origin.value,
            "document": _storable(self._store._converter.dumps(stored), self._kind.name, stored.id),
        }
        values.update(self._kind.extra(stored))
        return values

    def _version_of(self, conn: Connection, record_id: RecordId) -> int | None:
        found = self._sql.version.run(conn, {"key": record_id.value}).scalar()
        return None if found is None else _version_number(found, self._kind.name, record_id)


# ---------------------------------------------------------------------------------------------
# Idempotency keys and the outbox


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


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
