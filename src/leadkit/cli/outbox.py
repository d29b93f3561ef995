"""``leadkit outbox``: the backlog of the transactional outbox."""

from __future__ import annotations

import click

from leadkit.cli._shared import _emit_json, _settings, _store
from leadkit.cli.app import cli

# ---------------------------------------------------------------------------------------------
# leadkit outbox (self-contained: the backlog of the transactional outbox)


@cli.command(name="outbox")
@click.option(
    "--limit",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="How many waiting events to list (oldest first).",
)
def outbox_command(limit: int) -> None:
    """Show the outbox backlog: events waiting for a publisher, leased, delivered."""
    settings = _settings()
    with _store() as store:
        box = store.outbox
        backlog = box.backlog()
        waiting = box.pending(limit) if limit else ()
    rows = [
        {
            "position": e.position,
            "event_id": e.event_id,
            "type": e.type,
            "lead_id": e.lead_id.value,
            "occurred_at": e.occurred_at,
            "attempts": e.attempts,
        }
        for e in waiting
    ]
    if settings.json:
        _emit_json(
            {
                "pending": backlog.pending,
                "leased": backlog.leased,
                "delivered": backlog.delivered,
                "oldest_position": backlog.oldest_position,
                "oldest_occurred_at": backlog.oldest_occurred_at,
                "events": rows,
            }
        )
        return
    click.echo(
        f"{backlog.pending} waiting ({backlog.leased} leased), {backlog.delivered} delivered"
    )
    if backlog.oldest_occurred_at is not None:
        click.echo(f"oldest waiting: #{backlog.oldest_position} at {backlog.oldest_occurred_at}")
    for row in rows:
        click.echo(
            f"#{row['position']:<6} {row['type']:<22} {row['lead_id']:<20} "
            f"attempts {row['attempts']}"
        )
