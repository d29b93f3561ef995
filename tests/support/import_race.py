"""Many imports of the same people at once: "one person, one lead".

``people_csv`` writes a CSV file whose rows describe ``people`` people, ``per_person`` rows
each (one name, e-mail address and company per person, other topics), in an order shuffled
by ``seed``. The module, run as ``python -m support.import_race URL WORKER``, is the worker
process of the multi-process test: it plans the import of its own shuffle of the rows against
the store (which is empty then), reports "ready", waits for "go", runs the import with the
duplicate check on the keys in the database (``run_import(..., duplicates=check)``; not
with a fifth argument ``unchecked``) in batches of four rows, and prints a JSON summary of
its report.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from leadkit.values import UserRef
from support.qualify_race import _COMPANY, _FIRST, _LAST

__all__ = ["AT", "BY", "email_of", "people_csv"]

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
BY = UserRef("importer", "Import Job")


def email_of(person: int) -> str:
    """The e-mail address of person ``person``."""
    return f"{_FIRST[person].lower()}@{_COMPANY[person].split()[0].lower()}.example"


def people_csv(people: int, per_person: int, *, seed: int) -> bytes:
    """A CSV file of ``people * per_person`` rows in shuffled order (at most 20 people)."""
    assert people <= len(_FIRST)
    rows = [
        (f"Enquiry {n} from {_FIRST[p]}", _FIRST[p], _LAST[p], email_of(p), _COMPANY[p])
        for p in range(people)
        for n in range(per_person)
    ]
    random.Random(seed).shuffle(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("Topic", "First Name", "Last Name", "Email", "Company"))
    writer.writerows(rows)
    return out.getvalue().encode()


def _main(argv: Sequence[str]) -> None:
    """The worker process (see the module docstring)."""
    from leadkit.adapters.sql import SqlStore
    from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
    from leadkit.duplicate_checks import EngineDuplicateCheck
    from leadkit.io import RowStatus, SkipReason, plan_import, run_import

    url, worker, people, per_person = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    checked = argv[4:] != ["unchecked"]  # "unchecked": the control run, without duplicates=
    # SQLite's busy handler can starve a writer for seconds on a loaded machine: the test is
    # about duplicates, not about waiting, so the workers wait long.
    store = SqlStore.open(url, create=False, busy_timeout=120.0)
    check = EngineDuplicateCheck.from_store(
        store, key_store=SqlKeyStore(store.engine), leads=True, rebuild=False
    )
    check.refresh()
    plan = plan_import(people_csv(people, per_person, seed=worker), store=check.store)
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    counter = itertools.count()
    report = run_import(
        check.store,
        plan,
        ids=lambda: f"w{worker}-{next(counter)}",
        at=AT,
        by=BY,
        batch_size=4,
        duplicates=check if checked else None,
    )
    store.close()
    summary = {
        "planned": len(plan.to_create),
        "created": report.created,
        "skipped_as_stored": sum(
            1 for o in report.outcomes if o.skip_reason is SkipReason.DUPLICATE_OF_STORED
        ),
        "rejected": sum(1 for o in report.outcomes if o.status is RowStatus.REJECTED),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
