"""The fixed statements of the SQL adapter, compiled once per dialect and run on the driver's
cursor (the hot paths of :mod:`leadkit.adapters.sql.store`), the driver error codes the
adapter reads, and the one converter every store of the process shares.
"""

from __future__ import annotations

import functools
import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, cast

import attrs
from sqlalchemy import Connection, Integer, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement

from leadkit.adapters.sql.schema import (
    accounts,
    contacts,
    lead_activities,
    lead_notes,
    lead_stakeholders,
    leads,
    merges,
    opportunities,
    outbox,
    record_merges,
)
from leadkit.serialization import LeadkitConverter, make_converter

_CONFLICT_STATES: Final = frozenset({"40001", "40P01"})
"""SQLSTATEs of a serialization failure and a deadlock: the transaction lost a race."""


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error (wrapped by SQLAlchemy or not), None when it has none."""
    code = getattr(getattr(error, "orig", None) or error, "sqlstate", None)
    return code if isinstance(code, str) else None


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

    def run_columns(self, conn: Connection, columns: Mapping[str, Sequence[Any]]) -> None:
        """Execute once per row of ``columns`` (equal lists of values by bind name), as
        :meth:`run_many` does for the rows they make; nothing for no rows."""
        if not self._positional or len(self._names) < 2:
            names = list(columns)
            self.run_many(
                conn,
                [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)],
            )
            return
        rows = list(zip(*(columns[name] for name in self._names), strict=True))
        if len(rows) == 1:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(self.sql, rows[0])
        elif rows:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(self.sql, rows)

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


LEAD_QUERY_COLUMNS: Final = tuple(_columns(leads, without=("id", "version", "document")))
"""The columns of a lead row a bulk save compares with the stored row (see
:meth:`_Statements.update_lead_setting`)."""


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
        self._dialect, self._lead_updates = dialect, dict[frozenset[str], _Prepared]()
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

    def update_lead_setting(self, changed: frozenset[str]) -> _Prepared:
        """``UPDATE`` of a lead row by key and expected version that sets the version, the
        document and only the query columns in ``changed`` (compiled once per set). SQLite
        rewrites an index's entry of the row only when the ``SET`` list names one of the
        index's columns: a save that sets the unchanged columns too writes a page of every
        index of the table per lead."""
        found = self._lead_updates.get(changed)
        if found is None:
            columns = [
                c for c in _columns(leads, without=("id",))
                if c in changed or c not in LEAD_QUERY_COLUMNS
            ]  # fmt: skip
            stmt = update(leads).where(
                leads.c.id == bindparam("key"), leads.c.version == bindparam("expected")
            )
            found = self._lead_updates[changed] = _Prepared(stmt, self._dialect, columns)
        return found


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
