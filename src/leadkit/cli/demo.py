"""``leadkit demo``: a fresh database of generated leads and the main flow, timed.

The demo is a pipeline of named steps (:data:`_PIPELINE`), each one a function of the
shared :class:`_Run` timed on its own: generate and store, the manual scores, score all,
assign round-robin, mark contacted, qualify, disqualify, read all, the duplicate scan and
the reports. Every step uses the library's bulk path (bulk inserts, :func:`rescore_store`,
:func:`mass_assign`, :func:`mass_edit` and :func:`qualify_many` with a unit of work per
batch), so the demo speeds up with it. Each lead is read from the database (decoded) by the
assignment, then by the steps that change it; the scan and the reports take the leads as
those steps stored them, not read once more.
"""

from __future__ import annotations

import random
import resource
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import attrs
import click
from rich.progress import Progress
from rich.table import Table

from leadkit import reports
from leadkit.assignment import AssignmentState, RoundRobin, Team
from leadkit.cli._shared import (
    _DISQUALIFY_REASONS,
    _console,
    _echo,
    _err_console,
    _esc,
    _now,
    _progress,
    _settings,
    _store,
    _Table,
)
from leadkit.cli.app import cli
from leadkit.cli.dedupe import _duplicate_check
from leadkit.cli.report import _REPORTS, _build_reports, _print_report
from leadkit.cli.score import _rescore
from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.mass_editing import (
    Disqualify,
    EditStatus,
    LeadEdit,
    MarkContacted,
    MassEditResult,
    SetManualScore,
    mass_assign,
    mass_edit,
)
from leadkit.ports import LeadQuery, LeadSort, LeadStore, sort_key
from leadkit.values import LeadId, UserRef

if TYPE_CHECKING:
    from leadkit.adapters.sql import SqlStore
    from leadkit.duplicate_checks import EngineDuplicateCheck
    from leadkit.duplicates.engine import ScanReport


class _Steps:
    """Times the demo's steps; each finished step is printed on stderr as it ends."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.done: list[tuple[str, float, float]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started, cpu = time.perf_counter(), _cpu()
        yield
        seconds, used = time.perf_counter() - started, _cpu() - cpu
        self.done.append((name, seconds, used))
        self.progress.console.print(f"[green]✓[/green] {name}: {seconds:.2f} s (CPU {used:.2f} s)")

    def table(self) -> Table:
        """The steps' wall-clock seconds and CPU seconds (on a busy machine the CPU time is
        the steadier figure), the CPU time of the child processes that generate the leads
        or score and scan with ``--workers`` counted in."""
        table = _Table(title="demo step timings", title_justify="left")
        table.add_column("step")
        table.add_column("seconds", justify="right")
        table.add_column("CPU seconds", justify="right")
        for name, seconds, used in self.done:
            table.add_row(name, f"{seconds:.2f}", f"{used:.2f}")
        table.add_row(
            "total",
            f"{sum(s for _, s, _ in self.done):.2f}",
            f"{sum(u for _, _, u in self.done):.2f}",
        )
        return table


def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _demo_ids(count: int, every: int, offset: int) -> list[LeadId]:
    return [LeadId(f"D-{n:07d}") for n in range(offset, count, every)]


@attrs.define
class _Run:
    """What the steps share: the store, the settings of the run, and what each step leaves
    for the later ones and the summary."""

    store: SqlStore
    check: EngineDuplicateCheck
    progress: Progress
    count: int
    seed: int
    user: UserRef
    workers: int = 1
    planted: list[tuple[str, str]] = attrs.Factory(list)  # (copy, original) typed in twice
    assigned: int = 0
    linked: list[LeadId] = attrs.Factory(list)
    kept: dict[LeadId, Lead] = attrs.Factory(dict)  # each lead as a step last stored it
    leads: list[Lead] = attrs.Factory(list)
    scanned: ScanReport | None = None
    built: dict[str, Any] = attrs.Factory(dict)

    @property
    def contacted(self) -> list[LeadId]:
        """The leads marked contacted: three in ten."""
        return [i for n in (1, 4, 7) for i in _demo_ids(self.count, 10, n)]

    @property
    def qualifying(self) -> list[LeadId]:
        """The leads qualified: one in fifty."""
        return _demo_ids(self.count, 50, 5)

    @property
    def closing(self) -> list[LeadId]:
        """The leads disqualified: one in ten."""
        return _demo_ids(self.count, 10, 3)


def _generate_and_store(run: _Run) -> None:
    """Generate the leads in a child process while the previous batch is stored (the
    adapter inserts each unit of work's leads with one ``executemany``)."""
    from leadkit.cli.demo_data import demo_batches

    task = run.progress.add_task("generating leads", total=run.count)
    n = 0
    for batch in demo_batches(run.count, end=_now(), seed=run.seed, size=2000):
        with run.store.unit_of_work(bulk=True) as uow:
            for made in batch:
                if made.duplicate_of is not None:
                    run.planted.append((f"D-{n:07d}", f"D-{made.duplicate_of:07d}"))
                lead = Lead.create(
                    LeadId(f"D-{n:07d}"), made.patch, at=made.created_at, by=run.user
                )
                uow.leads.add(lead)
                n += 1
            uow.commit()
        run.progress.update(task, completed=n)


def _manual_scores(run: _Run) -> None:
    """A seeded sample, as a seller picks leads by hand: no pattern in the ids that could
    line up with the assignment order below."""
    some = random.Random(run.seed + 1).sample(_demo_ids(run.count, 1, 0), min(run.count, 100))
    _keep(run, mass_edit(run.store, some, SetManualScore(4, reason="demo"), **_per_lead(run)))


def _per_lead(run: _Run) -> dict[str, Any]:
    """The arguments of a mass edit per lead (a unit of work per batch), now, by the user."""
    return {"at": _now(), "by": run.user, "all_or_nothing": False, "batch_size": 1000}


def _keep(run: _Run, result: MassEditResult) -> None:
    """Keep each lead as the mass edit left it; raise the first failure (a fresh database
    has none)."""
    for outcome in result.outcomes:
        if outcome.status is EditStatus.FAILED:
            raise cast(Exception, outcome.error)
        if outcome.lead is not None:
            run.kept[outcome.lead_id] = outcome.lead


def _score_all(run: _Run) -> None:
    """The library's rescoring (:func:`leadkit.bulk.rescore_store`): a unit of work per
    batch; with more than one worker, one process per shard (as ``leadkit score --workers``)."""
    if run.workers == 1:
        _rescore(run.store, run.progress, only_outdated=False)
        return
    from leadkit.cli import workers as runner
    from leadkit.scoring import BCM_MODEL

    settings = _settings()
    url, path = settings.target()
    address = runner.StoreAddress(url, None if path is None else str(path), settings.busy_timeout)
    task = run.progress.add_task(f"scoring ({run.workers} workers)", total=run.count)
    runner.rescore(
        address, BCM_MODEL, at=_now(), by=run.user, workers=run.workers,
        progress=lambda seen: run.progress.update(task, completed=seen),
    )  # fmt: skip


def _assign(run: _Run, size: int = 5000) -> None:
    """Round-robin in the order the leads came in, not in id order: the later steps pick
    leads by id stride, which must not line up with the round-robin (one seller would get
    every qualified lead). One mass assignment (bulk reads and saves) per ``size`` leads."""
    from leadkit.cli.demo_data import DEMO_SELLERS

    team = Team("demo", tuple(UserRef(s) for s in DEMO_SELLERS))
    ids = _demo_ids(run.count, 1, 0)
    random.Random(run.seed).shuffle(ids)
    task = run.progress.add_task("assigning", total=len(ids))
    state = AssignmentState()
    for start in range(0, len(ids), size):
        result, state = mass_assign(
            run.store, ids[start : start + size], RoundRobin(team), state=state,
            **_per_lead(run),
        )  # fmt: skip
        _keep(run, result)
        run.assigned += len(result.changed)
        run.progress.update(task, completed=min(start + size, len(ids)))


def _mass_in_batches(
    run: _Run,
    ids: Sequence[LeadId],
    description: str,
    edit_for: Callable[[LeadId], LeadEdit],
    size: int = 10_000,
) -> None:
    """One mass edit (per lead: bulk reads and saves, a unit of work per batch) per ``size``
    leads and per edit (``edit_for`` picks each lead's); raises the first failure."""
    task = run.progress.add_task(description, total=len(ids))
    for start in range(0, len(ids), size):
        groups: dict[LeadEdit, list[LeadId]] = {}
        for lead_id in ids[start : start + size]:
            groups.setdefault(edit_for(lead_id), []).append(lead_id)
        for edit, chosen in groups.items():
            _keep(run, mass_edit(run.store, chosen, edit, **_per_lead(run)))
        run.progress.update(task, completed=min(start + size, len(ids)))


def _contact(run: _Run) -> None:
    _mass_in_batches(run, run.contacted, "contacting", lambda _: MarkContacted())


def _qualify(run: _Run) -> None:
    """Qualify in bulk (:func:`leadkit.services.qualify_many`, through the duplicate check's
    store so the records created are indexed); a lead with a possible duplicate contact or
    account is then qualified linking the best match of each kind, as a user would."""
    from leadkit.conversion import QualifyRequest, Resolution
    from leadkit.policies import DEFAULT_POLICY
    from leadkit.services import OutcomeStatus, qualify_many

    def qualify(ids: Sequence[LeadId], request: QualifyRequest) -> list[Any]:
        outcomes = qualify_many(
            run.check.store, ids, request, DEFAULT_POLICY, at=_now(), by=run.user,
            finder=run.check, id_factory=lambda: uuid.uuid4().hex[:16],
        )  # fmt: skip
        for done in outcomes:
            if done.result is not None:
                run.kept[done.lead_id] = done.result.lead
        return [o for o in outcomes if o.status is not OutcomeStatus.QUALIFIED]

    task = run.progress.add_task("qualifying", total=len(run.qualifying))
    for start in range(0, len(run.qualifying), 500):
        for left in qualify(run.qualifying[start : start + 500], QualifyRequest()):
            if left.status is not OutcomeStatus.DUPLICATE_WARNING:
                raise cast(Exception, left.error)
            request = QualifyRequest()
            seen: set[object] = set()
            for candidate in left.candidates:
                if candidate.record_type not in seen:
                    seen.add(candidate.record_type)
                    request = request.answer(candidate, Resolution.LINK)
            for failed in qualify([left.lead_id], request):
                raise cast(Exception, failed.error)
            run.linked.append(left.lead_id)
        run.progress.update(task, completed=min(start + 500, len(run.qualifying)))


def _disqualify(run: _Run) -> None:
    reasons = tuple(_DISQUALIFY_REASONS.values())

    def close(lead_id: LeadId) -> Disqualify:
        return Disqualify(reasons[int(lead_id.value[2:]) // 10 % len(reasons)])

    _mass_in_batches(run, run.closing, "disqualifying", close)


def _gather(run: _Run) -> None:
    """The leads in the order a read of all would give (created, then id), as the steps
    stored them: every lead passed through the assignment. Read from the database only
    when some were not kept."""
    if len(run.kept) == run.count:
        run.leads = sorted(run.kept.values(), key=lambda x: sort_key(x, LeadSort.CREATED_AT))
        return
    _read_all(run)


def _read_all(run: _Run) -> None:
    task = run.progress.add_task("reading leads", total=run.count)
    with run.store.unit_of_work() as uow:
        for lead in uow.leads.stream(batch_size=1000):
            run.leads.append(lead)
            if len(run.leads) % 1000 == 0:
                run.progress.update(task, completed=len(run.leads))
    run.progress.update(task, completed=len(run.leads))


def _scan(run: _Run) -> None:
    from leadkit.duplicates import DEFAULT_LEAD_RULES, scan_report

    task = run.progress.add_task("duplicate scan", total=None)
    if run.workers == 1:
        run.scanned = scan_report(run.leads, DEFAULT_LEAD_RULES)
    else:  # one shard per process, merged (the same report: see leadkit.scan_workers)
        from leadkit.scan_workers import scan_in_processes

        run.scanned = scan_in_processes(run.leads, DEFAULT_LEAD_RULES, workers=run.workers)
    run.progress.update(task, total=1, completed=1)


def _reports(run: _Run) -> None:
    run.built = _build_reports(run.leads, _REPORTS, reports.Period())


def _pipeline(run: _Run) -> list[tuple[str, Callable[[_Run], None]]]:
    """The demo's steps in order, each with the name its timing is shown under."""
    return [
        (f"generate + store {run.count} leads", _generate_and_store),
        ("mass-edit 100 (manual score)", _manual_scores),
        ("score all (BCM model)", _score_all),
        ("assign round-robin", _assign),
        (f"mark {len(run.contacted)} contacted", _contact),
        (f"qualify {len(run.qualifying)}", _qualify),
        (f"disqualify {len(run.closing)}", _disqualify),
        ("gather all leads (as the steps stored them)", _gather),
        ("dedupe scan", _scan),
        ("reports", _reports),
    ]


def _require_empty(store: LeadStore) -> None:
    """Raise InvalidValue naming --db when the database has leads already."""
    with store.unit_of_work() as uow:
        if uow.leads.count(LeadQuery()):
            raise InvalidValue(
                "--db",
                _settings().describe(),
                "has leads already: the demo needs an empty database (pass another --db)",
            )


def _summary(run: _Run) -> None:
    """The reports, what the flow did, and what the duplicate scan found of the leads typed
    in twice."""
    out = _console()
    for kind in ("owner", "source", "funnel", "aging"):
        _print_report(out, kind, run.built[kind])
    scanned = cast("ScanReport", run.scanned)
    funnel = cast(reports.Funnel, run.built["funnel"])
    out.print(
        f"{run.count} leads ({len(run.planted)} typed in twice on purpose), {run.assigned} "
        f"assigned, {funnel.contacted} contacted ({len(run.contacted)} marked contacted, the "
        f"others qualified or disqualified straight from New), {funnel.qualified} qualified, "
        f"{funnel.disqualified} disqualified, {funnel.open} still open"
    )
    group_of = {str(m): i for i, g in enumerate(scanned.groups) for m in g.members}
    closed = {lead.id.value for lead in run.leads if lead.is_closed}
    found = sum(
        1
        for copy, original in run.planted
        if f"lead:{copy}" in group_of
        and group_of[f"lead:{copy}"] == group_of.get(f"lead:{original}")
    )
    with_closed = sum(1 for pair in run.planted if closed & set(pair))
    grouped = sum(len(g.members) for g in scanned.groups)
    out.print(
        f"dedupe: {len(scanned.groups)} duplicate groups ({grouped} leads), "
        f"{scanned.comparisons} comparisons; of the {len(run.planted)} leads typed in twice, "
        f"{found} are grouped with their original, {with_closed} have a copy or original "
        "that is closed (the default rules compare open leads only), "
        f"{len(run.planted) - found - with_closed} differ too much to match"
    )


@cli.command()
@click.option(
    "--leads", "count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True
)
@click.option("--seed", type=int, default=2024, show_default=True)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True,
    help="Processes for the scoring and the duplicate scan, each one shard of the leads.",
)  # fmt: skip
def demo(count: int, seed: int, workers: int) -> None:
    """Fill a fresh database with realistic generated leads and run the main flow end to end
    (score, assign, mass edit, contact, qualify, disqualify, dedupe, reports), timing each
    step (wall clock and CPU)."""
    settings = _settings()
    with _store(create=True) as store:
        _require_empty(store)
        check = _duplicate_check(store)
        with _progress() as progress:
            run = _Run(store, check, progress, count, seed, settings.user, workers)
            steps = _Steps(progress)
            for name, step in _pipeline(run):
                with steps.step(name):
                    step(run)
    if run.linked:
        _echo(
            f"  {len(run.linked)} qualified lead(s) had a possible duplicate contact or"
            f" account: linked to it, none created twice (e.g. {run.linked[0]})"
        )
    _summary(run)
    _err_console().print(steps.table())
    _console().print(f"database: {_esc(settings.describe())}")
