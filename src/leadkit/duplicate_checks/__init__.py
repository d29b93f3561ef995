"""The duplicate engine over a store: :class:`EngineDuplicateCheck` (qualification's, the
import's and the save's duplicate check) and :class:`IndexingStore`, the store seen through it,
whose units of work keep the check's index true. Application code: these open units of work
over the ports, so they live outside the pure :mod:`leadkit.duplicates` package."""

from __future__ import annotations

from leadkit.duplicate_checks.engine_check import (
    EngineDuplicateCheck,
    IndexingStore,
    IndexingUnitOfWork,
)

__all__ = ["EngineDuplicateCheck", "IndexingStore", "IndexingUnitOfWork"]
