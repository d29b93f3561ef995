"""Application services: qualify, bulk qualify, disqualify, reactivate, delete and the Outlook
BCM conversion, over the ports (any :class:`~leadkit.ports.LeadStore`).

Units of work
-------------
Every single-lead service takes a *target*: a :class:`~leadkit.ports.LeadStore` or an open
:class:`~leadkit.ports.UnitOfWork`.

- Given a store, the service opens a unit of work, does its work and commits it: all of it is
  stored, or (on any error) none of it.
- Given an open unit of work, the service does its work in it and does **not** commit: the
  caller commits, so a qualification can be stored together with the caller's own changes.
  If one of the service's writes fails, the service rolls the unit of work back — including
  the caller's earlier changes in it — before re-raising, so a later ``commit()`` cannot
  store part of a qualification. A refusal raised before the first write (a missing answer,
  an unresolved duplicate, a stale plan, an illegal transition) leaves the unit of work as it
  was.

:func:`qualify_many` takes a store and qualifies each lead in its own unit of work: per-lead
atomic, so one refused or failed lead does not stop or undo the others. It returns one
outcome per lead id given, in order.

Duplicate checks
----------------
Every path that may create a contact or account (:func:`qualify`, :func:`qualify_many`,
:func:`execute_plan`, :func:`convert_to_business_contact`, :func:`disqualify` with a
prospect) asks the same :class:`~leadkit.conversion.DuplicateCheck` (the ``finder``
argument), inside the unit of work that will store the records. ``finder`` is a required
argument: pass :class:`~leadkit.conversion.NoDuplicates` to say explicitly that there is no
check, or :class:`~leadkit.duplicate_checks.engine_check.EngineDuplicateCheck` for the duplicate
engine (then qualify through its ``store``, so that the records created are indexed; it
raises ConfigurationError, before anything is written, for a target that is not).

Idempotency keys
----------------
:func:`create_lead`, :func:`qualify`, :func:`qualify_many` (a key per lead: ``key/lead id``),
:func:`disqualify` and :func:`reactivate` take ``idempotency_key=`` (see
:mod:`leadkit.idempotency`): the key, the request's fingerprint and the result are stored in
the unit of work of the change; a retry with the key returns the first result and changes
nothing; the key with another request raises IdempotencyKeyReuse. The fingerprint covers the
lead, the request values, the user and an expected version, never ``at``, the policy, the
duplicate check or new ids.

Ids come from the injected :class:`~leadkit.ports.IdFactory`; time from ``at``.
"""

from __future__ import annotations

from leadkit.services.bulk_qualification import qualify_many
from leadkit.services.lifecycle import (
    create_lead,
    delete_lead,
    disqualify,
    reactivate,
    relate_opportunity,
    timeline_notes,
    unrelate_opportunity,
)
from leadkit.services.merges import MergeResult, UnmergeResult, merge, unmerge
from leadkit.services.qualification import (
    convert_to_business_contact,
    execute_plan,
    prepare_qualification,
    qualify,
)
from leadkit.services.results import DisqualifyResult, OutcomeStatus, QualifyOutcome, QualifyResult
from leadkit.services.units import Target

__all__ = [
    "DisqualifyResult",
    "MergeResult",
    "OutcomeStatus",
    "QualifyOutcome",
    "QualifyResult",
    "Target",
    "UnmergeResult",
    "convert_to_business_contact",
    "create_lead",
    "delete_lead",
    "disqualify",
    "execute_plan",
    "merge",
    "prepare_qualification",
    "qualify",
    "qualify_many",
    "reactivate",
    "relate_opportunity",
    "timeline_notes",
    "unmerge",
    "unrelate_opportunity",
]
