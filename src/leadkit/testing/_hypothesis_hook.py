"""Hypothesis plugin hook: teaches ``st.from_type`` the leadkit types.

Hypothesis calls :func:`_hypothesis_setup_hook` through the ``hypothesis`` entry point that
leadkit's ``pyproject.toml`` declares, when hypothesis is imported. The strategies are
registered deferred, so nothing is built until a test first draws from them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Register a strategy for ``Lead``, every value type and every event type."""
    from hypothesis import strategies as st

    from leadkit.events import EVENT_TYPES, LeadEvent
    from leadkit.fields import CustomFields, OptionValue
    from leadkit.lead import Lead
    from leadkit.patch import LeadPatch
    from leadkit.records import Account, Contact
    from leadkit.status import StatusReason
    from leadkit.testing import strategies as s
    from leadkit.timeline import Activity, Attachment, Note, Stakeholder, StakeholderRole
    from leadkit.values import (
        AccountId,
        Address,
        ContactId,
        EmailAddress,
        LeadId,
        Money,
        OpportunityId,
        PersonName,
        PhoneNumber,
        Url,
        UserRef,
    )

    table: dict[type[Any], Callable[[], SearchStrategy[Any]]] = {
        Lead: s.leads,
        LeadPatch: s.lead_patches,
        LeadId: s.lead_ids,
        AccountId: s.account_ids,
        ContactId: s.contact_ids,
        OpportunityId: s.opportunity_ids,
        UserRef: s.user_refs,
        EmailAddress: s.email_addresses,
        PhoneNumber: s.phone_numbers,
        Money: s.money,
        PersonName: s.person_names,
        Address: s.addresses,
        Url: s.urls,
        CustomFields: s.custom_fields,
        OptionValue: s.option_values,
        Attachment: s.notes_attachments,
        StakeholderRole: s.stakeholder_roles,
        Stakeholder: s.stakeholders,
        Note: s.notes,
        Activity: s.activities,
        StatusReason: s.status_reasons,
        Account: s.accounts,
        Contact: s.contacts,
        LeadEvent: s.lead_events,
    }
    for kind, make in table.items():
        st.register_type_strategy(kind, _deferred(make))
    for event_type in EVENT_TYPES.values():
        st.register_type_strategy(event_type, _deferred(partial(s.lead_events, event_type)))


def _deferred(make: Callable[[], SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """A strategy built on first use (``st.deferred`` wants a plain function)."""
    from hypothesis import strategies as st

    def build() -> SearchStrategy[Any]:
        return make()

    return st.deferred(build)
