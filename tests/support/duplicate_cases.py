"""What the duplicate property tests share: rule sets that reach the branches the default
rules do not, and records drawn from few distinct values, so that they collide on keys and
rules match."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from leadkit.duplicates import (
    Blocking,
    Condition,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    RecordType,
    Similarity,
)

# Blanks equal blanks and inactive records take part: the other branches of the key choice.
BLANKS_MATCH = DuplicateRuleSet(
    name="blanks match",
    rules=[
        DuplicateRule(
            name="name-and-company",
            base_type=RecordType.LEAD,
            matching_type=RecordType.LEAD,
            conditions=(
                Condition.similar(
                    "full_name", 80, Similarity.JARO_WINKLER, blocking=(Blocking.prefix(2),)
                ),
                Condition.exact("company"),
            ),
            ignore_blank=False,
            exclude_inactive=False,
        ),
        DuplicateRule(
            name="postal-code",
            base_type=RecordType.LEAD,
            matching_type=RecordType.LEAD,
            conditions=(Condition.exact("postal_code"),),
            ignore_blank=False,
        ),
        DuplicateRule(
            name="lead-contact-email",
            base_type=RecordType.LEAD,
            matching_type=RecordType.CONTACT,
            conditions=(Condition.exact("email"), Condition.exact("company")),
            exclude_inactive=False,
        ),
    ],
)

CITY_IS_POSTAL_CODE = DuplicateRule(
    name="city-is-postal-code",
    base_type=RecordType.LEAD,
    matching_type=RecordType.LEAD,
    conditions=(Condition.exact("city", matching_field="postal_code"),),
)
"""A rule whose two sides read different fields: keys looked up that no record is indexed
under."""

_NAMES = st.lists(
    st.sampled_from(["Anna", "Åsa", "Berg", "BERG", "Bob", "M.", "Mueller"]), max_size=3
)
_EMAILS = st.sampled_from(["", "anna@acme.se", "ANNA@Acme.se", "info@acme.se", "bob@gmail.com"])
_CODES = st.sampled_from(["", "111 22", "11122"])


@st.composite
def colliding_record(
    draw: st.DrawFn,
    record_id: str,
    types: Sequence[RecordType] = (RecordType.LEAD,),
    *,
    city: bool = False,
) -> DuplicateRecord:
    """A record of one of ``types`` drawn from few distinct names, e-mails, phones, companies
    and postal codes (and cities, with ``city``)."""
    email = draw(_EMAILS)
    first = " ".join(draw(_NAMES))
    last = draw(st.sampled_from(["", "Berg", "Bergh", "Mueller"]))
    return DuplicateRecord(
        record_type=draw(st.sampled_from(list(types))),
        record_id=record_id,
        active=draw(st.booleans()),
        first_name=first,
        last_name=last,
        full_name=f"{first} {last}".strip(),
        email=email,
        email_domain=email.rpartition("@")[2],
        phones=tuple(
            draw(st.lists(st.sampled_from(["+46701234567", "070-123 45 67"]), max_size=2))
        ),
        company=draw(st.sampled_from(["", "Acme AB", "ACME", "Contoso Ltd"])),
        postal_code=draw(_CODES),
        city=draw(_CODES) if city else "",
    )
