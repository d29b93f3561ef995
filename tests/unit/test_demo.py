"""The demo data (leadkit.cli.demo_data): seeded, varied, valid, with a known share of
duplicates."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from leadkit.cli.demo_data import demo_batches, demo_leads
from leadkit.duplicates import DEFAULT_LEAD_RULES, scan_report
from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.serialization import make_converter
from leadkit.values import LeadId, UserRef

END = datetime(2025, 6, 1, tzinfo=UTC)
ME = UserRef("me")


def test_the_same_seed_gives_the_same_leads() -> None:
    assert list(demo_leads(300, end=END, seed=5)) == list(demo_leads(300, end=END, seed=5))
    assert list(demo_leads(50, end=END, seed=5)) != list(demo_leads(50, end=END, seed=6))


@pytest.mark.parametrize(
    ("seed", "count", "digest"),
    [
        (2024, 1200, "bc87d1e0273fd5005b4d9d25dab6e45ab5c17cb361a20a9c8d76bc542fd56d6a"),
        (7, 600, "62e306e7c389d85dbb38f39ba29ebd6d7504091bf20aaab7480d92a7444ebe8a"),
    ],
)
def test_a_seed_gives_the_leads_it_always_gave(seed: int, count: int, digest: str) -> None:
    """The generator's fast paths (cached weight totals, the inlined random number, values
    built without argument type checks) make the leads it made before them: the stored form
    of every patch, its time and the lead it re-types, hashed (taken before the change)."""
    converter = make_converter()
    found = hashlib.sha256()
    for made in demo_leads(count, end=END, seed=seed):
        line = f"{converter.dumps(made.patch)}|{made.created_at.isoformat()}|{made.duplicate_of}"
        found.update(f"{line}\n".encode())
    assert found.hexdigest() == digest


def test_generated_patches_equal_the_checked_constructors() -> None:
    """The patches built without argument type checks equal those LeadPatch.from_mapping
    (with them) builds from the same values."""
    for made in demo_leads(500, end=END, seed=3):
        assert LeadPatch.from_mapping(made.patch.as_dict()) == made.patch


def test_leads_are_varied_and_spread_over_the_period() -> None:
    made = list(demo_leads(3000, end=END, days=365))
    patches = [m.patch for m in made]
    names = Counter(str(p.name) for p in patches)
    companies = Counter(p.company for p in patches)
    assert len(names) > 2000  # thousands of different people
    assert names.most_common(1)[0][1] < 15
    assert len(companies) > 500
    assert len({p.source for p in patches}) == 11  # every source, and none
    assert len({p.rating for p in patches}) == 4
    assert len({str(p.email).rsplit("@", 1)[-1] for p in patches if p.email}) > 500
    times = [m.created_at for m in made]
    assert min(times) >= END - timedelta(days=365)
    assert max(times) <= END
    assert max(times) - min(times) > timedelta(days=300)


def test_about_the_share_asked_are_duplicates_of_an_earlier_lead() -> None:
    made = list(demo_leads(4000, end=END, duplicate_share=0.03))
    duplicates = [(n, m.duplicate_of) for n, m in enumerate(made) if m.duplicate_of is not None]
    assert 0.02 < len(duplicates) / len(made) < 0.04
    assert all(original is not None and original < n for n, original in duplicates)
    assert all(made[original].duplicate_of is None for _, original in duplicates if original)


def test_a_duplicate_scan_finds_mostly_the_duplicates_made() -> None:
    made = list(demo_leads(3000, end=END, seed=11))
    leads = [
        Lead.create(LeadId(f"D-{n}"), m.patch, at=m.created_at, by=ME) for n, m in enumerate(made)
    ]
    entity = {
        f"D-{n}": m.duplicate_of if m.duplicate_of is not None else n for n, m in enumerate(made)
    }
    true_groups = sum(1 for size in Counter(entity.values()).values() if size > 1)
    found = scan_report(leads, DEFAULT_LEAD_RULES).groups
    pure = [g for g in found if len({entity[m.record_id] for m in g.members}) == 1]
    assert len(pure) >= 0.85 * true_groups  # most duplicates are found and explained
    assert len(found) - len(pure) <= 0.2 * len(found)  # and few groups are namesakes


@pytest.mark.parametrize(
    "kwargs",
    [
        {"count": -1, "end": END},
        {"count": 1, "end": datetime(2025, 1, 1)},
        {"count": 1, "end": END, "days": 0},
        {"count": 1, "end": END, "duplicate_share": 0.9},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        list(demo_leads(**kwargs))  # type: ignore[arg-type]


def test_demo_batches_are_the_demo_leads_made_in_a_child_process() -> None:
    batches = list(demo_batches(250, end=END, seed=3, size=100))
    assert [len(b) for b in batches] == [100, 100, 50]
    assert [x for b in batches for x in b] == list(demo_leads(250, end=END, seed=3))
    assert list(demo_batches(0, end=END)) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"count": -1}, "count"), ({"count": 5, "size": 0}, "size"),
     ({"count": 5, "end": datetime(2024, 1, 1)}, "end")],
)  # fmt: skip
def test_demo_batches_refuse_bad_arguments(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"end": END, **kwargs}
    with pytest.raises(InvalidValue) as caught:
        next(demo_batches(**arguments))  # type: ignore[arg-type]
    assert caught.value.field == field
