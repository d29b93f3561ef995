"""The in-memory store: a real adapter, not a test fake.

It keeps the same promises as the SQL adapter and passes the same contract suite
(:mod:`leadkit.testing.contract`): optimistic version checks, all-or-nothing units of work,
read-your-own-writes, uncommitted changes invisible to everybody else, events handed to the
event sink after commit. It is thread-safe: any number of threads may each run their own
units of work against one store (a single unit of work belongs to one thread at a time).

How it works:

- The committed state is a dict per record type (leads, accounts, contacts, opportunities)
  guarded by one lock, plus a secondary index of the leads: per owner id and state, a list of
  ``(created_at in microseconds, id, lead)`` sorted by ``(created_at, id)``. The index is
  changed only by ``commit``, under the lock and in the same step as the dict, so it always
  describes exactly the committed leads (a rollback or a failed commit never touched it).
  Leads and records are frozen values, so they are stored as they are: nobody can change a
  stored copy behind the store's back.
- A unit of work keeps a private change set per repository (key -> new value, or ``None`` for
  deleted) and, for each key it touched, the committed version its first change was based
  on. Reads overlay the change set on the committed state. ``save`` and ``delete`` check the
  version against what the unit of work sees and raise at once.
- ``commit`` takes the lock, checks every touched key against the committed state again (a
  concurrent commit may have changed it: then ``ConcurrencyConflict`` and nothing is applied),
  applies every change, releases the lock and then calls the event sink with the collected
  events. A failed commit also forgets the unit of work's changes, as a failed database
  transaction would.

Key locks: ``MemoryUnitOfWork.lock_keys`` locks named keys (the duplicate check's blocking
keys) until the unit of work commits, rolls back or ends; the keys of one call are taken
together, under a condition variable of the store, so units of work of different threads that
lock overlapping keys take turns.

Queries filter with :meth:`LeadQuery.matches` (the reference semantics) and order as
:func:`leadkit.ports.sort_key` does (the datetime sorts compare microseconds since the epoch,
which is the same order and much cheaper than formatting UTC text; cursors still carry the
reference text). A query with an owner considers only that owner's leads (of the query's
states). A page of such a query in ``created_at`` order ("My open leads") walks the index
lists from the cursor and stops after ``limit + 1`` matching leads, merged with the unit of
work's own matching changes: its cost does not grow with the store or the owner's leads.
Any other page is picked with a bounded heap, one pass over the candidates, not a full sort.
``stream`` sorts the matching leads once, when iteration starts, and yields them batch
by batch (the leads are in memory already; the stream holds references to them, not copies).
"""

from __future__ import annotations

from leadkit.adapters.memory.outbox import MemoryOutbox
from leadkit.adapters.memory.store import KEY_LOCK_TIMEOUT_SECONDS, MemoryStore, MemoryUnitOfWork

__all__ = ["KEY_LOCK_TIMEOUT_SECONDS", "MemoryOutbox", "MemoryStore", "MemoryUnitOfWork"]
