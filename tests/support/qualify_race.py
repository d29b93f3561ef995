"""Many qualifications of the same people at once: "one person, one contact".

``people_leads`` makes several leads per person (same name, e-mail and company, other topics)
in shuffled order; ``qualify_linking`` qualifies one as a user would (a possible duplicate is
linked, best of each kind); ``qualify_in_threads`` runs them from several threads and the
module, run as ``python -m support.qualify_race URL WORKER WORKERS``, is the worker process of
the multi-process test (it reads the lead ids of the whole run from stdin, waits for "go" and
qualifies every WORKERS-th one from WORKER on, then prints a JSON summary). A worker refreshes
the duplicate keys (builds them when missing) before it reports "ready".
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from leadkit.conversion import (
    Choice,
    DuplicateCandidate,
    DuplicateCheck,
    QualifyRequest,
    Resolution,
)
from leadkit.errors import ConcurrencyConflict, DuplicatesUnresolved
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.policies import DEFAULT_POLICY
from leadkit.ports import LeadStore, UnitOfWork
from leadkit.services import QualifyResult, qualify
from leadkit.values import LeadId, PersonName, UserRef

__all__ = [
    "AT",
    "BY",
    "Dawdling",
    "people_leads",
    "qualify_in_threads",
    "qualify_linking",
]

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
BY = UserRef("ann", "Ann Andersson")
_NUMBERS = itertools.count()  # ids of the records made in threads (next() is atomic)

_FIRST = ("Ada", "Boris", "Carmen", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi", "Ingrid",
          "Jamal", "Katya", "Lorenzo", "Mei", "Nuno", "Olga", "Pedro", "Quentin", "Rosa",
          "Sven", "Tamsin")  # fmt: skip
_LAST = ("Lovelace", "Petrov", "Ortega", "Volkov", "Yilmaz", "Haddad", "Lindqvist", "Tanaka",
         "Bergman", "Okafor", "Ivanova", "Ricci", "Zhang", "Carvalho", "Novak", "Alvarez",
         "Dubois", "Moreno", "Eriksen", "Whitlock")  # fmt: skip
_COMPANY = ("Analytical Engines", "Borealis Freight", "Cobalt Looms", "Dunmore Cider",
            "Ember Robotics", "Fjord Optics", "Granite Ledger", "Harbor Kilns", "Iris Apiaries",
            "Juniper Turbines", "Kestrel Maps", "Lantern Pharma", "Marble Acoustics",
            "Nimbus Textiles", "Orchid Ceramics", "Pylon Semiconductors", "Quarry Bakeries",
            "Russet Vineyards", "Saffron Logistics", "Tundra Helmets")  # fmt: skip


def people_leads(people: int, per_person: int, *, seed: int = 13) -> list[Lead]:
    """``people * per_person`` leads in shuffled order: lead ``P07-L3`` is the fourth lead of
    person 7, who has one name, e-mail address and company (at most 20 people)."""
    assert people <= len(_FIRST)
    leads = [
        Lead.create(
            LeadId(f"P{p:02}-L{n}"),
            LeadPatch(
                topic=f"Enquiry {n} from {_FIRST[p]}",
                name=PersonName(first=_FIRST[p], last=_LAST[p]),
                email=f"{_FIRST[p].lower()}@{_COMPANY[p].split()[0].lower()}.example",
                company=_COMPANY[p],
            ),
            at=AT,
            by=BY,
        )
        for p in range(people)
        for n in range(per_person)
    ]
    random.Random(seed).shuffle(leads)
    return leads


def person_of(lead_id: LeadId | str) -> str:
    """``P07`` for lead ``P07-L3``."""
    text = lead_id.value if isinstance(lead_id, LeadId) else lead_id
    return text.split("-", 1)[0]


def qualify_linking(
    target: LeadStore,
    check: DuplicateCheck,
    lead_id: LeadId,
    id_factory: Callable[[], str],
) -> QualifyResult:
    """Qualify a lead with an account and a contact (no opportunity); when possible
    duplicates stop it, link the best candidate of each kind and try again (also after a
    ConcurrencyConflict on a linked record)."""
    request = QualifyRequest(create_opportunity=Choice.NO)
    for _ in range(50):
        try:
            return qualify(
                target,
                lead_id,
                request,
                DEFAULT_POLICY,
                at=AT,
                by=BY,
                finder=check,
                id_factory=id_factory,
            )
        except DuplicatesUnresolved as e:
            seen: set[object] = set()
            for candidate in e.candidates:
                if candidate.record_type not in seen:
                    seen.add(candidate.record_type)
                    request = request.answer(candidate, Resolution.LINK)
        except ConcurrencyConflict:
            continue
    raise AssertionError(f"{lead_id} did not qualify in 50 attempts")


class Dawdling:
    """A duplicate check that waits ``delay`` seconds after each lookup: the moment between a
    qualification's check and its commit, when a racing qualification of the same person
    would also find nothing, is made long enough to be hit every time."""

    def __init__(self, check: DuplicateCheck, delay: float = 0.002) -> None:
        self._check = check
        self._delay = delay

    def find(self, lead: Lead, uow: UnitOfWork) -> Sequence[DuplicateCandidate]:
        """The wrapped check's candidates, ``delay`` seconds later."""
        found = self._check.find(lead, uow)
        time.sleep(self._delay)
        return found


def qualify_in_threads(
    target: LeadStore, check: DuplicateCheck, lead_ids: Sequence[LeadId], *, threads: int
) -> list[BaseException]:
    """Qualify ``lead_ids`` from ``threads`` threads started together (thread ``t`` takes
    every ``threads``-th lead from ``t`` on); returns the errors raised."""
    errors: list[BaseException] = []
    guard = threading.Lock()
    start = threading.Barrier(threads)

    def work(number: int) -> None:
        def ids() -> str:
            return f"t{number}-{next(_NUMBERS)}"

        try:
            start.wait()
            for lead_id in lead_ids[number::threads]:
                qualify_linking(target, check, lead_id, ids)
        except BaseException as e:  # reported to the test
            with guard:
                errors.append(e)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    assert not any(w.is_alive() for w in workers), "a qualifying thread hangs"
    return errors


def _main(argv: Sequence[str]) -> None:
    """The worker process (see the module docstring)."""
    from leadkit.adapters.sql import SqlStore
    from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
    from leadkit.duplicate_checks import EngineDuplicateCheck

    url, number, workers = argv[0], int(argv[1]), int(argv[2])
    lead_ids = [LeadId(line) for line in sys.stdin.readline().split()]
    # SQLite's busy handler can starve a writer for seconds on a loaded machine: the test is
    # about duplicates, not about waiting, so the workers wait long.
    store = SqlStore.open(url, create=False, busy_timeout=120.0)
    check = EngineDuplicateCheck.from_store(
        store, key_store=SqlKeyStore(store.engine), rebuild=False
    )
    rebuilt = check.refresh()
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    counter = iter(range(1_000_000))

    def ids() -> str:
        return f"w{number}-{next(counter)}"

    summary: dict[str, Any] = {"rebuilt": rebuilt, "created": 0, "linked": 0}
    for lead_id in lead_ids[number::workers]:
        result = qualify_linking(check.store, Dawdling(check), lead_id, ids)
        summary["created"] += len(result.created)
        summary["linked"] += len(result.linked)
    store.close()
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
