"""The provincial-level divisions (GB/T 2260 two-digit codes) a desk can host.

A desk hosts the bureaus of the provinces it lists; the installation's desk list
must cover every one of them, or requests to the rest come back undeliverable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

PROVINCES: Final[tuple[str, ...]] = (
    "11", "12", "13", "14", "15",  # Beijing, Tianjin, Hebei, Shanxi, Inner Mongolia
    "21", "22", "23",  # Liaoning, Jilin, Heilongjiang
    "31", "32", "33", "34", "35", "36", "37",  # Shanghai ... Shandong
    "41", "42", "43", "44", "45", "46",  # Henan ... Hainan
    "50", "51", "52", "53", "54",  # Chongqing, Sichuan, Guizhou, Yunnan, Tibet
    "61", "62", "63", "64", "65",  # Shaanxi, Gansu, Qinghai, Ningxia, Xinjiang
    "71", "81", "82",  # Taiwan, Hong Kong, Macao
)


def rest_of(hosted: Iterable[str]) -> tuple[str, ...]:
    """The provinces no desk of ``hosted`` serves, in code order."""
    taken = set(hosted)
    return tuple(p for p in PROVINCES if p not in taken)
