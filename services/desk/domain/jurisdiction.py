"""Which bureau is competent: resolving an explicit code or a merchant's credit code.

A unified social credit code carries, in characters 3-8, the administrative
division of the authority that registered the merchant. The competent bureau is
the signed partner for that division; when the county-level division has none,
its prefecture's bureau, then its province's, are competent in turn.
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.errors import ErrorCode
from protocol.v1.registry import AgreementStatus, BureauRecord
from protocol.v1.types import division_of_credit_code
from services.desk.domain.errors import Refused

Registry = Mapping[str, BureauRecord]


def require_partner(registry: Registry, code: str) -> BureauRecord:
    """The bureau ``code`` if it is a signed partner; Refused otherwise."""
    bureau = registry.get(code)
    if bureau is None:
        raise Refused(ErrorCode.UNKNOWN_BUREAU, f"no bureau with code {code} is registered")
    if bureau.status is not AgreementStatus.SIGNED:
        raise Refused(
            ErrorCode.NOT_A_PARTNER,
            f"{bureau.name} ({code}) is not a signed partner (agreement {bureau.status.value})",
        )
    return bureau


def candidate_divisions(division: str) -> list[str]:
    """The division itself, then its prefecture, then its province (no repeats)."""
    chain = [division, division[:4] + "00", division[:2] + "0000"]
    return list(dict.fromkeys(chain))


def competent_bureau(registry: Registry, credit_code: str) -> BureauRecord:
    """The signed partner competent for the merchant registered under ``credit_code``."""
    division = division_of_credit_code(credit_code)
    for code in candidate_divisions(division):
        bureau = registry.get(code)
        if bureau is not None and bureau.status is AgreementStatus.SIGNED:
            return bureau
    raise Refused(
        ErrorCode.NO_COMPETENT_BUREAU,
        f"no signed partner is competent for division {division} (credit code {credit_code})",
    )


def resolve_recipient(
    registry: Registry, requester: str, recipient: str | None, credit_code: str | None
) -> BureauRecord:
    """The recipient of a new request: the given code, else the merchant's competent bureau."""
    if recipient is not None:
        bureau = require_partner(registry, recipient)
    elif credit_code is not None:
        bureau = competent_bureau(registry, credit_code)
    else:
        raise Refused(
            ErrorCode.NO_COMPETENT_BUREAU,
            "give a recipient bureau code or the merchant's unified social credit code",
        )
    if bureau.code == requester:
        raise Refused(ErrorCode.SAME_BUREAU, "a bureau cannot send a request to itself")
    return bureau
