"""Runs hostile files through leadkit in this process under a memory cap, for
tests/unit/test_hostile_corpus.py: ``python hostile_child.py MODE DB PATH...``.

MODE ``lib`` plans an import of each table file (or reads an ``.eml`` as an e-mail lead);
``cli`` runs ``leadkit --db DB --debug import PATH --yes`` in this process. After a warm-up
(one small good file of each kind, read by the library and imported by the CLI, so that
lazily imported libraries are loaded), the address
space is capped at what the interpreter then uses plus :data:`WORK_BYTES`. Before each file
the peak-memory mark is reset (``/proc/self/clear_refs``). One JSON line per file: the outcome
(``accepted``, ``refused`` with a leadkit error, ``escaped`` with any other exception), the
error, the CPU seconds of the work (CPU time, so that a loaded machine does not fail the
check) and the peak resident memory while it ran.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

WORK_BYTES = 256 << 20


def _status(key: str) -> int:
    """A size from /proc/self/status in bytes (VmSize: address space, VmHWM: peak resident
    memory since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - not Linux


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _warm_up(folder: Path) -> None:
    import openpyxl

    from leadkit.io import ImportPolicy, lead_from_email, plan_import

    book = openpyxl.Workbook()
    sheet: Any = book.active
    sheet.append(["Topic", "Last Name"])
    sheet.append(["Fleet", "Nowak"])
    xlsx = folder / "warm-up.xlsx"
    book.save(xlsx)
    csv = folder / "warm-up.csv"
    csv.write_bytes(b"Topic,Last Name\r\nFleet,Nowak\r\n")
    for good in (xlsx, csv):
        plan_import(good, policy=ImportPolicy())
    from leadkit.adapters.sql import SqlStore

    SqlStore.open(path=folder / "warm-up.db", create=True).close()
    failed = _cli(str(csv), str(folder / "warm-up.db"), io.StringIO())
    if failed is not None:
        raise RuntimeError(f"the warm-up import failed: {failed!r}")
    lead_from_email(b"From: Ada <ada@example.com>\r\nSubject: x\r\n\r\nbody")


def _library(path: str) -> BaseException | None:
    from leadkit.io import ImportPolicy, lead_from_email, plan_import

    try:
        if path.endswith(".eml"):
            lead_from_email(Path(path).read_bytes())
        else:
            plan_import(path, policy=ImportPolicy())
    except BaseException as e:
        return e
    return None


def _cli(path: str, db: str, output: io.StringIO) -> BaseException | None:
    import leadkit.cli._shared

    seen: list[BaseException] = []

    def record() -> None:
        found = sys.exc_info()[1]
        if found is not None:
            seen.append(found)

    cli_module: Any = leadkit.cli._shared
    cli_module.traceback.print_exc = record
    argv = ["--db", db, "--debug", "import", path, "--yes"]
    with contextlib.redirect_stderr(output), contextlib.redirect_stdout(io.StringIO()):
        try:
            leadkit.cli.cli.main(argv)
        except SystemExit as e:
            if e.code not in (0, None):
                return seen[0] if seen else RuntimeError(f"exit {e.code}")
        except BaseException as e:
            return e
    return None


def main() -> None:
    mode, db, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    from leadkit.errors import LeadkitError

    _warm_up(Path(paths[0]).parent)
    cap = _status("VmSize") + WORK_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for path in paths:
        output = io.StringIO()
        _reset_peak()
        started = time.process_time()
        error = _library(path) if mode == "lib" else _cli(path, db, output)
        seconds = time.process_time() - started
        peak = _status("VmHWM")
        if error is None:
            outcome = "accepted"
        elif isinstance(error, LeadkitError):
            outcome = "refused"
        else:
            outcome = "escaped"
        trace = "" if outcome != "escaped" else "".join(traceback.format_exception(error))
        result = {
            "name": Path(path).name,
            "outcome": outcome,
            "error": "" if error is None else type(error).__name__,
            "message": "" if error is None else str(error)[:300],
            "trace": trace[-2000:],
            "stderr": output.getvalue()[-500:],
            "seconds": seconds,
            "peak_bytes": peak,
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
