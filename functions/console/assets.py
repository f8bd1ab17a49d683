"""The console's static files (cached, immutable under a versioned URL) and the language switch."""

from __future__ import annotations

import azure.functions as func

from functions.auth import public
from functions.console import bp
from functions.console.web import CONSOLE_DIR, LANG_COOKIE, LANGUAGES, PAGE_HEADERS, form, same_origin

ANONYMOUS = func.AuthLevel.ANONYMOUS
TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png"}


@bp.route(route="console/static/{name}", methods=["GET"], auth_level=ANONYMOUS)
@public
def console_static(req: func.HttpRequest) -> func.HttpResponse:
    """A file of console/static (no sub-folders, no dot-files); a year's cache (the URL carries
    the files' hash, `?v=`)."""
    name = req.route_params.get("name", "")
    folder = CONSOLE_DIR / "static"
    path = folder / name
    suffix = path.suffix.lower()
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in TYPES or not path.is_file():
        return func.HttpResponse(
            "not found", status_code=404, headers=dict(PAGE_HEADERS), mimetype="text/plain"
        )
    headers = {**PAGE_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"}
    return func.HttpResponse(path.read_bytes(), status_code=200, headers=headers, mimetype=TYPES[suffix])


@bp.route(route="console/language", methods=["POST"], auth_level=ANONYMOUS)
@public
def console_language(req: func.HttpRequest) -> func.HttpResponse:
    """The header's language switch: a cookie, then back to the page it was sent from."""
    from urllib.parse import urlsplit

    try:
        same_origin(req)
    except Exception:  # noqa: BLE001 - a cross-site switch does nothing
        return func.HttpResponse(
            "forbidden", status_code=403, headers=dict(PAGE_HEADERS), mimetype="text/plain"
        )
    fields = form(req)
    lang = fields.get("lang", "")
    back = fields.get("back", "/console")
    if not back.startswith("/console") or "//" in back or urlsplit(back).netloc:
        back = "/console"
    headers = {**PAGE_HEADERS, "Location": back}
    if lang in LANGUAGES:
        headers["Set-Cookie"] = f"{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
    return func.HttpResponse(status_code=303, headers=headers)
