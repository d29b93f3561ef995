"""Erasure of a person's data, pure parts: what to erase, how a value is scrubbed, the report,
and the field-level audit trail read back from events.

A subject (:class:`ErasureSubject`) names a lead, a contact, an account, or "every record of
this e-mail or phone". The application service (:func:`leadkit.privacy.erase`) finds the
records, builds an :class:`ErasureScope` from them (:func:`scope_of`) and rewrites every stored
value through :func:`scrub` (typed values: records, leads, events, merges) or
:func:`scrub_data` (JSON data: idempotency results, import outcomes).

How a value is scrubbed
-----------------------
- Inside a *target* (a lead, contact or account being erased, or an event of an erased lead)
  every personal field is blanked by name: ``name`` (a person's name), ``job_title``, the
  phones, ``email``, ``website``, ``address`` (all but the country), ``description``, note
  ``title``/``text`` and attachment metadata, activity ``subject``/``description``,
  ``initiated_by``. Text becomes :data:`ERASED`; a typed optional value (e-mail, phone, web
  address, attachment) becomes None; a name becomes ``PersonName(last=ERASED)``. The
  non-personal facts stay: status, reason, source, rating, score, owner, money, dates, ids.
- Everywhere else the subject's *needles* (its e-mail addresses, phone numbers in their
  typed and E.164 forms, and full names, case-insensitively) are replaced by :data:`ERASED`
  inside every text; an e-mail, phone or web address holding one becomes None; a person's
  name equal to a subject's full name becomes ``PersonName(last=ERASED)``.

Nothing here does I/O: the functions are total over the values leadkit stores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Final, TypeVar

import attrs

from leadkit.errors import InvalidValue
from leadkit.events import (
    LeadCreated,
    LeadEvent,
    LeadUpdated,
    NoteAdded,
    NoteEdited,
)
from leadkit.lead import Lead
from leadkit.patch import UNSET, LeadPatch, Unset
from leadkit.records import Account, Contact
from leadkit.timeline import Attachment, StakeholderRole
from leadkit.values import (
    Address,
    EmailAddress,
    Money,
    PersonName,
    PhoneNumber,
    RecordId,
    Url,
    UserRef,
)

__all__ = [
    "ERASED",
    "AuditChange",
    "AuditEntry",
    "ErasureMode",
    "ErasureReport",
    "ErasureScope",
    "ErasureSubject",
    "SubjectKind",
    "field_history",
    "is_erased",
    "scope_of",
    "scrub",
    "scrub_data",
]

ERASED: Final = "[erased]"
"""What an erased text reads as (in records, events, results and the audit trail)."""

T = TypeVar("T")

# Field names that hold personal data, blanked inside a target.
_TEXT_FIELDS: Final = frozenset(
    {
        "job_title",
        "description",
        "text",
        "title",
        "previous_text",
        "previous_title",
        "subject",
        "initiated_by",
    }
)
_NULLED_FIELDS: Final = frozenset(
    {"email", "business_phone", "mobile_phone", "website", "attachment", "previous_attachment"}
)
_PERSONAL_FIELDS: Final = _TEXT_FIELDS | _NULLED_FIELDS | {"name", "address"}
# Values never walked into: they hold no data of the person erased.
_OPAQUE: Final = (UserRef, RecordId, Money, StakeholderRole, Enum, Unset)


class ErasureMode(Enum):
    """DELETE removes the records (and their events); ANONYMIZE keeps them with every personal
    value replaced, so status, source, score and dates still count in reports."""

    DELETE = "delete"
    ANONYMIZE = "anonymize"

    @classmethod
    def parse(cls, value: ErasureMode | str) -> ErasureMode:
        """The mode named by ``value`` (``"delete"``/``"anonymize"``, any case). Raises
        InvalidValue naming ``mode``."""
        if isinstance(value, ErasureMode):
            return value
        if isinstance(value, str):
            for mode in cls:
                if value.strip().lower() == mode.value:
                    return mode
        raise InvalidValue("mode", value, "must be 'delete' or 'anonymize'")


class SubjectKind(Enum):
    """What an :class:`ErasureSubject` names."""

    LEAD = "lead"
    CONTACT = "contact"
    ACCOUNT = "account"
    EMAIL = "email"
    PHONE = "phone"


def _subject_value(instance: ErasureSubject, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("subject", value, "must be a non-empty text")
    if instance.kind is SubjectKind.EMAIL:
        try:
            EmailAddress(value)
        except InvalidValue as e:
            raise InvalidValue("subject", value, f"not an e-mail address: {e.reason}") from None
    if instance.kind is SubjectKind.PHONE:
        try:
            PhoneNumber(value, instance.region)
        except InvalidValue as e:
            raise InvalidValue("subject", value, f"not a phone number: {e.reason}") from None


def _kind(value: object) -> SubjectKind:
    if isinstance(value, SubjectKind):
        return value
    if isinstance(value, str):
        for kind in SubjectKind:
            if value.strip().lower() == kind.value:
                return kind
    raise InvalidValue("subject.kind", value, "must be one of lead, contact, account, email, phone")


@attrs.frozen
class ErasureSubject:
    """Whose data to erase: a lead, contact or account by id, or every record of an e-mail
    address or a phone number (``region`` reads a phone typed without ``+country``).

    Raises InvalidValue naming ``subject.kind`` for an unknown kind, ``subject`` for an empty
    value, an e-mail that is not one or a phone that does not parse.
    """

    kind: SubjectKind = attrs.field(converter=_kind)
    value: str = attrs.field(validator=_subject_value)
    region: str | None = None

    @classmethod
    def parse(cls, text: str, *, region: str | None = None) -> ErasureSubject:
        """``kind:value`` (``lead:L-1``, ``email:ann@example.com``, ``phone:+4681234567``).
        Raises InvalidValue naming ``subject`` for text without a kind."""
        if not isinstance(text, str) or ":" not in text:
            raise InvalidValue("subject", text, "must be kind:value, e.g. email:ann@example.com")
        kind, _, value = text.partition(":")
        return cls(_kind(kind), value.strip(), region)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"


@attrs.frozen
class ErasureReport:
    """What an erasure touched: the subject, the mode, the records erased (``lead:ID``,
    ``contact:ID``, ``account:ID``) and a count per kind of stored thing (``leads``,
    ``contacts``, ``accounts``, ``opportunities``, ``merges``, ``record_merges``, ``events``,
    ``events_deleted``, ``idempotency_results``, ``duplicate_keys``, ...), plus what the
    store did to leave no copy behind (``secure``: e.g. "sqlite secure_delete, WAL
    truncated")."""

    subject: ErasureSubject
    mode: ErasureMode
    records: tuple[str, ...]
    counts: Mapping[str, int] = attrs.field(factory=dict)
    secure: str = ""

    @property
    def total(self) -> int:
        """How many stored things were changed or removed in all."""
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line per kind, for people."""
        lines = [f"erased ({self.mode.value}) {self.subject}: {len(self.records)} record(s)"]
        lines += [f"  {kind}: {n}" for kind, n in sorted(self.counts.items()) if n]
        if self.secure:
            lines.append(f"  storage: {self.secure}")
        return "\n".join(lines)


def _fold(text: str) -> str:
    return text.casefold()


@attrs.frozen
class ErasureScope:
    """The targets and needles of one erasure (see the module doc). Build it with
    :func:`scope_of`."""

    lead_ids: frozenset[str] = frozenset()
    contact_ids: frozenset[str] = frozenset()
    account_ids: frozenset[str] = frozenset()
    needles: tuple[str, ...] = ()
    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    _pattern: re.Pattern[str] | None = attrs.field(init=False, eq=False, repr=False)
    _folded: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        pattern = None
        if self.needles:
            ordered = sorted(set(self.needles), key=len, reverse=True)
            pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)
        object.__setattr__(self, "_pattern", pattern)
        folded = {n.casefold() for n in self.needles}
        folded |= {_json_escaped(n) for n in self.needles if not n.isascii()}
        object.__setattr__(self, "_folded", tuple(sorted(folded)))

    @property
    def ids(self) -> frozenset[str]:
        """Every target id."""
        return self.lead_ids | self.contact_ids | self.account_ids

    def mentions(self, text: str) -> bool:
        """True when ``text`` holds a needle (case-insensitively, JSON-escaped forms too) or
        a target id: a cheap test before a rewrite."""
        if any(i in text for i in self.ids):
            return True
        folded = text.casefold()
        return any(n in folded for n in self._folded)

    def replace(self, text: str) -> str:
        """``text`` with every needle replaced by :data:`ERASED`."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(ERASED, text)


def _json_escaped(text: str) -> str:
    return "".join(c if c.isascii() else f"\\u{ord(c):04x}" for c in text.casefold())


def _full_name(name: PersonName) -> str:
    return " ".join(p for p in (name.first, name.middle, name.last) if p).strip()


def _name_forms(name: PersonName) -> set[str]:
    forms = {_full_name(name), " ".join(p for p in (name.first, name.last) if p)}
    if name.first and name.last:
        forms.add(f"{name.last}, {name.first}")
    return {f for f in forms if len(f) >= 3 and f != ERASED}


def scope_of(
    records: Iterable[Lead | Contact | Account],
    *,
    emails: Iterable[EmailAddress] = (),
    phones: Iterable[PhoneNumber] = (),
) -> ErasureScope:
    """The scope erasing ``records`` (the targets) and the extra ``emails`` and ``phones``
    (a subject's own): their ids, and as needles every e-mail, phone (as typed and E.164) and
    full name the targets hold. Raises nothing."""
    leads: set[str] = set()
    contacts: set[str] = set()
    accounts: set[str] = set()
    mails = list(emails)
    numbers = list(phones)
    names: set[str] = set()
    for record in records:
        if isinstance(record, Lead):
            leads.add(record.id.value)
        elif isinstance(record, Contact):
            contacts.add(record.id.value)
        else:
            accounts.add(record.id.value)
        if record.email is not None:
            mails.append(record.email)
        for phone in (record.business_phone, getattr(record, "mobile_phone", None)):
            if phone is not None:
                numbers.append(phone)
        name = getattr(record, "name", None)
        if isinstance(name, PersonName):
            names |= _name_forms(name)
    needles: set[str] = set(names)
    for mail in mails:
        needles |= {mail.text, mail.normalized}
    for phone in numbers:
        needles |= {phone.raw.strip(), phone.e164}
    return ErasureScope(
        lead_ids=frozenset(leads),
        contact_ids=frozenset(contacts),
        account_ids=frozenset(accounts),
        needles=tuple(sorted(n for n in needles if n)),
        emails=frozenset(_fold(m.normalized) for m in mails),
        phones=frozenset(p.e164 for p in numbers),
        names=frozenset(_fold(n) for n in names),
    )


# ---------------------------------------------------------------------------------------------
# Typed values


def _blank(value: Any) -> Any:
    """A personal field's value with the person gone (see the module doc)."""
    if value is None or isinstance(value, Unset):
        return value
    if isinstance(value, str):
        return ERASED if value.strip() else value
    if isinstance(value, PersonName):
        return value if value.is_empty else PersonName(last=ERASED)
    if isinstance(value, Address):
        return Address(country=value.country)
    if isinstance(value, EmailAddress | PhoneNumber | Url | Attachment):
        return None
    return value


def _is_target(value: object, scope: ErasureScope) -> bool:
    if isinstance(value, Lead):
        return value.id.value in scope.lead_ids
    if isinstance(value, Contact):
        return value.id.value in scope.contact_ids
    if isinstance(value, Account):
        return value.id.value in scope.account_ids
    if isinstance(value, LeadEvent):
        return value.lead_id.value in scope.lead_ids
    return False


def scrub(value: T, scope: ErasureScope, *, personal: bool = False) -> T:
    """``value`` (a record, lead, event, merge record, or any value they hold) with the
    scope's person erased: the same object when nothing in it changes. ``personal`` treats
    ``value`` as a target throughout. Raises nothing for the values leadkit stores."""
    return _scrub(value, scope, personal)  # type: ignore[no-any-return]


def _scrub(value: Any, scope: ErasureScope, personal: bool) -> Any:
    if value is None or isinstance(value, (bool, int, float, *_OPAQUE)):
        return value
    if isinstance(value, str):
        return scope.replace(value)
    if isinstance(value, EmailAddress):
        hit = _fold(value.normalized) in scope.emails or scope.mentions(value.text)
        return None if hit else value
    if isinstance(value, PhoneNumber):
        hit = value.e164 in scope.phones or scope.mentions(value.raw)
        return None if hit else value
    if isinstance(value, Url):
        return None if scope.mentions(value.text) else value
    if isinstance(value, PersonName):
        hit = any(_fold(f) in scope.names for f in _name_forms(value))
        return PersonName(last=ERASED) if hit else value
    if isinstance(value, tuple):
        items = tuple(_scrub(v, scope, personal) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, frozenset):
        found = frozenset(_scrub(v, scope, personal) for v in value)
        return value if found == value else found
    if not attrs.has(type(value)):
        return value
    personal = personal or _is_target(value, scope)
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(value)):
        if not field.init:
            continue
        old = getattr(value, field.name)
        if personal and field.name in _PERSONAL_FIELDS and _personal_here(value, field.name, old):
            new = _blank(old)
        else:
            new = _scrub(old, scope, personal)
        if new is not old and new != old:
            changes[field.alias or field.name] = new
    return attrs.evolve(value, **changes) if changes else value


def _personal_here(owner: object, name: str, value: object) -> bool:
    """True when ``owner.name`` holds the person's data (a ``name`` only when it is a
    person's name, or an account's)."""
    if name == "name":
        return isinstance(value, PersonName) or isinstance(owner, Account)
    return True


def is_erased(lead: Lead) -> bool:
    """True when ``lead`` was anonymised by an erasure (its name reads :data:`ERASED`)."""
    return lead.name.last == ERASED and not lead.name.first


# ---------------------------------------------------------------------------------------------
# JSON data (idempotency results, import outcomes)


_ID_KEYS: Final = ("id", "lead_id", "record_id")


def scrub_data(data: Any, scope: ErasureScope, *, personal: bool = False) -> Any:
    """JSON data (as ``json.loads`` gives it) with the scope's person erased, by the same
    rules as :func:`scrub`: an object whose ``id``/``lead_id`` is a target is blanked by
    field name, every text loses its needles, and an ``email``/phone/``website`` holding one
    becomes null. Raises nothing."""
    if isinstance(data, str):
        return scope.replace(data)
    if isinstance(data, list):
        return [scrub_data(v, scope, personal=personal) for v in data]
    if not isinstance(data, dict):
        return data
    personal = personal or any(
        isinstance(data.get(k), str) and data[k] in scope.ids for k in _ID_KEYS
    )
    out: dict[str, Any] = {}
    for key, value in data.items():
        if personal and key in _PERSONAL_FIELDS:
            out[key] = _blank_data(key, value)
            continue
        new = scrub_data(value, scope, personal=personal)
        if key in _NULLED_FIELDS and new != value:
            new = None
        out[key] = new
    return out


def _blank_data(key: str, value: Any) -> Any:
    if value is None or value == "UNSET":
        return value
    if key in _NULLED_FIELDS:
        return None
    if key == "address" and isinstance(value, dict):
        return {k: (v if k == "country" else "") for k, v in value.items()}
    if key == "name" and isinstance(value, dict):
        return {k: (ERASED if k == "last" else "") for k, v in value.items()}
    if isinstance(value, str):
        return ERASED if value.strip() else value
    return value


# ---------------------------------------------------------------------------------------------
# Audit


@attrs.frozen
class AuditChange:
    """One field's change: its name and the values before and after, as text (an erased
    value reads :data:`ERASED`; an empty one reads ``""``)."""

    field: str
    before: str
    after: str


@attrs.frozen
class AuditEntry:
    """One event in a lead's field-level history: what kind of change, when, by whom (user id
    and name), and the fields it changed."""

    event: str
    at: datetime
    by: UserRef
    changes: tuple[AuditChange, ...]


def _text(value: Any) -> str:
    if value is None or isinstance(value, Unset):
        return ""
    if isinstance(value, EmailAddress | Url):
        return value.text
    if isinstance(value, PhoneNumber):
        return value.raw
    if isinstance(value, PersonName):
        return ERASED if value.last == ERASED and not value.first else _full_name(value)
    if isinstance(value, Address):
        parts = (value.line1, value.line2, value.line3, value.city, value.postal_code)
        return ", ".join(p for p in (*parts, value.country) if p)
    if isinstance(value, Money):
        return f"{value.amount} {value.currency}"
    if isinstance(value, Enum):
        return str(getattr(value, "label", value.name))
    if isinstance(value, Lead):
        return value.id.value
    if isinstance(value, tuple | frozenset):
        return ", ".join(sorted(_text(v) for v in value))
    if isinstance(value, RecordId):
        return value.value
    if isinstance(value, UserRef):
        return value.id
    label = getattr(value, "label", None)
    return str(label) if isinstance(label, str) else str(value)


def _shown(field: str, value: Any, erased: bool) -> str:
    if isinstance(value, Unset):
        return ""
    text = _text(value)
    if erased and field in _PERSONAL_FIELDS and text:
        return ERASED
    if erased and field in _NULLED_FIELDS:
        return ERASED
    return text


def _patch_changes(
    before: LeadPatch | None, after: LeadPatch, erased: bool
) -> tuple[AuditChange, ...]:
    found: list[AuditChange] = []
    for field in attrs.fields(LeadPatch):
        new = getattr(after, field.name)
        if new is UNSET:
            continue
        old = UNSET if before is None else getattr(before, field.name)
        found.append(
            AuditChange(
                field.name, _shown(field.name, old, erased), _shown(field.name, new, erased)
            )
        )
    return tuple(found)


def _changes(event: LeadEvent, erased: bool) -> tuple[AuditChange, ...]:
    if isinstance(event, LeadCreated):
        return _patch_changes(None, event.fields, erased)
    if isinstance(event, LeadUpdated):
        return _patch_changes(event.before, event.after, erased)
    if isinstance(event, NoteAdded):
        return (AuditChange("note", "", _shown("text", event.note.text, erased)),)
    if isinstance(event, NoteEdited):
        before = _shown("text", event.previous_text, erased)
        return (AuditChange("note", before, _shown("text", event.text, erased)),)
    fields = [
        f.name
        for f in attrs.fields(type(event))
        if f.name not in ("lead_id", "at", "by", "type", "previous")
        and not f.name.startswith("previous_")
    ]
    found: list[AuditChange] = []
    for n, name in enumerate(fields):
        value = getattr(event, name)
        before = _text(getattr(event, "previous", None)) if n == 0 else ""
        found.append(AuditChange(name, before, _shown(name, value, erased)))
    return tuple(found)


def field_history(events: Iterable[LeadEvent], *, erased: bool = False) -> tuple[AuditEntry, ...]:
    """The field-level history told by a lead's ``events`` in order: one entry per event with
    who, when and each field's before and after. ``erased`` (the lead was anonymised) shows
    every personal value as :data:`ERASED`. Raises nothing."""
    return tuple(AuditEntry(type(e).__name__, e.at, e.by, _changes(e, erased)) for e in events)
