"""The ports of exactly-once work: idempotency keys (:class:`StoredResponse`,
:class:`IdempotencyRepository`) and the transactional outbox (:class:`OutboxEvent`,
:class:`Outbox`, the claim rule every adapter follows).

Part of the ports (:mod:`leadkit.ports` re-exports every name here).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import attrs

from leadkit.errors import InvalidValue
from leadkit.queries import check_limit
from leadkit.values import LeadId, require_aware

__all__ = [
    "IdempotencyRepository",
    "Outbox",
    "OutboxBacklog",
    "OutboxEvent",
    "StoredResponse",
    "check_claim",
    "claimable",
]

K2 = TypeVar("K2")


# ---------------------------------------------------------------------------------------------
# Idempotency keys


@attrs.frozen
class StoredResponse:
    """What an idempotency key remembers: the request's fingerprint and the JSON text of the
    first result, kept until ``expires_at``.

    Raises InvalidValue for an empty key or a naive or inverted time.
    """

    key: str
    request_hash: str
    result: str
    created_at: datetime
    expires_at: datetime

    def __attrs_post_init__(self) -> None:
        if not self.key:
            raise InvalidValue("key", self.key, "an idempotency key must not be empty")
        require_aware("created_at", self.created_at)
        require_aware("expires_at", self.expires_at)
        if self.expires_at <= self.created_at:
            raise InvalidValue("expires_at", self.expires_at, "must be after created_at")

    def live_at(self, at: datetime) -> bool:
        """True while the key holds at ``at`` (``at`` before ``expires_at``)."""
        return at < self.expires_at


class IdempotencyRepository(Protocol):
    """The idempotency keys of a store, reached through a unit of work as
    ``uow.idempotency``: written in the same transaction as the change they guard, so a key
    is stored exactly when its change is.

    A store that keeps no keys leaves the attribute out; the services then refuse a key with
    ConfigurationError.
    """

    def get(self, key: str) -> StoredResponse | None:
        """The stored response of ``key`` (expired or not; this unit of work's own puts
        included), None when there is none."""
        ...

    def put(self, response: StoredResponse) -> None:
        """Remember ``response``; it replaces a stored response of the same key that has
        expired by ``response.created_at``.

        Raises AlreadyExists when the key holds a live response (in the store or put earlier
        in this unit of work); a concurrent unit of work storing the same key makes the later
        commit fail (AlreadyExists or ConcurrencyConflict) and store nothing.
        """
        ...

    def prune(self, *, now: datetime) -> int:
        """Delete every response expired by ``now`` (``expires_at <= now``); returns how many.
        Raises InvalidValue for a naive ``now``."""
        ...


# ---------------------------------------------------------------------------------------------
# The transactional outbox


@attrs.frozen
class OutboxEvent:
    """One committed event in the outbox.

    ``event_id`` is stable (the same on every delivery: consumers de-duplicate on it; at most
    40 characters; the shipped stores use a random UUID per commit and the event's index),
    ``position`` orders the outbox (commit order; a later commit touching the same lead
    always has higher positions), ``payload`` is the event as the converter's JSON text
    (``make_converter().loads(payload, LeadEvent)`` reads it back), ``occurred_at`` the
    event's own time and ``attempts`` how many times it has been claimed (this claim included).
    """

    event_id: str
    position: int
    lead_id: LeadId
    type: str
    payload: str
    occurred_at: datetime
    attempts: int = 1


@attrs.frozen
class OutboxBacklog:
    """How the outbox stands: events waiting (``pending``, of which ``leased`` are claimed
    under a live lease), ``delivered`` ones not yet purged, and the oldest waiting one's
    position and time (None when nothing waits)."""

    pending: int
    leased: int
    delivered: int
    oldest_position: int | None = None
    oldest_occurred_at: datetime | None = None


class Outbox(Protocol):
    """The store's outbox (``store.outbox``): every event a unit of work commits is written
    in the same transaction (or under the same lock) as the changes that raised it.

    Publishers ``claim`` events, deliver them and ``ack`` them: delivery is at least once
    (a publisher that dies before ``ack`` leaves its events to come back when the lease
    ends; consumers de-duplicate on ``event_id``). ``at`` arguments default to the system
    clock (UTC); pass them to run on another clock.
    """

    def claim(
        self, limit: int, *, lease: timedelta, at: datetime | None = None
    ) -> tuple[OutboxEvent, ...]:
        """Lease up to ``limit`` undelivered events, oldest first, for ``lease``.

        Hands out only events not under a live lease, and of a lead only while none of its
        earlier undelivered events is under another live lease: one publisher holds a lead's
        next events, so per-lead order survives several publishers. Claims by several
        publishers (threads or processes) never hand out the same event under a live lease.
        Raises InvalidValue for ``limit`` outside 1..1000, a lease that is not positive or a
        naive ``at``; StorageUnavailable when the store fails.
        """
        ...

    def ack(self, event_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark the events delivered (at ``at``); returns how many were waiting. Unknown or
        already delivered ids are ignored. Raises InvalidValue for a naive ``at``."""
        ...

    def purge(self, *, delivered_before: datetime) -> int:
        """Delete the events delivered before ``delivered_before``; returns how many.
        Undelivered events are never purged. Raises InvalidValue for a naive datetime."""
        ...

    def backlog(self, *, at: datetime | None = None) -> OutboxBacklog:
        """Counts of waiting, leased and delivered events (leases judged at ``at``)."""
        ...

    def pending(self, limit: int = 50) -> tuple[OutboxEvent, ...]:
        """The first ``limit`` undelivered events in order, without claiming them.
        Raises InvalidValue for ``limit`` outside 1..1000."""
        ...


def check_claim(limit: int, lease: timedelta, at: datetime) -> None:
    """Validate a claim's arguments. Raises InvalidValue naming ``limit``, ``lease`` or ``at``."""
    check_limit(limit)
    if not isinstance(lease, timedelta) or lease <= timedelta(0):
        raise InvalidValue("lease", lease, "must be a positive timedelta")
    require_aware("at", at)


def claimable(
    waiting: Iterable[tuple[K2, str, datetime | None]], limit: int, at: datetime
) -> list[K2]:
    """The claim rule every adapter follows, over the undelivered events in outbox order as
    ``(key, lead id, leased_until)``: the keys of up to ``limit`` events to hand out.

    An event under a live lease (``leased_until`` after ``at``) is skipped and blocks its
    lead: no later event of that lead is handed out until the leased one is acked or its
    lease ends. Stops reading ``waiting`` once ``limit`` keys are chosen.
    """
    chosen: list[K2] = []
    blocked: set[str] = set()
    for key, lead_id, leased_until in waiting:
        if leased_until is not None and leased_until > at:
            blocked.add(lead_id)
        elif lead_id not in blocked:
            chosen.append(key)
            if len(chosen) >= limit:
                break
    return chosen
