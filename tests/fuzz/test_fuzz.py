"""Issue 22: hypothesis fuzz of every public constructor and every reader with wrong types and
extreme values: nothing but leadkit's own errors may leave the library.

Marked ``fuzz`` and run by CI. The number of calls per entry point is set by environment
variables (see docs/fuzzing.md): 10,000 per parser and of the CLI with CI set, fewer per
constructor (about 210 of them) and for the slow ``.xlsx`` reader; full runs are recorded there.
Hypothesis draws a seeded
``random.Random`` per example and each example makes :data:`BATCH` calls from it: every
parameter picked from a pool of hostile values (wrong types, NaN, infinities, huge and tiny
numbers and exponents, NUL and escape sequences, naive and overflowing datetimes, nested
containers, enum members of other types), every file a seed file with random splices. A
second, slower test draws each argument with hypothesis strategies directly (fewer
examples), so shrinking gives a readable failing case.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import io
import os
import random
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import leadkit
import leadkit.io
from leadkit.errors import LeadkitError


def _count(variable: str, ci: int, local: int) -> int:
    return int(os.environ.get(variable, str(ci if os.environ.get("CI") else local)))


EXAMPLES = _count("LEADKIT_FUZZ_EXAMPLES", 10_000, 1_000)
"""Calls per parser (each reader, the JSON converter, the CLI's arguments)."""
XLSX_EXAMPLES = _count("LEADKIT_FUZZ_XLSX_EXAMPLES", 1_000, 200)
"""Calls of the ``.xlsx`` reader: openpyxl takes 10-30 ms a workbook, so CI runs fewer and
docs/fuzzing.md records a full run."""
CLI_EXAMPLES = _count("LEADKIT_FUZZ_CLI_EXAMPLES", EXAMPLES, EXAMPLES)
"""Calls of the CLI (in-process): the parsers' count unless set apart."""
CONSTRUCTOR_EXAMPLES = _count("LEADKIT_FUZZ_CONSTRUCTOR_EXAMPLES", 200, 100)
"""Calls per public constructor (about 260 of them: 10,000 each is a run of its own, see
docs/fuzzing.md)."""
BATCH = 100
FAST = settings(
    max_examples=max(1, EXAMPLES // BATCH),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
_SEEDED = st.integers(0, 2**64 - 1).map(random.Random)
"""One seeded generator per example, drawn as one integer: the seed in a falsifying example
replays its batch of calls. (``st.randoms`` makes every call a hypothesis draw, and its health
check bookkeeping grows faster than the batch: a constructor of six parameters hung.)"""
DRAWN = settings(
    max_examples=max(5, CONSTRUCTOR_EXAMPLES // 40),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)

pytestmark = pytest.mark.fuzz


class _Odd:
    """An object of no type leadkit knows."""

    def __repr__(self) -> str:
        return "<odd>"


_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "\x00", "[/]", "\x1b[2J", "'=1+1", "é" * 300, "a" * 5000]),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**63, -(2**63), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
    st.binary(max_size=20),
    st.sampled_from(
        [
            Decimal("sNaN"),
            Decimal("NaN"),
            Decimal("Infinity"),
            Decimal("1e1000000"),
            Decimal("-1e-1000000"),
            Decimal("0.005"),
        ]
    ),
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-14))])),
    st.sampled_from([datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))), date.max]),
    st.builds(_Odd),
    st.sampled_from([object(), type, len, ..., NotImplemented]),
)
_ENUMS = st.sampled_from(
    [
        m
        for n in leadkit.__all__
        if isinstance(c := getattr(leadkit, n), type) and issubclass(c, enum.Enum)
        for m in c
    ]
)
_VALUES = st.recursive(
    st.one_of(_SCALARS, _ENUMS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(st.one_of(st.integers(), st.text(max_size=5)), max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=6,
)


_TZ_WEST = timezone(timedelta(hours=-14))
POOL: list[Any] = [
    None, True, False, 0, 1, -1, 7, 2**31, 2**63, -(2**63), 10**400, -(10**400),
    0.0, -0.0, 0.5, 1e308, float("nan"), float("inf"), float("-inf"),
    "", " ", "x", "L-1", "EUR", "SE", "budget", "\x00", "a\x00b", "[/]", "\x1b[2J",
    "\x1b]8;;http://x\x07", "'=1+1", "=HYPERLINK()", "é" * 300, "a" * 5000, "\ud800",
    "ada@example.com", "+46701234567", "2026-01-01", "1e1000000", "-5", "NaN",
    b"", b"\x00\xff", bytearray(b"ab"),
    Decimal("sNaN"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
    Decimal("1e1000000"), Decimal("-1e-1000000"), Decimal("0.005"), Decimal("1.5"),
    datetime(2026, 1, 1), datetime(2026, 1, 1, tzinfo=UTC), datetime.max.replace(tzinfo=_TZ_WEST),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))), date.max, date(2026, 1, 1),
    timedelta(days=-1), timedelta.max,
    [], [1, 2], [None], ["a", "b"], [[[]]], (), ("a", "b"), (1, "x", None), {}, {"a": 1},
    {1: "x"}, {"a": {"b": None}}, frozenset(), frozenset({1}), frozenset({"x"}), {1, 2},
    _Odd(), object(), type, len, ..., NotImplemented, lambda *a: None, iter([1, 2]),
    io.BytesIO(b"x"),
]  # fmt: skip
POOL += [m for n in leadkit.__all__ if isinstance(c := getattr(leadkit, n), type)
         and issubclass(c, enum.Enum) for m in c]  # fmt: skip


def _sample_values() -> list[Any]:
    """A few well-formed leadkit values, so that a wrong argument meets deeper code."""
    from leadkit import LeadId, LeadPatch, Money, PersonName, UserRef

    return [
        LeadId("L-1"),
        UserRef("u"),
        Money("1", "EUR"),
        PersonName(last="N"),
        LeadPatch(topic="t", name=PersonName(last="N")),
    ]


POOL += _sample_values()


def _constructors() -> list[tuple[str, type]]:
    found: dict[str, type] = {}
    for module in (leadkit, leadkit.io):
        for name in module.__all__:
            cls = getattr(module, name)
            if (
                isinstance(cls, type)
                and not issubclass(cls, BaseException | enum.Enum)
                and cls.__module__.startswith("leadkit")
                and not getattr(cls, "_is_protocol", False)
                and "__init__" in cls.__dict__
            ):
                found[name] = cls
    return sorted(found.items())


CONSTRUCTORS = _constructors()


def _parameters(cls: type) -> list[inspect.Parameter]:
    signature = inspect.signature(cls)
    return [
        p
        for p in signature.parameters.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def _build(cls: type, data: st.DataObject) -> None:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in _parameters(cls):
        optional = parameter.default is not inspect.Parameter.empty
        if optional and data.draw(st.booleans()):
            continue
        value = data.draw(_VALUES)
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(value)
        else:
            kwargs[parameter.name] = value
    with contextlib.suppress(LeadkitError):
        cls(*args, **kwargs)


def _call_batch(cls: type, rng: random.Random) -> None:
    parameters = _parameters(cls)
    for _ in range(BATCH):
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for parameter in parameters:
            if parameter.default is not inspect.Parameter.empty and rng.random() < 0.5:
                continue
            value = rng.choice(POOL)
            if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[parameter.name] = value
        with contextlib.suppress(LeadkitError):
            cls(*args, **kwargs)


@pytest.mark.parametrize(("name", "cls"), CONSTRUCTORS, ids=[n for n, _ in CONSTRUCTORS])
def test_a_public_constructor_raises_only_leadkit_errors(name: str, cls: type) -> None:
    if not _parameters(cls):  # nothing to vary (LeadkitConverter: 0.3 s a call)
        cls()
        return

    @settings(FAST, max_examples=max(1, CONSTRUCTOR_EXAMPLES // BATCH))
    @given(_SEEDED)
    def run(rng: random.Random) -> None:
        _call_batch(cls, rng)

    run()


VARIED = [(name, cls) for name, cls in CONSTRUCTORS if _parameters(cls)]


@pytest.mark.parametrize(("name", "cls"), VARIED, ids=[n for n, _ in VARIED])
def test_a_public_constructor_with_drawn_arguments_raises_only_leadkit_errors(
    name: str, cls: type
) -> None:
    @DRAWN
    @given(st.data())
    def run(data: st.DataObject) -> None:
        _build(cls, data)

    run()


# ---------------------------------------------------------------------------------------------
# Readers


def _workbook() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet: Any = book.active
    sheet.append(["Topic", "Last Name", "Budget Amount", "Est. Close Date"])
    sheet.append(["Fleet", "Nowak", 1500.5, datetime(2026, 3, 1)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_XLSX = _workbook()
_XLSX_PARTS = {i.filename: zipfile.ZipFile(io.BytesIO(_XLSX)).read(i) for i in
               zipfile.ZipFile(io.BytesIO(_XLSX)).infolist()}  # fmt: skip
_SEEDS: dict[str, bytes] = {
    "csv": b"Topic,Last Name,Budget Amount\r\nFleet,Nowak,1500\r\n",
    "xml": (
        b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        b'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="A">'
        b'<Table><Row><Cell><Data ss:Type="String">Topic</Data></Cell></Row>'
        b'<Row><Cell ss:Index="2"><Data ss:Type="Number">1</Data></Cell></Row>'
        b"</Table></Worksheet></Workbook>"
    ),
    "leads": b'<leads xmlns="urn:leadkit:leads:1"><lead><topic>T</topic></lead></leads>',
    "eml": b"From: Ada <ada@example.com>\r\nSubject: Hej\r\nContent-Type: text/plain\r\n\r\nbody",
}


_INSERTS: list[bytes] = [
    b"\x00", b"\r", b'"', b"<", b"&", b"]]>", b"\xff\xfe", b"=?utf-8?q?=0D=0A?=",
    b' ss:Index="99999999"', b' ss:MergeAcross="-3"', b"\n\n", b"1e1000000", b'r="XFD9"',
    b' t="s"', b' t="d"', b"<v>x</v>", b"Content-Type: multipart/mixed; boundary=b\r\n",
]  # fmt: skip


def _mutate(seed: bytes, rng: random.Random) -> bytes:
    """``seed`` with a few random splices, cuts and insertions."""
    data = bytearray(seed)
    for _ in range(rng.randint(0, 4)):
        at = rng.randint(0, len(data))
        kind = rng.randint(0, 2)
        if kind == 0:
            data[at:at] = rng.randbytes(rng.randint(0, 12))
        elif kind == 1:
            del data[at : at + rng.randint(1, 16)]
        else:
            data[at:at] = rng.choice(_INSERTS)
    return bytes(data)


def _mutate_xlsx(rng: random.Random) -> bytes:
    parts = dict(_XLSX_PARTS)
    name = rng.choice(sorted(parts))
    parts[name] = _mutate(parts[name], rng)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in parts.items():
            archive.writestr(part, content)
    return out.getvalue()


def _seeded(key: str) -> Callable[[random.Random], bytes]:
    seed = _SEEDS[key]
    return lambda rng: _mutate(seed, rng) if rng.random() < 0.9 else rng.randbytes(100)


def _plan(data: bytes, kind: str | None = None) -> None:
    from leadkit.io import ImportPolicy, plan_import

    plan_import(leadkit.io.open_source(data, format=kind), policy=ImportPolicy())


def _rows(source: Any) -> None:
    for _ in source.rows():
        pass


_CONVERTER = leadkit.make_converter()

READERS: dict[str, tuple[Callable[[bytes], object], Callable[[random.Random], bytes]]] = {
    "plan_import(csv)": (lambda d: _plan(d, "csv"), _seeded("csv")),
    "CsvSource": (lambda d: _rows(leadkit.io.CsvSource(d)), _seeded("csv")),
    "XlsxSource": (lambda d: _rows(leadkit.io.XlsxSource(d)), _mutate_xlsx),
    "XmlSpreadsheetSource": (lambda d: _rows(leadkit.io.XmlSpreadsheetSource(d)), _seeded("xml")),
    "LeadkitXmlSource": (lambda d: _rows(leadkit.io.LeadkitXmlSource(d)), _seeded("leads")),
    "open_source": (lambda d: _rows(leadkit.io.open_source(d)), _seeded("xml")),
    "lead_from_email": (leadkit.io.lead_from_email, _seeded("eml")),
    "LeadkitConverter.loads": (
        lambda d: _CONVERTER.loads(d, leadkit.Lead),
        lambda rng: _mutate(b'{"schema":1,"kind":"Lead","data":{"topic":"t"}}', rng),
    ),
}


MEMORY_GROWTH_LIMIT = 256 << 20
"""How far a reader's fuzz may raise the process's peak resident memory (each call reads with
the default ReadLimits; inputs are a few KB, so a rise is a declared size believed)."""


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_reader_raises_only_leadkit_errors(name: str) -> None:
    read, make = READERS[name]
    before = _peak_rss()
    calls = XLSX_EXAMPLES if name == "XlsxSource" else EXAMPLES

    @settings(FAST, max_examples=max(1, calls // BATCH))
    @given(_SEEDED)
    def run(rng: random.Random) -> None:
        for _ in range(BATCH):
            with contextlib.suppress(LeadkitError):
                read(make(rng))

    run()
    assert _peak_rss() - before < MEMORY_GROWTH_LIMIT


# ---------------------------------------------------------------------------------------------
# CLI arguments

_CLI_VALUES: list[str] = [
    "", " ", "x", "L-1", "L-404", "0", "-1", "1", "2", "100000", "nan", "inf", "-inf", "1e1000000",
    "[/]", "\x1b[2J", "'=1+1", "é" * 300, "a" * 5000, "topic=[/]", "topic=", "budget=x",
    "budget_amount=1e1000000", "rating=9", "state=x", "=", "x=y", "owner", "open", "qualified",
    "csv", "xlsx", "xml", "lost", "account", "contact", "--", "-", "--help", "--json", "EUR",
    "SE", "2026-01-01", "2026-13-45", "9999-12-31", "DMY", "a,b", "\t",
]  # fmt: skip
# No NUL: a process's arguments cannot hold one (execve ends each at the first NUL).
_GLOBAL = ["--json", "--debug", "--busy-timeout", "--currency", "--date-order", "--phone-region",
           "--user"]  # fmt: skip


def _cli_args(rng: random.Random, db: str, files: list[str]) -> list[str]:
    from leadkit.cli import cli

    commands = sorted(n for n in cli.commands if n != "demo")  # demo --leads 100000 is slow
    args = ["--db", db]
    for _ in range(rng.randint(0, 2)):
        args.append(rng.choice(_GLOBAL))
        args.append(rng.choice(_CLI_VALUES))
    command = cli.commands[rng.choice(commands)]
    args.append(command.name or "")
    options = [o for p in command.params for o in p.opts if o.startswith("-")]
    for _ in range(rng.randint(0, 5)):
        roll = rng.random()
        if roll < 0.4 and options:
            args.append(rng.choice(options))
        elif roll < 0.55:
            args.append(rng.choice(files))
        else:
            args.append(rng.choice(_CLI_VALUES))
    return args


def _run_cli(args: list[str]) -> None:
    """Run the command in-process, past its error handler: what would it have caught?"""
    import click
    from click.testing import CliRunner

    from leadkit.cli import cli

    with CliRunner().isolation(input=""):
        try:
            click.Group.main(cli, args, "leadkit", standalone_mode=False)
        except (LeadkitError, click.ClickException, click.Abort, click.exceptions.Exit):
            pass  # leadkit's own, and click's usage errors: a documented exit code
        except OSError:
            pass  # a file that cannot be read or written: exit code 3 or 6 (docs/cli.md)


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    from click.testing import CliRunner

    from leadkit.cli import cli

    folder = tmp_path_factory.mktemp("cli-fuzz")
    db = str(folder / "leads.db")
    for args in (["init"], ["add", "--topic", "Fleet", "--name", "Ada Nowak"]):
        result = CliRunner().invoke(cli, ["--db", db, *args])
        assert result.exit_code == 0, result.output
    files = [str(folder / "out.csv"), str(folder / "missing.csv"), str(folder)]
    for kind, seed in _SEEDS.items():
        path = folder / f"seed.{kind}"
        path.write_bytes(seed)
        files.append(str(path))
    (folder / "seed.xlsx").write_bytes(_XLSX)
    files.append(str(folder / "seed.xlsx"))
    return db, files


def test_cli_arguments_raise_only_leadkit_and_usage_errors(
    cli_files: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, files = cli_files
    # A drawn word may be an output file name (`export ... qualified`): write it in the
    # test's folder, never in the directory the suite runs from.
    monkeypatch.chdir(Path(db).parent)

    @settings(FAST, max_examples=max(1, CLI_EXAMPLES // BATCH))
    @given(_SEEDED)
    def run(rng: random.Random) -> None:
        for _ in range(BATCH):
            _run_cli(_cli_args(rng, db, files))

    run()
