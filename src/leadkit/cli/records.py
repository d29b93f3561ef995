"""``leadkit accounts``, ``contacts`` and ``opportunities``: the records qualification creates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import click

from leadkit.cli._shared import _console, _emit_json, _label, _lead_id, _settings, _store, _Table
from leadkit.cli.app import cli
from leadkit.values import AccountId, Address, ContactId, OpportunityId

# ---------------------------------------------------------------------------------------------
# Accounts, contacts, opportunities


def _record_fields(record: Any) -> list[tuple[str, str]]:
    rows = []
    for field in attrs.fields(type(record)):
        value = getattr(record, field.name)
        if field.name in ("notes", "version") or value in (None, "", ()):
            continue
        if isinstance(value, Address):
            text = ", ".join(p for p in attrs.astuple(value) if p)
        elif isinstance(value, datetime):
            text = f"{value:%Y-%m-%d %H:%M}"
        else:
            text = _label(value)
        if text:
            rows.append((field.name, text))
    return rows


def _record_command(kind: str, columns: tuple[str, ...]) -> None:
    plural = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities"}[kind]

    @cli.command(
        name=plural,
        help=f"List the {plural} (qualification creates them), or show one by id.",
    )
    @click.argument("record_id", required=False)
    @click.option("--lead", "lead_id", help="Only those created from this lead.")
    def command(record_id: str | None, lead_id: str | None) -> None:
        with _store() as store, store.unit_of_work() as uow:
            repository: Any = getattr(uow, plural)
            if record_id is not None:
                ids = {"account": AccountId, "contact": ContactId, "opportunity": OpportunityId}
                records = [repository.get(ids[kind](record_id.strip()))]
            else:
                origin = _lead_id(lead_id) if lead_id else None
                records = list(repository.list(originating_lead=origin))
        if _settings().json:
            _emit_json([dict(_record_fields(r)) for r in records])
            return
        console = _console()
        if record_id is not None:
            table = _Table(title=f"{kind} {record_id}", show_header=False, title_justify="left")
            table.add_column("field", style="bold")
            table.add_column("value", overflow="fold")
            for name, text in _record_fields(records[0]):
                table.add_row(name, text)
            console.print(table)
            return
        table = _Table(title=f"{plural}: {len(records)}", title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for record in records:
            fields = dict(_record_fields(record))
            table.add_row(*(fields.get(c, "") for c in columns))
        console.print(table)

    command.__doc__ = (
        f"List the {plural} (qualification creates them), or show one by id (leadkit {plural} ID)."
    )


_record_command("account", ("id", "name", "email", "originating_lead", "created_at"))
_record_command("contact", ("id", "name", "company", "email", "account_id", "originating_lead"))
_record_command(
    "opportunity", ("id", "name", "customer", "estimated_value", "state", "originating_lead")
)
