"""Benchmark: the converter's generated fast path for leads against its strict path.

Writes and reads the same fully populated leads both ways in the same run and prints leads/s
for each with the ratio strict time / fast time (above 1: the generated codec pays). It also
prints the converter's fallback counts, which must stay 0 for these well-formed leads. Run on
demand::

    python benchmarks/bench_codec.py            # 2,000 leads, best of 5
    python benchmarks/bench_codec.py --n 500    # quicker
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from leadkit import Lead, LeadId, UserRef, make_converter
from leadkit.cli.demo_data import demo_leads

END = datetime(2026, 6, 1, tzinfo=UTC)
USER = UserRef("bench", "Bench User")


def make_leads(n: int) -> list[Lead]:
    """``n`` demo leads (names, companies, phones, e-mails, addresses, custom fields)."""
    return [
        Lead.create(LeadId(f"lead-{i:06}"), demo.patch, at=demo.created_at, by=USER).clear_events()
        for i, demo in enumerate(demo_leads(n, end=END, seed=7))
    ]


def best(repeat: int, step: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs of ``step``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    conv = make_converter()
    strict = conv._c  # the strict cattrs converter the fast path falls back to
    leads = make_leads(args.n)
    datas: list[Any] = [json.loads(conv.dumps(lead))["data"] for lead in leads]
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def dump_fast() -> None:
        for lead in leads:
            conv.dumps(lead)

    def dump_strict() -> None:
        for lead in leads:
            encoder.encode(conv.dump(lead))

    def load_fast() -> None:
        for data in datas:
            conv.structure(data, Lead)

    def load_strict() -> None:
        for data in datas:
            strict.structure(data, Lead)

    for fast, slow in ((dump_fast, dump_strict), (load_fast, load_strict)):
        assert all(conv.dumps(lead) == encoder.encode(conv.dump(lead)) for lead in leads[:50])
        t_fast = best(args.repeat, fast)
        t_slow = best(args.repeat, slow)
        what = fast.__name__.split("_")[0]
        print(
            f"{what:5} fast {args.n / t_fast:9,.0f} leads/s   strict {args.n / t_slow:9,.0f}"
            f" leads/s   strict/fast = {t_slow / t_fast:.2f}x"
        )
    print(f"fallbacks: {dict(conv.fallbacks)}")


if __name__ == "__main__":
    main()
