"""Properties of the duplicate engine: idempotent normalisers, a record matches its twin,
answers that do not depend on order, an index that agrees with a rebuild and with comparing
every record."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from leadkit import Lead
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    FIELDS,
    RULE_NORMALIZERS,
    Blocking,
    BlockingMethod,
    Condition,
    DuplicateFieldKind,
    DuplicateIndex,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    ExhaustiveFinder,
    Operator,
    Phonetic,
    RecordRef,
    RecordType,
    Similarity,
    duplicate_record,
    find_duplicates,
    scan,
)
from leadkit.duplicates.compiled import compile_rule_set
from leadkit.duplicates.normalize import _strip_accents, strip_accents
from leadkit.testing.strategies import leads

LEAD = RecordType.LEAD

# Few distinct values, so that records collide on keys and rules do match.
WORDS = ["Anna", "anna", "Åsa", "Berg", "BERG", "Łukasz", "Müller", "Mueller", "O'Brien", "Bob"]
TEXTS = st.one_of(
    st.just(""),
    st.just("  "),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
)
EMAILS = st.sampled_from(["", "anna@acme.se", "ANNA@Acme.se", "info@acme.se", "bob@gmail.com"])
PHONES = st.lists(
    st.sampled_from(["+46701234567", "+46812345678", "070-123 45 67", "+4915123456789"]),
    max_size=2,
).map(tuple)
DATETIMES = st.one_of(
    st.none(),
    st.sampled_from(
        [datetime(2024, 5, 6, 8, 0, tzinfo=UTC), datetime(2024, 5, 6, 20, 0, tzinfo=UTC)]
    ),
)
DATES = st.one_of(st.none(), st.sampled_from([date(2024, 5, 6), date(2024, 9, 1)]))
OPTIONS = st.one_of(st.none(), st.integers(1, 3))


@st.composite
def records(draw: st.DrawFn, record_id: str | None = None) -> DuplicateRecord:
    email = draw(EMAILS)
    return DuplicateRecord(
        record_type=LEAD,
        record_id=record_id or draw(st.sampled_from([f"L{i}" for i in range(12)])),
        active=draw(st.booleans()),
        first_name=draw(TEXTS),
        last_name=draw(TEXTS),
        full_name=draw(TEXTS),
        email=email,
        email_domain=email.rpartition("@")[2],
        phones=draw(PHONES),
        company=draw(st.sampled_from(["", "Acme AB", "ACME", "Acme Sp. z o.o.", "Contoso Ltd"])),
        city=draw(TEXTS),
        postal_code=draw(st.sampled_from(["", "111 22", "11122", "00-950"])),
        source=draw(OPTIONS),
        created_at=draw(DATETIMES),
        estimated_close_date=draw(DATES),
    )


def _record_sets() -> st.SearchStrategy[list[DuplicateRecord]]:
    return st.lists(records(), max_size=12, unique_by=lambda r: r.record_id)


TEXT_FIELDS = sorted(
    f
    for f, s in FIELDS.items()
    if s.kind in (DuplicateFieldKind.TEXT, DuplicateFieldKind.MULTI_TEXT)
)


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    op = draw(st.sampled_from(list(Operator)))
    if op is Operator.SAME_DATE:
        return Condition.same_date(draw(st.sampled_from(["created_at", "estimated_close_date"])))
    if op is Operator.SAME_DATE_AND_TIME:
        return Condition.same_date_and_time("created_at")
    if op is Operator.SAME_OPTION:
        return Condition.same_option("source")
    field = draw(st.sampled_from(TEXT_FIELDS))
    case_sensitive = draw(st.booleans())
    normalizer = (
        draw(st.sampled_from(["none", "text"]))
        if case_sensitive
        else draw(st.sampled_from(sorted(RULE_NORMALIZERS)))
    )
    common = {"base_field": field, "normalizer": normalizer, "case_sensitive": case_sensitive}
    if op in (Operator.SAME_FIRST_CHARACTERS, Operator.SAME_LAST_CHARACTERS):
        return Condition(operator=op, n=draw(st.integers(1, 6)), **common)  # type: ignore[arg-type]
    if op is Operator.SIMILAR:
        method = draw(st.sampled_from(list(BlockingMethod)))
        blocking = Blocking(
            method,
            n=draw(st.integers(1, 4))
            if method in (BlockingMethod.PREFIX, BlockingMethod.TOKEN_PREFIXES)
            else None,
            phonetic=draw(st.sampled_from(list(Phonetic)))
            if method is BlockingMethod.PHONETIC_TOKENS
            else None,
        )
        return Condition(
            operator=op,
            threshold=draw(st.floats(0, 100)),
            algorithm=draw(st.sampled_from(list(Similarity))),
            blocking=(blocking,),
            **common,  # type: ignore[arg-type]
        )
    if op is Operator.SOUNDS_LIKE:
        return Condition(operator=op, phonetic=draw(st.sampled_from(list(Phonetic))), **common)  # type: ignore[arg-type]
    return Condition(operator=op, **common)  # type: ignore[arg-type]


def _rule_set(rule_conditions: list[Condition], *, ignore_blank: bool) -> DuplicateRuleSet:
    rule = DuplicateRule(
        name="r",
        base_type=LEAD,
        matching_type=LEAD,
        conditions=rule_conditions,
        ignore_blank=ignore_blank,
        exclude_inactive=False,
    )
    return DuplicateRuleSet(name="s", rules=[rule])


# --------------------------------------------------------------------------------------------
# Normalisers
# --------------------------------------------------------------------------------------------


@given(name=st.sampled_from(sorted(RULE_NORMALIZERS)), text=st.text())
def test_every_rule_normaliser_is_idempotent(name: str, text: str) -> None:
    normalize = RULE_NORMALIZERS[name]
    once = normalize(text)
    assert normalize(once) == once


# --------------------------------------------------------------------------------------------
# A record matches its twin
# --------------------------------------------------------------------------------------------


@given(
    record=records(record_id="L-a"),
    rule_conditions=st.lists(conditions(), min_size=1, max_size=3),
    ignore_blank=st.booleans(),
)
def test_a_record_matches_its_twin_unless_a_field_is_blank_and_blanks_are_ignored(
    record: DuplicateRecord, rule_conditions: list[Condition], ignore_blank: bool
) -> None:
    rules = _rule_set(rule_conditions, ignore_blank=ignore_blank)
    compiled = compile_rule_set(rules)
    prepared = compiled.prepare(record)
    [rule] = compiled.rules
    blank = any(not prepared.values[c.base] for c in rule.conditions)
    expected = not (blank and ignore_blank)

    evidence = rule.evaluate(prepared, prepared)
    assert (evidence is not None) is expected
    if evidence is not None:
        assert all(c.base_value == c.matching_value for c in evidence.conditions)
        assert evidence.score >= min(c.threshold or 0 for c in rule_conditions)

    twin = DuplicateRecord(**{**_fields(record), "record_id": "L-b"})  # type: ignore[arg-type]
    index = DuplicateIndex(rules)
    index.add(twin)
    found = find_duplicates(record, rules, index)
    assert [m.candidate for m in found] == ([RecordRef(LEAD, "L-b")] if expected else [])


def _fields(record: DuplicateRecord) -> dict[str, object]:
    return {a.name: getattr(record, a.name) for a in DuplicateRecord.__attrs_attrs__}


@settings(max_examples=25)
@given(lead=leads())
def test_a_stored_lead_and_its_copy_match_on_every_default_rule_with_values(lead: Lead) -> None:
    record = duplicate_record(lead)
    compiled = compile_rule_set(DEFAULT_LEAD_RULES)
    prepared = compiled.prepare(record)
    for rule in compiled.by_base[LEAD]:
        if rule.rule.matching_type is not LEAD:
            continue
        filled = all(prepared.values[c.base] for c in rule.conditions)
        assert (rule.evaluate(prepared, prepared) is not None) is filled


# --------------------------------------------------------------------------------------------
# Order does not matter
# --------------------------------------------------------------------------------------------


@given(stored=_record_sets(), data=st.data())
def test_find_does_not_depend_on_the_order_records_were_indexed(
    stored: list[DuplicateRecord], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(stored))
    first = DuplicateIndex(DEFAULT_LEAD_RULES, max_block_size=4)
    first.rebuild(stored)
    second = DuplicateIndex(DEFAULT_LEAD_RULES, max_block_size=4)
    for record in shuffled:
        second.add(record)
    assert first.stats() == second.stats()
    for probe in stored:
        assert first.find(probe) == second.find(probe)


@given(stored=_record_sets(), data=st.data())
def test_scan_does_not_depend_on_input_order(
    stored: list[DuplicateRecord], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(stored))
    assert scan(stored, DEFAULT_LEAD_RULES) == scan(shuffled, DEFAULT_LEAD_RULES)


@given(stored=_record_sets())
def test_scan_groups_are_disjoint_sorted_and_explained(stored: list[DuplicateRecord]) -> None:
    groups = scan(stored, DEFAULT_LEAD_RULES)
    seen: set[RecordRef] = set()
    for group in groups:
        assert list(group.members) == sorted(group.members)
        assert group.size >= 2
        assert not seen & set(group.members)
        seen |= set(group.members)
        assert all({e.record, e.candidate} <= set(group.members) for e in group.edges)
        assert all(e.conditions for e in group.edges)
    assert [g.members[0] for g in groups] == sorted(g.members[0] for g in groups)


# --------------------------------------------------------------------------------------------
# The index: incremental changes agree with a rebuild; exact rules agree with a full scan
# --------------------------------------------------------------------------------------------

CHANGES = st.lists(st.tuples(st.sampled_from(["add", "update", "remove"]), records()), max_size=25)


@given(changes=CHANGES, block=st.integers(1, 6))
def test_index_changes_agree_with_a_rebuild(
    changes: list[tuple[str, DuplicateRecord]], block: int
) -> None:
    index = DuplicateIndex(DEFAULT_LEAD_RULES, max_block_size=block)
    model: dict[RecordRef, DuplicateRecord] = {}
    for action, record in changes:
        if action == "remove":
            index.remove(record.ref)
            model.pop(record.ref, None)
        else:
            index.add(record) if action == "add" else index.update(record)
            model[record.ref] = record
    rebuilt = DuplicateIndex(DEFAULT_LEAD_RULES, max_block_size=block)
    rebuilt.rebuild(model.values())
    assert index.stats() == rebuilt.stats()
    assert len(index) == len(rebuilt)
    for ref in model:
        assert index.keys_of(ref) == rebuilt.keys_of(ref)
    for probe in model.values():
        assert index.find(probe) == rebuilt.find(probe)


EXACT_RULES = DuplicateRuleSet(
    name="exact",
    rules=[
        DuplicateRule(
            name="email-or-company",
            base_type=LEAD,
            matching_type=LEAD,
            conditions=[Condition.exact("email"), Condition.first_characters("company", 3)],
        ),
        DuplicateRule(
            name="phone", base_type=LEAD, matching_type=LEAD, conditions=[Condition.exact("phones")]
        ),
        DuplicateRule(
            name="sounds",
            base_type=LEAD,
            matching_type=LEAD,
            conditions=[Condition.sounds_like("full_name"), Condition.same_date("created_at")],
            ignore_blank=False,
        ),
    ],
)


@given(stored=_record_sets(), probe=records(record_id="probe"))
def test_with_exact_rules_and_no_stop_keys_the_index_finds_what_a_full_scan_finds(
    stored: list[DuplicateRecord], probe: DuplicateRecord
) -> None:
    index = DuplicateIndex(EXACT_RULES, max_block_size=1000)
    index.rebuild(stored)
    assert index.find(probe) == ExhaustiveFinder(EXACT_RULES, stored).find(probe)


@given(stored=_record_sets(), block=st.integers(1, 6))
def test_scan_finds_exactly_the_pairs_that_lookups_find_from_either_side(
    stored: list[DuplicateRecord], block: int
) -> None:
    active = [DuplicateRecord(**{**_fields(r), "active": True}) for r in stored]  # type: ignore[arg-type]
    groups = scan(active, DEFAULT_LEAD_RULES, max_block_size=block)
    scanned = {frozenset((e.record, e.candidate)) for g in groups for e in g.edges}
    index = DuplicateIndex(DEFAULT_LEAD_RULES, max_block_size=block)
    index.rebuild(active)
    looked_up = {frozenset((r.ref, m.candidate)) for r in active for m in index.find(r)}
    assert scanned == looked_up


@given(st.one_of(st.text(), st.text(alphabet=st.characters(max_codepoint=127)), st.none()))
def test_strip_accents_fast_path_for_ascii_equals_the_slow_path(text: str | None) -> None:
    expected = _strip_accents("" if text is None else text)
    assert strip_accents(text) == expected
