"""Downloads of the formal papers: a request's assistance letter and its reply letter.

Document numbers run per issuing bureau and year (China time) in the order requests were
created (replies given); the issuing bureau's own desk holds all of them, so it numbers
them. A party on another desk gets the same paper with the number left to the issuer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any
from urllib.parse import quote

import asyncpg
from aiohttp import web

from protocol.errors import ErrorCode
from services.common.http import ApiError, correlation_id
from services.desk.attachments.usecases import Files
from services.desk.context import Desk
from services.desk.domain.request import Request
from services.desk.domain.workflow import CHINA
from services.desk.pages.papers import Paper, render
from services.desk.requests import usecases
from services.desk.sessions.web import signed_in
from services.desk.web import DESK, path_id

KIND_WORDS = {"merchant_registration": "商户登记情况", "complainant_identity": "投诉人身份",
              "document_service": "文书送达", "evidence_collection": "证据调取",
              "case_lead_transfer": "案件线索移交"}


def _year(at: dt.datetime) -> tuple[int, dt.datetime, dt.datetime]:
    year = at.astimezone(CHINA).year
    return year, dt.datetime(year, 1, 1, tzinfo=CHINA), dt.datetime(year + 1, 1, 1, tzinfo=CHINA)


async def request_number(desk: Desk, conn: asyncpg.Connection, req: Request) -> str:
    year, start, end = _year(req.created_at)
    if not desk.hosts(req.requester):
        return f"{req.requester}协〔{year}〕（文号以发文机关为准）"
    n = await conn.fetchval(
        "SELECT count(*) FROM request WHERE requester = $1 AND created_at >= $2"
        " AND created_at < $3 AND (created_at, id) <= ($4, $5)",
        req.requester, start, end, req.created_at, req.id)
    return f"{req.requester}协〔{year}〕{n}号"


async def reply_number(desk: Desk, conn: asyncpg.Connection, req: Request,
                       event: asyncpg.Record) -> str:
    year, start, end = _year(event["occurred_at"])
    if not desk.hosts(event["bureau"]):
        return f"{event['bureau']}协复〔{year}〕（文号以发文机关为准）"
    n = await conn.fetchval(
        "SELECT count(*) FROM request_event WHERE type = 'replied' AND bureau = $1"
        " AND occurred_at >= $2 AND occurred_at < $3 AND (occurred_at, event_id) <= ($4, $5)",
        event["bureau"], start, end, event["occurred_at"], event["event_id"])
    return f"{event['bureau']}协复〔{year}〕{n}号"


def _name(names: dict[str, Any], code: str) -> str:
    return str(names[code].name) if code in names else code


def _subject_lines(req: Request) -> list[str]:
    s = req.content["subject"]
    lines = [f"商户名称：{s['merchant_name']}"]
    lines += [f"{label}：{s[k]}" for k, label in (("credit_code", "统一社会信用代码"),
              ("platform", "平台"), ("shop_url", "网店网址")) if s.get(k)]
    return lines


def assistance_letter(req: Request, names: dict[str, Any], number: str,
                      files: list[str]) -> Paper:
    name = req.content["subject"]["merchant_name"]
    return Paper(
        kind="协查函", issuer=_name(names, req.requester), number=number,
        addressee=_name(names, req.recipient),
        title=f"关于协助核查{name}{KIND_WORDS.get(req.kind, '')}的函",
        paragraphs=["因办案需要，请贵局协助核查下列主体的有关情况：", *_subject_lines(req),
                    "请协助核查以下事项："],
        items=[q["text"] for q in req.content["questions"]],
        closing=[f"请于{req.due_date.year}年{req.due_date.month}月{req.due_date.day}日前函复。"
                 "感谢支持。"],
        attachments=files, date=req.created_at.astimezone(CHINA).date(),
        contact=req.created_by)


def reply_letter(req: Request, names: dict[str, Any], number: str, asked_number: str,
                 event: asyncpg.Record, files: list[str]) -> Paper:
    reply = req.reply or {}
    questions = {q["id"]: q["text"] for q in req.content["questions"]}
    verdict = {True: "（属实）", False: "（不属实）", None: ""}
    name = req.content["subject"]["merchant_name"]
    return Paper(
        kind="协查回复函", issuer=_name(names, event["bureau"]), number=number,
        addressee=_name(names, req.requester), title=f"关于{name}有关情况协查结果的复函",
        paragraphs=[f"贵局《关于协助核查{name}{KIND_WORDS.get(req.kind, '')}的函》"
                    f"（{asked_number}）收悉。经核查，现函复如下：",
                    f"核查结果：{reply.get('findings', '')}"],
        items=[f"{questions.get(a['question_id'], a['question_id'])} 答复：{a['answer']}"
               f"{verdict[a.get('confirmed')]}" for a in reply.get("answers", [])],
        closing=["特此函复。"], attachments=files,
        date=event["occurred_at"].astimezone(CHINA).date(), contact=event["actor"] or "")


async def paper(request: web.Request) -> web.Response:
    session = await signed_in(request)
    rid: uuid.UUID = path_id(request)
    which = request.match_info["which"]
    desk, cid = request.app[DESK], correlation_id(request)
    req, timeline = await usecases.show(desk, session.who, rid, cid)
    files = await Files(desk).listing(session.who, rid, cid)
    names = await desk.names()
    async with desk.pool.acquire() as conn:
        asked = await request_number(desk, conn, req)
        if which == "request":
            doc = assistance_letter(req, names, asked,
                                    [f["name"] for f in files if f["purpose"] == "request"])
        else:
            replied = [e for e in timeline if e["type"] == "replied"]
            if not replied or req.reply is None:
                raise ApiError(404, ErrorCode.NOT_FOUND, "this request has no reply yet")
            doc = reply_letter(req, names, await reply_number(desk, conn, req, replied[-1]),
                               asked, replied[-1],
                               [f["name"] for f in files if f["purpose"] == "reply"])
    filename = f"{doc.kind}-{doc.number}.pdf".replace("/", "-")
    try:
        pdf = await asyncio.to_thread(render, doc)  # 60 ms of CPU: off the event loop
    except FileNotFoundError as exc:  # no CJK font on this machine
        raise ApiError(503, ErrorCode.SERVICE_UNAVAILABLE, str(exc)) from None
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": "private, no-store"})
