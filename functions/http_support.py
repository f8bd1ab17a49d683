"""What every HTTP function shares: problem+json errors (RFC 9457), JSON bodies with a size
limit, and one wrapper that turns domain errors into 4xx answers and never leaks a traceback.

Cold start: indexing the app imports this module, so it imports only what a route's
registration needs; pydantic, the settings and the storage adapter load with the first request.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import azure.functions as func

from functions import ensure_telemetry
from shared.errors import (
    AppError,
    BadRequest,
    Conflict,
    Contended,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from shared.services.outcomes import Effect, Written

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

M = TypeVar("M", bound="BaseModel")
PROBLEM_TYPE_BASE = "https://collections-guard.dev/problems/"

# The HTTP answer of each refusal `shared/` raises: status, title, problem type slug. The most
# specific class wins (a subclass not listed answers as its nearest listed base).
ANSWERS: dict[type[AppError], tuple[int, str, str]] = {
    BadRequest: (400, "Bad request", "bad-request"),
    Unauthorized: (401, "Unauthorized", "unauthorized"),
    Forbidden: (403, "Forbidden", "forbidden"),
    NotFound: (404, "Not found", "not-found"),
    Conflict: (409, "Conflict", "conflict"),
    Contended: (409, "Conflict", "contended"),
    PayloadTooLarge: (413, "Payload too large", "payload-too-large"),
    UnsupportedMediaType: (415, "Unsupported media type", "unsupported-media-type"),
    ValidationFailed: (422, "Validation failed", "validation-failed"),
    ServiceUnavailable: (503, "Service unavailable", "service-unavailable"),
}


def answer_for(exc: AppError) -> tuple[int, str, str]:
    """(status, title, slug) of a refusal."""
    for cls in type(exc).__mro__:
        if cls in ANSWERS:
            return ANSWERS[cls]  # type: ignore[index]
    return ANSWERS[BadRequest]


def refusal(exc: AppError, language: str = "en") -> func.HttpResponse:
    """The problem+json answer of a refusal, its words in `language` (functions/problem_text.py);
    a contended write also says when to retry."""
    from functions.problem_text import ZH, localize_errors

    status, title, slug = answer_for(exc)
    headers = {"Content-Language": language}
    if isinstance(exc, Contended):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if status == 401:
        headers.update(sign_in_challenge())
    members = refusal_members(exc)
    detail = members["localized"][ZH] if language == ZH else exc.detail
    return problem(
        status,
        title,
        detail,
        slug=slug,
        errors=localize_errors(exc.errors, language),
        headers=headers,
        members=members,
    )


def refusal_members(exc: AppError) -> dict[str, Any]:
    """Extension members of a refusal's problem: its facts, and its reason in both languages
    (`localized`: the refusal's own words, else the fixed translations of problem_text)."""
    from functions.problem_text import EN, ZH, detail_zh

    members: dict[str, Any] = dict(exc.members or {})
    localized = dict(exc.localized or {})
    localized.setdefault(EN, exc.detail)
    localized.setdefault(ZH, detail_zh(exc.detail) or exc.detail)
    members["localized"] = localized
    return members


def sign_in_challenge() -> dict[str, str]:
    """What a 401 says about signing in (RFC 9110 WWW-Authenticate)."""
    return {"WWW-Authenticate": 'Bearer realm="collections-guard"'}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    members: dict[str, Any] | None = None,
) -> func.HttpResponse:
    """An `application/problem+json` response (`members`: RFC 9457 extension members)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    for name, value in (members or {}).items():
        body.setdefault(name, value)
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
    from pydantic import BaseModel

    if isinstance(payload, BaseModel):
        text = payload.model_dump_json(by_alias=True)
    else:
        text = json.dumps(payload, ensure_ascii=False, default=_json_default)
    return func.HttpResponse(
        text, status_code=status, headers=headers, mimetype="application/json", charset="utf-8"
    )


# The status of each effect a use case reports (`shared.services.outcomes`).
EFFECT_STATUS = {
    Effect.CREATED: 201,
    Effect.UPDATED: 200,
    Effect.UNCHANGED: 200,
    Effect.REMOVED: 204,
    Effect.PENDING: 202,  # four-eyes: accepted, waiting for a second person
}


def written_response(written: Written[Any]) -> func.HttpResponse:
    """201 created, 204 removed (no body), 200 updated or unchanged, with the stored value."""
    status = EFFECT_STATUS[written.effect]
    if status == 204:
        return func.HttpResponse(status_code=204)
    return json_response(written.value, status=status)


def _json_default(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message, localized}` with dotted field paths
    (`evidence[0].value`), in words a clerk reads (functions/problem_text.py)."""
    from functions.problem_text import EN, schema_error

    out = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ""
        for part in err.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        words = schema_error(err)
        out.append({"field": path or "(body)", "message": words[EN], "localized": words})
    return out


def read_body(req: func.HttpRequest, max_bytes: int | None = None) -> bytes:
    """The raw body, refused with 413 when larger than the limit."""
    from shared.settings import get_settings

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
    from pydantic import ValidationError

    body = read_body(req, max_bytes)
    content_type = (req.headers.get("content-type") or "application/json").split(";")[0].strip()
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        raise UnsupportedMediaType(f"send application/json, not {content_type}")
    if not body.strip():
        raise BadRequest("the request body is empty; a JSON object is expected")
    try:
        # Numbers with a fraction or exponent keep their literal text (never a float): a money
        # amount is then read by the same rule as a string ("1E+2" is refused as it would be),
        # and a text field refuses a number as the wrong type.
        from shared.domain.money import NumberLiteral

        data = json.loads(
            body.decode("utf-8"),
            parse_float=NumberLiteral,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_keys,
        )
    except _DuplicateKey as exc:
        raise BadRequest(
            f"the body names {exc.key!r} twice in one object; send each key once",
            errors=[{"field": exc.key, "message": "duplicate key"}],
        ) from None
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


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: with a repeated key, which value counts
    depends on the parser (here the last would win silently), so it is refused."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


Handler = Callable[[func.HttpRequest], func.HttpResponse]


def http_handler(fn: Handler) -> Handler:
    """Wrap an HTTP function: domain errors -> problem+json 4xx; anything else -> a bare 500."""

    @functools.wraps(fn)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        ensure_telemetry()
        try:
            return fn(req)
        except AppError as exc:
            return refusal(exc, request_language(req))
        except Exception as exc:  # noqa: BLE001 - classified below; never a traceback in the answer
            return _unexpected(fn.__name__, exc, request_language(req))

    return wrapper


def request_language(req: func.HttpRequest) -> str:
    """The language of the answer's words: `zh-CN` when `Accept-Language` prefers Chinese."""
    from functions.problem_text import preferred_language

    try:
        return preferred_language(req.headers.get("accept-language"))
    except Exception:  # noqa: BLE001 - a header must never turn a refusal into a 500
        return "en"


def _unexpected(name: str, exc: Exception, language: str = "en") -> func.HttpResponse:
    """Errors that are not refusals: invalid input after all, a lost write race, broken
    settings; anything else is a bare 500 (logged with its traceback)."""
    from pydantic import ValidationError

    from shared.adapters.tables import ConcurrencyConflict
    from shared.settings import SettingsError

    if isinstance(exc, ValidationError):
        return refusal(
            ValidationFailed("the request does not match the schema", errors=field_errors(exc)), language
        )
    if isinstance(exc, ConcurrencyConflict):
        # A write that lost an ETag race outside `retry_on_conflict`: still not a 500.
        log.warning("unretried write conflict in %s", name)
        return refusal(
            Contended("the records changed while this request was applied; send it again"), language
        )
    if isinstance(exc, SettingsError):
        log.error("settings invalid", extra={"error": str(exc)})
        return problem(503, "Service unavailable", str(exc), slug="settings-invalid")
    log.error("unhandled error in %s", name, exc_info=exc)
    return problem(500, "Internal server error", "an unexpected error occurred; it was logged")
