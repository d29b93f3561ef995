"""Benchmark: import CSV rows into the SQL adapter (SQLite file) with duplicate checks on.

Measures the whole leadkit path -- detect the encoding and delimiter, suggest the mapping,
plan (parse and validate every row, check duplicates in the file and against the store),
commit in one unit of work -- and, in the same run, a plain baseline over the same file:
``csv.reader`` + ``sqlite3`` ``executemany`` of the raw rows into a table of text columns.
Each side runs in its own child process so its peak memory (``ru_maxrss``) is its own; the
script prints rows/s, seconds, peak RSS for both and the ratio of their times, for each
size, then the ratio of the largest size's time to the smallest's::

    python benchmarks/bench_import.py                          # 10k and 100k rows, 100k stored
    python benchmarks/bench_import.py --rows 10000 --stored 0  # quicker
    python benchmarks/bench_import.py --checks-off             # also without duplicate checks
    python benchmarks/bench_import.py --streaming              # also import_streaming

``--stored N`` first stores N leads (another seed of the same generator, so some rows of the
file are duplicates of stored leads) into a template database that each leadkit run copies
before it starts, and builds their duplicate keys there (``SqlKeyStore``, once: setup); the
baseline imports into an empty table. With checks on, ``plan_import(..., duplicates=check)``
checks each batch against the store through those keys (no full read of the store) and
``run_import`` writes through ``check.store`` (batches of 5,000, the new leads' keys written
with them; with ``--recheck`` each batch is also checked again under locks,
``duplicates=check``); without checks it writes into the store. ``--streaming`` also runs
``import_streaming`` (plan and write batch by batch, no plan held; same checks, same batches)
in its own child and prints its time and peak RSS next to plan + run's (goal: peak RSS
<= 300 MiB at 100k rows).

The file is made with a seeded generator: Swedish, Polish, German and English names at some
5,700 companies, each with its own e-mail domain, phone numbers without a country code (read
with region SE), about 2% rows repeating an earlier person.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIRST = (
    "Anna",
    "Björn",
    "Åsa",
    "Örjan",
    "Małgorzata",
    "Łukasz",
    "Zofia",
    "Jürgen",
    "Günther",
    "Käthe",
    "Oliver",
    "Emily",
    "Sven",
    "Agnieszka",
    "Paweł",
    "Ingrid",
    "Lars",
    "Greta",
    "Karin",
    "Maja",
    "Elsa",
    "Nils",
    "Erik",
    "Linnea",
    "Håkan",
    "Göran",
    "Sofia",
    "Wiktor",
    "Krzysztof",
    "Grzegorz",
    "Katarzyna",
    "Joanna",
    "Tomasz",
    "Michał",
    "Ewa",
    "Dorota",
    "Uwe",
    "Jörg",
    "Sabine",
    "Dieter",
    "Ursula",
    "Matthias",
    "Heike",
    "Björg",
    "Frauke",
    "James",
    "Olivia",
    "Harry",
    "Amelia",
    "George",
    "Isla",
    "Jack",
    "Charlotte",
    "Noah",
)
LAST = (
    "Öberg",
    "Ström",
    "Åkesson",
    "Nowak",
    "Wiśniewska",
    "Żółkiewski",
    "Müller",
    "Groß",
    "Schäfer",
    "Smith",
    "Taylor",
    "Lindqvist",
    "Kowalski",
    "Bäckström",
    "Fischer",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jönsson",
    "Hansson",
    "Bengtsson",
    "Lindström",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Schmidt",
    "Schneider",
    "Meyer",
    "Weber",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Jones",
    "Williams",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Johnson",
    "Lewis",
    "Walker",
    "Robinson",
    "Wood",
    "Thompson",
    "White",
    "Watson",
)
FIRM_A = (
    "Nordic",
    "Baltic",
    "Alpen",
    "Vistula",
    "Oder",
    "Göta",
    "Mälar",
    "Rhein",
    "Tatra",
    "Skåne",
    "Bayern",
    "Mazowsze",
    "Norrland",
    "Elbe",
    "Carpathian",
    "Thames",
    "Severn",
    "Öresund",
    "Kattegat",
    "Harz",
    "Pomorze",
    "Śląsk",
    "Dalarna",
    "Jämtland",
    "Saxon",
    "Hanse",
    "Viking",
    "Amber",
    "Polar",
    "Aurora",
)
FIRM_B = (
    "Trä",
    "Stål",
    "Logistik",
    "Software",
    "Bau",
    "Energie",
    "Maszyny",
    "Transport",
    "Konsult",
    "Data",
    "Medical",
    "Foods",
    "Textil",
    "Elektronik",
    "Paper",
    "Glas",
    "Chemie",
    "Solar",
    "Robotics",
    "Finans",
    "Marine",
    "Agro",
    "Pharma",
    "Design",
)
FORMS = ("AB", "GmbH", "sp. z o.o.", "Ltd", "S.A.", "AG", "Handelsbolag", "KG")
HEADER = (
    "Topic",
    "First Name",
    "Last Name",
    "Company Name",
    "Email",
    "Business Phone",
    "City",
    "Lead Source",
    "Budget Amount",
    "Currency",
)


_TLD = {"AB": ".se", "Handelsbolag": ".se", "GmbH": ".de", "AG": ".de", "KG": ".de",
        "sp. z o.o.": ".pl", "S.A.": ".pl", "Ltd": ".co.uk"}  # fmt: skip
_ASCII = str.maketrans("åäöéłżźśąęćńóüßÅÄÖŁŻŚ", "aaoelzzsaecnousAAOLZS")


def _ascii(text: str) -> str:
    return text.translate(_ASCII).lower()


def make_file(path: Path, rows: int, seed: int = 8) -> None:
    """Write ``rows`` data rows (about 2% repeat an earlier row's person)."""
    rng = random.Random(seed)
    made: list[list[str]] = []
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            if made and rng.random() < 0.02:
                row = list(rng.choice(made))
                row[0] = "Follow-up " + row[0]
            else:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                part_a, part_b, form = rng.choice(FIRM_A), rng.choice(FIRM_B), rng.choice(FORMS)
                company = f"{part_a} {part_b} {form}"
                domain = _ascii(f"{part_a}{part_b}") + _TLD.get(form, ".com")
                row = [
                    f"Fleet offer {i}",
                    first,
                    last,
                    company,
                    f"{_ascii(first)}.{_ascii(last)}.{i}@{domain}",
                    f"0{rng.randint(10, 99)}-{rng.randint(100, 999)} {rng.randint(10, 99)} "
                    f"{rng.randint(10, 99)}",
                    rng.choice(("Stockholm", "Göteborg", "Kraków", "Łódź", "München")),
                    rng.choice(("Web", "Trade Show", "Mässa", "Partner", "")),
                    f"{rng.randint(1, 900)} {rng.randint(100, 999)},00",
                    rng.choice(("SEK", "EUR", "PLN")),
                ]
                if len(made) < 5000:
                    made.append(row)
            writer.writerow(row)


def make_store(path: Path, db: Path, leads: int) -> None:
    """Store ``leads`` leads made from a generated file (seed 99) into ``db`` in one unit of
    work, without the import's checks: the stored side of the benchmark."""
    from leadkit.adapters.sql import SqlStore
    from leadkit.lead import Lead
    from leadkit.patch import LeadPatch
    from leadkit.values import Address, EmailAddress, LeadId, PersonName, PhoneNumber, UserRef

    make_file(path, leads, seed=99)
    at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    by = UserRef("bench")
    with SqlStore.open(path=db) as store, store.unit_of_work() as uow, path.open() as f:
        reader = csv.reader(f)
        next(reader)
        for i, row in enumerate(reader):
            patch = LeadPatch(
                topic=row[0],
                name=PersonName(first=row[1], last=row[2]),
                company=row[3],
                email=EmailAddress(row[4]),
                business_phone=PhoneNumber(row[5], "SE"),
                address=Address(city=row[6]),
            )
            uow.leads.add(Lead.create(LeadId(f"S-{i}"), patch, at=at, by=by))
        uow.commit()
    keys_for(db).close()


def keys_for(db: Path) -> Any:
    """The store at ``db`` and, with the duplicate keys built in its database once (the
    template's setup), the keyed check of the import: ``(store, check)``."""
    from leadkit.adapters.sql import SqlStore
    from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
    from leadkit.duplicate_checks import EngineDuplicateCheck

    store = SqlStore.open(path=db)
    check = EngineDuplicateCheck(store, key_store=SqlKeyStore(store.engine), leads=True)
    check.refresh()  # builds the keys the first time only
    return _Opened(store, check)


def _open(db: Path) -> Any:
    from leadkit.adapters.sql import SqlStore

    return SqlStore.open(path=db)


class _Opened:
    def __init__(self, store: Any, check: Any) -> None:
        self.store, self.check = store, check

    def close(self) -> None:
        self.store.close()


def run_leadkit(path: Path, db: Path, checks: bool = True) -> dict[str, Any]:
    from leadkit.io import ImportPolicy, open_source, plan_import, run_import
    from leadkit.values import UserRef

    start = time.perf_counter()
    ids = itertools.count(1)
    opened = keys_for(db) if checks else _Opened(_open(db), None)
    try:
        store, check = opened.store, opened.check
        source = open_source(path)
        policy = ImportPolicy(phone_region="SE", check_duplicates=checks)
        keyed = check if checks else None
        plan = plan_import(source, policy=policy, store=store, duplicates=keyed)
        planned = time.perf_counter()
        # With checks on, the import writes through check.store (the new leads' keys are
        # written with them); without, straight into the store, as a host with no key table.
        report = run_import(
            check.store if checks else store,
            plan,
            ids=lambda: f"L-{next(ids)}",
            at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            by=UserRef("bench"),
            batch_size=5000,
            duplicates=keyed if os.environ.get("BENCH_RECHECK") == "1" else None,
        )
    finally:
        opened.close()
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "plan_seconds": planned - start,
        "commit_seconds": end - planned,
        "rows": report.rows,
        "created": report.created,
        "skipped_as_duplicate": report.skipped_as_duplicate,
        "rejected": report.rejected,
    }


def run_streaming(path: Path, db: Path) -> dict[str, Any]:
    """``import_streaming`` of the file with the checks on, as :func:`run_leadkit` imports it
    (keyed check, batches of 5,000); the plan/commit split is the end of its plan pass."""
    from leadkit.io import ImportPolicy, ImportProgress, import_streaming, open_source
    from leadkit.values import UserRef

    start = time.perf_counter()
    ids = itertools.count(1)
    planned = [start]

    def progress(state: ImportProgress) -> None:
        if state.phase == "plan":
            planned[0] = time.perf_counter()

    opened = keys_for(db)
    try:
        check = opened.check
        report = import_streaming(
            check.store,
            open_source(path),
            policy=ImportPolicy(phone_region="SE"),
            ids=lambda: f"L-{next(ids)}",
            at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            by=UserRef("bench"),
            batch_size=5000,
            duplicates=check,
            recheck=os.environ.get("BENCH_RECHECK") == "1",
            progress=progress,
        )
    finally:
        opened.close()
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "plan_seconds": planned[0] - start,
        "commit_seconds": end - planned[0],
        "rows": report.rows,
        "created": report.created,
        "skipped_as_duplicate": report.skipped_as_duplicate,
        "rejected": report.rejected,
    }


def run_baseline(path: Path, db: Path) -> dict[str, Any]:
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        columns = ", ".join(f"c{i} TEXT" for i in range(len(header)))
        conn.execute(f"CREATE TABLE leads (id INTEGER PRIMARY KEY, {columns})")
        marks = ", ".join("?" for _ in header)
        names = ", ".join(f"c{i}" for i in range(len(header)))
        conn.executemany(f"INSERT INTO leads ({names}) VALUES ({marks})", reader)
    conn.commit()
    rows = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
    conn.close()
    return {"seconds": time.perf_counter() - start, "rows": rows}


def _child(phase: str, path: Path, db: Path, template: Path | None) -> None:
    if phase == "store":
        make_store(path, db, int(os.environ["BENCH_STORED"]))
        return
    if template is not None and phase != "baseline":
        shutil.copyfile(template, db)
    cpu = time.process_time()
    if phase == "baseline":
        result = run_baseline(path, db)
    elif phase == "stream":
        result = run_streaming(path, db)
    else:
        result = run_leadkit(path, db, checks=phase == "leadkit")
    result["cpu_seconds"] = time.process_time() - cpu
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _spawn(phase: str, path: Path, db: Path, template: Path | None, env: dict[str, str]) -> str:
    command = [sys.executable, __file__, "--phase", phase, "--file", str(path), "--db", str(db)]
    if template is not None:
        command += ["--template", str(template)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return out.stdout


def _line(label: str, n: int, r: dict[str, Any], note: str) -> str:
    return (
        f"  {label:9}: {r['seconds']:8.2f} s  {n / r['seconds']:10,.0f} rows/s  "
        f"cpu {r['cpu_seconds']:7.2f} s  peak RSS {r['peak_rss_mib']:7.1f} MiB  {note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--stored", type=int, default=100_000, help="leads stored first")
    parser.add_argument("--checks-off", action="store_true", help="also import without checks")
    parser.add_argument("--streaming", action="store_true",
                        help="also import_streaming (checks on)")  # fmt: skip
    parser.add_argument("--recheck", action="store_true",
                        help="run_import(duplicates=check): check again under locks")  # fmt: skip
    parser.add_argument("--phase", choices=("leadkit", "nochecks", "baseline", "store", "stream"),
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--template", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _child(args.phase, args.file, args.db, args.template)
        return
    env = {**os.environ, "BENCH_STORED": str(args.stored), "BENCH_RECHECK": str(int(args.recheck))}
    timings: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        template: Path | None = None
        if args.stored:
            template = Path(tmp) / "stored.db"
            started = time.perf_counter()
            _spawn("store", Path(tmp) / "stored.csv", template, None, env)
            print(f"stored {args.stored:,} leads in {time.perf_counter() - started:.1f} s "
                  "(setup, not timed below)", flush=True)  # fmt: skip
        for n in args.rows:
            path = Path(tmp) / f"leads-{n}.csv"
            make_file(path, n)
            phases = ["baseline", "leadkit"] + (["nochecks"] if args.checks_off else [])
            phases += ["stream"] if args.streaming else []
            results: dict[str, dict[str, Any]] = {}
            for phase in phases:
                db = Path(tmp) / f"{phase}-{n}.db"
                results[phase] = json.loads(_spawn(phase, path, db, template, env))
            base, lk = results["baseline"], results["leadkit"]
            timings[n] = lk["seconds"]
            print(f"{n:,} CSV rows into a SQLite file holding {args.stored:,} leads, duplicate "
                  "checks on (in the file and against the store)")  # fmt: skip
            print(_line("leadkit", n, lk, f"(plan {lk['plan_seconds']:.2f} s, commit "
                                          f"{lk['commit_seconds']:.2f} s)"))  # fmt: skip
            print(_line("baseline", n, base, "(csv.reader + sqlite3 executemany, empty table)"))
            print(
                f"  ratio    : leadkit takes {lk['seconds'] / base['seconds']:.1f}x the "
                f"baseline's wall time, {lk['cpu_seconds'] / base['cpu_seconds']:.1f}x its CPU "
                f"time; speed {base['seconds'] / lk['seconds']:.3f}x the baseline's"
            )
            if "nochecks" in results:
                off = results["nochecks"]
                print(_line("no checks", n, off, f"(plan {off['plan_seconds']:.2f} s, commit "
                                                 f"{off['commit_seconds']:.2f} s)"))  # fmt: skip
                print(f"  ratio    : without checks, speed {base['seconds'] / off['seconds']:.3f}x"
                      " the baseline's (goal >= 0.3x)")  # fmt: skip
            if "stream" in results:
                sm = results["stream"]
                print(_line("streaming", n, sm, f"(plan pass {sm['plan_seconds']:.2f} s, write "
                                                f"pass {sm['commit_seconds']:.2f} s)"))  # fmt: skip
                rss, rss_lk = sm["peak_rss_mib"], lk["peak_rss_mib"]
                print(f"  ratio    : streaming peak RSS {rss:.0f} MiB against plan + run's "
                      f"{rss_lk:.0f} MiB ({rss / rss_lk:.2f}x; goal <= 300 MiB at 100k rows), "
                      f"{sm['cpu_seconds'] / lk['cpu_seconds']:.2f}x its CPU time")  # fmt: skip
                same = all(sm[k] == lk[k] for k in ("rows", "created", "skipped_as_duplicate",
                                                    "rejected"))  # fmt: skip
                print(f"  streaming outcome {'equals' if same else 'DIFFERS FROM'} plan + run's")
            print(
                f"  outcome  : {lk['created']:,} created, {lk['skipped_as_duplicate']:,} skipped "
                f"as duplicates, {lk['rejected']:,} rejected, {lk['rows']:,} rows accounted for",
                flush=True,
            )
    if len(timings) > 1:
        small, large = min(timings), max(timings)
        print(
            f"scaling: {large:,} rows took {timings[large] / timings[small]:.1f}x the time of "
            f"{small:,} rows ({large / small:.0f}x the rows; goal <= 11x for 10x)"
        )


if __name__ == "__main__":
    main()
