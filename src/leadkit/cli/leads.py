"""One lead at a time: ``add``, ``list``, ``show``, ``edit``, ``note``, ``tick``, ``untick``,
``disqualify``, ``reactivate`` and ``unlink``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import click

from leadkit.cli._shared import (
    _DISQUALIFY_REASONS,
    EXIT_CODES,
    _cell,
    _changes,
    _console,
    _echo,
    _emit_json,
    _esc,
    _Failed,
    _fields_of,
    _filters,
    _label,
    _lead_id,
    _lead_table,
    _new_id,
    _now,
    _pairs,
    _query,
    _settings,
    _store,
    _summary,
    _Table,
)
from leadkit.cli.app import cli
from leadkit.errors import InvalidValue, NotFound
from leadkit.lead import Lead
from leadkit.ports import LeadSort, UnitOfWork
from leadkit.scoring.engine import score
from leadkit.scoring.presets import BCM_MODEL
from leadkit.services import disqualify as disqualify_lead
from leadkit.services import reactivate as reactivate_lead
from leadkit.status import LeadState
from leadkit.values import AccountId, ContactId, PersonName, UserRef


@cli.command()
@click.option("--topic", required=True, help="What the lead is about.")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--company", default="")
@click.option("--email", default="")
@click.option("--phone", default="", help="Business phone.")
@click.option("--source", default="", help="Lead source (Web, Partner, ...).")
@click.option("--owner", help="Owner user id (default: --user).")
@click.option("--set", "extra", multiple=True, help="Any other field: FIELD=VALUE (repeatable).")
@click.option(
    "--create-anyway",
    is_flag=True,
    help="Add the lead even when the duplicate check finds a possible duplicate.",
)
@click.option(
    "--link",
    "links",
    multiple=True,
    metavar="ID",
    help="Link this possible duplicate (an existing contact or account id) to the new lead "
    "and add it (repeatable).",
)
def add(
    topic: str,
    name: str,
    company: str,
    email: str,
    phone: str,
    source: str,
    owner: str | None,
    extra: tuple[str, ...],
    create_anyway: bool,
    links: tuple[str, ...],
) -> None:
    """Add a lead; prints its id.

    The lead is first checked for duplicates against the stored leads, contacts and accounts
    (the engine qualify and import use): a possible duplicate is listed and nothing is added
    (exit 4) unless --create-anyway, or --link names the contact or account to link.
    """
    given = [("topic", topic), ("name", name)]
    given += [(k, v) for k, v in (("company", company), ("email", email)) if v]
    given += [(k, v) for k, v in (("business_phone", phone), ("source", source)) if v]
    patch = _changes([*given, *_pairs(extra, "--set")]).patch_for(None)
    settings = _settings()
    at = _now()
    lead = Lead.create(
        _lead_id(_new_id()),
        patch,
        at=at,
        by=settings.user,
        owner=UserRef(owner) if owner else None,
    )
    with _store() as store, store.unit_of_work() as uow:
        matches = _duplicates_of(uow, patch)
        lead = _resolve_add(uow, lead, matches, links, create_anyway, at)
        stored = uow.leads.add(lead)
        uow.commit()
    if settings.json:
        _emit_json(_summary(stored))
    else:
        _echo(stored.id.value)


def _duplicates_of(uow: UnitOfWork, patch: Any) -> list[Any]:
    """Stored leads, contacts and accounts the duplicate engine finds for a new lead."""
    from leadkit.duplicates import DEFAULT_LEAD_RULES, check_import
    from leadkit.io import build_duplicate_index
    from leadkit.io.drafts import draft_record

    index = build_duplicate_index(uow, DEFAULT_LEAD_RULES)
    check = check_import([draft_record(0, patch)], DEFAULT_LEAD_RULES, index)
    return sorted(check.rows[0].stored, key=lambda m: -m.score)


def _resolve_add(
    uow: UnitOfWork,
    lead: Lead,
    matches: Sequence[Any],
    links: Sequence[str],
    create_anyway: bool,
    at: datetime,
) -> Lead:
    by = _settings().user
    found = {m.candidate.record_id: m.candidate.record_type.value for m in matches}
    for link in links:
        kind = found.get(link)
        if kind not in ("contact", "account"):
            raise InvalidValue(
                "--link", link, "is not a possible duplicate contact or account of this lead"
            )
        if kind == "contact":
            lead = lead.link_contact(uow.contacts.get(ContactId(link)), at=at, by=by)
        else:
            lead = lead.link_account(uow.accounts.get(AccountId(link)), at=at, by=by)
    if not matches or create_anyway or links:
        return lead
    table = _Table(title="possible duplicates of the new lead", title_justify="left")
    for column in ("kind", "id", "rule", "match"):
        table.add_column(column, overflow="fold")
    for m in matches[:10]:
        table.add_row(
            m.candidate.record_type.value, m.candidate.record_id, m.rule, f"{m.score:.2f}"
        )
    _console().print(table)
    raise _Failed(
        f"{len(matches)} possible duplicate(s) (listed above), nothing added: pass "
        "--create-anyway, or --link ID for a contact or account",
        EXIT_CODES["refused"],
    )


@cli.command(name="list")
@_filters
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option(
    "--sort",
    type=click.Choice([s.value for s in LeadSort]),
    default="created_at",
    show_default=True,
)
@click.option("--desc", is_flag=True, help="Reverse the order.")
def list_(
    view: str,
    owner: str | None,
    states: tuple[str, ...],
    sources: tuple[str, ...],
    ratings: tuple[str, ...],
    text: str | None,
    limit: int,
    sort: str,
    desc: bool,
) -> None:
    """List leads (a view, filters, sorting)."""
    query = _query(
        view=view,
        owner=owner,
        states=states,
        sources=sources,
        ratings=ratings,
        text=text,
        sort=sort,
        descending=desc,
    )
    with _store() as store, store.unit_of_work() as uow:
        page = uow.leads.query(query, limit=limit)
        total = uow.leads.count(query)
    if _settings().json:
        _emit_json({"total": total, "leads": [_summary(lead) for lead in page.items]})
        return
    shown = len(page.items)
    _console().print(_lead_table(page.items, f"{view} leads: {shown} of {total}"))


@cli.command()
@click.argument("lead_id")
def show(lead_id: str) -> None:
    """Show one lead: fields, score explanation, timeline."""
    with _store() as store, store.unit_of_work() as uow:
        lead = uow.leads.get(_lead_id(lead_id))
        linked = _linked_rows(lead, uow)
    explained = score(lead, BCM_MODEL, _now())
    if _settings().json:
        data = _summary(lead)
        data["fields"] = dict(_fields_of(lead))
        data["linked"] = dict(linked)
        ex = explained.explanation
        data["score_explanation"] = {
            "describe": explained.describe(),
            "value": explained.value,
            "stars": explained.stars,
            "rating": _label(explained.rating),
            "base": ex.base,
            "criteria_value": ex.criteria_value,
            "met_weight": ex.met_weight,
            "total_weight": ex.total_weight,
            "criteria": [
                {
                    "id": c.criterion_id,
                    "description": c.description,
                    "ticked_by_hand": c.manual,
                    "weight": c.weight,
                    "met": c.met,
                    "points": c.points,
                }
                for c in ex.contributions
            ],
            "lines": list(ex.lines()),
        }
        data["timeline"] = [
            {"at": entry.at, "by": entry.by.id, "text": getattr(entry, "text", str(entry))}
            for entry in lead.timeline()
        ]
        _emit_json(data)
        return
    console = _console()
    table = _Table(title=f"{lead.id} — {lead.topic}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("status", f"{lead.state.name.title()} / {lead.reason.label}"),
        ("owner", str(lead.owner)),
        ("created", f"{lead.created_at:%Y-%m-%d %H:%M} by {lead.created_by}"),
        *(
            ("rating (yours)" if name == "rating" else name, text)
            for name, text in _fields_of(lead)
        ),
        *_score_rows(lead),
        *linked,
    ]
    for name, text in rows:
        table.add_row(_cell(name), _cell(text, multiline=name == "description"))
    console.print(table)
    described = _esc(explained.describe())
    console.print(
        f"[bold]score[/bold] (model {_esc(BCM_MODEL.id)}, now; the model's rating): {described}"
    )
    for line in explained.explanation.lines():
        console.print(_cell(f"  {line}"))
    entries = lead.timeline()
    console.print(f"[bold]timeline[/bold] ({len(entries)} entries)")
    for entry in entries:
        body = getattr(entry, "text", "") or getattr(entry, "title", "")
        when = f"{entry.at:%Y-%m-%d %H:%M}"
        console.print(_cell(f"  {when} {entry.by.id}: {body}", multiline=True))


def _score_rows(lead: Lead) -> list[tuple[str, str]]:
    rows = []
    if lead.score is not None:
        rating = f", score rating {_label(lead.score_rating)}" if lead.score_rating else ""
        rows.append(("stored score", f"{lead.score} ({lead.stars} stars{rating})"))
    manual = lead.manual_score
    if manual is not None:
        why = f": {manual.reason}" if manual.reason else ""
        rows.append(
            (
                "manual score",
                f"{manual.stars} of {BCM_MODEL.max_stars} stars by {manual.author}{why}",
            )
        )
    if lead.ticked_criteria:
        rows.append(("ticked", ", ".join(sorted(lead.ticked_criteria))))
    return rows


def _linked_rows(lead: Lead, uow: UnitOfWork) -> list[tuple[str, str]]:
    """The records qualification created or linked (with their names) and when, and the
    existing account and contact linked by hand."""
    rows = []
    made: list[datetime] = []
    for name, record_id, repository in (
        ("account", lead.qualified_account, uow.accounts),
        ("contact", lead.qualified_contact, uow.contacts),
        ("opportunity", lead.qualifying_opportunity, uow.opportunities),
        ("existing account", lead.existing_account, uow.accounts),
        ("existing contact", lead.existing_contact, uow.contacts),
    ):
        if record_id is None:
            continue
        try:
            record: Any = repository.get(record_id)  # type: ignore[arg-type]
        except NotFound:
            rows.append((name, f"{record_id} (no longer stored)"))
            continue
        title = record.name.full if isinstance(record.name, PersonName) else record.name
        created = "created" if record.originating_lead == lead.id else "linked"
        rows.append((name, f"{record_id} {title} ({created})"))
        if record.originating_lead == lead.id and record.created_at is not None:
            made.append(record.created_at)
    if lead.state is LeadState.QUALIFIED:
        when = min(made) if made else lead.modified_at
        rows.append(("qualified", f"{when:%Y-%m-%d %H:%M} by {lead.modified_by}"))
    return rows


def _save_one(lead_id: str, change: Callable[[Lead], Lead]) -> Lead:
    with _store() as store, store.unit_of_work() as uow:
        lead = uow.leads.get(_lead_id(lead_id))
        changed = change(lead)
        stored = uow.leads.save(changed) if changed is not lead else lead
        uow.commit()
    return stored


@cli.command()
@click.argument("lead_id")
@click.option("--set", "values", multiple=True, required=True, help="FIELD=VALUE (repeatable).")
def edit(lead_id: str, values: tuple[str, ...]) -> None:
    """Change fields of an open lead."""
    settings = _settings()
    change = _changes(_pairs(values, "--set"))
    stored = _save_one(lead_id, lambda lead: change.apply(lead, at=_now(), by=settings.user))
    _echo(f"{stored.id}: version {stored.version}")


@cli.command()
@click.argument("lead_id")
@click.argument("text")
@click.option("--title", default="")
def note(lead_id: str, text: str, title: str) -> None:
    """Add a note to a lead's timeline."""
    settings = _settings()
    stored = _save_one(
        lead_id, lambda lead: lead.add_note(text, at=_now(), by=settings.user, title=title)
    )
    _echo(f"{stored.id}: note {stored.timeline_seq} added")


def _criterion(criterion: str) -> str:
    known = [c.id for c in BCM_MODEL.criteria]
    key = criterion.strip().replace("-", "_").lower()
    if key not in known:
        raise InvalidValue(
            "criterion",
            criterion,
            f"not a criterion of the {BCM_MODEL.id} model; known: " + ", ".join(known),
        )
    return key


@cli.command()
@click.argument("lead_id")
@click.argument("criteria", nargs=-1, required=True)
def tick(lead_id: str, criteria: tuple[str, ...]) -> None:
    """Tick scoring criteria of a lead (budget_confirmed, decision_maker_identified ...)."""
    _tick(lead_id, criteria, on=True)


@cli.command()
@click.argument("lead_id")
@click.argument("criteria", nargs=-1, required=True)
def untick(lead_id: str, criteria: tuple[str, ...]) -> None:
    """Untick scoring criteria of a lead."""
    _tick(lead_id, criteria, on=False)


def _tick(lead_id: str, criteria: Sequence[str], *, on: bool) -> None:
    ids = [_criterion(c) for c in criteria]
    user = _settings().user

    def change(lead: Lead) -> Lead:
        for criterion in ids:
            if on:
                lead = lead.tick_criterion(criterion, at=_now(), by=user)
            else:
                lead = lead.untick_criterion(criterion, at=_now(), by=user)
        return lead

    stored = _save_one(lead_id, change)
    ticked = ", ".join(sorted(stored.ticked_criteria)) or "none"
    _echo(f"{stored.id}: ticked {ticked}")


@cli.command()
@click.argument("lead_id")
@click.option(
    "--reason",
    type=click.Choice(sorted(_DISQUALIFY_REASONS)),
    default="lost",
    show_default=True,
)
def disqualify(lead_id: str, reason: str) -> None:
    """Close a lead as disqualified."""
    settings = _settings()
    with _store() as store:
        result = disqualify_lead(
            store, _lead_id(lead_id), _DISQUALIFY_REASONS[reason], at=_now(), by=settings.user
        )
    _echo(f"{result.lead.id}: disqualified ({result.lead.reason.label})")


@cli.command()
@click.argument("lead_id")
def reactivate(lead_id: str) -> None:
    """Reopen a qualified or disqualified lead."""
    with _store() as store:
        lead = reactivate_lead(store, _lead_id(lead_id), at=_now(), by=_settings().user)
    _echo(f"{lead.id}: reopened ({lead.reason.label})")


@cli.command()
@click.argument("lead_id")
@click.argument("what", type=click.Choice(["opportunity", "account", "contact"]))
def unlink(lead_id: str, what: str) -> None:
    """Unlink a lead's qualifying opportunity (a reactivated lead, so it can be disqualified),
    or its existing account or contact."""
    user = _settings().user

    def change(lead: Lead) -> Lead:
        if what == "opportunity":
            return lead.unlink_opportunity(at=_now(), by=user)
        if what == "account":
            return lead.unlink_account(at=_now(), by=user)
        return lead.unlink_contact(at=_now(), by=user)

    stored = _save_one(lead_id, change)
    _echo(f"{stored.id}: {what} unlinked")
