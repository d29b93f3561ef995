"""The fast paths of the converter (leadkit.fastcodec) and the SQL adapter's batched adds.

The fast paths must change speed only: every result, text and error is the strict
converter's. Each test compares with the strict path itself (``converter._c``, cattrs with
the detailed hooks), which ``structure`` and ``dumps`` fall back to.
"""

from __future__ import annotations

import json
import sqlite3
from collections import UserDict
from contextlib import closing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import email_validator
import pytest

from leadkit import fastcodec, values
from leadkit.adapters.sql import SqlStore
from leadkit.errors import AlreadyExists, InvalidValue, StorageUnavailable
from leadkit.fastcodec import (
    Fallback,
    compile_codec,
    compile_evolver,
    restore_email,
    trivial_init,
)
from leadkit.fields import Budget, LeadSource, OptionValue, Rating
from leadkit.json_values import _to_invalid
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery
from leadkit.serialization import LeadkitConverter, make_converter
from leadkit.timeline import ActivityKind, Attachment, StakeholderRole
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    LeadId,
    Money,
    PersonName,
    PhoneNumber,
    UserRef,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("u1", "Ann")
Data = dict[str, Any]


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    return make_converter()


def _lead(key: str = "L-1", **fields: Any) -> Lead:
    patch = LeadPatch(topic="Printers", name=PersonName(first="Ada", last="Lovelace"), **fields)
    return Lead.create(LeadId(key), patch, at=T0, by=ANN).clear_events()


def _rich() -> Lead:
    fields = LeadPatch(
        topic="Printers",
        name="Dr. Ada M. Lovelace Jr.",
        company="Contoso",
        business_phone=PhoneNumber("070-123 45 67", "SE"),
        mobile_phone="+1 650 253 0000 ext. 12",
        email="Ada@Example.com",
        website="www.contoso.com",
        address=Address(line1="Storgatan 1", postal_code="111 22", city="Stockholm"),
        source=LeadSource.WORD_OF_MOUTH,
        rating=Rating.HOT,
        budget_amount=Money(Decimal("1000.50"), "EUR"),
        budget=Budget.NO_COMMITTED_BUDGET,
        estimated_close_date=date(2024, 9, 30),
        custom_fields={"flag": True, "ratio": Decimal("0.25"), "tier": OptionValue(2, "Gold")},
    )
    return (
        Lead.create(LeadId("L-9"), fields, at=T0, by=ANN)
        .add_note(
            "call", at=T0, by=ANN, attachment=Attachment("a.pdf", "application/pdf", 1, "ab" * 32)
        )
        .log_activity(ActivityKind.MEETING, "Demo", at=T0, by=ANN, due_at=T0)
        .add_stakeholder(ContactId("C-1"), StakeholderRole.DECISION_MAKER, at=T0, by=ANN)
        .link_account(_Account(), at=T0, by=ANN)
        .tick_criterion("budget-ok", at=T0, by=ANN)
        .set_manual_score(7, at=T0, by=ANN, reason="gut feeling")
        .mark_contacted(at=T0, by=ANN)
        .clear_events()
    )


@attrs.frozen
class _Account:
    id: AccountId = attrs.field(factory=lambda: AccountId("A-1"))
    name: str = "Contoso"


def _data(converter: LeadkitConverter, lead: Lead) -> Data:
    data: Data = json.loads(converter.dumps(lead))["data"]
    return data


def _strict(converter: LeadkitConverter, data: object) -> Lead:
    """What ``structure`` gives without the fast path."""
    try:
        lead: Lead = converter._c.structure(data, Lead)
    except Exception as e:
        raise _to_invalid(e, "") from None
    return lead


def _strict_dumps(converter: LeadkitConverter, value: object) -> str:
    return json.dumps(converter.dump(value), ensure_ascii=False, separators=(",", ":"))


def _outcome(run: Any) -> tuple[str, object]:
    try:
        return "value", run()
    except InvalidValue as e:
        return "error", (str(e), e.problems)


# ---------------------------------------------------------------------------------------------
# Reading and writing leads


@pytest.mark.parametrize("make", [_lead, _rich], ids=["plain", "rich"])
def test_the_fast_path_reads_and_writes_a_lead_as_the_strict_path_does(
    converter: LeadkitConverter, make: Any
) -> None:
    lead = make()
    data = _data(converter, lead)

    fast = converter._lead.load(data)  # raises if the fast path refused the data

    assert fast == _strict(converter, data) == lead
    assert converter._lead.dump(lead) == json.dumps(
        converter.unstructure(lead), ensure_ascii=False, separators=(",", ":")
    )
    assert converter.dumps(lead) == _strict_dumps(converter, lead)
    assert converter.dumps(fast) == converter.dumps(lead)


def test_loads_takes_the_fast_path_for_a_stored_lead(
    converter: LeadkitConverter, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = converter.dumps(_rich())
    monkeypatch.setattr(converter, "_c", _NoStrictPath())

    assert converter.loads(text, Lead) == _rich()


class _NoStrictPath:
    def structure(self, *_: object) -> Any:
        raise AssertionError("the strict path ran")


def test_loaded_values_keep_their_exact_types(converter: LeadkitConverter) -> None:
    lead = converter._lead.load(_data(converter, _rich()))

    assert type(lead.rating) is Rating
    assert type(lead.budget) is Budget
    assert type(lead.email) is EmailAddress
    assert lead.email.normalized == "ada@example.com"
    assert lead.business_phone is not None
    assert lead.business_phone.e164 == "+46701234567"
    assert type(lead.custom_fields["flag"]) is bool
    assert lead.ticked_criteria == frozenset({"budget-ok"})
    assert lead.pending_events == ()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("topic"), None),  # a missing key with a default: the strict path reads it
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.update(pending_events=[]), "pending_events"),
        (lambda d: d.update(version=True), "version"),
        (lambda d: d.update(topic=None), "topic"),
        (lambda d: d["reason"].update(code=True), "reason.code"),
        (lambda d: d["owner"].update(id=" "), "owner.id"),
        (lambda d: d["name"].update(last="L" * 101), "name.last"),
        (lambda d: d["address"].update(postal_code="12#45"), "address.postal_code"),
        (lambda d: d.update(email="ada@"), "email"),
        (lambda d: d.update(rating=9), "rating"),
        (lambda d: d.update(state="CLOSED"), "state"),
        (lambda d: d.update(notes={}), "notes"),
        (lambda d: d["notes"][0]["attachment"].update(sha256="XYZ"), "notes[0].attachment.sha256"),
        (lambda d: d["activities"][0].update(kind="FAX"), "activities[0].kind"),
        (lambda d: d.update(created_at="2024-05-01T09:00:00"), "created_at"),
        (lambda d: d.update(ticked_criteria="budget-ok"), "ticked_criteria"),
        (lambda d: d.update(ticked_criteria=[1]), "ticked_criteria[0]"),
        (lambda d: d["manual_score"].update(stars=11), "manual_score.stars"),
        (lambda d: d["budget_amount"].update(amount=1.5), "budget_amount.amount"),
        (lambda d: d["custom_fields"].update(Bad={"type": "text", "value": "x"}), "custom_fields"),
    ],
)
def test_unusual_data_gets_the_strict_result_or_error(
    converter: LeadkitConverter, change: Any, path: str | None
) -> None:
    data = _data(converter, _rich())
    change(data)

    with pytest.raises(Exception):  # noqa: B017, PT011 - the fast path refuses, however it may
        converter._lead.load(data)
    outcome = _outcome(lambda: converter.structure(data, Lead))

    assert outcome == _outcome(lambda: _strict(converter, data))
    if path is None:
        assert outcome[0] == "value"
    else:
        assert outcome[0] == "error"
        assert path in {p.field for p in outcome[1][1]}  # type: ignore[index]


def test_a_malformed_document_falls_back_once_and_raises_what_the_strict_path_raises(
    converter: LeadkitConverter,
) -> None:
    data = _data(converter, _rich())
    data["address"]["postal_code"] = "12#45"
    before = converter.fallbacks

    with pytest.raises(InvalidValue) as caught:
        converter.structure(data, Lead)

    assert converter.fallbacks == {**before, "structure": before["structure"] + 1}
    assert caught.value.fields == ("address.postal_code",)
    assert ("error", (str(caught.value), caught.value.problems)) == _outcome(
        lambda: _strict(converter, data)
    )


def test_a_well_formed_lead_is_read_and_written_without_a_fallback(
    converter: LeadkitConverter,
) -> None:
    before = converter.fallbacks

    text = converter.dumps(_rich())
    converter.loads(text, Lead)

    assert converter.fallbacks == before


def test_an_ill_typed_lead_counts_a_dumps_fallback(converter: LeadkitConverter) -> None:
    odd = attrs.evolve(_lead())
    object.__setattr__(odd, "topic", 5)  # the constructor refuses it; force it in
    before = converter.fallbacks

    converter.dumps(odd)

    assert converter.fallbacks == {**before, "dumps": before["dumps"] + 1}


def test_the_fallback_counts_are_a_snapshot_per_converter() -> None:
    first, second = make_converter(), make_converter()
    counts = first.fallbacks

    with pytest.raises(InvalidValue):
        first.structure({}, Lead)

    assert counts == {"structure": 0, "dumps": 0}
    assert first.fallbacks == {"structure": 1, "dumps": 0}
    assert second.fallbacks == {"structure": 0, "dumps": 0}


def test_a_mapping_that_is_not_a_dict_takes_the_strict_path(converter: LeadkitConverter) -> None:
    data = UserDict(_data(converter, _lead()))

    assert converter.structure(data, Lead) == _lead()


def test_text_of_a_str_subclass_takes_the_strict_path(converter: LeadkitConverter) -> None:
    class Text(str):
        __slots__ = ()

    data = _data(converter, _lead())
    data["topic"] = Text("Printers")

    with pytest.raises(Fallback):
        converter._lead.load(data)
    assert converter.structure(data, Lead) == _lead()


def test_a_memoised_value_is_never_taken_for_an_equal_value_of_another_type(
    converter: LeadkitConverter,
) -> None:
    data = _data(converter, _lead())
    converter.structure(data, Lead)  # StatusReason (1, "New", "OPEN") is memoised now
    data["reason"]["code"] = True  # True == 1, but a bool is not a reason code

    error = _outcome(lambda: converter.structure(data, Lead))

    assert error[0] == "error"
    assert error == _outcome(lambda: _strict(converter, data))


def test_the_memo_keeps_a_bounded_number_of_values(converter: LeadkitConverter) -> None:
    data = _data(converter, _lead())
    for n in range(fastcodec.MEMO_SIZE + 10):
        data["owner"] = {"id": f"user-{n}", "name": ""}
        assert converter.structure(data, Lead).owner == UserRef(f"user-{n}")
    memos = [v for k, v in converter._lead.load.__globals__.items() if k.startswith("_memo_")]
    assert memos
    assert all(len(m) <= fastcodec.MEMO_SIZE for m in memos)


def test_an_ill_typed_lead_is_written_by_the_strict_path(converter: LeadkitConverter) -> None:
    wrong: dict[str, Any] = {"topic": 5, "timeline_seq": True}
    odd = attrs.evolve(_lead())
    for name, value in wrong.items():  # the constructor refuses these; force them in
        object.__setattr__(odd, name, value)

    with pytest.raises(Fallback):
        converter._lead.dump(odd)
    assert converter.dumps(odd) == _strict_dumps(converter, odd)
    assert json.loads(converter.dumps(odd))["data"]["timeline_seq"] is True


def test_a_subclass_of_lead_is_written_by_the_strict_path(converter: LeadkitConverter) -> None:
    @attrs.frozen(kw_only=True)
    class Special(Lead):
        pass

    special = Special(**{a.name: getattr(_lead(), a.name) for a in attrs.fields(Lead)})

    assert json.loads(converter.dumps(special))["kind"] == "Special"
    assert converter.dumps(special) == _strict_dumps(converter, special)


def test_non_ascii_text_is_written_as_json_does(converter: LeadkitConverter) -> None:
    lead = attrs.evolve(_lead(), topic='Å "quoted" \\ \n\t\u2028 ☃ \U0001f600', company="\x00")

    assert converter.dumps(lead) == _strict_dumps(converter, lead)
    assert converter.loads(converter.dumps(lead), Lead) == lead


def test_compile_codec_refuses_what_it_cannot_generate(converter: LeadkitConverter) -> None:
    with pytest.raises(TypeError):
        compile_codec(
            dict,
            leaf=lambda _: None,
            plain_load=lambda _: True,
            plain_dump=lambda _: True,
            strict_load=converter._c.structure,
            strict_dump=converter._c.unstructure,
            encode=json.dumps,
        )


def test_the_generated_source_is_kept_for_tracebacks(converter: LeadkitConverter) -> None:
    assert "def _load_Lead" in converter._lead.source
    assert "def _dump_Lead" in converter._lead.source


# ---------------------------------------------------------------------------------------------
# Building instances


def test_trivial_init_is_true_only_for_classes_whose_init_just_stores() -> None:
    assert trivial_init(Lead)
    assert not trivial_init(PersonName)  # post-init cleaning
    assert not trivial_init(Money)  # converters
    assert not trivial_init(EmailAddress)  # a field set by post-init


def test_the_evolver_equals_attrs_evolve() -> None:
    evolve = compile_evolver(Lead, "version", "pending_events")
    lead = _rich()

    stored = evolve(lead, 3, ())

    assert stored == attrs.evolve(lead, version=3, pending_events=())
    assert type(stored) is Lead
    assert stored.version == 3
    assert stored.pending_events == ()
    assert attrs.asdict(stored, recurse=False) == {
        **attrs.asdict(lead, recurse=False),
        "version": 3,
        "pending_events": (),
    }


def test_the_evolver_of_a_class_with_checks_uses_its_constructor() -> None:
    evolve = compile_evolver(PersonName, "last")

    assert evolve(PersonName(first="Ada"), "  Lovelace ") == PersonName("Ada", "Lovelace")
    with pytest.raises(InvalidValue):
        evolve(PersonName(), "L" * 101)


def test_the_evolver_refuses_unknown_fields_and_other_classes() -> None:
    with pytest.raises(TypeError):
        compile_evolver(Lead, "colour")
    with pytest.raises(TypeError):
        compile_evolver(dict, "x")


# ---------------------------------------------------------------------------------------------
# E-mail


PLAIN = [
    "ada@example.com",
    "Ada.Lovelace+crm@Mail.Example.CO.uk",
    "a_b-c@x1.io",
    "first.last@sub-domain.example.museum",
    "x@" + "a" * 63 + ".com",
    "info@example.com",  # a case-insensitive mailbox name
    "l" * 64 + "@example.com",
    "a@" + ("b" * 60 + ".") * 4 + "com",  # a domain of 247 characters
]


@pytest.mark.parametrize("text", PLAIN)
def test_a_plain_address_is_restored_equal_to_a_validated_one(text: str) -> None:
    restored = restore_email(text)
    validated = EmailAddress(text)

    assert restored == validated
    assert restored.text == validated.text
    assert restored.normalized == validated.normalized


@pytest.mark.parametrize(
    "text",
    [
        " ada@example.com",
        "ada@example.com\n",
        '"ada"@example.com',
        "Ada <ada@example.com>",
        "åsa@example.com",
        "ada@exämple.com",
        "ada@xn--exmple-cua.com",
        "ada@ex--ample.com",
        "ada@-example.com",
        "ada@example-.com",
        "ada@example.c",
        "ada@example.c0m",
        "ada@example",
        "ada@example.com.",
        "a..b@example.com",
        ".ab@example.com",
        "ada@@example.com",
        "ada@host.test",
        "ada@host.localhost",
        "ada@onion",
        "ada@x.arpa",
        "l" * 65 + "@example.com",
        "a@" + "b" * 64 + ".com",
        "l" * 10 + "@" + ("b" * 60 + ".") * 4 + "com",  # 258 characters
    ],
)
def test_other_text_is_left_to_the_validator(text: str) -> None:
    with pytest.raises(Fallback):
        restore_email(text)


def test_the_validators_special_use_names_are_read_at_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    restore_email("ada@example.com")
    monkeypatch.setattr(
        email_validator, "SPECIAL_USE_DOMAIN_NAMES", [*email_validator.SPECIAL_USE_DOMAIN_NAMES]
    )
    email_validator.SPECIAL_USE_DOMAIN_NAMES.append("example.com")

    with pytest.raises(Fallback):
        restore_email("ada@mail.example.com")


def test_an_unchecked_validator_version_always_takes_the_validator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(values, "_VALIDATOR_CHECKED", False)

    with pytest.raises(Fallback):
        restore_email("ada@example.com")


# ---------------------------------------------------------------------------------------------
# The SQL adapter: new leads are inserted in batches


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with SqlStore.open(path=tmp_path / "leads.db") as opened:
        yield opened


def _ids(store: SqlStore) -> list[str]:
    with store.unit_of_work() as uow:
        return sorted(lead.id.value for lead in uow.leads.stream(LeadQuery()))


def test_batched_adds_are_read_back_in_the_same_unit_of_work(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        for n in range(3):
            uow.leads.add(_lead(f"L-{n}"))
        assert uow.leads.get(LeadId("L-1")) == attrs.evolve(_lead("L-1"), version=1)
        assert uow.leads.count(LeadQuery()) == 3
        uow.commit()
    assert _ids(store) == ["L-0", "L-1", "L-2"]


def test_more_adds_than_one_batch_are_all_stored(store: SqlStore) -> None:
    count = 2 * 256 + 3
    with store.unit_of_work() as uow:
        for n in range(count):
            uow.leads.add(_lead(f"L-{n:04}"))
        uow.commit()
    assert len(_ids(store)) == count


def test_a_taken_id_is_refused_at_add_whether_stored_or_waiting(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.leads.add(_lead("L-1"))
        uow.commit()
        uow.leads.add(_lead("L-2"))
        with pytest.raises(AlreadyExists):
            uow.leads.add(_lead("L-1"))
        with pytest.raises(AlreadyExists):
            uow.leads.add(_lead("L-2"))
        uow.commit()
    assert _ids(store) == ["L-1", "L-2"]


def test_rollback_forgets_the_waiting_adds(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.leads.add(_lead("L-1"))
        uow.rollback()
        uow.leads.add(_lead("L-2"))
        uow.commit()
    assert _ids(store) == ["L-2"]


def test_a_lead_with_a_timeline_is_stored_with_its_rows_among_batched_adds(
    store: SqlStore,
) -> None:
    with store.unit_of_work() as uow:
        uow.leads.add(_lead("L-1"))
        uow.leads.add(_rich())
        uow.leads.add(_lead("L-2"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.leads.get(LeadId("L-9")) == attrs.evolve(_rich(), version=1)
    assert _ids(store) == ["L-1", "L-2", "L-9"]


def test_a_batch_the_database_refuses_rolls_the_unit_of_work_back(store: SqlStore) -> None:
    assert store.path is not None
    with closing(sqlite3.connect(store.path)) as db:
        db.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON leads WHEN NEW.id = 'L-boom' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
        db.commit()
    with store.unit_of_work() as uow:
        uow.leads.add(_lead("L-1"))
        uow.commit()
        uow.leads.add(_lead("L-2"))
        uow.leads.add(_lead("L-boom"))  # accepted: the id is free
        with pytest.raises(StorageUnavailable, match="rolled back") as caught:
            uow.commit()
        assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
        assert uow.events == ()
        uow.commit()  # nothing is left to commit
    assert _ids(store) == ["L-1"]
