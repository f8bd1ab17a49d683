"""GET /api/policy?lang=zh-CN|en: the published collections policy (markdown, or JSON on request)."""

from __future__ import annotations

import azure.functions as func

from functions.auth import public
from functions.http_support import http_handler, json_response

bp = func.Blueprint()


@bp.route(route="policy", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_handler
@public
def policy(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections.published_policy import published_policy

    published = published_policy(wiring.policy_files().policy, req.params.get("lang"))
    headers = {"Content-Language": published.lang, "X-Policy-Version": published.version}
    if "application/json" in (req.headers.get("accept") or ""):
        return json_response(published, headers=headers)
    return func.HttpResponse(
        published.text, status_code=200, headers=headers, mimetype="text/markdown", charset="utf-8"
    )
