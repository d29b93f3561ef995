"""Specification of the front door (leadkit.desk): one object wired once, plain arguments."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadkit import (
    BCM_PROFILE,
    CandidateType,
    ConcurrencyConflict,
    Desk,
    DuplicateCandidate,
    DuplicatesUnresolved,
    IllegalTransition,
    InvalidValue,
    LeadClosed,
    LeadId,
    LeadSource,
    LeadState,
    Money,
    NotFound,
    OutcomeStatus,
    StatusReason,
    UserRef,
    retry_on_conflict,
    set_source,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.timeline import ActivityKind

ANNA = UserRef("anna", "Anna Svensson")
BO = UserRef("bo", "Bo Karlsson")
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _clock() -> Callable[[], datetime]:
    ticks = itertools.count()
    return lambda: START + timedelta(minutes=next(ticks))


def _ids() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"id-{next(numbers)}"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def desk(store: MemoryStore) -> Desk:
    return Desk(store, clock=_clock(), ids=_ids(), phone_region="SE").acting_as(ANNA)


def _stored_versions(store: MemoryStore) -> dict[str, int]:
    with store.unit_of_work() as uow:
        return {lead.id.value: lead.version for lead in uow.leads.stream()}


# Wiring -------------------------------------------------------------------------------------


def test_create_takes_fields_by_name_and_stores_the_lead(desk: Desk) -> None:
    lead = desk.create(
        topic="Coffee machines",
        name="Åsa Öberg",
        email="asa@fika.example",
        business_phone="08-123 456 78",
        budget_amount=("25000", "EUR"),
        estimated_value={"amount": "5000", "currency": "SEK"},
        source="Web",
    )
    assert lead.id == LeadId("id-1")
    assert lead.version == 1
    assert lead.created_at == START
    assert lead.created_by == ANNA
    assert lead.owner == ANNA
    assert lead.business_phone is not None
    assert lead.business_phone.e164 == "+46812345678"
    assert lead.budget_amount == Money("25000", "EUR")
    assert lead.estimated_value == Money("5000", "SEK")
    assert lead.source is LeadSource.WEB
    assert desk.get("id-1") == lead


def test_create_refuses_every_unknown_or_bad_field_at_once_and_stores_nothing(
    desk: Desk, store: MemoryStore
) -> None:
    with pytest.raises(InvalidValue) as caught:
        desk.create(topic="x", nmae="Ada", email="not an address", budget_amount=1.5)
    assert set(caught.value.fields) == {"nmae", "email", "budget_amount"}
    assert _stored_versions(store) == {}


def test_create_applies_the_desks_profile(store: MemoryStore) -> None:
    d365 = Desk(store, clock=_clock(), ids=_ids()).acting_as(ANNA)
    with pytest.raises(InvalidValue) as caught:
        d365.create(name="Ada")  # D365 wants a topic and a last name
    assert "topic" in caught.value.fields
    bcm = Desk(store, clock=_clock(), ids=_ids(), profile=BCM_PROFILE).acting_as(ANNA)
    assert bcm.create(name="Ada").topic == ""


def test_update_keeps_using_the_desks_profile(store: MemoryStore) -> None:
    bcm = Desk(store, clock=_clock(), ids=_ids(), profile=BCM_PROFILE).acting_as(ANNA)
    lead = bcm.create(name="Ada Lovelace", topic="Engines")
    assert bcm.update(lead.id, topic="").topic == ""  # allowed by BCM, refused by D365
    with pytest.raises(InvalidValue):
        bcm.update(lead.id, name="")


def test_a_desk_without_a_user_wants_by(store: MemoryStore) -> None:
    desk = Desk(store, clock=_clock(), ids=_ids())
    with pytest.raises(InvalidValue) as caught:
        desk.create(topic="x", name="Ada Lovelace")
    assert caught.value.field == "by"
    assert desk.create(topic="x", name="Ada Lovelace", by="bo").created_by == UserRef("bo")
    assert desk.user is None
    assert desk.acting_as("bo").user == UserRef("bo")


def test_a_bad_phone_region_is_refused_when_the_desk_is_built(store: MemoryStore) -> None:
    with pytest.raises(InvalidValue) as caught:
        Desk(store, phone_region="XX")
    assert caught.value.field == "phone_region"


@pytest.mark.parametrize("bad", [42, None, b"id-1", ANNA])
def test_a_lead_id_must_be_an_id_or_its_text(desk: Desk, bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        desk.get(bad)  # type: ignore[arg-type]
    assert caught.value.field == "lead_id"


def test_get_of_an_unknown_lead_is_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound):
        desk.get("nobody")


# Single-lead commands -------------------------------------------------------------------------


def test_update_with_a_stale_version_conflicts_and_changes_nothing(
    desk: Desk, store: MemoryStore
) -> None:
    lead = desk.create(topic="Coffee", name="Ada Lovelace")
    desk.update(lead.id, company="Fika AB")
    with pytest.raises(ConcurrencyConflict):
        desk.update(lead.id, expected_version=1, company="Other AB")
    assert desk.get(lead.id).company == "Fika AB"
    assert _stored_versions(store) == {"id-1": 2}


def test_an_update_that_changes_nothing_stores_nothing(desk: Desk) -> None:
    lead = desk.create(topic="Coffee", name="Ada Lovelace")
    assert desk.update(lead.id, topic="Coffee").version == 1


def test_note_activity_assign_disqualify_reactivate_delete(desk: Desk) -> None:
    lead = desk.create(topic="Coffee", name="Ada Lovelace")
    assert desk.note(lead.id, "Met at the fair", title="Fair").notes[0].text == "Met at the fair"
    logged = desk.log_activity(lead.id, "phone_call", "Call back")
    assert logged.activities[0].kind is ActivityKind.PHONE_CALL
    assert desk.assign(lead.id, "bo").owner == UserRef("bo")
    closed = desk.disqualify(lead.id, "cannot contact").lead
    assert closed.reason is StatusReason.CANNOT_CONTACT
    with pytest.raises(LeadClosed):
        desk.update(lead.id, company="x")
    reopened = desk.reactivate(lead.id)
    assert reopened.is_open
    assert len(reopened.notes) == 1
    desk.delete(lead.id, expected_version=reopened.version)
    with pytest.raises(NotFound):
        desk.get(lead.id)


def test_disqualify_refuses_an_unknown_reason_and_a_bad_activity_kind(desk: Desk) -> None:
    lead = desk.create(topic="Coffee", name="Ada Lovelace")
    with pytest.raises(InvalidValue):
        desk.disqualify(lead.id, "bored")
    with pytest.raises(InvalidValue) as caught:
        desk.log_activity(lead.id, "fax", "x")
    assert caught.value.field == "kind"


# Duplicates and qualification ------------------------------------------------------------------


def test_find_duplicates_by_id_or_by_fields_with_one_candidate_type(desk: Desk) -> None:
    first = desk.create(topic="Coffee", name="Åsa Öberg", email="asa@fika.example")
    second = desk.create(topic="Tea", name="Åsa Öberg", email="asa@fika.example")
    by_id = desk.find_duplicates(second.id)
    assert [c.key for c in by_id] == [(CandidateType.LEAD, first.id.value)]
    assert all(isinstance(c, DuplicateCandidate) and c.reason for c in by_id)
    by_fields = desk.find_duplicates(email="asa@fika.example", name="A. Öberg")
    assert {c.record_id for c in by_fields} == {first.id.value, second.id.value}


def test_find_duplicates_wants_an_id_or_fields_not_both(desk: Desk) -> None:
    with pytest.raises(InvalidValue):
        desk.find_duplicates()
    with pytest.raises(InvalidValue):
        desk.find_duplicates("id-1", email="a@b.example")


def test_qualify_is_one_call_and_the_next_lead_sees_the_contact_it_created(desk: Desk) -> None:
    first = desk.create(topic="Coffee", name="Åsa Öberg", email="asa@fika.example")
    second = desk.create(topic="Tea", name="Åsa Öberg", email="asa@fika.example")
    result = desk.qualify(first.id)
    assert result.lead.state is LeadState.QUALIFIED
    assert result.contact_id is not None
    with pytest.raises(DuplicatesUnresolved) as caught:
        desk.qualify(second.id)
    candidates = caught.value.candidates
    assert [c.key for c in candidates] == [(CandidateType.CONTACT, result.contact_id.value)]
    assert desk.get(second.id).is_open  # nothing stored
    linked = desk.qualify(second.id, link_contact=candidates[0].record_id)
    assert linked.contact_id == result.contact_id


def test_qualify_create_anyway_takes_the_candidates(desk: Desk) -> None:
    first = desk.create(topic="Coffee", name="Åsa Öberg", email="asa@fika.example")
    second = desk.create(topic="Tea", name="Åsa Öberg", email="asa@fika.example")
    made = desk.qualify(first.id)
    plan = desk.plan_qualification(second.id)
    assert plan.unresolved
    assert desk.get(second.id).is_open
    result = desk.qualify(second.id, create_anyway=list(plan.unresolved))
    assert result.contact_id != made.contact_id


def test_qualify_refuses_an_unknown_answer(desk: Desk) -> None:
    lead = desk.create(topic="Coffee", name="Ada Lovelace")
    with pytest.raises(InvalidValue) as caught:
        desk.qualify(lead.id, link_contatc="C-1")
    assert caught.value.field == "link_contatc"
    with pytest.raises(InvalidValue) as caught:
        desk.qualify(lead.id, customer="partner")
    assert caught.value.field == "customer"


def test_qualify_many_and_convert_to_business_contact(desk: Desk) -> None:
    a = desk.create(topic="A", name="Ada Lovelace", company="Engines Ltd")
    b = desk.create(topic="B", name="Grace Hopper")
    outcomes = desk.qualify_many([a.id.value, b.id], create_opportunity=False)
    assert [o.status for o in outcomes] == [OutcomeStatus.QUALIFIED, OutcomeStatus.QUALIFIED]
    c = desk.create(topic="C", name="Alan Turing")
    converted = desk.convert_to_business_contact(c.id)
    assert converted.opportunity_id is None
    assert converted.contact_id is not None
    with pytest.raises(IllegalTransition):
        desk.qualify(c.id)


# Scoring, views, reports, bulk ---------------------------------------------------------------


def test_score_and_reports_say_when_scores_are_stale(desk: Desk) -> None:
    a = desk.create(topic="A", name="Ada Lovelace", email="ada@example.com")
    desk.create(topic="B", name="Grace Hopper")
    report = desk.reports.by_owner()
    assert report.stale == 2
    assert not report.is_current
    scored = desk.score(a.id)
    assert scored.score is not None
    assert desk.reports.by_owner().stale == 1
    fresh = desk.reports.by_owner(rescore=True)
    assert (fresh.stale, fresh.rescored) == (0, 1)
    assert fresh.rows[0].count == 2
    assert desk.rescore_all(only_outdated=True).rescored == 0


def test_views_list_my_open_leads(desk: Desk) -> None:
    mine = desk.create(topic="A", name="Ada Lovelace")
    desk.create(topic="B", name="Grace Hopper", by="bo")
    assert [lead.id for lead in desk.views.my_open().items] == [mine.id]
    assert len(desk.views.my_open("bo").items) == 1
    assert len(desk.views.all().items) == 2


def test_mass_edit_takes_ids_as_text(desk: Desk) -> None:
    a = desk.create(topic="A", name="Ada Lovelace")
    result = desk.mass_edit([a.id.value], set_source("Partner"))
    assert result.committed
    assert desk.get(a.id).source is LeadSource.PARTNER


def test_export_then_import_dry_run_writes_nothing(
    desk: Desk, store: MemoryStore, tmp_path: Path
) -> None:
    desk.create(topic="A", name="Ada Lovelace", business_phone="070-123 45 67")
    path = tmp_path / "leads.csv"
    assert desk.export(path) == 1
    before = _stored_versions(store)
    plan = desk.import_file(path)
    assert _stored_versions(store) == before
    assert plan.policy.phone_region == "SE"


# retry_on_conflict ---------------------------------------------------------------------------


def test_retry_on_conflict_runs_again_until_it_succeeds() -> None:
    calls = itertools.count(1)

    def flaky() -> int:
        n = next(calls)
        if n < 3:
            raise ConcurrencyConflict(LeadId("L-1"), n, n + 1)
        return n

    assert retry_on_conflict(flaky) == 3


def test_retry_on_conflict_gives_up_after_its_attempts() -> None:
    calls: list[int] = []

    def always() -> None:
        calls.append(1)
        raise ConcurrencyConflict(LeadId("L-1"), 1, 2)

    with pytest.raises(ConcurrencyConflict):
        retry_on_conflict(always, attempts=2)
    assert len(calls) == 2


def test_retry_on_conflict_does_not_retry_other_errors_and_checks_attempts() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise NotFound("lead", "L-1")

    with pytest.raises(NotFound):
        retry_on_conflict(broken)
    assert calls == [1]
    with pytest.raises(InvalidValue):
        retry_on_conflict(lambda: None, attempts=0)


def test_read_modify_write_with_retry_loses_no_update(desk: Desk) -> None:
    lead = desk.create(topic="Coffee", name="Ada Lovelace")
    stale = desk.get(lead.id)
    desk.update(lead.id, company="Fika AB")  # someone else got there first

    def add_note() -> int:
        current = desk.get(lead.id) if attempts else stale
        attempts.append(1)
        return desk.note(current.id, "hello", expected_version=current.version).version

    attempts: list[int] = []
    assert retry_on_conflict(add_note) == 3
    assert len(attempts) == 2
    assert desk.get(lead.id).company == "Fika AB"


def test_import_file_writes_the_rows_with_the_desks_phone_region(
    desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Topic,Last Name,Business Phone\nCoffee,Öberg,08-123 456 78\n", "utf-8")
    other = Desk(MemoryStore(), clock=_clock(), ids=_ids(), phone_region="SE").acting_as(BO)
    report = other.import_file(path, dry_run=False)
    assert report.created == 1
    (lead,) = other.views.all().items
    assert lead.business_phone is not None
    assert lead.business_phone.e164 == "+46812345678"
    assert lead.created_by == BO


MESSAGE = (
    b"From: =?utf-8?q?=C3=85sa_=C3=96berg?= <asa@fika.example>\r\n"
    b"To: sales@example.com\r\nSubject: Coffee machines\r\n\r\nPlease call me.\r\n"
)


def test_receive_email_stores_a_lead_and_refuses_a_known_sender(desk: Desk) -> None:
    lead = desk.receive_email(MESSAGE)
    assert lead.topic == "Coffee machines"
    assert lead.email is not None
    with pytest.raises(DuplicatesUnresolved) as caught:
        desk.receive_email(MESSAGE)
    assert [c.key for c in caught.value.candidates] == [(CandidateType.LEAD, lead.id.value)]
    again = desk.receive_email(MESSAGE, create_anyway=True)
    assert again.id != lead.id


def test_with_policy_shares_the_store_and_the_index(desk: Desk) -> None:
    from leadkit import PROMPT_POLICY, QualificationIncomplete

    lead = desk.create(topic="Coffee", name="Åsa Öberg", email="asa@fika.example")
    prompt = desk.with_policy(PROMPT_POLICY)
    assert prompt.user == desk.user
    assert prompt.duplicates is desk.duplicates
    with pytest.raises(QualificationIncomplete):
        prompt.qualify(lead.id)
    questions = prompt.plan_qualification(lead.id).questions
    answers: dict[str, Any] = {q.field: q.suggestion for q in questions}
    assert "yes" in answers.values()
    assert prompt.qualify(lead.id, **answers).lead.state is LeadState.QUALIFIED
    with pytest.raises(InvalidValue):
        desk.with_policy("prompt")  # type: ignore[arg-type]


def test_an_update_checks_the_profile_the_lead_was_created_under(store: MemoryStore) -> None:
    bcm = Desk(store, clock=_clock(), ids=_ids(), profile=BCM_PROFILE).acting_as(ANNA)
    lead = bcm.create(name="Ada Lovelace")  # no topic: fine under BCM
    d365 = Desk(store, clock=_clock(), ids=_ids()).acting_as(ANNA)
    assert d365.update(lead.id, company="Engines Ltd").company == "Engines Ltd"
    with pytest.raises(InvalidValue):
        d365.update(lead.id, name="")  # BCM still wants a full name


def test_on_a_sql_store_the_desk_keeps_the_duplicate_keys_in_its_database(
    tmp_path: Path,
) -> None:
    from sqlalchemy import func, select

    from leadkit.adapters.sql import SqlStore
    from leadkit.adapters.sql.duplicate_keys import duplicate_keys

    path = tmp_path / "leads.db"
    with SqlStore.open(path=path) as store:
        desk = Desk(store, clock=_clock(), ids=_ids()).acting_as(ANNA)
        desk.create(topic="Pumps", name="Åsa Öberg", email="asa@fika.example")
        with store.engine.connect() as conn:
            keys = conn.execute(select(func.count()).select_from(duplicate_keys)).scalar()
        assert keys  # written with the lead, in its transaction
    with SqlStore.open(path=path) as store:
        # A second desk (another process, say) finds the person through the stored keys.
        again = Desk(store, clock=_clock(), ids=_ids()).acting_as(ANNA)
        found = again.find_duplicates(topic="Pumps", name="Åsa Öberg", email="asa@fika.example")
        assert [c.record_id for c in found] == ["id-1"]
