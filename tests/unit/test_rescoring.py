"""leadkit.rescoring: the per-lead step of rescoring and the score-only page writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import text

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore, scores
from leadkit.adapters.sql.scores import ScoreDocuments
from leadkit.errors import ConcurrencyConflict, InvalidValue, NotFound
from leadkit.events import LeadScored
from leadkit.fields import Budget, Need
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort
from leadkit.rescoring import (
    LeadRescorer,
    RescoredPage,
    blank_tested,
    presence_fields,
    rescoring_repository,
)
from leadkit.scoring import (
    BCM_MODEL,
    AllOf,
    AnyOf,
    Blend,
    Contains,
    Criterion,
    IsSet,
    Not,
    OneOf,
    Score,
    ScoringModel,
    score_lead,
)
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
        found: object = rescoring_repository(uow.leads)
        assert found is uow.leads
    assert rescoring_repository(object()) is None  # type: ignore[arg-type]


def test_the_memory_store_rescores_a_page_saving_the_changed_leads_whole() -> None:
    memory = MemoryStore()
    with memory.unit_of_work() as uow:
        for n in range(3):
            uow.leads.add(_lead(n, need=Need.MUST_HAVE) if n == 1 else _lead(n))
        uow.commit()
    rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)
    with memory.unit_of_work() as uow:
        first = uow.leads.rescore_page(  # type: ignore[attr-defined]
            _QUERY, limit=2, after=None, shard=None, rescore=rescorer
        )
        events = uow.events
        uow.commit()
    with memory.unit_of_work() as uow:
        stored = [uow.leads.get(LeadId(f"L00{n}")) for n in range(3)]

    assert first.seen == first.changed == 2
    assert first.next_cursor is not None
    assert [e.lead_id.value for e in events] == ["L000", "L001"]
    assert [(x.version, x.score) for x in stored] == [
        (2, events[0].score.value),  # type: ignore[attr-defined]
        (2, events[1].score.value),  # type: ignore[attr-defined]
        (1, None),
    ]


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


# ---------------------------------------------------------------------------------------------
# Rescoring by patterns (SQLite): presence fields, the memo, and the documents it refuses


def test_bcm_tests_only_the_presence_of_company_e_mail_phones_and_value() -> None:
    assert presence_fields(BCM_MODEL) == {
        "company",
        "email",
        "business_phone",
        "mobile_phone",
        "estimated_value",
    }


@pytest.mark.parametrize(
    ("rule", "presence"),
    [
        (IsSet("email"), {"email"}),
        (Not(IsSet("budget")), {"budget"}),  # an option: set or not
        (IsSet("estimated_close_date"), {"estimated_close_date"}),
        (IsSet("company"), {"company"}),  # text: set when not blank
        (AllOf((IsSet("company"), Contains("company", "AG"))), set()),  # the text read
        (IsSet("notes"), set()),  # a count
        (IsSet("custom_fields.size"), set()),
        (AllOf((IsSet("budget"), OneOf("budget", (Budget.WILL_BUY,)))), set()),  # value read
        (AnyOf((IsSet("created_at"), IsSet("website"))), {"created_at", "website"}),
    ],
)
def test_a_field_is_a_presence_field_only_when_every_test_of_it_is_is_set(
    rule: Any, presence: set[str]
) -> None:
    model = ScoringModel(
        id="m", name="m", criteria=(Criterion(id="c", description="c", rule=rule),)
    )

    assert presence_fields(model) == presence


@pytest.mark.parametrize(
    ("field", "blank"),
    [
        ("company", True),
        ("topic", True),
        ("email", False),
        ("mobile_phone", False),
        ("website", False),
        ("budget", False),
        ("estimated_value", False),
    ],
)
def test_text_fields_but_e_mail_website_and_phones_are_tested_for_blankness(
    field: str, blank: bool
) -> None:
    assert blank_tested(field) is blank


def test_a_predictive_rescorer_has_no_presence_fields() -> None:
    assert LeadRescorer(BCM_MODEL, at=AT, by=ADA).presence == presence_fields(BCM_MODEL)


def test_the_rescorer_keeps_one_pattern_memo_per_owner() -> None:
    rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)

    first = rescorer.patterns("a")
    first["x"] = 1

    assert rescorer.patterns("a") is first
    assert rescorer.patterns("b") == {}


def _twins(where: Path, edit: str | None = None) -> SqlStore:
    """A SQLite store of L001 and L002, one pattern (equal but for the id); ``edit`` is SQL
    run on L002's row afterwards."""
    store = SqlStore.open(path=where)
    with store.unit_of_work() as uow:
        for n in (1, 2):
            uow.leads.add(attrs.evolve(_lead(1), id=LeadId(f"L00{n}")))
        uow.commit()
    if edit is not None:
        _bump(store, "L002", edit)
    return store


def _rescored(store: SqlStore, rescorer: Any) -> tuple[Any, ...]:
    with store.unit_of_work() as uow:
        uow.leads.rescore_page(  # type: ignore[attr-defined]
            _QUERY, limit=10, after=None, shard=None, rescore=rescorer
        )
        uow.commit()
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, version, document, score_key FROM leads")).all()
        events = conn.execute(text("SELECT lead_id, payload FROM outbox ORDER BY position")).all()
    return tuple(map(tuple, rows)), tuple(map(tuple, events))


def _by_whole_leads(lead: Lead) -> LeadScored | None:
    """The rescorer's step without its ``fields``: the store reads whole leads, no patterns."""
    return LeadRescorer(BCM_MODEL, at=AT, by=ADA)(lead)


@pytest.mark.parametrize(
    "edit",
    [
        None,
        # not the converter's text around the score: L002 goes the whole way
        "UPDATE leads SET document = replace(document, '\"score\":' || 'null', "
        "'\"score\": ' || 'null') WHERE id = :id",
        # a document whose id is not its row's: read it as the whole path does
        "UPDATE leads SET document = replace(document, '\"L002\"', '\"L009\"') WHERE id = :id",
    ],
)
def test_a_lead_of_a_known_pattern_is_stored_as_the_whole_path_stores_it(
    tmp_path: Path, edit: str | None
) -> None:
    with _twins(tmp_path / "fast.db", edit) as fast, _twins(tmp_path / "slow.db", edit) as slow:
        rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)

        assert _rescored(fast, rescorer) == _rescored(slow, _by_whole_leads)
        assert len(rescorer.patterns(("leadkit.adapters.sql.scores", "sqlite"))) == 2


def test_a_rescorer_reading_a_field_it_does_not_list_turns_the_patterns_off(
    tmp_path: Path,
) -> None:
    with _twins(tmp_path / "fast.db") as fast, _twins(tmp_path / "slow.db") as slow:
        rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)
        object.__setattr__(rescorer, "_fields", rescorer.fields - {"email"})  # type: ignore[operator]

        assert _rescored(fast, rescorer) == _rescored(slow, _by_whole_leads)
        assert rescorer.patterns(("leadkit.adapters.sql.scores", "sqlite")) == {"off": True}


def test_payloads_given_with_events_must_be_one_per_event(tmp_path: Path) -> None:
    with SqlStore.open(path=tmp_path / "x.db") as store, store.unit_of_work() as uow:
        event = _by_whole_leads(_lead(1))
        assert event is not None
        with pytest.raises(ValueError, match="one payload"):
            uow._record([event], [])


def test_a_pattern_s_event_copies_every_field_of_the_event_and_its_score() -> None:
    event = _by_whole_leads(_lead(1))
    assert event is not None
    other = LeadId("L777")

    copy = scores._clone(event, other)

    assert [a.name for a in attrs.fields(Score)] == [
        "lead_id", "value", "stars", "max_stars", "rating", "source", "model_id",
        "model_version", "explanation",
    ]  # fmt: skip
    assert [a.name for a in attrs.fields(LeadScored)] == [
        "lead_id", "at", "by", "score", "previous",
    ]  # fmt: skip
    assert copy == attrs.evolve(
        event, lead_id=other, score=attrs.evolve(event.score, lead_id=other)
    )


def _outcome(store: SqlStore, rescorer: Any) -> tuple[Any, ...]:
    """What rescoring the store's leads gives: the rows and events, or the error raised
    (its type and message) with the rows and events left."""
    try:
        return ("done", _rescored(store, rescorer))
    except Exception as e:
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, version, document FROM leads")).all()
            events = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
        return (type(e), re.sub(r"\S+[.]db", "<file>", str(e)), tuple(map(tuple, rows)), events)


@pytest.mark.parametrize(
    "value",
    # company (tested for blankness) not a text: the whole read refuses the document, and
    # so must the pattern path, however the value compares to a blank or not blank text
    ["0", "1", "false", "true", "{}", "[]", "null", '"{}"', '" "'],
)
def test_a_blank_tested_field_that_is_not_a_text_is_read_as_the_whole_path_reads_it(
    tmp_path: Path, value: str
) -> None:
    edit = (
        'UPDATE leads SET document = replace(document, \'"company":""\', '
        f"'\"company\":' || '{value}') WHERE id = :id"
    )
    with _twins(tmp_path / "fast.db", edit) as fast, _twins(tmp_path / "slow.db", edit) as slow:
        with slow.engine.connect() as conn:
            read = text("SELECT document FROM leads WHERE id = 'L002'")
            document = conn.execute(read).scalar_one()
        assert f'"company":{value}' in document

        assert _outcome(fast, LeadRescorer(BCM_MODEL, at=AT, by=ADA)) == _outcome(
            slow, _by_whole_leads
        )


def test_the_whitespace_of_the_blank_test_in_sql_is_what_str_strip_strips() -> None:
    spaces = "".join(c for c in map(chr, range(0x110000)) if c.isspace())

    assert spaces == scores.WHITESPACE
    assert all(c.strip() == "" for c in spaces)


@pytest.mark.parametrize(
    "company",
    ["\u3000", "\x1c\u2028 ", "\u200b", "\x00", " \x85x\xa0", "\\", "é", "\ud7ff", "\U0001f600"],
)
def test_a_blank_tested_text_shares_a_pattern_only_with_texts_as_blank_as_it(
    tmp_path: Path, company: str
) -> None:
    # L002's company is one of the texts, L001's blank: equal patterns exactly when both
    # are blank to str.strip()
    edit = (
        'UPDATE leads SET document = replace(document, \'"company":""\', '
        "'\"company\":' || :value) WHERE id = :id"
    )
    value = json.dumps(company)
    with _twins(tmp_path / "fast.db") as fast, _twins(tmp_path / "slow.db") as slow:
        for store in (fast, slow):
            with store.engine.begin() as conn:
                conn.execute(text(edit), {"id": "L002", "value": value})
        rescorer = LeadRescorer(BCM_MODEL, at=AT, by=ADA)

        assert _outcome(fast, rescorer) == _outcome(slow, _by_whole_leads)
        patterns = rescorer.patterns(("leadkit.adapters.sql.scores", "sqlite"))
        # a document with "\u0000" is read whole (SQLite's JSON text ends at it)
        assert len(patterns) == (2 if company.strip() == "" or "\x00" in company else 3)
