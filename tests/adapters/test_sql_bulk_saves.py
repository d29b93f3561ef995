"""A bulk save (``save_many``) sets only the query columns that changed (so SQLite rewrites
no index entry of an unchanged column): the rows it leaves equal those of one full
``save`` per lead, on drawn changes."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from leadkit.adapters.sql import SqlStore
from leadkit.bulk import get_many, save_many
from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.status import StatusReason
from leadkit.values import LeadId, PersonName, UserRef

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("ann")
_CHANGES = ("assign", "topic", "company", "rate", "score", "contacted", "disqualify", "note")


def _lead(n: int) -> Lead:
    patch = LeadPatch(topic=f"Topic {n}", name=PersonName(last=f"Last {n}"), company="Acme")
    return Lead.create(LeadId(f"lead-{n:03}"), patch, at=T0, by=ANN, owner=ANN)


def _changed(lead: Lead, changes: list[str], n: int) -> Lead:
    at = T0 + timedelta(hours=1 + n)
    for change in changes:
        if lead.is_closed:  # read-only
            break
        if change == "assign":
            lead = lead.assign(UserRef(f"seller-{n % 3}"), at=at, by=ANN)
        elif change == "topic":
            lead = lead.update(LeadPatch(topic=f"New topic {n}"), at=at, by=ANN)
        elif change == "company":
            lead = lead.update(LeadPatch(company=f"Company {n}"), at=at, by=ANN)
        elif change == "rate":
            lead = lead.rate(Rating.HOT, at=at, by=ANN)
        elif change == "score":
            lead = lead.set_manual_score(1 + n % 5, at=at, by=ANN)
        elif change == "contacted":
            lead = lead.mark_contacted(at=at, by=ANN)
        elif change == "disqualify":
            lead = lead.disqualify(StatusReason.CANCELED, at=at, by=ANN)
        elif change == "note":
            lead = lead.add_note(f"Note {n}", at=at, by=ANN)
    return lead


def _rows(store: SqlStore) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text("SELECT * FROM leads ORDER BY id"))]
        for table in ("lead_notes", "lead_activities", "lead_stakeholders"):
            found += [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))]
        return found


def _saved(path: Path, planned: list[list[str]], *, bulk: bool) -> list[tuple[object, ...]]:
    with SqlStore.open(path=path) as store:
        with store.unit_of_work() as uow:
            for n in range(len(planned)):
                uow.leads.add(_lead(n))
            uow.commit()
        with store.unit_of_work() as uow:
            read = get_many(uow.leads, [LeadId(f"lead-{n:03}") for n in range(len(planned))])
            changed = [_changed(lead, planned[n], n) for n, lead in enumerate(read.values())]
            if bulk:
                save_many(uow.leads, changed[::-1])  # not in key order
            else:
                for lead in changed:
                    uow.leads.save(lead)
            uow.commit()
        return _rows(store)


@given(st.lists(st.lists(st.sampled_from(_CHANGES), max_size=3), min_size=2, max_size=12))
def test_a_bulk_save_leaves_the_rows_of_a_full_save_per_lead(planned: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bulk = _saved(Path(tmp) / "bulk.db", planned, bulk=True)
        one_by_one = _saved(Path(tmp) / "single.db", planned, bulk=False)
    assert bulk == one_by_one
