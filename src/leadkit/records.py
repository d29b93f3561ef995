"""The records qualification creates: ``Account``, ``Contact`` and ``Opportunity``.

They are frozen and versioned like the lead. ``Account`` and ``Contact`` fit the
:class:`~leadkit.lead.ExistingAccount` / :class:`~leadkit.lead.ExistingContact` protocols, so a
stored one can be linked to a lead and autofill it.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import attrs

from leadkit.errors import InvalidValue
from leadkit.fields import LeadSource, PurchaseProcess, PurchaseTimeframe
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
    currency_exponent,
)

__all__ = ["Account", "Contact", "Opportunity", "OpportunityState"]


def _check_text(record: object, field: str, limit: int, *, required: bool = False) -> None:
    value = getattr(record, field)
    if not isinstance(value, str):
        raise InvalidValue(field, value, "must be text")
    text = value.strip()
    if required and not text:
        raise InvalidValue(field, value, "is required")
    if len(text) > limit:
        raise InvalidValue(field, value, f"longer than {limit} characters")
    object.__setattr__(record, field, text)


@attrs.frozen(kw_only=True)
class Account:
    """A company. Raises InvalidValue for an empty name or over-long text."""

    id: AccountId
    name: str
    website: Url | None = None
    business_phone: PhoneNumber | None = None
    address: Address = Address()
    owner: UserRef | None = None
    originating_lead: LeadId | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        _check_text(self, "name", 160, required=True)


@attrs.frozen(kw_only=True)
class Contact:
    """A person, optionally working for an account.

    Raises InvalidValue for a name with neither first nor last part, or over-long text.
    """

    id: ContactId
    name: PersonName
    job_title: str = ""
    business_phone: PhoneNumber | None = None
    mobile_phone: PhoneNumber | None = None
    email: EmailAddress | None = None
    address: Address = Address()
    account_id: AccountId | None = None
    source: LeadSource | None = None
    owner: UserRef | None = None
    originating_lead: LeadId | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not (self.name.first or self.name.last):
            raise InvalidValue("name", self.name, "a contact needs a first or last name")
        _check_text(self, "job_title", 100)


class OpportunityState(Enum):
    """Open, Won or Lost (Dynamics 365 ``statecode`` 0, 1, 2)."""

    OPEN = 0
    WON = 1
    LOST = 2


@attrs.frozen(kw_only=True)
class Opportunity:
    """A potential sale, named from the lead's topic; the customer is an account or contact.

    Raises InvalidValue for an empty name, an unknown currency, or amounts in another
    currency than ``currency``.
    """

    id: OpportunityId
    name: str
    customer: AccountId | ContactId
    currency: str
    estimated_value: Money | None = None
    budget_amount: Money | None = None
    estimated_close_date: date | None = None
    purchase_timeframe: PurchaseTimeframe | None = None
    purchase_process: PurchaseProcess | None = None
    source: LeadSource | None = None
    description: str = ""
    owner: UserRef | None = None
    originating_lead: LeadId | None = None
    state: OpportunityState = OpportunityState.OPEN
    version: int = 0

    def __attrs_post_init__(self) -> None:
        _check_text(self, "name", 300, required=True)
        _check_text(self, "description", 2000)
        if not isinstance(self.customer, AccountId | ContactId):
            raise InvalidValue("customer", self.customer, "must be an AccountId or ContactId")
        if not isinstance(self.currency, str):
            raise InvalidValue("currency", self.currency, "must be an ISO 4217 code")
        object.__setattr__(self, "currency", self.currency.strip().upper())
        currency_exponent(self.currency)
        for field in ("estimated_value", "budget_amount"):
            money = getattr(self, field)
            if money is not None and money.currency != self.currency:
                raise InvalidValue(
                    field, money, f"must be in the opportunity currency {self.currency}"
                )
