"""The desks' public keys the hub hands out with the registry, from its configuration.

Each desk's authority gives the platform operator its public key file
(``desk-<region>.pub`` in the hub's keys directory); the hub reads them whenever it
publishes the registry, so a desk added later is known by its next registry request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import structlog

from protocol.v1.registry import DeskKey
from services.common import sm2
from services.common.paths import desk_key_file

log = structlog.get_logger()

DeskKeys = Callable[[], tuple[DeskKey, ...]]
"""What the hub publishes as the desks' keys, read anew at each publication."""


def no_keys() -> tuple[DeskKey, ...]:
    return ()


def from_directory(desks: Sequence[tuple[str, Sequence[str]]], directory: Path) -> DeskKeys:
    """The keys of ``desks`` (region, provinces) found in ``directory``."""

    def read() -> tuple[DeskKey, ...]:
        found = []
        for region, provinces in desks:
            pub = sm2.public_path(desk_key_file(region, directory))
            if not pub.exists():
                log.warning("no public key for desk", region=region, path=str(pub))
                continue
            found.append(DeskKey(region=region, provinces=tuple(provinces),
                                 public_key=sm2.read_public(pub).hex()))
        return tuple(found)

    return read

