"""Mutation testing of leadkit's core with mutmut, module group by module group.

Usage (from the repository root, with the dev virtualenv)::

    scripts/mutation                    # every group, fresh runs, then the report
    scripts/mutation status patch       # only these groups (the others keep their last results)
    scripts/mutation --again status     # re-test only the mutants that were not killed last time
    scripts/mutation --report           # rewrite docs/mutation.md from the stored results

Each group mutates one module and runs only that module's unit and property tests (with the
hypothesis profile ``mutation``: 5 examples a property), so a run stays short; it runs in its
own copy of the sources under ``.mutation/<group>/`` with the shared ``[tool.mutmut]``
settings of pyproject.toml and the group's ``only_mutate`` and test selection. mutmut's
verdict for every mutant is kept in ``mutation/results.json``; ``mutation/equivalent.toml``
lists the surviving mutants judged equivalent, each with a one-line reason; the report
``docs/mutation.md`` is computed from both.

Mutants of code that runs at import time (e.g. the transition-table checks of status.py) are
reachable only through tests that call that code again: mutmut activates a mutant after the
modules are imported. The modules' unit tests call such checkers directly with bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
RESULTS = ROOT / "mutation" / "results.json"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
REPORT = ROOT / "docs" / "mutation.md"

SRC = "src/leadkit/"
UNIT = "tests/unit/"
PROPS = "tests/properties/"

# group name -> (module file under src/leadkit, its test files)
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "status": ("status.py", (UNIT + "test_status.py",)),
    "patch": ("patch.py", (UNIT + "test_patch.py",)),
    "profiles": ("profiles.py", (UNIT + "test_profiles.py",)),
    "values": ("values.py", (UNIT + "test_values.py",)),
    "policies": ("policies.py", (UNIT + "test_policies.py",)),
    "scoring.predicates": ("scoring/predicates.py", (UNIT + "test_scoring_predicates.py",)),
    "scoring.model": ("scoring/model.py", (UNIT + "test_scoring_model.py",)),
    "scoring.engine": (
        "scoring/engine.py",
        (UNIT + "test_scoring_engine.py", PROPS + "test_scoring_properties.py"),
    ),
    "duplicates.normalize": ("duplicates/normalize.py", (UNIT + "test_duplicates_normalize.py",)),
    "duplicates.rule_normalizers": (
        "duplicates/rule_normalizers.py",
        (UNIT + "test_duplicates_rules.py", UNIT + "test_duplicates_conditions.py"),
    ),
    "duplicates.conditions": (
        "duplicates/conditions.py",
        (UNIT + "test_duplicates_rules.py", UNIT + "test_duplicates_conditions.py"),
    ),
    "duplicates.rule_sets": (
        "duplicates/rule_sets.py",
        (UNIT + "test_duplicates_rules.py", UNIT + "test_duplicates_conditions.py"),
    ),
    "duplicates.rules": (
        "duplicates/rules.py",
        (UNIT + "test_duplicates_rules.py", UNIT + "test_duplicates_conditions.py"),
    ),
    "duplicates.engine": (
        "duplicates/engine.py",
        (
            UNIT + "test_duplicates_engine.py",
            UNIT + "test_shards.py",  # merge_scan_reports
            PROPS + "test_duplicates_properties.py",
        ),
    ),
    # The Lead aggregate, split along its seams: a group per module.
    "lead": (
        "lead.py",
        (
            UNIT + "test_lead.py",
            UNIT + "test_lead_profile.py",
            UNIT + "test_lead_events.py",
            UNIT + "test_lead_merge_commands.py",  # reactivate's LeadMerged, restore's applier
            PROPS + "test_lifecycle_machine.py",
            PROPS + "test_replay.py",
        ),
    ),
    "lead.base": ("_lead_base.py", (UNIT + "test_lead.py", UNIT + "test_lead_merge_commands.py")),
    "lead.apply": (
        "_lead_apply.py",
        (
            UNIT + "test_lead.py",
            UNIT + "test_lead_events.py",
            UNIT + "test_lead_scoring.py",
            UNIT + "test_merging.py",
            PROPS + "test_replay.py",
        ),
    ),
    "lead.timeline": (
        "_lead_timeline.py",
        (
            UNIT + "test_lead.py",
            UNIT + "test_lead_timeline.py",
            UNIT + "test_lead_merge_commands.py",
            PROPS + "test_closed_leads.py",
        ),
    ),
    "lead.scoring": (
        "_lead_scoring.py",
        (UNIT + "test_lead_scoring.py", PROPS + "test_closed_leads.py"),
    ),
    "lead.merging": (
        "_lead_merging.py",
        (UNIT + "test_lead_merge_commands.py", UNIT + "test_merging.py"),
    ),
    # leadkit.conversion itself has no group: it holds re-exports, the DuplicateCheck protocol and
    # NoDuplicates.find (`return ()`), in which mutmut finds nothing to mutate.
    "conversion_request": ("conversion_request.py", (UNIT + "test_conversion_request.py",)),
    "conversion_plan": ("conversion_plan.py", (UNIT + "test_conversion_plan.py",)),
    "conversion_planner": ("conversion_planner.py", (UNIT + "test_conversion.py",)),
}

GOAL = 85.0  # per cent, the raw score every module should reach

# mutmut's exit codes (mutmut.stats.status_by_exit_code) folded into the report's columns.
KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass(frozen=True)
class Figures:
    """The counts of one module (or of all of them)."""

    mutants: int
    killed: int
    timeouts: int
    survived: int
    no_tests: int
    other: int
    equivalent: int

    @property
    def detected(self) -> int:
        """Killed mutants and mutants whose tests ran out of time (an endless loop is noticed)."""
        return self.killed + self.timeouts

    @property
    def score(self) -> float:
        """Detected mutants over all mutants, in per cent."""
        return 100.0 * self.detected / self.mutants if self.mutants else 100.0

    @property
    def score_without_equivalent(self) -> float:
        """Detected mutants over the mutants not recorded as equivalent, in per cent."""
        real = self.mutants - self.equivalent
        return 100.0 * self.detected / real if real else 100.0


def _plain(text: str) -> str:
    """``text`` with what Markdown would read as links, HTML or emphasis escaped outside its
    code spans."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = "".join("\\" + c if c in "[]*<>" else c for c in parts[i])
    return "`".join(parts)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def _group_pyproject(group: str) -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    module, tests = GROUPS[group]
    mutmut = dict(data["tool"]["mutmut"])
    mutmut["only_mutate"] = [SRC + module]
    mutmut["pytest_add_cli_args_test_selection"] = list(tests)
    pytest_options = data["tool"]["pytest"]["ini_options"]
    lines = ["[tool.pytest.ini_options]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in pytest_options.items()]
    lines += ["", "[tool.mutmut]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in mutmut.items()]
    return "\n".join(lines) + "\n"


def _prepare(group: str, *, fresh: bool) -> Path:
    work = WORK / group
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in ("src", "tests"):
        if (work / name).exists():
            shutil.rmtree(work / name)
        shutil.copytree(
            ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis")
        )
    (work / "pyproject.toml").write_text(_group_pyproject(group), "utf-8")
    return work


def _mutmut() -> str:
    local = Path(sys.executable).parent / "mutmut"
    return str(local) if local.exists() else "mutmut"


def _meta(work: Path, group: str) -> dict[str, int | None]:
    module, _ = GROUPS[group]
    meta_path = work / "mutants" / (SRC + module + ".meta")
    data = json.loads(meta_path.read_text("utf-8"))
    codes: dict[str, int | None] = data["exit_code_by_key"]
    return codes


@dataclass(frozen=True)
class GroupResult:
    """mutmut's exit code for every mutant of a group, with when and how the run was made."""

    run: str
    command: str
    exit_codes: dict[str, int | None]


def _load_results() -> dict[str, GroupResult]:
    if not RESULTS.exists():
        return {}
    loaded: dict[str, dict[str, object]] = json.loads(RESULTS.read_text("utf-8"))
    results = {}
    for group, entry in loaded.items():
        if "exit_codes" in entry:
            results[group] = GroupResult(
                str(entry["run"]),
                str(entry["command"]),
                dict(entry["exit_codes"]),  # type: ignore[call-overload]
            )
        else:  # a bare mapping of exit codes, as the first version of this script wrote
            results[group] = GroupResult("unknown", "scripts/mutation", dict(entry))  # type: ignore[arg-type]
    return results


def _save_results(results: dict[str, GroupResult]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    ordered = {
        g: {
            "run": results[g].run,
            "command": results[g].command,
            "exit_codes": dict(sorted(results[g].exit_codes.items())),
        }
        for g in GROUPS
        if g in results
    }
    RESULTS.write_text(json.dumps(ordered, indent=1, ensure_ascii=False) + "\n", "utf-8")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_group(group: str, *, again: bool, max_children: int) -> tuple[dict[str, int | None], str]:
    """Run mutmut on one group; return its exit code for every mutant and the command.

    With ``again`` the group's previous work directory is kept and only the mutants that were
    not killed are tested again (after the tests changed); without a previous run the group
    runs in full.
    """
    work = WORK / group
    names: list[str] = []
    if again and (work / "mutants").exists():
        previous = _meta(work, group)
        names = [n for n, code in previous.items() if code not in KILLED]
        if not names:
            return previous, f"scripts/mutation --again {group}"
    work = _prepare(group, fresh=not names)
    if names:
        # Which tests cover which function is known from mutmut's first run; a test that was
        # changed since (not only added) must be traced again, so the map is rebuilt.
        (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    # The "mutation" profile of tests/conftest.py: few examples per property, so a group runs
    # in minutes; each property still runs, and a mutant that breaks it fails most examples.
    env = dict(os.environ, HYPOTHESIS_PROFILE="mutation")
    env.pop("CI", None)
    command = ["nice", "-n", "19", _mutmut(), "run", "--max-children", str(max_children), *names]
    note = f" ({len(names)} mutants not killed last time)" if names else ""
    print(f"== {group}: {' '.join(command[:6])}{note}", flush=True)
    subprocess.run(command, cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    return _meta(work, group), f"scripts/mutation {'--again ' if names else ''}{group}"


def _load_equivalent() -> dict[str, str]:
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text("utf-8"))
    equivalent: dict[str, str] = data.get("equivalent", {})
    return equivalent


def _figures(codes: dict[str, int | None], equivalent: dict[str, str]) -> Figures:
    values = list(codes.values())
    killed = sum(c in KILLED for c in values)
    timeouts = sum(c in TIMEOUT for c in values)
    survived = sum(c in SURVIVED for c in values)
    no_tests = sum(c in NO_TESTS for c in values)
    eq = sum(1 for name, c in codes.items() if name in equivalent and c in SURVIVED | NO_TESTS)
    return Figures(
        mutants=len(values),
        killed=killed,
        timeouts=timeouts,
        survived=survived,
        no_tests=no_tests,
        other=len(values) - killed - timeouts - survived - no_tests,
        equivalent=eq,
    )


def _row(name: str, f: Figures) -> str:
    return (
        f"| {name} | {f.mutants} | {f.killed} | {f.timeouts} | {f.survived} | {f.no_tests} "
        f"| {f.other} | {f.equivalent} | {f.score:.1f} % | {f.score_without_equivalent:.1f} % |"
    )


def write_report(results: dict[str, GroupResult]) -> str:
    """Write docs/mutation.md from the stored verdicts and the equivalent list; return its text."""
    equivalent = _load_equivalent()
    lines = [
        "# Mutation testing",
        "",
        "How much of the core's logic the tests notice breaking: [mutmut](https://mutmut.readthedocs.io)"
        " changes the code one small edit at a time (a mutant) and runs the module's unit and"
        " property tests against each; a mutant is *killed* when a test fails. This page is"
        " generated by `scripts/mutation` from `mutation/results.json` (mutmut's verdicts) and"
        " `mutation/equivalent.toml` (surviving mutants that do not change behaviour, each with"
        " its reason); do not edit it by hand.",
        "",
        f"- Generated: {_now()}; each module's row gives the date and the command of its run.",
        "- Score: killed and timed-out mutants over all mutants; the last column leaves out the"
        " mutants recorded as equivalent.",
        "",
        "| Module | Mutants | Killed | Timeouts | Survived | No tests | Other | Equivalent "
        "| Score | Score without equivalent | Run | Command |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    total: dict[str, int | None] = {}
    for group in GROUPS:
        if group not in results:
            lines.append(f"| {group} | not run | | | | | | | | | | |")
            continue
        result = results[group]
        total.update(result.exit_codes)
        row = _row(group, _figures(result.exit_codes, equivalent))
        lines.append(f"{row} {result.run} | `{result.command}` |")
    lines.append(_row("**all run**", _figures(total, equivalent)) + " | |")
    reached = [
        g
        for g in GROUPS
        if g in results and _figures(results[g].exit_codes, equivalent).score >= GOAL
    ]
    below = [g for g in GROUPS if g in results and g not in reached]
    missing = [g for g in GROUPS if g not in results]
    lines += [
        "",
        f"Goal: a raw score of at least {GOAL:.0f} % on every module. Reached by {len(reached)} of"
        f" {len(GROUPS)}; below it: {', '.join(below) or 'none'}; not run yet:"
        f" {', '.join(missing) or 'none'}.",
    ]
    survivors = sorted(
        n for n, c in total.items() if c not in KILLED | TIMEOUT and n not in equivalent
    )
    stale = sorted(n for n in equivalent if n not in total or total[n] not in SURVIVED | NO_TESTS)
    lines += ["", "## Surviving mutants not yet triaged", ""]
    lines += [f"- `{n}`" for n in survivors] or ["None."]
    lines += ["", "## Equivalent mutants", ""]
    lines += [f"- `{n}`: {_plain(reason)}" for n, reason in sorted(equivalent.items())] or ["None."]
    if stale:
        lines += ["", "Listed as equivalent but no longer surviving (remove them):", ""]
        lines += [f"- `{n}`" for n in stale]
    lines += [
        "",
        "## Running it",
        "",
        "```sh",
        "scripts/mutation                 # all groups (slow: tens of minutes)",
        "scripts/mutation status lead     # some groups",
        "scripts/mutation --again lead    # re-test the survivors after adding tests",
        "cd .mutation/lead && mutmut show NAME   # the diff of one mutant",
        "```",
        "",
    ]
    text = "\n".join(lines)
    REPORT.write_text(text, "utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the chosen groups (all by default), store their verdicts and rewrite the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=", ".join(GROUPS))
    parser.add_argument("--again", action="store_true", help="re-test only the survivors")
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    parser.add_argument("--max-children", type=int, default=1)
    args = parser.parse_args(argv)
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    if not args.report:
        for group in args.groups or list(GROUPS):
            codes, command = run_group(group, again=args.again, max_children=args.max_children)
            results = _load_results()  # another run may have stored other groups meanwhile
            results[group] = GroupResult(_now(), command, codes)
            _save_results(results)
    text = write_report(_load_results())
    print(text.split("\n## Surviving")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
