"""``leadkit erase`` and ``leadkit audit``: erasure and the field-level history
(docs/privacy.md). Errors are leadkit errors, which the group turns into one line on stderr
and an exit code (bad input 2, not found 3, storage 5)."""

from __future__ import annotations

import click

from leadkit.cli._shared import EXIT_CODES, _echo, _emit_json, _settings, _store
from leadkit.cli.app import cli
from leadkit.erasure import AuditEntry, ErasureMode, ErasureReport, ErasureSubject
from leadkit.privacy import audit, erase


def _report_json(report: ErasureReport) -> dict[str, object]:
    return {
        "subject": str(report.subject),
        "mode": report.mode.value,
        "records": list(report.records),
        "counts": dict(sorted(report.counts.items())),
        "storage": report.secure,
    }


@cli.command("erase")
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
        f"{mode.value} every stored value of {parsed}? This cannot be undone", err=True
    ):
        raise click.exceptions.Exit(EXIT_CODES["refused"])
    with _store() as store:
        report = erase(store, parsed, mode)
    if settings.json:
        _emit_json(_report_json(report))
        return
    _echo(report.summary())


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


@cli.command("audit")
@click.argument("lead_id")
def audit_command(lead_id: str) -> None:
    """Show a lead's field-level history: when, who, each field before and after.

    Values erased by `leadkit erase --anonymize` read [erased].
    """
    settings = _settings()
    with _store() as store:
        history = audit(store, lead_id)
    if settings.json:
        _emit_json([_entry_json(e) for e in history])
        return
    for entry in history:
        who = entry.by.id + (f" ({entry.by.name})" if entry.by.name else "")
        _echo(f"{entry.at.isoformat()}  {entry.event}  by {who}")
        for change in entry.changes:
            _echo(f"    {change.field}: {change.before!r} -> {change.after!r}")
    if not history:
        _echo("no stored events")
