"""What hangs off a lead: notes with attachment metadata, activities and stakeholders."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import ClassVar, Final

import attrs

from leadkit.errors import InvalidValue
from leadkit.values import ContactId, UserRef, require_aware

__all__ = [
    "Activity",
    "ActivityKind",
    "Attachment",
    "Note",
    "Stakeholder",
    "StakeholderRole",
]

_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE: Final = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+\-]*/[a-z0-9][a-z0-9!#$&^_.+\-]*$")
NOTE_TEXT_MAX: Final = 100_000
NOTE_TITLE_MAX: Final = 500
SUBJECT_MAX: Final = 200
MAX_ATTACHMENT_SIZE: Final = 2**63 - 1


def _text(field: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidValue(field, value, "must be text")
    text = value.strip()
    if len(text) > limit:
        raise InvalidValue(field, value, f"longer than {limit} characters")
    return text


def _aware(field: str, value: datetime | None) -> None:
    if value is not None:
        require_aware(field, value)


@attrs.frozen
class Attachment:
    """Metadata of a file attached to a note; the bytes stay with the host.

    Raises InvalidValue for an empty file name or one holding a path, a malformed media type
    (``type/subtype``), a negative size or a sha256 that is not 64 lower-case hex digits.
    """

    file_name: str
    media_type: str
    size: int
    sha256: str

    def __attrs_post_init__(self) -> None:
        name = self.file_name
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name) > 255
            or any(c in name for c in "/\\\0")
            or name in (".", "..")
        ):
            raise InvalidValue(
                "attachment.file_name",
                name,
                "must be a plain file name of 1-255 characters without / or \\",
            )
        if not isinstance(self.media_type, str) or not _MEDIA_TYPE.fullmatch(self.media_type):
            raise InvalidValue(
                "attachment.media_type", self.media_type, "must look like 'application/pdf'"
            )
        if (
            isinstance(self.size, bool)
            or not isinstance(self.size, int)
            or not 0 <= self.size <= MAX_ATTACHMENT_SIZE
        ):
            raise InvalidValue("attachment.size", self.size, "must be a non-negative integer")
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            raise InvalidValue(
                "attachment.sha256", self.sha256, "must be 64 lower-case hexadecimal digits"
            )


@attrs.frozen
class Note:
    """A note on the lead's timeline: numbered within the lead, with author and time.

    A note has a title, text or an attachment (at least one). Raises InvalidValue for an empty
    note, text over 100,000 characters, a title over 500, or a naive timestamp.
    """

    id: int
    text: str
    at: datetime
    by: UserRef
    title: str = ""
    attachment: Attachment | None = None
    edited_at: datetime | None = None
    edited_by: UserRef | None = None

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "text", _text("note.text", self.text, NOTE_TEXT_MAX))
        object.__setattr__(self, "title", _text("note.title", self.title, NOTE_TITLE_MAX))
        if not (self.text or self.title or self.attachment):
            raise InvalidValue("note.text", self.text, "a note needs text, a title or a file")
        require_aware("note.at", self.at)
        _aware("note.edited_at", self.edited_at)


class ActivityKind(Enum):
    """The activity types of a lead's timeline, with Dynamics 365 entity names."""

    PHONE_CALL = "phonecall"
    EMAIL = "email"
    MEETING = "appointment"
    TASK = "task"

    @property
    def label(self) -> str:
        """ "Phone Call", "Email", "Meeting" or "Task"."""
        return self.name.replace("_", " ").title()


@attrs.frozen
class Activity:
    """A phone call, e-mail, meeting or task on the lead's timeline.

    Raises InvalidValue for an empty or over-long subject (200 characters) or a naive timestamp.
    """

    id: int
    kind: ActivityKind
    subject: str
    at: datetime
    by: UserRef
    description: str = ""
    due_at: datetime | None = None
    done_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "subject", _text("activity.subject", self.subject, SUBJECT_MAX))
        object.__setattr__(
            self, "description", _text("activity.description", self.description, NOTE_TEXT_MAX)
        )
        if not isinstance(self.kind, ActivityKind):
            raise InvalidValue("activity.kind", self.kind, "must be an ActivityKind")
        if not self.subject:
            raise InvalidValue("activity.subject", self.subject, "must not be empty")
        require_aware("activity.at", self.at)
        _aware("activity.due_at", self.due_at)
        _aware("activity.done_at", self.done_at)

    @property
    def is_done(self) -> bool:
        """True once the activity has a done time."""
        return self.done_at is not None


def _role_name(value: object) -> str:
    text = _text("stakeholder.role", value, 100)
    if not text:
        raise InvalidValue("stakeholder.role", value, "must not be empty")
    return text


@attrs.frozen
class StakeholderRole:
    """A stakeholder's role: one of the presets (``StakeholderRole.DECISION_MAKER`` ...) or a
    custom name. Roles compare case-insensitively. Raises InvalidValue for an empty name."""

    name: str = attrs.field(converter=_role_name, eq=str.casefold)

    STAKEHOLDER: ClassVar[StakeholderRole]
    DECISION_MAKER: ClassVar[StakeholderRole]
    TECHNICAL_BUYER: ClassVar[StakeholderRole]
    ECONOMIC_BUYER: ClassVar[StakeholderRole]
    INFLUENCER: ClassVar[StakeholderRole]

    def __str__(self) -> str:
        return self.name


StakeholderRole.STAKEHOLDER = StakeholderRole("Stakeholder")
StakeholderRole.DECISION_MAKER = StakeholderRole("Decision Maker")
StakeholderRole.TECHNICAL_BUYER = StakeholderRole("Technical Buyer")
StakeholderRole.ECONOMIC_BUYER = StakeholderRole("Economic Buyer")
StakeholderRole.INFLUENCER = StakeholderRole("Influencer")


@attrs.frozen
class Stakeholder:
    """A contact who takes part in the buying decision, with a role (Stakeholder by default)."""

    contact_id: ContactId
    role: StakeholderRole = StakeholderRole.STAKEHOLDER

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.contact_id, ContactId):
            raise InvalidValue("stakeholder.contact_id", self.contact_id, "must be a ContactId")
