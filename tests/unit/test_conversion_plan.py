"""The plan as a value (leadkit.conversion_plan): its steps, what it creates, links, fills and
writes, its completeness and the lines it shows a person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadkit.conversion_plan import (
    ConversionPlan,
    NewIds,
    PlannedAccount,
    PlannedContact,
    PlannedOpportunity,
    StepAction,
)
from leadkit.conversion_request import (
    CandidateType,
    DuplicateCandidate,
    QualifyRequest,
    Question,
    QuestionKind,
)
from leadkit.errors import DuplicatesUnresolved, InvalidValue, QualificationIncomplete
from leadkit.policies import QualificationPolicy, RecordKind
from leadkit.records import Account, Contact, Opportunity
from leadkit.status import StatusReason
from leadkit.values import AccountId, ContactId, LeadId, OpportunityId, PersonName, UserRef

AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
IDS = NewIds(AccountId("A-new"), ContactId("C-new"), OpportunityId("O-new"))
ACME = Account(id=AccountId("A-7"), name="Acme AB", version=3)
NEW_ACME = Account(id=AccountId("A-new"), name="Acme AB")
ADA = Contact(id=ContactId("C-new"), name=PersonName(first="Ada", last="Lovelace"))
LINKED_ADA = Contact(id=ContactId("C-7"), name=PersonName(first="Ada", last="Lovelace"))
DEAL = Opportunity(
    id=OpportunityId("O-new"), name="Coffee", customer=AccountId("A-new"), currency="EUR"
)
OLD_DEAL = Opportunity(
    id=OpportunityId("O-3"), name="Tea", customer=ContactId("C-7"), currency="SEK"
)
QUESTION = Question(QuestionKind.CURRENCY, "Which currency?", (), "EUR")
CANDIDATE = DuplicateCandidate(CandidateType.CONTACT, "C-9", 0.9, "same e-mail address")


def make_plan(**fields: object) -> ConversionPlan:
    values: dict[str, object] = {
        "lead_id": LeadId("L-1"),
        "lead_version": 4,
        "at": AT,
        "by": UserRef("bob"),
        "reason": StatusReason.QUALIFIED,
        "policy": QualificationPolicy(),
        "request": QualifyRequest(),
        "new_ids": IDS,
    }
    values.update(fields)
    return ConversionPlan(**values)  # type: ignore[arg-type]


CREATED = make_plan(
    account=PlannedAccount(action=StepAction.CREATE, record=NEW_ACME),
    contact=PlannedContact(action=StepAction.CREATE, record=ADA),
    opportunity=PlannedOpportunity(action=StepAction.CREATE, record=DEAL),
)
LINKED = make_plan(
    account=PlannedAccount(action=StepAction.LINK, record=ACME, filled=("website", "notes")),
    contact=PlannedContact(action=StepAction.LINK, record=LINKED_ADA),
    opportunity=PlannedOpportunity(action=StepAction.LINK, record=OLD_DEAL, filled=("notes",)),
)


@pytest.mark.parametrize(
    ("step", "writes"),
    [
        (PlannedAccount(action=StepAction.CREATE, record=NEW_ACME), True),
        (PlannedAccount(action=StepAction.LINK, record=ACME), False),
        (PlannedAccount(action=StepAction.LINK, record=ACME, filled=("website",)), True),
        (PlannedContact(action=StepAction.CREATE, record=ADA), True),
        (PlannedContact(action=StepAction.LINK, record=LINKED_ADA), False),
        (PlannedContact(action=StepAction.LINK, record=LINKED_ADA, filled=("email",)), True),
        (PlannedOpportunity(action=StepAction.CREATE, record=DEAL), True),
        (PlannedOpportunity(action=StepAction.LINK, record=OLD_DEAL), False),
        (PlannedOpportunity(action=StepAction.LINK, record=OLD_DEAL, filled=("notes",)), True),
    ],
)
def test_a_step_writes_when_it_creates_or_fills(
    step: PlannedAccount | PlannedContact | PlannedOpportunity, writes: bool
) -> None:
    assert step.writes is writes


def test_a_step_fills_nothing_by_default() -> None:
    assert PlannedAccount(action=StepAction.CREATE, record=NEW_ACME).filled == ()
    assert PlannedContact(action=StepAction.CREATE, record=ADA).filled == ()
    assert PlannedOpportunity(action=StepAction.CREATE, record=DEAL).filled == ()


def test_new_ids_are_drawn_in_the_order_account_contact_opportunity() -> None:
    drawn = iter(["A-1", "C-2", "O-3"])
    assert NewIds.draw(lambda: next(drawn)) == NewIds(
        AccountId("A-1"), ContactId("C-2"), OpportunityId("O-3")
    )


def test_new_ids_refuse_a_malformed_id() -> None:
    with pytest.raises(InvalidValue) as caught:
        NewIds.draw(lambda: "")
    assert caught.value.value == ""


def test_a_plan_without_steps_creates_and_links_nothing_and_writes_the_lead_only() -> None:
    empty = make_plan()
    assert empty.steps() == ()
    assert (empty.created, empty.linked, dict(empty.filled)) == ((), (), {})
    assert (empty.account_id, empty.contact_id, empty.opportunity_id) == (None, None, None)
    assert empty.writes == 1
    assert (empty.questions, empty.candidates, empty.unresolved) == ((), (), ())


def test_a_created_plan_lists_its_steps_ids_and_writes() -> None:
    assert CREATED.steps() == (CREATED.account, CREATED.contact, CREATED.opportunity)
    assert CREATED.created == (RecordKind.ACCOUNT, RecordKind.CONTACT, RecordKind.OPPORTUNITY)
    assert CREATED.linked == ()
    assert dict(CREATED.filled) == {}
    assert (CREATED.account_id, CREATED.contact_id, CREATED.opportunity_id) == (
        AccountId("A-new"),
        ContactId("C-new"),
        OpportunityId("O-new"),
    )
    assert CREATED.writes == 4


def test_a_linked_plan_lists_what_it_fills_and_writes_only_changed_records() -> None:
    assert LINKED.created == ()
    assert LINKED.linked == (RecordKind.ACCOUNT, RecordKind.CONTACT, RecordKind.OPPORTUNITY)
    assert dict(LINKED.filled) == {
        RecordKind.ACCOUNT: ("website", "notes"),
        RecordKind.OPPORTUNITY: ("notes",),
    }
    assert (LINKED.account_id, LINKED.contact_id, LINKED.opportunity_id) == (
        AccountId("A-7"),
        ContactId("C-7"),
        OpportunityId("O-3"),
    )
    assert LINKED.writes == 3


def test_steps_keep_their_order_when_some_are_missing() -> None:
    contact_and_deal = make_plan(
        contact=PlannedContact(action=StepAction.LINK, record=LINKED_ADA),
        opportunity=PlannedOpportunity(action=StepAction.CREATE, record=DEAL),
    )
    assert contact_and_deal.steps() == (contact_and_deal.contact, contact_and_deal.opportunity)
    assert contact_and_deal.created == (RecordKind.OPPORTUNITY,)
    assert contact_and_deal.linked == (RecordKind.CONTACT,)
    assert contact_and_deal.account_id is None
    assert contact_and_deal.writes == 2


def test_a_plan_is_complete_only_with_no_question_and_no_unresolved_candidate() -> None:
    assert make_plan().is_complete
    make_plan().require_complete()
    assert make_plan(candidates=(CANDIDATE,)).is_complete
    assert not make_plan(questions=(QUESTION,)).is_complete
    assert not make_plan(unresolved=(CANDIDATE,)).is_complete


def test_require_complete_names_the_questions_before_the_candidates() -> None:
    with pytest.raises(QualificationIncomplete) as asked:
        make_plan(questions=(QUESTION,), unresolved=(CANDIDATE,)).require_complete()
    assert asked.value.questions == (QUESTION,)
    with pytest.raises(DuplicatesUnresolved) as unresolved:
        make_plan(unresolved=(CANDIDATE,)).require_complete()
    assert unresolved.value.candidates == (CANDIDATE,)


def test_describe_shows_new_records_as_new_and_the_customer_to_create() -> None:
    assert CREATED.describe() == (
        "qualify lead L-1 (version 4) as Qualified",
        "  create account (new): Acme AB",
        "  create contact (new): Ada Lovelace",
        "  create opportunity (new): Coffee (EUR, customer the new account)",
    )


def test_describe_shows_linked_records_with_their_ids_fills_questions_and_duplicates() -> None:
    plan = make_plan(
        account=LINKED.account,
        contact=LINKED.contact,
        opportunity=LINKED.opportunity,
        questions=(QUESTION,),
        unresolved=(CANDIDATE,),
    )
    assert plan.describe() == (
        "qualify lead L-1 (version 4) as Qualified",
        "  link account A-7: Acme AB (fill website, notes)",
        "  link contact C-7: Ada Lovelace",
        "  link opportunity O-3: Tea (SEK, customer C-7) (fill notes)",
        "  ? Which currency? [suggested: EUR]",
        "  ! possible duplicate: contact C-9 (same e-mail address)",
    )
