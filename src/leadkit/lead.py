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
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Protocol

import attrs

from leadkit import events as _events
from leadkit.errors import (
    IllegalTransition,
    InvalidValue,
    LeadClosed,
    LeadMerged,
    OpportunityLinked,
)
from leadkit.events import (
    ActivityCompleted,
    ActivityLogged,
    CriterionTicked,
    CriterionUnticked,
    ExistingAccountLinked,
    ExistingAccountUnlinked,
    ExistingContactLinked,
    ExistingContactUnlinked,
    LeadAssigned,
    LeadCreated,
    LeadDisqualified,
    LeadEvent,
    LeadMergedInto,
    LeadQualified,
    LeadRated,
    LeadReactivated,
    LeadScored,
    LeadsMerged,
    LeadUnmerged,
    LeadUpdated,
    ManualScoreCleared,
    ManualScoreSet,
    NoteAdded,
    NoteEdited,
    NoteRemoved,
    OpportunityRelated,
    OpportunityUnlinked,
    StakeholderAdded,
    StakeholderRemoved,
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
from leadkit.patch import PATCH_FIELDS, UNSET, LeadPatch
from leadkit.profiles import DEFAULT_PROFILE, FieldProfile, is_blank, profile_named
from leadkit.scoring.result import ManualScore, Score, check_slug
from leadkit.status import LeadState, StatusReason, can_transition
from leadkit.timeline import (
    Activity,
    ActivityKind,
    Attachment,
    Note,
    Stakeholder,
    StakeholderRole,
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
class Lead:
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
        lead = _apply(None, event)
        profile.check(lead)
        return attrs.evolve(lead, pending_events=(event,))

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
    # Commands: timeline

    def add_note(
        self,
        text: str,
        *,
        at: datetime,
        by: UserRef,
        title: str = "",
        attachment: Attachment | None = None,
    ) -> Lead:
        """Add a note (allowed on closed leads too: the timeline is append-only).

        The note gets the next timeline number. Raises InvalidValue for an empty note, an
        over-long text or title, or a naive ``at``.
        """
        self._require_not_merged("add a note to")
        note = Note(
            id=self.timeline_seq + 1, text=text, at=at, by=by, title=title, attachment=attachment
        )
        return self._record(NoteAdded(lead_id=self.id, at=at, by=by, note=note))

    def edit_note(
        self,
        note_id: int,
        *,
        at: datetime,
        by: UserRef,
        text: str | None = None,
        title: str | None = None,
        attachment: Attachment | Any | None = UNSET,
    ) -> Lead:
        """Change a note's text, title or attachment (pass ``attachment=None`` to drop it).

        Raises LeadClosed on a closed lead, InvalidValue for an unknown note or a bad value.
        """
        self._require_open("edit note")
        note = self.note(note_id)
        new_attachment = note.attachment if attachment is UNSET else attachment
        edited = attrs.evolve(
            note,
            text=note.text if text is None else text,
            title=note.title if title is None else title,
            attachment=new_attachment,
        )
        if edited == note:
            return self
        return self._record(
            NoteEdited(
                lead_id=self.id,
                at=at,
                by=by,
                note_id=note_id,
                title=edited.title,
                text=edited.text,
                attachment=edited.attachment,
                previous_title=note.title,
                previous_text=note.text,
                previous_attachment=note.attachment,
            )
        )

    def remove_note(self, note_id: int, *, at: datetime, by: UserRef) -> Lead:
        """Remove a note with its attachment metadata. Raises LeadClosed on a closed lead,
        InvalidValue for an unknown note."""
        self._require_open("remove note")
        self.note(note_id)
        return self._record(NoteRemoved(lead_id=self.id, at=at, by=by, note_id=note_id))

    def log_activity(
        self,
        kind: ActivityKind,
        subject: str,
        *,
        at: datetime,
        by: UserRef,
        description: str = "",
        due_at: datetime | None = None,
        done_at: datetime | None = None,
    ) -> Lead:
        """Log a phone call, e-mail, meeting or task (allowed on closed leads too).

        Raises InvalidValue for an empty subject, a bad kind or a naive timestamp.
        """
        self._require_not_merged("log an activity on")
        activity = Activity(
            id=self.timeline_seq + 1,
            kind=kind,
            subject=subject,
            at=at,
            by=by,
            description=description,
            due_at=due_at,
            done_at=done_at,
        )
        return self._record(ActivityLogged(lead_id=self.id, at=at, by=by, activity=activity))

    def complete_activity(
        self, activity_id: int, *, at: datetime, by: UserRef, done_at: datetime | None = None
    ) -> Lead:
        """Mark an activity done at ``done_at`` (default ``at``); allowed on closed leads.

        Raises InvalidValue for an unknown activity or one already done.
        """
        self._require_not_merged("complete an activity of")
        activity = self.activity(activity_id)
        if activity.is_done:
            raise InvalidValue("activity_id", activity_id, "the activity is already done")
        done = require_aware("done_at", done_at if done_at is not None else at)
        return self._record(
            ActivityCompleted(lead_id=self.id, at=at, by=by, activity_id=activity_id, done_at=done)
        )

    def add_stakeholder(
        self,
        contact_id: ContactId,
        role: StakeholderRole = StakeholderRole.STAKEHOLDER,
        *,
        at: datetime,
        by: UserRef,
    ) -> Lead:
        """Add a contact as a stakeholder with a role. Raises LeadClosed on a closed lead and
        InvalidValue when the contact already has that role."""
        self._require_open("add stakeholder")
        stakeholder = Stakeholder(contact_id, role)
        if stakeholder in self.stakeholders:
            raise InvalidValue(
                "stakeholders", stakeholder, f"{contact_id} is already a {role} of this lead"
            )
        return self._record(
            StakeholderAdded(lead_id=self.id, at=at, by=by, stakeholder=stakeholder)
        )

    def remove_stakeholder(
        self,
        contact_id: ContactId,
        role: StakeholderRole = StakeholderRole.STAKEHOLDER,
        *,
        at: datetime,
        by: UserRef,
    ) -> Lead:
        """Remove a stakeholder. Raises LeadClosed on a closed lead and InvalidValue when the
        contact does not have that role."""
        self._require_open("remove stakeholder")
        stakeholder = Stakeholder(contact_id, role)
        if stakeholder not in self.stakeholders:
            raise InvalidValue(
                "stakeholders", stakeholder, f"{contact_id} is not a {role} of this lead"
            )
        return self._record(
            StakeholderRemoved(lead_id=self.id, at=at, by=by, stakeholder=stakeholder)
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
    # Commands: scoring

    def tick_criterion(self, criterion_id: str, *, at: datetime, by: UserRef) -> Lead:
        """Tick a manual scoring criterion (an Outlook BCM check box). Ticking one already
        ticked changes nothing. The lead does not know the models: an id no model has is kept
        and ignored when scoring.

        Raises LeadClosed on a closed lead and InvalidValue for a malformed id.
        """
        self._require_open("tick criterion")
        check_slug("criterion_id", criterion_id)
        if criterion_id in self.ticked_criteria:
            return self
        return self._record(
            CriterionTicked(lead_id=self.id, at=at, by=by, criterion_id=criterion_id)
        )

    def untick_criterion(self, criterion_id: str, *, at: datetime, by: UserRef) -> Lead:
        """Untick a manual scoring criterion; one not ticked changes nothing.

        Raises LeadClosed on a closed lead and InvalidValue for a malformed id.
        """
        self._require_open("untick criterion")
        check_slug("criterion_id", criterion_id)
        if criterion_id not in self.ticked_criteria:
            return self
        return self._record(
            CriterionUnticked(lead_id=self.id, at=at, by=by, criterion_id=criterion_id)
        )

    def set_manual_score(
        self,
        stars: int,
        *,
        at: datetime,
        by: UserRef,
        reason: str = "",
        expires_at: datetime | None = None,
    ) -> Lead:
        """Set the lead's stars by hand (BCM "score type: manual"), by ``by`` at ``at``.

        The override wins over computed scores until cleared or, with ``expires_at``, until
        a score is computed at or after that time. Setting the same stars, reason and expiry
        again changes nothing. Raises LeadClosed on a closed lead and InvalidValue for stars
        outside 0-10, a naive time or an expiry not after ``at``.
        """
        self._require_open("set manual score")
        manual = ManualScore(stars=stars, author=by, at=at, reason=reason, expires_at=expires_at)
        current = self.manual_score
        if current is not None and (
            (current.stars, current.reason, current.expires_at, current.author)
            == (manual.stars, manual.reason, manual.expires_at, manual.author)
        ):
            return self
        return self._record(
            ManualScoreSet(lead_id=self.id, at=at, by=by, manual=manual, previous=current)
        )

    def clear_manual_score(self, *, at: datetime, by: UserRef) -> Lead:
        """Clear the manual score so computed scores decide again; none set changes nothing.

        Raises LeadClosed on a closed lead.
        """
        self._require_open("clear manual score")
        if self.manual_score is None:
            return self
        return self._record(
            ManualScoreCleared(lead_id=self.id, at=at, by=by, previous=self.manual_score)
        )

    def record_score(self, score: Score, *, at: datetime, by: UserRef) -> Lead:
        """Record a score computed by ``leadkit.scoring`` (a ``LeadScored`` event).

        Allowed on closed leads (a score is derived data) and leaves ``modified_at`` alone.
        A score equal to the stored one (value, stars, rating, model and version) changes
        nothing. Raises InvalidValue for a score of another lead.
        """
        if score.lead_id != self.id:
            raise InvalidValue("score.lead_id", score.lead_id, f"not a score of lead {self.id}")
        stored = (
            self.score,
            self.stars,
            self.score_rating,
            self.score_model,
            self.score_model_version,
        )
        if stored == (score.value, score.stars, score.rating, score.model_id, score.model_version):
            return self
        return self._record(
            LeadScored(lead_id=self.id, at=at, by=by, score=score, previous=self.score)
        )

    # -----------------------------------------------------------------------------------------
    # Commands: merging (see ``leadkit.merging``: build these from a MergePlan)

    def absorb(
        self,
        merge_id: MergeId,
        merged: tuple[LeadId, ...],
        changed: LeadPatch,
        *,
        at: datetime,
        by: UserRef,
        ticked_criteria: frozenset[str],
        manual_score: ManualScore | None,
        notes: tuple[Note, ...] = (),
        activities: tuple[Activity, ...] = (),
        stakeholders: tuple[Stakeholder, ...] = (),
        before: tuple[Lead, ...] = (),
    ) -> Lead:
        """Take the surviving values and the moved children of the leads ``merged`` into this
        one (the master of a merge). Allowed on a closed master: the merge policy decides.

        Raises LeadMerged when this lead was itself merged into another, InvalidValue when a
        moved note or activity does not follow this lead's timeline numbering.
        """
        self._require_not_merged("merge into")
        numbers = [note.id for note in notes] + [activity.id for activity in activities]
        if sorted(numbers) != list(
            range(self.timeline_seq + 1, self.timeline_seq + 1 + len(numbers))
        ):
            raise InvalidValue("notes", numbers, "moved entries must follow the timeline numbering")
        return self._record(
            LeadsMerged(
                lead_id=self.id,
                at=at,
                by=by,
                merge_id=merge_id,
                merged=merged,
                changed=changed,
                ticked_criteria=ticked_criteria,
                manual_score=manual_score,
                notes=notes,
                activities=activities,
                stakeholders=stakeholders,
                before=tuple(lead.clear_events() for lead in before),
            )
        )

    def merge_into(
        self, master_id: LeadId, merge_id: MergeId, *, at: datetime, by: UserRef
    ) -> Lead:
        """Deactivate this lead as merged into ``master_id``: Disqualified, reason Canceled,
        ``merged_into`` set; its notes, activities and stakeholders leave it (the master's
        ``absorb`` takes them).

        Raises LeadMerged when the lead was already merged, InvalidValue when ``master_id``
        is the lead itself.
        """
        self._require_not_merged("merge")
        if master_id == self.id:
            raise InvalidValue("master_id", master_id, "a lead cannot be merged into itself")
        return self._record(
            LeadMergedInto(
                lead_id=self.id,
                at=at,
                by=by,
                merge_id=merge_id,
                master_id=master_id,
                previous_state=self.state,
                previous=self.reason,
            )
        )

    def restore(self, merge_id: MergeId, restored: Lead, *, at: datetime, by: UserRef) -> Lead:
        """Undo a merge on this lead: every field takes its value from ``restored`` (built by
        ``leadkit.merging.plan_unmerge``); ``version`` stays the stored one.

        Raises InvalidValue when ``restored`` is another lead's image.
        """
        if restored.id != self.id:
            raise InvalidValue("restored", restored.id, f"not an image of lead {self.id}")
        return self._record(
            LeadUnmerged(
                lead_id=self.id, at=at, by=by, merge_id=merge_id, restored=restored.clear_events()
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

    def clear_events(self) -> Lead:
        """The same lead with no pending events (what a repository returns after storing)."""
        return attrs.evolve(self, pending_events=())

    def _require_open(self, action: str) -> None:
        if self.state.is_closed:
            raise LeadClosed(self.id, self.state, action)

    def _profile(self, given: FieldProfile | None) -> FieldProfile:
        """``given``, else the profile the lead was created under."""
        return profile_named(self.profile) if given is None else given

    def _require_not_merged(self, action: str) -> None:
        if self.merged_into is not None:
            raise LeadMerged(self.id, self.merged_into, action)

    def _require_transition(self, requested: LeadState) -> None:
        if not can_transition(self.state, requested):
            raise IllegalTransition(self.id, self.state, requested)

    def _record(self, event: LeadEvent, profile: FieldProfile | None = None) -> Lead:
        changed = _apply(self, event)
        if profile is not None:
            profile.check(changed)
        return attrs.evolve(changed, pending_events=(*self.pending_events, event))


def _apply(lead: Lead | None, event: LeadEvent) -> Lead:
    """The state after ``event``; the single place where lead state changes."""
    require_aware("at", event.at)
    if isinstance(event, LeadCreated):
        if lead is not None:
            raise InvalidValue("events", event, "LeadCreated must be the first event")
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
    if lead is None:
        raise InvalidValue("events", event, "the first event must be LeadCreated")
    if isinstance(event, LeadUnmerged):
        image = event.restored
        return attrs.evolve(
            lead,
            **{name: getattr(image, name) for name in _IMAGE_FIELDS},
        )
    if isinstance(event, LeadScored):
        # Derived data, not an edit: the lead's modified time stays.
        score = event.score
        return attrs.evolve(
            lead,
            score=score.value,
            stars=score.stars,
            score_rating=score.rating,
            score_model=score.model_id,
            score_model_version=score.model_version,
        )
    touched: dict[str, Any] = {"modified_at": event.at, "modified_by": event.by}
    match event:
        case LeadUpdated(after=after):
            touched.update(after.as_dict())
        case LeadRated(rating=rating):
            touched["rating"] = rating
        case ExistingAccountLinked(account_id=account_id, filled=filled):
            touched.update(filled.as_dict(), existing_account=account_id)
        case ExistingAccountUnlinked():
            touched["existing_account"] = None
        case ExistingContactLinked(contact_id=contact_id, filled=filled):
            touched.update(filled.as_dict(), existing_contact=contact_id)
        case ExistingContactUnlinked():
            touched["existing_contact"] = None
        case NoteAdded(note=note):
            touched.update(notes=(*lead.notes, note), timeline_seq=max(lead.timeline_seq, note.id))
        case NoteEdited():
            touched["notes"] = tuple(
                attrs.evolve(
                    n,
                    title=event.title,
                    text=event.text,
                    attachment=event.attachment,
                    edited_at=event.at,
                    edited_by=event.by,
                )
                if n.id == event.note_id
                else n
                for n in lead.notes
            )
        case NoteRemoved(note_id=note_id):
            touched["notes"] = tuple(n for n in lead.notes if n.id != note_id)
        case ActivityLogged(activity=activity):
            touched.update(
                activities=(*lead.activities, activity),
                timeline_seq=max(lead.timeline_seq, activity.id),
            )
        case ActivityCompleted(activity_id=activity_id, done_at=done_at):
            touched["activities"] = tuple(
                attrs.evolve(a, done_at=done_at) if a.id == activity_id else a
                for a in lead.activities
            )
        case StakeholderAdded(stakeholder=stakeholder):
            touched["stakeholders"] = (*lead.stakeholders, stakeholder)
        case StakeholderRemoved(stakeholder=stakeholder):
            touched["stakeholders"] = tuple(s for s in lead.stakeholders if s != stakeholder)
        case LeadAssigned(owner=owner):
            touched["owner"] = owner
        case StatusReasonChanged(reason=reason):
            touched["reason"] = reason
        case LeadDisqualified(reason=reason):
            touched.update(state=LeadState.DISQUALIFIED, reason=reason)
        case LeadQualified():
            touched.update(
                state=LeadState.QUALIFIED,
                reason=event.reason,
                # A re-qualification that creates nothing keeps the earlier references.
                qualified_account=event.account_id or lead.qualified_account,
                qualified_contact=event.contact_id or lead.qualified_contact,
                qualifying_opportunity=event.opportunity_id or lead.qualifying_opportunity,
            )
        case LeadReactivated(reason=reason):
            touched.update(state=LeadState.OPEN, reason=reason)
        case OpportunityRelated(opportunity_id=opportunity_id):
            touched["qualifying_opportunity"] = opportunity_id
        case LeadsMerged():
            entries = [n.id for n in event.notes] + [a.id for a in event.activities]
            touched.update(
                event.changed.as_dict(),
                ticked_criteria=event.ticked_criteria,
                manual_score=event.manual_score,
                notes=(*lead.notes, *event.notes),
                activities=(*lead.activities, *event.activities),
                stakeholders=(*lead.stakeholders, *event.stakeholders),
                timeline_seq=max((lead.timeline_seq, *entries)),
            )
        case LeadMergedInto():
            touched.update(
                state=LeadState.DISQUALIFIED,
                reason=StatusReason.CANCELED,
                merged_into=event.master_id,
                merge_id=event.merge_id,
                notes=(),
                activities=(),
                stakeholders=(),
            )
        case OpportunityUnlinked():
            touched["qualifying_opportunity"] = None
        case CriterionTicked(criterion_id=criterion_id):
            touched["ticked_criteria"] = lead.ticked_criteria | {criterion_id}
        case CriterionUnticked(criterion_id=criterion_id):
            touched["ticked_criteria"] = lead.ticked_criteria - {criterion_id}
        case ManualScoreSet(manual=manual):
            touched["manual_score"] = manual
        case ManualScoreCleared():
            touched["manual_score"] = None
        case _:
            raise InvalidValue("events", event, f"unknown event type {type(event).__name__}")
    return attrs.evolve(lead, **touched)


_IMAGE_FIELDS: Final = tuple(
    a.name for a in attrs.fields(Lead) if a.name not in ("id", "version", "pending_events")
)
"""The fields an unmerge restores from a lead's image."""

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
        lead = _apply(lead, event) if lead is None else lead.apply(event)
    if lead is None:
        raise InvalidValue("events", (), "an empty history rebuilds nothing")
    return lead
