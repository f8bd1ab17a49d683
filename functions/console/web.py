"""What every console page shares: the message catalogues, the language, formatting of money and
times, the security headers, the sign-in redirect, the same-origin check of forms.

Cold start: imports only the standard library, azure.functions and functions.auth at indexing;
Jinja2 and the settings load with the first page.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import azure.functions as func

from functions import ensure_telemetry
from functions.auth import SIGNED_IN, current_actor, requires, signed_in
from shared.domain.roles import Role
from shared.errors import AppError, Forbidden, Unauthorized

log = logging.getLogger(__name__)

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
LANGUAGES = ("zh-CN", "en")
LANG_COOKIE = "cg_lang"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
Handler = Callable[[func.HttpRequest], func.HttpResponse]


class MissingMessage(KeyError):
    """A template asked for a key the catalogue does not have (a test renders every page)."""


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of one language (`console/messages/<lang>.json`)."""
    data = json.loads((CONSOLE_DIR / "messages" / f"{lang}.json").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def language(req: func.HttpRequest) -> str:
    """The cookie set by the header switch, else the browser's Accept-Language, else zh-CN."""
    chosen = cookies(req).get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in (req.headers.get("accept-language") or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "zh-CN"


def cookies(req: func.HttpRequest) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (req.headers.get("cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            out[name] = value
    return out


class Texts:
    """`t(key, **values)` and `tv(group, code)` for one language, plus formatting."""

    def __init__(self, lang: str, time_zone: str) -> None:
        self.lang = lang
        self.messages = catalogue(lang)
        self.time_zone = time_zone

    def t(self, key: str, **values: Any) -> str:
        try:
            text = self.messages[key]
        except KeyError:
            raise MissingMessage(key) from None
        return text.format(**values) if values else text

    def tv(self, group: str, code: object) -> str:
        """The translation of an enumerated value (a stage, a status), else the code itself."""
        value = getattr(code, "value", code)
        return self.messages.get(f"{group}.{value}", str(value))

    def act(self, code: object) -> str:
        """A planned action (`send_notice:warning`, `place_hold:suspension`, `review`), worded."""
        kind, _, stage = str(code or "").partition(",")[0].strip().partition(":")
        text = self.messages.get(f"actionkind.{kind}", kind)
        return f"{text} · {self.tv('stage', stage)}" if stage else text

    def money(self, text: object) -> str:
        """`"12800.00 CNY"` -> `12,800.00 CNY` (always with the currency)."""
        raw = str(text or "").strip()
        amount, _, currency = raw.partition(" ")
        try:
            number = Decimal(amount)
        except InvalidOperation:
            return raw
        return f"{number:,.2f} {currency}".strip()

    def percent(self, value: object) -> str:
        """`"91.5"` -> `91.5%` (one decimal); no share (no limit) -> `—`."""
        if value is None or value == "":
            return "—"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return f"{number:,.1f}%"

    def excluded(self, note: str) -> str:
        """An exposure's `excluded` note (written in English by the domain), in this language."""
        import re

        other = re.fullmatch(
            r"unbilled charges of (\S+) ([A-Z]{3}) are not added: this ledger is in ([A-Z]{3})", note
        )
        if other:
            amount, currency, ledger = other.groups()
            worded = self.money(f"{amount} {currency}")
            return self.t("exposure.excluded_currency", amount=worded, ledger=ledger)
        seats = re.fullmatch(r"(\d+) seats of (\S+) added on (\S+): no seat price", note)
        if seats:
            count, offer, on = seats.groups()
            return self.t("exposure.excluded_seats", count=count, offer=offer, on=on)
        return note

    def when(self, value: object) -> str:
        """A time in the policy's time zone, the zone shown."""
        from zoneinfo import ZoneInfo

        if value is None or value == "":
            return "—"
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        local = moment.astimezone(ZoneInfo(self.time_zone))
        return f"{local:%Y-%m-%d %H:%M} ({self.time_zone})"

    def day(self, value: object) -> str:
        if value is None or value == "":
            return "—"
        return value.isoformat() if isinstance(value, date) else str(value)


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(CONSOLE_DIR / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def static_version() -> str:
    """A hash of the static files: their URLs change when they do (so they may be cached long)."""
    return _static_version()


@functools.cache
def _static_version() -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((CONSOLE_DIR / "static").iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def render(req: func.HttpRequest, template: str, status: int = 200, **data: Any) -> func.HttpResponse:
    """A page: the template with the texts of the caller's language, the caller and the mode."""
    from shared import wiring

    deps = wiring.collections()
    policy = deps.policy()
    texts = Texts(language(req), policy.time_zone)
    try:
        caller = current_actor()
    except RuntimeError:
        caller = None
    roles = {r.value for r in caller.roles} if caller else set()
    html = (
        _environment()
        .get_template(template)
        .render(
            t=texts.t,
            tv=texts.tv,
            act=texts.act,
            money=texts.money,
            percent=texts.percent,
            excluded=texts.excluded,
            when=texts.when,
            day=texts.day,
            lang=texts.lang,
            caller=caller,
            roles=roles,
            can=lambda role: role in roles,
            dry_run=deps.dry_run,
            path=urlsplit(req.url).path,
            v=static_version(),
            **data,
        )
    )
    return func.HttpResponse(
        html, status_code=status, headers=dict(PAGE_HEADERS), mimetype="text/html", charset="utf-8"
    )


def redirect(location: str) -> func.HttpResponse:
    return func.HttpResponse(status_code=303, headers={"Location": location, **PAGE_HEADERS})


def page(role: Role | str) -> Callable[[Handler], Handler]:
    """A console route: the caller as the API sees it (`@requires`/`@signed_in`); a browser not
    signed in is sent to sign-in, a caller without the role gets a 403 page naming it."""

    def decorate(fn: Handler) -> Handler:
        inner = signed_in(fn) if role == SIGNED_IN else requires(Role(role))(fn)

        @functools.wraps(fn)
        def wrapper(req: func.HttpRequest) -> func.HttpResponse:
            ensure_telemetry()
            try:
                return inner(req)
            except Unauthorized:
                if req.method == "GET":
                    target = urlsplit(req.url)
                    back = target.path + (f"?{target.query}" if target.query else "")
                    return redirect(f"/.auth/login/aad?post_login_redirect_uri={quote(back, safe='')}")
                return _error(req, 401, "error.signed_out", {})
            except Forbidden as exc:
                return _error(req, 403, "error.forbidden", {"reason": _localized(req, exc)})
            except AppError as exc:
                return _error(
                    req,
                    404 if type(exc).__name__ == "NotFound" else 400,
                    "error.refused",
                    {"reason": _localized(req, exc)},
                )
            except Exception:
                log.exception("console page %s failed", fn.__name__)
                return _error(req, 500, "error.unexpected", {})

        wrapper.required_role = inner.required_role  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _localized(req: func.HttpRequest, exc: AppError) -> str:
    return (exc.localized or {}).get(language(req)) or exc.detail


def _error(req: func.HttpRequest, status: int, key: str, values: dict[str, str]) -> func.HttpResponse:
    try:
        return render(req, "error.html", status=status, message_key=key, values=values)
    except Exception:
        log.exception("console error page failed")
        return func.HttpResponse(
            "error", status_code=status, headers=dict(PAGE_HEADERS), mimetype="text/plain"
        )


def same_origin(req: func.HttpRequest) -> None:
    """A form POST must come from a page of this app (CSRF): its Origin (or Referer) is this host."""
    host = (
        req.headers.get("x-forwarded-host") or req.headers.get("host") or urlsplit(req.url).netloc
    ).lower()
    origin = req.headers.get("origin") or req.headers.get("referer") or ""
    if not origin or urlsplit(origin).netloc.lower() != host:
        raise Forbidden(
            "this form must be sent from the console's own pages (Origin check)",
            localized={
                "zh-CN": "此表单必须从控制台自身页面提交（来源检查）。",
                "en": "This form must be sent from the console's own pages (Origin check).",
            },
        )


def form(req: func.HttpRequest) -> dict[str, str]:
    """The urlencoded fields of a form POST (the last value of a repeated name)."""
    body = (req.get_body() or b"")[:1_048_576].decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def problem_of(exc: AppError, lang: str) -> dict[str, Any]:
    """A refusal as the form shows it: the reason, and per field what was wrong."""
    fields: dict[str, str] = {}
    for err in exc.errors or []:
        name = str(err.get("field", "")).split(".")[0].split("[")[0]
        fields.setdefault(name, str(err.get("message", "")))
    return {"reason": (exc.localized or {}).get(lang) or exc.detail, "fields": fields}
