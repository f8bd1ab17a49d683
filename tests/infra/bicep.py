"""Read the Bicep templates with pycep-parser and turn its expression trees into plain text.

pycep returns JSON-like dicts: objects as dicts, string literals and identifiers both as
strings, and expressions as {"operator": ...} or {"function": ...} nodes. `text()` renders the
expressions the tests compare (property chains such as `identity.outputs.clientId`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def _parser() -> BicepParser:
    return BicepParser()


@cache
def template(relative: str) -> dict[str, Any]:
    """The parsed template at `infra/<relative>`."""
    return _parser().parse(file_path=INFRA / relative)


def is_expression(node: Any) -> bool:
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)) in {"operator", "function"}


def text(node: Any) -> str:
    """A readable rendering of a value: property chains dotted, other expressions tagged."""
    if isinstance(node, str):
        return node
    if isinstance(node, bool | int):
        return str(node).lower() if isinstance(node, bool) else str(node)
    if isinstance(node, dict) and "operator" in node and len(node) == 1:
        op = node["operator"]
        if op["type"] == "property_accessor":
            return f"{text(op['operands']['operand_1'])}.{text(op['operands']['operand_2'])}"
        return f"<{op['type']}>"
    if isinstance(node, dict) and "function" in node and len(node) == 1:
        return f"{node['function']['type']}()"
    return repr(node)


def object_keys(node: Any) -> set[str]:
    """Keys of an object literal, or of every object a conditional (`a ? {...} : {...}`) may yield."""
    if isinstance(node, dict) and not is_expression(node):
        return set(node)
    if isinstance(node, dict) and "operator" in node and node["operator"]["type"] == "conditional":
        operands = node["operator"]["operands"]
        return object_keys(operands["true_value"]) | object_keys(operands["false_value"])
    return set()


def conditional_branches(node: Any) -> list[Any]:
    """Both branches of a conditional, or the value itself."""
    if isinstance(node, dict) and "operator" in node and node["operator"]["type"] == "conditional":
        operands = node["operator"]["operands"]
        return [operands["true_value"], operands["false_value"]]
    return [node]


def resources_of_type(parsed: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """name -> config of each resource of `resource_type` (a loop's body for `[for ...]`)."""
    found = {}
    for name, resource in (parsed.get("resources") or {}).items():
        if resource["type"] != resource_type:
            continue
        config = resource["config"]
        if "loop_type" in config or "config" in config:
            config = config.get("config", config)
        found[name] = config
    return found
