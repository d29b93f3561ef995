"""The streaming import (``import_streaming``): its arguments, the file read twice, failures
per batch and progress. That its outcomes equal plan + run is a property test
(tests/properties/test_import_streaming_properties.py)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates.index import MemoryKeyStore
from leadkit.errors import ConcurrencyConflict, InvalidValue
from leadkit.io import (
    CsvSource,
    ExistingAction,
    ImportInterrupted,
    ImportPolicy,
    ImportProgress,
    MalformedSource,
    RowStatus,
    SkipReason,
    SourceRow,
    import_streaming,
    open_source,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("importer")
FILE = (
    b"Topic,Last Name,Email\n"
    b"Offer,Nowak,anna@nordic.se\n"
    b"Offer,Ek,bo@ek.se\n"
    b"Offer,Nowak,anna@nordic.se\n"
    b"Offer,Lind,lind@lind.se\n"
)


def _ids() -> object:
    counter = itertools.count(1)
    return lambda: f"L-{next(counter)}"


def _stream(store: MemoryStore, data: object = FILE, **options: object) -> object:
    return import_streaming(store, data, ids=_ids(), at=AT, by=BY, **options)  # type: ignore[arg-type]


def _stored(store: MemoryStore) -> list[str]:
    with store.unit_of_work() as uow:
        return sorted(str(lead.id) for lead in uow.leads.stream())


def test_rows_are_created_skipped_as_in_file_duplicates_and_reported_in_order() -> None:
    store = MemoryStore()
    report = import_streaming(store, FILE, ids=_ids(), at=AT, by=BY, batch_size=2)  # type: ignore[arg-type]
    assert [o.row for o in report.outcomes] == [2, 3, 4, 5]
    assert [o.status for o in report.outcomes] == [
        RowStatus.CREATED, RowStatus.CREATED, RowStatus.SKIPPED, RowStatus.CREATED,
    ]  # fmt: skip
    assert report.outcomes[2].skip_reason is SkipReason.DUPLICATE_IN_FILE
    assert report.outcomes[2].reason == "duplicate of row 2"
    assert [o.lead_id for o in report.outcomes if o.status is RowStatus.CREATED] == [
        LeadId("L-1"), LeadId("L-2"), LeadId("L-3"),
    ]  # fmt: skip
    assert report.batches == 2
    assert report.source == "<data>"
    assert _stored(store) == ["L-1", "L-2", "L-3"]


@pytest.mark.parametrize("size", [0, -1, True, 1.5])
def test_a_bad_batch_size_is_refused_before_anything_is_read(size: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        _stream(MemoryStore(), batch_size=size)
    assert caught.value.field == "batch_size"


def test_the_policy_batch_size_is_the_default() -> None:
    report = _stream(MemoryStore(), policy=ImportPolicy(batch_size=3))
    assert report.batches == 2  # type: ignore[attr-defined]


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        import_streaming(MemoryStore(), FILE, ids=_ids(), at=datetime(2026, 11, 2), by=BY)  # type: ignore[arg-type]
    assert caught.value.field == "at"


def test_a_check_of_another_store_is_refused() -> None:
    other = MemoryStore()
    check = EngineDuplicateCheck.from_store(other, key_store=MemoryKeyStore(), leads=True)
    with pytest.raises(InvalidValue) as caught:
        _stream(MemoryStore(), duplicates=check)
    assert caught.value.field == "target"


def test_a_source_over_a_one_shot_stream_is_refused_before_anything_is_written() -> None:
    store = MemoryStore()
    with pytest.raises(MalformedSource, match="read once"):
        _stream(store, CsvSource(io.BytesIO(FILE)))
    assert _stored(store) == []
    assert _stream(store, io.BytesIO(FILE)).rows == 4  # type: ignore[attr-defined]


class _Changing:
    """A source whose rows differ on the second read (the file changed meanwhile)."""

    def __init__(self, second: list[SourceRow]) -> None:
        self._inner = open_source(FILE)
        self._reads = 0
        self._second = second

    @property
    def name(self) -> str:
        return "changing.csv"

    @property
    def headers(self) -> tuple[str, ...]:
        return self._inner.headers

    def rows(self) -> Iterator[SourceRow]:
        self._reads += 1
        return iter(self._second) if self._reads == 2 else self._inner.rows()


def test_a_file_that_changed_between_the_reads_stops_the_import() -> None:
    store = MemoryStore()
    rows = list(open_source(FILE).rows())
    with pytest.raises(ImportInterrupted) as caught:
        _stream(store, _Changing([rows[0], rows[2]]), batch_size=1)
    assert isinstance(caught.value.cause, MalformedSource)
    assert caught.value.checkpoint.position == 1  # the first batch was committed
    assert _stored(store) == ["L-1"]


def test_a_file_with_fewer_rows_on_the_second_read_stops_after_the_last() -> None:
    store = MemoryStore()
    rows = list(open_source(FILE).rows())
    with pytest.raises(ImportInterrupted) as caught:
        _stream(store, _Changing(rows[:2]))
    assert isinstance(caught.value.cause, MalformedSource)
    assert caught.value.checkpoint.position == 2


def test_a_failing_batch_is_rolled_back_and_the_checkpoint_holds_the_committed_ones() -> None:
    store = MemoryStore()
    counter = itertools.count(1)

    def ids() -> str:
        number = next(counter)
        if number == 3:
            raise RuntimeError("no more ids")
        return f"L-{number}"

    with pytest.raises(ImportInterrupted) as caught:
        import_streaming(store, FILE, ids=ids, at=AT, by=BY, batch_size=2)
    assert isinstance(caught.value.cause, RuntimeError)
    checkpoint = caught.value.checkpoint
    assert checkpoint.position == 2
    assert [o.status for o in checkpoint.outcomes] == [RowStatus.CREATED, RowStatus.CREATED]
    assert _stored(store) == ["L-1", "L-2"]


class _Meddling(_Changing):
    """A source that, before the second read, changes a stored lead (another user)."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__([])
        self._store = store

    def rows(self) -> Iterator[SourceRow]:
        self._reads += 1
        if self._reads == 2:
            with self._store.unit_of_work() as uow:
                lead = uow.leads.get(LeadId("S-1"))
                uow.leads.save(lead.update(LeadPatch(topic="Changed"), at=AT, by=BY))
                uow.commit()
        return self._inner.rows()


def test_an_update_whose_lead_changed_since_it_was_planned_is_a_conflict() -> None:
    store = MemoryStore()
    patch = LeadPatch(topic="Old", name=PersonName(last="Ek"), email=EmailAddress("bo@ek.se"))
    with store.unit_of_work() as uow:
        uow.leads.add(Lead.create(LeadId("S-1"), patch, at=AT, by=BY))
        uow.commit()
    policy = ImportPolicy(on_existing=ExistingAction.UPDATE)
    with pytest.raises(ImportInterrupted) as caught:
        _stream(store, _Meddling(store), policy=policy)
    assert isinstance(caught.value.cause, ConcurrencyConflict)
    assert _stored(store) == ["S-1"]
    report = _stream(store, policy=policy)
    assert report.outcomes[1].status is RowStatus.UPDATED  # type: ignore[attr-defined]


def test_progress_reports_the_plan_then_the_write_with_the_totals() -> None:
    seen: list[ImportProgress] = []
    _stream(MemoryStore(), progress=seen.append, batch_size=2)
    phases = [(p.phase, p.done, p.total) for p in seen]
    assert phases[0] == ("plan", 4, 4)
    assert phases[-1] == ("write", 4, 4)
    assert ("write", 2, 4) in phases
    assert all(p.phase == "write" for p in seen[1:])
