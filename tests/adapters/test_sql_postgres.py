"""What only a server has: PostgreSQL's driver errors become leadkit errors.

An unreachable server, a lost connection, a lock or statement timeout give StorageUnavailable
naming the server without its password; a deadlock gives ConcurrencyConflict and stores
nothing of the unit of work that lost; the pool replaces a connection the server dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import make_url

from leadkit.adapters.sql import SqlStore
from leadkit.errors import ConcurrencyConflict, StorageUnavailable
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery
from leadkit.values import LeadId, PersonName, UserRef
from support.postgres import DatabasePool, postgres_url

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("ann")


def new_lead(n: int) -> Lead:
    return Lead.create(
        LeadId(f"lead-{n:05}"),
        LeadPatch(topic=f"Topic {n}", name=PersonName(last=f"Last {n}")),
        at=T0 + timedelta(seconds=n),
        by=ANN,
        owner=ANN,
    )


@pytest.fixture
def url(pg_databases: DatabasePool) -> str:
    return pg_databases.take()


@pytest.fixture
def store(url: str) -> Iterator[SqlStore]:
    with SqlStore.open(url, create=False) as opened:
        with opened.unit_of_work() as uow:
            for n in range(2):
                uow.leads.add(new_lead(n))
            uow.commit()
        yield opened


def with_options(url: str, options: str) -> str:
    return make_url(url).update_query_dict({"options": options}).render_as_string(False)


def terminate_sessions(url: str) -> int:
    """End every other session on the database of ``url`` (as a server restart would)."""
    import psycopg

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_unreachable_server_gives_storage_unavailable_without_the_password() -> None:
    postgres_url()  # skips (fails under CI) without the test server, like its neighbours
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore.open("postgresql+psycopg://leadkit:s3cr3t-pw@127.0.0.1:1/leads", busy_timeout=1)
    message = str(caught.value)
    assert "127.0.0.1:1/leads" in message
    assert "s3cr3t-pw" not in message
    assert "***" in message


def test_a_wrong_password_is_not_repeated_in_the_message(url: str) -> None:
    # The test server trusts local connections, so name a database that does not exist.
    bad = make_url(url).set(password="hunter2-pw", database="no_such_db").render_as_string(False)
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore.open(bad)
    assert "hunter2-pw" not in str(caught.value)
    assert "no_such_db" in str(caught.value)


def test_a_lost_connection_gives_storage_unavailable_and_the_pool_recovers(
    store: SqlStore, url: str
) -> None:
    with store.unit_of_work() as uow:
        uow.leads.get(LeadId("lead-00000"))
        assert terminate_sessions(url) >= 1
        with pytest.raises(StorageUnavailable, match="database postgresql"):
            uow.leads.get(LeadId("lead-00001"))
    terminate_sessions(url)  # the pooled idle connections die too
    with store.unit_of_work() as uow:  # pre-ping replaces the dead connections
        assert uow.leads.count(LeadQuery()) == 2


def test_a_lock_timeout_gives_storage_unavailable_naming_busy_timeout(url: str) -> None:
    with SqlStore.open(url, create=False, busy_timeout=0.2) as store:
        with store.unit_of_work() as uow:
            uow.leads.add(new_lead(0))
            uow.commit()
        with store.unit_of_work() as first, store.unit_of_work() as second:
            lead = first.leads.get(LeadId("lead-00000"))
            first.leads.save(lead)  # holds the row lock until it ends
            with pytest.raises(StorageUnavailable, match="busy_timeout"):
                second.leads.save(lead)
        with store.unit_of_work() as uow:
            assert uow.leads.get(LeadId("lead-00000")).version == 1


def test_a_statement_timeout_gives_storage_unavailable(url: str) -> None:
    slow = with_options(url, "-c statement_timeout=100")
    with SqlStore.open(slow, create=False) as store:
        with store.unit_of_work() as uow:
            uow.leads.add(new_lead(0))
            uow.commit()
        with store.unit_of_work() as first, store.unit_of_work() as second:
            lead = first.leads.get(LeadId("lead-00000"))
            first.leads.save(lead)
            with pytest.raises(StorageUnavailable, match="statement timeout"):
                second.leads.save(lead)


def test_a_deadlock_gives_concurrency_conflict_and_stores_nothing_of_the_loser(url: str) -> None:
    quick = with_options(url, "-c deadlock_timeout=50ms")
    with SqlStore.open(quick, create=False) as store:
        with store.unit_of_work() as uow:
            uow.leads.add(new_lead(0))
            uow.leads.add(new_lead(1))
            uow.commit()
        both_hold_one = threading.Barrier(2)
        outcomes: dict[int, object] = {}

        def cross(first: int, second: int) -> None:
            try:
                with store.unit_of_work() as uow:
                    a = uow.leads.get(LeadId(f"lead-{first:05}"))
                    b = uow.leads.get(LeadId(f"lead-{second:05}"))
                    uow.leads.save(a.update(LeadPatch(description=f"by {first}"), at=T0, by=ANN))
                    both_hold_one.wait(timeout=10)
                    uow.leads.save(b.update(LeadPatch(description=f"by {first}"), at=T0, by=ANN))
                    uow.commit()
                outcomes[first] = "committed"
            except BaseException as e:
                outcomes[first] = e

        threads = [threading.Thread(target=cross, args=pair) for pair in ((0, 1), (1, 0))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(map(str, outcomes.values())).count("committed") == 1, outcomes
        [lost] = [o for o in outcomes.values() if o != "committed"]
        assert isinstance(lost, ConcurrencyConflict), lost
        assert lost.actual_version is not None
        assert lost.actual_version >= 1
        winner = next(k for k, o in outcomes.items() if o == "committed")
        with store.unit_of_work() as uow:
            stored = [uow.leads.get(LeadId(f"lead-{n:05}")) for n in range(2)]
        assert [lead.description for lead in stored] == [f"by {winner}"] * 2
        assert [lead.version for lead in stored] == [2, 2]
