"""The keyed check of an import (``plan_import(..., duplicates=check)``): the checks it refuses,
keys that are not the check's, and the look-up of stored leads by e-mail in the SQL adapter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
from leadkit.adapters.sql.key_lookup import email_spellings
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import DEFAULT_LEAD_RULES, DuplicateRuleSet
from leadkit.duplicates.index import MemoryKeyStore
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.io import ImportPolicy, RowAction, SkipReason, plan_import
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("importer")
FILE = b"Topic,Last Name,Email\nOffer,Nowak,anna@nordic.se\nOffer,Ek,bo@ek.se\n"


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore.open(path=tmp_path / "leads.db")
    yield store
    store.close()


def _add(store: MemoryStore | SqlStore, lead_id: str, email: str, at: datetime = AT) -> None:
    patch = LeadPatch(topic="Stored", name=PersonName(last="Stored"), email=EmailAddress(email))
    with store.unit_of_work() as uow:
        uow.leads.add(Lead.create(LeadId(lead_id), patch, at=at, by=BY))
        uow.commit()


def test_a_check_that_is_not_an_engine_check_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        plan_import(FILE, store=MemoryStore(), duplicates="keys")  # type: ignore[arg-type]
    assert caught.value.field == "duplicates"


def test_a_check_that_does_not_index_leads_is_refused() -> None:
    store = MemoryStore()
    check = EngineDuplicateCheck.from_store(store, key_store=MemoryKeyStore())
    with pytest.raises(InvalidValue, match="must index leads"):
        plan_import(FILE, duplicates=check)


def test_a_check_with_other_rules_than_the_policy_is_refused() -> None:
    store = MemoryStore()
    check = EngineDuplicateCheck.from_store(store, key_store=MemoryKeyStore(), leads=True)
    other = DuplicateRuleSet(name="Only e-mail", rules=DEFAULT_LEAD_RULES.rules[:1])
    with pytest.raises(InvalidValue, match="rule set of the import policy"):
        plan_import(FILE, None, ImportPolicy(rule_set=other), duplicates=check)


def test_keys_never_built_are_refused_never_used(sql: SqlStore) -> None:
    check = EngineDuplicateCheck(sql, key_store=SqlKeyStore(sql.engine), leads=True)
    with pytest.raises(ConfigurationError, match="never built or were built for other rules"):
        plan_import(FILE, duplicates=check)
    check.refresh()
    assert len(plan_import(FILE, duplicates=check).rows) == 2


def test_keys_built_for_other_rules_are_refused(sql: SqlStore) -> None:
    other = DuplicateRuleSet(name="Only e-mail", rules=DEFAULT_LEAD_RULES.rules[:1])
    EngineDuplicateCheck.from_store(sql, other, key_store=SqlKeyStore(sql.engine), leads=True)
    check = EngineDuplicateCheck(sql, key_store=SqlKeyStore(sql.engine), leads=True)
    with pytest.raises(ConfigurationError):
        plan_import(FILE, duplicates=check)


def test_without_duplicate_checks_the_check_is_not_used(sql: SqlStore) -> None:
    check = EngineDuplicateCheck(sql, key_store=SqlKeyStore(sql.engine), leads=True)
    policy = ImportPolicy(check_duplicates=False)
    plan = plan_import(FILE, None, policy, store=sql, duplicates=check)
    assert [r.action for r in plan.rows] == [RowAction.CREATE, RowAction.CREATE]


def test_the_spellings_of_an_address_hold_its_unicode_domain() -> None:
    found = email_spellings(EmailAddress("Anna@Exämple.SE"))
    assert "anna@exämple.se" in found
    assert EmailAddress("Anna@Exämple.SE").normalized in found


def test_rows_are_matched_by_email_with_the_first_stored_lead(sql: SqlStore) -> None:
    _add(sql, "S-2", "Anna@Nordic.se", AT + timedelta(minutes=1))
    _add(sql, "S-1", "anna@NORDIC.SE")
    _add(sql, "S-3", "anna@exämple.se")
    with sql.unit_of_work() as uow:
        found = uow.leads.ids_by_email(  # type: ignore[attr-defined]
            [EmailAddress("ANNA@nordic.se"), EmailAddress("anna@xn--exmple-cua.se")]
        )
    assert found == {"anna@nordic.se": LeadId("S-1"), "anna@xn--exmple-cua.se": LeadId("S-3")}
    check = EngineDuplicateCheck.from_store(sql, key_store=SqlKeyStore(sql.engine), leads=True)
    plan = plan_import(FILE, duplicates=check)
    assert plan.rows[0].skip_reason is SkipReason.EXISTING
    assert plan.rows[0].lead_id == LeadId("S-1")
