"""The partner registry as it travels from the hub to the desks."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from protocol.v1.content import Frozen
from protocol.v1.types import BureauCode, ProvinceCode, PublicKey


class AgreementStatus(StrEnum):
    SIGNED = "signed"
    """A signed partner: may send and receive assistance requests."""
    PENDING = "pending"
    """Negotiating; listed, but requests are refused."""
    SUSPENDED = "suspended"
    """Agreement suspended; requests are refused."""


class BureauRecord(Frozen):
    code: BureauCode
    name: str = Field(min_length=1, max_length=100)
    province: ProvinceCode
    province_name: str = Field(min_length=1, max_length=20)
    level: int = Field(ge=1, le=3)
    """1 provincial, 2 prefecture (city), 3 county-level bureau."""
    longitude: float = Field(ge=-180, le=180)
    latitude: float = Field(ge=-90, le=90)
    status: AgreementStatus
    signed_on: dt.date | None = None
    location_approximate: bool = False
    """The source data has no coordinates for this division: those of its prefecture
    (or province) stand in, so it can still be a partner and be drawn on a map."""


class DeskKey(Frozen):
    """A regional desk, the provinces it serves and the public key of its SM2 signatures."""

    region: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    provinces: tuple[ProvinceCode, ...] = Field(min_length=1)
    public_key: PublicKey
