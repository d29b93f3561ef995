"""The suite's shared base: the store factory protocol, the capability flags, the hooks and
the fixtures."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Protocol

import pytest

from leadkit.errors import StorageUnavailable
from leadkit.lead import Lead
from leadkit.ports import EventSink, LeadQuery, LeadSort, LeadStore
from leadkit.testing.contract._examples import _population, _population_changes
from leadkit.testing.contract._helpers import _store_leads
from leadkit.values import LeadId


class StoreFactory(Protocol):
    """Makes a fresh, empty store; ``event_sink`` is passed only by the event tests."""

    def __call__(self, *, event_sink: EventSink | None = None) -> LeadStore: ...


class _ContractBase:
    """What every part of the suite shares: the capability flags, the hooks an adapter
    overrides and the fixtures (see :class:`~leadkit.testing.contract.LeadStoreContract`)."""

    supports_concurrent_readers: ClassVar[bool] = True
    supports_concurrent_writers: ClassVar[bool] = True
    supports_threads: ClassVar[bool] = True
    supports_reopen: ClassVar[bool] = False
    supports_merges: ClassVar[bool] = True
    supports_record_merges: ClassVar[bool] = True
    state_machine_examples: ClassVar[int] = 30
    state_machine_steps: ClassVar[int] = 20
    state_machine_derandomize: ClassVar[bool] = False
    state_machine_fast: ClassVar[bool] = False

    # Hooks ------------------------------------------------------------------------------------

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """Override: return a factory of fresh, empty stores (see the module docstring)."""
        raise NotImplementedError("override the make_store fixture of LeadStoreContract")

    def reopen_store(self, store: LeadStore) -> LeadStore:
        """Override when ``supports_reopen``: close ``store`` and open it again on the same
        data."""
        raise NotImplementedError("override reopen_store when supports_reopen is True")

    # Fixtures ---------------------------------------------------------------------------------

    @pytest.fixture
    def new_store(self, make_store: StoreFactory) -> Iterator[StoreFactory]:
        """Like ``make_store``, and every store it makes is closed after the test."""
        made: list[LeadStore] = []

        def new(*, event_sink: EventSink | None = None) -> LeadStore:
            store = make_store() if event_sink is None else make_store(event_sink=event_sink)
            made.append(store)
            return store

        yield new
        for store in made:
            with contextlib.suppress(StorageUnavailable):
                store.close()

    @pytest.fixture
    def empty_store(self, new_store: StoreFactory) -> LeadStore:
        """A fresh store holding nothing."""
        return new_store()

    @pytest.fixture
    def population(self, empty_store: LeadStore) -> tuple[LeadStore, list[Lead]]:
        """A store holding the twelve population leads, as stored (versions 1 and 2)."""
        _store_leads(empty_store, *_population())
        changes = _population_changes()
        with empty_store.unit_of_work() as uow:
            for key, change in changes.items():
                uow.leads.save(change(uow.leads.get(LeadId(key))))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            stored = list(uow.leads.stream(LeadQuery(sort=LeadSort.ID)))
        return empty_store, stored

    def _require(self, flag: str) -> None:
        if not getattr(self, flag):
            pytest.skip(f"the store does not declare {flag}")


def _lock_hint(flag: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a test that opens two units of work in one thread: when it fails on a lock or
    timeout error (a store whose writer holds a lock until it commits waits for itself),
    the failure says which capability flag to set."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(test)
        def run(self: _ContractBase, *args: Any, **kwargs: Any) -> None:
            try:
                test(self, *args, **kwargs)
            except (StorageUnavailable, TimeoutError) as e:
                text = str(e).lower()
                if not any(word in text for word in ("lock", "timeout", "timed out", "busy")):
                    raise
                raise AssertionError(
                    f"{type(e).__name__}: {e}\n-> this test runs two units of work in one "
                    f"thread; a store whose writer (or reader) waits for another's lock cannot "
                    f"pass it: set {flag} = False on {type(self).__name__}"
                ) from e

        return run

    return decorate
