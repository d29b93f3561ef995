"""Contact and account merges: survivorship per field, refusals, provenance, the stored record
and unmerge conflicts (the property tests cover the adapters)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    InvalidValue,
    MergeRefused,
    NotFound,
    UnmergeConflict,
)
from leadkit.merging import SurvivorshipStrategy as S
from leadkit.policies import RecordKind
from leadkit.record_merge_service import merge_records, unmerge_records
from leadkit.record_merging import (
    RECORD_MERGE_FIELDS,
    RecordMergeRecord,
    RecordSurvivorship,
    RecordSurvivorshipRule,
    plan_record_merge,
    plan_record_unmerge,
)
from leadkit.records import Account, Contact, Opportunity
from leadkit.timeline import Note
from leadkit.values import AccountId, ContactId, MergeId, OpportunityId, PersonName, UserRef

AT = datetime(2031, 1, 1, tzinfo=UTC)
BY = UserRef("merger")
CONTACTS = RecordSurvivorship(RecordKind.CONTACT)
ACCOUNTS = RecordSurvivorship(RecordKind.ACCOUNT)


def _note(n: int, text: str) -> Note:
    return Note(id=n, at=AT - timedelta(days=n), by=BY, title="", text=text)


def _contact(key: str, **values: object) -> Contact:
    values.setdefault("name", PersonName(first="Ann", last="Lee"))
    return Contact(id=ContactId(key), **values)  # type: ignore[arg-type]


def _account(key: str, **values: object) -> Account:
    values.setdefault("name", "Acme")
    return Account(id=AccountId(key), **values)  # type: ignore[arg-type]


def _ids() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"m-{next(numbers)}"


def test_master_unless_blank_keeps_the_master_and_fills_its_blanks_by_ranking() -> None:
    old = AT - timedelta(days=3)
    new = AT - timedelta(days=1)
    master = _contact("a", job_title="CEO", modified_at=old)
    stale = _contact("b", job_title="CTO", email="b@x.com", modified_at=old)
    fresh = _contact("c", email="c@x.com", modified_at=new)
    plan = plan_record_merge(master, [stale, fresh], CONTACTS)
    decided = {d.field: d for d in plan.decisions}
    assert decided["job_title"].value == "CEO"
    assert decided["job_title"].source == master.id
    assert str(decided["email"].value) == "c@x.com"  # newer before older
    assert decided["email"].source == fresh.id
    assert [d.field for d in plan.decisions] == list(RECORD_MERGE_FIELDS[RecordKind.CONTACT])


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (S.MASTER, ""),
        (S.FIRST_NON_BLANK, "Chief"),
        (S.NEWEST, "Chief"),
        (S.LONGEST, "Chief Executive Officer"),
    ],
)
def test_each_strategy_picks_its_value(strategy: S, expected: str) -> None:
    master = _contact("a", modified_at=AT)
    newer = _contact("b", job_title="Chief", modified_at=AT + timedelta(days=1))
    longer = _contact("c", job_title="Chief Executive Officer", modified_at=AT)
    policy = RecordSurvivorship(
        RecordKind.CONTACT, (RecordSurvivorshipRule("job_title", strategy),)
    )
    plan = plan_record_merge(master, [newer, longer], policy)
    assert next(d.value for d in plan.decisions if d.field == "job_title") == expected


def test_choice_keeps_the_chosen_records_value_and_concatenate_joins_with_provenance() -> None:
    master = _account("a", description="Big client")
    other = _account("b", name="Acme Corp", description="Owes us a reply")
    policy = RecordSurvivorship(
        RecordKind.ACCOUNT,
        (
            RecordSurvivorshipRule("name", S.CHOICE, AccountId("b")),
            RecordSurvivorshipRule("description", S.CONCATENATE),
        ),
    )
    plan = plan_record_merge(master, [other], policy)
    merged = plan.apply(at=AT)[0]
    assert merged.name == "Acme Corp"
    assert merged.description == "Big client\n\n[merged from b]\nOwes us a reply"
    assert {d.field for d in plan.changed} == {"name", "description"}


def test_a_choice_of_a_record_outside_the_merge_is_refused() -> None:
    policy = RecordSurvivorship(
        RecordKind.ACCOUNT, (RecordSurvivorshipRule("name", S.CHOICE, AccountId("zz")),)
    )
    with pytest.raises(InvalidValue, match="not part of the merge"):
        plan_record_merge(_account("a"), [_account("b")], policy)


def test_notes_move_to_the_master_renumbered_with_provenance() -> None:
    master = _contact("a", notes=(_note(1, "one"), _note(2, "two")))
    other = _contact("b", notes=(_note(1, "other"),))
    plan = plan_record_merge(master, [other], CONTACTS)
    merged, subordinate = plan.apply(at=AT)
    assert [n.id for n in merged.notes] == [1, 2, 3]
    assert merged.notes[2].text == "other"
    assert plan.moved[0].from_record == "b"
    assert (plan.moved[0].from_id, plan.moved[0].to_id) == (1, 3)
    assert subordinate.merged_into == master.id
    assert subordinate.notes == other.notes  # its own copy stays for the unmerge


@pytest.mark.parametrize(
    ("others", "match"),
    [
        ([], "no other contact"),
        ([_contact("b"), _contact("b")], "given twice"),
        ([_contact("a")], "given twice"),
        ([_contact("b", merged_into=ContactId("z"))], "already merged into z"),
        ([_contact(k) for k in "bcde"], "5 contacts; the policy merges at most 4"),
    ],
)
def test_merges_are_refused_with_the_reason(others: list[Contact], match: str) -> None:
    with pytest.raises(MergeRefused, match=match) as caught:
        plan_record_merge(_contact("a"), others, CONTACTS)
    assert caught.value.kind == "contact"
    assert str(caught.value).startswith("cannot merge contact")


def test_a_record_of_another_kind_than_the_policy_is_refused() -> None:
    with pytest.raises(InvalidValue, match="must be Account values"):
        plan_record_merge(_contact("a"), [_contact("b")], ACCOUNTS)
    with pytest.raises(InvalidValue, match="RecordSurvivorship"):
        plan_record_merge(_contact("a"), [_contact("b")], object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: RecordSurvivorship(RecordKind.OPPORTUNITY), "only contacts and accounts"),
        (
            lambda: RecordSurvivorship(
                RecordKind.ACCOUNT, (RecordSurvivorshipRule("job_title", S.MASTER),)
            ),
            "not a mergeable account field",
        ),
        (
            lambda: RecordSurvivorship(
                RecordKind.CONTACT,
                (
                    RecordSurvivorshipRule("email", S.MASTER),
                    RecordSurvivorshipRule("email", S.NEWEST),
                ),
            ),
            "two rules",
        ),
        (lambda: RecordSurvivorship(RecordKind.CONTACT, max_records=1), "at least 2"),
        (lambda: RecordSurvivorship(RecordKind.CONTACT, ("email",)), "is not a rule"),  # type: ignore[arg-type]
        (lambda: RecordSurvivorshipRule("name", S.MAXIMUM), "does not apply to records"),
        (lambda: RecordSurvivorshipRule("name", S.UNION), "does not apply to records"),
        (lambda: RecordSurvivorshipRule("name", S.CONCATENATE), "only to description"),
        (lambda: RecordSurvivorshipRule("name", S.CHOICE), "exactly with CHOICE"),
        (lambda: RecordSurvivorshipRule("name", S.MASTER, ContactId("a")), "exactly with CHOICE"),
        (lambda: RecordSurvivorshipRule("name", S.CHOICE, "a"), "AccountId or ContactId"),  # type: ignore[arg-type]
    ],
)
def test_bad_policies_are_configuration_errors(build: Callable[[], object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        build()


def test_rule_names_the_default_and_refuses_an_unknown_field() -> None:
    assert CONTACTS.rule("email").strategy is S.MASTER_UNLESS_BLANK
    with pytest.raises(ConfigurationError, match="not a mergeable field"):
        CONTACTS.rule("website")


def _stored_contacts(store: MemoryStore) -> tuple[Contact, Contact]:
    with store.unit_of_work() as uow:
        a = uow.contacts.add(_contact("a", job_title="CEO"))
        b = uow.contacts.add(_contact("b", email="b@x.com", notes=(_note(1, "hi"),)))
        uow.accounts.add(_account("acme", primary_contact=ContactId("b")))
        uow.opportunities.add(
            Opportunity(
                id=OpportunityId("o"),
                name="Deal",
                customer=ContactId("b"),
                contact=ContactId("b"),
                currency="EUR",
            )
        )
        uow.commit()
    return a, b


def test_a_contact_merge_re_points_opportunities_and_accounts_and_unmerge_points_back() -> None:
    store = MemoryStore()
    a, b = _stored_contacts(store)
    result = merge_records(store, plan_record_merge(a, [b], CONTACTS), ids=_ids(), at=AT, by=BY)
    with store.unit_of_work() as uow:
        opportunity = uow.opportunities.get(OpportunityId("o"))
        assert (opportunity.customer, opportunity.contact) == (a.id, a.id)
        assert uow.accounts.get(AccountId("acme")).primary_contact == a.id
        assert uow.contacts.get(b.id).merged_into == a.id
        assert str(uow.contacts.get(a.id).email) == "b@x.com"
        assert uow.record_merges.get(result.merge_id) == result.record
    assert {(r.kind, r.field) for r in result.record.repointed} == {
        (RecordKind.OPPORTUNITY, "customer"),
        (RecordKind.OPPORTUNITY, "contact"),
        (RecordKind.ACCOUNT, "primary_contact"),
    }
    undone = unmerge_records(store, result.merge_id, at=AT, by=BY)
    assert undone.record.is_undone
    with store.unit_of_work() as uow:
        opportunity = uow.opportunities.get(OpportunityId("o"))
        assert (opportunity.customer, opportunity.contact) == (b.id, b.id)
        assert uow.accounts.get(AccountId("acme")).primary_contact == b.id
        assert attrs.evolve(uow.contacts.get(b.id), version=0) == attrs.evolve(b, version=0)
    with pytest.raises(MergeRefused, match="already undone"):
        unmerge_records(store, result.merge_id, at=AT, by=BY)


def test_an_account_merge_re_points_contacts_and_opportunities() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        a = uow.accounts.add(_account("a"))
        b = uow.accounts.add(_account("b", website="https://b.example"))
        uow.contacts.add(_contact("p", account_id=AccountId("b")))
        uow.opportunities.add(
            Opportunity(id=OpportunityId("o"), name="D", customer=AccountId("b"), currency="EUR")
        )
        uow.commit()
    merge_records(store, plan_record_merge(a, [b], ACCOUNTS), ids=_ids(), at=AT, by=BY)
    with store.unit_of_work() as uow:
        assert uow.contacts.get(ContactId("p")).account_id == a.id
        assert uow.opportunities.get(OpportunityId("o")).customer == a.id
        assert str(uow.accounts.get(a.id).website) == "https://b.example"


def test_unmerge_lists_fields_and_references_touched_since_and_force_overrides_them() -> None:
    store = MemoryStore()
    a, b = _stored_contacts(store)
    result = merge_records(store, plan_record_merge(a, [b], CONTACTS), ids=_ids(), at=AT, by=BY)
    with store.unit_of_work() as uow:
        master = uow.contacts.get(a.id)
        uow.contacts.save(attrs.evolve(master, job_title="Boss"))
        opportunity = uow.opportunities.get(OpportunityId("o"))
        uow.opportunities.save(attrs.evolve(opportunity, contact=None))
        uow.commit()
    with pytest.raises(UnmergeConflict) as caught:
        unmerge_records(store, result.merge_id, at=AT, by=BY)
    assert set(caught.value.fields) == {(a.id, "job_title"), ("o", "contact")}
    unmerge_records(store, result.merge_id, at=AT, by=BY, force=["job_title", "contact"])
    with store.unit_of_work() as uow:
        assert uow.contacts.get(a.id).job_title == "CEO"
        assert uow.opportunities.get(OpportunityId("o")).contact == b.id


def test_notes_added_since_the_merge_stay_and_an_edited_note_is_a_conflict() -> None:
    store = MemoryStore()
    a, b = _stored_contacts(store)
    result = merge_records(store, plan_record_merge(a, [b], CONTACTS), ids=_ids(), at=AT, by=BY)
    with store.unit_of_work() as uow:
        master = uow.contacts.get(a.id)
        uow.contacts.save(attrs.evolve(master, notes=(*master.notes, _note(9, "later"))))
        uow.commit()
    restored = unmerge_records(store, result.merge_id, at=AT, by=BY).records[0]
    assert [n.text for n in restored.notes] == ["later"]
    record = attrs.evolve(result.record, undone_at=None)
    edited = attrs.evolve(result.record.after[0], notes=(_note(1, "changed"),))
    with pytest.raises(UnmergeConflict, match="notes"):
        plan_record_unmerge(record, {"a": edited, "b": result.record.after[1]})
    with pytest.raises(InvalidValue, match="missing"):
        plan_record_unmerge(record, {"a": edited})


def test_a_record_changed_since_the_plan_is_a_concurrency_conflict_and_nothing_is_stored() -> None:
    store = MemoryStore()
    a, b = _stored_contacts(store)
    plan = plan_record_merge(a, [b], CONTACTS)
    with store.unit_of_work() as uow:
        uow.contacts.save(attrs.evolve(uow.contacts.get(b.id), job_title="CFO"))
        uow.commit()
    with pytest.raises(ConcurrencyConflict):
        merge_records(store, plan, ids=_ids(), at=AT, by=BY)
    with store.unit_of_work() as uow:
        assert uow.contacts.get(b.id).merged_into is None
        assert uow.record_merges.list() == []


def test_a_store_without_record_merges_and_an_unknown_merge_are_refused() -> None:
    store = MemoryStore()
    a, b = _stored_contacts(store)

    class Bare:
        def __init__(self) -> None:
            self.inner = store.unit_of_work()
            self.contacts = self.inner.contacts

    with pytest.raises(ConfigurationError, match="record merges"):
        merge_records(Bare(), plan_record_merge(a, [b], CONTACTS), ids=_ids(), at=AT, by=BY)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        unmerge_records(store, MergeId("nope"), at=AT, by=BY)


def test_the_stored_record_checks_its_images() -> None:
    a, b = _contact("a"), _contact("b")
    with pytest.raises(InvalidValue, match="one image per record"):
        RecordMergeRecord(
            id=MergeId("m"),
            kind=RecordKind.CONTACT,
            master="a",
            merged=("b",),
            at=AT,
            by=BY,
            contacts_before=(a,),
            contacts_after=(a, b),
        )
    with pytest.raises(InvalidValue, match="only contacts and accounts"):
        RecordMergeRecord(
            id=MergeId("m"), kind=RecordKind.OPPORTUNITY, master="a", merged=(), at=AT, by=BY
        )
    with pytest.raises(InvalidValue):
        RecordMergeRecord(
            id=MergeId("m"),
            kind=RecordKind.CONTACT,
            master="a",
            merged=("b",),
            at=AT.replace(tzinfo=None),
            by=BY,
            contacts_before=(a, b),
            contacts_after=(a, b),
        )


def test_a_merged_contact_or_account_is_inactive_for_the_duplicate_rules() -> None:
    from leadkit.duplicates import duplicate_record

    assert duplicate_record(_contact("a")).active
    assert not duplicate_record(_contact("b", merged_into=ContactId("a"))).active
    assert not duplicate_record(_account("b", merged_into=AccountId("a"))).active


def test_record_merges_go_through_the_duplicate_checks_indexing_store() -> None:
    from leadkit.duplicate_checks import EngineDuplicateCheck

    store = MemoryStore()
    a, b = _stored_contacts(store)
    check = EngineDuplicateCheck.from_store(store)
    done = merge_records(check.store, plan_record_merge(a, [b], CONTACTS), ids=_ids(), at=AT, by=BY)
    with store.unit_of_work() as uow:
        assert uow.record_merges.get(done.merge_id) == done.record
    unmerge_records(check.store, done.merge_id, at=AT, by=BY)
