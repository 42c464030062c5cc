"""One correlation id follows a request through every service's JSON logs."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.support import System, eventually, log_entries, new_request

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_correlation_id_crosses_services(system: System, log_file: Path) -> None:
    zj, sc = system.desks["zj"], system.desks["sc"]
    alice, bob = await zj.investigator("330110"), await sc.investigator("510104")
    cid = f"case-{secrets.token_hex(6)}"
    status, req = await system.call("POST", zj.url("/v1/requests"), alice,
                                    json=new_request("510104"),
                                    headers={"X-Correlation-ID": cid})
    assert status == 201 and req["correlation_id"] == cid

    async def delivered() -> bool:
        s, r = await system.call("GET", sc.url(f"/v1/requests/{req['id']}"), bob)
        return s == 200 and r["state"] == "delivered"

    await eventually(delivered, what="delivered")

    def trail() -> set[str]:
        text = log_file.read_text(encoding="utf-8")
        return {e.get("queue") or e["msg"] for e in log_entries(text)
                if e.get("correlation_id") == cid}

    async def seen_everywhere() -> set[str] | None:
        t = trail()
        wanted = {"http", "xiecha.v1.desk.sc.inbox", "xiecha.v1.desk.zj.inbox",
                  "xiecha.v1.hub.events"}
        return t if wanted <= t else None

    await eventually(seen_everywhere, what="correlation id in every service's logs")
