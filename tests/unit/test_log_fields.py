"""Log lines never collide with the attributes of a LogRecord (`logging` raises KeyError for
`message`, `asctime`, `name`, `module`, ...): every `extra=` in the code base is either a literal
dict of safe names or built by `shared.telemetry.log_fields`, and errors log with any keys."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from shared.adapters.partner_center.errors import ERROR_TYPES, PartnerCenterError, Throttled
from shared.telemetry import RESERVED_LOG_KEYS, log_fields

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p for folder in ("shared", "functions", "tools", "bench") for p in sorted((ROOT / folder).rglob("*.py"))
]


LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}


def extra_arguments() -> list[tuple[Path, int, ast.expr]]:
    """The `extra=` of every logging call (`log.info(...)`, `logger.warning(...)`, ...)."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in LOG_METHODS:
                for keyword in node.keywords:
                    if keyword.arg == "extra":
                        found.append((path, node.lineno, keyword.value))
    return found


def test_every_extra_is_a_literal_of_safe_names_or_built_by_log_fields() -> None:
    unsafe = []
    for path, line, value in extra_arguments():
        where = f"{path.relative_to(ROOT)}:{line}"
        if (
            isinstance(value, ast.Call)
            and getattr(value.func, "id", getattr(value.func, "attr", "")) == "log_fields"
        ):
            continue
        if not isinstance(value, ast.Dict):
            unsafe.append(f"{where}: not a dict literal; use log_fields(...)")
            continue
        for key in value.keys:
            if key is None:
                unsafe.append(f"{where}: `**` in extra; use log_fields(...)")
            elif not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                unsafe.append(f"{where}: a computed key; use log_fields(...)")
            elif key.value in RESERVED_LOG_KEYS:
                unsafe.append(f"{where}: `{key.value}` is a LogRecord attribute")
    assert extra_arguments(), "the scan found no extra= at all"
    assert unsafe == []


def test_log_fields_renames_every_reserved_name_and_keeps_the_rest() -> None:
    fields = log_fields({name: 1 for name in RESERVED_LOG_KEYS}, customer_id="c")
    assert fields["customer_id"] == "c"
    assert not set(fields) & RESERVED_LOG_KEYS
    assert fields["field_message"] == 1 and fields["field_name"] == 1


@pytest.mark.parametrize(
    "error_type", sorted(ERROR_TYPES.values(), key=lambda t: t.__name__), ids=lambda t: t.__name__
)
def test_an_error_whose_describe_has_keys_logs_through_a_real_handler(
    error_type: type[PartnerCenterError], caplog: pytest.LogCaptureFixture
) -> None:
    kwargs: dict[str, object] = {"status": 403, "error_code": 900115, "description": "refused"}
    error = (
        Throttled("t", retry_after_seconds=5, **kwargs)  # type: ignore[arg-type]
        if error_type is Throttled
        else error_type("failed", **kwargs)  # type: ignore[arg-type]
    )
    assert error.describe()
    assert not set(error.describe()) & RESERVED_LOG_KEYS
    log = logging.getLogger("tests.log_fields")
    with caplog.at_level(logging.WARNING, logger="tests.log_fields"):
        log.warning("call failed", extra=log_fields(error.describe(), message="x", asctime="y", name="z"))
    (record,) = caplog.records
    assert record.field_message == "x" and record.error_code == 900115  # type: ignore[attr-defined]
    logging.Formatter("%(asctime)s %(name)s %(message)s %(error_kind)s").format(record)
