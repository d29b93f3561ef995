"""Specification of mass edit (leadkit.mass_editing): one change, many leads, one unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import attrs
import pytest

from leadkit import mass_editing
from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.assignment import AssignmentState, Decision, RoundRobin, Team
from leadkit.errors import (
    ConcurrencyConflict,
    InvalidValue,
    LeadClosed,
    NotFound,
    StorageUnavailable,
)
from leadkit.events import LeadAssigned
from leadkit.fields import LeadSource
from leadkit.lead import Lead
from leadkit.mass_editing import (
    ClearManualScore,
    Disqualify,
    EditStatus,
    MarkContacted,
    Reassign,
    SetFields,
    SetManualScore,
    field_path,
    mass_assign,
    mass_edit,
    set_field,
    set_fields,
    set_source,
)
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort, LeadStore
from leadkit.status import LeadState, StatusReason
from leadkit.values import Address, LeadId, Money, PersonName, UserRef

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
ME = UserRef("me")
IDS = [LeadId(f"L-{i}") for i in range(4)]


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LeadStore]:
    made: LeadStore = (
        MemoryStore() if request.param == "memory" else SqlStore.open(path=tmp_path / "l.db")
    )
    with made.unit_of_work() as uow:
        for i, lead_id in enumerate(IDS):
            lead = Lead.create(lead_id, LeadPatch(topic=f"T{i}", name=f"P {i}"), at=T0, by=ME)
            if i == 3:
                lead = lead.disqualify(StatusReason.LOST, at=T0, by=ME)
            uow.leads.add(lead)
        uow.commit()
    yield made
    made.close()


def stored(store: LeadStore) -> dict[str, Lead]:
    with store.unit_of_work() as uow:
        return {lead.id.value: lead for lead in uow.leads.stream()}


@attrs.frozen
class FailOn:
    """An edit that sets the source but fails on one lead (the injected failure)."""

    lead_id: LeadId
    description: str = "set source, failing on one lead"

    def apply(self, lead: Lead, *, at: datetime, by: UserRef) -> Lead:
        if lead.id == self.lead_id:
            raise RuntimeError("injected failure")
        return lead.update(LeadPatch(source=LeadSource.WEB), at=at, by=by)


def test_set_source_changes_open_leads_and_refuses_closed_ones(store: LeadStore) -> None:
    result = mass_edit(store, IDS, set_source("Web"), at=T1, by=ME)
    assert result.committed
    assert [o.status for o in result.outcomes] == [
        EditStatus.CHANGED,
        EditStatus.CHANGED,
        EditStatus.CHANGED,
        EditStatus.REFUSED_CLOSED,
    ]
    assert isinstance(result.refused[0].error, LeadClosed)
    leads = stored(store)
    assert leads["L-0"].source is LeadSource.WEB
    assert leads["L-3"].source is None


def test_a_second_run_reports_unchanged(store: LeadStore) -> None:
    mass_edit(store, IDS[:2], set_field("company", "Acme"), at=T1, by=ME)
    again = mass_edit(store, IDS[:2], set_field("company", "Acme"), at=T1, by=ME)
    assert again.counts()["unchanged"] == 2


def test_an_injected_failure_stores_nothing_but_reports_every_lead(store: LeadStore) -> None:
    before = stored(store)
    result = mass_edit(store, IDS, FailOn(IDS[1]), at=T1, by=ME)
    assert not result.committed
    assert [o.status for o in result.outcomes] == [
        EditStatus.CHANGED,
        EditStatus.FAILED,
        EditStatus.CHANGED,
        EditStatus.REFUSED_CLOSED,
    ]
    assert str(result.failed[0].error) == "injected failure"
    assert stored(store) == before


def test_per_lead_mode_stores_the_leads_that_succeed(store: LeadStore) -> None:
    result = mass_edit(store, IDS, FailOn(IDS[1]), at=T1, by=ME, all_or_nothing=False)
    assert result.committed
    leads = stored(store)
    assert leads["L-0"].source is LeadSource.WEB
    assert leads["L-1"].source is None
    assert leads["L-2"].version == 2


def test_an_unknown_id_fails_that_lead_and_so_the_whole_run(store: LeadStore) -> None:
    result = mass_edit(store, [IDS[0], LeadId("nope")], set_source("Web"), at=T1, by=ME)
    assert not result.committed
    assert isinstance(result.failed[0].error, NotFound)
    assert stored(store)["L-0"].source is None


def test_manual_scores_are_set_and_cleared(store: LeadStore) -> None:
    mass_edit(store, IDS, SetManualScore(4, reason="met at fair"), at=T1, by=ME)
    assert stored(store)["L-0"].manual_score is not None
    mass_edit(store, IDS, ClearManualScore(), at=T1, by=ME)
    assert stored(store)["L-0"].manual_score is None


def test_reassign_names_the_rule(store: LeadStore) -> None:
    with store.unit_of_work() as uow:
        result = mass_edit(uow, IDS[:1], Reassign(UserRef("ana")), at=T1, by=ME)
        assert isinstance(uow.events[-1], LeadAssigned)
        assert uow.events[-1].rule == "mass-edit"
        uow.commit()
    assert result.changed[0].lead is not None
    assert stored(store)["L-0"].owner == UserRef("ana")


def test_mass_assign_by_round_robin_over_a_query(store: LeadStore) -> None:
    team = Team("t", (UserRef("ana"), UserRef("bo")))
    query = LeadQuery(states={LeadState.OPEN}, sort=LeadSort.ID)
    result, state = mass_assign(store, query, RoundRobin(team), at=T1, by=ME)
    assert result.committed
    assert [stored(store)[f"L-{i}"].owner.id for i in range(3)] == ["ana", "bo", "ana"]
    assert state.cursor("t") == 1


def test_edits_are_validated_once_when_built() -> None:
    with pytest.raises(InvalidValue):
        set_field("nope", "x")
    with pytest.raises(InvalidValue):
        set_field("source", "Carrier pigeon")
    with pytest.raises(InvalidValue):
        SetManualScore(11)
    with pytest.raises(InvalidValue):
        SetFields(LeadPatch())


def test_the_function_does_not_shadow_its_module() -> None:
    import leadkit
    import leadkit.mass_editing as module

    assert callable(leadkit.mass_edit)
    assert module.mass_edit is leadkit.mass_edit
    assert module.SetFields is leadkit.SetFields


def test_a_part_of_the_name_address_or_custom_fields_changes_only_that_part() -> None:
    lead = Lead.create(
        LeadId("L-x"),
        LeadPatch(
            topic="T",
            name="Dr. Ada Lovelace",
            address=Address(city="Lund", postal_code="222 22", country="Sverige"),
            custom_fields={"industry": "Retail", "size": 5},
        ),
        at=T0,
        by=ME,
    )
    dr = {"salutation": "Dr."}
    sweden = {"postal_code": "222 22", "country": "Sverige"}
    cases: list[tuple[str, object, str, object]] = [
        ("first_name", "Augusta", "name", PersonName("Augusta", "Lovelace", **dr)),
        ("name.last", "King", "name", PersonName("Ada", "King", **dr)),
        ("city", "Oslo", "address", Address(city="Oslo", **sweden)),
        ("address.postal_code", "", "address", Address(city="Lund", country="Sverige")),
        ("custom.industry", "Shops", "custom_fields", {"industry": "Shops", "size": 5}),
        ("custom_fields.size", None, "custom_fields", {"industry": "Retail"}),
    ]
    for name, value, attribute, expected in cases:
        edited = getattr(set_field(name, value).apply(lead, at=T1, by=ME), attribute)
        assert (dict(edited) if attribute == "custom_fields" else edited) == expected, name


def test_an_unknown_field_lists_the_editable_ones() -> None:
    with pytest.raises(InvalidValue) as caught:
        set_field("firstname", "Ada")
    assert caught.value.field == "firstname"
    assert "first_name" in caught.value.reason
    assert "custom.<name>" in caught.value.reason
    assert field_path("street1") == "address.line1"
    assert field_path("custom.industry") == "custom_fields.industry"


def test_descriptions_show_values_as_a_user_writes_them() -> None:
    assert set_field("city", "Oslo").description == "set city = Oslo"
    assert set_field("first_name", "Ada").description == "set first_name = Ada"
    assert set_field("rating", "hot").description == "set rating = Hot"
    assert set_field("budget_amount", Money("5000", "SEK")).description == (
        "set budget_amount = 5000.00 SEK"
    )
    assert set_field("estimated_close_date", date(2026, 12, 31)).description == (
        "set estimated_close_date = 2026-12-31"
    )
    assert set_fields({"custom.vip": True, "company": ""}).description == (
        "set custom.vip = true, company = (empty)"
    )
    address = set_field("address", Address(city="Oslo", country="Norge")).description
    assert address == "set address = Oslo, Norge"
    with pytest.raises(InvalidValue):
        set_fields({})


def test_batched_reads_and_saves_give_every_lead_its_own_outcome(
    store: LeadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mass_editing, "_BATCH", 2)
    selection = [IDS[0], LeadId("nope"), IDS[1], IDS[0], IDS[2], IDS[3]]
    result = mass_edit(
        store, selection, set_source("Web"), at=T1, by=ME, all_or_nothing=False, batch_size=2
    )
    assert [o.status for o in result.outcomes] == [
        EditStatus.CHANGED,
        EditStatus.FAILED,  # not found
        EditStatus.CHANGED,
        EditStatus.FAILED,  # listed twice: the second copy is stale once the first is saved
        EditStatus.CHANGED,
        EditStatus.REFUSED_CLOSED,
    ]
    assert isinstance(result.outcomes[1].error, NotFound)
    assert isinstance(result.outcomes[3].error, ConcurrencyConflict)
    leads = stored(store)
    assert [leads[f"L-{i}"].version for i in range(4)] == [2, 2, 2, 1]
    assert result.outcomes[4].lead == leads["L-2"]


def test_a_stale_lead_in_a_later_batch_stores_nothing_in_all_or_nothing_mode(
    store: LeadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mass_editing, "_BATCH", 2)
    before = stored(store)
    result = mass_edit(store, [IDS[0], IDS[1], IDS[2], IDS[0]], set_source("Web"), at=T1, by=ME)
    assert not result.committed
    assert [o.status for o in result.outcomes] == [EditStatus.CHANGED] * 3 + [EditStatus.FAILED]
    assert stored(store) == before


def test_mark_contacted_and_disqualify_as_mass_edits(store: LeadStore) -> None:
    contacted = mass_edit(store, IDS, MarkContacted(), at=T1, by=ME)
    assert contacted.counts()["changed"] == 3
    again = mass_edit(store, IDS[:3], MarkContacted(), at=T1, by=ME)
    assert again.counts()["unchanged"] == 3
    closed = mass_edit(store, IDS, Disqualify(StatusReason.CANCELED), at=T1, by=ME)
    assert closed.committed
    assert [o.status for o in closed.outcomes] == [EditStatus.CHANGED] * 3 + [
        EditStatus.REFUSED_CLOSED
    ]
    leads = stored(store)
    assert leads["L-0"].reason == StatusReason.CANCELED
    assert leads["L-3"].reason == StatusReason.LOST
    assert Disqualify(StatusReason.LOST).description == "disqualify (Lost)"
    with pytest.raises(InvalidValue) as caught:
        Disqualify(StatusReason.QUALIFIED)
    assert caught.value.field == "reason"


@pytest.mark.parametrize("status", list(EditStatus))
@pytest.mark.parametrize("with_error", [False, True])
def test_an_outcome_built_without_checks_equals_the_checked_one(
    status: EditStatus, with_error: bool
) -> None:
    lead = Lead.create(IDS[0], LeadPatch(topic="T", name="P"), at=T0, by=ME)
    error = RuntimeError("x") if with_error else None
    fast = mass_editing._outcome(IDS[0], status, lead, error)
    assert type(fast) is mass_editing.EditOutcome
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(
        mass_editing.EditOutcome(IDS[0], status, lead, error), recurse=False
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.lead = None  # type: ignore[misc]


def test_an_id_that_is_not_a_lead_id_is_still_refused(store: LeadStore) -> None:
    with pytest.raises(InvalidValue) as caught:
        mass_edit(store, ["L-0"], set_source("Web"), at=T1, by=ME)  # type: ignore[list-item]
    assert caught.value.field == "lead_id"
    with pytest.raises(InvalidValue):
        mass_edit(store, ["L-0"], set_source("Web"), at=T1, by=ME, all_or_nothing=False)  # type: ignore[list-item]


@attrs.frozen
class _RaisesOn:
    """A strategy that gives every lead to ``ana`` and raises on one lead."""

    lead_id: LeadId

    def decide(self, lead: Lead, state: AssignmentState) -> Decision | None:
        if lead.id == self.lead_id:
            raise RuntimeError("strategy failed")
        return Decision(UserRef("ana"), "test")


def test_a_strategy_that_raises_stops_a_run_batches_committed_before_it_stay(
    store: LeadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mass_editing, "_BATCH", 1)
    with pytest.raises(RuntimeError):
        mass_assign(
            store, IDS[:3], _RaisesOn(IDS[1]), at=T1, by=ME, all_or_nothing=False, batch_size=1
        )
    assert [stored(store)[f"L-{i}"].owner.id for i in range(3)] == ["ana", "me", "me"]
    before = stored(store)
    with pytest.raises(RuntimeError):  # without batch_size: one unit of work, nothing stored
        mass_assign(store, IDS[:3], _RaisesOn(IDS[1]), at=T1, by=ME, all_or_nothing=False)
    assert stored(store) == before
    before = stored(store)
    with pytest.raises(RuntimeError):  # all or nothing: nothing stored
        mass_assign(store, [IDS[2], IDS[1]], _RaisesOn(IDS[1]), at=T1, by=ME)
    assert stored(store) == before


def test_a_commit_that_fails_propagates_without_batch_size_and_stores_nothing(
    store: LeadStore,
) -> None:
    class _Fails:
        def __init__(self, inner: LeadStore) -> None:
            self.inner = inner

        def unit_of_work(self) -> object:
            outer = self.inner.unit_of_work()

            class _Unit:
                def __enter__(self) -> object:
                    self.uow = outer.__enter__()
                    return self

                def __exit__(self, *exc: object) -> None:
                    outer.__exit__(*exc)  # type: ignore[arg-type]

                def __getattr__(self, name: str) -> object:
                    return getattr(self.uow, name)

                def commit(self) -> None:
                    raise StorageUnavailable("injected commit failure")

            return _Unit()

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    before = stored(store)
    with pytest.raises(StorageUnavailable):
        mass_edit(
            cast(LeadStore, _Fails(store)), IDS, set_source("Web"), at=T1, by=ME,
            all_or_nothing=False,
        )  # fmt: skip
    assert stored(store) == before


@pytest.mark.parametrize("size", [0, 100_001, "2"])
def test_batch_size_outside_its_range_is_refused_naming_it(store: LeadStore, size: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        mass_edit(store, IDS, set_source("Web"), at=T1, by=ME, batch_size=size)  # type: ignore[arg-type]
    assert caught.value.field == "batch_size"
    with pytest.raises(InvalidValue) as caught:
        mass_assign(store, IDS, RoundRobin(Team("t", (ME,))), at=T1, by=ME, batch_size=size)  # type: ignore[arg-type]
    assert caught.value.field == "batch_size"


class _ReturnsText:
    description = "returns text"

    def apply(self, lead: Lead, *, at: object, by: object) -> object:
        return {"not": "a lead"}


def test_an_edit_that_returns_no_lead_is_refused_as_before(store: LeadStore) -> None:
    for all_or_nothing in (True, False):
        with pytest.raises(InvalidValue) as caught:
            mass_edit(
                store, IDS[:1], _ReturnsText(), at=T1, by=ME,  # type: ignore[arg-type]
                all_or_nothing=all_or_nothing,
            )  # fmt: skip
        assert caught.value.field == "lead"
