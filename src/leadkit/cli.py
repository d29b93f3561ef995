"""The ``leadkit`` command (``pip install "leadkit[cli]"``): leads from a terminal.

Every command works on one database: ``--db`` (a SQLAlchemy URL or a SQLite file path), else
the ``LEADKIT_DB`` environment variable, else ``leads.db`` in the user's data directory. Read
commands take ``--json``. Errors are one line on stderr with an exit code (see docs/cli.md);
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import attrs
import click
import platformdirs
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from leadkit import reports
from leadkit.adapters.sql import SqlStore
from leadkit.assignment import (
    AssignmentState,
    CapacityWeighted,
    ManualAssignment,
    RoundRobin,
    Seller,
    Team,
    open_lead_counts,
)
from leadkit.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    DomainRuleViolation,
    DuplicatesUnresolved,
    InvalidValue,
    LeadkitError,
    NotFound,
    RepositoryError,
)
from leadkit.fields import LeadSource, Rating
from leadkit.lead import Lead
from leadkit.mass_edit import (
    ClearManualScore,
    LeadEdit,
    MassEditResult,
    Reassign,
    SetFields,
    SetManualScore,
    mass_assign,
    mass_edit,
)
from leadkit.patch import PATCH_FIELDS, LeadPatch
from leadkit.ports import LeadQuery, LeadSort, LeadStore, UnitOfWork, Views
from leadkit.scoring.engine import score
from leadkit.scoring.presets import BCM_MODEL
from leadkit.scoring.reports import RescoreProgress, rescore_repository
from leadkit.services import disqualify as disqualify_lead
from leadkit.services import reactivate as reactivate_lead
from leadkit.status import LeadState, StatusReason
from leadkit.values import Address, LeadId, UserRef

if TYPE_CHECKING:
    from leadkit.conversion import ConversionPlan, QualifyRequest, Question
    from leadkit.duplicates import EngineDuplicateCheck

__all__ = ["EXIT_CODES", "cli", "main"]

EXIT_CODES: dict[str, int] = {
    "error": 1,
    "bad input": 2,
    "not found": 3,
    "refused": 4,
    "storage": 5,
}
"""Exit codes by kind of error (click's own usage errors are 2 as well)."""

_ADDRESS_PARTS = ("line1", "line2", "line3", "city", "state_or_province", "postal_code", "country")
_DISQUALIFY_REASONS = {
    "lost": StatusReason.LOST,
    "cannot-contact": StatusReason.CANNOT_CONTACT,
    "no-longer-interested": StatusReason.NO_LONGER_INTERESTED,
    "canceled": StatusReason.CANCELED,
}


# ---------------------------------------------------------------------------------------------
# Errors: one line, an exit code


def _exit_code(error: BaseException) -> int:
    if isinstance(error, InvalidValue | ConfigurationError):
        return EXIT_CODES["bad input"]
    if isinstance(error, NotFound):
        return EXIT_CODES["not found"]
    if isinstance(error, DomainRuleViolation):
        return EXIT_CODES["refused"]
    if isinstance(error, RepositoryError | ConcurrencyConflict):
        return EXIT_CODES["storage"]
    return EXIT_CODES["error"]


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class _LeadkitGroup(click.Group):
    """Runs a command and turns every error into one line on stderr and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("LEADKIT_DEBUG") == "1"
        try:
            result = super().main(
                argv, prog_name or "leadkit", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Abort:
            click.echo("leadkit: aborted", err=True)
            sys.exit(EXIT_CODES["error"])
        except click.ClickException as e:
            if debug:
                traceback.print_exc()
            click.echo(f"leadkit: error: {_one_line(e.format_message())}", err=True)
            sys.exit(e.code if isinstance(e, _Failed) else e.exit_code)
        except Exception as e:
            if debug:
                traceback.print_exc()
            what = str(e) if isinstance(e, LeadkitError) else f"{type(e).__name__}: {e}"
            click.echo(f"leadkit: error: {_one_line(what)}", err=True)
            sys.exit(_exit_code(e))
        sys.exit(result if isinstance(result, int) else 0)


# ---------------------------------------------------------------------------------------------
# Context


def _finite_seconds(_ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value) or not 0 <= value <= 86_400:
        raise click.BadParameter("must be a number of seconds from 0 to 86400", param=param)
    return value


@attrs.define
class _Settings:
    db: str | None
    user: UserRef
    json: bool
    debug: bool
    busy_timeout: float

    def target(self) -> tuple[str | None, Path | None]:
        """(url, path): a URL when ``db`` has a scheme, else a SQLite file path."""
        if self.db is not None and "://" in self.db:
            return self.db, None
        path = Path(self.db) if self.db else default_database()
        return None, path

    def describe(self) -> str:
        url, path = self.target()
        return url if url is not None else str(path)

    def open(self, *, create: bool = False) -> SqlStore:
        url, path = self.target()
        if path is not None:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.exists():
                raise NotFound("database", f"{path} (run `leadkit init` first)")
            return SqlStore.open(path=path, create=create, busy_timeout=self.busy_timeout)
        return SqlStore.open(url, create=create, busy_timeout=self.busy_timeout)


def default_database() -> Path:
    """``leads.db`` in the user's data directory (platformdirs)."""
    return Path(platformdirs.user_data_dir("leadkit", appauthor=False)) / "leads.db"


def _settings() -> _Settings:
    return cast(_Settings, click.get_current_context().obj)


@contextmanager
def _store(*, create: bool = False) -> Iterator[SqlStore]:
    store = _settings().open(create=create)
    try:
        yield store
    finally:
        store.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return f"L-{uuid.uuid4().hex[:12]}"


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=max(Console().width, 120))


def _err_console() -> Console:
    return Console(stderr=True, highlight=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_err_console(),
        transient=False,
    )


def _emit_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        label = getattr(value, "label", None)
        return label if isinstance(label, str) else value.value
    return str(value)


# ---------------------------------------------------------------------------------------------
# Parsing input


def _pairs(values: Sequence[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidValue(option, item, "must be FIELD=VALUE")
        pairs.append((key.strip(), value))
    return pairs


def _patch(values: Sequence[tuple[str, str]], base: Lead | None = None) -> LeadPatch:
    """A patch from FIELD=VALUE pairs; address parts (``city``, ``country`` ...) may be
    given on their own."""
    fields: dict[str, object] = {}
    address: dict[str, str] = {}
    for key, value in values:
        name = key.replace("-", "_")
        if name.startswith("address.") or name in _ADDRESS_PARTS:
            address[name.removeprefix("address.")] = value
        elif name in PATCH_FIELDS:
            fields[name] = value
        else:
            raise InvalidValue(key, value, "not an editable lead field")
    if address:
        unknown = sorted(set(address) - set(_ADDRESS_PARTS))
        if unknown:
            raise InvalidValue(f"address.{unknown[0]}", address[unknown[0]], "no such part")
        current = base.address if base is not None else Address()
        fields["address"] = attrs.evolve(current, **address)
    return LeadPatch.from_mapping(fields)


def _lead_id(text: str) -> LeadId:
    return LeadId(text.strip())


def _query(
    *,
    view: str,
    owner: str | None,
    states: Sequence[str],
    sources: Sequence[str],
    ratings: Sequence[str],
    text: str | None,
    sort: str = "created_at",
    descending: bool = False,
) -> LeadQuery:
    user = _settings().user
    base = {
        "all": Views.all_leads(),
        "open": Views.open_leads(),
        "mine": Views.my_open_leads(user),
        "closed": Views.closed_leads(),
    }[view]
    changes: dict[str, Any] = {}
    if owner:
        changes["owner_id"] = owner
    if states:
        changes["states"] = {LeadState[s.upper()] for s in states}
    if sources:
        changes["sources"] = {LeadSource.parse(s, "source") for s in sources}
    if ratings:
        changes["ratings"] = {Rating.parse(r, "rating") for r in ratings}
    if text:
        changes["text"] = text
    if view in ("all", "open") or sort != "created_at" or descending:
        changes["sort"] = LeadSort(sort)
        changes["descending"] = descending
    return attrs.evolve(base, **changes)


def _filters(command: Callable[..., Any]) -> Callable[..., Any]:
    """The lead selection options shared by list and the bulk commands."""
    options = [
        click.option(
            "--view",
            type=click.Choice(["all", "open", "mine", "closed"]),
            default="all",
            show_default=True,
            help="A named view ('mine': my open leads).",
        ),
        click.option("--owner", help="Only leads owned by this user id."),
        click.option(
            "--state",
            "states",
            multiple=True,
            type=click.Choice(["open", "qualified", "disqualified"]),
            help="Only leads in this state (repeatable).",
        ),
        click.option("--source", "sources", multiple=True, help="Only this source (repeatable)."),
        click.option("--rating", "ratings", multiple=True, help="Only this rating (repeatable)."),
        click.option("--text", help="Name, company or e-mail contains this text."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


# ---------------------------------------------------------------------------------------------
# Showing leads


def _label(value: object) -> str:
    if value is None:
        return ""
    label = getattr(value, "label", None)
    return label if isinstance(label, str) else str(value)


def _summary(lead: Lead) -> dict[str, object]:
    return {
        "id": lead.id.value,
        "topic": lead.topic,
        "name": lead.full_name,
        "company": lead.company,
        "email": str(lead.email) if lead.email is not None else None,
        "source": _label(lead.source) or None,
        "rating": _label(lead.rating) or None,
        "state": lead.state.value if isinstance(lead.state, Enum) else str(lead.state),
        "reason": lead.reason.label,
        "owner": lead.owner.id,
        "score": lead.score,
        "stars": lead.stars,
        "created_at": lead.created_at,
        "version": lead.version,
    }


def _lead_table(leads: Sequence[Lead], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "topic", "name", "company", "status", "owner", "score"):
        table.add_column(column, overflow="fold")
    for lead in leads:
        status = f"{lead.state.name.title()} / {lead.reason.label}"
        score_text = "" if lead.score is None else f"{lead.score} ({lead.stars}★)"
        table.add_row(
            lead.id.value,
            lead.topic,
            lead.full_name,
            lead.company,
            status,
            lead.owner.id,
            score_text,
        )
    return table


def _fields_of(lead: Lead) -> list[tuple[str, str]]:
    rows = []
    for name in PATCH_FIELDS:
        value = getattr(lead, name)
        if name == "address":
            text = ", ".join(
                p for p in (getattr(value, part) for part in _ADDRESS_PARTS) if p
            )  # fmt: skip
        elif name == "name":
            text = lead.full_name
        elif name == "custom_fields":
            text = ", ".join(f"{k}={v}" for k, v in value.items())
        else:
            text = _label(value)
        if text:
            rows.append((name, text))
    return rows


# ---------------------------------------------------------------------------------------------
# The command group


@click.group(cls=_LeadkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="LEADKIT_DB",
    help="SQLAlchemy URL or SQLite file (env LEADKIT_DB; default: leads.db in the user data "
    "directory).",
)
@click.option(
    "--user",
    envvar="LEADKIT_USER",
    default="me",
    show_default=True,
    help="Who is acting (env LEADKIT_USER).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (read commands).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option(
    "--busy-timeout",
    type=float,
    callback=_finite_seconds,
    default=5.0,
    show_default=True,
    help="Seconds to wait for a locked SQLite database.",
)
@click.version_option(package_name="leadkit")
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, user: str, as_json: bool, debug: bool, busy_timeout: float
) -> None:
    """leadkit: sales leads from the terminal."""
    ctx.obj = _Settings(
        db=db, user=UserRef(user), json=as_json, debug=debug, busy_timeout=busy_timeout
    )


@cli.command()
def init() -> None:
    """Create (or migrate) the database."""
    with _store(create=True):
        pass
    click.echo(f"database ready: {_settings().describe()}")


@cli.command()
@click.option("--topic", required=True, help="What the lead is about.")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--company", default="")
@click.option("--email", default="")
@click.option("--phone", default="", help="Business phone.")
@click.option("--source", default="", help="Lead source (Web, Partner, ...).")
@click.option("--owner", help="Owner user id (default: --user).")
@click.option("--set", "extra", multiple=True, help="Any other field: FIELD=VALUE (repeatable).")
def add(
    topic: str,
    name: str,
    company: str,
    email: str,
    phone: str,
    source: str,
    owner: str | None,
    extra: tuple[str, ...],
) -> None:
    """Add a lead; prints its id."""
    given = [("topic", topic), ("name", name)]
    given += [(k, v) for k, v in (("company", company), ("email", email)) if v]
    given += [(k, v) for k, v in (("business_phone", phone), ("source", source)) if v]
    patch = _patch([*given, *_pairs(extra, "--set")])
    settings = _settings()
    at = _now()
    lead = Lead.create(
        _lead_id(_new_id()),
        patch,
        at=at,
        by=settings.user,
        owner=UserRef(owner) if owner else None,
    )
    with _store() as store, store.unit_of_work() as uow:
        stored = uow.leads.add(lead)
        uow.commit()
    if settings.json:
        _emit_json(_summary(stored))
    else:
        click.echo(stored.id.value)


@cli.command(name="list")
@_filters
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option(
    "--sort",
    type=click.Choice([s.value for s in LeadSort]),
    default="created_at",
    show_default=True,
)
@click.option("--desc", is_flag=True, help="Reverse the order.")
def list_(
    view: str,
    owner: str | None,
    states: tuple[str, ...],
    sources: tuple[str, ...],
    ratings: tuple[str, ...],
    text: str | None,
    limit: int,
    sort: str,
    desc: bool,
) -> None:
    """List leads (a view, filters, sorting)."""
    query = _query(
        view=view,
        owner=owner,
        states=states,
        sources=sources,
        ratings=ratings,
        text=text,
        sort=sort,
        descending=desc,
    )
    with _store() as store, store.unit_of_work() as uow:
        page = uow.leads.query(query, limit=limit)
        total = uow.leads.count(query)
    if _settings().json:
        _emit_json({"total": total, "leads": [_summary(lead) for lead in page.items]})
        return
    shown = len(page.items)
    _console().print(_lead_table(page.items, f"{view} leads: {shown} of {total}"))


@cli.command()
@click.argument("lead_id")
def show(lead_id: str) -> None:
    """Show one lead: fields, score explanation, timeline."""
    with _store() as store, store.unit_of_work() as uow:
        lead = uow.leads.get(_lead_id(lead_id))
    explained = score(lead, BCM_MODEL, _now())
    if _settings().json:
        data = _summary(lead)
        data["fields"] = dict(_fields_of(lead))
        data["score_explanation"] = {
            "describe": explained.describe(),
            "lines": list(explained.explanation.lines()),
        }
        data["timeline"] = [
            {"at": entry.at, "by": entry.by.id, "text": getattr(entry, "text", str(entry))}
            for entry in lead.timeline()
        ]
        _emit_json(data)
        return
    console = _console()
    table = Table(title=f"{lead.id} — {lead.topic}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("status", f"{lead.state.name.title()} / {lead.reason.label}")
    table.add_row("owner", str(lead.owner))
    table.add_row("created", f"{lead.created_at:%Y-%m-%d %H:%M} by {lead.created_by}")
    for name, text in _fields_of(lead):
        table.add_row(name, text)
    console.print(table)
    console.print(f"[bold]score[/bold] (model {BCM_MODEL.id}, now): {explained.describe()}")
    for line in explained.explanation.lines():
        console.print(f"  {line}", markup=False)
    entries = lead.timeline()
    console.print(f"[bold]timeline[/bold] ({len(entries)} entries)")
    for entry in entries:
        body = getattr(entry, "text", "") or getattr(entry, "title", "")
        console.print(f"  {entry.at:%Y-%m-%d %H:%M} {entry.by.id}: {body}")


def _save_one(lead_id: str, change: Callable[[Lead], Lead]) -> Lead:
    with _store() as store, store.unit_of_work() as uow:
        lead = uow.leads.get(_lead_id(lead_id))
        changed = change(lead)
        stored = uow.leads.save(changed) if changed is not lead else lead
        uow.commit()
    return stored


@cli.command()
@click.argument("lead_id")
@click.option("--set", "values", multiple=True, required=True, help="FIELD=VALUE (repeatable).")
def edit(lead_id: str, values: tuple[str, ...]) -> None:
    """Change fields of an open lead."""
    settings = _settings()
    pairs = _pairs(values, "--set")
    stored = _save_one(
        lead_id, lambda lead: lead.update(_patch(pairs, lead), at=_now(), by=settings.user)
    )
    click.echo(f"{stored.id}: version {stored.version}")


@cli.command()
@click.argument("lead_id")
@click.argument("text")
@click.option("--title", default="")
def note(lead_id: str, text: str, title: str) -> None:
    """Add a note to a lead's timeline."""
    settings = _settings()
    stored = _save_one(
        lead_id, lambda lead: lead.add_note(text, at=_now(), by=settings.user, title=title)
    )
    click.echo(f"{stored.id}: note {stored.timeline_seq} added")


@cli.command()
@click.argument("lead_id")
@click.option(
    "--reason",
    type=click.Choice(sorted(_DISQUALIFY_REASONS)),
    default="lost",
    show_default=True,
)
def disqualify(lead_id: str, reason: str) -> None:
    """Close a lead as disqualified."""
    settings = _settings()
    with _store() as store:
        result = disqualify_lead(
            store, _lead_id(lead_id), _DISQUALIFY_REASONS[reason], at=_now(), by=settings.user
        )
    click.echo(f"{result.lead.id}: disqualified ({result.lead.reason.label})")


@cli.command()
@click.argument("lead_id")
def reactivate(lead_id: str) -> None:
    """Reopen a qualified or disqualified lead."""
    with _store() as store:
        lead = reactivate_lead(store, _lead_id(lead_id), at=_now(), by=_settings().user)
    click.echo(f"{lead.id}: reopened ({lead.reason.label})")


# ---------------------------------------------------------------------------------------------
# Bulk: assign, mass edit, score


def _selection(
    ids: Sequence[str], query_options: dict[str, Any], everything: bool
) -> list[LeadId] | LeadQuery:
    has_filter = any(query_options[k] for k in ("owner", "states", "sources", "ratings", "text"))
    if ids and (has_filter or everything or query_options["view"] != "all"):
        raise click.UsageError("give lead ids or filters, not both")
    if ids:
        return [_lead_id(i) for i in ids]
    if not has_filter and not everything and query_options["view"] == "all":
        raise click.UsageError("give lead ids, filters, or --all")
    return _query(**query_options)


def _report_outcomes(result: MassEditResult, what: str) -> None:
    settings = _settings()
    if settings.json:
        _emit_json(
            {
                "committed": result.committed,
                "counts": result.counts(),
                "outcomes": [
                    {
                        "id": o.lead_id.value,
                        "status": o.status.value,
                        "error": None if o.error is None else str(o.error),
                    }
                    for o in result.outcomes
                ],
            }
        )
    else:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
        state = "stored" if result.committed else "nothing stored"
        click.echo(f"{what}: {counts} ({state})")
        for outcome in result.failed[:20]:
            click.echo(f"  {outcome.lead_id}: failed: {_one_line(str(outcome.error))}")
    if not result.committed:
        first = result.failed[0]
        raise _Failed(
            f"{len(result.failed)} lead(s) failed, nothing stored; first: {first.lead_id}: "
            f"{_one_line(str(first.error))}",
            _exit_code(first.error) if first.error is not None else 1,
        )


class _Failed(click.ClickException):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    def show(self, file: Any = None) -> None:
        click.echo(f"leadkit: error: {self.format_message()}", err=True)


def _parse_sellers(text: str) -> tuple[Seller, ...]:
    sellers = []
    for part in text.split(","):
        user, sep, capacity = part.strip().partition(":")
        if not sep or not capacity.strip().isdigit():
            raise InvalidValue("--capacity", part, "must be USER:CAPACITY[,USER:CAPACITY...]")
        sellers.append(Seller(UserRef(user), int(capacity)))
    return tuple(sellers)


@cli.command()
@click.argument("lead_ids", nargs=-1)
@_filters
@click.option("--all", "everything", is_flag=True, help="Every lead of the view.")
@click.option("--to", "owner_to", help="Assign to this user id.")
@click.option("--round-robin", "team", help="Round-robin over USER,USER,...")
@click.option("--cursor", type=int, default=0, help="Round-robin start position.")
@click.option("--capacity", help="Capacity-weighted over USER:CAP,USER:CAP,...")
@click.option("--per-lead", is_flag=True, help="Store each success even when others fail.")
def assign(
    lead_ids: tuple[str, ...],
    everything: bool,
    owner_to: str | None,
    team: str | None,
    cursor: int,
    capacity: str | None,
    per_lead: bool,
    **query_options: Any,
) -> None:
    """Assign leads: to one user, round-robin over a team, or by capacity."""
    settings = _settings()
    chosen = [x for x in (owner_to, team, capacity) if x]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --to, --round-robin, --capacity")
    selection = _selection(lead_ids, query_options, everything)
    state = AssignmentState()
    strategy: ManualAssignment | RoundRobin | CapacityWeighted
    if owner_to:
        strategy = ManualAssignment(UserRef(owner_to))
    elif team:
        members = tuple(UserRef(m.strip()) for m in team.split(",") if m.strip())
        strategy = RoundRobin(Team("cli", members))
        state = AssignmentState(cursors={"cli": cursor})
    else:
        strategy = CapacityWeighted(_parse_sellers(capacity or ""))
    with _store() as store:
        if isinstance(strategy, CapacityWeighted):
            with store.unit_of_work() as uow:
                counts = open_lead_counts(uow.leads.stream(Views.open_leads()))
            state = AssignmentState(open_counts=counts)
        result, after = mass_assign(
            store,
            selection,
            strategy,
            at=_now(),
            by=settings.user,
            state=state,
            all_or_nothing=not per_lead,
        )
    _report_outcomes(result, "assign")
    if team and not settings.json:
        click.echo(f"next round-robin cursor: {after.cursor('cli')}")


@cli.command(name="mass-edit")
@click.argument("lead_ids", nargs=-1)
@_filters
@click.option("--all", "everything", is_flag=True, help="Every lead of the view.")
@click.option("--set", "values", multiple=True, help="FIELD=VALUE (repeatable).")
@click.option("--manual-score", type=int, help="Set the manual score (stars).")
@click.option("--score-reason", default="", help="Why (with --manual-score).")
@click.option("--clear-manual-score", is_flag=True)
@click.option("--owner-to", help="Reassign to this user id.")
@click.option("--per-lead", is_flag=True, help="Store each success even when others fail.")
def mass_edit_command(
    lead_ids: tuple[str, ...],
    everything: bool,
    values: tuple[str, ...],
    manual_score: int | None,
    score_reason: str,
    clear_manual_score: bool,
    owner_to: str | None,
    per_lead: bool,
    **query_options: Any,
) -> None:
    """Apply one change to many leads: all or nothing unless --per-lead."""
    edits: list[LeadEdit] = []
    if values:
        edits.append(SetFields(_patch(_pairs(values, "--set"))))
    if manual_score is not None:
        edits.append(SetManualScore(manual_score, reason=score_reason))
    if clear_manual_score:
        edits.append(ClearManualScore())
    if owner_to:
        edits.append(Reassign(UserRef(owner_to)))
    if len(edits) != 1:
        raise click.UsageError(
            "give exactly one change: --set, --manual-score, --clear-manual-score or --owner-to"
        )
    selection = _selection(lead_ids, query_options, everything)
    with _store() as store:
        result = mass_edit(
            store,
            selection,
            edits[0],
            at=_now(),
            by=_settings().user,
            all_or_nothing=not per_lead,
        )
    _report_outcomes(result, edits[0].description)


def _rescore(store: SqlStore, progress: Progress, *, only_outdated: bool) -> RescoreProgress:
    task = progress.add_task("scoring", total=None)

    def report(step: RescoreProgress) -> None:
        progress.update(task, completed=step.seen, total=step.total)

    with store.unit_of_work() as uow:
        final = rescore_repository(
            uow.leads,
            BCM_MODEL,
            at=_now(),
            by=_settings().user,
            only_outdated=only_outdated,
            progress=report,
        )
        uow.commit()
    return final


@cli.command(name="score")
@click.option("--outdated", is_flag=True, help="Only leads not scored by this model version.")
def score_command(outdated: bool) -> None:
    """Rescore every lead with the default model, with a progress bar."""
    with _store() as store, _progress() as progress:
        final = _rescore(store, progress, only_outdated=outdated)
    if _settings().json:
        _emit_json({"seen": final.seen, "rescored": final.rescored, "unchanged": final.unchanged})
    else:
        click.echo(f"scored {final.seen} leads: {final.rescored} changed")


# ---------------------------------------------------------------------------------------------
# Reports


_REPORTS = ("owner", "owner-rating", "score-band", "source", "funnel", "aging", "rates")


def _rows_json(rows: Sequence[reports.ReportRow]) -> list[dict[str, object]]:
    return [{"label": r.label, "count": r.count, "mean_score": r.mean_score} for r in rows]


def _rate_json(rows: Sequence[reports.RateRow]) -> list[dict[str, object]]:
    return [
        {
            "label": r.label,
            "total": r.total,
            "open": r.open,
            "qualified": r.qualified,
            "disqualified": r.disqualified,
            "rate": r.rate,
        }
        for r in rows
    ]


def _build_reports(
    leads: list[Lead], kinds: Sequence[str], period: reports.Period
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in kinds:
        if kind == "owner":
            out[kind] = reports.leads_by_owner(leads)
        elif kind == "owner-rating":
            out[kind] = reports.leads_by_owner_and_rating(leads)
        elif kind == "score-band":
            out[kind] = reports.leads_by_score_band(leads)
        elif kind == "source":
            out[kind] = reports.leads_by_source(leads)
        elif kind == "funnel":
            out[kind] = reports.funnel(leads, period)
        elif kind == "aging":
            out[kind] = reports.lead_aging(leads, at=_now())
        elif kind == "rates":
            out[kind] = reports.qualification_rates(leads, by="source", period=period)
    return out


def _report_json(kind: str, value: Any) -> object:
    if kind in ("owner", "owner-rating", "score-band", "source"):
        return _rows_json(value)
    if kind == "rates":
        return _rate_json(value)
    if kind == "funnel":
        f = cast(reports.Funnel, value)
        return {
            "created": f.created,
            "contacted": f.contacted,
            "qualified": f.qualified,
            "disqualified": f.disqualified,
            "open": f.open,
            "disqualified_by_reason": dict(f.disqualified_by_reason),
            "qualification_rate": f.qualification_rate,
        }
    a = cast(reports.AgingReport, value)
    return {
        "open": a.open,
        "mean_days": a.mean_days,
        "median_days": a.median_days,
        "oldest": None if a.oldest is None else a.oldest.value,
        "buckets": {b.label: b.count for b in a.buckets},
    }


_TABLE_TITLES = {
    "owner": "leads by owner",
    "owner-rating": "leads by owner and rating",
    "score-band": "leads by score band",
    "source": "leads by source",
}


def _print_report(console: Console, kind: str, value: Any) -> None:
    if kind in ("owner", "owner-rating", "score-band", "source"):
        table = Table(title=_TABLE_TITLES[kind], title_justify="left")
        for column in ("group", "leads", "mean score"):
            table.add_column(column)
        for row in value:
            mean = "" if row.mean_score is None else str(row.mean_score)
            table.add_row(row.label, str(row.count), mean)
        console.print(table)
    elif kind == "rates":
        table = Table(title="qualification rate by source", title_justify="left")
        for column in ("source", "leads", "open", "qualified", "disqualified", "rate"):
            table.add_column(column)
        for r in value:
            rate = "" if r.rate is None else f"{r.rate * 100:.1f}%"
            table.add_row(
                r.label, str(r.total), str(r.open), str(r.qualified), str(r.disqualified), rate
            )
        console.print(table)
    elif kind == "funnel":
        f = cast(reports.Funnel, value)
        table = Table(title="funnel", title_justify="left")
        table.add_column("step")
        table.add_column("leads")
        for step, count in (
            ("created", f.created),
            ("contacted", f.contacted),
            ("qualified", f.qualified),
            ("disqualified", f.disqualified),
            ("still open", f.open),
        ):
            table.add_row(step, str(count))
        for reason, count in f.disqualified_by_reason:
            table.add_row(f"  disqualified: {reason}", str(count))
        console.print(table)
    else:
        a = cast(reports.AgingReport, value)
        table = Table(title="open lead aging", title_justify="left")
        table.add_column("age")
        table.add_column("open leads")
        for bucket in a.buckets:
            table.add_row(bucket.label, str(bucket.count))
        if a.mean_days is not None:
            table.add_row("mean / median", f"{a.mean_days} / {a.median_days} days")
        console.print(table)


def _parse_day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(option, value, "must be an ISO date (2024-05-01)") from None
    return day if day.tzinfo is not None else day.replace(tzinfo=UTC)


_CHART_TITLES: dict[str, str | None] = {
    "owner": "Leads by owner",
    "owner-rating": "Leads by owner and rating",
    "score-band": "Leads by score band",
    "source": "Leads by source",
    "funnel": None,
    "aging": None,
    "rates": "Qualification rate by source (qualified / closed)",
}


@cli.command()
@click.argument("kind_args", nargs=-1, type=click.Choice(_REPORTS), metavar="[KIND]...")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(_REPORTS),
    help="Which report (repeatable; same as KIND; default: all).",
)
@click.option("--from", "start", help="Period start (ISO date) for funnel and rates.")
@click.option("--to", "end", help="Period end (ISO date, exclusive).")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False),
    help="Also draw the report (one KIND) as a chart: a .png or .svg file (leadkit[charts]).",
)
@click.option(
    "--chart-format",
    type=click.Choice(["png", "svg"]),
    help="The chart's format, when the file's suffix does not say.",
)
def report(
    kind_args: tuple[str, ...],
    kinds: tuple[str, ...],
    start: str | None,
    end: str | None,
    chart: str | None,
    chart_format: str | None,
) -> None:
    """Reports: by owner, owner and rating, score band, source; funnel, aging, rates.

    KIND is one of owner, owner-rating, score-band, source, funnel, aging, rates (several
    may be given; default: all). With --chart FILE the report is also drawn as PNG or SVG.
    """
    chosen = tuple(dict.fromkeys((*kind_args, *kinds))) or _REPORTS
    period = reports.Period(_parse_day(start, "--from"), _parse_day(end, "--to"))
    if chart is not None:
        from leadkit.charts import chart_format as check_format
        from leadkit.charts import require_matplotlib

        if len(chosen) != 1:
            raise click.UsageError("--chart draws one report: give exactly one KIND")
        check_format(chart, chart_format)
        require_matplotlib()
    with _store() as store, store.unit_of_work() as uow:
        leads = list(uow.leads.stream())
    built = _build_reports(leads, chosen, period)
    settings = _settings()
    if settings.json:
        _emit_json({kind: _report_json(kind, value) for kind, value in built.items()})
    else:
        console = _console()
        for kind, value in built.items():
            _print_report(console, kind, value)
    if chart is not None:
        from leadkit.charts import render_chart

        kind = chosen[0]
        written = render_chart(built[kind], chart, format=chart_format, title=_CHART_TITLES[kind])
        click.echo(f"chart written: {written}", err=settings.json)


@cli.command()
@click.option("--limit", type=click.IntRange(0), default=20, show_default=True)
def dedupe(limit: int) -> None:
    """Scan every lead for duplicates (progress bar) and explain the groups."""
    from leadkit.duplicates import DEFAULT_LEAD_RULES, scan_report

    with _store() as store, store.unit_of_work() as uow, _progress() as progress:
        total = uow.leads.count(LeadQuery())
        task = progress.add_task("reading leads", total=total)
        leads = []
        for lead in uow.leads.stream(batch_size=1000):
            leads.append(lead)
            if len(leads) % 500 == 0:
                progress.update(task, completed=len(leads))
        progress.update(task, completed=len(leads))
        found = scan_report(leads, DEFAULT_LEAD_RULES)
    if _settings().json:
        _emit_json(
            {
                "records": found.records,
                "groups": [
                    {
                        "members": [str(m) for m in g.members],
                        "evidence": [e.explain() for e in g.edges],
                    }
                    for g in found.groups
                ],
            }
        )
        return
    click.echo(f"{len(found.groups)} duplicate group(s) among {found.records} leads")
    for group in found.groups[:limit]:
        click.echo(", ".join(str(m) for m in group.members))
        for edge in group.edges:
            click.echo("  " + edge.explain().replace("\n", "\n  "))


def _duplicate_check(store: SqlStore) -> EngineDuplicateCheck:
    """The duplicate engine over the stored accounts and contacts, which qualification checks
    every lead against; qualify through ``check.store`` so the records it creates are seen by
    the next lead. The index is rebuilt from the database for each command (a read of every
    account and contact)."""
    from leadkit.duplicates import EngineDuplicateCheck

    return EngineDuplicateCheck.from_store(store)


def _ask(question: Question) -> str:
    """Ask one plan question on the terminal; returns the answer as request text."""
    from leadkit.conversion import QualifyRequest, QuestionKind

    if question.kind is QuestionKind.CURRENCY:

        def check(text: str) -> str:
            try:
                QualifyRequest(currency=text)
            except InvalidValue as e:
                raise click.BadParameter(e.reason) from None
            return text.strip().upper()

        choices = click.Choice(question.choices) if question.choices else None
        return str(
            click.prompt(
                question.text,
                default=question.suggestion,
                type=choices,
                value_proc=None if choices else check,
            )
        )
    if question.choices == ("yes", "no"):
        return "yes" if click.confirm(question.text, default=question.suggestion == "yes") else "no"
    return str(
        click.prompt(
            question.text, default=question.suggestion, type=click.Choice(question.choices)
        )
    )


def _answer_one(
    plan: ConversionPlan,
    request: QualifyRequest,
    *,
    yes: bool,
    links: Sequence[str],
    create_anyway: bool,
    used_links: set[str],
) -> QualifyRequest:
    """The request with the plan's first open question or duplicate warning answered (the
    caller plans again, so an answer that makes another question moot removes it): from the
    options, else (``--yes``) the suggested answer, else by asking. Under ``--yes`` a possible
    duplicate that no option answers is an error listing every candidate left."""
    from leadkit.conversion import Resolution

    if plan.questions:
        question = plan.questions[0]
        return request.answering(question, question.suggestion if yes else _ask(question))
    for candidate in plan.unresolved:
        if candidate.record_id in links:
            used_links.add(candidate.record_id)
            return request.answer(candidate, Resolution.LINK)
    candidate = plan.unresolved[0]
    if create_anyway:
        return request.answer(candidate, Resolution.CREATE_ANYWAY)
    if yes:
        listed = "; ".join(str(c) for c in plan.unresolved)
        raise _Failed(
            f"{len(plan.unresolved)} possible duplicate(s) of lead {plan.lead_id}: {listed}; "
            "pass --link ID or --create-anyway",
            EXIT_CODES["refused"],
        )
    kind = candidate.record_type.value
    choice = click.prompt(
        f"possible duplicate {kind}: {candidate}. Link it, or create a new {kind}?",
        type=click.Choice(["link", "create"]),
    )
    resolution = Resolution.LINK if choice == "link" else Resolution.CREATE_ANYWAY
    return request.answer(candidate, resolution)


@cli.command()
@click.argument("lead_id")
@click.option(
    "--prompt",
    "prompt_mode",
    is_flag=True,
    help="Prompt policy: ask whether to create the account, contact and opportunity, the "
    "customer and the currency (default: create what applies).",
)
@click.option("--currency", help="Currency of the opportunity (ISO 4217).")
@click.option("--customer", type=click.Choice(["account", "contact"]), help="The customer.")
@click.option("--no-account", is_flag=True, help="Create no account.")
@click.option("--no-contact", is_flag=True, help="Create no contact.")
@click.option("--no-opportunity", is_flag=True, help="Create no opportunity.")
@click.option(
    "--link",
    "links",
    multiple=True,
    metavar="ID",
    help="Link this possible duplicate (a contact or account id) instead of creating a record "
    "(repeatable).",
)
@click.option(
    "--create-anyway", is_flag=True, help="Create the records despite possible duplicates."
)
@click.option(
    "--yes",
    is_flag=True,
    help="Ask nothing: take the suggested answers and qualify; possible duplicates still "
    "fail unless --link or --create-anyway answers them.",
)
def qualify(
    lead_id: str,
    prompt_mode: bool,
    currency: str | None,
    customer: str | None,
    no_account: bool,
    no_contact: bool,
    no_opportunity: bool,
    links: tuple[str, ...],
    create_anyway: bool,
    yes: bool,
) -> None:
    """Show the qualification plan, ask what it still needs, then qualify.

    Creates (or links) the account, contact and opportunity and closes the lead as
    Qualified, in one unit of work.
    """
    from leadkit.conversion import Choice, CustomerChoice, QualifyRequest
    from leadkit.policies import DEFAULT_POLICY, PROMPT_POLICY
    from leadkit.services import execute_plan, prepare_qualification

    settings = _settings()
    policy = PROMPT_POLICY if prompt_mode else DEFAULT_POLICY
    request = QualifyRequest(
        currency=currency,
        customer=None if customer is None else CustomerChoice(customer),
        create_account=Choice.NO if no_account else Choice.POLICY,
        create_contact=Choice.NO if no_contact else Choice.POLICY,
        create_opportunity=Choice.NO if no_opportunity else Choice.POLICY,
    )
    at = _now()
    # Every plan draws the account, contact and opportunity ids in that order: the same
    # three each time, so the plan shown again after the answers names the same records.
    next_id = itertools.cycle([uuid.uuid4().hex[:16] for _ in range(3)]).__next__
    with _store() as store:
        check = _duplicate_check(store)
        target = check.store

        def plan_for(request: QualifyRequest) -> ConversionPlan:
            return prepare_qualification(
                target,
                _lead_id(lead_id),
                request,
                policy,
                at=at,
                by=settings.user,
                finder=check,
                id_factory=next_id,
            )

        plan = plan_for(request)
        for line in plan.describe():
            click.echo(line)
        used_links: set[str] = set()
        rounds = 0
        while not plan.is_complete:
            rounds += 1
            if rounds > 25:  # pragma: no cover - every answer settles a question
                plan.require_complete()
            request = _answer_one(
                plan,
                request,
                yes=yes,
                links=links,
                create_anyway=create_anyway,
                used_links=used_links,
            )
            plan = plan_for(request)
        if rounds:
            click.echo("the plan now:")
            for line in plan.describe():
                click.echo(line)
        unused = [link for link in links if link not in used_links]
        if unused:
            raise InvalidValue("--link", unused[0], "is not a possible duplicate of this lead")
        if not yes:
            click.confirm("qualify?", abort=True)
        result = execute_plan(target, plan, finder=check)
    done = {"create": "created", "link": "linked"}
    steps = (
        ("account", plan.account),
        ("contact", plan.contact),
        ("opportunity", plan.opportunity),
    )
    made = ", ".join(
        f"{done[step.action.value]} {name} {step.record.id}"
        for name, step in steps
        if step is not None
    )
    click.echo(f"{result.lead.id}: qualified" + (f" ({made})" if made else ""))


@cli.command(name="export")
@click.argument("path", type=click.Path(dir_okay=False))
@_filters
def export_command(path: str, **query_options: Any) -> None:
    """Export leads (a view, filters) to a CSV file."""
    from leadkit.io import export_csv

    with _store() as store, store.unit_of_work() as uow:
        written = export_csv(uow.leads.stream(_query(**query_options)), path)
    click.echo(f"exported {written} leads to {path}")


@cli.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Commit without asking.")
@click.option("--phone-region", help="Region of phone numbers without +country (SE).")
@click.option("--encoding", help="Text encoding of a CSV file (cp1252, utf-16); else detected.")
@click.option(
    "--delimiter", help="Field delimiter of a CSV file (',', ';' or 'tab'); else detected."
)
def import_command(
    path: str, yes: bool, phone_region: str | None, encoding: str | None, delimiter: str | None
) -> None:
    """Preview an import (CSV, xlsx, XML), then commit it."""
    from leadkit.io import ImportPolicy, open_source, plan_import, run_import

    settings = _settings()
    policy = ImportPolicy(phone_region=phone_region)
    if delimiter is not None and delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    source = open_source(path, encoding=encoding, delimiter=delimiter, limits=policy.limits)
    with _store() as store:
        plan = plan_import(source, None, policy, store=store)
        click.echo(plan.summary())
        if not yes:
            click.confirm("import?", abort=True)
        with _progress() as progress:
            task = progress.add_task("importing", total=None)
            imported = run_import(
                store,
                plan,
                ids=_new_id,
                at=_now(),
                by=settings.user,
                on_batch=lambda _c: progress.advance(task),
            )
    click.echo(
        f"created {imported.created}, updated {imported.updated}, skipped {imported.skipped}, "
        f"rejected {imported.rejected}"
    )


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
        table = Table(title="demo step timings", title_justify="left")
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


@cli.command()
@click.option(
    "--leads", "count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True
)
@click.option("--seed", type=int, default=2024, show_default=True)
def demo(count: int, seed: int) -> None:
    """Fill a fresh database with realistic generated leads and run the main flow end to end
    (score, assign, mass edit, contact, qualify, disqualify, dedupe, reports), timing each
    step."""
    from leadkit.conversion import QualifyRequest, Resolution
    from leadkit.demo import DEMO_SELLERS, demo_leads
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
                generated = demo_leads(count, end=_now(), seed=seed)
                expected = 0
                for start in range(0, count, 1000):
                    with store.unit_of_work() as uow:
                        for n in range(start, min(start + 1000, count)):
                            made = next(generated)
                            expected += made.duplicate_of is not None
                            lead = Lead.create(
                                LeadId(f"D-{n:07d}"), made.patch, at=made.created_at, by=user
                            )
                            uow.leads.add(lead)
                        uow.commit()
                    progress.update(task, completed=min(start + 1000, count))

            with steps.step("mass-edit 100 (manual score)"):
                some = _demo_ids(count, max(count // 100, 1), 9)[:100]
                mass_edit(store, some, SetManualScore(4, reason="demo"), at=_now(), by=user)

            with steps.step("score all (BCM model)"):
                _rescore(store, progress, only_outdated=False)

            with steps.step("assign round-robin"):
                team = Team("demo", tuple(UserRef(s) for s in DEMO_SELLERS))
                ids = _demo_ids(count, 1, 0)
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

                def contact(uow: UnitOfWork, lead_id: LeadId) -> None:
                    uow.leads.save(uow.leads.get(lead_id).mark_contacted(at=_now(), by=user))

                _in_batches(store, contacted, progress, "contacting", contact)

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
                click.echo(
                    f"  {len(linked)} qualified lead(s) had a possible duplicate contact or"
                    f" account: linked to it, none created twice (e.g. {linked[0]})"
                )

            closing = _demo_ids(count, 10, 3)
            reasons = tuple(_DISQUALIFY_REASONS.values())
            with steps.step(f"disqualify {len(closing)}"):

                def close(uow: UnitOfWork, lead_id: LeadId) -> None:
                    reason = reasons[int(lead_id.value[2:]) // 10 % len(reasons)]
                    disqualify_lead(uow, lead_id, reason, at=_now(), by=user)

                _in_batches(store, closing, progress, "disqualifying", close)

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
    out.print(
        f"{count} leads ({expected} typed in twice on purpose), {assigned} assigned, "
        f"{len(contacted)} contacted, {len(qualifying)} qualified, {len(closing)} disqualified"
    )
    out.print(
        f"dedupe: {len(scanned.groups)} duplicate groups ({grouped} leads), "
        f"{scanned.comparisons} comparisons"
    )
    _err_console().print(steps.table())
    out.print(f"database: {settings.describe()}")


def main() -> None:
    """The ``leadkit`` console script."""
    cli.main()


if __name__ == "__main__":  # pragma: no cover
    main()
