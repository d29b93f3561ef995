"""Specification of notes, attachments, activities and stakeholders (leadkit.timeline)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadkit.errors import InvalidValue
from leadkit.timeline import (
    Activity,
    ActivityKind,
    Attachment,
    Note,
    Stakeholder,
    StakeholderRole,
)
from leadkit.values import ContactId, UserRef

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
NAIVE = datetime(2024, 5, 1, 9, 30)
ANN = UserRef("u1", "Ann")
SHA = "0123456789abcdef" * 4


def _attachment(
    file_name: str = "offer.pdf",
    media_type: str = "application/pdf",
    size: int = 1024,
    sha256: str = SHA,
) -> Attachment:
    return Attachment(file_name, media_type, size, sha256)


# ---------------------------------------------------------------------------------------------
# Attachment


def test_attachment_holds_file_metadata() -> None:
    attachment = _attachment()

    assert (attachment.file_name, attachment.media_type, attachment.size) == (
        "offer.pdf",
        "application/pdf",
        1024,
    )
    assert _attachment(size=0).size == 0
    assert _attachment(media_type="application/vnd.ms-excel").media_type.endswith("excel")


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "../etc/passwd", "dir/offer.pdf", "dir\\offer.pdf", "a\0b", ".", "..", "x" * 256],
)
def test_attachment_file_name_must_be_a_plain_name(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        _attachment(file_name=bad)

    assert caught.value.field == "attachment.file_name"
    assert caught.value.value == bad


@pytest.mark.parametrize("bad", ["pdf", "application/", "/pdf", "Application/PDF", "text/ plain"])
def test_attachment_media_type_must_look_like_type_slash_subtype(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        _attachment(media_type=bad)

    assert caught.value.field == "attachment.media_type"


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10", 2**63])
def test_attachment_size_must_be_a_non_negative_integer(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        _attachment(size=bad)  # type: ignore[arg-type]

    assert caught.value.field == "attachment.size"


@pytest.mark.parametrize("bad", ["", SHA.upper(), SHA[:-1], SHA + "0", "g" * 64, None])
def test_attachment_sha256_must_be_64_lower_case_hex_digits(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        _attachment(sha256=bad)  # type: ignore[arg-type]

    assert caught.value.field == "attachment.sha256"


# ---------------------------------------------------------------------------------------------
# Note


def test_note_trims_its_text_and_title() -> None:
    note = Note(1, "  Called back.  ", AT, ANN, title=" Call ")

    assert (note.text, note.title) == ("Called back.", "Call")
    assert note.edited_at is None


def test_a_note_may_be_only_a_title_or_only_a_file() -> None:
    assert Note(1, "", AT, ANN, title="Call").title == "Call"
    assert Note(2, "", AT, ANN, attachment=_attachment()).attachment == _attachment()


def test_an_empty_note_is_refused() -> None:
    with pytest.raises(InvalidValue, match="needs text, a title or a file") as caught:
        Note(1, "   ", AT, ANN, title=" ")

    assert caught.value.field == "note.text"


def test_note_text_may_hold_at_most_100000_characters() -> None:
    assert len(Note(1, "x" * 100_000, AT, ANN).text) == 100_000

    with pytest.raises(InvalidValue, match="100000") as caught:
        Note(1, "x" * 100_001, AT, ANN)

    assert caught.value.field == "note.text"


def test_note_title_may_hold_at_most_500_characters() -> None:
    with pytest.raises(InvalidValue) as caught:
        Note(1, "text", AT, ANN, title="x" * 501)

    assert caught.value.field == "note.title"


def test_note_text_must_be_text() -> None:
    with pytest.raises(InvalidValue, match="must be text") as caught:
        Note(1, None, AT, ANN)  # type: ignore[arg-type]

    assert caught.value.field == "note.text"


def test_a_note_with_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        Note(1, "text", NAIVE, ANN)

    assert caught.value.field == "note.at"


def test_a_note_with_a_naive_edit_time_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        Note(1, "text", AT, ANN, edited_at=NAIVE, edited_by=ANN)

    assert caught.value.field == "note.edited_at"


# ---------------------------------------------------------------------------------------------
# Activity


@pytest.mark.parametrize(
    ("kind", "entity", "label"),
    [
        (ActivityKind.PHONE_CALL, "phonecall", "Phone Call"),
        (ActivityKind.EMAIL, "email", "Email"),
        (ActivityKind.MEETING, "appointment", "Meeting"),
        (ActivityKind.TASK, "task", "Task"),
    ],
)
def test_activity_kinds_carry_the_dynamics_365_entity_name_and_a_label(
    kind: ActivityKind, entity: str, label: str
) -> None:
    assert kind.value == entity
    assert kind.label == label


def test_an_activity_is_done_once_it_has_a_done_time() -> None:
    call = Activity(1, ActivityKind.PHONE_CALL, " Call Ada ", AT, ANN)

    assert call.subject == "Call Ada"
    assert not call.is_done
    assert Activity(2, ActivityKind.TASK, "Send offer", AT, ANN, done_at=AT).is_done


@pytest.mark.parametrize("bad", ["", "   "])
def test_an_activity_needs_a_subject(bad: str) -> None:
    with pytest.raises(InvalidValue, match="must not be empty") as caught:
        Activity(1, ActivityKind.TASK, bad, AT, ANN)

    assert caught.value.field == "activity.subject"


def test_an_activity_subject_may_hold_at_most_200_characters() -> None:
    assert len(Activity(1, ActivityKind.TASK, "x" * 200, AT, ANN).subject) == 200

    with pytest.raises(InvalidValue, match="200") as caught:
        Activity(1, ActivityKind.TASK, "x" * 201, AT, ANN)

    assert caught.value.field == "activity.subject"


def test_an_activity_description_may_hold_at_most_100000_characters() -> None:
    with pytest.raises(InvalidValue) as caught:
        Activity(1, ActivityKind.TASK, "Task", AT, ANN, description="x" * 100_001)

    assert caught.value.field == "activity.description"


def test_an_activity_kind_must_be_an_activity_kind() -> None:
    with pytest.raises(InvalidValue) as caught:
        Activity(1, "phonecall", "Call", AT, ANN)  # type: ignore[arg-type]

    assert caught.value.field == "activity.kind"


@pytest.mark.parametrize("when", ["at", "due_at", "done_at"])
def test_an_activity_with_a_naive_time_is_refused(when: str) -> None:
    times = {"at": AT, "due_at": AT, "done_at": AT, when: NAIVE}

    with pytest.raises(InvalidValue) as caught:
        Activity(
            1,
            ActivityKind.MEETING,
            "Demo",
            times["at"],
            ANN,
            due_at=times["due_at"],
            done_at=times["done_at"],
        )

    assert caught.value.field == f"activity.{when}"


# ---------------------------------------------------------------------------------------------
# Stakeholders


def test_stakeholder_roles_compare_without_case() -> None:
    assert StakeholderRole("decision maker") == StakeholderRole.DECISION_MAKER
    assert hash(StakeholderRole("DECISION MAKER")) == hash(StakeholderRole.DECISION_MAKER)
    assert StakeholderRole("Influencer") != StakeholderRole.DECISION_MAKER


def test_stakeholder_role_presets() -> None:
    assert [
        str(r)
        for r in (
            StakeholderRole.STAKEHOLDER,
            StakeholderRole.DECISION_MAKER,
            StakeholderRole.TECHNICAL_BUYER,
            StakeholderRole.ECONOMIC_BUYER,
            StakeholderRole.INFLUENCER,
        )
    ] == ["Stakeholder", "Decision Maker", "Technical Buyer", "Economic Buyer", "Influencer"]


def test_a_custom_stakeholder_role_is_trimmed() -> None:
    assert StakeholderRole("  Champion ").name == "Champion"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 101, 5])
def test_a_stakeholder_role_needs_a_name_of_at_most_100_characters(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        StakeholderRole(bad)

    assert caught.value.field == "stakeholder.role"


def test_a_stakeholder_is_a_contact_with_a_role_defaulting_to_stakeholder() -> None:
    stakeholder = Stakeholder(ContactId("C-1"))

    assert stakeholder.role == StakeholderRole.STAKEHOLDER
    assert Stakeholder(ContactId("C-1"), StakeholderRole("stakeholder")) == stakeholder


@pytest.mark.parametrize("bad", ["C-1", None, 1])
def test_a_stakeholder_contact_must_be_a_contact_id(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        Stakeholder(bad)  # type: ignore[arg-type]

    assert caught.value.field == "stakeholder.contact_id"
