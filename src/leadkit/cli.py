"""The ``leadkit`` command (``pip install "leadkit[cli]"``): leads from a terminal.

Every command works on one database: ``--db`` (a SQLAlchemy URL or a SQLite file path), else
the ``LEADKIT_DB`` environment variable, else ``leads.db`` in the user's data directory. Read
commands take ``--json``. Errors are one line on stderr with an exit code (see docs/cli.md);
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
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
from typing import Any, NoReturn, cast

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
from leadkit.ports import LeadQuery, LeadSort, Views
from leadkit.scoring.engine import score
from leadkit.scoring.presets import BCM_MODEL
from leadkit.scoring.reports import RescoreProgress, rescore_repository
from leadkit.services import disqualify as disqualify_lead
from leadkit.services import reactivate as reactivate_lead
from leadkit.status import LeadState, StatusReason
from leadkit.values import Address, LeadId, UserRef

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


def _print_report(console: Console, kind: str, value: Any) -> None:
    if kind in ("owner", "owner-rating", "score-band", "source"):
        table = Table(title=f"leads by {kind}", title_justify="left")
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
        table = Table(title=f"open lead aging (mean {a.mean_days} days)", title_justify="left")
        table.add_column("age")
        table.add_column("open leads")
        for bucket in a.buckets:
            table.add_row(bucket.label, str(bucket.count))
        console.print(table)


def _parse_day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(option, value, "must be an ISO date (2024-05-01)") from None
    return day if day.tzinfo is not None else day.replace(tzinfo=UTC)


@cli.command()
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(_REPORTS),
    help="Which report (repeatable; default: all).",
)
@click.option("--from", "start", help="Period start (ISO date) for funnel and rates.")
@click.option("--to", "end", help="Period end (ISO date, exclusive).")
def report(kinds: tuple[str, ...], start: str | None, end: str | None) -> None:
    """Reports: by owner, owner and rating, score band, source; funnel, aging, rates."""
    period = reports.Period(_parse_day(start, "--from"), _parse_day(end, "--to"))
    with _store() as store, store.unit_of_work() as uow:
        leads = list(uow.leads.stream())
    built = _build_reports(leads, kinds or _REPORTS, period)
    if _settings().json:
        _emit_json({kind: _report_json(kind, value) for kind, value in built.items()})
        return
    console = _console()
    for kind, value in built.items():
        _print_report(console, kind, value)


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


@cli.command()
@click.argument("lead_id")
@click.option("--currency", help="Currency of the opportunity (ISO 4217).")
@click.option("--yes", is_flag=True, help="Do not ask; qualify when the plan is complete.")
def qualify(lead_id: str, currency: str | None, yes: bool) -> None:
    """Show the qualification plan, then qualify (account, contact, opportunity)."""
    from leadkit.conversion import NoDuplicates, QualifyRequest
    from leadkit.policies import DEFAULT_POLICY
    from leadkit.services import execute_plan, prepare_qualification

    # No engine-backed conversion finder exists yet: qualification runs without a duplicate
    # check against contacts and accounts (said on stderr, so nobody is misled).
    finder = NoDuplicates()
    click.echo("note: no duplicate check against contacts/accounts", err=True)
    settings = _settings()
    with _store() as store:
        plan = prepare_qualification(
            store,
            _lead_id(lead_id),
            QualifyRequest(currency=currency),
            DEFAULT_POLICY,
            at=_now(),
            by=settings.user,
            finder=finder,
            id_factory=lambda: uuid.uuid4().hex[:16],
        )
        for line in plan.describe():
            click.echo(line)
        if not yes:
            click.confirm("qualify?", abort=True)
        result = execute_plan(store, plan, finder=finder)
    click.echo(f"{result.lead.id}: qualified")


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
def import_command(path: str, yes: bool, phone_region: str | None) -> None:
    """Preview an import (CSV, xlsx, XML), then commit it."""
    from leadkit.io import ImportPolicy, plan_import, run_import

    settings = _settings()
    with _store() as store:
        plan = plan_import(path, None, ImportPolicy(phone_region=phone_region), store=store)
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


@cli.command()
@click.option(
    "--leads", "count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True
)
@click.option("--seed", type=int, default=2024, show_default=True)
def demo(count: int, seed: int) -> None:
    """Fill a fresh database with generated leads and run the main flow, timing each step."""
    from leadkit.demo import DEMO_SELLERS, demo_patches
    from leadkit.duplicates import DEFAULT_LEAD_RULES, scan_report

    settings = _settings()
    timings: list[tuple[str, float]] = []
    console = _err_console()
    with _store(create=True) as store:
        with store.unit_of_work() as uow:
            if uow.leads.count(LeadQuery()):
                raise InvalidValue("--db", settings.describe(), "demo needs an empty database")
        with _progress() as progress:
            started = time.perf_counter()
            task = progress.add_task("creating leads", total=count)
            patches = demo_patches(count, seed=seed)
            at = _now()
            done = 0
            while done < count:
                with store.unit_of_work() as uow:
                    for n in range(done, min(done + 1000, count)):
                        lead = Lead.create(
                            LeadId(f"D-{n:07d}"), next(patches), at=at, by=settings.user
                        )
                        uow.leads.add(lead)
                    uow.commit()
                done = min(done + 1000, count)
                progress.update(task, completed=done)
            timings.append(("create + store", time.perf_counter() - started))

            started = time.perf_counter()
            _rescore(store, progress, only_outdated=False)
            timings.append(("score all", time.perf_counter() - started))

            started = time.perf_counter()
            team = Team("demo", tuple(UserRef(s) for s in DEMO_SELLERS))
            assigned, _ = mass_assign(
                store, Views.open_leads(), RoundRobin(team), at=_now(), by=settings.user
            )
            timings.append(("assign round-robin", time.perf_counter() - started))

            started = time.perf_counter()
            first = [LeadId(f"D-{n:07d}") for n in range(min(count, 100))]
            mass_edit(store, first, SetManualScore(4, reason="demo"), at=_now(), by=settings.user)
            timings.append(("mass-edit 100", time.perf_counter() - started))

            started = time.perf_counter()
            task = progress.add_task("reading for dedupe", total=count)
            leads = []
            with store.unit_of_work() as uow:
                for lead in uow.leads.stream(batch_size=1000):
                    leads.append(lead)
                    if len(leads) % 1000 == 0:
                        progress.update(task, completed=len(leads))
            progress.update(task, completed=len(leads))
            scanned = scan_report(leads, DEFAULT_LEAD_RULES)
            timings.append(("dedupe scan", time.perf_counter() - started))

            started = time.perf_counter()
            closing = [LeadId(f"D-{n:07d}") for n in range(0, count, 10)]
            task = progress.add_task("disqualifying", total=len(closing))
            for index, lead_id in enumerate(closing):
                disqualify_lead(store, lead_id, StatusReason.LOST, at=_now(), by=settings.user)
                progress.update(task, completed=index + 1)
            timings.append(("disqualify 10%", time.perf_counter() - started))

        started = time.perf_counter()
        with store.unit_of_work() as uow:
            leads = list(uow.leads.stream(batch_size=1000))
        built = _build_reports(leads, _REPORTS, reports.Period())
        timings.append(("reports", time.perf_counter() - started))
    out = _console()
    for kind in ("owner", "source", "funnel"):
        _print_report(out, kind, built[kind])
    out.print(
        f"{count} leads, {len(assigned.changed)} assigned, {len(scanned.groups)} duplicate "
        f"groups, {len(closing)} disqualified"
    )
    table = Table(title="demo step timings", title_justify="left")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for step, seconds in timings:
        table.add_row(step, f"{seconds:.2f}")
    table.add_row("total", f"{sum(s for _, s in timings):.2f}")
    console.print(table)
    out.print(f"database: {settings.describe()}")


def main() -> None:
    """The ``leadkit`` console script."""
    cli.main()


if __name__ == "__main__":  # pragma: no cover
    main()
