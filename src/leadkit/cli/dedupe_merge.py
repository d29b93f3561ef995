"""The merge side of the ``leadkit`` command: ``dedupe --merge`` and ``unmerge``.

Self-contained (the command definitions in :mod:`leadkit.cli.dedupe` only call these): the scan's
groups are walked one by one, each shown as a merge plan side by side (a rich table, one
column per lead, the surviving value marked), and merged when the user says yes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from leadkit.duplicates.matches import DuplicateGroup
from leadkit.duplicates.record_view import RecordType
from leadkit.lead import Lead
from leadkit.merging import MergePlan, Survivorship, plan_merge, rank_leads
from leadkit.ports import IdFactory, LeadStore
from leadkit.services import MergeResult, UnmergeResult, merge, unmerge
from leadkit.values import LeadId, MergeId, UserRef

__all__ = ["Answer", "merge_groups", "plan_table", "unmerge_one"]

Answer = Callable[[MergePlan], str]
"""Asks whether to merge a plan: ``y`` merges, ``n`` skips, ``q`` stops."""

SURVIVES = "✓"
"""The mark of the surviving value in :func:`plan_table`."""


_TERMINAL_CODES = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|[\x00-\x1f\x7f-\x9f]"
)


def _literal(text: str) -> Text:
    """Lead text as a table cell: shown literally (never rich markup), with escape sequences
    and control characters removed."""
    return Text(_TERMINAL_CODES.sub("", text))


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, frozenset):
        return ", ".join(sorted(value))
    full = getattr(value, "full", None)
    if isinstance(full, str):
        return full
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    label = getattr(value, "label", None)
    if isinstance(label, str) and label:
        return label
    if hasattr(value, "items") and not isinstance(value, str):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def plan_table(plan: MergePlan) -> Table:
    """The plan side by side: one row per field any lead fills, one column per lead (the
    master first) and the surviving value, marked with ✓ under the lead it came from."""
    table = Table(title=_literal(f"merge into {plan.master.id} ({len(plan.others)} other lead(s))"))
    table.add_column("field")
    for lead in plan.leads:
        role = "master" if lead is plan.master else "merged"
        table.add_column(_literal(f"{lead.id} ({role}, {lead.state})"))
    table.add_column("surviving")
    for decision in plan.decisions:
        if all(not _show(value) for _, value in decision.values):
            continue
        cells = []
        for lead_id, value in decision.values:
            mark = f" {SURVIVES}" if decision.source == lead_id else ""
            cells.append(_literal(_show(value) + mark))
        table.add_row(decision.field, *cells, _literal(_show(decision.value)))
    moved = f"{len(plan.notes)} note(s), {len(plan.activities)} activity(ies), "
    moved += f"{len(plan.stakeholders)} stakeholder(s) move to {plan.master.id}"
    table.caption = _literal(moved)
    return table


def merge_groups(
    store: LeadStore,
    groups: Iterable[DuplicateGroup],
    *,
    ask: Answer,
    console: Console,
    ids: IdFactory,
    at: Callable[[], datetime],
    by: UserRef,
    survivorship: Survivorship | None = None,
) -> list[MergeResult]:
    """Walk the duplicate groups: plan each (master: the first lead by survivorship ranking,
    at most ``survivorship.max_leads`` leads), show it, ask, merge on ``y``; ``q`` stops.
    Groups whose leads are no longer all open and unmerged are skipped. Returns the merges
    stored. Raises what :func:`leadkit.services.merge` raises."""
    policy = survivorship or Survivorship()
    done: list[MergeResult] = []
    for group in groups:
        ids_in_group = [
            LeadId(ref.record_id) for ref in group.members if ref.record_type is RecordType.LEAD
        ]
        with store.unit_of_work() as uow:
            leads = [uow.leads.get(key) for key in ids_in_group]
        leads = [lead for lead in leads if lead.is_open and not lead.is_merged]
        if len(leads) < 2:
            continue
        ranked: Sequence[Lead] = rank_leads(leads)[: policy.max_leads]
        plan = plan_merge(ranked[0], ranked[1:], policy)
        console.print(plan_table(plan))
        answer = ask(plan).strip().lower()
        if answer.startswith("q"):
            break
        if not answer.startswith("y"):
            continue
        result = merge(store, plan, ids=ids, at=at(), by=by)
        console.print(f"merged: {result.merge_id} (undo with `leadkit unmerge {result.merge_id}`)")
        done.append(result)
    return done


def unmerge_one(
    store: LeadStore,
    merge_id: str,
    *,
    force: Sequence[str],
    at: datetime,
    by: UserRef,
) -> UnmergeResult:
    """Undo one merge. Raises what :func:`leadkit.services.unmerge` raises (UnmergeConflict
    lists the fields touched since; pass them as ``force`` to overwrite them)."""
    return unmerge(store, MergeId(merge_id), at=at, by=by, force=force)
