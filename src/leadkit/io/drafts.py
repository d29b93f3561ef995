"""Rows not stored yet, seen as leads: for profile checks and for the duplicate engine."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Final

import attrs

from leadkit.duplicates.record_view import DuplicateRecord, RecordType, built
from leadkit.lead import Lead
from leadkit.patch import PATCH_FIELDS, UNSET, LeadPatch
from leadkit.values import PersonName

__all__ = ["LEAD_DEFAULTS", "DraftView", "draft_record"]


def lead_defaults() -> Any:
    defaults: dict[str, Any] = {}
    for field in attrs.fields(Lead):
        if field.name in PATCH_FIELDS:
            defaults[field.name] = field.default  # Lead's defaults are plain values
    return SimpleNamespace(**defaults)


LEAD_DEFAULTS: Final = lead_defaults()
"""A new lead's editable fields before any value is set."""


class DraftView:
    """A read-only view of ``base`` with ``patch`` laid over it (what a profile checks)."""

    __slots__ = ("_base", "_patch")

    def __init__(self, patch: LeadPatch, base: Any) -> None:
        self._patch = patch
        self._base = base

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._patch, name, UNSET)
        return getattr(self._base, name) if value is UNSET else value


def draft_record(number: int, patch: LeadPatch) -> DuplicateRecord:
    """The duplicate engine's view of a row not stored yet (id ``row-<number>``)."""
    name = patch.name if isinstance(patch.name, PersonName) else PersonName()
    email = patch.email or None
    business = patch.business_phone or None
    mobile = patch.mobile_phone or None
    website = patch.website or None
    address = patch.address or None
    source = patch.source or None
    rating = patch.rating or None
    b164 = business.e164 if business is not None else ""
    m164 = mobile.e164 if mobile is not None else ""
    return built(
        DuplicateRecord,
        record_type=RecordType.LEAD,
        record_id=f"row-{number}",
        first_name=name.first,
        middle_name=name.middle,
        last_name=name.last,
        full_name=" ".join(p for p in (name.first, name.middle, name.last) if p),
        job_title=patch.job_title or "",
        email=email.text if email is not None else "",
        email_domain=email.domain if email is not None else "",
        phones=(b164, m164),
        business_phone=b164,
        mobile_phone=m164,
        company=patch.company or "",
        website_domain=website.host if website is not None else "",
        street=address.line1 if address is not None else "",
        city=address.city if address is not None else "",
        postal_code=address.postal_code if address is not None else "",
        country=address.country if address is not None else "",
        topic=patch.topic or "",
        source=source.code if source is not None else None,
        rating=rating.code if rating is not None else None,
        estimated_close_date=patch.estimated_close_date or None,
    )
