"""Leads and records to rows and back.

The JSON ``document`` is written and read by the leadkit converter; the other columns are
derived from the value so that queries can filter and sort in SQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.ports import LeadSort, score_sort_value, search_key, search_texts, sort_key, utc_text
from leadkit.records import Opportunity
from leadkit.serialization import SCHEMA_VERSION, LeadkitConverter
from leadkit.values import AccountId, ContactId

__all__ = [
    "CUSTOMER_KINDS",
    "activity_rows",
    "customer_kind",
    "lead_columns",
    "load_opportunity",
    "note_rows",
    "stakeholder_rows",
    "utc_text",
]


def _maybe_utc(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def lead_columns(lead: Lead) -> dict[str, Any]:
    """The query columns of ``lead`` (everything but ``version`` and ``document``).

    ``score_key`` is the score as :func:`leadkit.ports.score_sort_value` text (exact for any
    Decimal, see the schema), NULL without a score. Raises InvalidValue for a NaN score,
    which no order can hold (nor can the converter read it back).
    """
    texts = search_texts(lead)
    full_name, company, email = texts
    created = utc_text(lead.created_at)  # a new lead's modified_at is its created_at
    same = lead.modified_at == lead.created_at
    score = lead.score
    return {
        "id": lead.id.value,
        "state": lead.state.code,
        "reason_code": lead.reason.code,
        "owner_id": lead.owner.id,
        "rating": None if lead.rating is None else lead.rating.code,
        "source": None if lead.source is None else lead.source.code,
        "created_at": created,
        "modified_at": created if same else utc_text(lead.modified_at),
        "topic_key": sort_key(lead, LeadSort.TOPIC)[0],
        "company_key": company,
        "last_name_key": sort_key(lead, LeadSort.LAST_NAME)[0],
        "full_name_key": full_name,
        "email_key": email,
        "score_key": None if score is None else score_sort_value(score),
        "search_key": search_key(lead, texts),
    }


def note_rows(lead: Lead) -> list[dict[str, Any]]:
    """One ``lead_notes`` row per note, with its attachment metadata."""
    rows = []
    for position, note in enumerate(lead.notes):
        file = note.attachment
        rows.append(
            {
                "lead_id": lead.id.value,
                "position": position,
                "note_id": note.id,
                "at": utc_text(note.at),
                "by_id": note.by.id,
                "title": note.title,
                "text": note.text,
                "edited_at": _maybe_utc(note.edited_at),
                "edited_by_id": None if note.edited_by is None else note.edited_by.id,
                "attachment_file_name": None if file is None else file.file_name,
                "attachment_media_type": None if file is None else file.media_type,
                "attachment_size": None if file is None else file.size,
                "attachment_sha256": None if file is None else file.sha256,
            }
        )
    return rows


def activity_rows(lead: Lead) -> list[dict[str, Any]]:
    """One ``lead_activities`` row per activity."""
    return [
        {
            "lead_id": lead.id.value,
            "position": position,
            "activity_id": activity.id,
            "kind": activity.kind.value,
            "subject": activity.subject,
            "description": activity.description,
            "at": utc_text(activity.at),
            "by_id": activity.by.id,
            "due_at": _maybe_utc(activity.due_at),
            "done_at": _maybe_utc(activity.done_at),
        }
        for position, activity in enumerate(lead.activities)
    ]


def stakeholder_rows(lead: Lead) -> list[dict[str, Any]]:
    """One ``lead_stakeholders`` row per stakeholder link."""
    return [
        {
            "lead_id": lead.id.value,
            "position": position,
            "contact_id": stakeholder.contact_id.value,
            "role": stakeholder.role.name,
        }
        for position, stakeholder in enumerate(lead.stakeholders)
    ]


CUSTOMER_KINDS: Final[Mapping[str, type[AccountId] | type[ContactId]]] = {
    "account": AccountId,
    "contact": ContactId,
}


def customer_kind(opportunity: Opportunity) -> str:
    """``account`` or ``contact``: what the opportunity's customer id names."""
    return "account" if isinstance(opportunity.customer, AccountId) else "contact"


def load_opportunity(converter: LeadkitConverter, document: str, kind: str) -> Opportunity:
    """Read an opportunity document; ``kind`` says what its customer id names.

    The row's ``customer_kind`` column decides what the customer id names (documents
    written before the converter recorded ``customer_kind`` do not say); every other field
    goes through the converter.
    Raises InvalidValue for a malformed document.
    """
    try:
        envelope = json.loads(document)
        if envelope.get("schema") != SCHEMA_VERSION or envelope.get("kind") != "Opportunity":
            raise InvalidValue("schema", envelope.get("schema"), "not an Opportunity document")
        data = dict(envelope["data"])
        customer = CUSTOMER_KINDS[kind](data.pop("customer"))
    except InvalidValue:
        raise
    except Exception as e:
        raise InvalidValue("document", document[:60], f"malformed opportunity ({e})") from None
    values: dict[str, Any] = {}
    for field in _OPPORTUNITY_FIELDS:
        if field.name in data:
            values[field.name] = converter.structure(data[field.name], field.type)  # type: ignore[arg-type]
    return Opportunity(customer=customer, **values)


_OPPORTUNITY_FIELDS: Final = tuple(
    f for f in attrs.fields(attrs.resolve_types(Opportunity)) if f.name != "customer"
)
