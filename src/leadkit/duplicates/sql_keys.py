"""``SqlKeyStore``: blocking keys in an indexed SQL table (SQLAlchemy 2 Core).

A host that keeps its records in a database keeps their duplicate keys there too, so that it
does not rebuild the index in memory at every start-up::

    engine = create_engine("sqlite+pysqlite:///crm.db")       # or the SqlStore's engine
    keys = SqlKeyStore(engine)                                 # creates duplicate_keys
    index = DuplicateIndex(rules, store=keys, loader=load_records)
    index.rebuild(uow.leads.stream())                          # once; then add/update/remove

The table is ``duplicate_keys(key, record_type, record_id)`` with that primary key, an index
on ``key`` (lookups) and one on ``(record_type, record_id)`` (re-indexing a record). The keys
depend on the rule set: rebuild after changing it.

Every change runs in one transaction. On SQLite the store emits ``BEGIN IMMEDIATE`` itself,
so it behaves the same on an engine whose driver-managed transactions are switched off (as
the SQL adapter's are). Driver errors are raised as
:class:`~leadkit.errors.StorageUnavailable` (``from`` the driver error).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, NoReturn

from sqlalchemy import (
    Column,
    Connection,
    Delete,
    Engine,
    Index,
    Insert,
    MetaData,
    Select,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from leadkit.duplicates.records import RecordRef, RecordType
from leadkit.errors import StorageUnavailable

__all__ = ["SqlKeyStore", "duplicate_keys", "metadata"]

metadata: Final = MetaData()
"""The metadata holding :data:`duplicate_keys` (kept apart from the SQL adapter's tables)."""

duplicate_keys: Final = Table(
    "duplicate_keys",
    metadata,
    Column("key", Text, primary_key=True),
    Column("record_type", String(16), primary_key=True),
    Column("record_id", String(100), primary_key=True),
    Index("ix_duplicate_keys_key", "key"),
    Index("ix_duplicate_keys_record", "record_type", "record_id"),
)
"""One row per (blocking key, record)."""

_CHUNK: Final = 500  # bound parameters per IN list, well under every database's limit


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlKeyStore:
    """A :class:`~leadkit.duplicates.index.DuplicateKeyStore` in the ``duplicate_keys`` table.

    ``engine`` may be shared with the rest of the application; ``create`` creates the table
    (and its indexes) when missing. Thread-safe as far as the engine's pool is: every call
    checks out its own connection. Raises StorageUnavailable when the database fails.
    """

    def __init__(self, engine: Engine, *, create: bool = True) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        if create:
            try:
                with self._transaction() as conn:
                    metadata.create_all(conn, checkfirst=True)
            except SQLAlchemyError as e:
                self._fail("creating the duplicate_keys table", e)

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

    def _fail(self, doing: str, error: BaseException) -> NoReturn:
        where = self._engine.url.render_as_string(hide_password=True)
        raise StorageUnavailable(f"duplicate keys at {where}: {doing} failed: {error}") from error

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

    # Changes ------------------------------------------------------------------------------

    def put(self, ref: RecordRef, keys: Collection[str]) -> None:
        """Replace the keys of ``ref`` with ``keys`` (no keys: forget the record)."""
        self.put_many([(ref, keys)])

    def put_many(self, entries: Iterable[tuple[RecordRef, Collection[str]]]) -> None:
        """Replace the keys of many records in one transaction."""
        forget = delete(duplicate_keys).where(
            duplicate_keys.c.record_type == bindparam("rt"),
            duplicate_keys.c.record_id == bindparam("rid"),
        )
        add = insert(duplicate_keys)
        try:
            with self._transaction() as conn:
                refs: list[dict[str, str]] = []
                rows: list[dict[str, str]] = []
                for ref, keys in entries:
                    kind = ref.record_type.value
                    refs.append({"rt": kind, "rid": ref.record_id})
                    rows += [
                        {"key": k, "record_type": kind, "record_id": ref.record_id} for k in keys
                    ]
                    if len(rows) >= 5000:
                        self._write(conn, forget, add, refs, rows)
                        refs, rows = [], []
                self._write(conn, forget, add, refs, rows)
        except SQLAlchemyError as e:
            self._fail("storing keys", e)

    @staticmethod
    def _write(
        conn: Connection,
        forget: Delete,
        add: Insert,
        refs: list[dict[str, str]],
        rows: list[dict[str, str]],
    ) -> None:
        if refs:
            conn.execute(forget, refs)
        if rows:
            conn.execute(add, rows)

    def remove(self, ref: RecordRef) -> bool:
        """Forget the keys of ``ref``; False if it had none."""
        stmt = delete(duplicate_keys).where(
            duplicate_keys.c.record_type == ref.record_type.value,
            duplicate_keys.c.record_id == ref.record_id,
        )
        try:
            with self._transaction() as conn:
                return bool(conn.execute(stmt).rowcount)
        except SQLAlchemyError as e:
            self._fail("removing keys", e)

    def clear(self) -> None:
        """Forget every key."""
        try:
            with self._transaction() as conn:
                conn.execute(delete(duplicate_keys))
        except SQLAlchemyError as e:
            self._fail("clearing keys", e)

    # Queries ------------------------------------------------------------------------------

    def keys_of(self, ref: RecordRef) -> frozenset[str]:
        """The keys of ``ref`` (empty if it is not stored)."""
        stmt = select(duplicate_keys.c.key).where(
            duplicate_keys.c.record_type == ref.record_type.value,
            duplicate_keys.c.record_id == ref.record_id,
        )
        try:
            with self._engine.connect() as conn:
                return frozenset(conn.execute(stmt).scalars())
        except SQLAlchemyError as e:
            self._fail("reading keys", e)

    def counts(self, keys: Collection[str]) -> dict[str, int]:
        """How many records hold each key; keys nobody holds are left out."""
        found: dict[str, int] = {}
        wanted = sorted(set(keys))
        try:
            with self._engine.connect() as conn:
                for chunk in _chunks(wanted):
                    stmt = (
                        select(duplicate_keys.c.key, func.count())
                        .where(duplicate_keys.c.key.in_(chunk))
                        .group_by(duplicate_keys.c.key)
                    )
                    found.update((key, int(count)) for key, count in conn.execute(stmt))
        except SQLAlchemyError as e:
            self._fail("counting keys", e)
        return found

    def refs(self, keys: Collection[str]) -> dict[str, list[RecordRef]]:
        """The records holding each key; keys nobody holds are left out."""
        found: dict[str, list[RecordRef]] = {}
        wanted = sorted(set(keys))
        cols = duplicate_keys.c
        try:
            with self._engine.connect() as conn:
                for chunk in _chunks(wanted):
                    stmt = select(cols.key, cols.record_type, cols.record_id).where(
                        cols.key.in_(chunk)
                    )
                    for key, kind, record_id in conn.execute(stmt):
                        found.setdefault(key, []).append(RecordRef(RecordType(kind), record_id))
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
            with self._engine.connect() as conn:
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
            with self._engine.connect() as conn:
                return int(conn.execute(stmt).scalar_one())
        except SQLAlchemyError as e:
            self._fail("counting keys", e)
