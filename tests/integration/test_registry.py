"""The hub is the registry's authority: a changed registry reaches every desk over the bus."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common import db
from services.hub.registry_loader import load_registry
from tests.support import System, eventually, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG, WUHOU = "330110", "510107"


async def test_a_suspended_agreement_reaches_the_desks(system: System, tmp_path: Path) -> None:
    zj = system.desks["zj"]
    a = await zj.investigator(YUHANG)
    assert (await system.call("POST", zj.url("/v1/requests"), a, json=new_request(WUHOU)))[0] == 201
    _, before = await system.call("GET", system.hub_url("/v1/registry/510107"))
    assert before["status"] == "signed"

    # When the hub loads agreements in which Wuhou's is suspended
    agreements = tmp_path / "agreements.csv"
    agreements.write_text("code,status,signed_on\n510107,suspended,2021-05-01\n", "utf-8")
    pool = await db.open_pool(system.hub_dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        version = await load_registry(conn, str(agreements))
    await pool.close()
    assert version == 2

    # Then every desk receives version 2, and Zhejiang refuses new requests to Wuhou
    for desk in system.desks.values():
        async def updated(d=desk) -> bool:
            _, health = await system.call("GET", d.url("/healthz"))
            return health["registry_version"] == 2
        await eventually(updated, what=f"registry v2 at {desk.region}")

    async def refused() -> dict | None:
        status, body = await system.call("POST", zj.url("/v1/requests"), a,
                                         json=new_request(WUHOU))
        return body if status == 422 else None

    body = await eventually(refused, what="request refused")
    assert body["error"]["code"] == "not_a_partner"
    _, stats = await system.call("GET", system.hub_url("/v1/stats"))
    assert stats["partners"] == 1143  # one fewer signed partner than the demo registry
