"""Qualification properties, on the memory store and the SQL store (a temporary SQLite file):

- executing any plan, then reading the repositories, gives exactly the planned records;
- a linked record's non-empty field is never overwritten;
- a failure injected at any write (the Nth, for every N) leaves every repository as before;
- no path (qualify, bulk qualify, BCM conversion, prospect disqualification, requalifying a
  reactivated lead) creates two contacts for one person, with a test finder and with the
  duplicate engine (``EngineDuplicateCheck``);
- bulk qualification with the duplicate engine creates one contact for leads that describe
  one person, under WARN and BLOCK;
- bulk qualification returns one outcome per lead id given, in order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from leadkit import (
    Lead,
    LeadId,
    LeadPatch,
    LeadState,
    PersonName,
    StatusReason,
    UserRef,
    is_blank,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.conversion import (
    CandidateType,
    Choice,
    ConversionPlan,
    CustomerChoice,
    DuplicateAnswer,
    DuplicateCandidate,
    DuplicateCheck,
    NoDuplicates,
    QualifyRequest,
    StepAction,
)
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.errors import (
    DomainRuleViolation,
    DuplicatesUnresolved,
    InvalidValue,
    StorageUnavailable,
)
from leadkit.policies import (
    CurrencyRegistry,
    DuplicateHandling,
    NotesCarryOver,
    QualificationPolicy,
    QualifyMode,
)
from leadkit.ports import (
    LeadStore,
    UnitOfWork,
)
from leadkit.profiles import FieldProfile
from leadkit.records import Account, Contact, Opportunity
from leadkit.services import (
    OutcomeStatus,
    convert_to_business_contact,
    disqualify,
    execute_plan,
    prepare_qualification,
    qualify,
    qualify_many,
    reactivate,
)
from leadkit.testing import strategies as s
from support.failures import FailingStore

ANN = UserRef("ann")
T0 = datetime(2026, 4, 1, tzinfo=UTC)
NONE = NoDuplicates()
REGISTRY = CurrencyRegistry(
    "EUR", {code: Decimal(i % 7 + 2) for i, code in enumerate(s.CURRENCIES) if code != "EUR"}
)
ADAPTERS = ["memory", "sql"]
EXAMPLES = {"memory": 30, "sql": 8}


# ---------------------------------------------------------------------------------------------
# Stores


class Stores:
    """Fresh stores of one adapter; SQL ones on files in a temporary directory."""

    def __init__(self, adapter: str, directory: Path) -> None:
        self.adapter = adapter
        self.directory = directory
        self.numbers = itertools.count(1)
        if adapter == "sql":
            sql = pytest.importorskip("leadkit.adapters.sql")
            if not hasattr(sql, "SqlStore"):
                pytest.skip("the SQL adapter is not there yet")
            self.sql = sql

    def __call__(self) -> LeadStore:
        if self.adapter == "memory":
            return MemoryStore()
        store: LeadStore = self.sql.SqlStore.open(
            path=self.directory / f"q-{next(self.numbers)}.db"
        )
        return store


def examples(adapter_count: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=adapter_count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


class Ids:
    def __init__(self, prefix: str = "new") -> None:
        self._numbers = itertools.count(1)
        self._prefix = prefix

    def __call__(self) -> str:
        return f"{self._prefix}-{next(self._numbers)}"


def snapshot(store: LeadStore) -> dict[str, Any]:
    with store.unit_of_work() as uow:
        return {
            "leads": {lead.id: lead for lead in uow.leads.stream()},
            "accounts": {r.id: r for r in uow.accounts.list()},
            "contacts": {r.id: r for r in uow.contacts.list()},
            "opportunities": {r.id: r for r in uow.opportunities.list()},
        }


# ---------------------------------------------------------------------------------------------
# Scenarios: a stored lead, maybe an existing account and contact, a request and a policy


@attrs.frozen
class Scenario:
    lead: Lead
    account: Account | None
    contact: Contact | None
    request: QualifyRequest
    policy: QualificationPolicy

    def seed(self, store: LeadStore) -> None:
        with store.unit_of_work() as uow:
            uow.leads.add(self.lead)
            if self.account is not None:
                uow.accounts.add(self.account)
            if self.contact is not None:
                uow.contacts.add(self.contact)
            uow.commit()


NO_PROFILE = FieldProfile("none", ())


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A lead built from random fields (with or without a name or company), maybe with notes,
    linked to the existing account/contact, or qualified with them earlier and reactivated."""
    account = draw(st.none() | s.accounts())
    contact = draw(st.none() | s.contacts())
    patch = draw(s.lead_patches(draw(st.booleans())))
    lead = Lead.create(LeadId("lead-1"), patch, at=T0, by=ANN, profile=NO_PROFILE)
    for n in range(draw(st.integers(0, 2))):
        lead = lead.add_note(f"note {n}", at=T0 + timedelta(minutes=n), by=ANN)
    at = T0 + timedelta(hours=1)
    if contact is not None and draw(st.booleans()):
        lead = lead.link_contact(contact, at=at, by=ANN, profile=NO_PROFILE)
    if account is not None and draw(st.booleans()):
        lead = lead.link_account(account, at=at, by=ANN, profile=NO_PROFILE)
    if draw(st.booleans()):  # qualified with the existing records before, then reactivated
        lead = lead.mark_qualified(
            at=at,
            by=ANN,
            account_id=None if account is None else account.id,
            contact_id=None if contact is None else contact.id,
        ).reactivate(at=at, by=ANN)
    choices = {
        name: draw(st.sampled_from(Choice))
        for name in ("create_account", "create_contact", "create_opportunity")
    }
    link_account = (
        account.id
        if account is not None
        and choices["create_account"] is not Choice.NO
        and draw(st.booleans())
        else None
    )
    link_contact = (
        contact.id
        if contact is not None
        and choices["create_contact"] is not Choice.NO
        and draw(st.booleans())
        else None
    )
    request = QualifyRequest(
        **choices,
        link_account=link_account,
        link_contact=link_contact,
        currency=draw(st.none() | st.sampled_from(REGISTRY.codes)),
        customer=draw(st.none() | st.sampled_from(CustomerChoice)),
        owner=draw(st.none() | st.just(UserRef("olle"))),
    )
    policy = QualificationPolicy(
        mode=draw(st.sampled_from(QualifyMode)),
        currencies=REGISTRY,
        notes=draw(st.sampled_from(NotesCarryOver)),
    )
    return Scenario(lead, account, contact, request, policy)


def complete_plan(store: LeadStore, scenario: Scenario) -> ConversionPlan:
    """The scenario's plan with every PROMPT question answered with its suggestion; rejects
    requests that do not fit the drawn lead (YES for a record it cannot give, ...)."""
    request = scenario.request
    for _ in range(2):
        try:
            plan = prepare_qualification(
                store,
                scenario.lead.id,
                request,
                scenario.policy,
                at=scenario.lead.modified_at + timedelta(hours=1),
                by=ANN,
                finder=NONE,
                id_factory=Ids(),
            )
        except InvalidValue:
            reject()
        for question in plan.questions:
            request = request.answering(question, question.suggestion)
    assert plan.is_complete
    return plan


# ---------------------------------------------------------------------------------------------
# Properties


def _parts(record: Account | Contact | Opportunity) -> Iterator[tuple[str, object]]:
    """(path, value) of every field a qualification must not overwrite; names part by part."""
    for field in attrs.fields(type(record)):
        if field.name in ("version", "modified_at", "notes"):
            continue
        value = getattr(record, field.name)
        if isinstance(value, PersonName):
            for part in ("first", "last", "middle", "salutation", "suffix"):
                yield f"name.{part}", getattr(value, part)
        else:
            yield field.name, value


def _check_step(before: dict[Any, Any], after: dict[Any, Any], step: Any) -> None:
    record = step.record
    stored = after[record.id]
    if step.writes:
        assert stored == attrs.evolve(record, version=record.version + 1)
    else:
        assert stored == record
    if step.action is StepAction.LINK:
        original = before[record.id]
        changed = set()
        for (path, old), (_, new) in zip(_parts(original), _parts(stored), strict=True):
            if not is_blank(old):
                assert new == old, f"{path} of a linked record was overwritten"
            elif new != old:
                changed.add(path)
        assert changed <= set(step.filled)
        assert stored.notes[: len(original.notes)] == original.notes
    else:
        assert record.id not in before


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_executing_a_plan_stores_exactly_the_planned_records(
    adapter: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stores = Stores(adapter, tmp_path_factory.mktemp(f"plans-{adapter}"))

    @examples(EXAMPLES[adapter])
    @given(scenario=scenarios())
    def run(scenario: Scenario) -> None:
        store = stores()
        try:
            scenario.seed(store)
            plan = complete_plan(store, scenario)
            before = snapshot(store)
            result = execute_plan(store, plan, finder=NONE)
            after = snapshot(store)
        finally:
            store.close()
        for name, step in (
            ("accounts", plan.account),
            ("contacts", plan.contact),
            ("opportunities", plan.opportunity),
        ):
            planned = {step.record.id} if step is not None else set()
            assert set(after[name]) == set(before[name]) | planned
            for key, record in before[name].items():
                if key not in planned:
                    assert after[name][key] == record, "a record outside the plan changed"
            if step is not None:
                _check_step(before[name], after[name], step)
        old = before["leads"][plan.lead_id]
        lead = after["leads"][plan.lead_id]
        assert lead == result.lead
        assert lead.state is LeadState.QUALIFIED
        assert lead.version == old.version + 1
        assert lead.qualified_account == (plan.account_id or old.qualified_account)
        assert lead.qualified_contact == (plan.contact_id or old.qualified_contact)
        assert lead.qualifying_opportunity == (plan.opportunity_id or old.qualifying_opportunity)

    run()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_failure_at_any_write_leaves_every_repository_as_before(
    adapter: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stores = Stores(adapter, tmp_path_factory.mktemp(f"failures-{adapter}"))

    @examples(EXAMPLES[adapter] // 2 + 1)
    @given(scenario=scenarios(), callers_unit_of_work=st.booleans())
    def run(scenario: Scenario, callers_unit_of_work: bool) -> None:
        store = stores()
        try:
            scenario.seed(store)
            plan = complete_plan(store, scenario)
            before = snapshot(store)
            for fail_at in range(1, plan.writes + 1):
                failing = FailingStore(store, fail_at)
                if callers_unit_of_work:
                    with failing.unit_of_work() as uow:
                        with pytest.raises(StorageUnavailable):
                            execute_plan(uow, plan, finder=NONE)
                        uow.commit()  # even a caller who commits stores nothing
                else:
                    with pytest.raises(StorageUnavailable):
                        execute_plan(failing, plan, finder=NONE)
                assert snapshot(store) == before, f"failure at write {fail_at}"
            execute_plan(store, plan, finder=NONE)  # and with no failure it all goes in
            assert snapshot(store) != before
        finally:
            store.close()

    run()


# No two contacts for one person --------------------------------------------------------------

PEOPLE = ("ada@example.com", "grace@example.com")


class EmailFinder:
    """Test finder: contacts with the lead's e-mail, accounts with its company name."""

    def find(self, lead: Lead, uow: UnitOfWork) -> Sequence[DuplicateCandidate]:
        found = []
        if lead.email is not None:
            for contact in uow.contacts.list():
                if contact.email is not None and contact.email.normalized == lead.email.normalized:
                    found.append(DuplicateCandidate("contact", contact.id.value))
        if lead.company:
            for account in uow.accounts.list():
                if account.name.casefold() == lead.company.casefold():
                    found.append(DuplicateCandidate("account", account.id.value))
        return found


Operation = tuple[str, tuple[int, ...]]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[int, str, str]], list[Operation]]:
    people = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(PEOPLE) - 1),
                st.sampled_from(["", "Acme", "ACME"]),
                st.sampled_from(["Ada", "ada", "A."]),
            ),
            min_size=2,
            max_size=5,
        )
    )
    leads = [(i, company, first) for i, company, first in people]
    index = st.integers(0, len(leads) - 1)
    operations = draw(
        st.lists(
            st.one_of(
                st.tuples(
                    st.sampled_from(["qualify", "bcm", "prospect", "reactivate"]),
                    index.map(lambda i: (i,)),
                ),
                st.tuples(st.just("bulk"), st.lists(index, min_size=1, max_size=4).map(tuple)),
            ),
            min_size=1,
            max_size=8,
        )
    )
    return leads, operations


def _answers(error: DuplicatesUnresolved) -> tuple[DuplicateAnswer, ...]:
    """What a careful host does with a duplicate warning: link the existing record."""
    return tuple(DuplicateAnswer.link(c) for c in error.candidates)


def _run(
    operation: str,
    lead_ids: tuple[LeadId, ...],
    store: LeadStore,
    ids: Ids,
    finder: DuplicateCheck,
) -> None:
    policy = QualificationPolicy(prospects_on_disqualify=True)
    common: dict[str, Any] = {"by": ANN, "finder": finder, "id_factory": ids}
    now = T0 + timedelta(days=30)
    lead_id = lead_ids[0]
    answers: tuple[DuplicateAnswer, ...] = ()
    for _attempt in range(2):
        try:
            match operation:
                case "qualify":
                    qualify(
                        store,
                        lead_id,
                        QualifyRequest(duplicate_answers=answers),
                        policy,
                        at=now,
                        **common,
                    )
                case "bcm":
                    convert_to_business_contact(
                        store, lead_id, duplicate_answers=answers, at=now, **common
                    )
                case "prospect":
                    disqualify(
                        store,
                        lead_id,
                        StatusReason.LOST,
                        prospect=QualifyRequest(duplicate_answers=answers),
                        policy=policy,
                        at=now,
                        **common,
                    )
                case "reactivate":
                    reactivate(store, lead_id, at=now, by=ANN)
                case "bulk":
                    outcomes = qualify_many(
                        store, lead_ids, QualifyRequest(), policy, at=now, **common
                    )
                    assert len(outcomes) == len(lead_ids)
                    for outcome in outcomes:
                        if outcome.status is OutcomeStatus.DUPLICATE_WARNING:
                            _run("qualify", (outcome.lead_id,), store, ids, finder)
            return
        except DuplicatesUnresolved as e:
            answers = _answers(e)
        except (DomainRuleViolation, InvalidValue):
            return  # closed lead, linked opportunity, ...: refused, nothing stored


def _checked(store: LeadStore, check: str) -> tuple[LeadStore, DuplicateCheck]:
    """The target to qualify through and the duplicate check: the test's e-mail finder, or
    the duplicate engine with its default rules (qualifying through its store)."""
    if check == "email":
        return store, EmailFinder()
    engine = EngineDuplicateCheck.from_store(store)
    return engine.store, engine


@pytest.mark.parametrize("check", ["email", "engine"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_no_path_creates_two_contacts_for_one_person(
    adapter: str, check: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stores = Stores(adapter, tmp_path_factory.mktemp(f"people-{adapter}-{check}"))

    @examples(EXAMPLES[adapter])
    @given(history=histories())
    def run(history: tuple[list[tuple[int, str, str]], list[Operation]]) -> None:
        people, operations = history
        store = stores()
        try:
            with store.unit_of_work() as uow:
                for n, (person, company, first) in enumerate(people):
                    lead = Lead.create(
                        LeadId(f"L{n}"),
                        LeadPatch(
                            topic=f"Deal {n}",
                            name=PersonName(first=first, last="Lovelace"),
                            company=company,
                            email=PEOPLE[person].upper() if n % 2 else PEOPLE[person],
                        ),
                        at=T0,
                        by=ANN,
                    )
                    uow.leads.add(lead)
                uow.commit()
            ids = Ids()
            target, finder = _checked(store, check)
            for operation, indexes in operations:
                _run(operation, tuple(LeadId(f"L{i}") for i in indexes), target, ids, finder)
                with store.unit_of_work() as uow:
                    emails = [c.email.normalized for c in uow.contacts.list() if c.email]
                    names = [a.name.casefold() for a in uow.accounts.list()]
                assert len(emails) == len(set(emails)), f"two contacts for one person: {emails}"
                assert len(names) == len(set(names)), f"two accounts for one company: {names}"
        finally:
            store.close()

    run()


# Bulk qualification with the duplicate engine ----------------------------------------------


@st.composite
def one_person(draw: st.DrawFn) -> list[LeadPatch]:
    """Leads that all describe Ada Lovelace: the same e-mail address (in any case), and a
    name, company and phone that vary as people type them."""
    count = draw(st.integers(2, 6))
    patches = []
    for n in range(count):
        email = draw(st.sampled_from(["ada@analytical.example", "ADA@Analytical.Example"]))
        first = draw(st.sampled_from(["Ada", "ada", "ADA", "Augusta Ada"]))
        company = draw(st.sampled_from(["", "Analytical Engines", "Analytical Engines Ltd"]))
        phone = draw(st.sampled_from([None, "+44 20 7946 0018", "+44 20 7946 0019"]))
        patches.append(
            LeadPatch(
                topic=f"Deal {n}",
                name=PersonName(first=first, last="Lovelace"),
                company=company,
                email=email,
                business_phone=phone,
            )
        )
    return patches


@pytest.mark.parametrize("handling", [DuplicateHandling.WARN, DuplicateHandling.BLOCK])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_bulk_with_the_engine_creates_one_contact_for_one_person(
    adapter: str, handling: DuplicateHandling, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """qualify_many over leads describing one person creates exactly one contact; the leads
    stopped by the warning then link it (as a careful host does) and still make none."""
    stores = Stores(adapter, tmp_path_factory.mktemp(f"bulk-{adapter}-{handling.value}"))
    policy = QualificationPolicy(duplicates=handling)

    @examples(EXAMPLES[adapter])
    @given(patches=one_person())
    def run(patches: list[LeadPatch]) -> None:
        store = stores()
        try:
            with store.unit_of_work() as uow:
                for n, patch in enumerate(patches):
                    uow.leads.add(Lead.create(LeadId(f"L{n}"), patch, at=T0, by=ANN))
                uow.commit()
            check = EngineDuplicateCheck.from_store(store)
            ids = Ids()
            lead_ids = [LeadId(f"L{n}") for n in range(len(patches))]
            common: dict[str, Any] = {"at": T0, "by": ANN, "finder": check, "id_factory": ids}
            outcomes = qualify_many(check.store, lead_ids, QualifyRequest(), policy, **common)
            stopped = (
                OutcomeStatus.DUPLICATE_WARNING
                if handling is DuplicateHandling.WARN
                else OutcomeStatus.REFUSED
            )
            assert [o.status for o in outcomes] == [
                OutcomeStatus.QUALIFIED,
                *[stopped] * (len(patches) - 1),
            ]
            first = outcomes[0].result
            assert first is not None
            assert first.contact_id is not None
            for outcome in outcomes[1:]:
                keys = {c.key for c in outcome.candidates}
                assert (CandidateType.CONTACT, first.contact_id.value) in keys
                candidates = outcome.candidates
                for _attempt in range(3):  # an account made for a later lead may appear
                    request = QualifyRequest(
                        duplicate_answers=[DuplicateAnswer.link(c) for c in candidates]
                    )
                    try:
                        qualify(check.store, outcome.lead_id, request, policy, **common)
                        break
                    except DuplicatesUnresolved as e:
                        candidates = (*candidates, *e.candidates)
            with store.unit_of_work() as uow:
                contacts = list(uow.contacts.list())
                accounts = list(uow.accounts.list())
                qualified = [uow.leads.get(lead_id) for lead_id in lead_ids]
            assert [c.id for c in contacts] == [first.contact_id]
            assert len(accounts) <= 1
            assert {lead.qualified_contact for lead in qualified} == {first.contact_id}
        finally:
            store.close()

    run()


@given(
    wanted=st.lists(st.sampled_from(["L0", "L1", "L2", "missing"]), max_size=8),
    closed=st.sets(st.sampled_from(["L0", "L1", "L2"])),
)
@settings(max_examples=30, deadline=None)
def test_bulk_returns_one_outcome_per_lead_id_in_order(wanted: list[str], closed: set[str]) -> None:
    t0 = T0
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for key in ("L0", "L1", "L2"):
            lead = Lead.create(
                LeadId(key), LeadPatch(topic="t", name=f"Ada {key}", company="Acme"), at=t0, by=ANN
            )
            if key in closed:
                lead = lead.disqualify(StatusReason.LOST, at=t0, by=ANN)
            uow.leads.add(lead)
        uow.commit()
    ids = [LeadId(k) for k in wanted]
    outcomes = qualify_many(
        store,
        ids,
        QualifyRequest(),
        QualificationPolicy(),
        at=t0,
        by=ANN,
        finder=EmailFinder(),
        id_factory=Ids(),
    )
    assert len(outcomes) == len(ids)
    assert [o.lead_id for o in outcomes] == ids
    qualified = [o.lead_id.value for o in outcomes if o.status is OutcomeStatus.QUALIFIED]
    assert len(qualified) == len(set(qualified))
    assert set(qualified) <= {"L0", "L1", "L2"} - closed
