"""GET /api/policy (anonymous: customers read it): the published collections policy, markdown or
JSON on request, in zh-CN (default), en, or the reader's Accept-Language; cacheable."""

from __future__ import annotations

import azure.functions as func

from functions.auth import public
from functions.http_support import http_handler, json_response

bp = func.Blueprint()
MAX_AGE_SECONDS = 300  # an edited policy reaches readers within five minutes


@bp.route(route="api/policy", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_handler
@public
def policy(req: func.HttpRequest) -> func.HttpResponse:
    from shared import clock, wiring
    from shared.services.collections.published_policy import published_policy

    published = published_policy(
        wiring.policy_files().policy,
        req.params.get("lang"),
        now=clock.now(),
        accept_language=req.headers.get("accept-language"),
    )
    as_json = "application/json" in (req.headers.get("accept") or "")
    year = next(iter(published.days_off), "")
    etag = f'"{published.version}.{published.lang}.{year}.{"json" if as_json else "md"}"'
    headers = {
        "Content-Language": published.lang,
        "X-Policy-Version": published.version,
        "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
        "ETag": etag,
        "Vary": "Accept, Accept-Language",
    }
    if etag in [t.strip() for t in (req.headers.get("if-none-match") or "").split(",")]:
        return func.HttpResponse(status_code=304, headers=headers)
    if as_json:
        return json_response(published, headers=headers)
    return func.HttpResponse(
        published.text, status_code=200, headers=headers, mimetype="text/markdown", charset="utf-8"
    )
