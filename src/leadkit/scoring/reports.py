"""The old name of :mod:`leadkit.scoring.score_reports`, the score reports and bulk
rescoring: kept so that modules still importing ``leadkit.scoring.reports`` work while they
move to the new name. Import from :mod:`leadkit.scoring.score_reports`."""

from __future__ import annotations

from leadkit.scoring.score_reports import (
    DEFAULT_BANDS,
    NOT_SCORED,
    ReportRow,
    RescoreProgress,
    ScoreBand,
    ScoreBucket,
    ScoreDistribution,
    leads_by_owner,
    leads_by_owner_and_rating,
    leads_by_score_band,
    leads_by_stars,
    rescore,
    rescore_repository,
    score_distribution,
)

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
    "rescore_repository",
    "score_distribution",
]
