"""`make mutants`: does the suite catch each deliberate breakage of a guarantee?

Each breakage of ``breakages.toml`` is applied to its own scratch copy of the tree (rsync
to a temporary folder; the checkout is never touched), and its tests run there. A breakage
is *caught* when a test fails, *missed* when they all pass. The tests first run on an
unbroken copy: a breakage only counts as caught if the same tests pass without it.

    python -m tests.mutants.run [--only NAME-SUBSTRING] [--keep]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BREAKAGES = Path(__file__).with_name("breakages.toml")
PYTHON = ROOT / ".venv" / "bin" / "python"
EXCLUDE = [".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
           "__pycache__", ".run", "build", "*.egg-info"]


@dataclass(frozen=True)
class Breakage:
    name: str
    guarantee: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]

    def apply(self, tree: Path) -> None:
        path = tree / self.file
        text = path.read_text(encoding="utf-8")
        if text.count(self.find) != 1:
            raise SystemExit(f"{self.name}: text to replace not found once in {self.file}")
        path.write_text(text.replace(self.find, self.replace), encoding="utf-8")


def load(path: Path = BREAKAGES) -> list[Breakage]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    return [Breakage(b["name"], b["guarantee"], b["file"], b["find"], b["replace"],
                     tuple(b["tests"])) for b in data["breakage"]]


def copy_tree(into: Path) -> Path:
    tree = into / "tree"
    tree.mkdir(parents=True)
    subprocess.run(["rsync", "-a", *(f"--exclude={e}" for e in EXCLUDE), f"{ROOT}/",
                    f"{tree}/"], check=True)
    return tree


def run_tests(tree: Path, tests: tuple[str, ...], log: Path) -> tuple[int, float]:
    """pytest's exit code for ``tests`` in ``tree`` (the copy's code comes first on the path)."""
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(
            [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=tree, stdout=out, stderr=subprocess.STDOUT, check=False)
    return result.returncode, time.monotonic() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run breakages whose name contains this")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies and logs")
    args = parser.parse_args(argv)
    chosen = [b for b in load() if args.only in b.name]
    scratch = Path(tempfile.mkdtemp(prefix="xiecha-mutants-"))
    print(f"scratch copies and logs in {scratch}")
    baseline = tuple(dict.fromkeys(t for b in chosen for t in b.tests))
    code, took = run_tests(copy_tree(scratch / "unbroken"), baseline, scratch / "unbroken.log")
    if code != 0:
        print(f"the tests fail without any breakage (exit {code}): {scratch}/unbroken.log")
        return 2
    print(f"unbroken: {len(baseline)} test selections pass ({took:.0f} s)")
    missed = []
    for i, b in enumerate(chosen, 1):
        tree = copy_tree(scratch / f"b{i}")
        b.apply(tree)
        code, took = run_tests(tree, b.tests, scratch / f"b{i}.log")
        verdict = "caught" if code == 1 else "MISSED" if code == 0 else f"ERROR (exit {code})"
        print(f"{verdict:>8}  {b.name}  ({took:.0f} s; {b.file}; log b{i}.log)")
        if code != 1:
            missed.append(b.name)
    print(f"{len(chosen) - len(missed)} of {len(chosen)} breakages caught")
    if not args.keep and not missed:
        subprocess.run(["rm", "-rf", str(scratch)], check=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
