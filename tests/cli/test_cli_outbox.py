"""``leadkit outbox``: the backlog of the transactional outbox."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from leadkit.adapters.sql import SqlStore
from leadkit.cli import cli


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args])


def test_outbox_shows_the_waiting_events_and_the_delivered_count(tmp_path: Path) -> None:
    db = str(tmp_path / "leads.db")
    assert run(db, "init").exit_code == 0
    assert run(db, "outbox").stdout.startswith("0 waiting (0 leased), 0 delivered")
    for name in ("Ada Lovelace", "Bo Berg", "Cy Ceder"):
        added = run(db, "add", "--topic", "Deal", "--name", name)
        assert added.exit_code == 0, added.output
    with SqlStore.open(path=db) as store:
        first = store.outbox.claim(1, lease=timedelta(minutes=5))
        store.outbox.ack([first[0].event_id])
        store.outbox.claim(1, lease=timedelta(minutes=5))

    shown = run(db, "outbox", "--limit", "1")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == "2 waiting (1 leased), 1 delivered"
    assert lines[1].startswith("oldest waiting: #2 at ")
    assert len(lines) == 3
    assert "LeadCreated" in lines[2]

    data = json.loads(run(db, "--json", "outbox").stdout)
    assert (data["pending"], data["leased"], data["delivered"]) == (2, 1, 1)
    assert [e["position"] for e in data["events"]] == [2, 3]
    assert data["events"][1]["attempts"] == 0
