"""Benchmark: duplicate quality of the default rules and of the probabilistic rule, side by side.

Printed, not asserted. For each seed, ``generate_leads(size, seed)`` (``leadkit.testing.dupdata``:
messy duplicates with a known truth) is scanned with the default rule set (``scan_report``,
pairwise matches) and with :data:`~leadkit.duplicates.probabilistic.DEFAULT_PROBABILISTIC_RULE`
(``fit`` on the same unlabelled records, then ``scan``). Precision, recall and F1 on duplicate
pairs are printed for both, with wall times; the F1 ratio probabilistic / default is the
figure to watch (goal: at least 1).

The probabilistic rule's name bands and threshold were chosen on seed 20240501 at 3,000
leads; the other seeds are held out.

    python benchmarks/bench_probabilistic.py                 # 3,000 leads, seeds 20240501, 1, 2
    python benchmarks/bench_probabilistic.py --size 10000 --seeds 7
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

from leadkit.duplicates import DEFAULT_LEAD_RULES, scan_report
from leadkit.duplicates.probabilistic import DEFAULT_PROBABILISTIC_RULE, fit
from leadkit.testing.dupdata import PairQuality, generate_leads


def f1(quality: PairQuality) -> float:
    """The harmonic mean of precision and recall."""
    p, r = quality.precision, quality.recall
    return 2 * p * r / (p + r) if p + r else 0.0


def bench(size: int, seed: int) -> tuple[float, float]:
    """Print both rule kinds' quality on one generated set; return their F1."""
    dataset = generate_leads(size, seed=seed)
    records = dataset.records()
    start = time.perf_counter()
    report = scan_report(records, DEFAULT_LEAD_RULES)
    default_time = time.perf_counter() - start
    default = dataset.quality(
        (e.record.record_id, e.candidate.record_id) for g in report.groups for e in g.edges
    )
    start = time.perf_counter()
    model = fit(DEFAULT_PROBABILISTIC_RULE, records)
    matches = model.scan(records)
    probabilistic_time = time.perf_counter() - start
    probabilistic = dataset.quality((m.record.record_id, m.candidate.record_id) for m in matches)
    print(f"{size} generated leads, seed {seed}, {len(dataset.duplicate_pairs())} true pairs")
    print(f"  default rules      {default.describe()}  F1 {f1(default):.3f}  {default_time:.1f} s")
    print(
        f"  probabilistic rule {probabilistic.describe()}  F1 {f1(probabilistic):.3f}"
        f"  {probabilistic_time:.1f} s (fit + scan; prior {model.prior:.2e},"
        f" {model.iterations} EM steps)"
    )
    print(f"  F1 ratio probabilistic / default: {f1(probabilistic) / f1(default):.3f}")
    return f1(default), f1(probabilistic)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[20240501, 1, 2])
    args = parser.parse_args(argv)
    for seed in args.seeds:
        bench(args.size, seed)


if __name__ == "__main__":
    main()
