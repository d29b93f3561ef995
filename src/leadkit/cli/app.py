"""The ``leadkit`` command group, ``leadkit init`` and the entry point."""

from __future__ import annotations

import click

from leadkit.cli._shared import _echo, _LeadkitGroup, _Settings, _settings, _store
from leadkit.values import UserRef
from leadkit_cli import CONTEXT_SETTINGS, GROUP_HELP, VERSION_MESSAGE, global_options

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
    """Create (or migrate) the database; check its integrity."""
    with _store(create=True, verify=True):
        pass
    _echo(f"database ready (integrity check passed): {_settings().describe()}")


def main() -> None:
    """Run the ``leadkit`` command (the console script starts in :mod:`leadkit_cli`)."""
    cli.main()
