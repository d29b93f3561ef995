"""Charts of the lead reports (leadkit.charts): real PNG and SVG files, opened and checked."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from leadkit import reports
from leadkit.charts import (
    MAX_BARS,
    ChartsUnavailable,
    Report,
    chart_figure,
    chart_format,
    render_chart,
)
from leadkit.cli.demo_data import demo_leads
from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.scoring.engine import score
from leadkit.scoring.presets import BCM_MODEL
from leadkit.status import StatusReason
from leadkit.values import LeadId, UserRef

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SELLERS = (UserRef("anna.s", "Anna S"), UserRef("bo.k", "Bo K"), UserRef("cy.m", "Cy M"))


def _leads() -> list[Lead]:
    made = []
    for n, demo in enumerate(demo_leads(150, end=NOW - timedelta(days=1), seed=7)):
        owner = SELLERS[n % len(SELLERS)]
        lead = Lead.create(LeadId(f"D-{n}"), demo.patch, at=demo.created_at, by=owner)
        lead = lead.record_score(score(lead, BCM_MODEL, NOW), at=NOW, by=owner)
        if n % 7 == 1:
            lead = lead.mark_contacted(at=NOW, by=owner)
        if n % 10 == 3:
            lead = lead.disqualify(StatusReason.CANNOT_CONTACT, at=NOW, by=owner)
        elif n % 10 == 5:
            lead = lead.mark_qualified(at=NOW, by=owner)
        made.append(lead.clear_events())
    return made


LEADS = _leads()

# kind -> (report builder, labels its chart must show)
REPORTS: dict[str, tuple[Callable[[], Report], tuple[str, ...]]] = {
    "owner": (lambda: reports.leads_by_owner(LEADS), ("Anna S", "Bo K", "Cy M")),
    "owner-rating": (
        lambda: reports.leads_by_owner_and_rating(LEADS),
        ("Anna S", "Bo K", "Cy M", "Cold"),
    ),
    "score-band": (lambda: reports.leads_by_score_band(LEADS), ("0-20", "80-100")),
    "source": (lambda: reports.leads_by_source(LEADS), ("Web", "Partner")),
    "funnel": (lambda: reports.funnel(LEADS), ("created", "qualified", "Cannot Contact")),
    "aging": (lambda: reports.lead_aging(LEADS, at=NOW), ("0-7 days", "90+ days")),
    "rates": (lambda: reports.qualification_rates(LEADS, by="owner"), ("Anna S", "qualified")),
    "distribution": (lambda: reports.score_distribution(LEADS), ("Score distribution",)),
    "stars": (lambda: reports.leads_by_stars(LEADS), ("Leads",)),
}


def _svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(" ".join(element.itertext()) for element in root.iter())


@pytest.mark.parametrize("kind", sorted(REPORTS))
def test_every_report_renders_to_a_png_that_is_not_blank(kind: str, tmp_path: Path) -> None:
    build, _ = REPORTS[kind]
    path = render_chart(build(), tmp_path / f"{kind}.png")
    image = imread(str(path))
    assert image.shape[:2] == (450, 800)  # 8 x 4.5 inches at 100 dpi
    pixels = image.reshape(-1, image.shape[-1])
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 10
    background = np.all(pixels[:, :3] > 0.99, axis=1)  # white
    assert 0.02 < 1 - background.mean() < 0.9  # something is drawn, not everything


@pytest.mark.parametrize("kind", sorted(REPORTS))
def test_every_report_renders_to_an_svg_with_its_labels(kind: str, tmp_path: Path) -> None:
    build, labels = REPORTS[kind]
    path = render_chart(build(), tmp_path / f"{kind}.svg")
    text = _svg_text(path)
    for label in labels:
        assert label in text, f"{label!r} not in the {kind} chart"


def test_the_same_report_gives_the_same_svg(tmp_path: Path) -> None:
    funnel = reports.funnel(LEADS)
    first = render_chart(funnel, tmp_path / "a.svg").read_bytes()
    second = render_chart(funnel, tmp_path / "b.svg").read_bytes()
    assert first == second


def test_the_format_comes_from_the_suffix_or_is_given(tmp_path: Path) -> None:
    assert chart_format("x.PNG") == "png"
    assert chart_format(Path("a/b.svg")) == "svg"
    assert chart_format("chart.out", "SVG") == "svg"
    path = render_chart(reports.funnel(LEADS), tmp_path / "chart.out", format="svg")
    assert ET.parse(path).getroot().tag.endswith("svg")
    png = render_chart(reports.funnel(LEADS), tmp_path / "chart.img", format="png")
    assert png.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("path", "given"), [("x.gif", None), ("x", None), ("x.png", "jpeg")])
def test_an_unknown_format_is_refused_naming_it(path: str, given: str | None) -> None:
    with pytest.raises(InvalidValue) as raised:
        chart_format(path, given)
    assert "png" in str(raised.value)
    assert "svg" in str(raised.value)


def test_size_and_title_can_be_chosen(tmp_path: Path) -> None:
    rows = reports.leads_by_source(LEADS)
    path = render_chart(rows, tmp_path / "s.png", title="Where leads come from", size=(4, 3))
    assert imread(str(path)).shape[:2] == (300, 400)
    figure = chart_figure(rows, title="Where leads come from")
    assert figure.get_suptitle() == "Where leads come from"


def test_an_empty_report_still_draws(tmp_path: Path) -> None:
    path = render_chart(reports.leads_by_owner([]), tmp_path / "empty.svg")
    assert "no leads" in _svg_text(path)
    render_chart(reports.funnel([]), tmp_path / "empty.png")


def test_many_groups_are_cut_at_the_limit_and_the_title_says_so(tmp_path: Path) -> None:
    many = [
        Lead.create(
            LeadId(f"M-{n}"), LeadPatch(topic="t", name="n"), at=NOW, by=UserRef(f"user{n:03d}")
        )
        for n in range(MAX_BARS + 5)
    ]
    path = render_chart(reports.leads_by_owner(many), tmp_path / "many.svg")
    text = _svg_text(path)
    assert f"first {MAX_BARS} of {MAX_BARS + 5}" in text
    assert "user000" in text
    assert f"user{MAX_BARS + 4:03d}" not in text


def test_something_that_is_not_a_report_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue):
        render_chart(["owner"], tmp_path / "x.png")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        render_chart(42, tmp_path / "x.png")  # type: ignore[arg-type]


def test_without_matplotlib_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ChartsUnavailable) as raised:
        render_chart(reports.funnel(LEADS), tmp_path / "x.png")
    assert 'pip install "leadkit[charts]"' in str(raised.value)
    assert isinstance(raised.value, ImportError)
    assert not (tmp_path / "x.png").exists()


def test_core_import_of_leadkit_charts_does_not_load_matplotlib() -> None:
    import subprocess

    code = "import sys, leadkit.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"
