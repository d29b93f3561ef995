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
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import Address, LeadId, UserRef

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
