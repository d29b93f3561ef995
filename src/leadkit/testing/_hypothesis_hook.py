"""Teaches ``st.from_type`` the leadkit types.

:func:`register` runs once per process: from the hypothesis entry point
(``_leadkit_hypothesis``, outside this package) when hypothesis is imported after leadkit, or
from ``import leadkit`` when hypothesis was imported first. The strategies are registered
deferred, so nothing is built until a test first draws from them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__: list[str] = []


_registered: list[bool] = []


def register() -> None:
    """Register a strategy for ``Lead``, every value type and every event type (once)."""
    if _registered:
        return
    _registered.append(True)
    from hypothesis import strategies as st

    from leadkit.events import EVENT_TYPES, LeadEvent
    from leadkit.fields import CustomFields, OptionValue
    from leadkit.lead import Lead
    from leadkit.patch import LeadPatch
    from leadkit.ports import LeadQuery
    from leadkit.records import Account, Contact, Opportunity
    from leadkit.status import StatusReason
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
        Lead: _lazy("leads"),
        LeadPatch: _lazy("lead_patches"),
        LeadId: _lazy("lead_ids"),
        AccountId: _lazy("account_ids"),
        ContactId: _lazy("contact_ids"),
        OpportunityId: _lazy("opportunity_ids"),
        UserRef: _lazy("user_refs"),
        EmailAddress: _lazy("email_addresses"),
        PhoneNumber: _lazy("phone_numbers"),
        Money: _lazy("money"),
        PersonName: _lazy("person_names"),
        Address: _lazy("addresses"),
        Url: _lazy("urls"),
        CustomFields: _lazy("custom_fields"),
        OptionValue: _lazy("option_values"),
        Attachment: _lazy("notes_attachments"),
        StakeholderRole: _lazy("stakeholder_roles"),
        Stakeholder: _lazy("stakeholders"),
        Note: _lazy("notes"),
        Activity: _lazy("activities"),
        StatusReason: _lazy("status_reasons"),
        Account: _lazy("accounts"),
        Contact: _lazy("contacts"),
        Opportunity: _lazy("opportunities"),
        LeadQuery: _lazy("lead_queries"),
        LeadEvent: _lazy("lead_events"),
    }
    for kind, make in table.items():
        st.register_type_strategy(kind, _deferred(make))
    for event_type in EVENT_TYPES.values():
        st.register_type_strategy(
            event_type, _deferred(partial(_lazy_call, "lead_events", event_type))
        )


def _deferred(make: Callable[[], SearchStrategy[Any]]) -> SearchStrategy[Any]:
    """A strategy built on first use (``st.deferred`` wants a plain function)."""
    from hypothesis import strategies as st

    def build() -> SearchStrategy[Any]:
        return make()

    return st.deferred(build)


def _lazy(name: str) -> Callable[[], SearchStrategy[Any]]:
    """``leadkit.testing.strategies.<name>``, imported only when a test first draws.

    Importing it here would re-enter ``leadkit.testing.strategies`` while it is still loading
    (it imports hypothesis, which runs this hook)."""
    return partial(_lazy_call, name)


def _lazy_call(name: str, *args: Any) -> SearchStrategy[Any]:
    from leadkit.testing import strategies

    return getattr(strategies, name)(*args)  # type: ignore[no-any-return]
