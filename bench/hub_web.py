"""The hub's HTTP side alone (no broker) on an existing hub database, for measurements
and screenshots: ``python -m bench.hub_web --dsn ... --port 8190``."""

from __future__ import annotations

import argparse

from aiohttp import web

from services.hub.app import create_web_app
from services.hub.map_data import PageConfig, parse_desks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dsn", required=True)
    p.add_argument("--port", type=int, default=8190)
    a = p.parse_args()
    config = PageConfig(parse_desks("zj:33,gd:44,sc:51"), "审图号：GS(2025)0000号（示例）")
    web.run_app(create_web_app(a.dsn, config), host="127.0.0.1", port=a.port, print=None)


if __name__ == "__main__":
    main()
