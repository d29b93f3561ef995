"""Erasure and audit over the ports: :func:`erase` and :func:`audit`.

:func:`erase` runs in one unit of work: the subject's records are deleted or anonymised
through the repositories (so a duplicate check's index or key table, seen through an
``IndexingStore``, is updated in the same transaction), every other stored record, merge,
outbox event and idempotency result is scrubbed of the subject's needles
(:mod:`leadkit.erasure`), and the store's duplicate keys of the targets are dropped; then the
unit of work commits, all or nothing. Only after the commit does the store make sure no copy
is left in its files (:meth:`PrivacyRepository.secure`: on SQLite ``secure_delete`` and a
truncating WAL checkpoint; on PostgreSQL a ``VACUUM`` of the touched tables).

Both take ``authorize``: a callable ``authorize(action, record)`` run for every record before
anything is written (``"erase"``) or read (``"audit"``); it denies by raising. This is where a
host (or leadkit's authoriser) plugs row-level authorisation in.

Stores offer the needed capability as ``uow.privacy`` (:class:`PrivacyRepository`); both
leadkit adapters do, and :func:`erase` raises ConfigurationError on a store without it.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, cast

from leadkit.access import Action
from leadkit.erasure import (
    AuditEntry,
    ErasureMode,
    ErasureReport,
    ErasureScope,
    ErasureSubject,
    SubjectKind,
    field_history,
    is_erased,
    scope_of,
    scrub,
    scrub_data,
)
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.events import LeadEvent
from leadkit.guarded import AuthorizedStore, require_permission
from leadkit.lead import Lead
from leadkit.ports import LeadStore, UnitOfWork
from leadkit.records import Account, Contact
from leadkit.serialization import LeadkitConverter, make_converter
from leadkit.values import AccountId, ContactId, EmailAddress, LeadId, PhoneNumber

__all__ = ["Authorize", "PrivacyRepository", "audit", "erase"]

Authorize = Callable[[str, object], None]
"""``authorize(action, record)``: returns to allow, raises (PermissionDenied, say) to deny."""


class PrivacyRepository(Protocol):
    """What a store offers erasure and audit, as ``uow.privacy``: reads and rewrites of the
    data that lives outside the repositories, inside the unit of work's transaction."""

    def events_of(self, lead_id: LeadId) -> Sequence[LeadEvent]:
        """Every stored (outbox) event of ``lead_id``, delivered or not, in order."""
        ...

    def rewrite_events(
        self,
        rewrite: Callable[[LeadEvent], LeadEvent | None],
        wanted: Callable[[str, str], bool],
    ) -> tuple[int, int]:
        """Replace every stored event ``e`` (of lead id ``l``, JSON text ``t``) for which
        ``wanted(l, t)`` holds by ``rewrite(e)`` (None deletes it); returns (rewritten,
        deleted). Applied when the unit of work commits."""
        ...

    def rewrite_results(self, rewrite: Callable[[str], str], wanted: Callable[[str], bool]) -> int:
        """Replace the JSON text of every stored idempotency result for which ``wanted``
        holds by ``rewrite(text)``; returns how many changed."""
        ...

    def forget_keys(self, refs: Iterable[tuple[str, str]], scope: ErasureScope) -> int:
        """Drop the stored duplicate keys of the records ``(record_type, id)`` and every key
        holding one of the scope's needles; returns how many (0 when none are stored)."""
        ...

    def secure(self) -> str:
        """After the commit: make sure freed data is gone from the store's files; returns
        what was done (for the report). Raises StorageUnavailable."""
        ...


@functools.cache
def _converter() -> LeadkitConverter:
    """One converter for the process (building one takes a while; a built one is
    thread-safe)."""
    return make_converter()


def _privacy(uow: UnitOfWork) -> PrivacyRepository:
    found = getattr(uow, "privacy", None)
    if found is None:
        raise ConfigurationError(
            "store", f"{type(uow).__name__} offers no erasure support (no uow.privacy)"
        )
    return cast(PrivacyRepository, found)


def _targets(
    uow: UnitOfWork, subject: ErasureSubject, seen: list[Lead]
) -> list[Lead | Contact | Account]:
    """The subject's records; the leads read on the way are added to ``seen`` (so that the
    scan of the other records need not read them again)."""
    kind = subject.kind
    if kind is SubjectKind.LEAD:
        return [uow.leads.get(LeadId(subject.value))]
    if kind is SubjectKind.CONTACT:
        return [uow.contacts.get(ContactId(subject.value))]
    if kind is SubjectKind.ACCOUNT:
        return [uow.accounts.get(AccountId(subject.value))]
    if kind is SubjectKind.EMAIL:
        wanted = EmailAddress(subject.value).normalized.casefold()

        def holds(record: Lead | Contact | Account) -> bool:
            return record.email is not None and record.email.normalized.casefold() == wanted

    else:
        number = PhoneNumber(subject.value, subject.region).e164

        def holds(record: Lead | Contact | Account) -> bool:
            phones = (record.business_phone, getattr(record, "mobile_phone", None))
            return any(p is not None and p.e164 == number for p in phones)

    every = list(uow.leads.stream())
    seen.extend(every)
    found: list[Lead | Contact | Account] = [lead for lead in every if holds(lead)]
    found += [c for c in uow.contacts.list() if holds(c)]
    found += [a for a in uow.accounts.list() if holds(a)]
    return found


def _subject(subject: ErasureSubject | str) -> ErasureSubject:
    if isinstance(subject, ErasureSubject):
        return subject
    if isinstance(subject, str):
        return ErasureSubject.parse(subject)
    raise InvalidValue("subject", subject, "must be an ErasureSubject or kind:value text")


def _ref(record: Lead | Contact | Account) -> tuple[str, str]:
    kind = (
        "lead"
        if isinstance(record, Lead)
        else "contact"
        if isinstance(record, Contact)
        else "account"
    )
    return kind, record.id.value


def erase(
    target: LeadStore,
    subject: ErasureSubject | str,
    mode: ErasureMode | str = ErasureMode.DELETE,
    *,
    authorize: Authorize | None = None,
) -> ErasureReport:
    """Erase ``subject`` (an :class:`ErasureSubject` or ``kind:value`` text) from ``target``:
    DELETE removes its records and their events, ANONYMIZE keeps them with every personal
    value replaced. Either way every other stored copy of its e-mail, phones and name is
    scrubbed. Returns the :class:`ErasureReport`.

    All or nothing: on any error nothing is changed. On an ``AuthorizedStore`` its principal
    needs ``erase`` on every record erased (checked before any write); the erasure then runs
    on the store inside, so mentions in records the principal cannot read are scrubbed too.

    Raises InvalidValue (naming ``subject``, ``subject.kind`` or ``mode``) for bad input,
    NotFound for an unknown lead, contact or account, PermissionDenied, ConfigurationError
    for a store without erasure support, whatever ``authorize`` raises to deny, and
    RepositoryError.
    """
    subject = _subject(subject)
    mode = ErasureMode.parse(mode)
    counts: Counter[str] = Counter()
    store = target.inner if isinstance(target, AuthorizedStore) else target
    with store.unit_of_work() as uow:
        privacy = _privacy(uow)
        streamed: list[Lead] = []
        targets = _targets(uow, subject, streamed)
        for record in targets:
            require_permission(target, Action.ERASE, record)
            if authorize is not None:
                authorize("erase", record)
        extra_emails = [EmailAddress(subject.value)] if subject.kind is SubjectKind.EMAIL else []
        extra_phones = (
            [PhoneNumber(subject.value, subject.region)]
            if subject.kind is SubjectKind.PHONE
            else []
        )
        scope = scope_of(targets, emails=extra_emails, phones=extra_phones)
        _erase_targets(uow, targets, mode, scope, counts)
        _scrub_others(uow, scope, counts, streamed or None)
        delete = mode is ErasureMode.DELETE

        def rewrite_event(event: LeadEvent) -> LeadEvent | None:
            if delete and event.lead_id.value in scope.lead_ids:
                return None
            return scrub(event, scope)

        rewritten, deleted = privacy.rewrite_events(
            rewrite_event, lambda lead_id, text: lead_id in scope.lead_ids or scope.mentions(text)
        )
        counts["events"] += rewritten
        counts["events_deleted"] += deleted

        def rewrite_result(text: str) -> str:
            data = scrub_data(json.loads(text), scope)
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

        counts["idempotency_results"] += privacy.rewrite_results(rewrite_result, scope.mentions)
        counts["duplicate_keys"] += privacy.forget_keys(map(_ref, targets), scope)
        uow.commit()
        secure = privacy.secure()
    return ErasureReport(
        subject,
        mode,
        tuple(f"{kind}:{key}" for kind, key in map(_ref, targets)),
        {k: v for k, v in counts.items() if v},
        secure,
    )


def _erase_targets(
    uow: UnitOfWork,
    targets: Sequence[Lead | Contact | Account],
    mode: ErasureMode,
    scope: ErasureScope,
    counts: Counter[str],
) -> None:
    for record in targets:
        kind = _ref(record)[0]
        repository: Any = getattr(uow, f"{kind}s")  # uow.leads, uow.contacts, uow.accounts
        if mode is ErasureMode.DELETE:
            repository.delete(record.id)
        else:
            repository.save(scrub(record, scope, personal=True))
        counts[f"{kind}s"] += 1


def _scrub_others(
    uow: UnitOfWork, scope: ErasureScope, counts: Counter[str], streamed: list[Lead] | None
) -> None:
    """Scrub every record that is not a target (and every merge record) of the needles;
    ``streamed``: every stored lead, when already read."""
    ids = scope.ids
    dumps = _converter().dumps

    def scrubbed(record: Any) -> Any:
        """The record scrubbed; the record itself when its JSON mentions nothing (a cheap
        test that spares walking the records that do not mention the person)."""
        if not scope.mentions(dumps(record)):
            return record
        return scrub(record, scope)

    leads = [
        (lead, new)
        for lead in (uow.leads.stream() if streamed is None else streamed)
        if lead.id.value not in ids and (new := scrubbed(lead)) is not lead
    ]
    for _, new in leads:
        uow.leads.save(new)
    counts["leads"] += len(leads)
    repositories: list[tuple[str, Any]] = [
        ("contacts", uow.contacts),
        ("accounts", uow.accounts),
        ("opportunities", uow.opportunities),
    ]
    for name in ("merges", "record_merges"):  # the stores that keep merge records
        merges = getattr(uow, name, None)
        if merges is not None:
            repositories.append((name, merges))
    for kind, repository in repositories:
        for record in list(repository.list()):
            if record.id.value in ids:
                continue
            new = scrubbed(record)
            if new is not record:
                repository.save(new)
                counts[kind] += 1


def audit(
    target: LeadStore, lead_id: LeadId | str, *, authorize: Authorize | None = None
) -> tuple[AuditEntry, ...]:
    """The field-level history of a lead (who, when, each field before and after), read from
    its stored events, oldest first; values erased by an erasure read ``[erased]``.

    On an ``AuthorizedStore`` its principal needs ``read`` on the lead.

    Raises NotFound for an unknown (or erased by DELETE) lead, InvalidValue naming
    ``lead_id`` for a bad id, PermissionDenied, ConfigurationError for a store without
    erasure support, whatever ``authorize`` raises to deny, and RepositoryError.
    """
    if isinstance(lead_id, str):
        if not lead_id.strip():
            raise InvalidValue("lead_id", lead_id, "must be a non-empty id")
        lead_id = LeadId(lead_id)
    if not isinstance(lead_id, LeadId):
        raise InvalidValue("lead_id", lead_id, "must be a LeadId or text")
    store = target.inner if isinstance(target, AuthorizedStore) else target
    with store.unit_of_work() as uow:
        privacy = _privacy(uow)
        lead = uow.leads.get(lead_id)
        require_permission(target, Action.READ, lead)
        if authorize is not None:
            authorize("audit", lead)
        events = privacy.events_of(lead_id)
    return field_history(events, erased=is_erased(lead))
