"""Rescoring a store batch by batch without rebuilding whole leads: the port and the per-lead step.

:class:`LeadRescorer` is what rescoring does to one lead: the score under a model, and the
``LeadScored`` event :meth:`leadkit.lead.Lead.record_score` would record, or None when the
stored score already matches (then nothing is written). It runs the compiled engine and, for
the common case (no manual override, no predictive blend), reuses one explanation per set of
met criteria, so the events are equal to those of :func:`leadkit.scoring.score_lead`.

:class:`RescoringRepository` is the optional port a lead repository offers to rescore a page
in one go: read the page, call the rescorer on each lead of the shard, write back only the
score (the score fields of the document, the score sort column and the version, with the
version check kept) in one statement, and record the events. ``leadkit.bulk.rescore_store``
uses it when the repository has it and reads and saves whole leads otherwise; the stored
leads and the events are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import datetime
from typing import Any, Final, Protocol, cast, runtime_checkable

import attrs

from leadkit.errors import InvalidValue
from leadkit.events import LeadScored
from leadkit.fastcodec import unchecked
from leadkit.lead import Lead
from leadkit.ports import LeadQuery, LeadRepository
from leadkit.scoring.engine import _check_predictive, is_outdated, score
from leadkit.scoring.model import ScoringModel
from leadkit.scoring.predicates import IsSet, ScoringFieldKind, field_spec
from leadkit.scoring.predictive import PredictiveModel
from leadkit.scoring.result import Explanation, Score, ScoreSource
from leadkit.shards import Shard
from leadkit.values import UserRef, require_aware

__all__ = [
    "LeadRescorer",
    "RescoredPage",
    "RescoringRepository",
    "blank_tested",
    "presence_fields",
    "rescored_leads",
    "rescoring_repository",
]

_MEMO_LIMIT: Final = 4096
_READS: Final = frozenset(
    {"id", "version", "manual_score", "ticked_criteria", "score", "stars", "score_rating"}
    | {"score_model", "score_model_version"}
)
"""What rescoring reads of every lead, besides the fields the criteria read."""


_PRESENCE_TEXT: Final = frozenset({"email", "website", "business_phone", "mobile_phone"})
"""Text fields whose ``IsSet`` test is ``value is not None`` (never blank when present)."""
_UNSET_KINDS: Final = frozenset(
    {ScoringFieldKind.OPTION, ScoringFieldKind.MONEY, ScoringFieldKind.DATE}
    | {ScoringFieldKind.DATETIME}
)
"""Field kinds whose ``IsSet`` test is ``value is not None``."""


def _leaves(predicate: object) -> Iterator[object]:
    """The predicates with a field under ``predicate``, through ``AllOf``/``AnyOf``/``Not``."""
    if isinstance(getattr(predicate, "field", None), str):
        yield predicate
    for part in getattr(predicate, "of", ()):
        yield from _leaves(part)
    inner = getattr(predicate, "predicate", None)
    if inner is not None:
        yield from _leaves(inner)


def _fields_of(predicate: object) -> Iterator[str]:
    """The lead fields (top level) a predicate reads, through ``AllOf``/``AnyOf``/``Not``."""
    for leaf in _leaves(predicate):
        yield str(getattr(leaf, "field")).partition(".")[0]  # noqa: B009 (checked by _leaves)


def _tests_presence_only(leaf: object) -> bool:
    """Whether ``leaf`` is an ``IsSet`` whose compiled test is ``lead.<field> is not None``
    or, for other text fields, ``bool(lead.<field>.strip())``."""
    if not isinstance(leaf, IsSet) or "." in leaf.field:
        return False
    kind = field_spec(leaf.field).kind
    return kind in _UNSET_KINDS or kind is ScoringFieldKind.TEXT


def blank_tested(field: str) -> bool:
    """Whether ``IsSet(field)`` of a presence field (:func:`presence_fields`) tests its
    text for blankness (``bool(text.strip())``: a text field other than e-mail, website and
    phones) rather than for a value (``is not None``). Raises ConfigurationError for a
    field that is not scorable."""
    return field_spec(field).kind is ScoringFieldKind.TEXT and field not in _PRESENCE_TEXT


def presence_fields(model: ScoringModel) -> frozenset[str]:
    """The lead fields ``model``'s criteria only test for presence (``IsSet`` of a top-level
    option, money, date or text field: ``value is not None``, or for text other than e-mail,
    website and phones ``bool(value.strip())``, see :func:`blank_tested`): the score depends
    on whether they hold a value, not on which. Raises nothing for a checked model."""
    presence: set[str] = set()
    valued: set[str] = set()
    for criterion in model.criteria:
        for leaf in _leaves(criterion.rule):
            field = str(getattr(leaf, "field"))  # noqa: B009 (checked by _leaves)
            (presence if _tests_presence_only(leaf) else valued).add(field.partition(".")[0])
    return frozenset(presence - valued)


@attrs.frozen
class RescoredPage:
    """What :meth:`RescoringRepository.rescore_page` did: the leads of the shard it read
    (``seen``), how many of them got a new score (``changed``) and the cursor of the next
    page (None at the end)."""

    seen: int
    changed: int
    next_cursor: str | None


class LeadRescorer:
    """``rescorer(lead)``: the ``LeadScored`` event that rescoring ``lead`` records, or None
    when its stored score (value, stars, rating, model and version) already matches or, with
    ``only_outdated``, when it was scored by this model version already.

    Raises InvalidValue (when built) for a naive ``at``, a ``by`` that is not a UserRef or a
    predictive model the scoring model does not blend (or a missing one it does).
    """

    __slots__ = (
        "_at",
        "_by",
        "_compiled",
        "_explained",
        "_fields",
        "_model",
        "_new_event",
        "_new_score",
        "_only_outdated",
        "_patterns",
        "_predictive",
        "_presence",
    )

    def __init__(
        self,
        model: ScoringModel,
        *,
        at: datetime,
        by: UserRef,
        predictive: PredictiveModel | None = None,
        only_outdated: bool = False,
    ) -> None:
        require_aware("at", at)
        if not isinstance(by, UserRef):
            raise InvalidValue("by", by, "must be a UserRef")
        self._model = model
        self._at = at
        self._by = by
        self._predictive = predictive
        self._only_outdated = only_outdated
        self._compiled = model.compiled
        self._explained: dict[int, Explanation] = {}
        # Built without the constructors' argument type checks (wrapped on first use of the
        # flat API, so looked up now, not at import): every argument comes from a stored
        # lead, the checked model or this class, with the declared types.
        self._new_score = unchecked(Score)
        self._new_event = unchecked(LeadScored)
        _check_predictive(model, predictive)  # as scoring one lead does, once
        self._fields: frozenset[str] | None = None
        self._presence: frozenset[str] = frozenset()
        self._patterns: dict[Hashable, dict[Hashable, Any]] = {}
        if predictive is None:  # a predictive model may read any field
            criteria = (set(_fields_of(c.rule)) for c in model.criteria)
            self._fields = frozenset(_READS.union(*criteria))
            self._presence = presence_fields(model)

    @property
    def fields(self) -> frozenset[str] | None:
        """The lead fields this rescorer reads (a store may hand it leads with only those
        set), or None when it may read any (with a predictive model). Raises nothing."""
        return self._fields

    @property
    def presence(self) -> frozenset[str]:
        """The fields of :attr:`fields` the model only tests for presence (see
        :func:`presence_fields`; empty with a predictive model). Raises nothing."""
        return self._presence

    def patterns(self, owner: Hashable) -> dict[Hashable, Any]:
        """A dict ``owner`` (a store) keeps its results in, per pattern of the values of
        :attr:`fields` (less ``id`` and ``version``, and of the :attr:`presence` fields only
        whether they hold a value): ``self(lead)`` is a function of that pattern and of the
        lead's id. The same dict for the same owner; the owner bounds its size. Raises
        nothing."""
        found = self._patterns.get(owner)
        if found is None:
            found = self._patterns[owner] = {}
        return found

    def __call__(self, lead: Lead) -> LeadScored | None:
        """The event recording ``lead``'s new score, or None when nothing changes. Raises
        nothing for a stored lead."""
        model = self._model
        if self._only_outdated and not is_outdated(lead, model):
            return None
        manual = lead.manual_score
        if self._predictive is not None or manual is not None:
            full = score(lead, model, self._at, predictive=self._predictive)
            stored = (lead.score, lead.stars, lead.score_rating, lead.score_model)
            if stored == (full.value, full.stars, full.rating, full.model_id) and (
                lead.score_model_version == full.model_version
            ):
                return None
        else:
            mask, met = self._compiled.evaluate(lead, self._at)
            quick = self._compiled.criteria_score(met)
            if (
                lead.score == quick.value
                and lead.stars == quick.stars
                and lead.score_rating == quick.rating
                and lead.score_model == model.id
                and lead.score_model_version == model.version
            ):
                return None
            full = self._new_score(
                lead_id=lead.id,
                value=quick.value,
                stars=quick.stars,
                max_stars=model.max_stars,
                rating=quick.rating,
                source=ScoreSource.CRITERIA,
                model_id=model.id,
                model_version=model.version,
                explanation=self._explanation(mask, met),
            )
        return self._new_event(
            lead_id=lead.id, at=self._at, by=self._by, score=full, previous=lead.score
        )

    def _explanation(self, mask: int, met: int) -> Explanation:
        """The explanation of a criteria-only score with the met set ``mask`` (one per mask:
        equal values, so equal events)."""
        found = self._explained.get(mask)
        if found is None:
            compiled = self._compiled
            found = Explanation(
                base=compiled.base,
                contributions=compiled.contributions(mask, met),
                criteria_value=compiled.criteria_score(met).value,
                met_weight=compiled.met_weight_decimal(met),
                total_weight=compiled.total_weight,
                blend=self._model.blend,
                predictive=None,
                manual=None,
                expired_manual=None,
            )
            if len(self._explained) >= _MEMO_LIMIT:
                self._explained.clear()
            self._explained[mask] = found
        return found


@runtime_checkable
class RescoringRepository(Protocol):
    """A lead repository that rescores a page of leads in one go (both leadkit adapters)."""

    def rescore_page(
        self,
        query: LeadQuery,
        *,
        limit: int,
        after: str | None,
        shard: Shard | None,
        rescore: Callable[[Lead], LeadScored | None],
    ) -> RescoredPage:
        """Read the next ``limit`` leads matching ``query`` from ``after`` on (as
        ``BulkLeadRepository.scan`` does), call ``rescore`` on each in ``shard`` and store the
        score of every event it returns (the score fields, version + 1, the version checked
        against the one read), recording the events in the unit of work; all or none.

        A ``rescore`` with a ``fields`` attribute that is not None (:class:`LeadRescorer`)
        may be given leads with only those fields set.

        Raises InvalidValue for a limit outside 1..100,000 or a foreign cursor,
        ConcurrencyConflict when a lead changed since it was read, NotFound when one was
        deleted, and what ``rescore`` raises.
        """
        ...


def rescored_leads(
    leads: Iterable[Lead], rescore: Callable[[Lead], LeadScored | None]
) -> list[Lead]:
    """The leads of ``leads`` that ``rescore`` gives an event for, each with that score
    recorded (``record_score``: the same event in its pending events): what a repository
    without a score-only write saves whole. Raises what ``rescore`` raises."""
    changed = []
    for lead in leads:
        event = rescore(lead)
        if event is not None:
            changed.append(lead.record_score(event.score, at=event.at, by=event.by))
    return changed


def rescoring_repository(repository: LeadRepository) -> RescoringRepository | None:
    """``repository`` as a :class:`RescoringRepository` when it has ``rescore_page``, else
    None. Raises nothing."""
    if callable(getattr(repository, "rescore_page", None)):
        return cast(RescoringRepository, repository)
    return None
