"""The workspace's routes, added to the desk's app (templates and languages set up once)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.common import pages
from services.desk.pages import (
    boxes,
    bulk_page,
    create_form,
    escalations,
    files,
    joint_files,
    joint_page,
    paper_page,
    request_page,
    verify_page,
)
from services.desk.sessions import web as session_web

HERE = Path(__file__).parent


def add_routes(app: web.Application) -> None:
    pages.setup(app, HERE / "templates", HERE / "locale")
    app.router.add_static("/static/desk", HERE / "static")
    session_web.add_routes(app)
    r = app.router
    r.add_get("/", boxes.box_page)
    r.add_get("/new", create_form.new_page)
    r.add_post("/new", create_form.create)
    r.add_get("/new/recipient", create_form.recipient)
    r.add_get("/new/questions", create_form.questions)
    r.add_get("/escalations", escalations.escalations_page)
    r.add_get("/joint", joint_page.list_page)
    r.add_get("/joint/{id}", joint_page.show)
    r.add_post("/joint/{id}/act/{action}", joint_page.act)
    r.add_post("/joint/{id}/tasks", joint_page.assign)
    r.add_get("/joint/{id}/live", joint_page.live)
    r.add_post("/joint/{id}/evidence", joint_files.upload)
    r.add_get("/joint/{id}/evidence/{fid}", joint_files.download)
    r.add_get("/joint/{id}/evidence/{fid}/verify", joint_files.verify)
    r.add_get("/requests/{id}", request_page.show)
    r.add_get("/requests/{id}/live", request_page.live)
    r.add_post("/requests/{id}/act/{action}", request_page.act)
    r.add_post("/requests/{id}/files", files.upload)
    r.add_get("/requests/{id}/files/{aid}", files.download)
    r.add_post("/requests/{id}/items", bulk_page.add_items)
    r.add_post("/requests/{id}/items/answers", bulk_page.answer_items)
    r.add_get("/requests/{id}/items/sheet.xlsx", bulk_page.download_sheet)
    r.add_get("/requests/{id}/papers/{which:request|reply}.pdf", paper_page.paper)
    r.add_post("/requests/{id}/verify", verify_page.start)
    r.add_get("/requests/{id}/verify/{check}", verify_page.result)
