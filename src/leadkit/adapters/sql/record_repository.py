"""``SqlRecordRepository``: the accounts, contacts, opportunities and merge records of a
:class:`~leadkit.adapters.sql.store.SqlStore`, one table per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar

import attrs
from sqlalchemy import Connection, Table, select

from leadkit.adapters.sql.repository import _Rows, _storable, _version_number
from leadkit.adapters.sql.rows import customer_kind, load_opportunity
from leadkit.adapters.sql.schema import accounts, contacts, merges, opportunities, record_merges
from leadkit.errors import InvalidValue, NotFound, StorageUnavailable
from leadkit.merging import MergeRecord
from leadkit.ports import check_key, checked_record
from leadkit.record_merging import RecordMergeRecord
from leadkit.records import Account, Contact, Opportunity
from leadkit.serialization import LeadkitConverter
from leadkit.values import AccountId, ContactId, LeadId, MergeId, OpportunityId, RecordId

if TYPE_CHECKING:
    from leadkit.adapters.sql.unit_of_work import SqlUnitOfWork


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
