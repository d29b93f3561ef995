"""The SQL adapter: SQLAlchemy 2 Core, a SQLite file by default, PostgreSQL by URL.

Install it with ``pip install "leadkit[sql]"``::

    from leadkit.adapters.sql import SqlStore

    with SqlStore.open(path="leads.db") as store:          # or SqlStore.open("postgresql://...")
        with store.unit_of_work() as uow:
            uow.leads.add(lead)
            uow.commit()

See :mod:`leadkit.adapters.sql.store` for the transaction and durability choices and
:mod:`leadkit.adapters.sql.schema` for the tables and migrations.
"""

from __future__ import annotations

from leadkit.adapters.sql.schema import DATABASE_SCHEMA_VERSION
from leadkit.adapters.sql.store import (
    BUSY_TIMEOUT_SECONDS,
    SqlLeadRepository,
    SqlRecordRepository,
    SqlStore,
    SqlUnitOfWork,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "DATABASE_SCHEMA_VERSION",
    "SqlLeadRepository",
    "SqlRecordRepository",
    "SqlStore",
    "SqlUnitOfWork",
]
