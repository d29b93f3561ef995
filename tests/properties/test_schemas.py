"""The JSON Schemas (leadkit.schemas) hold every document the converter writes: generated
documents from the shipped strategies validate, broken ones do not."""

from __future__ import annotations

import copy
import functools
from datetime import UTC, date, datetime
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadkit import (
    EVENT_TYPES,
    AccountId,
    Activity,
    Address,
    Attachment,
    ContactId,
    CustomFields,
    DuplicateCandidate,
    DuplicatesUnresolved,
    EmailAddress,
    FieldProblem,
    InvalidValue,
    Lead,
    LeadId,
    LeadPatch,
    Money,
    Note,
    NotFound,
    OpportunityId,
    OptionValue,
    PersonName,
    PhoneNumber,
    Stakeholder,
    StakeholderRole,
    StatusReason,
    Url,
    UserRef,
    lead_json,
    make_converter,
    parse_lead_fields,
    problem,
)
from leadkit.conversion import Choice, CustomerChoice, QualifyRequest
from leadkit.fields import OptionSet
from leadkit.records import Account, Contact, Opportunity
from leadkit.schemas import (
    data_schema,
    document_schema,
    event_schemas,
    lead_fields_schema,
    lead_json_schema,
    problem_schema,
    qualify_request_schema,
    schema_id,
)
from leadkit.serialization import CONVERTED_TYPES, SCHEMA_VERSION
from leadkit.testing import strategies as s

converter = make_converter()

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    LeadId: s.lead_ids(),
    AccountId: s.account_ids(),
    ContactId: s.contact_ids(),
    OpportunityId: s.opportunity_ids(),
    UserRef: s.user_refs(),
    EmailAddress: s.email_addresses(),
    PhoneNumber: s.phone_numbers(),
    Money: s.money(),
    PersonName: s.person_names(),
    Address: s.addresses(),
    Url: s.urls(),
    CustomFields: s.custom_fields(),
    OptionValue: s.option_values(),
    Attachment: s.notes_attachments(),
    StakeholderRole: s.stakeholder_roles(),
    Stakeholder: s.stakeholders(),
    Note: s.notes(),
    Activity: s.activities(),
    StatusReason: s.status_reasons(),
    LeadPatch: s.lead_patches(required=False),
    Account: s.accounts(),
    Contact: s.contacts(),
    Opportunity: s.opportunities(),
    Lead: s.leads(),
    **{kind: s.lead_events(kind) for kind in EVENT_TYPES.values()},
}
KINDS = sorted(STRATEGIES, key=lambda k: k.__name__)


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@functools.cache
def _validator_of(kind: type) -> jsonschema.Draft202012Validator:
    """The validator of ``kind``'s schema, made when a test first needs it (checking the 56
    schemas at import cost every test process seconds of collection)."""
    return _validator(document_schema(kind))


def test_every_converted_type_has_a_schema_and_a_strategy() -> None:
    assert set(CONVERTED_TYPES) <= set(STRATEGIES)


@pytest.mark.parametrize("kind", KINDS, ids=[k.__name__ for k in KINDS])
@given(data=st.data())
def test_every_generated_document_validates(kind: type, data: st.DataObject) -> None:
    document = converter.dump(data.draw(STRATEGIES[kind]))
    _validator_of(kind).validate(document)


@settings(max_examples=100)
@given(lead=s.leads())
def test_stored_lead_documents_and_their_api_form_validate(lead: Lead) -> None:
    _validator_of(Lead).validate(converter.dump(lead))
    _lead_json().validate(lead_json(lead))


@functools.cache
def _lead_json() -> jsonschema.Draft202012Validator:
    return _validator(lead_json_schema())


def test_schemas_carry_the_document_schema_version() -> None:
    schema = document_schema(Lead)
    assert schema["$id"] == schema_id("Lead") == f"urn:leadkit:schema:v{SCHEMA_VERSION}:Lead"
    assert schema["properties"]["schema"] == {"const": SCHEMA_VERSION}
    assert set(event_schemas()) == set(EVENT_TYPES)


def _lead() -> Lead:
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    lead = Lead.create(
        LeadId("L-1"),
        LeadPatch(topic="Coffee", name="Ada Lovelace", source="Web", email="ada@example.com"),
        at=at,
        by=UserRef("anna"),
    )
    return lead.add_note("Met at the fair", at=at, by=UserRef("anna"))


def _lead_document() -> dict[str, Any]:
    return converter.dump(_lead())


@pytest.mark.parametrize(
    "breaks",
    [
        lambda d: d.update(schema=SCHEMA_VERSION + 1),
        lambda d: d["data"].update(colour="red"),
        lambda d: d["data"].update(source=99),
        lambda d: d["data"].pop("id"),
        lambda d: d["data"].update(created_at="yesterday"),
        lambda d: d["data"]["name"].update(first=7),
    ],
)
def test_a_broken_lead_document_is_refused(breaks: Any) -> None:
    document = _lead_document()
    broken = copy.deepcopy(document)
    breaks(broken)
    _validator_of(Lead).validate(document)
    with pytest.raises(jsonschema.ValidationError):
        _validator_of(Lead).validate(broken)


def test_an_opportunity_document_must_say_its_customers_kind() -> None:
    opportunity = Opportunity(
        id=OpportunityId("O-1"), name="x", customer=ContactId("C-1"), currency="EUR"
    )
    document = converter.dump(opportunity)
    _validator_of(Opportunity).validate(document)
    del document["data"]["customer_kind"]
    with pytest.raises(jsonschema.ValidationError):
        _validator_of(Opportunity).validate(document)


@given(
    request=st.builds(
        QualifyRequest,
        create_account=st.sampled_from(Choice),
        create_opportunity=st.sampled_from(Choice),
        currency=st.none() | st.sampled_from(["EUR", "SEK", "USD"]),
        customer=st.none() | st.sampled_from(CustomerChoice),
        owner=st.none() | s.user_refs(),
    )
)
def test_qualify_requests_validate(request: QualifyRequest) -> None:
    QUALIFY_REQUESTS.validate(converter.dump(request))


QUALIFY_REQUESTS = _validator(qualify_request_schema())


PROBLEMS = _validator(problem_schema())


@given(
    problems=st.lists(
        st.builds(
            FieldProblem, st.text(min_size=1), st.none() | st.text() | st.integers(), st.text()
        ),
        min_size=1,
        max_size=4,
    )
)
def test_problem_documents_validate(problems: list[FieldProblem]) -> None:
    PROBLEMS.validate(problem(InvalidValue.many(problems))[1])


def test_problem_documents_of_other_errors_validate() -> None:
    for error in (
        NotFound("lead", LeadId("L-1")),
        DuplicatesUnresolved([DuplicateCandidate("contact", "C-1", 90.0, "same e-mail")]),
    ):
        PROBLEMS.validate(problem(error)[1])
    with pytest.raises(jsonschema.ValidationError):
        PROBLEMS.validate({"type": "about:blank", "title": "x", "status": 200, "detail": ""})


def test_data_schema_is_the_document_without_its_envelope() -> None:
    _validator(data_schema(Lead)).validate(converter.unstructure(_lead()))


LEAD_FIELDS = _validator(lead_fields_schema())


@st.composite
def _api_bodies(draw: st.DrawFn) -> tuple[dict[str, Any], LeadPatch]:
    """An API body in the dialect, written from a generated patch in a drawn form each."""
    patch = draw(s.lead_patches(required=False))
    body: dict[str, Any] = {}
    for name, value in patch.items():
        if value is None or name == "custom_fields":
            continue
        if isinstance(value, PersonName):
            body[name] = draw(st.sampled_from([attrs.asdict(value), value.full or None]))
            if body[name] is None:
                del body[name]
        elif isinstance(value, Address):
            body[name] = attrs.asdict(value)
        elif isinstance(value, Money):
            amount = str(value.amount)
            body[name] = draw(
                st.sampled_from(
                    [
                        {"amount": amount, "currency": value.currency},
                        f"{amount} {value.currency}",
                        [amount, value.currency],
                    ]
                )
            )
        elif isinstance(value, OptionSet):
            body[name] = draw(st.sampled_from([value.code, value.label]))
        elif isinstance(value, PhoneNumber):
            body[name] = value.e164
        elif isinstance(value, EmailAddress | Url):
            body[name] = value.text
        elif isinstance(value, date):
            body[name] = value.isoformat()
        else:
            body[name] = value
    return body, patch


@given(_api_bodies())
def test_api_bodies_in_the_dialect_validate_and_parse_to_the_same_fields(
    drawn: tuple[dict[str, Any], LeadPatch],
) -> None:
    body, patch = drawn
    LEAD_FIELDS.validate(body)
    parsed = parse_lead_fields(body)
    for name in ("source", "rating", "budget", "need", "address", "budget_amount", "topic"):
        if name in body:
            assert getattr(parsed, name) == getattr(patch, name)


def test_an_unknown_key_is_refused_by_the_input_schema_and_the_parser() -> None:
    body = {"topic": "x", "colour": "red"}
    with pytest.raises(jsonschema.ValidationError):
        LEAD_FIELDS.validate(body)
    with pytest.raises(InvalidValue):
        parse_lead_fields(body)
