"""The SQL schema of the leadkit store and its migrations.

Tables
------
``leads``
    One row per lead: a column for every field a :class:`~leadkit.ports.LeadQuery` filters or
    sorts on, and ``document``, the whole lead as the JSON text written by
    :func:`leadkit.serialization.make_converter` (the document is what ``get`` reads back).

    - ``created_at`` / ``modified_at`` hold UTC ISO text, ``2024-05-01T09:30:00.000000``:
      exactly the value :func:`leadkit.ports.sort_key` sorts on, so the database order, the
      in-memory order and the keyset cursors (which carry that value) agree. Fixed-width
      UTC text sorts chronologically with a plain byte comparison on every backend; SQLite
      has no timestamp type anyway.
    - ``topic_key``, ``company_key``, ``last_name_key``, ``full_name_key``, ``email_key``
      hold case-folded text: the sort keys and the haystacks of the text filter.
    - ``state`` is the Dynamics 365 ``statecode``; ``reason_code``, ``rating`` and
      ``source`` are option-set codes.
    - ``search_key`` holds :func:`leadkit.ports.search_key` (the folded name, company and
      e-mail, one per line): text filters match it accent-insensitively (migration 5).
    - ``score_key`` holds ``Lead.score`` as :func:`leadkit.ports.score_sort_value` text, NULL
      for a lead without a score (added by migration 3). Why text and not a number: a REAL
      column rounds (``0.1`` is not a binary fraction), so filters and order would not be
      exact for Decimals; a fixed-scale integer (score x 10^k) is exact only up to ``k``
      decimals and a fixed magnitude, while ``Lead.score`` may be any Decimal. The sortable
      text is exact for every Decimal, compares with a plain byte comparison on every
      backend (as the timestamps do), equal Decimals (``85``, ``85.0``) give equal texts, and
      it is the very value the in-memory store and the keyset cursors sort on. The document
      still holds the score itself; the column is only for filtering and sorting.

    Text that is sorted on uses the ``C`` collation on PostgreSQL (code-point order, like
    Python); SQLite's default ``BINARY`` collation already compares that way.
``lead_notes``, ``lead_activities``, ``lead_stakeholders``
    The lead's timeline and stakeholder links as real rows (a note's attachment metadata in
    ``attachment_*`` columns), rewritten with every store of the lead and removed by
    ``ON DELETE CASCADE`` with it. Keyed by (``lead_id``, ``position``) so a lead built by
    hand with repeated numbers still stores.
``accounts``, ``contacts``, ``opportunities``
    ``id``, ``version``, ``originating_lead`` and the converter's JSON ``document``;
    ``opportunities.customer_kind`` records whether the customer id names an account or a
    contact (the JSON text alone does not say).
``idempotency_keys`` (migration 6)
    One row per idempotency key: the request's fingerprint, the result's JSON text and the
    UTC times it was stored and expires (``expires_at`` indexed for pruning). Written in the
    same transaction as the change it guards.
``outbox`` (migration 6)
    Every committed event: ``position`` (an auto-incremented integer, the outbox order),
    a stable ``event_id``, ``lead_id``, ``type``, the converter's JSON ``payload``, the
    event's ``occurred_at``, and the delivery state (``attempts``, ``leased_until``,
    ``delivered_at``, UTC text; ``(delivered_at, position)`` indexed so that the waiting
    events are one index range). Written at commit, in the transaction of the changes.
``schema_version``
    One row per applied migration.

Migrations
----------
A small ordered list, :data:`MIGRATIONS`, applied on open inside one write transaction (a
second process opening the same file waits, then finds the work done). We chose this over
Alembic: no extra dependency for a library whose embedded default must work after
``pip install "leadkit[sql]"``, the migrations ship inside the wheel and run without a
separate command or configuration, and the schema is small. A database written by a newer
leadkit (a version above :data:`DATABASE_SCHEMA_VERSION`) is refused, never downgraded.

When a later migration alters a table, freeze the earlier definition inside the migration that
created it (migrations must replay the history, not today's metadata): migration 1 creates the
``leads`` table as it was in version 1, and migration 3 adds ``score_key`` to it, fills it from
the stored documents and creates its index, in the one migration transaction.

Foreign files
-------------
A leadkit SQLite file carries :data:`APPLICATION_ID` in its header (``PRAGMA
application_id``); a file with another id, or with tables but no ``schema_version``, is not
ours and is never modified.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import attrs
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.schema import CreateColumn, CreateIndex, CreateTable
from sqlalchemy.types import TypeEngine

from leadkit.ports import fold_search, score_sort_value

__all__ = [
    "APPLICATION_ID",
    "CHILD_TABLES",
    "DATABASE_SCHEMA_VERSION",
    "INDEXES",
    "MIGRATIONS",
    "OUTBOX_INDEXES",
    "RECORD_TABLES",
    "SCORE_INDEXES",
    "Migration",
    "accounts",
    "contacts",
    "idempotency_keys",
    "lead_activities",
    "lead_columns_at",
    "lead_notes",
    "lead_stakeholders",
    "leads",
    "merges",
    "metadata",
    "migrate",
    "opportunities",
    "outbox",
    "record_merges",
    "schema_version",
]

APPLICATION_ID: Final = 0x4C4B4954
"""``PRAGMA application_id`` of a leadkit SQLite file ("LKIT")."""


def _key_text(length: int | None = None) -> TypeEngine[str]:
    """Text sorted in code-point order on every backend (``C`` collation on PostgreSQL)."""
    plain: TypeEngine[str] = String(length) if length else Text()
    exact: TypeEngine[str] = String(length, collation="C") if length else Text(collation="C")
    return plain.with_variant(exact, "postgresql")


_ID = 100
_STAMP = 32

metadata: Final = MetaData()

schema_version: Final = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", String(_STAMP), nullable=False),
)

leads: Final = Table(
    "leads",
    metadata,
    Column("id", _key_text(_ID), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("reason_code", Integer, nullable=False),
    Column("owner_id", String(_ID), nullable=False),
    Column("rating", Integer, nullable=True),
    Column("source", Integer, nullable=True),
    Column("created_at", _key_text(_STAMP), nullable=False),
    Column("modified_at", _key_text(_STAMP), nullable=False),
    Column("topic_key", _key_text(), nullable=False),
    Column("company_key", _key_text(), nullable=False),
    Column("last_name_key", _key_text(), nullable=False),
    Column("full_name_key", Text, nullable=False),
    Column("email_key", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("score_key", _key_text(), nullable=True),  # migration 3; after document, as added
    Column("search_key", Text, nullable=True),  # migration 5
)


def _lead_fk() -> Column[str]:
    return Column(
        "lead_id",
        _key_text(_ID),
        ForeignKey("leads.id", ondelete="CASCADE"),
        primary_key=True,
    )


lead_notes: Final = Table(
    "lead_notes",
    metadata,
    _lead_fk(),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("note_id", Integer, nullable=False),
    Column("at", String(_STAMP), nullable=False),
    Column("by_id", String(_ID), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("edited_at", String(_STAMP), nullable=True),
    Column("edited_by_id", String(_ID), nullable=True),
    Column("attachment_file_name", Text, nullable=True),
    Column("attachment_media_type", Text, nullable=True),
    Column("attachment_size", BigInteger, nullable=True),
    Column("attachment_sha256", String(64), nullable=True),
)

lead_activities: Final = Table(
    "lead_activities",
    metadata,
    _lead_fk(),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("activity_id", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("subject", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("at", String(_STAMP), nullable=False),
    Column("by_id", String(_ID), nullable=False),
    Column("due_at", String(_STAMP), nullable=True),
    Column("done_at", String(_STAMP), nullable=True),
)

lead_stakeholders: Final = Table(
    "lead_stakeholders",
    metadata,
    _lead_fk(),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("contact_id", String(_ID), nullable=False),
    Column("role", String(100), nullable=False),
)


def _record_table(name: str, *extra: Column[str]) -> Table:
    return Table(
        name,
        metadata,
        Column("id", _key_text(_ID), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("originating_lead", String(_ID), nullable=True),
        *extra,
        Column("document", Text, nullable=False),
    )


accounts: Final = _record_table("accounts")
contacts: Final = _record_table("contacts")
opportunities: Final = _record_table(
    "opportunities", Column("customer_kind", String(10), nullable=False)
)

merges: Final = _record_table("merges")  # migration 4; ``originating_lead`` is the master
record_merges: Final = _record_table("record_merges")  # migration 7: contact and account merges

# Migration 6.
idempotency_keys: Final = Table(
    "idempotency_keys",
    metadata,
    Column("key", _key_text(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", String(_STAMP), nullable=False),
    Column("expires_at", _key_text(_STAMP), nullable=False),
)

outbox: Final = Table(
    "outbox",
    metadata,
    # INTEGER on SQLite, so that the column is the rowid (auto-incremented); BIGINT elsewhere.
    Column(
        "position",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("event_id", String(40), nullable=False, unique=True),
    Column("lead_id", String(_ID), nullable=False),
    Column("type", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("occurred_at", String(_STAMP), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("leased_until", _key_text(_STAMP), nullable=True),
    Column("delivered_at", _key_text(_STAMP), nullable=True),
)

CHILD_TABLES: Final = (lead_notes, lead_activities, lead_stakeholders)
RECORD_TABLES: Final = (accounts, contacts, opportunities)

# Indexes, created by migration 2. The views: "My open leads" (owner, Open, newest first),
# "Closed leads" (state, most recently changed first), "All leads" (oldest first).
INDEXES: Final = (
    Index("ix_leads_owner_state_created", leads.c.owner_id, leads.c.state, leads.c.created_at,
          leads.c.id),
    Index("ix_leads_state_modified", leads.c.state, leads.c.modified_at, leads.c.id),
    Index("ix_leads_state_created", leads.c.state, leads.c.created_at, leads.c.id),
    Index("ix_leads_created", leads.c.created_at, leads.c.id),
    Index("ix_leads_modified", leads.c.modified_at, leads.c.id),
    Index("ix_leads_topic", leads.c.topic_key, leads.c.id),
    Index("ix_leads_company", leads.c.company_key, leads.c.id),
    Index("ix_leads_last_name", leads.c.last_name_key, leads.c.id),
    Index("ix_lead_stakeholders_contact", lead_stakeholders.c.contact_id),
    Index("ix_accounts_originating_lead", accounts.c.originating_lead),
    Index("ix_contacts_originating_lead", contacts.c.originating_lead),
    Index("ix_opportunities_originating_lead", opportunities.c.originating_lead),
)  # fmt: skip

# Created by migration 3: the score sort and score range filters read an index range (the
# unscored leads, NULL, sit together in it, ordered by id, for the end of a score sort).
SCORE_INDEXES: Final = (Index("ix_leads_score", leads.c.score_key, leads.c.id),)

# Created by migration 6 with their tables: pruning reads the expiry range; publishers read
# the waiting events (delivered_at NULL) in position order.
OUTBOX_INDEXES: Final = (
    Index("ix_idempotency_keys_expires", idempotency_keys.c.expires_at),
    Index("ix_outbox_waiting", outbox.c.delivered_at, outbox.c.position),
)


@attrs.frozen
class Migration:
    """One step of the schema history: ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


# The ``leads`` table as migration 1 created it, frozen: later migrations alter it.
_leads_v1: Final = Table(
    "leads",
    MetaData(),
    Column("id", _key_text(_ID), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("reason_code", Integer, nullable=False),
    Column("owner_id", String(_ID), nullable=False),
    Column("rating", Integer, nullable=True),
    Column("source", Integer, nullable=True),
    Column("created_at", _key_text(_STAMP), nullable=False),
    Column("modified_at", _key_text(_STAMP), nullable=False),
    Column("topic_key", _key_text(), nullable=False),
    Column("company_key", _key_text(), nullable=False),
    Column("last_name_key", _key_text(), nullable=False),
    Column("full_name_key", Text, nullable=False),
    Column("email_key", Text, nullable=False),
    Column("document", Text, nullable=False),
)

_LEAD_COLUMNS_ADDED: Final[dict[int, frozenset[str]]] = {
    1: frozenset(c.key for c in _leads_v1.c),
    3: frozenset({"score_key"}),
    5: frozenset({"search_key"}),
}


def lead_columns_at(version: int) -> frozenset[str]:
    """The columns the ``leads`` table has at schema ``version`` (what opening a database
    of that version may expect before migrating it). Raises nothing: a version below 1 has
    none, one above :data:`DATABASE_SCHEMA_VERSION` has today's."""
    return frozenset().union(
        *(columns for added, columns in _LEAD_COLUMNS_ADDED.items() if added <= version)
    )


def _create_tables(conn: Connection) -> None:
    for table in (_leads_v1, *CHILD_TABLES, *RECORD_TABLES):
        conn.execute(CreateTable(table))
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")


def _create_indexes(conn: Connection) -> None:
    for index in INDEXES:
        conn.execute(CreateIndex(index))


_BACKFILL_BATCH: Final = 1000


def _document_score(document: str) -> str | None:
    """The ``score_key`` of a stored lead document, read with ``json`` (the converter writes
    a Decimal as its string and reads back only finite ones; building a converter and
    decoding whole leads would cost far more). None for no score, and for a document that
    cannot be read: reading that lead fails loudly anyway, and the column may stay NULL."""
    try:
        value = json.loads(document)["data"]["score"]
        if value is None or isinstance(value, bool) or not isinstance(value, str | int):
            return None
        score = Decimal(value)
    except (ValueError, TypeError, KeyError, InvalidOperation):
        return None
    return score_sort_value(score) if score.is_finite() else None


def _backfill(
    conn: Connection,
    sources: Sequence[Column[Any]],
    target: str,
    compute: Callable[[Sequence[Any]], str | None],
) -> None:
    """Fill the new ``leads`` column ``target`` with ``compute(source values)`` for every
    stored lead, in batches of ids (None leaves the column NULL)."""
    batch = (
        select(leads.c.id, *sources)
        .where(leads.c.id > bindparam("after"))
        .order_by(leads.c.id)
        .limit(_BACKFILL_BATCH)
    )
    fill = (
        update(leads)
        .where(leads.c.id == bindparam("lead_id"))
        .values({target: bindparam("new_value")})
    )
    after = ""
    while True:
        rows = conn.execute(batch, {"after": after}).all()
        if not rows:
            break
        values: list[dict[str, Any]] = []
        for lead_id, *row in rows:
            value = compute(row)
            if value is not None:
                values.append({"lead_id": lead_id, "new_value": value})
        if values:
            conn.execute(fill, values)
        after = rows[-1][0]


def _add_column(conn: Connection, column: Column[Any]) -> None:
    compiled = CreateColumn(column).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {leads.name} ADD COLUMN {compiled}")


def _add_score(conn: Connection) -> None:
    """Migration 3: add ``leads.score_key``, fill it from every stored lead's document, then
    index it; all inside the caller's migration transaction (all or nothing)."""
    _add_column(conn, leads.c.score_key)
    _backfill(conn, [leads.c.document], "score_key", lambda row: _document_score(row[0]))
    for index in SCORE_INDEXES:
        conn.execute(CreateIndex(index))


def _add_search_key(conn: Connection) -> None:
    """Migration 5: add ``leads.search_key`` (the folded name, company and e-mail a text
    filter searches, :func:`leadkit.ports.search_key`) and fill it from the stored
    case-folded keys; inside the caller's migration transaction."""
    _add_column(conn, leads.c.search_key)
    c = leads.c
    _backfill(
        conn,
        [c.full_name_key, c.company_key, c.email_key],
        "search_key",
        lambda row: "\n".join(fold_search(text) for text in row),
    )


def _frozen_document_table(name: str) -> Table:
    """A record table of documents as migrations 4 and 7 created them (frozen here: a later
    migration that alters one copies this)."""
    return Table(
        name,
        MetaData(),
        Column("id", _key_text(_ID), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("originating_lead", String(_ID), nullable=True),
        Column("document", Text, nullable=False),
    )


def _add_merges(conn: Connection) -> None:
    table = _frozen_document_table("merges")
    conn.execute(CreateTable(table))
    conn.execute(CreateIndex(Index("ix_merges_master", table.c.originating_lead)))


def _add_idempotency_and_outbox(conn: Connection) -> None:
    """Migration 6: the ``idempotency_keys`` and ``outbox`` tables and their indexes."""
    for table in (idempotency_keys, outbox):
        conn.execute(CreateTable(table))
    for index in OUTBOX_INDEXES:
        conn.execute(CreateIndex(index))


def _add_record_merges(conn: Connection) -> None:
    """Migration 7: the ``record_merges`` table (contact and account merges)."""
    conn.execute(CreateTable(_frozen_document_table("record_merges")))


MIGRATIONS: Final[Sequence[Migration]] = (
    Migration(1, "leads, notes, activities, stakeholders, accounts, contacts, opportunities",
              _create_tables),
    Migration(2, "indexes for the lead views and record look-ups", _create_indexes),
    Migration(3, "lead score column (sortable text), filled from the documents, and its index",
              _add_score),
    Migration(4, "merges: the records unmerge restores leads from", _add_merges),
    Migration(5, "lead search column (folded name, company and e-mail for accent-insensitive "
                 "text filters), filled from the stored keys", _add_search_key),
    Migration(6, "idempotency keys and the transactional outbox", _add_idempotency_and_outbox),
    Migration(7, "record merges: the records a contact or account unmerge restores",
              _add_record_merges),
)  # fmt: skip

DATABASE_SCHEMA_VERSION: Final = MIGRATIONS[-1].version
"""The version of the database schema (the tables) this leadkit writes: the last migration's.
Not the version of the JSON documents inside the rows (``leadkit.SCHEMA_VERSION``)."""


def _check_migrations(migrations: Sequence[Migration]) -> None:
    numbers = [m.version for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1, 2, 3 ... without gaps: {numbers}")


_check_migrations(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The highest applied migration (0 when ``schema_version`` is empty)."""
    found = conn.execute(select(func.max(schema_version.c.version))).scalar()
    return int(found or 0)


def migrate(conn: Connection, *, target: int = DATABASE_SCHEMA_VERSION) -> list[int]:
    """Apply the migrations above the current version up to ``target`` on ``conn``, inside
    the transaction the caller holds; create ``schema_version`` if missing.

    Returns the versions applied. The caller checks beforehand that the database is ours.
    """
    if not conn.dialect.has_table(conn, schema_version.name):
        conn.execute(CreateTable(schema_version))
    done = current_version(conn)
    applied: list[int] = []
    for migration in MIGRATIONS:
        if done < migration.version <= target:
            migration.apply(conn)
            conn.execute(
                insert(schema_version).values(
                    version=migration.version,
                    description=migration.description,
                    applied_at=datetime.now(UTC).isoformat(timespec="seconds"),
                )
            )
            applied.append(migration.version)
    return applied
