"""Investigators' search: filters, a stable cursor, and index-only plans at scale."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest
from stdnum.cn import uscc

from bench.search import cases, explain, load_synthetic, scans
from tests.support import System, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU, NANSHAN = "330110", "510107", "440305"


def credit(division: str, serial: str) -> str:
    body = f"91{division}MA{serial}"[:17]
    return body + uscc.calc_check_digit(body)


async def test_filters_and_stable_cursor(system: System) -> None:
    zj = system.desks["zj"]
    a = await zj.investigator(YUHANG)
    code = credit("510107", "6C00PRCH1")
    specs = [
        (WUHOU, "evidence_collection", "成都寻找商贸有限公司", code),
        (WUHOU, "merchant_registration", "成都另一家公司", None),
        (NANSHAN, "evidence_collection", "深圳寻找科技有限公司", None),
    ] * 3
    ids = []
    for recipient, kind, merchant, cc in specs:
        subject: dict[str, Any] = {"merchant_name": merchant}
        if cc:
            subject["credit_code"] = cc
        status, r = await system.call("POST", zj.url("/v1/requests"), a,
                                      json=new_request(recipient, kind=kind, subject=subject))
        assert status == 201, r
        ids.append(r["id"])

    async def found(query: str) -> set[str]:
        status, page = await system.call("GET", zj.url(f"/v1/requests?box=outbox&{query}"), a)
        assert status == 200, page
        return {i["id"] for i in page["items"]} & set(ids)

    assert len(await found("kind=evidence_collection")) == 6
    assert len(await found(f"counterpart={NANSHAN}")) == 3
    assert len(await found("counterpart_province=51")) == 6
    assert len(await found(f"credit_code={code.lower()}")) == 3
    assert len(await found("merchant=寻找")) == 6
    assert len(await found("merchant=%25")) == 0  # a literal %, not a wildcard
    assert len(await found("merchant=寻找&counterpart_province=44")) == 3
    today = dt.datetime.now(dt.UTC).date()
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    assert len(await found(f"from={yesterday}&to={tomorrow}")) == 9
    assert len(await found("from=2020-01-01&to=2020-12-31")) == 0
    assert len(await found("overdue=true")) == 0

    # Walk all pages of 2 while a new request arrives: every old one exactly once.
    seen: list[str] = []
    cursor = ""
    while True:
        _, page = await system.call("GET", zj.url(f"/v1/requests?box=outbox&limit=2{cursor}"), a)
        seen += [i["id"] for i in page["items"]]
        if len(seen) == 2:
            await system.call("POST", zj.url("/v1/requests"), a, json=new_request(WUHOU))
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)


@pytest.mark.parametrize("query", ["box=all", "state=nope", "kind=x", "counterpart=12",
                                   "counterpart_province=123", "credit_code=123",
                                   "from=2026-13-01", "from=2026-02-01&to=2026-01-01",
                                   "overdue=maybe", "limit=500", "group=not-a-uuid", "zzz=1"])
async def test_bad_filters_are_400(system: System, query: str) -> None:
    zj = system.desks["zj"]
    a = await zj.investigator(YUHANG)
    status, body = await system.call("GET", zj.url(f"/v1/requests?{query}"), a)
    assert status == 400 and body["error"]["code"] == "bad_query", (query, body)


async def test_every_filter_uses_an_index(system: System) -> None:
    """200,000 synthetic requests: no filter makes PostgreSQL read the whole table."""
    conn = await asyncpg.connect(system.desks["zj"].settings.dsn)
    try:
        await load_synthetic(conn, 200_000)
        for name, f in cases(dt.date(2026, 11, 27)).items():
            plan = await explain(conn, f)
            nodes = scans(plan["Plan"])
            assert nodes and not any(n.startswith("Seq Scan") for n in nodes), (name, nodes)
    finally:
        await conn.close()
