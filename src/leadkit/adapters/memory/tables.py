"""The committed state of a :class:`~leadkit.adapters.memory.MemoryStore`: one table per record
type, the leads' secondary index (per owner and state, by creation time), and the sort keys
the queries order by (see :mod:`leadkit.adapters.memory`).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, Final, Generic, Protocol, TypeVar

import attrs

from leadkit.lead import Lead
from leadkit.ports import LeadQuery, LeadSort, sort_key
from leadkit.status import LeadState
from leadkit.values import LeadId


class _Versioned(Protocol):
    """What the store needs of a stored value: its key and its version."""

    @property
    def id(self) -> Hashable: ...

    @property
    def version(self) -> int: ...


K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=_Versioned)

_SortKey = tuple[Any, str]
_by_key: Final = itemgetter(0)

_Entry = tuple[int, str, Lead]
"""An index entry: ``created_at`` in microseconds since the epoch, the id text, the lead."""
_position: Final = itemgetter(0, 1)
"""An entry's place in its list: (microseconds, id), unique within a list."""

_INDEX_FILTERS: Final = frozenset({"owner_id", "states"})
_OTHER_FILTERS: Final = tuple(
    f.name
    for f in attrs.fields(LeadQuery)
    if f.name not in _INDEX_FILTERS and f.name not in ("sort", "descending")
)
"""The filters the index does not answer (every filter field added later counts as one)."""


def _index_answers(query: LeadQuery) -> bool:
    """True when the owner and states of ``query`` are its only filters: every lead of the
    owner's index lists for those states matches then, without asking ``matches``."""
    return all(getattr(query, name) is None for name in _OTHER_FILTERS)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_YEAR_1000: Final = (datetime(1000, 1, 1, tzinfo=UTC) - _EPOCH) // _MICROSECOND
_TIME_FIELDS: Final = {LeadSort.CREATED_AT: "created_at", LeadSort.MODIFIED_AT: "modified_at"}


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _time_text(micros: int) -> str:
    """The UTC text :func:`leadkit.ports.sort_key` gives the instant ``micros``."""
    return (_EPOCH + micros * _MICROSECOND).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _micros_key(key: _SortKey) -> _SortKey | None:
    """A cursor's (UTC text, id) as (microseconds, id), or None when the text is not one
    that a four-digit year gives."""
    text, last_id = key
    try:
        micros = _micros(datetime.fromisoformat(text).replace(tzinfo=UTC))
    except (ValueError, TypeError, OverflowError):
        return None
    if micros < _YEAR_1000 or _time_text(micros) != text:
        return None
    return micros, last_id


def _text_key(key: _SortKey) -> _SortKey:
    return _time_text(key[0]), key[1]


def _same_key(key: _SortKey) -> _SortKey:
    return key


def _keyed(
    leads: Iterable[Lead], sort: LeadSort, after: _SortKey | None, descending: bool
) -> tuple[list[tuple[_SortKey, Lead]], _SortKey | None, Callable[[_SortKey], _SortKey]]:
    """The leads with their sort keys, ``after`` in the same terms, and the function that
    turns a key back into the :func:`leadkit.ports.sort_key` form that cursors carry.

    The order is always that of ``sort_key``. For the datetime sorts the keys are
    microseconds since the epoch, several times cheaper to compute than ``sort_key``'s UTC
    text and in the same order while every year involved has four digits (the text is
    fixed-width then); otherwise ``sort_key`` itself is used (``descending`` places the
    leads without a score under the score sort).
    """
    field = _TIME_FIELDS.get(sort)
    leads = list(leads)
    if field is not None:
        cursor = None if after is None else _micros_key(after)
        if after is None or cursor is not None:
            keyed = [((_micros(getattr(lead, field)), lead.id.value), lead) for lead in leads]
            if all(key[0] >= _YEAR_1000 for key, _ in keyed):
                return keyed, cursor, _text_key
    return (
        [(sort_key(lead, sort, descending=descending), lead) for lead in leads],
        after,
        _same_key,
    )


# ---------------------------------------------------------------------------------------------
# Committed state


class _Table(Generic[K, V]):
    """The committed rows of one record type. Every method expects the store lock held."""

    def __init__(self) -> None:
        self.rows: dict[K, V] = {}

    def put(self, key: K, value: V) -> None:
        self.rows[key] = value

    def remove(self, key: K) -> None:
        self.rows.pop(key, None)

    def version(self, key: K) -> int | None:
        row = self.rows.get(key)
        return None if row is None else row.version

    def snapshot(self, exclude: Iterable[K]) -> list[V]:
        """Every committed row except those whose key is in ``exclude``."""
        skip = set(exclude)
        if not skip:
            return list(self.rows.values())
        return [row for key, row in self.rows.items() if key not in skip]

    def clear(self) -> None:
        self.rows.clear()


class _LeadTable(_Table[LeadId, Lead]):
    """Committed leads plus the secondary index: per owner id and state, the entries of the
    leads sorted by (created_at, id). Every method expects the store lock held.

    ``early`` counts the committed leads created before the year 1000: the index orders by
    microseconds, which is :func:`leadkit.ports.sort_key`'s order only for four-digit years,
    so the index walk is not used while there is one.
    """

    def __init__(self) -> None:
        super().__init__()
        self.by_owner: dict[str, dict[LeadState, list[_Entry]]] = {}
        self.early = 0

    def put(self, key: LeadId, value: Lead) -> None:
        entry = (_micros(value.created_at), key.value, value)  # may raise: nothing changed yet
        old = self.rows.get(key)
        if old is None:
            self._index(entry, value)
        elif old.owner.id == value.owner.id and old.state is value.state:
            entries = self.by_owner[value.owner.id][value.state]
            old_place = (_micros(old.created_at), key.value)
            at = bisect_left(entries, old_place, key=_position)
            if old_place == (entry[0], entry[1]):
                entries[at] = entry  # the same place: swap the lead in
            else:
                del entries[at]
                self._unearly(old_place[0])
                self._index(entry, value)
        else:
            self._unindex(old)
            self._index(entry, value)
        super().put(key, value)

    def remove(self, key: LeadId) -> None:
        old = self.rows.get(key)
        if old is not None:
            self._unindex(old)
        super().remove(key)

    def owned_by(
        self, owner_id: str, states: frozenset[LeadState] | None, exclude: set[str]
    ) -> list[Lead]:
        """The committed leads of ``owner_id`` in ``states`` (None: any), except those whose
        id text is in ``exclude``."""
        return [
            lead
            for entries in self._lists(owner_id, states)
            for _, key, lead in entries
            if key not in exclude
        ]

    def walk(
        self,
        owner_id: str,
        states: frozenset[LeadState] | None,
        *,
        descending: bool,
        after: tuple[int, str] | None,
        exclude: set[str],
        check: Callable[[Lead], bool] | None,
        need: int,
    ) -> list[tuple[_SortKey, Lead]]:
        """Up to ``need`` committed leads of ``owner_id`` in ``states`` (None: any) that pass
        ``check`` (None: all do), in (created_at, id) order (reversed with ``descending``),
        strictly after the position ``after``, skipping the ids in ``exclude``; each with its
        (microseconds, id) key. Reads the index lists from the position on and stops early."""
        runs: list[Iterator[_Entry]] = []
        for entries in self._lists(owner_id, states):
            if descending:
                end = len(entries) if after is None else bisect_left(entries, after, key=_position)
                runs.append(map(entries.__getitem__, range(end - 1, -1, -1)))
            else:
                start = 0 if after is None else bisect_right(entries, after, key=_position)
                runs.append(map(entries.__getitem__, range(start, len(entries))))
        if not runs:
            return []
        ordered = (
            runs[0] if len(runs) == 1 else heapq.merge(*runs, key=_position, reverse=descending)
        )
        found: list[tuple[_SortKey, Lead]] = []
        for created, key, lead in ordered:
            if key in exclude or (check is not None and not check(lead)):
                continue
            found.append(((created, key), lead))
            if len(found) >= need:
                break
        return found

    def clear(self) -> None:
        super().clear()
        self.by_owner.clear()
        self.early = 0

    def _lists(self, owner_id: str, states: frozenset[LeadState] | None) -> list[list[_Entry]]:
        per_state = self.by_owner.get(owner_id)
        if not per_state:
            return []
        if states is None:
            return list(per_state.values())
        return [entries for state, entries in per_state.items() if state in states]

    def _index(self, entry: _Entry, lead: Lead) -> None:
        per_state = self.by_owner.setdefault(lead.owner.id, {})
        insort(per_state.setdefault(lead.state, []), entry, key=_position)
        if entry[0] < _YEAR_1000:
            self.early += 1

    def _unindex(self, lead: Lead) -> None:
        place = (_micros(lead.created_at), lead.id.value)
        per_state = self.by_owner[lead.owner.id]
        entries = per_state[lead.state]
        del entries[bisect_left(entries, place, key=_position)]
        if not entries:
            del per_state[lead.state]
            if not per_state:
                del self.by_owner[lead.owner.id]
        self._unearly(place[0])

    def _unearly(self, micros: int) -> None:
        if micros < _YEAR_1000:
            self.early -= 1
