"""A :class:`~leadkit.ports.LeadQuery` as SQLAlchemy Core: filters, order and keyset.

Everything here is portable Core (no dialect-specific SQL): ``IN`` lists, ``LIKE`` with
escaping, and a row-value comparison ``(sort, id) > (:value, :id)`` for the keyset, which
SQLite (3.15+) and PostgreSQL both evaluate through the view indexes.

The score sort puts the leads without a score (``score_key`` NULL) last in both directions,
as :func:`leadkit.ports.sort_key` does with its stand-in text for them (``~`` ascending, the
empty text descending). It reads two index ranges and merges them: the scored leads in
``(score_key, id)`` order, then the unscored ones in ``id`` order, each reporting the value
``sort_key`` gives it, so the cursors are the same as the in-memory store's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)

from leadkit.adapters.sql.rows import utc_text
from leadkit.adapters.sql.schema import leads
from leadkit.errors import InvalidValue
from leadkit.ports import LeadQuery, LeadSort, decode_cursor, fold_search, score_sort_value

__all__ = ["SORT_COLUMNS", "count_statement", "page_statement", "read_cursor"]

SORT_COLUMNS: Final[dict[LeadSort, ColumnElement[str]]] = {
    LeadSort.CREATED_AT: leads.c.created_at,
    LeadSort.MODIFIED_AT: leads.c.modified_at,
    LeadSort.TOPIC: leads.c.topic_key,
    LeadSort.COMPANY: leads.c.company_key,
    LeadSort.LAST_NAME: leads.c.last_name_key,
    LeadSort.ID: leads.c.id,
    LeadSort.SCORE: leads.c.score_key,
}


def _codes(column: ColumnElement[Any], values: Iterable[int | None]) -> ColumnElement[bool]:
    """``column IN (codes)``; ``None`` among the values also matches NULL."""
    wanted = set(values)
    codes = sorted(int(v) for v in wanted if v is not None)
    tests: list[ColumnElement[bool]] = []
    if len(codes) == 1:
        tests.append(column == codes[0])
    elif codes:
        tests.append(column.in_(codes))
    if None in wanted:
        tests.append(column.is_(None))
    if not tests:
        return false()
    return tests[0] if len(tests) == 1 else or_(*tests)


def _option_codes(values: Iterable[Any]) -> list[int | None]:
    return [None if v is None else int(v.code) for v in values]


def filters(query: LeadQuery, *, state: int | None = None) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``query``, all ANDed, following :meth:`LeadQuery.matches`;
    ``state`` replaces the query's states by that one state code."""
    c = leads.c
    where: list[ColumnElement[bool]] = []
    if query.owner_id is not None:
        where.append(c.owner_id == query.owner_id)
    if query.owner_ids is not None:
        owners = sorted(query.owner_ids)
        where.append(c.owner_id.in_(owners) if owners else false())
    if state is not None:
        where.append(c.state == state)
    elif query.states is not None:
        where.append(_codes(c.state, _option_codes(query.states)))
    if query.reason_codes is not None:
        where.append(_codes(c.reason_code, query.reason_codes))
    if query.ratings is not None:
        where.append(_codes(c.rating, _option_codes(query.ratings)))
    if query.sources is not None:
        where.append(_codes(c.source, _option_codes(query.sources)))
    if query.created_from is not None:
        where.append(c.created_at >= utc_text(query.created_from))
    if query.created_to is not None:
        where.append(c.created_at < utc_text(query.created_to))
    if query.modified_from is not None:
        where.append(c.modified_at >= utc_text(query.modified_from))
    if query.modified_to is not None:
        where.append(c.modified_at < utc_text(query.modified_to))
    # Exact: the texts compare as the Decimals do, and NULL (no score) satisfies neither.
    if query.score_min is not None:
        where.append(c.score_key >= score_sort_value(query.score_min))
    if query.score_max is not None:
        where.append(c.score_key <= score_sort_value(query.score_max))
    if query.text is not None:
        # The folded texts, as LeadQuery.matches compares them (accent-insensitive).
        where.append(c.search_key.contains(fold_search(query.text), autoescape=True))
    return where


def read_cursor(cursor: str, query: LeadQuery) -> tuple[str, str]:
    """The (sort value, id) a cursor carries. Raises InvalidValue naming ``after``."""
    value, last_id = decode_cursor(cursor, query.sort, query.descending)
    if not isinstance(value, str) or not isinstance(last_id, str):
        raise InvalidValue("after", cursor, "not a cursor returned by this query")
    return value, last_id


def page_statement(
    query: LeadQuery, limit: int, after: tuple[str, str] | None = None
) -> Select[str, int, str, str]:
    """``SELECT id, version, document, sort_value`` of the next ``limit`` matching leads in
    the query's order (sort value, then id), after the keyset position ``after``.

    With several states ("Closed leads": Qualified or Disqualified) no single index yields
    the order, so each state is read in index order up to ``limit`` rows and the parts are
    merged: ``(... WHERE state = 1 ...) UNION ALL (... WHERE state = 2 ...)`` sorted again,
    which sorts at most ``limit`` rows per state instead of every matching lead. The score
    sort reads its scored and unscored leads as two such parts (per state).
    """
    codes = sorted({s.code for s in query.states}) if query.states else []
    states: list[int | None] = list(codes) if len(codes) >= 2 else [None]
    parts = [part for state in states for part in _parts(query, state, limit, after)]
    if len(parts) == 1:
        return parts[0]
    merged = union_all(*(select(part.subquery()) for part in parts)).subquery()
    ordered = _order(query, merged.c.sort_value, merged.c.id)
    return (
        select(merged.c.id, merged.c.version, merged.c.document, merged.c.sort_value)
        .order_by(*ordered)
        .limit(limit)
    )


def _parts(
    query: LeadQuery, state: int | None, limit: int, after: tuple[str, str] | None
) -> list[Select[Any]]:
    """The index-ordered reads of one state (None: the query's states) to merge."""
    where = filters(query, state=state)
    if query.sort is not LeadSort.SCORE:
        return [_ordered(select(*_page_columns(query)), query, where, limit, after)]
    scored = _ordered(
        select(*_page_columns(query)),
        query,
        [*where, leads.c.score_key.is_not(None)],
        limit,
        after,
    )
    if query.score_min is not None or query.score_max is not None:
        return [scored]  # a score bound matches no unscored lead
    unscored = _unscored(query, where, limit, after)
    return [scored] if unscored is None else [scored, unscored]


def _unscored(
    query: LeadQuery,
    where: list[ColumnElement[bool]],
    limit: int,
    after: tuple[str, str] | None,
) -> Select[Any] | None:
    """The leads without a score, by id, reporting ``sort_key``'s stand-in text as their sort
    value; None when the cursor lies past all of them."""
    stand_in = score_sort_value(None, descending=query.descending)
    where = [*where, leads.c.score_key.is_(None)]
    if after is not None:
        value, last_id = after
        if value == stand_in:
            where.append(leads.c.id < last_id if query.descending else leads.c.id > last_id)
        elif (value < stand_in) == query.descending:  # compared as sort_key's texts are
            return None
    stmt = select(
        leads.c.id,
        leads.c.version,
        leads.c.document,
        literal(stand_in, Text()).label("sort_value"),
    ).where(*where)
    return stmt.order_by(leads.c.id.desc() if query.descending else leads.c.id.asc()).limit(limit)


def _page_columns(query: LeadQuery) -> tuple[ColumnElement[Any], ...]:
    sort = SORT_COLUMNS[query.sort]
    return (leads.c.id, leads.c.version, leads.c.document, sort.label("sort_value"))


def _order(
    query: LeadQuery, sort: ColumnElement[Any], key: ColumnElement[Any]
) -> list[ColumnElement[Any]]:
    columns = (key,) if query.sort is LeadSort.ID else (sort, key)
    return [col.desc() if query.descending else col.asc() for col in columns]


def _ordered(
    stmt: Select[Any],
    query: LeadQuery,
    where: list[ColumnElement[bool]],
    limit: int,
    after: tuple[str, str] | None,
) -> Select[Any]:
    sort = SORT_COLUMNS[query.sort]
    if after is not None:
        if query.sort is LeadSort.ID:
            position: ColumnElement[Any] = leads.c.id
            mark: ColumnElement[Any] | str = after[1]
        else:
            position, mark = tuple_(sort, leads.c.id), tuple_(*after)
        where = [*where, position < mark if query.descending else position > mark]
    if where:
        stmt = stmt.where(*where)
    return stmt.order_by(*_order(query, sort, leads.c.id)).limit(limit)


def count_statement(query: LeadQuery) -> Select[int]:
    """``SELECT count(*)`` of the leads matching ``query``."""
    stmt = select(func.count()).select_from(leads)
    where = filters(query)
    return stmt.where(*where) if where else stmt
