"""The leadkit command as a daily tool (issue 19), each behaviour checked by running the real
command in a subprocess on a real SQLite database. Checks are grouped per invocation: every
subprocess costs an interpreter start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from leadkit.adapters.sql import SqlStore
from leadkit.fields import Budget, LeadSource, Need, PurchaseTimeframe, Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.status import LeadState
from leadkit.values import Address, LeadId, Money, PersonName, UserRef

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ME = UserRef("me")


def leadkit(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``leadkit --db DB ARGS...`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "leadkit.cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "COLUMNS": "200", "LEADKIT_DEBUG": ""},
        timeout=120,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, SqlStore]]:
    path = tmp_path / "leads.db"
    opened = SqlStore.open(path=path, create=True)
    yield path, opened
    opened.close()


def _addresses(n: int) -> list[Address]:
    countries = ("Sverige", "Polska", "Deutschland", "")
    return [
        Address(
            line1=f"Gatan {i}",
            city=f"Stad {i}",
            postal_code=f"{10000 + i}",
            country=countries[i % len(countries)],
        )
        for i in range(n)
    ]


def test_mass_edit_of_city_keeps_every_postal_code_and_country(
    store: tuple[Path, SqlStore],
) -> None:
    path, sql = store
    addresses = _addresses(60)
    with sql.unit_of_work() as uow:
        for i, address in enumerate(addresses):
            patch = LeadPatch(topic=f"Deal {i}", name=f"Ada Nr{i}", address=address)
            uow.leads.add(Lead.create(LeadId(f"L-{i:03d}"), patch, at=T0, by=ME))
        uow.commit()

    done = leadkit(path, "mass-edit", "--all", "--set", "city=Oslo")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("set city = Oslo: changed 60")
    assert "Address(" not in done.stdout
    assert "'" not in done.stdout  # no Python repr anywhere
    with sql.unit_of_work() as uow:
        after = {lead.id.value: lead.address for lead in uow.leads.stream()}
    for i, before in enumerate(addresses):
        assert after[f"L-{i:03d}"] == Address(
            line1=before.line1, city="Oslo", postal_code=before.postal_code, country=before.country
        )


HOSTILE_TOPIC = "[/]\x1b[2J"
HOSTILE_COMPANY = (
    "[bold]Acme[/bold] \x1b]0;owned\x07"  # markup, a window title
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ "  # an OSC 8 link
    "\x9b31m:smile:\u202eevil"  # 8-bit CSI, an emoji code, a bidi override
)
HOSTILE_NOTE = "line one\nline two \x07\x1bc\x90dcs\x9c end"
CONTROLS = ("\x1b", "\x07", "\x9b", "\x9c", "\x90", "\u202e", "\x9d")


def assert_plain(text: str) -> None:
    for control in CONTROLS:
        assert control not in text, repr(text)


def test_lead_text_is_shown_as_plain_text_never_as_markup_or_terminal_control(
    tmp_path: Path,
) -> None:
    db = tmp_path / "leads.db"
    assert leadkit(db, "init").returncode == 0
    added = leadkit(
        db,
        "add",
        "--topic",
        HOSTILE_TOPIC,
        "--name",
        "Ada [red]Lovelace",
        "--company",
        HOSTILE_COMPANY,
    )
    assert added.returncode == 0, added.stderr
    lead_id = added.stdout.strip()
    assert leadkit(db, "note", lead_id, HOSTILE_NOTE).returncode == 0

    listed = leadkit(db, "list")
    shown = leadkit(db, "show", lead_id)
    as_json = leadkit(db, "--json", "show", lead_id)
    refused = leadkit(db, "edit", lead_id, "--set", "email=\x1b]0;x\x07[/]not-an-address")

    for done in (listed, shown, as_json):
        assert done.returncode == 0, done.stderr
        assert_plain(done.stdout + done.stderr)
    for done in (listed, shown):
        assert "[/]" in done.stdout  # the topic, literally
        assert "[bold]Acme[/bold]" in done.stdout.replace("\n", "")
        assert ":smile:" in done.stdout  # no emoji codes either
    assert "Ada [red]Lovelace" in shown.stdout
    assert "line one" in shown.stdout
    assert "line two" in shown.stdout
    flat = shown.stdout.replace("\n", "")
    assert "click" in flat  # a link's text stays, its target and the title sequence go
    assert "evil.example" not in flat
    assert "owned" not in flat
    assert "\\u009b31m" in as_json.stdout  # JSON escapes C1 controls
    assert refused.returncode == 2
    assert_plain(refused.stderr)
    assert refused.stderr.count("\n") == 1
    assert "[/]not-an-address" in refused.stderr


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("[/]\x1b[2J", "[/]"),
        ("a\x1b[38;5;196mred\x1b[0m", "ared"),
        ("\x1b]0;title\x07x", "x"),
        ("\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b2J\x9d0;t\x9cok", "ok"),
        ("\x1bP1$r\x1b\\dcs", "dcs"),
        ("bell\x07 nul\x00 del\x7f c1\x85", "bell nul del c1"),
        ("tab\tnew\nline\r", "tab new line"),
        ("\u202egnp.exe", "gnp.exe"),
        ("unterminated \x1b]0;title", "unterminated "),
        ("Müller & Öström [x]", "Müller & Öström [x]"),
    ],
)
def test_plain_removes_every_terminal_control(raw: str, shown: str) -> None:
    from leadkit.cli._shared import _plain

    assert _plain(raw) == shown
    assert _plain("one\ntwo\tthree\x1b[1m", multiline=True) == "one\ntwo\tthree"


def test_every_field_is_settable_with_the_importers_parsers_and_criteria_tick(
    tmp_path: Path,
) -> None:
    db = tmp_path / "leads.db"
    assert leadkit(db, "init").returncode == 0
    added = leadkit(
        db,
        "--currency", "EUR", "--date-order", "MDY", "--phone-region", "SE",
        "add", "--topic", "Fleet", "--name", "Ada Lovelace",
        "--phone", "040-38 86 89",
        "--set", "budget_amount=5000 SEK",
        "--set", "estimated_value=1 234,50",
        "--set", "estimated_close_date=12/31/2026",
        "--set", "need=Must have",
        "--set", "purchase_timeframe=this quarter", "--set", "source=Mässa",
        "--set", "budget=3",
        "--set", "rating=hot",
        "--set", "first_name=Augusta",
        "--set", "city=Lund",
        "--set", "custom.size:integer=12",
        "--set", "custom.segment=Retail",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    lead_id = added.stdout.strip()
    ticked = leadkit(db, "tick", lead_id, "budget-confirmed", "met_in_person")
    assert ticked.returncode == 0, ticked.stderr
    unticked = leadkit(db, "untick", lead_id, "met_in_person")
    assert unticked.stdout.strip() == f"{lead_id}: ticked budget_confirmed"
    refused = leadkit(db, "edit", lead_id, "--set", "x=1", "--set", "budget_amount=5000")

    with SqlStore.open(path=db) as sql, sql.unit_of_work() as uow:
        lead = uow.leads.get(LeadId(lead_id))
    assert str(lead.budget_amount) == "5000.00 SEK"
    assert str(lead.estimated_value) == "1234.50 EUR"
    assert lead.estimated_close_date is not None
    assert lead.estimated_close_date.isoformat() == "2026-12-31"
    assert (lead.need, lead.purchase_timeframe, lead.budget, lead.rating) == (
        Need.MUST_HAVE,
        PurchaseTimeframe.THIS_QUARTER,
        Budget.WILL_BUY,
        Rating.HOT,
    )
    assert lead.name == PersonName("Augusta", "Lovelace")
    assert lead.address.city == "Lund"
    assert lead.business_phone is not None
    assert lead.business_phone.e164 == "+46403886 89".replace(" ", "")
    assert dict(lead.custom_fields) == {"size": 12, "segment": "Retail"}
    assert lead.ticked_criteria == frozenset({"budget_confirmed"})
    assert lead.source is LeadSource.TRADE_SHOW
    assert refused.returncode == 2
    assert refused.stderr.startswith("leadkit: error: invalid x: not an editable lead field;")
    assert "first_name" in refused.stderr
    assert "city" in refused.stderr


def _varied_leads() -> list[Lead]:
    people = [
        ("Ada Lovelace", "Analytical AB", "ada@analytical.se", "+46 40 38 86 89", "Malmö"),
        ("Dr. Jürgen Groß Jr.", "Groß GmbH", "jg@gross.de", "+49 30 1234567", "Berlin"),
        ("Łukasz Wiśniewski", "Wisła Sp. z o.o.", "lw@wisla.pl", "", "Kraków"),
        ("Sofia Hägglund", "=cmd|' /C calc'!A0", "", "+46 70 123 45 67", ""),
    ]
    leads = []
    for i, (name, company, email, phone, city) in enumerate(people):
        patch = LeadPatch.from_mapping(
            {
                "topic": f"Deal {i}",
                "name": name,
                "company": company,
                "email": email or None,
                "business_phone": phone or None,
                "address": Address(line1=f"Gatan {i}", city=city, postal_code=f"2{i}1 20"),
                "source": "Web" if i % 2 else "Partner",
                "rating": "Hot" if i % 2 else None,
                "budget_amount": Money(f"{1000 * (i + 1)}.50", "SEK") if i != 2 else None,
                "estimated_close_date": date(2027, 1, 1 + i),
                "description": "two\nlines" if i == 0 else "",
                "custom_fields": {"segment": f"S{i}"} if i != 3 else {},
            }
        )
        leads.append(Lead.create(LeadId(f"L-{i:04d}"), patch, at=T0, by=ME))
    return leads


def test_export_import_export_gives_the_same_file_and_xlsx_is_a_workbook(
    store: tuple[Path, SqlStore], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    path, sql = store
    with sql.unit_of_work() as uow:
        for lead in _varied_leads():
            uow.leads.add(lead)
        uow.commit()
    empty = tmp_path / "empty.db"
    SqlStore.open(path=empty, create=True).close()
    first, second, book = tmp_path / "first.csv", tmp_path / "second.csv", tmp_path / "all.xlsx"

    exported = leadkit(path, "export", str(first))
    imported = leadkit(empty, "import", str(first), "--yes")
    again = leadkit(empty, "export", str(second))
    full = leadkit(path, "export", str(book), "--columns", "full", "--state", "open")

    for done in (exported, imported, again, full):
        assert done.returncode == 0, done.stderr
    assert "created 4, updated 0, skipped 0, rejected 0" in imported.stdout
    assert second.read_bytes() == first.read_bytes()
    header = first.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("Lead ID,Topic,Salutation,First Name")
    assert header.endswith("custom.segment")
    assert oct(first.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    workbook = load_workbook(book, read_only=True)  # read-only keeps the file open until closed
    try:
        rows = list(workbook["Leads"].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert len(rows) == 5
    assert rows[0][-7:] == (
        "Status", "Status Reason", "Owner", "Score", "Stars", "Created On", "Modified On",
    )  # fmt: skip
    assert rows[1][-7:-3] == ("Open", "New", "me", None)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_import_mapping_preview_dry_run_and_phone_region_from_the_rows_country(
    tmp_path: Path,
) -> None:
    db = tmp_path / "leads.db"
    SqlStore.open(path=db, create=True).close()
    source = tmp_path / "people.csv"
    source.write_text(
        "Subject,Given,Surname,Firm,Mail,Phone,Country,Notes\n"
        "Deal,Ada,Lovelace,Acme,ada@acme.se,040-38 86 89,Sverige,x\n"
        "Offer,Jan,Kowalski,Wisła,jan@wisla.pl,22 123 45 67,Polska,y\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"Firm": "company", "Mail": "email", "Notes": null}', encoding="utf-8")

    preview = leadkit(db, "import", str(source), "--dry-run", "--map", "Given=first_name")
    imported = leadkit(
        db, "import", str(source), "--yes", "--mapping", str(mapping), "--map", "Given=first_name"
    )
    sample = leadkit(db, "import", str(SAMPLE), "--dry-run")

    assert preview.returncode == 0, preview.stderr
    lines = preview.stdout.splitlines()
    assert lines[0] == "columns:"
    assert "  Given   -> first_name" in lines
    assert "  Firm    -> (ignored)" in lines
    assert "ignored columns: Firm\n" in preview.stdout
    assert preview.stdout.rstrip().endswith("dry run: nothing written")
    assert imported.returncode == 0, imported.stderr
    assert "  Firm    -> company" in imported.stdout
    with SqlStore.open(path=db) as sql, sql.unit_of_work() as uow:
        leads = sorted(uow.leads.stream(), key=lambda lead: lead.topic)
    assert [(lead.name.first, lead.company, str(lead.email)) for lead in leads] == [
        ("Ada", "Acme", "ada@acme.se"),
        ("Jan", "Wisła", "jan@wisla.pl"),
    ]
    phones = [lead.business_phone.e164 if lead.business_phone else "" for lead in leads]
    assert phones == ["+4640388689", "+48221234567"]
    # The shipped Swedish sample: every row names its country, no phone needs --phone-region.
    assert sample.returncode == 0, sample.stderr
    assert "default region" not in sample.stdout
    assert "Kundnummer   -> (ignored)" in sample.stdout


SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "leads_sample.csv"


def test_show_lists_linked_records_and_labels_both_ratings_records_are_listed(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from leadkit.cli import cli

    db = tmp_path / "leads.db"

    def inline(*args: str) -> str:  # setup in-process; the checks run the real command
        result = CliRunner().invoke(cli, ["--db", str(db), *args])
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    inline("init")
    lead_id = inline(
        "add", "--topic", "Fleet", "--name", "Ada Lovelace", "--company", "Acme",
        "--email", "ada@acme.se", "--set", "rating=Hot", "--set", "estimated_value=900 EUR",
    )  # fmt: skip
    inline("mass-edit", lead_id, "--manual-score", "4", "--score-reason", "met at fair")
    inline("qualify", lead_id, "--yes")

    shown = leadkit(db, "show", lead_id)
    accounts = leadkit(db, "--json", "accounts")
    opportunities = leadkit(db, "opportunities", "--lead", lead_id)
    too_many = leadkit(db, "mass-edit", lead_id, "--manual-score", "6")

    assert shown.returncode == 0, shown.stderr
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in shown.stdout.splitlines()
        if line.startswith("│")
    }
    assert rows["rating (yours)"] == "Hot"
    assert rows["manual score"] == "4 of 5 stars by me: met at fair"
    assert rows["account"].endswith("Acme (created)")
    assert rows["contact"].endswith("Ada Lovelace (created)")
    assert rows["opportunity"].endswith("Fleet (created)")
    assert rows["qualified"].endswith("by me")
    assert "the model's rating" in shown.stdout
    assert accounts.returncode == 0, accounts.stderr
    listed = json.loads(accounts.stdout)
    assert [(a["name"], a["originating_lead"]) for a in listed] == [("Acme", lead_id)]
    assert "Fleet" in opportunities.stdout
    assert "900.00 EUR" in opportunities.stdout
    assert too_many.returncode == 2
    assert "6 is not in the range 0<=x<=5" in too_many.stderr


def test_add_checks_duplicates_with_the_engine_and_links_or_creates_anyway(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from leadkit.cli import cli

    db = tmp_path / "leads.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "init"]).exit_code == 0
    first = runner.invoke(
        cli, ["--db", str(db), "add", "--topic", "A", "--name", "Ada Lovelace",
              "--email", "ada@acme.se", "--company", "Acme"],
    ).stdout.strip()  # fmt: skip
    assert runner.invoke(cli, ["--db", str(db), "qualify", first, "--yes"]).exit_code == 0
    with SqlStore.open(path=db) as sql, sql.unit_of_work() as uow:
        contact = uow.contacts.list()[0].id.value
    again = ("add", "--topic", "B", "--name", "Ada Lovelace", "--email", "ADA@acme.se")

    refused = leadkit(db, *again)
    linked = leadkit(db, *again, "--link", contact)
    anyway = leadkit(db, "--json", *again, "--create-anyway")

    assert refused.returncode == 4
    assert refused.stderr.startswith("leadkit: error: ")
    assert "nothing added" in refused.stderr
    assert contact in refused.stdout  # the table: the contact the first lead became
    assert linked.returncode == 0, linked.stderr
    assert anyway.returncode == 0, anyway.stderr
    with SqlStore.open(path=db) as sql, sql.unit_of_work() as uow:
        added = {lead.id.value: lead for lead in uow.leads.stream()}
    assert len(added) == 3
    link = added[linked.stdout.strip()]
    assert link.existing_contact is not None
    assert link.existing_contact.value == contact
    assert json.loads(anyway.stdout)["id"] in added


def test_text_search_ignores_accents_in_the_sql_store(store: tuple[Path, SqlStore]) -> None:
    path, sql = store
    names = ["Jürgen Müller", "Åsa Öström", "Ada Lovelace"]
    with sql.unit_of_work() as uow:
        for i, name in enumerate(names):
            patch = LeadPatch(topic=f"Deal {i}", name=name)
            uow.leads.add(Lead.create(LeadId(f"L-{i}"), patch, at=T0, by=ME))
        uow.commit()

    found = leadkit(path, "--json", "list", "--text", "mueller")
    also = leadkit(path, "--json", "list", "--text", "Ostrom")

    assert [lead["name"] for lead in json.loads(found.stdout)["leads"]] == ["Jürgen Müller"]
    assert [lead["name"] for lead in json.loads(also.stdout)["leads"]] == ["Åsa Öström"]


@pytest.mark.parametrize(
    ("needle", "hay"),
    [("mueller", "Müller"), ("muller", "MÜLLER"), ("ostrom", "Öström"), ("gross", "Groß"),
     ("lukasz", "Łukasz"), ("sorensen", "Sørensen"), ("jose", "José"), ("a  b", "A\tB")],
)  # fmt: skip
def test_fold_search_folds_accents_case_and_umlaut_spellings(needle: str, hay: str) -> None:
    from leadkit.ports import fold_search

    assert fold_search(needle) == fold_search(hay)


def test_the_fast_help_page_is_the_real_one_and_lists_every_command() -> None:

    from leadkit.cli import cli
    from leadkit_cli import COMMANDS, help_page

    with cli.make_context("leadkit", [], resilient_parsing=True, terminal_width=100) as ctx:
        assert help_page(100) == cli.get_help(ctx)
        assert "-h, --help" in help_page(100)
        assert sorted(COMMANDS) == sorted(cli.list_commands(ctx))


def test_help_and_version_answer_without_importing_leadkit() -> None:
    probe = (
        "import sys\n"
        "from leadkit_cli import main\n"
        "sys.argv = ['leadkit', sys.argv[1]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('IMPORTED' if 'leadkit' in sys.modules else 'LIGHT')\n"
    )
    for flag, shown in (
        ("--help", "Usage: leadkit [OPTIONS] COMMAND"),
        ("--version", "leadkit, version"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", probe, flag], capture_output=True, text=True, timeout=60
        )
        assert shown in done.stdout
        assert done.stdout.rstrip().endswith("LIGHT"), flag


def test_the_demos_numbers_agree_and_every_seller_gets_a_mix(tmp_path: Path) -> None:
    import re
    from collections import Counter

    db = tmp_path / "demo.db"
    demo = leadkit(db, "demo", "--leads", "600")
    funnel = leadkit(db, "--json", "report", "funnel")

    assert demo.returncode == 0, demo.stderr
    summary = " ".join(demo.stdout.split())
    numbers = json.loads(funnel.stdout)["funnel"]
    said = re.search(
        r"(\d+) contacted .* (\d+) qualified, (\d+) disqualified, (\d+) still open", summary
    )
    assert said is not None, summary
    assert [int(n) for n in said.groups()] == [
        numbers["contacted"],
        numbers["qualified"],
        numbers["disqualified"],
        numbers["open"],
    ]
    typed = re.search(
        r"of the (\d+) leads typed in twice, (\d+) are grouped with their original, (\d+) have a "
        r"copy or original that is closed .* (\d+) differ too much",
        summary,
    )
    assert typed is not None, summary
    total, grouped, closed, missed = (int(n) for n in typed.groups())
    assert grouped + closed + missed == total > 0
    with SqlStore.open(path=db) as sql, sql.unit_of_work() as uow:
        states = Counter((lead.owner.id, lead.state) for lead in uow.leads.stream())
    owners = {owner for owner, _ in states}
    assert len(owners) == 5
    for owner in owners:  # nobody gets all the qualified or all the disqualified leads
        assert states[owner, LeadState.QUALIFIED] < numbers["qualified"]
        assert states[owner, LeadState.DISQUALIFIED] < numbers["disqualified"]
        assert states[owner, LeadState.DISQUALIFIED] > 0


def test_unlink_lets_a_reactivated_lead_be_disqualified_and_json_gives_fields(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from leadkit.cli import cli

    db = tmp_path / "leads.db"

    def inline(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--db", str(db), *args])
        return result.exit_code, result.stdout.strip()

    inline("init")
    _, lead_id = inline("add", "--topic", "T", "--name", "Ada Lovelace", "--email", "a@b.se")
    inline("add", "--topic", "T2", "--name", "Ada Lovelace", "--email", "a@b.se", "--create-anyway")
    assert inline("qualify", lead_id, "--yes")[0] == 0
    assert inline("reactivate", lead_id)[0] == 0
    assert inline("disqualify", lead_id)[0] == 4  # its opportunity is still linked

    unlinked = leadkit(db, "unlink", lead_id, "opportunity")
    shown = leadkit(db, "--json", "show", lead_id)
    scan = leadkit(db, "--json", "dedupe")

    assert unlinked.returncode == 0, unlinked.stderr
    assert unlinked.stdout.strip() == f"{lead_id}: opportunity unlinked"
    assert inline("disqualify", lead_id)[0] == 0
    criteria = json.loads(shown.stdout)["score_explanation"]["criteria"]
    assert {"id", "description", "weight", "met", "points"} <= set(criteria[0])
    evidence = json.loads(scan.stdout)["groups"][0]["evidence"][0]
    assert evidence["rule"] == "lead-same-email"
    assert evidence["conditions"][0]["value"] == "a@b.se"
    assert evidence["conditions"][0]["field"] == "email"
