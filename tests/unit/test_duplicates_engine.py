"""Specification of the duplicate engine (leadkit.duplicates.engine): explained matches, the
save / import / qualify hooks and batch scans."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadkit import (
    AccountId,
    ContactId,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    PersonName,
    PhoneNumber,
    StatusReason,
    UserRef,
    make_converter,
)
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    CheckMode,
    Condition,
    DuplicateFinder,
    DuplicateIndex,
    DuplicateMatch,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    ExhaustiveFinder,
    IndexedFinder,
    RecordRef,
    RecordType,
    check_import,
    check_on_save,
    duplicate_record,
    find_duplicates,
    scan,
    scan_report,
)
from leadkit.errors import ConfigurationError, DuplicatesUnresolved, InvalidValue
from leadkit.records import Account, Contact

AT = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
USER = UserRef("seller")
LEAD, CONTACT, ACCOUNT = RecordType.LEAD, RecordType.CONTACT, RecordType.ACCOUNT


def lead(
    lead_id: str,
    name: str,
    *,
    company: str = "",
    email: str | None = None,
    phone: str | None = None,
) -> Lead:
    patch = LeadPatch(
        topic="Enquiry",
        name=PersonName.parse(name),
        company=company,
        email=EmailAddress(email) if email else None,
        business_phone=PhoneNumber(phone, "SE") if phone else None,
    )
    return Lead.create(LeadId(lead_id), patch, at=AT, by=USER)


def ref(record_id: str, kind: RecordType = LEAD) -> RecordRef:
    return RecordRef(kind, record_id)


STORED = [
    lead("L-1", "Anna Berg", company="Acme AB", email="anna.berg@acme.se", phone="070-123 45 67"),
    lead("L-2", "Erik Lind", company="Acme AB", email="erik.lind@acme.se", phone="08-555 000 00"),
    lead("L-3", "Bob Smith", company="Contoso Ltd", email="bob@contoso.com"),
    lead("L-4", "Anna Nilsson", company="Acme AB", email="info@acme.se", phone="08-555 000 00"),
]


@pytest.fixture
def index() -> DuplicateIndex:
    built = DuplicateIndex(DEFAULT_LEAD_RULES)
    built.rebuild(STORED)
    return built


# --------------------------------------------------------------------------------------------
# find_duplicates
# --------------------------------------------------------------------------------------------


def test_a_new_lead_is_matched_and_the_match_explained(index: DuplicateIndex) -> None:
    new = lead("N-1", "Ana Berg", company="ACME Aktiebolag", email="ANNA.BERG@acme.se")
    [match] = find_duplicates(new, DEFAULT_LEAD_RULES, index)
    assert (match.record, match.candidate) == (ref("N-1"), ref("L-1"))
    assert match.rule == "lead-same-email"
    assert match.score == 100
    [email] = match.conditions
    assert (email.base_value, email.matching_value, email.similarity) == (
        "anna.berg@acme.se",
        "anna.berg@acme.se",
        100,
    )
    others = {r.rule: r for r in match.other_rules}
    assert set(match.rules) >= {"lead-same-email", "lead-similar-name-same-company"}
    name, company = others["lead-similar-name-same-company"].conditions
    assert (name.base_value, name.matching_value) == ("ana berg", "anna berg")
    assert 90 <= name.similarity < 100
    assert (company.base_value, company.matching_value) == ("acme", "acme")
    text = match.explain()
    assert text.startswith("lead:L-1 (rule lead-same-email, score 100.0)")
    assert "also matched:" in text


def test_colleagues_sharing_a_switchboard_are_not_duplicates(index: DuplicateIndex) -> None:
    # L-2 and L-4 share the company number: a phone alone does not make them one person.
    assert find_duplicates(STORED[1], DEFAULT_LEAD_RULES, index) == []
    same_person = lead("N-2", "E. Lind", phone="+46 8 555 000 00")
    [match] = find_duplicates(same_person, DEFAULT_LEAD_RULES, index)
    assert (match.candidate, match.rule) == (ref("L-2"), "lead-same-phone")


def test_a_shared_role_mailbox_is_not_evidence(index: DuplicateIndex) -> None:
    new = lead("N-3", "Per Olsson", company="Other AB", email="INFO@acme.se")
    assert find_duplicates(new, DEFAULT_LEAD_RULES, index) == []


def test_a_stored_record_never_matches_itself(index: DuplicateIndex) -> None:
    updated = STORED[0]  # checking an update of L-1 against an index holding L-1
    assert all(
        m.candidate != ref("L-1") for m in find_duplicates(updated, DEFAULT_LEAD_RULES, index)
    )


def test_matches_are_ordered_by_score_then_candidate_and_can_be_limited() -> None:
    rules = DEFAULT_LEAD_RULES
    index = DuplicateIndex(rules)
    index.rebuild(
        [
            lead("B", "Anna Berg", company="Acme"),
            lead("A", "Anna Berg", company="Acme"),
            lead("C", "Ana Berg", company="Acme"),
        ]
    )
    found = find_duplicates(lead("N", "Anna Berg", company="Acme AB"), rules, index)
    assert [m.candidate.record_id for m in found] == ["A", "B", "C"]
    assert found[0].score == found[1].score > found[2].score
    limited = find_duplicates(lead("N", "Anna Berg", company="Acme AB"), rules, index, limit=1)
    assert [m.candidate.record_id for m in limited] == ["A"]


def test_closed_leads_are_not_matched_when_a_rule_excludes_inactive_records() -> None:
    closed = STORED[2].disqualify(StatusReason.LOST, at=AT, by=USER)
    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    index.rebuild([closed])
    assert (
        find_duplicates(lead("N", "Rob Smith", email="bob@contoso.com"), DEFAULT_LEAD_RULES, index)
        == []
    )
    keep = DuplicateRuleSet(
        name="incl",
        rules=[
            DuplicateRule(
                name="email",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[Condition.exact("email")],
                exclude_inactive=False,
            )
        ],
    )
    index = DuplicateIndex(keep)
    index.rebuild([closed])
    assert len(find_duplicates(lead("N", "X", email="bob@contoso.com"), keep, index)) == 1


def test_a_lead_is_checked_against_contacts_and_accounts() -> None:
    contact = Contact(
        id=ContactId("C-1"),
        name=PersonName("Robert", "Smith"),
        email=EmailAddress("rob.smith@contoso.com"),
    )
    account = Account(id=AccountId("A-1"), name="Contoso Limited")
    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    index.rebuild([*STORED, contact, account])
    found = find_duplicates(
        lead("N", "Bob Smith", company="Contoso", email="bob.smith@contoso.com"),
        DEFAULT_LEAD_RULES,
        index,
    )
    by_candidate = {m.candidate: m for m in found}
    assert by_candidate[ref("C-1", CONTACT)].rule == "lead-contact-similar-name-same-email-domain"
    assert by_candidate[ref("A-1", ACCOUNT)].rule == "lead-account-same-company"
    assert by_candidate[ref("L-3")].rule == "lead-similar-name-same-company"
    # Contacts and accounts are only ever matching records of the default (lead) rules.
    assert find_duplicates(contact, DEFAULT_LEAD_RULES, index) == []


def test_a_subset_of_the_indexed_rules_can_be_run_but_not_a_foreign_rule(
    index: DuplicateIndex,
) -> None:
    only_email = DEFAULT_LEAD_RULES.only("lead-same-email")
    new = lead("N", "Anna Berg", company="Acme", email="anna.berg@acme.se")
    assert {m.rule for m in find_duplicates(new, only_email, index)} == {"lead-same-email"}
    foreign = DuplicateRuleSet(
        name="other",
        rules=[
            DuplicateRule(
                name="lead-same-email",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[Condition.exact("email", normalizer="email_provider_rules")],
            )
        ],
    )
    with pytest.raises(ConfigurationError, match="does not hold this rule"):
        find_duplicates(new, foreign, index)


def test_the_index_agrees_with_comparing_every_record() -> None:
    reference = ExhaustiveFinder(DEFAULT_LEAD_RULES, STORED)
    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    index.rebuild(STORED)
    probes = [
        *STORED,
        lead("N", "Ana Berg", company="Acme"),
        lead("M", "Berg, Anna", phone="0701234567"),
    ]
    for probe in probes:
        assert index.find(probe) == reference.find(probe)
    assert len(reference) == 4
    reference.remove(LeadId("L-1"))
    assert len(reference) == 3


def test_matches_round_trip_through_the_converter(index: DuplicateIndex) -> None:
    converter = make_converter()
    [match] = find_duplicates(
        lead("N", "Ana Berg", company="Acme AB", email="anna.berg@acme.se"),
        DEFAULT_LEAD_RULES,
        index,
    )
    data = converter.unstructure(match)
    assert data["candidate"] == {"record_type": "lead", "record_id": "L-1"}
    assert converter.structure(data, DuplicateMatch) == match


# --------------------------------------------------------------------------------------------
# The hooks: qualify, save, import
# --------------------------------------------------------------------------------------------


def test_an_indexed_finder_is_the_duplicate_finder_qualification_calls(
    index: DuplicateIndex,
) -> None:
    finder: DuplicateFinder = IndexedFinder(index, limit=5)
    also: DuplicateFinder = index
    new = lead("N", "Anna Berg", company="Acme AB")
    assert [m.candidate for m in finder.find(new)] == [ref("L-1")]
    assert also.find(new) == finder.find(new)
    only_phone = IndexedFinder(index, DEFAULT_LEAD_RULES.only("lead-same-phone"))
    assert only_phone.find(new) == []


def test_check_on_save_follows_the_mode(index: DuplicateIndex) -> None:
    new = lead("N", "Ana Berg", company="Acme AB")
    warned = check_on_save(new, DEFAULT_LEAD_RULES, index)
    assert warned.mode is CheckMode.WARN
    assert warned.has_duplicates
    assert warned.needs_confirmation
    assert [m.candidate for m in warned.matches] == [ref("L-1")]

    allowed = check_on_save(new, DEFAULT_LEAD_RULES, index, mode=CheckMode.ALLOW)
    assert not allowed.has_duplicates
    assert not allowed.needs_confirmation

    with pytest.raises(DuplicatesUnresolved) as caught:
        check_on_save(new, DEFAULT_LEAD_RULES.with_mode(CheckMode.BLOCK), index)
    assert [m.candidate for m in caught.value.candidates] == [ref("L-1")]

    reviewed = check_on_save(
        new, DEFAULT_LEAD_RULES, index, mode=CheckMode.BLOCK, ignore={ref("L-1")}
    )
    assert reviewed.matches == ()
    assert reviewed.record == ref("N")


def test_an_update_is_checked_and_then_reindexed(index: DuplicateIndex) -> None:
    moved = STORED[2].update(
        LeadPatch(company="Acme AB", name=PersonName("Ann", "Berg")), at=AT, by=USER
    )
    check = check_on_save(moved, DEFAULT_LEAD_RULES, index)
    assert [m.candidate for m in check.matches] == [ref("L-1")]
    index.update(moved)
    assert [m.candidate for m in index.find(STORED[0])] == [ref("L-3")]


def test_an_import_is_checked_against_stored_records_and_within_the_batch(
    index: DuplicateIndex,
) -> None:
    batch = [
        DuplicateRecord(record_type=LEAD, record_id="I-1", full_name="Anna Berg", company="Acme"),
        DuplicateRecord(
            record_type=LEAD, record_id="I-2", full_name="Jan Nowak", email="jan@firma.pl"
        ),
        DuplicateRecord(
            record_type=LEAD, record_id="I-3", full_name="J. Nowak", email="JAN@firma.pl"
        ),
        DuplicateRecord(record_type=LEAD, record_id="I-4", full_name="Eva Holm"),
    ]
    result = check_import(batch, DEFAULT_LEAD_RULES, index)
    rows = {r.record.record_id: r for r in result.rows}
    assert [r.position for r in result.rows] == [0, 1, 2, 3]
    assert [m.candidate for m in rows["I-1"].stored] == [ref("L-1")]
    assert rows["I-1"].in_batch == ()
    assert [m.candidate for m in rows["I-2"].in_batch] == [ref("I-3")]
    assert [m.candidate for m in rows["I-3"].in_batch] == [ref("I-2")]
    assert result.clean == (ref("I-4"),)
    assert [r.record for r in result.flagged] == [ref("I-1"), ref("I-2"), ref("I-3")]
    assert [g.members for g in result.groups] == [(ref("I-2"), ref("I-3"))]
    alone = check_import(batch, DEFAULT_LEAD_RULES)
    assert all(r.stored == () for r in alone.rows)


def test_an_import_refuses_a_record_twice() -> None:
    twice = [lead("I", "A B"), lead("I", "A B")]
    with pytest.raises(InvalidValue, match="appears twice"):
        check_import(twice, DEFAULT_LEAD_RULES)


# --------------------------------------------------------------------------------------------
# scan
# --------------------------------------------------------------------------------------------


def test_scan_groups_pairwise_matches_with_their_evidence() -> None:
    records = [
        *STORED,
        lead("L-5", "Ana Berg", company="Acme AB"),  # L-1 by name and company
        lead("L-6", "Berg Anna", phone="+46701234567"),  # L-1 by phone, swapped name
        lead("L-7", "Robert Smith", company="Contoso"),  # L-3 by nickname and company
    ]
    groups = scan(records, DEFAULT_LEAD_RULES)
    assert [g.members for g in groups] == [
        (ref("L-1"), ref("L-5"), ref("L-6")),
        (ref("L-3"), ref("L-7")),
    ]
    first = groups[0]
    assert first.size == 3
    pairs = {(e.record, e.candidate): e for e in first.edges}
    assert pairs[(ref("L-1"), ref("L-6"))].rule == "lead-same-phone"
    assert pairs[(ref("L-1"), ref("L-5"))].rule == "lead-similar-name-same-company"


def test_scan_does_not_depend_on_input_order() -> None:
    records = [
        *STORED,
        lead("L-5", "Ana Berg", company="Acme AB"),
        lead("L-7", "Rob Smith", company="Contoso"),
    ]
    expected = scan(records, DEFAULT_LEAD_RULES)
    assert scan(list(reversed(records)), DEFAULT_LEAD_RULES) == expected
    assert scan(records[2:] + records[:2], DEFAULT_LEAD_RULES) == expected


def test_scan_reports_its_cost() -> None:
    report = scan_report([*STORED, lead("L-5", "Ana Berg", company="Acme AB")], DEFAULT_LEAD_RULES)
    assert report.records == 5
    assert report.all_pairs == 10
    assert 0 < report.comparisons < 3 * report.all_pairs
    assert report.matches == 1
    assert report.stop_keys == ()


def test_scan_leaves_inactive_records_out_of_rules_that_exclude_them() -> None:
    closed = duplicate_record(lead("L-9", "Anna Berg", company="Acme")).__class__(
        record_type=LEAD, record_id="L-9", active=False, full_name="Anna Berg", company="Acme"
    )
    assert scan([STORED[0], closed], DEFAULT_LEAD_RULES) == []


def test_scan_refuses_a_record_twice() -> None:
    with pytest.raises(InvalidValue, match="appears twice"):
        scan([STORED[0], STORED[0]], DEFAULT_LEAD_RULES)


def test_asymmetric_rules_report_the_direction_that_matched() -> None:
    swapped = DuplicateRuleSet(
        name="swapped",
        rules=[
            DuplicateRule(
                name="first-is-last",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[
                    Condition.exact("first_name", "last_name", normalizer="person_name"),
                    Condition.exact("last_name", "first_name", normalizer="person_name"),
                ],
            )
        ],
    )
    a = DuplicateRecord(record_type=LEAD, record_id="a", first_name="Anna", last_name="Berg")
    b = DuplicateRecord(record_type=LEAD, record_id="b", first_name="Berg", last_name="Anna")
    [group] = scan([a, b], swapped)
    assert {(e.record.record_id, e.candidate.record_id) for e in group.edges} == {
        ("a", "b"),
        ("b", "a"),
    }


# --------------------------------------------------------------------------------------------
# Limits, chains and rule order
# --------------------------------------------------------------------------------------------


def _email_rule(
    name: str, *, matching: RecordType = LEAD, inactive_too: bool = False
) -> DuplicateRule:
    return DuplicateRule(
        name=name,
        base_type=LEAD,
        matching_type=matching,
        conditions=[Condition.exact("email")],
        exclude_inactive=not inactive_too,
    )


SAME_EMAIL = DuplicateRuleSet(name="same-email", rules=[_email_rule("email")])
EMAIL_OR_PHONE = DuplicateRuleSet(
    name="email-or-phone",
    rules=[
        _email_rule("email"),
        DuplicateRule(
            name="phone",
            base_type=LEAD,
            matching_type=LEAD,
            conditions=[Condition.exact("business_phone")],
        ),
    ],
)
TWINS = [
    lead("T-1", "Anna Berg", email="anna@acme.se"),
    lead("T-2", "Erik Lind", email="anna@acme.se"),
    lead("T-3", "Bo Ek", email="anna@acme.se"),
]


def test_scan_joins_a_chain_of_matches_into_one_group() -> None:
    # A matches B by e-mail and B matches C by phone; A and C share nothing.
    chain = [
        lead("A", "Anna Berg", email="anna@acme.se"),
        lead("B", "Erik Lind", email="anna@acme.se", phone="070-123 45 67"),
        lead("C", "Bo Ek", phone="070-123 45 67"),
    ]

    groups = scan(chain, EMAIL_OR_PHONE)

    assert [g.members for g in groups] == [(ref("A"), ref("B"), ref("C"))]
    assert [(e.record, e.candidate) for e in groups[0].edges] == [
        (ref("A"), ref("B")),
        (ref("B"), ref("C")),
    ]


def test_check_on_save_and_an_indexed_finder_cap_the_matches_at_their_limit() -> None:
    index = DuplicateIndex(SAME_EMAIL)
    index.rebuild(TWINS[1:])
    new = TWINS[0]

    assert [m.candidate for m in check_on_save(new, SAME_EMAIL, index).matches] == [
        ref("T-2"),
        ref("T-3"),
    ]
    assert [m.candidate for m in check_on_save(new, SAME_EMAIL, index, limit=1).matches] == [
        ref("T-2")
    ]
    assert [m.candidate for m in IndexedFinder(index, limit=1).find(new)] == [ref("T-2")]
    assert len(IndexedFinder(index).find(new)) == 2


def test_an_import_skips_a_key_shared_by_more_records_than_its_block_size() -> None:
    flagged = check_import(TWINS, SAME_EMAIL)
    assert [len(r.in_batch) for r in flagged.rows] == [2, 2, 2]

    stopped = check_import(TWINS, SAME_EMAIL, max_block_size=2)
    assert [r.in_batch for r in stopped.rows] == [(), (), ()]
    assert stopped.groups == ()


def test_records_of_a_type_no_rule_checks_are_never_matched() -> None:
    contacts = [
        Contact(id=ContactId("C-1"), name=PersonName("Anna", "Berg"), email=EmailAddress("a@b.se")),
        Contact(id=ContactId("C-2"), name=PersonName("Anna", "Berg"), email=EmailAddress("a@b.se")),
    ]

    result = check_import(contacts, SAME_EMAIL)
    assert [r.in_batch for r in result.rows] == [(), ()]
    assert ExhaustiveFinder(SAME_EMAIL, contacts).find(contacts[0]) == []


def test_the_exhaustive_finder_skips_the_record_itself_and_tries_every_rule() -> None:
    closed = TWINS[2].disqualify(StatusReason.LOST, at=AT, by=USER)
    rules = DuplicateRuleSet(
        name="ordered",
        rules=[
            _email_rule("email-contact", matching=CONTACT),  # never a lead: tried, skipped
            _email_rule("email-active"),  # leaves the closed lead out
            _email_rule("email-any", inactive_too=True),  # takes it
        ],
    )
    finder = ExhaustiveFinder(rules, [TWINS[0], TWINS[1], closed])

    found = finder.find(TWINS[0])

    assert [(m.candidate, m.rule) for m in found] == [
        (ref("T-2"), "email-active"),
        (ref("T-3"), "email-any"),
    ]
    assert [m.candidate for m in finder.find(TWINS[0], limit=1)] == [ref("T-2")]


def test_the_exhaustive_finder_forgets_a_record_it_never_held_without_error() -> None:
    finder = ExhaustiveFinder(SAME_EMAIL, TWINS)

    finder.remove(LeadId("nobody"))

    assert len(finder) == 3


def test_a_scan_compares_each_pair_once_per_rule() -> None:
    assert scan_report(TWINS[:2], SAME_EMAIL).comparisons == 1
    assert scan_report(TWINS, SAME_EMAIL).comparisons == 3  # three pairs
    both = [
        lead("A", "Anna Berg", email="anna@acme.se", phone="070-123 45 67"),
        lead("B", "Erik Lind", email="anna@acme.se", phone="070-123 45 67"),
    ]
    assert scan_report(both, EMAIL_OR_PHONE).comparisons == 2  # one pair, two rules


def test_a_scan_never_matches_records_of_a_type_no_rule_checks() -> None:
    contacts = [
        Contact(id=ContactId("C-1"), name=PersonName("Anna", "Berg"), email=EmailAddress("a@b.se")),
        Contact(id=ContactId("C-2"), name=PersonName("Anna", "Berg"), email=EmailAddress("a@b.se")),
    ]
    assert scan(contacts, SAME_EMAIL) == []


def test_a_scan_passes_over_an_inactive_record_and_keeps_looking() -> None:
    closed = TWINS[1].disqualify(StatusReason.LOST, at=AT, by=USER)
    groups = scan([TWINS[0], closed, TWINS[2]], SAME_EMAIL)
    assert [g.members for g in groups] == [(ref("T-1"), ref("T-3"))]


def test_an_inactive_record_still_takes_part_in_the_next_rule_that_includes_it() -> None:
    # "first name = last name" is one-way: only the closed lead X, as base, matches Y.
    # Both share an e-mail address, so the closed lead meets the e-mail rule first.
    x = lead("X", "Berg Quist", email="same@acme.se").disqualify(StatusReason.LOST, at=AT, by=USER)
    y = lead("Y", "Zoe Berg", email="same@acme.se")
    rules = DuplicateRuleSet(
        name="one-way",
        rules=[
            _email_rule("email"),
            DuplicateRule(
                name="first-is-last",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[Condition.exact("first_name", "last_name", normalizer="person_name")],
                exclude_inactive=False,
            ),
        ],
    )

    groups = scan([x, y], rules)

    assert [(e.record, e.candidate, e.rule) for g in groups for e in g.edges] == [
        (ref("X"), ref("Y"), "first-is-last")
    ]


def test_scan_orders_groups_by_their_first_member() -> None:
    records = [
        lead("A", "Anna Berg", email="one@acme.se"),
        lead("D", "Dan Berg", email="one@acme.se"),
        lead("B", "Bo Ek", email="two@acme.se"),
        lead("C", "Cay Ek", email="two@acme.se"),
    ]

    groups = scan(records, SAME_EMAIL)

    assert [g.members for g in groups] == [(ref("A"), ref("D")), (ref("B"), ref("C"))]


def test_scan_names_a_record_given_twice() -> None:
    with pytest.raises(InvalidValue) as caught:
        scan([TWINS[0], TWINS[1], TWINS[0]], SAME_EMAIL)

    error = caught.value
    assert (error.field, error.value, error.reason) == ("records", str(ref("T-1")), "appears twice")
