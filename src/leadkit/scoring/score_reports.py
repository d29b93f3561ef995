"""Score reports as data, and rescoring a stream of leads (``rescore_repository``, which
opens units of work over a repository, is in :mod:`leadkit.bulk`).

The reports read the score stored on each lead (``Lead.score``, ``stars``, ``score_rating``),
so they need no model: score distribution, leads by score band, by stars, by owner and by
owner and rating (the Outlook BCM reports "by score", "by assigned to" and "by assigned to
and rating"). Each takes any iterable of leads (a list, ``repository.stream()``) in one pass
and returns frozen values a CLI or an app renders. Row order is fixed and documented, and no
report depends on the order of its input.

:func:`rescore_repository` rescores every lead a repository streams, saves those whose score
changed and reports progress through a callback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Final

import attrs

from leadkit.errors import InvalidValue
from leadkit.fields import Rating
from leadkit.scoring.engine import is_outdated, score_lead
from leadkit.scoring.model import ScoringModel
from leadkit.scoring.predictive import PredictiveModel
from leadkit.values import LeadId, UserRef

if TYPE_CHECKING:
    from leadkit.lead import Lead

__all__ = [
    "DEFAULT_BANDS",
    "NOT_SCORED",
    "ReportRow",
    "RescoreProgress",
    "ScoreBand",
    "ScoreBucket",
    "ScoreDistribution",
    "leads_by_owner",
    "leads_by_owner_and_rating",
    "leads_by_score_band",
    "leads_by_stars",
    "rescore",
    "score_distribution",
]

NOT_SCORED: Final = "Not scored"
"""The label of the row of leads that carry no score."""

_CENT: Final = Decimal("0.01")


@attrs.frozen
class ScoreBucket:
    """Scored leads with ``low <= score < high`` (the last bucket includes 100)."""

    low: Decimal
    high: Decimal
    count: int


@attrs.frozen(kw_only=True)
class ScoreDistribution:
    """How the stored scores are spread: buckets of equal width, how many leads are scored
    and not, and the mean, median, lowest and highest score (None when nothing is scored).
    The mean and median are rounded half up to two decimals."""

    buckets: tuple[ScoreBucket, ...]
    scored: int
    unscored: int
    mean: Decimal | None
    median: Decimal | None
    lowest: Decimal | None
    highest: Decimal | None


@attrs.frozen(kw_only=True)
class ReportRow:
    """One row of a grouped report: its key parts, a label, how many leads, their mean
    score (None when none is scored) and their ids, best score first (unscored last, ties
    by id)."""

    key: tuple[str, ...]
    label: str
    count: int
    mean_score: Decimal | None
    lead_ids: tuple[LeadId, ...]


@attrs.frozen
class ScoreBand:
    """A labelled score range ``low <= score < high``; a band ending at 100 includes 100.
    Raises InvalidValue for an empty label or a range outside 0-100."""

    label: str
    low: Decimal = attrs.field(converter=Decimal)
    high: Decimal = attrs.field(converter=Decimal)

    def __attrs_post_init__(self) -> None:
        if not self.label.strip():
            raise InvalidValue("band.label", self.label, "must not be empty")
        if not 0 <= self.low < self.high <= 100:
            raise InvalidValue("band", (self.low, self.high), "needs 0 <= low < high <= 100")

    def contains(self, value: Decimal) -> bool:
        """True when ``value`` is in the band."""
        return self.low <= value < self.high or (self.high == 100 and value == 100)


DEFAULT_BANDS: Final[tuple[ScoreBand, ...]] = (
    ScoreBand("80-100", 80, 100),
    ScoreBand("60-80", 60, 80),
    ScoreBand("40-60", 40, 60),
    ScoreBand("20-40", 20, 40),
    ScoreBand("0-20", 0, 20),
)
"""Five bands of twenty points, best first."""


def _mean(total: Decimal, count: int) -> Decimal | None:
    if not count:
        return None
    return (total / count).quantize(_CENT, rounding=ROUND_HALF_UP)


def score_distribution(leads: Iterable[Lead], *, width: int = 10) -> ScoreDistribution:
    """The distribution of stored scores in buckets ``width`` points wide (10 by default).

    Raises InvalidValue unless ``width`` divides 100.
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1 or 100 % width:
        raise InvalidValue("width", width, "must be a whole number that divides 100")
    values: Counter[Decimal] = Counter()
    unscored = 0
    for lead in leads:
        if lead.score is None:
            unscored += 1
        else:
            values[lead.score] += 1
    slots = 100 // width
    counts = [0] * slots
    for value, n in values.items():
        counts[min(int(value // width), slots - 1)] += n
    scored = sum(values.values())
    ordered = sorted(values.items())
    total = sum((v * n for v, n in ordered), Decimal(0))
    return ScoreDistribution(
        buckets=tuple(
            ScoreBucket(Decimal(i * width), Decimal((i + 1) * width), counts[i])
            for i in range(slots)
        ),
        scored=scored,
        unscored=unscored,
        mean=_mean(total, scored),
        median=_median(ordered, scored),
        lowest=ordered[0][0] if ordered else None,
        highest=ordered[-1][0] if ordered else None,
    )


def _median(ordered: Sequence[tuple[Decimal, int]], count: int) -> Decimal | None:
    if not count:
        return None
    wanted = [(count - 1) // 2, count // 2]
    found: list[Decimal] = []
    seen = 0
    for value, n in ordered:
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return ((found[0] + found[1]) / 2).quantize(_CENT, rounding=ROUND_HALF_UP)


class _Group:
    __slots__ = ("entries", "scored", "total")

    def __init__(self) -> None:
        self.entries: list[tuple[Decimal | None, LeadId]] = []
        self.total = Decimal(0)
        self.scored = 0

    def add(self, lead: Lead) -> None:
        self.entries.append((lead.score, lead.id))
        if lead.score is not None:
            self.total += lead.score
            self.scored += 1

    def row(self, key: tuple[str, ...], label: str) -> ReportRow:
        ordered = sorted(
            self.entries,
            key=lambda e: (e[0] is None, -(e[0] or 0), e[1].value),
        )
        return ReportRow(
            key=key,
            label=label,
            count=len(self.entries),
            mean_score=_mean(self.total, self.scored),
            lead_ids=tuple(lead_id for _, lead_id in ordered),
        )


def leads_by_score_band(
    leads: Iterable[Lead], bands: Sequence[ScoreBand] = DEFAULT_BANDS
) -> tuple[ReportRow, ...]:
    """One row per band, in the order given, then "Not scored" for leads without a score or
    outside every band. A lead counts in the first band that contains it."""
    groups = [_Group() for _ in bands]
    rest = _Group()
    for lead in leads:
        value = lead.score
        for band, group in zip(bands, groups, strict=True):
            if value is not None and band.contains(value):
                group.add(lead)
                break
        else:
            rest.add(lead)
    rows = [g.row((b.label,), b.label) for b, g in zip(bands, groups, strict=True)]
    rows.append(rest.row((NOT_SCORED,), NOT_SCORED))
    return tuple(rows)


def leads_by_stars(leads: Iterable[Lead]) -> tuple[ReportRow, ...]:
    """The BCM "by score" report: one row per number of stars, most first, then
    "Not scored"; only numbers of stars some lead has get a row."""
    groups: dict[int | None, _Group] = {}
    for lead in leads:
        groups.setdefault(lead.stars, _Group()).add(lead)
    rows = [
        groups[stars].row((str(stars),), f"{stars} star{'s' if stars != 1 else ''}")
        for stars in sorted((s for s in groups if s is not None), reverse=True)
    ]
    if None in groups:
        rows.append(groups[None].row((NOT_SCORED,), NOT_SCORED))
    return tuple(rows)


def leads_by_owner(leads: Iterable[Lead]) -> tuple[ReportRow, ...]:
    """The BCM "by assigned to" report: one row per owner, by owner id; the label is the
    owner's name (or id)."""
    groups: dict[str, _Group] = {}
    names: dict[str, str] = {}
    for lead in leads:
        groups.setdefault(lead.owner.id, _Group()).add(lead)
        names[lead.owner.id] = min(names.get(lead.owner.id, str(lead.owner)), str(lead.owner))
    return tuple(groups[o].row((o,), names[o]) for o in sorted(groups))


_RATING_ORDER: Final = (Rating.HOT, Rating.WARM, Rating.COLD, None)


def leads_by_owner_and_rating(leads: Iterable[Lead]) -> tuple[ReportRow, ...]:
    """The BCM "by assigned to and rating" report on the score's rating: a row per owner
    (by id) and rating (Hot, Warm, Cold, then "Not scored") that has leads."""
    groups: dict[tuple[str, Rating | None], _Group] = {}
    names: dict[str, str] = {}
    for lead in leads:
        groups.setdefault((lead.owner.id, lead.score_rating), _Group()).add(lead)
        names[lead.owner.id] = min(names.get(lead.owner.id, str(lead.owner)), str(lead.owner))
    rows = []
    for owner in sorted({o for o, _ in groups}):
        for rating in _RATING_ORDER:
            group = groups.get((owner, rating))
            if group is not None:
                label = NOT_SCORED if rating is None else rating.label
                rows.append(group.row((owner, label), f"{names[owner]} / {label}"))
    return tuple(rows)


# ---------------------------------------------------------------------------------------------
# Bulk rescoring


@attrs.frozen(kw_only=True)
class RescoreProgress:
    """How far a bulk rescoring got: leads seen, rescored (score changed and saved), and
    unchanged; ``total`` is how many the repository counted at the start."""

    seen: int
    rescored: int
    unchanged: int
    total: int | None

    @property
    def fraction(self) -> float | None:
        """``seen / total`` (None when the total is unknown or zero)."""
        return self.seen / self.total if self.total else None


def rescore(
    leads: Iterable[Lead],
    model: ScoringModel,
    *,
    at: datetime,
    by: UserRef,
    predictive: PredictiveModel | None = None,
    only_outdated: bool = False,
) -> Iterator[Lead]:
    """Score every lead and yield those whose stored score changed (with a pending
    ``LeadScored`` event), lazily and in order. With ``only_outdated``, leads already scored
    by this model version are skipped."""
    for lead in leads:
        if only_outdated and not is_outdated(lead, model):
            continue
        scored = score_lead(lead, model, at=at, by=by, predictive=predictive)
        if scored is not lead:
            yield scored
