"""Realistic, seeded sample leads for ``leadkit demo`` (no hypothesis, no ``random``).

:func:`demo_leads` yields ``count`` plausible leads from six countries (Sweden, Norway,
Finland, Denmark, the United Kingdom, Germany): people with common and rare names drawn from
large per-country pools (Zipf-like, as real names are), working at companies of very
different sizes (a few large customers, a long tail of small ones), with company or free-mail
e-mail addresses, direct, switchboard and mobile numbers in several formats, addresses with
postal codes, sources, ratings, budgets, needs and values that go together (a hot lead more
often has a budget), and creation dates spread over the period before ``end``.

About ``duplicate_share`` of the leads (2.5 % by default) are the same person typed in again
the way people do: a typo, a nickname, accents dropped, another case, a phone number in
another format or left out, another e-mail address, the company's legal form dropped or
added, a few days later. Each names the lead it duplicates (``duplicate_of``), so a duplicate
scan has a known, realistic amount to find. The same seed gives the same leads.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import attrs

from leadkit.cli.demo_material import (
    _BUDGETS,
    _COUNTRIES,
    _NEEDS,
    _NICKNAMES,
    _PER_THOUSAND_EUR,
    _PRODUCTS,
    _RATINGS,
    _SOURCES,
    _TIMEFRAMES,
    _TITLES,
    _TOPIC_FORMS,
    _ascii,
    _Country,
    _deaccent,
    _Rng,
    _weighted,
)
from leadkit.errors import InvalidValue
from leadkit.fastcodec import unchecked
from leadkit.patch import LeadPatch
from leadkit.values import Address, Money, PersonName, require_aware

__all__ = ["DEMO_SELLERS", "DemoLead", "demo_batches", "demo_leads"]

DEMO_SELLERS: Final = ("anna.s", "bo.k", "cecilia.m", "david.l", "eva.n")
"""The user ids the demo assigns leads to."""


# The generator passes these constructors arguments of exactly the declared types (text it
# made, Decimal amounts, the fields a lead has), so leadkit's argument type checks could never
# refuse one: built without them (the same values, validators and converters; see
# fastcodec.unchecked), as a test compares with the checked constructors.
_PersonName: Final = unchecked(PersonName)
_Address: Final = unchecked(Address)
_Money: Final = unchecked(Money)
_Patch: Final = unchecked(LeadPatch)


def _patch(fields: dict[str, object]) -> LeadPatch:
    """``LeadPatch.from_mapping(fields)`` for the generator's fields, all of them patch
    fields (see _Patch)."""
    return _Patch(**fields)


@attrs.frozen
class _Company:
    country: _Country
    name: str
    base: str  # the name without the legal form
    domain: str
    city: str
    postal_code: str
    area: str
    switchboard: str


def _postal(rng: _Rng, pattern: str) -> str:
    out = []
    for char in pattern:
        if char == "#":
            out.append(str(rng.randrange(10)))
        elif char == "A":
            out.append(rng.choice("ABDEFGHJLNPQRSTUWXYZ"))
        else:
            out.append(char)
    return "".join(out)


def _company(seed: int, k: int) -> _Company:
    """Company number ``k``: always the same for a seed, whoever asks first."""
    rng = _Rng(seed * 1_000_003 + k * 7919 + 17)
    country = _weighted(rng, _COUNTRIES)
    style = rng.random()
    trade = rng.choice(country.trades)
    if style < 0.45:
        root = rng.choice(country.roots)
        joined = root + (trade if country.code in ("SE", "NO", "DK", "FI") else " " + trade)
        base = joined[0].upper() + joined[1:]
    elif style < 0.8:
        base = f"{country.surnames.pick(rng)} {trade.capitalize()}"
    elif style < 0.9:
        base = f"{country.surnames.pick(rng)} & {country.surnames.pick(rng)}"
    else:
        base = f"{rng.choice(country.roots)} {rng.choice(country.roots)} {trade.capitalize()}"
    form = _weighted(rng, country.forms)
    name = f"{base} {form}".strip()
    domain = f"{_ascii(base.replace(' ', ''))}.{country.tld}"
    city, pattern, area = rng.choice(country.cities)
    switchboard = _phone(rng, country, area, rng.digits(country.national_digits - len(area)))
    return _Company(
        country=country,
        name=name,
        base=base,
        domain=domain,
        city=city,
        postal_code=_postal(rng, pattern),
        area=area,
        switchboard=switchboard,
    )


def _group(digits: str, style: int) -> str:
    if style == 0:
        return digits
    if style == 1:
        parts = [digits[i : i + 2] for i in range(0, len(digits), 2)]
        if len(parts) > 1 and len(parts[-1]) == 1:
            parts[-2:] = [parts[-2] + parts[-1]]
        return " ".join(parts)
    return f"{digits[:3]} {digits[3:]}".strip()


def _phone(rng: _Rng, country: _Country, area: str, local: str, style: int | None = None) -> str:
    """An international number in one of the ways people write one."""
    style = rng.randrange(4) if style is None else style
    if style == 0:
        return f"+{country.calling} {area} {_group(local, 1)}"
    if style == 1:
        return f"+{country.calling} {area} {_group(local, 2)}"
    if style == 2:
        return f"+{country.calling}{area}{local}"
    return f"+{country.calling}-{area}-{local}"


@attrs.frozen
class _Person:
    first: str
    last: str
    country: _Country
    company: _Company | None
    email: str
    business_phone: str
    mobile_phone: str


_LOCAL_FORMS: Final = ((0, 0.6), (1, 0.12), (2, 0.08), (3, 0.1), (4, 0.1))
"""How often each form of an e-mail address's local part is picked (see _email_local)."""


def _email_local(rng: _Rng, first: str, last: str) -> str:
    f, last_part = _ascii(first), _ascii(last.replace(" ", ""))
    form = _weighted(rng, _LOCAL_FORMS)
    if form == 0:
        return f"{f}.{last_part}"
    if form == 1:
        return f"{f[:1]}.{last_part}"
    if form == 2:
        return f"{f}{last_part[:1]}"
    return f"{f[:1]}{last_part}" if form == 3 else f


# ---------------------------------------------------------------------------------------------
# The generator


@attrs.frozen
class DemoLead:
    """One generated lead: its fields, when it was created and, for a lead typed in again,
    the index (0-based, in generation order) of the lead it duplicates."""

    patch: LeadPatch
    created_at: datetime
    duplicate_of: int | None = None


@attrs.frozen
class _Raw:
    index: int
    fields: dict[str, object]
    first: str
    last: str
    company: _Company | None
    created_at: datetime


class _Generator:
    def __init__(self, count: int, seed: int, end: datetime, days: int) -> None:
        self.rng = _Rng(seed)
        self.seed = seed
        self.count = count
        self.end = end
        self.span = timedelta(days=days)
        # About three leads per company on average, a few companies with many.
        self.companies = max(20, count // 3)
        self._cache: dict[int, _Company] = {}
        self._emails: set[str] = set()
        self._staff: dict[str, set[tuple[str, str]]] = {}

    def email(self, local: str, domain: str) -> str:
        """``local@domain``, numbered when someone else has that address already."""
        address, n = f"{local}@{domain}", 2
        while address in self._emails:
            address, n = f"{local}{n}@{domain}", n + 1
        self._emails.add(address)
        return address

    def company(self) -> _Company:
        k = int(self.companies * self.rng.random() ** 1.2)
        found = self._cache.get(k)
        if found is None:
            found = self._cache[k] = _company(self.seed, k)
        return found

    def created_at(self, n: int) -> datetime:
        step = self.span / max(self.count, 1)
        jitter = timedelta(seconds=self.rng.randrange(max(int(step.total_seconds()), 1)))
        return self.end - self.span + step * n + jitter

    def person(self) -> _Person:
        rng = self.rng
        company = self.company() if rng.random() < 0.93 else None
        country = (
            company.country
            if company is not None and rng.random() < 0.9
            else _weighted(rng, _COUNTRIES)
        )
        names = (country.female if rng.random() < 0.48 else country.male), country.surnames
        first, last = names[0].pick(rng), names[1].pick(rng)
        if company is not None:
            # Namesakes at one company are rare: draw again (a few times) for a name taken.
            staff = self._staff.setdefault(company.name, set())
            for _ in range(3):
                if (first, last) not in staff:
                    break
                first, last = names[0].pick(rng), names[1].pick(rng)
            staff.add((first, last))
        mail = rng.random()
        if company is not None and mail < 0.75:
            email = self.email(_email_local(rng, first, last), company.domain)
        elif mail < 0.95:
            number = "" if rng.random() < 0.3 else str(rng.randrange(1955, 2004))
            local = f"{_ascii(first)}.{_ascii(last)}{number}"
            email = self.email(local, rng.choice(country.free_mail))
        else:
            email = ""
        home = company.country if company is not None else country
        area = company.area if company is not None else rng.choice(home.cities)[2]
        phone = rng.random()
        if phone < 0.65:
            business = _phone(rng, home, area, rng.digits(home.national_digits - len(area)))
        elif phone < 0.8 and company is not None:
            business = company.switchboard
        else:
            business = ""
        mobile = ""
        if rng.random() < 0.4:
            prefix = rng.choice(home.mobile)
            mobile = _phone(rng, home, prefix, rng.digits(home.national_digits - len(prefix)))
        return _Person(first, last, home, company, email, business, mobile)

    def original(self, n: int) -> _Raw:
        rng = self.rng
        person = self.person()
        company = person.company
        country = person.country
        rating = _weighted(rng, _RATINGS)
        topic_form = _weighted(rng, _TOPIC_FORMS)
        topic = (
            topic_form.replace("{P}", rng.choice(_PRODUCTS))
            .replace("{N}", str(rng.choice((5, 10, 20, 25, 50, 120, 300))))
            .replace("{C}", company.base if company is not None else person.last)
        )
        topic = topic[0].upper() + topic[1:]
        fields: dict[str, object] = {
            "topic": topic,
            "name": _PersonName(first=person.first, last=person.last),
            "company": company.name if company is not None else "",
            "job_title": _weighted(rng, _TITLES),
            "email": person.email or None,
            "business_phone": person.business_phone or None,
            "mobile_phone": person.mobile_phone or None,
            "source": _weighted(rng, _SOURCES),
            "rating": rating,
            "budget": _weighted(rng, _BUDGETS[rating]),
            "need": _weighted(rng, _NEEDS[rating]),
            "purchase_timeframe": _weighted(rng, _TIMEFRAMES[rating]),
        }
        if company is not None:
            fields["address"] = _Address(
                city=company.city, postal_code=company.postal_code, country=country.country
            )
            if rng.random() < 0.3:
                fields["website"] = f"https://www.{company.domain}"
        if rng.random() < 0.45:
            thousands = int(2 + 400 * rng.random() ** 3)  # many small deals, a few big ones
            amount = Decimal(thousands * _PER_THOUSAND_EUR[country.currency] * 1000)
            fields["estimated_value"] = _Money(amount, country.currency)
        return _Raw(n, fields, person.first, person.last, company, self.created_at(n))

    def duplicate(self, original: _Raw, n: int) -> _Raw:
        """``original`` typed in again: one or two changes, never every way to match it."""
        rng = self.rng
        fields = dict(original.fields)
        first, last = original.first, original.last
        changes = {_weighted(rng, _CHANGES) for _ in range(1 + (rng.random() < 0.4))}
        if "typo" in changes:
            last = _typo(rng, last)
        if "nickname" in changes:
            first = _NICKNAMES.get(first, first)
        if "accents" in changes:
            first, last = _deaccent(first), _deaccent(last)
        if "case" in changes:
            first, last = first.upper(), last.upper()
        fields["name"] = _PersonName(first=first, last=last)
        email = str(fields.get("email") or "")
        if "email-case" in changes and email:
            fields["email"] = email.upper()
        if "other-email" in changes and email and original.company is not None:
            country = original.company.country
            local = f"{_ascii(first)}.{_ascii(last)}{rng.randrange(1955, 2004)}"
            fields["email"] = self.email(local, rng.choice(country.free_mail))
        phone = str(fields.get("business_phone") or "")
        if "phone-format" in changes and phone:
            digits = "".join(c for c in phone if c.isdigit())
            fields["business_phone"] = "+" + digits
        if "no-phone" in changes:
            fields["business_phone"] = None
        company = original.company
        if "legal-form" in changes and company is not None:
            fields["company"] = company.base if company.name != company.base else company.name
        if rng.random() < 0.5:
            fields["topic"] = "Re: " + str(fields["topic"])
        created = max(original.created_at, self.created_at(n))
        created += timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(1, 600))
        return _Raw(original.index, fields, first, last, company, min(created, self.end))


_CHANGES: Final = (
    ("typo", 0.22),
    ("nickname", 0.12),
    ("accents", 0.1),
    ("case", 0.08),
    ("email-case", 0.12),
    ("other-email", 0.1),
    ("phone-format", 0.12),
    ("no-phone", 0.06),
    ("legal-form", 0.08),
)


def _typo(rng: _Rng, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swap two letters
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:  # drop one
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]  # double one


def demo_leads(
    count: int,
    *,
    end: datetime,
    seed: int = 2024,
    days: int = 540,
    duplicate_share: float = 0.025,
) -> Iterator[DemoLead]:
    """``count`` demo leads created over the ``days`` before ``end``, in creation order;
    about ``duplicate_share`` of them re-type an earlier lead (``duplicate_of`` says which).
    Deterministic for a seed and ``end``.

    Raises InvalidValue for a negative ``count``, a naive ``end``, ``days`` < 1 or a share
    outside 0-0.5.
    """
    require_aware("end", end)
    if count < 0:
        raise InvalidValue("count", count, "must not be negative")
    if days < 1:
        raise InvalidValue("days", days, "must be at least 1")
    if not 0 <= duplicate_share <= 0.5:
        raise InvalidValue("duplicate_share", duplicate_share, "must be between 0 and 0.5")
    gen = _Generator(count, seed, end, days)
    recent: list[_Raw] = []
    for n in range(count):
        if recent and gen.rng.random() < duplicate_share:
            original = recent[gen.rng.randrange(len(recent))]
            raw = gen.duplicate(original, n)
            yield DemoLead(_patch(raw.fields), raw.created_at, original.index)
            continue
        raw = gen.original(n)
        recent.append(raw)
        if len(recent) > 2000:
            recent.pop(0)
        yield DemoLead(_patch(raw.fields), raw.created_at)


def _produce(
    out: multiprocessing.queues.Queue[list[DemoLead] | None],
    count: int,
    end: datetime,
    seed: int,
    size: int,
) -> None:  # pragma: no cover - runs in the child process
    batch: list[DemoLead] = []
    for made in demo_leads(count, end=end, seed=seed):
        batch.append(made)
        if len(batch) == size:
            out.put(batch)
            batch = []
    out.put(batch)
    out.put(None)


def demo_batches(
    count: int, *, end: datetime, seed: int = 2024, size: int = 1000
) -> Iterator[list[DemoLead]]:
    """:func:`demo_leads` in lists of ``size``, made in a child process while the caller
    stores the previous ones (generating, with the validation of every e-mail address and
    phone number, costs about as much as storing). The same leads as :func:`demo_leads`.

    Raises InvalidValue for a negative ``count``, a naive ``end`` or a ``size`` below 1;
    RuntimeError when the child process dies.
    """
    require_aware("end", end)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidValue("size", size, "must be at least 1")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidValue("count", count, "must be a whole number, not negative")
    if count == 0:
        return
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.queues.Queue[list[DemoLead] | None] = context.Queue(maxsize=8)
    child = context.Process(target=_produce, args=(out, count, end, seed, size), daemon=True)
    try:
        child.start()  # inside: an interrupt while it starts still ends the child below
        while True:
            try:
                batch = out.get(timeout=5.0)
            except Exception as e:  # queue.Empty: is the child still there?
                if not child.is_alive():
                    raise RuntimeError("the demo data process died") from e
                continue
            if batch is None:
                return
            yield batch
    finally:
        if child.pid is not None:
            if child.is_alive():
                child.terminate()
            child.join()
