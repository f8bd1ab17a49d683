"""The layering rules of docs/architecture.md, checked on the source: no import cycle under
`shared/`, no `azure.functions` there, no HTTP status in the use cases, one name per public class,
modules of a readable size, and the functions layer the only one that answers HTTP."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"
SERVICES = SHARED / "services"

# Status codes an HTTP layer answers with; a use case names outcomes, never these.
HTTP_STATUSES = {200, 201, 202, 204, 207, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429, 500, 503}
MAX_SERVICE_MODULE_LINES = 420


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def shared_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SHARED.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at any depth (lazy imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = shared_modules()
    return {
        name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_under_shared() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_shared_never_imports_azure_functions() -> None:
    offenders = [
        name
        for name, path in shared_modules().items()
        if any(m == "azure.functions" or m.startswith("azure.functions.") for m in imports_of(path))
    ]
    assert offenders == []


def test_domain_imports_no_adapter_service_or_io_library() -> None:
    forbidden = ("shared.adapters", "shared.services", "shared.runtime", "shared.wiring", "azure", "urllib")
    offenders = {
        name: sorted(m for m in imports_of(path) if m.startswith(forbidden))
        for name, path in shared_modules().items()
        if name.startswith("shared.domain")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_use_cases_look_nothing_up_mid_function() -> None:
    """Dependencies come in as parameters: no `runtime.*`, `wiring.*`, `get_settings()` or the
    module clock (`clock.now()`; a use case asks `deps.clock`)."""
    offenders = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in {"runtime", "wiring", "clock"}:
                    offenders.append(f"{_where(path)}:{node.lineno}: {node.value.id}.{node.attr}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "get_settings"
            ):
                offenders.append(f"{_where(path)}:{node.lineno}: get_settings()")
    assert offenders == []


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _status_literals(path: Path) -> list[str]:
    """Integer literals that are HTTP statuses, except slice bounds and length limits."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    allowed.add(id(part))
        elif isinstance(node, ast.keyword) and node.arg in {
            "max_length",
            "min_length",
            "le",
            "ge",
            "lt",
            "gt",
        }:
            allowed.add(id(node.value))
        elif isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id.isupper() and "STATUS" not in t.id and "CODE" not in t.id
            for t in node.targets
        ):
            allowed.add(id(node.value))
    return [
        f"{_where(path)}:{node.lineno}: {node.value}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and type(node.value) is int
        and node.value in HTTP_STATUSES
        and id(node) not in allowed
    ]


def _status_words(path: Path) -> list[str]:
    """Docstrings and comments that speak of an HTTP status (a 4xx/5xx number or 201-207)."""
    found = []
    pattern = re.compile(r"\b(?:" + "|".join(str(code) for code in sorted(HTTP_STATUSES - {200})) + r")\b")
    with io.StringIO(path.read_text(encoding="utf-8")) as text:
        for token in tokenize.generate_tokens(text.readline):
            if token.type in (tokenize.COMMENT, tokenize.STRING) and pattern.search(token.string):
                if token.type == tokenize.STRING and not token.string.lstrip("rbuRBU").startswith(
                    ('"""', "'''")
                ):
                    continue  # a plain string (data), not prose
                found.append(f"{_where(path)}:{token.start[0]}: {token.string.strip()[:60]}")
    return found


def test_no_http_status_in_the_use_cases() -> None:
    """No status literal anywhere in the use cases, and none in their prose, except in the
    reconcile area, whose docstrings quote Partner Center's own answers (409, 429)."""
    offenders = []
    for path in sorted(SERVICES.rglob("*.py")):
        offenders += _status_literals(path)
        if "reconcile" not in path.relative_to(SERVICES).parts:
            offenders += _status_words(path)
    assert offenders == []


def test_the_status_check_catches_a_status(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('def f():\n    """Answers 404."""\n    return Result(201, x[:200])\n', encoding="utf-8")
    assert len(_status_literals(sample)) == 1 and len(_status_words(sample)) == 1


def test_no_two_public_classes_share_a_name() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for name, path in shared_modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                where[node.name].append(name)
    assert {k: v for k, v in where.items() if len(v) > 1} == {}


@pytest.mark.parametrize("path", sorted(SERVICES.rglob("*.py")), ids=lambda p: str(p.relative_to(SERVICES)))
def test_use_case_modules_stay_readable(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_SERVICE_MODULE_LINES, f"{path.name} has {lines} lines: split it by what its parts do"


def test_every_services_package_says_what_lives_there() -> None:
    packages = [p for p in SERVICES.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert {p.name for p in packages} >= {"collections", "fraud", "reconcile"}
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 80, f"{package.name}/__init__.py needs a docstring naming its modules"
        for module in package.glob("*.py"):
            if module.name != "__init__.py":
                assert f"`{module.stem}`" in doc, f"{package.name}/__init__.py does not name {module.stem}"
