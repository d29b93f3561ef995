"""Authorisation enforced on a store: every read and write of a principal's units of work.

:class:`AuthorizedStore` wraps any :class:`~leadkit.ports.LeadStore` for one principal and
one :class:`~leadkit.access.Authorizer`; pass it wherever the store goes (the services'
``target``, :func:`leadkit.mass_editing.mass_edit`, ...) and each lead read or write is
checked:

=====================================  =========================================================
``leads.get``                          READ on the stored lead
``leads.query`` / ``count`` / ``stream``  the READ scope ANDed into the query (the adapter's
                                       SQL ``WHERE``: never a filter after reading a page)
``leads.add``                          CREATE on the new lead
``leads.save``                         WRITE on the stored lead, and ASSIGN on it when the
                                       owner changes
``leads.delete``                       DELETE on the stored lead
``merges.add``                         MERGE on every lead of the merge
=====================================  =========================================================

Denial raises :class:`~leadkit.errors.PermissionDenied`; the unit of work is not committed
then, so a failed operation stores nothing. Accounts, contacts and opportunities pass
through unchecked. :class:`AuthorizedFinder` wraps a duplicate check: a candidate the
principal may not read is reported only as "a record you cannot see" (:data:`HIDDEN_REASON`,
with a stand-in id ``hidden-1``, ``hidden-2`` ... in the order found), as Dataverse's
duplicate detection does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, Final, Self

from leadkit.access import Action, Authorizer, Principal, allowed_scope, authorize, restrict
from leadkit.conversion import CandidateType, DuplicateCandidate, DuplicateCheck
from leadkit.errors import PermissionDenied, RepositoryError
from leadkit.events import LeadEvent
from leadkit.lead import Lead
from leadkit.merging import MergeRecord
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    LeadQuery,
    LeadRepository,
    LeadStore,
    MergeRepository,
    OpportunityRepository,
    Page,
    UnitOfWork,
)
from leadkit.values import AccountId, ContactId, LeadId, MergeId

__all__ = [
    "HIDDEN_REASON",
    "AuthorizedFinder",
    "AuthorizedStore",
    "AuthorizedUnitOfWork",
    "require_permission",
]

HIDDEN_REASON: Final = "a record you cannot see"
"""The reason of a duplicate candidate the principal may not read."""


class _Guard:
    """One principal under one authoriser."""

    def __init__(self, authorizer: Authorizer, principal: Principal) -> None:
        self.authorizer = authorizer
        self.principal = principal

    def check(self, action: Action, record: object) -> None:
        authorize(self.authorizer, self.principal, action, record)

    def scope(self, action: Action) -> LeadQuery:
        return allowed_scope(self.authorizer, self.principal, action)


class _Leads:
    """The lead repository of an authorised unit of work."""

    def __init__(self, inner: LeadRepository, guard: _Guard) -> None:
        self._inner = inner
        self._guard = guard

    def get(self, lead_id: LeadId) -> Lead:
        lead = self._inner.get(lead_id)
        self._guard.check(Action.READ, lead)
        return lead

    def add(self, lead: Lead) -> Lead:
        self._guard.check(Action.CREATE, lead)
        return self._inner.add(lead)

    def save(self, lead: Lead, *, expected_version: int | None = None) -> Lead:
        stored = self._inner.get(lead.id)
        self._guard.check(Action.WRITE, stored)
        if stored.owner.id != lead.owner.id:
            self._guard.check(Action.ASSIGN, stored)
        return self._inner.save(lead, expected_version=expected_version)

    def delete(self, lead_id: LeadId, *, expected_version: int | None = None) -> None:
        self._guard.check(Action.DELETE, self._inner.get(lead_id))
        self._inner.delete(lead_id, expected_version=expected_version)

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        scoped = restrict(query, self._guard.scope(Action.READ))
        return self._inner.query(scoped, limit=limit, after=after)

    def count(self, query: LeadQuery) -> int:
        return self._inner.count(restrict(query, self._guard.scope(Action.READ)))

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        scoped = restrict(query, self._guard.scope(Action.READ))
        return self._inner.stream(scoped, batch_size=batch_size)


class _Merges:
    """The merge records of an authorised unit of work: storing one needs MERGE on every
    lead it merges."""

    def __init__(self, inner: MergeRepository, guard: _Guard) -> None:
        self._inner = inner
        self._guard = guard

    def get(self, record_id: MergeId) -> MergeRecord:
        return self._inner.get(record_id)

    def add(self, record: MergeRecord) -> MergeRecord:
        for lead in record.before:
            self._guard.check(Action.MERGE, lead)
        return self._inner.add(record)

    def save(self, record: MergeRecord) -> MergeRecord:
        for lead in record.before:
            self._guard.check(Action.MERGE, lead)
        return self._inner.save(record)

    def delete(self, record_id: MergeId, *, expected_version: int | None = None) -> None:
        self._inner.delete(record_id, expected_version=expected_version)

    def list(self, *, originating_lead: LeadId | None = None) -> Sequence[MergeRecord]:
        return self._inner.list(originating_lead=originating_lead)


class _Wrapper:
    """What both wrappers share: the guard, and the wrapped object's other attributes."""

    _inner: object
    _guard: _Guard

    @property
    def principal(self) -> Principal:
        """Who acts."""
        return self._guard.principal

    @property
    def authorizer(self) -> Authorizer:
        """Who decides."""
        return self._guard.authorizer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._inner, name)


class AuthorizedUnitOfWork(_Wrapper):
    """A unit of work whose lead reads and writes are authorised (see the module doc).

    Everything else (``accounts``, ``idempotency``, ...) is the wrapped unit of work's
    (:attr:`inner`). Raises what the wrapped one raises, and PermissionDenied.
    """

    _inner: UnitOfWork
    accounts: AccountRepository
    contacts: ContactRepository
    opportunities: OpportunityRepository

    def __init__(self, inner: UnitOfWork, guard: _Guard) -> None:
        self._inner = inner
        self._guard = guard
        self.leads: LeadRepository = _Leads(inner.leads, guard)
        self.accounts = inner.accounts
        self.contacts = inner.contacts
        self.opportunities = inner.opportunities
        merges = getattr(inner, "merges", None)
        if merges is not None:
            self.merges: MergeRepository = _Merges(merges, guard)

    @property
    def inner(self) -> UnitOfWork:
        """The wrapped unit of work."""
        return self._inner

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        """Commit the wrapped unit of work. Raises what it raises."""
        self._inner.commit()

    def rollback(self) -> None:
        """Roll the wrapped unit of work back."""
        self._inner.rollback()

    @property
    def events(self) -> Sequence[LeadEvent]:
        """The wrapped unit of work's events."""
        return self._inner.events


class AuthorizedStore(_Wrapper):
    """``store`` as ``principal`` sees it under ``authorizer``: a
    :class:`~leadkit.ports.LeadStore` whose units of work are :class:`AuthorizedUnitOfWork`.
    Raises what the store raises."""

    _inner: LeadStore

    def __init__(self, store: LeadStore, authorizer: Authorizer, principal: Principal) -> None:
        self._inner = store
        self._guard = _Guard(authorizer, principal)

    @property
    def inner(self) -> LeadStore:
        """The wrapped store."""
        return self._inner

    def unit_of_work(self) -> AuthorizedUnitOfWork:
        """A new authorised unit of work. Raises StorageUnavailable."""
        return AuthorizedUnitOfWork(self._inner.unit_of_work(), self._guard)

    def close(self) -> None:
        """Close the wrapped store."""
        self._inner.close()

    def __repr__(self) -> str:
        return f"AuthorizedStore({self._inner!r}, {self._guard.principal.user_id!r})"


def require_permission(target: object, action: Action, record: object) -> None:
    """For a service that does more than the lead repository can see (erasure, say): when
    ``target`` (the service's store or unit of work) is an :class:`AuthorizedStore` or
    :class:`AuthorizedUnitOfWork`, check that its principal may do ``action`` to
    ``record``; any other target allows (no principal, no authoriser).

    Raises PermissionDenied when the authoriser denies (or raises).
    """
    if isinstance(target, AuthorizedStore | AuthorizedUnitOfWork):
        target._guard.check(action, record)


def _unwrapped(uow: UnitOfWork) -> UnitOfWork:
    return uow.inner if isinstance(uow, AuthorizedUnitOfWork) else uow


def _record(uow: UnitOfWork, candidate: DuplicateCandidate) -> object | None:
    """The stored record a candidate names, None when it cannot be read."""
    key = candidate.record_id
    try:
        match candidate.record_type:
            case CandidateType.LEAD:
                return uow.leads.get(LeadId(key))
            case CandidateType.CONTACT:
                return uow.contacts.get(ContactId(key))
            case CandidateType.ACCOUNT:
                return uow.accounts.get(AccountId(key))
    except RepositoryError:
        return None
    return None  # pragma: no cover - every candidate type is matched above


class AuthorizedFinder:
    """A duplicate check as ``principal`` sees it: the wrapped check's candidates, each one
    the principal may not read (by ``authorizer``) replaced by a stand-in that says only
    "a record you cannot see" (:data:`HIDDEN_REASON`, id ``hidden-N``, same type and
    score).

    ``find`` takes a unit of work of the check's store, or an :class:`AuthorizedUnitOfWork`
    over one. Raises what the wrapped check raises.
    """

    def __init__(self, check: DuplicateCheck, authorizer: Authorizer, principal: Principal):
        self._check = check
        self._guard = _Guard(authorizer, principal)

    @property
    def check(self) -> DuplicateCheck:
        """The wrapped duplicate check."""
        return self._check

    def find(self, lead: Lead, uow: UnitOfWork) -> tuple[DuplicateCandidate, ...]:
        """The candidates of ``lead``, those the principal may not read hidden (see the
        class doc). Raises what the wrapped check raises."""
        inner = _unwrapped(uow)
        shown: list[DuplicateCandidate] = []
        hidden = 0
        for candidate in self._check.find(lead, inner):
            if self._readable(inner, candidate):
                shown.append(candidate)
            else:
                hidden += 1
                shown.append(
                    DuplicateCandidate(
                        candidate.record_type, f"hidden-{hidden}", candidate.score, HIDDEN_REASON
                    )
                )
        return tuple(shown)

    def _readable(self, uow: UnitOfWork, candidate: DuplicateCandidate) -> bool:
        record = _record(uow, candidate)
        if record is None:
            return False
        try:
            self._guard.check(Action.READ, record)
        except PermissionDenied:
            return False
        return True
