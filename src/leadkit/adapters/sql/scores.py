"""Rescoring a page of leads in SQL: one read, one ``UPDATE`` of the score per page.

:func:`rescore_page` is ``SqlLeadRepository.rescore_page`` (the
:class:`~leadkit.rescoring.RescoringRepository` port). It takes the write transaction first
(on SQLite the write lock, so nothing changes between the read and the write), reads the page
like ``scan``, decodes and rescores the leads of the shard and writes, for each changed one,
only what scoring changes: the score fields of the JSON document, the ``score_key`` column and
the version, ``WHERE id = ... AND version = <the version read>``. One statement per page:
``executemany`` on SQLite, ``UPDATE ... FROM unnest(<arrays>)`` on PostgreSQL. Fewer rows
updated than sent means a lead changed or went away: the unit of work is rolled back (all
or none) and ConcurrencyConflict or NotFound raised.

The new document is the stored one with the text of its five score fields replaced
(:class:`ScoreDocuments`): the converter writes a lead's fields in one order, the score
fields between ``manual_score`` and ``created_at`` and the version last, so the stored text
with the score fields' text swapped is exactly what encoding the rescored lead would write.
The swap checks that the text it replaces is the encoding of the score read; a document
that does not look so (written by another version, edited by hand) is encoded in full from
the rescored lead instead. Either way the stored document equals the one the whole-lead path
(``save_many``) writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final, NoReturn, Protocol

from sqlalchemy import bindparam, update

from leadkit.adapters.sql.queries import read_cursor
from leadkit.adapters.sql.schema import leads
from leadkit.errors import ConcurrencyConflict, NotFound
from leadkit.events import LeadScored
from leadkit.fastcodec import compile_evolver
from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.ports import LeadQuery, check_scan_limit, encode_cursor, score_sort_value
from leadkit.rescoring import RescoredPage
from leadkit.serialization import LeadkitConverter
from leadkit.shards import Shard
from leadkit.values import LeadId


class _LeadRows(Protocol):
    """What rescoring uses of ``leadkit.adapters.sql.lead_repository.SqlLeadRepository`` (which
    imports this module)."""

    _uow: Any
    _store: Any

    def _fetch(
        self, query: LeadQuery, limit: int, position: tuple[str, str] | None
    ) -> Sequence[Any]: ...
    def _decode(self, lead_id: str, version: int, document: str) -> Lead: ...
    def _write_failed(
        self, error: BaseException, action: str, key: Any, expected: int
    ) -> NoReturn: ...
    def _version_of(self, conn: Any, lead_id: LeadId) -> int | None: ...


__all__ = ["ScoreDocuments", "rescore_page"]

_ScoreKey = tuple[Decimal | None, int | None, Rating | None, str | None, int | None]
_SCORE_FIELDS: Final = ("score", "stars", "score_rating", "score_model", "score_model_version")
_with_score: Final = compile_evolver(Lead, *_SCORE_FIELDS, "version", "pending_events")
_START: Final = ',"score":'
_END: Final = ',"created_at":'
_MEMO_LIMIT: Final = 4096

_SQLITE_UPDATE: Final = (
    "UPDATE leads SET version = ?, document = ?, score_key = ? WHERE id = ? AND version = ?"
)
_PG_UPDATE: Final = (
    "UPDATE leads AS l SET version = u.version, document = u.document, score_key = u.score_key "
    "FROM unnest(%s::text[], %s::int[], %s::int[], %s::text[], %s::text[]) "
    "AS u(id, expected, version, document, score_key) "
    "WHERE l.id = u.id AND l.version = u.expected"
)
_UPDATE: Final = (
    update(leads)
    .where(leads.c.id == bindparam("key"), leads.c.version == bindparam("expected"))
    .values(
        version=bindparam("new_version"),
        document=bindparam("new_document"),
        score_key=bindparam("new_score_key"),
    )
)


class ScoreDocuments:
    """The stored document of a rescored lead, from the stored document of the lead read.

    Keeps the encoded text of the score fields per distinct score (a model gives few), so a
    rescored document costs two searches and a join. Raises what the converter raises for
    a lead it cannot encode (nothing for a stored one).
    """

    __slots__ = ("_converter", "_texts")

    def __init__(self, converter: LeadkitConverter) -> None:
        self._converter = converter
        self._texts: dict[_ScoreKey, str] = {}

    def document(
        self, lead: Lead, document: str, event: LeadScored, whole: Callable[[], Lead] | None = None
    ) -> str:
        """The document of ``lead`` (stored as ``document``, version ``lead.version``) with
        the score of ``event`` recorded and the version one higher. ``whole()`` gives the
        whole lead when ``lead`` has only some fields set (it is encoded when need be)."""
        if whole is None:
            whole = lambda: lead  # noqa: E731
        score = event.score
        new: _ScoreKey = (
            score.value,
            score.stars,
            score.rating,
            score.model_id,
            score.model_version,
        )
        old: _ScoreKey = (
            lead.score,
            lead.stars,
            lead.score_rating,
            lead.score_model,
            lead.score_model_version,
        )
        tail = f',"version":{lead.version}}}}}'
        start = document.rfind(_START)
        end = document.rfind(_END)
        if (
            0 < start < end
            and document.endswith(tail)
            and document[start:end] == self._text(whole, old)
        ):
            version = f',"version":{lead.version + 1}}}}}'
            return (
                f"{document[:start]}{self._text(whole, new)}{document[end : -len(tail)]}{version}"
            )
        return self._full(whole(), new)

    def _full(self, lead: Lead, score: _ScoreKey) -> str:
        return self._converter.dumps(_with_score(lead, *score, lead.version + 1, ()))

    def _text(self, whole: Callable[[], Lead], score: _ScoreKey) -> str:
        """The encoded score fields (``,"score":...`` up to ``score_model_version``'s value)."""
        found = self._texts.get(score)
        if found is None:
            text = self._full(whole(), score)
            found = text[text.rfind(_START) : text.rfind(_END)]
            if len(self._texts) >= _MEMO_LIMIT:
                self._texts.clear()
            self._texts[score] = found
        return found


def rescore_page(
    repository: _LeadRows,
    query: LeadQuery,
    *,
    limit: int,
    after: str | None,
    shard: Shard | None,
    rescore: Callable[[Lead], LeadScored | None],
) -> RescoredPage:
    """See :meth:`leadkit.rescoring.RescoringRepository.rescore_page`."""
    check_scan_limit(limit)
    position = read_cursor(after, query) if after is not None else None
    uow = repository._uow
    store = repository._store
    conn = uow._writer()
    rows = repository._fetch(query, limit + 1, position)
    more = len(rows) > limit
    rows = rows[:limit]
    documents = _documents(store._converter)
    fields: frozenset[str] | None = getattr(rescore, "fields", None)
    reader = None if fields is None else store._converter.lead_reader(fields)
    seen = 0
    events: list[LeadScored] = []
    updates: list[tuple[int, str, str, str, int]] = []
    for key, version, document, _ in rows:
        if shard is not None and not shard.contains(key):
            continue
        seen += 1
        lead = _read(repository, reader, key, version, document)
        try:
            event = rescore(lead)
        except AttributeError:  # read a field it did not list: give it the whole lead
            if reader is None:
                raise
            lead = repository._decode(key, version, document)
            event = rescore(lead)
        if event is None:
            continue
        events.append(event)
        whole = _whole(repository, lead, reader, key, version, document)
        new = documents.document(lead, document, event, whole)
        updates.append((version + 1, new, score_sort_value(event.score.value), key, version))
    if updates:
        try:
            written = _write(store, conn, updates)
        except store._driver_errors as e:
            _, _, _, key, version = updates[0]
            repository._write_failed(e, f"rescoring {len(updates)} leads", key, version)
        if written != len(updates):
            _conflict(repository, conn, updates)
        uow._record(events)
    cursor = (
        encode_cursor(query.sort, query.descending, (rows[-1][3], rows[-1][0])) if more else None
    )
    return RescoredPage(seen, len(updates), cursor)


def _read(
    repository: _LeadRows,
    reader: Callable[[str], Lead] | None,
    key: str,
    version: int,
    document: str,
) -> Lead:
    """The stored lead, with only the fields ``reader`` reads when there is one (any
    document it does not take, or of another version than the row, is read whole)."""
    if reader is not None:
        try:
            lead = reader(document)
            if lead.version == version and type(version) is int:
                return lead
        except Exception:  # the whole read decides (and names the problem)
            pass
    return repository._decode(key, version, document)


def _whole(
    repository: _LeadRows,
    lead: Lead,
    reader: Callable[[str], Lead] | None,
    key: str,
    version: int,
    document: str,
) -> Callable[[], Lead]:
    """``whole()``: the whole stored lead (``lead`` itself unless it was read in part)."""
    if reader is None:
        return lambda: lead
    return lambda: repository._decode(key, version, document)


_DOCUMENTS: dict[int, ScoreDocuments] = {}


def _documents(converter: LeadkitConverter) -> ScoreDocuments:
    """One :class:`ScoreDocuments` per converter (the process's stores share one)."""
    found = _DOCUMENTS.get(id(converter))
    if found is None or found._converter is not converter:
        found = _DOCUMENTS[id(converter)] = ScoreDocuments(converter)
    return found


def _write(store: Any, conn: Any, updates: list[tuple[int, str, str, str, int]]) -> int:
    """Run the one ``UPDATE`` of the page; the number of rows it changed."""
    if store._sqlite:
        cursor = conn.connection.driver_connection.cursor()
        cursor.executemany(_SQLITE_UPDATE, updates)
        return int(cursor.rowcount)
    if conn.dialect.name == "postgresql":
        ordered = sorted(updates, key=lambda u: u[3])  # row locks in id order
        versions, documents, score_keys, keys, expected = zip(*ordered, strict=True)
        cursor = conn.connection.driver_connection.cursor()
        arrays = (list(keys), list(expected), list(versions), list(documents), list(score_keys))
        cursor.execute(_PG_UPDATE, arrays)
        return int(cursor.rowcount)
    result = conn.execute(
        _UPDATE,
        [
            {"key": k, "expected": e, "new_version": v, "new_document": d, "new_score_key": s}
            for v, d, s, k, e in updates
        ],
    )
    return int(result.rowcount)


def _conflict(
    repository: _LeadRows, conn: Any, updates: list[tuple[int, str, str, str, int]]
) -> NoReturn:
    """Roll the unit of work back and raise for the first lead of ``updates`` whose row
    was not updated."""
    found: list[tuple[str, int, int | None]] = [
        (key, expected, repository._version_of(conn, LeadId(key)))
        for _, _, _, key, expected in updates
    ]
    repository._uow.rollback()
    for key, expected, actual in found:
        if actual is None:
            raise NotFound("lead", LeadId(key))
        if actual != expected + 1:
            raise ConcurrencyConflict(LeadId(key), expected, actual)
    raise ConcurrencyConflict(LeadId(updates[0][3]), updates[0][4], None)
