"""E-mail intake: encoded display names, plain and HTML-only bodies, known senders reported
instead of a silent second lead, malformed messages refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.conversion import DuplicateCandidate
from leadkit.errors import DuplicatesUnresolved, InvalidValue
from leadkit.fields import CustomFields, LeadSource
from leadkit.io import (
    EmailIntakePolicy,
    MalformedMessage,
    build_duplicate_index,
    html_to_text,
    lead_from_email,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.records import Contact
from leadkit.values import ContactId, EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("inbox")

ENCODED = (
    b"From: =?utf-8?q?Bj=C3=B6rn_=C3=85kesson?= <bjorn.akesson@example.se>\r\n"
    b"To: sales@leadkit.example\r\n"
    b"Subject: =?iso-8859-1?q?F=F6rfr=E5gan_om_lastbilar?=\r\n"
    b"Date: Mon, 02 Nov 2026 08:15:00 +0100\r\n"
    b"Message-ID: <abc@example.se>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + "Hej!\r\nVi behöver tre nya lastbilar.\r\n".encode()
)


def test_an_encoded_display_name_and_subject_become_the_name_and_topic() -> None:
    intake = lead_from_email(ENCODED)
    patch = intake.patch
    assert patch.name == PersonName(first="Björn", last="Åkesson")
    assert patch.email == EmailAddress("bjorn.akesson@example.se")
    assert patch.topic == "Förfrågan om lastbilar"
    assert patch.description == "Hej!\nVi behöver tre nya lastbilar."
    assert patch.source is LeadSource.OTHER
    assert patch.custom_fields == CustomFields({"origin": "email"})
    assert intake.message_id == "<abc@example.se>"
    assert intake.sent_at == datetime(2026, 11, 2, 7, 15, tzinfo=UTC)
    assert not intake.is_known_sender
    lead = intake.create(LeadId("L-1"), at=AT, by=BY)
    assert lead.full_name == "Björn Åkesson"


HTML_ONLY = (
    b"From: Anna Nowak <anna@firma.pl>\r\n"
    b"Subject: Oferta\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    + (
        "<html><head><style>p {color: red}</style><title>x</title></head><body>"
        "<script>alert('x')</script><p>Dzień dobry,</p><p>prosimy o ofertę &amp; cennik."
        "<br>Pozdrawiam<br/>Anna</p><img src=x onerror=alert(1)></body></html>"
    ).encode()
)


def test_an_html_only_body_is_converted_to_text_without_scripts_or_styles() -> None:
    intake = lead_from_email(HTML_ONLY)
    assert (
        intake.patch.description == "Dzień dobry,\n\nprosimy o ofertę & cennik.\nPozdrawiam\nAnna"
    )
    assert "alert" not in str(intake.patch.description)


def test_a_multipart_message_prefers_its_plain_text_part() -> None:
    message = (
        b"From: jens@beispiel.de\r\nSubject: Anfrage\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBitte Angebot.\r\n"
        b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML version</p>\r\n--b--\r\n"
    )
    intake = lead_from_email(message)
    assert intake.patch.description == "Bitte Angebot."
    # No display name: the local part becomes the last name.
    assert intake.patch.name == PersonName(last="jens")


def test_an_empty_subject_gets_a_topic_and_long_text_is_clipped() -> None:
    message = b"From: Eva <eva@x.se>\r\n\r\n" + b"x" * 5000
    intake = lead_from_email(message)
    assert intake.patch.topic == "E-mail from Eva"
    assert isinstance(intake.patch.description, str)
    assert len(intake.patch.description) == 2000


def test_the_source_and_origin_field_are_policy() -> None:
    policy = EmailIntakePolicy(source=LeadSource.WEB, origin_field=None)
    patch = lead_from_email(ENCODED, policy=policy).patch
    assert patch.source is LeadSource.WEB
    assert patch.custom_fields == CustomFields()


def test_a_sender_known_as_a_lead_or_contact_is_reported_not_silently_duplicated() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.leads.add(
            Lead.create(
                LeadId("L-9"),
                LeadPatch(
                    topic="t",
                    name=PersonName(last="Å"),
                    email=EmailAddress("bjorn.akesson@example.se"),
                ),
                at=AT,
                by=BY,
            )
        )
        uow.contacts.add(
            Contact(
                id=ContactId("C-1"),
                name=PersonName(first="Anna", last="Nowak"),
                email=EmailAddress("anna@firma.pl"),
            )
        )
        uow.commit()
        index = build_duplicate_index(uow)
    known = lead_from_email(ENCODED, duplicates=index)
    assert [str(m.candidate) for m in known.matches] == ["lead:L-9"]
    with pytest.raises(DuplicatesUnresolved) as caught:
        known.create(LeadId("L-10"), at=AT, by=BY)
    assert caught.value.candidates == known.candidates
    assert [(c.record_type.value, c.record_id) for c in caught.value.candidates] == [
        ("lead", "L-9")
    ]
    assert all(isinstance(c, DuplicateCandidate) and c.reason for c in caught.value.candidates)
    assert known.create(LeadId("L-10"), at=AT, by=BY, create_anyway=True).id == LeadId("L-10")
    contact = lead_from_email(HTML_ONLY, duplicates=index)
    assert [str(m.candidate) for m in contact.matches] == ["contact:C-1"]
    store.close()


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (b"", "message"),
        (b"just some text without headers", "message"),
        (b"Subject: hi\r\n\r\nbody", "From"),
        (b"From: nobody\r\nSubject: x\r\n\r\nbody", "From"),
        (b"From: a@x.se, b@y.se\r\nSubject: x\r\n\r\nbody", "From"),
        (b"From: Bad <not an address@@>\r\n\r\n", "From"),
    ],
)
def test_a_malformed_message_gives_a_clear_typed_error(message: bytes, field: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        lead_from_email(message)
    assert caught.value.field == field
    assert isinstance(caught.value, InvalidValue)


def test_text_that_is_not_bytes_is_refused() -> None:
    with pytest.raises(MalformedMessage):
        lead_from_email("From: a@b.se\r\n\r\n")  # type: ignore[arg-type]


def test_html_to_text_decodes_entities_and_drops_markup() -> None:
    assert html_to_text("<div>a&nbsp;&lt;b&gt;</div><ul><li>one</li><li>two</li></ul>") == (
        "a <b>\n\none\n\ntwo"
    )
