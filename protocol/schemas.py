"""JSON Schema of every v1 message, generated from the models into protocol/schemas/v1/.

``python -m protocol.schemas --write`` regenerates the files; ``--check`` exits 1
when a committed file differs from what the models say (a test runs the check).
This module writes files only when run as a command; importing it does no I/O.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from protocol.v1 import MESSAGE_TYPES

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "v1"


def rendered() -> dict[str, str]:
    """File name -> schema text, for every message type."""
    out = {}
    for name, cls in sorted(MESSAGE_TYPES.items()):
        schema = cls.model_json_schema(mode="validation")
        schema["$id"] = f"https://xiecha.invalid/schemas/v1/{name}.json"
        text = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True)
        out[f"{name}.json"] = text + "\n"
    return out


def drift() -> list[str]:
    """Names of schema files that are missing, stale, or no longer generated."""
    expected = rendered()
    present = {p.name for p in SCHEMA_DIR.glob("*.json")} if SCHEMA_DIR.exists() else set()
    stale = [n for n, text in expected.items()
             if n not in present or (SCHEMA_DIR / n).read_text(encoding="utf-8") != text]
    return sorted(stale + list(present - expected.keys()))


def main(argv: list[str]) -> int:
    if "--write" in argv:
        SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
        for stale in SCHEMA_DIR.glob("*.json"):
            stale.unlink()
        for name, text in rendered().items():
            (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {len(rendered())} schemas to {SCHEMA_DIR}")
        return 0
    problems = drift()
    for name in problems:
        print(f"schema drift: {name} (run `make schemas`)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
