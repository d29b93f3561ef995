"""examples/web_app.py, driven through its test client: a real host over the front door."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from starlette.testclient import TestClient

from leadkit import PROBLEM_TYPE_PREFIX
from leadkit.adapters.sql import SqlStore

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "web_app.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_app_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


web_app = _load()
ADA: dict[str, Any] = {"topic": "Analytical engines", "name": "Ada Lovelace"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(path=tmp_path / "web.db")
    yield opened
    opened.close()


@pytest.fixture
def client(store: SqlStore) -> TestClient:
    return TestClient(web_app.create_app(store), headers={"X-User": "anna"})


def _create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/leads", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_show_and_list_my_open_leads(client: TestClient) -> None:
    made = _create(client, **ADA, source="Web", business_phone="08-123 456 78")
    assert made["source"] == {"code": 8, "label": "Web"}
    assert made["business_phone"]["e164"] == "+46812345678"
    shown = client.get(f"/leads/{made['id']}")
    assert shown.status_code == 200
    assert shown.headers["etag"] == '"1"'
    assert shown.json()["state"] == {"code": 0, "label": "Open"}
    _create(client.__class__(client.app, headers={"X-User": "bo"}), **ADA)
    mine = client.get("/leads/mine").json()["items"]
    assert [lead["id"] for lead in mine] == [made["id"]]


def test_qualify_answers_409_with_candidates_then_links_one(client: TestClient) -> None:
    first = _create(client, **ADA, email="ada@engines.example")
    second = _create(
        client, topic="Second enquiry", name="Ada Lovelace", email="ada@engines.example"
    )
    done = client.post(f"/leads/{first['id']}/qualify", json={})
    assert done.status_code == 200
    contact = done.json()["contact_id"]
    refused = client.post(f"/leads/{second['id']}/qualify", json={})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == PROBLEM_TYPE_PREFIX + "duplicates-unresolved"
    assert [(c["record_type"], c["record_id"]) for c in problem["candidates"]] == [
        ("contact", contact)
    ]
    assert "e-mail" in problem["candidates"][0]["reason"]
    assert client.get(f"/leads/{second['id']}").json()["state"]["label"] == "Open"
    linked = client.post(f"/leads/{second['id']}/qualify", json={"link_contact": contact})
    assert linked.status_code == 200
    assert linked.json()["linked"] == ["contact"]
    assert linked.json()["contact_id"] == contact


def test_disqualify_and_score(client: TestClient) -> None:
    made = _create(client, **ADA, email="ada@engines.example")
    scored = client.post(f"/leads/{made['id']}/score")
    assert scored.status_code == 200
    assert scored.json()["score"] is not None
    closed = client.post(f"/leads/{made['id']}/disqualify", json={"reason": "cannot contact"})
    assert closed.status_code == 200
    assert closed.json()["reason"]["label"] == "Cannot Contact"
    again = client.patch(f"/leads/{made['id']}", json={"company": "x"})
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM_TYPE_PREFIX + "lead-closed"


def test_an_unknown_lead_is_404(client: TestClient) -> None:
    response = client.get("/leads/nobody")
    assert response.status_code == 404
    assert response.json()["key"] == "nobody"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"topic": "x",', "body"),
        (b"[1, 2]", "body"),
        (b"\xff\xfe", "body"),
    ],
)
def test_malformed_json_is_a_422_naming_the_body(
    client: TestClient, content: bytes, field: str
) -> None:
    response = client.post("/leads", content=content)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_bad_fields_are_a_422_with_every_field_path(client: TestClient, store: SqlStore) -> None:
    response = client.post(
        "/leads",
        json={
            "topic": "x",
            "name": {"first": "Ada"},
            "address": {"postal_code": "<b>"},
            "budget_amount": {"amount": "10", "currency": "ZZZ"},
            "rating": "lukewarm",
            "colour": "red",
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "address.postal_code",
        "budget_amount.currency",
        "rating",
        "colour",
    }
    with store.unit_of_work() as uow:
        assert list(uow.leads.stream()) == []


def test_a_missing_required_field_is_a_422_with_its_label(client: TestClient) -> None:
    response = client.post("/leads", json={"topic": "x", "name": {"first": "Ada"}})
    assert response.status_code == 422
    assert {"field": "name.last", "label": "Last Name"}.items() <= response.json()["errors"][
        0
    ].items()


def test_a_bad_if_match_and_a_missing_user_are_refused(client: TestClient) -> None:
    made = _create(client, **ADA)
    bad = client.patch(f"/leads/{made['id']}", json={"company": "x"}, headers={"If-Match": "*x"})
    assert bad.status_code == 422
    nobody = TestClient(client.app).post("/leads", json=ADA)
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "X-User"


def test_eight_threads_editing_one_lead_lose_no_update(store: SqlStore) -> None:
    app = web_app.create_app(store)
    made = _create(TestClient(app, headers={"X-User": "anna"}), **ADA, description="")
    url = f"/leads/{made['id']}"
    writers = 8
    everyone_read = threading.Barrier(writers)
    conflicts: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        client = TestClient(app, headers={"X-User": f"user{n}"})
        first = True
        for _ in range(50):
            shown = client.get(url)
            if first:
                everyone_read.wait()  # all read the same version before anyone writes
                first = False
            text = shown.json()["description"]
            answer = client.patch(
                url,
                json={"description": f"{text} [{n}]".strip()},
                headers={"If-Match": shown.headers["etag"]},
            )
            if answer.status_code == 200:
                return
            with lock:
                if answer.status_code == 409:
                    conflicts.append(n)
                else:
                    failures.append(answer.text)
                    return
        failures.append(f"writer {n} never got through")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    final = TestClient(app).get(url)
    description = final.json()["description"]
    assert sorted(description.split()) == sorted(f"[{n}]" for n in range(writers))
    assert final.headers["etag"] == f'"{1 + writers}"'
    assert len(conflicts) >= writers - 1  # the first round: one wins, seven get 409
