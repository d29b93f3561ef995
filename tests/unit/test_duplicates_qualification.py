"""The duplicate engine as qualification's duplicate check (``EngineDuplicateCheck``).

Every test runs on the memory store, the SQL store on a temporary SQLite file, and the SQL
store with the index keys in a ``SqlKeyStore`` on the same file.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from leadkit import (
    AccountId,
    ContactId,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    PersonName,
    StatusReason,
    UserRef,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.conversion import (
    CandidateType,
    DuplicateAnswer,
    DuplicateCandidate,
    DuplicateCheck,
    QualifyRequest,
)
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicate_checks.engine_check import IndexingStore, IndexingUnitOfWork
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    ConditionEvidence,
    DuplicateIndex,
    DuplicateMatch,
    RecordRef,
    RecordType,
    candidate_from_match,
)
from leadkit.errors import (
    AlreadyExists,
    ConfigurationError,
    DuplicatesUnresolved,
    InvalidValue,
)
from leadkit.policies import DuplicateHandling, QualificationPolicy, RecordKind
from leadkit.ports import EventSink, LeadStore
from leadkit.records import Account, Contact
from leadkit.services import (
    OutcomeStatus,
    QualifyResult,
    convert_to_business_contact,
    disqualify,
    execute_plan,
    prepare_qualification,
    qualify,
    qualify_many,
)

ANN = UserRef("ann", "Ann Andersson")
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
AT = T0 + timedelta(hours=1)
WARN = QualificationPolicy()
BLOCK = QualificationPolicy(duplicates=DuplicateHandling.BLOCK)
IGNORE = QualificationPolicy(duplicates=DuplicateHandling.IGNORE)
PROSPECTS = QualificationPolicy(prospects_on_disqualify=True)

ADA = {"name": PersonName(first="Ada", last="Lovelace"), "email": "ada@analytical.example"}


# ---------------------------------------------------------------------------------------------
# Stores and checks


@attrs.define
class Setup:
    """One adapter: how to open a store and how to build a check over it."""

    adapter: str
    directory: Path
    numbers: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))
    opened: list[Callable[[], None]] = attrs.field(factory=list)
    paths: dict[int, Path] = attrs.field(factory=dict)

    def store(self, event_sink: EventSink | None = None) -> LeadStore:
        if self.adapter == "memory":
            memory = MemoryStore(event_sink=event_sink)
            self.opened.append(memory.close)
            return memory
        from leadkit.adapters.sql import SqlStore

        path = self.directory / f"leads-{next(self.numbers)}.db"
        sql = SqlStore.open(path=path, event_sink=event_sink)
        self.paths[id(sql)] = path
        self.opened.append(sql.close)
        return sql

    def check(self, store: LeadStore, **options: Any) -> EngineDuplicateCheck:
        if self.adapter == "sql-keys" and "key_store" not in options:
            options["key_store"] = self.key_store(store)
        return EngineDuplicateCheck.from_store(store, **options)

    def key_store(self, store: LeadStore) -> Any:
        from leadkit.adapters.sql.duplicate_keys import SqlKeyStore

        keys = SqlKeyStore.open(f"sqlite+pysqlite:///{self.paths[id(store)]}")
        self.opened.append(keys.engine.dispose)
        return keys


@pytest.fixture(params=["memory", "sql", "sql-keys"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    if request.param != "memory":
        pytest.importorskip("sqlalchemy")
    found = Setup(request.param, tmp_path)
    yield found
    for close in reversed(found.opened):
        close()


@pytest.fixture
def store(setup: Setup) -> LeadStore:
    return setup.store()


class Ids:
    """A deterministic IdFactory: the ``first`` ids given, then ``new-1``, ``new-2``, ..."""

    def __init__(self, *first: str, prefix: str = "new") -> None:
        self._first = list(first)
        self._numbers = itertools.count(1)
        self._prefix = prefix

    def __call__(self) -> str:
        return self._first.pop(0) if self._first else f"{self._prefix}-{next(self._numbers)}"


def lead(key: str, **fields: Any) -> Lead:
    values: dict[str, Any] = {"topic": f"Deal {key}", "company": "Analytical Engines Ltd", **ADA}
    values.update(fields)
    return Lead.create(LeadId(key), LeadPatch(**values), at=T0, by=ANN)


def seed(store: LeadStore, *items: Lead | Account | Contact) -> None:
    with store.unit_of_work() as uow:
        for item in items:
            if isinstance(item, Lead):
                uow.leads.add(item)
            elif isinstance(item, Account):
                uow.accounts.add(item)
            else:
                uow.contacts.add(item)
        uow.commit()


def ada_contact(key: str = "C-ada", **fields: Any) -> Contact:
    values: dict[str, Any] = {
        "name": PersonName(first="Ada", last="Lovelace"),
        "email": EmailAddress("ada@analytical.example"),
    }
    values.update(fields)
    return Contact(id=ContactId(key), **values)


def engines_account(key: str = "A-ae", name: str = "Analytical Engines") -> Account:
    return Account(id=AccountId(key), name=name)


def run_qualify(
    target: Any,
    check: DuplicateCheck,
    key: str,
    request: QualifyRequest | None = None,
    policy: QualificationPolicy = WARN,
    ids: Ids | None = None,
) -> QualifyResult:
    return qualify(
        target,
        LeadId(key),
        request or QualifyRequest(),
        policy,
        at=AT,
        by=ANN,
        finder=check,
        id_factory=ids or Ids(),
    )


def contacts_of(store: LeadStore) -> list[Contact]:
    with store.unit_of_work() as uow:
        return list(uow.contacts.list())


def index_state(check: EngineDuplicateCheck) -> tuple[Any, ...]:
    """What the index holds: its size and the keys of every record it could hold."""
    refs = [
        RecordRef(t, f"{p}-{n}") for t in RecordType for p in ("new", "C", "A") for n in (1, 2, 3)
    ]
    return len(check.index), check.index.stats(), {r: check.index.keys_of(r) for r in refs}


# ---------------------------------------------------------------------------------------------
# Matches become candidates


def test_matches_become_candidates_of_the_right_kind_with_the_explanation(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(), engines_account(), lead("L1"))
    check = setup.check(store)
    with check.store.unit_of_work() as uow:
        found = check.find(uow.leads.get(LeadId("L1")), uow)
        matches = check.matches(uow.leads.get(LeadId("L1")), uow)
    assert {c.key for c in found} == {
        (CandidateType.CONTACT, "C-ada"),
        (CandidateType.ACCOUNT, "A-ae"),
    }
    contact = next(c for c in found if c.record_type is CandidateType.CONTACT)
    assert contact.score == 100.0
    assert "A contact with the lead's e-mail address" in contact.reason
    assert "lead-contact-same-email" in contact.reason
    assert "'ada@analytical.example'" in contact.reason
    account = next(c for c in found if c.record_type is CandidateType.ACCOUNT)
    assert "lead-account-same-company" in account.reason  # "Ltd" is a legal form
    assert [m.candidate for m in matches] == [
        RecordRef(c.record_type.value, c.record_id) for c in found
    ]
    assert all(isinstance(c, DuplicateCandidate) for c in found)


def test_candidate_from_match_without_a_rule_set_names_the_rule_and_the_evidence() -> None:
    condition = DEFAULT_LEAD_RULES.rule("lead-contact-same-email").conditions[0]
    match = DuplicateMatch(
        record=RecordRef(RecordType.LEAD, "L-1"),
        candidate=RecordRef(RecordType.CONTACT, "C-1"),
        rule="lead-contact-same-email",
        score=100.0,
        conditions=(ConditionEvidence(condition, "a@x.se", "a@x.se", 100.0),),
    )
    plain = candidate_from_match(match)
    assert plain.key == (CandidateType.CONTACT, "C-1")
    assert plain.reason.startswith("lead-contact-same-email: email = email: 'a@x.se'")
    described = candidate_from_match(match, DEFAULT_LEAD_RULES)
    assert described.reason.startswith("A contact with the lead's e-mail address [")


def test_the_check_is_a_qualification_duplicate_check(store: LeadStore) -> None:
    check: DuplicateCheck = EngineDuplicateCheck(store)
    assert isinstance(check, EngineDuplicateCheck)
    assert isinstance(check.store, IndexingStore)
    assert check.store.inner is store
    assert check.store.check is check
    assert len(check.index) == 0  # the constructor reads nothing; from_store does


def test_a_bad_limit_or_rule_set_is_refused(store: LeadStore) -> None:
    with pytest.raises(ConfigurationError):
        EngineDuplicateCheck(store, limit=0)
    with pytest.raises(ConfigurationError):
        EngineDuplicateCheck(store, rule_set="default")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The policy: WARN, BLOCK, IGNORE


def test_warn_stops_qualify_until_answered_and_linking_creates_no_contact(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(), lead("L1", company=""))
    check = setup.check(store)
    with pytest.raises(DuplicatesUnresolved) as raised:
        run_qualify(check.store, check, "L1")
    assert [c.key for c in raised.value.candidates] == [(CandidateType.CONTACT, "C-ada")]
    assert [c.id for c in contacts_of(store)] == [ContactId("C-ada")]  # nothing stored

    answers = tuple(DuplicateAnswer.link(c) for c in raised.value.candidates)
    result = run_qualify(check.store, check, "L1", QualifyRequest(duplicate_answers=answers))
    assert result.contact_id == ContactId("C-ada")
    assert RecordKind.CONTACT in result.linked
    assert RecordKind.CONTACT not in result.created
    assert [c.id for c in contacts_of(store)] == [ContactId("C-ada")]


def test_create_anyway_under_warn_creates_a_contact_that_is_then_indexed(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(), lead("L1", company=""), lead("L2", company=""))
    check = setup.check(store)
    with pytest.raises(DuplicatesUnresolved) as raised:
        run_qualify(check.store, check, "L1")
    answers = tuple(DuplicateAnswer.create_anyway(c) for c in raised.value.candidates)
    result = run_qualify(check.store, check, "L1", QualifyRequest(duplicate_answers=answers))
    assert result.contact_id is not None
    assert RecordKind.CONTACT in result.created
    assert RecordRef(RecordType.CONTACT, result.contact_id.value) in check.index
    with pytest.raises(DuplicatesUnresolved) as again:
        run_qualify(check.store, check, "L2")
    assert {c.record_id for c in again.value.candidates} == {"C-ada", result.contact_id.value}


def test_block_refuses_create_anyway_and_accepts_a_link(setup: Setup, store: LeadStore) -> None:
    seed(store, ada_contact(), lead("L1", company=""))
    check = setup.check(store)
    candidate = DuplicateCandidate("contact", "C-ada")
    anyway = QualifyRequest(duplicate_answers=(DuplicateAnswer.create_anyway(candidate),))
    with pytest.raises(DuplicatesUnresolved):
        run_qualify(check.store, check, "L1", anyway, BLOCK)
    outcomes = qualify_many(
        check.store, [LeadId("L1")], anyway, BLOCK, at=AT, by=ANN, finder=check, id_factory=Ids()
    )
    assert outcomes[0].status is OutcomeStatus.REFUSED
    link = QualifyRequest(duplicate_answers=(DuplicateAnswer.link(candidate),))
    result = run_qualify(check.store, check, "L1", link, BLOCK)
    assert result.contact_id == ContactId("C-ada")
    assert len(contacts_of(store)) == 1


def test_ignore_qualifies_without_a_warning(setup: Setup, store: LeadStore) -> None:
    seed(store, ada_contact(), lead("L1", company=""))
    check = setup.check(store)
    result = run_qualify(check.store, check, "L1", policy=IGNORE)
    assert RecordKind.CONTACT in result.created
    assert len(contacts_of(store)) == 2


# ---------------------------------------------------------------------------------------------
# Every path


def test_every_path_that_creates_a_contact_checks_the_engine(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(), lead("L1", company=""), lead("L2", company=""))
    check = setup.check(store)
    common: dict[str, Any] = {"at": AT, "by": ANN, "finder": check, "id_factory": Ids()}
    with pytest.raises(DuplicatesUnresolved):
        convert_to_business_contact(check.store, LeadId("L1"), **common)
    with pytest.raises(DuplicatesUnresolved):
        disqualify(
            check.store,
            LeadId("L2"),
            StatusReason.LOST,
            prospect=QualifyRequest(),
            policy=PROSPECTS,
            **common,
        )
    plan = prepare_qualification(check.store, LeadId("L1"), QualifyRequest(), WARN, **common)
    assert [c.record_id for c in plan.unresolved] == ["C-ada"]
    with pytest.raises(DuplicatesUnresolved):
        execute_plan(check.store, plan, finder=check)
    assert len(contacts_of(store)) == 1


def test_a_plan_made_with_the_engine_executes_later(setup: Setup, store: LeadStore) -> None:
    seed(store, ada_contact(), lead("L1", company=""))
    check = setup.check(store)
    link = QualifyRequest(
        duplicate_answers=(DuplicateAnswer.link(DuplicateCandidate("contact", "C-ada")),)
    )
    plan = prepare_qualification(
        check.store, LeadId("L1"), link, WARN, at=AT, by=ANN, finder=check, id_factory=Ids()
    )
    assert plan.is_complete
    result = execute_plan(check.store, plan, finder=check)
    assert result.contact_id == ContactId("C-ada")


# ---------------------------------------------------------------------------------------------
# Records created in the same unit of work, by earlier leads, and rolled back


def test_bulk_flags_the_contact_created_for_an_earlier_lead(setup: Setup, store: LeadStore) -> None:
    seed(store, lead("L1"), lead("L2", email="ADA@analytical.example"))
    check = setup.check(store)
    outcomes = qualify_many(
        check.store,
        [LeadId("L1"), LeadId("L2")],
        QualifyRequest(),
        WARN,
        at=AT,
        by=ANN,
        finder=check,
        id_factory=Ids(),
    )
    assert [o.status for o in outcomes] == [
        OutcomeStatus.QUALIFIED,
        OutcomeStatus.DUPLICATE_WARNING,
    ]
    first = outcomes[0].result
    assert first is not None
    assert first.contact_id is not None
    assert first.account_id is not None
    assert {c.key for c in outcomes[1].candidates} == {
        (CandidateType.CONTACT, first.contact_id.value),
        (CandidateType.ACCOUNT, first.account_id.value),
    }
    answers = tuple(DuplicateAnswer.link(c) for c in outcomes[1].candidates)
    request = QualifyRequest(duplicate_answers=answers)
    second = run_qualify(check.store, check, "L2", request, ids=Ids(prefix="more"))
    assert (second.contact_id, second.account_id) == (first.contact_id, first.account_id)
    assert len(contacts_of(store)) == 1


def test_a_contact_created_earlier_in_the_same_unit_of_work_is_a_candidate(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, lead("L1", company=""), lead("L2", company=""))
    check = setup.check(store)
    with check.store.unit_of_work() as uow:
        first = run_qualify(uow, check, "L1")
        assert first.contact_id is not None
        assert RecordRef(RecordType.CONTACT, first.contact_id.value) in uow.pending
        assert RecordRef(RecordType.CONTACT, first.contact_id.value) not in check.index
        with pytest.raises(DuplicatesUnresolved) as raised:
            run_qualify(uow, check, "L2")
        assert [c.record_id for c in raised.value.candidates] == [first.contact_id.value]
        uow.commit()
    assert RecordRef(RecordType.CONTACT, first.contact_id.value) in check.index


def test_a_rolled_back_unit_of_work_leaves_the_index_unchanged(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(key="C-1", email=None), lead("L1", company="Acme"), lead("L2"))
    check = setup.check(store)
    before = index_state(check)
    with check.store.unit_of_work() as uow:
        run_qualify(uow, check, "L1")
        uow.rollback()
    with check.store.unit_of_work() as uow:
        run_qualify(uow, check, "L2")  # left without a commit
    assert index_state(check) == before
    assert len(contacts_of(store)) == 1
    # A later qualification finds nothing of what was rolled back.
    result = run_qualify(check.store, check, "L1")
    assert RecordKind.CONTACT in result.created


def test_a_failed_write_rolls_back_and_leaves_the_index_unchanged(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(key="C-1", email=None), lead("L1", company="Acme"))
    check = setup.check(store)
    before = index_state(check)
    # The contact gets an id that is taken: its add fails after the account's.
    with pytest.raises(AlreadyExists):
        run_qualify(check.store, check, "L1", ids=Ids("A-1", "C-1"))
    assert index_state(check) == before
    with check.store.unit_of_work() as uow:
        assert list(uow.accounts.list()) == []


def test_an_event_sink_that_raises_after_the_commit_leaves_the_records_indexed(
    setup: Setup,
) -> None:
    armed: list[bool] = []

    def sink(events: Any) -> None:
        if armed:
            raise RuntimeError("the sink is down")

    store = setup.store(event_sink=sink)
    seed(store, lead("L1", company=""))
    check = setup.check(store)
    armed.append(True)
    with pytest.raises(RuntimeError):
        run_qualify(check.store, check, "L1")
    (contact,) = contacts_of(store)  # committed all the same
    assert RecordRef(RecordType.CONTACT, contact.id.value) in check.index


# ---------------------------------------------------------------------------------------------
# Keeping the index true


def test_a_unit_of_work_from_elsewhere_is_refused(store: LeadStore) -> None:
    seed(store, ada_contact(), lead("L1"))
    check = EngineDuplicateCheck.from_store(store)
    with store.unit_of_work() as uow, pytest.raises(ConfigurationError, match=r"check\.store"):
        check.find(uow.leads.get(LeadId("L1")), uow)
    with pytest.raises(ConfigurationError):
        run_qualify(store, check, "L1")
    other = EngineDuplicateCheck.from_store(store)
    with other.store.unit_of_work() as uow, pytest.raises(ConfigurationError):
        check.find(uow.leads.get(LeadId("L1")), uow)


def test_a_record_deleted_around_the_check_is_not_a_candidate(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(), lead("L1", company=""))
    check = setup.check(store)
    with store.unit_of_work() as uow:  # not through check.store: the index still holds it
        uow.contacts.delete(ContactId("C-ada"))
        uow.commit()
    with check.store.unit_of_work() as uow:
        assert check.find(uow.leads.get(LeadId("L1")), uow) == ()
    assert check.rebuild().records == 0


def test_changes_in_the_unit_of_work_replace_the_committed_records(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, ada_contact(), ada_contact("C-2", email=None), lead("L1", company=""))
    check = setup.check(store)
    with check.store.unit_of_work() as uow:
        uow.contacts.delete(ContactId("C-ada"))
        contact = uow.contacts.get(ContactId("C-2"))
        uow.contacts.save(attrs.evolve(contact, email=EmailAddress("ada@analytical.example")))
        found = check.find(uow.leads.get(LeadId("L1")), uow)
        assert [c.record_id for c in found] == ["C-2"]
        uow.commit()
    assert RecordRef(RecordType.CONTACT, "C-ada") not in check.index
    with check.store.unit_of_work() as uow:
        assert [c.record_id for c in check.find(uow.leads.get(LeadId("L1")), uow)] == ["C-2"]


def test_a_contact_is_matched_with_its_account_name_and_follows_a_rename(
    setup: Setup, store: LeadStore
) -> None:
    account = engines_account(name="Difference Engines")
    contact = ada_contact(email=None, account_id=account.id, company="")
    seed(store, account, contact, lead("L1", email=None, company="Analytical Engines"))
    check = setup.check(store)

    def contact_candidates() -> list[str]:
        with check.store.unit_of_work() as uow:
            found = check.find(uow.leads.get(LeadId("L1")), uow)
        return [c.record_id for c in found if c.record_type is CandidateType.CONTACT]

    assert contact_candidates() == []
    with check.store.unit_of_work() as uow:
        stored = uow.accounts.get(account.id)
        uow.accounts.save(attrs.evolve(stored, name="Analytical Engines"))
        assert RecordRef(RecordType.CONTACT, "C-ada") in uow.pending
        uow.commit()
    assert contact_candidates() == ["C-ada"]
    with check.store.unit_of_work() as uow:
        uow.accounts.delete(account.id)
        uow.commit()
    assert contact_candidates() == []


def test_the_limit_keeps_the_best_candidates(setup: Setup, store: LeadStore) -> None:
    seed(store, ada_contact(), engines_account(), lead("L1"))
    check = setup.check(store, limit=1)
    assert check.limit == 1
    with check.store.unit_of_work() as uow:
        found = check.find(uow.leads.get(LeadId("L1")), uow)
    assert len(found) == 1


def test_leads_are_indexed_when_asked_and_qualification_ignores_them(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, lead("L1", company=""), lead("L2", company=""))
    check = setup.check(store, leads=True)
    assert check.indexes_leads
    with check.store.unit_of_work() as uow:
        found = check.find(uow.leads.get(LeadId("L1")), uow)
    assert [c.key for c in found] == [(CandidateType.LEAD, "L2")]
    run_qualify(check.store, check, "L1")  # a lead candidate does not stop it
    with check.store.unit_of_work() as uow:
        # L1 is qualified now (closed): the lead rules leave it out.
        found = check.find(uow.leads.get(LeadId("L2")), uow)
    assert [c.record_type for c in found] == [CandidateType.CONTACT]


def test_the_persistent_keys_serve_a_later_check_without_a_rebuild(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    from leadkit.adapters.sql import SqlStore
    from leadkit.adapters.sql.duplicate_keys import SqlKeyStore

    path = tmp_path / "crm.db"
    store = SqlStore.open(path=path)
    keys = SqlKeyStore.open(f"sqlite+pysqlite:///{path}")
    try:
        seed(store, lead("L1", company=""), lead("L2", company=""))
        first = EngineDuplicateCheck.from_store(store, key_store=keys)
        result = run_qualify(first.store, first, "L1")
        assert result.contact_id is not None
        later = EngineDuplicateCheck.from_store(store, key_store=keys, rebuild=False)
        with later.store.unit_of_work() as uow:
            found = later.find(uow.leads.get(LeadId("L2")), uow)
        assert [c.record_id for c in found] == [result.contact_id.value]
    finally:
        keys.engine.dispose()
        store.close()


def test_an_indexing_unit_of_work_keeps_the_store_s_promises(store: LeadStore) -> None:
    check = EngineDuplicateCheck(store)
    with check.store.unit_of_work() as uow:
        assert isinstance(uow, IndexingUnitOfWork)
        assert uow.inner is not None
        uow.leads.add(lead("L1"))
        uow.contacts.add(ada_contact())
        assert uow.contacts.list()[0].id == ContactId("C-ada")
        assert len(uow.events) == 1
        uow.commit()
    with check.store.unit_of_work() as uow:
        with pytest.raises(InvalidValue):
            uow.contacts.add(attrs.evolve(ada_contact("C-2"), version=3))
        assert uow.pending == {}
    assert RecordRef(RecordType.CONTACT, "C-ada") in check.index


def test_update_many_reindexes_and_forgets_in_one_call() -> None:
    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    index.update_many([ada_contact(), engines_account()])
    assert len(index) == 2
    moved = ada_contact(email=EmailAddress("ada@elsewhere.example"))
    index.update_many([moved], removed=[AccountId("A-ae")])
    assert len(index) == 1
    assert any("elsewhere" in key for key in index.keys_of(moved))
    with pytest.raises(InvalidValue):
        index.update_many([moved], removed=[moved])


def test_writes_after_a_lookup_in_the_same_unit_of_work_are_seen_by_the_next(
    setup: Setup, store: LeadStore
) -> None:
    seed(store, lead("L1", company=""))
    check = setup.check(store)
    with check.store.unit_of_work() as uow:
        the_lead = uow.leads.get(LeadId("L1"))

        def found() -> list[str]:
            return [c.record_id for c in check.find(the_lead, uow)]

        uow.contacts.add(ada_contact("C-1"))
        assert found() == ["C-1"]
        uow.contacts.add(ada_contact("C-2"))
        for n in range(3, 60):  # many people in one unit of work: looked up, not scanned
            uow.contacts.add(ada_contact(f"C-{n}", name=PersonName("Bo", f"B{n}"), email=None))
        assert found() == ["C-1", "C-2"]
        uow.contacts.delete(ContactId("C-1"))
        assert found() == ["C-2"]
        uow.rollback()
        assert found() == []
