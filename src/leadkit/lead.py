"""The ``Lead`` aggregate: fields, commands, the lifecycle rules and ``replay``.

Every command validates, builds one event and applies it: the returned lead is a new value
whose ``pending_events`` gained that event. Applying an event is the only way state changes,
so :func:`replay` rebuilds exactly the lead the commands produced.

Closed leads (Qualified, Disqualified) are read-only: every command raises
:class:`LeadClosed` except ``reactivate`` and the append-only timeline commands
(``add_note``, ``log_activity``, ``complete_activity``). A closed lead's history may keep
growing (a call logged after the deal was lost), but nothing already recorded on it changes.

Scoring (``leadkit.scoring``): ticking criteria and setting or clearing a manual score are
edits, refused on closed leads. ``record_score`` is allowed on closed leads too: a score is
derived data (the model's verdict on the recorded fields), so rescoring every lead when a
model changes keeps reports over closed leads right; it does not change ``modified_at``.

The class is assembled from parts (private modules, one per seam): the timeline, scoring and
merge commands are mixins (``_lead_timeline``, ``_lead_scoring``, ``_lead_merging`` over
``_lead_base``), and how each event changes a lead is a table of small appliers
(``_lead_apply``); this module keeps the fields, creation, queries, the field and lifecycle
commands, ``_apply`` and ``replay``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Protocol, Self, TypeVar

import attrs

from leadkit import events as _events
from leadkit._lead_apply import DERIVED, EDITS, applier_for
from leadkit._lead_merging import MergingCommands
from leadkit._lead_scoring import ScoringCommands
from leadkit._lead_timeline import TimelineCommands
from leadkit.errors import (
    IllegalTransition,
    InvalidValue,
    OpportunityLinked,
)
from leadkit.events import (
    ExistingAccountLinked,
    ExistingAccountUnlinked,
    ExistingContactLinked,
    ExistingContactUnlinked,
    LeadAssigned,
    LeadCreated,
    LeadDisqualified,
    LeadEvent,
    LeadQualified,
    LeadRated,
    LeadReactivated,
    LeadsMerged,
    LeadUnmerged,
    LeadUpdated,
    OpportunityRelated,
    OpportunityUnlinked,
    StatusReasonChanged,
)
from leadkit.fields import (
    Budget,
    CustomFields,
    LeadSource,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.profiles import DEFAULT_PROFILE, FieldProfile, is_blank, profile_named
from leadkit.scoring.result import ManualScore
from leadkit.status import LeadState, StatusReason, can_transition
from leadkit.timeline import (
    Activity,
    Note,
    Stakeholder,
)
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    LeadId,
    MergeId,
    Money,
    OpportunityId,
    PersonName,
    PhoneNumber,
    Url,
    UserRef,
    require_aware,
)

__all__ = [
    "AUTOFILL_FROM_CONTACT",
    "ExistingAccount",
    "ExistingContact",
    "Lead",
    "replay",
]

AUTOFILL_FROM_CONTACT: Final = (
    "name.first",
    "name.last",
    "job_title",
    "business_phone",
    "mobile_phone",
    "email",
)
"""The lead fields that linking an existing contact fills when they are empty."""


class ExistingAccount(Protocol):
    """What autofill reads from an existing account (``conversion.Account`` fits)."""

    @property
    def id(self) -> AccountId: ...

    @property
    def name(self) -> str: ...


class ExistingContact(Protocol):
    """What autofill reads from an existing contact (``conversion.Contact`` fits)."""

    @property
    def id(self) -> ContactId: ...

    @property
    def name(self) -> PersonName: ...

    @property
    def job_title(self) -> str: ...

    @property
    def business_phone(self) -> PhoneNumber | None: ...

    @property
    def mobile_phone(self) -> PhoneNumber | None: ...

    @property
    def email(self) -> EmailAddress | None: ...


@attrs.frozen(kw_only=True)
class Lead(TimelineCommands, ScoringCommands, MergingCommands):
    """A sales lead: the Dynamics 365 / Outlook BCM field set, its timeline and its state.

    Build one with :meth:`Lead.create`; change it only through its commands, each of which
    returns a new lead. ``version`` is the stored version (the repository bumps it);
    ``pending_events`` are the events not stored yet and take no part in equality.

    Scoring state: ``ticked_criteria`` holds the ids of the manual criteria a user ticked,
    ``manual_score`` a user's star override; ``score``, ``stars``, ``score_rating``,
    ``score_model`` and ``score_model_version`` summarise the last recorded score (the
    ``LeadScored`` event holds it in full, with its explanation).

    Merging (``leadkit.merging``): a lead merged into another is Disqualified with the
    reason Canceled, as Dynamics 365 deactivates a merged lead, and names its master in
    ``merged_into`` (D365 ``masterid``) and the merge in ``merge_id``. It stays readable;
    its notes, activities and stakeholders moved to the master. Commands that reopen it or
    add to its timeline raise LeadMerged: ``unmerge`` is the way back.
    """

    id: LeadId
    topic: str = ""
    name: PersonName = PersonName()
    job_title: str = ""
    company: str = ""
    business_phone: PhoneNumber | None = None
    mobile_phone: PhoneNumber | None = None
    email: EmailAddress | None = None
    website: Url | None = None
    address: Address = Address()
    source: LeadSource | None = None
    initiated_by: str = ""
    rating: Rating | None = None
    budget_amount: Money | None = None
    budget: Budget | None = None
    need: Need | None = None
    purchase_timeframe: PurchaseTimeframe | None = None
    purchase_process: PurchaseProcess | None = None
    description: str = ""
    estimated_value: Money | None = None
    estimated_close_date: date | None = None
    custom_fields: CustomFields = CustomFields()
    profile: str = DEFAULT_PROFILE.name

    owner: UserRef
    existing_account: AccountId | None = None
    existing_contact: ContactId | None = None
    stakeholders: tuple[Stakeholder, ...] = ()
    notes: tuple[Note, ...] = ()
    activities: tuple[Activity, ...] = ()
    timeline_seq: int = 0

    state: LeadState = LeadState.OPEN
    reason: StatusReason = StatusReason.NEW
    qualified_account: AccountId | None = None
    qualified_contact: ContactId | None = None
    qualifying_opportunity: OpportunityId | None = None
    merged_into: LeadId | None = None
    merge_id: MergeId | None = None

    ticked_criteria: frozenset[str] = frozenset()
    manual_score: ManualScore | None = None
    score: Decimal | None = None
    stars: int | None = None
    score_rating: Rating | None = None
    score_model: str | None = None
    score_model_version: int | None = None

    created_at: datetime
    created_by: UserRef
    modified_at: datetime
    modified_by: UserRef
    version: int = 0
    pending_events: tuple[LeadEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    # -----------------------------------------------------------------------------------------
    # Creation

    @classmethod
    def create(
        cls,
        lead_id: LeadId,
        fields: LeadPatch,
        *,
        at: datetime,
        by: UserRef,
        owner: UserRef | None = None,
        reason: StatusReason = StatusReason.NEW,
        profile: FieldProfile = DEFAULT_PROFILE,
    ) -> Lead:
        """Create an Open lead from ``fields``, owned by ``owner`` (default: ``by``).

        The lead keeps the name of ``profile`` (``Lead.profile``): ``update``,
        ``link_account`` and ``link_contact`` check the same profile unless given another.
        Raises InvalidValue listing every field the profile finds missing or too long, for a
        naive ``at``, for an initial reason that is not an Open reason, or for an argument of
        the wrong type (naming it).
        """
        for name, value, kind in (
            ("lead_id", lead_id, LeadId),
            ("fields", fields, LeadPatch),
            ("by", by, UserRef),
            ("reason", reason, StatusReason),
        ):
            if not isinstance(value, kind):
                raise InvalidValue(name, value, f"must be a {kind.__name__}")
        if owner is not None and not isinstance(owner, UserRef):
            raise InvalidValue("owner", owner, "must be a UserRef or None")
        require_aware("at", at)
        if reason.state is not LeadState.OPEN:
            raise InvalidValue("reason", reason, "a new lead needs an Open reason")
        if not isinstance(profile, FieldProfile):
            raise InvalidValue("profile", profile, "must be a FieldProfile")
        event = LeadCreated(
            lead_id=lead_id,
            at=at,
            by=by,
            fields=fields,
            owner=owner or by,
            reason=reason,
            profile=profile.name,
        )
        lead = _created(event)
        profile.check(lead)
        # The lead was just built here and is not shared, and Lead's __init__ only stores its
        # arguments (fastcodec.trivial_init): setting the slot is attrs.evolve without a copy.
        object.__setattr__(lead, "pending_events", (event,))
        return lead

    # -----------------------------------------------------------------------------------------
    # Queries

    @property
    def is_open(self) -> bool:
        """True while the lead is Open (editable)."""
        return self.state is LeadState.OPEN

    @property
    def is_closed(self) -> bool:
        """True when Qualified or Disqualified (read-only)."""
        return self.state.is_closed

    @property
    def is_merged(self) -> bool:
        """True when the lead was merged into another (``merged_into`` names it)."""
        return self.merged_into is not None

    @property
    def full_name(self) -> str:
        """The lead's full name ("Dr. Ada Lovelace")."""
        return self.name.full

    def can_disqualify(self) -> bool:
        """True when ``disqualify`` would be accepted (given a disqualification reason)."""
        return self.is_open and self.qualifying_opportunity is None

    def can_qualify(self) -> bool:
        """True when ``mark_qualified`` would be accepted."""
        return self.is_open

    def can_reactivate(self) -> bool:
        """True when ``reactivate`` would be accepted."""
        return self.is_closed

    def note(self, note_id: int) -> Note:
        """The note numbered ``note_id``. Raises InvalidValue if there is none."""
        for note in self.notes:
            if note.id == note_id:
                return note
        raise InvalidValue("note_id", note_id, f"lead {self.id} has no such note")

    def activity(self, activity_id: int) -> Activity:
        """The activity numbered ``activity_id``. Raises InvalidValue if there is none."""
        for activity in self.activities:
            if activity.id == activity_id:
                return activity
        raise InvalidValue("activity_id", activity_id, f"lead {self.id} has no such activity")

    def timeline(self) -> tuple[Note | Activity, ...]:
        """Notes and activities, oldest first (ties keep the order they were recorded in)."""
        entries: list[Note | Activity] = [*self.notes, *self.activities]
        return tuple(sorted(entries, key=lambda e: (e.at, e.id)))

    def patch_values(self) -> LeadPatch:
        """A patch holding every editable field's current value."""
        return LeadPatch(**{name: getattr(self, name) for name in PATCH_FIELDS})

    # -----------------------------------------------------------------------------------------
    # Commands: editable fields

    def update(
        self,
        patch: LeadPatch,
        *,
        at: datetime,
        by: UserRef,
        profile: FieldProfile | None = None,
    ) -> Lead:
        """Change editable fields. A patch that changes nothing returns the lead unchanged.

        ``profile`` defaults to the profile the lead was created under (``Lead.profile``; a
        host's own profile, which the lead knows only by name, falls back to the Dynamics 365
        column lengths: pass it to check its required fields). Raises LeadClosed on a closed
        lead; InvalidValue listing every field the profile finds missing or too long (nothing
        is changed then).
        """
        self._require_open("update")
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for name, value in patch.items():
            old = getattr(self, name)
            if old != value:
                before[name] = old
                after[name] = value
        if not after:
            return self
        event = LeadUpdated(
            lead_id=self.id, at=at, by=by, before=LeadPatch(**before), after=LeadPatch(**after)
        )
        return self._record(event, self._profile(profile))

    def rate(self, rating: Rating | None, *, at: datetime, by: UserRef) -> Lead:
        """Set (or clear) the rating. Raises LeadClosed on a closed lead."""
        self._require_open("rate")
        rating = LeadPatch(rating=rating).rating  # type: ignore[assignment]
        if rating == self.rating:
            return self
        return self._record(
            LeadRated(lead_id=self.id, at=at, by=by, rating=rating, previous=self.rating)
        )

    def link_account(
        self,
        account: ExistingAccount,
        *,
        at: datetime,
        by: UserRef,
        profile: FieldProfile | None = None,
    ) -> Lead:
        """Link an existing account; autofill copies its name into an empty company field.

        A company the user typed is never overwritten. Raises LeadClosed on a closed lead and
        InvalidValue when the filled value breaks the profile (default: the lead's own).
        """
        self._require_open("link account")
        filled = (
            LeadPatch(company=account.name)
            if is_blank(self.company) and account.name
            else LeadPatch()
        )
        event = ExistingAccountLinked(
            lead_id=self.id, at=at, by=by, account_id=account.id, filled=filled
        )
        return self._record(event, self._profile(profile))

    def unlink_account(self, *, at: datetime, by: UserRef) -> Lead:
        """Remove the existing-account link; values it filled stay. Raises LeadClosed, or
        InvalidValue if no account is linked."""
        self._require_open("unlink account")
        if self.existing_account is None:
            raise InvalidValue("existing_account", None, "no account is linked")
        return self._record(
            ExistingAccountUnlinked(lead_id=self.id, at=at, by=by, account_id=self.existing_account)
        )

    def link_contact(
        self,
        contact: ExistingContact,
        *,
        at: datetime,
        by: UserRef,
        profile: FieldProfile | None = None,
    ) -> Lead:
        """Link an existing contact; autofill fills the lead's empty first and last name, job
        title, business phone, mobile phone and e-mail from it, never a value the user typed.

        The event records exactly what was filled. Raises LeadClosed on a closed lead and
        InvalidValue when a filled value breaks the profile (default: the lead's own).
        """
        self._require_open("link contact")
        fill: dict[str, Any] = {}
        first = self.name.first or contact.name.first
        last = self.name.last or contact.name.last
        if (first, last) != (self.name.first, self.name.last):
            fill["name"] = attrs.evolve(self.name, first=first, last=last)
        for name in ("job_title", "business_phone", "mobile_phone", "email"):
            theirs = getattr(contact, name)
            if is_blank(getattr(self, name)) and not is_blank(theirs):
                fill[name] = theirs
        event = ExistingContactLinked(
            lead_id=self.id, at=at, by=by, contact_id=contact.id, filled=LeadPatch(**fill)
        )
        return self._record(event, self._profile(profile))

    def unlink_contact(self, *, at: datetime, by: UserRef) -> Lead:
        """Remove the existing-contact link; values it filled stay. Raises LeadClosed, or
        InvalidValue if no contact is linked."""
        self._require_open("unlink contact")
        if self.existing_contact is None:
            raise InvalidValue("existing_contact", None, "no contact is linked")
        return self._record(
            ExistingContactUnlinked(lead_id=self.id, at=at, by=by, contact_id=self.existing_contact)
        )

    # -----------------------------------------------------------------------------------------
    # Commands: ownership and lifecycle

    def assign(self, owner: UserRef, *, at: datetime, by: UserRef, rule: str = "") -> Lead:
        """Give the lead to ``owner``; ``rule`` names an assignment rule, if one decided.

        Assigning to the current owner changes nothing. Raises LeadClosed on a closed lead.
        """
        self._require_open("assign")
        if owner == self.owner:
            return self
        return self._record(
            LeadAssigned(lead_id=self.id, at=at, by=by, owner=owner, previous=self.owner, rule=rule)
        )

    def change_reason(self, reason: StatusReason, *, at: datetime, by: UserRef) -> Lead:
        """Change the status reason within Open (New -> Contacted, or a custom Open reason).

        The same reason changes nothing. Raises LeadClosed on a closed lead and InvalidValue
        for a reason that is not an Open reason.
        """
        self._require_open("change status reason")
        if reason.state is not LeadState.OPEN:
            raise InvalidValue("reason", reason, "not an Open reason (use qualify or disqualify)")
        if reason == self.reason:
            return self
        return self._record(
            StatusReasonChanged(lead_id=self.id, at=at, by=by, reason=reason, previous=self.reason)
        )

    def mark_contacted(self, *, at: datetime, by: UserRef) -> Lead:
        """Set the reason to Contacted. Raises LeadClosed on a closed lead."""
        return self.change_reason(StatusReason.CONTACTED, at=at, by=by)

    def disqualify(self, reason: StatusReason, *, at: datetime, by: UserRef) -> Lead:
        """Close the lead as disqualified (Lost, Cannot Contact, No Longer Interested, ...).

        Raises InvalidValue for a reason that is not a disqualification reason,
        OpportunityLinked while an opportunity is linked, IllegalTransition when not Open.
        """
        if reason.state is not LeadState.DISQUALIFIED:
            raise InvalidValue("reason", reason, "not a disqualification reason")
        self._require_transition(LeadState.DISQUALIFIED)
        if self.qualifying_opportunity is not None:
            raise OpportunityLinked(self.id, self.qualifying_opportunity)
        return self._record(
            LeadDisqualified(lead_id=self.id, at=at, by=by, reason=reason, previous=self.reason)
        )

    def mark_qualified(
        self,
        *,
        at: datetime,
        by: UserRef,
        account_id: AccountId | None = None,
        contact_id: ContactId | None = None,
        opportunity_id: OpportunityId | None = None,
        reason: StatusReason = StatusReason.QUALIFIED,
    ) -> Lead:
        """Close the lead as qualified, recording the records created or linked for it.

        Raises InvalidValue for a reason that is not a Qualified reason and IllegalTransition
        when the lead is not Open.
        """
        if reason.state is not LeadState.QUALIFIED:
            raise InvalidValue("reason", reason, "not a qualification reason")
        self._require_transition(LeadState.QUALIFIED)
        return self._record(
            LeadQualified(
                lead_id=self.id,
                at=at,
                by=by,
                reason=reason,
                previous=self.reason,
                account_id=account_id,
                contact_id=contact_id,
                opportunity_id=opportunity_id,
            )
        )

    def reactivate(
        self, *, at: datetime, by: UserRef, reason: StatusReason = StatusReason.NEW
    ) -> Lead:
        """Reopen a closed lead (Open/New by default) with its notes, stakeholders and
        history intact; a qualifying opportunity stays linked.

        Raises IllegalTransition when the lead is already Open and InvalidValue for a reason
        that is not an Open reason.
        """
        if reason.state is not LeadState.OPEN:
            raise InvalidValue("reason", reason, "not an Open reason")
        self._require_not_merged("reactivate")
        self._require_transition(LeadState.OPEN)
        return self._record(
            LeadReactivated(
                lead_id=self.id,
                at=at,
                by=by,
                reason=reason,
                previous_state=self.state,
                previous=self.reason,
            )
        )

    def relate_opportunity(
        self, opportunity_id: OpportunityId, *, at: datetime, by: UserRef
    ) -> Lead:
        """Relate an existing opportunity to this open lead as its originating lead (outside
        qualification, as Dynamics 365 allows); ``unlink_opportunity`` unrelates it. While it
        is related the lead cannot be disqualified. Relating the one already related changes
        nothing.

        Raises LeadClosed on a closed lead, InvalidValue for an id that is not an
        OpportunityId or when another opportunity is already related.
        """
        self._require_open("relate opportunity")
        if not isinstance(opportunity_id, OpportunityId):
            raise InvalidValue("opportunity_id", opportunity_id, "must be an OpportunityId")
        if self.qualifying_opportunity == opportunity_id:
            return self
        if self.qualifying_opportunity is not None:
            raise InvalidValue(
                "qualifying_opportunity",
                self.qualifying_opportunity,
                "another opportunity is already related (unlink it first)",
            )
        return self._record(
            OpportunityRelated(lead_id=self.id, at=at, by=by, opportunity_id=opportunity_id)
        )

    def unlink_opportunity(self, *, at: datetime, by: UserRef) -> Lead:
        """Unlink the qualifying opportunity of a reactivated lead so it may be disqualified.

        Raises LeadClosed on a closed lead and InvalidValue if no opportunity is linked.
        """
        self._require_open("unlink opportunity")
        if self.qualifying_opportunity is None:
            raise InvalidValue("qualifying_opportunity", None, "no opportunity is linked")
        return self._record(
            OpportunityUnlinked(
                lead_id=self.id, at=at, by=by, opportunity_id=self.qualifying_opportunity
            )
        )

    # -----------------------------------------------------------------------------------------
    # Internals

    def apply(self, event: LeadEvent) -> Lead:
        """Apply a stored event without recording it (used by :func:`replay`).

        Raises InvalidValue if the event is for another lead or cannot apply.
        """
        if event.lead_id != self.id:
            raise InvalidValue(
                "lead_id", event.lead_id, f"event is for another lead than {self.id}"
            )
        return _apply(self, event)

    def clear_events(self) -> Self:
        """The same lead with no pending events (what a repository returns after storing)."""
        return attrs.evolve(self, pending_events=())

    def _profile(self, given: FieldProfile | None) -> FieldProfile:
        """``given``, else the profile the lead was created under."""
        return profile_named(self.profile) if given is None else given

    def _require_transition(self, requested: LeadState) -> None:
        if not can_transition(self.state, requested):
            raise IllegalTransition(self.id, self.state, requested)

    def _record(self, event: LeadEvent, profile: FieldProfile | None = None) -> Self:
        changed = _apply(self, event)
        if profile is not None:
            profile.check(changed)
        return attrs.evolve(changed, pending_events=(*self.pending_events, event))


_L = TypeVar("_L", bound=Lead)


def _created(event: LeadEvent) -> Lead:
    """The lead ``event`` creates: the first event of every history must be LeadCreated."""
    require_aware("at", event.at)
    if not isinstance(event, LeadCreated):
        raise InvalidValue("events", event, "the first event must be LeadCreated")
    return Lead(
        id=event.lead_id,
        owner=event.owner,
        reason=event.reason,
        profile=event.profile,
        created_at=event.at,
        created_by=event.by,
        modified_at=event.at,
        modified_by=event.by,
        **event.fields.as_dict(),  # type: ignore[arg-type]
    )


def _apply(lead: _L, event: LeadEvent) -> _L:
    """The state after ``event``; the single place where an existing lead's state changes
    (each event type's applier in ``leadkit._lead_apply`` says how)."""
    require_aware("at", event.at)
    if isinstance(event, LeadCreated):
        raise InvalidValue("events", event, "LeadCreated must be the first event")
    kind = type(event)
    derived = applier_for(DERIVED, kind)
    if derived is not None:
        return attrs.evolve(lead, **derived(lead, event))
    edit = applier_for(EDITS, kind)
    if edit is None:
        raise InvalidValue("events", event, f"unknown event type {kind.__name__}")
    touched: dict[str, Any] = {"modified_at": event.at, "modified_by": event.by}
    touched.update(edit(lead, event))
    return attrs.evolve(lead, **touched)


# ``leadkit.events`` names ``Lead`` only for type checkers (it cannot import this module):
# resolve the merge events' annotations now that ``Lead`` exists, so that converters and
# strategies read real types.
for _kind in (LeadsMerged, LeadUnmerged):
    attrs.resolve_types(_kind, globalns={**vars(_events), "_Lead": Lead})


def replay(events: Iterable[LeadEvent]) -> Lead:
    """Rebuild a lead from its events (the first must be ``LeadCreated``).

    The result equals the lead the commands produced (pending events aside, which are empty
    here). Raises InvalidValue for an empty history, one not starting with LeadCreated, or
    events of several leads.
    """
    lead: Lead | None = None
    for event in events:
        lead = _created(event) if lead is None else lead.apply(event)
    if lead is None:
        raise InvalidValue("events", (), "an empty history rebuilds nothing")
    return lead
