"""Specification of the duplicate-detection normalisers (leadkit.duplicates.normalize)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit.duplicates import normalize as n
from leadkit.errors import ConfigurationError

Normalizer = Callable[[str], str]

# The registered normalisers, and then every configuration the tests hold to the properties.
NORMALIZERS: dict[str, Normalizer] = {f"registry:{name}": fn for name, fn in n.NORMALIZERS.items()}
ALL_NORMALIZERS: dict[str, Normalizer] = {
    **NORMALIZERS,
    "text(case_sensitive)": partial(n.normalize_text, case_sensitive=True),
    "email(provider_rules)": partial(n.normalize_email, provider_rules=True),
    "phone(SE)": partial(n.normalize_phone, default_region="SE"),
    "phone(ZZ)": partial(n.normalize_phone, default_region="ZZ"),
    "person_name(nicknames)": partial(n.normalize_person_name, nicknames=n.DEFAULT_NICKNAMES),
    "strip_accents": n.strip_accents,
}

# The normalisers that claim to ignore case.
CASE_INSENSITIVE: dict[str, Normalizer] = {
    "text": n.normalize_text,
    "email": n.normalize_email,
    "email(provider_rules)": partial(n.normalize_email, provider_rules=True),
    "person_name": n.normalize_person_name,
    "person_name(nicknames)": partial(n.normalize_person_name, nicknames=n.DEFAULT_NICKNAMES),
    "company": n.normalize_company,
    "domain": n.normalize_domain,
    "postal_code": n.normalize_postal_code,
}

# Text that looks like the data the normalisers meet, mixed with arbitrary text.
_pieces = st.sampled_from(
    [
        "@", "+", ".", "-", " ", "  ", "www.", "http://", "mailto:", ":", "/", "#", "ext", "x",
        "(", ")", "&", "'", "Co", "GmbH", "AB", "Sp. z o.o.", "S.A.", "The", "Inc", "gmail.com",
        "googlemail.com", "Bob", "Łukasz", "Groß", "Å", "İ", "ı", "ß", "ﬁ", "℡", "０８",
        "+46", "08", "555", "0143", "[::1]", "\t", "\u0301", "\u200b",
    ]
)  # fmt: skip
realistic_text = st.one_of(
    st.text(),
    st.lists(st.one_of(_pieces, st.text(max_size=3)), max_size=12).map("".join),
)


# --------------------------------------------------------------------------------------------
# Properties shared by every normaliser
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("normalize", ALL_NORMALIZERS.values(), ids=ALL_NORMALIZERS.keys())
@given(text=realistic_text)
def test_every_normaliser_is_idempotent_and_never_raises(normalize: Normalizer, text: str) -> None:
    once = normalize(text)
    assert isinstance(once, str)
    assert normalize(once) == once


@pytest.mark.parametrize("normalize", ALL_NORMALIZERS.values(), ids=ALL_NORMALIZERS.keys())
def test_none_gives_an_empty_string(normalize: Normalizer) -> None:
    assert normalize(None) == ""  # type: ignore[arg-type]  # None is accepted on purpose


@pytest.mark.parametrize("normalize", NORMALIZERS.values(), ids=NORMALIZERS.keys())
@pytest.mark.parametrize("blank", ["", "   ", "\t\n", "\u3000"])
def test_blank_input_gives_an_empty_string(normalize: Normalizer, blank: str) -> None:
    assert normalize(blank) == ""


@pytest.mark.parametrize("normalize", CASE_INSENSITIVE.values(), ids=CASE_INSENSITIVE.keys())
@given(text=realistic_text)
def test_case_insensitive_normalisers_ignore_case(normalize: Normalizer, text: str) -> None:
    assert normalize(text.upper()) == normalize(text.lower()) == normalize(text)


# --------------------------------------------------------------------------------------------
# strip_accents / text / none
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Åsa Öberg", "Asa Oberg"),
        ("Łukasz Żółć", "Lukasz Zolc"),
        ("Jürgen Groß", "Jurgen Gross"),
        ("Søren Kærgård", "Soren Kaergard"),
        ("Đorđe Þórsson", "Dorde THorsson"),
        ("François Lemaître", "Francois Lemaitre"),
        ("ﬁnance", "finance"),
        ("  keeps spacing  ", "  keeps spacing  "),
    ],
)
def test_strip_accents_keeps_case_and_drops_diacritics(text: str, expected: str) -> None:
    assert n.strip_accents(text) == expected


def test_normalize_text_trims_collapses_whitespace_and_casefolds() -> None:
    assert n.normalize_text("  Acme\t  Sales \n") == "acme sales"
    assert n.normalize_text("STRASSE") == n.normalize_text("Straße") == "strasse"


def test_normalize_text_can_keep_case() -> None:
    assert n.normalize_text("  Acme\t  Sales ", case_sensitive=True) == "Acme Sales"


def test_the_none_normaliser_only_trims() -> None:
    assert n.normalize_none("  Acme  Sales ") == "Acme  Sales"


def test_non_string_data_from_imports_is_turned_into_text() -> None:
    assert n.normalize_postal_code(12345) == "12345"  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------


def test_email_is_trimmed_and_casefolded_in_local_part_and_domain() -> None:
    assert n.normalize_email("  Anna.Berg@Example.SE ") == "anna.berg@example.se"


def test_email_provider_rules_are_off_by_default() -> None:
    assert n.normalize_email("Anna.Berg+news@gmail.com") == "anna.berg+news@gmail.com"
    assert n.normalize_email("anna@googlemail.com") == "anna@googlemail.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna+news@example.se", "anna@example.se"),
        ("Anna.Berg+x@GoogleMail.com", "annaberg@gmail.com"),
        ("a.n.n.a@gmail.com", "anna@gmail.com"),
        ("anna.berg@example.se", "anna.berg@example.se"),  # dots only matter at gmail
        ("+only-tag@example.se", "+only-tag@example.se"),  # nothing before the +: kept
        ("...@gmail.com", "...@gmail.com"),  # would leave an empty local part: kept
        ("a+tag@example.se", "a@example.se"),  # one character before the + is enough
        ("anna+news+eu@example.se", "anna@example.se"),  # the tag starts at the first +
        ("@googlemail.com", "@googlemail.com"),  # not an address: no provider rules
    ],
)
def test_email_provider_rules(text: str, expected: str) -> None:
    assert n.normalize_email(text, provider_rules=True) == expected


@pytest.mark.parametrize("text", ["not an address", "a@b@c.se", "@example.se", "anna@", " @ "])
def test_unparseable_email_is_returned_trimmed_and_casefolded(text: str) -> None:
    assert n.normalize_email(f"  {text.upper()} ") == text.strip().casefold()


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+46 8 123 456 78", "US", "+46812345678"),
        ("+46 (0)8-123 456 78", "US", "+46812345678"),
        ("08-123 456 78", "SE", "+46812345678"),
        ("08-123 456 78", "se", "+46812345678"),
        ("0046 8 123 456 78", "SE", "+46812345678"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("202.555.0143", "US", "+12025550143"),
        ("+1 202 555 0143 ext. 12", "US", "+12025550143"),
        ("(202) 555-0143 x12", "US", "+12025550143"),
        ("030 1234567", "DE", "+49301234567"),
        ("22 123 45 67", "PL", "+48221234567"),
        ("１２０２５５５０１４３", "US", "+12025550143"),
        ("1-800-FLOWERS", "US", "+18003569377"),  # letters of a vanity number are digits
        ("202-555-0143#", "US", "+12025550143"),  # fails as written; its digits parse
    ],
)
def test_phone_numbers_become_e164(text: str, region: str, expected: str) -> None:
    assert n.normalize_phone(text, default_region=region) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("555-0143", "5550143"),  # too short for a US number: digits, no invented +1
        ("+0 12 34", "+01234"),  # no such country code: digits, + kept
        ("call me maybe", ""),
        ("12-34 x 56", "1234"),  # extension dropped from the fallback too
    ],
)
def test_unparseable_phone_falls_back_to_its_digits(text: str, expected: str) -> None:
    assert n.normalize_phone(text) == expected


def test_phone_with_an_unknown_region_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        n.normalize_phone("08-123 456 78", default_region="XX")

    assert (caught.value.what, caught.value.reason) == (
        "default_region",
        "unknown phone region 'XX'; use e.g. 'US' or 'SE'",
    )


# --------------------------------------------------------------------------------------------
# Person names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Åsa Öberg", "asa oberg"),
        ("Łukasz Żółć", "lukasz zolc"),
        ("Jürgen Groß", "jurgen gross"),
        ("JÜRGEN GROSS", "jurgen gross"),
        ("  Anne-Marie   Ødegård ", "anne marie odegard"),
        ("O'Brien, Seán", "obrien sean"),
        ("D’Angelo Jr.", "dangelo jr"),
    ],
)
def test_person_names_are_folded_and_stripped_of_accents_and_punctuation(
    text: str, expected: str
) -> None:
    assert n.normalize_person_name(text) == expected


def test_nicknames_are_not_mapped_unless_a_table_is_given() -> None:
    assert n.normalize_person_name("Bob Smith") == "bob smith"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bob Smith", "robert smith"),
        ("ROBBIE smith", "robert smith"),
        ("Bill Gates", "william gates"),
        ("Liz Taylor", "elizabeth taylor"),
        ("Betty Taylor", "elizabeth taylor"),
        ("Jimmy Carter", "james carter"),
        ("Kate Bush", "katherine bush"),
        ("Mike Jones", "michael jones"),
        ("Robert Smith", "robert smith"),
    ],
)
def test_default_nicknames_map_to_the_canonical_given_name(text: str, expected: str) -> None:
    assert n.normalize_person_name(text, nicknames=n.DEFAULT_NICKNAMES) == expected


def test_default_nickname_table_is_frozen_and_maps_straight_to_canonical_forms() -> None:
    table = n.DEFAULT_NICKNAMES
    assert len(table) >= 60
    with pytest.raises(TypeError):
        table["bob"] = "bobert"  # type: ignore[index]
    assert all(canonical not in table for canonical in table.values())


def test_a_custom_nickname_table_is_normalised_when_built() -> None:
    table = n.nickname_table({"Łukas": "Łukasz", "Jörg": "Jürgen"})
    assert dict(table) == {"lukas": "lukasz", "jorg": "jurgen"}
    assert n.normalize_person_name("Jörg Groß", nicknames=table) == "jurgen gross"


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        (  # a chain would not be idempotent
            {"bob": "rob", "rob": "robert"},
            "'bob' maps to 'rob', but 'rob' is itself mapped to 'robert';"
            " map 'bob' straight to the canonical form",
        ),
        ({"bob smith": "robert"}, "nickname 'bob smith' must be exactly one name token"),
        ({"bob": " - "}, "nickname 'bob' maps to a blank name"),
    ],
)
def test_a_bad_nickname_table_is_a_configuration_error(
    entries: dict[str, str], reason: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        n.nickname_table(entries)

    assert (caught.value.what, caught.value.reason) == ("nicknames", reason)


def test_a_nickname_table_may_be_given_as_pairs() -> None:
    assert n.nickname_table([("Bob", "Robert")]) == {"bob": "robert"}


# --------------------------------------------------------------------------------------------
# Companies
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme Holding GmbH & Co. KG", "acme holding"),
        ("Volvo Car AB (publ)", "volvo car"),
        ("Ericsson AB", "ericsson"),
        ("Siemens AG", "siemens"),
        ("Müller Bau GmbH", "muller bau"),
        ("Deutsches Rotes Kreuz e.V.", "deutsches rotes kreuz"),
        ("Żabka Polska Sp. z o.o.", "zabka polska"),
        ("Żabka Polska sp. z o. o.", "zabka polska"),
        ("ŻABKA POLSKA SP Z OO", "zabka polska"),
        ("Carrefour S.A.", "carrefour"),
        ("Carrefour SA", "carrefour"),
        ("Danone S.A.S.", "danone"),
        ("Boulangerie Dupont SARL", "boulangerie dupont"),
        ("Ferrari S.p.A.", "ferrari"),
        ("Barilla S.r.l.", "barilla"),
        ("Acme, Inc.", "acme"),
        ("Acme Incorporated", "acme"),
        ("Acme Corp.", "acme"),
        ("Acme Corporation", "acme"),
        ("Acme LLC", "acme"),
        ("Baker & McKenzie LLP", "baker mckenzie"),
        ("Tesco PLC", "tesco"),
        ("Tesco Stores Limited", "tesco stores"),
        ("Acme Ltd.", "acme"),
        ("Nokia Oyj", "nokia"),
        ("Kone Oy", "kone"),
        ("Equinor ASA", "equinor"),
        ("Telenor AS", "telenor"),
        ("A.P. Møller - Mærsk A/S", "ap moller maersk"),
        ("Novo ApS", "novo"),
        ("Philips N.V.", "philips"),
        ("Heineken NV", "heineken"),
        ("Booking B.V.", "booking"),
        ("Sony K.K.", "sony"),
        ("Atlassian Pty Ltd", "atlassian"),
        ("Smith & Co", "smith"),
        ("Ford Motor Company", "ford motor"),
        ("The Coca-Cola Company", "coca cola"),
        ("  the   Boring   company ", "boring"),
    ],
)
def test_company_names_lose_legal_forms_punctuation_and_accents(text: str, expected: str) -> None:
    assert n.normalize_company(text) == expected


def test_the_same_company_written_differently_normalises_alike() -> None:
    spellings = ["ACME Sverige AB", "Acme Sverige AB (publ)", "acme sverige", "Acme  Sverige, AB"]
    assert {n.normalize_company(s) for s in spellings} == {"acme sverige"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AB", "ab"),
        ("The", "the"),
        ("GmbH & Co KG", "gmbh"),
        ("The AB", "ab"),
        ("Inc.", "inc"),
    ],
)
def test_a_company_is_never_stripped_to_nothing(text: str, expected: str) -> None:
    assert n.normalize_company(text) == expected


def test_legal_forms_are_only_stripped_from_the_end() -> None:
    assert n.normalize_company("AB Volvo") == "ab volvo"
    assert n.normalize_company("Inc Magazine Group") == "inc magazine group"


# --------------------------------------------------------------------------------------------
# Domains and postal codes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://user:secret@www.Example.com:8443/path?q=1#top", "example.com"),
        ("http://acme.se", "acme.se"),
        ("WWW.Acme.de.", "acme.de"),
        ("acme.de/kontakt", "acme.de"),
        ("//cdn.acme.de/x.js", "cdn.acme.de"),
        ("anna.berg@Example.SE", "example.se"),
        ("mailto:anna@example.se?subject=Hi", "example.se"),
        ("shop.acme.co.uk", "shop.acme.co.uk"),
        ("www.com", "www.com"),
        ("http://[2001:db8::1]:8080/", "[2001:db8::1]"),
        ("anna@example.se", "example.se"),
        # mailto: is dropped only before an address: here "example.se" reads as a port
        ("mailto:example.se", "mailto"),
        ("[::1]]", "[::1]"),  # an IPv6 literal ends at its first "]"
        ("a]b.com", "a]b.com"),  # a "]" without a leading "[" is no IPv6 literal
        ("www..com", ".com"),  # a www. label goes when a dot follows it
    ],
)
def test_domain_is_the_bare_host(text: str, expected: str) -> None:
    assert n.normalize_domain(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123 45", "12345"),
        ("sw1a 1aa", "SW1A1AA"),
        ("00-950", "00950"),
        (" 10115 ", "10115"),
        ("１２３ ４５", "12345"),
    ],
)
def test_postal_code_is_upper_case_without_spaces_and_dashes(text: str, expected: str) -> None:
    assert n.normalize_postal_code(text) == expected


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


def test_the_registry_names_the_default_configured_normalisers() -> None:
    assert set(n.NORMALIZERS) == {
        "none",
        "text",
        "email",
        "phone",
        "person_name",
        "company",
        "domain",
        "postal_code",
    }
    assert n.get_normalizer("company")("Acme AB") == "acme"
    assert n.get_normalizer("phone")("(202) 555-0143") == "+12025550143"


def test_the_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        n.NORMALIZERS["mine"] = str.strip  # type: ignore[index]


def test_an_unknown_normaliser_name_is_a_configuration_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        n.get_normalizer("soundex")

    assert (caught.value.what, caught.value.reason) == (
        "normalizer",
        "unknown normalizer 'soundex'; known: company, domain, email, none, person_name, phone,"
        " postal_code, text",
    )


# The legal-form table is built by _legal_forms when the module is imported; called again here.


def test_a_legal_form_is_matched_with_its_periods_and_spaces_glued_back_any_way() -> None:
    assert n._legal_forms(["A.B c", "GmbH", "S.à r.l."]) == {
        ("a", "b", "c"), ("ab", "c"), ("a", "bc"), ("abc",),
        ("gmbh",),
        ("s", "a", "r", "l"), ("sa", "r", "l"), ("s", "ar", "l"), ("s", "a", "rl"),
        ("sar", "l"), ("sa", "rl"), ("s", "arl"), ("sarl",),
    }  # fmt: skip
    assert n._legal_forms(n._LEGAL_FORM_SPELLINGS) == n.LEGAL_FORMS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\u20ddb", "ab"),  # an enclosing mark (Me) is dropped
        ("a\u034fb", "ab"),  # a non-spacing mark (Mn) of combining class 0 is dropped too
        ("किताब", "किताब"),  # spacing marks (Mc) are part of a word: no split
    ],
)
def test_marks_are_dropped_from_names_but_spacing_marks_stay_in_the_word(
    text: str, expected: str
) -> None:
    assert n.normalize_person_name(text) == expected


def test_a_nickname_may_stand_for_several_name_tokens() -> None:
    assert n.nickname_table({"AB": "Anna  Beth"}) == {"ab": "anna beth"}
