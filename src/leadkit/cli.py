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
import random
import re
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
from typing import TYPE_CHECKING, Any, Final, NoReturn, cast

import attrs
import click
import platformdirs
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

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
from leadkit.mass_editing import (
    ClearManualScore,
    LeadEdit,
    MassEditResult,
    Reassign,
    SetField,
    SetManualScore,
    field_path,
    mass_assign,
    mass_edit,
    set_fields,
)
from leadkit.patch import PATCH_FIELDS
from leadkit.ports import LeadQuery, LeadSort, LeadStore, UnitOfWork, Views
from leadkit.scoring.engine import score
from leadkit.scoring.presets import BCM_MODEL
from leadkit.scoring.reports import RescoreProgress, rescore_repository
from leadkit.services import disqualify as disqualify_lead
from leadkit.services import reactivate as reactivate_lead
from leadkit.status import LeadState, StatusReason
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    LeadId,
    OpportunityId,
    PersonName,
    UserRef,
)
from leadkit_cli import CONTEXT_SETTINGS, GROUP_HELP, VERSION_MESSAGE, global_options

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
    "file": 6,
    "interrupted": 130,
}
"""Exit codes by kind of mistake (docs/cli.md lists them): 1 an unexpected error (a bug: run
with --debug), 2 bad input (a usage error, a value or option that does not parse), 3 not
found (a lead, the database, an input file or directory), 4 refused by a business rule
(a closed lead, unresolved duplicates), 5 storage (the database is locked, unreadable or
changed underneath), 6 a file that cannot be read or written (permissions, a full disk),
130 interrupted (Ctrl-C)."""

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
    if isinstance(error, _Failed):
        return error.code
    if isinstance(error, click.ClickException):
        return error.exit_code
    if isinstance(error, FileNotFoundError | NotADirectoryError):
        return EXIT_CODES["not found"]
    if isinstance(error, OSError):
        return EXIT_CODES["file"]
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
    return " ".join(
        part.strip() for part in _plain(text, multiline=True).splitlines() if part.strip()
    )


# Terminal control sequences: CSI (ESC [ or 0x9B) with its parameters, OSC (ESC ] or 0x9D, OSC 8
# links and window titles) up to BEL or ST, DCS/SOS/PM/APC strings up to ST, and any other
# two-character ESC sequence.
_SEQUENCES: Final = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b.?",
    re.DOTALL,
)
# What is left: C0 controls, DEL, C1 controls, and the bidirectional overrides and isolates
# that reorder what a terminal shows.
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_JSON: Final = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS: Final = re.compile(r"[\t\n]")


def _plain(value: object, *, multiline: bool = False) -> str:
    """Text that cannot drive the terminal: every escape sequence (CSI, OSC incl. OSC 8
    links, DCS ...) and every other control character removed; tabs and newlines kept only
    for a ``multiline`` field, else made spaces."""
    text = _SEQUENCES.sub("", value if isinstance(value, str) else str(value))
    text = _CONTROLS.sub("", text)
    return text if multiline else _LINE_BREAKS.sub(" ", text)


def _esc(value: object) -> str:
    """Lead (or other outside) text to put inside rich markup: plain, with ``[`` escaped."""
    return escape(_plain(value))


def _cell(value: object, *, multiline: bool = False) -> Text:
    """A table cell or title that rich shows literally (no markup, no emoji codes)."""
    return Text(_plain(value, multiline=multiline))


class _Table(Table):
    """A rich table whose string title and cells are shown literally (never markup)."""

    def __init__(self, *columns: Any, title: str | Text | None = None, **options: Any) -> None:
        shown = _cell(title) if isinstance(title, str) else title
        super().__init__(*columns, title=shown, **options)

    def add_row(self, *cells: Any, **options: Any) -> None:
        """Add a row; string cells become literal text."""
        super().add_row(*(_cell(c) if isinstance(c, str) else c for c in cells), **options)


def _echo(message: object = "", *, err: bool = False) -> None:
    """``click.echo`` of text that may hold lead text: control characters removed, line
    breaks kept."""
    click.echo(_plain(message, multiline=True), err=err)  # the one echo


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
        if not argv:  # bare `leadkit`: the help, not an error
            with click.Context(self, info_name=prog_name or "leadkit") as ctx:
                click.echo(self.get_help(ctx))
            sys.exit(0)
        try:
            result = super().main(
                argv, prog_name or "leadkit", complete_var, standalone_mode=False, **extra
            )
        except KeyboardInterrupt:
            _echo("leadkit: interrupted", err=True)
            sys.exit(EXIT_CODES["interrupted"])
        except click.exceptions.Abort as e:
            if isinstance(e.__cause__, KeyboardInterrupt):
                _echo("leadkit: interrupted", err=True)
                sys.exit(EXIT_CODES["interrupted"])
            _echo("leadkit: aborted, nothing changed", err=True)
            sys.exit(EXIT_CODES["error"])
        except Exception as e:
            if debug:
                traceback.print_exc()
            _echo(f"leadkit: error: {_one_line(_message(e))}", err=True)
            sys.exit(_exit_code(e))
        sys.exit(result if isinstance(result, int) else 0)


_PART_FILE: Final = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]+\.part$")


def _user_value(value: object) -> str:
    """A refused value as the user wrote it (never a repr)."""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    label = getattr(value, "label", None)
    if isinstance(label, str):
        return label
    return str(value)


def _message(error: BaseException) -> str:
    """One line in the user's terms: no exception class names, temporary paths or reprs."""
    if isinstance(error, click.ClickException):
        return error.format_message()
    if isinstance(error, InvalidValue):
        parts = []
        for p in error.problems:
            shown = "" if p.value is None or p.value == "" else _user_value(p.value)
            got = f' (got "{shown}")' if shown and len(shown) <= 80 else ""
            parts.append(f"invalid {p.field}: {p.reason}{got}")
        return "; ".join(parts)
    if isinstance(error, LeadkitError):
        return str(error)
    if isinstance(error, OSError):
        name = Path(str(error.filename)) if error.filename else None
        if name is not None:
            part = _PART_FILE.match(name.name)
            name = name.with_name(part["name"]) if part else name
        what = (error.strerror or "cannot be used").lower()
        return f"{name}: {what}" if name is not None else what
    return (
        f"unexpected error ({_one_line(str(error)) or 'no details'}); run with --debug for details"
    )


# ---------------------------------------------------------------------------------------------
# Context


@attrs.define
class _Settings:
    db: str | None
    user: UserRef
    json: bool
    debug: bool
    busy_timeout: float
    currency: str | None = None
    date_order: str = "DMY"
    phone_region: str | None = None

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
        if math.isnan(self.busy_timeout) or not 0 <= self.busy_timeout <= 3600:
            raise InvalidValue("--busy-timeout", self.busy_timeout, "must be 0 to 3600 seconds")
        file = path if path is not None else _sqlite_file(url or "")
        if file is not None:
            if not file.parent.is_dir():
                raise _Failed(
                    f"no directory {file.parent} for the database (create it first)",
                    EXIT_CODES["not found"],
                )
            if not create and not file.exists():
                raise _Failed(
                    f"no database at {file}: run `leadkit init` first", EXIT_CODES["not found"]
                )
        if path is not None:
            return SqlStore.open(path=path, create=create, busy_timeout=self.busy_timeout)
        return SqlStore.open(url, create=create, busy_timeout=self.busy_timeout)


def _sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for another database or an in-memory one)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    rest = url[len(prefix) :].partition("?")[0]
    return Path(rest) if rest and rest != ":memory:" else None


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
    return Console(highlight=False, emoji=False, soft_wrap=False, width=max(Console().width, 120))


def _err_console() -> Console:
    return Console(stderr=True, highlight=False, emoji=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<22}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_err_console(),
        transient=False,
    )


def _emit_json(data: object) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
    # json escapes C0 controls; escape C1 controls and bidi overrides too (still valid JSON).
    click.echo(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


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


def _changes(values: Sequence[tuple[str, str]]) -> SetField:
    """The edit FIELD=VALUE pairs make: a part of the address (``city``), of the name
    (``first_name``) or one custom field (``custom.industry``) changes only that part. Each
    value is read by the importer's parsers (see :func:`_field_value`)."""
    return set_fields(dict(_field_value(name, text) for name, text in values))


_MONEY_TEXT: Final = re.compile(r"^\s*([A-Za-z]{3})?\s*(.*?)\s*([A-Za-z]{3})?\s*$")
_COLUMN_OF_PART: Final = {
    "name.first": "first_name",
    "name.middle": "middle_name",
    "name.last": "last_name",
    "name.salutation": "salutation",
    "name.suffix": "suffix",
    "address.line1": "street1",
    "address.line2": "street2",
    "address.line3": "street3",
}
_CURRENCY_COLUMN: Final = {
    "budget_amount": "budget_currency",
    "estimated_value": "estimated_value_currency",
}


def _field_value(name: str, text: str) -> tuple[str, object]:
    """(field, value) from FIELD=VALUE text, read with the importer's parsers: money as
    ``5000 SEK`` (or ``5000`` with --currency), dates as ISO or in --date-order, options by
    label, name or code (in English, Swedish, Polish or German), phone numbers in
    --phone-region, a custom field as text or as ``custom.NAME:KIND`` (integer, decimal,
    boolean, date, datetime, option). Empty text clears the field. Raises InvalidValue
    naming the field."""
    from leadkit.io.mapping import ColumnMapping, ParseOptions, RowParser

    kind = "text"
    if name.strip().startswith(("custom.", "custom_fields.")) and ":" in name:
        name, _, kind = name.partition(":")
    path = field_path(name)
    if not text.strip():
        return path, None
    head, _, part = path.partition(".")
    if path in ("address", "custom_fields"):
        hint = "line1, city, postal_code, country" if path == "address" else "custom.NAME"
        raise InvalidValue(name, text, f"set its parts one by one ({hint})")
    column = {"name": "full_name"}.get(path) or _COLUMN_OF_PART.get(path) or part or head
    if head == "custom_fields":
        column = f"custom.{part}"
    cells = {column: text}
    settings = _settings()
    if path in _CURRENCY_COLUMN:
        match = _MONEY_TEXT.match(text)
        code = (match[1] or match[3]) if match else None
        currency = code or settings.currency
        if not currency:
            raise InvalidValue(
                name, text, "needs a currency: write it with one (5000 SEK) or give --currency"
            )
        cells = {column: match[2] if match and code else text, _CURRENCY_COLUMN[path]: currency}
    options = ParseOptions(
        phone_region=settings.phone_region,
        currency=settings.currency,
        date_order="MDY" if settings.date_order == "MDY" else "DMY",
    )
    try:
        mapping = ColumnMapping(
            [(key, key) for key in cells],
            custom_kinds={part: kind} if head == "custom_fields" else {},
        )
    except ConfigurationError as e:
        raise InvalidValue(name, kind, e.reason) from None
    parsed = RowParser(mapping, mapping.headers, options).parse(1, list(cells.values()))
    if parsed.errors or parsed.patch is None:
        reason = parsed.errors[0].reason if parsed.errors else "cannot be read"
        if "default region" in reason:
            reason += " (write it with +country or give --phone-region)"
        raise InvalidValue(name, text, reason)
    value = getattr(parsed.patch, head)
    if head == "custom_fields":
        return path, value[part]
    return path, getattr(value, part) if part else value


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
    if isinstance(label, str):
        return label
    if isinstance(value, Enum):
        return value.name.replace("_", " ").title()
    return str(value)


def _summary(lead: Lead) -> dict[str, object]:
    return {
        "id": lead.id.value,
        "topic": lead.topic,
        "name": lead.full_name,
        "company": lead.company,
        "email": str(lead.email) if lead.email is not None else None,
        "source": _label(lead.source) or None,
        "rating": _label(lead.rating) or None,
        "score_rating": _label(lead.score_rating) or None,
        "state": lead.state.label,
        "reason": lead.reason.label,
        "owner": lead.owner.id,
        "score": lead.score,
        "stars": lead.stars,
        "created_at": lead.created_at,
        "version": lead.version,
    }


def _lead_table(leads: Sequence[Lead], title: str) -> Table:
    table = _Table(title=title, title_justify="left")
    for column in ("id", "topic", "name", "company", "status", "owner", "score"):
        table.add_column(column, overflow="fold")
    for lead in leads:
        status = f"{lead.state.name.title()} / {lead.reason.label}"
        score_text = "" if lead.score is None else f"{lead.score} ({lead.stars}★)"
        table.add_row(
            *(
                _cell(text)
                for text in (
                    lead.id.value,
                    lead.topic,
                    lead.full_name,
                    lead.company,
                    status,
                    lead.owner.id,
                    score_text,
                )
            )
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


@click.group(cls=_LeadkitGroup, help=GROUP_HELP, context_settings=CONTEXT_SETTINGS)
@global_options
@click.version_option(package_name="leadkit", message=VERSION_MESSAGE)
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    user: str,
    as_json: bool,
    debug: bool,
    busy_timeout: float,
    currency: str | None,
    date_order: str,
    phone_region: str | None,
) -> None:
    ctx.obj = _Settings(
        db=db,
        user=UserRef(user),
        json=as_json,
        debug=debug,
        busy_timeout=busy_timeout,
        currency=currency,
        date_order=date_order.upper(),
        phone_region=phone_region,
    )


@cli.command()
def init() -> None:
    """Create (or migrate) the database."""
    with _store(create=True):
        pass
    _echo(f"database ready: {_settings().describe()}")


@cli.command()
@click.option("--topic", required=True, help="What the lead is about.")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--company", default="")
@click.option("--email", default="")
@click.option("--phone", default="", help="Business phone.")
@click.option("--source", default="", help="Lead source (Web, Partner, ...).")
@click.option("--owner", help="Owner user id (default: --user).")
@click.option("--set", "extra", multiple=True, help="Any other field: FIELD=VALUE (repeatable).")
@click.option(
    "--create-anyway",
    is_flag=True,
    help="Add the lead even when the duplicate check finds a possible duplicate.",
)
@click.option(
    "--link",
    "links",
    multiple=True,
    metavar="ID",
    help="Link this possible duplicate (an existing contact or account id) to the new lead "
    "and add it (repeatable).",
)
def add(
    topic: str,
    name: str,
    company: str,
    email: str,
    phone: str,
    source: str,
    owner: str | None,
    extra: tuple[str, ...],
    create_anyway: bool,
    links: tuple[str, ...],
) -> None:
    """Add a lead; prints its id.

    The lead is first checked for duplicates against the stored leads, contacts and accounts
    (the engine qualify and import use): a possible duplicate is listed and nothing is added
    (exit 4) unless --create-anyway, or --link names the contact or account to link.
    """
    given = [("topic", topic), ("name", name)]
    given += [(k, v) for k, v in (("company", company), ("email", email)) if v]
    given += [(k, v) for k, v in (("business_phone", phone), ("source", source)) if v]
    patch = _changes([*given, *_pairs(extra, "--set")]).patch_for(None)
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
        matches = _duplicates_of(uow, patch)
        lead = _resolve_add(uow, lead, matches, links, create_anyway, at)
        stored = uow.leads.add(lead)
        uow.commit()
    if settings.json:
        _emit_json(_summary(stored))
    else:
        _echo(stored.id.value)


def _duplicates_of(uow: UnitOfWork, patch: Any) -> list[Any]:
    """Stored leads, contacts and accounts the duplicate engine finds for a new lead."""
    from leadkit.duplicates import DEFAULT_LEAD_RULES, check_import
    from leadkit.io import build_duplicate_index
    from leadkit.io.drafts import draft_record

    index = build_duplicate_index(uow, DEFAULT_LEAD_RULES)
    check = check_import([draft_record(0, patch)], DEFAULT_LEAD_RULES, index)
    return sorted(check.rows[0].stored, key=lambda m: -m.score)


def _resolve_add(
    uow: UnitOfWork,
    lead: Lead,
    matches: Sequence[Any],
    links: Sequence[str],
    create_anyway: bool,
    at: datetime,
) -> Lead:
    by = _settings().user
    found = {m.candidate.record_id: m.candidate.record_type.value for m in matches}
    for link in links:
        kind = found.get(link)
        if kind not in ("contact", "account"):
            raise InvalidValue(
                "--link", link, "is not a possible duplicate contact or account of this lead"
            )
        if kind == "contact":
            lead = lead.link_contact(uow.contacts.get(ContactId(link)), at=at, by=by)
        else:
            lead = lead.link_account(uow.accounts.get(AccountId(link)), at=at, by=by)
    if not matches or create_anyway or links:
        return lead
    table = _Table(title="possible duplicates of the new lead", title_justify="left")
    for column in ("kind", "id", "rule", "match"):
        table.add_column(column, overflow="fold")
    for m in matches[:10]:
        table.add_row(
            m.candidate.record_type.value, m.candidate.record_id, m.rule, f"{m.score:.2f}"
        )
    _console().print(table)
    raise _Failed(
        f"{len(matches)} possible duplicate(s) (listed above), nothing added: pass "
        "--create-anyway, or --link ID for a contact or account",
        EXIT_CODES["refused"],
    )


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
        linked = _linked_rows(lead, uow)
    explained = score(lead, BCM_MODEL, _now())
    if _settings().json:
        data = _summary(lead)
        data["fields"] = dict(_fields_of(lead))
        data["linked"] = dict(linked)
        ex = explained.explanation
        data["score_explanation"] = {
            "describe": explained.describe(),
            "value": explained.value,
            "stars": explained.stars,
            "rating": _label(explained.rating),
            "base": ex.base,
            "criteria_value": ex.criteria_value,
            "met_weight": ex.met_weight,
            "total_weight": ex.total_weight,
            "criteria": [
                {
                    "id": c.criterion_id,
                    "description": c.description,
                    "ticked_by_hand": c.manual,
                    "weight": c.weight,
                    "met": c.met,
                    "points": c.points,
                }
                for c in ex.contributions
            ],
            "lines": list(ex.lines()),
        }
        data["timeline"] = [
            {"at": entry.at, "by": entry.by.id, "text": getattr(entry, "text", str(entry))}
            for entry in lead.timeline()
        ]
        _emit_json(data)
        return
    console = _console()
    table = _Table(title=f"{lead.id} — {lead.topic}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("status", f"{lead.state.name.title()} / {lead.reason.label}"),
        ("owner", str(lead.owner)),
        ("created", f"{lead.created_at:%Y-%m-%d %H:%M} by {lead.created_by}"),
        *(
            ("rating (yours)" if name == "rating" else name, text)
            for name, text in _fields_of(lead)
        ),
        *_score_rows(lead),
        *linked,
    ]
    for name, text in rows:
        table.add_row(_cell(name), _cell(text, multiline=name == "description"))
    console.print(table)
    described = _esc(explained.describe())
    console.print(
        f"[bold]score[/bold] (model {_esc(BCM_MODEL.id)}, now; the model's rating): {described}"
    )
    for line in explained.explanation.lines():
        console.print(_cell(f"  {line}"))
    entries = lead.timeline()
    console.print(f"[bold]timeline[/bold] ({len(entries)} entries)")
    for entry in entries:
        body = getattr(entry, "text", "") or getattr(entry, "title", "")
        when = f"{entry.at:%Y-%m-%d %H:%M}"
        console.print(_cell(f"  {when} {entry.by.id}: {body}", multiline=True))


def _score_rows(lead: Lead) -> list[tuple[str, str]]:
    rows = []
    if lead.score is not None:
        rating = f", score rating {_label(lead.score_rating)}" if lead.score_rating else ""
        rows.append(("stored score", f"{lead.score} ({lead.stars} stars{rating})"))
    manual = lead.manual_score
    if manual is not None:
        why = f": {manual.reason}" if manual.reason else ""
        rows.append(
            (
                "manual score",
                f"{manual.stars} of {BCM_MODEL.max_stars} stars by {manual.author}{why}",
            )
        )
    if lead.ticked_criteria:
        rows.append(("ticked", ", ".join(sorted(lead.ticked_criteria))))
    return rows


def _linked_rows(lead: Lead, uow: UnitOfWork) -> list[tuple[str, str]]:
    """The records qualification created or linked (with their names) and when, and the
    existing account and contact linked by hand."""
    rows = []
    made: list[datetime] = []
    for name, record_id, repository in (
        ("account", lead.qualified_account, uow.accounts),
        ("contact", lead.qualified_contact, uow.contacts),
        ("opportunity", lead.qualifying_opportunity, uow.opportunities),
        ("existing account", lead.existing_account, uow.accounts),
        ("existing contact", lead.existing_contact, uow.contacts),
    ):
        if record_id is None:
            continue
        try:
            record: Any = repository.get(record_id)  # type: ignore[arg-type]
        except NotFound:
            rows.append((name, f"{record_id} (no longer stored)"))
            continue
        title = record.name.full if isinstance(record.name, PersonName) else record.name
        created = "created" if record.originating_lead == lead.id else "linked"
        rows.append((name, f"{record_id} {title} ({created})"))
        if record.originating_lead == lead.id and record.created_at is not None:
            made.append(record.created_at)
    if lead.state is LeadState.QUALIFIED:
        when = min(made) if made else lead.modified_at
        rows.append(("qualified", f"{when:%Y-%m-%d %H:%M} by {lead.modified_by}"))
    return rows


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
    change = _changes(_pairs(values, "--set"))
    stored = _save_one(lead_id, lambda lead: change.apply(lead, at=_now(), by=settings.user))
    _echo(f"{stored.id}: version {stored.version}")


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
    _echo(f"{stored.id}: note {stored.timeline_seq} added")


def _criterion(criterion: str) -> str:
    known = [c.id for c in BCM_MODEL.criteria]
    key = criterion.strip().replace("-", "_").lower()
    if key not in known:
        raise InvalidValue(
            "criterion",
            criterion,
            f"not a criterion of the {BCM_MODEL.id} model; known: " + ", ".join(known),
        )
    return key


@cli.command()
@click.argument("lead_id")
@click.argument("criteria", nargs=-1, required=True)
def tick(lead_id: str, criteria: tuple[str, ...]) -> None:
    """Tick scoring criteria of a lead (budget_confirmed, decision_maker_identified ...)."""
    _tick(lead_id, criteria, on=True)


@cli.command()
@click.argument("lead_id")
@click.argument("criteria", nargs=-1, required=True)
def untick(lead_id: str, criteria: tuple[str, ...]) -> None:
    """Untick scoring criteria of a lead."""
    _tick(lead_id, criteria, on=False)


def _tick(lead_id: str, criteria: Sequence[str], *, on: bool) -> None:
    ids = [_criterion(c) for c in criteria]
    user = _settings().user

    def change(lead: Lead) -> Lead:
        for criterion in ids:
            if on:
                lead = lead.tick_criterion(criterion, at=_now(), by=user)
            else:
                lead = lead.untick_criterion(criterion, at=_now(), by=user)
        return lead

    stored = _save_one(lead_id, change)
    ticked = ", ".join(sorted(stored.ticked_criteria)) or "none"
    _echo(f"{stored.id}: ticked {ticked}")


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
    _echo(f"{result.lead.id}: disqualified ({result.lead.reason.label})")


@cli.command()
@click.argument("lead_id")
def reactivate(lead_id: str) -> None:
    """Reopen a qualified or disqualified lead."""
    with _store() as store:
        lead = reactivate_lead(store, _lead_id(lead_id), at=_now(), by=_settings().user)
    _echo(f"{lead.id}: reopened ({lead.reason.label})")


@cli.command()
@click.argument("lead_id")
@click.argument("what", type=click.Choice(["opportunity", "account", "contact"]))
def unlink(lead_id: str, what: str) -> None:
    """Unlink a lead's qualifying opportunity (a reactivated lead, so it can be disqualified),
    or its existing account or contact."""
    user = _settings().user

    def change(lead: Lead) -> Lead:
        if what == "opportunity":
            return lead.unlink_opportunity(at=_now(), by=user)
        if what == "account":
            return lead.unlink_account(at=_now(), by=user)
        return lead.unlink_contact(at=_now(), by=user)

    stored = _save_one(lead_id, change)
    _echo(f"{stored.id}: {what} unlinked")


# ---------------------------------------------------------------------------------------------
# Accounts, contacts, opportunities


def _record_fields(record: Any) -> list[tuple[str, str]]:
    rows = []
    for field in attrs.fields(type(record)):
        value = getattr(record, field.name)
        if field.name in ("notes", "version") or value in (None, "", ()):
            continue
        if isinstance(value, Address):
            text = ", ".join(p for p in attrs.astuple(value) if p)
        elif isinstance(value, datetime):
            text = f"{value:%Y-%m-%d %H:%M}"
        else:
            text = _label(value)
        if text:
            rows.append((field.name, text))
    return rows


def _record_command(kind: str, columns: tuple[str, ...]) -> None:
    plural = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities"}[kind]

    @cli.command(
        name=plural,
        help=f"List the {plural} (qualification creates them), or show one by id.",
    )
    @click.argument("record_id", required=False)
    @click.option("--lead", "lead_id", help="Only those created from this lead.")
    def command(record_id: str | None, lead_id: str | None) -> None:
        with _store() as store, store.unit_of_work() as uow:
            repository: Any = getattr(uow, plural)
            if record_id is not None:
                ids = {"account": AccountId, "contact": ContactId, "opportunity": OpportunityId}
                records = [repository.get(ids[kind](record_id.strip()))]
            else:
                origin = _lead_id(lead_id) if lead_id else None
                records = list(repository.list(originating_lead=origin))
        if _settings().json:
            _emit_json([dict(_record_fields(r)) for r in records])
            return
        console = _console()
        if record_id is not None:
            table = _Table(title=f"{kind} {record_id}", show_header=False, title_justify="left")
            table.add_column("field", style="bold")
            table.add_column("value", overflow="fold")
            for name, text in _record_fields(records[0]):
                table.add_row(name, text)
            console.print(table)
            return
        table = _Table(title=f"{plural}: {len(records)}", title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for record in records:
            fields = dict(_record_fields(record))
            table.add_row(*(fields.get(c, "") for c in columns))
        console.print(table)

    command.__doc__ = (
        f"List the {plural} (qualification creates them), or show one by id (leadkit {plural} ID)."
    )


_record_command("account", ("id", "name", "email", "originating_lead", "created_at"))
_record_command("contact", ("id", "name", "company", "email", "account_id", "originating_lead"))
_record_command(
    "opportunity", ("id", "name", "customer", "estimated_value", "state", "originating_lead")
)


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
                        "error": None if o.error is None else _message(o.error),
                    }
                    for o in result.outcomes
                ],
            }
        )
    else:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
        state = "stored" if result.committed else "nothing stored"
        _echo(f"{what}: {counts} ({state})")
        for outcome in result.failed[:20]:
            error = outcome.error
            why = _one_line(_message(error)) if error is not None else "failed"
            _echo(f"  {outcome.lead_id}: failed: {why}")
    if not result.committed:
        first = result.failed[0]
        raise _Failed(
            f"{len(result.failed)} lead(s) failed, nothing stored; first: {first.lead_id}: "
            f"{_one_line(_message(first.error)) if first.error is not None else 'failed'}",
            _exit_code(first.error) if first.error is not None else 1,
        )


class _Failed(click.ClickException):
    """An error the CLI itself reports: its one-line message and exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


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
        _echo(f"next round-robin cursor: {after.cursor('cli')}")


@cli.command(name="mass-edit")
@click.argument("lead_ids", nargs=-1)
@_filters
@click.option("--all", "everything", is_flag=True, help="Every lead of the view.")
@click.option("--set", "values", multiple=True, help="FIELD=VALUE (repeatable).")
@click.option(
    "--manual-score",
    type=click.IntRange(0, BCM_MODEL.max_stars),
    help=f"Set the manual score: 0 to {BCM_MODEL.max_stars} stars (the model's star scale).",
)
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
        edits.append(_changes(_pairs(values, "--set")))
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
        _echo(f"scored {final.seen} leads: {final.rescored} changed")


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
        table = _Table(title=_TABLE_TITLES[kind], title_justify="left")
        for column in ("group", "leads", "mean score"):
            table.add_column(column)
        for row in value:
            mean = "" if row.mean_score is None else str(row.mean_score)
            table.add_row(row.label, str(row.count), mean)
        console.print(table)
    elif kind == "rates":
        table = _Table(title="qualification rate by source", title_justify="left")
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
        table = _Table(title="funnel", title_justify="left")
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
        table = _Table(title="open lead aging", title_justify="left")
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
        _echo(f"chart written: {written}", err=settings.json)


@cli.command()
@click.option("--limit", type=click.IntRange(0), default=20, show_default=True)
@click.option(
    "--merge",
    "merge_groups",
    is_flag=True,
    help="Then walk the groups: show each merge plan side by side and ask whether to merge.",
)
def dedupe(limit: int, merge_groups: bool) -> None:
    """Scan every lead for duplicates (progress bar) and explain the groups; with --merge,
    offer to merge each group (undo a merge with `leadkit unmerge MERGE_ID`)."""
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
                        "evidence": [_evidence_json(e) for e in g.edges],
                    }
                    for g in found.groups
                ],
            }
        )
        return
    _echo(f"{len(found.groups)} duplicate group(s) among {found.records} leads")
    for group in found.groups[:limit]:
        _echo(", ".join(str(m) for m in group.members))
        for edge in group.edges:
            _echo("  " + edge.explain().replace("\n", "\n  "))
    if merge_groups:
        _merge_groups(found.groups)


def _merge_groups(groups: Sequence[Any]) -> None:
    from leadkit import cli_merge

    def ask(_plan: object) -> str:
        return str(click.prompt("Merge these leads? [y]es / [n]o / [q]uit", default="n"))

    with _store() as store:
        done = cli_merge.merge_groups(
            store, groups, ask=ask, console=_console(), ids=lambda: f"M-{uuid.uuid4().hex[:12]}",
            at=_now, by=_settings().user,
        )  # fmt: skip
    _echo(f"{len(done)} merge(s) stored")


@cli.command()
@click.argument("merge_id")
@click.option(
    "--force",
    multiple=True,
    help="Overwrite this field although it changed since the merge (repeatable).",
)
def unmerge(merge_id: str, force: tuple[str, ...]) -> None:
    """Undo a merge: every lead back as it was before, what moved moved back."""
    from leadkit import cli_merge

    with _store() as store:
        result = cli_merge.unmerge_one(store, merge_id, force=force, at=_now(), by=_settings().user)
    restored = ", ".join(str(lead.id) for lead in result.leads)
    _echo(f"unmerged {merge_id}: restored {restored}")


def _evidence_json(edge: Any) -> dict[str, object]:
    """One match as fields: the two records, the rule and score, each condition's values."""

    def conditions(evidence: Any) -> list[dict[str, object]]:
        return [
            {
                "operator": c.condition.operator.value,
                "field": c.condition.base_field,
                "matching_field": c.condition.matching_field,
                "value": c.base_value,
                "matching_value": c.matching_value,
                "similarity": c.similarity,
            }
            for c in evidence
        ]

    return {
        "record": str(edge.record),
        "candidate": str(edge.candidate),
        "rule": edge.rule,
        "score": edge.score,
        "conditions": conditions(edge.conditions),
        "other_rules": [
            {"rule": r.rule, "score": r.score, "conditions": conditions(r.conditions)}
            for r in edge.other_rules
        ],
        "text": edge.explain(),
    }


def _duplicate_check(store: SqlStore) -> EngineDuplicateCheck:
    """The duplicate engine over the stored accounts and contacts, which qualification checks
    every lead against; qualify through ``check.store`` so the records it creates are indexed.

    The blocking keys live in the database (``duplicate_keys``), written in the same
    transaction as the records: a command reads the keys it needs and rebuilds them from
    every account and contact only when they are missing or were built for other rules (or
    by another leadkit key format)."""
    from leadkit.duplicates import EngineDuplicateCheck
    from leadkit.duplicates.sql_keys import SqlKeyStore

    check = EngineDuplicateCheck.from_store(
        store, key_store=SqlKeyStore(store.engine), rebuild=False
    )
    check.refresh()
    return check


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
                _plain(question.text),
                default=question.suggestion,
                type=choices,
                value_proc=None if choices else check,
            )
        )
    if question.choices == ("yes", "no"):
        asked = click.confirm(_plain(question.text), default=question.suggestion == "yes")
        return "yes" if asked else "no"
    return str(
        click.prompt(
            _plain(question.text),
            default=question.suggestion,
            type=click.Choice(question.choices),
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
        table = _Table(title=f"possible duplicates of lead {plan.lead_id}", title_justify="left")
        for column in ("kind", "id", "match", "why"):
            table.add_column(column, overflow="fold")
        for c in plan.unresolved:
            why = c.reason if len(c.reason) <= 60 else c.reason[:57] + "..."
            table.add_row(c.record_type.value, c.record_id, f"{c.score:.2f}", why)
        _console().print(table)
        raise _Failed(
            f"{len(plan.unresolved)} possible duplicate(s) of lead {plan.lead_id} (listed "
            "above): pass --link ID or --create-anyway",
            EXIT_CODES["refused"],
        )
    kind = candidate.record_type.value
    choice = click.prompt(
        _plain(f"possible duplicate {kind}: {candidate}. Link it, or create a new {kind}?"),
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
            _echo(line)
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
            _echo("the plan now:")
            for line in plan.describe():
                _echo(line)
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
    _echo(f"{result.lead.id}: qualified" + (f" ({made})" if made else ""))


_EXPORT_FORMATS: Final = {".csv": "csv", ".xlsx": "xlsx"}
_STATE_COLUMNS: Final = (
    "state", "status_reason", "owner", "score", "stars", "created_at", "modified_at",
)  # fmt: skip


def _export_columns(choice: str, leads: Sequence[Lead]) -> tuple[str, ...]:
    """The columns of ``--columns``: ``import`` (the default: the id, every field import reads
    and each custom field the leads hold; export, import into an empty database and export
    again gives the same file), ``full`` (those and the state, status reason, owner, score,
    stars, created and modified, which import does not read back) or a comma-separated list
    of column keys."""
    from leadkit.io.columns import DEFAULT_EXPORT_COLUMNS, column_spec

    custom = sorted({f"custom.{name}" for lead in leads for name in lead.custom_fields})
    readable = ("id", *DEFAULT_EXPORT_COLUMNS, *custom)
    if choice == "import":
        return readable
    if choice == "full":
        return (*readable, *_STATE_COLUMNS)
    keys = tuple(k.strip() for k in choice.split(",") if k.strip())
    for key in keys:
        try:
            column_spec(key)
        except ConfigurationError as e:
            raise InvalidValue("--columns", key, e.reason) from None
    if not keys:
        raise InvalidValue("--columns", choice, "names no column")
    return keys


def _export_format(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    found = _EXPORT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidValue(
            "PATH", str(path), "needs a .csv or .xlsx suffix (or give --format csv|xlsx)"
        )
    return found


@cli.command(name="export")
@click.argument("path", type=click.Path(dir_okay=False))
@_filters
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    help="The file format (default: from the suffix, .csv or .xlsx; xlsx needs leadkit[io]).",
)
@click.option(
    "--columns",
    default="import",
    show_default=True,
    help="'import': id and every field import reads back (a round trip gives the same "
    "file); 'full': also state, status_reason, owner, score, stars, created_at, modified_at; "
    "or a comma-separated list of column keys.",
)
def export_command(path: str, file_format: str | None, columns: str, **query_options: Any) -> None:
    """Export leads (a view, filters) to a CSV or xlsx file."""
    from leadkit.io import export_csv, export_xlsx

    target = Path(path)
    kind = _export_format(target, file_format)
    if kind == "xlsx":
        _require_openpyxl()
    if not target.parent.is_dir():
        raise _Failed(f"no directory {target.parent} (create it first)", EXIT_CODES["not found"])
    with _store() as store, store.unit_of_work() as uow:
        leads = list(uow.leads.stream(_query(**query_options)))
    chosen = _export_columns(columns, leads)
    write = export_xlsx if kind == "xlsx" else export_csv
    written = write(leads, target, chosen)
    _echo(f"exported {written} leads to {path} ({kind}, {len(chosen)} columns)")


def _require_openpyxl() -> None:
    import importlib.util

    if importlib.util.find_spec("openpyxl") is None:
        raise ConfigurationError(
            "xlsx", "needs the io extra: pip install 'leadkit[io]' (or export to .csv)"
        )


def _read_mapping_file(path: str) -> dict[str, Any]:
    """A --mapping file: JSON, either ``{"Header": "column key or null", ...}`` or
    ``{"columns": {...}, "custom_kinds": {...}, "values": {...}}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise _Failed(f"no mapping file {path}", EXIT_CODES["not found"]) from None
    except ValueError as e:
        raise InvalidValue("--mapping", path, f"is not JSON ({e})") from None
    if not isinstance(data, dict):
        raise InvalidValue("--mapping", path, "must hold a JSON object")
    if "columns" not in data:
        data = {"columns": data}
    unknown = sorted(set(data) - {"columns", "custom_kinds", "values"})
    if unknown:
        raise InvalidValue("--mapping", path, f"has an unknown key {unknown[0]}")
    if not isinstance(data["columns"], dict):
        raise InvalidValue("--mapping", path, '"columns" must map headers to column keys')
    return data


def _import_mapping(
    source: Any, maps: Sequence[str], mapping_file: str | None, unknown_as_custom: bool
) -> Any:
    """The mapping to import with: suggested from the headers of ``source``, then the
    --mapping file, then each --map HEADER=KEY (``-`` or empty ignores the column)."""
    from leadkit.io import suggest_mapping

    headers = source.headers
    changes: dict[str, str | None] = {}
    kinds: dict[str, str] = {}
    values: dict[str, Any] = {}
    if mapping_file is not None:
        data = _read_mapping_file(mapping_file)
        changes.update({str(h): (str(k) if k else None) for h, k in data["columns"].items()})
        kinds.update(data.get("custom_kinds") or {})
        values.update(data.get("values") or {})
    for header, key in _pairs(maps, "--map"):
        changes[header] = key.strip() if key.strip() not in ("", "-") else None
    for header in changes:
        if header not in headers:
            raise InvalidValue(
                "--map", header, f"is not a header of the file; headers: {', '.join(headers)}"
            )
    try:
        mapping = suggest_mapping(headers, unknown_as_custom=unknown_as_custom)
        return mapping.override(changes, custom_kinds=kinds, values=values)
    except ConfigurationError as e:
        raise InvalidValue("--map", e.what, e.reason) from None


def _mapping_lines(mapping: Any) -> list[str]:
    lines = ["columns:"]
    width = max((len(h) for h in mapping.headers), default=0)
    for header, key in mapping.columns:
        lines.append(f"  {header:<{width}} -> {key if key is not None else '(ignored)'}")
    return lines


@cli.command(name="import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Commit without asking.")
@click.option("--dry-run", is_flag=True, help="Print the preview and write nothing.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="HEADER=COLUMN",
    help="Map a header to a column key (first_name, company, custom.NAME ...; '-' ignores "
    "it). Repeatable; wins over --mapping and the guess.",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(dir_okay=False),
    help='A JSON mapping file: {"Header": "column", ...} or {"columns": {...}, '
    '"custom_kinds": {...}, "values": {...}}.',
)
@click.option(
    "--custom-columns",
    is_flag=True,
    help="Import unknown headers as text custom fields (custom.<header>).",
)
@click.option(
    "--phone-region",
    help="Region of phone numbers without +country when the row names no country (SE); "
    "default: the global --phone-region.",
)
@click.option(
    "--duplicates",
    type=click.Choice(["skip", "create"]),
    default="skip",
    show_default=True,
    help="Rows flagged as possible duplicates: skip them or create them anyway.",
)
@click.option("--encoding", help="Text encoding of a CSV file (cp1252, utf-16); else detected.")
@click.option(
    "--delimiter", help="Field delimiter of a CSV file (',', ';' or 'tab'); else detected."
)
def import_command(
    path: str,
    yes: bool,
    dry_run: bool,
    maps: tuple[str, ...],
    mapping_file: str | None,
    custom_columns: bool,
    phone_region: str | None,
    duplicates: str,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Preview an import (CSV, xlsx, XML): the column mapping, then what each row becomes;
    then commit it.

    A phone number without +country is read in the row's country (Land, Country ...), else
    in --phone-region.
    """
    from leadkit.io import DuplicateAction, ImportPolicy, open_source, plan_import, run_import

    settings = _settings()
    if not Path(path).is_file():
        raise _Failed(f"no file {path}", EXIT_CODES["not found"])
    if delimiter is not None and delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    source = open_source(path, encoding=encoding, delimiter=delimiter)
    mapping = _import_mapping(source, maps, mapping_file, custom_columns)
    policy = ImportPolicy(
        phone_region=phone_region or settings.phone_region,
        currency=settings.currency,
        date_order="MDY" if settings.date_order == "MDY" else "DMY",
        on_duplicate=DuplicateAction.CREATE if duplicates == "create" else DuplicateAction.SKIP,
        owner=settings.user,
    )
    with _store() as store:
        plan = plan_import(source, mapping, policy, store=store)
        for line in _mapping_lines(plan.mapping):
            _echo(line)
        summary = plan.summary()
        if "default region" in summary:
            summary += (
                "\nnote: give --phone-region (e.g. SE) to read numbers without +country in "
                "rows that name no country"
            )
        _echo(summary)
        if dry_run:
            _echo("dry run: nothing written")
            return
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
    _echo(
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
                planted: list[tuple[str, str]] = []  # (copy, original) typed in twice
                for start in range(0, count, 1000):
                    with store.unit_of_work() as uow:
                        for n in range(start, min(start + 1000, count)):
                            made = next(generated)
                            if made.duplicate_of is not None:
                                planted.append((f"D-{n:07d}", f"D-{made.duplicate_of:07d}"))
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
                _echo(
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


# ---------------------------------------------------------------------------------------------
# leadkit outbox (self-contained: the backlog of the transactional outbox)


@cli.command(name="outbox")
@click.option(
    "--limit",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="How many waiting events to list (oldest first).",
)
def outbox_command(limit: int) -> None:
    """Show the outbox backlog: events waiting for a publisher, leased, delivered."""
    settings = _settings()
    with _store() as store:
        box = store.outbox
        backlog = box.backlog()
        waiting = box.pending(limit) if limit else ()
    rows = [
        {
            "position": e.position,
            "event_id": e.event_id,
            "type": e.type,
            "lead_id": e.lead_id.value,
            "occurred_at": e.occurred_at,
            "attempts": e.attempts,
        }
        for e in waiting
    ]
    if settings.json:
        _emit_json(
            {
                "pending": backlog.pending,
                "leased": backlog.leased,
                "delivered": backlog.delivered,
                "oldest_position": backlog.oldest_position,
                "oldest_occurred_at": backlog.oldest_occurred_at,
                "events": rows,
            }
        )
        return
    click.echo(
        f"{backlog.pending} waiting ({backlog.leased} leased), {backlog.delivered} delivered"
    )
    if backlog.oldest_occurred_at is not None:
        click.echo(f"oldest waiting: #{backlog.oldest_position} at {backlog.oldest_occurred_at}")
    for row in rows:
        click.echo(
            f"#{row['position']:<6} {row['type']:<22} {row['lead_id']:<20} "
            f"attempts {row['attempts']}"
        )


def _register_privacy() -> None:
    from leadkit.cli_privacy import COMMANDS  # erase, audit

    for command in COMMANDS:
        cli.add_command(command)


_register_privacy()


def main() -> None:
    """Run the ``leadkit`` command (the console script starts in :mod:`leadkit_cli`)."""
    cli.main()


if __name__ == "__main__":  # pragma: no cover
    main()
