"""The suite's hypothesis state machine: random operations against the store and a dict
model (:func:`make_store_machine`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Final

import attrs
import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from leadkit.errors import AlreadyExists, ConcurrencyConflict, NotFound
from leadkit.events import LeadEvent
from leadkit.fields import LeadSource, Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort, UnitOfWork
from leadkit.status import LeadState, StatusReason
from leadkit.testing.contract._base import StoreFactory, _ContractBase
from leadkit.testing.contract._examples import _ALICE, _BOB, _CAROL, _T0, T, _scored
from leadkit.testing.contract._helpers import _check_conflict, _ids, _pages, _reference, _streamed
from leadkit.values import LeadId, PersonName, UserRef


class StateMachineContract(_ContractBase):
    """Runs :func:`make_store_machine` with the class's ``state_machine_*`` settings."""

    # the state machine ------------------------------------------------------------------------

    def test_random_operations_match_a_dict_model(self, make_store: StoreFactory) -> None:
        run_state_machine_as_test(make_store_machine(make_store), settings=self._machine_settings())

    def _machine_settings(self) -> settings:
        """The state machine's settings from the class attributes: ``derandomize`` gives the
        same programs on every run (and keeps no example database); ``fast`` runs a third of
        the examples and does not shrink a failure (it reports the first failing program as
        found: shrinking against a slow store may take minutes)."""
        options: dict[str, Any] = {}
        examples = self.state_machine_examples
        if self.state_machine_derandomize:
            options.update(derandomize=True, database=None)
        if self.state_machine_fast:
            examples = max(1, examples // 3)
            options["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]
        return settings(
            max_examples=examples,
            stateful_step_count=self.state_machine_steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            **options,
        )


# ---------------------------------------------------------------------------------------------
# The state machine

_MACHINE_IDS: Final = tuple(LeadId(f"m{n}") for n in range(4))
_MACHINE_OWNERS: Final = (_ALICE, _BOB, _CAROL)


@attrs.frozen
class MachineLead:
    """What the state machine varies in a new lead: few values, so that ties and matches
    happen. Public so that a printed failing program runs as it is: ``build`` makes the lead.
    Raises nothing."""

    topic: str
    last: str
    company: str
    owner: UserRef
    rating: Rating | None
    source: LeadSource | None
    minutes: int
    score: Decimal | None

    def build(self, lead_id: LeadId) -> Lead:
        """The lead with this id and these values, as stored by the machine."""
        patch = LeadPatch(
            topic=self.topic,
            name=PersonName(last=self.last),
            company=self.company,
            rating=self.rating,
            source=self.source,
        )
        at = _T0 + timedelta(minutes=self.minutes)
        lead = Lead.create(lead_id, patch, at=at, by=self.owner, owner=self.owner)
        return _scored(lead, self.score, at=at)


_MACHINE_SCORES: Final = (Decimal(0), Decimal("42.5"), Decimal("42.50"), Decimal(85), Decimal(100))
"""Scores the machine records: ties written two ways, the ends of the scale."""
_MACHINE_BOUNDS: Final = (Decimal(0), Decimal("42.49"), Decimal("42.5"), Decimal(85), Decimal(100))


_specs: Final = st.builds(
    MachineLead,
    topic=st.sampled_from(["Solar", "solar", "Wind", "Heat pumps"]),
    last=st.sampled_from(["Lind", "lind", "Berg", "Åström"]),
    company=st.sampled_from(["", "Contoso", "contoso", "Straße AG"]),
    owner=st.sampled_from(_MACHINE_OWNERS),
    rating=st.none() | st.sampled_from(Rating),
    source=st.none() | st.sampled_from([LeadSource.WEB, LeadSource.PARTNER]),
    minutes=st.integers(0, 3),
    score=st.none() | st.sampled_from(_MACHINE_SCORES),
)


def _sometimes(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    """``strategy`` a third of the time, else None (so that queries often match something)."""
    return st.one_of(st.none(), st.none(), strategy)


def _score_range(bounds: tuple[Decimal | None, Decimal | None]) -> dict[str, Decimal | None]:
    low, high = bounds
    if low is not None and high is not None and low > high:
        low, high = high, low
    return {"score_min": low, "score_max": high}


_queries: Final = st.builds(
    lambda score_range, **fields: LeadQuery(**fields, **score_range),
    states=_sometimes(st.frozensets(st.sampled_from(LeadState), min_size=1)),
    owner_id=_sometimes(st.sampled_from([u.id for u in _MACHINE_OWNERS])),
    owner_ids=_sometimes(st.frozensets(st.sampled_from([u.id for u in _MACHINE_OWNERS]))),
    ratings=_sometimes(st.frozensets(st.sampled_from(Rating), min_size=1)),
    text=_sometimes(st.sampled_from(["sol", "LIND", "contoso", "strasse", "ström"])),
    score_range=st.tuples(
        _sometimes(st.sampled_from(_MACHINE_BOUNDS)), _sometimes(st.sampled_from(_MACHINE_BOUNDS))
    ).map(_score_range),
    sort=st.sampled_from(LeadSort),
    descending=st.booleans(),
)


def _change(lead: Lead, choice: int, at: datetime) -> Lead:
    """Apply one of a few commands that are valid for ``lead`` in its state."""
    by = _MACHINE_OWNERS[choice % len(_MACHINE_OWNERS)]
    rescore = _MACHINE_SCORES[choice % len(_MACHINE_SCORES)]
    if lead.is_closed:
        if choice % 3 == 2:
            return _scored(lead, rescore, at=at)  # scores are recorded on closed leads too
        if choice % 2:
            return lead.reactivate(at=at, by=by)
        return lead.add_note(f"note {choice}", at=at, by=by)
    commands: list[Callable[[], Lead]] = [
        lambda: lead.update(LeadPatch(topic=f"Topic {choice}"), at=at, by=by),
        lambda: lead.assign(by, at=at, by=by),
        lambda: lead.rate(list(Rating)[choice % 3], at=at, by=by),
        lambda: lead.disqualify(StatusReason.LOST, at=at, by=by),
        lambda: lead.mark_qualified(at=at, by=by),
        lambda: lead.mark_contacted(at=at, by=by),
        lambda: lead.add_note(f"note {choice}", at=at, by=by),
        lambda: _scored(lead, rescore, at=at),
    ]
    return commands[choice % len(commands)]()


class LeadStoreMachine(RuleBasedStateMachine):
    """Random operations on a store, checked against a dict model after every step.

    It starts from two to four committed leads. One unit of work is open at a time (opened
    when needed). ``committed`` models the store, ``working`` what the open unit of work sees
    and ``events`` what it has collected; ``copies`` holds leads handed out earlier, fresh or
    stale, for saves. Use :func:`make_store_machine` to bind a store factory.
    """

    make_store: ClassVar[StoreFactory]
    copies = Bundle("copies")

    def __init__(self) -> None:
        super().__init__()
        self.store = type(self).make_store()
        self.uow: UnitOfWork | None = None
        self.committed: dict[LeadId, Lead] = {}
        self.working: dict[LeadId, Lead] = {}
        self.events: list[LeadEvent] = []  # what the open unit of work must have collected
        self.clock = _T0 + timedelta(days=1)

    # Helpers ----------------------------------------------------------------------------------

    def _unit(self) -> UnitOfWork:
        if self.uow is None:
            self.uow = self.store.unit_of_work().__enter__()
        return self.uow

    def _leave(self) -> None:
        if self.uow is not None:
            uow, self.uow = self.uow, None
            uow.__exit__(None, None, None)

    def _tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    # Rules ------------------------------------------------------------------------------------

    @initialize(target=copies, specs=st.lists(_specs, min_size=2, max_size=len(_MACHINE_IDS)))
    def seed(self, specs: list[MachineLead]) -> Any:
        """Start from a few committed leads, so that most steps meet stored ones."""
        repository = self._unit().leads
        keys = _MACHINE_IDS[: len(specs)]
        stored = [repository.add(spec.build(key)) for key, spec in zip(keys, specs, strict=True)]
        self._unit().commit()
        self._leave()
        self.working = {lead.id: lead for lead in stored}
        self.committed = dict(self.working)
        return multiple(*stored)

    @rule(target=copies, lead_id=st.sampled_from(_MACHINE_IDS), spec=_specs, free=st.booleans())
    def add(self, lead_id: LeadId, spec: MachineLead, free: bool) -> Any:
        """Add a lead; with ``free``, under an id not in use (often one deleted earlier)."""
        unused = [key for key in _MACHINE_IDS if key not in self.working]
        if free and unused:
            lead_id = unused[_MACHINE_IDS.index(lead_id) % len(unused)]
        lead = spec.build(lead_id)
        repository = self._unit().leads
        if lead_id in self.working:
            event("add: id taken")
            with pytest.raises(AlreadyExists):
                repository.add(lead)
            return multiple()
        event("add: stored")
        stored = repository.add(lead)
        self.events.extend(lead.pending_events)
        assert stored == attrs.evolve(lead, version=1)
        assert stored.pending_events == ()
        self.working[lead_id] = stored
        return stored

    @rule(target=copies, lead_id=st.sampled_from(_MACHINE_IDS))
    def get(self, lead_id: LeadId) -> Any:
        repository = self._unit().leads
        if lead_id not in self.working:
            with pytest.raises(NotFound):
                repository.get(lead_id)
            return multiple()
        got = repository.get(lead_id)
        assert got == self.working[lead_id]
        return got

    @rule(target=copies, lead_id=st.sampled_from(_MACHINE_IDS), choice=st.integers(0, 20))
    def edit(self, lead_id: LeadId, choice: int) -> Any:
        """Read, change and save: the everyday cycle, which must land."""
        if lead_id not in self.working:
            return multiple()
        return self._save(self._unit().leads.get(lead_id), choice)

    @rule(target=copies, copy=copies, choice=st.integers(0, 20))
    def save(self, copy: Lead, choice: int) -> Any:
        """Save a copy handed out earlier: fresh, stale, or of a deleted lead."""
        return self._save(copy, choice)

    def _save(self, copy: Lead, choice: int) -> Any:
        changed = _change(copy, choice, self._tick())
        repository = self._unit().leads
        current = self.working.get(copy.id)
        if current is None:
            event("save: deleted lead")
            with pytest.raises(NotFound):
                repository.save(changed)
            return multiple()
        if current.version != copy.version:
            event("save: stale copy")
            with pytest.raises(ConcurrencyConflict) as caught:
                repository.save(changed)
            _check_conflict(caught.value, copy.id, copy.version, current.version)
            return multiple()
        event("save: stored")
        saved = repository.save(changed)
        self.events.extend(changed.pending_events)
        assert saved == attrs.evolve(changed, version=copy.version + 1)
        assert saved.pending_events == ()
        self.working[copy.id] = saved
        return saved

    @rule(
        lead_id=st.sampled_from(_MACHINE_IDS),
        mode=st.sampled_from(["any version", "stored version", "stale version"]),
    )
    def delete(self, lead_id: LeadId, mode: str) -> None:
        repository = self._unit().leads
        current = self.working.get(lead_id)
        stored_version = 1 if current is None else current.version
        expected = {
            "any version": None,
            "stored version": stored_version,
            "stale version": stored_version + 1,
        }[mode]
        event(f"delete: {'missing' if current is None else mode}")
        if current is None:
            with pytest.raises(NotFound):
                repository.delete(lead_id, expected_version=expected)
        elif expected is not None and expected != current.version:
            with pytest.raises(ConcurrencyConflict) as caught:
                repository.delete(lead_id, expected_version=expected)
            _check_conflict(caught.value, lead_id, expected, current.version)
        else:
            repository.delete(lead_id, expected_version=expected)
            del self.working[lead_id]

    @rule(query=_queries, limit=st.integers(1, 4), batch_size=st.integers(1, 3))
    def query(self, query: LeadQuery, limit: int, batch_size: int) -> None:
        """Every page, the count and the stream of a random query agree with the model."""
        repository = self._unit().leads
        expected = _reference(list(self.working.values()), query)
        event(f"query: {min(len(expected), 3)}+ matches")
        pages = _pages(repository, query, limit)
        seen = [lead for page in pages for lead in page.items]
        assert _ids(seen) == _ids(expected)
        assert seen == expected
        assert all(len(page.items) == limit for page in pages[:-1])
        assert repository.count(query) == len(expected)
        streamed = _streamed(repository, query, batch_size)
        assert _ids(streamed) == _ids(expected)
        assert streamed == expected

    @rule(leave=st.booleans())
    def commit(self, leave: bool) -> None:
        self._unit().commit()
        self.committed = dict(self.working)
        self.events.clear()
        if leave:
            self._leave()

    @rule(explicitly=st.booleans())
    def rollback(self, explicitly: bool) -> None:
        if explicitly:
            self._unit().rollback()
        else:
            self._leave()
        self.working = dict(self.committed)
        self.events.clear()

    # Invariants -------------------------------------------------------------------------------

    @invariant()
    def store_matches_the_model(self) -> None:
        repository = self._unit().leads
        expected = _reference(list(self.working.values()), LeadQuery())
        streamed = _streamed(repository, None, 4)
        assert _ids(streamed) == _ids(expected)
        assert streamed == expected  # leads and versions
        assert repository.count(LeadQuery()) == len(self.working)
        assert list(self._unit().events) == self.events

    def teardown(self) -> None:
        try:
            self._leave()
        finally:
            self.store.close()


def make_store_machine(make_store: StoreFactory) -> type[LeadStoreMachine]:
    """A :class:`LeadStoreMachine` over stores made by ``make_store`` (one per example).

    Run it with ``hypothesis.stateful.run_state_machine_as_test(machine)`` or expose
    ``machine.TestCase`` to unittest/pytest.
    """

    class BoundLeadStoreMachine(LeadStoreMachine):
        pass

    BoundLeadStoreMachine.make_store = staticmethod(make_store)
    return BoundLeadStoreMachine
