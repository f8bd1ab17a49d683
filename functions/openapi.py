"""GET /api/openapi.json (anonymous): the OpenAPI 3.1 description of the whole HTTP API, and
GET /api/docs: a page that shows it (anonymous too).

The source of truth is `docs/openapi.yaml` (deployed with the app) with the examples of
`docs/openapi-examples.json` merged into its operations: real answers of the app, recorded by
`python -m tools.openapi_examples --write` and checked by a test. Converted to JSON once per
process. Anonymous like /api/health: it describes the API and holds no data or secrets.

The page (`functions/static/api-docs.html`, `.js`, `.css`) is served from the repository, no CDN,
under a strict Content-Security-Policy (scripts and styles of this origin only, no inline
script); it reads /api/openapi.json and calls the API on the same origin ("try it").
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import azure.functions as func

from functions.auth import public
from functions.http_support import http_handler

bp = func.Blueprint()

SPEC_FILE = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
EXAMPLES_FILE = SPEC_FILE.with_name("openapi-examples.json")
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {
    "api-docs.js": "text/javascript",
    "api-docs.css": "text/css",
}
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_lock = threading.Lock()
_cached: str | None = None


def spec_json() -> str:
    """The spec as JSON text (read and converted on first use)."""
    global _cached
    with _lock:
        if _cached is None:
            import yaml

            document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
            if EXAMPLES_FILE.is_file():
                merge_examples(document, json.loads(EXAMPLES_FILE.read_text(encoding="utf-8")))
            _cached = json.dumps(document, ensure_ascii=False)
        return _cached


def merge_examples(document: dict, examples: dict) -> None:
    """Put each recorded example under its operation: the request it sent in `requestBody`, the
    answer under its status (the first content type the status documents, else JSON)."""
    for ops in document.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict) or op.get("operationId") not in examples:
                continue
            for status, named in examples[op["operationId"]].items():
                response = op.setdefault("responses", {}).setdefault(status, {"description": status})
                content = response.setdefault("content", {"application/json": {}})
                media = next(iter(content.values()))
                for name, example in named.items():
                    if example.get("value") is not None:
                        media.setdefault("examples", {})[name] = {
                            "summary": example["summary"],
                            "value": example["value"],
                        }
                    if "request" in example and "requestBody" in op:
                        body = next(iter(op["requestBody"].get("content", {}).values()), None)
                        if body is not None:
                            body.setdefault("examples", {})[name] = {
                                "summary": example["summary"],
                                "value": example["request"],
                            }


@bp.route(route="api/openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_handler
@public
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(spec_json(), status_code=200, mimetype="application/json", charset="utf-8")


def _static(name: str, content_type: str, cache: str) -> func.HttpResponse:
    return func.HttpResponse(
        (STATIC / name).read_bytes(),
        status_code=200,
        headers={
            "Cache-Control": cache,
            "Content-Security-Policy": PAGE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
        mimetype=content_type,
        charset="utf-8",
    )


@bp.route(route="api/docs", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_handler
@public
def api_docs(req: func.HttpRequest) -> func.HttpResponse:
    return _static("api-docs.html", "text/html", "no-cache")


@bp.route(route="api/docs/{asset}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_handler
@public
def api_docs_asset(req: func.HttpRequest) -> func.HttpResponse:
    from shared.errors import NotFound

    asset = req.route_params.get("asset", "")
    if asset not in ASSETS:
        raise NotFound(f"no file {asset!r} here: the page's files are {', '.join(sorted(ASSETS))}")
    return _static(asset, ASSETS[asset], "public, max-age=3600")
