"""The OpenAPI description covers every route of the desk and the hub (fails when one is
missing), is OpenAPI 3.1, and takes its schemas from the handlers' pydantic models."""

from __future__ import annotations

from aiohttp import web

from services.common import openapi
from services.desk import app as desk_app
from services.desk.settings import DeskSettings
from services.hub import api as hub_api
from services.hub.app import create_app as create_hub


def test_every_desk_route_is_described() -> None:
    app = desk_app.create_app(DeskSettings())
    assert openapi.uncovered(app, desk_app.OPS) == set()


def test_every_hub_route_is_described() -> None:
    app = create_hub("postgresql://unused/x", "amqp://unused/")
    assert openapi.uncovered(app, hub_api.OPS) == set()


def test_a_route_without_description_is_found() -> None:
    app = desk_app.create_app(DeskSettings())

    async def nothing(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/v1/secret", nothing)
    assert openapi.uncovered(app, desk_app.OPS) == {("GET", "/v1/secret")}


def test_the_description_uses_the_handlers_models() -> None:
    spec = openapi.document("desk", "1", desk_app.OPS)
    assert spec["openapi"] == "3.1.0"
    create = spec["paths"]["/v1/requests"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreateRequest"}
    due = spec["components"]["schemas"]["RequestContent" if "RequestContent" in
                                        spec["components"]["schemas"] else "CreateRequest"]
    assert "due_date" in due["properties"]
    accept = spec["paths"]["/v1/requests/{id}/accept"]["post"]
    assert set(accept["responses"]) == {"200", "202", "4XX", "503"}
    names = [p["name"] for p in spec["paths"]["/v1/requests"]["get"]["parameters"]]
    assert {"box", "from", "to", "merchant", "cursor"} <= set(names)
