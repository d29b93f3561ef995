"""``leadkit qualify``: the plan, its questions on the terminal, then the qualification."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

from leadkit.cli._shared import (
    EXIT_CODES,
    _console,
    _echo,
    _Failed,
    _lead_id,
    _now,
    _plain,
    _settings,
    _store,
    _Table,
)
from leadkit.cli.app import cli
from leadkit.cli.dedupe import _duplicate_check
from leadkit.errors import InvalidValue

if TYPE_CHECKING:
    from leadkit.conversion import ConversionPlan, QualifyRequest, Question


def _ask(question: Question) -> str:
    """Ask one plan question on the terminal; returns the answer as request text."""
    from leadkit.conversion import QualifyRequest, QuestionKind

    if question.kind is QuestionKind.CURRENCY:

        def check(text: str) -> str:
            try:
                QualifyRequest(currency=text)
            except InvalidValue as e:
                raise click.BadParameter(e.reason) from None
            return text.strip().upper()

        choices = click.Choice(question.choices) if question.choices else None
        return str(
            click.prompt(
                _plain(question.text),
                default=question.suggestion,
                type=choices,
                value_proc=None if choices else check,
            )
        )
    if question.choices == ("yes", "no"):
        asked = click.confirm(_plain(question.text), default=question.suggestion == "yes")
        return "yes" if asked else "no"
    return str(
        click.prompt(
            _plain(question.text),
            default=question.suggestion,
            type=click.Choice(question.choices),
        )
    )


def _answer_one(
    plan: ConversionPlan,
    request: QualifyRequest,
    *,
    yes: bool,
    links: Sequence[str],
    create_anyway: bool,
    used_links: set[str],
) -> QualifyRequest:
    """The request with the plan's first open question or duplicate warning answered (the
    caller plans again, so an answer that makes another question moot removes it): from the
    options, else (``--yes``) the suggested answer, else by asking. Under ``--yes`` a possible
    duplicate that no option answers is an error listing every candidate left."""
    from leadkit.conversion import Resolution

    if plan.questions:
        question = plan.questions[0]
        return request.answering(question, question.suggestion if yes else _ask(question))
    for candidate in plan.unresolved:
        if candidate.record_id in links:
            used_links.add(candidate.record_id)
            return request.answer(candidate, Resolution.LINK)
    candidate = plan.unresolved[0]
    if create_anyway:
        return request.answer(candidate, Resolution.CREATE_ANYWAY)
    if yes:
        table = _Table(title=f"possible duplicates of lead {plan.lead_id}", title_justify="left")
        for column in ("kind", "id", "match", "why"):
            table.add_column(column, overflow="fold")
        for c in plan.unresolved:
            why = c.reason if len(c.reason) <= 60 else c.reason[:57] + "..."
            table.add_row(c.record_type.value, c.record_id, f"{c.score:.2f}", why)
        _console().print(table)
        raise _Failed(
            f"{len(plan.unresolved)} possible duplicate(s) of lead {plan.lead_id} (listed "
            "above): pass --link ID or --create-anyway",
            EXIT_CODES["refused"],
        )
    kind = candidate.record_type.value
    choice = click.prompt(
        _plain(f"possible duplicate {kind}: {candidate}. Link it, or create a new {kind}?"),
        type=click.Choice(["link", "create"]),
    )
    resolution = Resolution.LINK if choice == "link" else Resolution.CREATE_ANYWAY
    return request.answer(candidate, resolution)


@cli.command()
@click.argument("lead_id")
@click.option(
    "--prompt",
    "prompt_mode",
    is_flag=True,
    help="Prompt policy: ask whether to create the account, contact and opportunity, the "
    "customer and the currency (default: create what applies).",
)
@click.option("--currency", help="Currency of the opportunity (ISO 4217).")
@click.option("--customer", type=click.Choice(["account", "contact"]), help="The customer.")
@click.option("--no-account", is_flag=True, help="Create no account.")
@click.option("--no-contact", is_flag=True, help="Create no contact.")
@click.option("--no-opportunity", is_flag=True, help="Create no opportunity.")
@click.option(
    "--link",
    "links",
    multiple=True,
    metavar="ID",
    help="Link this possible duplicate (a contact or account id) instead of creating a record "
    "(repeatable).",
)
@click.option(
    "--create-anyway", is_flag=True, help="Create the records despite possible duplicates."
)
@click.option(
    "--yes",
    is_flag=True,
    help="Ask nothing: take the suggested answers and qualify; possible duplicates still "
    "fail unless --link or --create-anyway answers them.",
)
def qualify(
    lead_id: str,
    prompt_mode: bool,
    currency: str | None,
    customer: str | None,
    no_account: bool,
    no_contact: bool,
    no_opportunity: bool,
    links: tuple[str, ...],
    create_anyway: bool,
    yes: bool,
) -> None:
    """Show the qualification plan, ask what it still needs, then qualify.

    Creates (or links) the account, contact and opportunity and closes the lead as
    Qualified, in one unit of work.
    """
    from leadkit.conversion import Choice, CustomerChoice, QualifyRequest
    from leadkit.policies import DEFAULT_POLICY, PROMPT_POLICY
    from leadkit.services import execute_plan, prepare_qualification

    settings = _settings()
    policy = PROMPT_POLICY if prompt_mode else DEFAULT_POLICY
    request = QualifyRequest(
        currency=currency,
        customer=None if customer is None else CustomerChoice(customer),
        create_account=Choice.NO if no_account else Choice.POLICY,
        create_contact=Choice.NO if no_contact else Choice.POLICY,
        create_opportunity=Choice.NO if no_opportunity else Choice.POLICY,
    )
    at = _now()
    # Every plan draws the account, contact and opportunity ids in that order: the same
    # three each time, so the plan shown again after the answers names the same records.
    next_id = itertools.cycle([uuid.uuid4().hex[:16] for _ in range(3)]).__next__
    with _store() as store:
        check = _duplicate_check(store)
        target = check.store

        def plan_for(request: QualifyRequest) -> ConversionPlan:
            return prepare_qualification(
                target,
                _lead_id(lead_id),
                request,
                policy,
                at=at,
                by=settings.user,
                finder=check,
                id_factory=next_id,
            )

        plan = _settle(plan_for, request, yes=yes, links=links, create_anyway=create_anyway)
        if not yes:
            click.confirm("qualify?", abort=True)
        result = execute_plan(target, plan, finder=check)
    _echo(f"{result.lead.id}: qualified" + _made(plan))


def _settle(
    plan_for: Callable[[QualifyRequest], ConversionPlan],
    request: QualifyRequest,
    *,
    yes: bool,
    links: tuple[str, ...],
    create_anyway: bool,
) -> ConversionPlan:
    """Show the plan for ``request``, then answer its questions one at a time (asking, or
    from the options) until it is complete, showing it again if anything was answered.
    Raises InvalidValue for a ``--link`` that names no possible duplicate of the lead."""
    plan = plan_for(request)
    for line in plan.describe():
        _echo(line)
    used_links: set[str] = set()
    rounds = 0
    while not plan.is_complete:
        rounds += 1
        if rounds > 25:  # pragma: no cover - every answer settles a question
            plan.require_complete()
        request = _answer_one(
            plan,
            request,
            yes=yes,
            links=links,
            create_anyway=create_anyway,
            used_links=used_links,
        )
        plan = plan_for(request)
    if rounds:
        _echo("the plan now:")
        for line in plan.describe():
            _echo(line)
    unused = [link for link in links if link not in used_links]
    if unused:
        raise InvalidValue("--link", unused[0], "is not a possible duplicate of this lead")
    return plan


def _made(plan: ConversionPlan) -> str:
    """`` (created account A, linked contact C, ...)`` for the records of an executed plan,
    nothing when it made none."""
    done = {"create": "created", "link": "linked"}
    steps = (
        ("account", plan.account),
        ("contact", plan.contact),
        ("opportunity", plan.opportunity),
    )
    made = ", ".join(
        f"{done[step.action.value]} {name} {step.record.id}"
        for name, step in steps
        if step is not None
    )
    return f" ({made})" if made else ""
