"""A small web API over leadkit's front door: Starlette, a SQLite file, problem details.

Endpoints (the acting user comes from the ``X-User`` header; a real host takes it from its
authentication):

==========================  =========================================================
``POST /leads``             create a lead from a JSON object of fields (201 + ETag)
``GET /leads/mine``         my open leads
``GET /leads/{id}``         one lead, with option labels; ``ETag`` is its version
``PATCH /leads/{id}``       change fields; ``If-Match: "<version>"`` makes it safe
``POST /leads/{id}/qualify``     qualify; 409 with the duplicate candidates, then answer
                                 with ``{"link_contact": "<id>"}`` or ``create_anyway``
``POST /leads/{id}/disqualify``  ``{"reason": "lost"}``
``POST /leads/{id}/score``       score it with the desk's model
==========================  =========================================================

Every leadkit error becomes an RFC 9457 problem document (:func:`leadkit.problem`);
malformed JSON is a 422 problem naming ``body``, bad fields a 422 listing each field path.

Run it as a script to see one round trip through the test client
(``pip install starlette httpx``; ``uvicorn`` serves ``create_app`` for real).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from leadkit import (
    PROBLEM_MEDIA_TYPE,
    Desk,
    FieldProblem,
    InvalidValue,
    Lead,
    LeadkitError,
    QualifyResult,
    lead_json,
    problem,
)
from leadkit.adapters.sql import SqlStore

Handler = Callable[[Request], Awaitable[Response]]


def _problem_response(error: LeadkitError) -> JSONResponse:
    status, document = problem(error)
    return JSONResponse(document, status, media_type=PROBLEM_MEDIA_TYPE)


def _lead_response(lead: Lead, status: int = 200) -> JSONResponse:
    return JSONResponse(lead_json(lead), status, headers={"ETag": f'"{lead.version}"'})


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object; InvalidValue naming ``body`` for anything else."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidValue("body", None, f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise InvalidValue("body", None, "must be a JSON object")
    return data


def _expected_version(request: Request) -> int | None:
    """The version an ``If-Match`` header names (``"3"`` or ``3``), else None."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidValue("If-Match", header, 'must be a version ETag such as "3"')
    return int(text)


def _qualified(result: QualifyResult) -> dict[str, Any]:
    def plain(value: object) -> object:
        return getattr(value, "value", None)

    return {
        "lead": lead_json(result.lead),
        "account_id": plain(result.account_id),
        "contact_id": plain(result.contact_id),
        "opportunity_id": plain(result.opportunity_id),
        "created": [k.value for k in result.created],
        "linked": [k.value for k in result.linked],
    }


def create_app(store: SqlStore, *, phone_region: str | None = "SE") -> Starlette:
    """The web app over one desk wired on ``store``."""
    desk = Desk(store, phone_region=phone_region)

    def acting(request: Request) -> Desk:
        user = request.headers.get("x-user", "").strip()
        if not user:
            raise InvalidValue("X-User", None, "say who is acting (a user id)")
        return desk.acting_as(user)

    def endpoint(run: Callable[[Request], Awaitable[Response]]) -> Handler:
        async def handle(request: Request) -> Response:
            try:
                return await run(request)
            except LeadkitError as e:
                return _problem_response(e)

        return handle

    async def create(request: Request) -> Response:
        fields = await _body(request)
        return _lead_response(acting(request).create(**fields), 201)

    async def mine(request: Request) -> Response:
        page = acting(request).views.my_open(limit=100)
        return JSONResponse({"items": [lead_json(lead) for lead in page.items]})

    async def show(request: Request) -> Response:
        return _lead_response(desk.get(request.path_params["lead_id"]))

    async def edit(request: Request) -> Response:
        fields = await _body(request)
        lead = acting(request).update(
            request.path_params["lead_id"],
            expected_version=_expected_version(request),
            **fields,
        )
        return _lead_response(lead)

    async def qualify(request: Request) -> Response:
        answers = await _body(request)
        result = acting(request).qualify(
            request.path_params["lead_id"],
            expected_version=_expected_version(request),
            **answers,
        )
        return JSONResponse(_qualified(result))

    async def disqualify(request: Request) -> Response:
        body = await _body(request)
        unknown = sorted(set(body) - {"reason"})
        if unknown:
            raise InvalidValue.many(
                FieldProblem(k, body[k], "not a disqualify field") for k in unknown
            )
        result = acting(request).disqualify(
            request.path_params["lead_id"],
            body.get("reason", "lost"),
            expected_version=_expected_version(request),
        )
        return _lead_response(result.lead)

    async def score(request: Request) -> Response:
        lead = acting(request).score(
            request.path_params["lead_id"], expected_version=_expected_version(request)
        )
        return _lead_response(lead)

    return Starlette(
        routes=[
            Route("/leads", endpoint(create), methods=["POST"]),
            Route("/leads/mine", endpoint(mine), methods=["GET"]),
            Route("/leads/{lead_id}", endpoint(show), methods=["GET"]),
            Route("/leads/{lead_id}", endpoint(edit), methods=["PATCH"]),
            Route("/leads/{lead_id}/qualify", endpoint(qualify), methods=["POST"]),
            Route("/leads/{lead_id}/disqualify", endpoint(disqualify), methods=["POST"]),
            Route("/leads/{lead_id}/score", endpoint(score), methods=["POST"]),
        ]
    )


def main() -> None:
    """One round trip through the test client: create, show, edit, qualify, list."""
    from starlette.testclient import TestClient

    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(path=Path(folder) / "web.db")
        try:
            client = TestClient(create_app(store), headers={"X-User": "anna"})
            made = client.post(
                "/leads",
                json={
                    "topic": "Coffee machines",
                    "name": "Åsa Öberg",
                    "email": "asa@fika.example",
                    "business_phone": "08-123 456 78",
                    "budget_amount": {"amount": "25000", "currency": "SEK"},
                    "source": "Web",
                },
            )
            lead = made.json()
            print(f"POST /leads -> {made.status_code}, ETag {made.headers['etag']}")
            print(f"  source {lead['source']}, phone {lead['business_phone']['e164']}")
            lead_id = lead["id"]
            edited = client.patch(
                f"/leads/{lead_id}", json={"company": "Fika AB"}, headers={"If-Match": '"1"'}
            )
            print(f"PATCH If-Match 1 -> {edited.status_code}, ETag {edited.headers['etag']}")
            stale = client.patch(
                f"/leads/{lead_id}", json={"company": "Other"}, headers={"If-Match": '"1"'}
            )
            print(f"PATCH If-Match 1 again -> {stale.status_code} {stale.json()['title']}")
            bad = client.post("/leads", json={"topic": "x", "nmae": "y"})
            print(f"POST a misspelt field -> {bad.status_code} {bad.json()['errors']}")
            done = client.post(f"/leads/{lead_id}/qualify", json={})
            print(f"POST qualify -> {done.status_code}, created {done.json()['created']}")
            mine = client.get("/leads/mine")
            print(f"GET /leads/mine -> {len(mine.json()['items'])} open lead(s)")
        finally:
            store.close()


if __name__ == "__main__":
    main()
