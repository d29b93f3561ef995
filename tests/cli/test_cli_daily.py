"""The leadkit command as a daily tool (issue 19), each behaviour checked by running the real
command in a subprocess on a real SQLite database. Checks are grouped per invocation: every
subprocess costs an interpreter start."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadkit.adapters.sql import SqlStore
from leadkit.fields import Budget, LeadSource, Need, PurchaseTimeframe, Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import Address, LeadId, PersonName, UserRef

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ME = UserRef("me")


def leadkit(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``leadkit --db DB ARGS...`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "leadkit.cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "COLUMNS": "200", "LEADKIT_DEBUG": ""},
        timeout=120,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, SqlStore]]:
    path = tmp_path / "leads.db"
    opened = SqlStore.open(path=path, create=True)
    yield path, opened
    opened.close()


def _addresses(n: int) -> list[Address]:
    countries = ("Sverige", "Polska", "Deutschland", "")
    return [
        Address(
            line1=f"Gatan {i}",
            city=f"Stad {i}",
            postal_code=f"{10000 + i}",
            country=countries[i % len(countries)],
        )
        for i in range(n)
    ]


def test_mass_edit_of_city_keeps_every_postal_code_and_country(
    store: tuple[Path, SqlStore],
) -> None:
    path, sql = store
    addresses = _addresses(60)
    with sql.unit_of_work() as uow:
        for i, address in enumerate(addresses):
            patch = LeadPatch(topic=f"Deal {i}", name=f"Ada Nr{i}", address=address)
            uow.leads.add(Lead.create(LeadId(f"L-{i:03d}"), patch, at=T0, by=ME))
        uow.commit()

    done = leadkit(path, "mass-edit", "--all", "--set", "city=Oslo")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("set city = Oslo: changed 60")
    assert "Address(" not in done.stdout
    assert "'" not in done.stdout  # no Python repr anywhere
    with sql.unit_of_work() as uow:
        after = {lead.id.value: lead.address for lead in uow.leads.stream()}
    for i, before in enumerate(addresses):
        assert after[f"L-{i:03d}"] == Address(
            line1=before.line1, city="Oslo", postal_code=before.postal_code, country=before.country
        )


HOSTILE_TOPIC = "[/]\x1b[2J"
HOSTILE_COMPANY = (
    "[bold]Acme[/bold] \x1b]0;owned\x07"  # markup, a window title
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ "  # an OSC 8 link
    "\x9b31m:smile:\u202eevil"  # 8-bit CSI, an emoji code, a bidi override
)
HOSTILE_NOTE = "line one\nline two \x07\x1bc\x90dcs\x9c end"
CONTROLS = ("\x1b", "\x07", "\x9b", "\x9c", "\x90", "\u202e", "\x9d")


def assert_plain(text: str) -> None:
    for control in CONTROLS:
        assert control not in text, repr(text)


def test_lead_text_is_shown_as_plain_text_never_as_markup_or_terminal_control(
    tmp_path: Path,
) -> None:
    db = tmp_path / "leads.db"
    assert leadkit(db, "init").returncode == 0
    added = leadkit(
        db,
        "add",
        "--topic",
        HOSTILE_TOPIC,
        "--name",
        "Ada [red]Lovelace",
        "--company",
        HOSTILE_COMPANY,
    )
    assert added.returncode == 0, added.stderr
    lead_id = added.stdout.strip()
    assert leadkit(db, "note", lead_id, HOSTILE_NOTE).returncode == 0

    listed = leadkit(db, "list")
    shown = leadkit(db, "show", lead_id)
    as_json = leadkit(db, "--json", "show", lead_id)
    refused = leadkit(db, "edit", lead_id, "--set", "email=\x1b]0;x\x07[/]not-an-address")

    for done in (listed, shown, as_json):
        assert done.returncode == 0, done.stderr
        assert_plain(done.stdout + done.stderr)
    for done in (listed, shown):
        assert "[/]" in done.stdout  # the topic, literally
        assert "[bold]Acme[/bold]" in done.stdout.replace("\n", "")
        assert ":smile:" in done.stdout  # no emoji codes either
    assert "Ada [red]Lovelace" in shown.stdout
    assert "line one" in shown.stdout
    assert "line two" in shown.stdout
    flat = shown.stdout.replace("\n", "")
    assert "click" in flat  # a link's text stays, its target and the title sequence go
    assert "evil.example" not in flat
    assert "owned" not in flat
    assert "\\u009b31m" in as_json.stdout  # JSON escapes C1 controls
    assert refused.returncode == 2
    assert_plain(refused.stderr)
    assert refused.stderr.count("\n") == 1
    assert "[/]not-an-address" in refused.stderr


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("[/]\x1b[2J", "[/]"),
        ("a\x1b[38;5;196mred\x1b[0m", "ared"),
        ("\x1b]0;title\x07x", "x"),
        ("\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b2J\x9d0;t\x9cok", "ok"),
        ("\x1bP1$r\x1b\\dcs", "dcs"),
        ("bell\x07 nul\x00 del\x7f c1\x85", "bell nul del c1"),
        ("tab\tnew\nline\r", "tab new line"),
        ("\u202egnp.exe", "gnp.exe"),
        ("unterminated \x1b]0;title", "unterminated "),
        ("Müller & Öström [x]", "Müller & Öström [x]"),
    ],
)
def test_plain_removes_every_terminal_control(raw: str, shown: str) -> None:
    from leadkit.cli import _plain

    assert _plain(raw) == shown
    assert _plain("one\ntwo\tthree\x1b[1m", multiline=True) == "one\ntwo\tthree"


def test_every_field_is_settable_with_the_importers_parsers_and_criteria_tick(
    tmp_path: Path,
) -> None:
    db = tmp_path / "leads.db"
    assert leadkit(db, "init").returncode == 0
    added = leadkit(
        db,
        "--currency", "EUR", "--date-order", "MDY", "--phone-region", "SE",
        "add", "--topic", "Fleet", "--name", "Ada Lovelace",
        "--phone", "040-38 86 89",
        "--set", "budget_amount=5000 SEK",
        "--set", "estimated_value=1 234,50",
        "--set", "estimated_close_date=12/31/2026",
        "--set", "need=Must have",
        "--set", "purchase_timeframe=this quarter", "--set", "source=Mässa",
        "--set", "budget=3",
        "--set", "rating=hot",
        "--set", "first_name=Augusta",
        "--set", "city=Lund",
        "--set", "custom.size:integer=12",
        "--set", "custom.segment=Retail",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    lead_id = added.stdout.strip()
    ticked = leadkit(db, "tick", lead_id, "budget-confirmed", "met_in_person")
    assert ticked.returncode == 0, ticked.stderr
    unticked = leadkit(db, "untick", lead_id, "met_in_person")
    assert unticked.stdout.strip() == f"{lead_id}: ticked budget_confirmed"
    refused = leadkit(db, "edit", lead_id, "--set", "x=1", "--set", "budget_amount=5000")

    with SqlStore.open(path=db) as sql, sql.unit_of_work() as uow:
        lead = uow.leads.get(LeadId(lead_id))
    assert str(lead.budget_amount) == "5000.00 SEK"
    assert str(lead.estimated_value) == "1234.50 EUR"
    assert lead.estimated_close_date is not None
    assert lead.estimated_close_date.isoformat() == "2026-12-31"
    assert (lead.need, lead.purchase_timeframe, lead.budget, lead.rating) == (
        Need.MUST_HAVE,
        PurchaseTimeframe.THIS_QUARTER,
        Budget.WILL_BUY,
        Rating.HOT,
    )
    assert lead.name == PersonName("Augusta", "Lovelace")
    assert lead.address.city == "Lund"
    assert lead.business_phone is not None
    assert lead.business_phone.e164 == "+46403886 89".replace(" ", "")
    assert dict(lead.custom_fields) == {"size": 12, "segment": "Retail"}
    assert lead.ticked_criteria == frozenset({"budget_confirmed"})
    assert lead.source is LeadSource.TRADE_SHOW
    assert refused.returncode == 2
    assert refused.stderr.startswith("leadkit: error: invalid x: not an editable lead field;")
    assert "first_name" in refused.stderr
    assert "city" in refused.stderr
