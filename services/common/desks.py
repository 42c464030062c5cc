"""Which desk serves which provinces in the default installation (setup, the hub's map)."""

from __future__ import annotations

from protocol.provinces import rest_of

OWN_DESKS = {"zj": "33", "gd": "44", "sc": "51"}
"""Regions with a desk of their own in the default installation."""
REST_REGION = "rest"
"""The desk that serves every province without one of its own."""


def default_desks() -> str:
    """zj:33,gd:44,sc:51,rest:11+12+...: every province has a desk."""
    rest = "+".join(rest_of(OWN_DESKS.values()))
    return ",".join([*(f"{r}:{p}" for r, p in OWN_DESKS.items()), f"{REST_REGION}:{rest}"])


def desk_list(spec: str) -> list[tuple[str, list[str]]]:
    """'zj:33,south:44+45' -> [('zj', ['33']), ('south', ['44', '45'])]."""
    pairs = [item.split(":", 1) for item in spec.split(",") if item.strip()]
    return [(region.strip(), provinces.split("+")) for region, provinces in pairs]
