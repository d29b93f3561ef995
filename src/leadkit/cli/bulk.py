"""Many leads at once: ``leadkit assign`` and ``leadkit mass-edit``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from leadkit.assignment import (
    AssignmentState,
    CapacityWeighted,
    ManualAssignment,
    RoundRobin,
    Seller,
    Team,
    open_lead_counts,
)
from leadkit.cli._shared import (
    _changes,
    _echo,
    _emit_json,
    _exit_code,
    _Failed,
    _filters,
    _lead_id,
    _message,
    _now,
    _one_line,
    _pairs,
    _query,
    _settings,
    _store,
)
from leadkit.cli.app import cli
from leadkit.errors import InvalidValue
from leadkit.mass_editing import (
    ClearManualScore,
    LeadEdit,
    MassEditResult,
    Reassign,
    SetManualScore,
    mass_assign,
    mass_edit,
)
from leadkit.ports import LeadQuery, Views
from leadkit.scoring.presets import BCM_MODEL
from leadkit.values import LeadId, UserRef

# ---------------------------------------------------------------------------------------------
# Bulk: assign, mass edit, score


def _selection(
    ids: Sequence[str], query_options: dict[str, Any], everything: bool
) -> list[LeadId] | LeadQuery:
    has_filter = any(query_options[k] for k in ("owner", "states", "sources", "ratings", "text"))
    if ids and (has_filter or everything or query_options["view"] != "all"):
        raise click.UsageError("give lead ids or filters, not both")
    if ids:
        return [_lead_id(i) for i in ids]
    if not has_filter and not everything and query_options["view"] == "all":
        raise click.UsageError("give lead ids, filters, or --all")
    return _query(**query_options)


def _report_outcomes(result: MassEditResult, what: str) -> None:
    settings = _settings()
    if settings.json:
        _emit_json(
            {
                "committed": result.committed,
                "counts": result.counts(),
                "outcomes": [
                    {
                        "id": o.lead_id.value,
                        "status": o.status.value,
                        "error": None if o.error is None else _message(o.error),
                    }
                    for o in result.outcomes
                ],
            }
        )
    else:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
        state = "stored" if result.committed else "nothing stored"
        _echo(f"{what}: {counts} ({state})")
        for outcome in result.failed[:20]:
            error = outcome.error
            why = _one_line(_message(error)) if error is not None else "failed"
            _echo(f"  {outcome.lead_id}: failed: {why}")
    if not result.committed:
        first = result.failed[0]
        raise _Failed(
            f"{len(result.failed)} lead(s) failed, nothing stored; first: {first.lead_id}: "
            f"{_one_line(_message(first.error)) if first.error is not None else 'failed'}",
            _exit_code(first.error) if first.error is not None else 1,
        )


def _parse_sellers(text: str) -> tuple[Seller, ...]:
    sellers = []
    for part in text.split(","):
        user, sep, capacity = part.strip().partition(":")
        if not sep or not capacity.strip().isdigit():
            raise InvalidValue("--capacity", part, "must be USER:CAPACITY[,USER:CAPACITY...]")
        sellers.append(Seller(UserRef(user), int(capacity)))
    return tuple(sellers)


@cli.command()
@click.argument("lead_ids", nargs=-1)
@_filters
@click.option("--all", "everything", is_flag=True, help="Every lead of the view.")
@click.option("--to", "owner_to", help="Assign to this user id.")
@click.option("--round-robin", "team", help="Round-robin over USER,USER,...")
@click.option("--cursor", type=int, default=0, help="Round-robin start position.")
@click.option("--capacity", help="Capacity-weighted over USER:CAP,USER:CAP,...")
@click.option("--per-lead", is_flag=True, help="Store each success even when others fail.")
def assign(
    lead_ids: tuple[str, ...],
    everything: bool,
    owner_to: str | None,
    team: str | None,
    cursor: int,
    capacity: str | None,
    per_lead: bool,
    **query_options: Any,
) -> None:
    """Assign leads: to one user, round-robin over a team, or by capacity."""
    settings = _settings()
    chosen = [x for x in (owner_to, team, capacity) if x]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --to, --round-robin, --capacity")
    selection = _selection(lead_ids, query_options, everything)
    state = AssignmentState()
    strategy: ManualAssignment | RoundRobin | CapacityWeighted
    if owner_to:
        strategy = ManualAssignment(UserRef(owner_to))
    elif team:
        members = tuple(UserRef(m.strip()) for m in team.split(",") if m.strip())
        strategy = RoundRobin(Team("cli", members))
        state = AssignmentState(cursors={"cli": cursor})
    else:
        strategy = CapacityWeighted(_parse_sellers(capacity or ""))
    with _store() as store:
        if isinstance(strategy, CapacityWeighted):
            with store.unit_of_work() as uow:
                counts = open_lead_counts(uow.leads.stream(Views.open_leads()))
            state = AssignmentState(open_counts=counts)
        result, after = mass_assign(
            store,
            selection,
            strategy,
            at=_now(),
            by=settings.user,
            state=state,
            all_or_nothing=not per_lead,
        )
    _report_outcomes(result, "assign")
    if team and not settings.json:
        _echo(f"next round-robin cursor: {after.cursor('cli')}")


@cli.command(name="mass-edit")
@click.argument("lead_ids", nargs=-1)
@_filters
@click.option("--all", "everything", is_flag=True, help="Every lead of the view.")
@click.option("--set", "values", multiple=True, help="FIELD=VALUE (repeatable).")
@click.option(
    "--manual-score",
    type=click.IntRange(0, BCM_MODEL.max_stars),
    help=f"Set the manual score: 0 to {BCM_MODEL.max_stars} stars (the model's star scale).",
)
@click.option("--score-reason", default="", help="Why (with --manual-score).")
@click.option("--clear-manual-score", is_flag=True)
@click.option("--owner-to", help="Reassign to this user id.")
@click.option("--per-lead", is_flag=True, help="Store each success even when others fail.")
def mass_edit_command(
    lead_ids: tuple[str, ...],
    everything: bool,
    values: tuple[str, ...],
    manual_score: int | None,
    score_reason: str,
    clear_manual_score: bool,
    owner_to: str | None,
    per_lead: bool,
    **query_options: Any,
) -> None:
    """Apply one change to many leads: all or nothing unless --per-lead."""
    edits: list[LeadEdit] = []
    if values:
        edits.append(_changes(_pairs(values, "--set")))
    if manual_score is not None:
        edits.append(SetManualScore(manual_score, reason=score_reason))
    if clear_manual_score:
        edits.append(ClearManualScore())
    if owner_to:
        edits.append(Reassign(UserRef(owner_to)))
    if len(edits) != 1:
        raise click.UsageError(
            "give exactly one change: --set, --manual-score, --clear-manual-score or --owner-to"
        )
    selection = _selection(lead_ids, query_options, everything)
    with _store() as store:
        result = mass_edit(
            store,
            selection,
            edits[0],
            at=_now(),
            by=_settings().user,
            all_or_nothing=not per_lead,
        )
    _report_outcomes(result, edits[0].description)
