"""The ``leadkit`` command (``pip install "leadkit[cli]"``): leads from a terminal.

Every command works on one database: ``--db`` (a SQLAlchemy URL or a SQLite file path), else
the ``LEADKIT_DB`` environment variable, else ``leads.db`` in the user's data directory. Read
commands take ``--json``. Errors are one line on stderr with an exit code (see docs/cli.md);
``--debug`` shows the traceback instead.

The command group and the entry point are in :mod:`leadkit.cli.app`, what the commands share
in :mod:`leadkit.cli._shared`, and each group of commands in its own module, which registers
its commands on the group when imported (below).
"""

from __future__ import annotations

from leadkit.cli import (  # noqa: F401  (each registers its commands on the group)
    bulk,
    dedupe,
    demo,
    import_export,
    leads,
    outbox,
    qualify,
    records,
    report,
    score,
)
from leadkit.cli._shared import EXIT_CODES
from leadkit.cli.app import cli, main

__all__ = ["EXIT_CODES", "cli", "main"]
