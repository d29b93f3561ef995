"""Duplicate detection: normalisers, rules as data, a blocking index and an explaining engine.

One engine answers "which records is this one a duplicate of, and why" on create, update,
import, qualify and batch scans (see docs/duplicates.md)::

    from leadkit.duplicates import DEFAULT_LEAD_RULES, DuplicateIndex, find_duplicates

    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    index.rebuild(stored_leads_and_contacts)
    for match in find_duplicates(new_lead, DEFAULT_LEAD_RULES, index):
        print(match.explain())

- :mod:`~leadkit.duplicates.normalize`: pure normalisers (e-mail, phone, names, companies...).
- :mod:`~leadkit.duplicates.record_view`: the flat view of a lead, contact or account.
- :mod:`~leadkit.duplicates.rules`: conditions, rules, rule sets, the default rule set (the
  parts in :mod:`~leadkit.duplicates.rule_normalizers`, :mod:`~leadkit.duplicates.conditions`
  and :mod:`~leadkit.duplicates.rule_sets`).
- :mod:`~leadkit.duplicates.index`: the blocking index and the key-store protocol.
- :mod:`~leadkit.duplicates.engine`: find, check on save / import, scan.
- :mod:`~leadkit.duplicates.probabilistic`: the Fellegi-Sunter rule kind (m/u by EM).
- :mod:`~leadkit.duplicates.candidates`: a match as a qualification candidate; key fingerprints.

The engine over a store (``EngineDuplicateCheck``, qualification's duplicate check) is
:mod:`leadkit.duplicate_checks`; the SQL key store is :mod:`leadkit.adapters.sql.duplicate_keys`.
"""

from leadkit.duplicates.candidates import candidate_from_match, keys_fingerprint
from leadkit.duplicates.engine import (
    DuplicateFinder,
    ExhaustiveFinder,
    ImportCheck,
    ImportRow,
    IndexedFinder,
    SaveCheck,
    ScanReport,
    check_import,
    check_on_save,
    find_duplicates,
    merge_scan_reports,
    scan,
    scan_report,
)
from leadkit.duplicates.index import (
    DEFAULT_MAX_BLOCK_SIZE,
    CandidateLoader,
    DuplicateIndex,
    DuplicateKeyStore,
    IndexStats,
    MemoryKeyStore,
    StopKey,
)
from leadkit.duplicates.matches import (
    ConditionEvidence,
    DuplicateGroup,
    DuplicateMatch,
    RuleEvidence,
)
from leadkit.duplicates.normalize import (
    DEFAULT_NICKNAMES,
    LEGAL_FORMS,
    NORMALIZERS,
    get_normalizer,
    nickname_table,
    normalize_company,
    normalize_domain,
    normalize_email,
    normalize_none,
    normalize_person_name,
    normalize_phone,
    normalize_postal_code,
    normalize_text,
    strip_accents,
)
from leadkit.duplicates.probabilistic import (
    DEFAULT_PROBABILISTIC_RULE,
    Comparison,
    FieldWeight,
    FittedRule,
    LevelParameters,
    ProbabilisticMatch,
    ProbabilisticRule,
    fit,
    with_fitted_rule,
)
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
    duplicate_field_spec,
    duplicate_record,
    record_ref,
)
from leadkit.duplicates.rules import (
    DEFAULT_LEAD_RULES,
    FREE_MAIL_DOMAINS,
    NICKNAMES,
    ROLE_MAILBOXES,
    RULE_NORMALIZERS,
    Blocking,
    BlockingMethod,
    CheckMode,
    Condition,
    DuplicateRule,
    DuplicateRuleSet,
    Operator,
    Phonetic,
    Similarity,
    WeightedRule,
    default_rule_set,
    normalize_business_domain,
    normalize_personal_email,
    rule_normalizer,
)

__all__ = [
    "CUSTOM_FIELD_KINDS",
    "DEFAULT_LEAD_RULES",
    "DEFAULT_MAX_BLOCK_SIZE",
    "DEFAULT_NICKNAMES",
    "DEFAULT_PROBABILISTIC_RULE",
    "FIELDS",
    "FREE_MAIL_DOMAINS",
    "LEGAL_FORMS",
    "NICKNAMES",
    "NORMALIZERS",
    "ROLE_MAILBOXES",
    "RULE_NORMALIZERS",
    "Blocking",
    "BlockingMethod",
    "CandidateLoader",
    "CheckMode",
    "Comparison",
    "Condition",
    "ConditionEvidence",
    "DuplicateFieldKind",
    "DuplicateFinder",
    "DuplicateGroup",
    "DuplicateIndex",
    "DuplicateKeyStore",
    "DuplicateMatch",
    "DuplicateRecord",
    "DuplicateRule",
    "DuplicateRuleSet",
    "ExhaustiveFinder",
    "FieldSpec",
    "FieldWeight",
    "FittedRule",
    "ImportCheck",
    "ImportRow",
    "IndexStats",
    "IndexedFinder",
    "LevelParameters",
    "Matchable",
    "MemoryKeyStore",
    "Operator",
    "Phonetic",
    "ProbabilisticMatch",
    "ProbabilisticRule",
    "RecordRef",
    "RecordType",
    "RuleEvidence",
    "SaveCheck",
    "ScanReport",
    "Similarity",
    "StopKey",
    "WeightedRule",
    "candidate_from_match",
    "check_import",
    "check_on_save",
    "custom_field",
    "default_rule_set",
    "duplicate_field_spec",
    "duplicate_record",
    "find_duplicates",
    "fit",
    "get_normalizer",
    "keys_fingerprint",
    "merge_scan_reports",
    "nickname_table",
    "normalize_business_domain",
    "normalize_company",
    "normalize_domain",
    "normalize_email",
    "normalize_none",
    "normalize_person_name",
    "normalize_personal_email",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_text",
    "record_ref",
    "rule_normalizer",
    "scan",
    "scan_report",
    "strip_accents",
    "with_fitted_rule",
]
