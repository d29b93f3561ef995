"""Charts of the lead reports as PNG or SVG files (``pip install "leadkit[charts]"``).

:func:`render_chart` draws any report of :mod:`leadkit.reports` — leads by owner, by owner
and rating (stacked by rating), by score band, by source, by stars, the funnel, lead aging,
qualification rates, the score distribution — and writes it to a file; the format comes from
the file's suffix (``.png``, ``.svg``) or ``format``. :func:`chart_figure` returns the
matplotlib figure instead, to embed or adjust.

matplotlib is imported only when a chart is drawn, and only its object API is used (a
``Figure`` on an Agg canvas): no pyplot, no global figure state, safe in a server. SVG text
stays text (searchable, selectable) and the file carries no date, so the same report gives
the same SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Final

from leadkit.errors import InvalidValue, LeadkitError
from leadkit.reports import (
    NOT_SCORED,
    AgingReport,
    Funnel,
    RateRow,
    ReportRow,
    ScoreDistribution,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CHART_FORMATS",
    "MAX_BARS",
    "ChartsUnavailable",
    "Report",
    "chart_figure",
    "chart_format",
    "render_chart",
    "require_matplotlib",
]

CHART_FORMATS: Final = ("png", "svg")
"""The file formats :func:`render_chart` writes."""

MAX_BARS: Final = 40
"""At most this many groups are drawn; the title says when more were left out."""

Report = Sequence[ReportRow] | Sequence[RateRow] | Funnel | AgingReport | ScoreDistribution
"""What can be charted: a report of :mod:`leadkit.reports` (or
:mod:`leadkit.scoring.score_reports`)."""

_COLOURS: Final = ("#2f6db5", "#e07b39", "#3a9e5c", "#c44e52", "#8172b2", "#937860", "#7f7f7f")
_RATING_COLOURS: Final = {"Hot": "#c44e52", "Warm": "#e07b39", "Cold": "#2f6db5"}
_GREY: Final = "#9a9a9a"


class ChartsUnavailable(LeadkitError, ImportError):
    """matplotlib is not installed; install the extra: ``pip install "leadkit[charts]"``."""

    def __init__(self) -> None:
        super().__init__('charts need matplotlib: pip install "leadkit[charts]"')


def chart_format(path: str | Path, format: str | None = None) -> str:
    """The chart format for ``path``: ``format`` when given, else the file suffix, as
    ``"png"`` or ``"svg"``. Raises InvalidValue for another format or suffix (or none)."""
    if format is not None:
        chosen = format.strip().lower().removeprefix(".")
        if chosen not in CHART_FORMATS:
            raise InvalidValue("format", format, "must be png or svg")
        return chosen
    suffix = Path(path).suffix.lower().removeprefix(".")
    if suffix not in CHART_FORMATS:
        shown = f"'.{suffix}'" if suffix else "no suffix"
        raise InvalidValue(
            "chart", str(path), f"unknown chart format ({shown}): use a .png or .svg file"
        )
    return suffix


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartsUnavailable() from None
    return Figure


def require_matplotlib() -> None:
    """Check that charts can be drawn (before doing the work they are for). Raises
    ChartsUnavailable when matplotlib is not installed."""
    _figure_class()


def chart_figure(
    report: Report,
    *,
    title: str | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: int = 100,
) -> Figure:
    """A matplotlib figure (on an Agg canvas, outside pyplot) drawing ``report``.

    ``size`` is in inches, so the image is ``size * dpi`` pixels. Raises ChartsUnavailable
    without matplotlib, InvalidValue for something that is not a report.
    """
    figure_class = _figure_class()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = figure_class(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    heading = _draw(axes, report)
    figure.suptitle(title or heading)
    return figure


def render_chart(
    report: Report,
    path: str | Path,
    *,
    format: str | None = None,
    title: str | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: int = 100,
) -> Path:
    """Draw ``report`` and write it to ``path`` as PNG or SVG (see :func:`chart_format`);
    returns the path. Raises InvalidValue for an unknown format or something that is not a
    report, ChartsUnavailable without matplotlib, OSError when the file cannot be written.
    """
    chosen = chart_format(path, format)
    figure = chart_figure(report, title=title, size=size, dpi=dpi)
    from matplotlib import rc_context

    target = Path(path)
    # Text stays text in SVG; a fixed hash salt and no date make the file reproducible.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "leadkit"}):
        metadata = {"Date": None} if chosen == "svg" else {}
        figure.savefig(target, format=chosen, dpi=dpi, metadata=metadata)
    return target


# ---------------------------------------------------------------------------------------------
# Drawing


def _number(value: Decimal | int | float) -> float:
    return float(value)


def _limited(labels: list[str]) -> tuple[int, str]:
    if len(labels) > MAX_BARS:
        return MAX_BARS, f" (first {MAX_BARS} of {len(labels)})"
    return len(labels), ""


def _bars(
    axes: Axes,
    labels: Sequence[str],
    values: Sequence[float],
    annotations: Sequence[str],
    ylabel: str,
    colour: str = _COLOURS[0],
) -> None:
    positions = list(range(len(labels)))
    bars = axes.bar(positions, values, color=colour)
    axes.bar_label(bars, labels=list(annotations), padding=2, fontsize=7)
    axes.set_xticks(positions, list(labels), rotation=30 if len(labels) > 4 else 0, ha="right")
    if len(labels) <= 4:
        for tick in axes.get_xticklabels():
            tick.set_horizontalalignment("center")
    axes.set_ylabel(ylabel)
    axes.margins(y=0.15)
    axes.spines[["top", "right"]].set_visible(False)


def _empty(axes: Axes, heading: str) -> str:
    axes.text(0.5, 0.5, "no leads", ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()
    return heading


def _draw(axes: Axes, report: object) -> str:
    """Draw ``report`` on ``axes``; returns the chart's heading."""
    if isinstance(report, Funnel):
        return _draw_funnel(axes, report)
    if isinstance(report, AgingReport):
        return _draw_aging(axes, report)
    if isinstance(report, ScoreDistribution):
        return _draw_distribution(axes, report)
    if isinstance(report, Sequence) and not isinstance(report, str):
        rows = list(report)
        if not rows:
            return _empty(axes, "leads")
        if all(isinstance(r, RateRow) for r in rows):
            return _draw_rates(axes, [r for r in rows if isinstance(r, RateRow)])
        if all(isinstance(r, ReportRow) for r in rows):
            grouped = [r for r in rows if isinstance(r, ReportRow)]
            if all(len(r.key) == 2 for r in grouped):
                return _draw_stacked(axes, grouped)
            return _draw_rows(axes, grouped)
    raise InvalidValue("report", type(report).__name__, "is not a report leadkit can chart")


def _draw_rows(axes: Axes, rows: list[ReportRow]) -> str:
    shown, note = _limited([r.label for r in rows])
    rows = rows[:shown]
    annotations = [
        f"{r.count}" if r.mean_score is None else f"{r.count}\navg {r.mean_score:.0f}" for r in rows
    ]
    _bars(axes, [r.label for r in rows], [r.count for r in rows], annotations, "leads")
    return f"Leads{note}"


def _draw_stacked(axes: Axes, rows: list[ReportRow]) -> str:
    """Rows keyed (group, series), such as owner and rating: one bar per group, stacked."""
    groups: list[str] = []
    names: dict[str, str] = {}
    series: list[str] = []
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        group, part = row.key
        if group not in names:
            groups.append(group)
            names[group] = row.label.rsplit(" / ", 1)[0]
        if part not in series:
            series.append(part)
        counts[group, part] = counts.get((group, part), 0) + row.count
    shown, note = _limited(groups)
    groups = groups[:shown]
    positions = list(range(len(groups)))
    bottoms = [0.0] * len(groups)
    for index, part in enumerate(series):
        values = [float(counts.get((g, part), 0)) for g in groups]
        colour = _RATING_COLOURS.get(part, _GREY if part == NOT_SCORED else _COLOURS[index % 7])
        axes.bar(positions, values, bottom=bottoms, color=colour, label=part)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    labels = [names[g] for g in groups]
    axes.set_xticks(positions, labels, rotation=30 if len(groups) > 4 else 0, ha="right")
    axes.set_ylabel("leads")
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.spines[["top", "right"]].set_visible(False)
    return f"Leads by owner and rating{note}"


def _draw_rates(axes: Axes, rows: list[RateRow]) -> str:
    shown, note = _limited([r.label for r in rows])
    rows = rows[:shown]
    positions = list(range(len(rows)))
    bottoms = [0.0] * len(rows)
    parts = (
        ("qualified", [r.qualified for r in rows], _COLOURS[2]),
        ("disqualified", [r.disqualified for r in rows], _COLOURS[3]),
        ("open", [r.open for r in rows], _GREY),
    )
    bars = None
    for name, values, colour in parts:
        floats = [float(v) for v in values]
        bars = axes.bar(positions, floats, bottom=bottoms, color=colour, label=name)
        bottoms = [b + v for b, v in zip(bottoms, floats, strict=True)]
    if bars is not None:
        rates = ["" if r.rate is None else f"{_number(r.rate) * 100:.0f}%" for r in rows]
        axes.bar_label(bars, labels=rates, padding=2, fontsize=8)
    labels = [r.label for r in rows]
    axes.set_xticks(positions, labels, rotation=30 if len(rows) > 4 else 0, ha="right")
    axes.set_ylabel("leads")
    axes.margins(y=0.15)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.spines[["top", "right"]].set_visible(False)
    return f"Qualification rate (qualified / closed){note}"


def _draw_funnel(axes: Axes, funnel: Funnel) -> str:
    steps = [
        ("created", funnel.created, _COLOURS[0]),
        ("contacted", funnel.contacted, _COLOURS[4]),
        ("qualified", funnel.qualified, _COLOURS[2]),
        ("disqualified", funnel.disqualified, _COLOURS[3]),
        ("still open", funnel.open, _GREY),
    ]
    steps += [(f"disqualified: {r}", n, "#e3a3a5") for r, n in funnel.disqualified_by_reason]
    labels = [s[0] for s in steps]
    positions = list(range(len(steps)))
    bars = axes.barh(positions, [float(s[1]) for s in steps], color=[s[2] for s in steps])
    axes.bar_label(bars, labels=[str(s[1]) for s in steps], padding=3, fontsize=8)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel("leads")
    axes.margins(x=0.12)
    axes.spines[["top", "right"]].set_visible(False)
    rate = funnel.qualification_rate
    return "Funnel" + ("" if rate is None else f" (qualified {_number(rate) * 100:.1f}%)")


def _draw_aging(axes: Axes, aging: AgingReport) -> str:
    labels = [b.label for b in aging.buckets]
    _bars(
        axes,
        labels,
        [float(b.count) for b in aging.buckets],
        [str(b.count) for b in aging.buckets],
        "open leads",
        _COLOURS[1],
    )
    mean = "" if aging.mean_days is None else f", mean {aging.mean_days} days"
    return f"Open lead aging ({aging.open} open{mean})"


def _draw_distribution(axes: Axes, distribution: ScoreDistribution) -> str:
    labels = [f"{b.low:.0f}-{b.high:.0f}" for b in distribution.buckets]
    _bars(
        axes,
        labels,
        [float(b.count) for b in distribution.buckets],
        [str(b.count) for b in distribution.buckets],
        "scored leads",
    )
    axes.set_xlabel("score")
    return f"Score distribution ({distribution.scored} scored, {distribution.unscored} not)"
