"""Bulk checks across desks: a 1,200-item upload from Zhejiang to a Sichuan bureau, answered
by JSON and by a filled-in sheet, every answer counted once at the hub; privacy; limits."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import openpyxl
import pytest
from stdnum.cn import uscc

from protocol import routing
from protocol.v1.messages import BulkItems, RequestSubmitted
from services.desk.bulk.sheets import CSV, JSON, XLSX
from tests import evidence
from tests.support import PG, System, eventually, logged, new_request, refused

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, XIHU, WUHOU, JINJIANG, TIANHE = "330110", "330106", "510107", "510104", "440106"
Channel = aio_pika.abc.AbstractChannel


def credit_code(n: int) -> str:
    first = f"91510107MA{n:07d}"[:17]
    return first + uscc.calc_check_digit(first)


async def tap(ch: Channel, exchange: str, key: str) -> aio_pika.abc.AbstractQueue:
    """A private queue that receives a copy of every message routed with ``key``."""
    queue = await ch.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(await ch.get_exchange(exchange, ensure=False), key)
    return queue


async def drain(queue: aio_pika.abc.AbstractQueue) -> list[aio_pika.abc.AbstractIncomingMessage]:
    out = []
    while (m := await queue.get(no_ack=True, fail=False)) is not None:
        out.append(m)
    return out


async def sql(system: System, dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def new_bulk_request(system: System, a: str, b: str) -> str:
    zj, sc = system.desks["zj"], system.desks["sc"]
    status, req = await system.call("POST", zj.url("/v1/requests"), a, json=new_request(WUHOU))
    assert status == 201, req

    async def delivered() -> bool:
        return (await system.call("GET", sc.url(f"/v1/requests/{req['id']}"), b))[0] == 200

    await eventually(delivered, what="delivered")
    return str(req["id"])


async def all_items(system: System, url: str, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = "0"
    while cursor:
        status, page = await system.call("GET", f"{url}?limit=1000&cursor={cursor}", token)
        assert status == 200, page
        items += page["items"]
        cursor = page["next_cursor"]
    return items


def upload_csv() -> tuple[bytes, dict[int, str]]:
    """1,200 good merchants and five bad rows among them; the bad rows by number."""
    lines = [f"{credit_code(n)},商户{n}" for n in range(1, 1201)]
    bad = {5: "XYZ,坏代码", 300: ",", 700: f"{credit_code(3)},重复", 1000: "123,短",
           1206: f"{credit_code(1)[:-1]}?,校验位"}
    for row in sorted(bad):
        lines.insert(row - 2, bad[row])
    return ("\ufeff统一社会信用代码,名称\n" + "\n".join(lines) + "\n").encode(), {
        row: reason for row, reason in bad.items()}


async def test_bulk_check_from_zhejiang_to_sichuan(system: System, channel: Channel) -> None:
    zj, sc, gd = system.desks["zj"], system.desks["sc"], system.desks["gd"]
    a, b = await zj.investigator(YUHANG, "余杭 陈敏"), await sc.investigator(WUHOU, "武侯 张静")
    batches = await tap(channel, routing.DESK_EXCHANGE, routing.desk_key(WUHOU, "bulk.items"))
    answered = await tap(channel, routing.DESK_EXCHANGE, routing.desk_key(YUHANG, "bulk.answers"))
    hub_events = await tap(channel, routing.HUB_EXCHANGE, "v1.hub.#")
    rid = await new_bulk_request(system, a, b)
    items_path = f"/v1/requests/{rid}/items"

    body, bad = upload_csv()
    status, added = await system.call("POST", zj.url(items_path), a, data=body,
                                      headers={"Content-Type": "text/csv; charset=utf-8"})
    assert status == 200, added
    assert (added["accepted"], added["first_idx"], added["last_idx"]) == (1200, 1, 1200)
    assert [r["row"] for r in added["rejected"]] == sorted(bad) and added["rejected_count"] == 5
    assert "duplicate of row 4" in added["rejected"][2]["reason"]

    async def arrived() -> bool:
        _, page = await system.call("GET", sc.url(items_path), b)
        return bool(page["counts"] == {"total": 1200, "pending": 1200, "answered": 0})

    await eventually(arrived, what="all items at the recipient's desk")
    sent = [json.loads(m.body)["body"] for m in await drain(batches)]
    assert len(sent) >= 3 and all(len(s["items"]) <= 500 for s in sent)
    assert sorted(i for s in sent for i in range(s["first_idx"], s["first_idx"] + len(s["items"]))
                  ) == list(range(1, 1201))

    json_answers = [{"idx": n, "result": "confirmed" if n % 3 else "not_found",
                     **({"note": "查无此户"} if n % 3 == 0 else {})} for n in range(1, 701)]
    early = await system.call("POST", sc.url(f"{items_path}/answers"), b, json=json_answers)
    assert "accept it first" in refused(early, 409, "illegal_transition")["message"]
    assert (await system.call("POST", sc.url(f"/v1/requests/{rid}/accept"), b))[0] == 200
    requester_tries = await system.call("POST", zj.url(f"{items_path}/answers"), a,
                                        json=json_answers)
    refused(requester_tries, 403, "forbidden")

    status, outcome = await system.call("POST", sc.url(f"{items_path}/answers"), b,
                                        json=json_answers)
    assert status == 200, outcome
    assert (outcome["answered"], outcome["pending"], outcome["rejected"]) == (700, 500, [])

    sheet = await system.http.get(sc.url(f"{items_path}/sheet?format=xlsx&status=pending"),
                                  headers={"Authorization": f"Bearer {b}"})
    assert sheet.status == 200 and sheet.content_type == XLSX
    book = openpyxl.load_workbook(io.BytesIO(await sheet.read()))
    rows = list(book.active.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == list(range(701, 1201))
    for r in rows:
        r[8].value = "mismatch" if r[0].value % 100 == 0 else "confirmed"
    filled = io.BytesIO()
    book.save(filled)
    status, outcome = await system.call("POST", sc.url(f"{items_path}/answers"), b,
                                        data=filled.getvalue(), headers={"Content-Type": XLSX})
    assert status == 200, outcome
    assert (outcome["answered"], outcome["pending"], outcome["rejected"]) == (500, 0, [])

    async def all_answered_at_home() -> list[dict[str, Any]] | None:
        seen = await all_items(system, zj.url(items_path), a)
        return seen if all(i["status"] == "answered" for i in seen) else None

    home = await eventually(all_answered_at_home, what="answers at the requester's desk")
    assert [i["idx"] for i in home] == list(range(1, 1201))
    assert home[2]["answer"] == {"result": "not_found", "note": "查无此户"}
    assert home[799]["answer"] == {"result": "mismatch"}
    assert {i["answered_by"] for i in home} == {"武侯 张静"}
    assert home[0]["item"] == {"credit_code": credit_code(1), "name": "商户1"}

    async def counted() -> dict[str, Any] | None:
        _, stats = await system.call("GET", system.hub_url("/v1/stats"))
        figures = stats["all"]["all_time"]
        return figures if figures["item_answered"] == 1200 else None

    figures = await eventually(counted, what="1,200 checks at the hub")
    assert figures["completed_checks"] == figures["replied"] + 1200

    await republish_and_check(system, channel, answered, hub_events, home)
    await others_see_nothing(system, rid, b)
    actions = await sql(system, sc.settings.dsn,
                        "SELECT DISTINCT action FROM audit_log WHERE request_id = $1",
                        uuid.UUID(rid))
    assert {"view_items", "answer_items", "download_items"} <= {r["action"] for r in actions}
    # and the third desk, which only refused (above), holds nothing of it
    for table in ("request", "bulk_item"):
        column = "id" if table == "request" else "request_id"
        assert await sql(system, gd.settings.dsn,
                         f"SELECT 1 FROM {table} WHERE {column} = $1", uuid.UUID(rid)) == []


async def republish_and_check(system: System, ch: Channel, answered: Any, hub_events: Any,
                              home: list[dict[str, Any]]) -> None:
    """A repeated answers batch (same message id, and a copy with other answers under a new
    id) and a repeated hub event (new message id, same event id) change nothing."""
    zj = system.desks["zj"]
    [first, *_] = await drain(answered)
    forged = json.loads(first.body)
    forged["message_id"] = str(uuid.uuid4())
    forged["body"]["answers"] = [{"idx": x["idx"], "result": "other"}
                                 for x in forged["body"]["answers"]]
    events = [m for m in await drain(hub_events) if b"item_answered" in m.body]
    assert sorted(json.loads(m.body)["body"]["count"] for m in events) == [500, 700]
    copy = json.loads(events[0].body)
    copy["message_id"] = str(uuid.uuid4())
    for raw, mid in ((first.body, first.message_id),
                     (json.dumps(forged).encode(), forged["message_id"])):
        await system.send(routing.DESK_EXCHANGE, first.routing_key or "", raw, mid)
    await system.send(routing.HUB_EXCHANGE, routing.hub_key(WUHOU, "event.recorded"),
                      json.dumps(copy).encode(), copy["message_id"])
    [hub_db] = [d for d in system.scratch.databases if d.startswith("xt_hub")]

    async def handled(dsn: str, ids: list[str]) -> bool:
        rows = await sql(system, dsn, "SELECT 1 FROM processed_message"
                         " WHERE message_id = ANY($1::uuid[])", ids)
        return len(rows) == len(ids)

    await eventually(lambda: handled(zj.settings.dsn, [forged["message_id"]]),
                     what="forged copy handled")
    await eventually(lambda: handled(f"{PG}/{hub_db}", [copy["message_id"]]),
                     what="hub event copy handled")
    request_id = forged["body"]["request_id"]
    token = await zj.investigator(YUHANG)
    assert await all_items(system, zj.url(f"/v1/requests/{request_id}/items"), token) == home
    _, stats = await system.call("GET", system.hub_url("/v1/stats"))
    assert stats["all"]["all_time"]["item_answered"] == 1200


async def others_see_nothing(system: System, rid: str, recipient: str) -> None:
    """Bureaus not party to the request get 404 for its items, on every desk."""
    zj, sc, gd = system.desks["zj"], system.desks["sc"], system.desks["gd"]
    outsiders = [(zj, await zj.investigator(XIHU)), (sc, await sc.investigator(JINJIANG)),
                 (gd, await gd.investigator(TIANHE))]
    for desk, token in outsiders:
        for method, path, kw in (
            ("GET", "/items", {}), ("GET", "/items/sheet", {}),
            ("POST", "/items", {"json": [{"credit_code": credit_code(5000)}]}),
            ("POST", "/items/answers", {"json": [{"idx": 1, "result": "confirmed"}]}),
        ):
            status, body = await system.call(method, desk.url(f"/v1/requests/{rid}{path}"),
                                             token, **kw)
            assert (status, body["error"]["code"]) == (404, "not_found"), (desk.region, path)
    status, body = await system.call("POST", sc.url(f"/v1/requests/{rid}/items"), recipient,
                                     json=[{"credit_code": credit_code(5000)}])
    assert (status, body["error"]["code"]) == (403, "forbidden")  # sees them but adds none


async def test_upload_limits(system: System) -> None:
    """Up to 8 MiB per upload (beyond the API's 256 KiB), 10,000 items per request."""
    zj, sc = system.desks["zj"], system.desks["sc"]
    a, b = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    rid = await new_bulk_request(system, a, b)
    url = zj.url(f"/v1/requests/{rid}/items")
    full = "credit_code,name\n" + "".join(f"{credit_code(n)},某某商贸有限公司第{n}号\n"
                                          for n in range(1, 10_001))
    assert len(full.encode()) > 256 * 1024
    status, added = await system.call("POST", url, a, data=full.encode(),
                                      headers={"Content-Type": CSV})
    assert (status, added["accepted"], added["total"]) == (200, 10_000, 10_000), added
    status, more = await system.call("POST", url, a, json=[{"credit_code": credit_code(10_001)}])
    assert (status, more["accepted"], more["rejected"][0]["reason"]) == (
        200, 0, "over the limit of 10000 items a request may carry")

    huge = b"credit_code\n" + b"x" * (8 * 1024 * 1024)
    status, body = await system.call("POST", url, a, data=huge, headers={"Content-Type": CSV})
    assert (status, body["error"]["code"]) == (413, "body_too_large")

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(40):
            yield b"y" * (256 * 1024)

    status, body = await system.call("POST", url, a, data=streamed(),
                                     headers={"Content-Type": CSV})
    assert (status, body["error"]["code"]) == (413, "body_too_large")

    async def all_there() -> bool:
        _, page = await system.call("GET", sc.url(f"/v1/requests/{rid}/items?limit=1"), b)
        return bool(page["counts"]["total"] == 10_000)

    await eventually(all_there, within=60, what="10,000 items at the recipient's desk")


async def test_routes_refusals(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    a, b = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    rid = await new_bulk_request(system, a, b)
    url = zj.url(f"/v1/requests/{rid}/items")
    refused(await system.call("POST", url, a, data=b"x", headers={"Content-Type": "text/xml"}),
            415, "unsupported_media_type")
    error = refused(await system.call("POST", url, a, data=b"name\n\xe7\x94\xb2\n",
                                      headers={"Content-Type": CSV}), 422, "validation_failed")
    assert error["details"][0]["row"] == 1
    refused(await system.call("POST", url, a, data=b"[{", headers={"Content-Type": JSON}),
            400, "malformed_json")
    refused(await system.call("GET", f"{url}?status=maybe", a), 400, "bad_query")
    refused(await system.call("GET", f"{url}/sheet?format=pdf", a), 400, "bad_query")
    missing = zj.url(f"/v1/requests/{uuid.uuid4()}/items")
    refused(await system.call("GET", missing, a), 404, "not_found")
    # the generic actions still resolve
    assert (await system.call("POST", zj.url(f"/v1/requests/{rid}/remind"), a, json={}))[0] == 202
    csv_sheet = await system.http.get(f"{url}/sheet?format=csv",
                                      headers={"Authorization": f"Bearer {a}"})
    assert csv_sheet.status == 200 and (await csv_sheet.read()).startswith(b"\xef\xbb\xbfidx,")


async def test_answers_are_final_and_bulk_requests_stay_put(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    a, b = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    rid = await new_bulk_request(system, a, b)
    items = [{"credit_code": credit_code(n)} for n in (1, 2)]
    assert (await system.call("POST", zj.url(f"/v1/requests/{rid}/items"), a, json=items))[0] == 200

    async def arrived() -> bool:
        _, page = await system.call("GET", sc.url(f"/v1/requests/{rid}/items"), b)
        return bool(page["counts"]["total"] == 2)

    await eventually(arrived, what="items")
    assert (await system.call("POST", sc.url(f"/v1/requests/{rid}/accept"), b))[0] == 200
    transfer = await system.call("POST", sc.url(f"/v1/requests/{rid}/transfer"), b,
                                 json={"to": JINJIANG})
    assert "bulk items" in refused(transfer, 409, "illegal_transition")["message"]
    answers = sc.url(f"/v1/requests/{rid}/items/answers")
    first = [{"idx": 1, "result": "confirmed"}, {"idx": 3, "result": "confirmed"}]
    status, outcome = await system.call("POST", answers, b, json=first)
    assert (status, outcome["answered"], outcome["rejected"]) == (
        200, 1, [{"row": 2, "reason": "this request has no item 3"}])
    status, outcome = await system.call("POST", answers, b,
                                        json=[{"idx": 1, "result": "confirmed"},
                                              {"idx": 2, "result": "not_found"}])
    assert (outcome["answered"], outcome["unchanged"], outcome["pending"]) == (1, 1, 0)
    status, outcome = await system.call("POST", answers, b, json=[{"idx": 1, "result": "other"}])
    assert outcome["rejected"][0]["reason"] == "item 1 was already answered (confirmed)"


async def test_bulk_request_within_one_desk(system: System) -> None:
    """Jinjiang asks Wuhou, both on Sichuan's desk: one copy of the items, no bus batches."""
    sc = system.desks["sc"]
    a, b = await sc.investigator(JINJIANG), await sc.investigator(WUHOU)
    status, req = await system.call("POST", sc.url("/v1/requests"), a, json=new_request(WUHOU))
    assert status == 201
    url = sc.url(f"/v1/requests/{req['id']}/items")
    status, added = await system.call("POST", url, a, json=[{"credit_code": credit_code(7)}])
    assert added["accepted"] == 1

    async def accepted() -> bool:
        return (await system.call("POST", sc.url(f"/v1/requests/{req['id']}/accept"), b)
                )[0] == 200

    await eventually(accepted, what="delivered and accepted")
    status, outcome = await system.call("POST", f"{url}/answers", b,
                                        json=[{"idx": 1, "result": "confirmed"}])
    assert outcome["answered"] == 1
    _, page = await system.call("GET", url, a)
    assert page["items"][0]["answer"] == {"result": "confirmed"}


async def test_items_that_overtake_their_request_wait_for_it(
    system: System, channel: Channel, log_file: Path
) -> None:
    """bulk.items handled before request.submitted is retried, then stored: nothing lost."""
    sc = system.desks["sc"]
    rid, now = uuid.uuid4(), dt.datetime.now(dt.UTC)
    items = BulkItems(correlation_id="overtake", sender=YUHANG, recipient=WUHOU,
                      body={"request_id": rid, "batch_id": uuid.uuid4(), "first_idx": 1,
                            "items": [{"kind": "merchant", "credit_code": credit_code(9)}]})
    request = system.signed(RequestSubmitted(
        correlation_id="overtake", sender=YUHANG, recipient=WUHOU,
        body={"request_id": rid, "event_id": uuid.uuid4(), "requester": YUHANG,
              "recipient": WUHOU, "created_at": now, "created_by": "余杭 陈敏",
              "content": new_request(), "due_date": now.date() + dt.timedelta(days=14)},
    ))
    for message in (items, request):
        await system.send(routing.DESK_EXCHANGE, routing.desk_key(WUHOU, message.type),
                          message.model_dump_json().encode(), str(message.message_id))
        if message is items:  # the items were tried and found early before the request left
            await logged(log_file, "message early; will be redelivered",
                         message_id=str(items.message_id))

    async def stored() -> list[asyncpg.Record]:
        return await sql(system, sc.settings.dsn,
                         "SELECT idx, data FROM bulk_item WHERE request_id = $1", rid)

    [row] = await eventually(stored, what="items stored once their request arrived")
    assert row["idx"] == 1 and json.loads(row["data"]) == {"credit_code": credit_code(9)}


async def test_uploads_are_read_only_for_the_right_party_and_under_caps(system: System) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    a, b = await zj.investigator(YUHANG), await sc.investigator(WUHOU)
    stranger = await zj.investigator("330102")
    rid = await new_bulk_request(system, a, b)
    url = zj.url(f"/v1/requests/{rid}/items")
    # a body that would fail parsing: a stranger learns only that there is no such request
    status, body = await system.call("POST", url, stranger, data=b"[{",
                                     headers={"Content-Type": JSON})
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await system.call("POST", f"{url}/answers", a, data=b"[{",
                                     headers={"Content-Type": JSON})
    assert (status, body["error"]["code"]) == (403, "forbidden")  # the requester answers none
    # the right party's blank-line CSV and A1:XFD1048576 XLSX are refused by the caps
    blank = b"credit_code\n" + b"\n" * (8 * 1024 * 1024 - 100)
    status, body = await system.call("POST", url, a, data=blank, headers={"Content-Type": CSV})
    assert status == 422 and "at most" in body["error"]["message"], body
    book = openpyxl.Workbook()
    book.active.append(["credit_code"])
    out = io.BytesIO()
    book.save(out)
    bomb = evidence.declaring(out.getvalue(), "A1:XFD1048576")
    status, body = await system.call("POST", url, a, data=bomb,
                                     headers={"Content-Type": XLSX})
    assert status == 422 and "declares 1048576 rows" in body["error"]["message"], body
