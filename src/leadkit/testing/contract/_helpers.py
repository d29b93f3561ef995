"""Small helpers of the suite: storing and reading leads and records, pages, lock hints."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from leadkit.errors import ConcurrencyConflict, NotFound
from leadkit.events import LeadEvent
from leadkit.lead import Lead
from leadkit.ports import LeadQuery, LeadRepository, LeadStore, Page, sort_key
from leadkit.testing.contract._examples import K, R, _RecordKind
from leadkit.values import LeadId


class _Boom(Exception):
    """Raised inside a unit of work by the rollback tests."""


@attrs.define
class _RecordingSink:
    """An event sink that remembers every delivery."""

    calls: list[tuple[LeadEvent, ...]] = attrs.field(factory=list)
    check: Callable[[Sequence[LeadEvent]], None] | None = None

    def __call__(self, events: Sequence[LeadEvent]) -> None:
        self.calls.append(tuple(events))
        if self.check is not None:
            self.check(events)

    @property
    def deliveries(self) -> list[tuple[LeadEvent, ...]]:
        """The non-empty deliveries (a sink may or may not be called with no events)."""
        return [call for call in self.calls if call]


def _store_leads(store: LeadStore, *leads: Lead) -> list[Lead]:
    """Add ``leads`` in one unit of work, commit, and return the stored copies."""
    with store.unit_of_work() as uow:
        stored = [uow.leads.add(lead) for lead in leads]
        uow.commit()
    return stored


def _store_records(store: LeadStore, kind: _RecordKind[R, K], *records: R) -> list[R]:
    """Add ``records`` of ``kind`` in one unit of work, commit, and return the stored copies."""
    with store.unit_of_work() as uow:
        repository = kind.repository(uow)
        stored = [repository.add(record) for record in records]
        uow.commit()
    return stored


def _read(store: LeadStore, lead_id: LeadId) -> Lead:
    with store.unit_of_work() as uow:
        return uow.leads.get(lead_id)


def _exists(store: LeadStore, lead_id: LeadId) -> bool:
    with store.unit_of_work() as uow:
        try:
            uow.leads.get(lead_id)
        except NotFound:
            return False
        return True


def _count(store: LeadStore, query: LeadQuery | None = None) -> int:
    with store.unit_of_work() as uow:
        return uow.leads.count(query or LeadQuery())


def _pages(
    repository: LeadRepository, query: LeadQuery, limit: int, *, most: int = 1000
) -> list[Page]:
    """Every page of ``query``, following the cursors: at most ``most`` pages, and a cursor
    handed out twice fails at once (a cursor that does not advance would loop for ever)."""
    pages: list[Page] = []
    after: str | None = None
    seen: set[str] = set()
    for _ in range(most):
        page = repository.query(query, limit=limit, after=after)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        if page.next_cursor in seen:
            raise AssertionError(
                f"query {query!r} gave the cursor {page.next_cursor!r} twice (after "
                f"{len(pages)} pages of {limit}): the cursor does not advance"
            )
        seen.add(page.next_cursor)
        after = page.next_cursor
    raise AssertionError(f"pagination of {query!r} did not end after {most} pages of {limit}")


def _streamed(repository: LeadRepository, query: LeadQuery | None, batch_size: int) -> list[Lead]:
    """``list(repository.stream(...))``, failing instead of hanging when the stream yields
    far more leads than the store holds (a batch position that does not advance)."""
    bound = repository.count(LeadQuery()) + 1
    found: list[Lead] = []
    for lead in repository.stream(query, batch_size=batch_size):
        found.append(lead)
        if len(found) > bound:
            raise AssertionError(
                f"stream(batch_size={batch_size}) yielded more than the {bound - 1} stored "
                f"leads; it repeats (ids so far: {_ids(found)[:20]} ...)"
            )
    return found


def _ids(leads: Sequence[Lead]) -> list[str]:
    return [lead.id.value for lead in leads]


def _reference(leads: Sequence[Lead], query: LeadQuery) -> list[Lead]:
    """The reference answer: ``LeadQuery.matches`` ordered by ``sort_key``."""
    found = [lead for lead in leads if query.matches(lead)]
    return sorted(
        found,
        key=lambda lead: sort_key(lead, query.sort, descending=query.descending),
        reverse=query.descending,
    )


def _check_conflict(
    error: ConcurrencyConflict, key: object, expected: int, actual: int | None
) -> None:
    assert str(error.key) == str(key)
    assert error.expected_version == expected
    assert error.actual_version == actual
