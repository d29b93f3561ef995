"""Finding stored leads by e-mail address in the SQL adapter, many addresses per query.

An import that matches its rows with stored leads by e-mail (``ImportPolicy.match_by_email``)
asks, for each batch of rows, which stored lead holds each address, instead of reading every
stored lead first. The ``leads`` table keeps ``email_key`` (the address as given, case-folded);
:func:`lead_ids_by_email` looks up every spelling an address may be stored under (its
normalised form, its text and its Unicode domain, case-folded), reads the leads found and
keeps those whose normalised address is the one asked for: the first lead in the store's
order (created, then id), as a full read of the store would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from typing import Final

from sqlalchemy import Connection, bindparam, select

from leadkit.adapters.sql.schema import leads
from leadkit.lead import Lead
from leadkit.values import EmailAddress, LeadId

__all__ = ["email_spellings", "lead_ids_by_email"]

_CHUNK: Final = 500
"""Spellings per ``IN`` list (below every engine's limit on bound parameters)."""

_BY_EMAIL: Final = select(leads.c.id, leads.c.version, leads.c.document, leads.c.created_at).where(
    leads.c.email_key.in_(bindparam("keys", expanding=True))
)


def email_spellings(email: EmailAddress) -> set[str]:
    """The ``email_key`` values a stored lead with the same normalised address as ``email``
    may have: the normalised address, the text case-folded, and the local part with the
    domain in Unicode (decoded from its IDNA form), case-folded. Raises nothing."""
    local, _, domain = email.normalized.rpartition("@")
    found = {email.normalized, email.text.casefold()}
    with contextlib.suppress(UnicodeError):
        found.add(f"{local}@{domain.encode('ascii').decode('idna').casefold()}")
    return found


def lead_ids_by_email(
    connection: Callable[[], Connection],
    decode: Callable[[str, int, str], Lead],
    emails: Collection[EmailAddress],
) -> dict[str, LeadId]:
    """The stored lead holding each address of ``emails``, by normalised address (an address
    no lead holds is left out); of several leads with one address, the first created (then by
    id). ``connection`` gives the unit of work's reading connection, ``decode`` turns a row
    into a lead. Raises what they raise (StorageUnavailable)."""
    wanted = {e.normalized for e in emails}
    spellings = sorted({s for e in emails for s in email_spellings(e)})
    best: dict[str, tuple[str, str, LeadId]] = {}
    for start in range(0, len(spellings), _CHUNK):
        chunk = spellings[start : start + _CHUNK]
        for lead_id, version, document, created in connection().execute(_BY_EMAIL, {"keys": chunk}):
            lead = decode(lead_id, version, document)
            if lead.email is None or lead.email.normalized not in wanted:
                continue
            rank = (created, lead_id, lead.id)
            held = best.get(lead.email.normalized)
            if held is None or rank[:2] < held[:2]:
                best[lead.email.normalized] = rank
    return {email: rank[2] for email, rank in best.items()}
