"""Shared HTTP helpers: problem+json errors, JSON bodies with a size limit."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from pydantic import BaseModel, ConfigDict, Field

from functions.http_support import http_handler, json_response, read_json
from shared.errors import Conflict


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=5)
    items: list[int] = []


def request(body: bytes, content_type: str | None = "application/json") -> func.HttpRequest:
    headers = {"content-type": content_type} if content_type else {}
    return func.HttpRequest(method="POST", url="http://localhost/api/x", headers=headers, body=body)


@http_handler
def echo(req: func.HttpRequest) -> func.HttpResponse:
    body = read_json(req, Body, max_bytes=64)
    return json_response(body, status=201)


def problem_of(resp: func.HttpResponse) -> dict:
    assert resp.mimetype == "application/problem+json"
    data = json.loads(resp.get_body())
    assert {"type", "title", "status", "detail"} <= set(data)
    assert data["status"] == resp.status_code
    return data


def test_valid_body_passes() -> None:
    resp = echo(request(b'{"name": "ab", "items": [1]}'))
    assert resp.status_code == 201
    assert json.loads(resp.get_body()) == {"name": "ab", "items": [1]}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"name": "ab"', "application/json", 400),
        (b"", "application/json", 400),
        (b"NaN", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b'{"name": "ab"}', "text/plain", 415),
        (b'{"name": "' + b"x" * 100 + b'"}', "application/json", 413),
    ],
)
def test_bad_bodies_get_a_4xx_problem(body: bytes, content_type: str, status: int) -> None:
    resp = echo(request(body, content_type))
    assert resp.status_code == status
    problem_of(resp)


def test_validation_errors_name_the_fields() -> None:
    resp = echo(request(b'{"name": "toolong", "items": ["x"], "extra": 1}'))
    assert resp.status_code == 422
    fields = {e["field"] for e in problem_of(resp)["errors"]}
    assert fields == {"name", "items[0]", "extra"}


def test_domain_errors_become_their_status() -> None:
    @http_handler
    def conflict(req: func.HttpRequest) -> func.HttpResponse:
        raise Conflict("invoice inv-1 exists with other content")

    resp = conflict(request(b"{}"))
    assert resp.status_code == 409
    assert problem_of(resp)["detail"] == "invoice inv-1 exists with other content"


def test_unexpected_errors_hide_the_traceback() -> None:
    @http_handler
    def broken(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret internals")

    resp = broken(request(b"{}"))
    assert resp.status_code == 500
    assert "secret internals" not in resp.get_body().decode()


def test_deeply_nested_json_is_a_400_not_a_500() -> None:
    @http_handler
    def big(req: func.HttpRequest) -> func.HttpResponse:
        return json_response(read_json(req, Body, max_bytes=1_048_576))

    resp = big(request(b"[" * 200_000 + b"]" * 200_000))
    assert resp.status_code == 400
    assert "nested too deeply" in problem_of(resp)["detail"]
