"""``leadkit score``: rescore every lead with a progress bar."""

from __future__ import annotations

import click
from rich.progress import Progress

from leadkit.adapters.sql import SqlStore
from leadkit.cli._shared import _echo, _emit_json, _now, _progress, _settings, _store
from leadkit.cli.app import cli
from leadkit.scoring.presets import BCM_MODEL
from leadkit.scoring.reports import RescoreProgress, rescore_repository


def _rescore(store: SqlStore, progress: Progress, *, only_outdated: bool) -> RescoreProgress:
    task = progress.add_task("scoring", total=None)

    def report(step: RescoreProgress) -> None:
        progress.update(task, completed=step.seen, total=step.total)

    with store.unit_of_work() as uow:
        final = rescore_repository(
            uow.leads,
            BCM_MODEL,
            at=_now(),
            by=_settings().user,
            only_outdated=only_outdated,
            progress=report,
        )
        uow.commit()
    return final


@cli.command(name="score")
@click.option("--outdated", is_flag=True, help="Only leads not scored by this model version.")
def score_command(outdated: bool) -> None:
    """Rescore every lead with the default model, with a progress bar."""
    with _store() as store, _progress() as progress:
        final = _rescore(store, progress, only_outdated=outdated)
    if _settings().json:
        _emit_json({"seen": final.seen, "rescored": final.rescored, "unchanged": final.unchanged})
    else:
        _echo(f"scored {final.seen} leads: {final.rescored} changed")
