"""Benchmark of the duplicate engine: lookups, index build, memory and batch scans.

Printed, not asserted. For each size (default 100,000 and 1,000,000 indexed leads made by
``leadkit.testing.dupdata``, with the default rule set):

- lookup latency of one new lead (median, p99; wall clock and CPU time) over ``--queries``
  held-out leads, and at the smallest size the same for a naive scan that compares the lead
  with every indexed record (``ExhaustiveFinder``, same rules, same prepared values);
- index build throughput (records/s) and memory per indexed record (tracemalloc, at the
  smallest size; the process's resident-set growth for the larger ones);
- the stop keys the index skipped;

and a ``scan`` of ``--scan`` records: wall time and the pair comparisons it made against
n(n-1)/2.

    python benchmarks/bench_duplicates.py                      # 100k and 1M, ~6-10 minutes
    python benchmarks/bench_duplicates.py --sizes 100000       # 100k only
    python benchmarks/bench_duplicates.py --quick              # 20k, a smoke run

Records are built with ``LeadRow.to_record()`` (the flat view, without validating a million
leads through ``Lead.create``); the adapter cost per lead is measured separately.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import TypeVar

# leadkit.testing imports hypothesis, whose plugin hook would import leadkit.testing again
# while it loads; a benchmark needs neither the plugin nor its strategies.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    DuplicateIndex,
    DuplicateRecord,
    ExhaustiveFinder,
    duplicate_record,
    find_duplicates,
    scan_report,
)
from leadkit.testing.dupdata import generate_leads

T = TypeVar("T")


def _rss_mb() -> float:
    """The resident set size of this process now, in MB (Linux /proc; else the peak)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(run: Callable[[], T]) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def _dataset(
    size: int, queries: int, seed: int
) -> tuple[list[DuplicateRecord], list[DuplicateRecord]]:
    """``size`` records to index and ``queries`` held-out records to look up (new leads,
    duplicates of indexed ones as often as the generator makes them)."""
    rows = generate_leads(size + queries, seed=seed).rows
    # Not Random(seed): the generator shuffled its ids with that very stream.
    picked = set(random.Random(f"probes-{seed}").sample(range(len(rows)), queries))
    stored = [row.to_record() for i, row in enumerate(rows) if i not in picked]
    probes = [rows[i].to_record() for i in sorted(picked)]
    return stored, probes


def _lookups(
    find: Callable[[DuplicateRecord], object], probes: Sequence[DuplicateRecord]
) -> tuple[list[float], list[float], int]:
    walls: list[float] = []
    cpus: list[float] = []
    found = 0
    for probe in probes:
        wall, cpu = time.perf_counter(), time.process_time()
        matches = find(probe)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        found += bool(matches)
    return walls, cpus, found


def bench_size(size: int, args: argparse.Namespace, baseline: dict[str, float]) -> None:
    print(f"\n=== {size:,} indexed leads ===", flush=True)
    (stored, probes), gen_wall, _ = _timed(lambda: _dataset(size, args.queries, args.seed))
    print(f"generated {size + args.queries:,} leads in {gen_wall:.1f} s", flush=True)

    gc.collect()
    rss_before = _rss_mb()
    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    stats, wall, cpu = _timed(lambda: index.rebuild(stored))
    rss_after = _rss_mb()
    print(
        f"build: {wall:.1f} s wall, {cpu:.1f} s CPU -> {size / wall:,.0f} records/s "
        f"({size / cpu:,.0f}/s per CPU second); {stats.records:,} records, "
        f"{stats.keys:,} keys; RSS +{rss_after - rss_before:,.0f} MB "
        f"(~{(rss_after - rss_before) * 2**20 / size:,.0f} B/record)",
        flush=True,
    )
    if stats.stop_keys:
        shown = ", ".join(f"{s.key} ({s.count:,})" for s in stats.stop_keys[:6])
        print(f"stop keys (> {stats.max_block_size:,} records): {len(stats.stop_keys)}: {shown}")
    else:
        print(f"stop keys (> {stats.max_block_size:,} records): none")

    if args.memory and size == min(args.sizes):
        index = DuplicateIndex(DEFAULT_LEAD_RULES)  # let the first one go
        gc.collect()
        tracemalloc.start()
        traced = DuplicateIndex(DEFAULT_LEAD_RULES)
        traced.rebuild(stored)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"memory (tracemalloc): {current / size:,.0f} B per indexed record held "
            f"({current / 2**20:,.0f} MB), peak {peak / 2**20:,.0f} MB while building"
        )
        index = traced

    def find(probe: DuplicateRecord) -> object:
        return find_duplicates(probe, DEFAULT_LEAD_RULES, index)

    for probe in probes[:20]:  # warm the caches
        find(probe)
    walls, cpus, found = _lookups(find, probes)
    median_wall, median_cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"lookup of one new lead ({len(probes):,} lookups, {found:,} with matches):\n"
        f"  wall: median {_ms(median_wall)}  p99 {_ms(_percentile(walls, 0.99))}  "
        f"mean {_ms(statistics.fmean(walls))}\n"
        f"  CPU:  median {_ms(median_cpu)}  p99 {_ms(_percentile(cpus, 0.99))}  "
        f"mean {_ms(statistics.fmean(cpus))}",
        flush=True,
    )
    if "median_cpu" in baseline:
        print(
            f"  vs {baseline['size']:,.0f} leads: {size / baseline['size']:.0f}x the records, "
            f"{median_wall / baseline['median_wall']:.2f}x the median wall time, "
            f"{median_cpu / baseline['median_cpu']:.2f}x the median CPU time"
        )
    else:
        baseline.update(size=size, median_wall=median_wall, median_cpu=median_cpu)

    if args.naive and size == min(args.sizes):
        naive = ExhaustiveFinder(DEFAULT_LEAD_RULES, stored)
        sample = probes[: args.naive]
        n_walls, n_cpus, _ = _lookups(naive.find, sample)
        for probe in sample:  # the same answers where blocking loses nothing
            assert {m.candidate for m in find_duplicates(probe, DEFAULT_LEAD_RULES, index)} <= {
                m.candidate for m in naive.find(probe)
            }
        print(
            f"naive scan of all {size:,} records ({len(sample)} lookups): median "
            f"{_ms(statistics.median(n_walls))} wall, {_ms(statistics.median(n_cpus))} CPU "
            f"-> the index is {statistics.median(n_walls) / median_wall:,.0f}x faster (wall), "
            f"{statistics.median(n_cpus) / median_cpu:,.0f}x (CPU)",
            flush=True,
        )
        del naive
    gc.collect()


def bench_adapter(args: argparse.Namespace) -> None:
    leads = generate_leads(2000, seed=args.seed).leads()
    _, wall, cpu = _timed(lambda: [duplicate_record(lead) for lead in leads])
    print(
        f"\nadapter: duplicate_record(lead) {wall / len(leads) * 1e6:.1f} us wall, "
        f"{cpu / len(leads) * 1e6:.1f} us CPU per lead"
    )


def bench_scan(args: argparse.Namespace) -> None:
    size = args.scan
    print(f"\n=== scan of {size:,} leads ===", flush=True)
    records = [row.to_record() for row in generate_leads(size, seed=args.seed + 1).rows]
    report, wall, cpu = _timed(lambda: scan_report(records, DEFAULT_LEAD_RULES))
    pairs = sum(g.size * (g.size - 1) // 2 for g in report.groups)
    print(
        f"scan: {wall:.1f} s wall, {cpu:.1f} s CPU; {report.comparisons:,} pair comparisons "
        f"of {report.all_pairs:,} possible (n(n-1)/2): "
        f"{report.comparisons / report.all_pairs:.6%}, "
        f"{report.all_pairs / report.comparisons:,.0f}x fewer; "
        f"{report.matches:,} matching pairs in {len(report.groups):,} groups "
        f"({pairs:,} pairs within groups)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=2000, help="lookups per size")
    parser.add_argument("--naive", type=int, default=20, help="naive lookups (0: skip)")
    parser.add_argument("--scan", type=int, default=100_000, help="records to scan (0: skip)")
    parser.add_argument("--no-memory", dest="memory", action="store_false")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20k records, a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.queries, args.naive, args.scan = [20_000], 300, 5, 20_000
    args.sizes = sorted(args.sizes)
    print(f"leadkit duplicate benchmark; Python {sys.version.split()[0]}; seed {args.seed}")
    baseline: dict[str, float] = {}
    for size in args.sizes:
        bench_size(size, args, baseline)
    bench_adapter(args)
    if args.scan:
        bench_scan(args)


if __name__ == "__main__":
    main()
