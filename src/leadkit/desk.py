"""The front door for host applications: :class:`Desk`, wired once, one call per task.

::

    desk = Desk(SqlStore.open("sqlite:///crm.db"), phone_region="SE")
    anna = desk.acting_as(UserRef("anna", "Anna Svensson"))
    lead = anna.create(topic="Coffee machines", name="Åsa Öberg", email="asa@fika.example")
    result = anna.qualify(lead.id)                      # account, contact, opportunity

A desk holds what every call would otherwise repeat: the store, the clock, the id factory,
the qualification policy, the duplicate check, the scoring model, the field profile and the
default phone region. Each method is one call of the existing services (or of a lead
command inside one unit of work): no rule lives here. Plain values are accepted where the
services want typed ones — a lead id as text, a user as its id, fields by name in the API
dialect of :mod:`leadkit.dialect` — and anything else is refused with InvalidValue naming
the argument.

Writes go through the duplicate check's store (:attr:`Desk.store`), so the check's index
stays current without the host juggling two stores. The lower-level API stays public.

This module sits at the edge: its defaults read the clock (:func:`utc_now`) and draw random
ids (:func:`uuid4_text`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import attrs

from leadkit.access import Action, AllowAll, Authorizer, Principal, allowed_scope, restrict
from leadkit.conversion import DuplicateCheck
from leadkit.desk_arguments import _activity_kind, _reason, _typed_id, _user, qualify_request
from leadkit.desk_workflows import _DeskWorkflows, _Wiring
from leadkit.dialect import parse_lead_fields
from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck, IndexingStore
from leadkit.erasure import AuditEntry, ErasureMode, ErasureReport, ErasureSubject
from leadkit.errors import ConcurrencyConflict, InvalidValue, PermissionDenied
from leadkit.guarded import AuthorizedFinder, AuthorizedStore
from leadkit.lead import Lead
from leadkit.policies import DEFAULT_POLICY, QualificationPolicy
from leadkit.ports import IdFactory, LeadQuery, LeadStore, Page, Views
from leadkit.privacy import audit as audit_lead
from leadkit.privacy import erase as erase_subject
from leadkit.profiles import DEFAULT_PROFILE, FieldProfile
from leadkit.scoring import BCM_MODEL, ScoringModel
from leadkit.scoring.engine import is_outdated
from leadkit.scoring.score_reports import (
    ReportRow,
    leads_by_owner,
    leads_by_owner_and_rating,
    leads_by_score_band,
)
from leadkit.services import DisqualifyResult, delete_lead, disqualify, reactivate
from leadkit.status import StatusReason
from leadkit.timeline import ActivityKind
from leadkit.values import LeadId, RecordId, UserRef

__all__ = [
    "DEFAULT_RETRIES",
    "Desk",
    "DeskReport",
    "DeskReports",
    "DeskViews",
    "qualify_request",
    "retry_on_conflict",
    "utc_now",
    "uuid4_text",
]

T = TypeVar("T")

DEFAULT_RETRIES: Final = 5
"""How many times :func:`retry_on_conflict` runs an operation that keeps conflicting."""


def utc_now() -> datetime:
    """The current time in UTC (the desk's default clock)."""
    return datetime.now(UTC)


def uuid4_text() -> str:
    """A random 32-character hex id (the desk's default id factory)."""
    return uuid.uuid4().hex


def retry_on_conflict(operation: Callable[[], T], *, attempts: int = DEFAULT_RETRIES) -> T:
    """Run a read-modify-write ``operation`` again while it raises ConcurrencyConflict (each
    run must read the current version itself), at most ``attempts`` times in all.

    Returns what the first successful run returns. Raises the last ConcurrencyConflict when
    every attempt conflicted, InvalidValue for ``attempts`` below 1, and anything else the
    operation raises at once.
    """
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise InvalidValue("attempts", attempts, "must be a positive integer")
    for attempt in range(attempts):
        try:
            return operation()
        except ConcurrencyConflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Reports and views


@attrs.frozen
class DeskReport:
    """A report's rows and how far the scores they read can be trusted: ``stale`` counts the
    leads never scored, or scored by another model or version than the desk's (their score
    columns are out of date until :meth:`Desk.rescore_all`); ``rescored`` counts the leads
    rescored (and stored) before the report was made."""

    rows: tuple[ReportRow, ...]
    stale: int
    rescored: int = 0

    @property
    def is_current(self) -> bool:
        """True when every lead's stored score is the desk model's."""
        return self.stale == 0


class DeskReports:
    """The score reports of a desk's leads (``desk.reports``): each says how many stored
    scores are stale, or with ``rescore=True`` rescores the outdated leads first (stored in
    their own unit of work)."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def _run(
        self, build: Callable[[list[Lead]], tuple[ReportRow, ...]], rescore: bool
    ) -> DeskReport:
        rescored = self._desk.rescore_all(only_outdated=True).rescored if rescore else 0
        model = self._desk.scoring
        with self._desk._target.unit_of_work() as uow:
            leads = list(uow.leads.stream())
        stale = sum(1 for lead in leads if is_outdated(lead, model))
        return DeskReport(build(leads), stale, rescored)

    def by_owner(self, *, rescore: bool = False) -> DeskReport:
        """Leads per owner with their mean score. Raises RepositoryError (and, with
        ``rescore``, what :meth:`Desk.rescore_all` raises)."""
        return self._run(leads_by_owner, rescore)

    def by_owner_and_rating(self, *, rescore: bool = False) -> DeskReport:
        """Leads per owner and score rating. Raises as :meth:`by_owner`."""
        return self._run(leads_by_owner_and_rating, rescore)

    def by_score_band(self, *, rescore: bool = False) -> DeskReport:
        """Leads per score band. Raises as :meth:`by_owner`."""
        return self._run(leads_by_score_band, rescore)


class DeskViews:
    """The named views of a desk's leads (``desk.views``), one page each."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def _page(self, query: LeadQuery, limit: int, after: str | None) -> Page:
        with self._desk._target.unit_of_work() as uow:
            return uow.leads.query(query, limit=limit, after=after)

    def my_open(
        self, user: UserRef | str | None = None, *, limit: int = 50, after: str | None = None
    ) -> Page:
        """ "My open leads" of ``user`` (default: the acting user). Raises InvalidValue
        without a user or for a bad limit or cursor, RepositoryError."""
        owner = self._desk._acting(None) if user is None else _user("user", user)
        return self._page(Views.my_open_leads(owner), limit, after)

    def open(self, *, limit: int = 50, after: str | None = None) -> Page:
        """Every open lead. Raises InvalidValue for a bad limit or cursor, RepositoryError."""
        return self._page(Views.open_leads(), limit, after)

    def closed(self, *, limit: int = 50, after: str | None = None) -> Page:
        """The "Closed leads" view. Raises as :meth:`open`."""
        return self._page(Views.closed_leads(), limit, after)

    def all(self, *, limit: int = 50, after: str | None = None) -> Page:
        """Every lead. Raises as :meth:`open`."""
        return self._page(Views.all_leads(), limit, after)


# ---------------------------------------------------------------------------------------------
# The desk


def _default_check(store: LeadStore) -> EngineDuplicateCheck:
    """The engine check over ``store``'s accounts, contacts and leads: on a SQL store with the
    blocking keys kept in its database (read in each unit of work's transaction, rebuilt only
    when missing or built for other rules), elsewhere with an index built from the store now."""
    engine = getattr(store, "engine", None)
    if engine is not None:
        from leadkit.adapters.sql.duplicate_keys import SqlKeyStore

        check = EngineDuplicateCheck.from_store(
            store, key_store=SqlKeyStore(engine), rebuild=False, leads=True
        )
        check.refresh()
        return check
    return EngineDuplicateCheck.from_store(store, leads=True, lock=threading.Lock())


class Desk(_DeskWorkflows):
    """leadkit for a host application, wired once (see the module doc).

    ``store`` is any :class:`~leadkit.ports.LeadStore`; ``clock`` returns aware datetimes;
    ``ids`` makes record ids; ``policy`` is the qualification policy; ``duplicates`` the
    duplicate check (default: the engine over the store's accounts, contacts and leads,
    built now, shared by every thread of the desk); ``scoring`` the scoring model;
    ``profile`` the required-field profile used on create and on every update;
    ``phone_region`` the region of phone numbers typed without ``+country`` (used by create,
    update and import).

    :meth:`acting_as` gives a desk whose methods act as that user; on a desk without a user,
    pass ``by=`` to each method (else InvalidValue naming ``by``). ``authorizer``
    (:mod:`leadkit.access`; default AllowAll) decides what the principal of
    :meth:`acting_for` may read and change: every method then raises PermissionDenied for
    a denied record (a desk with another authoriser than AllowAll and no principal raises
    it for every call that reads or writes leads).

    Raises InvalidValue for a bad ``phone_region``; RepositoryError when the duplicate index
    cannot be built from the store.
    """

    def __init__(
        self,
        store: LeadStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        ids: IdFactory = uuid4_text,
        policy: QualificationPolicy = DEFAULT_POLICY,
        duplicates: EngineDuplicateCheck | None = None,
        scoring: ScoringModel = BCM_MODEL,
        profile: FieldProfile = DEFAULT_PROFILE,
        phone_region: str | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        if phone_region is not None:
            from leadkit.values import PhoneNumber

            try:
                PhoneNumber("+46 8 123 456 78", phone_region)  # checks the region only
            except InvalidValue as e:
                raise InvalidValue("phone_region", phone_region, e.reason) from None
            phone_region = phone_region.upper()
        if duplicates is None:
            duplicates = _default_check(store)
        self._wiring = _Wiring(
            store=duplicates.store,
            check=duplicates,
            clock=clock,
            ids=ids,
            policy=policy,
            scoring=scoring,
            profile=profile,
            phone_region=phone_region,
            authorizer=AllowAll() if authorizer is None else authorizer,
        )
        self._user: UserRef | None = None
        self._principal: Principal | None = None
        self.views: Final = DeskViews(self)
        """The named views (``desk.views.my_open()``)."""
        self.reports: Final = DeskReports(self)
        """The score reports (``desk.reports.by_owner()``)."""

    # Wiring -------------------------------------------------------------------------------

    def acting_as(self, user: UserRef | str) -> Desk:
        """This desk acting as ``user`` (a UserRef or a user id): same wiring, no ``by=``
        needed. Raises InvalidValue for a bad user."""
        return self._copy(self._wiring, _user("user", user))

    def acting_for(self, principal: Principal, *, authorizer: Authorizer | None = None) -> Desk:
        """This desk acting for ``principal`` (one request's user, unit and roles): every
        read and write is authorised by ``authorizer`` (default: the desk's), lists, counts,
        reports and exports hold only what it may read, and a duplicate it may not read is
        reported only as "a record you cannot see" (see :mod:`leadkit.guarded`). Changes are
        recorded under the principal's user id. Raises InvalidValue for a principal that is
        not a Principal."""
        if not isinstance(principal, Principal):
            raise InvalidValue("principal", type(principal).__name__, "must be a Principal")
        wiring = (
            self._wiring
            if authorizer is None
            else attrs.evolve(self._wiring, authorizer=authorizer)
        )
        other = self._copy(wiring, principal.user)
        other._principal = principal
        return other

    def _copy(self, wiring: _Wiring, user: UserRef | None) -> Desk:
        other = Desk.__new__(Desk)
        other._wiring = wiring
        other._user = user
        other._principal = self._principal if wiring.authorizer is self._wiring.authorizer else None
        other.views = DeskViews(other)  # type: ignore[misc]
        other.reports = DeskReports(other)  # type: ignore[misc]
        return other

    def with_policy(self, policy: QualificationPolicy) -> Desk:
        """This desk (same store, duplicate check and user) qualifying under ``policy``.
        Raises InvalidValue when ``policy`` is not a QualificationPolicy."""
        if not isinstance(policy, QualificationPolicy):
            raise InvalidValue("policy", type(policy).__name__, "must be a QualificationPolicy")
        return self._copy(attrs.evolve(self._wiring, policy=policy), self._user)

    @property
    def user(self) -> UserRef | None:
        """The acting user (None on a desk made by the constructor)."""
        return self._user

    @property
    def store(self) -> IndexingStore:
        """The store seen through the duplicate check: open units of work on it."""
        return self._wiring.store

    @property
    def principal(self) -> Principal | None:
        """The principal the desk acts for (None unless made by :meth:`acting_for`)."""
        return self._principal

    @property
    def authorizer(self) -> Authorizer:
        """The authoriser (:class:`~leadkit.access.AllowAll` unless given)."""
        return self._wiring.authorizer

    def _guarded(self) -> bool:
        """True when calls are authorised: a principal, or an authoriser other than
        AllowAll (which then needs a principal: PermissionDenied without one)."""
        if self._principal is None and not isinstance(self._wiring.authorizer, AllowAll):
            who = "anonymous" if self._user is None else self._user.id
            raise PermissionDenied(who, "act", None, "no principal: use desk.acting_for(...)")
        return self._principal is not None

    @property
    def _target(self) -> LeadStore:
        """The store as the principal sees it (the desk's store without one)."""
        if not self._guarded():
            return self.store
        assert self._principal is not None
        return AuthorizedStore(self.store, self._wiring.authorizer, self._principal)

    @property
    def _finder(self) -> DuplicateCheck:
        """The duplicate check as the principal sees it."""
        if not self._guarded():
            return self.duplicates
        assert self._principal is not None
        return AuthorizedFinder(self.duplicates, self._wiring.authorizer, self._principal)

    def _scoped(self, query: LeadQuery | None, action: Action) -> LeadQuery | None:
        """``query`` restricted to what the principal may do ``action`` to."""
        if not self._guarded():
            return query
        assert self._principal is not None
        return restrict(query, allowed_scope(self._wiring.authorizer, self._principal, action))

    @property
    def duplicates(self) -> EngineDuplicateCheck:
        """The duplicate check."""
        return self._wiring.check

    @property
    def policy(self) -> QualificationPolicy:
        """The qualification policy."""
        return self._wiring.policy

    @property
    def scoring(self) -> ScoringModel:
        """The scoring model."""
        return self._wiring.scoring

    @property
    def profile(self) -> FieldProfile:
        """The required-field profile of create and update."""
        return self._wiring.profile

    @property
    def phone_region(self) -> str | None:
        """The default region of phone numbers without ``+country``."""
        return self._wiring.phone_region

    def _acting(self, by: UserRef | str | None) -> UserRef:
        if by is not None:
            return _user("by", by)
        if self._user is None:
            raise InvalidValue("by", None, "no acting user: use desk.acting_as(user) or by=")
        return self._user

    def _profile_of(self, lead: Lead) -> FieldProfile | None:
        """The desk's profile for a lead created under it (its own rules, required fields
        included); None for another lead, which then checks the profile it was created
        under (``Lead.profile``)."""
        return self.profile if lead.profile == self.profile.name else None

    def _now(self) -> datetime:
        return self._wiring.clock()

    def _change(
        self,
        lead_id: LeadId | str,
        command: Callable[[Lead], Lead],
        expected_version: int | None,
    ) -> Lead:
        """Read the lead, run one of its commands, save it: one unit of work."""
        key = _typed_id(LeadId, "lead_id", lead_id)
        with self._target.unit_of_work() as uow:
            lead = uow.leads.get(key)
            if expected_version is not None and lead.version != expected_version:
                raise ConcurrencyConflict(key, expected_version, lead.version)
            changed = command(lead)
            if changed is lead:
                return lead
            stored = uow.leads.save(changed, expected_version=expected_version)
            uow.commit()
        return stored

    # Single leads ---------------------------------------------------------------------------

    def create(
        self, *, owner: UserRef | str | None = None, by: UserRef | str | None = None, **fields: Any
    ) -> Lead:
        """Create and store an Open lead from fields by name (``topic=``, ``name=``,
        ``email=``, ``budget_amount=("25000", "EUR")``, ... in the dialect of
        :mod:`leadkit.dialect`); returns the stored lead.

        Raises InvalidValue listing every unknown or bad field and every field the profile
        finds missing; RepositoryError.
        """
        user = self._acting(by)
        patch = parse_lead_fields(fields, phone_region=self.phone_region)
        lead = Lead.create(
            LeadId(self._wiring.ids()),
            patch,
            at=self._now(),
            by=user,
            owner=None if owner is None else _user("owner", owner),
            profile=self.profile,
        )
        with self._target.unit_of_work() as uow:
            stored = uow.leads.add(lead)
            uow.commit()
        return stored

    def get(self, lead_id: LeadId | str) -> Lead:
        """The stored lead. Raises NotFound, InvalidValue for a bad id, RepositoryError."""
        key = _typed_id(LeadId, "lead_id", lead_id)
        with self._target.unit_of_work() as uow:
            return uow.leads.get(key)

    def list(
        self, query: LeadQuery | None = None, *, limit: int = 50, after: str | None = None
    ) -> Page:
        """One page of the leads ``query`` selects (all by default; pass ``next_cursor`` as
        ``after``). Raises InvalidValue for a bad limit or cursor, PermissionDenied,
        RepositoryError."""
        with self._target.unit_of_work() as uow:
            return uow.leads.query(
                LeadQuery() if query is None else query, limit=limit, after=after
            )

    def count(self, query: LeadQuery | None = None) -> int:
        """How many leads ``query`` selects (all by default). Raises PermissionDenied,
        RepositoryError."""
        with self._target.unit_of_work() as uow:
            return uow.leads.count(LeadQuery() if query is None else query)

    def update(
        self,
        lead_id: LeadId | str,
        *,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
        **fields: Any,
    ) -> Lead:
        """Change fields by name (as :meth:`create`); returns the stored lead (the same lead
        when nothing changed). The lead keeps the profile it was created under: the desk's
        (with all its rules) for a lead the desk created, else ``Lead.profile``.

        Raises NotFound, ConcurrencyConflict (not at ``expected_version``), LeadClosed,
        InvalidValue (unknown or bad fields, the profile's findings), RepositoryError.
        """
        user = self._acting(by)
        patch = parse_lead_fields(fields, phone_region=self.phone_region)
        return self._change(
            lead_id,
            lambda lead: lead.update(
                patch, at=self._now(), by=user, profile=self._profile_of(lead)
            ),
            expected_version,
        )

    def note(
        self,
        lead_id: LeadId | str,
        text: str,
        *,
        title: str = "",
        expected_version: int | None = None,
        by: UserRef | str | None = None,
    ) -> Lead:
        """Add a note to the lead's timeline; returns the stored lead. Raises NotFound,
        ConcurrencyConflict, InvalidValue (empty or over-long text), RepositoryError."""
        user = self._acting(by)
        return self._change(
            lead_id,
            lambda lead: lead.add_note(text, at=self._now(), by=user, title=title),
            expected_version,
        )

    def log_activity(
        self,
        lead_id: LeadId | str,
        kind: ActivityKind | str,
        subject: str,
        *,
        description: str = "",
        due_at: datetime | None = None,
        done_at: datetime | None = None,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
    ) -> Lead:
        """Log a phone call, e-mail, meeting or task (``kind`` as an ActivityKind, its name
        or its value: "phone_call", "phonecall"). Raises NotFound, ConcurrencyConflict,
        InvalidValue, RepositoryError."""
        user = self._acting(by)
        activity = _activity_kind(kind)
        return self._change(
            lead_id,
            lambda lead: lead.log_activity(
                activity,
                subject,
                at=self._now(),
                by=user,
                description=description,
                due_at=due_at,
                done_at=done_at,
            ),
            expected_version,
        )

    def assign(
        self,
        lead_id: LeadId | str,
        owner: UserRef | str,
        *,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
    ) -> Lead:
        """Give the lead to ``owner``. Raises NotFound, ConcurrencyConflict, LeadClosed,
        InvalidValue, RepositoryError."""
        user = self._acting(by)
        new_owner = _user("owner", owner)
        return self._change(
            lead_id, lambda lead: lead.assign(new_owner, at=self._now(), by=user), expected_version
        )

    def disqualify(
        self,
        lead_id: LeadId | str,
        reason: StatusReason | str | int = "lost",
        *,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
    ) -> DisqualifyResult:
        """Close the lead as disqualified; ``reason`` by label ("Lost", "cannot contact"),
        code or value. Raises as :func:`leadkit.services.disqualify` does, and InvalidValue
        for an unknown reason."""
        return disqualify(
            self._target,
            _typed_id(LeadId, "lead_id", lead_id),
            _reason(reason),
            at=self._now(),
            by=self._acting(by),
            expected_version=expected_version,
        )

    def reactivate(
        self,
        lead_id: LeadId | str,
        *,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
    ) -> Lead:
        """Reopen a closed lead (Open/New). Raises as :func:`leadkit.services.reactivate`."""
        return reactivate(
            self._target,
            _typed_id(LeadId, "lead_id", lead_id),
            at=self._now(),
            by=self._acting(by),
            expected_version=expected_version,
        )

    def delete(
        self, lead_id: LeadId | str, *, expected_version: int | None = None
    ) -> tuple[RecordId, ...]:
        """Delete the lead (its notes copied onto the records showing them). Raises as
        :func:`leadkit.services.delete_lead`."""
        return delete_lead(
            self._target, _typed_id(LeadId, "lead_id", lead_id), expected_version=expected_version
        )

    def erase(
        self, subject: ErasureSubject | str, mode: ErasureMode | str = "delete"
    ) -> ErasureReport:
        """Erase a person (``lead:ID``, ``contact:ID``, ``account:ID``, ``email:ADDRESS``,
        ``phone:NUMBER`` or an ErasureSubject) everywhere the store keeps them, the duplicate
        keys included; ``mode`` "delete" or "anonymize". Needs ``erase`` on every record
        erased (PermissionDenied otherwise, before anything changes). Raises as
        :func:`leadkit.privacy.erase`."""
        return erase_subject(self._target, subject, mode)

    def audit(self, lead_id: LeadId | str) -> tuple[AuditEntry, ...]:
        """The lead's field-level history (who, when, before, after; erased values read
        ``[erased]``). Needs ``read`` on the lead. Raises as :func:`leadkit.privacy.audit`,
        PermissionDenied."""
        return audit_lead(self._target, lead_id)
