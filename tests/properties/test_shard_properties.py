"""Properties of shards: every key falls in exactly one shard, the shards of a scan together
find exactly what the whole scan finds, and the merged shards of an import plan are the whole
plan."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from leadkit import Shard, shard_of
from leadkit.adapters.memory import MemoryStore
from leadkit.duplicates import DEFAULT_LEAD_RULES, merge_scan_reports, scan_report
from leadkit.io import (
    DuplicateAction,
    ExistingAction,
    ImportPolicy,
    merge_import_plans,
    plan_import,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.testing.dupdata import generate_leads
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef


@given(st.text(max_size=30), st.integers(min_value=1, max_value=64))
def test_a_key_falls_in_exactly_one_shard(key: str, count: int) -> None:
    holders = [shard for shard in Shard.all(count) if shard.holds(key)]
    assert holders == [Shard(shard_of(key, count), count)]


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    size=st.integers(min_value=2, max_value=400),
    count=st.integers(min_value=1, max_value=5),
    compound=st.booleans(),
)
def test_the_union_of_the_shards_of_a_scan_is_the_whole_scan(
    seed: int, size: int, count: int, compound: bool
) -> None:
    records = [row.to_record() for row in generate_leads(size, seed=seed).rows]
    whole = scan_report(records, DEFAULT_LEAD_RULES, compound_keys=compound)
    parts = [
        scan_report(records, DEFAULT_LEAD_RULES, compound_keys=compound, shard=shard)
        for shard in Shard.all(count)
    ]
    merged = merge_scan_reports(parts)
    assert merged.groups == whole.groups
    assert merged.matches == whole.matches
    assert merged.records == whole.records
    assert merged.comparisons >= whole.comparisons


# ---------------------------------------------------------------------------------------------
# plan_import in shards

_STORED = (
    ("S-1", "Anna", "Berg", "anna@acme.se", "Acme AB"),
    ("S-2", "Karin", "Holm", "karin@holm.se", "Holm AB"),
)
_FIRST = ("Anna", "Erik", "Karin", "E.", "")
_LAST = ("Berg", "Lind", "Holm", "")
_EMAIL = ("anna@acme.se", "erik@lind.se", "karin@holm.se", "e.lind@lind.se", "bad@", "")
_COMPANY = ("Acme AB", "Lind AB", "Holm AB", "")
_ID = ("", "", "", "S-1", "S-2", "N-9", "bad id!")

_row = st.tuples(
    st.sampled_from(("Offer", "")),
    st.sampled_from(_FIRST),
    st.sampled_from(_LAST),
    st.sampled_from(_EMAIL),
    st.sampled_from(_COMPANY),
    st.sampled_from(_ID),
)


def _stored_store() -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for lead_id, first, last, email, company in _STORED:
            patch = LeadPatch(
                topic="Stored",
                name=PersonName(first=first, last=last),
                email=EmailAddress(email),
                company=company,
            )
            uow.leads.add(Lead.create(LeadId(lead_id), patch, at=_AT, by=UserRef("u")))
        uow.commit()
    return store


_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(_row, min_size=1, max_size=25),
    count=st.integers(min_value=1, max_value=4),
    policy=st.sampled_from(
        (
            ImportPolicy(),
            ImportPolicy(on_existing=ExistingAction.UPDATE, on_duplicate=DuplicateAction.CREATE),
            ImportPolicy(match_by_email=False),
        )
    ),
    with_store=st.booleans(),
)
def test_the_merged_shards_of_an_import_plan_are_the_whole_plan(
    rows: list[tuple[str, ...]], count: int, policy: ImportPolicy, with_store: bool
) -> None:
    text = "Topic,First Name,Last Name,Email,Company Name,Lead Id\n" + "".join(
        ",".join(row) + "\n" for row in rows
    )
    data = text.encode()
    store = _stored_store() if with_store else None
    whole = plan_import(data, policy=policy, store=store)
    parts = [plan_import(data, policy=policy, store=store, shard=s) for s in Shard.all(count)]
    assert sum(len(p.rows) for p in parts) == len(whole.rows)
    assert merge_import_plans(parts) == whole
