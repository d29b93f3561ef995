"""The fast path of Url (``values._is_normal_url``): a text it takes is exactly what
``_normalise_url`` makes of it, so skipping the split, IDNA and host checks changes no URL;
every other text goes through ``_normalise_url`` as before (the same value or the same
refusal)."""

from __future__ import annotations

import string

from hypothesis import example, given
from hypothesis import strategies as st

from leadkit.errors import InvalidValue
from leadkit.values import _NORMAL_URL, Url, _is_normal_url, _normalise_url

_LABEL = st.text(string.ascii_lowercase + string.digits + "-", min_size=0, max_size=64)
_PATH_CHARS = string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/?#[] \tÅé\n"


@st.composite
def _texts(draw: st.DrawFn) -> str:
    """Texts near the fast path's edge: odd hosts (empty, long, dashed labels, upper case,
    ports, users), paths with characters inside and outside the pattern, other schemes."""
    scheme = draw(st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "", "https:/"]))
    labels = draw(st.lists(_LABEL, min_size=1, max_size=4))
    host = ".".join(labels)
    if draw(st.booleans()):
        host = host.upper() if draw(st.booleans()) else f"user@{host}"
    port = draw(st.sampled_from(["", "", ":80", ":", ":x"]))
    path = draw(st.text(_PATH_CHARS, max_size=20))
    return f"{scheme}{host}{port}{path}"


@given(st.from_regex(_NORMAL_URL, fullmatch=True))
@example("https://www.acme.se")
@example("http://a.b/@x:y//z")
@example("https://xn--bcher-kva.example/")
def test_a_text_the_fast_path_takes_is_its_own_normal_form(text: str) -> None:
    if _is_normal_url(text):
        assert _normalise_url(text) == text
        assert Url(text).text == text


@given(_texts())
@example("https://a..se")
@example("https://www.acme.se:443/x")
@example("https://a.se/?q")
def test_every_text_gives_the_value_or_refusal_of_the_slow_path(text: str) -> None:
    try:
        expected: object = _normalise_url(text.strip())
    except InvalidValue as e:
        expected = (e.field, e.value, e.reason)
    if len(text.strip()) > 200:
        return
    try:
        found: object = Url(text).text
    except InvalidValue as e:
        found = (e.field, e.value, e.reason)
    assert found == expected
