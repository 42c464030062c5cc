"""Out of the box every province has exactly one desk (setup, the demo, compose)."""

from __future__ import annotations

from protocol.provinces import PROVINCES, rest_of
from services.demo.__main__ import PROVINCES as DEMO_DESKS
from services.setup import SetupSettings


def _covers_each_once(hosted: list[str]) -> None:
    assert sorted(hosted) == sorted(PROVINCES)


def test_setup_default_desks_cover_every_province_once() -> None:
    _covers_each_once([p for _, provinces in SetupSettings().desk_list() for p in provinces])


def test_demo_desks_cover_every_province_once() -> None:
    _covers_each_once([p for provinces in DEMO_DESKS.values() for p in provinces.split(",")])


def test_rest_of_leaves_out_the_hosted_ones_in_code_order() -> None:
    assert rest_of(["33", "44", "51", "11"])[:3] == ("12", "13", "14")
    assert len(rest_of(["33", "44", "51"])) == len(PROVINCES) - 3
