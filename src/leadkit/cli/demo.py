"""``leadkit demo``: a fresh database of generated leads and the main flow, timed."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

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
from leadkit.errors import DuplicatesUnresolved, InvalidValue
from leadkit.lead import Lead
from leadkit.mass_editing import (
    Disqualify,
    LeadEdit,
    MarkContacted,
    SetManualScore,
    mass_assign,
    mass_edit,
)
from leadkit.ports import LeadQuery, LeadStore, UnitOfWork
from leadkit.values import LeadId, UserRef

if TYPE_CHECKING:
    from leadkit.conversion import QualifyRequest


class _Steps:
    """Times the demo's steps; each finished step is printed on stderr as it ends."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.done: list[tuple[str, float]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.done.append((name, seconds))
        self.progress.console.print(f"[green]✓[/green] {name}: {seconds:.2f} s")

    def table(self) -> Table:
        table = _Table(title="demo step timings", title_justify="left")
        table.add_column("step")
        table.add_column("seconds", justify="right")
        for name, seconds in self.done:
            table.add_row(name, f"{seconds:.2f}")
        table.add_row("total", f"{sum(s for _, s in self.done):.2f}")
        return table


def _demo_ids(count: int, every: int, offset: int) -> list[LeadId]:
    return [LeadId(f"D-{n:07d}") for n in range(offset, count, every)]


def _in_batches(
    store: LeadStore,
    ids: Sequence[LeadId],
    progress: Progress,
    description: str,
    work: Callable[[UnitOfWork, LeadId], None],
    size: int = 500,
) -> None:
    """``work(uow, id)`` for every id, committing every ``size`` leads."""
    task = progress.add_task(description, total=len(ids))
    for start in range(0, len(ids), size):
        with store.unit_of_work() as uow:
            for lead_id in ids[start : start + size]:
                work(uow, lead_id)
            uow.commit()
        progress.update(task, completed=min(start + size, len(ids)))


def _mass_in_batches(
    store: LeadStore,
    ids: Sequence[LeadId],
    progress: Progress,
    description: str,
    edit_for: Callable[[LeadId], LeadEdit],
    size: int = 10_000,
) -> None:
    """One mass edit (bulk reads and saves, all or nothing) per ``size`` leads and per edit
    (``edit_for`` picks each lead's); raises the first failure."""
    task = progress.add_task(description, total=len(ids))
    for start in range(0, len(ids), size):
        groups: dict[LeadEdit, list[LeadId]] = {}
        for lead_id in ids[start : start + size]:
            groups.setdefault(edit_for(lead_id), []).append(lead_id)
        for edit, chosen in groups.items():
            result = mass_edit(store, chosen, edit, at=_now(), by=_settings().user)
            if result.failed:
                raise cast(Exception, result.failed[0].error)
        progress.update(task, completed=min(start + size, len(ids)))


@cli.command()
@click.option(
    "--leads", "count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True
)
@click.option("--seed", type=int, default=2024, show_default=True)
def demo(count: int, seed: int) -> None:
    """Fill a fresh database with realistic generated leads and run the main flow end to end
    (score, assign, mass edit, contact, qualify, disqualify, dedupe, reports), timing each
    step."""
    from leadkit.cli.demo_data import DEMO_SELLERS, demo_batches
    from leadkit.conversion import QualifyRequest, Resolution
    from leadkit.duplicates import DEFAULT_LEAD_RULES, scan_report
    from leadkit.policies import DEFAULT_POLICY
    from leadkit.services import qualify as qualify_lead

    settings = _settings()
    user = settings.user
    with _store(create=True) as store:
        with store.unit_of_work() as uow:
            if uow.leads.count(LeadQuery()):
                raise InvalidValue(
                    "--db",
                    settings.describe(),
                    "has leads already: the demo needs an empty database (pass another --db)",
                )
        check = _duplicate_check(store)
        with _progress() as progress:
            steps = _Steps(progress)
            with steps.step(f"generate + store {count} leads"):
                task = progress.add_task("generating leads", total=count)
                planted: list[tuple[str, str]] = []  # (copy, original) typed in twice
                n = 0  # generated in a child process while the previous batch is stored
                for batch in demo_batches(count, end=_now(), seed=seed, size=2000):
                    with store.unit_of_work() as uow:
                        for made in batch:
                            if made.duplicate_of is not None:
                                planted.append((f"D-{n:07d}", f"D-{made.duplicate_of:07d}"))
                            lead = Lead.create(
                                LeadId(f"D-{n:07d}"), made.patch, at=made.created_at, by=user
                            )
                            uow.leads.add(lead)
                            n += 1
                        uow.commit()
                    progress.update(task, completed=n)

            with steps.step("mass-edit 100 (manual score)"):
                # A seeded sample, as a seller picks leads by hand: no pattern in the ids that
                # could line up with the assignment order below.
                some = random.Random(seed + 1).sample(_demo_ids(count, 1, 0), min(count, 100))
                mass_edit(store, some, SetManualScore(4, reason="demo"), at=_now(), by=user)

            with steps.step("score all (BCM model)"):
                _rescore(store, progress, only_outdated=False)

            with steps.step("assign round-robin"):
                team = Team("demo", tuple(UserRef(s) for s in DEMO_SELLERS))
                # In the order the leads came in, not in id order: the later steps pick
                # leads by id stride, which must not line up with the round-robin (one seller
                # would get every qualified lead).
                ids = _demo_ids(count, 1, 0)
                random.Random(seed).shuffle(ids)
                task = progress.add_task("assigning", total=len(ids))
                state = AssignmentState()
                assigned = 0
                for start in range(0, len(ids), 5000):
                    result, state = mass_assign(
                        store,
                        ids[start : start + 5000],
                        RoundRobin(team),
                        at=_now(),
                        by=user,
                        state=state,
                    )
                    assigned += len(result.changed)
                    progress.update(task, completed=min(start + 5000, len(ids)))

            contacted = [i for n in (1, 4, 7) for i in _demo_ids(count, 10, n)]
            with steps.step(f"mark {len(contacted)} contacted"):
                _mass_in_batches(
                    store, contacted, progress, "contacting", lambda _: MarkContacted()
                )

            qualifying = _demo_ids(count, 50, 5)
            linked: list[LeadId] = []
            with steps.step(f"qualify {len(qualifying)}"):

                def qualify_one(uow: UnitOfWork, lead_id: LeadId) -> None:
                    def run(request: QualifyRequest) -> None:
                        qualify_lead(
                            uow,
                            lead_id,
                            request,
                            DEFAULT_POLICY,
                            at=_now(),
                            by=user,
                            finder=check,
                            id_factory=lambda: uuid.uuid4().hex[:16],
                        )

                    try:
                        run(QualifyRequest())
                    except DuplicatesUnresolved as e:
                        # What a user would do: link the best match of each kind.
                        request = QualifyRequest()
                        seen: set[object] = set()
                        for candidate in e.candidates:
                            if candidate.record_type not in seen:
                                seen.add(candidate.record_type)
                                request = request.answer(candidate, Resolution.LINK)
                        run(request)
                        linked.append(lead_id)

                _in_batches(check.store, qualifying, progress, "qualifying", qualify_one)
            if linked:
                _echo(
                    f"  {len(linked)} qualified lead(s) had a possible duplicate contact or"
                    f" account: linked to it, none created twice (e.g. {linked[0]})"
                )

            closing = _demo_ids(count, 10, 3)
            reasons = tuple(_DISQUALIFY_REASONS.values())
            with steps.step(f"disqualify {len(closing)}"):

                def close(lead_id: LeadId) -> Disqualify:
                    return Disqualify(reasons[int(lead_id.value[2:]) // 10 % len(reasons)])

                _mass_in_batches(store, closing, progress, "disqualifying", close)

            with steps.step("read all leads"):
                task = progress.add_task("reading leads", total=count)
                leads: list[Lead] = []
                with store.unit_of_work() as uow:
                    for lead in uow.leads.stream(batch_size=1000):
                        leads.append(lead)
                        if len(leads) % 1000 == 0:
                            progress.update(task, completed=len(leads))
                progress.update(task, completed=len(leads))

            with steps.step("dedupe scan"):
                task = progress.add_task("duplicate scan", total=None)
                scanned = scan_report(leads, DEFAULT_LEAD_RULES)
                progress.update(task, total=1, completed=1)

            with steps.step("reports"):
                built = _build_reports(leads, _REPORTS, reports.Period())
    out = _console()
    for kind in ("owner", "source", "funnel", "aging"):
        _print_report(out, kind, built[kind])
    grouped = sum(len(g.members) for g in scanned.groups)
    funnel = cast(reports.Funnel, built["funnel"])
    out.print(
        f"{count} leads ({len(planted)} typed in twice on purpose), {assigned} assigned, "
        f"{funnel.contacted} contacted ({len(contacted)} marked contacted, the others "
        f"qualified or disqualified straight from New), {funnel.qualified} qualified, "
        f"{funnel.disqualified} disqualified, {funnel.open} still open"
    )
    group_of = {str(m): i for i, g in enumerate(scanned.groups) for m in g.members}
    closed = {lead.id.value for lead in leads if lead.is_closed}
    found = sum(
        1
        for copy, original in planted
        if f"lead:{copy}" in group_of
        and group_of[f"lead:{copy}"] == group_of.get(f"lead:{original}")
    )
    with_closed = sum(1 for pair in planted if closed & set(pair))
    out.print(
        f"dedupe: {len(scanned.groups)} duplicate groups ({grouped} leads), "
        f"{scanned.comparisons} comparisons; of the {len(planted)} leads typed in twice, "
        f"{found} are grouped with their original, {with_closed} have a copy or original "
        "that is closed (the default rules compare open leads only), "
        f"{len(planted) - found - with_closed} differ too much to match"
    )
    _err_console().print(steps.table())
    out.print(f"database: {_esc(settings.describe())}")
