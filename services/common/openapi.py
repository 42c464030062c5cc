"""The HTTP contract as OpenAPI 3.1, built from the pydantic models the handlers use.

Each service lists its operations (``Op``); ``document`` turns them into the
description served at ``/openapi.json``; ``/docs`` is Swagger UI from files installed
with the ``swagger-ui-py`` package (nothing is fetched from a CDN). ``uncovered`` names
the routes of an app that no operation describes (a test keeps it empty).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from protocol.errors import ErrorCode

BodyKind = type[BaseModel] | dict[str, Any] | None


class ErrorDetail(BaseModel):
    field: str
    problem: str
    type: str


class ErrorInfo(BaseModel):
    code: ErrorCode
    message: str
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """Every refusal: a machine-readable code and a message."""

    error: ErrorInfo


ANY_OBJECT: dict[str, Any] = {"type": "object"}
ANY_BYTES: dict[str, Any] = {"type": "string", "format": "binary"}


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    ok: dict[int, str] = field(default_factory=lambda: {200: "done"})
    body: BodyKind = None
    body_type: str = "application/json"
    query: type[BaseModel] | None = None
    answer_type: str = "application/json"
    answer: BodyKind = None
    auth: bool = True
    route: str = ""
    """The aiohttp route serving it, when not ``path`` (``/v1/requests/{id}/{action}``)."""
    headers: tuple[str, ...] = ()


class Builder:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def content(self, body: BodyKind, media: str) -> dict[str, Any]:
        schema = self.ref(body) if isinstance(body, type) else body or ANY_OBJECT
        return {media: {"schema": schema}}

    def parameters(self, op: Op) -> list[dict[str, Any]]:
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "format": "uuid"} if name in ("id", "aid")
                   else {"type": "string"}}
                  for name in _path_names(op.path)]
        params += [{"name": name, "in": "header", "required": False, "schema": {"type": "string",
                    "maxLength": 128}} for name in op.headers]
        if op.query is not None:
            schema = op.query.model_json_schema(
                by_alias=True, ref_template="#/components/schemas/{model}")
            self.schemas.update(schema.pop("$defs", {}))
            required = set(schema.get("required", ()))
            for name, prop in schema["properties"].items():
                params.append({"name": name, "in": "query", "required": name in required,
                               "schema": _plain(prop)})
        return params

    def operation(self, op: Op) -> dict[str, Any]:
        responses: dict[str, Any] = {
            str(status): {"description": text, "content": self.content(op.answer, op.answer_type)}
            for status, text in op.ok.items()
        }
        error = {"content": {"application/json": {"schema": self.ref(ErrorBody)}}}
        responses["4XX"] = {"description": "refused: see error.code"} | error
        responses["503"] = {"description": "database out of reach; retry after Retry-After"} \
            | error
        out: dict[str, Any] = {"summary": op.summary, "operationId": _operation_id(op),
                               "parameters": self.parameters(op), "responses": responses}
        if op.body is not None:
            out["requestBody"] = {"required": op.body_type != "application/json"
                                  or isinstance(op.body, type),
                                  "content": self.content(op.body, op.body_type)}
        if not op.auth:
            out["security"] = []
        return out


def _plain(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: no title, and no null (absent is how a query says none)."""
    options = [o for o in prop.get("anyOf", ()) if o != {"type": "null"}]
    base = options[0] if len(options) == 1 else prop
    out = {k: v for k, v in (prop | base).items() if k not in ("title", "anyOf")}
    if out.get("default", 0) is None:
        del out["default"]
    return out


def _path_names(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _operation_id(op: Op) -> str:
    words = [p.replace("{", "").replace("}", "") for p in op.path.split("/") if p and p != "v1"]
    return "_".join([op.method.lower(), *words]).replace("-", "_").replace(".", "_")


def document(title: str, version: str, ops: Sequence[Op]) -> dict[str, Any]:
    builder = Builder()
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = builder.operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": builder.schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


API_PREFIXES = ("/v1/", "/healthz")
"""The JSON API; the browser pages (HTML) and ``/docs`` are not part of the contract."""
BUILT_IN = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/metrics")}


def uncovered(app: web.Application, ops: Iterable[Op]) -> set[tuple[str, str]]:
    """(method, path) of the app's routes that no operation describes."""
    described = {(op.method, op.route or op.path) for op in ops} | BUILT_IN
    routes = {(r.method, r.resource.canonical) for r in app.router.routes()
              if r.resource is not None and r.method != "HEAD"
              and r.resource.canonical.startswith(API_PREFIXES)}
    return routes - described


def swagger_assets() -> Path:
    """Swagger UI's files as installed by the ``swagger-ui-py`` package."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("swagger-ui-py is not installed (make venv installs it)")
    return Path(spec.origin).parent / "static"


DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/openapi.json", dom_id: "#ui"}});</script>
</body></html>
"""

SPEC = web.AppKey("openapi", dict)


def serve(app: web.Application, spec: dict[str, Any]) -> None:
    """Add ``/openapi.json``, ``/docs`` and the docs page's assets to ``app``."""
    app[SPEC] = spec
    page = DOCS_PAGE.format(title=spec["info"]["title"])

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(request.app[SPEC])

    async def docs(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/docs", docs)
    app.router.add_static("/docs/assets/", swagger_assets())
