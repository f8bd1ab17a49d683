"""GET /api/openapi.json (anonymous): the OpenAPI 3.1 description of the whole HTTP API.

The source of truth is `docs/openapi.yaml` (deployed with the app); it is converted to JSON once
per process. Anonymous like /api/health: it describes the API and holds no data or secrets.
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
_lock = threading.Lock()
_cached: str | None = None


def spec_json() -> str:
    """The spec as JSON text (read and converted on first use)."""
    global _cached
    with _lock:
        if _cached is None:
            import yaml

            document = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
            _cached = json.dumps(document, ensure_ascii=False)
        return _cached


@bp.route(route="api/openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_handler
@public
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(spec_json(), status_code=200, mimetype="application/json", charset="utf-8")
