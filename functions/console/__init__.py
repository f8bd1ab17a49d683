"""The operator console under `/console`: server-rendered pages (Jinja2 templates in
`console/templates`, messages in `console/messages`, assets in `console/static`) for the same
signed-in people as the API. Thin like every other Blueprint: each page calls the existing use
cases (imported inside the handler) and renders; forms POST back here (same-origin checked).

Modules: `web` (rendering, language, security headers, sign-in redirect, same-origin check),
`pages` (the GET pages), `actions` (the form POSTs), `assets` (static files, language switch).
"""

from __future__ import annotations

import azure.functions as func

bp = func.Blueprint()

from functions.console import actions, assets, pages  # noqa: E402,F401  (registers the routes)
