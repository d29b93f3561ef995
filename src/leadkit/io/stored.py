"""The store side of planning an import: which stored lead a row names, and which stored
records a row to create may duplicate, read one batch of rows at a time.

:class:`StoredSide` answers both for :func:`~leadkit.io.plan.plan_import`. How it reads:

- **Keyed** (``plan_import(..., duplicates=check)``, a check whose keys live in a key store,
  ``SqlKeyStore(store.engine)`` say): the duplicates of a batch are looked up in the key table
  (:func:`leadkit.duplicates.batch.search_many`: the batch's keys in a few queries, then only
  the candidate records, through ``get_many``) and compared; the leads a batch names by
  e-mail are looked up by e-mail (``ids_by_email`` of the SQL adapter's leads). Nothing of
  the store is held in memory but a batch's candidates.
- **Full read** (no check given, or a store whose leads cannot be looked up by e-mail): the
  stored leads, contacts and accounts are read once into an in-memory index (and a map of
  e-mail addresses), as before.

Both find the same matches for every row: the keyed lookup makes the index's own choice of
blocks and stop keys, with the counts of the key table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar, cast

from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck, IndexingUnitOfWork
from leadkit.duplicates.batch import search_many
from leadkit.duplicates.compiled import CompiledRule, Prepared
from leadkit.duplicates.index import DuplicateIndex, DuplicateKeyStore
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.duplicates.record_view import RecordRef, RecordType, duplicate_record
from leadkit.duplicates.rules import DEFAULT_LEAD_RULES, DuplicateRuleSet
from leadkit.errors import ConfigurationError, InvalidValue, NotFound
from leadkit.io.drafts import draft_record
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore, UnitOfWork, unit_of_work_of
from leadkit.records import Account, Contact
from leadkit.values import AccountId, ContactId, EmailAddress, LeadId

__all__ = [
    "CANDIDATE_CACHE",
    "StoredSide",
    "build_duplicate_index",
    "check_keyed",
    "load_prepared",
    "reading",
]

CANDIDATE_CACHE: Final = 20_000
"""Candidates a keyed plan keeps prepared for its next batches (a bound on its memory)."""


def build_duplicate_index(
    uow: UnitOfWork, rule_set: DuplicateRuleSet = DEFAULT_LEAD_RULES
) -> DuplicateIndex:
    """An index of the stored leads, contacts (with their account's name as company) and
    accounts, for checking incoming leads against the store. Reads; writes nothing.
    Raises what the store raises (StorageUnavailable)."""
    index = DuplicateIndex(rule_set)
    _read_all(uow, index, None)
    return index


def _read_all(
    uow: UnitOfWork, index: DuplicateIndex | None, by_email: dict[str, LeadId] | None
) -> None:
    """Read every stored lead (and, for an index, contact and account) into ``index`` and
    ``by_email`` (the first lead of each normalised address)."""
    if index is None and by_email is None:
        return
    for lead in uow.leads.stream():
        if index is not None:
            index.add(lead)
        if by_email is not None and lead.email is not None:
            by_email.setdefault(lead.email.normalized, lead.id)
    if index is not None:
        accounts = list(uow.accounts.list())
        names = {a.id: a.name for a in accounts}
        for account in accounts:
            index.add(account)
        for contact in uow.contacts.list():
            company = names.get(contact.account_id) if contact.account_id else None
            index.add(duplicate_record(contact, company=company or contact.company))


@contextmanager
def reading(store: LeadStore | UnitOfWork | None) -> Iterator[UnitOfWork | None]:
    """A unit of work to read from: a new one (rolled back) for a store, the given one as is."""
    if store is None:
        yield None
    else:
        with unit_of_work_of(store) as uow:
            yield uow


def check_keyed(check: object, rule_set: DuplicateRuleSet) -> EngineDuplicateCheck:
    """``check`` as the keyed duplicate check of an import with ``rule_set``. Raises
    InvalidValue for a check that is not an EngineDuplicateCheck indexing leads with
    ``rule_set``; ConfigurationError when its keys were never built or were built for other
    rules (rebuild them: ``check.refresh()``)."""
    if not isinstance(check, EngineDuplicateCheck):
        raise InvalidValue("duplicates", check, "must be an EngineDuplicateCheck")
    if not check.indexes_leads:
        raise InvalidValue(
            "duplicates", check, "must index leads (EngineDuplicateCheck(..., leads=True))"
        )
    if check.rule_set != rule_set:
        raise InvalidValue("duplicates", check, "must use the rule set of the import policy")
    if check._stale():
        raise ConfigurationError(
            "engine duplicate check",
            "the duplicate keys were never built or were built for other rules: rebuild them "
            "(EngineDuplicateCheck.rebuild or refresh) before planning an import",
        )
    return check


class StoredSide:
    """What planning reads from the store (see the module docs). ``uow`` None: no store."""

    def __init__(
        self,
        uow: UnitOfWork | None,
        rule_set: DuplicateRuleSet,
        *,
        duplicates: bool,
        emails: bool,
        keyed: EngineDuplicateCheck | None = None,
    ) -> None:
        if isinstance(uow, IndexingUnitOfWork):
            uow = uow.inner  # planning only reads: the store's own repositories
        self._uow = uow
        self._rule_set = rule_set
        self._keyed = keyed if duplicates else None
        self._index: DuplicateIndex | None = None
        self._by_email: dict[str, LeadId] | None = None
        self._cache: dict[RecordRef, Prepared] = {}
        self._keys: _PlanKeys | None = None
        if uow is None:
            return
        lookup = getattr(uow.leads, "ids_by_email", None)
        full_emails = emails and not callable(lookup)
        full_index = duplicates and keyed is None
        if full_index:
            self._index = DuplicateIndex(rule_set)
        if full_emails:
            self._by_email = {}
        _read_all(uow, self._index, self._by_email)

    @property
    def checks(self) -> bool:
        """True when rows to create are checked against the store."""
        return self._index is not None or self._keyed is not None

    def forget(self) -> None:
        """Let go of what was read (the in-memory index), before the check within the file."""
        self._index = None
        self._by_email = None
        self._cache = {}
        self._keys = None

    # Rows naming a stored lead -----------------------------------------------------------

    def leads_by_email(self, emails: Collection[EmailAddress]) -> dict[str, LeadId]:
        """The stored lead of each address (normalised address to id; others left out)."""
        if self._uow is None or not emails:
            return {}
        if self._by_email is not None:
            memory = self._by_email
            return {e.normalized: memory[e.normalized] for e in emails if e.normalized in memory}
        lookup = self._uow.leads.ids_by_email  # type: ignore[attr-defined]
        return cast(dict[str, LeadId], lookup(emails))

    def existing(
        self, lead_id: LeadId | None, patch: LeadPatch, by_email: Mapping[str, LeadId]
    ) -> Lead | None:
        """The stored lead a row names: by its id cell, else by its e-mail (``by_email``:
        what :meth:`leads_by_email` found for the row's batch)."""
        uow = self._uow
        if uow is None:
            return None
        if lead_id is not None:
            try:
                return uow.leads.get(lead_id)
            except NotFound:
                return None
        email = patch.email
        if email:
            found = by_email.get(email.normalized)
            if found is not None:
                return uow.leads.get(found)
        return None

    # Duplicates of stored records ---------------------------------------------------------

    def duplicates(self, drafts: Sequence[tuple[int, LeadPatch]]) -> list[list[DuplicateMatch]]:
        """The stored records each draft (row number, patch) may duplicate, best first."""
        if not drafts:
            return []
        if self._keyed is not None:
            return self._keyed_duplicates(drafts)
        index = self._index
        if index is None:
            return [[] for _ in drafts]
        rules = index.rules_for(self._rule_set)
        compiled = index.compiled
        found: list[list[DuplicateMatch]] = []
        for number, patch in drafts:
            prepared = compiled.prepare(draft_record(number, patch))
            mine = [r for r in rules if r.rule.base_type is prepared.ref.record_type]
            found.append(index.search(prepared, mine))
        return found

    def _keyed_duplicates(
        self, drafts: Sequence[tuple[int, LeadPatch]]
    ) -> list[list[DuplicateMatch]]:
        check = self._keyed
        uow = self._uow
        assert check is not None
        assert uow is not None
        keys = check._attach(uow)
        if keys is None:
            index = check.index
        else:
            if self._keys is None or self._keys.inner is not keys:
                self._keys = _PlanKeys(keys)
            index = check.index.with_store(cast(DuplicateKeyStore, self._keys), check._load)
        rules = index.rules_for(self._rule_set)
        compiled = index.compiled
        records: list[tuple[Prepared, list[CompiledRule]]] = []
        for number, patch in drafts:
            prepared = compiled.prepare(draft_record(number, patch))
            records.append(
                (prepared, [r for r in rules if r.rule.base_type is prepared.ref.record_type])
            )
        return search_many(index, records, lambda refs: self._load(uow, index, refs))

    def _load(
        self, uow: UnitOfWork, index: DuplicateIndex, refs: Collection[RecordRef]
    ) -> dict[RecordRef, Prepared]:
        """:func:`load_prepared`, remembering up to :data:`CANDIDATE_CACHE` candidates for
        the next batches (the plan reads in one unit of work: they stay as read)."""
        cache = self._cache
        found = {ref: cache[ref] for ref in refs if ref in cache}
        missing = [ref for ref in refs if ref not in found]
        if missing:
            loaded = load_prepared(uow, index, missing)
            if len(cache) + len(loaded) > CANDIDATE_CACHE:
                cache.clear()
            cache.update(loaded)
            found.update(loaded)
        return found


_V = TypeVar("_V")

KEY_CACHE: Final = 100_000
"""Keys whose counts (and postings) a keyed plan keeps for its next batches."""


class _PlanKeys:
    """The key table of the plan's unit of work, as the plan reads it: the counts and the
    postings of the keys read for a batch are kept for the next batches (up to
    :data:`KEY_CACHE` keys each; the plan only reads, in one unit of work, so they stay as
    read), so that keys many rows share (a company, a common name) are read once. Anything
    else goes to the key table itself."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._counts: dict[str, int] = {}
        self._refs: dict[str, Sequence[RecordRef]] = {}

    def counts(self, keys: Collection[str]) -> Mapping[str, int]:
        return _read_through(self._counts, keys, self.inner.counts, 0)

    def refs(self, keys: Collection[str]) -> Mapping[str, Sequence[RecordRef]]:
        empty: Sequence[RecordRef] = ()
        return _read_through(self._refs, keys, self.inner.refs, empty)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _read_through(
    known: dict[str, _V],
    keys: Collection[str],
    read: Callable[[list[str]], Mapping[str, _V]],
    empty: _V,
) -> dict[str, _V]:
    """What ``read`` gives for ``keys`` (those it gives nothing or ``empty`` for left out),
    reading only the keys not ``known`` and remembering them (a full memory starts over)."""
    missing = [k for k in keys if k not in known]
    found: Mapping[str, _V] = read(missing) if missing else {}
    result: dict[str, _V] = {}
    for key in keys:
        value = known[key] if key in known else found.get(key, empty)
        if value:
            result[key] = value
    if missing:
        if len(known) + len(missing) > KEY_CACHE:
            known.clear()
        for key in missing:
            known[key] = found.get(key, empty)
    return result


def load_prepared(
    uow: UnitOfWork, index: DuplicateIndex, refs: Collection[RecordRef]
) -> dict[RecordRef, Prepared]:
    """The records ``refs`` name as ``uow`` sees them, prepared for ``index``'s rules (a
    record no longer stored is left out): the leads' values stored with their keys when the
    index's keys are those of ``uow``'s transaction (``SqlKeyTransaction.prepared_values``:
    written with the keys, as committed with the leads), else the leads in one ``get_many``
    call when the store has it; contacts with their account's name as company. Raises what
    the store raises."""
    compiled = index.compiled
    found: dict[RecordRef, Prepared] = {}
    leads_wanted = [r for r in refs if r.record_type is RecordType.LEAD]
    stored_values = getattr(index.store, "prepared_values", None)
    if callable(stored_values) and leads_wanted:
        found.update(stored_values(leads_wanted, len(compiled.readers)))
    lead_ids = [LeadId(r.record_id) for r in leads_wanted if r not in found]
    get_many = getattr(uow.leads, "get_many", None)
    leads: Mapping[LeadId, Lead]
    if callable(get_many):
        leads = get_many(lead_ids)
    else:
        leads = {}
        for lead_id in lead_ids:
            try:
                leads[lead_id] = uow.leads.get(lead_id)
            except NotFound:
                continue
    for lead in leads.values():
        prepared = compiled.prepare(duplicate_record(lead))
        found[prepared.ref] = prepared
    names: dict[AccountId, str | None] = {}
    for ref in refs:
        if ref.record_type is RecordType.LEAD:
            continue
        record = _other(uow, ref)
        if isinstance(record, Contact):
            company = None
            if record.account_id is not None:
                if record.account_id not in names:
                    names[record.account_id] = _account_name(uow, record.account_id)
                company = names[record.account_id]
            view = duplicate_record(record, company=company or record.company)
        elif record is not None:
            view = duplicate_record(record)
        else:
            continue
        prepared = compiled.prepare(view)
        found[prepared.ref] = prepared
    return found


def _other(uow: UnitOfWork, ref: RecordRef) -> Account | Contact | None:
    try:
        if ref.record_type is RecordType.CONTACT:
            return uow.contacts.get(ContactId(ref.record_id))
        return uow.accounts.get(AccountId(ref.record_id))
    except (NotFound, InvalidValue):
        return None


def _account_name(uow: UnitOfWork, account_id: AccountId) -> str | None:
    try:
        return uow.accounts.get(account_id).name
    except NotFound:
        return None
