"""``leadkit report``: the reports as tables, JSON or a chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import click
from rich.console import Console

from leadkit import reports
from leadkit.cli._shared import _console, _echo, _emit_json, _now, _settings, _store, _Table
from leadkit.cli.app import cli
from leadkit.errors import InvalidValue
from leadkit.lead import Lead

# ---------------------------------------------------------------------------------------------
# Reports


_REPORTS = ("owner", "owner-rating", "score-band", "source", "funnel", "aging", "rates")


def _rows_json(rows: Sequence[reports.ReportRow]) -> list[dict[str, object]]:
    return [{"label": r.label, "count": r.count, "mean_score": r.mean_score} for r in rows]


def _rate_json(rows: Sequence[reports.RateRow]) -> list[dict[str, object]]:
    return [
        {
            "label": r.label,
            "total": r.total,
            "open": r.open,
            "qualified": r.qualified,
            "disqualified": r.disqualified,
            "rate": r.rate,
        }
        for r in rows
    ]


def _build_reports(
    leads: list[Lead], kinds: Sequence[str], period: reports.Period
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in kinds:
        if kind == "owner":
            out[kind] = reports.leads_by_owner(leads)
        elif kind == "owner-rating":
            out[kind] = reports.leads_by_owner_and_rating(leads)
        elif kind == "score-band":
            out[kind] = reports.leads_by_score_band(leads)
        elif kind == "source":
            out[kind] = reports.leads_by_source(leads)
        elif kind == "funnel":
            out[kind] = reports.funnel(leads, period)
        elif kind == "aging":
            out[kind] = reports.lead_aging(leads, at=_now())
        elif kind == "rates":
            out[kind] = reports.qualification_rates(leads, by="source", period=period)
    return out


def _report_json(kind: str, value: Any) -> object:
    if kind in ("owner", "owner-rating", "score-band", "source"):
        return _rows_json(value)
    if kind == "rates":
        return _rate_json(value)
    if kind == "funnel":
        f = cast(reports.Funnel, value)
        return {
            "created": f.created,
            "contacted": f.contacted,
            "qualified": f.qualified,
            "disqualified": f.disqualified,
            "open": f.open,
            "disqualified_by_reason": dict(f.disqualified_by_reason),
            "qualification_rate": f.qualification_rate,
        }
    a = cast(reports.AgingReport, value)
    return {
        "open": a.open,
        "mean_days": a.mean_days,
        "median_days": a.median_days,
        "oldest": None if a.oldest is None else a.oldest.value,
        "buckets": {b.label: b.count for b in a.buckets},
    }


_TABLE_TITLES = {
    "owner": "leads by owner",
    "owner-rating": "leads by owner and rating",
    "score-band": "leads by score band",
    "source": "leads by source",
}


def _print_report(console: Console, kind: str, value: Any) -> None:
    if kind in ("owner", "owner-rating", "score-band", "source"):
        table = _Table(title=_TABLE_TITLES[kind], title_justify="left")
        for column in ("group", "leads", "mean score"):
            table.add_column(column)
        for row in value:
            mean = "" if row.mean_score is None else str(row.mean_score)
            table.add_row(row.label, str(row.count), mean)
        console.print(table)
    elif kind == "rates":
        table = _Table(title="qualification rate by source", title_justify="left")
        for column in ("source", "leads", "open", "qualified", "disqualified", "rate"):
            table.add_column(column)
        for r in value:
            rate = "" if r.rate is None else f"{r.rate * 100:.1f}%"
            table.add_row(
                r.label, str(r.total), str(r.open), str(r.qualified), str(r.disqualified), rate
            )
        console.print(table)
    elif kind == "funnel":
        f = cast(reports.Funnel, value)
        table = _Table(title="funnel", title_justify="left")
        table.add_column("step")
        table.add_column("leads")
        for step, count in (
            ("created", f.created),
            ("contacted", f.contacted),
            ("qualified", f.qualified),
            ("disqualified", f.disqualified),
            ("still open", f.open),
        ):
            table.add_row(step, str(count))
        for reason, count in f.disqualified_by_reason:
            table.add_row(f"  disqualified: {reason}", str(count))
        console.print(table)
    else:
        a = cast(reports.AgingReport, value)
        table = _Table(title="open lead aging", title_justify="left")
        table.add_column("age")
        table.add_column("open leads")
        for bucket in a.buckets:
            table.add_row(bucket.label, str(bucket.count))
        if a.mean_days is not None:
            table.add_row("mean / median", f"{a.mean_days} / {a.median_days} days")
        console.print(table)


def _parse_day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(option, value, "must be an ISO date (2024-05-01)") from None
    return day if day.tzinfo is not None else day.replace(tzinfo=UTC)


_CHART_TITLES: dict[str, str | None] = {
    "owner": "Leads by owner",
    "owner-rating": "Leads by owner and rating",
    "score-band": "Leads by score band",
    "source": "Leads by source",
    "funnel": None,
    "aging": None,
    "rates": "Qualification rate by source (qualified / closed)",
}


@cli.command()
@click.argument("kind_args", nargs=-1, type=click.Choice(_REPORTS), metavar="[KIND]...")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(_REPORTS),
    help="Which report (repeatable; same as KIND; default: all).",
)
@click.option("--from", "start", help="Period start (ISO date) for funnel and rates.")
@click.option("--to", "end", help="Period end (ISO date, exclusive).")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False),
    help="Also draw the report (one KIND) as a chart: a .png or .svg file (leadkit[charts]).",
)
@click.option(
    "--chart-format",
    type=click.Choice(["png", "svg"]),
    help="The chart's format, when the file's suffix does not say.",
)
def report(
    kind_args: tuple[str, ...],
    kinds: tuple[str, ...],
    start: str | None,
    end: str | None,
    chart: str | None,
    chart_format: str | None,
) -> None:
    """Reports: by owner, owner and rating, score band, source; funnel, aging, rates.

    KIND is one of owner, owner-rating, score-band, source, funnel, aging, rates (several
    may be given; default: all). With --chart FILE the report is also drawn as PNG or SVG.
    """
    chosen = tuple(dict.fromkeys((*kind_args, *kinds))) or _REPORTS
    period = reports.Period(_parse_day(start, "--from"), _parse_day(end, "--to"))
    if chart is not None:
        from leadkit.charts import chart_format as check_format
        from leadkit.charts import require_matplotlib

        if len(chosen) != 1:
            raise click.UsageError("--chart draws one report: give exactly one KIND")
        check_format(chart, chart_format)
        require_matplotlib()
    with _store() as store, store.unit_of_work() as uow:
        leads = list(uow.leads.stream())
    built = _build_reports(leads, chosen, period)
    settings = _settings()
    if settings.json:
        _emit_json({kind: _report_json(kind, value) for kind, value in built.items()})
    else:
        console = _console()
        for kind, value in built.items():
            _print_report(console, kind, value)
    if chart is not None:
        from leadkit.charts import render_chart

        kind = chosen[0]
        written = render_chart(built[kind], chart, format=chart_format, title=_CHART_TITLES[kind])
        _echo(f"chart written: {written}", err=settings.json)
