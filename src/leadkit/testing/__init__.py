"""Testing kit: hypothesis strategies for every leadkit value, event and lead, and clocks.

Importing ``leadkit.testing`` imports hypothesis (install ``leadkit[testing]``); plain
``import leadkit`` never does. With leadkit installed, hypothesis also learns the strategies
through its plugin entry point, so ``st.from_type(Lead)`` and ``st.builds(...)`` with leadkit
types work without importing this package.

    >>> from leadkit.testing import StepClock, leads
    >>> from leadkit import LeadState
    >>> strategy = leads(state=LeadState.QUALIFIED)
"""

from __future__ import annotations

from leadkit.testing.clocks import FixedClock, StepClock
from leadkit.testing.strategies import (
    CURRENCIES,
    Command,
    LinkedRecords,
    account_ids,
    accounts,
    activities,
    addresses,
    aware_datetimes,
    contact_ids,
    contacts,
    custom_fields,
    custom_values,
    email_addresses,
    lead_events,
    lead_histories,
    lead_ids,
    lead_patches,
    lead_queries,
    leads,
    linked_records,
    money,
    notes,
    notes_attachments,
    opportunities,
    opportunity_ids,
    option_values,
    person_names,
    phone_numbers,
    stakeholder_roles,
    stakeholders,
    status_reasons,
    urls,
    user_refs,
)

__all__ = [
    "CURRENCIES",
    "Command",
    "FixedClock",
    "LinkedRecords",
    "StepClock",
    "account_ids",
    "accounts",
    "activities",
    "addresses",
    "aware_datetimes",
    "contact_ids",
    "contacts",
    "custom_fields",
    "custom_values",
    "email_addresses",
    "lead_events",
    "lead_histories",
    "lead_ids",
    "lead_patches",
    "lead_queries",
    "leads",
    "linked_records",
    "money",
    "notes",
    "notes_attachments",
    "opportunities",
    "opportunity_ids",
    "option_values",
    "person_names",
    "phone_numbers",
    "stakeholder_roles",
    "stakeholders",
    "status_reasons",
    "urls",
    "user_refs",
]
