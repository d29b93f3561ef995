"""Mass edit of one field changes that field only: every other field, and every other part
of the address, the name and the custom fields, stays as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.cli import cli
from leadkit.errors import InvalidValue
from leadkit.io.columns import lead_cell
from leadkit.lead import Lead
from leadkit.mass_edit import EDITABLE_FIELDS, field_path, mass_edit, set_field
from leadkit.patch import PATCH_FIELDS, UNSET
from leadkit.status import LeadState
from leadkit.testing.strategies import custom_values, lead_patches, leads
from leadkit.values import Address, PersonName, UserRef

AT = datetime(2101, 1, 1, tzinfo=UTC)
ME = UserRef("editor")


def flat(lead: Lead) -> dict[str, Any]:
    """Every editable value of a lead by its canonical path (parts of the address, name and
    custom fields one by one)."""
    out: dict[str, Any] = {}
    for name in PATCH_FIELDS:
        value = getattr(lead, name)
        if name in ("address", "name"):
            for part, part_value in vars_of(value).items():
                out[f"{name}.{part}"] = part_value
        elif name == "custom_fields":
            for key, custom in value.items():
                out[f"custom_fields.{key}"] = (type(custom), custom)
        else:
            out[name] = value
    return out


def vars_of(value: Address | PersonName) -> dict[str, object]:
    return attrs.asdict(value, recurse=False)


@st.composite
def one_field_edits(draw: st.DrawFn, lead: Lead) -> tuple[str, object]:
    """A field name a user may type and a valid value for it (drawn from a valid patch, or
    a custom value, or a clear)."""
    name = draw(st.sampled_from(EDITABLE_FIELDS))
    if name == "custom.<name>":
        existing = sorted(lead.custom_fields)
        key = draw(st.sampled_from([*existing, "new_field"]) if existing else st.just("new_field"))
        return f"custom.{key}", draw(st.none() | custom_values())
    donor = draw(lead_patches())
    path = field_path(name)
    head, _, part = path.partition(".")
    value = getattr(donor, head)
    if value is UNSET:  # the donor leaves it alone: clear it instead
        return name, None
    return name, (getattr(value, part) if part else value)


@given(data=st.data(), lead=leads(state=LeadState.OPEN))
def test_a_mass_edit_of_one_field_leaves_every_other_field_as_it_was(
    data: st.DataObject, lead: Lead
) -> None:
    name, value = data.draw(one_field_edits(lead))
    edit = set_field(name, value)
    path = field_path(name)
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.leads.add(lead)
        uow.commit()
    before = flat(lead)
    result = mass_edit(store, [lead.id], edit, at=AT, by=ME)
    with store.unit_of_work() as uow:
        after = uow.leads.get(lead.id)
    if not result.committed:  # the profile refused the value (a required part cleared)
        assert isinstance(result.failed[0].error, InvalidValue)
        assert flat(after) == before
        return
    changed = flat(after)
    # A whole address, name or set of custom fields covers all its parts.
    others = {k for k in {*before, *changed} if k != path and not k.startswith(path + ".")}
    assert {k: before.get(k) for k in others} == {k: changed.get(k) for k in others}
    # The edited lead is what `set_field` makes of it, applied directly (no store).
    direct = edit.apply(lead, at=AT, by=ME)
    assert flat(direct) == changed


_COLUMN: dict[str, str] = {
    "name": "full_name",
    "first_name": "first_name",
    "middle_name": "middle_name",
    "last_name": "last_name",
    "line1": "street1",
    "line2": "street2",
    "line3": "street3",
}


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), lead=leads(state=LeadState.OPEN), donor=leads())
def test_the_cli_mass_edit_of_one_field_leaves_every_other_field_as_it_was(
    data: st.DataObject, lead: Lead, donor: Lead, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same property through ``leadkit mass-edit ID --set FIELD=TEXT`` on a SQLite file,
    the text written as an export writes the donor lead's value."""
    name = data.draw(
        st.sampled_from([f for f in EDITABLE_FIELDS if f not in ("address", "custom.<name>")])
    )
    path = field_path(name)
    column = _COLUMN.get(name, name)
    text = lead_cell(donor, column)
    if path in ("budget_amount", "estimated_value") and text:
        text += " " + lead_cell(donor, f"{'budget' if path == 'budget_amount' else path}_currency")
    if path == "custom_fields":
        text = ""
    db = tmp_path_factory.mktemp("cli") / "leads.db"
    with SqlStore.open(path=db, create=True) as sql, sql.unit_of_work() as uow:
        uow.leads.add(lead)
        uow.commit()
    result = CliRunner().invoke(
        cli, ["--db", str(db), "mass-edit", lead.id.value, "--set", f"{name}={text}"]
    )
    with SqlStore.open(path=db) as sql, sql.unit_of_work() as uow:
        after = uow.leads.get(lead.id)
    before = flat(lead)
    changed = flat(after)
    if result.exit_code != 0:  # refused (a required part cleared): nothing changed
        assert result.exit_code == 2, result.output
        assert changed == before
        return
    others = {k for k in {*before, *changed} if k != path and not k.startswith(path + ".")}
    assert {k: before.get(k) for k in others} == {k: changed.get(k) for k in others}
    assert "'" not in result.stdout.replace(text, "")  # values as typed, never a repr
