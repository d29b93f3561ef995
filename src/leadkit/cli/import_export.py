"""``leadkit import`` and ``leadkit export``: leads from and to files."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import click
from rich.progress import Progress, TaskID

from leadkit.cli._shared import (
    EXIT_CODES,
    _echo,
    _Failed,
    _filters,
    _new_id,
    _now,
    _pairs,
    _progress,
    _query,
    _settings,
    _store,
)
from leadkit.cli.app import cli
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.lead import Lead

_EXPORT_FORMATS: Final = {".csv": "csv", ".xlsx": "xlsx"}
_STATE_COLUMNS: Final = (
    "state", "status_reason", "owner", "score", "stars", "created_at", "modified_at",
)  # fmt: skip


def _export_columns(choice: str, leads: Sequence[Lead]) -> tuple[str, ...]:
    """The columns of ``--columns``: ``import`` (the default: the id, every field import reads
    and each custom field the leads hold; export, import into an empty database and export
    again gives the same file), ``full`` (those and the state, status reason, owner, score,
    stars, created and modified, which import does not read back) or a comma-separated list
    of column keys."""
    from leadkit.io.columns import DEFAULT_EXPORT_COLUMNS, column_spec

    custom = sorted({f"custom.{name}" for lead in leads for name in lead.custom_fields})
    readable = ("id", *DEFAULT_EXPORT_COLUMNS, *custom)
    if choice == "import":
        return readable
    if choice == "full":
        return (*readable, *_STATE_COLUMNS)
    keys = tuple(k.strip() for k in choice.split(",") if k.strip())
    for key in keys:
        try:
            column_spec(key)
        except ConfigurationError as e:
            raise InvalidValue("--columns", key, e.reason) from None
    if not keys:
        raise InvalidValue("--columns", choice, "names no column")
    return keys


def _export_format(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    found = _EXPORT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidValue(
            "PATH", str(path), "needs a .csv or .xlsx suffix (or give --format csv|xlsx)"
        )
    return found


@cli.command(name="export")
@click.argument("path", type=click.Path(dir_okay=False))
@_filters
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    help="The file format (default: from the suffix, .csv or .xlsx; xlsx needs leadkit[io]).",
)
@click.option(
    "--columns",
    default="import",
    show_default=True,
    help="'import': id and every field import reads back (a round trip gives the same "
    "file); 'full': also state, status_reason, owner, score, stars, created_at, modified_at; "
    "or a comma-separated list of column keys.",
)
def export_command(path: str, file_format: str | None, columns: str, **query_options: Any) -> None:
    """Export leads (a view, filters) to a CSV or xlsx file."""
    from leadkit.io import export_csv, export_xlsx

    target = Path(path)
    kind = _export_format(target, file_format)
    if kind == "xlsx":
        _require_openpyxl()
    if not target.parent.is_dir():
        raise _Failed(f"no directory {target.parent} (create it first)", EXIT_CODES["not found"])
    with _store() as store, store.unit_of_work() as uow:
        leads = list(uow.leads.stream(_query(**query_options)))
    chosen = _export_columns(columns, leads)
    write = export_xlsx if kind == "xlsx" else export_csv
    written = write(leads, target, chosen)
    _echo(f"exported {written} leads to {path} ({kind}, {len(chosen)} columns)")


def _require_openpyxl() -> None:
    import importlib.util

    if importlib.util.find_spec("openpyxl") is None:
        raise ConfigurationError(
            "xlsx", "needs the io extra: pip install 'leadkit[io]' (or export to .csv)"
        )


def _read_mapping_file(path: str) -> dict[str, Any]:
    """A --mapping file: JSON, either ``{"Header": "column key or null", ...}`` or
    ``{"columns": {...}, "custom_kinds": {...}, "values": {...}}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise _Failed(f"no mapping file {path}", EXIT_CODES["not found"]) from None
    except ValueError as e:
        raise InvalidValue("--mapping", path, f"is not JSON ({e})") from None
    if not isinstance(data, dict):
        raise InvalidValue("--mapping", path, "must hold a JSON object")
    if "columns" not in data:
        data = {"columns": data}
    unknown = sorted(set(data) - {"columns", "custom_kinds", "values"})
    if unknown:
        raise InvalidValue("--mapping", path, f"has an unknown key {unknown[0]}")
    if not isinstance(data["columns"], dict):
        raise InvalidValue("--mapping", path, '"columns" must map headers to column keys')
    return data


def _import_mapping(
    source: Any, maps: Sequence[str], mapping_file: str | None, unknown_as_custom: bool
) -> Any:
    """The mapping to import with: suggested from the headers of ``source``, then the
    --mapping file, then each --map HEADER=KEY (``-`` or empty ignores the column)."""
    from leadkit.io import suggest_mapping

    headers = source.headers
    changes: dict[str, str | None] = {}
    kinds: dict[str, str] = {}
    values: dict[str, Any] = {}
    if mapping_file is not None:
        data = _read_mapping_file(mapping_file)
        changes.update({str(h): (str(k) if k else None) for h, k in data["columns"].items()})
        kinds.update(data.get("custom_kinds") or {})
        values.update(data.get("values") or {})
    for header, key in _pairs(maps, "--map"):
        changes[header] = key.strip() if key.strip() not in ("", "-") else None
    for header in changes:
        if header not in headers:
            raise InvalidValue(
                "--map", header, f"is not a header of the file; headers: {', '.join(headers)}"
            )
    try:
        mapping = suggest_mapping(headers, unknown_as_custom=unknown_as_custom)
        return mapping.override(changes, custom_kinds=kinds, values=values)
    except ConfigurationError as e:
        raise InvalidValue("--map", e.what, e.reason) from None


def _mapping_lines(mapping: Any) -> list[str]:
    lines = ["columns:"]
    width = max((len(h) for h in mapping.headers), default=0)
    for header, key in mapping.columns:
        lines.append(f"  {header:<{width}} -> {key if key is not None else '(ignored)'}")
    return lines


@cli.command(name="import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Commit without asking.")
@click.option("--dry-run", is_flag=True, help="Print the preview and write nothing.")
@click.option(
    "--stream",
    is_flag=True,
    help="No preview: plan, then write 5,000 rows to a commit (memory bounded by the batch; "
    "a failure keeps the batches written before it).",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="HEADER=COLUMN",
    help="Map a header to a column key (first_name, company, custom.NAME ...; '-' ignores "
    "it). Repeatable; wins over --mapping and the guess.",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(dir_okay=False),
    help='A JSON mapping file: {"Header": "column", ...} or {"columns": {...}, '
    '"custom_kinds": {...}, "values": {...}}.',
)
@click.option(
    "--custom-columns",
    is_flag=True,
    help="Import unknown headers as text custom fields (custom.<header>).",
)
@click.option(
    "--phone-region",
    help="Region of phone numbers without +country when the row names no country (SE); "
    "default: the global --phone-region.",
)
@click.option(
    "--duplicates",
    type=click.Choice(["skip", "create"]),
    default="skip",
    show_default=True,
    help="Rows flagged as possible duplicates: skip them or create them anyway.",
)
@click.option("--encoding", help="Text encoding of a CSV file (cp1252, utf-16); else detected.")
@click.option(
    "--delimiter", help="Field delimiter of a CSV file (',', ';' or 'tab'); else detected."
)
def import_command(
    path: str,
    yes: bool,
    dry_run: bool,
    stream: bool,
    maps: tuple[str, ...],
    mapping_file: str | None,
    custom_columns: bool,
    phone_region: str | None,
    duplicates: str,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Preview an import (CSV, xlsx, XML): the column mapping, then what each row becomes;
    then commit it.

    A phone number without +country is read in the row's country (Land, Country ...), else
    in --phone-region. --yes commits the whole file in one unit of work without asking (all
    or nothing). With --stream the file is planned and written batch by batch (no preview
    to confirm; memory bounded by the batch; a failed batch leaves the batches before it
    written), then the rows' outcomes are summed up.
    """
    from leadkit.io import DuplicateAction, ImportPolicy, open_source, plan_import, run_import

    settings = _settings()
    if not Path(path).is_file():
        raise _Failed(f"no file {path}", EXIT_CODES["not found"])
    if delimiter is not None and delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    source = open_source(path, encoding=encoding, delimiter=delimiter)
    mapping = _import_mapping(source, maps, mapping_file, custom_columns)
    policy = ImportPolicy(
        phone_region=phone_region or settings.phone_region,
        currency=settings.currency,
        date_order="MDY" if settings.date_order == "MDY" else "DMY",
        on_duplicate=DuplicateAction.CREATE if duplicates == "create" else DuplicateAction.SKIP,
        owner=settings.user,
    )
    if stream and not dry_run:
        imported = _import_streaming(source, mapping, policy, settings.user)
        _echo(
            f"created {imported.created}, updated {imported.updated}, skipped "
            f"{imported.skipped}, rejected {imported.rejected}"
        )
        return
    with _store() as store:
        with _progress(terminal_only=True) as progress:
            planning = progress.add_task("checking rows", total=None)
            plan = plan_import(
                source, mapping, policy, store=store, progress=_import_progress(progress, planning)
            )
        for line in _mapping_lines(plan.mapping):
            _echo(line)
        summary = plan.summary()
        if "default region" in summary:
            summary += (
                "\nnote: give --phone-region (e.g. SE) to read numbers without +country in "
                "rows that name no country"
            )
        _echo(summary)
        if dry_run:
            _echo("dry run: nothing written")
            return
        if not yes:
            click.confirm("import?", abort=True)
        with _progress(terminal_only=True) as progress:
            task = progress.add_task("importing", total=None)
            imported = run_import(
                store,
                plan,
                ids=_new_id,
                at=_now(),
                by=settings.user,
                progress=_import_progress(progress, task),
            )
    _echo(
        f"created {imported.created}, updated {imported.updated}, skipped {imported.skipped}, "
        f"rejected {imported.rejected}"
    )


def _import_streaming(source: Any, mapping: Any, policy: Any, user: Any) -> Any:
    """Import ``source`` without a preview (leadkit.io.import_streaming), showing the mapping
    first, the progress as it runs and then what happened to the rows; the ImportReport."""
    from leadkit.io import import_streaming

    for line in _mapping_lines(mapping):
        _echo(line)
    with _store() as store, _progress(terminal_only=True) as progress:
        task = progress.add_task("importing", total=None)
        report = import_streaming(
            store, source, mapping, policy, ids=_new_id, at=_now(), by=user,
            progress=_import_progress(progress, task),
        )  # fmt: skip
    lines = _report_lines(report)
    if any("default region" in line for line in lines):
        lines.append(
            "note: give --phone-region (e.g. SE) to read numbers without +country in rows "
            "that name no country"
        )
    for line in lines:
        _echo(line)
    return report


def _report_lines(report: Any, limit: int = 20) -> list[str]:
    """The summary of an import report: the totals, then up to ``limit`` rejected rows
    (with their errors) and rows skipped as duplicates (with why)."""
    from leadkit.io import RowStatus, SkipReason

    lines = [report.summary()]
    duplicate = (SkipReason.DUPLICATE_IN_FILE, SkipReason.DUPLICATE_OF_STORED)
    sections = (
        ("errors", [e.describe() for o in report.outcomes for e in o.errors
                    if o.status is RowStatus.REJECTED]),
        ("duplicates skipped", [f"row {o.row}: {o.reason}" for o in report.outcomes
                                if o.skip_reason in duplicate]),
    )  # fmt: skip
    for title, found in sections:
        if found:
            lines.append(f"{title} ({len(found)}):")
            lines += [f"  {line}" for line in found[:limit]]
            if len(found) > limit:
                lines.append(f"  ... and {len(found) - limit} more")
    return lines


def _import_progress(progress: Progress, task: TaskID) -> Callable[[Any], None]:
    """Shows an import's progress (leadkit.io.ImportProgress): rows, rows/s, time left."""

    def show(state: Any) -> None:
        rate = f"{state.phase} {state.rows_per_second:,.0f} rows/s"
        eta = state.eta_seconds
        if eta is not None:
            rate += f", {eta:,.0f} s left"
        progress.update(task, completed=state.done, total=state.total, description=rate)

    return show
