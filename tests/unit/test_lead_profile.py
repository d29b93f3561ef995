"""A lead keeps the field profile it was created under: every later command that checks a
profile (update, link_account, link_contact, mass edit through set_field) checks the same one
unless given another (lifecycle gap 6c of issue 17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.errors import InvalidValue
from leadkit.lead import Lead, replay
from leadkit.mass_editing import EditStatus, mass_edit, set_field
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore
from leadkit.profiles import (
    BCM_PROFILE,
    D365_PROFILE,
    LENGTHS_PROFILE,
    PROFILES,
    FieldProfile,
    FieldRule,
    profile_named,
)
from leadkit.records import Account, Contact
from leadkit.values import AccountId, ContactId, LeadId, PersonName, UserRef

AT = datetime(2030, 1, 1, tzinfo=UTC)
BY = UserRef("u")


def _bcm_lead() -> Lead:
    """Full name only, no topic: valid under BCM, not under Dynamics 365."""
    return Lead.create(
        LeadId("bcm-1"), LeadPatch(name=PersonName(first="Ada")), at=AT, by=BY,
        profile=BCM_PROFILE,
    )  # fmt: skip


COMMANDS: dict[str, Callable[[Lead], Lead]] = {
    "update": lambda lead: lead.update(LeadPatch(company="Contoso"), at=AT, by=BY),
    "link_account": lambda lead: lead.link_account(
        Account(id=AccountId("a1"), name="Contoso"), at=AT, by=BY
    ),
    "link_contact": lambda lead: lead.link_contact(
        Contact(id=ContactId("c1"), name=PersonName(first="Ada", last="Lovelace"), job_title="CTO"),
        at=AT,
        by=BY,
    ),
}


def test_a_lead_records_the_profile_it_was_created_under() -> None:
    assert _bcm_lead().profile == BCM_PROFILE.name
    plain = Lead.create(LeadId("d"), LeadPatch(topic="T", name=PersonName(last="L")), at=AT, by=BY)
    assert plain.profile == D365_PROFILE.name


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_on_a_bcm_lead_checks_the_bcm_profile(command: str) -> None:
    changed = COMMANDS[command](_bcm_lead())
    assert changed.profile == BCM_PROFILE.name
    assert changed.version == 0


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_on_a_stored_bcm_lead_checks_the_bcm_profile(
    command: str, tmp_path: Path
) -> None:
    with SqlStore.open(f"sqlite:///{tmp_path / 'x.db'}") as store, store.unit_of_work() as uow:
        stored = uow.leads.add(_bcm_lead())
        uow.leads.save(COMMANDS[command](stored))
        uow.commit()


def test_a_d365_lead_still_requires_the_topic() -> None:
    lead = Lead.create(
        LeadId("d"), LeadPatch(topic="T", name=PersonName(last="Lovelace")), at=AT, by=BY
    )
    with pytest.raises(InvalidValue) as caught:
        lead.update(LeadPatch(topic=""), at=AT, by=BY)
    assert caught.value.field == "topic"


def test_an_explicit_profile_overrides_the_leads_own() -> None:
    with pytest.raises(InvalidValue) as caught:
        _bcm_lead().update(LeadPatch(company="Contoso"), at=AT, by=BY, profile=D365_PROFILE)
    assert "topic" in {p.field for p in caught.value.problems}


def test_a_host_profile_is_checked_when_passed_and_its_lengths_otherwise() -> None:
    own = FieldProfile("Ours", [FieldRule("company", required=True)])
    lead = Lead.create(LeadId("o"), LeadPatch(company="Contoso"), at=AT, by=BY, profile=own)
    assert lead.profile == "Ours"
    assert profile_named("Ours") is LENGTHS_PROFILE
    assert lead.update(LeadPatch(company=""), at=AT, by=BY).company == ""  # no required field
    with pytest.raises(InvalidValue) as caught:
        lead.update(LeadPatch(job_title="x" * 101), at=AT, by=BY)
    assert caught.value.field == "job_title"
    with pytest.raises(InvalidValue):
        lead.update(LeadPatch(company=""), at=AT, by=BY, profile=own)


def test_create_refuses_a_profile_that_is_not_a_field_profile() -> None:
    with pytest.raises(InvalidValue) as caught:
        Lead.create(LeadId("x"), LeadPatch(), at=AT, by=BY, profile="BCM")  # type: ignore[arg-type]
    assert caught.value.field == "profile"


def test_profile_named_finds_the_shipped_profiles_and_refuses_a_non_name() -> None:
    assert all(profile_named(name) is profile for name, profile in PROFILES.items())
    with pytest.raises(InvalidValue):
        profile_named(3)  # type: ignore[arg-type]


def test_replay_keeps_the_profile() -> None:
    lead = COMMANDS["update"](_bcm_lead())
    assert replay(lead.pending_events).profile == BCM_PROFILE.name


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_mass_edit_of_a_stored_bcm_lead_checks_its_own_profile(kind: str, tmp_path: Path) -> None:
    store: LeadStore = (
        MemoryStore() if kind == "memory" else SqlStore.open(f"sqlite:///{tmp_path / 'x.db'}")
    )
    with store.unit_of_work() as uow:
        uow.leads.add(_bcm_lead())
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.leads.get(LeadId("bcm-1")).profile == BCM_PROFILE.name
    result = mass_edit(store, [LeadId("bcm-1")], set_field("company", "Contoso"), at=AT, by=BY)
    assert [o.status for o in result.outcomes] == [EditStatus.CHANGED]
    with store.unit_of_work() as uow:
        assert uow.leads.get(LeadId("bcm-1")).company == "Contoso"
    store.close()


def test_linking_a_contact_fills_the_missing_last_name_and_keeps_the_first() -> None:
    contact = Contact(id=ContactId("c1"), name=PersonName(first="Grace", last="Lovelace"))
    linked = _bcm_lead().link_contact(contact, at=AT, by=BY)
    assert linked.name == PersonName(first="Ada", last="Lovelace")


TIGHT = FieldProfile(
    "tight", (FieldRule("company", max_length=3), FieldRule("job_title", max_length=2))
)


def test_linking_checks_the_profile_given_instead_of_the_leads_own() -> None:
    lead = _bcm_lead()
    with pytest.raises(InvalidValue) as caught:
        lead.link_account(Account(id=AccountId("a1"), name="Contoso"), at=AT, by=BY, profile=TIGHT)
    assert (caught.value.field, caught.value.value) == ("company", "Contoso")
    contact = Contact(id=ContactId("c1"), name=PersonName(first="Ada"), job_title="CTO")
    with pytest.raises(InvalidValue) as caught:
        lead.link_contact(contact, at=AT, by=BY, profile=TIGHT)
    assert (caught.value.field, caught.value.value) == ("job_title", "CTO")
    # Under the lead's own profile (BCM) both are accepted.
    assert (
        lead.link_account(Account(id=AccountId("a1"), name="Contoso"), at=AT, by=BY).company
        == "Contoso"
    )
    assert lead.link_contact(contact, at=AT, by=BY).job_title == "CTO"
