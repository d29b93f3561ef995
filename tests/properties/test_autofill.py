"""Autofill never overwrites a non-empty field; it fills exactly the empty ones it can."""

from __future__ import annotations

from datetime import timedelta

import attrs
from hypothesis import given

from leadkit import (
    AUTOFILL_FROM_CONTACT,
    ExistingAccountLinked,
    ExistingContactLinked,
    Lead,
    LeadPatch,
    LeadState,
    UserRef,
    field_value,
    is_blank,
)
from leadkit.records import Account, Contact
from leadkit.testing import strategies as s

# What linking may touch besides the filled fields themselves.
_BOOKKEEPING = frozenset({"modified_at", "modified_by", "existing_account", "existing_contact"})


def _unchanged_except(before: Lead, after: Lead, allowed: set[str]) -> None:
    for field in attrs.fields(Lead):
        if field.name in allowed or field.name in _BOOKKEEPING or not field.eq:
            continue
        assert getattr(after, field.name) == getattr(before, field.name), field.name


def _recorded_paths(lead: Lead, filled: LeadPatch) -> set[str]:
    """The dotted paths an event's ``filled`` patch changes on ``lead``."""
    paths = {name for name in filled.as_dict() if name != "name"}
    if "name" in filled.as_dict():
        for part in ("first", "last", "middle", "salutation", "suffix"):
            if field_value(filled, f"name.{part}") != field_value(lead, f"name.{part}"):
                paths.add(f"name.{part}")
    return paths


@given(lead=s.leads(state=LeadState.OPEN), contact=s.contacts(), by=s.user_refs())
def test_linking_a_contact_fills_only_empty_fields(
    lead: Lead, contact: Contact, by: UserRef
) -> None:
    at = lead.modified_at + timedelta(minutes=5)
    after = lead.link_contact(contact, at=at, by=by)

    expected: set[str] = set()
    for path in AUTOFILL_FROM_CONTACT:
        mine, theirs, now = (field_value(x, path) for x in (lead, contact, after))
        if not is_blank(mine):
            assert now == mine, f"{path} was typed by the user and must stay"
        elif not is_blank(theirs):
            assert now == theirs, f"{path} was empty and the contact has it"
            expected.add(path)
        else:
            assert is_blank(now), path

    event = after.pending_events[-1]
    assert isinstance(event, ExistingContactLinked)
    assert event.contact_id == contact.id == after.existing_contact
    assert _recorded_paths(lead, event.filled) == expected
    assert after.pending_events[:-1] == lead.pending_events
    _unchanged_except(lead, after, {"name", "job_title", "business_phone", "mobile_phone", "email"})
    # Parts of the name autofill does not know stay as they were.
    for part in ("salutation", "middle", "suffix"):
        assert getattr(after.name, part) == getattr(lead.name, part)


@given(lead=s.leads(state=LeadState.OPEN), contact=s.contacts(), by=s.user_refs())
def test_linking_the_same_contact_again_fills_nothing(
    lead: Lead, contact: Contact, by: UserRef
) -> None:
    at = lead.modified_at + timedelta(minutes=5)
    once = lead.link_contact(contact, at=at, by=by)
    twice = once.link_contact(contact, at=at + timedelta(minutes=1), by=by)
    event = twice.pending_events[-1]
    assert isinstance(event, ExistingContactLinked)
    assert event.filled.is_empty
    _unchanged_except(once, twice, set())


@given(lead=s.leads(state=LeadState.OPEN), account=s.accounts(), by=s.user_refs())
def test_linking_an_account_fills_only_an_empty_company(
    lead: Lead, account: Account, by: UserRef
) -> None:
    at = lead.modified_at + timedelta(minutes=5)
    after = lead.link_account(account, at=at, by=by)
    event = after.pending_events[-1]
    assert isinstance(event, ExistingAccountLinked)
    assert event.account_id == account.id == after.existing_account
    if is_blank(lead.company):
        assert after.company == account.name
        assert event.filled == LeadPatch(company=account.name)
    else:
        assert after.company == lead.company
        assert event.filled.is_empty
    _unchanged_except(lead, after, {"company"})
