"""The deliberate breakages of `make mutants` still apply to the code as it is, and name
tests that exist (so a refactoring cannot silently retire a detector)."""

from __future__ import annotations

import ast

import pytest

from tests.mutants.run import ROOT, Breakage, load

BREAKAGES = load()


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda b: b.name)
def test_breakage_applies_once_and_names_real_tests(breakage: Breakage) -> None:
    source = (ROOT / breakage.file).read_text(encoding="utf-8")
    assert source.count(breakage.find) == 1, f"{breakage.name}: update breakages.toml"
    broken = source.replace(breakage.find, breakage.replace)
    assert broken != source
    ast.parse(broken)  # a breakage must still run, or "caught" means nothing
    for test in breakage.tests:
        path, _, name = test.partition("::")
        assert (ROOT / path).is_file(), test
        if name:
            tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
            assert name in {f.name for f in ast.walk(tree)
                            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}, test


def test_every_guarantee_of_the_issue_has_a_breakage() -> None:
    assert {"drop the processed-message check", "delete before confirm",
            "publish without confirms", "skip the hub's event-id check",
            "drop sequence parking"} <= {b.name for b in BREAKAGES}
