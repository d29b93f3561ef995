"""The flat view of a lead, contact or account that duplicate rules read.

Duplicate rules compare records of different types (a new lead against stored contacts and
accounts), so they do not read ``Lead``, ``Contact`` or ``Account`` directly. Each is turned
into a :class:`DuplicateRecord` by :func:`duplicate_record`: one frozen value with the record
type, the id, whether the record is active (closed leads are not) and the named fields that
conditions refer to (:data:`FIELDS`). Phones are stored in E.164 form, domains as hosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, Final, TypeVar

import attrs

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import CustomFields, CustomValue, OptionValue
from leadkit.lead import Lead
from leadkit.records import Account, Contact
from leadkit.values import PersonName, PhoneNumber, RecordId, require_aware

__all__ = [
    "CUSTOM_FIELD_KINDS",
    "FIELDS",
    "DuplicateFieldKind",
    "DuplicateRecord",
    "FieldSpec",
    "Matchable",
    "RecordRef",
    "RecordType",
    "custom_field",
    "distinct_records",
    "duplicate_field_spec",
    "duplicate_record",
    "record_ref",
]


class RecordType(Enum):
    """The record types duplicate rules compare."""

    LEAD = "lead"
    CONTACT = "contact"
    ACCOUNT = "account"


@attrs.frozen(cache_hash=True)
class RecordRef:
    """Names one record: its type and id (``lead:L-1``). Ordered by type, then id."""

    record_type: RecordType = attrs.field(converter=RecordType)
    record_id: str
    _key: tuple[str, str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.record_id, str) or not self.record_id:
            raise InvalidValue("record_id", self.record_id, "must be a non-empty string")
        object.__setattr__(self, "_key", (self.record_type.value, self.record_id))

    def __lt__(self, other: RecordRef) -> bool:
        return self._key < other._key

    def __le__(self, other: RecordRef) -> bool:
        return self._key <= other._key

    def __gt__(self, other: RecordRef) -> bool:
        return self._key > other._key

    def __ge__(self, other: RecordRef) -> bool:
        return self._key >= other._key

    def __str__(self) -> str:
        return f"{self.record_type.value}:{self.record_id}"


class DuplicateFieldKind(Enum):
    """What a field holds, which decides the operators and normalisers it accepts."""

    TEXT = "text"
    """Free text; one value."""
    MULTI_TEXT = "multi_text"
    """Several text values (every phone); a condition matches when any pair does."""
    DATE = "date"
    """A calendar date (``YYYY-MM-DD``)."""
    DATETIME = "datetime"
    """A timezone-aware point in time, compared in UTC."""
    OPTION = "option"
    """An option-set code."""
    NUMBER = "number"
    """A number (an integer or a Decimal; ``10`` and ``10.0`` are the same number)."""


@attrs.frozen
class FieldSpec:
    """One field conditions may name: its kind, default normaliser and the record types that
    have it."""

    kind: DuplicateFieldKind
    normalizer: str | None
    record_types: frozenset[RecordType]
    description: str


_ALL: Final = frozenset(RecordType)
_PEOPLE: Final = frozenset({RecordType.LEAD, RecordType.CONTACT})
_LEAD: Final = frozenset({RecordType.LEAD})
_FIRMS: Final = frozenset({RecordType.LEAD, RecordType.ACCOUNT})


def _spec(
    kind: DuplicateFieldKind, normalizer: str | None, types: frozenset[RecordType], text: str
) -> FieldSpec:
    return FieldSpec(kind, normalizer, types, text)


_T, _M = DuplicateFieldKind.TEXT, DuplicateFieldKind.MULTI_TEXT

FIELDS: Final[Mapping[str, FieldSpec]] = MappingProxyType(
    {
        "first_name": _spec(_T, "person_name", _PEOPLE, "given name"),
        "middle_name": _spec(_T, "person_name", _PEOPLE, "middle name(s)"),
        "last_name": _spec(_T, "person_name", _PEOPLE, "family name"),
        "full_name": _spec(_T, "person_name", _PEOPLE, "first, middle and last name"),
        "job_title": _spec(_T, "text", _PEOPLE, "job title"),
        "email": _spec(_T, "email", _PEOPLE, "e-mail address"),
        "email_domain": _spec(_T, "domain", _PEOPLE, "the e-mail address's domain"),
        "phones": _spec(_M, "phone", _ALL, "every phone number (E.164)"),
        "business_phone": _spec(_T, "phone", _ALL, "business phone (E.164)"),
        "mobile_phone": _spec(_T, "phone", _PEOPLE, "mobile phone (E.164)"),
        "company": _spec(_T, "company", _ALL, "company name (an account's name)"),
        "website_domain": _spec(_T, "domain", _FIRMS, "the website's host"),
        "street": _spec(_T, "text", _ALL, "address line 1"),
        "city": _spec(_T, "text", _ALL, "city"),
        "postal_code": _spec(_T, "postal_code", _ALL, "postal code"),
        "country": _spec(_T, "text", _ALL, "country"),
        "topic": _spec(_T, "text", _LEAD, "the lead's topic"),
        "source": _spec(DuplicateFieldKind.OPTION, None, _LEAD, "lead source option code"),
        "rating": _spec(DuplicateFieldKind.OPTION, None, _LEAD, "rating option code"),
        "created_at": _spec(DuplicateFieldKind.DATETIME, None, _LEAD, "when the lead was created"),
        "estimated_close_date": _spec(DuplicateFieldKind.DATE, None, _LEAD, "estimated close date"),
    }
)
"""The fields a condition may name, with their kind, default normaliser and record types.

A contact's ``company`` is the name of its account, which the host passes to
:func:`duplicate_record` (a contact stores only the account id); without it, the contact's own
``company`` text.
"""


_TEXT_FIELDS: Final = tuple(n for n, s in FIELDS.items() if s.kind is DuplicateFieldKind.TEXT)

CUSTOM_FIELD_KINDS: Final[Mapping[str, DuplicateFieldKind]] = MappingProxyType(
    {
        "text": DuplicateFieldKind.TEXT,
        "date": DuplicateFieldKind.DATE,
        "datetime": DuplicateFieldKind.DATETIME,
        "option": DuplicateFieldKind.OPTION,
        "number": DuplicateFieldKind.NUMBER,
    }
)
"""The kinds a custom field may take part in rules as: ``custom.<name>`` is text,
``custom.<name>:<kind>`` names the kind (``custom.birth_date:date``)."""

_CUSTOM_FIELD: Final = re.compile(r"^custom\.([a-z][a-z0-9_]{0,63})(?::([a-z]+))?$")


def custom_field(name: str, kind: str = "text") -> str:
    """The field name a condition uses for the custom field ``name`` read as ``kind``
    (``custom_field("birth_date", "date")`` -> ``"custom.birth_date:date"``).

    Raises ConfigurationError for a bad name or an unknown kind.
    """
    field = f"custom.{name}" if kind == "text" else f"custom.{name}:{kind}"
    duplicate_field_spec(field)
    return field


def duplicate_field_spec(name: object) -> FieldSpec:
    """The spec of a field a condition may name: one of :data:`FIELDS`, or a custom field
    ``custom.<name>[:<kind>]`` (any record type may have one; a record without it, or with a
    value of another type, has no value there).

    Raises ConfigurationError for anything else.
    """
    if isinstance(name, str):
        found = FIELDS.get(name)
        if found is not None:
            return found
        custom = _CUSTOM_FIELD.fullmatch(name)
        if custom is not None:
            kind = CUSTOM_FIELD_KINDS.get(custom.group(2) or "text")
            if kind is None:
                known = ", ".join(CUSTOM_FIELD_KINDS)
                raise ConfigurationError(
                    "condition field", f"unknown custom field kind in {name!r}; known: {known}"
                )
            normalizer = "text" if kind is DuplicateFieldKind.TEXT else None
            return FieldSpec(kind, normalizer, _ALL, f"custom field {custom.group(1)}")
    known = ", ".join(sorted(FIELDS))
    raise ConfigurationError(
        "condition field", f"unknown field {name!r}; known: {known}, custom.<name>[:<kind>]"
    )


def _custom_values(custom: CustomFields, field: str, kind: DuplicateFieldKind) -> tuple[str, ...]:
    name = field.split(":", 1)[0].removeprefix("custom.")
    value: CustomValue | None = custom.get(name)
    if value is None:
        return ()
    if kind is DuplicateFieldKind.TEXT:
        return (value,) if isinstance(value, str) and value.strip() else ()
    if kind is DuplicateFieldKind.DATETIME:
        if isinstance(value, datetime):
            return (value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),)
        return ()
    if kind is DuplicateFieldKind.DATE:
        if isinstance(value, datetime):
            return (value.astimezone(UTC).date().isoformat(),)
        return (value.isoformat(),) if isinstance(value, date) else ()
    if kind is DuplicateFieldKind.OPTION:
        return (str(value.code),) if isinstance(value, OptionValue) else ()
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return ()
    number = Decimal(value).normalize()
    return (format(number, "f"),)


def _custom(value: object) -> CustomFields:
    if isinstance(value, CustomFields):
        return value
    if isinstance(value, Mapping):
        return CustomFields(value)
    raise InvalidValue("custom_fields", value, "must be CustomFields or a mapping")


def _phones(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
        raise InvalidValue("phones", value, "must be a tuple of strings")
    seen: dict[str, None] = {}
    for phone in value:
        if phone.strip():
            seen[phone.strip()] = None
    return tuple(seen)


def _aware_or_none(value: datetime | None) -> datetime | None:
    if value is not None:
        require_aware("created_at", value)
    return value


@attrs.frozen(kw_only=True)
class DuplicateRecord:
    """A lead, contact or account flattened for duplicate matching.

    Build one with :func:`duplicate_record`, or directly (an import row that is not stored
    yet). Text fields are kept as given, trimmed; the conditions normalise them. Raises
    InvalidValue for an empty id, a naive ``created_at`` or non-text phones.
    """

    record_type: RecordType = attrs.field(converter=RecordType)
    record_id: str
    active: bool = True
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    full_name: str = ""
    job_title: str = ""
    email: str = ""
    email_domain: str = ""
    phones: tuple[str, ...] = attrs.field(default=(), converter=_phones)
    business_phone: str = ""
    mobile_phone: str = ""
    company: str = ""
    website_domain: str = ""
    street: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    topic: str = ""
    source: int | None = None
    rating: int | None = None
    created_at: datetime | None = attrs.field(default=None, converter=_aware_or_none)
    estimated_close_date: date | None = None
    custom_fields: CustomFields = attrs.field(default=CustomFields(), converter=_custom)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.record_id, str) or not self.record_id.strip():
            raise InvalidValue("record_id", self.record_id, "must be a non-empty string")
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidValue(name, value, "must be text")
            if value and (value[0].isspace() or value[-1].isspace()):
                object.__setattr__(self, name, value.strip())

    @property
    def ref(self) -> RecordRef:
        """The record's type and id."""
        return built(RecordRef, record_type=self.record_type, record_id=self.record_id)

    def values(self, field: str) -> tuple[str, ...]:
        """The non-blank values of ``field`` as text: dates ISO, date-times ISO in UTC to the
        second, option codes as digits, numbers in plain decimal form. Raises InvalidValue
        for an unknown field."""
        spec = FIELDS.get(field)
        if spec is None:
            if not field.startswith("custom."):
                raise InvalidValue("field", field, "not a duplicate-matching field")
            try:
                custom = duplicate_field_spec(field)
            except ConfigurationError:
                raise InvalidValue("field", field, "not a duplicate-matching field") from None
            return _custom_values(self.custom_fields, field, custom.kind)
        return _values(self, field, spec.kind)


def _values(record: DuplicateRecord, field: str, kind: DuplicateFieldKind) -> tuple[str, ...]:
    value = getattr(record, field)
    if kind is DuplicateFieldKind.TEXT:
        return (value,) if value else ()
    if kind is DuplicateFieldKind.MULTI_TEXT:
        return tuple(value)
    if value is None:
        return ()
    if kind is DuplicateFieldKind.DATETIME:
        return (value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),)
    if kind is DuplicateFieldKind.DATE:
        return (value.isoformat(),)
    return (str(int(value)),)


Matchable = Lead | Contact | Account | DuplicateRecord
"""Anything the duplicate engine accepts: a stored record or its flat view."""


def _e164(phone: PhoneNumber | None) -> str:
    return phone.e164 if phone is not None else ""


def _full_name(name: PersonName) -> str:
    return " ".join(p for p in (name.first, name.middle, name.last) if p)


_Built = TypeVar("_Built")


def built(cls: type[_Built], **fields: Any) -> _Built:
    """A ``cls`` built from values that already have their types (a stored record's, read
    from the record itself): its own ``__init__`` (converters and checks) runs, the argument
    type checks wrapped around the public constructor (``leadkit._typecheck``) do not: they
    cost as much as the rest of the construction on the engine's hot paths. Raises what the
    class's ``__init__`` raises."""
    init: Any = vars(cls)["__init__"]
    made: _Built = object.__new__(cls)
    getattr(init, "__wrapped__", init)(made, **fields)
    return made


def duplicate_record(record: Matchable, *, company: str | None = None) -> DuplicateRecord:
    """Flatten a lead, contact or account into the view duplicate rules read.

    - Lead: every field of :data:`FIELDS`; ``active`` is False for a Qualified or
      Disqualified lead. ``full_name`` leaves out salutation and suffix ("Dr.", "Jr.").
    - Contact: names, e-mail, phones and address; ``company`` is the name of the contact's
      account when the host passes it (a contact stores only the account id), else the
      contact's own ``company`` text. ``active`` is False once merged into another.
    - Account: ``company`` is its name; its business phone, website and address; ``active``
      is False once merged into another.

    ``company`` overrides the company of any record. A :class:`DuplicateRecord` is returned
    unchanged (or with ``company`` replaced).
    """
    if isinstance(record, DuplicateRecord):
        return record if company is None else attrs.evolve(record, company=company)
    if isinstance(record, Lead):
        return _from_lead(record, company)
    if isinstance(record, Contact):
        return _from_contact(record, company)
    if isinstance(record, Account):
        return _from_account(record, company)
    raise InvalidValue("record", record, "must be a Lead, Contact, Account or DuplicateRecord")


def _from_lead(lead: Lead, company: str | None) -> DuplicateRecord:
    business, mobile = _e164(lead.business_phone), _e164(lead.mobile_phone)
    return built(
        DuplicateRecord,
        record_type=RecordType.LEAD,
        record_id=lead.id.value,
        active=lead.is_open,
        first_name=lead.name.first,
        middle_name=lead.name.middle,
        last_name=lead.name.last,
        full_name=_full_name(lead.name),
        job_title=lead.job_title,
        email=lead.email.text if lead.email else "",
        email_domain=lead.email.domain if lead.email else "",
        phones=(business, mobile),
        business_phone=business,
        mobile_phone=mobile,
        company=lead.company if company is None else company,
        website_domain=lead.website.host if lead.website else "",
        street=lead.address.line1,
        city=lead.address.city,
        postal_code=lead.address.postal_code,
        country=lead.address.country,
        topic=lead.topic,
        source=lead.source.code if lead.source is not None else None,
        rating=lead.rating.code if lead.rating is not None else None,
        created_at=lead.created_at,
        estimated_close_date=lead.estimated_close_date,
        custom_fields=lead.custom_fields,
    )


def _from_contact(contact: Contact, company: str | None) -> DuplicateRecord:
    business, mobile = _e164(contact.business_phone), _e164(contact.mobile_phone)
    return DuplicateRecord(
        record_type=RecordType.CONTACT,
        record_id=contact.id.value,
        first_name=contact.name.first,
        middle_name=contact.name.middle,
        last_name=contact.name.last,
        full_name=_full_name(contact.name),
        job_title=contact.job_title,
        email=contact.email.text if contact.email else "",
        email_domain=contact.email.domain if contact.email else "",
        phones=(business, mobile),
        business_phone=business,
        mobile_phone=mobile,
        company=contact.company if company is None else company,
        street=contact.address.line1,
        city=contact.address.city,
        postal_code=contact.address.postal_code,
        country=contact.address.country,
        active=contact.merged_into is None,
    )


def _from_account(account: Account, company: str | None) -> DuplicateRecord:
    business = _e164(account.business_phone)
    return DuplicateRecord(
        record_type=RecordType.ACCOUNT,
        record_id=account.id.value,
        phones=(business,),
        business_phone=business,
        company=account.name if company is None else company,
        website_domain=account.website.host if account.website else "",
        street=account.address.line1,
        city=account.address.city,
        postal_code=account.address.postal_code,
        country=account.address.country,
        active=account.merged_into is None,
    )


_TYPES: Final[Mapping[str, RecordType]] = MappingProxyType(
    {"lead": RecordType.LEAD, "contact": RecordType.CONTACT, "account": RecordType.ACCOUNT}
)


def record_ref(record: Matchable | RecordRef | RecordId) -> RecordRef:
    """The :class:`RecordRef` of a record, its flat view or its id (``LeadId("L-1")``).

    Raises InvalidValue for anything else (an opportunity id, say).
    """
    if isinstance(record, RecordRef):
        return record
    if isinstance(record, DuplicateRecord):
        return record.ref
    if isinstance(record, Lead):
        return RecordRef(RecordType.LEAD, record.id.value)
    if isinstance(record, Contact):
        return RecordRef(RecordType.CONTACT, record.id.value)
    if isinstance(record, Account):
        return RecordRef(RecordType.ACCOUNT, record.id.value)
    if isinstance(record, RecordId) and record.kind in _TYPES:
        return RecordRef(_TYPES[record.kind], record.value)
    raise InvalidValue("record", record, "must be a lead, contact or account (or its id)")


def distinct_records(records: Iterable[Matchable]) -> list[DuplicateRecord]:
    """The duplicate views of ``records``, in the order given. Raises InvalidValue if a
    record appears twice (the same type and id)."""
    views = [duplicate_record(r) for r in records]
    seen: set[RecordRef] = set()
    for view in views:
        if view.ref in seen:
            raise InvalidValue("records", str(view.ref), "appears twice")
        seen.add(view.ref)
    return views
