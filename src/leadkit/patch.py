"""``LeadPatch``: a typed change to a lead's editable fields.

A field left at :data:`UNSET` is not touched; ``None`` (or ``""`` for text) clears it. The
patch converts friendly input where that is unambiguous (an e-mail string becomes an
:class:`EmailAddress`, an option label becomes its option) and refuses everything else with
:class:`InvalidValue` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, Final, Literal, TypeVar

import attrs

from leadkit.errors import InvalidValue
from leadkit.fields import (
    Budget,
    CustomFields,
    CustomValue,
    LeadSource,
    Need,
    OptionSet,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadkit.values import Address, EmailAddress, Money, PersonName, PhoneNumber, Url

__all__ = ["PATCH_FIELDS", "UNSET", "LeadPatch", "Unset"]


class Unset(Enum):
    """The type of :data:`UNSET`."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = Unset.UNSET
"""Marks a patch field that the patch leaves alone."""

T = TypeVar("T")


def _keep(convert: Callable[[Any], T]) -> Callable[[Any], T | Unset]:
    def run(value: Any) -> T | Unset:
        return UNSET if value is UNSET else convert(value)

    return run


def _text(field: str) -> Callable[[Any], str | Unset]:
    def convert(value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise InvalidValue(field, value, "must be text")
        return value.strip()

    return _keep(convert)


def _typed(field: str, kind: type[T], parse: Callable[[Any], T] | None = None) -> Any:
    def convert(value: Any) -> T | None:
        if value is None or isinstance(value, kind):
            return value
        if parse is not None and isinstance(value, str):
            if not value.strip():
                return None
            try:
                return parse(value)
            except InvalidValue as e:
                raise InvalidValue(field, value, e.reason) from None
        raise InvalidValue(field, value, f"must be a {kind.__name__} or None")

    return _keep(convert)


def _option(field: str, kind: type[OptionSet]) -> Any:
    def convert(value: Any) -> OptionSet | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return kind.parse(value, field)

    return _keep(convert)


def _name(value: Any) -> PersonName:
    if value is None:
        return PersonName()
    if isinstance(value, PersonName):
        return value
    if isinstance(value, str):
        return PersonName.parse(value)
    raise InvalidValue("name", value, "must be a PersonName or a full-name string")


def _address(value: Any) -> Address:
    if value is None:
        return Address()
    if isinstance(value, Address):
        return value
    raise InvalidValue("address", value, "must be an Address or None")


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue("estimated_close_date", value, "must be a date (not a datetime)")
    return value


def _custom(value: Any) -> CustomFields:
    if value is None:
        return CustomFields()
    try:
        return value if isinstance(value, CustomFields) else CustomFields(value)
    except InvalidValue:
        raise
    except Exception:
        raise InvalidValue("custom_fields", value, "must be a mapping of name to value") from None


_topic = _text("topic")
_job_title = _text("job_title")
_company = _text("company")
_initiated_by = _text("initiated_by")
_description = _text("description")
_business_phone = _typed("business_phone", PhoneNumber, PhoneNumber)
_mobile_phone = _typed("mobile_phone", PhoneNumber, PhoneNumber)
_email = _typed("email", EmailAddress, EmailAddress)
_website = _typed("website", Url, Url)
_budget_amount = _typed("budget_amount", Money)
_estimated_value = _typed("estimated_value", Money)
_source = _option("source", LeadSource)
_rating = _option("rating", Rating)
_budget = _option("budget", Budget)
_need = _option("need", Need)
_purchase_timeframe = _option("purchase_timeframe", PurchaseTimeframe)
_purchase_process = _option("purchase_process", PurchaseProcess)
_name_or_unset = _keep(_name)
_address_or_unset = _keep(_address)
_date_or_unset = _keep(_date)
_custom_or_unset = _keep(_custom)


# Named converters: the attrs mypy plugin reads the accepted input types from them.


def _convert_topic(value: str | Unset | None) -> str | Unset:
    return _topic(value)


def _convert_name(value: PersonName | str | Unset | None) -> PersonName | Unset:
    return _name_or_unset(value)


def _convert_job_title(value: str | Unset | None) -> str | Unset:
    return _job_title(value)


def _convert_company(value: str | Unset | None) -> str | Unset:
    return _company(value)


def _convert_business_phone(value: PhoneNumber | str | Unset | None) -> PhoneNumber | Unset | None:
    return _business_phone(value)  # type: ignore[no-any-return]


def _convert_mobile_phone(value: PhoneNumber | str | Unset | None) -> PhoneNumber | Unset | None:
    return _mobile_phone(value)  # type: ignore[no-any-return]


def _convert_email(value: EmailAddress | str | Unset | None) -> EmailAddress | Unset | None:
    return _email(value)  # type: ignore[no-any-return]


def _convert_website(value: Url | str | Unset | None) -> Url | Unset | None:
    return _website(value)  # type: ignore[no-any-return]


def _convert_address(value: Address | Unset | None) -> Address | Unset:
    return _address_or_unset(value)


def _convert_source(value: LeadSource | int | str | Unset | None) -> LeadSource | Unset | None:
    return _source(value)  # type: ignore[no-any-return]


def _convert_initiated_by(value: str | Unset | None) -> str | Unset:
    return _initiated_by(value)


def _convert_rating(value: Rating | int | str | Unset | None) -> Rating | Unset | None:
    return _rating(value)  # type: ignore[no-any-return]


def _convert_budget_amount(value: Money | Unset | None) -> Money | Unset | None:
    return _budget_amount(value)  # type: ignore[no-any-return]


def _convert_budget(value: Budget | int | str | Unset | None) -> Budget | Unset | None:
    return _budget(value)  # type: ignore[no-any-return]


def _convert_need(value: Need | int | str | Unset | None) -> Need | Unset | None:
    return _need(value)  # type: ignore[no-any-return]


def _convert_purchase_timeframe(
    value: PurchaseTimeframe | int | str | Unset | None,
) -> PurchaseTimeframe | Unset | None:
    return _purchase_timeframe(value)  # type: ignore[no-any-return]


def _convert_purchase_process(
    value: PurchaseProcess | int | str | Unset | None,
) -> PurchaseProcess | Unset | None:
    return _purchase_process(value)  # type: ignore[no-any-return]


def _convert_description(value: str | Unset | None) -> str | Unset:
    return _description(value)


def _convert_estimated_value(value: Money | Unset | None) -> Money | Unset | None:
    return _estimated_value(value)  # type: ignore[no-any-return]


def _convert_estimated_close_date(value: date | Unset | None) -> date | Unset | None:
    return _date_or_unset(value)


def _convert_custom_fields(
    value: CustomFields | Mapping[str, CustomValue] | Unset | None,
) -> CustomFields | Unset:
    return _custom_or_unset(value)


@attrs.frozen(kw_only=True)
class LeadPatch:
    """A change to a lead's editable fields; fields left UNSET are untouched.

    Raises InvalidValue, naming the field, for a value of the wrong type or one that does not
    parse (an e-mail string that is not an address, an unknown option label).
    """

    topic: str | Unset = attrs.field(default=UNSET, converter=_convert_topic)
    name: PersonName | Unset = attrs.field(default=UNSET, converter=_convert_name)
    job_title: str | Unset = attrs.field(default=UNSET, converter=_convert_job_title)
    company: str | Unset = attrs.field(default=UNSET, converter=_convert_company)
    business_phone: PhoneNumber | Unset | None = attrs.field(
        default=UNSET, converter=_convert_business_phone
    )
    mobile_phone: PhoneNumber | Unset | None = attrs.field(
        default=UNSET, converter=_convert_mobile_phone
    )
    email: EmailAddress | Unset | None = attrs.field(default=UNSET, converter=_convert_email)
    website: Url | Unset | None = attrs.field(default=UNSET, converter=_convert_website)
    address: Address | Unset = attrs.field(default=UNSET, converter=_convert_address)
    source: LeadSource | Unset | None = attrs.field(default=UNSET, converter=_convert_source)
    initiated_by: str | Unset = attrs.field(default=UNSET, converter=_convert_initiated_by)
    rating: Rating | Unset | None = attrs.field(default=UNSET, converter=_convert_rating)
    budget_amount: Money | Unset | None = attrs.field(
        default=UNSET, converter=_convert_budget_amount
    )
    budget: Budget | Unset | None = attrs.field(default=UNSET, converter=_convert_budget)
    need: Need | Unset | None = attrs.field(default=UNSET, converter=_convert_need)
    purchase_timeframe: PurchaseTimeframe | Unset | None = attrs.field(
        default=UNSET, converter=_convert_purchase_timeframe
    )
    purchase_process: PurchaseProcess | Unset | None = attrs.field(
        default=UNSET, converter=_convert_purchase_process
    )
    description: str | Unset = attrs.field(default=UNSET, converter=_convert_description)
    estimated_value: Money | Unset | None = attrs.field(
        default=UNSET, converter=_convert_estimated_value
    )
    estimated_close_date: date | Unset | None = attrs.field(
        default=UNSET, converter=_convert_estimated_close_date
    )
    custom_fields: CustomFields | Unset = attrs.field(
        default=UNSET, converter=_convert_custom_fields
    )

    def items(self) -> Iterator[tuple[str, object]]:
        """The fields this patch sets, as (name, value) pairs in declaration order."""
        for name in PATCH_FIELDS:
            value = getattr(self, name)
            if value is not UNSET:
                yield name, value

    def as_dict(self) -> dict[str, object]:
        """The fields this patch sets."""
        return dict(self.items())

    @property
    def is_empty(self) -> bool:
        """True when the patch sets nothing."""
        return not any(True for _ in self.items())

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> LeadPatch:
        """Build a patch from a mapping of field name to value.

        Raises InvalidValue naming an unknown field, or a bad value as the constructor does.
        """
        unknown = sorted(set(values) - set(PATCH_FIELDS))
        if unknown:
            raise InvalidValue(unknown[0], values[unknown[0]], "not an editable lead field")
        return cls(**values)  # type: ignore[arg-type]


PATCH_FIELDS: Final[tuple[str, ...]] = tuple(a.name for a in attrs.fields(LeadPatch))
"""The editable lead fields, in declaration order."""
