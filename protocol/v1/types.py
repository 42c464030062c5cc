"""Constrained scalar types shared by every v1 model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import ModuleType
from typing import Annotated, Final

from pydantic import AfterValidator, Field, StringConstraints
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

BureauCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
"""A bureau is named by the 6-digit administrative division code it is competent for."""

ProvinceCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]

EARLIEST: Final = dt.date(2000, 1, 1)
LATEST: Final = dt.date(2099, 12, 31)
SaneDate = Annotated[dt.date, Field(ge=EARLIEST, le=LATEST,
                                    description=f"a date in {EARLIEST}..{LATEST}")]
"""Every date xiecha takes: 9999-12-31 and 0001-01-01 overflowed date arithmetic (500s)."""

Address = Annotated[str, StringConstraints(pattern=r"^(\d{6}|hub|desk\.[a-z0-9_-]{1,32})$")]
"""Who sends or receives a message: a bureau code, the hub, or a regional desk."""

Signature = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,160}$")]
"""An SM2 signature (GB/T 32918), DER-encoded (r, s), in lower-case hex."""

PublicKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]
"""An SM2 public key: x || y, 64 bytes in lower-case hex."""



def no_nul(value: str) -> str:
    """PostgreSQL text cannot hold U+0000: refuse it at the edge rather than fail on store."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


def text(max_length: int) -> StringConstraints:
    """Trimmed, non-empty text of at most ``max_length`` characters (use with ``no_nul``)."""
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


def official_number(module: ModuleType, what: str) -> Callable[[str], str]:
    """A validator by a python-stdnum module: format, embedded dates and check character."""

    def check(value: str) -> str:
        try:
            return str(module.validate(value))
        except StdnumError as exc:
            raise ValueError(f"invalid {what}: {exc}") from None

    return check


ShortText = Annotated[str, text(200), AfterValidator(no_nul)]
LongText = Annotated[str, text(20_000), AfterValidator(no_nul)]

EIGHTEEN_CHARACTERS = StringConstraints(
    strip_whitespace=True, to_upper=True, min_length=18, max_length=18
)
CreditCode = Annotated[
    str, EIGHTEEN_CHARACTERS,
    AfterValidator(official_number(uscc, "unified social credit code (GB 32100-2015)")),
]


def division_of_credit_code(credit_code: str) -> str:
    """Characters 3-8 of a credit code: the registering authority's division code."""
    return credit_code[2:8]
