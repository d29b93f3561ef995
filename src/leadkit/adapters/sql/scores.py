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

On SQLite a :class:`~leadkit.rescoring.LeadRescorer` rescores by patterns: the page's read
also takes, in SQL, the JSON text of every field the model reads (one ``json_extract`` of
them all), the JSON type of each field it only tests for a value and, for each it only tests
for blankness, whether it is blank as ``str.strip()`` sees it (its JSON type when it is not a
text; :func:`leadkit.rescoring.presence_fields`), with ``json_extract`` and ``json_type`` only
(they share one parse of the document per row; ``->>`` parses it again). A document holding
the escape ``\\u0000`` is read whole (SQLite's JSON text of a string ends at it). The
rescorer's result is a function of that pattern and the lead's id, so the first lead of a
pattern is read and rescored as above and the others reuse its event (copied with their id),
the text of its score fields and its outbox payload (split around the id): per lead only a
few string operations. A lead whose document id, version or score text does not look as the
converter writes them takes the path above; a rescorer that reads a field it does not list
turns the patterns off (the memo lives on the rescorer,
:meth:`~leadkit.rescoring.LeadRescorer.patterns`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Final, NoReturn, Protocol

from sqlalchemy import bindparam, literal_column, select, update

from leadkit.adapters.sql.queries import page_statement, read_cursor
from leadkit.adapters.sql.schema import leads
from leadkit.errors import ConcurrencyConflict, NotFound
from leadkit.events import LeadScored
from leadkit.fastcodec import compile_evolver
from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.ports import LeadQuery, check_scan_limit, encode_cursor, score_sort_value
from leadkit.rescoring import LeadRescorer, RescoredPage, blank_tested
from leadkit.scoring.result import Score
from leadkit.serialization import LeadkitConverter
from leadkit.shards import Shard
from leadkit.values import _ID_PATTERN, LeadId


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
    "FROM unnest(%b::text[], %b::int[], %b::int[], %b::text[], %b::text[]) "
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
    patterns = _patterns_of(rescore, conn)
    if patterns is None:
        rows = repository._fetch(query, limit + 1, position)
    else:
        rows = _fetch_with_pattern(repository, patterns, query, limit + 1, position)
    more = len(rows) > limit
    rows = rows[:limit]
    page = _Page(repository, rescore, patterns)
    mine = rows if shard is None else [r for r in rows if shard.contains(r[0])]
    page.run(mine)
    updates = page.updates
    if updates:
        try:
            written = _write(store, conn, updates)
        except store._driver_errors as e:
            _, _, _, key, version = updates[0]
            repository._write_failed(e, f"rescoring {len(updates)} leads", key, version)
        if written != len(updates):
            _conflict(repository, conn, updates)
        uow._record(page.events, page.payloads)
    cursor = (
        encode_cursor(query.sort, query.descending, (rows[-1][3], rows[-1][0])) if more else None
    )
    return RescoredPage(len(mine), len(updates), cursor)


_Update = tuple[int, str, str, str, int]
_MISS: Final = object()
_OFF: Final = "off"
"""The key under which a pattern memo records that the rescorer read a field it did not
list (then no page uses the memo)."""
_PATTERN_LIMIT: Final = 65_536


class _Pattern:
    """What rescoring a lead of one pattern gives, less the lead's id: the event (a
    template: :meth:`event` makes the lead's), the score fields' text before and after, the
    score sort key and the outbox payload split around the lead's id (None: encode each)."""

    __slots__ = ("_template", "new_text", "old_text", "parts", "score_key")

    def __init__(self, event: LeadScored, old_text: str, new_text: str) -> None:
        self._template = event
        self.old_text = old_text
        self.new_text = new_text
        self.score_key = score_sort_value(event.score.value)
        self.parts: list[str] | None = None

    def event(self, lead_id: LeadId) -> LeadScored:
        """The template event with ``lead_id`` (in the event and its score): equal to the
        one the rescorer gives for the lead, built without running the constructors again
        (every other value is the template's, checked when it was built)."""
        return _clone(self._template, lead_id)


def _clone(t: LeadScored, lead_id: LeadId) -> LeadScored:
    """``t`` with ``lead_id`` in it and its score, field by field (a test pins the fields of
    both classes: a new one must be copied here)."""
    s = t.score
    score = _new(Score)
    _set(score, "lead_id", lead_id)
    _set(score, "value", s.value)
    _set(score, "stars", s.stars)
    _set(score, "max_stars", s.max_stars)
    _set(score, "rating", s.rating)
    _set(score, "source", s.source)
    _set(score, "model_id", s.model_id)
    _set(score, "model_version", s.model_version)
    _set(score, "explanation", s.explanation)
    event = _new(LeadScored)
    _set(event, "lead_id", lead_id)
    _set(event, "at", t.at)
    _set(event, "by", t.by)
    _set(event, "score", score)
    _set(event, "previous", t.previous)
    return event


_NUL: Final = "\\u0000"
"""The JSON escape of U+0000: SQLite's JSON functions end a string they return at it."""
_new: Final = object.__new__
_set: Final = object.__setattr__


class _Page:
    """One page's rescoring: per lead the event, the payload and the update row."""

    def __init__(
        self,
        repository: _LeadRows,
        rescore: Callable[[Lead], LeadScored | None],
        patterns: dict[Hashable, Any] | None,
    ) -> None:
        self._repository = repository
        self._rescore = rescore
        self._patterns = patterns
        converter = repository._store._converter
        self._converter = converter
        self._documents = _documents(converter)
        fields: frozenset[str] | None = getattr(rescore, "fields", None)
        self._reader = None if fields is None else converter.lead_reader(fields)
        self.reused = 0
        self.events: list[LeadScored] = []
        self.payloads: list[str | None] = []
        self.updates: list[_Update] = []

    def run(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rescore the leads of ``rows`` (id, version, document, sort value[, document id,
        pattern...]): by their pattern when it is known and the document looks as the
        converter writes it, else by reading the lead."""
        patterns = self._patterns
        if patterns is None:
            for row in rows:
                self.rescore(row, None)
            return
        events, payloads, updates = self.events, self.payloads, self.updates
        get, valid, join = patterns.get, _ID_PATTERN.fullmatch, str.join
        reused = 0
        for row in rows:
            key, version, document = row[0], row[1], row[2]
            if (
                row[4] != key
                or type(version) is not int
                or valid(key) is None
                or _NUL in document  # SQLite's JSON text of "\u0000" ends at it: no pattern
            ):
                self.rescore(row, None)
                continue
            values = row[5:]
            pattern = get(values, _MISS)
            if pattern is None:
                continue
            if pattern is _MISS:
                self.rescore(row, values)
                continue
            tail = f',"version":{version}}}}}'
            start = document.rfind(_START)
            end = document.rfind(_END)
            if not (
                0 < start < end
                and document.endswith(tail)
                and document[start:end] == pattern.old_text
            ):
                self.rescore(row, None)
                continue
            reused += 1
            lead_id = _new(LeadId)
            _set(lead_id, "value", key)
            events.append(pattern.event(lead_id))
            parts = pattern.parts
            payloads.append(None if parts is None else join(encode_basestring(key), parts))
            middle = document[end : -len(tail)]
            new = f'{document[:start]}{pattern.new_text}{middle},"version":{version + 1}}}}}'
            updates.append((version + 1, new, pattern.score_key, key, version))
        self.reused += reused

    def rescore(self, row: Sequence[Any], values: Hashable | None) -> None:
        """Rescore the lead of ``row`` by reading it; remember what its pattern ``values``
        gives (None: a lead whose pattern is not to be remembered)."""
        key, version, document = row[0], row[1], row[2]
        lead = _read(self._repository, self._reader, key, version, document)
        partial = self._reader is not None
        try:
            event = self._rescore(lead)
        except AttributeError:  # read a field it did not list: give it the whole lead
            if not partial:
                raise
            partial = False
            lead = self._repository._decode(key, version, document)
            event = self._rescore(lead)
        patterns = self._patterns
        if event is None:
            if patterns is not None and values is not None:
                self._remember(patterns, values, partial, None, lead, document)
            return
        payload = self._converter.dumps(event)
        if patterns is not None and values is not None:
            self._remember(patterns, values, partial, (event, payload), lead, document)
        whole = _whole(self._repository, lead, self._reader, key, version, document)
        new = self._documents.document(lead, document, event, whole)
        self.events.append(event)
        self.payloads.append(payload)
        self.updates.append((version + 1, new, score_sort_value(event.score.value), key, version))

    def _remember(
        self,
        patterns: dict[Hashable, Any],
        values: Hashable,
        partial: bool,
        scored: tuple[LeadScored, str] | None,
        lead: Lead,
        document: str,
    ) -> None:
        """Keep what rescoring a lead of this pattern gives (nothing after a lead whose
        rescoring read a field the rescorer does not list: the patterns are off then)."""
        if not partial:
            patterns.clear()
            patterns[_OFF] = True
            return
        if len(patterns) >= _PATTERN_LIMIT:
            patterns.clear()
        if scored is None:
            patterns[values] = None
            return
        event, payload = scored
        whole = _whole(self._repository, lead, self._reader, str(lead.id), lead.version, document)
        texts = self._documents
        old = texts._text(whole, _score_of(lead))
        new = texts._text(whole, _event_score(event))
        pattern = _Pattern(event, old, new)
        if (
            type(event) is LeadScored
            and type(event.score) is Score
            and pattern.event(event.lead_id) == event  # the template gives the same event
        ):
            pattern.parts = _payload_parts(self._converter, pattern, event, payload)
            patterns[values] = pattern


_PATTERN_OWNER: Final = "leadkit.adapters.sql.scores"


def _patterns_of(
    rescore: Callable[[Lead], LeadScored | None], conn: Any
) -> dict[Hashable, Any] | None:
    """The pattern memo of ``rescore`` on this database, or None when rescoring may not go
    by patterns (not a :class:`LeadRescorer`, a predictive model, not SQLite, or off)."""
    if type(rescore) is not LeadRescorer or rescore.fields is None:
        return None
    if conn.dialect.name != "sqlite" or sqlite3.sqlite_version_info < (3, 38):
        return None
    patterns = rescore.patterns((_PATTERN_OWNER, conn.dialect.name))
    if _OFF in patterns:
        return None
    if _COLUMNS not in patterns:
        patterns[_COLUMNS] = _pattern_columns(rescore)
    return patterns


_COLUMNS: Final = "columns"
"""The key under which a pattern memo keeps the SQL of its pattern columns."""


def _pattern_columns(rescore: LeadRescorer) -> str:
    """The SQL (SQLite) of the columns a lead's pattern is read from (its values from
    ``row[5]`` on): the document's lead id, the JSON texts of the fields' values in one
    array, the JSON type of each presence field's value, then whether each blank-tested
    one is blank (:func:`_blank_or_type`)."""
    fields = rescore.fields or frozenset()
    valued = sorted(fields - {"id", "version"} - rescore.presence)
    paths = ", ".join(f"'$.data.{name}'" for name in valued)  # 2 or more: an array
    # json_extract and json_type, not ->>: they share one parse of the document per row
    columns = [
        "json_extract(p.document, '$.data.id')",
        f"json_extract(p.document, '$.schema', {paths})",
    ]
    typed = sorted(f for f in rescore.presence if not blank_tested(f))
    columns += [f"json_type(p.document, '$.data.{name}')" for name in typed]
    texts = sorted(f for f in rescore.presence if blank_tested(f))
    columns += [_blank_or_type(f"'$.data.{name}'") for name in texts]
    return ", ".join(columns)


WHITESPACE: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""The characters ``str.strip()`` strips (``str.isspace``; a test pins them)."""


def _blank_or_type(path: str) -> str:
    """The SQL of a blank-tested field's column: for a JSON string whether it holds more
    than :data:`WHITESPACE` (1 or 0: ``bool(text.strip())``), else its JSON type as a blob
    (``b'null'``, ``b'integer'``...; NULL when absent): a value that is not a text never
    shares a pattern with a text, blank or not."""
    kind = f"json_type(p.document, {path})"
    spaces = f"char({', '.join(str(ord(c)) for c in WHITESPACE)})"
    text = f"trim(json_extract(p.document, {path}), {spaces}) <> ''"
    return f"CASE {kind} WHEN 'text' THEN {text} ELSE CAST({kind} AS BLOB) END"


def _fetch_with_pattern(
    repository: _LeadRows,
    patterns: dict[Hashable, Any],
    query: LeadQuery,
    limit: int,
    position: tuple[str, str] | None,
) -> Sequence[Any]:
    """The page's rows (id, version, document, sort value), each with its pattern columns."""
    page = page_statement(query, limit, position).subquery("p")
    statement = select(
        page.c.id, page.c.version, page.c.document, page.c.sort_value,
        literal_column(patterns[_COLUMNS]),
    )  # fmt: skip
    store = repository._store
    try:
        rows: Sequence[Any] = repository._uow._reader().execute(statement).all()
    except store._driver_errors as e:
        store._fail("querying leads", e)
        raise  # pragma: no cover (_fail raises)
    return rows


def _score_of(lead: Lead) -> _ScoreKey:
    return (lead.score, lead.stars, lead.score_rating, lead.score_model, lead.score_model_version)


def _event_score(event: LeadScored) -> _ScoreKey:
    s = event.score
    return (s.value, s.stars, s.rating, s.model_id, s.model_version)


_SENTINEL: Final = "zq0-rescore-pattern"


def _payload_parts(
    converter: LeadkitConverter, pattern: _Pattern, event: LeadScored, payload: str
) -> list[str] | None:
    """The outbox payload ``payload`` of ``event`` split around its lead id (each part the
    same for every lead of the pattern), checked with the pattern's event for a made-up id;
    None when the split does not give that event's payload (then each event is encoded)."""
    parts = payload.split(encode_basestring(event.lead_id.value))
    other = pattern.event(LeadId(_SENTINEL))
    if encode_basestring(_SENTINEL).join(parts) != converter.dumps(other):
        return None
    return parts


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
