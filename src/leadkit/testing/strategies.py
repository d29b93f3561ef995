"""Hypothesis strategies for every leadkit value, event and lead.

Each strategy is a function returning a ``SearchStrategy``; nothing is built when the module is
imported. Every strategy only produces values the domain accepts: text is already stripped,
lengths respect the Dynamics 365 column limits of :data:`leadkit.profiles.DEFAULT_PROFILE`, and
leads are made by :meth:`Lead.create` and real commands, never by calling the constructor, so
a lead drawn here is one the library itself could have produced.

Text includes Swedish, Polish and German letters (``å ä ö ł ś ż ß ü`` ...).

    >>> from hypothesis import given
    >>> from leadkit.testing.strategies import leads
    >>> @given(leads())
    ... def test_a_lead_has_a_topic(lead): assert lead.topic

The strategies live in modules by what they draw, all re-exported here (the import path of
every name): :mod:`~leadkit.testing.value_strategies` (values),
:mod:`~leadkit.testing.record_strategies` (patches, records, queries) and
:mod:`~leadkit.testing.lead_strategies` (commands, histories, leads); this module holds the
event strategies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from leadkit.errors import InvalidValue
from leadkit.events import (
    EVENT_TYPES,
    ActivityCompleted,
    ActivityLogged,
    CriterionTicked,
    CriterionUnticked,
    ExistingAccountLinked,
    ExistingAccountUnlinked,
    ExistingContactLinked,
    ExistingContactUnlinked,
    LeadAssigned,
    LeadCreated,
    LeadDisqualified,
    LeadEvent,
    LeadMergedInto,
    LeadQualified,
    LeadRated,
    LeadReactivated,
    LeadScored,
    LeadsMerged,
    LeadUnmerged,
    LeadUpdated,
    ManualScoreCleared,
    ManualScoreSet,
    NoteAdded,
    NoteEdited,
    NoteRemoved,
    OpportunityRelated,
    OpportunityUnlinked,
    StakeholderAdded,
    StakeholderRemoved,
    StatusReasonChanged,
)
from leadkit.fields import Rating
from leadkit.status import LeadState
from leadkit.testing.lead_strategies import Command, lead_histories, leads
from leadkit.testing.record_strategies import (
    LinkedRecords,
    accounts,
    contacts,
    lead_patches,
    lead_queries,
    linked_records,
    opportunities,
)
from leadkit.testing.value_strategies import (
    CURRENCIES,
    _cached,
    _optional,
    _record_ids,
    _text,
    account_ids,
    activities,
    addresses,
    aware_datetimes,
    contact_ids,
    criterion_ids,
    custom_fields,
    custom_values,
    email_addresses,
    lead_ids,
    manual_scores,
    money,
    notes,
    notes_attachments,
    opportunity_ids,
    option_values,
    person_names,
    phone_numbers,
    scores,
    stakeholder_roles,
    stakeholders,
    status_reasons,
    urls,
    user_refs,
)
from leadkit.values import MergeId

__all__ = [
    "CURRENCIES",
    "Command",
    "LinkedRecords",
    "account_ids",
    "accounts",
    "activities",
    "addresses",
    "aware_datetimes",
    "contact_ids",
    "contacts",
    "criterion_ids",
    "custom_fields",
    "custom_values",
    "email_addresses",
    "lead_events",
    "lead_histories",
    "lead_ids",
    "lead_patches",
    "lead_queries",
    "leads",
    "linked_records",
    "manual_scores",
    "money",
    "notes",
    "notes_attachments",
    "opportunities",
    "opportunity_ids",
    "option_values",
    "person_names",
    "phone_numbers",
    "scores",
    "stakeholder_roles",
    "stakeholders",
    "status_reasons",
    "urls",
    "user_refs",
]


# ---------------------------------------------------------------------------------------------
# Events


_Fields = dict[str, SearchStrategy[Any]]
_FieldTable = dict[type[LeadEvent], Callable[[], _Fields]]


def _record_event_fields() -> _FieldTable:
    """The fields of the events that edit a lead's record and timeline, by event type."""
    open_reasons = status_reasons(LeadState.OPEN)
    ratings = _optional(st.sampled_from(Rating))
    return {
        LeadCreated: lambda: {
            "fields": lead_patches(),
            "owner": user_refs(),
            "reason": open_reasons,
        },
        LeadUpdated: lambda: {"before": lead_patches(False), "after": lead_patches(False)},
        LeadRated: lambda: {"rating": ratings, "previous": ratings},
        ExistingAccountLinked: lambda: {
            "account_id": account_ids(),
            "filled": lead_patches(False),
        },
        ExistingAccountUnlinked: lambda: {"account_id": account_ids()},
        ExistingContactLinked: lambda: {
            "contact_id": contact_ids(),
            "filled": lead_patches(False),
        },
        ExistingContactUnlinked: lambda: {"contact_id": contact_ids()},
        NoteAdded: lambda: {"note": notes()},
        NoteEdited: lambda: {
            "note_id": st.integers(1, 10_000),
            "title": _text(0, 40),
            "text": _text(0, 200),
            "attachment": _optional(notes_attachments()),
            "previous_title": _text(0, 40),
            "previous_text": _text(0, 200),
            "previous_attachment": _optional(notes_attachments()),
        },
        NoteRemoved: lambda: {"note_id": st.integers(1, 10_000)},
        ActivityLogged: lambda: {"activity": activities()},
        ActivityCompleted: lambda: {
            "activity_id": st.integers(1, 10_000),
            "done_at": aware_datetimes(),
        },
        StakeholderAdded: lambda: {"stakeholder": stakeholders()},
        StakeholderRemoved: lambda: {"stakeholder": stakeholders()},
        LeadAssigned: lambda: {
            "owner": user_refs(),
            "previous": user_refs(),
            "rule": st.sampled_from(("", "round robin", "territory: Norr")),
        },
    }


def _state_event_fields() -> _FieldTable:
    """The fields of the events that change a lead's state, merge it or score it."""
    open_reasons = status_reasons(LeadState.OPEN)
    return {
        StatusReasonChanged: lambda: {"reason": open_reasons, "previous": open_reasons},
        LeadDisqualified: lambda: {
            "reason": status_reasons(LeadState.DISQUALIFIED),
            "previous": open_reasons,
        },
        LeadQualified: lambda: {
            "reason": status_reasons(LeadState.QUALIFIED),
            "previous": open_reasons,
            "account_id": _optional(account_ids()),
            "contact_id": _optional(contact_ids()),
            "opportunity_id": _optional(opportunity_ids()),
        },
        LeadReactivated: lambda: {
            "reason": open_reasons,
            "previous_state": st.sampled_from((LeadState.QUALIFIED, LeadState.DISQUALIFIED)),
            "previous": status_reasons(LeadState.QUALIFIED)
            | status_reasons(LeadState.DISQUALIFIED),
        },
        OpportunityUnlinked: lambda: {"opportunity_id": opportunity_ids()},
        OpportunityRelated: lambda: {"opportunity_id": opportunity_ids()},
        LeadsMerged: lambda: {
            "merge_id": _record_ids(MergeId),
            "merged": st.lists(lead_ids(), min_size=1, max_size=3).map(tuple),
            "changed": lead_patches(False),
            "ticked_criteria": st.frozensets(criterion_ids(), max_size=3),
            "manual_score": _optional(manual_scores()),
            "notes": st.lists(notes(), max_size=2).map(tuple),
            "activities": st.lists(activities(), max_size=2).map(tuple),
            "stakeholders": st.lists(stakeholders(), max_size=2, unique=True).map(tuple),
            "before": st.lists(leads(), max_size=1).map(tuple),
        },
        LeadMergedInto: lambda: {
            "merge_id": _record_ids(MergeId),
            "master_id": lead_ids(),
            "previous_state": st.sampled_from(LeadState),
            "previous": status_reasons(),
        },
        LeadUnmerged: lambda: {"merge_id": _record_ids(MergeId), "restored": leads()},
        CriterionTicked: lambda: {"criterion_id": criterion_ids()},
        CriterionUnticked: lambda: {"criterion_id": criterion_ids()},
        ManualScoreSet: lambda: {
            "manual": manual_scores(),
            "previous": _optional(manual_scores()),
        },
        ManualScoreCleared: lambda: {"previous": manual_scores()},
        LeadScored: lambda: {
            "score": scores(),
            "previous": _optional(st.decimals(min_value=0, max_value=100, places=2)),
        },
    }


def _event_fields(kind: type[LeadEvent]) -> _Fields:
    table = {**_record_event_fields(), **_state_event_fields()}
    if kind not in table:
        raise InvalidValue("kind", kind, "no strategy for this event type")
    return {
        "lead_id": lead_ids(),
        "at": aware_datetimes(),
        "by": user_refs(),
        **table[kind](),
    }


@_cached
def lead_events(kind: type[LeadEvent] | None = None) -> SearchStrategy[LeadEvent]:
    """Events of ``kind`` (default: any of :data:`leadkit.events.EVENT_TYPES`) built directly
    from valid values. They need not belong to one history; for events a real lead produced,
    use ``lead_histories()`` and read ``pending_events``. Raises InvalidValue for a kind
    without a strategy."""
    if kind is None:
        return st.one_of([lead_events(k) for k in EVENT_TYPES.values()])
    event_type = kind
    return st.fixed_dictionaries(_event_fields(kind)).map(lambda kw: event_type(**kw))
