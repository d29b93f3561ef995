"""Planning a qualification: :func:`plan_qualification` and its steps, and :func:`link_targets`.

:func:`plan_qualification` is pure: given the lead, the policy, the request, the duplicate
candidates found, the records to link (as read from the store), new ids and the time, it
returns a :class:`ConversionPlan` — every record to create or link with every field value it
gets, the questions a PROMPT policy still needs answered and the duplicate candidates still
to resolve. Nothing is stored here; :mod:`leadkit.services` executes a complete plan in one
unit of work.

The rules (see ``docs/qualification.md``):

- An account only when the lead has a company (the mapped account name is not blank) and is
  not already linked to an account; a contact from the person fields (a first or last name)
  unless a contact is linked; the opportunity named from the topic (else the company, else
  the full name), its customer the account if there is one, else the contact.
- A record is linked instead of created when the request names one, a duplicate answer links
  one, the lead was linked to one (``existing_account`` / ``existing_contact``) or an earlier
  qualification of this lead created it — so qualifying a reactivated lead again never makes a
  second contact for the same person.
- A linked account or contact is only ever *filled*: a mapped field is set when the stored
  value is empty, never overwritten; ``filled`` lists what was. A linked opportunity's fields
  are never changed.
- The opportunity's currency comes from the request, else the lead's budget amount (then its
  estimated value), else the policy's default currency; AUTO_CREATE falls back to the base
  currency, PROMPT asks. Amounts are converted at the registry's rates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Final, TypeVar

import attrs

from leadkit.conversion_plan import (
    ConversionPlan,
    LinkedRecords,
    LinkTargets,
    NewIds,
    PlannedAccount,
    PlannedContact,
    PlannedOpportunity,
    StepAction,
)
from leadkit.conversion_request import (
    CandidateType,
    Choice,
    CustomerChoice,
    DuplicateCandidate,
    QualifyRequest,
    Question,
    QuestionKind,
    Resolution,
)
from leadkit.errors import (
    DomainRuleViolation,
    IllegalTransition,
    InvalidValue,
    OpportunityLinked,
)
from leadkit.lead import Lead
from leadkit.policies import (
    DuplicateHandling,
    FieldMap,
    NotesCarryOver,
    QualificationPolicy,
    QualifyMode,
    RecordKind,
)
from leadkit.profiles import is_blank
from leadkit.records import (
    Account,
    Contact,
    Opportunity,
    OpportunityState,
    append_notes,
)
from leadkit.status import LeadState, StatusReason
from leadkit.values import (
    AccountId,
    ContactId,
    Money,
    UserRef,
    require_aware,
)

__all__ = ["link_targets", "plan_qualification"]

_KINDS: Final = tuple(RecordKind)  # iterating the enum itself is slow on a hot path
_NOTHING_LINKED: Final = LinkedRecords()


def link_targets(lead: Lead, request: QualifyRequest) -> LinkTargets:
    """The records a qualification of ``lead`` links: for each kind the request's link (or
    LINK duplicate answer), else the lead's existing account/contact, else the record an
    earlier qualification of this lead created. None for a kind the request says NO to."""
    explicit: set[RecordKind] = set()
    chosen: dict[RecordKind, Any] = {}
    inherited: Mapping[RecordKind, Sequence[Any]] = {
        RecordKind.ACCOUNT: (lead.existing_account, lead.qualified_account),
        RecordKind.CONTACT: (lead.existing_contact, lead.qualified_contact),
        RecordKind.OPPORTUNITY: (lead.qualifying_opportunity,),
    }
    for kind in _KINDS:
        if request.choice(kind) is Choice.NO:
            chosen[kind] = None
            continue
        named = request.explicit_link(kind)
        if named is not None:
            explicit.add(kind)
            chosen[kind] = named
            continue
        chosen[kind] = next((i for i in inherited[kind] if i is not None), None)
    return LinkTargets(
        chosen[RecordKind.ACCOUNT],
        chosen[RecordKind.CONTACT],
        chosen[RecordKind.OPPORTUNITY],
        frozenset(explicit),
    )


T = TypeVar("T")


def _get_path(obj: object, path: str) -> object:
    value = obj
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _with_path(obj: T, path: str, value: object) -> T:
    head, _, rest = path.partition(".")
    if not rest:
        return attrs.evolve(obj, **{head: value})  # type: ignore[misc]
    return attrs.evolve(obj, **{head: _with_path(getattr(obj, head), rest, value)})  # type: ignore[misc]


def _nested_kwargs(cls: type, values: Mapping[str, object]) -> dict[str, object]:
    """Constructor arguments for ``cls`` from dotted target paths (``name.first``)."""
    flat: dict[str, object] = {}
    nested: dict[str, dict[str, object]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[head] = value
    for head, sub in nested.items():
        base = _nested_default(cls, head)
        flat[head] = attrs.evolve(base, **_nested_kwargs(type(base), sub))
    return flat


@cache
def _nested_default(cls: type, head: str) -> Any:
    """The value a dotted target starts from: the field's default, or its type built with no
    arguments. Targets pass through attrs values only (names, addresses: checked by
    FieldMap), whose every field has a default; they are frozen, so sharing one is safe."""
    field = attrs.fields_dict(attrs.resolve_types(cls))[head]
    if field.default is not attrs.NOTHING:
        return field.default
    make: Any = field.type
    return make()


def _mapped(fmap: FieldMap, lead: Lead, owner: UserRef | None) -> dict[str, object]:
    values = fmap.values(lead)
    if owner is not None and "owner" in values:
        values["owner"] = owner
    return values


def _fill(
    record: T, values: Mapping[str, object], extra: Mapping[str, object]
) -> tuple[T, tuple[str, ...]]:
    """Fill-empty-only: set each path whose stored value is blank to a non-blank new value."""
    filled: list[str] = []
    for path, value in (*values.items(), *extra.items()):
        if is_blank(value) or not is_blank(_get_path(record, path)):
            continue
        record = _with_path(record, path, value)
        filled.append(path)
    return record, tuple(filled)


RecordT = TypeVar("RecordT", Account, Contact, Opportunity)
PartyT = TypeVar("PartyT", Account, Contact)


def _carry_notes(
    record: RecordT, lead: Lead, policy: QualificationPolicy
) -> tuple[RecordT, tuple[str, ...]]:
    """Apply the notes carry-over to a linked ``record``; return it and what it changed."""
    match policy.notes:
        case NotesCarryOver.COPY:
            copied = append_notes(record, lead.notes)
            return copied, () if copied is record else ("notes",)
        case NotesCarryOver.LINK:
            if record.notes_from_lead is None:
                return attrs.evolve(record, notes_from_lead=lead.id), ("notes_from_lead",)
            return record, ()
        case NotesCarryOver.NONE:
            return record, ()


def _new_notes(lead: Lead, policy: QualificationPolicy) -> dict[str, Any]:
    """The notes arguments of a record a qualification creates."""
    match policy.notes:
        case NotesCarryOver.COPY:
            return {"notes": tuple(attrs.evolve(n, id=i) for i, n in enumerate(lead.notes, 1))}
        case NotesCarryOver.LINK:
            return {"notes_from_lead": lead.id}
        case NotesCarryOver.NONE:
            return {}


def _draft(
    choice: Choice, mode: QualifyMode, applies: bool, field: str, reason_not: str
) -> tuple[bool, bool]:
    """(include, ask) for a record that is not linked."""
    match choice:
        case Choice.NO:
            return False, False
        case Choice.YES:
            if not applies:
                raise InvalidValue(field, Choice.YES, reason_not)
            return True, False
        case Choice.POLICY:
            if not applies:
                return False, False
            return True, mode is QualifyMode.PROMPT


def _check_linked(
    kind: RecordKind, target: object, record: Account | Contact | Opportunity | None, explicit: bool
) -> Any:
    if record is None:
        if target is not None and explicit:
            raise InvalidValue(
                f"link_{kind.value}", target, f"the {kind.value} to link was not supplied"
            )
        return None
    if target is None or record.id != target:
        raise InvalidValue(
            f"linked.{kind.value}",
            record.id,
            f"is not the {kind.value} this qualification links ({target})",
        )
    return record


def plan_qualification(
    lead: Lead,
    policy: QualificationPolicy,
    request: QualifyRequest,
    duplicates: Sequence[DuplicateCandidate] = (),
    *,
    ids: NewIds,
    at: datetime,
    by: UserRef,
    linked: LinkedRecords = _NOTHING_LINKED,
    reason: StatusReason = StatusReason.QUALIFIED,
) -> ConversionPlan:
    """Plan the qualification of ``lead`` (pure: no I/O, no clock, no ids invented).

    ``duplicates`` are the candidates a :class:`~leadkit.conversion.DuplicateCheck` found;
    ``linked`` the stored records :func:`link_targets` names (a record the lead inherited that
    is no longer stored may be left out: it is then created again); ``ids`` the ids of records
    to create. A disqualification ``reason`` plans the prospect records of a disqualification
    (account and contact only; the policy must allow it).

    Returns a plan whose ``questions`` and ``unresolved`` say what is still missing. Raises
    IllegalTransition when the lead is not Open, OpportunityLinked / DomainRuleViolation for
    a refused prospect disqualification, InvalidValue for a request that cannot apply to
    this lead (YES for a record it cannot give, a customer it will not have, a currency the
    registry refuses, a link not supplied), CurrencyMismatch for an amount with no exchange
    rate to the opportunity's currency.
    """
    require_aware("at", at)
    request = _admitted(lead, policy, request, reason)
    links = _checked_links(lead, request, linked)
    ctx = _Planning(
        lead,
        policy,
        request,
        ids,
        at,
        account_values=_mapped(policy.maps.account, lead, request.owner),
        contact_values=_mapped(policy.maps.contact, lead, request.owner),
    )
    want_account = _want_account(ctx, links.account)
    want_contact = _want_contact(ctx, links.contact)
    account_id = (
        links.account.id if links.account is not None else ids.account if want_account else None
    )
    contact_id = (
        links.contact.id if links.contact is not None else ids.contact if want_contact else None
    )
    creating = {
        CandidateType.ACCOUNT: want_account and links.account is None,
        CandidateType.CONTACT: want_contact and links.contact is None,
    }
    relevant, unresolved = _duplicates_to_resolve(ctx, duplicates, creating)
    return ConversionPlan(
        lead_id=lead.id,
        lead_version=lead.version,
        at=at,
        by=by,
        reason=reason,
        policy=policy,
        request=request,
        new_ids=ids,
        account=_plan_account(ctx, links.account, want_account, contact_id),
        contact=_plan_contact(ctx, links.contact, want_contact, account_id),
        opportunity=_plan_opportunity(ctx, links.opportunity, account_id, contact_id),
        questions=tuple(ctx.questions),
        candidates=relevant,
        unresolved=unresolved,
    )


# The steps of plan_qualification, in the order it runs them (which is the order its errors
# and questions come in).


@attrs.define
class _Planning:
    """What every step of :func:`plan_qualification` reads, and the questions they ask."""

    lead: Lead
    policy: QualificationPolicy
    request: QualifyRequest
    ids: NewIds
    at: datetime
    account_values: dict[str, object]
    """The account fields the policy maps from the lead (owner from the request)."""
    contact_values: dict[str, object]
    """The contact fields the policy maps from the lead (owner from the request)."""
    questions: list[Question] = attrs.Factory(list)


@attrs.frozen
class _Links:
    account: Account | None
    contact: Contact | None
    opportunity: Opportunity | None


def _admitted(
    lead: Lead, policy: QualificationPolicy, request: QualifyRequest, reason: StatusReason
) -> QualifyRequest:
    """The request to plan: refused when the lead or the reason cannot be qualified (or a
    disqualification may not create records); a disqualification creates no opportunity."""
    if reason.state is LeadState.OPEN:
        raise InvalidValue("reason", reason, "must be a Qualified or Disqualified reason")
    if lead.state is not LeadState.OPEN:
        raise IllegalTransition(lead.id, lead.state, reason.state)
    if reason.state is not LeadState.DISQUALIFIED:
        return request
    if lead.qualifying_opportunity is not None:
        raise OpportunityLinked(lead.id, lead.qualifying_opportunity)
    if not policy.prospects_on_disqualify:
        raise DomainRuleViolation(
            "the qualification policy does not let a disqualification create records"
        )
    if request.create_opportunity is Choice.YES or request.link_opportunity is not None:
        raise InvalidValue(
            "create_opportunity", request.create_opportunity, "a disqualification makes none"
        )
    return attrs.evolve(request, create_opportunity=Choice.NO)


def _checked_links(lead: Lead, request: QualifyRequest, linked: LinkedRecords) -> _Links:
    """The stored records to link, checked against what the qualification links; a won or
    lost opportunity the lead came with is dropped (a new one is made)."""
    targets = link_targets(lead, request)
    explicit = targets.explicit
    link_account: Account | None = _check_linked(
        RecordKind.ACCOUNT, targets.account, linked.account, RecordKind.ACCOUNT in explicit
    )
    link_contact: Contact | None = _check_linked(
        RecordKind.CONTACT, targets.contact, linked.contact, RecordKind.CONTACT in explicit
    )
    link_opportunity: Opportunity | None = _check_linked(
        RecordKind.OPPORTUNITY,
        targets.opportunity,
        linked.opportunity,
        RecordKind.OPPORTUNITY in explicit,
    )
    if link_opportunity is not None and link_opportunity.state is not OpportunityState.OPEN:
        if RecordKind.OPPORTUNITY in explicit:
            raise InvalidValue(
                "link_opportunity",
                link_opportunity.id,
                f"is {link_opportunity.state.name.lower()}: only an open opportunity is linked",
            )
        link_opportunity = None  # the earlier deal was won or lost: a new one is made
    return _Links(link_account, link_contact, link_opportunity)


def _yes_no(ctx: _Planning, kind: QuestionKind, text: str) -> None:
    ctx.questions.append(Question(kind, text, ("yes", "no"), "yes"))


def _want_account(ctx: _Planning, link: Account | None) -> bool:
    """Whether the plan has an account: a linked one, else by request and policy."""
    if link is not None:
        return True
    values = ctx.account_values
    want, ask = _draft(
        ctx.request.create_account,
        ctx.policy.mode,
        not is_blank(values.get("name")),
        "create_account",
        "the lead has no company to make an account from",
    )
    if ask:
        _yes_no(ctx, QuestionKind.CREATE_ACCOUNT, f"Create an account for {values.get('name')}?")
    return want


def _want_contact(ctx: _Planning, link: Contact | None) -> bool:
    """Whether the plan has a contact: a linked one, else by request and policy."""
    if link is not None:
        return True
    probe = _nested_kwargs(Contact, ctx.contact_values).get("name")
    has_name = probe is not None and bool(getattr(probe, "first", "") or getattr(probe, "last", ""))
    want, ask = _draft(
        ctx.request.create_contact,
        ctx.policy.mode,
        has_name,
        "create_contact",
        "the lead has no first or last name to make a contact from",
    )
    if ask:
        _yes_no(ctx, QuestionKind.CREATE_CONTACT, f"Create a contact for {ctx.lead.full_name}?")
    return want


def _duplicates_to_resolve(
    ctx: _Planning,
    duplicates: Sequence[DuplicateCandidate],
    creating: Mapping[CandidateType, bool],
) -> tuple[tuple[DuplicateCandidate, ...], tuple[DuplicateCandidate, ...]]:
    """(the candidates that matter: duplicates of a record to create, once each; those of
    them still unresolved)."""
    policy = ctx.policy
    relevant: list[DuplicateCandidate] = []
    if policy.duplicates is not DuplicateHandling.IGNORE:
        seen: set[tuple[CandidateType, str]] = set()
        for candidate in duplicates:
            if not isinstance(candidate, DuplicateCandidate):
                raise InvalidValue("duplicates", candidate, "must be DuplicateCandidate values")
            if candidate.key in seen or not creating.get(candidate.record_type, False):
                continue
            seen.add(candidate.key)
            relevant.append(candidate)
    anyway = {
        a.key for a in ctx.request.duplicate_answers if a.resolution is Resolution.CREATE_ANYWAY
    }
    unresolved = tuple(
        c for c in relevant if policy.duplicates is DuplicateHandling.BLOCK or c.key not in anyway
    )
    return tuple(relevant), unresolved


def _linked_step(
    ctx: _Planning, record: RecordT, values: Mapping[str, object], links: Mapping[str, object]
) -> tuple[RecordT, tuple[str, ...]]:
    """A linked account or contact: filled where empty, notes carried, and what changed."""
    filled: tuple[str, ...]
    more: tuple[str, ...]
    record, filled = _fill(record, values, links)
    record, more = _carry_notes(record, ctx.lead, ctx.policy)
    changed = (*filled, *more)
    if changed:
        record = attrs.evolve(record, modified_at=ctx.at)
    return record, changed


def _record_step(
    ctx: _Planning,
    kind: type[PartyT],
    link: PartyT | None,
    want: bool,
    new_id: AccountId | ContactId,
    values: Mapping[str, object],
    link_field: str,
    link_to: AccountId | ContactId | None,
) -> tuple[StepAction, PartyT, tuple[str, ...]] | None:
    """An account or contact step: fill the linked record (and link it to ``link_to`` through
    ``link_field``), or create one when wanted."""
    if link is not None:
        links: dict[str, object] = {} if link_to is None else {link_field: link_to}
        record, filled = _linked_step(ctx, link, values, links)
        return StepAction.LINK, record, filled
    if not want:
        return None
    fields: dict[str, Any] = {
        "id": new_id,
        **_nested_kwargs(kind, values),
        link_field: link_to,
        "originating_lead": ctx.lead.id,
        "created_at": ctx.at,
        "modified_at": ctx.at,
        **_new_notes(ctx.lead, ctx.policy),
    }
    return StepAction.CREATE, kind(**fields), ()


def _plan_account(
    ctx: _Planning, link: Account | None, want: bool, contact_id: ContactId | None
) -> PlannedAccount | None:
    """The account step: fill the linked one, or create one."""
    step = _record_step(
        ctx, Account, link, want, ctx.ids.account, ctx.account_values, "primary_contact", contact_id
    )
    if step is None:
        return None
    action, record, filled = step
    return PlannedAccount(action=action, record=record, filled=filled)


def _plan_contact(
    ctx: _Planning, link: Contact | None, want: bool, account_id: AccountId | None
) -> PlannedContact | None:
    """The contact step: fill the linked one, or create one."""
    step = _record_step(
        ctx, Contact, link, want, ctx.ids.contact, ctx.contact_values, "account_id", account_id
    )
    if step is None:
        return None
    action, record, filled = step
    return PlannedContact(action=action, record=record, filled=filled)


def _plan_opportunity(
    ctx: _Planning,
    link: Opportunity | None,
    account_id: AccountId | None,
    contact_id: ContactId | None,
) -> PlannedOpportunity | None:
    """The opportunity step: carry notes to the linked one, or create one for the customer."""
    lead, request = ctx.lead, ctx.request
    if link is not None:
        record, filled = _carry_notes(link, lead, ctx.policy)
        if filled:
            record = attrs.evolve(record, modified_at=ctx.at)
        return PlannedOpportunity(action=StepAction.LINK, record=record, filled=filled)
    want, ask = _draft(
        request.create_opportunity,
        ctx.policy.mode,
        account_id is not None or contact_id is not None,
        "create_opportunity",
        "an opportunity needs a customer: include an account or a contact",
    )
    if ask:
        _yes_no(
            ctx,
            QuestionKind.CREATE_OPPORTUNITY,
            f"Create an opportunity for {lead.topic or lead.full_name or lead.company}?",
        )
    if not want:
        return None
    customer = _customer(request, ctx.policy.mode, account_id, contact_id, ctx.questions)
    currency = _currency(lead, ctx.policy, request, ctx.questions)
    return PlannedOpportunity(
        action=StepAction.CREATE,
        record=_opportunity(
            lead, ctx.policy, request, ctx.ids, ctx.at, customer, contact_id, currency
        ),
    )


def _customer(
    request: QualifyRequest,
    mode: QualifyMode,
    account_id: AccountId | None,
    contact_id: ContactId | None,
    questions: list[Question],
) -> AccountId | ContactId:
    """The opportunity's customer: the account if there is one, else the contact."""
    if account_id is not None and contact_id is not None:
        match request.customer:
            case CustomerChoice.CONTACT:
                return contact_id
            case CustomerChoice.ACCOUNT:
                return account_id
            case None:
                if mode is QualifyMode.PROMPT:
                    questions.append(
                        Question(
                            QuestionKind.CUSTOMER,
                            "Is the opportunity's customer the account or the contact?",
                            ("account", "contact"),
                            "account",
                        )
                    )
                return account_id
    only = account_id if account_id is not None else contact_id
    assert only is not None
    if request.customer is CustomerChoice.ACCOUNT and account_id is None:
        raise InvalidValue("customer", request.customer, "the qualification has no account")
    if request.customer is CustomerChoice.CONTACT and contact_id is None:
        raise InvalidValue("customer", request.customer, "the qualification has no contact")
    return only


def _currency(
    lead: Lead, policy: QualificationPolicy, request: QualifyRequest, questions: list[Question]
) -> str:
    """Request > the lead's budget amount > its estimated value > the policy default; then
    AUTO_CREATE uses the base currency and PROMPT asks."""
    registry = policy.currencies
    if request.currency is not None:
        return registry.check(request.currency)
    for money in (lead.budget_amount, lead.estimated_value):
        if money is not None and registry.allows(money.currency):
            return money.currency
    if policy.default_currency is not None:
        return policy.default_currency
    if policy.mode is QualifyMode.PROMPT:
        questions.append(
            Question(
                QuestionKind.CURRENCY,
                "Which currency should the opportunity use?",
                registry.codes if registry.only_listed else (),
                registry.base,
            )
        )
    return registry.base


def _opportunity(
    lead: Lead,
    policy: QualificationPolicy,
    request: QualifyRequest,
    ids: NewIds,
    at: datetime,
    customer: AccountId | ContactId,
    contact_id: ContactId | None,
    currency: str,
) -> Opportunity:
    values = _mapped(policy.maps.opportunity, lead, request.owner)
    for path, value in list(values.items()):
        if isinstance(value, Money):
            values[path] = policy.currencies.convert(value, currency, path)
    if is_blank(values.get("name")):
        values["name"] = lead.company or lead.full_name or f"Lead {lead.id}"
    return Opportunity(
        id=ids.opportunity,
        **_nested_kwargs(Opportunity, values),  # type: ignore[arg-type]
        customer=customer,
        currency=currency,
        contact=contact_id,
        originating_lead=lead.id,
        created_at=at,
        modified_at=at,
        **_new_notes(lead, policy),
    )
