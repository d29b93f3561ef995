"""The stores the merge property tests run on (``stores``, the body of their ``make_store``):
memory, SQLite files and (when ``LEADKIT_TEST_PG_URL`` is set) PostgreSQL, one database
emptied for every example."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.ports import LeadStore
from support.postgres import fresh_database, postgres_url

StoreFactory = Callable[[], LeadStore]


def _empty(store: LeadStore) -> None:
    with store.unit_of_work() as uow:
        for lead in list(uow.leads.stream()):
            uow.leads.delete(lead.id)
        repositories: list[Any] = [uow.opportunities, uow.contacts, uow.accounts]
        repositories += [getattr(uow, "merges"), getattr(uow, "record_merges")]  # noqa: B009
        for repository in repositories:
            for record in repository.list():
                repository.delete(record.id)
        uow.commit()


ADAPTERS = ("memory", "sqlite", "postgresql")


def stores(adapter: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """The body of a ``make_store`` fixture: a factory of empty stores of ``adapter`` (one of
    :data:`ADAPTERS`); every store made is closed afterwards."""
    made: list[LeadStore] = []
    pg_url = fresh_database(postgres_url()) if adapter == "postgresql" else ""

    def new() -> LeadStore:
        store: LeadStore
        if adapter == "memory":
            store = MemoryStore()
        elif adapter == "sqlite":
            store = SqlStore.open(f"sqlite:///{tmp_path / uuid4().hex}.db")
        else:
            store = SqlStore.open(pg_url)
            _empty(store)  # one database for every example
        made.append(store)
        return store

    yield new
    for store in made:
        store.close()
