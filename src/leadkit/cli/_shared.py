"""What every command shares: errors as one line and an exit code, text made safe for the
terminal, the settings and the store, and the parsing of fields, filters and ids."""

from __future__ import annotations

import json
import math
import os
import re
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Final, NoReturn, cast

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

from leadkit.adapters.sql import SqlStore
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
from leadkit.mass_editing import SetField, field_path, set_fields
from leadkit.patch import PATCH_FIELDS
from leadkit.ports import LeadQuery, LeadSort, Views
from leadkit.status import LeadState, StatusReason
from leadkit.values import LeadId, UserRef

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

    def open(self, *, create: bool = False, verify: bool = False) -> SqlStore:
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
        timeout = self.busy_timeout
        if path is not None:
            return SqlStore.open(path=path, create=create, verify=verify, busy_timeout=timeout)
        return SqlStore.open(url, create=create, verify=verify, busy_timeout=timeout)


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
def _store(*, create: bool = False, verify: bool = False) -> Iterator[SqlStore]:
    store = _settings().open(create=create, verify=verify)
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


def _progress(*, terminal_only: bool = False) -> Progress:
    """A progress display on stderr; with ``terminal_only`` nothing is drawn unless stderr is a
    terminal (so a script reading stderr sees only the error line)."""
    console = _err_console()
    return Progress(
        TextColumn("{task.description:<22}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=terminal_only and not console.is_terminal,
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


class _Failed(click.ClickException):
    """An error the CLI itself reports: its one-line message and exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
