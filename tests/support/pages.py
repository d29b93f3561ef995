"""Following a query's cursors to its last page, for the adapters' pagination tests.

``all_pages`` is the contract suite's own walker (every page, at most 10,000)."""

from __future__ import annotations

from leadkit.lead import Lead
from leadkit.ports import LeadQuery, LeadRepository
from leadkit.testing.contract._helpers import _pages as all_pages

__all__ = ["all_pages", "paged_leads"]


def paged_leads(repository: LeadRepository, query: LeadQuery, limit: int) -> list[Lead]:
    """The leads of every page of ``query``, in page order."""
    return [lead for page in all_pages(repository, query, limit) for lead in page.items]
