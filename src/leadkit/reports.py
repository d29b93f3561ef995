"""Lead reports as plain data: funnel, aging, qualification rates, leads by source.

Every report takes any iterable of leads (a list, ``uow.leads.stream()``), reads it once and
returns frozen values that a CLI, a chart or an app renders; no report depends on the order of
its input. The score reports of :mod:`leadkit.scoring.score_reports` (by owner, by owner and rating,
by score band, by stars, the score distribution) are re-exported here, so this module is the
one place to import reports from.

- :func:`funnel`: the leads created in a period and how far they got: created -> contacted ->
  qualified / disqualified (with the disqualification reasons), from the leads as they stand.
  :func:`funnel_from_events` counts the same steps from events (an event sink's log) when the
  history is kept.
- :func:`lead_aging`: how long open leads have waited, in age buckets.
- :func:`qualification_rates`: qualified / (qualified + disqualified) by source, by owner or by
  both.
- :func:`leads_by_source`: one row per lead source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

import attrs

from leadkit.errors import InvalidValue
from leadkit.events import (
    LeadCreated,
    LeadDisqualified,
    LeadEvent,
    LeadQualified,
    StatusReasonChanged,
)
from leadkit.fields import LeadSource
from leadkit.lead import Lead
from leadkit.scoring.score_reports import (
    DEFAULT_BANDS,
    NOT_SCORED,
    ReportRow,
    ScoreBand,
    ScoreBucket,
    ScoreDistribution,
    _Group,
    leads_by_owner,
    leads_by_owner_and_rating,
    leads_by_score_band,
    leads_by_stars,
    score_distribution,
)
from leadkit.status import LeadState, StatusReason
from leadkit.values import LeadId, require_aware

__all__ = [
    "DEFAULT_AGE_BUCKETS",
    "DEFAULT_BANDS",
    "NOT_SCORED",
    "NO_SOURCE",
    "AgeBucket",
    "AgingReport",
    "Funnel",
    "Period",
    "RateRow",
    "ReportRow",
    "ScoreBand",
    "ScoreBucket",
    "ScoreDistribution",
    "funnel",
    "funnel_from_events",
    "lead_aging",
    "leads_by_owner",
    "leads_by_owner_and_rating",
    "leads_by_score_band",
    "leads_by_source",
    "leads_by_stars",
    "qualification_rates",
    "score_distribution",
]

NO_SOURCE: Final = "No source"
"""The label of the row of leads without a source."""

_CENT: Final = Decimal("0.01")


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@attrs.frozen
class Period:
    """A half-open period ``start <= t < end`` (either end open when None).

    Raises InvalidValue for a naive datetime or an end before the start.
    """

    start: datetime | None = None
    end: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if self.start is not None:
            require_aware("period.start", self.start)
        if self.end is not None:
            require_aware("period.end", self.end)
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InvalidValue("period.end", self.end, "must not be before the start")

    def contains(self, at: datetime) -> bool:
        """True when ``at`` is in the period."""
        return (self.start is None or self.start <= at) and (self.end is None or at < self.end)


# ---------------------------------------------------------------------------------------------
# Funnel


@attrs.frozen(kw_only=True)
class Funnel:
    """How far the leads of a period got. ``contacted`` counts every lead past New (Contacted
    or another Open reason, or closed); ``disqualified_by_reason`` maps each disqualification
    reason's label to its count (reasons with none left out), in reason-code order."""

    period: Period
    created: int
    contacted: int
    qualified: int
    disqualified: int
    open: int
    disqualified_by_reason: tuple[tuple[str, int], ...]

    @property
    def contact_rate(self) -> Decimal | None:
        """``contacted / created`` to four decimals (None when nothing was created)."""
        return _ratio(self.contacted, self.created)

    @property
    def qualification_rate(self) -> Decimal | None:
        """``qualified / created`` to four decimals (None when nothing was created)."""
        return _ratio(self.qualified, self.created)


def _reason_rows(counts: dict[StatusReason, int]) -> tuple[tuple[str, int], ...]:
    return tuple((r.label, counts[r]) for r in sorted(counts, key=lambda r: r.code))


def funnel(leads: Iterable[Lead], period: Period | None = None) -> Funnel:
    """The funnel of the leads created in ``period`` (every lead by default), from where each
    lead stands now."""
    period = period or Period()
    created = contacted = qualified = disqualified = still_open = 0
    reasons: dict[StatusReason, int] = {}
    for lead in leads:
        if not period.contains(lead.created_at):
            continue
        created += 1
        if lead.state is LeadState.QUALIFIED:
            qualified += 1
        elif lead.state is LeadState.DISQUALIFIED:
            disqualified += 1
            reasons[lead.reason] = reasons.get(lead.reason, 0) + 1
        else:
            still_open += 1
        if lead.is_closed or lead.reason != StatusReason.NEW:
            contacted += 1
    return Funnel(
        period=period,
        created=created,
        contacted=contacted,
        qualified=qualified,
        disqualified=disqualified,
        open=still_open,
        disqualified_by_reason=_reason_rows(reasons),
    )


def funnel_from_events(events: Iterable[LeadEvent], period: Period | None = None) -> Funnel:
    """The funnel counted from events that happened in ``period``: leads created, leads first
    moved to Contacted, qualifications and disqualifications (each lead counted once per step;
    ``open`` is created minus those closed in the period, never below 0)."""
    period = period or Period()
    steps: dict[str, set[LeadId]] = {k: set() for k in ("created", "contacted", "q", "d")}
    reasons: dict[StatusReason, int] = {}
    seen_disqualified: set[LeadId] = set()
    for event in events:
        if not period.contains(event.at):
            continue
        if isinstance(event, LeadCreated):
            steps["created"].add(event.lead_id)
        elif isinstance(event, StatusReasonChanged) and event.reason == StatusReason.CONTACTED:
            steps["contacted"].add(event.lead_id)
        elif isinstance(event, LeadQualified):
            steps["q"].add(event.lead_id)
        elif isinstance(event, LeadDisqualified):
            steps["d"].add(event.lead_id)
            if event.lead_id not in seen_disqualified:
                seen_disqualified.add(event.lead_id)
                reasons[event.reason] = reasons.get(event.reason, 0) + 1
    created = len(steps["created"])
    closed = len(steps["q"] | steps["d"])
    return Funnel(
        period=period,
        created=created,
        contacted=len(steps["contacted"] | steps["q"] | steps["d"]),
        qualified=len(steps["q"]),
        disqualified=len(steps["d"]),
        open=max(created - closed, 0),
        disqualified_by_reason=_reason_rows(reasons),
    )


# ---------------------------------------------------------------------------------------------
# Aging


@attrs.frozen
class AgeBucket:
    """Open leads aged ``low_days <= age < high_days`` (no upper end when None), oldest
    first."""

    label: str
    low_days: int
    high_days: int | None
    count: int = 0
    lead_ids: tuple[LeadId, ...] = ()


DEFAULT_AGE_BUCKETS: Final[tuple[tuple[int, int | None], ...]] = (
    (0, 7),
    (7, 30),
    (30, 90),
    (90, None),
)
"""Under a week, a week to a month, one to three months, older."""


@attrs.frozen(kw_only=True)
class AgingReport:
    """How long the open leads have been waiting at ``at``: the buckets, how many open leads,
    their mean and median age in days (two decimals; None when there are none) and the
    oldest lead."""

    at: datetime
    buckets: tuple[AgeBucket, ...]
    open: int
    mean_days: Decimal | None
    median_days: Decimal | None
    oldest: LeadId | None


def _bucket_label(low: int, high: int | None) -> str:
    return f"{low}+ days" if high is None else f"{low}-{high} days"


def _check_buckets(buckets: Sequence[tuple[int, int | None]]) -> None:
    expected = 0
    for index, (low, high) in enumerate(buckets):
        last = index == len(buckets) - 1
        if low != expected or (high is None) != last or (high is not None and high <= low):
            raise InvalidValue(
                "buckets", tuple(buckets), "must run from 0 without gaps, the last one open"
            )
        expected = high if high is not None else expected


def lead_aging(
    leads: Iterable[Lead],
    *,
    at: datetime,
    buckets: Sequence[tuple[int, int | None]] = DEFAULT_AGE_BUCKETS,
) -> AgingReport:
    """Age of every open lead at ``at`` (days since it was created; a lead created after ``at``
    counts as 0). Raises InvalidValue for a naive ``at`` or buckets that do not run from 0
    without gaps to an open end."""
    require_aware("at", at)
    _check_buckets(buckets)
    ages: list[tuple[timedelta, LeadId]] = []
    for lead in leads:
        if lead.is_open:
            ages.append((max(at - lead.created_at, timedelta(0)), lead.id))
    ages.sort(key=lambda a: (-a[0], a[1].value))
    grouped: list[list[LeadId]] = [[] for _ in buckets]
    for age, lead_id in ages:
        days = age.days
        for index, (low, high) in enumerate(buckets):
            if low <= days and (high is None or days < high):
                grouped[index].append(lead_id)
                break
    day = Decimal(86400)
    seconds = [Decimal(age.total_seconds()) / day for age, _ in ages]
    mean = median = None
    if seconds:
        mean = (sum(seconds, Decimal(0)) / len(seconds)).quantize(_CENT, ROUND_HALF_UP)
        ordered = sorted(seconds)
        mid = len(ordered) // 2
        middle = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        median = middle.quantize(_CENT, ROUND_HALF_UP)
    return AgingReport(
        at=at,
        buckets=tuple(
            AgeBucket(_bucket_label(low, high), low, high, len(ids), tuple(ids))
            for (low, high), ids in zip(buckets, grouped, strict=True)
        ),
        open=len(ages),
        mean_days=mean,
        median_days=median,
        oldest=ages[0][1] if ages else None,
    )


# ---------------------------------------------------------------------------------------------
# Qualification rates and sources


@attrs.frozen(kw_only=True)
class RateRow:
    """One group's qualification rate: ``qualified / (qualified + disqualified)`` to four
    decimals (None while nothing is closed)."""

    key: tuple[str, ...]
    label: str
    total: int
    open: int
    qualified: int
    disqualified: int

    @property
    def rate(self) -> Decimal | None:
        """The qualification rate of the closed leads."""
        return _ratio(self.qualified, self.qualified + self.disqualified)


def _source_label(source: LeadSource | None) -> str:
    return NO_SOURCE if source is None else source.label


def _source_order(label: str) -> tuple[int, str]:
    for source in LeadSource:
        if source.label == label:
            return (source.code, label)
    return (10_000, label)


GroupBy = Literal["source", "owner", "source_and_owner"]


def qualification_rates(
    leads: Iterable[Lead], *, by: GroupBy = "source", period: Period | None = None
) -> tuple[RateRow, ...]:
    """Qualification rate per source (in option-set order, "No source" last), per owner (by
    id) or per source and owner, over the leads created in ``period`` (all by default).
    Raises InvalidValue for another ``by``."""
    if by not in ("source", "owner", "source_and_owner"):
        raise InvalidValue("by", by, "must be 'source', 'owner' or 'source_and_owner'")
    period = period or Period()
    counts: dict[tuple[str, ...], list[int]] = {}
    names: dict[str, str] = {}
    for lead in leads:
        if not period.contains(lead.created_at):
            continue
        source = _source_label(lead.source)
        owner = lead.owner.id
        names[owner] = min(names.get(owner, str(lead.owner)), str(lead.owner))
        key: tuple[str, ...] = (
            (source,) if by == "source" else (owner,) if by == "owner" else (source, owner)
        )
        row = counts.setdefault(key, [0, 0, 0])
        index = {LeadState.OPEN: 0, LeadState.QUALIFIED: 1, LeadState.DISQUALIFIED: 2}
        row[index[lead.state]] += 1

    def order(key: tuple[str, ...]) -> tuple[object, ...]:
        if by == "owner":
            return key
        return (*_source_order(key[0]), *key[1:])

    rows = []
    for key in sorted(counts, key=order):
        opened, qualified, disqualified = counts[key]
        if by == "source":
            label = key[0]
        elif by == "owner":
            label = names[key[0]]
        else:
            label = f"{key[0]} / {names[key[1]]}"
        rows.append(
            RateRow(
                key=key,
                label=label,
                total=opened + qualified + disqualified,
                open=opened,
                qualified=qualified,
                disqualified=disqualified,
            )
        )
    return tuple(rows)


def leads_by_source(leads: Iterable[Lead]) -> tuple[ReportRow, ...]:
    """One row per lead source that has leads, in option-set order, then "No source"
    (the same row shape as the score reports: count, mean score, ids best score first)."""
    groups: dict[str, _Group] = {}
    for lead in leads:
        groups.setdefault(_source_label(lead.source), _Group()).add(lead)
    return tuple(groups[label].row((label,), label) for label in sorted(groups, key=_source_order))
