"""The desk's task methods beyond single leads: e-mail intake, duplicates, qualification,
scoring, mass edits and files, as a mixin of :class:`~leadkit.desk.Desk` (which documents
them as its own).

Part of :mod:`leadkit.desk`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast, overload

import attrs

from leadkit.access import Action, AllowAll, Authorizer
from leadkit.bulk import rescore_repository
from leadkit.conversion import ConversionPlan, DuplicateCandidate, DuplicateCheck
from leadkit.desk_arguments import _optional_id, _typed_id, _user, qualify_request
from leadkit.dialect import parse_lead_fields
from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck, IndexingStore
from leadkit.errors import DuplicatesUnresolved, InvalidValue
from leadkit.lead import Lead
from leadkit.mass_editing import LeadEdit, MassEditResult, Selection
from leadkit.mass_editing import mass_edit as run_mass_edit
from leadkit.policies import QualificationPolicy
from leadkit.ports import IdFactory, LeadQuery, LeadStore
from leadkit.profiles import FieldProfile
from leadkit.scoring import ScoringModel
from leadkit.scoring.engine import score_lead
from leadkit.scoring.score_reports import RescoreProgress
from leadkit.services import (
    QualifyOutcome,
    QualifyResult,
    convert_to_business_contact,
    prepare_qualification,
    qualify,
    qualify_many,
)
from leadkit.values import ContactId, LeadId, UserRef

if TYPE_CHECKING:
    from leadkit.io import ColumnMapping, ImportPlan, ImportReport, Source


__all__: list[str] = []


@attrs.frozen
class _Wiring:
    """What a desk is wired with (shared by the desks :meth:`Desk.acting_as` and the like make)."""

    store: IndexingStore
    check: EngineDuplicateCheck
    clock: Callable[[], datetime]
    ids: IdFactory
    policy: QualificationPolicy
    scoring: ScoringModel
    profile: FieldProfile
    phone_region: str | None
    authorizer: Authorizer = attrs.field(factory=AllowAll)


class _DeskWorkflows:
    """The task methods of :class:`~leadkit.desk.Desk` beyond single leads (see the module doc).

    A mixin: every method runs on a Desk, through the members declared here for the type
    checker.
    """

    if TYPE_CHECKING:
        _wiring: _Wiring

        @property
        def _target(self) -> LeadStore: ...
        @property
        def _finder(self) -> DuplicateCheck: ...
        @property
        def policy(self) -> QualificationPolicy: ...
        @property
        def scoring(self) -> ScoringModel: ...
        @property
        def profile(self) -> FieldProfile: ...
        @property
        def phone_region(self) -> str | None: ...
        def _acting(self, by: UserRef | str | None) -> UserRef: ...
        def _now(self) -> datetime: ...
        def _scoped(self, query: LeadQuery | None, action: Action) -> LeadQuery | None: ...
        def _change(
            self,
            lead_id: LeadId | str,
            command: Callable[[Lead], Lead],
            expected_version: int | None,
        ) -> Lead: ...

    def receive_email(
        self,
        message: bytes,
        *,
        owner: UserRef | str | None = None,
        create_anyway: bool = False,
        by: UserRef | str | None = None,
    ) -> Lead:
        """Make and store a lead from an RFC 5322 message (Outlook BCM's e-mail intake, see
        :func:`leadkit.io.lead_from_email`) under the desk's profile, after the desk's
        duplicate check. Returns the stored lead.

        Raises DuplicatesUnresolved (its ``candidates`` are DuplicateCandidate values, as
        qualification's) when the sender may already be stored, unless ``create_anyway``;
        MalformedMessage, InvalidValue, RepositoryError.
        """
        from leadkit.io import EmailIntakePolicy, lead_from_email

        user = self._acting(by)
        intake = lead_from_email(message, policy=EmailIntakePolicy(profile=self.profile))
        lead = intake.create(
            LeadId(self._wiring.ids()),
            at=self._now(),
            by=user,
            owner=None if owner is None else _user("owner", owner),
            profile=self.profile,
            create_anyway=True,  # the desk's check below decides
        )
        with self._target.unit_of_work() as uow:
            if not create_anyway:
                found = self._finder.find(lead, uow)
                if found:
                    raise DuplicatesUnresolved(found)
            stored = uow.leads.add(lead)
            uow.commit()
        return stored

    # Duplicates -----------------------------------------------------------------------------

    def find_duplicates(
        self, lead_id: LeadId | str | None = None, **fields: Any
    ) -> tuple[DuplicateCandidate, ...]:
        """The stored leads, contacts and accounts that the stored lead ``lead_id`` — or a
        record with ``fields`` (as :meth:`create` takes them) — may duplicate, best first,
        each with its explanation. The lead itself is never its own candidate.

        Raises InvalidValue when given both or neither, or bad fields; NotFound;
        RepositoryError.
        """
        if (lead_id is None) == (not fields):
            raise InvalidValue("lead_id", lead_id, "give a lead id or fields, not both")
        with self._target.unit_of_work() as uow:
            if lead_id is not None:
                lead = uow.leads.get(_typed_id(LeadId, "lead_id", lead_id))
            else:
                lead = Lead.create(
                    LeadId("unsaved-draft"),
                    parse_lead_fields(fields, phone_region=self.phone_region),
                    at=self._now(),
                    by=UserRef("leadkit"),
                    profile=_ANY_FIELDS,
                )
            return tuple(
                c
                for c in self._finder.find(lead, uow)
                if not (c.record_type.value == "lead" and c.record_id == lead.id.value)
            )

    # Qualification --------------------------------------------------------------------------

    def plan_qualification(
        self, lead_id: LeadId | str, *, by: UserRef | str | None = None, **answers: Any
    ) -> ConversionPlan:
        """The plan :meth:`qualify` would carry out with these answers, storing nothing:
        its ``questions`` and ``unresolved`` candidates say what is missing. Raises as
        :func:`leadkit.services.prepare_qualification`, InvalidValue for a bad answer."""
        return prepare_qualification(
            self._target,
            _typed_id(LeadId, "lead_id", lead_id),
            qualify_request(answers),
            self.policy,
            at=self._now(),
            by=self._acting(by),
            finder=self._finder,
            id_factory=self._wiring.ids,
        )

    def qualify(
        self,
        lead_id: LeadId | str,
        *,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
        **answers: Any,
    ) -> QualifyResult:
        """Qualify the lead: create or link account, contact and opportunity and close it,
        in one unit of work. Answers as :func:`qualify_request` takes them
        (``link_contact="C-7"``, ``create_anyway=[candidate]``, ``currency="EUR"``, ...).

        Raises DuplicatesUnresolved (with the candidates), QualificationIncomplete, NotFound,
        ConcurrencyConflict, IllegalTransition, InvalidValue as
        :func:`leadkit.services.qualify` does — and then nothing is stored.
        """
        return qualify(
            self._target,
            _typed_id(LeadId, "lead_id", lead_id),
            qualify_request(answers),
            self.policy,
            at=self._now(),
            by=self._acting(by),
            finder=self._finder,
            id_factory=self._wiring.ids,
            expected_version=expected_version,
        )

    def qualify_many(
        self, lead_ids: Iterable[LeadId | str], *, by: UserRef | str | None = None, **answers: Any
    ) -> tuple[QualifyOutcome, ...]:
        """Qualify each lead in its own unit of work; one outcome per id. Raises InvalidValue
        for a bad id or answer; a lead's own problem is in its outcome."""
        keys = [_typed_id(LeadId, "lead_ids", i) for i in lead_ids]
        return qualify_many(
            self._target,
            keys,
            qualify_request(answers),
            self.policy,
            at=self._now(),
            by=self._acting(by),
            finder=self._finder,
            id_factory=self._wiring.ids,
        )

    def convert_to_business_contact(
        self,
        lead_id: LeadId | str,
        *,
        link_contact: ContactId | str | None = None,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
    ) -> QualifyResult:
        """Outlook BCM's "Convert to Business Contact" (a contact only). Raises as
        :func:`leadkit.services.convert_to_business_contact`."""
        return convert_to_business_contact(
            self._target,
            _typed_id(LeadId, "lead_id", lead_id),
            at=self._now(),
            by=self._acting(by),
            finder=self._finder,
            id_factory=self._wiring.ids,
            link_contact=_optional_id(ContactId, "link_contact", link_contact),
            expected_version=expected_version,
        )

    # Scoring, bulk edits ----------------------------------------------------------------------

    def score(
        self,
        lead_id: LeadId | str,
        *,
        expected_version: int | None = None,
        by: UserRef | str | None = None,
    ) -> Lead:
        """Score the lead with the desk's model and store the score (unchanged when already
        current). Raises NotFound, ConcurrencyConflict, RepositoryError."""
        user = self._acting(by)
        return self._change(
            lead_id,
            lambda lead: score_lead(lead, self.scoring, at=self._now(), by=user),
            expected_version,
        )

    def rescore_all(
        self, *, only_outdated: bool = False, by: UserRef | str | None = None
    ) -> RescoreProgress:
        """Rescore every stored lead (only those not scored by this model version, with
        ``only_outdated``) in one unit of work. Raises RepositoryError."""
        user = self._acting(by)
        with self._target.unit_of_work() as uow:
            done = rescore_repository(
                uow.leads, self.scoring, at=self._now(), by=user, only_outdated=only_outdated
            )
            uow.commit()
        return done

    def mass_edit(
        self,
        selection: Selection | Sequence[str],
        edit: LeadEdit,
        *,
        all_or_nothing: bool = True,
        by: UserRef | str | None = None,
    ) -> MassEditResult:
        """Apply ``edit`` to the selected leads (ids, as text too, or a query) in one unit of
        work. Raises as :func:`leadkit.mass_editing.mass_edit`."""
        chosen: Selection = (
            cast(LeadQuery, self._scoped(selection, Action.WRITE))
            if isinstance(selection, LeadQuery)
            else [_typed_id(LeadId, "selection", i) for i in selection]
        )
        return run_mass_edit(
            self._target,
            chosen,
            edit,
            at=self._now(),
            by=self._acting(by),
            all_or_nothing=all_or_nothing,
        )

    # Files ------------------------------------------------------------------------------------

    @overload
    def import_file(
        self,
        path: str | Path | Source,
        *,
        mapping: ColumnMapping | None = None,
        currency: str | None = None,
        dry_run: Literal[True] = True,
        by: UserRef | str | None = None,
    ) -> ImportPlan: ...

    @overload
    def import_file(
        self,
        path: str | Path | Source,
        *,
        mapping: ColumnMapping | None = None,
        currency: str | None = None,
        dry_run: Literal[False],
        by: UserRef | str | None = None,
    ) -> ImportReport: ...

    def import_file(
        self,
        path: str | Path | Source,
        *,
        mapping: ColumnMapping | None = None,
        currency: str | None = None,
        dry_run: bool = True,
        by: UserRef | str | None = None,
    ) -> ImportPlan | ImportReport:
        """Import leads from a CSV, xlsx or XML file or a read source (``leadkit[io]``) with
        the desk's phone region and profile (``mapping``: the columns, default suggested from
        the headers;
        ``currency``: of amounts without one). With ``dry_run`` (the default) return the
        preview (:class:`~leadkit.io.ImportPlan`) and write nothing — :meth:`commit_import`
        writes it later — else write it now and return the :class:`~leadkit.io.ImportReport`.
        Raises what :func:`leadkit.io.plan_import` and :func:`leadkit.io.run_import` raise."""
        from leadkit.io import ImportPolicy, plan_import

        source = Path(path) if isinstance(path, str) else path
        policy = ImportPolicy(
            phone_region=self.phone_region, profile=self.profile, currency=currency
        )
        plan = plan_import(source, mapping, policy, store=self._target)
        if dry_run:
            return plan
        return self.commit_import(plan, by=by)

    def commit_import(
        self, plan: ImportPlan, *, batch_size: int | None = None, by: UserRef | str | None = None
    ) -> ImportReport:
        """Write a previewed import (all or nothing per batch of ``batch_size`` rows; default
        the plan's policy). Raises what :func:`leadkit.io.run_import` raises
        (ImportInterrupted with the checkpoint of the batches stored before a failure)."""
        from leadkit.io import run_import

        return run_import(
            self._target,
            plan,
            ids=self._wiring.ids,
            at=self._now(),
            by=self._acting(by),
            batch_size=batch_size,
        )

    def export(self, path: str | Path, query: LeadQuery | None = None) -> int:
        """Write the leads ``query`` selects (all by default) to a CSV file; returns how many.
        Raises RepositoryError, OSError from the file system."""
        from leadkit.io import export_csv

        scoped = self._scoped(query, Action.EXPORT)
        with self._target.unit_of_work() as uow:
            return export_csv(uow.leads.stream(scoped), Path(path))


_ANY_FIELDS: Final = FieldProfile("any fields", ())
