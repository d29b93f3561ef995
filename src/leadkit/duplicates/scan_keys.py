"""The batch scan's blocking keys: those of a :class:`~leadkit.duplicates.index.DuplicateIndex`,
made for one scan in a cheaper form.

A condition key is the index's own string (``lead|company|company|=|acme``). A compound key
is kept as the tuple of its condition keys (``(name key, company key)``) instead of the
index's BLAKE2b digest of them joined
(:meth:`~leadkit.duplicates.compiled.CompiledRule.compound_keys`): the scan holds its keys
only while it runs, so it needs no short text that is the same in every process, and a
tuple costs a fraction of a digest. :func:`index_form` turns a scan key into the index's
form (the stop keys a scan reports are in that form). Two keys are equal here exactly when
they are equal in the index (up to a digest collision there, one in 2**64), so blocks, stop
keys and comparisons are those of the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

from leadkit.duplicates.compiled import (
    _JOIN,
    CompiledRule,
    CompiledRuleSet,
    Prepared,
    _compound_key,
)

__all__ = ["Key", "Wanted", "compound_keys", "index_form", "index_keys", "keys_once", "wanted"]

Key = str | tuple[str, ...]
"""A condition key, or a compound key as the tuple of its condition keys."""

Wanted = tuple[CompiledRule, list[list[str]], list[Key] | None]
"""A rule's lookup keys for one record: per condition, and the compound keys with the rule's
overflow key (None for a rule of one condition or a record without compound keys)."""


def index_form(key: Key) -> str:
    """The key as a :class:`~leadkit.duplicates.index.DuplicateIndex` holds it."""
    return key if isinstance(key, str) else _compound_key(_JOIN.join(key))


def compound_keys(rule: CompiledRule, record: Prepared, *, matching: bool) -> list[Key] | None:
    """:meth:`~leadkit.duplicates.compiled.CompiledRule.compound_keys` as tuples of
    condition keys, in the same order; None where it gives None."""
    conditions = rule.conditions
    if not rule.compound or len(conditions) < 2:
        return None
    values_of = record.values
    lists = rule.condition_key_lists(
        [values_of[c.matching if matching else c.base] for c in conditions]
    )
    if lists is None:
        return None
    if len(lists) == 2:
        first, second = lists
        return [(a, b) for a in first for b in second]
    return list(product(*lists))


def index_keys(compiled: CompiledRuleSet, record: Prepared) -> set[Key]:
    """:meth:`~leadkit.duplicates.compiled.CompiledRuleSet.index_keys` in the scan's form."""
    keys: set[Key] = set()
    for rule in compiled.by_matching.get(record.ref.record_type, ()):
        if rule.compound and len(rule.conditions) > 1 and not rule.cannot_match(record):
            compound = compound_keys(rule, record, matching=True)
            if compound is None:
                keys.add(rule.overflow_key)
            else:
                keys.update(compound)
        for c in rule.conditions:
            values = record.values[c.matching]
            if values:
                keys.update(c.keys(values))
            elif not rule.rule.ignore_blank:
                keys.add(c.blank_key)
    return keys


def wanted(record: Prepared, rules: Sequence[CompiledRule]) -> list[Wanted]:
    """:func:`~leadkit.duplicates.index.wanted_keys` in the scan's form; a rule that excludes
    inactive records is left out for an inactive record (a scan gives it no part)."""
    found: list[Wanted] = []
    for rule in rules:
        if rule.rule.exclude_inactive and not record.active:
            continue
        keys = rule.query_keys(record)
        if keys is not None:
            compound = compound_keys(rule, record, matching=False)
            if compound is not None:
                compound.append(rule.overflow_key)
            found.append((rule, keys, compound))
    return found


def keys_once(record: Prepared, rules: Sequence[CompiledRule]) -> tuple[set[Key], list[Wanted]]:
    """:func:`index_keys` and :func:`wanted` of a record whose index and lookup keys are of
    the same rules on the same values (``scan_pairs._one_pass``), each key made once."""
    index: set[Key] = set()
    found: list[Wanted] = []
    values_of = record.values
    active = record.active
    for rule in rules:
        ignore_blank = rule.rule.ignore_blank
        keys: list[list[str]] = []
        blank = False
        for c in rule.conditions:
            values = values_of[c.matching]
            if values:
                condition_keys = c.keys(values)
                index.update(condition_keys)
            elif ignore_blank:
                blank = True  # the rule cannot match the record; its other keys are indexed
                continue
            else:
                condition_keys = [c.blank_key]
                index.add(c.blank_key)
            keys.append(condition_keys)
        if blank:
            continue
        compound = compound_keys(rule, record, matching=True)
        if compound is not None:
            index.update(compound)
        elif rule.compound and len(rule.conditions) > 1:
            index.add(rule.overflow_key)
        if rule.rule.exclude_inactive and not active:
            continue
        if compound is not None:
            compound.append(rule.overflow_key)
        found.append((rule, keys, compound))
    return index, found
