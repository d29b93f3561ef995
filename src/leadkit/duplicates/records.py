"""The old name of :mod:`leadkit.duplicates.record_view`, the flat view of a lead, contact or
account that duplicate rules read: kept so that modules still importing
``leadkit.duplicates.records`` work while they move to the new name. Import from
:mod:`leadkit.duplicates.record_view`."""

from __future__ import annotations

from leadkit.duplicates.record_view import (
    CUSTOM_FIELD_KINDS,
    FIELDS,
    DuplicateFieldKind,
    DuplicateRecord,
    FieldSpec,
    Matchable,
    RecordRef,
    RecordType,
    custom_field,
    distinct_records,
    duplicate_field_spec,
    duplicate_record,
    record_ref,
)

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
