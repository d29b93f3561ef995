"""The testing kit's strategies: every public type can be drawn, leads can be steered (owner,
state, score, ids) and spread over the three states, records link only to each other."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit import (
    Account,
    AccountId,
    Contact,
    Lead,
    LeadId,
    LeadQuery,
    LeadState,
    Opportunity,
    UserRef,
)
from leadkit.testing import (
    LinkedRecords,
    lead_queries,
    leads,
    linked_records,
    opportunities,
)

ANNA = UserRef("anna", "Anna")


@given(st.from_type(Opportunity), st.from_type(Account), st.from_type(Contact))
def test_from_type_draws_every_record_type(
    opportunity: Opportunity, account: Account, contact: Contact
) -> None:
    assert opportunity.name
    for money in (opportunity.estimated_value, opportunity.budget_amount):
        assert money is None or money.currency == opportunity.currency
    assert account.name
    assert contact.name.full


@given(st.from_type(LeadQuery), st.from_type(Lead))
def test_from_type_draws_queries_any_lead_can_be_matched_against(
    query: LeadQuery, lead: Lead
) -> None:
    assert query.matches(lead) in (True, False)


@given(lead_queries())
def test_drawn_queries_have_ordered_ranges(query: LeadQuery) -> None:
    for low, high in (
        (query.created_from, query.created_to),
        (query.modified_from, query.modified_to),
        (query.score_min, query.score_max),
    ):
        assert low is None or high is None or low <= high  # type: ignore[operator]


def test_leads_without_a_state_spread_evenly_over_the_three_states() -> None:
    seen: Counter[LeadState] = Counter()

    # Derandomized: hypothesis runs no input twice, and short Open histories repeat more often,
    # so a random run could count Open below its share now and then; a fixed seed cannot.
    @settings(
        max_examples=150,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(leads())
    def draw(lead: Lead) -> None:
        seen[lead.state] += 1

    draw()
    total = sum(seen.values())
    # Each state a third in expectation; below a sixth would be the old 80 % Open skew.
    assert all(seen[state] >= total / 6 for state in LeadState), seen


@given(leads(owner=ANNA, scored=True, ids=st.just(LeadId("L-1"))))
def test_leads_can_be_steered_by_owner_score_and_id(lead: Lead) -> None:
    assert lead.owner == ANNA
    assert lead.score is not None
    assert lead.id == LeadId("L-1")


@given(leads(state=LeadState.QUALIFIED, scored=False))
def test_leads_can_be_asked_for_without_a_score(lead: Lead) -> None:
    assert lead.state is LeadState.QUALIFIED
    assert lead.score is None


@given(linked_records())
def test_linked_records_refer_only_to_each_other(records: LinkedRecords) -> None:
    accounts = {a.id for a in records.accounts}
    contacts = {c.id for c in records.contacts}
    assert all(c.account_id is None or c.account_id in accounts for c in records.contacts)
    assert all(a.primary_contact is None or a.primary_contact in contacts for a in records.accounts)
    for deal in records.opportunities:
        assert deal.customer in accounts | contacts
        assert deal.contact is None or deal.contact in contacts


@given(opportunities(st.just(AccountId("A-1"))))
def test_opportunities_take_their_customers_from_the_given_strategy(deal: Opportunity) -> None:
    assert deal.customer == AccountId("A-1")
