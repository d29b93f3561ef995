"""Hypothesis strategies for lead patches, the records qualification links (accounts,
contacts, opportunities, :class:`LinkedRecords`) and lead queries.

Part of :mod:`leadkit.testing.strategies`, which re-exports every public name here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from leadkit.fields import Budget, LeadSource, Need, PurchaseProcess, PurchaseTimeframe, Rating
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort
from leadkit.records import Account, Contact, Opportunity, OpportunityState
from leadkit.status import LeadState
from leadkit.testing.value_strategies import (
    CURRENCIES,
    T,
    _cached,
    _optional,
    _text,
    account_ids,
    addresses,
    aware_datetimes,
    contact_ids,
    custom_fields,
    email_addresses,
    lead_ids,
    money,
    opportunity_ids,
    person_names,
    phone_numbers,
    urls,
    user_refs,
)
from leadkit.values import AccountId, ContactId

__all__ = [
    "LinkedRecords",
    "accounts",
    "contacts",
    "lead_patches",
    "lead_queries",
    "linked_records",
    "opportunities",
]

# ---------------------------------------------------------------------------------------------
# Patches, records, events


@_cached
def lead_patches(required: bool = True) -> SearchStrategy[LeadPatch]:
    """Patches whose values fit :data:`leadkit.profiles.DEFAULT_PROFILE`.

    With ``required=True`` the patch always sets a topic (1-300 characters) and a name with a
    last name (1-40), so ``Lead.create`` accepts it; with ``required=False`` every field may be
    left UNSET (a topic or name, when set, is still valid), so ``Lead.update`` of a valid lead
    with it is accepted too. Optional fields are sometimes set to None/"" (cleared).
    """
    must: dict[str, SearchStrategy[Any]] = {
        "topic": _text(1, 300),
        "name": person_names(last_required=True),
    }
    optional: dict[str, SearchStrategy[Any]] = {
        "job_title": _text(0, 100),
        "company": _text(0, 100),
        "business_phone": _optional(phone_numbers()),
        "mobile_phone": _optional(phone_numbers()),
        "email": _optional(email_addresses()),
        "website": _optional(urls()),
        "address": addresses(),
        "source": _optional(st.sampled_from(LeadSource)),
        "initiated_by": _text(0, 60),
        "rating": _optional(st.sampled_from(Rating)),
        "budget_amount": _optional(money()),
        "budget": _optional(st.sampled_from(Budget)),
        "need": _optional(st.sampled_from(Need)),
        "purchase_timeframe": _optional(st.sampled_from(PurchaseTimeframe)),
        "purchase_process": _optional(st.sampled_from(PurchaseProcess)),
        "description": _text(0, 300),
        "estimated_value": _optional(money()),
        "estimated_close_date": _optional(st.dates(date(2000, 1, 1), date(2100, 12, 31))),
        "custom_fields": custom_fields(),
    }
    if not required:
        optional = {**must, **optional}
        must = {}
    return st.fixed_dictionaries(must, optional=optional).map(LeadPatch.from_mapping)


@_cached
def accounts() -> SearchStrategy[Account]:
    """Existing accounts whose name (1-100 characters) fits a lead's company field."""
    return st.builds(
        Account,
        id=account_ids(),
        name=_text(1, 100),
        website=_optional(urls()),
        business_phone=_optional(phone_numbers()),
    )


@_cached
def contacts() -> SearchStrategy[Contact]:
    """Existing contacts whose details fit a lead's fields (first name at most 30 characters,
    so autofilling it keeps a lead's full name within 160)."""
    names = person_names(last_required=True) | person_names(first_required=True)
    return st.builds(
        Contact,
        id=contact_ids(),
        name=names,
        job_title=_text(0, 100),
        business_phone=_optional(phone_numbers()),
        mobile_phone=_optional(phone_numbers()),
        email=_optional(email_addresses()),
    )


@_cached
def opportunities(
    customers: SearchStrategy[AccountId | ContactId] | None = None,
) -> SearchStrategy[Opportunity]:
    """Opportunities as qualification makes them: a name of 1-300 characters, a customer
    (an account or a contact id, or drawn from ``customers``), amounts in the opportunity's
    own currency, and sometimes the contact to talk to and the originating lead."""
    return st.sampled_from(CURRENCIES).flatmap(
        lambda currency: st.builds(
            Opportunity,
            id=opportunity_ids(),
            name=_text(1, 300),
            customer=customers if customers is not None else account_ids() | contact_ids(),
            currency=st.just(currency),
            estimated_value=_optional(money(currency)),
            budget_amount=_optional(money(currency)),
            budget=_optional(st.sampled_from(Budget)),
            need=_optional(st.sampled_from(Need)),
            estimated_close_date=_optional(st.dates(date(2000, 1, 1), date(2100, 12, 31))),
            purchase_timeframe=_optional(st.sampled_from(PurchaseTimeframe)),
            purchase_process=_optional(st.sampled_from(PurchaseProcess)),
            source=_optional(st.sampled_from(LeadSource)),
            description=_text(0, 300),
            contact=_optional(contact_ids()),
            owner=_optional(user_refs()),
            originating_lead=_optional(lead_ids()),
            state=st.sampled_from(OpportunityState),
        )
    )


@attrs.frozen
class LinkedRecords:
    """Accounts, contacts and opportunities that refer only to each other: every contact's
    account, every account's primary contact and every opportunity's customer and contact is
    one of the records here (or none), so a store can hold them all without dangling links."""

    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]
    opportunities: tuple[Opportunity, ...]


@_cached
@st.composite
def linked_records(draw: st.DrawFn, max_size: int = 5) -> LinkedRecords:
    """:class:`LinkedRecords`: up to ``max_size`` accounts and contacts with valid links
    between them, and up to ``max_size`` opportunities of those customers."""
    firms = draw(st.lists(accounts(), max_size=max_size, unique_by=lambda a: a.id))
    people = draw(st.lists(contacts(), max_size=max_size, unique_by=lambda c: c.id))
    firm_ids = [a.id for a in firms]
    people_ids = [c.id for c in people]
    people = [
        attrs.evolve(c, account_id=draw(_optional(st.sampled_from(firm_ids)))) if firm_ids else c
        for c in people
    ]
    firms = [
        attrs.evolve(a, primary_contact=draw(_optional(st.sampled_from(people_ids))))
        if people_ids
        else a
        for a in firms
    ]
    deals: list[Opportunity] = []
    customers: list[AccountId | ContactId] = [*firm_ids, *people_ids]
    if customers:
        deals = draw(
            st.lists(
                opportunities(st.sampled_from(customers)),
                max_size=max_size,
                unique_by=lambda o: o.id,
            )
        )
        deals = [
            attrs.evolve(d, contact=draw(st.sampled_from(people_ids)) if people_ids else None)
            for d in deals
        ]
    return LinkedRecords(tuple(firms), tuple(people), tuple(deals))


@_cached
@st.composite
def lead_queries(draw: st.DrawFn) -> LeadQuery:
    """Valid :class:`~leadkit.ports.LeadQuery` values: any mix of filters (states, reasons,
    owner, an owner set, ratings, sources, half-open date ranges with ``from <= to``, text,
    an inclusive score range with ``min <= max``), a sort key and a direction."""

    def maybe(strategy: SearchStrategy[T]) -> T | None:
        return draw(_optional(strategy))

    def span() -> tuple[datetime | None, datetime | None]:
        low, high = maybe(aware_datetimes()), maybe(aware_datetimes())
        if low is not None and high is not None and low > high:
            low, high = high, low
        return low, high

    created, modified = span(), span()
    score_min = maybe(st.decimals(min_value=0, max_value=100, places=2))
    score_max = maybe(st.decimals(min_value=0, max_value=100, places=2))
    if score_min is not None and score_max is not None and score_min > score_max:
        score_min, score_max = score_max, score_min
    return LeadQuery(
        states=maybe(st.frozensets(st.sampled_from(LeadState), min_size=1)),
        reason_codes=maybe(st.frozensets(st.integers(0, 12), min_size=1)),
        owner_id=maybe(user_refs().map(lambda u: u.id)),
        owner_ids=maybe(st.frozensets(user_refs().map(lambda u: u.id), max_size=3)),
        ratings=maybe(st.frozensets(st.sampled_from(Rating), min_size=1)),
        sources=maybe(st.frozensets(st.sampled_from(LeadSource), min_size=1)),
        created_from=created[0],
        created_to=created[1],
        modified_from=modified[0],
        modified_to=modified[1],
        text=maybe(_text(1, 20).filter(bool)),
        score_min=score_min,
        score_max=score_max,
        sort=draw(st.sampled_from(LeadSort)),
        descending=draw(st.booleans()),
    )
