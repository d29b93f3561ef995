"""plan_import in batches and shards and the import's progress: a plan made in batches of any
size is the plan made in one, the merged shards of a plan are the plan, and the progress
callbacks see every row once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from leadkit import InvalidValue, Shard
from leadkit.adapters.memory import MemoryStore
from leadkit.io import (
    DuplicateAction,
    ExistingAction,
    ImportPlan,
    ImportPolicy,
    ImportProgress,
    RowAction,
    SkipReason,
    merge_import_plans,
    plan_import,
    run_import,
)
from leadkit.io import plan as plan_module
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("importer")

HEADER = "Topic,First Name,Last Name,Email,Company Name,Lead Id\n"
ROWS = [
    "Offer,Anna,Berg,anna@acme.se,Acme AB,",  # 2: S-1's e-mail: an existing lead
    "Offer,Erik,Lind,erik@lind.se,Lind AB,",  # 3
    "Again,Erik,Lind,erik@lind.se,Lind AB,",  # 4: duplicate of row 3
    "Offer,,,,,",  # 5: rejected (no last name)
    ",,,,,",  # 6: blank
    "Update,Karin,Holm,karin@holm.se,Holm AB,S-2",  # 7: updates S-2
    "Twice,Karin,Holm,karin@holm.se,Holm AB,S-2",  # 8: targets S-2 again
    "Offer,E.,Lind,e.lind@lind.se,Lind AB,",  # 9: similar name at the company of row 3
    "Offer,Maja,Ek,maja@ek.se,Ek AB,",  # 10
    "Offer,Maja,Ek,maja@ek.se,Ek AB,",  # 11: duplicate of row 10
    "Offer,Anna,Berg,anna.berg@acme.se,Acme AB,",  # 12: a duplicate of S-1
]
CSV = (HEADER + "\n".join(ROWS) + "\n").encode()


def _store() -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for lead_id, first, last, email, company in (
            ("S-1", "Anna", "Berg", "anna@acme.se", "Acme AB"),
            ("S-2", "Karin", "Holm", "karin@old.se", "Holm AB"),
        ):
            patch = LeadPatch(
                topic="Stored",
                name=PersonName(first=first, last=last),
                email=EmailAddress(email),
                company=company,
            )
            uow.leads.add(Lead.create(LeadId(lead_id), patch, at=AT, by=BY))
        uow.commit()
    return store


@pytest.fixture
def store() -> Iterator[MemoryStore]:
    memory = _store()
    yield memory
    memory.close()


def _plan(
    store: MemoryStore, policy: ImportPolicy, size: int, mp: pytest.MonkeyPatch
) -> ImportPlan:
    with mp.context() as patched:
        patched.setattr(plan_module, "PLAN_BATCH_SIZE", size)
        return plan_import(CSV, policy=policy, store=store)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
@pytest.mark.parametrize(
    "policy",
    [
        ImportPolicy(),
        ImportPolicy(on_duplicate=DuplicateAction.CREATE, on_existing=ExistingAction.UPDATE),
        ImportPolicy(check_duplicates=False),
    ],
)
def test_a_plan_made_in_batches_is_the_plan_made_in_one(
    store: MemoryStore, policy: ImportPolicy, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _plan(store, policy, 10_000, monkeypatch)
    assert _plan(store, policy, size, monkeypatch) == whole


def test_the_batched_plan_finds_duplicates_in_the_file_and_of_the_store(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(store, ImportPolicy(), 2, monkeypatch)
    by_number = {r.number: r for r in plan.rows}
    assert by_number[2].skip_reason is SkipReason.EXISTING  # the same e-mail as S-1
    assert by_number[12].skip_reason is SkipReason.DUPLICATE_OF_STORED
    assert [m.candidate.record_id for m in by_number[12].matches] == ["S-1"]
    assert by_number[9].duplicate_of_row == 3
    assert by_number[4].skip_reason is SkipReason.DUPLICATE_IN_FILE
    assert by_number[4].duplicate_of_row == 3
    assert by_number[11].duplicate_of_row == 10
    assert by_number[8].skip_reason is SkipReason.DUPLICATE_IN_FILE
    assert by_number[6].skip_reason is SkipReason.BLANK
    assert by_number[10].action is RowAction.CREATE


def test_plan_progress_counts_every_row_once(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[ImportProgress] = []
    monkeypatch.setattr(plan_module, "PLAN_BATCH_SIZE", 4)
    plan = plan_import(CSV, store=store, progress=seen.append)
    assert [p.done for p in seen] == [4, 8, 11]
    assert {p.total for p in seen} == {len(plan.rows)} == {11}
    assert {p.phase for p in seen} == {"plan"}
    assert all(p.seconds >= 0 for p in seen)


def test_write_progress_reports_after_each_batch(store: MemoryStore) -> None:
    plan = plan_import(CSV, store=store)
    seen: list[ImportProgress] = []
    counter = itertools.count(1)
    run_import(
        store, plan, ids=lambda: f"L-{next(counter)}", at=AT, by=BY, batch_size=5,
        progress=seen.append,
    )  # fmt: skip
    assert [p.done for p in seen] == [5, 10, 11]
    assert {(p.phase, p.total) for p in seen} == {("write", 11)}


def test_write_progress_inside_one_batch(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadkit.io import run as run_module

    monkeypatch.setattr(run_module, "PROGRESS_EVERY", 3)
    plan = plan_import(CSV, store=store)
    seen: list[int] = []
    counter = itertools.count(1)
    run_import(
        store, plan, ids=lambda: f"L-{next(counter)}", at=AT, by=BY,
        progress=lambda p: seen.append(p.done),
    )  # fmt: skip
    assert seen == [3, 6, 9, 11]


def test_a_failing_progress_callback_stops_the_plan(store: MemoryStore) -> None:
    def fail(_progress: ImportProgress) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        plan_import(CSV, store=store, progress=fail)


def test_progress_rate_and_time_left() -> None:
    state = ImportProgress("write", 250, 1000, 2.0)
    assert state.rows_per_second == 125.0
    assert state.eta_seconds == 6.0
    assert state.describe() == "write: 250 of 1,000 rows, 125 rows/s, 6 s left"
    unknown = ImportProgress("plan", 10, None, 0.0)
    assert unknown.rows_per_second == 0.0
    assert unknown.eta_seconds is None
    assert unknown.describe() == "plan: 10 rows, 0 rows/s"


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_the_merged_shards_of_a_plan_are_the_plan(store: MemoryStore, count: int) -> None:
    whole = plan_import(CSV, store=store)
    assert whole.file_duplicates  # the file has duplicates of its own, and twice S-2
    parts = [plan_import(CSV, store=store, shard=s) for s in Shard.all(count)]
    assert sorted(r.number for p in parts for r in p.rows) == [r.number for r in whole.rows]
    assert merge_import_plans(parts) == whole


def test_rows_that_name_one_lead_meet_in_one_shard(store: MemoryStore) -> None:
    parts = [plan_import(CSV, store=store, shard=s) for s in Shard.all(5)]
    holding = [p for p in parts if any(r.number in (7, 8) for r in p.rows)]
    assert len(holding) == 1
    assert {r.number for r in holding[0].rows} >= {7, 8}


def test_merging_refuses_no_plans_other_files_or_a_row_twice(store: MemoryStore) -> None:
    plan = plan_import(CSV, store=store)
    with pytest.raises(InvalidValue):
        merge_import_plans([])
    with pytest.raises(InvalidValue):
        merge_import_plans([plan, plan])
    other = plan_import(CSV, policy=ImportPolicy(match_by_email=False), store=store)
    with pytest.raises(InvalidValue):
        merge_import_plans([plan, other])


def test_a_shard_that_is_not_a_shard_is_refused(store: MemoryStore) -> None:
    with pytest.raises(InvalidValue) as raised:
        plan_import(CSV, store=store, shard=(0, 2))  # type: ignore[arg-type]
    assert raised.value.field == "shard"
