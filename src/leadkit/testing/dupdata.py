"""A seeded generator of realistic lead data with known duplicates, to measure duplicate rules.

:func:`generate_leads` makes Swedish, Polish, German, British and American leads: people with
common and rare names working at companies of very different sizes (so colleagues share a
company, a switchboard, an e-mail domain and often a last name), plus duplicates of some of
them, typed again the way people do: typos, swapped first and last names, nicknames, accents
dropped or transliterated, upper case, phone numbers in another format, e-mail addresses in
another case or another address altogether, company legal forms added, dropped or spelled
out, and fields left blank. Every row names the real person (``entity``), so the true
duplicate pairs are known; :func:`pair_quality` scores predicted pairs against them.

The same seed always gives the same rows. Nothing here is tuned to a rule set: the
probabilities describe messy data, not what the default rules happen to catch.

The parts live in modules of their own: :mod:`~leadkit.testing.dupdata_locales` (names and
companies per locale), :mod:`~leadkit.testing.dupdata_damage` (phones and typos) and
:mod:`~leadkit.testing.dupdata_rows` (rows, the dataset, pair quality; re-exported here).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from leadkit.duplicates.normalize import strip_accents
from leadkit.errors import InvalidValue
from leadkit.testing.dupdata_damage import (
    _ascii,
    _brand,
    _deaccent,
    _format_phone,
    _new_phone,
    _Phone,
    _postal,
    _slug,
    _typo,
)
from leadkit.testing.dupdata_locales import _LOCALES, _Locale
from leadkit.testing.dupdata_rows import DuplicateDataset, LeadRow, PairQuality, pair_quality

__all__ = [
    "DuplicateDataset",
    "LeadRow",
    "PairQuality",
    "generate_leads",
    "pair_quality",
]


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@attrs.frozen
class _Company:
    name: str
    core: str
    legal_form: str
    domain: str
    locale: _Locale
    city: tuple[str, str]
    switchboard: _Phone | None
    role_mailbox: str


@attrs.frozen
class _Person:
    entity: int
    locale: _Locale
    first: str
    last: str
    company: _Company | None
    email: str
    business: _Phone | None
    business_style: int
    mobile: _Phone | None
    mobile_style: int
    city: tuple[str, str]
    website: str
    created_at: datetime


def _weighted(rng: random.Random, options: Sequence[tuple[_Locale, float]]) -> _Locale:
    roll = rng.random() * sum(w for _, w in options)
    for option, weight in options:
        roll -= weight
        if roll <= 0:
            return option
    return options[-1][0]


def _zipf_weights(size: int, exponent: float) -> list[float]:
    """Cumulative weights: rank r is drawn with weight 1 / r**exponent (a few names are very
    common, most are rare)."""
    total, out = 0.0, []
    for rank in range(1, size + 1):
        total += 1 / rank**exponent
        out.append(total)
    return out


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.emails: set[str] = set()
        self.pools: dict[str, list[_Company]] = {}
        self.tickets: dict[str, list[_Company]] = {}
        self.company_names: set[str] = set()
        self.phones: set[str] = set()
        self._ascii: dict[str, str] = {}
        self._weights: dict[tuple[int, float], list[float]] = {}

    def zipf(self, items: Sequence[str], exponent: float) -> str:
        key = (len(items), exponent)
        weights = self._weights.get(key)
        if weights is None:
            weights = self._weights[key] = _zipf_weights(len(items), exponent)
        return self.rng.choices(items, cum_weights=weights)[0]

    def ascii(self, text: str) -> str:
        found = self._ascii.get(text)
        if found is None:
            found = self._ascii[text] = _ascii(text)
        return found

    # Material -------------------------------------------------------------------------------

    def surname(self, locale: _Locale, female: bool) -> str:
        rng = self.rng
        if rng.random() < 0.55:
            base = self.zipf(locale.surnames, 0.7)
        else:
            base = rng.choice(locale.surname_heads) + rng.choice(locale.surname_tails)
            base = base[0].upper() + base[1:].lower()
        return locale.feminine(base) if female else base

    def phone(self, locale: _Locale, *, mobile: bool) -> _Phone:
        while True:
            phone = _new_phone(self.rng, locale, mobile=mobile)
            key = phone.locale + phone.national
            if key not in self.phones:
                self.phones.add(key)
                return phone

    def company(self, locale: _Locale) -> _Company:
        rng = self.rng
        tries = 0
        while True:
            tries += 1
            roll = rng.random()
            if tries > 3 or roll < 0.15:
                # An invented brand ("Kelmora", "Vantrix Logistics"): endless variety.
                core = _brand(rng)
                if rng.random() < 0.5:
                    core = f"{core} {rng.choice(locale.company_tails).capitalize()}"
            elif roll < 0.4:
                owner = self.surname(locale, female=False)
                core = f"{owner} {rng.choice(locale.company_tails).capitalize()}"
            elif locale.code in ("GB", "US"):
                core = f"{rng.choice(locale.company_roots)} {rng.choice(locale.company_tails)}"
            else:
                core = rng.choice(locale.company_roots) + rng.choice(locale.company_tails)
                if rng.random() < 0.3:
                    core = f"{core} {rng.choice(locale.company_roots)}"
            if core not in self.company_names:
                break
        self.company_names.add(core)
        forms = locale.legal_forms
        legal = rng.choices([f for f, _ in forms], [w for _, w in forms])[0]
        name = f"{core} {legal}".strip()
        domain = f"{_slug(core).replace('-', '')}.{locale.tld}"
        switchboard = self.phone(locale, mobile=False) if rng.random() < 0.35 else None
        role = rng.choice(locale.role_mailboxes)
        return _Company(name, core, legal, domain, locale, self.address(locale), switchboard, role)

    def address(self, locale: _Locale) -> tuple[str, str]:
        """A city of the locale and a postal code in it."""
        city, pattern = self.rng.choice(locale.cities)
        return city, _postal(self.rng, pattern)

    def pick_company(self, locale: _Locale) -> _Company | None:
        """A company for a new person: 12% have none. A new company one time in five;
        otherwise an existing one, half the time in proportion to its size (big companies
        get bigger) and half the time any of them, which gives a few large companies and
        many small ones."""
        rng = self.rng
        if rng.random() < 0.12:
            return None
        pool = self.pools.setdefault(locale.code, [])
        tickets = self.tickets.setdefault(locale.code, [])
        if not pool or rng.random() < 0.2:
            company = self.company(locale)
            pool.append(company)
        elif rng.random() < 0.5:
            company = rng.choice(tickets)
        else:
            company = rng.choice(pool)
        tickets.append(company)
        return company

    def email(self, locale: _Locale, first: str, last: str, company: _Company | None) -> str:
        rng = self.rng
        f, la = self.ascii(first), self.ascii(last)
        roll = rng.random()
        if company is not None and roll < 0.04:
            return f"{company.role_mailbox}@{company.domain}"  # shared by colleagues
        patterns: tuple[str, ...]
        if company is not None and roll < 0.68:
            patterns = (f"{f}.{la}", f"{f[0]}.{la}", f"{f}{la}", f"{f}", f"{f[0]}{la}", f"{la}.{f}")
            choice = rng.choices(patterns, (50, 15, 8, 8, 12, 7))[0]
            domain = company.domain
        elif roll < 0.92:
            patterns = (f"{f}.{la}", f"{f}{la}", f"{la}.{f}", f"{f}_{la}", f"{f[0]}{la}")
            choice = rng.choice(patterns)
            if rng.random() < 0.5:
                choice += str(rng.randrange(1, 99))
            domain = rng.choice(locale.free_mail)
        else:
            return ""
        address = f"{choice}@{domain}"
        counter = 2
        while address in self.emails:
            address = f"{choice}{counter}@{domain}"
            counter += 1
        self.emails.add(address)
        return address

    def person(self, entity: int) -> _Person:
        rng = self.rng
        locale = _weighted(rng, _LOCALES)
        female = rng.random() < 0.5
        first = self.zipf(locale.female if female else locale.male, 0.6)
        last = self.surname(locale, female)
        company = self.pick_company(locale)
        business: _Phone | None = None
        if company is not None and rng.random() < 0.75:
            switchboard = company.switchboard
            use_switchboard = switchboard is not None and rng.random() < 0.5
            business = switchboard if use_switchboard else self.phone(locale, mobile=False)
        mobile = self.phone(locale, mobile=True) if rng.random() < 0.6 else None
        website = ""
        if company is not None and rng.random() < 0.3:
            website = rng.choice(
                (f"www.{company.domain}", f"https://{company.domain}", company.domain)
            )
        city = company.city if company is not None and rng.random() < 0.8 else self.address(locale)
        created = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(1_000_000))
        return _Person(
            entity=entity,
            locale=locale,
            first=first,
            last=last,
            company=company,
            email=self.email(locale, first, last, company),
            business=business,
            business_style=rng.randrange(7),
            mobile=mobile,
            mobile_style=rng.randrange(7),
            city=city,
            website=website,
            created_at=created,
        )

    # Rows -----------------------------------------------------------------------------------

    def original(self, person: _Person, row_id: str) -> LeadRow:
        company = person.company
        return LeadRow(
            id=row_id,
            entity=person.entity,
            locale=person.locale.code,
            first_name=person.first,
            last_name=person.last,
            company=company.name if company else "",
            email=person.email,
            business_phone=_format_phone(person.business, person.business_style)
            if person.business
            else "",
            mobile_phone=_format_phone(person.mobile, person.mobile_style) if person.mobile else "",
            business_e164=person.business.e164 if person.business else "",
            mobile_e164=person.mobile.e164 if person.mobile else "",
            region=person.locale.region,
            city=person.city[0],
            postal_code=person.city[1],
            website=person.website,
            created_at=person.created_at,
        )

    def duplicate(self, person: _Person, original: LeadRow, row_id: str) -> LeadRow:
        """``original`` typed again: each part damaged (or not) in turn, the changes listed."""
        rng = self.rng
        changes: list[str] = []
        first, last = self._retyped_name(person, original, changes)
        email = self._retyped_email(person, original, changes)
        business, mobile, business_e164, mobile_e164 = self._retyped_phones(
            person, original, changes
        )
        company = self._retyped_company(person, original, changes)
        website = original.website if rng.random() < 0.5 else ""
        city, postal = (original.city, original.postal_code) if rng.random() < 0.6 else ("", "")
        created = original.created_at + timedelta(days=rng.randrange(1, 400))
        if not changes:
            changes.append("retyped")
        return attrs.evolve(
            original,
            id=row_id,
            first_name=first,
            last_name=last,
            company=company,
            email=email,
            business_phone=business,
            mobile_phone=mobile,
            business_e164=business_e164,
            mobile_e164=mobile_e164,
            website=website,
            city=city,
            postal_code=postal,
            created_at=created,
            changes=tuple(changes),
        )

    def _retyped_name(
        self, person: _Person, original: LeadRow, changes: list[str]
    ) -> tuple[str, str]:
        """Names: most duplicates are typed again by someone else, from a card or a call."""
        rng = self.rng
        first, last = original.first_name, original.last_name
        nicknames = dict(person.locale.nicknames)
        if first in nicknames and rng.random() < 0.12:
            first = rng.choice(nicknames[first])
            changes.append("nickname")
        if rng.random() < 0.14:
            last = _typo(rng, last)
            changes.append("typo-last")
        if rng.random() < 0.1:
            first = _typo(rng, first)
            changes.append("typo-first")
        if rng.random() < 0.15 and (first != strip_accents(first) or last != strip_accents(last)):
            first, last = _deaccent(rng, first), _deaccent(rng, last)
            changes.append("accents")
        if rng.random() < 0.04:
            first = f"{first[0]}."
            changes.append("initial")
        elif rng.random() < 0.03:
            first = f"{first} {rng.choice(person.locale.female + person.locale.male)}"
            changes.append("middle-name")
        if rng.random() < 0.02:
            last = self.surname(person.locale, female=False)
            changes.append("new-last-name")
        if rng.random() < 0.07:
            first, last = last, first
            changes.append("swapped")
        case = rng.random()
        if case < 0.05:
            first, last = first.upper(), last.upper()
            changes.append("upper")
        elif case < 0.09:
            first, last = first.lower(), last.lower()
            changes.append("lower")

        return first, last

    def _retyped_email(self, person: _Person, original: LeadRow, changes: list[str]) -> str:
        """E-mail: the same, in another case, another address, or none."""
        rng = self.rng
        email = original.email
        roll = rng.random()
        if email and roll < 0.15:
            local, _, domain = email.partition("@")
            email = f"{local.title()}@{domain.upper() if rng.random() < 0.5 else domain}"
            changes.append("email-case")
        elif roll < 0.35:
            other = self.email(person.locale, person.first, person.last, person.company)
            if other != email:
                email = other
                changes.append("email-other")
        elif roll < 0.6:
            email = ""
            changes.append("email-missing")

        return email

    def _retyped_phones(
        self, person: _Person, original: LeadRow, changes: list[str]
    ) -> tuple[str, str, str, str]:
        """Phones: another format, missing, or a new mobile number."""
        rng = self.rng
        business, mobile = original.business_phone, original.mobile_phone
        business_e164, mobile_e164 = original.business_e164, original.mobile_e164
        if business and person.business is not None:
            roll = rng.random()
            if roll < 0.4:
                business = _format_phone(person.business, rng.randrange(7))
                changes.append("phone-format")
            elif roll < 0.75:
                business = business_e164 = ""
                changes.append("phone-missing")
        if mobile and person.mobile is not None:
            roll = rng.random()
            if roll < 0.4:
                mobile = _format_phone(person.mobile, rng.randrange(7))
                changes.append("mobile-format")
            elif roll < 0.75:
                mobile = mobile_e164 = ""
                changes.append("mobile-missing")
        if rng.random() < 0.15 and not mobile:
            # A mobile number the original did not have: new information.
            spare = self.phone(person.locale, mobile=True)
            mobile, mobile_e164 = _format_phone(spare, rng.randrange(7)), spare.e164
            changes.append("phone-new")

        return business, mobile, business_e164, mobile_e164

    def _retyped_company(self, person: _Person, original: LeadRow, changes: list[str]) -> str:
        """Company: another legal form, case or a typo, or none."""
        rng = self.rng
        company = original.company
        if company and person.company is not None:
            roll = rng.random()
            core, legal = person.company.core, person.company.legal_form
            variants = dict(person.locale.legal_variants).get(legal, ("",))
            if roll < 0.25:
                company = f"{core} {rng.choice(variants)}".strip()
                changes.append("legal-form")
            elif roll < 0.33:
                company = company.upper() if rng.random() < 0.5 else company.lower()
                changes.append("company-case")
            elif roll < 0.4:
                company = f"{_typo(rng, core)} {legal}".strip()
                changes.append("company-typo")
            elif roll < 0.55:
                company = ""
                changes.append("company-missing")

        return company


def generate_leads(n: int, *, seed: int = 0, duplicate_share: float = 0.22) -> DuplicateDataset:
    """``n`` generated leads, about ``duplicate_share`` of them duplicates of another.

    Four in five duplicated people appear twice, one in five three times. Rows are numbered
    ``L0000001``... in a shuffled order (and returned sorted by id), so ids say nothing about
    duplicates.
    Raises InvalidValue for ``n`` < 1 or a share outside 0-0.5.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidValue("n", n, "must be a positive integer")
    if not 0 <= duplicate_share <= 0.5:
        raise InvalidValue("duplicate_share", duplicate_share, "must be between 0 and 0.5")
    gen = _Generator(seed)
    rng = gen.rng
    # Ids are drawn in a shuffled order, so that they say nothing about duplicates.
    width = max(7, len(str(n)))
    ids = [f"L{i:0{width}d}" for i in range(1, n + 1)]
    rng.shuffle(ids)
    rows: list[LeadRow] = []
    entity = 0
    while len(rows) < n:
        entity += 1
        person = gen.person(entity)
        original = gen.original(person, ids[len(rows)])
        rows.append(original)
        # Each original gets duplicates with the probability that yields the wanted share:
        # with 1.2 copies on average, p * 1.2 / (1 + p * 1.2) = share.
        p = duplicate_share / (1.2 * (1 - duplicate_share)) if duplicate_share < 1 else 1
        if rng.random() < p:
            copies = 2 if rng.random() < 0.2 else 1
            for _ in range(copies):
                if len(rows) < n:
                    rows.append(gen.duplicate(person, original, ids[len(rows)]))
    rows.sort(key=lambda row: row.id)
    return DuplicateDataset(seed, tuple(rows))
