"""The import preview: :func:`plan_import` reads a file and the store and says, row by row,
what an import would do, writing nothing.

Every data row of the file gets exactly one :class:`PlannedRow`: create, update, skip (blank,
matches a stored lead, unchanged, duplicate in the file or of a stored record) or reject (with
a :class:`RowError` per bad cell). Duplicates are found by the duplicate engine
(:func:`leadkit.duplicates.engine.check_import`): inside the file and against the stored leads,
contacts and accounts.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from typing import Any, Final, cast

import attrs
import phonenumbers

from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.duplicates.rules import DEFAULT_LEAD_RULES, DuplicateRuleSet
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import CustomFields, LeadSource
from leadkit.io.drafts import LEAD_DEFAULTS, DraftView, draft_record
from leadkit.io.file_check import file_duplicate_groups
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits
from leadkit.io.mapping import (
    ColumnMapping,
    DateOrder,
    ParsedRow,
    ParseOptions,
    RowError,
    RowParser,
    suggest_mapping,
)
from leadkit.io.progress import ProgressCallback, _Meter
from leadkit.io.readers import Source, SourceRow, open_source
from leadkit.io.source import Data
from leadkit.io.stored import StoredSide, build_duplicate_index, check_keyed, reading
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore, UnitOfWork
from leadkit.profiles import DEFAULT_PROFILE, FieldProfile
from leadkit.shards import Shard
from leadkit.values import EmailAddress, LeadId, UserRef, currency_exponent

__all__ = [
    "PLAN_BATCH_SIZE",
    "DuplicateAction",
    "ExistingAction",
    "FileDuplicateGroup",
    "ImportPlan",
    "ImportPolicy",
    "ImportTotals",
    "PlannedRow",
    "RowAction",
    "SkipReason",
    "build_duplicate_index",
    "merge_import_plans",
    "plan_import",
]


class ExistingAction(Enum):
    """What to do with a row that matches a stored lead (by id, or by e-mail)."""

    SKIP = "skip"
    UPDATE = "update"


class DuplicateAction(Enum):
    """What to do with a row the duplicate engine flags (in the file or against the store)."""

    SKIP = "skip"
    """Skip it, keeping the first row of each in-file group."""
    CREATE = "create"
    """Create it anyway; the matches stay in the plan and the report as warnings."""


class RowAction(Enum):
    """What the import does with one row."""

    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    REJECT = "reject"


class SkipReason(Enum):
    """Why a row is skipped."""

    BLANK = "blank row"
    EXISTING = "matches a stored lead (policy: skip existing)"
    EXISTING_CLOSED = "matches a closed (qualified or disqualified) lead"
    UNCHANGED = "matches a stored lead and changes nothing"
    DUPLICATE_IN_FILE = "duplicate of an earlier row in the file"
    DUPLICATE_OF_STORED = "possible duplicate of a stored record"


def _region(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigurationError("import policy", f"phone_region {value!r} is not a region code")
    return value.upper()


def _currency(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        currency_exponent(value.strip().upper())
    except (InvalidValue, AttributeError):
        raise ConfigurationError("import policy", f"currency {value!r} is not ISO 4217") from None
    return value.strip().upper()


@attrs.frozen(kw_only=True)
class ImportPolicy:
    """How an import reads cells and treats matches. Checked when built (ConfigurationError).

    - ``profile``: the required-field profile rows must satisfy (D365 by default).
    - ``phone_region``: the default region of phone numbers without a country code
      (``"SE"``: ``070-123 45 67`` -> ``+46701234567``); None means numbers must start with ``+``.
    - ``currency``: the currency of amounts in rows without a currency column.
    - ``date_order``: ``"DMY"`` or ``"MDY"`` for slash dates.
    - ``on_existing``: a row whose id column names a stored lead, or (``match_by_email``)
      whose e-mail is a stored lead's, is skipped (default) or updates that lead.
    - ``check_duplicates`` / ``on_duplicate`` / ``rule_set``: the duplicate engine's check in
      the file and against stored leads, contacts and accounts; flagged rows are skipped
      (default) or created anyway.
    - ``batch_size``: rows per unit of work in :func:`run_import` (None: all in one).
    - ``owner``: owner of created leads (default: the importing user); ``default_source``:
      the lead source of rows without one.
    - ``limits``: the :class:`~leadkit.io.ReadLimits` a file opened by :func:`plan_import`
      must keep (columns, cell size, archive sizes; see docs/import-export.md).
    """

    profile: FieldProfile = DEFAULT_PROFILE
    phone_region: str | None = attrs.field(default=None, converter=_region)
    currency: str | None = attrs.field(default=None, converter=_currency)
    date_order: DateOrder = "DMY"
    on_existing: ExistingAction = ExistingAction.SKIP
    match_by_email: bool = True
    check_duplicates: bool = True
    on_duplicate: DuplicateAction = DuplicateAction.SKIP
    rule_set: DuplicateRuleSet = DEFAULT_LEAD_RULES
    batch_size: int | None = None
    owner: UserRef | None = None
    default_source: LeadSource | None = None
    limits: ReadLimits = DEFAULT_READ_LIMITS

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.limits, ReadLimits):
            raise ConfigurationError("import policy", "limits must be a ReadLimits")
        if self.date_order not in ("DMY", "MDY"):
            raise ConfigurationError("import policy", "date_order must be 'DMY' or 'MDY'")
        size = self.batch_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ConfigurationError("import policy", "batch_size must be a positive integer")

    @property
    def parse_options(self) -> ParseOptions:
        """How cells are read under this policy."""
        return ParseOptions(self.phone_region, self.currency, self.date_order)


@attrs.frozen
class PlannedRow:
    """What the import does with one data row.

    ``patch`` is what a create or update writes (for an update only the changed fields);
    ``lead_id`` the stored lead an update (or skip) concerns, or the id a create takes from
    the file's id column; ``matches`` the stored records the duplicate engine flagged;
    ``duplicate_of_row`` the kept row of its in-file duplicate group.
    """

    number: int
    action: RowAction
    patch: LeadPatch | None = None
    lead_id: LeadId | None = None
    expected_version: int | None = None
    errors: tuple[RowError, ...] = ()
    skip_reason: SkipReason | None = None
    matches: tuple[DuplicateMatch, ...] = ()
    duplicate_of_row: int | None = None

    @property
    def reason(self) -> str:
        """One line saying why (empty for a plain create)."""
        if self.action is RowAction.REJECT:
            return "; ".join(e.describe() for e in self.errors)
        if self.skip_reason is SkipReason.DUPLICATE_IN_FILE and self.duplicate_of_row:
            return f"duplicate of row {self.duplicate_of_row}"
        if self.skip_reason is SkipReason.DUPLICATE_OF_STORED and self.matches:
            best = self.matches[0]
            return f"possible duplicate of {best.candidate} (rule {best.rule})"
        if self.skip_reason is not None:
            suffix = f" {self.lead_id}" if self.lead_id is not None else ""
            return self.skip_reason.value + suffix
        if self.action is RowAction.UPDATE:
            return f"updates {self.lead_id}"
        return ""


@attrs.frozen
class FileDuplicateGroup:
    """Rows of the file that are duplicates of one another: their numbers, the row kept (the
    first one planned for creation, if any) and the engine's evidence."""

    rows: tuple[int, ...]
    kept: int | None
    edges: tuple[DuplicateMatch, ...]


@attrs.frozen
class ImportTotals:
    """Row counts: ``rows`` = ``create + update + skip + reject``."""

    rows: int
    create: int
    update: int
    skip: int
    reject: int
    skipped: Mapping[SkipReason, int]


@attrs.frozen
class ImportPlan:
    """The preview of an import: a :class:`PlannedRow` for every data row of the file, the
    in-file duplicate groups, and the mapping and policy it was made with.

    ``fingerprint`` identifies the plan (checkpoints carry it, so a resume cannot continue
    another plan). Nothing has been written when you hold one.
    """

    source: str
    headers: tuple[str, ...]
    mapping: ColumnMapping
    policy: ImportPolicy
    rows: tuple[PlannedRow, ...]
    file_duplicates: tuple[FileDuplicateGroup, ...]
    fingerprint: str

    @property
    def totals(self) -> ImportTotals:
        """How many rows each action takes."""
        counts = dict.fromkeys(RowAction, 0)
        reasons: dict[SkipReason, int] = {}
        for row in self.rows:
            counts[row.action] += 1
            if row.skip_reason is not None:
                reasons[row.skip_reason] = reasons.get(row.skip_reason, 0) + 1
        return ImportTotals(
            rows=len(self.rows),
            create=counts[RowAction.CREATE],
            update=counts[RowAction.UPDATE],
            skip=counts[RowAction.SKIP],
            reject=counts[RowAction.REJECT],
            skipped=reasons,
        )

    def _with(self, action: RowAction) -> tuple[PlannedRow, ...]:
        return tuple(r for r in self.rows if r.action is action)

    @property
    def to_create(self) -> tuple[PlannedRow, ...]:
        """The rows that will become new leads."""
        return self._with(RowAction.CREATE)

    @property
    def to_update(self) -> tuple[PlannedRow, ...]:
        """The rows that will update stored leads."""
        return self._with(RowAction.UPDATE)

    @property
    def skipped(self) -> tuple[PlannedRow, ...]:
        """The rows that will be skipped."""
        return self._with(RowAction.SKIP)

    @property
    def rejected(self) -> tuple[PlannedRow, ...]:
        """The rows with errors."""
        return self._with(RowAction.REJECT)

    @property
    def errors(self) -> tuple[RowError, ...]:
        """Every error of every rejected row, in row order."""
        return tuple(e for r in self.rows for e in r.errors)

    @property
    def stored_duplicates(self) -> tuple[PlannedRow, ...]:
        """The rows the duplicate engine matched with stored leads, contacts or accounts."""
        return tuple(r for r in self.rows if r.matches)

    def summary(self, *, limit: int = 20) -> str:
        """A preview a person can read: totals, ignored columns, then up to ``limit`` lines
        each of errors, skips and duplicate groups."""
        t = self.totals
        lines = [
            f"{self.source}: {t.rows} rows -> create {t.create}, update {t.update}, "
            f"skip {t.skip}, reject {t.reject}",
        ]
        if self.mapping.ignored:
            lines.append(f"ignored columns: {', '.join(self.mapping.ignored)}")
        for reason, count in sorted(t.skipped.items(), key=lambda i: i[0].name):
            lines.append(f"  skipped, {reason.value}: {count}")
        errors = self.errors
        if errors:
            lines.append(f"errors ({len(errors)}):")
            lines += [f"  {e.describe()}" for e in errors[:limit]]
            if len(errors) > limit:
                lines.append(f"  ... and {len(errors) - limit} more")
        flagged = [r for r in self.rows if r.action is RowAction.SKIP and r.skip_reason in
                   (SkipReason.DUPLICATE_IN_FILE, SkipReason.DUPLICATE_OF_STORED)]  # fmt: skip
        if flagged:
            lines.append(f"duplicates skipped ({len(flagged)}):")
            lines += [f"  row {r.number}: {r.reason}" for r in flagged[:limit]]
            if len(flagged) > limit:
                lines.append(f"  ... and {len(flagged) - limit} more")
        if self.file_duplicates:
            lines.append(f"duplicate groups in the file: {len(self.file_duplicates)}")
            for group in self.file_duplicates[:limit]:
                rows = ", ".join(str(n) for n in group.rows)
                lines.append(f"  rows {rows} (kept: {group.kept or 'none'})")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Planning


_NAME_PARTS: Final = {
    "salutation": "salutation",
    "first_name": "first",
    "middle_name": "middle",
    "last_name": "last",
    "suffix": "suffix",
}
_ADDRESS_PARTS: Final = {
    "street1": "line1",
    "street2": "line2",
    "street3": "line3",
    "city": "city",
    "state_or_province": "state_or_province",
    "postal_code": "postal_code",
    "country": "country",
}


def _update_patch(existing: Lead, parsed: ParsedRow) -> LeadPatch:
    """The fields of ``parsed`` that change ``existing``. Name and address parts the file does
    not give keep their stored values; custom fields merge."""
    assert parsed.patch is not None
    changes: dict[str, Any] = {}
    for name, value in parsed.patch.items():
        if name == "name" and "full_name" not in parsed.given:
            parts = {p: getattr(value, p) for k, p in _NAME_PARTS.items() if k in parsed.given}
            value = attrs.evolve(existing.name, **parts)
        elif name == "address":
            parts = {p: getattr(value, p) for k, p in _ADDRESS_PARTS.items() if k in parsed.given}
            value = attrs.evolve(existing.address, **parts)
        elif name == "custom_fields":
            assert isinstance(value, CustomFields)
            value = existing.custom_fields.merged(dict(value))
        if getattr(existing, name) != value:
            changes[name] = value
    return LeadPatch(**changes)


def _profile_errors(
    number: int, patch: LeadPatch, base: Any, profile: FieldProfile, parser: RowParser
) -> tuple[RowError, ...]:
    return tuple(
        RowError(number, parser.header_for(p.field), p.field, p.value, p.reason)
        for p in profile.problems(DraftView(patch, base))
    )


def _with_source(parsed: ParsedRow, source: LeadSource | None) -> ParsedRow:
    if source is None or parsed.patch is None or "source" in parsed.given:
        return parsed
    return attrs.evolve(parsed, patch=attrs.evolve(parsed.patch, source=source))


def _as_source(source: Source | Data, **options: Any) -> Source:
    if isinstance(source, str | os.PathLike | bytes | bytearray) or hasattr(source, "read"):
        return open_source(cast(Data, source), **options)
    return source


PLAN_BATCH_SIZE: Final = 2000
"""Rows parsed, validated and checked against the store per batch by :func:`plan_import`."""


def plan_import(
    source: Source | Data,
    mapping: ColumnMapping | None = None,
    policy: ImportPolicy | None = None,
    *,
    store: LeadStore | UnitOfWork | None = None,
    progress: ProgressCallback | None = None,
    shard: Shard | None = None,
    duplicates: EngineDuplicateCheck | None = None,
) -> ImportPlan:
    """Preview an import without writing anything.

    ``source`` is a :class:`~leadkit.io.readers.Source` or a path, bytes or binary stream (the
    format is detected); ``mapping`` defaults to :func:`suggest_mapping` of its headers;
    ``store`` (a store or a unit of work) is read for rows matching stored leads and for
    duplicates of stored leads, contacts and accounts (a store's unit of work is rolled back).

    Rows are parsed, validated and checked against the store in batches of
    :data:`PLAN_BATCH_SIZE`; then the rows to create are checked against one another (the
    duplicates in the file). ``progress`` receives an
    :class:`~leadkit.io.progress.ImportProgress` after each batch (the file is counted
    first, for the time left).

    With ``shard`` (``Shard(i, n)``) the plan covers only the rows of that shard: a row that
    names a lead (its id column, or the e-mail of a stored lead) by a stable hash of the
    lead's id, so that rows naming one lead meet in one shard; any other row by its row
    number. :func:`merge_import_plans` of the ``n`` shards' plans is the plan of the whole
    file (the check within the file is made again over every shard's rows).

    With ``duplicates`` (an :class:`~leadkit.duplicate_checks.EngineDuplicateCheck` indexing leads
    with the policy's rule set, its keys kept in a key store: ``SqlKeyStore(store.engine)``)
    the rows of each batch are checked against the store through the persisted keys (one
    lookup of the key table per batch, then only the candidates are read), and the rows are
    matched with stored leads by e-mail per batch where the store can look leads up by
    e-mail (the SQL adapter): the store is never read whole, so memory is bounded by the
    batch. The outcome of every row is the same as without it. ``store`` defaults to
    ``duplicates.store``.

    Raises MappingIncomplete when the mapping leaves a field the policy's profile requires
    without a column; MalformedSource for a file that cannot be read; ConfigurationError for
    a mapping made for other headers, or for ``duplicates`` whose keys were never built or
    were built for other rules; InvalidValue for a ``shard`` that is not a Shard or an unfit
    ``duplicates`` check; what ``progress`` raises.
    """
    if shard is not None and not isinstance(shard, Shard):
        raise InvalidValue("shard", shard, "must be a Shard or None")
    policy = policy if policy is not None else ImportPolicy()
    table = _as_source(source, limits=policy.limits)
    mapping = mapping if mapping is not None else suggest_mapping(table.headers)
    mapping.check(policy.profile)
    parser = RowParser(mapping, table.headers, policy.parse_options)
    total = sum(1 for _ in table.rows()) if progress is not None else None
    meter = _Meter("plan", progress, total)
    rows: list[PlannedRow] = []
    keyed = None
    if duplicates is not None and policy.check_duplicates:
        keyed = check_keyed(duplicates, policy.rule_set)
        store = store if store is not None else duplicates.store.inner
    with reading(store) as uow:
        stored = StoredSide(uow, policy.rule_set, duplicates=policy.check_duplicates,
                            emails=policy.match_by_email, keyed=keyed)  # fmt: skip
        targeted: dict[LeadId, int] = {}
        keys = _ShardKeys(mapping, table.headers, policy, uow, stored) if shard else None
        read = 0
        for batch in _batches(table.rows(), PLAN_BATCH_SIZE):
            read += len(batch)
            if shard is not None and keys is not None:
                batch = [row for row in batch if shard.holds(keys.key(row))]
            planned = _plan_rows(batch, parser, policy, stored, targeted)
            if stored.checks:
                _check_stored(planned, policy, stored)
            rows += planned
            meter.report(read)
        stored.forget()  # not needed by the check within the file, which builds its own index
        del keys
    return _finish(table.name, table.headers, mapping, policy, rows)


def _finish(
    source: str,
    headers: tuple[str, ...],
    mapping: ColumnMapping,
    policy: ImportPolicy,
    rows: list[PlannedRow],
) -> ImportPlan:
    """The plan of ``rows`` (planned and checked against the store): the check within the
    file, then the fingerprint."""
    groups: tuple[FileDuplicateGroup, ...] = ()
    if policy.check_duplicates:
        groups = _check_in_file(rows, policy)
    return ImportPlan(
        source=source,
        headers=headers,
        mapping=mapping,
        policy=policy,
        rows=tuple(rows),
        file_duplicates=groups,
        fingerprint=plan_fingerprint(source, headers, mapping, rows),
    )


def plan_fingerprint(
    source: str, headers: tuple[str, ...], mapping: ColumnMapping, rows: Iterable[PlannedRow]
) -> str:
    """The fingerprint of the plan of ``rows`` (:attr:`ImportPlan.fingerprint`): the file,
    its mapping and each row's number, action and lead."""
    digest = hashlib.sha256()
    digest.update(repr((source, headers, mapping.columns)).encode())
    for row in rows:
        digest.update(f"{row.number}:{row.action.value}:{row.lead_id}\n".encode())
    return digest.hexdigest()


class _ShardKeys:
    """The shard key of a row: ``lead:<id>`` for a row that names a lead (its id cell, or
    the e-mail of a stored lead, when the policy matches by e-mail), else ``row:<number>``.
    Reads only the id and e-mail cells."""

    def __init__(
        self,
        mapping: ColumnMapping,
        headers: tuple[str, ...],
        policy: ImportPolicy,
        uow: UnitOfWork | None,
        stored: StoredSide,
    ) -> None:
        wanted = ("id", "email") if policy.match_by_email and uow is not None else ("id",)
        columns = tuple((h, k if k in wanted else None) for h, k in mapping.columns)
        self._parser = RowParser(attrs.evolve(mapping, columns=columns), headers,
                                 policy.parse_options)  # fmt: skip
        self._stored = stored

    def key(self, row: SourceRow) -> str:
        if not row.is_blank:
            parsed = self._parser.parse(row.number, row.cells)
            if parsed.ident:
                try:
                    return f"lead:{LeadId(parsed.ident)}"
                except InvalidValue:
                    return f"row:{row.number}"
            email = parsed.patch.email if parsed.patch is not None else None
            if email:
                found = self._stored.leads_by_email([email]).get(email.normalized)
                if found is not None:
                    return f"lead:{found}"
        return f"row:{row.number}"


def merge_import_plans(plans: Iterable[ImportPlan]) -> ImportPlan:
    """The plan of a whole file from the plans of its shards (``plan_import(..., shard=
    Shard(i, n))`` for every ``i``): their rows in file order, the check within the file made
    again over all of them (a shard checked only its own rows), a new fingerprint. Equal to
    the plan :func:`plan_import` makes without a shard.

    Raises InvalidValue when no plan is given, the plans are of different files, mappings or
    policies, or two plans hold the same row.
    """
    listed = list(plans)
    if not listed:
        raise InvalidValue("plans", listed, "must hold at least one plan")
    first = listed[0]
    for plan in listed[1:]:
        same = (plan.source, plan.headers, plan.mapping, plan.policy)
        if same != (first.source, first.headers, first.mapping, first.policy):
            raise InvalidValue("plans", plan.source, "are of different files, mappings or policies")
    in_groups = {n for plan in listed for group in plan.file_duplicates for n in group.rows}
    rows: list[PlannedRow] = []
    for plan in listed:
        for row in plan.rows:
            if row.number in in_groups and row.skip_reason is SkipReason.DUPLICATE_IN_FILE:
                # Skipped by its shard's check within the file: made again below.
                row = attrs.evolve(
                    row, action=RowAction.CREATE, skip_reason=None, duplicate_of_row=None
                )
            rows.append(row)
    rows.sort(key=lambda r: r.number)
    for before, after in itertools.pairwise(rows):
        if before.number == after.number:
            raise InvalidValue("plans", after.number, "two plans hold this row")
    return _finish(first.source, first.headers, first.mapping, first.policy, rows)


def _batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    batch: list[SourceRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _plan_rows(
    batch: Iterable[SourceRow],
    parser: RowParser,
    policy: ImportPolicy,
    stored: StoredSide,
    targeted: dict[LeadId, int],
) -> list[PlannedRow]:
    """Plan one batch: parse every row, look up the stored leads the batch names by e-mail
    at once, then plan each row in order (create, update, skip or reject)."""
    parsed = [_parse(row, parser, policy) for row in batch]
    emails = [
        p.patch.email
        for p in parsed
        if p is not None and p.lead_id is None and not p.errors and p.patch is not None
        and isinstance(p.patch.email, EmailAddress)
    ]  # fmt: skip
    by_email = stored.leads_by_email(emails) if policy.match_by_email else {}
    rows: list[PlannedRow] = []
    for source_row, row in zip(batch, parsed, strict=True):
        if row is None:
            rows.append(PlannedRow(source_row.number, RowAction.SKIP, skip_reason=SkipReason.BLANK))
        else:
            rows.append(_plan_row(row, parser, policy, stored, targeted, by_email))
    return rows


@attrs.frozen
class _Parsed:
    """One non-blank row, parsed: its cells' patch, the id it names and its errors."""

    number: int
    parsed: ParsedRow
    lead_id: LeadId | None
    errors: tuple[RowError, ...]

    @property
    def patch(self) -> LeadPatch | None:
        return self.parsed.patch


def _parse(source_row: SourceRow, parser: RowParser, policy: ImportPolicy) -> _Parsed | None:
    """Parse one row (None for a blank one), with the error of a bad id cell."""
    if source_row.is_blank:
        return None
    number = source_row.number
    parsed = _with_source(parser.parse(number, source_row.cells), policy.default_source)
    errors = list(parsed.errors)
    lead_id: LeadId | None = None
    if parsed.ident:
        try:
            lead_id = LeadId(parsed.ident)
        except InvalidValue as e:
            header = parser.mapping.mapped.get("id", "")
            errors.append(RowError(number, header, "id", parsed.ident, e.reason))
    return _Parsed(number, parsed, lead_id, tuple(errors))


def _plan_row(
    row: _Parsed,
    parser: RowParser,
    policy: ImportPolicy,
    stored: StoredSide,
    targeted: dict[LeadId, int],
    by_email: Mapping[str, LeadId],
) -> PlannedRow:
    number, parsed, lead_id = row.number, row.parsed, row.lead_id
    errors = list(row.errors)
    if errors or parsed.patch is None:
        if parsed.patch is not None and lead_id is None:
            # Say what else is wrong: a required field left empty, say.
            bad = {(e.column, e.field) for e in errors}
            errors += [
                p
                for p in _profile_errors(
                    number, parsed.patch, LEAD_DEFAULTS, policy.profile, parser
                )
                if (p.column, p.field) not in bad
            ]
        return PlannedRow(number, RowAction.REJECT, errors=tuple(errors))
    patch = parsed.patch
    existing = stored.existing(lead_id, patch, by_email if policy.match_by_email else {})
    target = existing.id if existing is not None else lead_id
    if target is not None and target in targeted:
        return PlannedRow(
            number,
            RowAction.SKIP,
            patch=patch,
            lead_id=target,
            skip_reason=SkipReason.DUPLICATE_IN_FILE,
            duplicate_of_row=targeted[target],
        )
    if target is not None:
        targeted[target] = number
    if existing is None:
        problems = _profile_errors(number, patch, LEAD_DEFAULTS, policy.profile, parser)
        if problems:
            return PlannedRow(number, RowAction.REJECT, errors=problems)
        return PlannedRow(number, RowAction.CREATE, patch=patch, lead_id=lead_id)
    return _plan_existing(number, existing, parsed, policy, parser)


def _plan_existing(
    number: int, existing: Lead, parsed: ParsedRow, policy: ImportPolicy, parser: RowParser
) -> PlannedRow:
    def skip(reason: SkipReason) -> PlannedRow:
        return PlannedRow(
            number, RowAction.SKIP, patch=parsed.patch, lead_id=existing.id, skip_reason=reason
        )

    if policy.on_existing is ExistingAction.SKIP:
        return skip(SkipReason.EXISTING)
    if existing.is_closed:
        return skip(SkipReason.EXISTING_CLOSED)
    changes = _update_patch(existing, parsed)
    if changes.is_empty:
        return skip(SkipReason.UNCHANGED)
    problems = _profile_errors(number, changes, existing, policy.profile, parser)
    if problems:
        return PlannedRow(number, RowAction.REJECT, lead_id=existing.id, errors=problems)
    return PlannedRow(
        number,
        RowAction.UPDATE,
        patch=changes,
        lead_id=existing.id,
        expected_version=existing.version,
    )


def _check_stored(rows: list[PlannedRow], policy: ImportPolicy, stored: StoredSide) -> None:
    """Check the rows to create of one batch against the stored records: a flagged row keeps
    its matches and is skipped (policy: skip) or still created."""
    creating = [i for i, r in enumerate(rows) if r.action is RowAction.CREATE and r.patch]
    found = stored.duplicates([(rows[i].number, cast(LeadPatch, rows[i].patch)) for i in creating])
    skip = policy.on_duplicate is DuplicateAction.SKIP
    for i, matches in zip(creating, found, strict=True):
        if matches:
            rows[i] = attrs.evolve(
                rows[i],
                matches=tuple(matches),
                action=RowAction.SKIP if skip else rows[i].action,
                skip_reason=SkipReason.DUPLICATE_OF_STORED if skip else None,
            )


def _was_creating(row: PlannedRow) -> bool:
    """True for a row planned for creation before the duplicate check of the store."""
    if row.action is RowAction.CREATE:
        return True
    return row.skip_reason is SkipReason.DUPLICATE_OF_STORED


def _keep_first_of_group(rows: list[PlannedRow], members: list[int], *, skip: bool) -> int | None:
    """The row number of the first of ``members`` (positions in ``rows``, in file order)
    still to be created: the one an in-file duplicate group keeps; with ``skip`` every
    other member still to be created becomes a SKIP (DUPLICATE_IN_FILE) of it, in place."""
    kept = next((i for i in members if rows[i].action is RowAction.CREATE), None)
    if kept is None:
        return None
    kept_number = rows[kept].number
    if skip:
        for i in members:
            if i != kept and rows[i].action is RowAction.CREATE:
                rows[i] = attrs.evolve(
                    rows[i],
                    action=RowAction.SKIP,
                    skip_reason=SkipReason.DUPLICATE_IN_FILE,
                    duplicate_of_row=kept_number,
                )
    return kept_number


def _check_in_file(rows: list[PlannedRow], policy: ImportPolicy) -> tuple[FileDuplicateGroup, ...]:
    """Group the rows to create (also those the store check skipped) that duplicate one
    another; with policy skip, every member but the first still to be created is skipped."""
    creating = [i for i, r in enumerate(rows) if _was_creating(r) and r.patch is not None]
    if not creating:
        return ()
    # A generator: the engine keeps the prepared values, not the views.
    records = (draft_record(rows[i].number, cast(LeadPatch, rows[i].patch)) for i in creating)
    found = file_duplicate_groups(records, policy.rule_set)
    position = {f"row-{rows[i].number}": i for i in creating}
    skip = policy.on_duplicate is DuplicateAction.SKIP
    groups: list[FileDuplicateGroup] = []
    for group in found:
        members = sorted(
            (position[m.record_id] for m in group.members if m.record_id in position),
            key=lambda i: rows[i].number,
        )
        kept_number = _keep_first_of_group(rows, members, skip=skip)
        groups.append(
            FileDuplicateGroup(
                rows=tuple(rows[i].number for i in members), kept=kept_number, edges=group.edges
            )
        )
    return tuple(groups)
