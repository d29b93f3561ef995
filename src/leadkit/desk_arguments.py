"""Plain arguments in, typed values out: the desk's readers of ids, users, qualification
answers, activity kinds and status reasons, each refusing anything else with InvalidValue
naming the argument.

Part of :mod:`leadkit.desk`, which re-exports :func:`qualify_request`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar

from leadkit.conversion import (
    Choice,
    CustomerChoice,
    DuplicateAnswer,
    DuplicateCandidate,
    QualifyRequest,
)
from leadkit.errors import InvalidValue
from leadkit.status import DEFAULT_STATUS_MODEL, StatusReason
from leadkit.timeline import ActivityKind
from leadkit.values import AccountId, ContactId, OpportunityId, RecordId, UserRef

__all__ = ["qualify_request"]

IdT = TypeVar("IdT", bound=RecordId)


def _typed_id(kind: type[IdT], field: str, value: object) -> IdT:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        return kind(value)
    raise InvalidValue(field, value, f"must be a {kind.__name__} or its text")


def _optional_id(kind: type[IdT], field: str, value: object) -> IdT | None:
    return None if value is None else _typed_id(kind, field, value)


def _user(field: str, value: object) -> UserRef:
    if isinstance(value, UserRef):
        return value
    if isinstance(value, str):
        return UserRef(value)
    raise InvalidValue(field, value, "must be a UserRef or a user id")


def _choice(field: str, value: object) -> Choice:
    if value is None:
        return Choice.POLICY
    if isinstance(value, bool):
        return Choice.YES if value else Choice.NO
    if isinstance(value, Choice):
        return value
    if isinstance(value, str) and value.strip().lower() in {c.value for c in Choice}:
        return Choice(value.strip().lower())
    raise InvalidValue(
        field, value, 'must be True, False, "yes", "no" or None / "policy" (the policy decides)'
    )


def _candidate_keys(field: str, values: Iterable[object]) -> list[tuple[str, str]]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidValue(field, values, "must be a list of candidates")
    keys: list[tuple[str, str]] = []
    for i, value in enumerate(values):
        if isinstance(value, DuplicateCandidate):
            keys.append((value.record_type.value, value.record_id))
        elif isinstance(value, Mapping) and {"record_type", "record_id"} <= set(value):
            keys.append((str(value["record_type"]), str(value["record_id"])))
        elif isinstance(value, tuple) and len(value) == 2:
            keys.append((str(value[0]), str(value[1])))
        else:
            raise InvalidValue(
                f"{field}[{i}]", value, "must be a candidate, (record_type, record_id) or an object"
            )
    return keys


_ANSWER_KEYS: Final = frozenset(
    {
        "create_account",
        "create_contact",
        "create_opportunity",
        "link_account",
        "link_contact",
        "link_opportunity",
        "currency",
        "customer",
        "owner",
        "create_anyway",
    }
)


def qualify_request(answers: Mapping[str, Any]) -> QualifyRequest:
    """The :class:`~leadkit.conversion.QualifyRequest` plain answers ask for: ``create_*``
    as True/False/None (or "yes"/"no"/"policy", a question's suggestion), ``link_*`` as ids
    (text), ``currency``, ``customer`` ("account" or "contact"), ``owner`` (a user id) and
    ``create_anyway`` (the duplicate candidates to create a record beside). Raises
    InvalidValue naming an unknown or bad answer."""
    unknown = sorted(set(answers) - _ANSWER_KEYS)
    if unknown:
        raise InvalidValue(unknown[0], answers[unknown[0]], "not a qualification answer")
    customer = answers.get("customer")
    if customer is not None and not isinstance(customer, CustomerChoice):
        try:
            customer = CustomerChoice(str(customer).strip().lower())
        except ValueError:
            raise InvalidValue("customer", customer, "must be 'account' or 'contact'") from None
    owner = answers.get("owner")
    return QualifyRequest(
        create_account=_choice("create_account", answers.get("create_account")),
        create_contact=_choice("create_contact", answers.get("create_contact")),
        create_opportunity=_choice("create_opportunity", answers.get("create_opportunity")),
        link_account=_optional_id(AccountId, "link_account", answers.get("link_account")),
        link_contact=_optional_id(ContactId, "link_contact", answers.get("link_contact")),
        link_opportunity=_optional_id(
            OpportunityId, "link_opportunity", answers.get("link_opportunity")
        ),
        currency=answers.get("currency"),
        customer=customer,
        owner=None if owner is None else _user("owner", owner),
        duplicate_answers=tuple(
            DuplicateAnswer.create_anyway(DuplicateCandidate(kind, key))
            for kind, key in _candidate_keys("create_anyway", answers.get("create_anyway", ()))
        ),
    )


def _activity_kind(value: ActivityKind | str) -> ActivityKind:
    if isinstance(value, ActivityKind):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        for kind in ActivityKind:
            if key in (kind.name.lower(), kind.value):
                return kind
    choices = ", ".join(k.name.lower() for k in ActivityKind)
    raise InvalidValue("kind", value, f"not an activity kind ({choices})")


def _reason(value: StatusReason | str | int) -> StatusReason:
    if isinstance(value, str):
        value = value.replace("-", " ").replace("_", " ")
    return DEFAULT_STATUS_MODEL.parse(value)
