"""The duplicate engine as qualification's duplicate check.

:class:`EngineDuplicateCheck` implements :class:`leadkit.conversion.DuplicateCheck` over a
:class:`~leadkit.duplicates.index.DuplicateIndex` of the store's accounts and contacts (and,
when asked, its leads)::

    check = EngineDuplicateCheck.from_store(store)  # indexes the stored accounts and contacts
    qualify(check.store, lead_id, request, policy, finder=check, at=now, by=user, id_factory=ids)

Every :class:`~leadkit.duplicates.matches.DuplicateMatch` the engine finds for the lead becomes
a :class:`~leadkit.conversion.DuplicateCandidate` of the candidate's type and id, with the
match's score and its explanation as the reason (:func:`candidate_from_match`), so the
policy's WARN / BLOCK / IGNORE and the LINK / CREATE_ANYWAY answers work as for any check.

Keeping the index true
----------------------
``check.store`` is the store seen through the check (:class:`IndexingStore`); qualify through
it. Its units of work (:class:`IndexingUnitOfWork`) note every account and contact (and lead,
when leads are indexed) written through them:

- :meth:`EngineDuplicateCheck.find` in that unit of work also compares the lead with the
  records written in it, and no longer with their committed versions: a contact created for
  one lead is a candidate for the next lead qualified in the same unit of work;
- ``commit()`` hands them to the index with the store's commit: inside the store's transaction
  when the keys live in its database (``SqlKeyStore`` on the same database, see below), else
  just before the store commits (one key-store call), put back should the commit fail;
- ``rollback()``, or leaving the block without a commit, forgets them: the index never keeps a
  record that was not committed.

One person, one contact
-----------------------
Before its lookup, :meth:`EngineDuplicateCheck.find` locks the lead's blocking keys in the
store's unit of work (its ``lock_keys``, when it has one: ``MemoryUnitOfWork`` and
``SqlUnitOfWork`` do): the keys the lead is looked up by and those of the contact and account
made from it (:meth:`EngineDuplicateCheck.lock_keys_of`). Two leads of one person share one,
so two qualifications of that person take turns, and the second sees the first one's records.
The locks end with the unit of work, after its records (and keys) are in place.

With ``key_store=SqlKeyStore(store.engine)`` the keys are read and written on the unit of
work's connection, inside its transaction (``SqlKeyStore.attach``): this holds across
processes. The keys then carry the :attr:`EngineDuplicateCheck.fingerprint` of the rules they
were built for; a lookup on keys built for other rules (or never built) raises
ConfigurationError until :meth:`EngineDuplicateCheck.refresh` (or ``rebuild``) rebuilt them.

A match from the index is read through the unit of work before it is reported, so a record
deleted since it was indexed (by another process, say) is never a candidate. Records written
around ``check.store`` are indexed by the next :meth:`EngineDuplicateCheck.rebuild`.

A contact is matched with the name of its account as its company (else its own ``company``
text); renaming or deleting an account through ``check.store`` re-indexes its contacts.

The in-memory index is not thread-safe: a host whose threads share one check passes a lock
(``lock=threading.Lock()``), which the check holds around every use of the index.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any, Final, Protocol, Self, cast

import attrs

from leadkit.conversion_request import DuplicateCandidate
from leadkit.duplicate_checks.watched import (
    _account_name,
    _Change,
    _read,
    _ref_of,
    _view,
    _WatchedAccounts,
    _WatchedContacts,
    _WatchedLeads,
)
from leadkit.duplicates.candidates import _candidate, keys_fingerprint
from leadkit.duplicates.compiled import CompiledRule
from leadkit.duplicates.index import (
    DEFAULT_MAX_BLOCK_SIZE,
    DuplicateIndex,
    DuplicateKeyStore,
    IndexStats,
    match_order,
)
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.duplicates.record_view import DuplicateRecord, RecordRef, RecordType, duplicate_record
from leadkit.duplicates.rules import DEFAULT_LEAD_RULES, DuplicateRuleSet
from leadkit.errors import ConfigurationError
from leadkit.events import LeadEvent
from leadkit.lead import Lead
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    LeadRepository,
    LeadStore,
    OpportunityRepository,
    UnitOfWork,
)
from leadkit.records import Account, Contact
from leadkit.values import AccountId

__all__ = [
    "EngineDuplicateCheck",
    "IndexingStore",
    "IndexingUnitOfWork",
]


_WHAT: Final = "engine duplicate check"
_LOCK_PREFIX: Final = "duplicate-key:"  # the check's keys among the store's key locks


class _AttachedKeys(DuplicateKeyStore, Protocol):
    """A key store inside one unit of work's transaction (``SqlKeyTransaction``)."""

    def lock_for_writing(self) -> None: ...

    def lock_for_rebuild(self) -> None: ...

    def fingerprint(self) -> str | None: ...

    def set_fingerprint(self, fingerprint: str | None) -> None: ...


class IndexingUnitOfWork:
    """A unit of work of the store, seen through an :class:`EngineDuplicateCheck`: the same
    repositories and promises (:class:`leadkit.ports.UnitOfWork`), and the accounts, contacts
    (and leads, when indexed) written through it reach the check's index when — and only
    when — the store commits them.

    Get one from ``check.store.unit_of_work()``. Raises what the store's unit of work raises;
    ``commit`` may also raise the key store's StorageUnavailable (then nothing is stored).
    """

    leads: LeadRepository
    accounts: AccountRepository
    contacts: ContactRepository
    opportunities: OpportunityRepository

    def __init__(self, inner: UnitOfWork, check: EngineDuplicateCheck) -> None:
        self._inner = inner
        self._check = check
        self._keys = check._attach(inner)  # the keys inside the store's transaction
        self._attached: DuplicateIndex | None = None  # the check's index over them
        self._writing = False  # the key table is locked for writing in this transaction
        self._changes: dict[RecordRef, _Change] = {}
        self._overlay: DuplicateIndex | None = None  # the changes, indexed once looked up
        self.accounts = _WatchedAccounts(self, inner.accounts)
        self.contacts = _WatchedContacts(self, inner.contacts)
        self.leads = _WatchedLeads(self, inner.leads) if check.indexes_leads else inner.leads
        self.opportunities = inner.opportunities
        idempotency = getattr(inner, "idempotency", None)
        if idempotency is not None:  # the store's idempotency keys, in the same transaction
            self.idempotency = idempotency
        merges = getattr(inner, "merges", None)
        if merges is not None:  # the store's merge records, in the same transaction
            self.merges = merges
        privacy = getattr(inner, "privacy", None)
        if privacy is not None:  # the store's erasure support (leadkit.privacy)
            self.privacy = privacy
        record_merges = getattr(inner, "record_merges", None)
        if record_merges is not None:  # contact and account merges, likewise
            self.record_merges = record_merges

    @property
    def inner(self) -> UnitOfWork:
        """The store's own unit of work."""
        return self._inner

    @property
    def check(self) -> EngineDuplicateCheck:
        """The check whose index this unit of work keeps current."""
        return self._check

    @property
    def pending(self) -> Mapping[RecordRef, DuplicateRecord | None]:
        """The records written since the last commit or rollback, as the index will get them
        on commit (None: deleted)."""
        return {ref: change.view for ref, change in self._changes.items()}

    @property
    def events(self) -> Sequence[LeadEvent]:
        """The events collected since the last commit or rollback."""
        return self._inner.events

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._forget()
        self._writing = False
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        """Commit the store's unit of work and index what it wrote.

        With keys in the store's database (:meth:`EngineDuplicateCheck.attached`), the keys
        are written in the store's transaction and committed with the records. Otherwise the
        index gets the changes just before the store commits (while the unit of work still
        holds its key locks, so a concurrent lookup of the same person finds them); should
        the commit fail, the index is put back to what the store holds.

        Raises what the store's commit raises (nothing is stored then, unless an event sink
        raised after the commit) or the key store's error (then nothing is stored).
        """
        changes = list(self._changes.values())
        self._forget()
        keys = self._keys
        if keys is not None:
            if changes:
                if not self._writing:
                    keys.lock_for_writing()
                self._check._apply(changes, self._attached_index(keys))
            self._writing = False
            self._inner.commit()
            return
        self._check._apply(changes)
        try:
            self._inner.commit()
        except BaseException:
            self._check._revert(changes)
            raise

    def rollback(self) -> None:
        """Forget every change made since the last commit; the index never sees them."""
        self._forget()
        self._writing = False
        self._inner.rollback()

    # Locks and the keys of the transaction ------------------------------------------------

    def lock_keys(self, keys: Collection[str]) -> None:
        """Lock named keys through the store's unit of work, when it can lock keys (as
        ``MemoryUnitOfWork`` and ``SqlUnitOfWork`` can); held until it commits, rolls back
        or ends. Raises what the store's ``lock_keys`` raises (StorageUnavailable)."""
        lock = getattr(self._inner, "lock_keys", None)
        if callable(lock):
            lock(keys)

    def _lock_for(self, lead: Lead) -> None:
        """Before looking up ``lead``'s duplicates: lock the keys of its lookup and of the
        contact and account a qualification would create from it, then (keys in the
        database) make sure the keys are the check's. Raises ConfigurationError for keys
        built for other rules, StorageUnavailable."""
        check = self._check
        keys = self._keys
        if keys is not None and not self._writing:
            keys.lock_for_writing()
            self._writing = True
            found = keys.fingerprint()
            if found != check.fingerprint:
                state = "were never built" if found is None else "were built for other rules"
                raise ConfigurationError(
                    _WHAT,
                    f"the duplicate keys in the database {state}: rebuild them "
                    "(EngineDuplicateCheck.rebuild or refresh) before qualifying",
                )
        self.lock_keys(check._lock_keys(lead))

    def _attached_index(self, keys: _AttachedKeys) -> DuplicateIndex:
        if self._attached is None:
            self._attached = self._check._index.with_store(
                keys, lambda refs: self._check._views(self._inner, refs)
            )
        return self._attached

    # Noting writes ------------------------------------------------------------------------

    def _forget(self) -> None:
        self._changes = {}
        self._overlay = None

    def _note(self, change: _Change) -> None:
        self._changes[change.ref] = change
        overlay = self._overlay
        if overlay is not None:
            if change.view is None:
                overlay.remove(change.ref)
            else:
                overlay.update(change.view)

    def _changes_index(self) -> DuplicateIndex:
        """The records written in this unit of work, indexed (built at the first lookup after
        a write, then kept in step), so that a lookup never compares a lead with all of
        them and finds them as the check's index would."""
        if self._overlay is None:
            overlay = DuplicateIndex(self._check.rule_set)
            overlay.rebuild(c.view for c in self._changes.values() if c.view is not None)
            self._overlay = overlay
        return self._overlay

    def _written(self, record: Lead | Contact) -> None:
        ref = _ref_of(record)
        if isinstance(record, Contact):
            view = duplicate_record(record, company=self._account_name(record.account_id))
        else:
            view = duplicate_record(record)
        self._note(_Change(ref, record, view))

    def _account_name(self, account_id: AccountId | None) -> str | None:
        """The name of an account as this unit of work sees it (None: no such account): the
        one written in it, else the stored one."""
        if account_id is None:
            return None
        change = self._changes.get(RecordRef(RecordType.ACCOUNT, account_id.value))
        if change is not None:
            return None if change.record is None else cast(Account, change.record).name
        return _account_name(self._inner, account_id)

    def _deleted(self, ref: RecordRef) -> None:
        self._note(_Change(ref, None, None))

    def _account_written(
        self, account_id: AccountId, account: Account | None, *, renamed: bool
    ) -> None:
        ref = RecordRef(RecordType.ACCOUNT, account_id.value)
        view = None if account is None else duplicate_record(account)
        self._note(_Change(ref, account, view))
        # The contacts of the account are matched with its name: give them the new one.
        if renamed:
            contacts: Iterable[Contact] = self._inner.contacts.list()
        else:
            contacts = [c.record for c in self._changes.values() if isinstance(c.record, Contact)]
        company = None if account is None else account.name
        for contact in contacts:
            if contact.account_id == account_id:
                key = _ref_of(contact)
                rekeyed = duplicate_record(contact, company=company)
                self._note(_Change(key, contact, rekeyed))


class IndexingStore:
    """The store seen through an :class:`EngineDuplicateCheck` (``check.store``): a
    :class:`leadkit.ports.LeadStore` whose units of work are :class:`IndexingUnitOfWork`.

    Pass it wherever the store goes (the services' ``target``). Raises what the store
    raises.
    """

    def __init__(self, store: LeadStore, check: EngineDuplicateCheck) -> None:
        self._inner = store
        self._check = check

    @property
    def inner(self) -> LeadStore:
        """The store itself."""
        return self._inner

    @property
    def check(self) -> EngineDuplicateCheck:
        """The check whose index the units of work keep current."""
        return self._check

    @property
    def outbox(self) -> Any:
        """The store's outbox (:class:`leadkit.ports.Outbox`). Raises AttributeError when the
        store has none."""
        return self._inner.outbox  # type: ignore[attr-defined]

    def unit_of_work(self) -> IndexingUnitOfWork:
        """A new unit of work of the store, keeping the index current. Raises
        StorageUnavailable if the store cannot be used."""
        return IndexingUnitOfWork(self._inner.unit_of_work(), self._check)

    def close(self) -> None:
        """Close the store."""
        self._inner.close()

    def __repr__(self) -> str:
        return f"IndexingStore({self._inner!r})"


# ---------------------------------------------------------------------------------------------
# The check


def _check_limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(_WHAT, f"limit must be a positive integer or None (got {value!r})")
    return value


class EngineDuplicateCheck:
    """Qualification's :class:`~leadkit.conversion.DuplicateCheck`, backed by the duplicate
    engine: the accounts and contacts (and, with ``leads``, the leads) of ``store`` that the
    rules of ``rule_set`` match with the lead being qualified.

    The index starts empty — :meth:`from_store` builds it from what is stored — with its keys
    in memory, or in ``key_store`` (a ``SqlKeyStore``, say: then they persist, nothing but the
    keys is kept in memory and candidates are read through the unit of work). ``limit`` caps
    the candidates per lead (best first); ``max_block_size`` is the index's stop-key limit;
    ``lock`` (a ``threading.Lock``, say) is held around every use of the index, for a check
    shared between threads.
    The rule set's own check mode is not used: the qualification policy's ``duplicates``
    setting decides.

    Qualify through :attr:`store` (see the module docs). Raises ConfigurationError for a
    ``limit`` below 1 or a bad ``max_block_size``.
    """

    def __init__(
        self,
        store: LeadStore,
        rule_set: DuplicateRuleSet = DEFAULT_LEAD_RULES,
        *,
        key_store: DuplicateKeyStore | None = None,
        leads: bool = False,
        limit: int | None = None,
        max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        if not isinstance(rule_set, DuplicateRuleSet):
            raise ConfigurationError(_WHAT, f"rule_set must be a DuplicateRuleSet ({rule_set!r})")
        self._limit = _check_limit(limit)
        self._leads = bool(leads)
        self._loads = key_store is not None  # candidates are read through the loader
        self._raw = store
        self._store = IndexingStore(store, self)
        self._index = DuplicateIndex(
            rule_set,
            store=key_store,
            loader=None if key_store is None else self._load,
            max_block_size=max_block_size,
        )
        self._rules: tuple[CompiledRule, ...] = self._index.rules_for(rule_set)
        self._descriptions = {rule.name: rule.description for rule in rule_set.rules}
        self._reader: UnitOfWork | None = None
        self._lock: AbstractContextManager[Any] = nullcontext() if lock is None else lock
        self._built = False
        self._fingerprint = keys_fingerprint(rule_set, leads=self._leads)

    @classmethod
    def from_store(
        cls,
        store: LeadStore,
        rule_set: DuplicateRuleSet = DEFAULT_LEAD_RULES,
        *,
        key_store: DuplicateKeyStore | None = None,
        rebuild: bool = True,
        leads: bool = False,
        limit: int | None = None,
        max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
        lock: AbstractContextManager[Any] | None = None,
    ) -> EngineDuplicateCheck:
        """A check whose index holds the accounts and contacts (and, with ``leads``, the
        leads) stored in ``store`` now.

        With a persistent ``key_store`` that an earlier check kept current, pass
        ``rebuild=False`` and call :meth:`refresh`, which rebuilds only keys that are missing
        or were built for other rules. Raises ConfigurationError as the
        constructor does, StorageUnavailable (or another RepositoryError) when the store or
        the key store fails.
        """
        check = cls(
            store,
            rule_set,
            key_store=key_store,
            leads=leads,
            limit=limit,
            max_block_size=max_block_size,
            lock=lock,
        )
        if rebuild:
            check.rebuild()
        return check

    # Properties ---------------------------------------------------------------------------

    @property
    def store(self) -> IndexingStore:
        """The store seen through the check: qualify through it."""
        return self._store

    @property
    def index(self) -> DuplicateIndex:
        """The index of the committed records (share it with other checks of the same
        records, e.g. :func:`~leadkit.duplicates.engine.check_on_save`)."""
        return self._index

    @property
    def rule_set(self) -> DuplicateRuleSet:
        """The rules that decide what is a duplicate."""
        return self._index.rule_set

    @property
    def indexes_leads(self) -> bool:
        """True when leads are indexed too (qualification ignores lead candidates; they are
        for :meth:`matches`)."""
        return self._leads

    @property
    def limit(self) -> int | None:
        """The most candidates reported per lead (None: all)."""
        return self._limit

    # Building -----------------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """What the keys depend on, as a short text: the rule set's rules, the record types
        indexed and :data:`~leadkit.duplicates.compiled.KEY_FORMAT_VERSION`. Stored with
        persistent keys, so that keys built for other rules are rebuilt, never used."""
        return self._fingerprint

    def rebuild(self) -> IndexStats:
        """Index every account and contact (and lead, when indexed) the store holds now,
        forgetting everything indexed before, and store the :attr:`fingerprint` with
        persistent keys. With the keys in the store's database this is one transaction that
        waits for the units of work writing keys and keeps new ones out until it commits.

        Raises StorageUnavailable (or another RepositoryError) when the store or the key
        store fails; then the keys are as they were.
        """
        stats = self._rebuild(only_if_stale=False)
        assert stats is not None
        return stats

    def refresh(self) -> bool:
        """Rebuild the keys only when they are missing or were built for other rules (their
        stored fingerprint differs from :attr:`fingerprint`); a check whose keys are in
        memory rebuilds when it has not been built yet. Returns True when it rebuilt.

        Processes that refresh at once rebuild once: the fingerprint is read again under the
        rebuild's lock. Raises as :meth:`rebuild` does.
        """
        if not self._stale():
            return False
        return self._rebuild(only_if_stale=True) is not None

    def _stale(self) -> bool:
        read = getattr(self._index.store, "fingerprint", None)
        if not callable(read):
            return not self._built
        return bool(read() != self.fingerprint)

    def _rebuild(self, *, only_if_stale: bool) -> IndexStats | None:
        with self._raw.unit_of_work() as uow:
            keys = self._attach(uow)
            if keys is not None:
                keys.lock_for_rebuild()  # SQLite: the write transaction, before any read
                if only_if_stale and keys.fingerprint() == self.fingerprint:
                    return None
            views = self._stored_views(uow)
            if keys is not None:
                index = self._index.with_store(keys, lambda refs: self._views(uow, refs))
                stats = index.rebuild(views)
                keys.set_fingerprint(self.fingerprint)
                uow.commit()
                self._built = True
                return stats
        with self._lock:
            stats = self._index.rebuild(views)
            mark = getattr(self._index.store, "set_fingerprint", None)
            if callable(mark):
                mark(self.fingerprint)
            self._built = True
            return stats

    def _stored_views(self, uow: UnitOfWork) -> list[DuplicateRecord]:
        accounts = uow.accounts.list()
        names = {account.id: account.name for account in accounts}
        views = [duplicate_record(account) for account in accounts]
        views += [
            duplicate_record(contact, company=names.get(contact.account_id))
            if contact.account_id is not None
            else duplicate_record(contact)
            for contact in uow.contacts.list()
        ]
        if self._leads:
            views += [duplicate_record(lead) for lead in uow.leads.stream()]
        return views

    # The check ----------------------------------------------------------------------------

    def find(self, lead: Lead, uow: UnitOfWork) -> tuple[DuplicateCandidate, ...]:
        """The accounts and contacts (and leads, when indexed) ``lead`` may duplicate, as
        qualification candidates, best first (see :func:`candidate_from_match`).

        ``uow`` must come from :attr:`store`; the lead's keys are locked in it first (see the
        module docs). Raises ConfigurationError when it does not (the records the
        qualification creates would not be indexed) or when the keys in the database were
        built for other rules (or never built); RepositoryError when the store or the key
        store fails (StorageUnavailable when the keys stay locked too long).
        """
        descriptions = self._descriptions
        return tuple(
            _candidate(match, descriptions.get(match.rule, "")) for match in self.matches(lead, uow)
        )

    def matches(self, lead: Lead, uow: UnitOfWork) -> list[DuplicateMatch]:
        """:meth:`find` with the engine's explained matches: the committed records of the
        index (less those changed in ``uow``) and the records written in ``uow``, each
        stored record confirmed through ``uow``; best first, at most :attr:`limit`.

        First locks the lead's keys in ``uow`` (see the module docs), so the lookup sees
        every record a concurrent qualification of the same person committed. Raises as
        :meth:`find` does.
        """
        work = self._own(uow)
        work._lock_for(lead)
        view = duplicate_record(lead)
        prepared = self._index.compiled.prepare(view)
        rules = [r for r in self._rules if r.rule.base_type is prepared.ref.record_type]
        if not rules:
            return []
        changes = work._changes
        inner = work.inner
        keys = work._keys
        if keys is not None:
            stored = work._attached_index(keys).search(prepared, rules)
        else:
            with self._lock:
                self._reader = inner
                try:
                    stored = self._index.search(prepared, rules)
                finally:
                    self._reader = None
        loaded = self._loads  # read through ``inner`` already: what is gone was skipped
        found = [
            match
            for match in stored
            if match.candidate not in changes
            and (loaded or _read(inner, match.candidate) is not None)
        ]
        if changes:
            overlay = work._changes_index()
            mine = overlay.rules_for(overlay.rule_set)
            found += overlay.search(
                overlay.compiled.prepare(view),
                [r for r in mine if r.rule.base_type is prepared.ref.record_type],
            )
        found.sort(key=match_order)
        return found if self._limit is None else found[: self._limit]

    def lock_keys_of(self, lead: Lead) -> frozenset[str]:
        """The keys a qualification of ``lead`` locks before its lookup: the keys the lead
        is looked up by (rules from leads to contacts and accounts) and those the contact
        and the account made from it would be indexed under. Two leads of one person share
        at least one, so their qualifications take turns. When leads are indexed, also the
        keys the lead is looked up by among leads and those it is indexed under itself: a
        lead and a lead it duplicates then share one too (an import creating them takes
        turns)."""
        compiled = self._index.compiled
        view = duplicate_record(lead)
        prepared = compiled.prepare(view)
        keys: set[str] = set()
        for rule in compiled.by_base.get(RecordType.LEAD, ()):
            if rule.rule.matching_type is RecordType.LEAD and not self._leads:
                continue
            for condition_keys in rule.query_keys(prepared) or ():
                keys.update(condition_keys)
        for kind in (RecordType.CONTACT, RecordType.ACCOUNT):
            made = compiled.prepare(attrs.evolve(view, record_type=kind))
            keys.update(compiled.index_keys(made))
        if self._leads:
            keys.update(compiled.index_keys(prepared))
        return frozenset(keys)

    def lock_all(self, leads: Iterable[Lead], uow: UnitOfWork) -> None:
        """Lock the keys of every lead of ``leads`` (:meth:`lock_keys_of`) in ``uow`` at
        once, in one order, until it ends: a unit of work about to check several leads (an
        import batch) takes them all before its first lookup, so that two such units of
        work never wait for each other's keys in opposite orders (a deadlock on
        PostgreSQL). The lookups of :meth:`matches` then find their keys held.

        Raises ConfigurationError when ``uow`` does not come from :attr:`store`,
        StorageUnavailable when the store fails.
        """
        work = self._own(uow)
        keys: set[str] = set()
        for lead in leads:
            keys.update(self._lock_keys(lead))
        work.lock_keys(sorted(keys))

    # Internals ----------------------------------------------------------------------------

    def _own(self, uow: UnitOfWork) -> IndexingUnitOfWork:
        if isinstance(uow, IndexingUnitOfWork) and uow.check is self:
            return uow
        raise ConfigurationError(
            _WHAT,
            "the unit of work does not come from check.store: qualify through check.store, "
            "so that the records the qualification creates are indexed",
        )

    def _load(self, refs: Sequence[RecordRef]) -> list[DuplicateRecord]:
        """The loader of an index whose keys live outside memory: the records by reference,
        read through the unit of work of the lookup (else a new one)."""
        if self._reader is not None:
            return self._views(self._reader, refs)
        with self._raw.unit_of_work() as uow:
            return self._views(uow, refs)

    @staticmethod
    def _views(uow: UnitOfWork, refs: Sequence[RecordRef]) -> list[DuplicateRecord]:
        found: list[DuplicateRecord] = []
        for ref in refs:
            record = _read(uow, ref)
            if record is not None:
                found.append(_view(uow, record))
        return found

    def _attach(self, uow: UnitOfWork) -> _AttachedKeys | None:
        """The keys inside ``uow``'s transaction, when the key store lives in the store's
        database (``SqlKeyStore.attach``); else None."""
        attach = getattr(self._index.store, "attach", None)
        if not callable(attach):
            return None
        return cast("_AttachedKeys | None", attach(uow))

    def _lock_keys(self, lead: Lead) -> list[str]:
        """:meth:`lock_keys_of`, named apart from other users of the store's key locks and
        sorted."""
        return sorted(_LOCK_PREFIX + key for key in self.lock_keys_of(lead))

    def _apply(self, changes: Sequence[_Change], index: DuplicateIndex | None = None) -> None:
        """Hand changes to the index (``index``: the check's index in one transaction)."""
        if not changes:
            return
        views = [c.view for c in changes if c.view is not None]
        gone = [c.ref for c in changes if c.view is None]
        if index is not None:
            index.update_many(views, gone)
            return
        with self._lock:
            self._index.update_many(views, gone)

    def _revert(self, changes: Sequence[_Change]) -> None:
        """After a commit that raised: give the index what the store holds for the changed
        records (an event sink raises after the commit; a failed commit stored nothing);
        never raises."""
        try:
            with self._raw.unit_of_work() as uow:
                stored = [(c.ref, _read(uow, c.ref)) for c in changes]
                views = [_view(uow, record) for _, record in stored if record is not None]
            gone = [ref for ref, record in stored if record is None]
            with self._lock:
                self._index.update_many(views, gone)
        except Exception:  # the commit's own error is the one to report
            return
