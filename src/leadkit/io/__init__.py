"""Import, export and e-mail intake (``pip install "leadkit[io]"``).

Read a CSV, ``.xlsx`` or XML file, map its columns, preview the import, commit it, export
leads, and make a lead from an e-mail message::

    from leadkit.io import ImportPolicy, open_source, plan_import, run_import, suggest_mapping

    source = open_source("leads.csv")                 # encoding and delimiter detected
    mapping = suggest_mapping(source.headers)         # "Efternamn" -> last_name, ...
    plan = plan_import(source, mapping, ImportPolicy(phone_region="SE"), store=store)
    print(plan.summary())                             # nothing written yet
    report = run_import(store, plan, ids=new_id, at=now, by=user)

    # A large file without a preview: planned and written batch by batch, memory bounded by
    # the batch (the same outcome per row as plan_import + run_import).
    report = import_streaming(store, "leads.csv", mapping, ImportPolicy(phone_region="SE"),
                              ids=new_id, at=now, by=user)

This is an edge package: it reads and writes files. The core never imports it, and
``import leadkit`` loads neither openpyxl nor defusedxml (they are imported when an ``.xlsx``
or XML file is read or written). See docs/import-export.md.
"""

from __future__ import annotations

from leadkit.io.cells import FORMULA_TRIGGERS, cell_text, neutralise, restore
from leadkit.io.columns import (
    COLUMNS,
    CUSTOM_KINDS,
    DEFAULT_EXPORT_COLUMNS,
    EXPORT_ONLY,
    LANGUAGES,
    ColumnSpec,
    column_spec,
    header_key,
    lead_cell,
)
from leadkit.io.errors import (
    MalformedMessage,
    MalformedSource,
    MappingIncomplete,
    UnsafeXml,
)
from leadkit.io.export import export_csv, export_rows, export_xlsx, header_row
from leadkit.io.limits import DEFAULT_READ_LIMITS, ReadLimits
from leadkit.io.mail import EmailIntake, EmailIntakePolicy, html_to_text, lead_from_email
from leadkit.io.mapping import (
    ColumnMapping,
    ParseOptions,
    RowError,
    parse_date,
    parse_decimal,
    suggest_mapping,
)
from leadkit.io.plan import (
    PLAN_BATCH_SIZE,
    DuplicateAction,
    ExistingAction,
    FileDuplicateGroup,
    ImportPlan,
    ImportPolicy,
    ImportTotals,
    PlannedRow,
    RowAction,
    SkipReason,
    build_duplicate_index,
    merge_import_plans,
    plan_import,
)
from leadkit.io.progress import ImportProgress, ProgressCallback
from leadkit.io.readers import (
    CsvSource,
    LeadkitXmlSource,
    Source,
    SourceRow,
    XlsxSource,
    XmlSpreadsheetSource,
    detect_encoding,
    open_source,
)
from leadkit.io.run import (
    PROGRESS_EVERY,
    ImportCheckpoint,
    ImportInterrupted,
    ImportReport,
    RowOutcome,
    RowStatus,
    run_import,
)
from leadkit.io.streaming import STREAM_BATCH_SIZE, import_streaming

__all__ = [
    "COLUMNS",
    "CUSTOM_KINDS",
    "DEFAULT_EXPORT_COLUMNS",
    "DEFAULT_READ_LIMITS",
    "EXPORT_ONLY",
    "FORMULA_TRIGGERS",
    "LANGUAGES",
    "PLAN_BATCH_SIZE",
    "PROGRESS_EVERY",
    "STREAM_BATCH_SIZE",
    "ColumnMapping",
    "ColumnSpec",
    "CsvSource",
    "DuplicateAction",
    "EmailIntake",
    "EmailIntakePolicy",
    "ExistingAction",
    "FileDuplicateGroup",
    "ImportCheckpoint",
    "ImportInterrupted",
    "ImportPlan",
    "ImportPolicy",
    "ImportProgress",
    "ImportReport",
    "ImportTotals",
    "LeadkitXmlSource",
    "MalformedMessage",
    "MalformedSource",
    "MappingIncomplete",
    "ParseOptions",
    "PlannedRow",
    "ProgressCallback",
    "ReadLimits",
    "RowAction",
    "RowError",
    "RowOutcome",
    "RowStatus",
    "SkipReason",
    "Source",
    "SourceRow",
    "UnsafeXml",
    "XlsxSource",
    "XmlSpreadsheetSource",
    "build_duplicate_index",
    "cell_text",
    "column_spec",
    "detect_encoding",
    "export_csv",
    "export_rows",
    "export_xlsx",
    "header_key",
    "header_row",
    "html_to_text",
    "import_streaming",
    "lead_cell",
    "lead_from_email",
    "merge_import_plans",
    "neutralise",
    "open_source",
    "parse_date",
    "parse_decimal",
    "plan_import",
    "restore",
    "run_import",
    "suggest_mapping",
]

from leadkit._typecheck import check_constructors as _check_constructors

_check_constructors(globals()[name] for name in __all__)
