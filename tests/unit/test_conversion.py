"""plan_qualification: the rules of a qualification plan, every question and every error."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from leadkit import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    Lead,
    LeadId,
    LeadkitConverter,
    LeadPatch,
    LeadSource,
    Money,
    OpportunityId,
    PersonName,
    PhoneNumber,
    PurchaseTimeframe,
    StatusReason,
    Url,
    UserRef,
    make_converter,
)
from leadkit.conversion import (
    CandidateType,
    Choice,
    ConversionPlan,
    CustomerChoice,
    DuplicateCandidate,
    LinkedRecords,
    NewIds,
    QualifyRequest,
    QuestionKind,
    Resolution,
    StepAction,
    link_targets,
    plan_qualification,
)
from leadkit.errors import (
    CurrencyMismatch,
    DomainRuleViolation,
    DuplicatesUnresolved,
    IllegalTransition,
    InvalidValue,
    OpportunityLinked,
    QualificationIncomplete,
)
from leadkit.policies import (
    CurrencyRegistry,
    DuplicateHandling,
    FieldMap,
    NotesCarryOver,
    QualificationPolicy,
    QualifyMode,
    RecordKind,
)
from leadkit.profiles import FieldProfile
from leadkit.records import Account, Contact, Opportunity, OpportunityState
from leadkit.serialization import dump_plan, load_plan
from leadkit.status import LeadState

ANN = UserRef("ann", "Ann Andersson")
BOB = UserRef("bob")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AT = T0 + timedelta(hours=1)
IDS = NewIds(AccountId("A-new"), ContactId("C-new"), OpportunityId("O-new"))
REGISTRY = CurrencyRegistry("EUR", {"SEK": Decimal("10"), "USD": Decimal("1.25")})
AUTO = QualificationPolicy(currencies=REGISTRY)
PROMPT = QualificationPolicy(mode=QualifyMode.PROMPT, currencies=REGISTRY)
NO_PROFILE = FieldProfile("none", ())
CONVERTER = make_converter()  # building one costs ~0.4 s: keep it


def make_lead(profile: FieldProfile = NO_PROFILE, **fields: Any) -> Lead:
    values: dict[str, Any] = {
        "topic": "Coffee machines for 12 offices",
        "name": PersonName(first="Ada", last="Lovelace", salutation="Dr."),
        "company": "Acme AB",
        "job_title": "Buyer",
        "email": "ada@acme.example",
        "website": "www.acme.example",
        "business_phone": PhoneNumber("+46 8 123 456 78"),
        "address": Address(line1="Storgatan 1", city="Lund", postal_code="222 22"),
        "source": LeadSource.TRADE_SHOW,
        "budget_amount": Money("1000", "SEK"),
        "purchase_timeframe": PurchaseTimeframe.THIS_QUARTER,
        "description": "Wants a pilot",
        "estimated_close_date": date(2026, 6, 30),
    }
    values.update(fields)
    return Lead.create(LeadId("L-1"), LeadPatch(**values), at=T0, by=ANN, profile=profile)


def plan(
    lead: Lead,
    policy: QualificationPolicy = AUTO,
    request: QualifyRequest | None = None,
    **kwargs: Any,
) -> ConversionPlan:
    return plan_qualification(
        lead, policy, request or QualifyRequest(), ids=IDS, at=AT, by=BOB, **kwargs
    )


def stored(lead: Lead) -> Lead:
    """The lead as a repository returns it (version 1, no pending events)."""
    return attrs.evolve(lead, version=1, pending_events=())


def reactivated(opportunity_id: OpportunityId, lead: Lead | None = None) -> Lead:
    """``lead`` (default: a new one) qualified with ``opportunity_id``, then reactivated."""
    lead = (lead or make_lead()).mark_qualified(at=T0, by=ANN, opportunity_id=opportunity_id)
    return stored(lead.reactivate(at=T0, by=ANN))


ACME = Account(id=AccountId("A-7"), name="Acme Aktiebolag", version=3)
ADA = Contact(
    id=ContactId("C-7"),
    name=PersonName(last="Lovelace"),
    job_title="Countess",
    version=2,
)


# The records -------------------------------------------------------------------------------


def test_auto_mode_creates_account_contact_and_opportunity_with_the_mapped_values() -> None:
    result = plan(make_lead())
    assert result.is_complete
    assert result.created == (RecordKind.ACCOUNT, RecordKind.CONTACT, RecordKind.OPPORTUNITY)
    assert result.account is not None
    assert result.contact is not None
    assert result.opportunity is not None
    account, contact, opportunity = (
        result.account.record,
        result.contact.record,
        result.opportunity.record,
    )
    assert account.id == IDS.account
    assert account.name == "Acme AB"
    assert account.website == Url("www.acme.example")
    assert account.business_phone == PhoneNumber("+46 8 123 456 78")
    assert account.address.city == "Lund"
    assert account.owner == ANN
    assert account.primary_contact == IDS.contact
    assert contact.name == PersonName(first="Ada", last="Lovelace", salutation="Dr.")
    assert contact.job_title == "Buyer"
    assert contact.email == EmailAddress("ada@acme.example")
    assert contact.source is LeadSource.TRADE_SHOW
    assert contact.account_id == IDS.account
    assert contact.company == "Acme AB"
    assert opportunity.name == "Coffee machines for 12 offices"
    assert opportunity.customer == IDS.account
    assert opportunity.contact == IDS.contact
    assert opportunity.currency == "SEK"
    assert opportunity.budget_amount == Money("1000", "SEK")
    assert opportunity.purchase_timeframe is PurchaseTimeframe.THIS_QUARTER
    assert opportunity.estimated_close_date == date(2026, 6, 30)
    assert opportunity.description == "Wants a pilot"
    for record in (account, contact, opportunity):
        assert record.originating_lead == LeadId("L-1")
        assert record.created_at == AT
        assert record.version == 0


def test_an_account_is_made_only_when_the_lead_has_a_company() -> None:
    result = plan(make_lead(company=""))
    assert result.account is None
    assert result.opportunity is not None
    assert result.opportunity.record.customer == IDS.contact


def test_asking_for_an_account_without_a_company_is_refused() -> None:
    with pytest.raises(InvalidValue) as error:
        plan(make_lead(company=""), request=QualifyRequest(create_account=Choice.YES))
    assert error.value.field == "create_account"


def test_a_contact_is_made_only_from_a_first_or_last_name() -> None:
    lead = make_lead(name=PersonName(salutation="Dr."))
    result = plan(lead)
    assert result.contact is None
    assert result.account is not None
    with pytest.raises(InvalidValue) as error:
        plan(lead, request=QualifyRequest(create_contact=Choice.YES))
    assert error.value.field == "create_contact"


def test_no_creates_nothing_of_that_kind() -> None:
    request = QualifyRequest(create_account=Choice.NO, create_opportunity=Choice.NO)
    result = plan(make_lead(), request=request)
    assert result.created == (RecordKind.CONTACT,)
    assert result.contact is not None
    assert result.contact.record.account_id is None


def test_the_opportunity_needs_a_customer() -> None:
    lead = make_lead(company="", name=PersonName())
    assert plan(lead).opportunity is None  # the policy skips it
    with pytest.raises(InvalidValue) as error:
        plan(lead, request=QualifyRequest(create_opportunity=Choice.YES))
    assert error.value.field == "create_opportunity"


def test_the_customer_may_be_the_contact_when_asked() -> None:
    result = plan(make_lead(), request=QualifyRequest(customer=CustomerChoice.CONTACT))
    assert result.opportunity is not None
    assert result.opportunity.record.customer == IDS.contact


def test_a_customer_the_qualification_will_not_have_is_refused() -> None:
    with pytest.raises(InvalidValue) as error:
        plan(make_lead(company=""), request=QualifyRequest(customer=CustomerChoice.ACCOUNT))
    assert error.value.field == "customer"
    with pytest.raises(InvalidValue):
        plan(
            make_lead(),
            request=QualifyRequest(create_contact=Choice.NO, customer=CustomerChoice.CONTACT),
        )


def test_the_opportunity_is_named_from_the_topic_else_the_company() -> None:
    result = plan(make_lead(topic=""))
    assert result.opportunity is not None
    assert result.opportunity.record.name == "Acme AB"


def test_the_request_owner_owns_the_created_records() -> None:
    result = plan(make_lead(), request=QualifyRequest(owner=BOB))
    assert all(step.record.owner == BOB for step in result.steps())


# Currency ----------------------------------------------------------------------------------


def test_the_request_currency_wins_and_amounts_are_converted() -> None:
    result = plan(make_lead(), request=QualifyRequest(currency="eur"))
    assert result.opportunity is not None
    assert result.opportunity.record.currency == "EUR"
    assert result.opportunity.record.budget_amount == Money("100", "EUR")


def test_the_lead_budget_currency_comes_before_its_estimated_value() -> None:
    lead = make_lead(budget_amount=None, estimated_value=Money("50", "USD"))
    result = plan(lead)
    assert result.opportunity is not None
    assert result.opportunity.record.currency == "USD"


def test_the_policy_default_currency_comes_last_then_the_base_currency() -> None:
    lead = make_lead(budget_amount=None)
    result = plan(lead, attrs.evolve(AUTO, default_currency="USD"))
    assert result.opportunity is not None
    assert result.opportunity.record.currency == "USD"
    result = plan(lead)
    assert result.opportunity is not None
    assert result.opportunity.record.currency == "EUR"


def test_an_amount_without_an_exchange_rate_is_refused() -> None:
    lead = make_lead(estimated_value=Money("5", "JPY"))
    with pytest.raises(CurrencyMismatch) as error:
        plan(lead)
    assert error.value.field == "estimated_value"


def test_a_currency_outside_a_closed_registry_is_refused() -> None:
    closed = attrs.evolve(AUTO, currencies=attrs.evolve(REGISTRY, only_listed=True))
    with pytest.raises(InvalidValue) as error:
        plan(make_lead(), closed, QualifyRequest(currency="JPY"))
    assert error.value.field == "currency"


def test_a_lead_currency_outside_a_closed_registry_falls_through_to_the_default() -> None:
    closed = QualificationPolicy(currencies=CurrencyRegistry("EUR", {"USD": 1}, only_listed=True))
    with pytest.raises(CurrencyMismatch):  # SEK budget, no SEK rate to convert it
        plan(make_lead(), closed)
    result = plan(make_lead(budget_amount=None), closed)
    assert result.opportunity is not None
    assert result.opportunity.record.currency == "EUR"


# Prompt mode -------------------------------------------------------------------------------


def test_prompt_mode_asks_which_records_to_create_and_the_customer() -> None:
    result = plan(make_lead(), PROMPT)
    kinds = [q.kind for q in result.questions]
    assert kinds == [
        QuestionKind.CREATE_ACCOUNT,
        QuestionKind.CREATE_CONTACT,
        QuestionKind.CREATE_OPPORTUNITY,
        QuestionKind.CUSTOMER,
    ]
    assert not result.is_complete
    assert [q.suggestion for q in result.questions] == ["yes", "yes", "yes", "account"]
    with pytest.raises(QualificationIncomplete) as error:
        result.require_complete()
    assert error.value.questions == result.questions


def test_prompt_mode_asks_the_currency_when_nothing_gives_one() -> None:
    request = QualifyRequest(
        create_account=Choice.YES,
        create_contact=Choice.YES,
        create_opportunity=Choice.YES,
        customer=CustomerChoice.ACCOUNT,
    )
    result = plan(make_lead(budget_amount=None), PROMPT, request)
    assert [q.kind for q in result.questions] == [QuestionKind.CURRENCY]
    assert result.questions[0].suggestion == "EUR"
    assert result.questions[0].field == "currency"
    assert plan(make_lead(), PROMPT, request).questions == ()


def test_answering_every_question_with_its_suggestion_gives_the_auto_plan() -> None:
    lead = make_lead(budget_amount=None)
    first = plan(lead, PROMPT)
    request = QualifyRequest()
    for question in first.questions:
        request = request.answering(question, question.suggestion)
    answered = plan(lead, PROMPT, request)
    assert answered.is_complete
    auto = plan(lead, AUTO)
    assert answered.steps() == auto.steps()


def test_answering_accepts_booleans_and_refuses_nonsense() -> None:
    question = plan(make_lead(), PROMPT).questions[0]
    assert QualifyRequest().answering(question, False).create_account is Choice.NO
    with pytest.raises(InvalidValue):
        QualifyRequest().answering(question, "maybe")


def test_prompt_mode_does_not_ask_about_a_linked_record() -> None:
    lead = stored(make_lead().link_contact(ADA, at=T0, by=ANN))
    result = plan(lead, PROMPT, linked=LinkedRecords(contact=ADA))
    assert QuestionKind.CREATE_CONTACT not in [q.kind for q in result.questions]


# Duplicates --------------------------------------------------------------------------------

SAME_EMAIL = DuplicateCandidate("contact", "C-9", 0.95, "same e-mail address")
SAME_COMPANY = DuplicateCandidate(CandidateType.ACCOUNT, "A-9", 0.8, "same company")


def test_a_possible_duplicate_of_a_new_contact_stops_the_plan() -> None:
    result = plan(make_lead(), duplicates=[SAME_EMAIL, SAME_COMPANY])
    assert result.unresolved == (SAME_EMAIL, SAME_COMPANY)
    assert not result.is_complete
    with pytest.raises(DuplicatesUnresolved) as error:
        result.require_complete()
    assert error.value.candidates == (SAME_EMAIL, SAME_COMPANY)


def test_questions_are_reported_before_duplicates() -> None:
    result = plan(make_lead(), PROMPT, duplicates=[SAME_EMAIL])
    with pytest.raises(QualificationIncomplete):
        result.require_complete()


def test_create_anyway_resolves_a_warning() -> None:
    request = QualifyRequest().answer(SAME_EMAIL, Resolution.CREATE_ANYWAY)
    result = plan(make_lead(), request=request, duplicates=[SAME_EMAIL])
    assert result.is_complete
    assert result.candidates == (SAME_EMAIL,)


def test_block_refuses_create_anyway() -> None:
    policy = attrs.evolve(AUTO, duplicates=DuplicateHandling.BLOCK)
    request = QualifyRequest().answer(SAME_EMAIL, Resolution.CREATE_ANYWAY)
    result = plan(make_lead(), policy, request, duplicates=[SAME_EMAIL])
    assert result.unresolved == (SAME_EMAIL,)


def test_ignore_skips_the_duplicate_check() -> None:
    policy = attrs.evolve(AUTO, duplicates=DuplicateHandling.IGNORE)
    assert plan(make_lead(), policy, duplicates=[SAME_EMAIL]).is_complete


def test_linking_the_candidate_resolves_the_warning() -> None:
    duplicate = Contact(id=ContactId("C-9"), name=PersonName(last="Lovelace"), version=1)
    request = QualifyRequest().answer(SAME_EMAIL, Resolution.LINK)
    result = plan(
        make_lead(),
        request=request,
        duplicates=[SAME_EMAIL],
        linked=LinkedRecords(contact=duplicate),
    )
    assert result.is_complete
    assert result.linked == (RecordKind.CONTACT,)
    assert result.contact is not None
    assert result.contact.record.id == ContactId("C-9")
    assert result.contact.record.version == 1


def test_lead_candidates_and_candidates_of_records_not_created_do_not_count() -> None:
    other_lead = DuplicateCandidate("lead", "L-2")
    result = plan(
        make_lead(company=""), duplicates=[other_lead, SAME_COMPANY], request=QualifyRequest()
    )
    assert result.is_complete
    assert result.candidates == ()


# Linked records: fill-empty-only -----------------------------------------------------------


def test_a_linked_contact_is_filled_never_overwritten() -> None:
    lead = stored(make_lead().link_contact(ADA, at=T0, by=ANN))
    result = plan(lead, linked=LinkedRecords(contact=ADA))
    assert result.contact is not None
    contact = result.contact
    assert contact.action is StepAction.LINK
    assert contact.record.job_title == "Countess"  # kept
    assert contact.record.name.last == "Lovelace"
    assert contact.record.name.first == "Ada"  # filled
    assert contact.record.email == EmailAddress("ada@acme.example")  # filled
    assert contact.record.account_id == IDS.account  # filled
    assert contact.record.version == ADA.version
    assert "job_title" not in contact.filled
    assert {"name.first", "email", "account_id", "notes_from_lead"} <= set(contact.filled)
    assert result.filled[RecordKind.CONTACT] == contact.filled


def test_a_linked_account_is_filled_never_overwritten() -> None:
    lead = stored(make_lead().link_account(ACME, at=T0, by=ANN))
    result = plan(lead, linked=LinkedRecords(account=ACME))
    assert result.account is not None
    assert result.account.record.name == "Acme Aktiebolag"
    assert result.account.record.website == Url("www.acme.example")
    assert result.account.record.primary_contact == IDS.contact
    assert "name" not in result.account.filled
    assert result.opportunity is not None
    assert result.opportunity.record.customer == ACME.id


def test_a_linked_record_with_nothing_empty_is_not_written() -> None:
    full = Contact(
        id=ContactId("C-7"),
        name=PersonName(first="A", middle="B", last="C", salutation="Dr.", suffix="Jr."),
        job_title="x",
        company="y",
        business_phone=PhoneNumber("+46 8 555 123 45"),
        mobile_phone=PhoneNumber("+46 70 555 12 34"),
        email=EmailAddress("x@y.example"),
        address=Address(city="Lund"),
        source=LeadSource.WEB,
        owner=BOB,
        notes_from_lead=LeadId("L-0"),
    )
    lead = stored(make_lead().link_contact(full, at=T0, by=ANN))
    request = QualifyRequest(create_account=Choice.NO, create_opportunity=Choice.NO)
    result = plan(lead, request=request, linked=LinkedRecords(contact=full))
    assert result.contact is not None
    assert result.contact.record == full
    assert not result.contact.writes
    assert result.writes == 1


def test_a_link_the_request_names_must_be_supplied() -> None:
    request = QualifyRequest(link_contact=ContactId("C-7"))
    with pytest.raises(InvalidValue) as error:
        plan(make_lead(), request=request)
    assert error.value.field == "link_contact"


def test_a_supplied_record_that_is_not_the_link_is_refused() -> None:
    with pytest.raises(InvalidValue):
        plan(make_lead(), linked=LinkedRecords(contact=ADA))


def test_an_inherited_link_that_is_gone_is_created_again() -> None:
    lead = stored(make_lead().link_contact(ADA, at=T0, by=ANN))
    result = plan(lead)
    assert result.contact is not None
    assert result.contact.action is StepAction.CREATE


def test_link_targets_prefer_the_request_then_the_lead_then_an_earlier_qualification() -> None:
    lead = make_lead().link_account(ACME, at=T0, by=ANN)
    lead = lead.mark_qualified(
        at=T0, by=ANN, contact_id=ContactId("C-1"), opportunity_id=OpportunityId("O-1")
    )
    lead = lead.reactivate(at=T0, by=ANN)
    targets = link_targets(lead, QualifyRequest(link_account=AccountId("A-2")))
    assert targets.account == AccountId("A-2")
    assert targets.contact == ContactId("C-1")
    assert targets.opportunity == OpportunityId("O-1")
    assert targets.explicit == frozenset({RecordKind.ACCOUNT})
    assert link_targets(lead, QualifyRequest(create_contact=Choice.NO)).contact is None


def test_a_reactivated_lead_links_the_records_of_its_earlier_qualification() -> None:
    first = plan(make_lead())
    assert first.opportunity is not None
    assert first.contact is not None
    assert first.account
    lead = make_lead().mark_qualified(
        at=AT,
        by=BOB,
        account_id=first.account_id,
        contact_id=first.contact_id,
        opportunity_id=first.opportunity_id,
    )
    lead = stored(lead.reactivate(at=AT, by=BOB))
    linked = LinkedRecords(
        account=attrs.evolve(first.account.record, version=1),
        contact=attrs.evolve(first.contact.record, version=1),
        opportunity=attrs.evolve(first.opportunity.record, version=1),
    )
    again = plan(lead, linked=linked)
    assert again.created == ()
    assert again.linked == (RecordKind.ACCOUNT, RecordKind.CONTACT, RecordKind.OPPORTUNITY)


WON = Opportunity(
    id=OpportunityId("O-1"),
    name="x",
    customer=ACME.id,
    currency="EUR",
    state=OpportunityState.WON,
)


def test_a_closed_opportunity_cannot_be_linked() -> None:
    request = QualifyRequest(link_opportunity=WON.id)
    with pytest.raises(InvalidValue) as error:
        plan(make_lead(), request=request, linked=LinkedRecords(opportunity=WON))
    assert error.value.field == "link_opportunity"


def test_a_reactivated_lead_whose_deal_closed_gets_a_new_opportunity() -> None:
    lead = reactivated(WON.id)
    result = plan(lead, linked=LinkedRecords(opportunity=WON))
    assert result.opportunity is not None
    assert result.opportunity.action is StepAction.CREATE


# Notes -------------------------------------------------------------------------------------


def noted_lead() -> Lead:
    lead = make_lead().add_note("Met at the fair", at=T0, by=ANN)
    return lead.add_note("Wants a pilot", at=T0 + timedelta(minutes=1), by=ANN)


def test_link_carry_over_copies_nothing_and_points_to_the_lead() -> None:
    result = plan(noted_lead())
    for step in result.steps():
        assert step.record.notes == ()
        assert step.record.notes_from_lead == LeadId("L-1")


def test_copy_carry_over_copies_the_notes_onto_every_record() -> None:
    policy = attrs.evolve(AUTO, notes=NotesCarryOver.COPY)
    result = plan(noted_lead(), policy)
    for step in result.steps():
        assert [n.text for n in step.record.notes] == ["Met at the fair", "Wants a pilot"]
        assert step.record.notes_from_lead is None


def test_copy_appends_the_notes_to_a_linked_record() -> None:
    policy = attrs.evolve(AUTO, notes=NotesCarryOver.COPY)
    lead = stored(noted_lead().link_contact(ADA, at=T0, by=ANN))
    result = plan(lead, policy, linked=LinkedRecords(contact=ADA))
    assert result.contact is not None
    assert len(result.contact.record.notes) == 2
    assert "notes" in result.contact.filled


def test_none_carry_over_neither_copies_nor_links() -> None:
    policy = attrs.evolve(AUTO, notes=NotesCarryOver.NONE)
    for step in plan(noted_lead(), policy).steps():
        assert step.record.notes == ()
        assert step.record.notes_from_lead is None


# Lifecycle ---------------------------------------------------------------------------------


def test_a_closed_lead_cannot_be_planned() -> None:
    lead = make_lead().disqualify(StatusReason.LOST, at=T0, by=ANN)
    with pytest.raises(IllegalTransition):
        plan(lead)


def test_an_open_reason_is_refused() -> None:
    with pytest.raises(InvalidValue):
        plan(make_lead(), reason=StatusReason.NEW)


def test_a_disqualification_creates_prospects_only_when_the_policy_allows() -> None:
    with pytest.raises(DomainRuleViolation):
        plan(make_lead(), reason=StatusReason.LOST)
    policy = attrs.evolve(AUTO, prospects_on_disqualify=True)
    result = plan(make_lead(), policy, reason=StatusReason.LOST)
    assert result.created == (RecordKind.ACCOUNT, RecordKind.CONTACT)
    with pytest.raises(InvalidValue):
        plan(
            make_lead(),
            policy,
            QualifyRequest(create_opportunity=Choice.YES),
            reason=StatusReason.LOST,
        )


def test_a_disqualification_is_refused_while_an_opportunity_is_linked() -> None:
    lead = reactivated(OpportunityId("O-1"))
    policy = attrs.evolve(AUTO, prospects_on_disqualify=True)
    with pytest.raises(OpportunityLinked):
        plan(lead, policy, reason=StatusReason.LOST)


# The plan as a value -----------------------------------------------------------------------


def test_planning_is_pure_the_same_inputs_give_the_same_plan() -> None:
    lead = noted_lead()
    assert plan(lead, duplicates=[SAME_EMAIL]) == plan(lead, duplicates=[SAME_EMAIL])


def test_planning_refuses_a_naive_time() -> None:
    with pytest.raises(InvalidValue):
        plan_qualification(
            make_lead(), AUTO, QualifyRequest(), ids=IDS, at=datetime(2026, 1, 1), by=BOB
        )


def test_the_plan_records_the_lead_version_and_counts_its_writes() -> None:
    result = plan(stored(make_lead()))
    assert result.lead_id == LeadId("L-1")
    assert result.lead_version == 1
    assert result.writes == 4
    assert result.describe()[0].startswith("qualify lead L-1 (version 1)")


@pytest.mark.parametrize("customer", [CustomerChoice.ACCOUNT, CustomerChoice.CONTACT])
def test_a_plan_round_trips_through_json(customer: CustomerChoice) -> None:
    lead = stored(noted_lead().link_contact(ADA, at=T0, by=ANN))
    request = QualifyRequest(customer=customer, owner=BOB).answer(
        SAME_COMPANY, Resolution.CREATE_ANYWAY
    )
    original = plan(
        lead,
        attrs.evolve(PROMPT, notes=NotesCarryOver.COPY),
        request,
        duplicates=[SAME_COMPANY],
        linked=LinkedRecords(contact=ADA),
    )
    text = json.dumps(dump_plan(original, CONVERTER))
    assert load_plan(text, CONVERTER) == original
    assert load_plan(json.loads(text), CONVERTER) == original


def test_a_plan_without_an_opportunity_round_trips() -> None:
    original = plan(make_lead(), request=QualifyRequest(create_opportunity=Choice.NO))
    assert load_plan(dump_plan(original, CONVERTER), CONVERTER) == original


def test_plans_read_and_written_without_a_converter_share_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Building a converter generates code for every type (far longer than reading a plan): a
    # stranger's plan document read without a converter must not pay for a new one each time.
    import leadkit.serialization

    built: list[LeadkitConverter] = []
    real = make_converter

    def counted() -> LeadkitConverter:
        built.append(real())
        return built[-1]

    monkeypatch.setattr(leadkit.serialization, "make_converter", counted)
    leadkit.serialization._plan_converter.cache_clear()
    original = plan(make_lead())

    for _ in range(3):
        assert load_plan(dump_plan(original)) == original
    with pytest.raises(InvalidValue):
        load_plan("{not json")

    assert len(built) == 1
    leadkit.serialization._plan_converter.cache_clear()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(kind="Lead"), "kind"),
        (lambda d: d.update(schema=99), "schema"),
        (
            lambda d: d["data"]["opportunity"]["record"].update(customer_kind="lead"),
            "opportunity.record.customer_kind",
        ),
        (lambda d: d["data"].update(lead_version="one"), "lead_version"),
        (lambda d: d["data"].update(colour="red"), "colour"),
        (lambda d: d["data"]["opportunity"]["record"].update(customer=7), "customer"),
    ],
)
def test_malformed_plan_data_is_refused_naming_the_field(mutate: Any, field: str) -> None:
    data = dump_plan(plan(make_lead()), CONVERTER)
    mutate(data)
    with pytest.raises(InvalidValue) as error:
        load_plan(data, CONVERTER)
    assert field in error.value.field


def test_a_plan_with_the_customer_kind_beside_the_record_still_loads() -> None:
    original = plan(make_lead())
    data = dump_plan(original, CONVERTER)
    record = data["data"]["opportunity"]["record"]
    data["data"]["opportunity"]["customer_kind"] = record.pop("customer_kind")
    assert load_plan(data, CONVERTER) == original


def test_malformed_plan_text_is_refused() -> None:
    with pytest.raises(InvalidValue):
        load_plan("{not json", CONVERTER)
    with pytest.raises(InvalidValue):
        load_plan([1, 2], CONVERTER)


def test_a_custom_map_decides_what_the_records_get() -> None:
    maps = attrs.evolve(
        AUTO.maps,
        account=FieldMap(RecordKind.ACCOUNT, [("company", "name"), ("description", "description")]),
    )
    result = plan(make_lead(), attrs.evolve(AUTO, maps=maps))
    assert result.account is not None
    assert result.account.record.description == "Wants a pilot"
    assert result.account.record.website is None


# Every refusal of the planner names its field, value and reason ----------------------------


def _refused(build: Callable[[], object]) -> tuple[str, object, str]:
    with pytest.raises(InvalidValue) as caught:
        build()
    return caught.value.field, caught.value.value, caught.value.reason


DISQUALIFY = attrs.evolve(AUTO, prospects_on_disqualify=True)
CLOSED_REGISTRY = attrs.evolve(AUTO, currencies=attrs.evolve(REGISTRY, only_listed=True))


@pytest.mark.parametrize(
    ("build", "field", "value", "reason"),
    [
        (
            lambda: plan(make_lead(), reason=StatusReason.NEW),
            "reason",
            StatusReason.NEW,
            "must be a Qualified or Disqualified reason",
        ),
        (
            lambda: plan(
                make_lead(),
                DISQUALIFY,
                QualifyRequest(create_opportunity=Choice.YES),
                reason=StatusReason.LOST,
            ),
            "create_opportunity",
            Choice.YES,
            "a disqualification makes none",
        ),
        (
            lambda: plan(
                make_lead(),
                DISQUALIFY,
                QualifyRequest(link_opportunity=OpportunityId("O-1")),
                reason=StatusReason.LOST,
            ),
            "create_opportunity",
            Choice.POLICY,
            "a disqualification makes none",
        ),
        (
            lambda: plan(make_lead(company=""), request=QualifyRequest(create_account=Choice.YES)),
            "create_account",
            Choice.YES,
            "the lead has no company to make an account from",
        ),
        (
            lambda: plan(
                make_lead(name=PersonName(salutation="Dr.")),
                request=QualifyRequest(create_contact=Choice.YES),
            ),
            "create_contact",
            Choice.YES,
            "the lead has no first or last name to make a contact from",
        ),
        (
            lambda: plan(
                make_lead(company="", name=PersonName()),
                request=QualifyRequest(create_opportunity=Choice.YES),
            ),
            "create_opportunity",
            Choice.YES,
            "an opportunity needs a customer: include an account or a contact",
        ),
        (
            lambda: plan(
                make_lead(company=""), request=QualifyRequest(customer=CustomerChoice.ACCOUNT)
            ),
            "customer",
            CustomerChoice.ACCOUNT,
            "the qualification has no account",
        ),
        (
            lambda: plan(
                make_lead(),
                request=QualifyRequest(create_contact=Choice.NO, customer=CustomerChoice.CONTACT),
            ),
            "customer",
            CustomerChoice.CONTACT,
            "the qualification has no contact",
        ),
        (
            lambda: plan(make_lead(), request=QualifyRequest(link_contact=ContactId("C-7"))),
            "link_contact",
            ContactId("C-7"),
            "the contact to link was not supplied",
        ),
        (
            lambda: plan(make_lead(), linked=LinkedRecords(contact=ADA)),
            "linked.contact",
            ContactId("C-7"),
            "is not the contact this qualification links (None)",
        ),
        (
            lambda: plan(
                make_lead(),
                request=QualifyRequest(link_account=AccountId("A-1")),
                linked=LinkedRecords(account=ACME),
            ),
            "linked.account",
            AccountId("A-7"),
            "is not the account this qualification links (A-1)",
        ),
        (
            lambda: plan(
                make_lead(),
                request=QualifyRequest(link_opportunity=WON.id),
                linked=LinkedRecords(opportunity=WON),
            ),
            "link_opportunity",
            WON.id,
            "is won: only an open opportunity is linked",
        ),
        (
            lambda: plan(make_lead(), duplicates=["C-1"]),
            "duplicates",
            "C-1",
            "must be DuplicateCandidate values",
        ),
        (
            lambda: plan(make_lead(), CLOSED_REGISTRY, QualifyRequest(currency="JPY")),
            "currency",
            "JPY",
            "not a currency of this organisation (EUR, SEK, USD)",
        ),
        (
            lambda: plan_qualification(
                make_lead(), AUTO, QualifyRequest(), ids=IDS, at=datetime(2026, 3, 1), by=BOB
            ),
            "at",
            datetime(2026, 3, 1),
            "must be timezone-aware (a naive datetime is refused)",
        ),
    ],
    ids=[
        "open reason",
        "disqualification yes opportunity",
        "disqualification links an opportunity",
        "account without company",
        "contact without name",
        "opportunity without customer",
        "customer account missing",
        "customer contact missing",
        "link not supplied",
        "linked record not linked",
        "linked record not the target",
        "closed opportunity",
        "not a candidate",
        "currency outside the registry",
        "naive time",
    ],
)
def test_a_plan_that_cannot_be_made_is_refused_naming_field_value_and_reason(
    build: Callable[[], object], field: str, value: object, reason: str
) -> None:
    assert _refused(build) == (field, value, reason)


def test_a_closed_lead_is_refused_naming_its_state_and_the_one_asked() -> None:
    lead = make_lead().disqualify(StatusReason.LOST, at=T0, by=ANN)
    with pytest.raises(IllegalTransition) as error:
        plan(lead, reason=StatusReason.CANNOT_CONTACT)
    assert (error.value.lead_id, error.value.current, error.value.requested) == (
        LeadId("L-1"),
        LeadState.DISQUALIFIED,
        LeadState.DISQUALIFIED,
    )
    with pytest.raises(IllegalTransition) as error:
        plan(lead)
    assert (error.value.current, error.value.requested) == (
        LeadState.DISQUALIFIED,
        LeadState.QUALIFIED,
    )


def test_a_prospect_disqualification_is_refused_naming_the_linked_opportunity() -> None:
    lead = reactivated(OpportunityId("O-1"))
    with pytest.raises(OpportunityLinked) as error:
        plan(lead, DISQUALIFY, reason=StatusReason.LOST)
    assert (error.value.lead_id, error.value.opportunity_id) == (
        LeadId("L-1"),
        OpportunityId("O-1"),
    )


def test_a_disqualification_the_policy_does_not_allow_says_so() -> None:
    with pytest.raises(DomainRuleViolation) as error:
        plan(make_lead(), reason=StatusReason.LOST)
    assert type(error.value) is DomainRuleViolation
    assert str(error.value) == (
        "the qualification policy does not let a disqualification create records"
    )


def test_a_qualifying_opportunity_does_not_stop_a_qualification() -> None:
    lead = reactivated(OpportunityId("O-1"))
    assert plan(lead, request=QualifyRequest(create_opportunity=Choice.NO)).opportunity is None


# Exact questions, notes and times ----------------------------------------------------------

ONLY_CONTACT = QualifyRequest(create_account=Choice.NO, create_opportunity=Choice.NO)


def test_prompt_mode_asks_exact_questions_with_their_choices_and_suggestions() -> None:
    result = plan(make_lead(), PROMPT)
    assert [(q.text, q.choices, q.suggestion) for q in result.questions] == [
        ("Create an account for Acme AB?", ("yes", "no"), "yes"),
        ("Create a contact for Dr. Ada Lovelace?", ("yes", "no"), "yes"),
        ("Create an opportunity for Coffee machines for 12 offices?", ("yes", "no"), "yes"),
        (
            "Is the opportunity's customer the account or the contact?",
            ("account", "contact"),
            "account",
        ),
    ]


@pytest.mark.parametrize(("only_listed", "choices"), [(False, ()), (True, ("EUR", "SEK", "USD"))])
def test_the_currency_question_lists_the_codes_of_a_closed_registry_only(
    only_listed: bool, choices: tuple[str, ...]
) -> None:
    registry = attrs.evolve(REGISTRY, only_listed=only_listed)
    policy = attrs.evolve(PROMPT, currencies=registry)
    request = QualifyRequest(create_account=Choice.NO, create_contact=Choice.YES)
    request = attrs.evolve(request, create_opportunity=Choice.YES)
    result = plan(make_lead(budget_amount=None), policy, request)
    assert [(q.kind, q.text, q.choices, q.suggestion) for q in result.questions] == [
        (QuestionKind.CURRENCY, "Which currency should the opportunity use?", choices, "EUR")
    ]


def test_a_lead_currency_listed_in_a_closed_registry_is_used() -> None:
    closed = QualificationPolicy(
        currencies=CurrencyRegistry("EUR", {"SEK": Decimal("10")}, only_listed=True)
    )
    result = plan(make_lead(), closed)
    assert result.opportunity is not None
    assert result.opportunity.record.currency == "SEK"


def test_a_customer_asked_for_as_the_account_is_the_account() -> None:
    result = plan(make_lead(), PROMPT, QualifyRequest(customer=CustomerChoice.ACCOUNT))
    assert QuestionKind.CUSTOMER not in [q.kind for q in result.questions]
    assert result.opportunity is not None
    assert result.opportunity.record.customer == IDS.account


def test_created_records_are_stamped_with_the_planning_time() -> None:
    for step in plan(make_lead()).steps():
        assert (step.record.created_at, step.record.modified_at) == (AT, AT)


def test_a_filled_linked_record_is_stamped_and_an_unchanged_one_is_not() -> None:
    lead = stored(make_lead().link_contact(ADA, at=T0, by=ANN))
    filled = plan(lead, request=ONLY_CONTACT, linked=LinkedRecords(contact=ADA)).contact
    assert filled is not None
    assert filled.record.modified_at == AT
    assert filled.filled == (
        "name.salutation",
        "name.first",
        "company",
        "business_phone",
        "email",
        "address",
        "source",
        "owner",
        "notes_from_lead",
    )


def test_link_carry_over_points_a_linked_record_to_the_lead_once() -> None:
    lead = stored(make_lead().link_contact(ADA, at=T0, by=ANN))
    linked = plan(lead, request=ONLY_CONTACT, linked=LinkedRecords(contact=ADA)).contact
    assert linked is not None
    assert linked.record.notes_from_lead == LeadId("L-1")
    pointed = attrs.evolve(ADA, notes_from_lead=LeadId("L-0"))
    again = plan(lead, request=ONLY_CONTACT, linked=LinkedRecords(contact=pointed)).contact
    assert again is not None
    assert again.record.notes_from_lead == LeadId("L-0")
    assert "notes_from_lead" not in again.filled


def test_copy_carry_over_of_a_lead_without_notes_fills_no_notes() -> None:
    policy = attrs.evolve(AUTO, notes=NotesCarryOver.COPY)
    lead = stored(make_lead().link_contact(ADA, at=T0, by=ANN))
    result = plan(lead, policy, ONLY_CONTACT, linked=LinkedRecords(contact=ADA))
    assert result.contact is not None
    assert result.contact.record.notes == ()
    assert "notes" not in result.contact.filled


def test_none_carry_over_leaves_a_linked_record_s_notes_alone() -> None:
    policy = attrs.evolve(AUTO, notes=NotesCarryOver.NONE)
    lead = stored(noted_lead().link_contact(ADA, at=T0, by=ANN))
    result = plan(lead, policy, ONLY_CONTACT, linked=LinkedRecords(contact=ADA))
    assert result.contact is not None
    assert (result.contact.record.notes, result.contact.record.notes_from_lead) == ((), None)
    assert not {"notes", "notes_from_lead"} & set(result.contact.filled)


def test_an_opportunity_is_named_from_the_full_name_else_from_the_lead_id() -> None:
    by_name = plan(make_lead(topic="", company=""))
    assert by_name.opportunity is not None
    assert by_name.opportunity.record.name == "Dr. Ada Lovelace"
    nameless = make_lead(topic="", company="", name=PersonName())
    request = QualifyRequest(link_account=ACME.id)
    result = plan(nameless, request=request, linked=LinkedRecords(account=ACME))
    assert result.opportunity is not None
    assert result.opportunity.record.name == "Lead L-1"


@pytest.mark.parametrize(
    "name", [PersonName(first="Ada"), PersonName(last="Lovelace")], ids=["first", "last"]
)
def test_a_first_or_a_last_name_alone_makes_a_contact(name: PersonName) -> None:
    result = plan(make_lead(name=name))
    assert result.contact is not None
    assert result.contact.record.name == name


def test_each_candidate_counts_once_and_lead_candidates_are_passed_over() -> None:
    other_lead = DuplicateCandidate("lead", "L-2")
    result = plan(make_lead(), duplicates=[other_lead, SAME_EMAIL, SAME_COMPANY, SAME_EMAIL])
    assert result.candidates == (SAME_EMAIL, SAME_COMPANY)
    assert result.unresolved == (SAME_EMAIL, SAME_COMPANY)


def test_copied_notes_are_numbered_from_one_on_the_records_created() -> None:
    lead = noted_lead().add_note("Call back in May", at=T0 + timedelta(minutes=2), by=ANN)
    lead = lead.remove_note(1, at=T0 + timedelta(minutes=3), by=ANN)
    assert [n.id for n in lead.notes] == [2, 3]
    policy = attrs.evolve(AUTO, notes=NotesCarryOver.COPY)
    for step in plan(lead, policy).steps():
        assert [(n.id, n.text) for n in step.record.notes] == [
            (1, "Wants a pilot"),
            (2, "Call back in May"),
        ]


def test_a_linked_account_lists_exactly_what_it_fills() -> None:
    lead = stored(make_lead().link_account(ACME, at=T0, by=ANN))
    result = plan(lead, linked=LinkedRecords(account=ACME))
    assert result.account is not None
    assert result.account.filled == (
        "website",
        "business_phone",
        "address",
        "owner",
        "primary_contact",
        "notes_from_lead",
    )


OPEN_DEAL = Opportunity(
    id=OpportunityId("O-1"), name="Old deal", customer=ACME.id, currency="EUR", version=5
)


def test_a_linked_opportunity_gets_only_the_notes_carried_over() -> None:
    lead = reactivated(OPEN_DEAL.id)
    result = plan(lead, linked=LinkedRecords(opportunity=OPEN_DEAL))
    assert result.opportunity is not None
    assert result.opportunity.action is StepAction.LINK
    assert result.opportunity.filled == ("notes_from_lead",)
    assert result.opportunity.record == attrs.evolve(
        OPEN_DEAL, notes_from_lead=LeadId("L-1"), modified_at=AT
    )
    none = attrs.evolve(AUTO, notes=NotesCarryOver.NONE)
    unchanged = plan(lead, none, linked=LinkedRecords(opportunity=OPEN_DEAL)).opportunity
    assert unchanged is not None
    assert (unchanged.record, unchanged.filled) == (OPEN_DEAL, ())


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"topic": ""}, "Dr. Ada Lovelace"),
        ({"topic": "", "name": PersonName()}, "Acme AB"),
    ],
)
def test_the_opportunity_question_names_the_topic_else_the_person_else_the_company(
    fields: dict[str, Any], named: str
) -> None:
    result = plan(make_lead(**fields), PROMPT)
    texts = [q.text for q in result.questions if q.kind is QuestionKind.CREATE_OPPORTUNITY]
    assert texts == [f"Create an opportunity for {named}?"]


def test_prompt_mode_asks_nothing_about_records_refused() -> None:
    request = QualifyRequest(
        create_account=Choice.NO, create_contact=Choice.NO, create_opportunity=Choice.NO
    )
    result = plan(make_lead(), PROMPT, request)
    assert (result.questions, result.steps()) == ((), ())


@pytest.mark.parametrize(
    ("request_", "field", "value", "kind"),
    [
        (QualifyRequest(link_account=AccountId("A-1")), "link_account", "A-1", "account"),
        (
            QualifyRequest(link_opportunity=OpportunityId("O-1")),
            "link_opportunity",
            "O-1",
            "opportunity",
        ),
    ],
)
def test_every_link_the_request_names_must_be_supplied(
    request_: QualifyRequest, field: str, value: str, kind: str
) -> None:
    refused = _refused(lambda: plan(make_lead(), request=request_))
    assert (refused[0], str(refused[1]), refused[2]) == (
        field,
        value,
        f"the {kind} to link was not supplied",
    )


def test_an_inherited_account_or_opportunity_that_is_gone_is_created_again() -> None:
    lead = make_lead().link_account(ACME, at=T0, by=ANN)
    lead = reactivated(OPEN_DEAL.id, lead)
    result = plan(lead)
    assert result.created == (RecordKind.ACCOUNT, RecordKind.CONTACT, RecordKind.OPPORTUNITY)
    assert (result.account_id, result.opportunity_id) == (IDS.account, IDS.opportunity)


def test_prompt_mode_does_not_ask_about_a_linked_account() -> None:
    lead = stored(make_lead().link_account(ACME, at=T0, by=ANN))
    result = plan(lead, PROMPT, linked=LinkedRecords(account=ACME))
    assert [q.kind for q in result.questions] == [
        QuestionKind.CREATE_CONTACT,
        QuestionKind.CREATE_OPPORTUNITY,
        QuestionKind.CUSTOMER,
    ]


def test_the_new_account_and_opportunity_point_to_the_linked_contact() -> None:
    lead = stored(make_lead().link_contact(ADA, at=T0, by=ANN))
    result = plan(lead, linked=LinkedRecords(contact=ADA))
    assert result.account is not None
    assert result.opportunity is not None
    assert result.account.record.primary_contact == ADA.id
    assert (result.opportunity.record.customer, result.opportunity.record.contact) == (
        IDS.account,
        ADA.id,
    )
