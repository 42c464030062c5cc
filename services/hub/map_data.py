"""What the partner map draws: partners, regions, flows, a region's panel; counters only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from protocol.v1.registry import BureauRecord
from services.hub import counters, store
from services.hub.figures import SLICE_METRICS, slice_figures


@dataclass(frozen=True)
class PageConfig:
    desks: Mapping[str, str]
    """province code -> the desk that serves it ('33' -> 'desk-zj')."""
    approval_number: str = ""
    """The map's approval number (审图号) shown in the footer."""


def parse_desks(spec: str) -> dict[str, str]:
    """'zj:33,gd:44' -> {'33': 'desk-zj', '44': 'desk-gd'} (several provinces: 'ne:21+22')."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        region, _, provinces = part.partition(":")
        out |= {p: f"desk-{region}" for p in provinces.split("+") if p}
    return out


async def map_model(conn: asyncpg.Connection) -> dict[str, Any]:
    _, bureaus = await store.load_registry(conn)
    signed = [b for b in bureaus if b.status == "signed"]
    received = await counters.all_time_by_prefix(conn, "rcpp:", ["created"])
    flows = await counters.all_time_by_prefix(conn, "flow:", ["created"])
    regions: dict[str, dict[str, Any]] = {}
    for b in signed:
        r = regions.setdefault(b.province, {"code": b.province, "name": b.province_name,
                                            "partners": 0, "requests": 0})
        r["partners"] += 1
    for code, counts in received.items():
        regions.setdefault(code, {"code": code, "name": code, "partners": 0, "requests": 0})
        regions[code]["requests"] = counts.get("created", 0)
    return {
        "points": [[b.longitude, b.latitude, b.name, b.code] for b in signed],
        "regions": sorted(regions.values(), key=lambda r: r["code"]),
        "flows": [
            {"from": key[:2], "to": key[3:], "n": c.get("created", 0)}
            for key, c in flows.items() if key[:2] != key[3:]
        ],
    }


async def region_model(conn: asyncpg.Connection, province: str,
                       config: PageConfig) -> dict[str, Any] | None:
    _, bureaus = await store.load_registry(conn)
    listed = [b for b in bureaus if b.province == province and b.status == "signed"]
    if not listed:
        return None
    answered = await counters.all_time_by_prefix(conn, f"rcp:{province}", SLICE_METRICS)
    region = (await counters.totals(conn, f"rcpp:{province}"))
    return {
        "province": province, "name": listed[0].province_name,
        "desk": config.desks.get(province), "figures": slice_figures(region),
        "partners": [_partner(b, answered.get(b.code[2:], {})) for b in listed],
    }


def _partner(b: BureauRecord, counts: Mapping[str, int]) -> dict[str, Any]:
    return {"code": b.code, "name": b.name, "signed_on": b.signed_on, "level": b.level,
            **slice_figures(counts)}
