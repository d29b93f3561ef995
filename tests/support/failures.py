"""Failure injection for tests: a real store whose Nth write raises.

``FailingStore(store, fail_at)`` wraps any :class:`~leadkit.ports.LeadStore`. Reads are
forwarded; every ``add``, ``save`` and ``delete`` on any repository (and ``put`` of an
idempotency key, when the store keeps them) is performed on the real store first, then
counted (over every unit of work the wrapper opens), and the ``fail_at``-th one raises
:class:`~leadkit.errors.StorageUnavailable`. ``fail_at=None`` never fails, which counts the
writes of an operation (``failing.writes.count``).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self, cast

from leadkit.errors import StorageUnavailable
from leadkit.events import LeadEvent
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    IdempotencyRepository,
    LeadRepository,
    LeadStore,
    MergeRepository,
    OpportunityRepository,
    RecordMergeRepository,
    UnitOfWork,
)

__all__ = ["FailingStore", "FailingUnitOfWork", "Writes"]


class Writes:
    """The write counter shared by every unit of work of one ``FailingStore``."""

    def __init__(self, fail_at: int | None) -> None:
        self.fail_at = fail_at
        self.count = 0

    def tick(self, what: str) -> None:
        self.count += 1
        if self.count == self.fail_at:
            raise StorageUnavailable(f"injected failure at write {self.count} ({what})")


class _FailingRepository:
    """Forwards reads; performs each write, then raises if it is the chosen one."""

    def __init__(self, inner: Any, writes: Writes) -> None:
        self._inner = inner
        self._writes = writes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def add(self, record: Any) -> Any:
        stored = self._inner.add(record)
        self._writes.tick("add")
        return stored

    def save(self, record: Any) -> Any:
        stored = self._inner.save(record)
        self._writes.tick("save")
        return stored

    def delete(self, key: Any, *, expected_version: int | None = None) -> None:
        self._inner.delete(key, expected_version=expected_version)
        self._writes.tick("delete")

    def put(self, response: Any) -> None:
        self._inner.put(response)
        self._writes.tick("put")


class FailingUnitOfWork:
    """A real unit of work whose repositories count (and may fail) their writes."""

    def __init__(self, inner: UnitOfWork, writes: Writes) -> None:
        self._inner = inner
        self.leads = cast(LeadRepository, _FailingRepository(inner.leads, writes))
        self.accounts = cast(AccountRepository, _FailingRepository(inner.accounts, writes))
        self.contacts = cast(ContactRepository, _FailingRepository(inner.contacts, writes))
        self.opportunities = cast(
            OpportunityRepository, _FailingRepository(inner.opportunities, writes)
        )
        keys = getattr(inner, "idempotency", None)
        if keys is not None:
            self.idempotency = cast(IdempotencyRepository, _FailingRepository(keys, writes))
        merges = getattr(inner, "merges", None)
        if merges is not None:  # stores that keep merge records
            self.merges = cast(MergeRepository, _FailingRepository(merges, writes))
        record_merges = getattr(inner, "record_merges", None)
        if record_merges is not None:  # stores that keep contact and account merges
            self.record_merges = cast(
                RecordMergeRepository, _FailingRepository(record_merges, writes)
            )

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
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()

    @property
    def events(self) -> Sequence[LeadEvent]:
        return self._inner.events


class FailingStore:
    """Wraps a real store: the ``fail_at``-th write (counted over every unit of work) raises
    StorageUnavailable after reaching the unit of work."""

    def __init__(self, inner: LeadStore, fail_at: int | None) -> None:
        self._inner = inner
        self.writes = Writes(fail_at)

    def unit_of_work(self) -> FailingUnitOfWork:
        return FailingUnitOfWork(self._inner.unit_of_work(), self.writes)

    def close(self) -> None:
        self._inner.close()
