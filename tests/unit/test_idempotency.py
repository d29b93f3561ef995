"""Idempotency keys: the key value, fingerprints, and the keyed paths the contract's replay
property does not reach (imports by batch, mass edit outcomes with errors, bulk qualification
retried after a failure, racing calls, a caller's unit of work, a store without keys).

Every store-level test runs on the memory store and on a SQLite file.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.conversion import Choice, NoDuplicates, QualifyRequest
from leadkit.errors import (
    AlreadyExists,
    ConfigurationError,
    IdempotencyKeyReuse,
    InvalidValue,
    LeadClosed,
    NotFound,
    StorageUnavailable,
)
from leadkit.idempotency import (
    DEFAULT_TTL,
    IdempotencyKey,
    RecordedError,
    as_key,
    request_hash,
    run_once,
)
from leadkit.io import ImportInterrupted, ImportPolicy, plan_import, run_import
from leadkit.lead import Lead
from leadkit.mass_editing import EditStatus, mass_edit, set_field
from leadkit.merging import Survivorship, plan_merge
from leadkit.patch import LeadPatch
from leadkit.policies import DEFAULT_POLICY
from leadkit.ports import LeadQuery, LeadStore, UnitOfWork
from leadkit.services import (
    OutcomeStatus,
    create_lead,
    disqualify,
    merge,
    qualify,
    qualify_many,
    unmerge,
)
from leadkit.status import StatusReason
from leadkit.values import LeadId, PersonName, UserRef
from support.failures import FailingStore

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
BY = UserRef("kim", "Kim")
NONE = NoDuplicates()
CSV = (
    b"Topic;First Name;Last Name;Email\r\n"
    b"Trucks;Asa;Oberg;asa@skargard.se\r\n"
    b"Service;Bjorn;Arleback;bjorn@gotastal.se\r\n"
    b"Website;Karin;Lind;karin@lind.se\r\n"
    b"Boats;Nils;Holm;nils@holm.se\r\n"
)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LeadStore]:
    made: LeadStore = (
        MemoryStore() if request.param == "memory" else SqlStore.open(path=tmp_path / "l.db")
    )
    yield made
    made.close()


def ids(prefix: str = "id") -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


def new(key: str, *, company: str = "") -> Lead:
    fields = LeadPatch(topic=f"Deal {key}", name=PersonName(first="Ada", last=key),
                       company=company)  # fmt: skip
    return Lead.create(LeadId(key), fields, at=AT, by=BY)


def seed(store: LeadStore, *leads: Lead) -> None:
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()


def everything(store: LeadStore) -> tuple[Any, ...]:
    with store.unit_of_work() as uow:
        return (
            list(uow.leads.stream(LeadQuery())),
            list(uow.accounts.list()),
            list(uow.contacts.list()),
            list(uow.opportunities.list()),
        )


# ---------------------------------------------------------------------------------------------
# The key and the fingerprint


@pytest.mark.parametrize("value", ["", "   ", "x" * 201, 42, None])
def test_a_key_must_be_a_non_empty_string_of_at_most_200_characters(value: Any) -> None:
    with pytest.raises(InvalidValue) as raised:
        IdempotencyKey(value)
    assert raised.value.field == "idempotency_key"


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1), 3600])
def test_a_key_lives_a_positive_time(ttl: Any) -> None:
    with pytest.raises(InvalidValue) as raised:
        IdempotencyKey("k", ttl=ttl)
    assert raised.value.field == "idempotency_key.ttl"


def test_a_plain_string_is_a_key_of_24_hours_and_a_scoped_key_keeps_the_ttl() -> None:
    key = as_key("order-7")
    assert key == IdempotencyKey("order-7", DEFAULT_TTL)
    assert timedelta(hours=24) == DEFAULT_TTL
    assert as_key(None) is None
    short = IdempotencyKey("bulk", ttl=timedelta(minutes=5))
    assert short.scoped("lead-1") == IdempotencyKey("bulk/lead-1", timedelta(minutes=5))


def test_the_fingerprint_depends_on_the_request_and_operation_only() -> None:
    one = request_hash("qualify", {"lead_id": LeadId("a"), "by": BY})
    assert one == request_hash("qualify", {"by": BY, "lead_id": LeadId("a")})
    assert one != request_hash("qualify", {"lead_id": LeadId("b"), "by": BY})
    assert one != request_hash("disqualify", {"lead_id": LeadId("a"), "by": BY})
    assert len(one) == 64


def test_key_reuse_is_a_conflict_naming_the_key_and_operation() -> None:
    error = IdempotencyKeyReuse("k-9", "qualify")
    assert isinstance(error, AlreadyExists)
    assert (error.key, error.kind, error.operation) == ("k-9", "idempotency key", "qualify")
    assert "k-9" in str(error)
    assert "qualify" in str(error)


# ---------------------------------------------------------------------------------------------
# Services


def test_a_keyed_call_in_the_callers_unit_of_work_is_stored_only_when_it_commits(
    store: LeadStore,
) -> None:
    fields = LeadPatch(topic="Boats", name=PersonName(last="Berg"))
    with store.unit_of_work() as uow:
        create_lead(uow, fields, at=AT, by=BY, lead_id=LeadId("a"), idempotency_key="k")
    assert everything(store)[0] == []
    with store.unit_of_work() as uow:
        created = create_lead(uow, fields, at=AT, by=BY, lead_id=LeadId("a"), idempotency_key="k")
        uow.commit()
    again = create_lead(store, fields, at=AT, by=BY, lead_id=LeadId("a"), idempotency_key="k")
    assert again == created


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_failure_at_the_change_or_at_its_key_stores_neither(
    store: LeadStore, fail_at: int
) -> None:
    fields = LeadPatch(topic="Boats", name=PersonName(last="Berg"))
    failing = FailingStore(store, fail_at=fail_at)  # write 1: the lead, write 2: the key
    with pytest.raises(StorageUnavailable):
        create_lead(failing, fields, at=AT, by=BY, lead_id=LeadId("a"), idempotency_key="k")
    assert everything(store)[0] == []
    with store.unit_of_work() as uow:
        assert uow.idempotency.get("k") is None  # type: ignore[attr-defined]
    created = create_lead(store, fields, at=AT, by=BY, lead_id=LeadId("a"), idempotency_key="k")
    assert created.id == LeadId("a")


def test_create_lead_needs_exactly_one_of_an_id_and_an_id_factory(store: LeadStore) -> None:
    fields = LeadPatch(topic="Boats", name=PersonName(last="Berg"))
    with pytest.raises(InvalidValue) as raised:
        create_lead(store, fields, at=AT, by=BY)
    assert raised.value.field == "lead_id"
    with pytest.raises(InvalidValue):
        create_lead(store, fields, at=AT, by=BY, lead_id=LeadId("a"), id_factory=ids())


def test_a_keyed_disqualification_keeping_a_prospect_replays_its_plan(store: LeadStore) -> None:
    seed(store, new("p", company="Acme"))
    policy = attrs.evolve(DEFAULT_POLICY, prospects_on_disqualify=True)
    prospect = QualifyRequest(create_opportunity=Choice.NO)
    first = disqualify(store, LeadId("p"), StatusReason.LOST, at=AT, by=BY, policy=policy,
                       prospect=prospect, finder=NONE, id_factory=ids(),
                       idempotency_key="dq")  # fmt: skip
    before = everything(store)
    again = disqualify(store, LeadId("p"), StatusReason.LOST, at=AT, by=BY, policy=policy,
                       prospect=prospect, finder=NONE, id_factory=ids("other"),
                       idempotency_key="dq")  # fmt: skip
    assert again == first
    assert first.plan is not None
    assert first.plan.account_id is not None
    assert everything(store) == before


def test_a_retried_bulk_qualification_replays_the_qualified_and_retries_the_rest(
    store: LeadStore,
) -> None:
    seed(store, new("q1", company="Acme"))
    lead_ids = [LeadId("q1"), LeadId("q2")]
    first = qualify_many(store, lead_ids, QualifyRequest(), DEFAULT_POLICY, at=AT, by=BY,
                         finder=NONE, id_factory=ids("a"), idempotency_key="bulk")  # fmt: skip
    assert [o.status for o in first] == [OutcomeStatus.QUALIFIED, OutcomeStatus.FAILED]
    assert isinstance(first[1].error, NotFound)
    seed(store, new("q2"))
    second = qualify_many(store, lead_ids, QualifyRequest(), DEFAULT_POLICY, at=AT, by=BY,
                          finder=NONE, id_factory=ids("b"), idempotency_key="bulk")  # fmt: skip
    assert [o.status for o in second] == [OutcomeStatus.QUALIFIED, OutcomeStatus.QUALIFIED]
    assert second[0].result == first[0].result  # replayed: the same records, none new
    with store.unit_of_work() as uow:
        assert len(uow.accounts.list()) == 1
        assert uow.leads.get(LeadId("q2")).is_closed


def test_a_bulk_qualification_with_a_reused_key_raises_before_qualifying_anybody(
    store: LeadStore,
) -> None:
    seed(store, new("r1"), new("r2"))
    qualify_many(store, [LeadId("r1")], QualifyRequest(), DEFAULT_POLICY, at=AT, by=BY,
                 finder=NONE, id_factory=ids(), idempotency_key="bulk")  # fmt: skip
    before = everything(store)
    with pytest.raises(IdempotencyKeyReuse):
        qualify_many(store, [LeadId("r2"), LeadId("r1")], QualifyRequest(), DEFAULT_POLICY,
                     at=AT, by=UserRef("someone-else"), finder=NONE, id_factory=ids(),
                     idempotency_key="bulk")  # fmt: skip
    assert everything(store) == before


def test_racing_calls_with_one_key_store_one_change_and_both_get_its_result(
    store: LeadStore,
) -> None:
    both_read = threading.Barrier(2, timeout=10)
    results: list[Lead] = []
    errors: list[BaseException] = []
    numbers = itertools.count(1)

    def work(uow: UnitOfWork) -> Lead:
        both_read.wait()  # each has looked the key up and found nothing
        lead = new(f"race-{next(numbers)}")
        return uow.leads.add(lead)

    def call() -> None:
        try:
            results.append(run_once(store, "race", operation="create", request={"n": 1},
                                    at=AT, work=work, result_type=Lead))  # fmt: skip
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert results[0] == results[1]
    assert [lead.id for lead in everything(store)[0]] == [results[0].id]


def test_a_store_without_keys_refuses_a_key_before_doing_anything() -> None:
    class KeylessUnitOfWork:
        def __init__(self, inner: UnitOfWork) -> None:
            self.leads = inner.leads
            self._inner = inner

        def __enter__(self) -> KeylessUnitOfWork:
            self._inner.__enter__()
            return self

        def __exit__(self, *exc: object) -> None:
            self._inner.__exit__(None, None, None)

        def commit(self) -> None:
            self._inner.commit()

        def rollback(self) -> None:
            self._inner.rollback()

    class KeylessStore:
        def __init__(self) -> None:
            self.inner = MemoryStore()

        def unit_of_work(self) -> KeylessUnitOfWork:
            return KeylessUnitOfWork(self.inner.unit_of_work())

        def close(self) -> None:
            self.inner.close()

    keyless = KeylessStore()
    fields = LeadPatch(topic="Boats", name=PersonName(last="Berg"))
    with pytest.raises(ConfigurationError) as raised:
        create_lead(keyless, fields, at=AT, by=BY, lead_id=LeadId("a"),  # type: ignore[arg-type]
                    idempotency_key="k")  # fmt: skip
    assert raised.value.what == "idempotency_key"
    assert everything(keyless.inner)[0] == []


# ---------------------------------------------------------------------------------------------
# Mass edit


def test_a_keyed_mass_edit_replays_its_outcomes_with_their_errors(store: LeadStore) -> None:
    seed(store, new("m1"), new("m2"))
    disqualify(store, LeadId("m2"), StatusReason.LOST, at=AT, by=BY)
    selection = [LeadId("m1"), LeadId("m2"), LeadId("gone")]
    edit = set_field("topic", "Renamed")
    first = mass_edit(store, selection, edit, at=AT, by=BY, all_or_nothing=False,
                      idempotency_key="edit")  # fmt: skip
    statuses = [o.status for o in first.outcomes]
    assert statuses == [EditStatus.CHANGED, EditStatus.REFUSED_CLOSED, EditStatus.FAILED]
    before = everything(store)
    again = mass_edit(store, selection, edit, at=AT + timedelta(hours=1), by=BY,
                      all_or_nothing=False, idempotency_key="edit")  # fmt: skip
    assert everything(store) == before
    assert again.committed
    assert [(o.lead_id, o.status, o.lead) for o in again.outcomes] == [
        (o.lead_id, o.status, o.lead) for o in first.outcomes
    ]
    closed = again.outcomes[1].error
    assert isinstance(closed, LeadClosed)
    assert str(closed) == str(first.outcomes[1].error)
    failed = again.outcomes[2].error
    assert isinstance(failed, RecordedError)
    assert failed.kind == "NotFound"
    assert failed.message == str(first.outcomes[2].error)
    with pytest.raises(IdempotencyKeyReuse):
        mass_edit(store, selection, set_field("topic", "Other"), at=AT, by=BY,
                  all_or_nothing=False, idempotency_key="edit")  # fmt: skip


def test_a_mass_edit_that_stored_nothing_keeps_no_key(store: LeadStore) -> None:
    seed(store, new("n1"))
    selection = [LeadId("n1"), LeadId("n2")]
    edit = set_field("topic", "Renamed")
    failed = mass_edit(store, selection, edit, at=AT, by=BY, idempotency_key="edit-2")
    assert not failed.committed
    seed(store, new("n2"))
    done = mass_edit(store, selection, edit, at=AT, by=BY, idempotency_key="edit-2")
    assert done.committed
    assert [o.status for o in done.outcomes] == [EditStatus.CHANGED, EditStatus.CHANGED]


# ---------------------------------------------------------------------------------------------
# Import


def test_a_keyed_import_retried_from_the_start_writes_each_batch_once(store: LeadStore) -> None:
    plan = plan_import(CSV, policy=ImportPolicy(), store=store)
    new_ids = ids("L")
    with pytest.raises(ImportInterrupted):
        # batch 1: two adds and the key (writes 1-3); batch 2 fails at its first add
        run_import(FailingStore(store, fail_at=4), plan, ids=new_ids, at=AT, by=BY, batch_size=2,
                   idempotency_key="file-1")  # fmt: skip
    written = {lead.id for lead in everything(store)[0]}
    assert len(written) == 2  # the first batch
    report = run_import(store, plan, ids=new_ids, at=AT + timedelta(minutes=5), by=BY,
                        batch_size=2, idempotency_key="file-1")  # fmt: skip
    assert report.rows == 4
    assert report.created == 4
    stored = {lead.id for lead in everything(store)[0]}
    assert len(stored) == 4
    assert written <= stored
    assert set(report.lead_ids) == stored
    again = run_import(store, plan, ids=new_ids, at=AT, by=BY, batch_size=2,
                       idempotency_key="file-1")  # fmt: skip
    assert again.outcomes == report.outcomes
    assert {lead.id for lead in everything(store)[0]} == stored
    with pytest.raises(ImportInterrupted) as raised:
        run_import(store, plan, ids=new_ids, at=AT, by=BY, batch_size=3, idempotency_key="file-1")
    assert isinstance(raised.value.__cause__, IdempotencyKeyReuse)


def test_keyed_qualify_through_the_duplicate_engine_store(store: LeadStore) -> None:
    from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck

    check = EngineDuplicateCheck(store)
    seed(store, new("e1", company="Acme"))
    first = qualify(check.store, LeadId("e1"), QualifyRequest(), DEFAULT_POLICY, at=AT, by=BY,
                    finder=check, id_factory=ids(), idempotency_key="eq")  # fmt: skip
    again = qualify(check.store, LeadId("e1"), QualifyRequest(), DEFAULT_POLICY, at=AT, by=BY,
                    finder=check, id_factory=ids("x"), idempotency_key="eq")  # fmt: skip
    assert again == first


def test_a_keyed_merge_and_unmerge_replay_their_first_result(store: LeadStore) -> None:
    seed(store, new("g1"), new("g2", company="Berg AB"))
    with store.unit_of_work() as uow:
        master, other = uow.leads.get(LeadId("g1")), uow.leads.get(LeadId("g2"))
    plan = plan_merge(master, [other], Survivorship())
    merged = merge(store, plan, ids=ids("merge"), at=AT, by=BY, idempotency_key="mg")
    before = everything(store)
    again = merge(store, plan, ids=ids("again"), at=AT, by=BY, idempotency_key="mg")
    assert again == merged
    assert everything(store) == before
    with pytest.raises(IdempotencyKeyReuse):
        merge(store, plan, ids=ids("x"), at=AT, by=UserRef("other"), idempotency_key="mg")
    undone = unmerge(store, merged.merge_id, at=AT, by=BY, idempotency_key="um")
    after = everything(store)
    assert unmerge(store, merged.merge_id, at=AT, by=BY, idempotency_key="um") == undone
    assert everything(store) == after
