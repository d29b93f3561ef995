"""Specification of the converter: JSON-safe data, envelopes and error paths."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from leadkit.errors import InvalidValue
from leadkit.events import EVENT_TYPES, LeadCreated, LeadEvent, LeadRated, NoteAdded
from leadkit.fields import Budget, CustomFields, LeadSource, OptionValue, Rating
from leadkit.lead import Lead, replay
from leadkit.patch import LeadPatch
from leadkit.serialization import (
    MAX_BAD_ITEMS,
    MAX_PROBLEMS,
    SCHEMA_VERSION,
    LeadkitConverter,
    make_converter,
)
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import ActivityKind, Attachment, Note, StakeholderRole
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    LeadId,
    Money,
    OpportunityId,
    PersonName,
    PhoneNumber,
    UserRef,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("u1", "Ann")
BOB = UserRef("u2")
LID = LeadId("L-1")
PDF = Attachment("offer.pdf", "application/pdf", 10, "ab" * 32)
Data = dict[str, Any]


def _rich_lead() -> Lead:
    """A lead using every kind of field, with a timeline and a history."""
    fields = LeadPatch(
        topic="Printers",
        name="Dr. Ada M. Lovelace Jr.",
        job_title="CTO",
        company="Contoso",
        business_phone=PhoneNumber("070-123 45 67", "SE"),
        mobile_phone="+44 7700 900123",
        email="Ada@Example.com",
        website="www.contoso.com",
        address=Address(line1="Storgatan 1", postal_code="111 22", city="Stockholm"),
        source=LeadSource.WORD_OF_MOUTH,
        initiated_by="Campaign",
        rating=Rating.HOT,
        budget_amount=Money(Decimal("1000.50"), "EUR"),
        budget=Budget.NO_COMMITTED_BUDGET,
        need="Must have",
        purchase_timeframe="This Quarter",
        purchase_process="Committee",
        description="Wants 40 printers.",
        estimated_value=Money(Decimal(500000), "JPY"),
        estimated_close_date=date(2024, 9, 30),
        custom_fields={
            "flag": True,
            "count": 1,
            "ratio": Decimal("0.25"),
            "met_on": date(2024, 4, 1),
            "met_at": T0,
            "tier": OptionValue(2, "Gold"),
            "memo": "x",
        },
    )
    return (
        Lead.create(LID, fields, at=T0, by=ANN, owner=BOB)
        .add_note("call", at=T0, by=ANN, title="Call", attachment=PDF)
        .log_activity(ActivityKind.MEETING, "Demo", at=T0, by=ANN, due_at=T0)
        .complete_activity(2, at=T0, by=ANN)
        .add_stakeholder(ContactId("C-1"), StakeholderRole.DECISION_MAKER, at=T0, by=ANN)
        .edit_note(1, at=T0, by=BOB, text="call back")
        .mark_contacted(at=T0, by=ANN)
        .mark_qualified(
            at=T0,
            by=ANN,
            account_id=AccountId("A-1"),
            contact_id=ContactId("C-1"),
            opportunity_id=OpportunityId("O-1"),
        )
        .reactivate(at=T0, by=ANN)
        .unlink_opportunity(at=T0, by=ANN)
        .disqualify(StatusReason.NO_LONGER_INTERESTED, at=T0, by=ANN)
    )


RICH = _rich_lead()


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    """One converter for the module: building one compiles every hook, which takes a while."""
    return make_converter()


def _dumped(converter: LeadkitConverter) -> Data:
    return copy.deepcopy(converter.dump(RICH))


def _load_error(
    converter: LeadkitConverter, envelope: object, kind: type[Any] = Lead
) -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        converter.load(envelope, kind)
    return caught.value


# ---------------------------------------------------------------------------------------------
# Round trips


def test_make_converter_builds_a_new_converter_each_time() -> None:
    assert make_converter() is not make_converter()


def test_a_lead_round_trips_through_json_text(converter: LeadkitConverter) -> None:
    text = converter.dumps(RICH)

    loaded = converter.loads(text, Lead)

    assert loaded == RICH
    assert json.loads(text)["kind"] == "Lead"


def test_a_loaded_lead_keeps_the_types_of_its_values(converter: LeadkitConverter) -> None:
    loaded = converter.loads(converter.dumps(RICH), Lead)

    assert type(loaded.rating) is Rating
    assert type(loaded.source) is LeadSource
    assert type(loaded.budget) is Budget
    assert loaded.state is LeadState.DISQUALIFIED
    assert loaded.reason.label == "No Longer Interested"
    assert loaded.email is not None
    assert loaded.email.normalized == "ada@example.com"
    assert loaded.business_phone is not None
    assert loaded.business_phone.e164 == "+46701234567"
    assert loaded.custom_fields == RICH.custom_fields  # type-sensitive equality
    assert type(loaded.custom_fields["flag"]) is bool
    assert type(loaded.custom_fields["count"]) is int
    assert loaded.custom_fields["met_at"] == T0


def test_pending_events_are_not_stored_with_the_lead(converter: LeadkitConverter) -> None:
    data = converter.unstructure(RICH)

    assert "pending_events" not in data
    assert converter.structure(data, Lead).pending_events == ()


def test_values_have_a_plain_json_form(converter: LeadkitConverter) -> None:
    assert converter.unstructure(Money(Decimal("1.5"), "EUR")) == {
        "amount": "1.50",
        "currency": "EUR",
    }
    assert converter.unstructure(PhoneNumber("070 123 45 67", "se")) == {
        "raw": "070 123 45 67",
        "region": "SE",
        "e164": "+46701234567",
    }
    assert converter.unstructure(PhoneNumber("+1 650 253 0000 ext. 12"))["extension"] == "12"
    assert converter.unstructure(StatusReason.LOST) == {
        "code": 4,
        "label": "Lost",
        "state": "DISQUALIFIED",
    }
    assert converter.unstructure(Rating.COLD) == 3
    assert converter.unstructure(LeadId("L-9")) == "L-9"
    assert converter.unstructure(EmailAddress("a@b.se")) == "a@b.se"
    assert converter.unstructure(StakeholderRole("Champion")) == "Champion"
    assert converter.unstructure(T0) == "2024-05-01T09:00:00+00:00"
    assert converter.unstructure(CustomFields({"n": Decimal("2.50"), "o": OptionValue(1)})) == {
        "n": {"type": "decimal", "value": "2.50"},
        "o": {"type": "option", "value": {"code": 1, "label": ""}},
    }


def test_a_patch_stores_only_the_fields_it_sets(converter: LeadkitConverter) -> None:
    patch = LeadPatch(rating=Rating.WARM, email=None)

    data = converter.unstructure(patch)

    assert data == {"email": None, "rating": 2}
    assert converter.structure(data, LeadPatch) == patch


@pytest.mark.parametrize("index", range(len(RICH.pending_events)))
def test_every_event_round_trips_as_a_lead_event_and_as_its_own_type(
    converter: LeadkitConverter, index: int
) -> None:
    event = RICH.pending_events[index]

    envelope = converter.dump(event)

    assert envelope["kind"] == type(event).__name__
    assert envelope["data"]["type"] == type(event).__name__
    assert converter.load(envelope, LeadEvent) == event
    assert converter.load(envelope, type(event)) == event
    assert converter.loads(converter.dumps(event), LeadEvent) == event


def test_the_rich_history_uses_many_event_types() -> None:
    assert len({type(e) for e in RICH.pending_events}) >= 10


def test_a_replayed_history_loaded_from_json_rebuilds_the_lead(
    converter: LeadkitConverter,
) -> None:
    texts = [converter.dumps(e) for e in RICH.pending_events]

    assert replay(converter.loads(t, LeadEvent) for t in texts) == RICH


# ---------------------------------------------------------------------------------------------
# The envelope


def test_dump_wraps_data_in_a_schema_envelope(converter: LeadkitConverter) -> None:
    envelope = converter.dump(RICH)

    assert set(envelope) == {"schema", "kind", "data"}
    assert envelope["schema"] == SCHEMA_VERSION == 1
    assert envelope["kind"] == "Lead"
    assert envelope["data"]["id"] == "L-1"


@pytest.mark.parametrize("schema", [2, 0, None, "1", True, 1.0])
def test_load_refuses_an_unknown_schema_version(
    converter: LeadkitConverter, schema: object
) -> None:
    envelope = {**_dumped(converter), "schema": schema}

    error = _load_error(converter, envelope)

    assert error.field == "schema"
    assert error.value == schema
    assert "unsupported schema version" in error.reason


def test_load_refuses_an_envelope_without_a_schema(converter: LeadkitConverter) -> None:
    envelope = _dumped(converter)
    del envelope["schema"]

    assert _load_error(converter, envelope).field == "schema"


@pytest.mark.parametrize("kind", ["Note", "lead", None, ""])
def test_load_refuses_data_of_another_kind(converter: LeadkitConverter, kind: object) -> None:
    envelope = {**_dumped(converter), "kind": kind}

    error = _load_error(converter, envelope)

    assert error.field == "kind"
    assert error.reason == "expected Lead"


def test_load_refuses_an_envelope_without_data(converter: LeadkitConverter) -> None:
    envelope = {"schema": 1, "kind": "Lead"}

    error = _load_error(converter, envelope)

    assert error.field == "data"
    assert error.reason == "is required"


@pytest.mark.parametrize("envelope", [[1, "Lead", {}], "Lead", None, 1])
def test_load_refuses_what_is_not_an_envelope(
    converter: LeadkitConverter, envelope: object
) -> None:
    error = _load_error(converter, envelope)

    assert error.field == ""
    assert "schema, kind and data" in error.reason


def test_load_of_an_event_refuses_a_kind_that_is_not_an_event(
    converter: LeadkitConverter,
) -> None:
    envelope = {**converter.dump(RICH.pending_events[0]), "kind": "Lead"}

    error = _load_error(converter, envelope, LeadEvent)

    assert error.field == "kind"
    assert error.reason == "not a lead event type"


@pytest.mark.parametrize("text", ["{not json", "", "[1,", b"\xff\xfe"])
def test_loads_refuses_text_that_is_not_json(
    converter: LeadkitConverter, text: str | bytes
) -> None:
    with pytest.raises(InvalidValue) as caught:
        converter.loads(text, Lead)

    assert caught.value.field == ""
    assert caught.value.reason.startswith("not JSON")


def test_loads_checks_the_envelope_of_valid_json(converter: LeadkitConverter) -> None:
    with pytest.raises(InvalidValue) as caught:
        converter.loads('{"schema": 99, "kind": "Lead", "data": {}}', Lead)

    assert caught.value.field == "schema"


# ---------------------------------------------------------------------------------------------
# Malformed data names the path of the bad field


def _set(path: str, value: object) -> Callable[[Data], None]:
    """A mutation setting ``path`` (``notes.0.attachment.sha256``) in lead data."""

    def mutate(data: Data) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(key: str) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        del data[key]

    return mutate


MALFORMED: list[tuple[str, Callable[[Data], None], str]] = [
    ("bad postal code", _set("address.postal_code", "12#45"), "address.postal_code"),
    ("long city", _set("address.city", "c" * 81), "address.city"),
    ("bad sha256", _set("notes.0.attachment.sha256", "XYZ"), "notes[0].attachment.sha256"),
    (
        "bad media type",
        _set("notes.0.attachment.media_type", "pdf"),
        "notes[0].attachment.media_type",
    ),
    ("note text not text", _set("notes.0.text", 5), "notes[0].text"),
    ("naive note time", _set("notes.0.at", "2024-05-01T09:00:00"), "notes[0].at"),
    ("empty activity subject", _set("activities.0.subject", " "), "activities[0].subject"),
    ("unknown activity kind", _set("activities.0.kind", "FAX"), "activities[0].kind"),
    ("empty owner id", _set("owner.id", ""), "owner.id"),
    ("long owner name", _set("owner.name", "n" * 201), "owner.name"),
    ("empty modifier id", _set("modified_by.id", " "), "modified_by.id"),
    (
        "custom int as text",
        _set("custom_fields.count", {"type": "integer", "value": "1"}),
        "custom_fields.count",
    ),
    (
        "custom bool as int",
        _set("custom_fields.flag", {"type": "boolean", "value": 1}),
        "custom_fields.flag",
    ),
    (
        "custom float type",
        _set("custom_fields.ratio", {"type": "float", "value": 0.25}),
        "custom_fields.ratio",
    ),
    (
        "custom decimal float",
        _set("custom_fields.ratio", {"type": "decimal", "value": 0.25}),
        "custom_fields.ratio",
    ),
    (
        "custom naive",
        _set("custom_fields.met_at", {"type": "datetime", "value": "2024-05-01T09:00"}),
        "custom_fields.met_at",
    ),
    (
        "custom bad date",
        _set("custom_fields.met_on", {"type": "date", "value": "2024-13-01"}),
        "custom_fields.met_on",
    ),
    ("custom no type", _set("custom_fields.memo", {"value": "x"}), "custom_fields.memo"),
    (
        "custom extra key",
        _set("custom_fields.memo", {"type": "text", "value": "x", "y": 1}),
        "custom_fields.memo",
    ),
    (
        "custom option code",
        _set("custom_fields.tier", {"type": "option", "value": {"code": "2", "label": ""}}),
        "custom_fields.tier.code",
    ),
    ("custom bad name", _set("custom_fields.Bad", {"type": "text", "value": "x"}), "custom_fields"),
    ("unknown extra key", _set("colour", "red"), "colour"),
    ("pending events", _set("pending_events", []), "pending_events"),
    ("missing owner", _drop("owner"), "owner"),
    ("missing id", _drop("id"), "id"),
    ("bad lead id", _set("id", "bad id"), "id"),
    ("bad account id", _set("existing_account", ""), "existing_account"),
    ("bad opportunity id", _set("qualified_account", "-x"), "qualified_account"),
    ("stakeholder contact", _set("stakeholders.0.contact_id", " "), "stakeholders[0].contact_id"),
    ("stakeholder role", _set("stakeholders.0.role", ""), "stakeholders[0].role"),
    ("long last name", _set("name.last", "L" * 101), "name.last"),
    ("bad email", _set("email", "ada@"), "email"),
    ("bad website", _set("website", "ftp://x.com"), "website"),
    ("bad phone", _set("business_phone", {"raw": "abc", "region": "SE"}), "business_phone"),
    ("bad stored e164", _set("business_phone.e164", "12345"), "business_phone.e164"),
    ("bad stored extension", _set("business_phone.extension", "x1"), "business_phone.extension"),
    ("unknown phone key", _set("business_phone.country", "SE"), "business_phone"),
    ("phone raw not text", _set("business_phone.raw", 46701234567), "business_phone"),
    (
        "bad phone region",
        _set("business_phone", {"raw": "070", "region": "XX"}),
        "business_phone.region",
    ),
    (
        "money float",
        _set("budget_amount", {"amount": 1.5, "currency": "EUR"}),
        "budget_amount.amount",
    ),
    (
        "money NaN",
        _set("budget_amount", {"amount": "NaN", "currency": "EUR"}),
        "budget_amount.amount",
    ),
    (
        "money currency",
        _set("budget_amount", {"amount": "1", "currency": "EURO"}),
        "budget_amount.currency",
    ),
    (
        "money too large",
        _set("estimated_value", {"amount": "1e15", "currency": "JPY"}),
        "estimated_value.amount",
    ),
    ("unknown rating code", _set("rating", 9), "rating"),
    ("rating label", _set("rating", "Hot"), "rating"),
    ("unknown state", _set("state", "CLOSED"), "state"),
    ("state code", _set("state", 2), "state"),
    ("negative reason code", _set("reason.code", -1), "reason.code"),
    ("empty reason label", _set("reason.label", ""), "reason.label"),
    ("naive created_at", _set("created_at", "2024-05-01T09:00:00"), "created_at"),
    ("not a date-time", _set("modified_at", "yesterday"), "modified_at"),
    (
        "close date with time",
        _set("estimated_close_date", "2024-09-30T00:00"),
        "estimated_close_date",
    ),
    ("notes not a list", _set("notes", 5), "notes"),
]


@pytest.mark.parametrize(
    ("mutate", "path"), [(m, p) for _, m, p in MALFORMED], ids=[n for n, _, _ in MALFORMED]
)
def test_malformed_data_is_refused_naming_the_path_of_the_bad_field(
    converter: LeadkitConverter, mutate: Callable[[Data], None], path: str
) -> None:
    envelope = _dumped(converter)
    mutate(envelope["data"])

    error = _load_error(converter, envelope)

    assert error.fields == (path,)
    assert error.reason


def test_every_bad_field_is_listed(converter: LeadkitConverter) -> None:
    envelope = _dumped(converter)
    envelope["data"]["topic"] = 5
    envelope["data"]["version"] = "1"
    envelope["data"]["address"]["postal_code"] = "#"

    error = _load_error(converter, envelope)

    assert set(error.fields) == {"topic", "version", "address.postal_code"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "1"),  # a string where an int is expected
        ("version", True),  # a bool is not an int
        ("version", 1.0),
        ("timeline_seq", None),
        ("topic", 5),  # an int where text is expected
        ("topic", None),
        ("job_title", True),
        ("rating", True),
        ("rating", "1"),
        ("budget", 1.0),
        ("id", 1),
        ("created_at", 1714554000),
        ("estimated_close_date", 20240930),
    ],
)
def test_types_are_strict(converter: LeadkitConverter, field: str, value: object) -> None:
    envelope = _dumped(converter)
    envelope["data"][field] = value

    error = _load_error(converter, envelope)

    assert error.fields == (field,)
    assert error.value == value


def test_a_bool_custom_field_stays_a_bool_and_an_int_stays_an_int(
    converter: LeadkitConverter,
) -> None:
    fields = CustomFields({"a": True, "b": 1})

    loaded = converter.structure(converter.unstructure(fields), CustomFields)

    assert loaded == fields
    assert loaded != CustomFields({"a": 1, "b": True})


def test_a_list_of_many_bad_items_is_refused_naming_the_first_ones_only(
    converter: LeadkitConverter,
) -> None:
    # A stranger's small document of thousands of bad items: reading stops at the
    # MAX_BAD_ITEMS-th bad one (each costs far more than a good one), and says so.
    envelope = _dumped(converter)
    good = envelope["data"]["notes"][0]
    bad = [{**good, "body": index} for index in range(5_000)]
    envelope["data"]["notes"] = [good, *bad]

    error = _load_error(converter, envelope)

    assert error.fields == (
        *(f"notes[{i}].body" for i in range(1, MAX_BAD_ITEMS + 1)),
        "notes",
    )
    assert error.problems[-1].reason == (
        f"{MAX_BAD_ITEMS} bad items by index {MAX_BAD_ITEMS}: "
        f"the other {5_001 - MAX_BAD_ITEMS - 1} items were not checked"
    )


def test_a_short_list_of_bad_items_names_every_one(converter: LeadkitConverter) -> None:
    envelope = _dumped(converter)
    good = envelope["data"]["notes"][0]
    envelope["data"]["notes"] = [{**good, "body": index} for index in range(MAX_BAD_ITEMS)]

    error = _load_error(converter, envelope)

    assert error.fields == tuple(f"notes[{i}].body" for i in range(MAX_BAD_ITEMS))


def test_many_unknown_fields_are_summed_up_after_the_first_ones(
    converter: LeadkitConverter,
) -> None:
    envelope = _dumped(converter)
    envelope["data"].update({f"k{index:05}": index for index in range(10_000)})

    error = _load_error(converter, envelope)

    assert error.fields[:MAX_PROBLEMS] == tuple(f"k{index:05}" for index in range(MAX_PROBLEMS))
    assert error.problems[-1].field == ""
    assert error.problems[-1].reason == "9980 more problems not listed"
    assert len(error.problems) == MAX_PROBLEMS + 1


def test_structure_names_the_path_without_an_envelope(converter: LeadkitConverter) -> None:
    with pytest.raises(InvalidValue) as caught:
        converter.structure({"first": 5}, PersonName)

    assert caught.value.fields == ("first",)


def test_a_patch_with_an_unknown_field_is_refused(converter: LeadkitConverter) -> None:
    with pytest.raises(InvalidValue, match="not an editable lead field") as caught:
        converter.structure({"state": "OPEN"}, LeadPatch)

    assert caught.value.field == "state"


def test_a_patch_with_a_bad_value_names_the_field(converter: LeadkitConverter) -> None:
    with pytest.raises(InvalidValue) as caught:
        converter.structure({"address": {"postal_code": "#1"}}, LeadPatch)

    assert caught.value.field == "address.postal_code"


# ---------------------------------------------------------------------------------------------
# Event tags


def _event_envelope(converter: LeadkitConverter) -> Data:
    return copy.deepcopy(converter.dump(RICH.pending_events[0]))


@pytest.mark.parametrize("tag", ["LeadDeleted", "", None, 5, "leadcreated"])
def test_an_event_with_an_unknown_type_tag_is_refused(
    converter: LeadkitConverter, tag: object
) -> None:
    envelope = _event_envelope(converter)
    envelope["data"]["type"] = tag

    error = _load_error(converter, envelope, LeadEvent)

    assert error.field == "type"
    assert error.reason == "not a lead event type"


def test_an_event_without_a_type_tag_is_refused(converter: LeadkitConverter) -> None:
    envelope = _event_envelope(converter)
    del envelope["data"]["type"]

    assert _load_error(converter, envelope, LeadEvent).field == "type"


def test_an_event_loaded_as_its_own_type_refuses_another_type_tag(
    converter: LeadkitConverter,
) -> None:
    envelope = _event_envelope(converter)
    envelope["data"]["type"] = "NoteAdded"

    error = _load_error(converter, envelope, LeadCreated)

    assert error.field == "type"
    assert error.reason == "expected LeadCreated"


def test_an_event_loaded_as_its_own_type_may_omit_the_tag(converter: LeadkitConverter) -> None:
    envelope = _event_envelope(converter)
    del envelope["data"]["type"]

    assert converter.load(envelope, LeadCreated) == RICH.pending_events[0]


def test_event_data_that_is_not_an_object_is_refused(converter: LeadkitConverter) -> None:
    envelope = {**_event_envelope(converter), "data": ["LeadCreated"]}

    error = _load_error(converter, envelope, LeadEvent)

    assert error.reason == "must be an object"


def test_event_tags_are_the_event_type_names(converter: LeadkitConverter) -> None:
    event = LeadRated(lead_id=LID, at=T0, by=ANN, rating=Rating.HOT, previous=None)

    data = converter.unstructure(event)

    assert data == {
        "type": "LeadRated",
        "lead_id": "L-1",
        "at": "2024-05-01T09:00:00+00:00",
        "by": {"id": "u1", "name": "Ann"},
        "rating": 1,
        "previous": None,
    }
    assert set(EVENT_TYPES) >= {data["type"]}


def test_malformed_event_fields_name_their_path(converter: LeadkitConverter) -> None:
    note_added = next(e for e in RICH.pending_events if isinstance(e, NoteAdded))
    envelope = copy.deepcopy(converter.dump(note_added))
    envelope["data"]["note"]["attachment"]["size"] = -1
    envelope["data"]["by"]["id"] = ""

    error = _load_error(converter, envelope, LeadEvent)

    assert set(error.fields) == {"note.attachment.size", "by.id"}


def test_an_event_with_a_naive_time_is_refused(converter: LeadkitConverter) -> None:
    envelope = _event_envelope(converter)
    envelope["data"]["at"] = "2024-05-01T09:00:00"

    error = _load_error(converter, envelope, LeadEvent)

    assert error.fields == ("at",)
    assert "UTC offset" in error.reason


def test_a_note_round_trips_on_its_own(converter: LeadkitConverter) -> None:
    note = Note(1, "text", T0, ANN, title="T", attachment=PDF, edited_at=T0, edited_by=BOB)

    assert converter.load(converter.dump(note), Note) == note


@pytest.mark.parametrize("field", ["notes", "stakeholders", "activities"])
def test_an_object_where_a_list_belongs_is_refused(converter: LeadkitConverter, field: str) -> None:
    envelope = _dumped(converter)
    envelope["data"][field] = {}
    error = _load_error(converter, envelope)
    assert error.field == field
    assert "list" in error.reason
