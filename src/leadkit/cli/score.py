"""``leadkit score``: rescore every lead with a progress bar."""

from __future__ import annotations

import click
from rich.progress import Progress

from leadkit.adapters.sql import SqlStore
from leadkit.bulk import rescore_store
from leadkit.cli._shared import _echo, _emit_json, _now, _progress, _settings, _store
from leadkit.cli.app import cli
from leadkit.ports import LeadQuery
from leadkit.scoring.presets import BCM_MODEL
from leadkit.scoring.score_reports import RescoreProgress


def _rescore(store: SqlStore, progress: Progress, *, only_outdated: bool) -> RescoreProgress:
    task = progress.add_task("scoring", total=None)

    def report(step: RescoreProgress) -> None:
        progress.update(task, completed=step.seen, total=step.total)

    user = _settings().user
    return rescore_store(
        store, BCM_MODEL, at=_now(), by=user, only_outdated=only_outdated, progress=report
    )


def _rescore_in_processes(workers: int, *, only_outdated: bool) -> RescoreProgress:
    from leadkit.cli import workers as runner

    settings = _settings()
    with _store() as store, store.unit_of_work() as uow:  # opened here: checked first
        total = uow.leads.count(LeadQuery())
    url, path = settings.target()
    address = runner.StoreAddress(url, None if path is None else str(path), settings.busy_timeout)
    with _progress() as progress:
        task = progress.add_task(f"scoring ({workers} workers)", total=total)
        return runner.rescore(
            address, BCM_MODEL, at=_now(), by=settings.user, workers=workers,
            only_outdated=only_outdated,
            progress=lambda seen: progress.update(task, completed=seen),
        )  # fmt: skip


@cli.command(name="score")
@click.option("--outdated", is_flag=True, help="Only leads not scored by this model version.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True,
    help="Processes to rescore with, each one shard of the leads.",
)  # fmt: skip
def score_command(outdated: bool, workers: int) -> None:
    """Rescore every lead with the default model, with a progress bar.

    A unit of work per 10,000 leads; with --workers N, N processes each rescore one shard of
    the leads."""
    if workers > 1:
        final = _rescore_in_processes(workers, only_outdated=outdated)
    else:
        with _store() as store, _progress() as progress:
            final = _rescore(store, progress, only_outdated=outdated)
    if _settings().json:
        _emit_json({"seen": final.seen, "rescored": final.rescored, "unchanged": final.unchanged})
    else:
        _echo(f"scored {final.seen} leads: {final.rescored} changed")
