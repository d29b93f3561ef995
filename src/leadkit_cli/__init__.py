"""The ``leadkit`` console script's front door: ``leadkit``, ``leadkit --help`` and
``leadkit --version`` answer from here without importing leadkit (whose core, SQLAlchemy and
rich take most of a second of CPU to import); every other invocation runs
:func:`leadkit.cli.main`.

The global options are defined once, here, and applied to the real command group in
:mod:`leadkit.cli`; :data:`COMMANDS` lists each command's one-line help for the fast help
page (tests/cli/test_cli_daily.py checks that both help pages are the same).
benchmarks/bench_cli_startup.py measures the CPU time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Final, TypeVar

import click

__all__ = [
    "COMMANDS",
    "CONTEXT_SETTINGS",
    "GROUP_HELP",
    "VERSION_MESSAGE",
    "global_options",
    "help_page",
    "main",
]

F = TypeVar("F", bound=Callable[..., Any])

GROUP_HELP: Final = "leadkit: sales leads from the terminal."
"""The help text of the command group."""

CONTEXT_SETTINGS: Final[dict[str, Any]] = {"help_option_names": ["-h", "--help"]}
"""The click context settings of the command group."""

VERSION_MESSAGE: Final = "%(prog)s, version %(version)s"
"""What ``--version`` prints."""

COMMANDS: Final[dict[str, str]] = {
    "accounts": "List the accounts (qualification creates them), or show one by id.",
    "add": "Add a lead; prints its id.",
    "assign": "Assign leads: to one user, round-robin over a team, or by capacity.",
    "contacts": "List the contacts (qualification creates them), or show one by id.",
    "dedupe": "Scan every lead for duplicates (progress bar) and explain the groups; with "
    "--merge, offer to merge each group (undo a merge with `leadkit unmerge MERGE_ID`).",
    "demo": "Fill a fresh database with realistic generated leads and run the main flow "
    "end to end (score, assign, mass edit, contact, qualify, disqualify, dedupe, reports), "
    "timing each step.",
    "disqualify": "Close a lead as disqualified.",
    "edit": "Change fields of an open lead.",
    "export": "Export leads (a view, filters) to a CSV or xlsx file.",
    "import": "Preview an import (CSV, xlsx, XML): the column mapping, then what each row "
    "becomes; then commit it.",
    "init": "Create (or migrate) the database; check its integrity.",
    "list": "List leads (a view, filters, sorting).",
    "mass-edit": "Apply one change to many leads: all or nothing unless --per-lead.",
    "note": "Add a note to a lead's timeline.",
    "opportunities": "List the opportunities (qualification creates them), or show one by id.",
    "outbox": "Show the outbox backlog: events waiting for a publisher, leased, delivered.",
    "qualify": "Show the qualification plan, ask what it still needs, then qualify.",
    "reactivate": "Reopen a qualified or disqualified lead.",
    "report": "Reports: by owner, owner and rating, score band, source; funnel, aging, rates.",
    "score": "Rescore every lead with the default model, with a progress bar.",
    "show": "Show one lead: fields, score explanation, timeline.",
    "tick": "Tick scoring criteria of a lead (budget_confirmed, decision_maker_identified ...).",
    "unmerge": "Undo a merge: every lead back as it was before, what moved moved back.",
    "unlink": "Unlink a lead's qualifying opportunity (a reactivated lead, so it can be "
    "disqualified), or its existing account or contact.",
    "untick": "Untick scoring criteria of a lead.",
}
"""Every command and the first line of its help, for the fast help page."""


def global_options(command: F) -> F:
    """Apply the options every command shares (``--db``, ``--user``, ``--json`` ...)."""
    options = [
        click.option(
            "--db",
            envvar="LEADKIT_DB",
            help="SQLAlchemy URL or SQLite file (env LEADKIT_DB; default: leads.db in the user "
            "data directory).",
        ),
        click.option(
            "--user",
            envvar="LEADKIT_USER",
            default="me",
            show_default=True,
            help="Who is acting (env LEADKIT_USER).",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Machine-readable output (read commands)."
        ),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
        click.option(
            "--busy-timeout",
            type=float,
            default=5.0,
            show_default=True,
            help="Seconds to wait for a locked SQLite database.",
        ),
        click.option(
            "--currency",
            envvar="LEADKIT_CURRENCY",
            help="Currency of amounts typed without one, e.g. --set budget_amount=5000 (env "
            "LEADKIT_CURRENCY).",
        ),
        click.option(
            "--date-order",
            envvar="LEADKIT_DATE_ORDER",
            type=click.Choice(["DMY", "MDY"], case_sensitive=False),
            default="DMY",
            show_default=True,
            help="Order of slash dates such as 31/12/2026 (env LEADKIT_DATE_ORDER); ISO dates "
            "always work.",
        ),
        click.option(
            "--phone-region",
            "phone_region",
            envvar="LEADKIT_PHONE_REGION",
            help="Region of phone numbers typed without +country, e.g. SE (env "
            "LEADKIT_PHONE_REGION).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _skeleton() -> click.Group:
    """A group with the real one's options and commands, whose commands do nothing."""

    @click.group(help=GROUP_HELP, context_settings=CONTEXT_SETTINGS)
    @global_options
    @click.version_option(package_name="leadkit", message=VERSION_MESSAGE)
    def group(**_: Any) -> None:
        pass

    for name, text in COMMANDS.items():
        group.add_command(click.Command(name, help=text))
    return group


def help_page(terminal_width: int | None = None) -> str:
    """The help page of ``leadkit --help``, made without importing leadkit."""
    group = _skeleton()
    with group.make_context(
        "leadkit", [], resilient_parsing=True, terminal_width=terminal_width
    ) as ctx:
        return group.get_help(ctx)


def main() -> None:
    """The ``leadkit`` console script."""
    args = sys.argv[1:]
    if args in ([], ["--help"], ["-h"]):
        click.echo(help_page())
        sys.exit(0)
    if args == ["--version"]:
        from importlib.metadata import version

        click.echo(VERSION_MESSAGE % {"prog": "leadkit", "version": version("leadkit")})
        sys.exit(0)
    from leadkit.cli import main as run

    run()


if __name__ == "__main__":  # pragma: no cover
    main()
