"""Finding the competent bureau, from an explicit code or a merchant's credit code."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc

from protocol.errors import ErrorCode
from protocol.v1.registry import AgreementStatus, BureauRecord
from services.desk.domain import jurisdiction
from services.desk.domain.errors import Refused


def bureau(code: str, status: AgreementStatus = AgreementStatus.SIGNED) -> BureauRecord:
    return BureauRecord(code=code, name=f"局{code}", province=code[:2], province_name="省",
                        level=1 if code.endswith("0000") else 2 if code.endswith("00") else 3,
                        longitude=120.0, latitude=30.0, status=status)


REGISTRY = {b.code: b for b in [
    bureau("330110"), bureau("330100"), bureau("330000"),
    bureau("330106", AgreementStatus.PENDING), bureau("510000"),
    bureau("440305", AgreementStatus.SUSPENDED),
]}


def credit(division: str) -> str:
    first = f"91{division}MA2H0000"[:17]
    return first + uscc.calc_check_digit(first)


@pytest.mark.parametrize(("division", "expected"), [
    ("330110", "330110"),  # the county bureau itself
    ("330106", "330100"),  # county not signed: its prefecture
    ("330212", "330000"),  # neither county nor prefecture listed: the province
    ("510104", "510000"),
])
def test_competent_bureau_walks_up_the_divisions(division: str, expected: str) -> None:
    assert jurisdiction.competent_bureau(REGISTRY, credit(division)).code == expected


def test_no_competent_bureau() -> None:
    with pytest.raises(Refused) as exc:
        jurisdiction.competent_bureau(REGISTRY, credit("440305"))
    assert exc.value.code is ErrorCode.NO_COMPETENT_BUREAU


@pytest.mark.parametrize(("code", "error"), [
    ("339999", ErrorCode.UNKNOWN_BUREAU),
    ("330106", ErrorCode.NOT_A_PARTNER),
    ("440305", ErrorCode.NOT_A_PARTNER),
    ("330100", ErrorCode.SAME_BUREAU),
])
def test_explicit_recipient_refusals(code: str, error: ErrorCode) -> None:
    with pytest.raises(Refused) as exc:
        jurisdiction.resolve_recipient(REGISTRY, "330100", code, None)
    assert exc.value.code is error


def test_explicit_code_wins_over_credit_code() -> None:
    got = jurisdiction.resolve_recipient(REGISTRY, "330110", "510000", credit("330100"))
    assert got.code == "510000"


def test_nothing_to_route_by() -> None:
    with pytest.raises(Refused) as exc:
        jurisdiction.resolve_recipient(REGISTRY, "330110", None, None)
    assert exc.value.code is ErrorCode.NO_COMPETENT_BUREAU
