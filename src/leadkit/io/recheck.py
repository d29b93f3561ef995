"""The duplicate check made again as an import batch writes its new leads.

:func:`~leadkit.io.run.run_import` with ``duplicates=check`` looks every lead it is about to
create up once more, under locks on the batch's keys (see :mod:`leadkit.io.run`).
:class:`BatchRecheck` does for a whole batch what
:meth:`EngineDuplicateCheck.matches <leadkit.duplicate_checks.EngineDuplicateCheck.matches>` does
for one lead: the committed records are looked up for every lead of the batch at once
(:func:`~leadkit.duplicates.batch.search_many`: a few queries of the key table and one read of
the candidates), then, lead by lead as the batch is written, the records written earlier in
the unit of work are looked up in memory. Each lead gets the matches ``matches`` would give it.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck, IndexingUnitOfWork
from leadkit.duplicates.batch import search_many
from leadkit.duplicates.compiled import CompiledRule, Prepared
from leadkit.duplicates.index import match_order
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.duplicates.record_view import duplicate_record
from leadkit.io.stored import load_prepared
from leadkit.lead import Lead
from leadkit.ports import UnitOfWork

__all__ = ["BatchRecheck"]


class BatchRecheck:
    """The stored duplicates of a batch's new leads, looked up at once; then
    :meth:`matches` per lead, in the order they are written.

    ``uow`` must come from ``check.store``; the batch's keys must be locked in it already
    (``check.lock_all``). Raises ConfigurationError as ``matches`` does (a unit of work not
    of ``check.store``, keys built for other rules), StorageUnavailable.
    """

    def __init__(self, check: EngineDuplicateCheck, uow: UnitOfWork, leads: Sequence[Lead]):
        work = check._own(uow)
        self._check = check
        self._work: IndexingUnitOfWork = work
        self._stored: list[list[DuplicateMatch]] = []
        if not leads:
            return
        work._lock_for(leads[0])  # the fingerprint check; the keys are held already
        inner = work.inner
        keys = work._keys
        index = check.index if keys is None else work._attached_index(keys)
        compiled = index.compiled
        records: list[tuple[Prepared, list[CompiledRule]]] = []
        for lead in leads:
            prepared = compiled.prepare(duplicate_record(lead))
            rules = [r for r in check._rules if r.rule.base_type is prepared.ref.record_type]
            records.append((prepared, rules))
        with check._lock:
            self._stored = search_many(
                index, records, lambda refs: load_prepared(inner, index, refs)
            )

    def matches(self, position: int, lead: Lead) -> list[DuplicateMatch]:
        """What ``check.matches(lead, uow)`` finds for the batch's lead at ``position``, as
        the unit of work stands now: its committed duplicates (less the records changed in
        the unit of work) and the records written in it; best first, at most the check's
        limit."""
        work = self._work
        changes = work._changes
        found = [m for m in self._stored[position] if m.candidate not in changes]
        if changes:
            view = duplicate_record(lead)
            overlay = work._changes_index()
            prepared = overlay.compiled.prepare(view)
            mine = overlay.rules_for(overlay.rule_set)
            found += overlay.search(
                prepared, [r for r in mine if r.rule.base_type is prepared.ref.record_type]
            )
        found.sort(key=match_order)
        limit = self._check.limit
        return found if limit is None else found[:limit]
