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
import email.header
import email.policy
import email.utils
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any, Final

import attrs

from leadkit.conversion import DuplicateCandidate
from leadkit.duplicates.candidates import candidate_from_match
from leadkit.duplicates.index import DuplicateIndex
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.errors import ConfigurationError, DuplicatesUnresolved, InvalidValue, LeadkitError
from leadkit.fields import CustomFields, LeadSource
from leadkit.io.drafts import LEAD_DEFAULTS, DraftView, draft_record
from leadkit.io.errors import MalformedMessage
from leadkit.io.limits import positive_limit
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
    must satisfy.

    The limits bound the work a message can cause: ``max_message_bytes`` (the whole message,
    25 MiB), ``max_header_chars`` (one unfolded header, 64 Ki characters: header decoding
    grows faster than the header), ``max_mime_depth`` (multipart nesting, 16) and
    ``max_multiparts`` (multipart containers, 256, counted before parsing). A message
    over one is refused with MalformedMessage naming the header or part. Raises
    ConfigurationError for a setting of the wrong type.
    """

    source: LeadSource | None = attrs.field(default=LeadSource.OTHER)
    origin_field: str | None = attrs.field(default="origin")
    origin_value: str = attrs.field(default="email")
    profile: FieldProfile = attrs.field(default=DEFAULT_PROFILE)
    max_message_bytes: int = attrs.field(
        default=25 << 20, validator=positive_limit("e-mail intake policy")
    )
    max_header_chars: int = attrs.field(
        default=64 << 10, validator=positive_limit("e-mail intake policy")
    )
    max_mime_depth: int = attrs.field(
        default=16, validator=positive_limit("e-mail intake policy", 500)
    )
    max_multiparts: int = attrs.field(
        default=256, validator=positive_limit("e-mail intake policy", 10_000)
    )

    def __attrs_post_init__(self) -> None:
        what = "e-mail intake policy"
        if self.source is not None and not isinstance(self.source, LeadSource):
            raise ConfigurationError(what, "source must be a LeadSource or None")
        if self.origin_field is not None and not isinstance(self.origin_field, str):
            raise ConfigurationError(what, "origin_field must be text or None")
        if not isinstance(self.origin_value, str):
            raise ConfigurationError(what, "origin_value must be text")
        if not isinstance(self.profile, FieldProfile):
            raise ConfigurationError(what, "profile must be a FieldProfile")


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


_CONTROLS: Final = re.compile(r"[\x00-\x1f\x7f]+")


def _plain(text: str) -> str:
    """Header text with control characters (CR and LF from an encoded word) made spaces."""
    return " ".join(_CONTROLS.sub(" ", text).split())


def _sender(message: EmailMessage) -> tuple[str, str]:
    if "From" not in message:
        raise MalformedMessage("From", None, "the message has no From header (no sender)")
    try:
        header: Any = message.get("From")
        addresses: tuple[Address, ...] = header.addresses
    except AttributeError:
        raise MalformedMessage("From", str(header), "the From header has no address") from None
    except ValueError:
        # An encoded display name may decode to CR or LF, which the header registry refuses
        # outright; read the raw header with the tolerant parser instead.
        return _sender_fallback(message)
    if len(addresses) != 1 or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise MalformedMessage("From", str(header), "must hold exactly one sender address")
    address = addresses[0]
    return _plain(address.display_name), address.addr_spec


def _sender_fallback(message: EmailMessage) -> tuple[str, str]:
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == "from"), "")
    display, addr_spec = email.utils.parseaddr(raw)
    if not addr_spec or "@" not in addr_spec:
        raise MalformedMessage("From", _plain(raw), "must hold exactly one sender address")
    try:
        decoded = str(email.header.make_header(email.header.decode_header(display)))
    except (LookupError, ValueError, UnicodeError):
        decoded = display
    return _plain(decoded), addr_spec


_MULTIPART: Final = re.compile(rb"(?i)content-type\s*:\s*multipart/")


def _split_head(data: bytes) -> tuple[bytes, bytes, bytes]:
    """The header block, the blank line after it and the body."""
    ends = [(i, sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := data.find(sep)) >= 0]
    if not ends:
        return data, b"", b""
    index, sep = min(ends)
    return data[:index], sep, data[index + len(sep) :]


def _check_headers(head: bytes, limit: int) -> None:
    """Refuse a header whose unfolded value is over ``limit`` characters (linear)."""
    name = b""
    size = 0
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and name:
            size += len(line)
        else:
            name, _, value = line.partition(b":")
            size = len(value)
        if size > limit:
            raise MalformedMessage(
                name.decode("ascii", "replace").strip() or "header",
                f"over {limit:,} characters",
                "the header is longer than the limit (EmailIntakePolicy.max_header_chars)",
            )


def _parse(data: bytes, policy: EmailIntakePolicy) -> EmailMessage:
    """The message, its top-level headers decoded as UTF-8 where they hold 8-bit bytes (the
    RFC 6532 form mail clients send), else Windows-1252."""
    head, sep, body = _split_head(data)
    _check_headers(head, policy.max_header_chars)
    multiparts = len(_MULTIPART.findall(data))
    if multiparts > policy.max_multiparts:
        raise MalformedMessage(
            "message",
            f"{multiparts:,} multipart parts",
            f"holds more than {policy.max_multiparts:,} multipart containers "
            "(EmailIntakePolicy.max_multiparts)",
        )
    try:
        header_text = head.decode("utf-8")
    except UnicodeDecodeError:
        header_text = head.decode("cp1252", errors="replace")
    text = header_text + sep.decode("ascii") + body.decode("ascii", errors="surrogateescape")
    try:
        message = email.message_from_string(text, policy=email.policy.default)
    except RecursionError:
        raise MalformedMessage(
            "message", "MIME parts", f"nested deeper than {policy.max_mime_depth} levels"
        ) from None
    assert isinstance(message, EmailMessage)
    _check_depth(message, policy.max_mime_depth)
    return message


def _check_depth(message: EmailMessage, limit: int) -> None:
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > limit:
            raise MalformedMessage(
                "message",
                part.get_content_type(),
                f"MIME parts nest deeper than {limit} levels (EmailIntakePolicy.max_mime_depth)",
            )
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))


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
    From header without exactly one valid address, breaks a limit of ``policy`` (size,
    header length, MIME depth) or that the standard library's parser cannot read; InvalidValue
    as the policy's profile does.
    """
    policy = policy if policy is not None else EmailIntakePolicy()
    if not isinstance(policy, EmailIntakePolicy):
        raise MalformedMessage("policy", policy, "must be an EmailIntakePolicy")
    if duplicates is not None and not isinstance(duplicates, DuplicateIndex):
        raise MalformedMessage("duplicates", duplicates, "must be a DuplicateIndex or None")
    if not isinstance(message_bytes, bytes | bytearray):
        raise MalformedMessage("message", type(message_bytes).__name__, "must be bytes")
    if len(message_bytes) > policy.max_message_bytes:
        raise MalformedMessage(
            "message",
            f"{len(message_bytes):,} bytes",
            f"is larger than {policy.max_message_bytes:,} bytes "
            "(EmailIntakePolicy.max_message_bytes)",
        )
    if not message_bytes.strip():
        raise MalformedMessage("message", "", "is empty")
    try:
        return _intake(bytes(message_bytes), policy, duplicates)
    except LeadkitError:
        raise
    except RecursionError:
        raise MalformedMessage(
            "message", "MIME parts", f"nested deeper than {policy.max_mime_depth} levels"
        ) from None
    except Exception as e:  # the standard library's parser on hostile input
        raise MalformedMessage(
            "message", type(e).__name__, f"cannot be read: {_plain(str(e))}"
        ) from None


def _intake(
    message_bytes: bytes, policy: EmailIntakePolicy, duplicates: DuplicateIndex | None
) -> EmailIntake:
    message = _parse(message_bytes, policy)
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
    subject = _plain(str(message.get("Subject", "")))
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
        message_id=_plain(str(message.get("Message-ID", ""))),
        sent_at=sent_at,
        matches=_known(duplicates, patch),
    )
