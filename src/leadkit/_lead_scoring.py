"""The scoring commands of a lead: ticked criteria, the manual score and recorded scores.

A mixin of :class:`leadkit.lead.Lead`. Ticking criteria and setting or clearing a manual score
are edits, refused on closed leads; ``record_score`` is allowed on closed leads too (a score is
derived data) and does not change ``modified_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from leadkit._lead_base import LeadBase
from leadkit.errors import InvalidValue
from leadkit.events import (
    CriterionTicked,
    CriterionUnticked,
    LeadScored,
    ManualScoreCleared,
    ManualScoreSet,
)
from leadkit.scoring.result import ManualScore, Score, check_slug
from leadkit.values import UserRef

__all__ = ["ScoringCommands"]


class ScoringCommands(LeadBase):
    """The scoring commands of :class:`leadkit.lead.Lead`."""

    __slots__ = ()

    def tick_criterion(self, criterion_id: str, *, at: datetime, by: UserRef) -> Self:
        """Tick a manual scoring criterion (an Outlook BCM check box). Ticking one already
        ticked changes nothing. The lead does not know the models: an id no model has is kept
        and ignored when scoring.

        Raises LeadClosed on a closed lead and InvalidValue for a malformed id.
        """
        self._require_open("tick criterion")
        check_slug("criterion_id", criterion_id)
        if criterion_id in self.ticked_criteria:
            return self
        return self._record(
            CriterionTicked(lead_id=self.id, at=at, by=by, criterion_id=criterion_id)
        )

    def untick_criterion(self, criterion_id: str, *, at: datetime, by: UserRef) -> Self:
        """Untick a manual scoring criterion; one not ticked changes nothing.

        Raises LeadClosed on a closed lead and InvalidValue for a malformed id.
        """
        self._require_open("untick criterion")
        check_slug("criterion_id", criterion_id)
        if criterion_id not in self.ticked_criteria:
            return self
        return self._record(
            CriterionUnticked(lead_id=self.id, at=at, by=by, criterion_id=criterion_id)
        )

    def set_manual_score(
        self,
        stars: int,
        *,
        at: datetime,
        by: UserRef,
        reason: str = "",
        expires_at: datetime | None = None,
    ) -> Self:
        """Set the lead's stars by hand (BCM "score type: manual"), by ``by`` at ``at``.

        The override wins over computed scores until cleared or, with ``expires_at``, until
        a score is computed at or after that time. Setting the same stars, reason and expiry
        again changes nothing. Raises LeadClosed on a closed lead and InvalidValue for stars
        outside 0-10, a naive time or an expiry not after ``at``.
        """
        self._require_open("set manual score")
        manual = ManualScore(stars=stars, author=by, at=at, reason=reason, expires_at=expires_at)
        current = self.manual_score
        if current is not None and (
            (current.stars, current.reason, current.expires_at, current.author)
            == (manual.stars, manual.reason, manual.expires_at, manual.author)
        ):
            return self
        return self._record(
            ManualScoreSet(lead_id=self.id, at=at, by=by, manual=manual, previous=current)
        )

    def clear_manual_score(self, *, at: datetime, by: UserRef) -> Self:
        """Clear the manual score so computed scores decide again; none set changes nothing.

        Raises LeadClosed on a closed lead.
        """
        self._require_open("clear manual score")
        if self.manual_score is None:
            return self
        return self._record(
            ManualScoreCleared(lead_id=self.id, at=at, by=by, previous=self.manual_score)
        )

    def record_score(self, score: Score, *, at: datetime, by: UserRef) -> Self:
        """Record a score computed by ``leadkit.scoring`` (a ``LeadScored`` event).

        Allowed on closed leads (a score is derived data) and leaves ``modified_at`` alone.
        A score equal to the stored one (value, stars, rating, model and version) changes
        nothing. Raises InvalidValue for a score of another lead.
        """
        if score.lead_id != self.id:
            raise InvalidValue("score.lead_id", score.lead_id, f"not a score of lead {self.id}")
        stored = (
            self.score,
            self.stars,
            self.score_rating,
            self.score_model,
            self.score_model_version,
        )
        if stored == (score.value, score.stars, score.rating, score.model_id, score.model_version):
            return self
        return self._record(
            LeadScored(lead_id=self.id, at=at, by=by, score=score, previous=self.score)
        )
