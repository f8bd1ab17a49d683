"""What every HTTP function shares: problem+json errors (RFC 9457), JSON bodies with a size
limit, and one wrapper that turns domain errors into 4xx answers and never leaks a traceback."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from shared.errors import AppError, BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from shared.settings import SettingsError, get_settings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
PROBLEM_TYPE_BASE = "https://collections-guard.dev/problems/"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> func.HttpResponse:
    """An `application/problem+json` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return func.HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers=headers,
        mimetype="application/problem+json",
        charset="utf-8",
    )


def json_response(
    payload: BaseModel | dict[str, Any] | list[Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> func.HttpResponse:
    """A JSON response; pydantic models are dumped in JSON mode (money and dates as text)."""
    if isinstance(payload, BaseModel):
        text = payload.model_dump_json(by_alias=True)
    else:
        text = json.dumps(payload, ensure_ascii=False, default=_json_default)
    return func.HttpResponse(
        text, status_code=status, headers=headers, mimetype="application/json", charset="utf-8"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message}` with dotted field paths (`evidence[0].value`)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ""
        for part in err.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        out.append({"field": path or "(body)", "message": err["msg"]})
    return out


def read_body(req: func.HttpRequest, max_bytes: int | None = None) -> bytes:
    """The raw body, refused with 413 when larger than the limit."""
    limit = max_bytes or get_settings().max_request_bytes
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    body = req.get_body() or b""
    if len(body) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return body


def read_json(req: func.HttpRequest, model: type[M], max_bytes: int | None = None) -> M:
    """Parse and validate a JSON body: 413 over the limit, 415 not JSON, 400 malformed, 422 invalid."""
    body = read_body(req, max_bytes)
    content_type = (req.headers.get("content-type") or "application/json").split(";")[0].strip()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise UnsupportedMediaType(f"send application/json, not {content_type}")
    if not body.strip():
        raise BadRequest("the request body is empty; a JSON object is expected")
    try:
        data = json.loads(body.decode("utf-8"), parse_float=str, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # `[[[[...` within the size limit: bad input, not a 500
        raise BadRequest("the body is nested too deeply") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("the body does not match the schema", errors=field_errors(exc)) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


Handler = Callable[[func.HttpRequest], func.HttpResponse]


def http_handler(fn: Handler) -> Handler:
    """Wrap an HTTP function: domain errors -> problem+json 4xx; anything else -> a bare 500."""

    @functools.wraps(fn)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return fn(req)
        except AppError as exc:
            return problem(exc.status, exc.title, exc.detail, slug=exc.slug, errors=exc.errors)
        except ValidationError as exc:
            return problem(
                422,
                "Validation failed",
                "the request does not match the schema",
                slug="validation-failed",
                errors=field_errors(exc),
            )
        except SettingsError as exc:
            log.error("settings invalid", extra={"error": str(exc)})
            return problem(503, "Service unavailable", str(exc), slug="settings-invalid")
        except Exception:
            log.exception("unhandled error in %s", fn.__name__)
            return problem(500, "Internal server error", "an unexpected error occurred; it was logged")

    return wrapper
