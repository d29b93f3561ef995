"""``rescore_store`` (the score-only path of ``leadkit.rescoring`` where the store offers it)
leaves exactly the stored leads, rows and outbox events that the whole-lead path leaves:
read each batch with ``scan``, ``score_lead`` each lead, ``save_many`` the changed ones.

On SQLite and PostgreSQL the rows are compared column by column (the documents byte for
byte); on every store the leads read back and the outbox (lead, type and payload, in order).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from leadkit import BCM_MODEL, score_lead
from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore, scores
from leadkit.bulk import rescore_store, save_many, scan
from leadkit.lead import Lead
from leadkit.ports import LeadQuery, LeadSort, LeadStore
from leadkit.rescoring import LeadRescorer
from leadkit.scoring.engine import is_outdated
from leadkit.serialization import make_converter
from leadkit.shards import Shard
from leadkit.testing.strategies import lead_ids, leads
from leadkit.values import EmailAddress, LeadId, UserRef

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BY = UserRef("rescorer")
_files = itertools.count()
_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def whole_lead_rescore(
    store: LeadStore, *, shard: Shard | None, only_outdated: bool, batch_size: int
) -> tuple[int, int]:
    """The path ``rescore_store`` took before the score-only one: (seen, rescored)."""
    query = LeadQuery(sort=LeadSort.ID)
    after: str | None = None
    seen = rescored = 0
    while True:
        with store.unit_of_work() as uow:
            page = scan(uow.leads, query, limit=batch_size, after=after, shard=shard)
            changed = []
            for lead in page.items:
                if only_outdated and not is_outdated(lead, BCM_MODEL):
                    continue
                scored = score_lead(lead, BCM_MODEL, at=AT, by=BY)
                if scored is not lead:
                    changed.append(scored)
            if changed:
                save_many(uow.leads, changed)
            uow.commit()
        seen += len(page.items)
        rescored += len(changed)
        if page.next_cursor is None:
            return seen, rescored
        after = page.next_cursor


@st.composite
def stored_leads(draw: st.DrawFn) -> list[Lead]:
    ids = draw(st.lists(lead_ids(), min_size=1, max_size=12, unique=True))
    return [draw(leads(ids=st.just(lead_id))) for lead_id in ids]


_runs = st.fixed_dictionaries(
    {
        "shard": st.none()
        | st.integers(1, 3).flatmap(lambda n: st.builds(Shard, st.integers(0, n - 1), st.just(n))),
        "only_outdated": st.booleans(),
        "batch_size": st.integers(1, 5),
    }
)


def _fill(store: LeadStore, stored: list[Lead]) -> None:
    with store.unit_of_work() as uow:
        for lead in stored:
            uow.leads.add(attrs.evolve(lead, version=0))
        uow.commit()


def _state(store: LeadStore) -> tuple[Any, ...]:
    with store.unit_of_work() as uow:
        read = list(uow.leads.stream(LeadQuery(sort=LeadSort.ID)))
    if isinstance(store, SqlStore):
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM leads ORDER BY id")).all()
            events = conn.execute(
                text("SELECT lead_id, type, payload FROM outbox ORDER BY position")
            ).all()
        return read, [tuple(r) for r in rows], [tuple(e) for e in events]
    assert isinstance(store, MemoryStore)
    outbox = store.outbox.pending(1000)
    return read, [], [(e.lead_id, e.type, e.payload) for e in outbox]


def check_paths(make: Callable[[], Any], stored: list[Lead], run: dict[str, Any]) -> None:
    with make() as old, make() as new:
        _fill(old, stored)
        _fill(new, stored)
        expected = whole_lead_rescore(old, **run)
        done = rescore_store(new, BCM_MODEL, at=AT, by=BY, **run)
        assert (done.seen, done.rescored) == expected
        assert _state(new) == _state(old)


@contextmanager
def _memory() -> Iterator[MemoryStore]:
    yield MemoryStore()


@_SETTINGS
@given(stored=stored_leads(), run=_runs)
def test_rescoring_stores_what_the_whole_lead_path_stores_in_memory(
    stored: list[Lead], run: dict[str, Any]
) -> None:
    check_paths(_memory, stored, run)


@_SETTINGS
@given(stored=stored_leads(), run=_runs)
def test_rescoring_stores_what_the_whole_lead_path_stores_on_sqlite(
    stored: list[Lead], run: dict[str, Any]
) -> None:
    with tempfile.TemporaryDirectory() as where:
        check_paths(
            lambda: SqlStore.open(path=Path(where) / f"rescore-{next(_files)}.db"), stored, run
        )


@pytest.fixture
def pg_urls(pg_databases: Any) -> Iterator[Callable[[], str]]:
    taken: list[str] = []

    def take() -> str:
        url: str = pg_databases.take()
        taken.append(url)
        return url

    yield take
    for url in taken:
        pg_databases.give_back(url)


@settings(_SETTINGS, max_examples=8)
@given(stored=stored_leads(), run=_runs)
def test_rescoring_stores_what_the_whole_lead_path_stores_on_postgresql(
    stored: list[Lead], run: dict[str, Any], pg_urls: Callable[[], str]
) -> None:
    check_paths(lambda: SqlStore.open(pg_urls(), create=False), stored, run)


_READER_CONVERTER = make_converter()


@settings(max_examples=50, deadline=None)
@given(lead=leads(), names=st.sets(st.sampled_from(sorted(a.name for a in attrs.fields(Lead)))))
def test_a_partial_reader_sets_exactly_the_named_fields_as_the_whole_read_does(
    lead: Lead, names: set[str]
) -> None:
    names.discard("pending_events")
    text = _READER_CONVERTER.dumps(lead.clear_events())
    whole = _READER_CONVERTER.loads(text, Lead)

    part = _READER_CONVERTER.lead_reader(frozenset(names))(text)

    for a in attrs.fields(Lead):
        if a.name in names:
            assert getattr(part, a.name) == getattr(whole, a.name)
        else:
            with pytest.raises(AttributeError):
                getattr(part, a.name)


def test_a_partial_reader_of_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError, match="no field"):
        _READER_CONVERTER.lead_reader(frozenset({"shoe_size"}))


def test_the_rescorer_lists_what_the_model_reads_and_nothing_with_a_predictive_model() -> None:
    fields = LeadRescorer(BCM_MODEL, at=AT, by=BY).fields

    assert fields is not None
    assert {"budget", "need", "ticked_criteria", "email", "score", "version"} <= fields
    assert "description" not in fields


def _copy(lead: Lead, n: int, email: str | None, company: int) -> Lead:
    """``lead`` under another id, its e-mail (when it has one) replaced by ``email`` and its
    company by another as blank or not: the same pattern of scored values, so the
    score-only path reuses the first one's result."""
    copy = attrs.evolve(lead, id=LeadId(f"{lead.id.value[:80]}-c{n}"))
    if lead.email is not None and email is not None:
        copy = attrs.evolve(copy, email=EmailAddress(email))
    blanks = ("", " \t ", "\u3000\x1c")  # str.strip() strips all of them
    names = ("Zeta AG", "Acme", 'Ünïcode & Co "quoted"') if lead.company.strip() else blanks
    return attrs.evolve(copy, company=names[company % len(names)])


@st.composite
def repeated_leads(draw: st.DrawFn) -> list[Lead]:
    """A few drawn leads, each stored again under 1-3 other ids (the bulk case: many leads
    of one pattern)."""
    stored = draw(stored_leads())
    emails = st.none() | st.sampled_from(["a@example.com", "zz.top@example.org"])
    copies = [
        _copy(lead, n, draw(emails), draw(st.integers(0, 2)))
        for lead in stored
        for n in range(draw(st.integers(1, 3)))
    ]
    return stored + copies


@_SETTINGS
@given(stored=repeated_leads(), run=_runs)
def test_rescoring_by_patterns_stores_what_the_whole_lead_path_stores_on_sqlite(
    stored: list[Lead], run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    reused: list[int] = []
    run_page = scores._Page.run

    def counted(page: Any, rows: Any) -> None:
        run_page(page, rows)
        reused.append(page.reused)

    monkeypatch.setattr(scores._Page, "run", counted)
    with tempfile.TemporaryDirectory() as where:
        check_paths(
            lambda: SqlStore.open(path=Path(where) / f"rescore-{next(_files)}.db"), stored, run
        )
    if run["shard"] is None and not run["only_outdated"]:
        assert any(reused)  # the copies went by the pattern of the lead they copy
