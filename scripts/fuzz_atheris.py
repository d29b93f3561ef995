"""Coverage-guided fuzzing of one leadkit parser with atheris, for runs longer than CI's.

    .venv/bin/pip install -e ".[fuzz]"   # atheris (binary wheels for CPython on Linux)
    scripts/fuzz-atheris csv -- -max_total_time=600 -rss_limit_mb=512 -timeout=1

Targets: csv, xlsx, xml (XML Spreadsheet 2003), leads (leadkit XML), email, json (the
converter reading a lead). Anything after ``--`` goes to libFuzzer (a corpus directory,
``-max_total_time``, ``-rss_limit_mb``, ``-timeout`` in seconds). A leadkit error is the
expected refusal; any other exception is a finding: libFuzzer stops and writes the input to
``crash-*`` for a unit test. See docs/fuzzing.md.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    import leadkit
    import leadkit.io
    from leadkit.errors import LeadkitError


def _rows(source: leadkit.io.LeadSource) -> None:
    for _ in source.rows():
        pass


_CONVERTER = leadkit.make_converter()
TARGETS: dict[str, Callable[[bytes], object]] = {
    "csv": lambda data: _rows(leadkit.io.CsvSource(data)),
    "xlsx": lambda data: _rows(leadkit.io.XlsxSource(data)),
    "xml": lambda data: _rows(leadkit.io.XmlSpreadsheetSource(data)),
    "leads": lambda data: _rows(leadkit.io.LeadkitXmlSource(data)),
    "email": leadkit.io.lead_from_email,
    "json": lambda data: _CONVERTER.loads(data, leadkit.Lead),
}


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] not in TARGETS:
        sys.exit(f"usage: fuzz-atheris {{{','.join(TARGETS)}}} [-- libFuzzer options]")
    read = TARGETS[args[0]]
    rest = args[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]

    def one(data: bytes) -> None:
        with contextlib.suppress(LeadkitError):
            read(data)

    atheris.Setup([sys.argv[0], *rest], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
