"""``leadkit score --workers N``: rescoring in processes, one shard each."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from leadkit.adapters.sql import SqlStore
from leadkit.cli import cli
from leadkit.cli.demo_data import DEMO_SELLERS
from leadkit.cli.workers import StoreAddress, rescore
from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.scoring import BCM_MODEL, is_outdated
from leadkit.values import LeadId, UserRef

AT = datetime(2024, 5, 1, tzinfo=UTC)


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "leads.db"
    with SqlStore.open(path=path) as store, store.unit_of_work() as uow:
        for n in range(40):
            patch = LeadPatch(
                topic=f"Deal {n}", name=f"Per {n}", budget="Will buy" if n % 2 else None
            )
            uow.leads.add(Lead.create(LeadId(f"L{n:03d}"), patch, at=AT, by=UserRef("me")))
        uow.commit()
    return str(path)


def _outdated(db: str) -> int:
    with SqlStore.open(path=db) as store, store.unit_of_work() as uow:
        return sum(is_outdated(lead, BCM_MODEL) for lead in uow.leads.stream())


def test_score_with_workers_rescores_every_lead_once(db: str) -> None:
    result = run(db, "--json", "score", "--workers", "3")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"seen": 40, "rescored": 40, "unchanged": 0}
    assert _outdated(db) == 0
    again = json.loads(run(db, "--json", "score", "--workers", "2").stdout)
    assert again == {"seen": 40, "rescored": 0, "unchanged": 40}


def test_the_process_runner_reports_progress_and_refuses_no_workers(db: str) -> None:
    address = StoreAddress(None, db, 5.0)
    seen: list[int] = []
    done = rescore(address, BCM_MODEL, at=AT, by=UserRef("me"), workers=2, progress=seen.append)
    assert (done.seen, done.rescored) == (40, 40)
    assert seen[-1] == 40
    with pytest.raises(InvalidValue) as caught:
        rescore(address, BCM_MODEL, at=AT, by=UserRef("me"), workers=0)
    assert caught.value.field == "--workers"


def test_the_demo_spreads_its_manually_scored_leads_over_every_seller(tmp_path: Path) -> None:
    path = str(tmp_path / "demo.db")
    result = run(path, "demo", "--leads", "400")
    assert result.exit_code == 0, result.output
    for step in ("generate + store 400 leads", "score all", "assign round-robin", "disqualify"):
        assert step in result.stderr
    with SqlStore.open(path=path) as store, store.unit_of_work() as uow:
        manual = [lead for lead in uow.leads.stream() if lead.manual_score is not None]
    per_seller = Counter(lead.owner.id for lead in manual)
    assert len(manual) == 100
    assert set(per_seller) == set(DEMO_SELLERS)
    assert max(per_seller.values()) <= 35


def test_the_demo_with_workers_tells_the_same_story_and_times_every_step(tmp_path: Path) -> None:
    one = run(str(tmp_path / "one.db"), "demo", "--leads", "300")
    two = run(str(tmp_path / "two.db"), "demo", "--leads", "300", "--workers", "2")
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output

    def story(result: Result) -> list[str]:
        """All but the database's name and the count of comparisons (the shards of a scan
        may compare a pair each)."""
        lines = result.stdout.splitlines()
        return [re.sub(r"\d+ comparisons", "", x) for x in lines if not x.startswith("database")]

    assert story(one) == story(two)
    for step in (
        "generate + store 300 leads", "mass-edit 100 (manual score)", "score all (BCM model)",
        "assign round-robin", "mark 90 contacted", "qualify 6", "disqualify 30",
        "gather all leads", "dedupe scan", "reports", "CPU seconds",
    ):  # fmt: skip
        assert step in one.stderr


def test_the_demo_scans_and_reports_the_leads_as_stored_without_reading_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadkit.cli import demo

    seen: list[list[Lead]] = []
    reports = demo._reports

    def capture(state: demo._Run) -> None:
        seen.append(list(state.leads))
        reports(state)

    def no_reading(state: demo._Run) -> None:
        raise AssertionError("the demo read every lead again")

    monkeypatch.setattr(demo, "_reports", capture)
    monkeypatch.setattr(demo, "_read_all", no_reading)
    path = str(tmp_path / "demo.db")
    result = run(path, "demo", "--leads", "300")
    assert result.exit_code == 0, result.output
    with SqlStore.open(path=path) as store, store.unit_of_work() as uow:
        stored = list(uow.leads.stream())  # in the order of a plain read
    assert len(stored) == 300
    assert seen == [stored]
