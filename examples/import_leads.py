"""leadkit import and export: preview a lead file, commit it, export the result.

Imports ``examples/data/leads_sample.csv`` (200 rows from a Swedish Excel, with deliberate
errors and duplicates) into a SQLite file in a temporary directory (or a MemoryStore when
SQLAlchemy is not installed), prints the preview, commits, then exports the stored leads to
CSV and ``.xlsx`` with Swedish headers.

Run it with ``python examples/import_leads.py``.
"""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from leadkit import Desk, EmailAddress, Lead, LeadId, LeadPatch, PersonName, UserRef
from leadkit.io import (
    CsvSource,
    Source,
    export_csv,
    export_xlsx,
    suggest_mapping,
)
from leadkit.ports import LeadStore
from leadkit.records import Contact
from leadkit.values import ContactId

SAMPLE = Path(__file__).resolve().parent / "data" / "leads_sample.csv"
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
IMPORTER = UserRef("anna", "Anna Svensson")


def open_store(folder: Path) -> LeadStore:
    """A SQLite file store when SQLAlchemy is installed, else the in-memory store."""
    try:
        from leadkit.adapters.sql import SqlStore
    except ImportError:
        from leadkit.adapters.memory import MemoryStore

        print("(SQLAlchemy not installed: importing into a MemoryStore)")
        return MemoryStore()
    print(f"store: SQLite file {folder / 'leads.db'}")
    return SqlStore.open(path=folder / "leads.db")


def seed(store: LeadStore, source: Source) -> None:
    """What the CRM already holds: a lead with the e-mail of row 31 of the file and a contact
    with the name and e-mail of row 46, so the preview meets them again."""
    rows = {row.number: row.cells for row in source.rows() if row.number in (31, 46)}
    email = source.headers.index("E-post")
    first, last = source.headers.index("Förnamn"), source.headers.index("Efternamn")
    with store.unit_of_work() as uow:
        uow.leads.add(
            Lead.create(
                LeadId("L-existing"),
                LeadPatch(
                    topic="Tidigare förfrågan",
                    name=PersonName(rows[31][first], rows[31][last]),
                    email=EmailAddress(rows[31][email]),
                ),
                at=AT,
                by=IMPORTER,
            )
        )
        uow.contacts.add(
            Contact(
                id=ContactId("C-1"),
                name=PersonName(rows[46][first], rows[46][last]),
                email=EmailAddress(rows[46][email]),
            )
        )
        uow.commit()


def main() -> None:
    source = CsvSource(SAMPLE)  # or open_source(path) for any format
    print(f"{source.name}: encoding {source.encoding}, delimiter {source.delimiter!r}")
    mapping = suggest_mapping(source.headers).override({"Kundnummer": "custom.customer_number"})
    print("column mapping:")
    for header, key in mapping.columns:
        print(f"  {header:<14} -> {key or '(ignored)'}")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = open_store(folder)
        try:
            seed(store, source)
            # The front door, wired once: the import uses its phone region and profile.
            numbers = itertools.count(1)
            desk = Desk(
                store, clock=lambda: AT, ids=lambda: f"L-{next(numbers):04d}", phone_region="SE"
            )
            anna = desk.acting_as(IMPORTER)
            plan = anna.import_file(source, mapping=mapping, currency="SEK")
            print("\npreview (nothing written yet):")
            print(plan.summary(limit=8))
            report = anna.commit_import(plan, batch_size=50)
            print(f"\ncommitted in {report.batches} batches: {report.summary()}")
            with store.unit_of_work() as uow:
                leads = list(uow.leads.stream())
            columns = (
                "topic",
                "first_name",
                "last_name",
                "company",
                "email",
                "business_phone",
                "city",
                "source",
                "budget_amount",
                "budget_currency",
                "custom.customer_number",
            )
            csv_path = folder / "export.csv"
            rows = export_csv(leads, csv_path, columns, language="sv", delimiter=";")
            print(f"\nexported {rows} leads to {csv_path.name}; first lines:")
            for line in csv_path.read_text(encoding="utf-8-sig").splitlines()[:3]:
                print(f"  {line}")
            try:
                xlsx_rows = export_xlsx(leads, folder / "export.xlsx", columns, language="sv")
                print(f"exported {xlsx_rows} leads to export.xlsx")
            except ImportError:
                print("(openpyxl not installed: no .xlsx export)")
        finally:
            store.close()


if __name__ == "__main__":
    main()
