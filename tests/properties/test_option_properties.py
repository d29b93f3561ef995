"""``OptionSet.parse`` finds a member by a table of its members' name and label keys, built
once per option set: the same member as a walk over the members, or the same refusal."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from leadkit.errors import InvalidValue
from leadkit.fields import OptionSet, _key

KINDS = sorted(OptionSet.__subclasses__(), key=lambda k: k.__name__)
_WORDS = [w for k in KINDS for m in k for w in (m.name, m.label)]


def _walk(kind: type[OptionSet], text: str) -> OptionSet | None:
    key = _key(text)
    for member in kind:
        if key in (_key(member.name), _key(member.label)):
            return member
    return None


def _parsed(kind: type[OptionSet], text: str) -> OptionSet | tuple[str, object, str]:
    try:
        return kind.parse(text)
    except InvalidValue as e:
        return (e.field, e.value, e.reason)


_SPELLINGS = st.sampled_from(_WORDS).flatmap(
    lambda w: st.sampled_from([w, w.lower(), w.upper(), w.replace(" ", "-"), f" {w}_", w[:-1]])
)


@given(kind=st.sampled_from(KINDS), text=st.one_of(_SPELLINGS, st.text(max_size=12)))
@example(kind=KINDS[0], text="word of mouth")
def test_parse_finds_the_member_a_walk_over_the_members_finds(
    kind: type[OptionSet], text: str
) -> None:
    walked = _walk(kind, text)
    parsed = _parsed(kind, text)

    if text.strip().isdigit():
        return  # read as a code, not a name
    if walked is None:
        assert isinstance(parsed, tuple)
        assert parsed[2].startswith("not an option of")
    else:
        assert parsed is walked
