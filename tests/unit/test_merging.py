"""Merge and unmerge: every survivorship strategy, every refusal and every conflict."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    InvalidValue,
    LeadClosed,
    LeadMerged,
    MergeRefused,
    NotFound,
    OpportunityLinked,
    UnmergeConflict,
)
from leadkit.events import LeadEvent, LeadMergedInto, LeadsMerged, LeadUnmerged
from leadkit.fields import CustomFields, Rating
from leadkit.lead import Lead, replay
from leadkit.merging import (
    MERGE_FIELDS,
    Survivorship,
    SurvivorshipRule,
    SurvivorshipStrategy,
    plan_merge,
    plan_unmerge,
    rank_leads,
)
from leadkit.patch import LeadPatch
from leadkit.records import Opportunity
from leadkit.serialization import make_converter
from leadkit.services import (
    merge,
    relate_opportunity,
    unmerge,
    unrelate_opportunity,
)
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import ActivityKind, StakeholderRole
from leadkit.values import AccountId, ContactId, LeadId, MergeId, OpportunityId, PersonName, UserRef

T0 = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
BY = UserRef("ada")
S = SurvivorshipStrategy


def _lead(key: str, *, at: datetime = T0, **fields: object) -> Lead:
    patch = LeadPatch(**{"topic": f"Topic {key}", "name": PersonName(last=key.title()), **fields})  # type: ignore[arg-type]
    return Lead.create(LeadId(key), patch, at=at, by=BY).clear_events()


def _ids() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"merge-{next(numbers)}"


def _rules(**strategies: SurvivorshipStrategy) -> Survivorship:
    return Survivorship(tuple(SurvivorshipRule(f, s) for f, s in strategies.items()))


def _stored(store: MemoryStore, *leads: Lead) -> list[Lead]:
    with store.unit_of_work() as uow:
        stored = [uow.leads.add(lead) for lead in leads]
        uow.commit()
    return stored


def _add_opportunity(
    store: MemoryStore, *, origin: LeadId | None = None, notes: bool = False
) -> None:
    """Store opportunity o1, created from ``origin`` (showing its notes with ``notes``)."""
    with store.unit_of_work() as uow:
        uow.opportunities.add(
            Opportunity(
                id=OpportunityId("o1"),
                name="Deal",
                customer=AccountId("acc"),
                currency="EUR",
                originating_lead=origin,
                notes_from_lead=origin if notes else None,
            )
        )
        uow.commit()


# Survivorship strategies -----------------------------------------------------------------------


def test_the_default_keeps_the_master_value_unless_it_is_blank() -> None:
    master = _lead("a", company="Master AB")
    other = _lead("b", company="Other AB", job_title="CTO")
    plan = plan_merge(master, [other], Survivorship())
    assert plan.decision("company").value == "Master AB"
    assert plan.decision("job_title").value == "CTO"
    assert plan.decision("job_title").source == LeadId("b")
    assert [d.field for d in plan.changed] == ["job_title"]


def test_master_keeps_even_a_blank_value() -> None:
    plan = plan_merge(_lead("a"), [_lead("b", job_title="CTO")], _rules(job_title=S.MASTER))
    assert plan.decision("job_title").value == ""
    assert not plan.changed


def test_first_non_blank_ranks_open_before_closed_then_newer_then_more_complete() -> None:
    master = _lead("a")
    closed = _lead("b", at=T0 + timedelta(days=9), job_title="Closed").disqualify(
        StatusReason.LOST, at=T0 + timedelta(days=9), by=BY
    )
    older = _lead("c", at=T0, job_title="Older")
    newer = _lead("d", at=T0 + timedelta(days=1), job_title="Newer")
    plan = plan_merge(master, [closed, older, newer], _rules(job_title=S.FIRST_NON_BLANK))
    assert plan.decision("job_title").value == "Newer"
    complete = _lead("e", at=T0 + timedelta(days=1), job_title="Complete", company="X")
    assert [lead.id.value for lead in rank_leads([newer, complete])] == ["e", "d"]


def test_newest_takes_the_value_of_the_most_recently_modified_lead() -> None:
    master = _lead("a", at=T0 + timedelta(days=2), company="Old name")
    other = _lead("b", at=T0 + timedelta(days=5), company="New name")
    plan = plan_merge(master, [other], _rules(company=S.NEWEST))
    assert plan.decision("company").value == "New name"


def test_longest_takes_the_longest_text() -> None:
    plan = plan_merge(
        _lead("a", company="ACME"),
        [_lead("b", company="ACME Industries AB")],
        _rules(company=S.LONGEST),
    )
    assert plan.decision("company").value == "ACME Industries AB"


def test_maximum_rates_hot_above_warm_and_cold() -> None:
    master = _lead("a", rating=Rating.COLD)
    plan = plan_merge(
        master,
        [_lead("b", rating=Rating.HOT), _lead("c", rating=Rating.WARM)],
        _rules(rating=S.MAXIMUM),
    )
    assert plan.decision("rating").value is Rating.HOT


def test_maximum_takes_the_most_manual_stars() -> None:
    low = _lead("a").set_manual_score(2, at=T0, by=BY)
    high = _lead("b").set_manual_score(5, at=T0, by=BY)
    plan = plan_merge(low, [high], _rules(manual_score=S.MAXIMUM))
    assert plan.decision("manual_score").value == high.manual_score


def test_union_joins_ticked_criteria_and_custom_fields_and_lists_conflicts() -> None:
    master = _lead("a", custom_fields={"industry": "Retail", "size": 10}).tick_criterion(
        "budget", at=T0, by=BY
    )
    other = _lead("b", custom_fields={"industry": "Banking", "region": "North"}).tick_criterion(
        "fit", at=T0, by=BY
    )
    plan = plan_merge(master, [other], Survivorship())
    assert plan.decision("ticked_criteria").value == frozenset({"budget", "fit"})
    custom = plan.decision("custom_fields")
    assert custom.value == CustomFields({"industry": "Retail", "size": 10, "region": "North"})
    assert custom.conflicts == ("industry",)


def test_concatenate_joins_descriptions_naming_where_each_came_from() -> None:
    plan = plan_merge(
        _lead("a", description="Met at fair."),
        [_lead("b", description="Called twice."), _lead("c", description="Met at fair.")],
        _rules(description=S.CONCATENATE),
    )
    assert (
        plan.decision("description").value == "Met at fair.\n\n[merged from b (B)]\nCalled twice."
    )
    assert plan.decision("description").source is None


def test_choice_keeps_the_value_of_the_chosen_lead_as_the_d365_dialog_does() -> None:
    survivorship = Survivorship().choosing({"company": LeadId("b"), "topic": LeadId("a")})
    plan = plan_merge(_lead("a", company="A AB"), [_lead("b", company="B AB")], survivorship)
    assert plan.decision("company").value == "B AB"
    assert plan.decision("topic").value == "Topic a"


def test_a_choice_of_a_lead_outside_the_merge_is_refused() -> None:
    survivorship = Survivorship().choosing({"company": LeadId("zz")})
    with pytest.raises(InvalidValue) as caught:
        plan_merge(_lead("a"), [_lead("b")], survivorship)
    assert caught.value.field == "survivorship.company"


def test_every_field_gets_a_decision() -> None:
    plan = plan_merge(_lead("a"), [_lead("b")], Survivorship())
    assert tuple(d.field for d in plan.decisions) == MERGE_FIELDS


@pytest.mark.parametrize(
    ("field", "strategy"),
    [
        ("company", S.UNION),
        ("rating", S.CONCATENATE),
        ("company", S.MAXIMUM),
        ("owner", S.MASTER),
        ("nonsense", S.FIRST_NON_BLANK),
    ],
)
def test_a_strategy_that_does_not_fit_the_field_is_refused_when_built(
    field: str, strategy: SurvivorshipStrategy
) -> None:
    with pytest.raises(ConfigurationError):
        SurvivorshipRule(field, strategy)


def test_choice_needs_a_lead_and_only_choice_takes_one() -> None:
    with pytest.raises(ConfigurationError):
        SurvivorshipRule("company", S.CHOICE)
    with pytest.raises(ConfigurationError):
        SurvivorshipRule("company", S.LONGEST, LeadId("a"))


def test_two_rules_for_one_field_and_a_tiny_limit_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        Survivorship(
            (SurvivorshipRule("company", S.LONGEST), SurvivorshipRule("company", S.NEWEST))
        )
    with pytest.raises(ConfigurationError):
        Survivorship(max_leads=1)


# Refusals ---------------------------------------------------------------------------------------


def test_a_merge_needs_another_lead_and_each_lead_once() -> None:
    a, b = _lead("a"), _lead("b")
    with pytest.raises(MergeRefused):
        plan_merge(a, [], Survivorship())
    with pytest.raises(MergeRefused) as caught:
        plan_merge(a, [b, b], Survivorship())
    assert caught.value.lead_id == LeadId("b")
    with pytest.raises(MergeRefused):
        plan_merge(a, [a], Survivorship())


def test_more_leads_than_the_policy_allows_are_refused() -> None:
    others = [_lead(k) for k in "bcd"]
    with pytest.raises(MergeRefused) as caught:
        plan_merge(_lead("a"), others, Survivorship(max_leads=3))
    assert "at most 3" in str(caught.value)
    assert plan_merge(_lead("a"), others, Survivorship(max_leads=4)).others == tuple(others)


def test_a_closed_master_is_refused_unless_the_policy_allows_it() -> None:
    closed = _lead("a").disqualify(StatusReason.LOST, at=T0, by=BY)
    with pytest.raises(MergeRefused):
        plan_merge(closed, [_lead("b")], Survivorship())
    plan = plan_merge(closed, [_lead("b")], Survivorship(allow_closed_master=True))
    assert plan.master is closed


def test_a_lead_merged_already_is_refused() -> None:
    store = MemoryStore()
    a, b, c = _stored(store, _lead("a"), _lead("b"), _lead("c"))
    merge(store, plan_merge(a, [b], Survivorship()), ids=_ids(), at=T0, by=BY)
    with store.unit_of_work() as uow:
        merged_b = uow.leads.get(b.id)
    with pytest.raises(MergeRefused) as caught:
        plan_merge(c, [merged_b], Survivorship())
    assert "already merged into a" in str(caught.value)


def test_a_stale_plan_is_refused_and_stores_nothing() -> None:
    store = MemoryStore()
    a, b = _stored(store, _lead("a"), _lead("b"))
    plan = plan_merge(a, [b], Survivorship())
    with store.unit_of_work() as uow:
        uow.leads.save(b.rate(Rating.HOT, at=T0, by=BY))
        uow.commit()
    with pytest.raises(ConcurrencyConflict):
        merge(store, plan, ids=_ids(), at=T0, by=BY)
    with store.unit_of_work() as uow:
        assert uow.leads.get(a.id) == a
        assert uow.merges.list() == []


def test_a_store_without_merge_records_is_refused() -> None:
    store = MemoryStore()
    a, b = _stored(store, _lead("a"), _lead("b"))

    class Plain:
        def __init__(self) -> None:
            self.inner = store.unit_of_work()
            self.leads = self.inner.leads

        def __enter__(self) -> Plain:
            return self

        def __exit__(self, *exc: object) -> None:
            self.inner.__exit__(None, None, None)

        def commit(self) -> None:
            self.inner.commit()

    class PlainStore:
        def unit_of_work(self) -> Plain:
            return Plain()

        def close(self) -> None: ...

    with pytest.raises(ConfigurationError):
        merge(PlainStore(), plan_merge(a, [b], Survivorship()), ids=_ids(), at=T0, by=BY)  # type: ignore[arg-type]


# The merged lead ---------------------------------------------------------------------------------


def _merged_pair() -> tuple[MemoryStore, Lead, Lead, MergeId]:
    store = MemoryStore()
    a = _lead("a").add_note("Master note", at=T0, by=BY)
    b = (
        _lead("b", company="B AB")
        .add_note("Other note", at=T0, by=BY)
        .log_activity(ActivityKind.PHONE_CALL, "Call", at=T0, by=BY)
        .add_stakeholder(ContactId("c1"), StakeholderRole.DECISION_MAKER, at=T0, by=BY)
    )
    a, b = _stored(store, a, b)
    result = merge(store, plan_merge(a, [b], Survivorship()), ids=_ids(), at=T0, by=BY)
    return store, a, b, result.merge_id


def test_a_merged_lead_is_disqualified_canceled_and_names_its_master() -> None:
    store, a, b, merge_id = _merged_pair()
    with store.unit_of_work() as uow:
        merged = uow.leads.get(b.id)
        master = uow.leads.get(a.id)
    assert (merged.state, merged.reason) == (LeadState.DISQUALIFIED, StatusReason.CANCELED)
    assert merged.merged_into == a.id
    assert merged.merge_id == merge_id
    assert merged.is_merged
    assert merged.company == "B AB"  # still readable
    assert merged.notes == ()
    assert merged.activities == ()
    assert merged.stakeholders == ()
    assert [n.text for n in master.notes] == ["Master note", "Other note"]
    assert [n.id for n in master.notes] == [1, 2]
    assert master.activities[0].id == 3
    assert master.company == "B AB"


def test_a_merged_lead_refuses_reactivation_and_timeline_additions() -> None:
    store, _, b, _ = _merged_pair()
    with store.unit_of_work() as uow:
        merged = uow.leads.get(b.id)
    commands: list[Callable[[], Lead]] = [
        lambda: merged.reactivate(at=T0, by=BY),
        lambda: merged.add_note("late", at=T0, by=BY),
        lambda: merged.log_activity(ActivityKind.TASK, "x", at=T0, by=BY),
    ]
    for command in commands:
        with pytest.raises(LeadMerged) as caught:
            command()
        assert caught.value.master_id == LeadId("a")
    with pytest.raises(LeadClosed):
        merged.update(LeadPatch(company="X"), at=T0, by=BY)


def test_the_merge_events_replay_and_carry_the_before_images() -> None:
    a = _lead("a").add_note("n", at=T0, by=BY)
    b = _lead("b", company="B").add_note("m", at=T0, by=BY)
    plan = plan_merge(a.clear_events(), [b.clear_events()], Survivorship())
    master, merged = plan.apply(MergeId("m1"), at=T0, by=BY)
    event = master.pending_events[-1]
    assert isinstance(event, LeadsMerged)
    assert event.before == (a.clear_events(), b.clear_events())
    assert isinstance(merged.pending_events[-1], LeadMergedInto)
    full_a = _lead_history("a", company="")
    assert replay((*full_a, event)) == master.clear_events()
    converter = make_converter()
    assert converter.loads(converter.dumps(event), LeadsMerged) == event


def _lead_history(key: str, **fields: object) -> tuple[LeadEvent, ...]:
    patch = LeadPatch(**{"topic": f"Topic {key}", "name": PersonName(last=key.title()), **fields})  # type: ignore[arg-type]
    return Lead.create(LeadId(key), patch, at=T0, by=BY).add_note("n", at=T0, by=BY).pending_events


def test_opportunities_of_a_merged_lead_are_re_pointed_and_pointed_back() -> None:
    store = MemoryStore()
    a, b = _stored(store, _lead("a"), _lead("b"))
    _add_opportunity(store, origin=b.id, notes=True)
    result = merge(store, plan_merge(a, [b], Survivorship()), ids=_ids(), at=T0, by=BY)
    with store.unit_of_work() as uow:
        moved = uow.opportunities.get(OpportunityId("o1"))
    assert (moved.originating_lead, moved.notes_from_lead) == (a.id, a.id)
    assert result.record.opportunities[0].from_lead == b.id
    unmerge(store, result.merge_id, at=T0, by=BY)
    with store.unit_of_work() as uow:
        back = uow.opportunities.get(OpportunityId("o1"))
    assert (back.originating_lead, back.notes_from_lead) == (b.id, b.id)


# Unmerge ------------------------------------------------------------------------------------------


def test_unmerge_restores_the_leads_exactly() -> None:
    store, a, b, merge_id = _merged_pair()
    result = unmerge(store, merge_id, at=T0 + timedelta(hours=1), by=BY)
    assert [attrs.evolve(lead, version=0) for lead in result.leads] == [
        attrs.evolve(a, version=0),
        attrs.evolve(b, version=0),
    ]
    assert result.record.is_undone
    assert result.record.undone_by == BY
    assert isinstance(result.leads[0], Lead)


def test_unmerge_lists_the_fields_touched_since_and_force_overrides_them() -> None:
    store, a, _b, merge_id = _merged_pair()
    with store.unit_of_work() as uow:
        master = uow.leads.get(a.id)
        uow.leads.save(master.update(LeadPatch(company="Changed AB"), at=T0, by=BY))
        uow.commit()
    with pytest.raises(UnmergeConflict) as caught:
        unmerge(store, merge_id, at=T0, by=BY)
    assert caught.value.fields == ((a.id, "company"),)
    with store.unit_of_work() as uow:
        assert uow.leads.get(a.id).company == "Changed AB"  # nothing stored
    result = unmerge(store, merge_id, at=T0, by=BY, force=["company"])
    assert result.leads[0].company == ""


def test_a_note_added_to_the_master_since_the_merge_stays_there() -> None:
    store, a, _b, merge_id = _merged_pair()
    with store.unit_of_work() as uow:
        master = uow.leads.get(a.id)
        uow.leads.save(master.add_note("After the merge", at=T0, by=BY))
        uow.commit()
    result = unmerge(store, merge_id, at=T0, by=BY)
    assert [n.text for n in result.leads[0].notes] == ["Master note", "After the merge"]
    assert [n.text for n in result.leads[1].notes] == ["Other note"]
    assert result.leads[0].timeline_seq == 4


def test_a_moved_note_edited_since_is_a_conflict() -> None:
    store, a, _b, merge_id = _merged_pair()
    with store.unit_of_work() as uow:
        master = uow.leads.get(a.id)
        uow.leads.save(master.edit_note(2, text="Edited", at=T0, by=BY))
        uow.commit()
    with pytest.raises(UnmergeConflict) as caught:
        unmerge(store, merge_id, at=T0, by=BY)
    assert caught.value.fields == ((a.id, "notes"),)


def test_an_opportunity_re_pointed_since_is_a_conflict() -> None:
    store = MemoryStore()
    a, b, c = _stored(store, _lead("a"), _lead("b"), _lead("c"))
    _add_opportunity(store, origin=b.id)
    result = merge(store, plan_merge(a, [b], Survivorship()), ids=_ids(), at=T0, by=BY)
    with store.unit_of_work() as uow:
        o = uow.opportunities.get(OpportunityId("o1"))
        uow.opportunities.save(attrs.evolve(o, originating_lead=c.id))
        uow.commit()
    with pytest.raises(UnmergeConflict) as caught:
        unmerge(store, result.merge_id, at=T0, by=BY)
    assert caught.value.fields == ((OpportunityId("o1"), "originating_lead"),)
    unmerge(store, result.merge_id, at=T0, by=BY, force=["originating_lead"])


def test_a_merge_is_undone_once_and_an_unknown_merge_is_not_found() -> None:
    store, _, _, merge_id = _merged_pair()
    unmerge(store, merge_id, at=T0, by=BY)
    with pytest.raises(MergeRefused):
        unmerge(store, merge_id, at=T0, by=BY)
    with pytest.raises(NotFound):
        unmerge(store, MergeId("nope"), at=T0, by=BY)


def test_plan_unmerge_needs_every_lead_of_the_merge() -> None:
    store, a, _, merge_id = _merged_pair()
    with store.unit_of_work() as uow:
        record = uow.merges.get(merge_id)
        master = uow.leads.get(a.id)
    with pytest.raises(InvalidValue):
        plan_unmerge(record, {a.id: master})


def test_the_unmerge_event_restores_the_image() -> None:
    store, a, _, merge_id = _merged_pair()
    result = unmerge(store, merge_id, at=T0, by=BY)
    with store.unit_of_work() as uow:
        record = uow.merges.get(merge_id)
    assert record.after[0].id == a.id
    image = result.leads[0]
    restored = record.after[0].restore(merge_id, image, at=T0, by=BY)
    assert isinstance(restored.pending_events[-1], LeadUnmerged)
    assert attrs.evolve(restored.clear_events(), version=0) == attrs.evolve(image, version=0)
    with pytest.raises(InvalidValue):
        record.after[1].restore(merge_id, image, at=T0, by=BY)


# Relating an existing opportunity (lifecycle gap a) -------------------------------------------


def test_an_opportunity_related_to_an_open_lead_blocks_disqualify_until_unrelated() -> None:
    store = MemoryStore()
    (a,) = _stored(store, _lead("a"))
    _add_opportunity(store)
    related = relate_opportunity(store, a.id, OpportunityId("o1"), at=T0, by=BY)
    assert related.qualifying_opportunity == OpportunityId("o1")
    with store.unit_of_work() as uow:
        assert uow.opportunities.get(OpportunityId("o1")).originating_lead == a.id
    with pytest.raises(OpportunityLinked):
        related.disqualify(StatusReason.LOST, at=T0, by=BY)
    unrelated = unrelate_opportunity(store, a.id, at=T0, by=BY)
    assert unrelated.qualifying_opportunity is None
    assert unrelated.disqualify(StatusReason.LOST, at=T0, by=BY).state is LeadState.DISQUALIFIED


def test_relating_is_refused_on_a_closed_lead_when_another_is_related_or_from_another_lead() -> (
    None
):
    lead = _lead("a")
    with pytest.raises(LeadClosed):
        lead.disqualify(StatusReason.LOST, at=T0, by=BY).relate_opportunity(
            OpportunityId("o1"), at=T0, by=BY
        )
    related = lead.relate_opportunity(OpportunityId("o1"), at=T0, by=BY)
    assert related.relate_opportunity(OpportunityId("o1"), at=T0, by=BY) is related
    with pytest.raises(InvalidValue):
        related.relate_opportunity(OpportunityId("o2"), at=T0, by=BY)
    with pytest.raises(InvalidValue):
        lead.relate_opportunity("o1", at=T0, by=BY)  # type: ignore[arg-type]
    store = MemoryStore()
    a, b = _stored(store, _lead("a"), _lead("b"))
    _add_opportunity(store, origin=b.id)
    with pytest.raises(InvalidValue) as caught:
        relate_opportunity(store, a.id, OpportunityId("o1"), at=T0, by=BY)
    assert caught.value.field == "opportunity.originating_lead"


def test_decimal_money_maximum() -> None:
    from leadkit.values import Money

    plan = plan_merge(
        _lead("a", budget_amount=Money(Decimal("10"), "EUR")),
        [_lead("b", budget_amount=Money(Decimal("99"), "EUR"))],
        _rules(budget_amount=S.MAXIMUM),
    )
    assert plan.decision("budget_amount").value == Money(Decimal("99"), "EUR")
