"""Benchmark: the batch duplicate scan -- comparisons per record, time and quality.

For each size (default 100,000; add 1,000,000 with ``--sizes 100000 1000000``) it generates
leads with ``leadkit.testing.dupdata`` (about 22% duplicates, messy), scans them with the
default rules twice in the same run -- the baseline blocking on one condition per rule
(``compound_keys=False``, key format 1) and the compound keys of key format 2 -- and prints
for each: wall and CPU seconds, pair comparisons per record, and the pairwise precision and
recall of the scan's matches and groups against the generated truth; then the ratios.
``--workers N`` also runs the compound scan in N processes (shards) and checks that their
merged result equals the single-process one; ``--lookups`` also times the scan as it was
before its own pass (each record looked up in a ``DuplicateIndex``), for the CPU ratio;
``--window W`` sets the scan's sorted-neighbourhood window over oversized compound blocks
(``--window 0``: none, whole blocks compared, as the index lookups and the library's default
scan do; default here: ``DEFAULT_SCAN_WINDOW``, 10, the opt-in bounded scan);
``--explain N`` says where the missed and the wrong pairs come from, with N examples each
(a missed pair no rule matches, or one blocking never compared; wrong pairs by rule).

    python benchmarks/bench_scan.py                          # 100k
    python benchmarks/bench_scan.py --sizes 20000            # quick
    python benchmarks/bench_scan.py --sizes 1000000 --no-baseline
    python benchmarks/bench_scan.py --sizes 100000 --lookups --explain 3
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from itertools import combinations

os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

from leadkit.duplicates import DEFAULT_LEAD_RULES, ScanReport, scan_report
from leadkit.duplicates.compiled import compile_rule_set
from leadkit.duplicates.engine import DEFAULT_SCAN_WINDOW, _scan_by_lookups
from leadkit.duplicates.record_view import RecordType
from leadkit.scan_workers import scan_in_processes
from leadkit.testing.dupdata import LeadRow, PairQuality, generate_leads, pair_quality


def _quality(report: ScanReport, truth: frozenset[tuple[str, str]]) -> tuple[PairQuality, ...]:
    matched = {(e.record.record_id, e.candidate.record_id) for g in report.groups for e in g.edges}
    grouped = {
        (a.record_id, b.record_id) for g in report.groups for a, b in combinations(g.members, 2)
    }
    return pair_quality(matched, truth), pair_quality(grouped, truth)


def _run(
    label: str, records: list, truth: frozenset, **options: object
) -> tuple[dict[str, float], ScanReport]:
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
    found = {"wall": wall, "cpu": cpu, "per": per, "p": pairs.precision, "r": pairs.recall}
    return found, report


def _lookups(records: list, cpu_new: float, comparisons: int) -> None:
    """The scan as it was before its own pass: each record looked up in a DuplicateIndex of
    all of them (``engine._scan_by_lookups``), for the CPU ratio; the comparisons must agree."""
    cpu = time.process_time()
    _, made, _ = _scan_by_lookups(records, DEFAULT_LEAD_RULES)
    cpu = time.process_time() - cpu
    print(
        f"  lookups  : {cpu:8.1f} s CPU (the index-lookup scan); the scan's own pass takes "
        f"{cpu_new / cpu:.2f}x its CPU; same comparisons (expected only with --window 0): "
        f"{made == comparisons}",
        flush=True,
    )


def _workers(
    report: ScanReport, records: list, workers: int, one_wall: float, window: int | None
) -> None:
    """The compound scan again in ``workers`` processes (shards), checked against ``report``."""
    wall = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time()
    merged = scan_in_processes(records, DEFAULT_LEAD_RULES, workers=workers, window=window)
    cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    wall = time.perf_counter() - wall
    same = merged.groups == report.groups
    print(
        f"  {workers} workers: {wall:8.1f} s wall {cpu:8.1f} s CPU (all processes); "
        f"wall {wall / one_wall:.2f}x the single process; same groups: {same}",
        flush=True,
    )


def _row_text(row: LeadRow) -> str:
    return (
        f"{row.first_name} {row.last_name} | {row.company or '-'} | {row.email or '-'} | "
        f"{row.business_e164 or '-'} {row.mobile_e164 or '-'} | {row.postal_code}"
    )


def _explain(
    report: ScanReport, rows: list[LeadRow], records: list, truth: frozenset, examples: int
) -> None:
    """Where the compound scan's pairs go wrong: each missed true pair is either one no rule
    matches (the rules' limit on this data) or one a rule matches that blocking never compared
    (lost by blocking); each wrong pair is listed by the rule that matched it, with how many
    are two generated people with the same name at the same company."""
    compiled = compile_rule_set(DEFAULT_LEAD_RULES)
    rules = compiled.by_base.get(RecordType.LEAD, ())
    rules = [r for r in rules if r.rule.matching_type is RecordType.LEAD]
    prepared = {str(r.record_id): compiled.prepare(r) for r in records}
    by_id = {row.id: row for row in rows}
    found: dict[tuple[str, str], str] = {}
    for group in report.groups:
        for edge in group.edges:
            a, b = sorted((str(edge.record.record_id), str(edge.candidate.record_id)))
            found[a, b] = edge.rule
    stops = report.stop_keys
    print(
        f"  stop keys (skipped blocks): {len(stops):,}; largest: "
        + ", ".join(f"{s.key} ({s.count:,})" for s in stops[:5])
    )
    missed = sorted(truth - found.keys())
    blocked = [
        pair
        for pair in missed
        if any(
            r.evaluate(prepared[pair[0]], prepared[pair[1]]) is not None
            or r.evaluate(prepared[pair[1]], prepared[pair[0]]) is not None
            for r in rules
        )
    ]
    print(
        f"  missed true pairs: {len(missed):,}: no rule matches {len(missed) - len(blocked):,}, "
        f"a rule matches but blocking never compared them {len(blocked):,}"
    )
    for a, b in blocked[:examples]:
        print(f"    lost by blocking: {_row_text(by_id[a])}  ~  {_row_text(by_id[b])}")
    wrong: dict[str, list[tuple[str, str]]] = {}
    for pair, rule in found.items():
        if pair not in truth:
            wrong.setdefault(rule, []).append(pair)
    for rule, pairs in sorted(wrong.items(), key=lambda item: -len(item[1])):
        twins = sum(
            by_id[a].company != ""
            and by_id[a].company == by_id[b].company
            and (by_id[a].first_name, by_id[a].last_name)
            == (by_id[b].first_name, by_id[b].last_name)
            for a, b in pairs
        )
        print(
            f"  wrong pairs by {rule}: {len(pairs):,} (same first and last name at the same "
            f"company, different generated people: {twins:,})"
        )
        for a, b in sorted(pairs)[:examples]:
            print(f"    {_row_text(by_id[a])}  ~  {_row_text(by_id[b])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline scan")
    parser.add_argument(
        "--lookups", action="store_true", help="also time the index-lookup scan (the old path)"
    )
    parser.add_argument("--workers", type=int, default=0, help="also scan in N processes")
    parser.add_argument(
        "--window",
        type=int,
        default=DEFAULT_SCAN_WINDOW,
        help="the scan's window over oversized compound blocks (0: none)",
    )
    parser.add_argument(
        "--explain",
        type=int,
        metavar="EXAMPLES",
        help="also say where the missed and wrong pairs come from, with EXAMPLES examples each",
    )
    args = parser.parse_args()
    window = args.window or None
    print(f"load average {os.getloadavg()[0]:.1f}; window {window}", flush=True)
    for size in args.sizes:
        dataset = generate_leads(size, seed=args.seed)
        records = [row.to_record() for row in dataset.rows]
        truth = dataset.duplicate_pairs()
        print(f"=== scan of {size:,} generated leads ({len(truth):,} true pairs) ===", flush=True)
        base = None
        if not args.no_baseline:
            base, _ = _run("baseline", records, truth, compound_keys=False, window=window)
        new, report = _run("compound", records, truth, window=window)
        if base is not None:
            print(
                f"  ratio    : comparisons/record {new['per'] / base['per']:.2f}x, wall "
                f"{new['wall'] / base['wall']:.2f}x, precision {new['p'] - base['p']:+.3f}, "
                f"recall {new['r'] - base['r']:+.3f} (compound against baseline)"
            )
        if args.lookups:
            _lookups(records, new["cpu"], report.comparisons)
        if args.workers:
            _workers(report, records, args.workers, new["wall"], window)
        if args.explain is not None:
            _explain(report, list(dataset.rows), records, truth, args.explain)


if __name__ == "__main__":
    main()
