"""Specification of the lead reports (leadkit.reports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from leadkit import reports
from leadkit.errors import InvalidValue
from leadkit.fields import LeadSource
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.scoring import score_reports as scoring_reports
from leadkit.status import StatusReason
from leadkit.values import LeadId, UserRef

T0 = datetime(2024, 5, 1, tzinfo=UTC)
ANA, BO = UserRef("ana", "Ana"), UserRef("bo", "Bo")


def lead(
    n: int,
    *,
    days: int = 0,
    owner: UserRef = ANA,
    source: LeadSource | None = None,
    end: str = "new",
) -> Lead:
    at = T0 + timedelta(days=days)
    made = Lead.create(
        LeadId(f"L-{n}"),
        LeadPatch(topic=f"T{n}", name=f"P {n}", source=source),
        at=at,
        by=owner,
    )
    if end == "contacted":
        made = made.mark_contacted(at=at, by=owner)
    elif end == "qualified":
        made = made.mark_qualified(at=at, by=owner)
    elif end == "lost":
        made = made.disqualify(StatusReason.LOST, at=at, by=owner)
    elif end == "canceled":
        made = made.disqualify(StatusReason.CANCELED, at=at, by=owner)
    return made.clear_events()


LEADS = [
    lead(1, days=0, source=LeadSource.WEB, end="qualified"),
    lead(2, days=1, source=LeadSource.WEB, end="lost"),
    lead(3, days=2, source=LeadSource.WEB, end="contacted", owner=BO),
    lead(4, days=40, source=LeadSource.ADVERTISEMENT, owner=BO),
    lead(5, days=50, end="canceled", owner=BO),
]


def test_score_reports_are_the_scoring_modules_own() -> None:
    assert reports.leads_by_owner is scoring_reports.leads_by_owner
    assert reports.leads_by_owner_and_rating is scoring_reports.leads_by_owner_and_rating
    assert reports.leads_by_score_band is scoring_reports.leads_by_score_band


def test_funnel_counts_how_far_the_leads_of_a_period_got() -> None:
    f = reports.funnel(LEADS, reports.Period(T0, T0 + timedelta(days=30)))
    assert (f.created, f.contacted, f.qualified, f.disqualified, f.open) == (3, 3, 1, 1, 1)
    assert f.disqualified_by_reason == (("Lost", 1),)
    assert f.qualification_rate == Decimal("0.3333")


def test_funnel_over_everything_lists_reasons_in_code_order() -> None:
    f = reports.funnel(LEADS)
    assert f.created == 5
    assert f.contacted == 4
    assert f.disqualified_by_reason == (("Lost", 1), ("Canceled", 1))


def test_funnel_from_events_counts_each_step_once() -> None:
    at = T0
    made = Lead.create(LeadId("E-1"), LeadPatch(topic="t", name="n"), at=at, by=ANA)
    made = made.mark_contacted(at=at, by=ANA).disqualify(StatusReason.LOST, at=at, by=ANA)
    made = made.reactivate(at=at, by=ANA).disqualify(StatusReason.LOST, at=at, by=ANA)
    f = reports.funnel_from_events(made.pending_events)
    assert (f.created, f.contacted, f.disqualified, f.open) == (1, 1, 1, 0)
    assert f.disqualified_by_reason == (("Lost", 1),)


def test_lead_aging_buckets_open_leads_oldest_first() -> None:
    report = reports.lead_aging(LEADS, at=T0 + timedelta(days=45))
    assert report.open == 2
    assert [(b.label, b.count) for b in report.buckets] == [
        ("0-7 days", 1),
        ("7-30 days", 0),
        ("30-90 days", 1),
        ("90+ days", 0),
    ]
    assert report.oldest == LeadId("L-3")
    assert report.mean_days == Decimal("24.00")
    assert report.median_days == Decimal("24.00")


def test_lead_aging_refuses_gappy_buckets_and_naive_times() -> None:
    with pytest.raises(InvalidValue):
        reports.lead_aging(LEADS, at=T0, buckets=((0, 7), (8, None)))
    with pytest.raises(InvalidValue):
        reports.lead_aging(LEADS, at=datetime(2024, 1, 1))


def test_qualification_rate_by_source_owner_and_both() -> None:
    by_source = reports.qualification_rates(LEADS)
    assert [(r.label, r.total, r.rate) for r in by_source] == [
        ("Advertisement", 1, None),
        ("Web", 3, Decimal("0.5000")),
        ("No source", 1, Decimal("0.0000")),
    ]
    by_owner = reports.qualification_rates(LEADS, by="owner")
    assert [(r.label, r.qualified, r.disqualified) for r in by_owner] == [
        ("Ana", 1, 1),
        ("Bo", 0, 1),
    ]
    both = reports.qualification_rates(LEADS, by="source_and_owner")
    assert both[1].key == ("Web", "ana")
    assert both[1].label == "Web / Ana"
    with pytest.raises(InvalidValue):
        reports.qualification_rates(LEADS, by="rating")  # type: ignore[arg-type]


def test_leads_by_source_in_option_order_without_source_last() -> None:
    rows = reports.leads_by_source(reversed(LEADS))
    assert [(r.label, r.count) for r in rows] == [
        ("Advertisement", 1),
        ("Web", 3),
        ("No source", 1),
    ]
    assert rows[1].lead_ids == (LeadId("L-1"), LeadId("L-2"), LeadId("L-3"))


def test_a_period_refuses_naive_or_inverted_ends() -> None:
    with pytest.raises(InvalidValue):
        reports.Period(datetime(2024, 1, 1))
    with pytest.raises(InvalidValue):
        reports.Period(T0, T0 - timedelta(days=1))
