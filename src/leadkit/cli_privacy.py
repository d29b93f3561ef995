"""The privacy side of the ``leadkit`` command: ``erase`` and ``audit``.

Self-contained: :mod:`leadkit.cli` only registers :data:`COMMANDS`. The commands read the
global options (``--db``, ``--json``) from the click context the ``leadkit`` group sets up,
and raise leadkit errors, which the group turns into one line on stderr and an exit code
(bad input 2, not found 3, storage 5).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import click

from leadkit.erasure import AuditEntry, ErasureMode, ErasureReport, ErasureSubject
from leadkit.privacy import audit, erase

__all__ = ["COMMANDS", "audit_command", "erase_command"]

# Control characters (ESC included, so no escape sequence survives), DEL, C1 controls and the
# bidirectional overrides: lead text never drives the terminal.
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _plain(value: object) -> str:
    return _CONTROLS.sub("", str(value))


def _settings() -> Any:
    return click.get_current_context().find_root().obj


def _report_json(report: ErasureReport) -> dict[str, object]:
    return {
        "subject": str(report.subject),
        "mode": report.mode.value,
        "records": list(report.records),
        "counts": dict(sorted(report.counts.items())),
        "storage": report.secure,
    }


@click.command("erase")
@click.argument("subject")
@click.option(
    "--anonymize",
    is_flag=True,
    help="Keep the records with every personal value replaced (status, source, score, "
    "dates stay for reports) instead of deleting them.",
)
@click.option("--region", help="Region of a phone number typed without +country (e.g. SE).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(subject: str, anonymize: bool, region: str | None, yes: bool) -> None:
    """Erase a person everywhere the database keeps them.

    SUBJECT is lead:ID, contact:ID, account:ID, email:ADDRESS or phone:NUMBER. The records,
    their events, idempotency results, import outcomes and duplicate keys are deleted (or,
    with --anonymize, kept without personal values); other records lose every mention.
    """
    settings = _settings()
    parsed = ErasureSubject.parse(subject, region=region)
    mode = ErasureMode.ANONYMIZE if anonymize else ErasureMode.DELETE
    if not yes and not click.confirm(
        f"{mode.value} every stored value of {_plain(parsed)}? This cannot be undone",
        err=True,
    ):
        raise click.exceptions.Exit(4)
    store = settings.open()
    try:
        report = erase(store, parsed, mode)
    finally:
        store.close()
    if settings.json:
        click.echo(json.dumps(_report_json(report), ensure_ascii=False))
        return
    click.echo(_plain(report.summary()))


def _entry_json(entry: AuditEntry) -> dict[str, object]:
    return {
        "event": entry.event,
        "at": entry.at.isoformat(),
        "by": entry.by.id,
        "by_name": entry.by.name,
        "changes": [
            {"field": c.field, "before": c.before, "after": c.after} for c in entry.changes
        ],
    }


@click.command("audit")
@click.argument("lead_id")
def audit_command(lead_id: str) -> None:
    """Show a lead's field-level history: when, who, each field before and after (values
    erased by `leadkit erase --anonymize` read [erased])."""
    settings = _settings()
    store = settings.open()
    try:
        history = audit(store, lead_id)
    finally:
        store.close()
    if settings.json:
        click.echo(json.dumps([_entry_json(e) for e in history], ensure_ascii=False))
        return
    for entry in history:
        who = entry.by.id + (f" ({entry.by.name})" if entry.by.name else "")
        click.echo(_plain(f"{entry.at.isoformat()}  {entry.event}  by {who}"))
        for change in entry.changes:
            click.echo(_plain(f"    {change.field}: {change.before!r} -> {change.after!r}"))
    if not history:
        click.echo("no stored events")


COMMANDS: Final = (erase_command, audit_command)
"""The commands :mod:`leadkit.cli` registers."""
