"""E-mail intake: a lead from an RFC 5322 message, the way Outlook Business Contact Manager
makes one from a received e-mail.

The message is parsed with the standard library (``email.policy.default``, which decodes
RFC 2047 encoded words such as ``=?utf-8?q?Bj=C3=B6rn?=``):

- the sender's display name becomes the lead's name (:meth:`PersonName.parse`; with no
  display name, the address's local part becomes the last name) and the address its e-mail;
- the subject becomes the topic (at most 300 characters; an empty subject gives
  ``"E-mail from <sender>"``);
- the text/plain body becomes the description; an HTML-only message is converted to text with
  :mod:`html.parser` (scripts and styles dropped, entities decoded, no markup kept), and the
  text is cut to the description's 2,000 characters;
- the lead source is ``LeadSource.OTHER`` (the Dynamics 365 list has no "E-mail" member) and
  the custom field ``origin`` is ``"email"``, both configurable in :class:`EmailIntakePolicy`.

If the duplicate engine finds the sender among stored leads or contacts, the intake reports the
matches and :meth:`EmailIntake.create` refuses to make a second lead silently.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Final

import attrs

from leadkit.conversion import DuplicateCandidate
from leadkit.duplicates.index import DuplicateIndex
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.duplicates.qualification import candidate_from_match
from leadkit.errors import DuplicatesUnresolved, InvalidValue
from leadkit.fields import CustomFields, LeadSource
from leadkit.io.drafts import LEAD_DEFAULTS, DraftView, draft_record
from leadkit.io.errors import MalformedMessage
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.profiles import DEFAULT_PROFILE, FieldProfile
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef

__all__ = ["EmailIntake", "EmailIntakePolicy", "html_to_text", "lead_from_email"]

_TOPIC_MAX: Final = 300
_DESCRIPTION_MAX: Final = 2000


@attrs.frozen(kw_only=True)
class EmailIntakePolicy:
    """How a message becomes a lead: the lead source to set, the custom field (and value)
    that records the e-mail origin (``origin_field=None`` sets none), and the profile the lead
    must satisfy."""

    source: LeadSource | None = LeadSource.OTHER
    origin_field: str | None = "origin"
    origin_value: str = "email"
    profile: FieldProfile = DEFAULT_PROFILE


@attrs.frozen
class EmailIntake:
    """What a message gives: the lead's fields, the sender, the message id and date, and the
    stored leads or contacts the sender matches (best first)."""

    patch: LeadPatch
    sender: EmailAddress
    message_id: str
    sent_at: datetime | None
    matches: tuple[DuplicateMatch, ...] = ()

    @property
    def candidates(self) -> tuple[DuplicateCandidate, ...]:
        """The matches as duplicate candidates (type, id, score and the explanation), the
        type every DuplicatesUnresolved carries."""
        return tuple(candidate_from_match(match) for match in self.matches)

    @property
    def is_known_sender(self) -> bool:
        """True when the sender matches a stored lead or contact."""
        return bool(self.matches)

    def create(
        self,
        lead_id: LeadId,
        *,
        at: datetime,
        by: UserRef,
        owner: UserRef | None = None,
        profile: FieldProfile = DEFAULT_PROFILE,
        create_anyway: bool = False,
    ) -> Lead:
        """The new lead. Raises DuplicatesUnresolved when the sender matches stored records,
        unless ``create_anyway``: its ``candidates`` are :attr:`candidates`, the same
        DuplicateCandidate values qualification reports; InvalidValue as Lead.create does."""
        if self.matches and not create_anyway:
            raise DuplicatesUnresolved(self.candidates)
        return Lead.create(lead_id, self.patch, at=at, by=by, owner=owner, profile=profile)


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML document: no tags, no scripts or styles, entities
    decoded, block elements on lines of their own."""

    _SKIP: Final = frozenset({"script", "style", "head", "title", "template", "noscript"})
    _BLOCKS: Final = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
         "blockquote", "pre", "hr", "section", "article", "header", "footer"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: markup, scripts and styles removed, entities
    decoded, runs of spaces collapsed, at most one blank line between paragraphs."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [
        re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip()
        for line in "".join(parser.parts).split("\n")
    ]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sender(message: EmailMessage) -> tuple[str, str]:
    header = message.get("From")
    if header is None:
        raise MalformedMessage("From", None, "the message has no From header (no sender)")
    try:
        addresses: tuple[Address, ...] = header.addresses
    except AttributeError:
        raise MalformedMessage("From", str(header), "the From header has no address") from None
    if len(addresses) != 1 or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise MalformedMessage("From", str(header), "must hold exactly one sender address")
    address = addresses[0]
    return address.display_name.strip(), address.addr_spec


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError) as e:
        raise MalformedMessage("body", part.get_content_type(), f"cannot be decoded: {e}") from None
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        return html_to_text(content)
    return content.replace("\r\n", "\n").strip()


def _known(index: DuplicateIndex | None, patch: LeadPatch) -> tuple[DuplicateMatch, ...]:
    if index is None:
        return ()
    return tuple(index.find(draft_record(0, patch)))


def lead_from_email(
    message_bytes: bytes,
    *,
    policy: EmailIntakePolicy | None = None,
    duplicates: DuplicateIndex | None = None,
) -> EmailIntake:
    """Read a message into the fields of a new lead (see the module doc for the rules).

    ``duplicates`` is an index of the stored records
    (:func:`leadkit.io.build_duplicate_index`); the sender's matches among them are reported.
    Raises MalformedMessage for input that is not bytes, has no headers, no From header or a
    From header without exactly one valid address.
    """
    policy = policy if policy is not None else EmailIntakePolicy()
    if not isinstance(message_bytes, bytes | bytearray):
        raise MalformedMessage("message", type(message_bytes).__name__, "must be bytes")
    if not message_bytes.strip():
        raise MalformedMessage("message", "", "is empty")
    message = email.message_from_bytes(bytes(message_bytes), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    if not message.keys():
        raise MalformedMessage("message", bytes(message_bytes[:60]), "has no RFC 5322 headers")
    display, address = _sender(message)
    try:
        sender = EmailAddress(address)
    except InvalidValue as e:
        raise MalformedMessage("From", address, e.reason) from None
    try:
        name = PersonName.parse(display) if display else PersonName(last=address.split("@")[0])
    except InvalidValue as e:
        raise MalformedMessage("From", display, e.reason) from None
    subject = " ".join(str(message.get("Subject", "")).split())
    topic = _clip(subject or f"E-mail from {display or address}", _TOPIC_MAX)
    description = _clip(_body(message), _DESCRIPTION_MAX)
    custom = (
        CustomFields({policy.origin_field: policy.origin_value}) if policy.origin_field else None
    )
    patch = LeadPatch(
        topic=topic,
        name=name,
        email=sender,
        description=description,
        source=policy.source,
        custom_fields=custom,
    )
    policy.profile.check(DraftView(patch, LEAD_DEFAULTS))
    sent_at: datetime | None = None
    date_header = message.get("Date")
    if date_header is not None:
        sent_at = getattr(date_header, "datetime", None)
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = None
    return EmailIntake(
        patch=patch,
        sender=sender,
        message_id=str(message.get("Message-ID", "")).strip(),
        sent_at=sent_at,
        matches=_known(duplicates, patch),
    )
