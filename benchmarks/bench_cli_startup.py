"""Benchmark of start-up: CPU time of ``leadkit --help`` and ``leadkit --version`` (answered by
:mod:`leadkit_cli` without importing leadkit), of ``import leadkit`` (lazy: no submodule),
``import leadkit.status``, the first use of ``leadkit.Lead`` and ``import hypothesis`` (whose
leadkit plugin loads no leadkit module) against a bare interpreter measured in the same run,
and against ``python -m leadkit.cli --help`` (the whole command group, which imports leadkit,
SQLAlchemy and rich).

Printed, not asserted. Each command runs ``--runs`` times in a fresh interpreter; the CPU time
(user + system) of each child comes from ``resource.getrusage(RUSAGE_CHILDREN)``; the median is
shown with the goal of 150 ms.

    python benchmarks/bench_cli_startup.py
    python benchmarks/bench_cli_startup.py --runs 5
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys

GOAL_MS = 150.0


def cpu_ms(command: list[str]) -> float:
    """CPU time (user + system, ms) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def median_ms(command: list[str], runs: int) -> float:
    cpu_ms(command)  # warm the file cache
    return statistics.median(cpu_ms(command) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    python = sys.executable
    launcher = [python, "-c", "from leadkit_cli import main; main()"]
    cases = [
        ("python -c pass (baseline)", [python, "-c", "pass"]),
        ("leadkit --help", [*launcher, "--help"]),
        ("leadkit --version", [*launcher, "--version"]),
        ("leadkit (no arguments)", launcher),
        ("python -c 'import leadkit'", [python, "-c", "import leadkit"]),
        ("python -c 'import leadkit.status'", [python, "-c", "import leadkit.status"]),
        (
            "python -c 'import leadkit; leadkit.Lead'",
            [python, "-c", "import leadkit; leadkit.Lead"],
        ),
        ("python -c 'import hypothesis'", [python, "-c", "import hypothesis"]),
        ("python -m leadkit.cli --help (full import)", [python, "-m", "leadkit.cli", "--help"]),
    ]
    baseline = None
    print(f"CPU time per run, median of {runs} (goal for --help/--version: {GOAL_MS:.0f} ms)")
    for name, command in cases:
        ms = median_ms(command, runs)
        baseline = ms if baseline is None else baseline
        goal = ""
        if name.startswith("leadkit"):
            goal = "  within goal" if ms < GOAL_MS else "  OVER GOAL"
        print(f"  {name:<44} {ms:7.1f} ms   x{ms / baseline:5.1f} baseline{goal}")


if __name__ == "__main__":
    main()
