"""The units of work of the services: a *target* is a store (the service opens a unit of work
and commits it) or an open unit of work (the caller commits), and the helpers that open,
read and roll back through either."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

from leadkit.errors import ConcurrencyConflict
from leadkit.lead import Lead
from leadkit.ports import LeadStore, UnitOfWork, is_store, unit_of_work_of
from leadkit.records import Account, Contact, Opportunity
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    OpportunityId,
)

__all__ = [
    "Target",
]


Target = UnitOfWork | LeadStore
"""A store (the service commits) or an open unit of work (the caller commits)."""


@contextmanager
def _working(target: Target) -> Iterator[UnitOfWork]:
    """The unit of work to use; commits at the end when the service opened it."""
    with unit_of_work_of(target) as uow:
        yield uow
        if is_store(target):
            uow.commit()


_reading = unit_of_work_of
"""A unit of work for reading only: never committed."""


@contextmanager
def _all_or_nothing(uow: UnitOfWork) -> Iterator[None]:
    """Around a service's writes: on any failure roll the unit of work back, so that a caller
    who commits after catching the error cannot store part of the work."""
    try:
        yield
    except BaseException:
        with suppress(Exception):  # the original error is the one to report
            uow.rollback()
        raise


def _check_version(lead: Lead, expected_version: int | None) -> None:
    if expected_version is not None and lead.version != expected_version:
        raise ConcurrencyConflict(lead.id, expected_version, lead.version)


@contextmanager
def _working_on(
    target: Target, lead_id: LeadId, expected_version: int | None
) -> Iterator[tuple[UnitOfWork, Lead]]:
    """The unit of work to use (see :func:`_working`) and the lead read in it; raises
    NotFound, or ConcurrencyConflict when the lead is not at ``expected_version``."""
    with _working(target) as uow:
        lead = uow.leads.get(lead_id)
        _check_version(lead, expected_version)
        yield uow, lead


R = TypeVar("R", Account, Contact, Opportunity)
K = TypeVar("K", AccountId, ContactId, OpportunityId)
