"""The contract of idempotency keys and the transactional outbox, as test mixins.

:class:`~leadkit.testing.contract.LeadStoreContract` inherits both, so an adapter that passes
the contract suite passes these too. A store that chooses not to offer one of them sets the
capability flag to False and those tests skip:

``supports_idempotency`` (default True)
    Units of work offer ``uow.idempotency`` (:class:`~leadkit.ports.IdempotencyRepository`),
    written in the unit of work's transaction; the services' ``idempotency_key=`` works.
``supports_outbox`` (default True)
    The store offers ``store.outbox`` (:class:`~leadkit.ports.Outbox`): every committed event
    is written to it with the changes that raised it.

The mixins use the suite's ``new_store`` and ``empty_store`` fixtures (so the one
``make_store`` override serves them) and the flags ``supports_concurrent_readers``.

The idempotency property (:meth:`IdempotencyContract.test_replaying_a_keyed_call_is_one_call`)
draws an operation (create, qualify, bulk qualify, disqualify, reactivate, mass edit), runs
it with a key, replays it 1-5 times and checks that the store holds exactly what one call
left and every replay returned the first result; then the same key with another request
must raise IdempotencyKeyReuse and change nothing.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.conversion import Choice, NoDuplicates, QualifyRequest
from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConfigurationError,
    IdempotencyKeyReuse,
    InvalidValue,
    StorageUnavailable,
)
from leadkit.events import LeadEvent
from leadkit.idempotency import IdempotencyKey, prune_keys, run_once
from leadkit.lead import Lead
from leadkit.mass_edit import mass_edit, set_field
from leadkit.patch import LeadPatch
from leadkit.policies import DEFAULT_POLICY
from leadkit.ports import (
    IdempotencyRepository,
    LeadQuery,
    LeadSort,
    LeadStore,
    Outbox,
    OutboxEvent,
    StoredResponse,
    UnitOfWork,
)
from leadkit.serialization import make_converter
from leadkit.services import create_lead, disqualify, qualify, qualify_many, reactivate
from leadkit.status import StatusReason
from leadkit.values import LeadId, PersonName, UserRef

StoreFactory = Callable[..., LeadStore]
"""The contract's ``new_store`` fixture: makes a fresh, empty store (closed after the test)."""

__all__ = ["IdempotencyContract", "OutboxContract"]

_T0: Final = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
_HOUR: Final = timedelta(hours=1)
_USER: Final = UserRef("ines", "Ines")
_OTHER_USER: Final = UserRef("olof")


def _new(n: int, *, company: str = "") -> Lead:
    return Lead.create(
        LeadId(f"rel-{n:03}"),
        LeadPatch(topic=f"Topic {n}", name=PersonName(first="Ada", last=f"Lee {n}"),
                  company=company),
        at=_T0,
        by=_USER,
    )  # fmt: skip


def _add(store: LeadStore, *leads: Lead) -> None:
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()


def _keys(uow: UnitOfWork) -> IdempotencyRepository:
    keys = getattr(uow, "idempotency", None)
    assert keys is not None, "the unit of work offers no idempotency repository"
    return keys  # type: ignore[no-any-return]


def _outbox(store: LeadStore) -> Outbox:
    box = getattr(store, "outbox", None)
    assert box is not None, "the store offers no outbox"
    return box  # type: ignore[no-any-return]


def _response(key: str = "k-1", *, at: datetime = _T0, ttl: timedelta = _HOUR) -> StoredResponse:
    return StoredResponse(key, "hash-" + key, '{"ok":true}', created_at=at, expires_at=at + ttl)


def _put_and_commit(uow: UnitOfWork, response: StoredResponse) -> None:
    _keys(uow).put(response)
    uow.commit()


def _snapshot(store: LeadStore) -> dict[str, Any]:
    """Everything stored, comparable: leads, records, and the outbox's waiting events
    (without their random ids)."""
    with store.unit_of_work() as uow:
        shot: dict[str, Any] = {
            "leads": list(uow.leads.stream(LeadQuery(sort=LeadSort.ID))),
            "accounts": list(uow.accounts.list()),
            "contacts": list(uow.contacts.list()),
            "opportunities": list(uow.opportunities.list()),
        }
    box = getattr(store, "outbox", None)
    if box is not None:
        backlog = box.backlog(at=_T0)
        shot["outbox"] = (backlog.pending, backlog.delivered)
    return shot


class _Ids:
    """A deterministic id factory (the core never invents ids)."""

    def __init__(self, prefix: str) -> None:
        self._numbers = itertools.count(1)
        self._prefix = prefix

    def __call__(self) -> str:
        return f"{self._prefix}-{next(self._numbers):04}"


def _comparable(result: object) -> object:
    """Results with ``eq=False`` (bulk outcomes) as comparable tuples."""
    if isinstance(result, tuple):
        return tuple(_comparable(item) for item in result)
    outcomes = getattr(result, "outcomes", None)
    if outcomes is not None:
        return (getattr(result, "committed", None), _comparable(tuple(outcomes)))
    if hasattr(result, "status") and hasattr(result, "lead_id"):
        fields = ("lead_id", "status", "result", "lead")
        return tuple(getattr(result, name, None) for name in fields)
    return result


# An operation of the property: (name, call(store, key, variant)) with variant 0 the request
# and 1 another request.
_Call = Callable[[LeadStore, str, int], object]


def _operations() -> dict[str, _Call]:
    none = NoDuplicates()

    def create(store: LeadStore, key: str, variant: int) -> object:
        fields = LeadPatch(topic=f"New {variant}", name=PersonName(last="New"))
        return create_lead(store, fields, at=_T0, by=_USER, id_factory=_Ids("new"),
                           idempotency_key=key)  # fmt: skip

    def qualify_one(store: LeadStore, key: str, variant: int) -> object:
        request = QualifyRequest(create_opportunity=Choice.NO if variant else Choice.POLICY)
        return qualify(store, LeadId("rel-001"), request, DEFAULT_POLICY, at=_T0, by=_USER,
                       finder=none, id_factory=_Ids("q"), idempotency_key=key)  # fmt: skip

    def qualify_bulk(store: LeadStore, key: str, variant: int) -> object:
        request = QualifyRequest(create_account=Choice.NO if variant else Choice.POLICY)
        ids = [LeadId("rel-001"), LeadId("rel-002")]
        return qualify_many(store, ids, request, DEFAULT_POLICY, at=_T0, by=_USER,
                            finder=none, id_factory=_Ids("m"), idempotency_key=key)  # fmt: skip

    def disqualify_one(store: LeadStore, key: str, variant: int) -> object:
        reason = StatusReason.CANCELED if variant else StatusReason.LOST
        return disqualify(store, LeadId("rel-002"), reason, at=_T0, by=_USER,
                          idempotency_key=key)  # fmt: skip

    def reactivate_one(store: LeadStore, key: str, variant: int) -> object:
        reason = StatusReason.CONTACTED if variant else StatusReason.NEW
        return reactivate(store, LeadId("rel-003"), at=_T0, by=_USER, reason=reason,
                          idempotency_key=key)  # fmt: skip

    def edit_many(store: LeadStore, key: str, variant: int) -> object:
        ids = [LeadId("rel-001"), LeadId("rel-002"), LeadId("rel-003")]
        edit = set_field("topic", f"Edited {variant}")
        return mass_edit(store, ids, edit, at=_T0, by=_USER, idempotency_key=key,
                         all_or_nothing=False)  # fmt: skip

    return {
        "create": create,
        "qualify": qualify_one,
        "qualify_many": qualify_bulk,
        "disqualify": disqualify_one,
        "reactivate": reactivate_one,
        "mass_edit": edit_many,
    }


_OPERATIONS: Final = _operations()


def _seed(store: LeadStore) -> None:
    """Three leads: two Open (one with a company), one Disqualified (to reactivate)."""
    _add(store, _new(1, company="Acme"), _new(2), _new(3))
    disqualify(store, LeadId("rel-003"), StatusReason.LOST, at=_T0, by=_USER)


class _Capabilities:
    def _require(self, flag: str) -> None:
        if not getattr(self, flag):
            pytest.skip(f"the store does not declare {flag}")


class IdempotencyContract(_Capabilities):
    """Idempotency keys: the repository's promises and the services' replay property."""

    supports_idempotency: ClassVar[bool] = True
    supports_concurrent_readers: ClassVar[bool] = True
    idempotency_examples: ClassVar[int] = 25

    # The repository -------------------------------------------------------------------------

    def test_an_unknown_idempotency_key_reads_none(self, empty_store: LeadStore) -> None:
        self._require("supports_idempotency")
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("never-used") is None

    def test_a_put_response_reads_back_in_its_unit_of_work_and_after_commit(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_idempotency")
        response = _response()
        with empty_store.unit_of_work() as uow:
            _keys(uow).put(response)
            assert _keys(uow).get("k-1") == response
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("k-1") == response

    def test_a_response_not_committed_is_forgotten(self, empty_store: LeadStore) -> None:
        self._require("supports_idempotency")
        with empty_store.unit_of_work() as uow:
            _keys(uow).put(_response())
        with empty_store.unit_of_work() as uow:
            _keys(uow).put(_response("k-2"))
            uow.rollback()
            assert _keys(uow).get("k-2") is None
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("k-1") is None
            assert _keys(uow).get("k-2") is None

    def test_putting_a_live_key_again_raises_already_exists(self, empty_store: LeadStore) -> None:
        self._require("supports_idempotency")
        with empty_store.unit_of_work() as uow:
            _keys(uow).put(_response())
            with pytest.raises(AlreadyExists):
                _keys(uow).put(_response(at=_T0 + timedelta(minutes=5)))
            uow.commit()
        with empty_store.unit_of_work() as uow, pytest.raises(AlreadyExists):
            _keys(uow).put(_response(at=_T0 + timedelta(minutes=59)))
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("k-1") == _response()

    def test_an_expired_key_is_replaced(self, empty_store: LeadStore) -> None:
        self._require("supports_idempotency")
        with empty_store.unit_of_work() as uow:
            _keys(uow).put(_response())
            uow.commit()
        later = _response(at=_T0 + _HOUR)  # expires_at is exclusive: the old one has expired
        with empty_store.unit_of_work() as uow:
            _keys(uow).put(later)
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("k-1") == later

    def test_prune_deletes_only_the_expired_keys(self, empty_store: LeadStore) -> None:
        self._require("supports_idempotency")
        with empty_store.unit_of_work() as uow:
            _keys(uow).put(_response("short", ttl=timedelta(minutes=10)))
            _keys(uow).put(_response("long", ttl=timedelta(hours=30)))
            uow.commit()
        assert prune_keys(empty_store, now=_T0 + timedelta(minutes=9)) == 0
        assert prune_keys(empty_store, now=_T0 + timedelta(minutes=10)) == 1
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("short") is None
            assert _keys(uow).get("long") is not None
        with pytest.raises(InvalidValue):
            prune_keys(empty_store, now=datetime(2025, 1, 1))

    def test_of_two_units_of_work_storing_one_key_only_the_first_commit_lands(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_idempotency")
        self._require("supports_concurrent_readers")
        with empty_store.unit_of_work() as late:
            assert _keys(late).get("k-1") is None
            with empty_store.unit_of_work() as early:
                _keys(early).put(_response())
                early.commit()
            with pytest.raises((AlreadyExists, ConcurrencyConflict)):
                _put_and_commit(late, _response(at=_T0 + timedelta(minutes=1)))
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("k-1") == _response()

    # The services -----------------------------------------------------------------------------

    def test_a_keyed_create_stores_its_key_with_the_lead(self, empty_store: LeadStore) -> None:
        self._require("supports_idempotency")
        fields = LeadPatch(topic="Boats", name=PersonName(last="Berg"))
        first = create_lead(empty_store, fields, at=_T0, by=_USER, id_factory=_Ids("a"),
                            idempotency_key="create-1")  # fmt: skip
        again = create_lead(empty_store, fields, at=_T0 + timedelta(minutes=3), by=_USER,
                            id_factory=_Ids("b"), idempotency_key="create-1")  # fmt: skip
        assert again == first
        with empty_store.unit_of_work() as uow:
            assert uow.leads.count(LeadQuery()) == 1
            stored = _keys(uow).get("create-1")
            assert stored is not None
            assert stored.expires_at == _T0 + timedelta(hours=24)

    def test_a_failed_keyed_call_stores_neither_its_change_nor_its_key(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_idempotency")

        def work(uow: UnitOfWork) -> Lead:
            uow.leads.add(_new(9))
            raise StorageUnavailable("the disk is full")

        with pytest.raises(StorageUnavailable):
            run_once(empty_store, "k-fail", operation="test", request={}, at=_T0, work=work,
                     result_type=Lead)  # fmt: skip
        with empty_store.unit_of_work() as uow:
            assert _keys(uow).get("k-fail") is None
            assert uow.leads.count(LeadQuery()) == 0

    def test_an_expired_key_runs_the_call_again(self, empty_store: LeadStore) -> None:
        self._require("supports_idempotency")
        fields = LeadPatch(topic="Boats", name=PersonName(last="Berg"))
        key = IdempotencyKey("create-2", ttl=timedelta(minutes=30))
        ids = _Ids("c")
        first = create_lead(empty_store, fields, at=_T0, by=_USER, id_factory=ids,
                            idempotency_key=key)  # fmt: skip
        later = create_lead(empty_store, fields, at=_T0 + _HOUR, by=_USER, id_factory=ids,
                            idempotency_key=key)  # fmt: skip
        assert later.id != first.id

    def test_the_key_of_another_request_raises_and_changes_nothing(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_idempotency")
        fields = LeadPatch(topic="Boats", name=PersonName(last="Berg"))
        create_lead(empty_store, fields, at=_T0, by=_USER, id_factory=_Ids("d"),
                    idempotency_key="create-3")  # fmt: skip
        before = _snapshot(empty_store)
        with pytest.raises(IdempotencyKeyReuse) as raised:
            create_lead(empty_store, fields, at=_T0, by=_OTHER_USER, id_factory=_Ids("e"),
                        idempotency_key="create-3")  # fmt: skip
        assert isinstance(raised.value, AlreadyExists)
        assert raised.value.key == "create-3"
        assert _snapshot(empty_store) == before

    def test_a_store_without_keys_refuses_a_key(self, empty_store: LeadStore) -> None:
        if self.supports_idempotency:
            pytest.skip("the store keeps idempotency keys")
        with pytest.raises(ConfigurationError):
            create_lead(empty_store, LeadPatch(topic="x", name=PersonName(last="y")), at=_T0,
                        by=_USER, id_factory=_Ids("f"), idempotency_key="k")  # fmt: skip

    def test_replaying_a_keyed_call_is_one_call(self, new_store: StoreFactory) -> None:
        """Replay any keyed call 1-5 times: the store holds what one call left, every replay
        returns the first result; the key with another request raises and changes nothing."""
        self._require("supports_idempotency")

        @settings(
            max_examples=self.idempotency_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            name=st.sampled_from(sorted(_OPERATIONS)),
            replays=st.integers(min_value=1, max_value=5),
            later=st.integers(min_value=0, max_value=23 * 60),
        )
        def check(name: str, replays: int, later: int) -> None:
            store = new_store()
            try:
                _seed(store)
                call = _OPERATIONS[name]
                first = call(store, f"key-{name}", 0)
                once = _snapshot(store)
                for _ in range(replays):
                    again = call(store, f"key-{name}", 0)
                    assert _comparable(again) == _comparable(first)
                    assert _snapshot(store) == once
                with pytest.raises(IdempotencyKeyReuse):
                    call(store, f"key-{name}", 1)
                assert _snapshot(store) == once
            finally:
                with contextlib.suppress(StorageUnavailable):
                    store.close()

        check()


class OutboxContract(_Capabilities):
    """The transactional outbox: what commits goes in, claim/ack/lease/purge."""

    supports_outbox: ClassVar[bool] = True

    def test_every_committed_event_is_in_the_outbox_in_commit_order(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_outbox")
        first, second = _new(1), _new(2)
        _add(empty_store, first, second)
        with empty_store.unit_of_work() as uow:
            lead = uow.leads.get(first.id)
            uow.leads.save(lead.update(LeadPatch(topic="Changed"), at=_T0 + _HOUR, by=_USER))
            uow.commit()
        pending = _outbox(empty_store).pending(10)
        converter = make_converter()
        events = [converter.loads(e.payload, LeadEvent) for e in pending]
        expected = [*first.pending_events, *second.pending_events]
        assert events[:2] == expected
        assert [e.type for e in pending] == ["LeadCreated", "LeadCreated", "LeadUpdated"]
        assert [e.lead_id for e in pending] == [first.id, second.id, first.id]
        positions = [e.position for e in pending]
        assert positions == sorted(positions)
        assert len(set(positions)) == 3
        assert len({e.event_id for e in pending}) == 3
        assert pending[2].occurred_at == _T0 + _HOUR

    def test_events_of_a_rolled_back_or_failed_unit_of_work_never_reach_the_outbox(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_outbox")
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_new(1))  # left without commit
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_new(2))
            uow.rollback()
            uow.commit()
        _add(empty_store, _new(3))
        with pytest.raises(AlreadyExists):
            _add(empty_store, _new(4), _new(3))
        assert [e.lead_id.value for e in _outbox(empty_store).pending(10)] == ["rel-003"]

    def test_claim_hands_out_the_oldest_events_and_a_lease_keeps_them_from_others(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_outbox")
        _add(empty_store, _new(1), _new(2), _new(3))
        box = _outbox(empty_store)
        first = box.claim(2, lease=_HOUR, at=_T0)
        assert [e.lead_id.value for e in first] == ["rel-001", "rel-002"]
        assert all(e.attempts == 1 for e in first)
        second = box.claim(10, lease=_HOUR, at=_T0)
        assert [e.lead_id.value for e in second] == ["rel-003"]
        assert box.claim(10, lease=_HOUR, at=_T0 + timedelta(minutes=59)) == ()
        backlog = box.backlog(at=_T0)
        assert (backlog.pending, backlog.leased, backlog.delivered) == (3, 3, 0)

    def test_an_expired_lease_comes_back(self, empty_store: LeadStore) -> None:
        self._require("supports_outbox")
        _add(empty_store, _new(1))
        box = _outbox(empty_store)
        (claimed,) = box.claim(10, lease=_HOUR, at=_T0)
        (again,) = box.claim(10, lease=_HOUR, at=_T0 + _HOUR)
        assert again.event_id == claimed.event_id
        assert again.attempts == 2

    def test_a_lead_whose_earlier_event_is_leased_waits(self, empty_store: LeadStore) -> None:
        self._require("supports_outbox")
        _add(empty_store, _new(1))
        _add(empty_store, _new(2))
        with empty_store.unit_of_work() as uow:
            lead = uow.leads.get(LeadId("rel-001"))
            uow.leads.save(lead.update(LeadPatch(topic="Later"), at=_T0, by=_USER))
            uow.commit()
        box = _outbox(empty_store)
        (head,) = box.claim(1, lease=_HOUR, at=_T0)
        assert head.lead_id.value == "rel-001"
        others = box.claim(10, lease=_HOUR, at=_T0)
        assert [e.lead_id.value for e in others] == ["rel-002"]  # rel-001's update waits
        assert box.ack([head.event_id], at=_T0) == 1
        (update,) = box.claim(10, lease=_HOUR, at=_T0)
        assert (update.lead_id.value, update.type) == ("rel-001", "LeadUpdated")

    def test_ack_delivers_and_purge_trims_the_delivered(self, empty_store: LeadStore) -> None:
        self._require("supports_outbox")
        _add(empty_store, _new(1), _new(2))
        box = _outbox(empty_store)
        claimed = box.claim(10, lease=_HOUR, at=_T0)
        assert box.ack([claimed[0].event_id, "no-such-event"], at=_T0) == 1
        assert box.ack([claimed[0].event_id], at=_T0) == 0
        assert box.ack([], at=_T0) == 0
        assert [e.event_id for e in box.pending(10)] == [claimed[1].event_id]
        backlog = box.backlog(at=_T0)
        assert (backlog.pending, backlog.delivered) == (1, 1)
        assert backlog.oldest_position == claimed[1].position
        assert box.purge(delivered_before=_T0) == 0
        assert box.purge(delivered_before=_T0 + timedelta(seconds=1)) == 1
        backlog = box.backlog(at=_T0)
        assert (backlog.pending, backlog.delivered) == (1, 0)
        assert box.claim(10, lease=_HOUR, at=_T0 + _HOUR)[0].event_id == claimed[1].event_id

    def test_claim_refuses_bad_arguments(self, empty_store: LeadStore) -> None:
        self._require("supports_outbox")
        box = _outbox(empty_store)
        for limit in (0, 1001, True):
            with pytest.raises(InvalidValue):
                box.claim(limit, lease=_HOUR, at=_T0)
        with pytest.raises(InvalidValue):
            box.claim(1, lease=timedelta(0), at=_T0)
        with pytest.raises(InvalidValue):
            box.claim(1, lease=_HOUR, at=datetime(2025, 1, 1))
        with pytest.raises(InvalidValue):
            box.purge(delivered_before=datetime(2025, 1, 1))

    def test_an_empty_outbox_has_no_backlog(self, empty_store: LeadStore) -> None:
        self._require("supports_outbox")
        box = _outbox(empty_store)
        assert box.claim(10, lease=_HOUR, at=_T0) == ()
        backlog = box.backlog(at=_T0)
        assert attrs.astuple(backlog) == (0, 0, 0, None, None)

    def test_every_event_of_random_commits_is_claimed_once_in_per_lead_order(
        self, new_store: StoreFactory
    ) -> None:
        """Random commits and random claims/acks: each event handed out once while leases
        hold, all of them in the end, each lead's in commit order."""
        self._require("supports_outbox")

        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            steps=st.lists(
                st.tuples(st.sampled_from(["write", "claim", "ack"]), st.integers(1, 4)),
                min_size=1,
                max_size=25,
            )
        )
        def check(steps: list[tuple[str, int]]) -> None:
            store = new_store()
            try:
                _run_outbox_steps(store, steps)
            finally:
                with contextlib.suppress(StorageUnavailable):
                    store.close()

        check()


def _run_outbox_steps(store: LeadStore, steps: list[tuple[str, int]]) -> None:
    box = _outbox(store)
    written: list[str] = []  # lead id per committed event, in commit order
    versions: dict[str, int] = {}
    held: list[OutboxEvent] = []
    delivered: list[OutboxEvent] = []
    for action, n in steps:
        if action == "write":
            key = f"rel-{n:03}"
            with store.unit_of_work() as uow:
                if key in versions:
                    lead = uow.leads.get(LeadId(key))
                    uow.leads.save(lead.update(LeadPatch(topic=f"v{versions[key]}"), at=_T0,
                                               by=_USER))  # fmt: skip
                else:
                    uow.leads.add(_new(n))
                uow.commit()
            versions[key] = versions.get(key, 0) + 1
            written.append(key)
        elif action == "claim":
            got = box.claim(n, lease=_HOUR, at=_T0)
            assert not {e.event_id for e in got} & {e.event_id for e in held}
            held += got
        elif held:
            done, held = held[:n], held[n:]
            box.ack([e.event_id for e in done], at=_T0)
            delivered += done
    delivered += held
    box.ack([e.event_id for e in held], at=_T0)
    while batch := box.claim(1000, lease=_HOUR, at=_T0):
        delivered += batch
        box.ack([e.event_id for e in batch], at=_T0)
    assert sorted(e.lead_id.value for e in delivered) == sorted(written)
    assert len({e.event_id for e in delivered}) == len(written)
    for key in versions:
        mine = [e.position for e in delivered if e.lead_id.value == key]
        assert mine == sorted(mine), f"events of {key} handed out out of order"
