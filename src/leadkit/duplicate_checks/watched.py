"""The repositories of an indexing unit of work: the store's own, with every write noted for
the duplicate index; and reading records by reference.

Part of :mod:`leadkit.duplicate_checks.engine_check` (the check and its indexing store).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import attrs

from leadkit.duplicates.record_view import DuplicateRecord, RecordRef, RecordType, duplicate_record
from leadkit.errors import InvalidValue, NotFound
from leadkit.lead import Lead
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    LeadQuery,
    LeadRepository,
    Page,
    UnitOfWork,
    check_key,
)
from leadkit.records import Account, Contact
from leadkit.values import AccountId, ContactId, LeadId

__all__: list[str] = []

_StoredRecord = Lead | Account | Contact


# ---------------------------------------------------------------------------------------------
# Reading records by reference


def _read(uow: UnitOfWork, ref: RecordRef) -> _StoredRecord | None:
    """The record ``ref`` names as ``uow`` sees it, or None when it is not stored."""
    try:
        match ref.record_type:
            case RecordType.ACCOUNT:
                return uow.accounts.get(AccountId(ref.record_id))
            case RecordType.CONTACT:
                return uow.contacts.get(ContactId(ref.record_id))
            case RecordType.LEAD:
                return uow.leads.get(LeadId(ref.record_id))
    except (NotFound, InvalidValue):
        return None


def _account_name(uow: UnitOfWork, account_id: AccountId | None) -> str | None:
    """The name of the contact's account as ``uow`` sees it; None when there is none."""
    if account_id is None:
        return None
    try:
        return uow.accounts.get(account_id).name
    except NotFound:
        return None


def _contact_view(uow: UnitOfWork, contact: Contact) -> DuplicateRecord:
    return duplicate_record(contact, company=_account_name(uow, contact.account_id))


def _view(uow: UnitOfWork, record: _StoredRecord) -> DuplicateRecord:
    if isinstance(record, Contact):
        return _contact_view(uow, record)
    return duplicate_record(record)


# ---------------------------------------------------------------------------------------------
# The units of work that keep the index current


@attrs.define
class _Change:
    """A record written (or re-keyed) in a unit of work: the stored copy and its flat view,
    both None when it was deleted."""

    ref: RecordRef
    record: _StoredRecord | None
    view: DuplicateRecord | None


class _NotingUnitOfWork(Protocol):
    """What the watched repositories need of their unit of work
    (:class:`~leadkit.duplicate_checks.engine_check.IndexingUnitOfWork`): its store's own unit of
    work and where to note a write."""

    @property
    def inner(self) -> UnitOfWork: ...

    def _written(self, record: Lead | Contact) -> None: ...

    def _deleted(self, ref: RecordRef) -> None: ...

    def _account_written(
        self, account_id: AccountId, account: Account | None, *, renamed: bool
    ) -> None: ...


class _WatchedAccounts:
    """The accounts of an :class:`IndexingUnitOfWork`: the store's, with writes noted."""

    def __init__(self, uow: _NotingUnitOfWork, inner: AccountRepository) -> None:
        self._uow = uow
        self._inner = inner

    def get(self, record_id: AccountId) -> Account:
        return self._inner.get(record_id)

    def add(self, record: Account) -> Account:
        stored = self._inner.add(record)
        self._uow._account_written(stored.id, stored, renamed=False)
        return stored

    def save(self, record: Account) -> Account:
        before = _account_name(self._uow.inner, record.id)
        stored = self._inner.save(record)
        self._uow._account_written(stored.id, stored, renamed=before != stored.name)
        return stored

    def delete(self, record_id: AccountId, *, expected_version: int | None = None) -> None:
        check_key("account", record_id)
        self._inner.delete(record_id, expected_version=expected_version)
        self._uow._account_written(record_id, None, renamed=True)

    def list(self, *, originating_lead: LeadId | None = None) -> Sequence[Account]:
        return self._inner.list(originating_lead=originating_lead)


class _WatchedContacts:
    """The contacts of an :class:`IndexingUnitOfWork`: the store's, with writes noted."""

    def __init__(self, uow: _NotingUnitOfWork, inner: ContactRepository) -> None:
        self._uow = uow
        self._inner = inner

    def get(self, record_id: ContactId) -> Contact:
        return self._inner.get(record_id)

    def add(self, record: Contact) -> Contact:
        stored = self._inner.add(record)
        self._uow._written(stored)
        return stored

    def save(self, record: Contact) -> Contact:
        stored = self._inner.save(record)
        self._uow._written(stored)
        return stored

    def delete(self, record_id: ContactId, *, expected_version: int | None = None) -> None:
        check_key("contact", record_id)
        self._inner.delete(record_id, expected_version=expected_version)
        self._uow._deleted(RecordRef(RecordType.CONTACT, record_id.value))

    def list(self, *, originating_lead: LeadId | None = None) -> Sequence[Contact]:
        return self._inner.list(originating_lead=originating_lead)


class _WatchedLeads:
    """The leads of an :class:`IndexingUnitOfWork` (when leads are indexed)."""

    def __init__(self, uow: _NotingUnitOfWork, inner: LeadRepository) -> None:
        self._uow = uow
        self._inner = inner

    def get(self, lead_id: LeadId) -> Lead:
        return self._inner.get(lead_id)

    def add(self, lead: Lead) -> Lead:
        stored = self._inner.add(lead)
        self._uow._written(stored)
        return stored

    def save(self, lead: Lead, *, expected_version: int | None = None) -> Lead:
        stored = self._inner.save(lead, expected_version=expected_version)
        self._uow._written(stored)
        return stored

    def delete(self, lead_id: LeadId, *, expected_version: int | None = None) -> None:
        check_key("lead", lead_id)
        self._inner.delete(lead_id, expected_version=expected_version)
        self._uow._deleted(RecordRef(RecordType.LEAD, lead_id.value))

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        return self._inner.query(query, limit=limit, after=after)

    def count(self, query: LeadQuery) -> int:
        return self._inner.count(query)

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        return self._inner.stream(query, batch_size=batch_size)


def _ref_of(record: _StoredRecord) -> RecordRef:
    if isinstance(record, Lead):
        return RecordRef(RecordType.LEAD, record.id.value)
    if isinstance(record, Contact):
        return RecordRef(RecordType.CONTACT, record.id.value)
    return RecordRef(RecordType.ACCOUNT, record.id.value)
