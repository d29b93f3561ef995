"""The records qualification creates: ``Account``, ``Contact`` and ``Opportunity``.

They are frozen and versioned like the lead. ``Account`` and ``Contact`` fit the
:class:`~leadkit.lead.ExistingAccount` / :class:`~leadkit.lead.ExistingContact` protocols, so a
stored one can be linked to a lead and autofill it.

Every record may carry notes of its own (``notes``; the COPY carry-over copies a lead's notes
here) and may show the notes of one lead on its timeline without copying them
(``notes_from_lead``; the LINK carry-over, the default). :func:`record_notes` lists both.
``originating_lead`` names the lead a record was created from (provenance, set once);
``created_at`` / ``modified_at`` are ``None`` on records built by hand. A contact or account
merged into another (:mod:`leadkit.record_merging`) keeps ``merged_into`` naming the master: it
stays readable, inactive, until the merge is undone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

import attrs

from leadkit.errors import InvalidValue
from leadkit.fields import Budget, LeadSource, Need, PurchaseProcess, PurchaseTimeframe
from leadkit.timeline import Note
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
    require_aware,
)

if TYPE_CHECKING:
    from leadkit.lead import Lead

__all__ = [
    "Account",
    "Contact",
    "Opportunity",
    "OpportunityState",
    "Record",
    "append_notes",
    "record_notes",
]


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


def _email(value: EmailAddress | str | None) -> EmailAddress | None:
    return EmailAddress(value) if isinstance(value, str) else value


def _url(value: Url | str | None) -> Url | None:
    return Url(value) if isinstance(value, str) else value


def _phone(value: PhoneNumber | str | None) -> PhoneNumber | None:
    """Text must carry a country code ("+46 8 123 456 78"); build a PhoneNumber with a region
    to read a national number."""
    return PhoneNumber(value) if isinstance(value, str) else value


def _check_common(record: Account | Contact | Opportunity) -> None:
    """Checks shared by the three records: notes are notes, timestamps are aware."""
    notes = record.notes
    if not isinstance(notes, tuple) or not all(isinstance(n, Note) for n in notes):
        raise InvalidValue("notes", notes, "must be a tuple of Note values")
    for field in ("created_at", "modified_at"):
        value = getattr(record, field)
        if value is not None:
            require_aware(field, value)


@attrs.frozen(kw_only=True)
class Account:
    """A company. The website, phone and e-mail may be given as text.

    Raises InvalidValue for an empty name, over-long text or a malformed website, phone or
    e-mail address.
    """

    id: AccountId
    name: str
    website: Url | None = attrs.field(default=None, converter=_url)
    business_phone: PhoneNumber | None = attrs.field(default=None, converter=_phone)
    email: EmailAddress | None = attrs.field(default=None, converter=_email)
    address: Address = Address()
    description: str = ""
    primary_contact: ContactId | None = None
    owner: UserRef | None = None
    originating_lead: LeadId | None = None
    notes: tuple[Note, ...] = ()
    notes_from_lead: LeadId | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    merged_into: AccountId | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        _check_text(self, "name", 160, required=True)
        _check_text(self, "description", 2000)
        _check_common(self)


@attrs.frozen(kw_only=True)
class Contact:
    """A person, optionally working for an account (``account_id``).

    ``company`` keeps the company name as text, so a contact made without an account (an
    Outlook BCM business contact) does not lose it. Phones and e-mail may be given as text.
    Raises InvalidValue for a name with neither first nor last part, over-long text or a
    malformed phone or e-mail address.
    """

    id: ContactId
    name: PersonName
    job_title: str = ""
    company: str = ""
    business_phone: PhoneNumber | None = attrs.field(default=None, converter=_phone)
    mobile_phone: PhoneNumber | None = attrs.field(default=None, converter=_phone)
    email: EmailAddress | None = attrs.field(default=None, converter=_email)
    address: Address = Address()
    description: str = ""
    account_id: AccountId | None = None
    source: LeadSource | None = None
    owner: UserRef | None = None
    originating_lead: LeadId | None = None
    notes: tuple[Note, ...] = ()
    notes_from_lead: LeadId | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    merged_into: ContactId | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if not (self.name.first or self.name.last):
            raise InvalidValue("name", self.name, "a contact needs a first or last name")
        _check_text(self, "job_title", 100)
        _check_text(self, "company", 160)
        _check_text(self, "description", 2000)
        _check_common(self)


class OpportunityState(Enum):
    """Open, Won or Lost (Dynamics 365 ``statecode`` 0, 1, 2)."""

    OPEN = 0
    WON = 1
    LOST = 2


@attrs.frozen(kw_only=True)
class Opportunity:
    """A potential sale, named from the lead's topic; the customer is an account or contact.

    ``contact`` is the person to talk to when the customer is an account (Dynamics 365's
    parent contact). Raises InvalidValue for an empty name, an unknown currency, or amounts
    in another currency than ``currency``.
    """

    id: OpportunityId
    name: str
    customer: AccountId | ContactId
    currency: str
    estimated_value: Money | None = None
    budget_amount: Money | None = None
    budget: Budget | None = None
    need: Need | None = None
    estimated_close_date: date | None = None
    purchase_timeframe: PurchaseTimeframe | None = None
    purchase_process: PurchaseProcess | None = None
    source: LeadSource | None = None
    description: str = ""
    contact: ContactId | None = None
    owner: UserRef | None = None
    originating_lead: LeadId | None = None
    state: OpportunityState = OpportunityState.OPEN
    notes: tuple[Note, ...] = ()
    notes_from_lead: LeadId | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        _check_text(self, "name", 300, required=True)
        _check_text(self, "description", 2000)
        _check_common(self)
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


Record = Account | Contact | Opportunity
"""Any of the three records a qualification creates or links."""

R = TypeVar("R", Account, Contact, Opportunity)


def _note_key(note: Note) -> tuple[object, ...]:
    return (note.at, note.by, note.title, note.text, note.attachment)


def append_notes(record: R, notes: Iterable[Note]) -> R:
    """``record`` with ``notes`` appended, renumbered after its last note.

    A note already on the record (same time, author, title, text and attachment) is skipped,
    so copying a lead's notes twice adds nothing the second time. Returns ``record`` itself
    when nothing is added.
    """
    seen = {_note_key(n) for n in record.notes}
    next_id = max((n.id for n in record.notes), default=0)
    added: list[Note] = []
    for note in notes:
        key = _note_key(note)
        if key in seen:
            continue
        seen.add(key)
        next_id += 1
        added.append(attrs.evolve(note, id=next_id))
    if not added:
        return record
    return attrs.evolve(record, notes=(*record.notes, *added))


def record_notes(record: Record, lead: Lead | None) -> tuple[Note, ...]:
    """The notes a record's timeline shows, oldest first: its own notes and, when
    ``record.notes_from_lead`` names ``lead``, that lead's notes (the LINK carry-over: the
    notes stay owned by the lead and nothing is copied). Pass the lead named by
    ``notes_from_lead`` (or ``None`` if it is gone); another lead adds nothing.
    """
    own: list[Note] = list(record.notes)
    if lead is not None and record.notes_from_lead == lead.id:
        own.extend(lead.notes)
    return tuple(sorted(own, key=lambda n: (n.at, n.id)))
