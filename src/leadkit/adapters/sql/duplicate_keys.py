"""``SqlKeyStore``: blocking keys in an indexed SQL table (SQLAlchemy 2 Core).

A host that keeps its records in a database keeps their duplicate keys there too, so that it
does not rebuild the index in memory at every start-up::

    engine = create_engine("sqlite+pysqlite:///crm.db")       # or the SqlStore's engine
    keys = SqlKeyStore(engine)                                 # creates duplicate_keys
    index = DuplicateIndex(rules, store=keys, loader=load_records)
    index.rebuild(uow.leads.stream())                          # once; then add/update/remove

The table is ``duplicate_keys(key, record_type, record_id)`` with that primary key (which
lookups by key read) and an index on ``(record_type, record_id)`` (re-indexing a record). The keys
depend on the rule set: ``duplicate_keys_meta`` holds the fingerprint of the rule set they were
built for (:meth:`SqlKeyStore.fingerprint`), so a check with other rules knows to rebuild them.

``duplicate_values(record_type, record_id, active, data, lead_version)`` holds, next to the
keys, each record's normalised values as the rules compare them (written by
:meth:`~_KeyTable.put_prepared`, what :class:`~leadkit.duplicates.index.DuplicateIndex` calls):
a lookup inside a unit of work (:meth:`SqlKeyTransaction.prepared_values`) compares a batch with
its candidates without reading and decoding the candidates themselves. Keys written without
values (:meth:`~_KeyTable.put_many`) forget the record's values, so they are never older than
its keys.

Keys inside a unit of work
--------------------------
When the keys live in the store's own database, :meth:`SqlKeyStore.attach` gives a
:class:`SqlKeyTransaction`: the same table read and written on the unit of work's connection,
inside its transaction, so the keys of a record commit (or roll back) with the record, and a
lookup sees every key committed before the unit of work took its locks.
``EngineDuplicateCheck`` uses it on its own.

Every change runs in one transaction. On SQLite the store emits ``BEGIN IMMEDIATE`` itself,
so it behaves the same on an engine whose driver-managed transactions are switched off (as
the SQL adapter's are). Driver errors are raised as
:class:`~leadkit.errors.StorageUnavailable` (``from`` the driver error).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final, NoReturn

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    column,
    create_engine,
    delete,
    func,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from leadkit.duplicates.compiled import Prepared
from leadkit.duplicates.record_view import RecordRef, RecordType, built
from leadkit.errors import StorageUnavailable

__all__ = [
    "SqlKeyStore",
    "SqlKeyTransaction",
    "duplicate_keys",
    "duplicate_keys_meta",
    "duplicate_values",
    "metadata",
]

metadata: Final = MetaData()
"""The metadata holding :data:`duplicate_keys` (kept apart from the SQL adapter's tables)."""

duplicate_keys: Final = Table(
    "duplicate_keys",
    metadata,
    Column("key", Text, primary_key=True),
    Column("record_type", String(16), primary_key=True),
    Column("record_id", String(100), primary_key=True),
    Index("ix_duplicate_keys_record", "record_type", "record_id"),
)
"""One row per (blocking key, record). Lookups by key read the primary key's index (its first
column); tables made before it was dropped keep an index ``ix_duplicate_keys_key`` of their
own, which costs only writes."""

duplicate_keys_meta: Final = Table(
    "duplicate_keys_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""What the keys were built for: the row ``fingerprint`` holds the fingerprint of the rule set
(and record types) of the last rebuild; no row means the keys were never built (or cleared)."""

duplicate_values: Final = Table(
    "duplicate_values",
    metadata,
    Column("record_type", String(16), primary_key=True),
    Column("record_id", String(100), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("data", Text, nullable=False),
    Column("lead_version", Integer, nullable=True),
)
"""One row per keyed record: its active flag and normalised values (a JSON list of lists of
texts, in the order of the compiled rule set's features), written with its keys, and the
version the ``leads`` row of the same database had when they were written (NULL: no such
row then, or no ``leads`` table). Values are used only while that version is still the
row's: a lead changed or deleted around the duplicate check is read again, never compared
on old values."""

_LEADS: Final = table("leads", column("id"), column("version"))
_VERSION_NOW: Final = (
    select(_LEADS.c.version).where(_LEADS.c.id == bindparam("record_id")).scalar_subquery()
)
_INSERT_VALUES: Final = insert(duplicate_values)
_INSERT_VERSIONED_VALUES: Final = insert(duplicate_values).values(
    record_type=bindparam("record_type"),
    record_id=bindparam("record_id"),
    active=bindparam("active"),
    data=bindparam("data"),
    lead_version=_VERSION_NOW,
)

_FINGERPRINT: Final = "fingerprint"
_LOCK_CLASS: Final = 0x4C4C  # PostgreSQL advisory locks of the key table (first key)
_REBUILD_LOCK: Final = 0  # shared by writers of keys, exclusive for a rebuild
_CREATE_LOCK: Final = 1  # creating the tables

_CHUNK: Final = 500  # bound parameters per IN list, well under every database's limit


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _KeyTable:
    """The queries and changes of the key table over some connection (see the subclasses)."""

    _engine: Engine
    _values: bool | None = None  # the database has duplicate_values (None: not asked yet)
    _leads: bool | None = None  # the database has the leads table (None: not asked yet)

    def _with_leads(self, conn: Connection) -> bool:
        """True when the key table's database also holds the ``leads`` table."""
        if self._leads is None:
            self._leads = bool(conn.dialect.has_table(conn, "leads"))
        return self._leads

    def _values_insert(self, conn: Connection) -> Any:
        """The statement that writes values rows (None: the database keeps no values)."""
        if not self._keeps_values(conn):
            return None
        return _INSERT_VERSIONED_VALUES if self._with_leads(conn) else _INSERT_VALUES

    def _keeps_values(self, conn: Connection) -> bool:
        """True when the database has ``duplicate_values`` (a store opened with
        ``create=False`` on tables made before it writes and reads keys alone)."""
        if self._values is None:
            self._values = bool(conn.dialect.has_table(conn, "duplicate_values"))
        return self._values

    def _writing(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _fail(self, doing: str, error: BaseException) -> NoReturn:
        where = self._engine.url.render_as_string(hide_password=True)
        raise StorageUnavailable(f"duplicate keys at {where}: {doing} failed: {error}") from error

    # Changes ------------------------------------------------------------------------------

    def put(self, ref: RecordRef, keys: Collection[str]) -> None:
        """Replace the keys of ``ref`` with ``keys`` (no keys: forget the record)."""
        self.put_many([(ref, keys)])

    def put_many(self, entries: Iterable[tuple[RecordRef, Collection[str]]]) -> None:
        """Replace the keys of many records in one transaction (their values are forgotten:
        see :meth:`put_prepared`)."""
        self.put_prepared((ref, keys, None) for ref, keys in entries)

    def put_prepared(
        self, entries: Iterable[tuple[RecordRef, Collection[str], Prepared | None]]
    ) -> None:
        """Replace the keys and the normalised values of many records in one transaction: a
        record with keys and a :class:`~leadkit.duplicates.compiled.Prepared` gets both; one
        without keys is forgotten; one without values keeps none."""
        try:
            with self._writing() as conn:
                refs: list[dict[str, str]] = []
                rows: list[dict[str, str]] = []
                values: list[dict[str, Any]] = []
                for ref, keys, prepared in entries:
                    kind = ref.record_type.value
                    refs.append({"rt": kind, "rid": ref.record_id})
                    rows += [
                        {"key": k, "record_type": kind, "record_id": ref.record_id} for k in keys
                    ]
                    if keys and prepared is not None:
                        values.append(_values_row(kind, ref.record_id, prepared))
                    if len(rows) >= 5000:
                        _write(conn, refs, rows, values, self._values_insert(conn))
                        refs, rows, values = [], [], []
                _write(conn, refs, rows, values, self._values_insert(conn))
        except SQLAlchemyError as e:
            self._fail("storing keys", e)

    def remove(self, ref: RecordRef) -> bool:
        """Forget the keys of ``ref``; False if it had none."""
        stmt = delete(duplicate_keys).where(
            duplicate_keys.c.record_type == ref.record_type.value,
            duplicate_keys.c.record_id == ref.record_id,
        )
        forget = delete(duplicate_values).where(
            duplicate_values.c.record_type == ref.record_type.value,
            duplicate_values.c.record_id == ref.record_id,
        )
        try:
            with self._writing() as conn:
                if self._keeps_values(conn):
                    conn.execute(forget)
                return bool(conn.execute(stmt).rowcount)
        except SQLAlchemyError as e:
            self._fail("removing keys", e)

    def clear(self) -> None:
        """Forget every key, and the fingerprint of what they were built for."""
        try:
            with self._writing() as conn:
                conn.execute(delete(duplicate_keys))
                if self._keeps_values(conn):
                    conn.execute(delete(duplicate_values))
                conn.execute(delete(duplicate_keys_meta))
        except SQLAlchemyError as e:
            self._fail("clearing keys", e)

    def set_fingerprint(self, fingerprint: str | None) -> None:
        """Record what the keys were built for (None: forget it)."""
        meta = duplicate_keys_meta
        try:
            with self._writing() as conn:
                conn.execute(delete(meta).where(meta.c.name == _FINGERPRINT))
                if fingerprint is not None:
                    conn.execute(insert(meta).values(name=_FINGERPRINT, value=fingerprint))
        except SQLAlchemyError as e:
            self._fail("storing the fingerprint of the keys", e)

    # Queries ------------------------------------------------------------------------------

    def fingerprint(self) -> str | None:
        """The fingerprint of the rule set the keys were built for; None when they were never
        built (or were cleared since)."""
        meta = duplicate_keys_meta
        stmt = select(meta.c.value).where(meta.c.name == _FINGERPRINT)
        try:
            with self._reading() as conn:
                found = conn.execute(stmt).scalar()
        except SQLAlchemyError as e:
            self._fail("reading the fingerprint of the keys", e)
        return None if found is None else str(found)

    def keys_of(self, ref: RecordRef) -> frozenset[str]:
        """The keys of ``ref`` (empty if it is not stored)."""
        stmt = select(duplicate_keys.c.key).where(
            duplicate_keys.c.record_type == ref.record_type.value,
            duplicate_keys.c.record_id == ref.record_id,
        )
        try:
            with self._reading() as conn:
                return frozenset(conn.execute(stmt).scalars())
        except SQLAlchemyError as e:
            self._fail("reading keys", e)

    def counts(self, keys: Collection[str]) -> dict[str, int]:
        """How many records hold each key; keys nobody holds are left out."""
        found: dict[str, int] = {}
        wanted = sorted(set(keys))
        try:
            with self._reading() as conn:
                for chunk in _chunks(wanted):
                    stmt = (
                        select(duplicate_keys.c.key, func.count())
                        .where(duplicate_keys.c.key.in_(chunk))
                        .group_by(duplicate_keys.c.key)
                    )
                    found.update((key, int(count)) for key, count in conn.execute(stmt).all())
        except SQLAlchemyError as e:
            self._fail("counting keys", e)
        return found

    def refs(self, keys: Collection[str]) -> dict[str, list[RecordRef]]:
        """The records holding each key; keys nobody holds are left out."""
        found: dict[str, list[RecordRef]] = {}
        wanted = sorted(set(keys))
        cols = duplicate_keys.c
        try:
            with self._reading() as conn:
                for chunk in _chunks(wanted):
                    stmt = select(cols.key, cols.record_type, cols.record_id).where(
                        cols.key.in_(chunk)
                    )
                    for key, kind, record_id in conn.execute(stmt).all():
                        found.setdefault(key, []).append(_ref(kind, record_id))
        except SQLAlchemyError as e:
            self._fail("reading keys", e)
        return found

    def stop_keys(self, max_block_size: int) -> list[tuple[str, int]]:
        """Every key held by more than ``max_block_size`` records, with its count."""
        stmt = (
            select(duplicate_keys.c.key, func.count())
            .group_by(duplicate_keys.c.key)
            .having(func.count() > max_block_size)
        )
        try:
            with self._reading() as conn:
                return [(key, int(count)) for key, count in conn.execute(stmt)]
        except SQLAlchemyError as e:
            self._fail("counting keys", e)

    def record_count(self) -> int:
        """How many records hold at least one key."""
        inner = select(duplicate_keys.c.record_type, duplicate_keys.c.record_id).distinct()
        stmt = select(func.count()).select_from(inner.subquery())
        return self._scalar(stmt)

    def key_count(self) -> int:
        """How many distinct keys are held."""
        return self._scalar(select(func.count(func.distinct(duplicate_keys.c.key))))

    def _scalar(self, stmt: Select[Any]) -> int:
        try:
            with self._reading() as conn:
                return int(conn.execute(stmt).scalar_one())
        except SQLAlchemyError as e:
            self._fail("counting keys", e)


_FORGET_KEYS: Final = delete(duplicate_keys).where(
    duplicate_keys.c.record_type == bindparam("rt"),
    duplicate_keys.c.record_id == bindparam("rid"),
)
_FORGET_VALUES: Final = delete(duplicate_values).where(
    duplicate_values.c.record_type == bindparam("rt"),
    duplicate_values.c.record_id == bindparam("rid"),
)


def _values_row(kind: str, record_id: str, prepared: Prepared) -> dict[str, Any]:
    data = json.dumps(prepared.values, ensure_ascii=False, separators=(",", ":"))
    return {"record_type": kind, "record_id": record_id, "active": prepared.active, "data": data}


def _write(
    conn: Connection,
    refs: list[dict[str, str]],
    rows: list[dict[str, str]],
    values: list[dict[str, Any]],
    insert_values: Any,
) -> None:
    if refs:
        conn.execute(_FORGET_KEYS, refs)
        if insert_values is not None:
            conn.execute(_FORGET_VALUES, refs)
    if rows:
        conn.execute(insert(duplicate_keys), rows)
    if values and insert_values is not None:
        conn.execute(insert_values, values)


_REFS: dict[tuple[str, str], RecordRef] = {}
_REFS_KEPT: Final = 1 << 16


def _ref(kind: str, record_id: str) -> RecordRef:
    """The reference of a row: the same records come back batch after batch (the leads of
    a company), so the last ones made are kept (a full cache starts over)."""
    ref = _REFS.get((kind, record_id))
    if ref is None:
        if len(_REFS) >= _REFS_KEPT:
            _REFS.clear()
        ref = _REFS[kind, record_id] = built(
            RecordRef, record_type=RecordType(kind), record_id=record_id
        )
    return ref


def _prepared(kind: str, record_id: str, active: object, data: str, width: int) -> Prepared | None:
    """The values of a ``duplicate_values`` row, or None when they are not ``width`` lists
    of texts (written for another rule set: the caller reads the record instead)."""
    try:
        decoded = json.loads(data)
    except ValueError:
        return None
    if type(decoded) is not list or len(decoded) != width:
        return None
    values = tuple(tuple(item) for item in decoded if type(item) is list)
    if len(values) != width or not all(type(v) is str for item in values for v in item):
        return None
    return built(Prepared, ref=_ref(kind, record_id), active=bool(active), values=values)


def _same_database(a: Engine, b: Engine) -> bool:
    """True when two engines reach the same database (the same SQLite file, spelled the same:
    pass the store's own engine, ``SqlKeyStore(store.engine)``, to be sure)."""
    if a is b:
        return True
    if a.dialect.name != b.dialect.name:
        return False
    ua, ub = a.url, b.url
    if a.dialect.name == "sqlite":  # SqlStore spells its file as an absolute path
        return bool(ua.database) and ua.database == ub.database
    return (ua.host, ua.port, ua.database) == (ub.host, ub.port, ub.database)


class SqlKeyStore(_KeyTable):
    """A :class:`~leadkit.duplicates.index.DuplicateKeyStore` in the ``duplicate_keys`` table.

    ``engine`` may be shared with the rest of the application (``SqlStore.engine``);
    ``create`` creates the tables (and indexes) when missing. Thread-safe as far as the
    engine's pool is: every call checks out its own connection. Raises StorageUnavailable
    when the database fails.
    """

    def __init__(self, engine: Engine, *, create: bool = True) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._postgres = engine.dialect.name == "postgresql"
        if create:
            try:
                with self._transaction() as conn:
                    if self._postgres:  # processes starting together create the tables once
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(:a, :b)"),
                            {"a": _LOCK_CLASS, "b": _CREATE_LOCK},
                        )
                    metadata.create_all(conn, checkfirst=True)
                self._values = True
            except SQLAlchemyError as e:
                self._fail("creating the duplicate_keys tables", e)

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> SqlKeyStore:
        """A store on a new engine for a SQLAlchemy ``url`` (``sqlite+pysqlite:///keys.db``).
        Raises StorageUnavailable when the database cannot be used."""
        try:
            engine = create_engine(url)
        except (SQLAlchemyError, ImportError) as e:
            raise StorageUnavailable(f"cannot open {url}: {e}") from e
        return cls(engine, create=create)

    @property
    def engine(self) -> Engine:
        """The engine the keys are stored through."""
        return self._engine

    def attach(self, uow: object) -> SqlKeyTransaction | None:
        """The keys inside ``uow``'s transaction, when ``uow`` is a unit of work of a
        ``SqlStore`` on the same database (else None: the keys then live in a transaction
        of their own).

        Raises nothing itself; the returned keys raise StorageUnavailable when used and the
        database fails.
        """
        connection = getattr(uow, "connection", None)
        engine = getattr(getattr(uow, "store", None), "engine", None)
        if not callable(connection) or not isinstance(engine, Engine):
            return None
        if not _same_database(engine, self._engine):
            return None
        keys = SqlKeyTransaction(self._engine, connection)
        keys._values = self._values
        return keys

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            if self._sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _writing(self) -> AbstractContextManager[Connection]:
        return self._transaction()

    def _reading(self) -> AbstractContextManager[Connection]:
        return self._engine.connect()


class SqlKeyTransaction(_KeyTable):
    """The ``duplicate_keys`` table inside a unit of work's transaction (from
    :meth:`SqlKeyStore.attach`): a :class:`~leadkit.duplicates.index.DuplicateKeyStore` whose
    reads and writes run on the unit of work's connection and are committed or rolled back
    with it. Raises StorageUnavailable when the database fails.
    """

    def __init__(self, engine: Engine, connection: Callable[[], Connection]) -> None:
        self._engine = engine
        self._connection = connection
        self._postgres = engine.dialect.name == "postgresql"

    @contextmanager
    def _on_connection(self) -> Iterator[Connection]:
        yield self._connection()

    def _writing(self) -> AbstractContextManager[Connection]:
        return self._on_connection()

    def _reading(self) -> AbstractContextManager[Connection]:
        return self._on_connection()

    def prepared_values(self, refs: Collection[RecordRef], width: int) -> dict[RecordRef, Prepared]:
        """The normalised values stored with the keys of the leads ``refs`` names, as this
        unit of work sees them, for each lead whose row still has the version it had when
        its values were written (a lead changed, deleted or written around the check since,
        another record type, or values not ``width`` long are left out: read them).
        Raises StorageUnavailable."""
        ids = sorted({r.record_id for r in refs if r.record_type is RecordType.LEAD})
        cols = duplicate_values.c
        found: dict[RecordRef, Prepared] = {}
        try:
            conn = self._connection()
            if not ids or not self._keeps_values(conn) or not self._with_leads(conn):
                return found
            current = duplicate_values.join(
                _LEADS,
                and_(_LEADS.c.id == cols.record_id, _LEADS.c.version == cols.lead_version),
            )
            kind = RecordType.LEAD.value
            for chunk in _chunks(ids):
                stmt = (
                    select(cols.record_id, cols.active, cols.data)
                    .select_from(current)
                    .where(cols.record_type == kind, cols.record_id.in_(chunk))
                )
                for record_id, active, data in conn.execute(stmt):
                    prepared = _prepared(kind, record_id, active, data, width)
                    if prepared is not None:
                        found[prepared.ref] = prepared
        except SQLAlchemyError as e:
            self._fail("reading the values of keyed records", e)
        return found

    def lock_for_writing(self) -> None:
        """Wait while a rebuild runs (PostgreSQL: a shared advisory lock until the unit of
        work ends; SQLite: the write transaction does it). Raises StorageUnavailable."""
        self._advisory("pg_advisory_xact_lock_shared")

    def lock_for_rebuild(self) -> None:
        """Wait until no unit of work writes keys, and keep the others out until this one
        ends (PostgreSQL: an exclusive advisory lock; SQLite: the write transaction).
        Raises StorageUnavailable."""
        self._advisory("pg_advisory_xact_lock")

    def _advisory(self, function: str) -> None:
        try:
            conn = self._connection()
            if self._postgres:
                conn.execute(
                    text(f"SELECT {function}(:a, :b)"), {"a": _LOCK_CLASS, "b": _REBUILD_LOCK}
                )
        except SQLAlchemyError as e:
            self._fail("locking the key table", e)
