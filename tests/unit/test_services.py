"""Application services on both adapters: qualify, prompt answers, duplicates, stale plans,
atomicity, bulk qualify, disqualify, reactivate, delete and the Outlook BCM conversion.

Every test runs against the in-memory store and the SQL store on a temporary SQLite file.
The only wrapper is ``FailingStore`` (tests/support/failures.py): a real store whose Nth write
raises.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from leadkit import (
    AccountId,
    ContactId,
    Lead,
    LeadEvent,
    LeadId,
    LeadPatch,
    LeadQualified,
    LeadState,
    Money,
    PersonName,
    StatusReason,
    UserRef,
    make_converter,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.conversion import (
    Choice,
    CustomerChoice,
    DuplicateAnswer,
    DuplicateCandidate,
    NoDuplicates,
    QualifyRequest,
    QuestionKind,
    Resolution,
)
from leadkit.errors import (
    ConcurrencyConflict,
    DomainRuleViolation,
    DuplicatesUnresolved,
    IllegalTransition,
    InvalidValue,
    NotFound,
    OpportunityLinked,
    QualificationIncomplete,
    StorageUnavailable,
)
from leadkit.policies import (
    BCM_POLICY,
    DEFAULT_POLICY,
    PROMPT_POLICY,
    DuplicateHandling,
    NotesCarryOver,
    QualificationPolicy,
    RecordKind,
)
from leadkit.ports import (
    EventSink,
    LeadStore,
    UnitOfWork,
)
from leadkit.profiles import FieldProfile
from leadkit.records import Account, Contact, Opportunity
from leadkit.serialization import dump_plan, load_plan
from leadkit.services import (
    OutcomeStatus,
    QualifyResult,
    convert_to_business_contact,
    delete_lead,
    disqualify,
    execute_plan,
    prepare_qualification,
    qualify,
    qualify_many,
    reactivate,
    timeline_notes,
)
from support.failures import FailingStore

ANN = UserRef("ann", "Ann Andersson")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AT = T0 + timedelta(hours=2)
NONE = NoDuplicates()

StoreFactory = Callable[..., LeadStore]


# ---------------------------------------------------------------------------------------------
# Stores


def _sql_factory(tmp_path: Path) -> StoreFactory:
    sql = pytest.importorskip("leadkit.adapters.sql")
    if not hasattr(sql, "SqlStore"):
        pytest.skip("the SQL adapter is not there yet")
    counter = itertools.count(1)

    def make(event_sink: EventSink | None = None) -> LeadStore:
        store: LeadStore = sql.SqlStore.open(
            path=tmp_path / f"leads-{next(counter)}.db", event_sink=event_sink
        )
        return store

    return make


@pytest.fixture(params=["memory", "sql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of fresh, empty stores of one adapter (closed after the test)."""
    opened: list[LeadStore] = []
    base: StoreFactory = MemoryStore if request.param == "memory" else _sql_factory(tmp_path)

    def make(event_sink: EventSink | None = None) -> LeadStore:
        store = base(event_sink=event_sink)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> LeadStore:
    return make_store()


class Ids:
    """A deterministic IdFactory: ``id-1``, ``id-2``, ..."""

    def __init__(self, prefix: str = "id") -> None:
        self._numbers = itertools.count(1)
        self._prefix = prefix

    def __call__(self) -> str:
        return f"{self._prefix}-{next(self._numbers)}"


class EmailFinder:
    """Test finder: contacts with the lead's e-mail address, accounts with its company."""

    def __init__(self) -> None:
        self.calls = 0

    def find(self, lead: Lead, uow: UnitOfWork) -> Sequence[DuplicateCandidate]:
        self.calls += 1
        found: list[DuplicateCandidate] = []
        if lead.email is not None:
            for contact in uow.contacts.list():
                if contact.email is not None and contact.email.normalized == lead.email.normalized:
                    found.append(
                        DuplicateCandidate("contact", contact.id.value, 1.0, "same e-mail")
                    )
        if lead.company:
            for account in uow.accounts.list():
                if account.name.casefold() == lead.company.casefold():
                    found.append(DuplicateCandidate("account", account.id.value, 0.9, "same name"))
        return found


def new_lead(key: str, **fields: Any) -> Lead:
    values: dict[str, Any] = {
        "topic": f"Deal {key}",
        "name": PersonName(first="Ada", last=f"Person {key}"),
        "company": f"Company {key}",
        "email": f"{key.lower()}@example.com",
        "budget_amount": Money("1000", "SEK"),
    }
    values.update(fields)
    return Lead.create(LeadId(key), LeadPatch(**values), at=T0, by=ANN)


def seed(store: LeadStore, *leads: Lead) -> list[Lead]:
    with store.unit_of_work() as uow:
        stored = [uow.leads.add(lead) for lead in leads]
        uow.commit()
    return stored


def read_lead(store: LeadStore, lead_id: LeadId) -> Lead:
    with store.unit_of_work() as uow:
        return uow.leads.get(lead_id)


def snapshot(store: LeadStore) -> tuple[Any, ...]:
    """Everything stored, for comparing before and after."""
    with store.unit_of_work() as uow:
        return (
            sorted(uow.leads.stream(), key=lambda lead: lead.id.value),
            list(uow.accounts.list()),
            list(uow.contacts.list()),
            list(uow.opportunities.list()),
        )


def records(store: LeadStore) -> tuple[list[Account], list[Contact], list[Opportunity]]:
    with store.unit_of_work() as uow:
        return list(uow.accounts.list()), list(uow.contacts.list()), list(uow.opportunities.list())


def do_qualify(
    store: LeadStore | UnitOfWork,
    lead_id: str,
    request: QualifyRequest | None = None,
    policy: QualificationPolicy = DEFAULT_POLICY,
    **kwargs: Any,
) -> QualifyResult:
    kwargs.setdefault("finder", NONE)
    kwargs.setdefault("id_factory", Ids())
    return qualify(
        store, LeadId(lead_id), request or QualifyRequest(), policy, at=AT, by=ANN, **kwargs
    )


# ---------------------------------------------------------------------------------------------
# qualify


def test_qualify_stores_exactly_the_planned_records_and_closes_the_lead(
    make_store: StoreFactory,
) -> None:
    delivered: list[LeadEvent] = []
    store = make_store(event_sink=lambda events: delivered.extend(events))
    seed(store, new_lead("L1").add_note("Met at the fair", at=T0, by=ANN))
    result = do_qualify(store, "L1")
    accounts, contacts, opportunities = records(store)
    plan = result.plan
    assert plan.account is not None
    assert plan.contact is not None
    assert plan.opportunity is not None
    assert accounts == [attrs.evolve(plan.account.record, version=1)]
    assert contacts == [attrs.evolve(plan.contact.record, version=1)]
    assert opportunities == [attrs.evolve(plan.opportunity.record, version=1)]
    lead = read_lead(store, LeadId("L1"))
    assert lead == result.lead
    assert lead.state is LeadState.QUALIFIED
    assert lead.qualified_account == result.account_id == AccountId("id-1")
    assert lead.qualified_contact == result.contact_id == ContactId("id-2")
    assert lead.qualifying_opportunity == result.opportunity_id
    assert result.created == (RecordKind.ACCOUNT, RecordKind.CONTACT, RecordKind.OPPORTUNITY)
    assert [type(e) for e in delivered][-1] is LeadQualified


def test_the_opportunity_timeline_shows_the_lead_notes_without_copying(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1").add_note("Met at the fair", at=T0, by=ANN))
    result = do_qualify(store, "L1")
    _, _, opportunities = records(store)
    assert opportunities[0].notes == ()
    assert [n.text for n in timeline_notes(store, opportunities[0])] == ["Met at the fair"]
    assert result.opportunity_id == opportunities[0].id


def test_qualify_refuses_a_lead_changed_since_the_caller_read_it(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    with pytest.raises(ConcurrencyConflict):
        do_qualify(store, "L1", expected_version=0)
    assert records(store) == ([], [], [])


def test_qualify_refuses_a_closed_or_missing_lead(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    do_qualify(store, "L1")
    before = snapshot(store)
    with pytest.raises(IllegalTransition):
        do_qualify(store, "L1")
    with pytest.raises(NotFound):
        do_qualify(store, "nope")
    assert snapshot(store) == before


def test_prompt_mode_refuses_until_every_question_is_answered(store: LeadStore) -> None:
    seed(store, new_lead("L1", budget_amount=None))
    with pytest.raises(QualificationIncomplete) as error:
        do_qualify(store, "L1", policy=PROMPT_POLICY)
    kinds = [q.kind for q in error.value.questions]
    assert kinds[:3] == [
        QuestionKind.CREATE_ACCOUNT,
        QuestionKind.CREATE_CONTACT,
        QuestionKind.CREATE_OPPORTUNITY,
    ]
    assert records(store) == ([], [], [])
    request = QualifyRequest(
        create_account=Choice.NO,
        create_contact=Choice.YES,
        create_opportunity=Choice.YES,
        currency="USD",
    )
    result = do_qualify(store, "L1", request, PROMPT_POLICY)
    assert result.created == (RecordKind.CONTACT, RecordKind.OPPORTUNITY)
    _, _, opportunities = records(store)
    assert opportunities[0].currency == "USD"
    assert opportunities[0].customer == result.contact_id


def test_a_duplicate_warning_is_resolved_by_linking_the_existing_contact(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1"), new_lead("L2", email="l1@example.com", job_title="CTO"))
    first = do_qualify(store, "L1", finder=EmailFinder())
    with pytest.raises(DuplicatesUnresolved) as error:
        do_qualify(store, "L2", finder=EmailFinder())
    (candidate,) = [c for c in error.value.candidates if c.record_type.value == "contact"]
    assert first.contact_id is not None
    assert candidate.record_id == first.contact_id.value
    request = QualifyRequest(create_account=Choice.NO).answer(candidate, Resolution.LINK)
    second = do_qualify(store, "L2", request, finder=EmailFinder(), id_factory=Ids("x"))
    assert second.contact_id == first.contact_id
    assert second.linked == (RecordKind.CONTACT,)
    assert second.filled[RecordKind.CONTACT] == ("job_title",)
    _, contacts, opportunities = records(store)
    assert len(contacts) == 1
    assert contacts[0].job_title == "CTO"
    assert contacts[0].name == PersonName(first="Ada", last="Person L1")  # never overwritten
    assert contacts[0].version == 2
    assert len(opportunities) == 2


def test_create_anyway_is_accepted_under_warn_and_refused_under_block(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1"), new_lead("L2", email="l1@example.com"))
    do_qualify(store, "L1", finder=EmailFinder())
    with pytest.raises(DuplicatesUnresolved):
        do_qualify(store, "L2", finder=EmailFinder())
    candidates = EmailFinder().find(read_lead(store, LeadId("L2")), store.unit_of_work())
    request = QualifyRequest(
        duplicate_answers=[DuplicateAnswer.create_anyway(c) for c in candidates]
    )
    block = attrs.evolve(DEFAULT_POLICY, duplicates=DuplicateHandling.BLOCK)
    with pytest.raises(DuplicatesUnresolved):
        do_qualify(store, "L2", request, block, finder=EmailFinder())
    result = do_qualify(store, "L2", request, finder=EmailFinder(), id_factory=Ids("x"))
    assert result.created == (RecordKind.ACCOUNT, RecordKind.CONTACT, RecordKind.OPPORTUNITY)


def test_ignore_does_not_ask_the_finder(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    finder = EmailFinder()
    do_qualify(
        store,
        "L1",
        policy=attrs.evolve(DEFAULT_POLICY, duplicates=DuplicateHandling.IGNORE),
        finder=finder,
    )
    assert finder.calls == 0


def test_a_request_linking_a_missing_record_is_refused(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    with pytest.raises(NotFound):
        do_qualify(store, "L1", QualifyRequest(link_contact=ContactId("ghost")))
    assert records(store) == ([], [], [])


def test_a_reactivated_lead_qualified_again_links_its_records(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    first = do_qualify(store, "L1")
    reopened = reactivate(store, LeadId("L1"), at=AT, by=ANN)
    assert reopened.state is LeadState.OPEN
    assert reopened.qualifying_opportunity == first.opportunity_id
    accounts, contacts, opportunities = records(store)
    assert len(opportunities) == 1  # reactivation leaves the opportunity where it is
    second = do_qualify(store, "L1", id_factory=Ids("again"), finder=EmailFinder())
    assert second.created == ()
    assert (second.account_id, second.contact_id, second.opportunity_id) == (
        first.account_id,
        first.contact_id,
        first.opportunity_id,
    )
    assert records(store) == (accounts, contacts, opportunities)


# ---------------------------------------------------------------------------------------------
# Plans made earlier


def test_a_serialised_plan_executes_later(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    plan = prepare_qualification(
        store,
        LeadId("L1"),
        QualifyRequest(),
        DEFAULT_POLICY,
        at=AT,
        by=ANN,
        finder=NONE,
        id_factory=Ids(),
    )
    converter = make_converter()
    result = execute_plan(store, load_plan(dump_plan(plan, converter), converter), finder=NONE)
    assert result.plan == plan
    assert read_lead(store, LeadId("L1")).qualified_contact == plan.contact_id


def _prepare(store: LeadStore, lead_id: str, **kwargs: Any) -> Any:
    return prepare_qualification(
        store,
        LeadId(lead_id),
        kwargs.pop("request", QualifyRequest()),
        kwargs.pop("policy", DEFAULT_POLICY),
        at=AT,
        by=ANN,
        finder=kwargs.pop("finder", NONE),
        id_factory=Ids(),
    )


def test_a_plan_is_refused_when_the_lead_changed_since(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    plan = _prepare(store, "L1")
    with store.unit_of_work() as uow:
        lead = uow.leads.get(LeadId("L1"))
        uow.leads.save(lead.update(LeadPatch(topic="New topic"), at=AT, by=ANN))
        uow.commit()
    before = snapshot(store)
    with pytest.raises(ConcurrencyConflict) as error:
        execute_plan(store, plan, finder=NONE)
    assert error.value.expected_version == 1
    assert error.value.actual_version == 2
    assert snapshot(store) == before


def test_a_plan_is_refused_when_a_linked_record_changed_since(store: LeadStore) -> None:
    contact = Contact(id=ContactId("C-1"), name=PersonName(last="Person L1"))
    with store.unit_of_work() as uow:
        uow.contacts.add(contact)
        uow.commit()
    seed(store, new_lead("L1"))
    plan = _prepare(store, "L1", request=QualifyRequest(link_contact=contact.id))
    with store.unit_of_work() as uow:
        uow.contacts.save(attrs.evolve(uow.contacts.get(contact.id), job_title="CEO"))
        uow.commit()
    with pytest.raises(ConcurrencyConflict) as error:
        execute_plan(store, plan, finder=NONE)
    assert error.value.key == contact.id


def test_a_plan_is_refused_when_a_new_duplicate_appeared(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    plan = _prepare(store, "L1", finder=EmailFinder())
    assert plan.is_complete
    with store.unit_of_work() as uow:
        uow.contacts.add(
            Contact(id=ContactId("C-9"), name=PersonName(last="x"), email="l1@example.com")
        )
        uow.commit()
    with pytest.raises(DuplicatesUnresolved):
        execute_plan(store, plan, finder=EmailFinder())
    assert read_lead(store, LeadId("L1")).state is LeadState.OPEN


def test_an_edited_plan_is_refused(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    plan = _prepare(store, "L1")
    assert plan.account is not None
    edited = attrs.evolve(
        plan, account=attrs.evolve(plan.account, record=attrs.evolve(plan.account.record, name="X"))
    )
    with pytest.raises(InvalidValue) as error:
        execute_plan(store, edited, finder=NONE)
    assert error.value.field == "plan"
    assert records(store) == ([], [], [])


def test_an_incomplete_plan_is_refused(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    plan = _prepare(store, "L1", policy=PROMPT_POLICY)
    with pytest.raises(QualificationIncomplete):
        execute_plan(store, plan, finder=NONE)


# ---------------------------------------------------------------------------------------------
# All or nothing


def test_a_failure_at_any_write_leaves_every_repository_unchanged(store: LeadStore) -> None:
    contact = Contact(id=ContactId("C-1"), name=PersonName(last="Person L1"))
    with store.unit_of_work() as uow:
        uow.contacts.add(contact)
        uow.commit()
    seed(store, new_lead("L1", job_title="CTO"))
    request = QualifyRequest(link_contact=contact.id)
    writes = _prepare(store, "L1", request=request).writes
    assert writes == 4  # account, linked contact filled, opportunity, lead
    before = snapshot(store)
    for fail_at in range(1, writes + 1):
        failing = FailingStore(store, fail_at)
        with pytest.raises(StorageUnavailable):
            do_qualify(failing, "L1", request)
        assert snapshot(store) == before, f"write {fail_at}"


def test_in_a_callers_unit_of_work_a_failure_rolls_back_even_if_the_caller_commits(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1"))
    before = snapshot(store)
    for fail_at in range(1, 5):
        failing = FailingStore(store, fail_at)
        with failing.unit_of_work() as uow:
            with pytest.raises(StorageUnavailable):
                do_qualify(uow, "L1")
            uow.commit()  # a careless caller: nothing of the qualification may be stored
        assert snapshot(store) == before


def test_in_a_callers_unit_of_work_nothing_is_stored_until_the_caller_commits(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1"), new_lead("L2"))
    with store.unit_of_work() as uow:
        do_qualify(uow, "L1")
    assert records(store) == ([], [], [])
    with store.unit_of_work() as uow:
        lead = uow.leads.get(LeadId("L2"))
        uow.leads.save(lead.update(LeadPatch(job_title="CFO"), at=AT, by=ANN))
        with pytest.raises(QualificationIncomplete):  # refused before any write
            do_qualify(uow, "L1", policy=PROMPT_POLICY)
        do_qualify(uow, "L1", id_factory=Ids("b"))
        uow.commit()
    assert read_lead(store, LeadId("L1")).state is LeadState.QUALIFIED
    assert read_lead(store, LeadId("L2")).job_title == "CFO"  # the caller's change is kept


# ---------------------------------------------------------------------------------------------
# Bulk


def test_bulk_gives_one_outcome_per_lead_in_order(store: LeadStore) -> None:
    seed(
        store,
        new_lead("L1"),
        new_lead("L2", budget_amount=None),
        new_lead("L3", email="l1@example.com"),
        new_lead("L4").disqualify(StatusReason.LOST, at=T0, by=ANN),
    )
    request = QualifyRequest(
        create_account=Choice.YES,
        create_contact=Choice.YES,
        create_opportunity=Choice.YES,
        customer=CustomerChoice.ACCOUNT,
    )
    ids = [LeadId(k) for k in ("L1", "L2", "L3", "L4", "nope", "L1")]
    outcomes = qualify_many(
        store, ids, request, PROMPT_POLICY, at=AT, by=ANN, finder=EmailFinder(), id_factory=Ids()
    )
    assert [o.lead_id for o in outcomes] == ids
    assert [o.status for o in outcomes] == [
        OutcomeStatus.QUALIFIED,
        OutcomeStatus.NEEDS_ANSWERS,
        OutcomeStatus.DUPLICATE_WARNING,
        OutcomeStatus.REFUSED,
        OutcomeStatus.FAILED,
        OutcomeStatus.REFUSED,
    ]
    assert outcomes[0].result is not None
    assert [q.kind for q in outcomes[1].questions] == [QuestionKind.CURRENCY]
    assert isinstance(outcomes[1].error, QualificationIncomplete)
    assert [c.record_type.value for c in outcomes[2].candidates] == ["contact"]
    assert isinstance(outcomes[3].error, IllegalTransition)
    assert isinstance(outcomes[4].error, NotFound)
    _, contacts, _ = records(store)
    assert len(contacts) == 1  # only L1 was stored


def test_bulk_under_block_refuses_duplicates(store: LeadStore) -> None:
    seed(store, new_lead("L1"), new_lead("L2", email="l1@example.com"))
    block = attrs.evolve(DEFAULT_POLICY, duplicates=DuplicateHandling.BLOCK)
    outcomes = qualify_many(
        store,
        [LeadId("L1"), LeadId("L2")],
        QualifyRequest(),
        block,
        at=AT,
        by=ANN,
        finder=EmailFinder(),
        id_factory=Ids(),
    )
    assert [o.status for o in outcomes] == [OutcomeStatus.QUALIFIED, OutcomeStatus.REFUSED]
    assert isinstance(outcomes[1].error, DuplicatesUnresolved)


def test_one_failed_lead_does_not_stop_or_undo_the_others(store: LeadStore) -> None:
    seed(store, new_lead("L1"), new_lead("L2"), new_lead("L3"))
    failing = FailingStore(store, fail_at=6)  # the second lead's second write
    outcomes = qualify_many(
        failing,
        [LeadId("L1"), LeadId("L2"), LeadId("L3")],
        QualifyRequest(),
        DEFAULT_POLICY,
        at=AT,
        by=ANN,
        finder=NONE,
        id_factory=Ids(),
        batch_size=1,  # a unit of work per lead
    )
    assert [o.status for o in outcomes] == [
        OutcomeStatus.QUALIFIED,
        OutcomeStatus.FAILED,
        OutcomeStatus.QUALIFIED,
    ]
    assert isinstance(outcomes[1].error, StorageUnavailable)
    assert read_lead(store, LeadId("L2")).state is LeadState.OPEN
    with store.unit_of_work() as uow:
        assert list(uow.contacts.list(originating_lead=LeadId("L2"))) == []
        assert len(uow.contacts.list()) == 2


def test_a_batch_whose_write_fails_is_rolled_back_and_run_again_lead_by_lead(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1"), new_lead("L2"), new_lead("L3"))
    failing = FailingStore(store, fail_at=6)  # in the batch: the second lead's second write
    outcomes = qualify_many(
        failing,
        [LeadId("L1"), LeadId("L2"), LeadId("L3")],
        QualifyRequest(),
        DEFAULT_POLICY,
        at=AT,
        by=ANN,
        finder=NONE,
        id_factory=Ids(),
    )
    # The failure does not come back in the rerun (it was the sixth write only).
    assert [o.status for o in outcomes] == [OutcomeStatus.QUALIFIED] * 3
    with store.unit_of_work() as uow:  # nothing of the rolled-back batch is left twice
        assert len(uow.contacts.list()) == 3
        for n in (1, 2, 3):
            assert len(uow.contacts.list(originating_lead=LeadId(f"L{n}"))) == 1


def test_bulk_of_nothing_is_nothing(store: LeadStore) -> None:
    assert (
        qualify_many(
            store,
            [],
            QualifyRequest(),
            DEFAULT_POLICY,
            at=AT,
            by=ANN,
            finder=NONE,
            id_factory=Ids(),
        )
        == ()
    )


# ---------------------------------------------------------------------------------------------
# Disqualify, reactivate, delete


def test_disqualify_closes_the_lead(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    result = disqualify(store, LeadId("L1"), StatusReason.CANNOT_CONTACT, at=AT, by=ANN)
    assert result.lead.state is LeadState.DISQUALIFIED
    assert result.plan is None
    assert read_lead(store, LeadId("L1")).reason == StatusReason.CANNOT_CONTACT


@pytest.mark.parametrize(
    ("reason", "error"),
    [(StatusReason.QUALIFIED, InvalidValue), (StatusReason.LOST, ConcurrencyConflict)],
)
def test_disqualify_refusals(
    store: LeadStore, reason: StatusReason, error: type[Exception]
) -> None:
    seed(store, new_lead("L1"))
    with pytest.raises(error):
        disqualify(store, LeadId("L1"), reason, at=AT, by=ANN, expected_version=7)


def test_disqualify_is_refused_while_an_opportunity_is_linked(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    do_qualify(store, "L1")
    reactivate(store, LeadId("L1"), at=AT, by=ANN)
    with pytest.raises(OpportunityLinked):
        disqualify(store, LeadId("L1"), StatusReason.LOST, at=AT, by=ANN)


def test_disqualify_may_keep_the_person_as_a_prospect_when_the_policy_allows(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1"))
    prospect = QualifyRequest(create_account=Choice.NO)
    with pytest.raises(DomainRuleViolation):
        disqualify(
            store,
            LeadId("L1"),
            StatusReason.NO_LONGER_INTERESTED,
            at=AT,
            by=ANN,
            prospect=prospect,
            finder=NONE,
            id_factory=Ids(),
        )
    with pytest.raises(InvalidValue):
        disqualify(store, LeadId("L1"), StatusReason.LOST, at=AT, by=ANN, prospect=prospect)
    assert records(store) == ([], [], [])
    policy = attrs.evolve(DEFAULT_POLICY, prospects_on_disqualify=True)
    result = disqualify(
        store,
        LeadId("L1"),
        StatusReason.NO_LONGER_INTERESTED,
        at=AT,
        by=ANN,
        prospect=prospect,
        policy=policy,
        finder=EmailFinder(),
        id_factory=Ids(),
    )
    assert result.lead.state is LeadState.DISQUALIFIED
    assert result.plan is not None
    assert result.plan.created == (RecordKind.CONTACT,)
    accounts, contacts, opportunities = records(store)
    assert (len(accounts), len(contacts), len(opportunities)) == (0, 1, 0)


def test_reactivate_an_open_lead_is_refused(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    with pytest.raises(IllegalTransition):
        reactivate(store, LeadId("L1"), at=AT, by=ANN)


def test_deleting_a_lead_copies_its_linked_notes_onto_its_records(store: LeadStore) -> None:
    seed(store, new_lead("L1").add_note("Met at the fair", at=T0, by=ANN))
    do_qualify(store, "L1")
    changed = delete_lead(store, LeadId("L1"))
    assert len(changed) == 3
    with store.unit_of_work() as uow:
        with pytest.raises(NotFound):
            uow.leads.get(LeadId("L1"))
        opportunity = uow.opportunities.list()[0]
    assert opportunity.notes_from_lead is None
    assert [n.text for n in opportunity.notes] == ["Met at the fair"]
    assert [n.text for n in timeline_notes(store, opportunity)] == ["Met at the fair"]


def test_deleting_a_lead_without_carrying_notes_leaves_the_records(store: LeadStore) -> None:
    seed(store, new_lead("L1").add_note("Met at the fair", at=T0, by=ANN))
    do_qualify(store, "L1")
    before = records(store)
    assert delete_lead(store, LeadId("L1"), carry_notes=False) == ()
    assert records(store) == before
    assert timeline_notes(store, before[2][0]) == ()  # the lead is gone


def test_delete_refusals(store: LeadStore) -> None:
    seed(store, new_lead("L1"))
    with pytest.raises(ConcurrencyConflict):
        delete_lead(store, LeadId("L1"), expected_version=5)
    with pytest.raises(NotFound):
        delete_lead(store, LeadId("nope"))
    assert read_lead(store, LeadId("L1")).version == 1


# ---------------------------------------------------------------------------------------------
# Outlook BCM


def test_convert_to_business_contact_makes_only_a_contact_and_copies_the_notes(
    store: LeadStore,
) -> None:
    seed(store, new_lead("L1").add_note("Call back in May", at=T0, by=ANN))
    result = convert_to_business_contact(
        store, LeadId("L1"), at=AT, by=ANN, finder=EmailFinder(), id_factory=Ids()
    )
    assert result.created == (RecordKind.CONTACT,)
    accounts, contacts, opportunities = records(store)
    assert (accounts, opportunities) == ([], [])
    assert contacts[0].company == "Company L1"
    assert [n.text for n in contacts[0].notes] == ["Call back in May"]
    lead = read_lead(store, LeadId("L1"))
    assert lead.state is LeadState.QUALIFIED
    assert lead.qualified_contact == contacts[0].id


def test_convert_to_business_contact_warns_of_and_links_an_existing_contact(
    store: LeadStore,
) -> None:
    existing = Contact(
        id=ContactId("C-1"), name=PersonName(last="Person L1"), email="l1@example.com"
    )
    with store.unit_of_work() as uow:
        uow.contacts.add(existing)
        uow.commit()
    seed(store, new_lead("L1").add_note("Call back in May", at=T0, by=ANN))
    with pytest.raises(DuplicatesUnresolved) as error:
        convert_to_business_contact(
            store, LeadId("L1"), at=AT, by=ANN, finder=EmailFinder(), id_factory=Ids()
        )
    (candidate,) = error.value.candidates
    result = convert_to_business_contact(
        store,
        LeadId("L1"),
        at=AT,
        by=ANN,
        finder=EmailFinder(),
        id_factory=Ids(),
        duplicate_answers=[DuplicateAnswer.link(candidate)],
    )
    assert result.contact_id == existing.id
    _, contacts, _ = records(store)
    assert len(contacts) == 1
    assert contacts[0].name.first == "Ada"  # filled
    assert contacts[0].name.last == "Person L1"
    assert [n.text for n in contacts[0].notes] == ["Call back in May"]


def test_convert_to_business_contact_needs_a_name(store: LeadStore) -> None:
    lead = Lead.create(
        LeadId("L1"),
        LeadPatch(topic="t", company="Acme", name=PersonName(salutation="Dr.")),
        at=T0,
        by=ANN,
        profile=FieldProfile("none", ()),
    )
    seed(store, lead)
    with pytest.raises(InvalidValue):
        convert_to_business_contact(
            store, LeadId("L1"), at=AT, by=ANN, finder=NONE, id_factory=Ids()
        )


def test_notes_copy_policy_on_qualify(store: LeadStore) -> None:
    seed(store, new_lead("L1").add_note("n1", at=T0, by=ANN))
    do_qualify(store, "L1", policy=attrs.evolve(BCM_POLICY, notes=NotesCarryOver.COPY))
    for group in records(store):
        for record in group:
            assert [n.text for n in record.notes] == ["n1"]
