"""The app's function names, read from the registered app (never copied into a test)."""

from __future__ import annotations

import ast
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
_TRIGGERS = {"route", "timer_trigger", "queue_trigger", "service_bus_queue_trigger"}


def registered(*modules: str, http_only: bool = False) -> list[str]:
    """Names of the functions the app registers, those of the Blueprint modules `modules`
    (`"fraud"` for functions/fraud.py) when given, in registration order; with `http_only`,
    only HTTP-triggered ones."""
    import function_app
    from tools.devhost.invoker import discover_functions

    wanted = {f"functions.{m}" for m in modules}
    function_app.app.functions_bindings = None  # get_functions() refuses names it has seen before
    names = []
    for spec in discover_functions(function_app.app):  # indexes as the host does (repeatable)
        module = getattr(spec.function, "__module__", "")
        if wanted and module not in wanted:
            continue
        if http_only and spec.trigger.get("type") != "httpTrigger":
            continue
        names.append(spec.name)
    return names


def declared() -> set[str]:
    """The functions the source of functions/*.py declares, read without importing it: each
    decorated with a trigger (`@bp.route`, `@bp.timer_trigger`, `@queue_trigger(bp, ...)`), named
    by `@bp.function_name` when given, else by the Python function's name."""
    found: set[str] = set()
    for path in sorted(FUNCTIONS_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            name, triggered = node.name, False
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                func = call.func if call else decorator
                attr = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if attr in _TRIGGERS:
                    triggered = True
                if attr == "function_name" and call and call.args and isinstance(call.args[0], ast.Constant):
                    name = str(call.args[0].value)
            if triggered:
                found.add(name)
    return found
