"""The words of error answers (functions/problem_text.py): language choice and pydantic's errors."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from functions.http_support import field_errors
from functions.problem_text import EN, ZH, preferred_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, EN),
        ("", EN),
        ("zh-CN", ZH),
        ("zh", ZH),
        ("zh-Hans-CN,zh;q=0.9", ZH),
        ("en-US,en;q=0.9,zh-CN;q=0.8", EN),
        ("en;q=0.5, zh-CN;q=0.8", ZH),
        ("fr-FR, zh-CN;q=0.5", ZH),
        ("zh-CN;q=0, en", EN),
        ("zh-CN;q=abc, en;q=0.1", EN),
        ("*", EN),
    ],
)
def test_the_answer_language_follows_accept_language(header: str | None, expected: str) -> None:
    assert preferred_language(header) == expected


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date
    at: datetime
    count: int
    kind: str


def test_schema_errors_name_the_format_in_both_languages() -> None:
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate({"on": "2026/1/2", "at": "noon", "count": "many", "extra": 1})
    errors = {e["field"]: e for e in field_errors(caught.value)}
    assert set(errors) == {"on", "at", "count", "kind", "extra"}
    assert "YYYY-MM-DD" in errors["on"]["message"] and "YYYY-MM-DD" in errors["on"]["localized"][ZH]
    assert "+08:00" in errors["at"]["message"] and "时区偏移" in errors["at"]["localized"][ZH]
    assert errors["count"]["localized"] == {EN: "must be a whole number", ZH: "应为整数"}
    assert errors["kind"]["message"].startswith("required")
    assert errors["extra"]["localized"][ZH].startswith("不是此请求的字段")
    for error in errors.values():
        for text in error["localized"].values():
            assert "Input should" not in text and "Value error" not in text
