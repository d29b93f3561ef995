"""The bulk service paths give what one lead at a time gives: ``mass_edit`` (and so the bulk
disqualify) and ``mass_assign`` read and save in batches through the adapters' bulk methods,
``qualify_many`` runs a unit of work per batch; on the memory store and on SQLite, the outcomes
per lead and the stored state equal those of the one-by-one path (a store without the bulk
methods, or one lead per unit of work)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from tempfile import TemporaryDirectory
from types import TracebackType
from typing import Any, cast

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit import mass_editing
from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.assignment import AssignmentState, RoundRobin, Team
from leadkit.conversion import Choice, NoDuplicates, QualifyRequest
from leadkit.errors import StorageUnavailable
from leadkit.fields import LeadSource
from leadkit.lead import Lead
from leadkit.mass_editing import (
    ClearManualScore,
    Disqualify,
    EditOutcome,
    LeadEdit,
    MarkContacted,
    MassEditResult,
    SetManualScore,
    mass_assign,
    mass_edit,
    set_source,
)
from leadkit.patch import LeadPatch
from leadkit.policies import DEFAULT_POLICY
from leadkit.ports import LeadStore
from leadkit.services import QualifyOutcome, qualify_many
from leadkit.status import StatusReason
from leadkit.values import LeadId, UserRef
from support.postgres import fresh_database

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
ME = UserRef("me")
TEAM = Team("t", (UserRef("a"), UserRef("b"), UserRef("c")))
_BULK = ("get_many", "save_many", "scan")


class _OneByOneLeads:
    """The lead repository without its bulk methods: the services fall back to one read and
    one save per lead."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in _BULK:
            raise AttributeError(name)
        return getattr(self._inner, name)


class _OneByOneUnit:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._open: Any = None

    def __enter__(self) -> _OneByOneUnit:
        self._open = self._inner.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        return self._inner.__exit__(kind, error, tb)

    @property
    def leads(self) -> _OneByOneLeads:
        return _OneByOneLeads(self._open.leads)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open, name)


class _OneByOneStore:
    def __init__(self, inner: LeadStore) -> None:
        self._inner = inner

    def unit_of_work(self) -> _OneByOneUnit:
        return _OneByOneUnit(self._inner.unit_of_work())


@attrs.frozen
class _FailOn:
    """Sets the source, failing on one lead (a failure the edit raises)."""

    lead_id: LeadId
    description: str = "set source, failing on one lead"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        if lead.id == self.lead_id:
            raise RuntimeError("injected failure")
        return lead.update(LeadPatch(source=LeadSource.WEB), at=at, by=by)


@st.composite
def _stores(draw: st.DrawFn) -> list[Lead]:
    """Up to eight leads, some closed, some with a company (so qualifying makes an account)."""
    made = []
    for n in range(draw(st.integers(1, 8))):
        patch = LeadPatch(
            topic=f"Deal {n}",
            name=f"Per Son{n}",
            company=draw(st.sampled_from([None, f"Firm {n % 3}"])),
            email=draw(st.sampled_from([None, f"p{n}@firm.example"])),
        )
        lead = Lead.create(LeadId(f"L-{n}"), patch, at=T0, by=ME)
        if draw(st.booleans()) and draw(st.booleans()):
            lead = lead.disqualify(StatusReason.LOST, at=T0, by=ME)
        made.append(lead)
    return made


def _selection(data: st.DataObject, leads: list[Lead]) -> list[LeadId]:
    """Stored ids in any order, some twice, and an id nobody has."""
    ids = [lead.id for lead in leads] + [LeadId("L-missing")]
    return data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=12))


@contextmanager
def _two_stores(kind: str, leads: list[Lead]) -> Iterator[tuple[LeadStore, LeadStore]]:
    """Two stores of the same kind holding the same leads."""
    with TemporaryDirectory() as folder:
        made: list[LeadStore] = []
        for name in ("a", "b"):
            store: LeadStore
            if kind == "memory":
                store = MemoryStore()
            elif kind == "postgresql":
                store = SqlStore.open(fresh_database(), create=True)
            else:
                store = SqlStore.open(path=Path(folder) / name)
            with store.unit_of_work() as uow:
                for lead in leads:
                    uow.leads.add(lead)
                uow.commit()
            made.append(store)
        try:
            yield made[0], made[1]
        finally:
            for store in made:
                close = getattr(store, "close", None)
                if close is not None:
                    close()


def _stored(store: LeadStore) -> dict[str, Lead]:
    with store.unit_of_work() as uow:
        return {lead.id.value: lead for lead in uow.leads.stream()}


def _edit_view(outcome: EditOutcome) -> tuple[object, ...]:
    return (outcome.lead_id, outcome.status, type(outcome.error).__name__, outcome.lead)


def _result_view(result: MassEditResult) -> tuple[object, ...]:
    return (result.committed, [_edit_view(o) for o in result.outcomes])


@contextmanager
def _batch_of(size: int) -> Iterator[None]:
    module = vars(mass_editing)  # _BATCH is Final: set for the test only
    before = module["_BATCH"]
    module["_BATCH"] = size
    try:
        yield
    finally:
        module["_BATCH"] = before


_EDITS: list[Callable[[list[Lead]], LeadEdit]] = [
    lambda _: set_source("Web"),
    lambda _: SetManualScore(3, reason="picked"),
    lambda _: ClearManualScore(),
    lambda _: MarkContacted(),
    lambda _: Disqualify(StatusReason.CANCELED),
    lambda leads: _FailOn(leads[-1].id),
]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(data=st.data(), leads=_stores())
def test_a_batched_mass_edit_gives_what_one_lead_at_a_time_gives(
    kind: str, data: st.DataObject, leads: list[Lead]
) -> None:
    selection = _selection(data, leads)
    edit = data.draw(st.sampled_from(_EDITS))(leads)
    all_or_nothing = data.draw(st.booleans())
    with _two_stores(kind, leads) as (bulk, plain), _batch_of(data.draw(st.integers(1, 3))):
        batched = mass_edit(bulk, selection, edit, at=T1, by=ME, all_or_nothing=all_or_nothing)
        one_by_one = mass_edit(
            cast(LeadStore, _OneByOneStore(plain)),
            selection,
            edit,
            at=T1,
            by=ME,
            all_or_nothing=all_or_nothing,
        )
        assert _result_view(batched) == _result_view(one_by_one)
        assert _stored(bulk) == _stored(plain)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(data=st.data(), leads=_stores())
def test_a_batched_mass_assignment_gives_what_one_lead_at_a_time_gives(
    kind: str, data: st.DataObject, leads: list[Lead]
) -> None:
    selection = _selection(data, leads)
    all_or_nothing = data.draw(st.booleans())
    with _two_stores(kind, leads) as (bulk, plain), _batch_of(data.draw(st.integers(1, 3))):
        batched, state = mass_assign(
            bulk, selection, RoundRobin(TEAM), at=T1, by=ME, all_or_nothing=all_or_nothing
        )
        one_by_one, plain_state = mass_assign(
            cast(LeadStore, _OneByOneStore(plain)),
            selection,
            RoundRobin(TEAM),
            at=T1,
            by=ME,
            all_or_nothing=all_or_nothing,
        )
        assert _result_view(batched) == _result_view(one_by_one)
        assert state == plain_state
        assert _stored(bulk) == _stored(plain)


def _qualify_view(outcome: QualifyOutcome) -> tuple[object, ...]:
    lead = None if outcome.result is None else outcome.result.lead
    return (outcome.lead_id, outcome.status, type(outcome.error).__name__, lead, outcome.plan)


def _records(store: LeadStore) -> tuple[list[str], list[str], list[str]]:
    with store.unit_of_work() as uow:
        return (
            sorted(a.id.value for a in uow.accounts.list()),
            sorted(c.id.value for c in uow.contacts.list()),
            sorted(o.id.value for o in uow.opportunities.list()),
        )


_REQUESTS = (
    QualifyRequest(),
    QualifyRequest(
        create_account=Choice.NO, create_contact=Choice.YES, create_opportunity=Choice.NO
    ),
    QualifyRequest(create_account=Choice.YES, create_contact=Choice.YES),
)


def _qualify_all(store: LeadStore, ids: list[LeadId], request: QualifyRequest, size: int) -> Any:
    numbers = count()
    return qualify_many(
        store, ids, request, DEFAULT_POLICY, at=T1, by=ME, finder=NoDuplicates(),
        id_factory=lambda: f"N{next(numbers)}", batch_size=size,
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(data=st.data(), leads=_stores())
def test_qualify_many_in_batches_gives_what_a_unit_of_work_per_lead_gives(
    kind: str, data: st.DataObject, leads: list[Lead]
) -> None:
    selection = _selection(data, leads)
    request = data.draw(st.sampled_from(_REQUESTS))
    with _two_stores(kind, leads) as (batched_store, plain_store):
        batched = _qualify_all(batched_store, selection, request, data.draw(st.integers(2, 5)))
        one_by_one = _qualify_all(plain_store, selection, request, 1)
        assert [_qualify_view(o) for o in batched] == [_qualify_view(o) for o in one_by_one]
        assert _stored(batched_store) == _stored(plain_store)
        assert _records(batched_store) == _records(plain_store)


class _FailingSaves(_OneByOneStore):
    """A store whose saves of one lead fail as a storage error would (in any unit of work)."""

    def __init__(self, inner: LeadStore, fail: LeadId) -> None:
        super().__init__(inner)
        self.fail = fail
        self.units = 0

    def unit_of_work(self) -> Any:
        self.units += 1
        return self.unit(self._inner.unit_of_work(), self.fail)

    def unit(self, inner: Any, fail: LeadId) -> Any:
        """The unit of work handed out around ``inner``'s."""
        return _FailingUnit(inner, fail)


class _FailingUnit(_OneByOneUnit):
    def __init__(self, inner: Any, fail: LeadId) -> None:
        super().__init__(inner)
        self.fail = fail

    @property
    def leads(self) -> Any:
        repository = self._open.leads
        fail = self.fail

        class Leads(_OneByOneLeads):
            def save(self, lead: Lead, **kwargs: Any) -> Lead:
                if lead.id == fail:
                    raise StorageUnavailable("injected")
                return cast(Lead, repository.save(lead, **kwargs))

        return Leads(repository)


def _states(store: LeadStore) -> dict[str, tuple[object, ...]]:
    return {k: (x.state, x.reason, x.version) for k, x in _stored(store).items()}


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgresql"])
def test_a_batch_with_a_failed_write_is_run_again_lead_by_lead(kind: str) -> None:
    leads = [
        Lead.create(LeadId(f"L-{n}"), LeadPatch(topic="T", name=f"P {n}"), at=T0, by=ME)
        for n in range(5)
    ]
    ids = [lead.id for lead in leads]
    request = _REQUESTS[1]
    with _two_stores(kind, leads) as (a, b):
        failing = _FailingSaves(a, ids[2])
        batched = _qualify_all(cast(LeadStore, failing), ids, request, 5)
        one_by_one = _qualify_all(cast(LeadStore, _FailingSaves(b, ids[2])), ids, request, 1)
        assert failing.units == 1 + 5  # the batch, rolled back, then a unit of work per lead
        statuses = [o.status.value for o in batched]
        assert statuses == ["qualified", "qualified", "failed", "qualified", "qualified"]
        assert statuses == [o.status.value for o in one_by_one]
        assert isinstance(batched[2].error, StorageUnavailable)
        # The same leads qualified (the ids of the new records differ: the batch drew some).
        assert _states(a) == _states(b)
        assert len(_records(a)[1]) == len(_records(b)[1]) == 4  # no contact for the failed one
        clean = _FailingSaves(a, LeadId("nobody"))
        again = _qualify_all(cast(LeadStore, clean), ids, request, 5)
        assert clean.units == 1  # one unit of work for the batch
        assert [o.status.value for o in again] == ["refused"] * 2 + ["qualified"] + ["refused"] * 2


class _Counting:
    """A store that counts the units of work it hands out (bulk methods kept)."""

    def __init__(self, inner: LeadStore) -> None:
        self._inner = inner
        self.units = 0

    def unit_of_work(self) -> Any:
        self.units += 1
        return self._inner.unit_of_work()


def _units_for(selection: list[LeadId], size: int) -> int:
    return -(-len(selection) // size)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(data=st.data(), leads=_stores())
def test_a_mass_edit_per_lead_with_a_unit_of_work_per_batch_gives_what_one_unit_gives(
    kind: str, data: st.DataObject, leads: list[Lead]
) -> None:
    selection = _selection(data, leads)
    edit = data.draw(st.sampled_from(_EDITS))(leads)
    size = data.draw(st.integers(1, 3))
    with _two_stores(kind, leads) as (batched_store, one_store), _batch_of(size):
        counting = _Counting(batched_store)
        batched = mass_edit(
            cast(LeadStore, counting), selection, edit, at=T1, by=ME, all_or_nothing=False,
            batch_size=size,
        )  # fmt: skip
        with one_store.unit_of_work() as uow:
            in_one = mass_edit(uow, selection, edit, at=T1, by=ME, all_or_nothing=False)
            uow.commit()
        assert _result_view(batched) == _result_view(in_one)
        assert _stored(batched_store) == _stored(one_store)
        assert counting.units == _units_for(selection, size)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(data=st.data(), leads=_stores())
def test_a_mass_assignment_per_lead_with_a_unit_of_work_per_batch_gives_what_one_unit_gives(
    kind: str, data: st.DataObject, leads: list[Lead]
) -> None:
    selection = _selection(data, leads)
    size = data.draw(st.integers(1, 3))
    start = AssignmentState(cursors={"t": data.draw(st.integers(0, 5))})
    with _two_stores(kind, leads) as (batched_store, one_store), _batch_of(size):
        counting = _Counting(batched_store)
        batched, state = mass_assign(
            cast(LeadStore, counting), selection, RoundRobin(TEAM), at=T1, by=ME,
            state=start, all_or_nothing=False, batch_size=size,
        )  # fmt: skip
        with one_store.unit_of_work() as uow:
            in_one, one_state = mass_assign(
                uow, selection, RoundRobin(TEAM), at=T1, by=ME, state=start,
                all_or_nothing=False,
            )  # fmt: skip
            uow.commit()
        assert _result_view(batched) == _result_view(in_one)
        assert state == one_state
        assert _stored(batched_store) == _stored(one_store)
        assert counting.units == _units_for(selection, size)


class _CommitFails(_FailingSaves):
    """A store whose commit fails for a unit of work that saved one lead (as a lost
    connection or a full disk would), rolling that unit of work back; its bulk methods
    kept."""

    def unit(self, inner: Any, fail: LeadId) -> Any:
        return _CommitFailsUnit(inner, fail)


class _CommitFailsUnit(_FailingUnit):
    def __init__(self, inner: Any, fail: LeadId) -> None:
        super().__init__(inner, fail)
        self.saved: set[LeadId] = set()

    @property
    def leads(self) -> Any:
        repository, saved = self._open.leads, self.saved

        class Leads:
            def __getattr__(self, name: str) -> Any:
                return getattr(repository, name)

            def save(self, lead: Lead, **kwargs: Any) -> Lead:
                saved.add(lead.id)
                return cast(Lead, repository.save(lead, **kwargs))

            def save_many(self, leads: Any) -> Any:
                saved.update(lead.id for lead in leads)
                return repository.save_many(leads)

        return Leads()

    def commit(self) -> None:
        if self.fail in self.saved:
            raise StorageUnavailable("injected commit failure")
        self._open.commit()


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgresql"])
def test_a_batch_whose_commit_fails_is_run_again_lead_by_lead(kind: str) -> None:
    leads = [
        Lead.create(LeadId(f"L-{n}"), LeadPatch(topic="T", name=f"P {n}"), at=T0, by=ME)
        for n in range(5)
    ]
    ids = [lead.id for lead in leads]
    with _two_stores(kind, leads) as (a, b), _batch_of(2):
        failing = _CommitFails(a, ids[2])
        result = mass_edit(
            cast(LeadStore, failing), ids, set_source("Web"), at=T1, by=ME, all_or_nothing=False,
            batch_size=2,
        )  # fmt: skip
        # [L-0, L-1] committed; [L-2, L-3] failed and ran again one by one; [L-4] alone.
        assert failing.units == 1 + 1 + 2 + 1
        assert result.committed
        assert [o.status.value for o in result.outcomes] == ["changed"] * 2 + ["failed"] + [
            "changed"
        ] * 2
        assert isinstance(result.outcomes[2].error, StorageUnavailable)
        assert result.outcomes[2].lead is not None
        assert result.outcomes[2].lead.source == LeadSource.WEB  # what it would have become
        stored = _stored(a)
        assert [stored[f"L-{n}"].version for n in range(5)] == [2, 2, 1, 2, 2]
        assert result.outcomes[3].lead == stored["L-3"]
        assigned, _ = mass_assign(
            cast(LeadStore, _CommitFails(b, ids[0])), ids, RoundRobin(TEAM), at=T1, by=ME,
            all_or_nothing=False, batch_size=2,
        )  # fmt: skip
        assert [o.status.value for o in assigned.outcomes] == ["failed"] + ["changed"] * 4
        owners = {k: x.owner.id for k, x in _stored(b).items()}
        assert owners == {"L-0": "me", "L-1": "b", "L-2": "c", "L-3": "a", "L-4": "b"}
