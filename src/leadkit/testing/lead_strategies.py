"""Hypothesis strategies for leads made the way the library makes them: ``Lead.create`` and
random valid commands (:class:`Command`), as histories or as leads.

Part of :mod:`leadkit.testing.strategies`, which re-exports every public name here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.patch import UNSET
from leadkit.scoring.result import MAX_STARS
from leadkit.status import LeadState
from leadkit.testing.record_strategies import accounts, contacts, lead_patches
from leadkit.testing.value_strategies import (
    _HISTORY_END,
    T,
    _cached,
    _gaps,
    _note_content,
    _optional,
    _text,
    account_ids,
    aware_datetimes,
    contact_ids,
    criterion_ids,
    lead_ids,
    notes_attachments,
    opportunity_ids,
    scores,
    stakeholder_roles,
    status_reasons,
    user_refs,
)
from leadkit.timeline import ActivityKind
from leadkit.values import LeadId, UserRef

__all__ = [
    "Command",
    "lead_histories",
    "leads",
]

# ---------------------------------------------------------------------------------------------
# Commands, histories and leads


@attrs.frozen(repr=False)
class Command:
    """One command applied to a lead: the method name and its keyword arguments.

    ``command(lead)`` runs it and returns the new lead; the repr reads like the call, so a
    failing history shrinks to a readable program.
    """

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self, lead: Lead) -> Lead:
        method: Callable[..., Lead] = getattr(lead, self.name)
        return method(**dict(self.kwargs))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
        return f"{self.name}({args})"


def _command(name: str, **kwargs: Any) -> Command:
    return Command(name, tuple(kwargs.items()))


def _pick(draw: st.DrawFn, options: Sequence[T]) -> T:
    """One of ``options`` (drawn as an index: no new strategy per step)."""
    return options[draw(st.integers(0, len(options) - 1))]


_Builder = Callable[[st.DrawFn, Lead, datetime, UserRef, Sequence[UserRef]], Command]


def _add_note(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    text, title, attachment = draw(_note_content())
    return _command("add_note", text=text, title=title, attachment=attachment, at=at, by=by)


def _log_activity(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    due = draw(_optional(_gaps()))
    return _command(
        "log_activity",
        kind=draw(st.sampled_from(ActivityKind)),
        subject=draw(_text(1, 80)),
        description=draw(_text(0, 100)),
        due_at=None if due is None else at + due,
        done_at=at if draw(st.booleans()) else None,
        at=at,
        by=by,
    )


def _complete_activity(
    draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object
) -> Command:
    pending = [a.id for a in lead.activities if not a.is_done]
    return _command(
        "complete_activity",
        activity_id=_pick(draw, pending),
        done_at=at if draw(st.booleans()) else None,
        at=at,
        by=by,
    )


def _edit_note(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    note = _pick(draw, lead.notes)
    text = draw(_optional(_text(1, 200)))
    title = draw(_optional(_text(0, 40)))
    attachment: Any = draw(st.sampled_from((UNSET, None)) | notes_attachments())
    kept = note.attachment if attachment is UNSET else attachment
    has_words = (note.text if text is None else text) or (note.title if title is None else title)
    if not has_words and kept is None:
        # A note needs text, a title or a file: keep or give it one.
        attachment = UNSET if note.attachment is not None else draw(notes_attachments())
    return _command(
        "edit_note", note_id=note.id, text=text, title=title, attachment=attachment, at=at, by=by
    )


def _remove_note(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("remove_note", note_id=_pick(draw, lead.notes).id, at=at, by=by)


def _update(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("update", patch=draw(lead_patches(required=False)), at=at, by=by)


def _rate(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("rate", rating=draw(_optional(st.sampled_from(Rating))), at=at, by=by)


def _assign(
    draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, users: Sequence[UserRef]
) -> Command:
    rule = draw(st.sampled_from(("", "round robin")))
    return _command("assign", owner=_pick(draw, users), rule=rule, at=at, by=by)


def _mark_contacted(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("mark_contacted", at=at, by=by)


def _change_reason(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    reason = draw(status_reasons(LeadState.OPEN))
    return _command("change_reason", reason=reason, at=at, by=by)


def _add_stakeholder(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    taken = {(s.contact_id, s.role) for s in lead.stakeholders}
    contact_id = draw(contact_ids())
    role = draw(stakeholder_roles().filter(lambda r: (contact_id, r) not in taken))
    return _command("add_stakeholder", contact_id=contact_id, role=role, at=at, by=by)


def _remove_stakeholder(
    draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object
) -> Command:
    gone = _pick(draw, lead.stakeholders)
    return _command("remove_stakeholder", contact_id=gone.contact_id, role=gone.role, at=at, by=by)


def _link_account(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("link_account", account=draw(accounts()), at=at, by=by)


def _link_contact(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("link_contact", contact=draw(contacts()), at=at, by=by)


def _plain(name: str) -> _Builder:
    def build(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
        return _command(name, at=at, by=by)

    return build


def _disqualify(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    reason = draw(status_reasons(LeadState.DISQUALIFIED))
    return _command("disqualify", reason=reason, at=at, by=by)


def _mark_qualified(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command(
        "mark_qualified",
        account_id=draw(_optional(account_ids())),
        contact_id=draw(_optional(contact_ids())),
        opportunity_id=draw(_optional(opportunity_ids())),
        at=at,
        by=by,
    )


def _tick(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("tick_criterion", criterion_id=draw(criterion_ids()), at=at, by=by)


def _untick(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    ticked = sorted(lead.ticked_criteria)
    return _command("untick_criterion", criterion_id=_pick(draw, ticked), at=at, by=by)


def _set_manual_score(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    expiry = draw(_optional(st.integers(1, 90 * 24 * 3600)))
    return _command(
        "set_manual_score",
        stars=draw(st.integers(0, MAX_STARS)),
        reason=draw(_text(0, 60)),
        expires_at=None if expiry is None else at + timedelta(seconds=expiry),
        at=at,
        by=by,
    )


def _record_score(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("record_score", score=draw(scores(lead.id)), at=at, by=by)


def _reactivate(draw: st.DrawFn, lead: Lead, at: datetime, by: UserRef, _: object) -> Command:
    return _command("reactivate", reason=draw(status_reasons(LeadState.OPEN)), at=at, by=by)


def _builders(lead: Lead) -> tuple[_Builder, ...]:
    """The command builders whose commands ``lead`` accepts in its current state."""
    found: list[_Builder] = [_add_note, _log_activity, _record_score]
    if any(not a.is_done for a in lead.activities):
        found.append(_complete_activity)
    if lead.is_closed:
        found.append(_reactivate)
        return tuple(found)
    found += [
        _update,
        _rate,
        _assign,
        _mark_contacted,
        _change_reason,
        _add_stakeholder,
        _link_account,
        _link_contact,
        _mark_qualified,
        _tick,
        _set_manual_score,
    ]
    if lead.ticked_criteria:
        found.append(_untick)
    if lead.manual_score is not None:
        found.append(_plain("clear_manual_score"))
    if lead.notes:
        found += [_edit_note, _remove_note]
    if lead.stakeholders:
        found.append(_remove_stakeholder)
    if lead.existing_account is not None:
        found.append(_plain("unlink_account"))
    if lead.existing_contact is not None:
        found.append(_plain("unlink_contact"))
    if lead.qualifying_opportunity is not None:
        found.append(_plain("unlink_opportunity"))
    else:
        found.append(_disqualify)
    return tuple(found)


def _drive(
    draw: st.DrawFn, lead: Lead, state: LeadState, at: datetime, by: UserRef
) -> list[Command]:
    """The commands that take ``lead`` to ``state`` (none if it is there already)."""
    steps: list[Command] = []
    if lead.state is state:
        return steps
    if lead.is_closed:
        steps.append(_command("reactivate", at=at, by=by))
    if state is LeadState.QUALIFIED:
        opportunity = draw(_optional(opportunity_ids()))
        steps.append(_command("mark_qualified", opportunity_id=opportunity, at=at, by=by))
    elif state is LeadState.DISQUALIFIED:
        if lead.qualifying_opportunity is not None:
            steps.append(_command("unlink_opportunity", at=at, by=by))
        steps.append(_disqualify(draw, lead, at, by, ()))
    return steps


@_cached
@st.composite
def lead_histories(
    draw: st.DrawFn,
    state: LeadState | None = None,
    max_steps: int = 12,
    *,
    owner: UserRef | None = None,
    scored: bool | None = None,
    ids: SearchStrategy[LeadId] | None = None,
) -> tuple[Lead, list[Command]]:
    """A lead made by ``Lead.create`` and up to ``max_steps`` random valid commands, and the
    commands applied after the creation, in order (``pending_events`` holds the events).

    With ``state`` the last commands drive the lead to that state (reactivate, unlink the
    opportunity, qualify or disqualify as needed). ``owner`` fixes the owner (no command
    reassigns the lead); ``scored=True`` ends with a recorded score, ``scored=False`` records
    none; ``ids`` draws the lead's id. Timestamps never go backwards.
    """
    users = draw(st.lists(user_refs(), min_size=1, max_size=3, unique_by=lambda u: u.id))
    if owner is not None:
        users = [owner, *(u for u in users if u.id != owner.id)]
    at = draw(aware_datetimes(max_value=_HISTORY_END))
    by = _pick(draw, users)
    lead = Lead.create(
        draw(ids if ids is not None else lead_ids()),
        draw(lead_patches()),
        at=at,
        by=by,
        owner=owner if owner is not None else _pick(draw, users),
    )
    skipped = {_assign if owner is not None else None, _record_score if scored is False else None}
    applied: list[Command] = []
    for _ in range(draw(st.integers(0, max_steps))):
        at = at + draw(_gaps())
        build = _pick(draw, [b for b in _builders(lead) if b not in skipped])
        command = build(draw, lead, at, _pick(draw, users), users)
        lead = command(lead)
        applied.append(command)
    at = at + draw(_gaps())
    finish = _drive(draw, lead, state, at, _pick(draw, users)) if state is not None else []
    if scored:
        finish.append(_record_score(draw, lead, at, _pick(draw, users), users))
    for command in finish:
        lead = command(lead)
        applied.append(command)
    return lead, applied


@_cached
def leads(
    state: LeadState | None = None,
    *,
    owner: UserRef | None = None,
    scored: bool | None = None,
    ids: SearchStrategy[LeadId] | None = None,
) -> SearchStrategy[Lead]:
    """Valid leads built through ``Lead.create`` and a few random commands; ``pending_events``
    holds their whole history.

    ``state`` drives them to Open, Qualified or Disqualified; without it the three states come
    about equally often. ``owner`` fixes the owner, ``scored`` asks for a recorded score
    (``True``) or none (``False``), ``ids`` draws the ids (e.g. ``st.just(LeadId("L-1"))`` or a
    strategy of a few ids for collisions).
    """
    if state is None:
        return st.sampled_from(LeadState).flatmap(
            lambda s: leads(s, owner=owner, scored=scored, ids=ids)
        )
    return lead_histories(state=state, max_steps=6, owner=owner, scored=scored, ids=ids).map(
        lambda history: history[0]
    )
