"""The import graph of the project's own modules: no cycles, and the rooms' rules hold.

Read from the source with ``ast`` (imports under ``if TYPE_CHECKING:`` included: a
cycle for the type checker is still a cycle for the reader).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("protocol", "services", "bench")


def modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{a.name}" for a in node.names]  # a name, or a module
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports_of(name, path, known)) for name, path in known.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_a_cycle_is_seen() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def breaking(rule: str, allowed: tuple[str, ...], of: str) -> list[str]:
    return [f"{m} -> {t} ({rule})" for m, targets in graph().items() if m.startswith(of)
            for t in targets if not t.startswith(allowed)]


def test_protocol_depends_on_nothing_of_ours() -> None:
    assert breaking("protocol stands alone", ("protocol",), "protocol") == []


def test_the_desk_domain_is_pure() -> None:
    allowed = ("protocol", "services.desk.domain")
    assert breaking("domain: protocol and itself", allowed, "services.desk.domain") == []


def test_features_do_not_reach_into_each_other() -> None:
    shared = ("protocol", "services.common", "services.desk.domain", "services.desk.store",
              "services.desk.access", "services.desk.context", "services.desk.web",
              "services.desk.auth", "services.desk.registry", "services.desk.signing")
    for feature in ("requests", "attachments", "bulk", "joint"):
        own = f"services.desk.{feature}"
        assert breaking(f"{feature}: itself and the shared rooms", (*shared, own), own) == []


def test_services_do_not_import_each_other() -> None:
    for service in ("hub", "desk"):
        other = "desk" if service == "hub" else "hub"
        assert [m for m, ts in graph().items() if m.startswith(f"services.{service}")
                for t in ts if t.startswith(f"services.{other}")] == []


def test_sessions_are_a_shared_room_and_pages_sit_on_top() -> None:
    shared = ("protocol", "services.common", "services.desk.domain", "services.desk.store",
              "services.desk.context", "services.desk.web", "services.desk.auth")
    own = "services.desk.sessions"
    assert breaking("sessions: the shared rooms", (*shared, own), own) == []
    below = [m for m, ts in graph().items() if not m.startswith("services.desk.pages")
             and m != "services.desk.app" for t in ts if t.startswith("services.desk.pages")]
    assert below == []  # only the app wires the pages in
