"""Specification of duplicate rules as data (leadkit.duplicates.rules): building, validation,
serialisation and the default rule set."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from leadkit import make_converter
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    NICKNAMES,
    RULE_NORMALIZERS,
    Blocking,
    BlockingMethod,
    CheckMode,
    Condition,
    DuplicateRule,
    DuplicateRuleSet,
    Operator,
    Phonetic,
    RecordType,
    Similarity,
    default_rule_set,
    normalize_business_domain,
    normalize_person_name,
    normalize_personal_email,
    rule_normalizer,
)
from leadkit.duplicates.rule_normalizers import _nicknames
from leadkit.duplicates.rules import _default_rules
from leadkit.errors import ConfigurationError, InvalidValue

LEAD, CONTACT, ACCOUNT = RecordType.LEAD, RecordType.CONTACT, RecordType.ACCOUNT
NAME_BLOCKING = Blocking.phonetic_tokens()


def _rule(
    *conditions: Condition, base: RecordType = LEAD, matching: RecordType = LEAD
) -> DuplicateRule:
    return DuplicateRule(name="r", base_type=base, matching_type=matching, conditions=conditions)


def _assert_refused(build: Any, message: str, expected: tuple[str, str]) -> None:
    """``build()`` raises ConfigurationError with exactly ``expected`` (what, reason)."""
    with pytest.raises(ConfigurationError, match=message) as caught:
        build()
    what, reason = expected
    assert caught.value.what == what
    if reason.endswith("; known: "):  # the list of fields grows with the field table
        assert caught.value.reason.startswith(reason)
    else:
        assert caught.value.reason == reason


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------


def test_a_condition_fills_in_the_field_default_normaliser_and_matching_field() -> None:
    condition = Condition.exact("email")
    assert condition.operator is Operator.EXACT
    assert condition.matching_field == "email"
    assert condition.normalizer == "email"
    assert Condition.exact("city").normalizer == "text"
    assert Condition.exact("city", case_sensitive=True).normalizer == "none"


def test_each_builder_sets_its_operator_and_parameters() -> None:
    assert Condition.first_characters("postal_code", 3).n == 3
    assert Condition.last_characters("phones", 7, "business_phone").matching_field == (
        "business_phone"
    )
    assert Condition.same_date("created_at").operator is Operator.SAME_DATE
    assert Condition.same_date_and_time("created_at").operator is Operator.SAME_DATE_AND_TIME
    assert Condition.same_option("source").operator is Operator.SAME_OPTION
    similar = Condition.similar("company", 85, Similarity.RATIO, blocking=Blocking.prefix(3))
    assert (similar.threshold, similar.algorithm, similar.blocking) == (
        85.0,
        Similarity.RATIO,
        (Blocking.prefix(3),),
    )
    sounds = Condition.sounds_like("last_name", Phonetic.NYSIIS)
    assert (sounds.operator, sounds.phonetic) == (Operator.SOUNDS_LIKE, Phonetic.NYSIIS)


def test_enums_may_be_given_by_value() -> None:
    condition = Condition(
        operator="similar",
        base_field="full_name",
        threshold=90,
        algorithm="jaro_winkler",
        blocking=[Blocking("prefix", n=2)],
    )
    assert condition.algorithm is Similarity.JARO_WINKLER
    assert condition.blocking[0].method is BlockingMethod.PREFIX


@pytest.mark.parametrize(
    ("build", "message", "expected"),
    [
        (
            lambda: Condition.exact("nope"),
            "unknown field 'nope'",
            ("condition base_field", "unknown field 'nope'; known: "),
        ),
        (
            lambda: Condition.exact("email", "shoe_size"),
            "unknown field 'shoe_size'",
            ("condition matching_field", "unknown field 'shoe_size'; known: "),
        ),
        (
            lambda: Condition.first_characters("email", 0),
            "n must be an integer >= 1",
            ("condition email first 0 = email", "n must be an integer >= 1 (got 0)"),
        ),
        (
            lambda: Condition.last_characters("email", -2),
            "n must be an integer >= 1",
            ("condition email last -2 = email", "n must be an integer >= 1 (got -2)"),
        ),
        (
            lambda: Condition.first_characters("email", True),
            "n must be an integer >= 1",
            ("condition email first True = email", "n must be an integer >= 1 (got True)"),
        ),
        (
            lambda: Condition.similar("full_name", 101, blocking=NAME_BLOCKING),
            "threshold must be 0-100",
            (
                "condition full_name ~ full_name (jaro_winkler >= 101)",
                "threshold must be 0-100 (got 101)",
            ),
        ),
        (
            lambda: Condition.similar("full_name", -1, blocking=NAME_BLOCKING),
            "threshold must be 0-100",
            (
                "condition full_name ~ full_name (jaro_winkler >= -1)",
                "threshold must be 0-100 (got -1)",
            ),
        ),
        (
            lambda: Condition(operator=Operator.SIMILAR, base_field="full_name", threshold=90),
            "needs a similarity algorithm",
            (
                "condition full_name ~ full_name (? >= 90)",
                "needs a similarity algorithm: ratio, best_ratio, person_name, partial_ratio, "
                "token_sort_ratio, token_set_ratio, wratio, qratio, jaro, jaro_winkler, "
                "token_sort_jaro_winkler, levenshtein, damerau_levenshtein",
            ),
        ),
        (
            lambda: Condition.similar("full_name", 90, blocking=()),
            "needs a blocking key",
            (
                "condition full_name ~ full_name (jaro_winkler >= 90)",
                "a similarity condition needs a blocking key (blocking=Blocking...), or lookups "
                "would compare every stored record",
            ),
        ),
        (
            lambda: Condition.exact("email", normalizer="soundex"),
            "unknown normalizer 'soundex'",
            (
                "normalizer",
                "unknown normalizer 'soundex'; known: business_domain, company, domain, email, "
                "email_provider_rules, none, person_name, person_name_nicknames, personal_email, "
                "phone, postal_code, text",
            ),
        ),
        (
            lambda: Condition.exact("email", normalizer="email", case_sensitive=True),
            "folds case",
            (
                "case_sensitive",
                "normalizer 'email' folds case; a case-sensitive condition needs 'none' or 'text'",
            ),
        ),
        (
            lambda: Condition.same_date("full_name"),
            "same_date does not apply to a text field",
            (
                "condition full_name same date as full_name",
                "same_date does not apply to a text field; it takes date, datetime",
            ),
        ),
        (
            lambda: Condition.same_option("company"),
            "same_option does not apply",
            (
                "condition company = company",
                "same_option does not apply to a text field; it takes option",
            ),
        ),
        (
            lambda: Condition.exact("created_at"),
            "exact does not apply to a datetime field",
            (
                "condition created_at = created_at",
                "exact does not apply to a datetime field; it takes date, multi_text, number, "
                "option, text",
            ),
        ),
        (
            lambda: Condition(
                operator=Operator.SAME_DATE_AND_TIME, base_field="estimated_close_date"
            ),
            "same_date_and_time does not apply to a date field",
            (
                "condition estimated_close_date same date and time as estimated_close_date",
                "same_date_and_time does not apply to a date field; it takes datetime",
            ),
        ),
        (
            lambda: Condition.exact("email", "created_at"),
            "cannot be compared",
            (
                "condition email = created_at",
                "email (text) cannot be compared with created_at (datetime)",
            ),
        ),
        (
            lambda: Condition.exact("source", "created_at"),
            "cannot be compared",
            (
                "condition source = created_at",
                "source (option) cannot be compared with created_at (datetime)",
            ),
        ),
        (
            lambda: Condition(
                operator=Operator.SAME_DATE, base_field="created_at", normalizer="text"
            ),
            "takes no normalizer",
            (
                "condition created_at same date as created_at",
                "a datetime field takes no normalizer",
            ),
        ),
        (
            lambda: Condition(operator=Operator.EXACT, base_field="email", threshold=90),
            "exact takes no threshold",
            ("condition email = email", "exact takes no threshold"),
        ),
        (
            lambda: Condition(operator=Operator.EXACT, base_field="email", n=2),
            "exact takes no n",
            ("condition email = email", "exact takes no n"),
        ),
        (
            lambda: Condition(operator=Operator.EXACT, base_field="email", blocking=NAME_BLOCKING),
            "blocking is for similar",
            ("condition email = email", "exact blocks on its own values; blocking is for similar"),
        ),
        (
            lambda: Condition(operator=Operator.SOUNDS_LIKE, base_field="last_name"),
            "needs a phonetic algorithm",
            (
                "condition last_name sounds like last_name (?)",
                "needs a phonetic algorithm: soundex, metaphone, nysiis, match_rating",
            ),
        ),
        (
            lambda: Condition(
                operator=Operator.EXACT, base_field="email", phonetic=Phonetic.SOUNDEX
            ),
            "exact takes no phonetic",
            ("condition email = email", "exact takes no phonetic"),
        ),
        (
            lambda: Condition(operator="fuzzy", base_field="email"),
            "unknown Operator 'fuzzy'",
            (
                "condition operator",
                "unknown Operator 'fuzzy'; known: exact, same_first_characters, "
                "same_last_characters, same_date, same_date_and_time, same_option, similar, "
                "sounds_like",
            ),
        ),
        (
            lambda: Condition.similar("full_name", 90, "cosine", blocking=NAME_BLOCKING),  # type: ignore[arg-type]
            "unknown Similarity 'cosine'",
            (
                "condition algorithm",
                "unknown Similarity 'cosine'; known: ratio, best_ratio, person_name, "
                "partial_ratio, token_sort_ratio, token_set_ratio, wratio, qratio, jaro, "
                "jaro_winkler, token_sort_jaro_winkler, levenshtein, damerau_levenshtein",
            ),
        ),
    ],
)
def test_a_bad_condition_is_refused_when_built(
    build: Any, message: str, expected: tuple[str, str]
) -> None:
    _assert_refused(build, message, expected)


@pytest.mark.parametrize(
    ("build", "message", "expected"),
    [
        (
            lambda: Blocking(BlockingMethod.PREFIX),
            "n must be an integer >= 1",
            ("blocking prefix", "n must be an integer >= 1 (got None)"),
        ),
        (
            lambda: Blocking.token_prefixes(0),
            "n must be an integer >= 1",
            ("blocking token_prefixes", "n must be an integer >= 1 (got 0)"),
        ),
        (
            lambda: Blocking(BlockingMethod.TOKENS, n=2),
            "takes no n",
            ("blocking tokens", "takes no n"),
        ),
        (
            lambda: Blocking(BlockingMethod.PHONETIC_TOKENS),
            "needs a phonetic algorithm",
            ("blocking phonetic_tokens", "needs a phonetic algorithm (Phonetic)"),
        ),
        (
            lambda: Blocking(BlockingMethod.VALUE, phonetic=Phonetic.SOUNDEX),
            "takes no phonetic",
            ("blocking value", "takes no phonetic"),
        ),
        (
            lambda: Blocking("soundslike"),
            "unknown BlockingMethod",
            (
                "blocking method",
                "unknown BlockingMethod 'soundslike'; known: value, prefix, tokens, "
                "sorted_tokens, token_prefixes, phonetic_tokens",
            ),
        ),
    ],
)
def test_a_bad_blocking_is_refused_when_built(
    build: Any, message: str, expected: tuple[str, str]
) -> None:
    _assert_refused(build, message, expected)


def test_a_date_may_be_compared_with_a_date_time_by_calendar_date() -> None:
    condition = Condition.same_date("created_at", "estimated_close_date")
    assert condition.matching_field == "estimated_close_date"


def test_blocking_tags_are_short_and_stable() -> None:
    assert Blocking.prefix(3).tag == "prefix3"
    assert Blocking.tokens().tag == "tokens"
    assert Blocking.sorted_tokens().tag == "sorted_tokens"
    assert Blocking.token_prefixes(2).tag == "token_prefixes2"
    assert Blocking.phonetic_tokens(Phonetic.SOUNDEX).tag == "phonetic_tokens-soundex"


def test_conditions_describe_themselves() -> None:
    assert Condition.exact("email").describe() == "email = email"
    assert (
        Condition.first_characters("postal_code", 3).describe()
        == "postal_code first 3 = postal_code"
    )
    assert Condition.last_characters("phones", 7).describe() == "phones last 7 = phones"
    assert Condition.same_date("created_at").describe() == "created_at same date as created_at"
    similar = Condition.similar("full_name", 88.5, Similarity.JARO_WINKLER, blocking=NAME_BLOCKING)
    assert similar.describe() == "full_name ~ full_name (jaro_winkler >= 88.5)"
    assert Condition.sounds_like("last_name").describe() == (
        "last_name sounds like last_name (metaphone)"
    )


# --------------------------------------------------------------------------------------------
# Rules and rule sets
# --------------------------------------------------------------------------------------------


def test_a_rule_may_compare_two_record_types_and_swapped_fields() -> None:
    rule = _rule(
        Condition.exact("first_name", "last_name"),
        Condition.exact("last_name", "first_name"),
        base=LEAD,
        matching=CONTACT,
    )
    assert not rule.is_symmetric
    assert rule.describe() == "lead vs contact: first_name = last_name AND last_name = first_name"
    assert _rule(Condition.exact("email")).is_symmetric


@pytest.mark.parametrize(
    ("build", "message", "expected"),
    [
        (
            lambda: _rule(),
            "needs at least one condition",
            ("duplicate rule 'r'", "needs at least one condition"),
        ),
        (
            lambda: DuplicateRule(
                name=" ", base_type=LEAD, matching_type=LEAD, conditions=[Condition.exact("email")]
            ),
            "needs a name",
            ("duplicate rule", "needs a name"),
        ),
        (
            lambda: _rule(Condition.exact("first_name"), base=LEAD, matching=ACCOUNT),
            "a account has no first_name field",
            ("duplicate rule 'r'", "a account has no first_name field"),
        ),
        (
            lambda: _rule(Condition.exact("topic"), base=CONTACT, matching=LEAD),
            "a contact has no topic field",
            ("duplicate rule 'r'", "a contact has no topic field"),
        ),
        (
            lambda: _rule("email"),  # type: ignore[arg-type]
            "is not a Condition",
            ("duplicate rule 'r'", "'email' is not a Condition"),
        ),
        (
            lambda: DuplicateRule(
                name="r",
                base_type="opportunity",
                matching_type=LEAD,
                conditions=[Condition.exact("email")],
            ),
            "unknown RecordType 'opportunity'",
            ("record type", "unknown RecordType 'opportunity'; known: lead, contact, account"),
        ),
    ],
)
def test_a_bad_rule_is_refused_when_built(
    build: Any, message: str, expected: tuple[str, str]
) -> None:
    _assert_refused(build, message, expected)


def test_a_rule_set_needs_rules_with_unique_names() -> None:
    rule = _rule(Condition.exact("email"))
    with pytest.raises(ConfigurationError, match="needs at least one rule"):
        DuplicateRuleSet(name="s", rules=[])
    with pytest.raises(ConfigurationError, match="rule names must be unique: r"):
        DuplicateRuleSet(name="s", rules=[rule, rule])
    with pytest.raises(ConfigurationError, match="needs a name"):
        DuplicateRuleSet(name="", rules=[rule])
    with pytest.raises(ConfigurationError, match="unknown CheckMode"):
        DuplicateRuleSet(name="s", rules=[rule], mode="shout")


def test_a_rule_set_picks_rules_by_name_and_base_type() -> None:
    rules = DEFAULT_LEAD_RULES
    assert rules.rule("lead-same-email").name == "lead-same-email"
    with pytest.raises(ConfigurationError, match="no rule 'nope'"):
        rules.rule("nope")
    assert {r.base_type for r in rules.for_base(LEAD)} == {LEAD}
    assert rules.for_base(ACCOUNT) == ()
    only = rules.only("lead-same-email", "lead-same-phone")
    assert [r.name for r in only.rules] == ["lead-same-email", "lead-same-phone"]
    assert rules.with_mode(CheckMode.BLOCK).mode is CheckMode.BLOCK


def test_rules_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_LEAD_RULES.name = "mine"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# The default rule set
# --------------------------------------------------------------------------------------------


def test_the_default_rule_set_covers_leads_contacts_and_accounts() -> None:
    rules = {r.name: DEFAULT_LEAD_RULES.rule(r.name) for r in DEFAULT_LEAD_RULES.rules}
    assert DEFAULT_LEAD_RULES.mode is CheckMode.WARN
    assert rules["lead-same-email"].conditions == (
        Condition.exact("email", normalizer="personal_email"),
    )
    phone = rules["lead-same-phone"].conditions
    assert phone[0] == Condition.exact("phones")
    assert phone[1].algorithm is Similarity.PERSON_NAME
    for name in ("lead-similar-name-same-company", "lead-similar-name-same-email-domain"):
        similar, other = rules[name].conditions
        assert similar.operator is Operator.SIMILAR
        assert similar.normalizer == "person_name_nicknames"
        assert similar.blocking
        assert other.operator is Operator.EXACT
    assert rules["lead-similar-name-same-email-domain"].conditions[1].normalizer == (
        "business_domain"
    )
    matching = {r.matching_type for r in DEFAULT_LEAD_RULES.rules}
    assert matching == {LEAD, CONTACT, ACCOUNT}
    assert all(r.base_type is LEAD for r in DEFAULT_LEAD_RULES.rules)
    assert rules["lead-account-same-company"].conditions == (Condition.exact("company"),)
    assert default_rule_set(CheckMode.BLOCK).mode is CheckMode.BLOCK


def test_every_default_rule_ignores_blanks_and_closed_records() -> None:
    assert all(r.ignore_blank and r.exclude_inactive for r in DEFAULT_LEAD_RULES.rules)


# --------------------------------------------------------------------------------------------
# Serialisation with the leadkit converter
# --------------------------------------------------------------------------------------------


def test_the_default_rule_set_round_trips_through_json() -> None:
    converter = make_converter()
    text = json.dumps(converter.unstructure(DEFAULT_LEAD_RULES))
    assert converter.structure(json.loads(text), DuplicateRuleSet) == DEFAULT_LEAD_RULES
    envelope = converter.dumps(DEFAULT_LEAD_RULES)
    assert converter.loads(envelope, DuplicateRuleSet) == DEFAULT_LEAD_RULES


def test_every_operator_round_trips() -> None:
    converter = make_converter()
    conditions = [
        Condition.exact("city", case_sensitive=True),
        Condition.first_characters("postal_code", 3),
        Condition.last_characters("phones", 7, "business_phone"),
        Condition.same_date("created_at"),
        Condition.same_date_and_time("created_at"),
        Condition.same_option("source"),
        Condition.similar(
            "company",
            85,
            Similarity.TOKEN_SET_RATIO,
            blocking=[Blocking.token_prefixes(3), Blocking.sorted_tokens()],
        ),
        Condition.sounds_like("last_name", Phonetic.SOUNDEX),
    ]
    for condition in conditions:
        data = json.loads(json.dumps(converter.unstructure(condition)))
        assert converter.structure(data, Condition) == condition
    rule = _rule(*conditions[:1])
    assert converter.structure(converter.unstructure(rule), DuplicateRule) == rule


def test_data_for_a_bad_rule_is_refused_with_the_path_of_the_problem() -> None:
    converter = make_converter()
    data = converter.unstructure(DEFAULT_LEAD_RULES)
    data["rules"][0]["conditions"][0]["base_field"] = "nope"
    with pytest.raises(InvalidValue, match="unknown field 'nope'") as caught:
        converter.structure(data, DuplicateRuleSet)
    assert caught.value.field == "rules[0].conditions[0]"


# --------------------------------------------------------------------------------------------
# The extra normalisers rules can name
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna@Acme.se", "acme.se"),
        ("https://www.acme.se/x", "acme.se"),
        ("anna@gmail.com", ""),
        ("someone@WP.PL", ""),
        ("x@web.de", ""),
        ("per@live.dk", ""),
        ("kari@Online.no", ""),
        ("matti@luukku.com", ""),
        ("joe@comcast.net", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_business_domain_is_blank_for_free_mail(text: str | None, expected: str) -> None:
    assert normalize_business_domain(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" Anna.Berg@Acme.SE ", "anna.berg@acme.se"),
        ("INFO@acme.se", ""),
        ("biuro@firma.pl", ""),
        ("vertrieb@firma.de", ""),
        ("order@shop.se", ""),
        ("info", "info"),  # not an address: left as normalise_email leaves it
        # A malformed address with two '@': the mailbox is what comes before the first one.
        ("info@foo@acme.se", ""),
    ],
)
def test_personal_email_is_blank_for_role_mailboxes(text: str, expected: str) -> None:
    assert normalize_personal_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kasia Nowak", "katarzyna nowak"),
        ("Lasse Berg", "lars berg"),
        ("Sepp Huber", "josef huber"),
        ("Bob Smith", "robert smith"),
        ("Gosia Wiśniewska", "malgorzata wisniewska"),
    ],
)
def test_the_rule_nickname_table_knows_swedish_polish_german_and_english_nicknames(
    text: str, expected: str
) -> None:
    assert RULE_NORMALIZERS["person_name_nicknames"](text) == expected
    assert normalize_person_name(text, nicknames=NICKNAMES) == expected


def test_rule_normalizers_extend_the_registry_and_keep_case_only_when_asked() -> None:
    assert {"email", "phone", "company", "business_domain", "personal_email"} <= set(
        RULE_NORMALIZERS
    )
    assert rule_normalizer("none")("  Acme ") == "acme"
    assert rule_normalizer("none", case_sensitive=True)("  Acme ") == "Acme"
    assert rule_normalizer("text", case_sensitive=True)(" Acme  AB ") == "Acme AB"
    assert rule_normalizer("email_provider_rules")("A.B+x@gmail.com") == "ab@gmail.com"


def test_each_builder_passes_on_its_matching_field_and_normaliser() -> None:
    built = [
        Condition.exact("first_name", "last_name", normalizer="text", case_sensitive=True),
        Condition.first_characters(
            "first_name", 2, "last_name", normalizer="text", case_sensitive=True
        ),
        Condition.last_characters(
            "first_name", 2, "last_name", normalizer="none", case_sensitive=True
        ),
        Condition.similar(
            "first_name",
            90,
            blocking=NAME_BLOCKING,
            matching_field="last_name",
            normalizer="person_name",
        ),
        Condition.sounds_like("first_name", Phonetic.SOUNDEX, "last_name", normalizer="text"),
    ]
    assert [(c.base_field, c.matching_field, c.normalizer) for c in built] == [
        ("first_name", "last_name", "text"),
        ("first_name", "last_name", "text"),
        ("first_name", "last_name", "none"),
        ("first_name", "last_name", "person_name"),
        ("first_name", "last_name", "text"),
    ]
    assert [c.case_sensitive for c in built[:3]] == [True, True, True]
    assert not any(c.is_symmetric for c in built)
    assert Condition.same_option("source", "rating").matching_field == "rating"
    assert Condition.same_date_and_time("created_at").describe() == (
        "created_at same date and time as created_at"
    )


def test_the_default_rules_compare_these_fields_and_are_built_alike_each_time() -> None:
    # _default_rules builds DEFAULT_LEAD_RULES at import time; called again here.
    built = _default_rules()

    assert [(r.name, r.describe()) for r in built] == [
        ("lead-same-email", "lead vs lead: email = email"),
        (
            "lead-same-phone",
            "lead vs lead: phones = phones AND full_name ~ full_name (person_name >= 85)",
        ),
        (
            "lead-similar-name-same-company",
            "lead vs lead: full_name ~ full_name (person_name >= 90) AND company = company",
        ),
        (
            "lead-similar-name-same-email-domain",
            "lead vs lead: full_name ~ full_name (person_name >= 90) "
            "AND email_domain = email_domain",
        ),
        (
            "lead-similar-name-same-postal-code",
            "lead vs lead: full_name ~ full_name (person_name >= 90) AND postal_code = postal_code",
        ),
        ("lead-contact-same-email", "lead vs contact: email = email"),
        (
            "lead-contact-same-phone",
            "lead vs contact: phones = phones AND full_name ~ full_name (person_name >= 85)",
        ),
        (
            "lead-contact-similar-name-same-company",
            "lead vs contact: full_name ~ full_name (person_name >= 90) AND company = company",
        ),
        (
            "lead-contact-similar-name-same-email-domain",
            "lead vs contact: full_name ~ full_name (person_name >= 90) "
            "AND email_domain = email_domain",
        ),
        ("lead-account-same-company", "lead vs account: company = company"),
        ("lead-account-same-website", "lead vs account: website_domain = website_domain"),
    ]
    assert all(r.description for r in built)
    names = [c for r in built for c in r.conditions if c.operator is Operator.SIMILAR]
    assert {c.normalizer for c in names} == {"person_name_nicknames"}
    assert {c.blocking for c in names} == {(Blocking.phonetic_tokens(Phonetic.METAPHONE),)}
    assert built == DEFAULT_LEAD_RULES.rules  # normalisers, blocking and descriptions too


def test_the_nickname_table_joins_the_european_names_to_the_english_ones() -> None:
    # _nicknames builds NICKNAMES at import time; called again here.
    built = _nicknames()

    assert (built["kasia"], built["seppi"], built["lasse"], built["tomas"]) == (
        "katarzyna",
        "josef",
        "lars",
        "thomas",
    )
    assert built["bill"] == "william"
    assert built == NICKNAMES


def test_asking_a_rule_set_for_a_rule_it_lacks_names_the_set() -> None:
    with pytest.raises(ConfigurationError) as caught:
        DEFAULT_LEAD_RULES.rule("nope")

    assert (caught.value.what, caught.value.reason) == (
        "duplicate rule set 'Default lead duplicate rules'",
        "no rule 'nope'",
    )


@pytest.mark.parametrize(
    ("build", "message", "expected"),
    [
        (
            lambda: Condition.exact("email", case_sensitive="yes"),  # type: ignore[arg-type]
            "case_sensitive",
            ("condition email = email", "case_sensitive must be true or false"),
        ),
        (
            lambda: Condition.similar("full_name", True, blocking=NAME_BLOCKING),
            "threshold",
            (
                "condition full_name ~ full_name (jaro_winkler >= 1)",
                "threshold must be 0-100 (got True)",
            ),
        ),
        (
            lambda: Condition.similar("full_name", "90", blocking=NAME_BLOCKING),  # type: ignore[arg-type]
            "threshold",
            (
                "condition full_name ~ full_name (jaro_winkler >= '90')",
                "threshold must be 0-100 (got '90')",
            ),
        ),
        (
            lambda: Condition.similar("full_name", 90, blocking=["prefix"]),  # type: ignore[list-item]
            "blocking",
            (
                "condition full_name ~ full_name (jaro_winkler >= 90)",
                "blocking must hold Blocking values",
            ),
        ),
        (
            lambda: DuplicateRule(
                name="r",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[Condition.exact("email")],
                ignore_blank="yes",  # type: ignore[arg-type]
            ),
            "ignore_blank",
            ("duplicate rule 'r'", "ignore_blank must be true or false"),
        ),
        (
            lambda: DuplicateRule(
                name="r",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[Condition.exact("email")],
                exclude_inactive=None,  # type: ignore[arg-type]
            ),
            "exclude_inactive",
            ("duplicate rule 'r'", "exclude_inactive must be true or false"),
        ),
        (
            lambda: DuplicateRuleSet(name=" ", rules=[_rule(Condition.exact("email"))]),
            "name",
            ("duplicate rule set", "needs a name"),
        ),
        (
            lambda: DuplicateRuleSet(name="s", rules=[]),
            "rule",
            ("duplicate rule set 's'", "needs at least one rule"),
        ),
        (
            lambda: DuplicateRuleSet(name="s", rules=["r"]),  # type: ignore[list-item]
            "DuplicateRule",
            ("duplicate rule set 's'", "rules must be DuplicateRule or FittedRule values"),
        ),
        (
            lambda: DuplicateRuleSet(name="s", rules=[_rule(Condition.exact("email"))] * 2),
            "unique",
            ("duplicate rule set 's'", "rule names must be unique: r"),
        ),
        (
            lambda: DuplicateRuleSet(
                name="s", rules=[_rule(Condition.exact("email"))], mode="shout"
            ),
            "CheckMode",
            ("check mode", "unknown CheckMode 'shout'; known: allow, warn, block"),
        ),
    ],
    ids=[
        "case_sensitive",
        "bool threshold",
        "text threshold",
        "blocking not Blocking",
        "ignore_blank",
        "exclude_inactive",
        "set name",
        "no rules",
        "not rules",
        "repeated names",
        "mode",
    ],
)
def test_a_bad_setting_of_a_condition_rule_or_set_is_refused_naming_it(
    build: Any, message: str, expected: tuple[str, str]
) -> None:
    _assert_refused(build, message, expected)


def test_boundaries_n_of_1_and_thresholds_of_0_and_100_are_accepted() -> None:
    assert Condition.first_characters("email", 1).n == 1
    assert Blocking.prefix(1).n == 1
    assert Condition.similar("full_name", 0, blocking=NAME_BLOCKING).threshold == 0.0
    assert Condition.similar("full_name", 100, blocking=NAME_BLOCKING).threshold == 100.0


def test_builders_are_case_insensitive_unless_told() -> None:
    built = [
        Condition.exact("email"),
        Condition.first_characters("company", 3),
        Condition.last_characters("company", 3),
    ]
    assert [c.case_sensitive for c in built] == [False, False, False]
    assert Condition.last_characters("first_name", 2, normalizer="person_name").normalizer == (
        "person_name"
    )
    assert (
        Condition.similar("company", 90, blocking=Blocking.prefix(3), normalizer="text").normalizer
        == "text"
    )


def test_a_date_and_time_may_be_compared_with_a_custom_date_and_time_field() -> None:
    condition = Condition.same_date_and_time("created_at", "custom.visit:datetime")

    assert condition.matching_field == "custom.visit:datetime"
    assert condition.describe() == "created_at same date and time as custom.visit:datetime"


def test_a_condition_on_two_fields_describes_both_in_order() -> None:
    assert [
        Condition.similar(
            "first_name", 90, blocking=NAME_BLOCKING, matching_field="last_name"
        ).describe(),
        Condition.sounds_like("first_name", Phonetic.SOUNDEX, "last_name").describe(),
        Condition.first_characters("first_name", 2, "last_name").describe(),
        Condition.last_characters("first_name", 2, "last_name", normalizer="text").describe(),
        Condition.same_date("created_at", "estimated_close_date").describe(),
    ] == [
        "first_name ~ last_name (jaro_winkler >= 90)",
        "first_name sounds like last_name (soundex)",
        "first_name first 2 = last_name",
        "first_name last 2 = last_name",
        "created_at same date as estimated_close_date",
    ]
    assert Condition.last_characters("first_name", 2, normalizer="text").normalizer == "text"


def test_an_unknown_phonetic_algorithm_and_repeated_rule_names_are_named() -> None:
    _assert_refused(
        lambda: Condition.sounds_like("last_name", "beep"),  # type: ignore[arg-type]
        "Phonetic",
        ("phonetic algorithm", "unknown Phonetic 'beep'; known: "),
    )
    a = DuplicateRule(
        name="a", base_type=LEAD, matching_type=LEAD, conditions=[Condition.exact("email")]
    )
    b = attrs.evolve(a, name="b")
    _assert_refused(
        lambda: DuplicateRuleSet(name="s", rules=[b, a, b, a]),
        "unique",
        ("duplicate rule set 's'", "rule names must be unique: a, b"),
    )


def test_asking_for_a_deterministic_rule_as_a_probabilistic_one_is_refused() -> None:
    _assert_refused(
        lambda: DEFAULT_LEAD_RULES.fitted("lead-same-email"),
        "probabilistic",
        (
            "duplicate rule set 'Default lead duplicate rules'",
            "'lead-same-email' is not a probabilistic rule",
        ),
    )
    _assert_refused(
        lambda: DEFAULT_LEAD_RULES.fitted("nope"),
        "no rule",
        ("duplicate rule set 'Default lead duplicate rules'", "no rule 'nope'"),
    )


@attrs.frozen
class _Weighted:
    """The least a probabilistic rule has (the WeightedRule protocol), no fitting needed."""

    name: str = "weighted"
    base_type: RecordType = RecordType.LEAD
    matching_type: RecordType = RecordType.LEAD
    description: str = ""
    ignore_blank: bool = True
    exclude_inactive: bool = True
    is_symmetric: bool = True

    def describe(self) -> str:
        return self.name

    def readers(self) -> tuple[Any, ...]:
        return ()

    def blocking_keys(self, record: object) -> tuple[str, ...]:
        return ()

    def evidence(self, a: object, b: object) -> object:
        return None


def test_asking_for_a_probabilistic_rule_as_a_deterministic_one_is_refused() -> None:
    weighted = _Weighted()
    exact = DuplicateRule(
        name="exact", base_type=LEAD, matching_type=LEAD, conditions=[Condition.exact("email")]
    )
    rule_set = DuplicateRuleSet(name="mixed", rules=[exact, weighted])
    assert rule_set.rule("exact") is exact
    assert rule_set.fitted("weighted") is weighted
    _assert_refused(
        lambda: rule_set.rule("weighted"),
        "probabilistic",
        ("duplicate rule set 'mixed'", "'weighted' is a probabilistic rule (fitted)"),
    )
