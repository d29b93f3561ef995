"""leadkit.rescoring: the per-lead step of rescoring and the score-only page writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import text

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.scores import ScoreDocuments
from leadkit.errors import ConcurrencyConflict, InvalidValue, NotFound
from leadkit.events import LeadScored
from leadkit.fields import Budget, Need
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort
from leadkit.rescoring import LeadRescorer, RescoredPage, rescoring_repository
from leadkit.scoring import BCM_MODEL, Blend, score_lead
from leadkit.serialization import make_converter
from leadkit.values import LeadId, UserRef
from support.postgres import DatabasePool

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADA = UserRef("ada")


def _lead(n: int, **changes: object) -> Lead:
    patch = LeadPatch(topic=f"Deal {n}", name=f"Per Son{n}", budget=Budget.WILL_BUY, **changes)  # type: ignore[arg-type]
    return Lead.create(LeadId(f"L{n:03d}"), patch, at=AT - timedelta(hours=n), by=ADA)


def test_the_event_is_the_one_score_lead_records() -> None:
    lead = _lead(1, need=Need.MUST_HAVE)

    event = LeadRescorer(BCM_MODEL, at=AT, by=ADA)(lead)

    assert event == score_lead(lead, BCM_MODEL, at=AT, by=ADA).pending_events[-1]


def test_a_lead_whose_stored_score_matches_gives_no_event() -> None:
    scored = score_lead(_lead(1), BCM_MODEL, at=AT, by=ADA).clear_events()

    assert LeadRescorer(BCM_MODEL, at=AT, by=ADA)(scored) is None


def test_a_manual_override_scores_as_score_lead_does() -> None:
    lead = _lead(2).set_manual_score(5, at=AT, by=ADA)

    event = LeadRescorer(BCM_MODEL, at=AT, by=ADA)(lead)

    assert event == score_lead(lead, BCM_MODEL, at=AT, by=ADA).pending_events[-1]
    assert event is not None
    assert event.score.stars == 5


def test_only_outdated_skips_a_lead_scored_by_this_model_version() -> None:
    scored = score_lead(_lead(1), BCM_MODEL, at=AT, by=ADA).clear_events()
    later = LeadRescorer(BCM_MODEL, at=AT + timedelta(days=400), by=ADA, only_outdated=True)

    assert later(scored) is None


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadRescorer(BCM_MODEL, at=datetime(2024, 5, 1), by=ADA)

    assert caught.value.fields == ("at",)


def test_a_user_that_is_not_a_user_ref_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadRescorer(BCM_MODEL, at=AT, by="ada")  # type: ignore[arg-type]

    assert caught.value.fields == ("by",)


def test_a_blended_model_without_its_predictive_model_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadRescorer(BCM_MODEL.set_blend(Blend(1, 2)), at=AT, by=ADA)

    assert caught.value.fields == ("predictive",)


def test_both_adapters_offer_the_port_and_others_do_not() -> None:
    memory = MemoryStore()
    with memory.unit_of_work() as uow:
        assert rescoring_repository(uow.leads) is None  # scan + save_many serve it
    assert rescoring_repository(object()) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# ScoreDocuments


@pytest.mark.parametrize(
    "stored",
    [
        lambda text: text,  # the score fields' text swapped
        lambda text: text.replace('"score":null', '"score": null'),  # not ours: encoded in full
    ],
)
def test_a_rescored_document_is_the_encoding_of_the_rescored_lead(stored: Any) -> None:
    converter = make_converter()
    lead = _lead(1)
    event = LeadRescorer(BCM_MODEL, at=AT, by=ADA)(lead)
    assert event is not None
    expected = converter.dumps(
        attrs.evolve(lead.record_score(event.score, at=AT, by=ADA).clear_events(), version=1)
    )

    found = ScoreDocuments(converter).document(lead, stored(converter.dumps(lead)), event)

    assert found == expected


# ---------------------------------------------------------------------------------------------
# SqlLeadRepository.rescore_page


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "postgresql":
        pool: DatabasePool = request.getfixturevalue("pg_databases")
        opened = SqlStore.open(pool.take(), create=False)
    else:
        opened = SqlStore.open(path=tmp_path / "rescore.db")
    with opened:
        with opened.unit_of_work() as uow:
            for n in range(5):
                uow.leads.add(_lead(n))
            uow.commit()
        yield opened


_QUERY = LeadQuery(sort=LeadSort.ID)


def test_a_page_writes_only_the_changed_scores_with_one_version_more(store: SqlStore) -> None:
    rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)
    with store.unit_of_work() as uow:
        done = uow.leads.rescore_page(  # type: ignore[attr-defined]
            _QUERY, limit=3, after=None, shard=None, rescore=rescorer
        )
        events = uow.events
        uow.commit()

    assert done.seen == done.changed == 3
    assert done.next_cursor is not None
    assert [type(e) for e in events] == [LeadScored] * 3
    with store.unit_of_work() as uow:
        versions = [(x.id.value, x.version, x.score is not None) for x in uow.leads.stream(_QUERY)]
    assert versions == [
        ("L000", 2, True),
        ("L001", 2, True),
        ("L002", 2, True),
        ("L003", 1, False),
        ("L004", 1, False),
    ]


def test_a_page_with_nothing_changed_writes_nothing(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        done = uow.leads.rescore_page(  # type: ignore[attr-defined]
            _QUERY, limit=10, after=None, shard=None, rescore=lambda lead: None
        )
        assert uow.events == ()
        uow.commit()

    assert done == RescoredPage(5, 0, None)


def _bump(store: SqlStore, lead_id: str, sql: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), {"id": lead_id})


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("UPDATE leads SET version = version + 5 WHERE id = :id", ConcurrencyConflict),
        ("DELETE FROM leads WHERE id = :id", NotFound),
    ],
)
def test_a_lead_changed_after_the_read_fails_the_page_and_writes_nothing(
    store: SqlStore, sql: str, error: type[Exception]
) -> None:
    if store.engine.dialect.name == "sqlite":
        pytest.skip("the page holds SQLite's write lock from its read on: no one can change it")
    rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)

    def meddling(lead: Lead) -> LeadScored | None:
        if lead.id.value == "L003":
            _bump(store, "L003", sql)
        return rescorer(lead)

    with store.unit_of_work() as uow, pytest.raises(error):
        uow.leads.rescore_page(  # type: ignore[attr-defined]
            _QUERY, limit=10, after=None, shard=None, rescore=meddling
        )
    with store.unit_of_work() as uow:
        assert [x.score for x in uow.leads.stream(_QUERY)] == [None] * (
            4 if error is NotFound else 5
        )


def test_leads_meeting_the_same_criteria_share_one_explanation_written_exactly() -> None:
    converter = make_converter()
    rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)
    first, second = rescorer(_lead(1)), rescorer(_lead(4))
    assert first is not None
    assert second is not None

    texts = [converter.dumps(first), converter.dumps(second), converter.dumps(first)]

    assert first.score.explanation is second.score.explanation
    strict = [
        json.dumps(converter.dump(e), ensure_ascii=False, separators=(",", ":"))
        for e in (first, second, first)
    ]
    assert texts == strict


class _Nosy:
    """A rescorer that reads a field it does not list."""

    fields = frozenset({"id", "version"})

    def __init__(self) -> None:
        self.topics: list[str] = []

    def __call__(self, lead: Lead) -> LeadScored | None:
        self.topics.append(lead.topic)
        return None


def test_a_rescorer_reading_a_field_it_did_not_list_gets_the_whole_lead(store: SqlStore) -> None:
    nosy = _Nosy()
    with store.unit_of_work() as uow:
        done = uow.leads.rescore_page(  # type: ignore[attr-defined]
            _QUERY, limit=10, after=None, shard=None, rescore=nosy
        )

    assert done == RescoredPage(5, 0, None)
    assert nosy.topics == [f"Deal {n}" for n in range(5)]
