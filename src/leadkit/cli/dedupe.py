"""``leadkit dedupe`` and ``leadkit unmerge``: the duplicate scan and merges (the merge
plans are shown by :mod:`leadkit.cli.dedupe_merge`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from leadkit.adapters.sql import SqlStore
from leadkit.cli._shared import _console, _echo, _emit_json, _now, _progress, _settings, _store
from leadkit.cli.app import cli
from leadkit.ports import LeadQuery

if TYPE_CHECKING:
    from leadkit.duplicate_checks import EngineDuplicateCheck


@cli.command()
@click.option("--limit", type=click.IntRange(0), default=20, show_default=True)
@click.option(
    "--merge",
    "merge_groups",
    is_flag=True,
    help="Then walk the groups: show each merge plan side by side and ask whether to merge.",
)
@click.option(
    "--probabilistic",
    is_flag=True,
    help="Also match with the probabilistic (Fellegi-Sunter) rule, fitted on the leads.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Scan in 1 to 64 processes (one shard of the leads each).")  # fmt: skip
@click.option("--window", type=click.IntRange(1), default=None,
              help="Bounded scan: in a compound block of more than 2*W+1 leads, compare "
              "each only with the W on either side of it, sorted (default: exact).")  # fmt: skip
def dedupe(
    limit: int, merge_groups: bool, probabilistic: bool, workers: int, window: int | None
) -> None:
    """Scan every lead for duplicates (progress bar) and explain the groups; with --merge,
    offer to merge each group (undo a merge with `leadkit unmerge MERGE_ID`). With --window,
    the scan's oversized compound blocks are compared by sorted neighbourhood (faster on
    large stores; a pair far apart in such a block can be missed)."""
    from leadkit.duplicates import DEFAULT_LEAD_RULES
    from leadkit.duplicates.probabilistic import with_fitted_rule
    from leadkit.scan_workers import scan_in_processes

    with _store() as store, store.unit_of_work() as uow, _progress() as progress:
        total = uow.leads.count(LeadQuery())
        task = progress.add_task("reading leads", total=total)
        leads = []
        for lead in uow.leads.stream(batch_size=1000):
            leads.append(lead)
            if len(leads) % 500 == 0:
                progress.update(task, completed=len(leads))
        progress.update(task, completed=len(leads))
        rules = with_fitted_rule(DEFAULT_LEAD_RULES, leads) if probabilistic else DEFAULT_LEAD_RULES
        found = scan_in_processes(leads, rules, workers=workers, window=window)
    if _settings().json:
        _emit_json(
            {
                "records": found.records,
                "groups": [
                    {
                        "members": [str(m) for m in g.members],
                        "evidence": [_evidence_json(e) for e in g.edges],
                    }
                    for g in found.groups
                ],
            }
        )
        return
    _echo(f"{len(found.groups)} duplicate group(s) among {found.records} leads")
    for group in found.groups[:limit]:
        _echo(", ".join(str(m) for m in group.members))
        for edge in group.edges:
            _echo("  " + edge.explain().replace("\n", "\n  "))
    if merge_groups:
        _merge_groups(found.groups)


def _merge_groups(groups: Sequence[Any]) -> None:
    from leadkit.cli import dedupe_merge

    def ask(_plan: object) -> str:
        return str(click.prompt("Merge these leads? [y]es / [n]o / [q]uit", default="n"))

    with _store() as store:
        done = dedupe_merge.merge_groups(
            store, groups, ask=ask, console=_console(), ids=lambda: f"M-{uuid.uuid4().hex[:12]}",
            at=_now, by=_settings().user,
        )  # fmt: skip
    _echo(f"{len(done)} merge(s) stored")


@cli.command()
@click.argument("merge_id")
@click.option(
    "--force",
    multiple=True,
    help="Overwrite this field although it changed since the merge (repeatable).",
)
def unmerge(merge_id: str, force: tuple[str, ...]) -> None:
    """Undo a merge: every lead back as it was before, what moved moved back."""
    from leadkit.cli import dedupe_merge

    with _store() as store:
        result = dedupe_merge.unmerge_one(
            store, merge_id, force=force, at=_now(), by=_settings().user
        )
    restored = ", ".join(str(lead.id) for lead in result.leads)
    _echo(f"unmerged {merge_id}: restored {restored}")


def _evidence_json(edge: Any) -> dict[str, object]:
    """One match as fields: the two records, the rule and score, each condition's values."""

    def conditions(evidence: Any) -> list[dict[str, object]]:
        return [
            {
                "operator": c.condition.operator.value,
                "field": c.condition.base_field,
                "matching_field": c.condition.matching_field,
                "value": c.base_value,
                "matching_value": c.matching_value,
                "similarity": c.similarity,
                **({} if c.weight is None else {"level": c.level, "weight": c.weight}),
            }
            for c in evidence
        ]

    return {
        "record": str(edge.record),
        "candidate": str(edge.candidate),
        "rule": edge.rule,
        "score": edge.score,
        "conditions": conditions(edge.conditions),
        "other_rules": [
            {"rule": r.rule, "score": r.score, "conditions": conditions(r.conditions)}
            for r in edge.other_rules
        ],
        "text": edge.explain(),
    }


def _duplicate_check(store: SqlStore) -> EngineDuplicateCheck:
    """The duplicate engine over the stored accounts and contacts, which qualification checks
    every lead against; qualify through ``check.store`` so the records it creates are indexed.

    The blocking keys live in the database (``duplicate_keys``), written in the same
    transaction as the records: a command reads the keys it needs and rebuilds them from
    every account and contact only when they are missing or were built for other rules (or
    by another leadkit key format)."""
    from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
    from leadkit.duplicate_checks import EngineDuplicateCheck

    check = EngineDuplicateCheck.from_store(
        store, key_store=SqlKeyStore(store.engine), rebuild=False
    )
    check.refresh()
    return check
