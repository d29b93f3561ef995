"""The request of a qualification: duplicate candidates and answers, the request's choices and
links, and the questions (leadkit.conversion_request), every rule and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import attrs
import pytest

from leadkit.conversion import NoDuplicates
from leadkit.conversion_request import (
    CandidateType,
    Choice,
    CustomerChoice,
    DuplicateAnswer,
    DuplicateCandidate,
    QualifyRequest,
    Question,
    QuestionKind,
    Resolution,
    _as_choice,
)
from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.policies import RecordKind
from leadkit.profiles import FieldProfile
from leadkit.values import AccountId, ContactId, LeadId, OpportunityId, UserRef

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SAME_EMAIL = DuplicateCandidate("contact", "C-9", 0.95, "same e-mail address")
SAME_COMPANY = DuplicateCandidate(CandidateType.ACCOUNT, "A-9", 0.8, "same company")


def make_lead() -> Lead:
    return Lead.create(
        LeadId("L-1"),
        LeadPatch(company="Acme AB"),
        at=T0,
        by=UserRef("ann"),
        profile=FieldProfile("none", ()),
    )


# Candidates and answers --------------------------------------------------------------------


def test_a_candidate_may_come_from_any_enum_with_the_same_values() -> None:
    class RecordType(Enum):
        CONTACT = "contact"

    assert DuplicateCandidate(RecordType.CONTACT, "C-1").record_type is CandidateType.CONTACT


@pytest.mark.parametrize(
    "build",
    [
        lambda: DuplicateCandidate("order", "X-1"),
        lambda: DuplicateCandidate("contact", " "),
        lambda: DuplicateCandidate("contact", "C-1", -1),
        lambda: DuplicateCandidate("contact", "C-1", True),
        lambda: DuplicateAnswer("lead", "L-2", Resolution.LINK),
        lambda: DuplicateAnswer("contact", "C-1", "link"),  # type: ignore[arg-type]
    ],
    ids=["type", "id", "score", "bool score", "link a lead", "resolution"],
)
def test_bad_candidates_and_answers_are_refused(build: Any) -> None:
    with pytest.raises(InvalidValue):
        build()


def test_no_duplicates_finds_nothing() -> None:
    assert NoDuplicates().find(make_lead(), None) == ()  # type: ignore[arg-type]


# The request -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"create_contact": Choice.NO, "link_contact": ContactId("C-1")},
        {"currency": "XYZ"},
        {"currency": 5},
        {"create_account": "yes"},
        {"customer": "account"},
        {
            "duplicate_answers": [
                DuplicateAnswer("contact", "C-1", Resolution.LINK),
                DuplicateAnswer("contact", "C-1", Resolution.CREATE_ANYWAY),
            ]
        },
        {
            "duplicate_answers": [
                DuplicateAnswer("contact", "C-1", Resolution.LINK),
                DuplicateAnswer("contact", "C-2", Resolution.LINK),
            ]
        },
        {
            "link_contact": ContactId("C-3"),
            "duplicate_answers": [DuplicateAnswer("contact", "C-1", Resolution.LINK)],
        },
        {
            "create_account": Choice.NO,
            "duplicate_answers": [DuplicateAnswer("account", "A-1", Resolution.LINK)],
        },
        {"duplicate_answers": ["C-1"]},
    ],
    ids=[
        "no and link",
        "unknown currency",
        "currency not text",
        "choice not enum",
        "customer not enum",
        "answered twice",
        "two links",
        "link disagrees",
        "link refused kind",
        "answer not an answer",
    ],
)
def test_a_contradictory_request_is_refused_when_built(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue):
        QualifyRequest(**fields)


def test_answering_a_candidate_replaces_an_earlier_answer() -> None:
    request = QualifyRequest().answer(SAME_EMAIL, Resolution.CREATE_ANYWAY)
    request = request.answer(SAME_EMAIL, Resolution.LINK)
    assert request.duplicate_answers == (DuplicateAnswer.link(SAME_EMAIL),)
    assert request.explicit_link(RecordKind.CONTACT) == ContactId("C-9")


# Every refusal of a candidate, an answer or a request names its field, value and reason ----


def _refusal(build: Callable[[], object]) -> tuple[str, object, str]:
    with pytest.raises(InvalidValue) as caught:
        build()
    return caught.value.field, caught.value.value, caught.value.reason


_LINK_ACME = DuplicateAnswer(CandidateType.ACCOUNT, "A-1", Resolution.LINK)


@pytest.mark.parametrize(
    ("build", "field", "value", "reason"),
    [
        (
            lambda: DuplicateCandidate("opportunity", "O-1"),
            "record_type",
            "opportunity",
            "must be lead, contact or account",
        ),
        (
            lambda: DuplicateCandidate("contact", "C-1", score="high"),
            "score",
            "high",
            "must be a number",
        ),
        (
            lambda: DuplicateCandidate("contact", "C-1", score=True),
            "score",
            True,
            "must be a number",
        ),
        (
            lambda: DuplicateCandidate("contact", "C-1", score=-0.5),
            "score",
            -0.5,
            "must be a finite number >= 0",
        ),
        (
            lambda: DuplicateCandidate("contact", "C-1", score=float("inf")),
            "score",
            float("inf"),
            "must be a finite number >= 0",
        ),
        (lambda: DuplicateCandidate("contact", " "), "record_id", " ", "must be a non-empty id"),
        (lambda: DuplicateCandidate("contact", "C-1", reason=5), "reason", 5, "must be text"),  # type: ignore[arg-type]
        (
            lambda: DuplicateAnswer("contact", "C-1", "link"),  # type: ignore[arg-type]
            "resolution",
            "link",
            "must be LINK or CREATE_ANYWAY",
        ),
        (
            lambda: DuplicateAnswer("lead", "L-2", Resolution.LINK),
            "resolution",
            Resolution.LINK,
            "a lead cannot be linked",
        ),
        (
            lambda: DuplicateAnswer("contact", "", Resolution.LINK),
            "record_id",
            "",
            "must be a non-empty id",
        ),
        (
            lambda: QualifyRequest(currency=978),
            "currency",
            978,
            "must be an ISO 4217 code such as 'EUR'",
        ),
        (
            lambda: QualifyRequest(create_contact="yes"),  # type: ignore[arg-type]
            "create_contact",
            "yes",
            "must be YES, NO or POLICY",
        ),
        (
            lambda: QualifyRequest(create_account=Choice.NO, link_account=AccountId("A-1")),
            "link_account",
            AccountId("A-1"),
            "create_account is NO, so nothing can be linked",
        ),
        (
            lambda: QualifyRequest(customer="account"),  # type: ignore[arg-type]
            "customer",
            "account",
            "must be ACCOUNT or CONTACT",
        ),
        (
            lambda: QualifyRequest(duplicate_answers=["A-1"]),  # type: ignore[list-item]
            "duplicate_answers",
            "A-1",
            "must be DuplicateAnswer values",
        ),
        (
            lambda: QualifyRequest(duplicate_answers=[_LINK_ACME, _LINK_ACME]),
            "duplicate_answers",
            _LINK_ACME,
            "the same candidate is answered twice",
        ),
        (
            lambda: QualifyRequest(
                duplicate_answers=[
                    _LINK_ACME,
                    DuplicateAnswer(CandidateType.ACCOUNT, "A-2", Resolution.LINK),
                ]
            ),
            "duplicate_answers",
            DuplicateAnswer(CandidateType.ACCOUNT, "A-2", Resolution.LINK),
            "only one account can be linked",
        ),
        (
            lambda: QualifyRequest(link_account=AccountId("A-9"), duplicate_answers=[_LINK_ACME]),
            "duplicate_answers",
            _LINK_ACME,
            "link_account already names A-9",
        ),
        (
            lambda: QualifyRequest(create_account=Choice.NO, duplicate_answers=[_LINK_ACME]),
            "link_account",
            AccountId("A-1"),
            "create_account is NO, so nothing can be linked",
        ),
    ],
    ids=[
        "unknown type",
        "text score",
        "bool score",
        "negative score",
        "infinite score",
        "blank id",
        "reason not text",
        "resolution not a Resolution",
        "link a lead",
        "answer blank id",
        "currency not text",
        "choice not a Choice",
        "link refused",
        "customer not a choice",
        "answer not an answer",
        "answered twice",
        "two links",
        "link contradicts",
        "link an answer refused",
    ],
)
def test_a_bad_candidate_answer_or_request_is_refused_naming_field_value_and_reason(
    build: Callable[[], object], field: str, value: object, reason: str
) -> None:
    assert _refusal(build) == (field, value, reason)


def test_a_candidate_score_of_zero_is_accepted_and_a_nan_refused() -> None:
    assert DuplicateCandidate("contact", "C-1", score=0).score == 0.0
    field, _, reason = _refusal(lambda: DuplicateCandidate("contact", "C-1", score=float("nan")))
    assert (field, reason) == ("score", "must be a finite number >= 0")


@pytest.mark.parametrize(
    ("answer", "choice"),
    [(Choice.NO, Choice.NO), (True, Choice.YES), (False, Choice.NO), ("policy", Choice.POLICY)],
)
def test_an_answer_to_a_create_question_may_be_a_choice_a_bool_or_its_text(
    answer: object, choice: Choice
) -> None:
    assert _as_choice(answer) == choice
    assert _refusal(lambda: _as_choice("maybe")) == ("answer", "maybe", "must be yes, no or policy")


# Candidates, answers and requests as values -------------------------------------------------


def test_a_candidate_keeps_its_fields_with_a_score_of_one_and_no_reason_by_default() -> None:
    plain = DuplicateCandidate("account", "A-1")
    assert (plain.record_type, plain.record_id, plain.score, plain.reason) == (
        CandidateType.ACCOUNT,
        "A-1",
        1.0,
        "",
    )
    assert plain.key == (CandidateType.ACCOUNT, "A-1")
    assert str(plain) == "account A-1"
    assert str(SAME_EMAIL) == "contact C-9 (same e-mail address)"
    assert SAME_EMAIL.score == 0.95


def test_a_whole_number_score_becomes_a_float() -> None:
    score = DuplicateCandidate("lead", "L-2", 3).score
    assert (type(score), score) == (float, 3.0)
    assert DuplicateCandidate("lead", "L-2", 1e300).score == 1e300


def test_an_unknown_record_type_is_refused_with_the_value_given() -> None:
    class Other(Enum):
        ORDER = "order"

    assert _refusal(lambda: DuplicateCandidate(Other.ORDER, "X-1")) == (
        "record_type",
        Other.ORDER,
        "must be lead, contact or account",
    )


def test_an_id_that_is_not_text_is_refused() -> None:
    assert _refusal(lambda: DuplicateCandidate("contact", 7)) == (  # type: ignore[arg-type]
        "record_id",
        7,
        "must be a non-empty id",
    )
    assert _refusal(lambda: DuplicateAnswer("contact", 7, Resolution.LINK)) == (  # type: ignore[arg-type]
        "record_id",
        7,
        "must be a non-empty id",
    )


def test_answers_link_or_create_anyway_the_candidate_they_name() -> None:
    link = DuplicateAnswer.link(SAME_COMPANY)
    anyway = DuplicateAnswer.create_anyway(SAME_EMAIL)
    assert (link.record_type, link.record_id, link.resolution) == (
        CandidateType.ACCOUNT,
        "A-9",
        Resolution.LINK,
    )
    assert (anyway.record_type, anyway.record_id, anyway.resolution) == (
        CandidateType.CONTACT,
        "C-9",
        Resolution.CREATE_ANYWAY,
    )
    assert anyway.key == (CandidateType.CONTACT, "C-9")
    assert DuplicateAnswer("lead", "L-2", Resolution.CREATE_ANYWAY).key == (
        CandidateType.LEAD,
        "L-2",
    )


def test_a_request_asks_the_policy_and_links_nothing_by_default() -> None:
    request = QualifyRequest()
    assert [request.choice(kind) for kind in RecordKind] == [Choice.POLICY] * 3
    assert [request.explicit_link(kind) for kind in RecordKind] == [None] * 3
    assert (request.currency, request.customer, request.owner) == (None, None, None)
    assert request.duplicate_answers == ()


def test_choice_reads_the_create_field_of_each_kind() -> None:
    request = QualifyRequest(
        create_account=Choice.YES, create_contact=Choice.NO, create_opportunity=Choice.POLICY
    )
    assert request.choice(RecordKind.ACCOUNT) is Choice.YES
    assert request.choice(RecordKind.CONTACT) is Choice.NO
    assert request.choice(RecordKind.OPPORTUNITY) is Choice.POLICY


def test_explicit_link_reads_the_link_fields_then_the_link_answers() -> None:
    named = QualifyRequest(
        link_account=AccountId("A-1"),
        link_contact=ContactId("C-1"),
        link_opportunity=OpportunityId("O-1"),
    )
    assert named.explicit_link(RecordKind.ACCOUNT) == AccountId("A-1")
    assert named.explicit_link(RecordKind.CONTACT) == ContactId("C-1")
    assert named.explicit_link(RecordKind.OPPORTUNITY) == OpportunityId("O-1")
    answered = QualifyRequest(
        duplicate_answers=[
            DuplicateAnswer("lead", "L-2", Resolution.CREATE_ANYWAY),
            DuplicateAnswer("account", "A-3", Resolution.CREATE_ANYWAY),
            DuplicateAnswer("account", "A-2", Resolution.LINK),
            DuplicateAnswer("contact", "C-2", Resolution.LINK),
        ]
    )
    assert answered.explicit_link(RecordKind.ACCOUNT) == AccountId("A-2")
    assert answered.explicit_link(RecordKind.CONTACT) == ContactId("C-2")
    anyway = QualifyRequest(duplicate_answers=[DuplicateAnswer.create_anyway(SAME_EMAIL)])
    assert anyway.explicit_link(RecordKind.CONTACT) is None
    assert anyway.explicit_link(RecordKind.ACCOUNT) is None


def test_a_link_answer_may_repeat_the_link_the_request_names() -> None:
    request = QualifyRequest(
        link_contact=ContactId("C-9"), duplicate_answers=[DuplicateAnswer.link(SAME_EMAIL)]
    )
    assert request.explicit_link(RecordKind.CONTACT) == ContactId("C-9")


def test_one_link_answer_per_record_type_and_create_anyway_answers_beside_it() -> None:
    request = QualifyRequest(
        duplicate_answers=[
            DuplicateAnswer.link(SAME_EMAIL),
            DuplicateAnswer.link(SAME_COMPANY),
            DuplicateAnswer("contact", "C-10", Resolution.CREATE_ANYWAY),
        ]
    )
    assert len(request.duplicate_answers) == 3


def test_a_link_answer_for_a_refused_contact_names_the_contact_link() -> None:
    answer = DuplicateAnswer.link(SAME_EMAIL)
    assert _refusal(
        lambda: QualifyRequest(create_contact=Choice.NO, duplicate_answers=[answer])
    ) == ("link_contact", ContactId("C-9"), "create_contact is NO, so nothing can be linked")


def test_a_link_answer_contradicting_the_contact_link_names_it() -> None:
    answer = DuplicateAnswer.link(SAME_EMAIL)
    assert _refusal(
        lambda: QualifyRequest(link_contact=ContactId("C-1"), duplicate_answers=[answer])
    ) == ("duplicate_answers", answer, "link_contact already names C-1")


def test_two_contact_links_are_refused_naming_the_second() -> None:
    second = DuplicateAnswer("contact", "C-2", Resolution.LINK)
    assert _refusal(
        lambda: QualifyRequest(duplicate_answers=[DuplicateAnswer.link(SAME_EMAIL), second])
    ) == ("duplicate_answers", second, "only one contact can be linked")


@pytest.mark.parametrize("kind", ["account", "contact", "opportunity"])
def test_each_create_choice_must_be_a_choice(kind: str) -> None:
    fields: dict[str, Any] = {f"create_{kind}": True}
    assert _refusal(lambda: QualifyRequest(**fields)) == (
        f"create_{kind}",
        True,
        "must be YES, NO or POLICY",
    )


@pytest.mark.parametrize(
    ("fields", "field", "value"),
    [
        ({"create_contact": Choice.NO, "link_contact": ContactId("C-1")}, "link_contact", "C-1"),
        (
            {"create_opportunity": Choice.NO, "link_opportunity": OpportunityId("O-1")},
            "link_opportunity",
            "O-1",
        ),
    ],
)
def test_a_link_to_a_refused_kind_is_refused(
    fields: dict[str, Any], field: str, value: str
) -> None:
    kind = field.removeprefix("link_")
    refused = _refusal(lambda: QualifyRequest(**fields))
    assert (refused[0], str(refused[1]), refused[2]) == (
        field,
        value,
        f"create_{kind} is NO, so nothing can be linked",
    )


def test_a_currency_is_trimmed_and_upper_cased_and_an_unknown_one_refused() -> None:
    assert QualifyRequest(currency=" sek ").currency == "SEK"
    assert _refusal(lambda: QualifyRequest(currency="XYZ")) == (
        "currency",
        "XYZ",
        "not an ISO 4217 currency code",
    )


def test_the_customer_may_be_either_choice() -> None:
    assert QualifyRequest(customer=CustomerChoice.CONTACT).customer is CustomerChoice.CONTACT
    assert QualifyRequest(customer=CustomerChoice.ACCOUNT).customer is CustomerChoice.ACCOUNT


def test_answering_a_new_candidate_keeps_the_other_answers() -> None:
    request = QualifyRequest().answer(SAME_EMAIL, Resolution.CREATE_ANYWAY)
    request = request.answer(SAME_COMPANY, Resolution.LINK)
    assert request.duplicate_answers == (
        DuplicateAnswer.create_anyway(SAME_EMAIL),
        DuplicateAnswer.link(SAME_COMPANY),
    )


# Questions and their answers ---------------------------------------------------------------


def _question(kind: QuestionKind) -> Question:
    return Question(kind, f"{kind.value}?", ("yes", "no"), "yes")


def test_a_question_names_the_request_field_that_answers_it_and_shows_its_text() -> None:
    question = Question(
        QuestionKind.CUSTOMER, "Account or contact?", ("account", "contact"), "account"
    )
    assert question.field == "customer"
    assert str(question) == "Account or contact?"
    assert [k.value for k in QuestionKind] == [
        "create_account",
        "create_contact",
        "create_opportunity",
        "customer",
        "currency",
    ]


@pytest.mark.parametrize(
    ("kind", "value", "field", "expected"),
    [
        (QuestionKind.CURRENCY, "usd", "currency", "USD"),
        (QuestionKind.CUSTOMER, "contact", "customer", CustomerChoice.CONTACT),
        (QuestionKind.CUSTOMER, CustomerChoice.ACCOUNT, "customer", CustomerChoice.ACCOUNT),
        (QuestionKind.CREATE_ACCOUNT, "no", "create_account", Choice.NO),
        (QuestionKind.CREATE_CONTACT, False, "create_contact", Choice.NO),
        (QuestionKind.CREATE_OPPORTUNITY, Choice.YES, "create_opportunity", Choice.YES),
    ],
)
def test_answering_a_question_sets_its_field_only(
    kind: QuestionKind, value: object, field: str, expected: object
) -> None:
    before = QualifyRequest(owner=UserRef("ann"))
    after = before.answering(_question(kind), value)
    assert getattr(after, field) == expected
    assert attrs.evolve(after, **{field: getattr(before, field)}) == before


def test_a_customer_answer_that_is_neither_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="'both' is not a valid CustomerChoice"):
        QualifyRequest().answering(_question(QuestionKind.CUSTOMER), "both")


def test_an_answer_that_is_not_a_choice_is_refused_naming_the_answer() -> None:
    assert _refusal(
        lambda: QualifyRequest().answering(_question(QuestionKind.CREATE_ACCOUNT), 1.5)
    ) == ("answer", 1.5, "must be yes, no or policy")


def test_answers_that_are_not_answers_are_refused_before_the_links_are_read() -> None:
    assert _refusal(
        lambda: QualifyRequest(create_account=Choice.NO, duplicate_answers=["A-1"])  # type: ignore[list-item]
    ) == ("duplicate_answers", "A-1", "must be DuplicateAnswer values")
