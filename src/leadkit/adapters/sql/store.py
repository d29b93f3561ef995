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

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Final, NoReturn, Self

from sqlalchemy import URL, Connection, Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from leadkit.adapters.sql.idempotency_keys import SqlIdempotencyRepository
from leadkit.adapters.sql.lead_repository import SqlLeadRepository
from leadkit.adapters.sql.outbox import SqlOutbox
from leadkit.adapters.sql.record_repository import SqlRecordRepository
from leadkit.adapters.sql.schema import (
    APPLICATION_ID,
    DATABASE_SCHEMA_VERSION,
    current_version,
    lead_columns_at,
    leads,
    migrate,
    schema_version,
)
from leadkit.adapters.sql.statements import _converter, _sqlstate, _statements_for
from leadkit.adapters.sql.unit_of_work import KEY_LOCK_CLASS, SqlUnitOfWork, key_lock_id
from leadkit.errors import InvalidValue, RepositoryError, StorageUnavailable
from leadkit.ports import EventSink

__all__ = ["BUSY_TIMEOUT_SECONDS", "KEY_LOCK_CLASS", "POOL_OVERFLOW", "POOL_SIZE",
           "SqlIdempotencyRepository", "SqlLeadRepository", "SqlOutbox", "SqlRecordRepository",
           "SqlStore", "SqlUnitOfWork", "key_lock_id"]  # fmt: skip

BUSY_TIMEOUT_SECONDS: Final = 5.0
"""How long a writer waits by default for another connection's lock (SQLite's write lock, a
PostgreSQL row lock), and a server connection for the pool or the server."""

SQLITE_CACHE_KIB: Final = 65536
"""SQLite's page cache per connection, in KiB (``PRAGMA cache_size``; SQLite's default is
2 MiB). A bulk read or save of leads in a file far larger than the cache touches the
table's and every index's pages all over the file: with the default cache each batch read
the pages again from the file, so a mass edit's time per lead grew with the table."""

POOL_SIZE: Final = 5
"""Connections a server store keeps open (``pool_size`` of :meth:`SqlStore.open`)."""

POOL_OVERFLOW: Final = 10
"""Connections a server store opens beyond :data:`POOL_SIZE` under load."""

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


def _sqlite_configurer(
    busy_timeout: float, *, read_only: bool = False
) -> Callable[[Any, Any], None]:
    """The ``connect`` hook of a SQLite engine: no driver-managed transactions (we emit
    ``BEGIN`` ourselves), cascading foreign keys, fsync on commit, the busy timeout, a page
    cache of :data:`SQLITE_CACHE_KIB`; a read-only store's connections refuse every write
    (``query_only``)."""

    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA secure_delete = ON")  # freed space is zeroed (erasure)
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            if read_only:
                cursor.execute("PRAGMA query_only = ON")
        finally:
            cursor.close()

    return configure


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
        sa_url, file, where, secret = cls._locate(sa_url, url or path, create=create)
        engine = cls._create_engine(
            sa_url,
            url,
            where,
            sqlite=file is not None,
            busy_timeout=busy_timeout,
            pool_size=pool_size,
            max_overflow=max_overflow,
            read_only=read_only,
        )
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
    def _locate(
        sa_url: URL, given: object, *, create: bool
    ) -> tuple[URL, Path | None, str, str | None]:
        """The URL to connect to, the SQLite file (None for a server), the database's name in
        messages and the URL's password (kept out of every message). Raises InvalidValue for
        an in-memory SQLite database, StorageUnavailable for a missing file without
        ``create``."""
        if sa_url.get_backend_name() != "sqlite":
            where = f"database {sa_url.render_as_string(hide_password=True)}"
            return sa_url, None, where, sa_url.password
        database = sa_url.database or ""
        if database in ("", ":memory:") or sa_url.query.get("mode") == "memory":
            raise InvalidValue(
                "url", given, "an in-memory SQLite database is not supported; "
                "use leadkit.adapters.memory.MemoryStore or a file"
            )  # fmt: skip
        file = Path(os.path.abspath(database))
        if not sa_url.query.get("uri"):  # a later chdir must not move the store
            sa_url = sa_url.set(database=str(file))
        if not create and not file.exists():
            raise StorageUnavailable(f"no leadkit database at {file}: the file does not exist")
        return sa_url, file, f"SQLite database {file}", None

    @staticmethod
    def _create_engine(
        sa_url: URL,
        url: str | None,
        where: str,
        *,
        sqlite: bool,
        busy_timeout: float,
        pool_size: int,
        max_overflow: int,
        read_only: bool,
    ) -> Engine:
        """The engine: one for a SQLite file (configured by :func:`_sqlite_configurer` on every
        connection), a pinged pool for a server. Raises InvalidValue
        for a URL SQLAlchemy cannot use, StorageUnavailable when the driver is missing."""
        try:
            if sqlite:
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
        if sqlite:
            event.listen(engine, "connect", _sqlite_configurer(busy_timeout, read_only=read_only))
        return engine

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
                if found is not None and found != DATABASE_SCHEMA_VERSION and not migrate:
                    raise StorageUnavailable(
                        f"{self._where} has schema version {found} and this leadkit uses "
                        f"{DATABASE_SCHEMA_VERSION}: open it with create=True or migrate=True "
                        "(the command line: leadkit init) to migrate it"
                    )
                if verify or (
                    found is not None and found != DATABASE_SCHEMA_VERSION and self._sqlite
                ):
                    self._verify(conn)
                if self._sqlite and create:
                    conn.rollback()
                    mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                    if str(mode).lower() != "wal":
                        conn.exec_driver_sql("PRAGMA journal_mode = WAL")
                if found != DATABASE_SCHEMA_VERSION:
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
            for table in sorted(_table_names(conn)):
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
        tables = _table_names(conn)
        if schema_version.name not in tables:
            if tables:
                listed = ", ".join(sorted(tables)[:5])
                raise StorageUnavailable(f"{foreign}: it holds other tables ({listed})")
            return None
        columns = _column_names(conn, schema_version.name)
        if not {"version", "description", "applied_at"} <= columns:
            raise StorageUnavailable(f"{foreign}: its schema_version table is not leadkit's")
        version = current_version(conn)
        if version > DATABASE_SCHEMA_VERSION:
            raise StorageUnavailable(
                f"{self._where} has schema version {version}, written by a newer leadkit "
                f"(this one knows up to {DATABASE_SCHEMA_VERSION}); upgrade leadkit"
            )
        if version >= 1:
            have = _column_names(conn, leads.name) if "leads" in tables else set()
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
        if self._inspect(conn) != DATABASE_SCHEMA_VERSION:
            migrate(conn)
        conn.commit()

    @property
    def outbox(self) -> SqlOutbox:
        """The outbox: every committed event, for publishers to claim and ack (see
        :class:`leadkit.ports.Outbox`)."""
        return SqlOutbox(self)

    @property
    def schema_version(self) -> int:
        """The schema version of the database (equal to ``schema.DATABASE_SCHEMA_VERSION``)."""
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


# Read straight from the catalogue on SQLite and PostgreSQL, with the queries SQLAlchemy's
# inspector runs (the same tables and columns): reflection compiled them anew for every store
# and was three quarters of the cost of opening one.
_SQLITE_TABLES: Final = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite~_%' ESCAPE '~'"
)
_POSTGRES_TABLES: Final = (
    "SELECT c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' AND n.nspname <> 'pg_catalog' "
    "AND pg_catalog.pg_table_is_visible(c.oid)"
)
_POSTGRES_COLUMNS: Final = text(
    "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass(quote_ident(:t)) "
    "AND attnum > 0 AND NOT attisdropped"
)


def _table_names(conn: Connection) -> set[str]:
    """The tables visible without a schema name (SQLite: of the main database; PostgreSQL: on
    the search path, temporary tables and the system catalogue left out)."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(_SQLITE_TABLES)
    elif conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(_POSTGRES_TABLES)
    else:
        return set(inspect(conn).get_table_names())
    return {str(row[0]) for row in rows}


def _column_names(conn: Connection, table: str) -> set[str]:
    """The column names of ``table`` as :func:`_table_names` finds it."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f'PRAGMA main.table_xinfo("{table}")')
        return {str(row[1]) for row in rows if row[6] != 1}  # 1: a virtual table's hidden column
    if conn.dialect.name == "postgresql":
        return {str(row[0]) for row in conn.execute(_POSTGRES_COLUMNS, {"t": table})}
    return {c["name"] for c in inspect(conn).get_columns(table)}
