"""Shared test configuration: the hypothesis profiles.

``ci`` (chosen when the CI environment variable is set) runs 30 examples per property with no
deadline (CI machines are slow and noisy; 100 made the suite take over 15 minutes on a 2-core
machine) and prints the blob to reproduce a failure; ``thorough`` (500) is the longer run to
make by hand before a release; ``dev`` (the local default) runs 20 for a quick loop, also
without a deadline: leads are built through real commands and a shared machine's timings are
too noisy for one. ``mutation`` (5 examples)
is what scripts/mutation uses. ``HYPOTHESIS_PROFILE`` picks one explicitly.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=30, derandomize=False, print_blob=True)
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=500)
settings.register_profile("dev", max_examples=20, deadline=None)
# scripts/mutation runs each module's tests once per mutant: a few examples per property.
settings.register_profile("mutation", max_examples=5, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


from support.postgres import drop_every_database, pg_databases  # noqa: E402  (a fixture)

__all__ = ["pg_databases"]


def pytest_sessionfinish(session: object, exitstatus: object) -> None:
    """Drop the PostgreSQL databases the tests of this process made."""
    drop_every_database()
