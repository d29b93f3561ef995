"""JSON round trips: every value, every event and leads in every state come back equal."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit import (
    EVENT_TYPES,
    AccountId,
    Activity,
    Address,
    Attachment,
    ContactId,
    CustomFields,
    EmailAddress,
    Lead,
    LeadCreated,
    LeadEvent,
    LeadId,
    LeadPatch,
    LeadScored,
    LeadState,
    Money,
    Note,
    OpportunityId,
    OptionValue,
    PersonName,
    PhoneNumber,
    Stakeholder,
    StakeholderRole,
    StatusReason,
    Url,
    UserRef,
    custom_kind,
    make_converter,
)
from leadkit.errors import InvalidValue
from leadkit.json_values import _to_invalid
from leadkit.records import Account, Contact, Opportunity
from leadkit.serialization import CONVERTED_TYPES
from leadkit.testing import strategies as s

VALUES: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (LeadId, s.lead_ids()),
    (AccountId, s.account_ids()),
    (ContactId, s.contact_ids()),
    (OpportunityId, s.opportunity_ids()),
    (UserRef, s.user_refs()),
    (EmailAddress, s.email_addresses()),
    (PhoneNumber, s.phone_numbers()),
    (Money, s.money()),
    (PersonName, s.person_names()),
    (Address, s.addresses()),
    (Url, s.urls()),
    (CustomFields, s.custom_fields()),
    (OptionValue, s.option_values()),
    (Attachment, s.notes_attachments()),
    (StakeholderRole, s.stakeholder_roles()),
    (Stakeholder, s.stakeholders()),
    (Note, s.notes()),
    (Activity, s.activities()),
    (StatusReason, s.status_reasons()),
    (LeadPatch, s.lead_patches(required=False)),
    (Account, s.accounts()),
    (Contact, s.contacts()),
    (Opportunity, s.opportunities()),
]

converter = make_converter()


@pytest.mark.parametrize(("kind", "strategy"), VALUES, ids=[k.__name__ for k, _ in VALUES])
@given(data=st.data())
def test_every_value_survives_a_json_round_trip(
    kind: type[Any], strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    value = data.draw(strategy)
    text = converter.dumps(value)
    back = converter.loads(text, kind)
    assert type(back) is type(value)
    assert back == value
    assert converter.dumps(back) == text


def test_every_type_the_converter_claims_has_a_round_trip_property() -> None:
    covered = {kind for kind, _ in VALUES} | {Lead, *EVENT_TYPES.values()}
    missing = [kind.__name__ for kind in CONVERTED_TYPES if kind not in covered]
    assert not missing


@pytest.mark.parametrize("kind", [AccountId, ContactId])
def test_an_opportunity_keeps_its_customers_kind(kind: type[AccountId | ContactId]) -> None:
    opportunity = Opportunity(
        id=OpportunityId("O-1"), name="Coffee", customer=kind("X-1"), currency="EUR"
    )
    back = converter.loads(converter.dumps(opportunity), Opportunity)
    assert type(back.customer) is kind
    assert back == opportunity


def test_an_opportunity_without_its_customer_kind_is_refused_naming_the_field() -> None:
    data = converter.dump(
        Opportunity(id=OpportunityId("O-1"), name="x", customer=AccountId("A-1"), currency="EUR")
    )
    del data["data"]["customer_kind"]
    with pytest.raises(InvalidValue) as caught:
        converter.load(data, Opportunity)
    assert caught.value.field == "customer_kind"
    assert "disambiguate" not in str(caught.value)


@given(fields=s.custom_fields())
def test_custom_fields_keep_their_kinds_through_json(fields: CustomFields) -> None:
    back = converter.loads(converter.dumps(fields), CustomFields)
    assert [(n, custom_kind(v), type(v)) for n, v in back.items()] == [
        (n, custom_kind(v), type(v)) for n, v in fields.items()
    ]
    assert back == fields


def test_every_event_type_has_a_strategy() -> None:
    for kind in EVENT_TYPES.values():
        s.lead_events(kind)  # raises for an event type the kit does not know


@pytest.mark.parametrize("kind", list(EVENT_TYPES.values()), ids=list(EVENT_TYPES))
@given(data=st.data())
def test_every_event_survives_a_json_round_trip(kind: type[LeadEvent], data: st.DataObject) -> None:
    event = data.draw(s.lead_events(kind))
    text = converter.dumps(event)
    assert converter.loads(text, kind) == event
    # Read back through the base type, the type tag picks the class.
    back = converter.loads(text, LeadEvent)
    assert type(back) is kind
    assert back == event


@pytest.mark.parametrize("state", list(LeadState), ids=[m.name for m in LeadState])
@given(data=st.data())
def test_a_lead_in_every_state_survives_a_json_round_trip(
    state: LeadState, data: st.DataObject
) -> None:
    lead = data.draw(s.leads(state=state))
    text = converter.dumps(lead)
    back = converter.loads(text, Lead)
    assert back.state is state
    assert back == lead
    assert back.custom_fields == lead.custom_fields
    assert back.pending_events == ()  # pending events are not part of the stored lead
    assert converter.dumps(back) == text


@given(lead=st.from_type(Lead))
def test_from_type_builds_valid_leads_through_the_plugin(lead: Lead) -> None:
    assert isinstance(lead, Lead)
    assert lead.pending_events, "built through Lead.create, so it has a history"
    assert lead.topic
    assert lead.name.last


# ---------------------------------------------------------------------------------------------
# The fast path for leads (leadkit.fastcodec) against the strict converter it falls back to


def _strict_load(data: object) -> Lead:
    """``structure(data, Lead)`` without the fast path: cattrs with the detailed hooks."""
    try:
        lead: Lead = converter._c.structure(data, Lead)
    except Exception as e:
        raise _to_invalid(e, "") from None
    return lead


def _strict_dumps(lead: Lead) -> str:
    return json.dumps(converter.dump(lead), ensure_ascii=False, separators=(",", ":"))


def _outcome(run: Callable[[], Lead]) -> tuple[str, object]:
    try:
        return "value", run()
    except InvalidValue as e:
        return "error", (str(e), e.problems)


@given(lead=st.from_type(Lead))
def test_the_fast_path_reads_and_writes_every_lead_as_the_strict_path_does(lead: Lead) -> None:
    text = converter.dumps(lead)
    data = json.loads(text)["data"]

    fast = converter._lead.load(data)  # raises if the fast path refused a valid lead

    assert text == _strict_dumps(lead)
    assert converter._lead.dump(lead) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert fast == _strict_load(data) == lead
    assert converter.dumps(fast) == text


_JUNK: list[object] = [
    None, 0, -1, 1, 2**70, 1.5, True, False, "", " ", "x", " padded ", "#", "x" * 300, "OPEN",
    "HOT", "2024-05-01T09:00:00", "2024-05-01T09:00:00+00:00", "2024-13-01", "1e15", "NaN",
    "ada@", "ada@example.com", [], [1], ["x"], {}, {"x": 1}, {"type": "text", "value": 1},
]  # fmt: skip


def _paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``value`` (dict keys and list indices)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def _corrupted(draw: st.DrawFn) -> Any:
    """The data of a valid lead with one value replaced, removed or added somewhere."""
    data = json.loads(converter.dumps(draw(st.from_type(Lead))))["data"]
    path = draw(st.sampled_from(_paths(data)))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    junk = draw(st.sampled_from(_JUNK))
    if not path:
        return junk if action == "replace" else {**data, "extra": junk}
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = junk
    elif action == "remove":
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"{last}_extra"] = junk
    else:
        parent.append(junk)
    return data


@given(data=_corrupted())
def test_corrupted_lead_data_gets_exactly_the_strict_value_or_error(data: Any) -> None:
    fast = _outcome(lambda: converter.structure(data, Lead))

    assert fast == _outcome(lambda: _strict_load(data))


@given(lead=s.leads())
def test_well_formed_leads_never_fall_back_to_the_strict_path(lead: Lead) -> None:
    before = converter.fallbacks

    text = converter.dumps(lead)
    loaded = converter.loads(text, Lead)
    again = converter.structure(json.loads(text)["data"], Lead)

    assert converter.fallbacks == before
    assert loaded == again == lead.clear_events()


@given(data=_corrupted())
def test_corrupted_lead_data_falls_back_at_most_once(data: Any) -> None:
    before = converter.fallbacks["structure"]

    _outcome(lambda: converter.structure(data, Lead))

    assert converter.fallbacks["structure"] - before in (0, 1)


@given(event=st.one_of(s.lead_events(LeadScored), s.lead_events(LeadCreated)))
def test_scored_and_created_events_are_written_as_the_strict_path_writes_them_without_a_fallback(
    event: LeadScored | LeadCreated,
) -> None:
    before = converter.fallbacks

    text = converter.dumps(event)

    assert converter.fallbacks == before
    assert text == json.dumps(converter.dump(event), ensure_ascii=False, separators=(",", ":"))
    assert converter.loads(text, LeadEvent) == event


@given(
    case=st.one_of(
        s.lead_events(LeadScored).map(lambda e: (e, "previous")),
        s.lead_events(LeadCreated).map(lambda e: (e, "profile")),
    )
)
def test_an_ill_typed_scored_or_created_event_is_written_strictly_and_counted(
    case: tuple[LeadEvent, str],
) -> None:
    event, field = case
    odd = copy.copy(event)
    object.__setattr__(odd, field, 5)  # the constructor refuses it; force it in
    before = converter.fallbacks

    text = converter.dumps(odd)

    assert converter.fallbacks == {**before, "dumps": before["dumps"] + 1}
    assert text == json.dumps(converter.dump(odd), ensure_ascii=False, separators=(",", ":"))
