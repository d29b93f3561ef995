"""How well the default rule set finds duplicates in realistic, messy lead data
(leadkit.testing.dupdata), and the generator itself.

Run with ``-s`` to see the figures: precision and recall on duplicate pairs, for the pairwise
matches and for the groups a scan returns.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest

from leadkit.duplicates import DEFAULT_LEAD_RULES, duplicate_record, scan_report
from leadkit.errors import InvalidValue
from leadkit.testing.dupdata import DuplicateDataset, generate_leads, pair_quality

SIZE = 5000
SEED = 20240501


@pytest.fixture(scope="module")
def dataset() -> DuplicateDataset:
    return generate_leads(SIZE, seed=SEED)


def test_the_default_rules_find_duplicate_pairs_with_high_precision_and_recall(
    dataset: DuplicateDataset,
) -> None:
    records = [duplicate_record(lead) for lead in dataset.leads()]  # through real leads
    report = scan_report(records, DEFAULT_LEAD_RULES)
    matched = {(e.record.record_id, e.candidate.record_id) for g in report.groups for e in g.edges}
    grouped = {
        (a.record_id, b.record_id) for g in report.groups for a, b in combinations(g.members, 2)
    }
    truth = dataset.duplicate_pairs()
    pairs = pair_quality(matched, truth)
    groups = pair_quality(grouped, truth)
    by_rule = Counter(e.rule for g in report.groups for e in g.edges)
    fuzzy_only = sum(
        1 for g in report.groups for e in g.edges if not set(e.rules) & {"lead-same-email"}
    )
    print(
        f"\nduplicate quality of the default rules on {SIZE} generated leads (seed {SEED}), "
        f"{len(truth)} true duplicate pairs:"
        f"\n  pairwise matches: {pairs.describe()}"
        f"\n  scan groups:      {groups.describe()}"
        f"\n  matches by best rule: {dict(sorted(by_rule.items()))}"
        f"\n  matches without a shared e-mail: {fuzzy_only}"
        f"\n  comparisons {report.comparisons} of {report.all_pairs} possible pairs"
    )
    assert pairs.precision >= 0.95
    assert pairs.recall >= 0.90
    assert groups.precision >= 0.95
    assert groups.recall >= 0.90


def test_the_generated_duplicates_are_messy(dataset: DuplicateDataset) -> None:
    duplicates = [row for row in dataset.rows if row.is_duplicate]
    assert 0.15 * SIZE < len(duplicates) < 0.3 * SIZE
    changes = Counter(change for row in duplicates for change in row.changes)
    for change in (
        "typo-last",
        "typo-first",
        "swapped",
        "nickname",
        "accents",
        "upper",
        "email-case",
        "email-other",
        "email-missing",
        "phone-format",
        "legal-form",
        "company-missing",
        "company-typo",
    ):
        assert changes[change] >= 10, change
    # Fewer than half the duplicates keep their e-mail address as it was.
    same_email = sum(
        1
        for row in duplicates
        if not {"email-case", "email-other", "email-missing"} & set(row.changes)
    )
    assert same_email < 0.5 * len(duplicates)


def test_the_generated_non_duplicates_share_names_and_companies(dataset: DuplicateDataset) -> None:
    originals = [row for row in dataset.rows if not row.is_duplicate]
    last_names = Counter(row.last_name for row in originals)
    companies = Counter(row.company for row in originals if row.company)
    assert last_names.most_common(1)[0][1] >= 20  # a common surname
    assert companies.most_common(1)[0][1] >= 30  # a big company
    full_names = Counter((row.first_name, row.last_name) for row in originals)
    assert sum(1 for n in full_names.values() if n > 1) >= 20  # namesakes
    locales = {row.locale for row in dataset.rows}
    assert locales == {"SE", "PL", "DE", "GB", "US"}


def test_the_generator_is_seeded(dataset: DuplicateDataset) -> None:
    assert generate_leads(300, seed=7) == generate_leads(300, seed=7)
    assert generate_leads(300, seed=7) != generate_leads(300, seed=8)
    assert len(dataset.rows) == SIZE
    assert len({row.id for row in dataset.rows}) == SIZE


def test_a_row_flattens_as_its_lead_does(dataset: DuplicateDataset) -> None:
    for row in dataset.rows[:400]:
        assert row.to_record() == duplicate_record(row.to_lead())


def test_pair_quality_counts_pairs_in_either_order() -> None:
    truth = {("a", "b"), ("c", "d")}
    quality = pair_quality([("b", "a"), ("a", "c"), ("a", "a")], truth)
    assert (quality.true_positives, quality.false_positives, quality.false_negatives) == (1, 1, 1)
    assert quality.precision == quality.recall == 0.5
    nothing = pair_quality([], [])
    assert nothing.precision == nothing.recall == 1.0


def test_the_generator_refuses_bad_sizes() -> None:
    with pytest.raises(InvalidValue):
        generate_leads(0)
    with pytest.raises(InvalidValue):
        generate_leads(10, duplicate_share=0.9)
