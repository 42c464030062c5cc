"""The HTTP contract: ``/openapi.json`` and ``/docs`` served by every service (no CDN),
and schemathesis against every desk and hub endpoint (bounded, seeded): no 5xx, and no
answer that breaks the description."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from tests.support import System

pytestmark = pytest.mark.asyncio(loop_scope="session")

YUHANG = "330110"
EXAMPLES = int(os.environ.get("XIECHA_FUZZ_EXAMPLES", "10"))
SEED = 20261129
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


async def test_openapi_and_docs_are_served_without_a_cdn(system: System) -> None:
    for base in (system.desks["zj"].url(""), system.hub_url("")):
        status, spec = await system.call("GET", f"{base}/openapi.json")
        assert status == 200 and spec["openapi"] == "3.1.0" and spec["paths"]
        async with system.http.get(f"{base}/docs") as resp:
            page = await resp.text()
        assert resp.status == 200 and "/openapi.json" in page
        assets = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
        for asset in assets:
            async with system.http.get(f"{base}{asset}") as resp:
                assert resp.status == 200 and len(await resp.read()) > 10_000


async def schemathesis(base: str, token: str | None, report: Path) -> tuple[int, str]:
    args = ["run", f"{base}/openapi.json", "-n", str(EXAMPLES), "--seed", str(SEED),
            "-c", CHECKS, "--phases", "examples,coverage,fuzzing", "-w", "1",
            "--request-timeout", "30", "--report", "ndjson",
            "--report-ndjson-path", str(report), "--continue-on-failure"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    proc = await asyncio.create_subprocess_exec(
        Path(sys.executable).parent / "schemathesis", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@pytest.mark.parametrize("service", ["desk", "hub"])
async def test_schemathesis_finds_no_server_error(
    system: System, service: str, tmp_path: Path
) -> None:
    zj = system.desks["zj"]
    token = await zj.investigator(YUHANG) if service == "desk" else None
    base = zj.url("") if service == "desk" else system.hub_url("")
    status, out = await schemathesis(base.rstrip("/"), token, tmp_path / "events.ndjson")
    print(out[-3000:])
    assert status == 0, out[-6000:]
