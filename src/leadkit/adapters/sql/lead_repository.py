"""``SqlLeadRepository``: the leads of a :class:`~leadkit.adapters.sql.store.SqlStore`, over the
``leads`` table and its child tables (notes, activities, stakeholders).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

import attrs
from sqlalchemy import Connection, Row, bindparam, select

from leadkit.adapters.sql.key_lookup import lead_ids_by_email
from leadkit.adapters.sql.queries import count_statement, page_statement, read_cursor
from leadkit.adapters.sql.repository import _Rows, _storable, _version_number
from leadkit.adapters.sql.rows import activity_rows, lead_columns, note_rows, stakeholder_rows
from leadkit.adapters.sql.schema import leads
from leadkit.adapters.sql.scores import rescore_page
from leadkit.adapters.sql.statements import LEAD_QUERY_COLUMNS, _Prepared
from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    InvalidValue,
    NotFound,
    StorageUnavailable,
)
from leadkit.events import LeadScored
from leadkit.fastcodec import compile_evolver
from leadkit.lead import Lead
from leadkit.ports import (
    LeadQuery,
    Page,
    check_batch_size,
    check_bulk_saves,
    check_expected_version,
    check_key,
    check_limit,
    check_scan_limit,
    checked_record,
    encode_cursor,
)
from leadkit.rescoring import RescoredPage
from leadkit.shards import Shard
from leadkit.values import EmailAddress, LeadId

if TYPE_CHECKING:
    from leadkit.adapters.sql.unit_of_work import SqlUnitOfWork

_stored_lead: Final = compile_evolver(Lead, "version", "pending_events")
"""``attrs.evolve(lead, version=..., pending_events=...)``, generated (half the time)."""

_BULK_ROWS: Final = 500
"""Ids per ``IN`` list of the bulk reads and version checks (below every engine's limit on
bound parameters)."""

_GET_MANY: Final = select(leads.c.id, leads.c.version, leads.c.document).where(
    leads.c.id.in_(bindparam("ids", expanding=True))
)
_STORED_MANY: Final = select(
    leads.c.id, leads.c.version, *(leads.c[c] for c in LEAD_QUERY_COLUMNS)
).where(leads.c.id.in_(bindparam("ids", expanding=True)))
"""The versions and query columns of stored leads (what a bulk save compares)."""
_LOCK_MANY: Final = _STORED_MANY.order_by(leads.c.id).with_for_update()
"""The same, row-locked in id order until the transaction ends (on a server: a concurrent
writer of one of the leads waits, and two bulk saves cannot deadlock)."""


def _by_key(row: dict[str, Any]) -> str:
    return cast(str, row["key"])


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

    def ids_by_email(self, emails: Collection[EmailAddress]) -> dict[str, LeadId]:
        """The stored lead holding each address, by normalised address (see
        :func:`~leadkit.adapters.sql.key_lookup.lead_ids_by_email`). Raises StorageUnavailable."""
        return lead_ids_by_email(self._uow._reader, self._decode, emails)

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
            before: dict[str, tuple[Any, ...]] = {}
            statement = _LOCK_MANY if not store._sqlite else _STORED_MANY
            for start in range(0, len(keys), _BULK_ROWS):
                chunk = sorted(keys[start : start + _BULK_ROWS])
                for row in conn.execute(statement, {"ids": chunk}):
                    before[row[0]] = tuple(row)
            for lead in batch:
                found = before.get(lead.id.value)
                if found is None:
                    raise NotFound("lead", lead.id)
                actual = _version_number(found[1], "lead", lead.id)
                if actual != lead.version:
                    raise ConcurrencyConflict(lead.id, lead.version, actual)
            self._update_rows(conn, rows, before)
            ids = [{"key": key} for key in sorted(keys)]
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

    def _update_rows(
        self, conn: Connection, rows: list[dict[str, Any]], before: dict[str, tuple[Any, ...]]
    ) -> None:
        """Update the rows (checked against ``before``, the stored rows by key), in key
        order (neighbouring rows share B-tree pages: far fewer page reads and writes on a
        table larger than the page cache than in the order given), one ``executemany``
        per set of changed query columns: a column whose value is the stored one is left
        out of the ``SET`` list, so that its indexes are not rewritten."""
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for values in sorted(rows, key=_by_key):
            stored = before[values["key"]]
            changed = frozenset(
                c for c, old in zip(LEAD_QUERY_COLUMNS, stored[2:], strict=True) if values[c] != old
            )
            groups.setdefault(changed, []).append(values)
        for changed, group in groups.items():
            self._sql.update_lead_setting(changed).run_many(conn, group)

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
