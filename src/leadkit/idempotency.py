"""Idempotency keys: a retried call with the same key returns the first call's result and
changes nothing.

A host that retries (a load balancer timed out, a user clicked twice, a worker died after the
commit and before answering) passes the same ``idempotency_key`` with every attempt. The first
attempt stores, in the same transaction as its change, the key, a fingerprint of the request
and the result; a retry finds the key, checks that the request is the same and returns the
stored result without touching anything else. The same key with another request raises
:class:`~leadkit.errors.IdempotencyKeyReuse`. Keys expire after :attr:`IdempotencyKey.ttl`
(default :data:`DEFAULT_TTL`, 24 hours, counted from the call's ``at``): after that the key
may be used again, and :func:`prune_keys` (scheduled by the host) deletes the expired ones.

The request fingerprint covers what the caller asks for (the lead, the request values, the
user, an expected version), never the call's time, new ids or the host's configuration: a
retry made a minute later, or after a deploy that changed the qualification policy, is still
the same request.

Services, :func:`~leadkit.mass_editing.mass_edit` and :func:`~leadkit.io.run.run_import` take
``idempotency_key=``; any other operation (merge, a host's own) uses :func:`run_once`, or
:func:`recall` and :func:`remember` around its own unit of work.
See ``docs/idempotency.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar, cast

import attrs

from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ConfigurationError,
    IdempotencyKeyReuse,
    InvalidValue,
    LeadkitError,
)
from leadkit.ports import IdempotencyRepository, LeadStore, StoredResponse, UnitOfWork, is_store
from leadkit.serialization import LeadkitConverter, make_converter
from leadkit.values import require_aware

__all__ = [
    "DEFAULT_TTL",
    "MAX_KEY_LENGTH",
    "IdempotencyKey",
    "KeyArgument",
    "RecordedError",
    "prune_keys",
    "recall",
    "remember",
    "request_hash",
    "result_data",
    "result_from",
    "run_once",
]

DEFAULT_TTL: Final = timedelta(hours=24)
"""How long a key holds unless :attr:`IdempotencyKey.ttl` says otherwise."""

MAX_KEY_LENGTH: Final = 200
"""The longest key accepted (a UUID is 36 characters)."""

T = TypeVar("T")


def _key_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("idempotency_key", value, "must be a non-empty string")
    if len(value) > MAX_KEY_LENGTH:
        raise InvalidValue("idempotency_key", value, f"must be at most {MAX_KEY_LENGTH} characters")
    return value


def _positive(_instance: object, _attribute: object, value: timedelta) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidValue("idempotency_key.ttl", value, "must be a positive timedelta")


@attrs.frozen
class IdempotencyKey:
    """A key and how long it holds. A plain string where a key is taken means
    ``IdempotencyKey(text)`` (24 hours).

    Raises InvalidValue for an empty or blank key, one longer than :data:`MAX_KEY_LENGTH`,
    or a ttl that is not a positive timedelta.
    """

    value: str = attrs.field(converter=_key_text)
    ttl: timedelta = attrs.field(default=DEFAULT_TTL, validator=_positive)

    def scoped(self, part: str) -> IdempotencyKey:
        """The key of one part of a call (one lead of a bulk qualification, one batch of an
        import): ``value/part``, the same ttl."""
        return IdempotencyKey(f"{self.value}/{part}", self.ttl)


class RecordedError(LeadkitError):
    """An error a replayed result carries in place of the one the first call met (a bulk
    outcome that FAILED): ``kind`` is the original error's class name, ``message`` its text.
    Never raised by leadkit; found only in outcomes returned to a retry."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


KeyArgument = str | IdempotencyKey | None
"""What ``idempotency_key=`` takes: None (no key), a string or an :class:`IdempotencyKey`."""


def as_key(key: KeyArgument) -> IdempotencyKey | None:
    """``key`` as an :class:`IdempotencyKey` (None stays None). Raises InvalidValue."""
    if key is None or isinstance(key, IdempotencyKey):
        return key
    return IdempotencyKey(key)


@functools.cache
def _converter() -> LeadkitConverter:
    """One converter for the process (building one takes a while; a built one is
    thread-safe)."""
    return make_converter()


def result_data(value: object) -> Any:
    """A result as JSON-safe data (the converter's), for :func:`remember`."""
    return _converter().unstructure(value)


def result_from(data: object, kind: type[T]) -> T:
    """A result of type ``kind`` from the data :func:`result_data` gave. Raises InvalidValue
    for data that is not one."""
    return _converter().structure(data, kind)


def request_hash(operation: str, request: object) -> str:
    """The fingerprint of a request: SHA-256 of ``operation`` and the converter's JSON data
    of ``request`` (keys sorted). Raises what the converter raises for a value it cannot
    unstructure."""
    data = _converter().unstructure(request)
    text = json.dumps(
        [operation, data], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _keys_of(uow: UnitOfWork) -> IdempotencyRepository:
    keys = getattr(uow, "idempotency", None)
    if keys is None:
        raise ConfigurationError(
            "idempotency_key",
            f"{type(uow).__name__} keeps no idempotency keys (no uow.idempotency): use a "
            "store that does, or call without a key",
        )
    return cast(IdempotencyRepository, keys)


def recall(
    uow: UnitOfWork, key: IdempotencyKey, fingerprint: str, operation: str, *, at: datetime
) -> tuple[Any] | None:
    """The stored result of ``key`` (its JSON data in a 1-tuple), or None when the key is
    unknown or expired at ``at``.

    Raises IdempotencyKeyReuse when the key holds a result of another request, InvalidValue
    for a naive ``at``, ConfigurationError when the store keeps no keys.
    """
    require_aware("at", at)
    found = _keys_of(uow).get(key.value)
    if found is None or not found.live_at(at):
        return None
    if found.request_hash != fingerprint:
        raise IdempotencyKeyReuse(key.value, operation)
    return (json.loads(found.result),)


def remember(
    uow: UnitOfWork, key: IdempotencyKey, fingerprint: str, data: object, *, at: datetime
) -> None:
    """Store ``data`` (JSON-safe) as the result of ``key`` in ``uow``, held until
    ``at + key.ttl``. Raises AlreadyExists when the key holds a live result,
    ConfigurationError when the store keeps no keys."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    _keys_of(uow).put(
        StoredResponse(key.value, fingerprint, text, created_at=at, expires_at=at + key.ttl)
    )


def run_once(
    target: UnitOfWork | LeadStore,
    key: KeyArgument,
    *,
    operation: str,
    request: object,
    at: datetime,
    work: Callable[[UnitOfWork], T],
    result_type: type[T],
    encode: Callable[[T], Any] | None = None,
    decode: Callable[[Any], T] | None = None,
) -> T:
    """Run ``work`` once per key: the building block of every ``idempotency_key=``.

    With a store as ``target``, a unit of work is opened, ``work(uow)`` runs, the key is
    stored with its result and the unit of work committed: all of it or none. With an open
    unit of work, the same happens inside it and the caller commits. A retry (same key, same
    ``operation`` and ``request``) returns the stored result, decoded as ``result_type`` (or
    by ``decode``) and changes nothing; ``work`` does not run. Without a key, ``work`` just
    runs (and commits, for a store).

    When two calls with one key race, the loser's commit fails and it answers as a retry of
    the winner. Raises IdempotencyKeyReuse for another request under a live key,
    ConfigurationError for a store without keys, and whatever ``work`` raises (nothing is
    stored then).
    """
    require_aware("at", at)
    converter = _converter()
    to_data = encode or converter.unstructure
    from_data = decode or (lambda data: converter.structure(data, result_type))
    found_key = as_key(key)
    if found_key is None:
        if not is_store(target):
            return work(cast(UnitOfWork, target))
        with target.unit_of_work() as uow:
            result = work(uow)
            uow.commit()
        return result
    fingerprint = request_hash(operation, request)

    def attempt(uow: UnitOfWork) -> T:
        stored = recall(uow, found_key, fingerprint, operation, at=at)
        if stored is not None:
            return from_data(stored[0])
        result = work(uow)
        try:
            remember(uow, found_key, fingerprint, to_data(result), at=at)
        except BaseException:
            uow.rollback()  # the work must not be committed without its key
            raise
        return result

    if not is_store(target):
        return attempt(cast(UnitOfWork, target))
    try:
        with target.unit_of_work() as uow:
            result = attempt(uow)
            uow.commit()
        return result
    except IdempotencyKeyReuse:
        raise
    except (AlreadyExists, ConcurrencyConflict):
        # A concurrent call with the same key may have committed first: answer as its retry.
        with target.unit_of_work() as uow:
            stored = recall(uow, found_key, fingerprint, operation, at=at)
        if stored is None:
            raise
        return from_data(stored[0])


def prune_keys(store: LeadStore, *, now: datetime) -> int:
    """Delete every idempotency key expired by ``now`` (the host schedules this, say hourly);
    returns how many. Raises InvalidValue for a naive ``now``, ConfigurationError for a store
    without keys."""
    require_aware("now", now)
    with store.unit_of_work() as uow:
        pruned = _keys_of(uow).prune(now=now)
        uow.commit()
    return pruned
