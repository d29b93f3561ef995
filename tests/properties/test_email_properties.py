"""The plain-address fast path of EmailAddress (``values.plain_email``) gives exactly what
email_validator gives: the same normalised form for every address it takes, and the same
refusal (field, value, reason) for every text, since it leaves all others to the validator."""

from __future__ import annotations

from unittest import mock

import email_validator
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from leadkit import values
from leadkit.errors import InvalidValue
from leadkit.values import EmailAddress, plain_email

_ATEXT = "abcXYZ0189_+-!#$%&'*/=?^`{|}~"
_ODD = ' ."@<>()[]\\,;:åé\u0301\x00'
_LDH = "abzAZ09-"


def _label(alphabet: str) -> st.SearchStrategy[str]:
    short = st.text(alphabet, min_size=0, max_size=8)
    long = st.integers(58, 66).map(lambda n: "a" * n)
    return st.one_of(short, short, short, long)


_TLDS = st.sampled_from(
    [
        "com",
        "se",
        "co.uk",
        "museum",
        "c",
        "c0m",
        "123",
        "test",
        "localhost",
        "arpa",
        "in-addr.arpa",
        "onion",
        "invalid",
        "local",
        "xn--p1ai",
        "COM",
        "a" * 63,
        "a" * 64,
        "",
    ]
)


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """Text near the edge of the plain subset: atoms, dots and odd characters before the
    @-sign; LDH labels, long labels, Punycode, special-use and numeric top-level domains
    after it."""
    local_alphabet = draw(st.sampled_from([_ATEXT, _ATEXT + ".", _ATEXT + _ODD]))
    local = draw(st.text(local_alphabet, min_size=0, max_size=12))
    if draw(st.integers(0, 3)) == 0:
        local = "l" * draw(st.integers(60, 70))  # about the 64-character limit
    domain_alphabet = draw(st.sampled_from([_LDH, _LDH + ".", _LDH + _ODD]))
    labels = draw(st.lists(_label(domain_alphabet), min_size=0, max_size=5))
    if draw(st.booleans()):
        labels += ["b" * 60] * draw(st.integers(3, 5))  # domains of 190 to 310 characters
    domain = ".".join([*labels, draw(_TLDS)])
    at = draw(st.sampled_from(["@", "@", "@", "@@", "", "＠"]))
    return f"{local}{at}{domain}"


def _validated(text: str) -> str | None:
    """email_validator's normalised form (as EmailAddress builds it) or None when refused."""
    try:
        local, domain = values._validate_email.__wrapped__(text)
    except email_validator.EmailNotValidError:
        return None
    return f"{local.casefold()}@{domain.lower()}"


def _outcome(text: str) -> tuple[str, str] | tuple[str, object, str]:
    try:
        email = EmailAddress(text)
    except InvalidValue as e:
        return (e.field, e.value, e.reason)
    return (email.text, email.normalized)


@given(st.one_of(addresses(), st.emails(), st.text(max_size=40)))
@example("Ada.Lovelace+crm@Mail.Example.CO.uk")
@example("info@example.com")
@example("a@" + "b" * 63 + ".com")
@example("a@" + "b" * 64 + ".com")
@example("a-@b.com")
@example("a@b-.com")
@example("a@ab--c.com")
@example("a@x.in-addr.arpa")
@example("a@b.123")
@example("a@b.c")
@example("l" * 64 + "@example.com")
@example("l" * 65 + "@example.com")
def test_the_plain_path_takes_only_addresses_the_validator_accepts_as_it_does(text: str) -> None:
    fast = plain_email(text)
    if fast is not None:
        assert _validated(text) == fast


@given(st.one_of(addresses(), st.emails(), st.text(max_size=40)))
@example("  Ada@Example.COM ")
@example("ada@host.test")
def test_an_email_address_is_built_or_refused_as_by_the_validator_alone(text: str) -> None:
    fast = _outcome(text)
    values._validate_email.cache_clear()
    with mock.patch.object(values, "_VALIDATOR_CHECKED", False):
        slow = _outcome(text)
    assert fast == slow


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("ada@example.com", "ada@example.com"),
        ("Ada.L+x@Mail.Example.SE", "ada.l+x@mail.example.se"),
        ("ada@host.test", None),  # special-use: the validator refuses it
        ("ada@example.c0m", None),
        ("åsa@example.com", None),  # not ASCII: the validator decides
        ("a{b}@example.com", None),  # valid, but outside the plain subset
    ],
)
def test_the_plain_path_on_known_addresses(text: str, plain: str | None) -> None:
    assert plain_email(text) == plain
