"""A page that shows the mail the local SMTP server kept (`make run`: http://127.0.0.1:7082).

It reads the mail folder of `tools/mailsink.py` (`index.txt` and the `.eml` files), newest
first, and shows each message's headers and text parts. Read-only, on loopback, for local runs
only; its own words come in zh-CN and en.

    python -m tools.mailviewer --port 7082 --dir .mail
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import re
import threading
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from tools.devhost.http import HttpServerThread

_NAME = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9]{4}\.eml$")
_STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2rem;color:#1b1b1b}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
    "pre{white-space:pre-wrap;background:#f4f4f4;padding:1rem}"
)


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    response = Response(text, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "no-store"
    return response


class MailViewer:
    """The viewer of one mail folder on a loopback port (0 = a free port), in a thread."""

    def __init__(self, folder: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.folder = folder
        self._http = HttpServerThread(
            host, port, self.dispatch, name="mailviewer", server_version="mailviewer/1.0"
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.port}"

    def start(self) -> MailViewer:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def dispatch(self, request: Request) -> Response:
        if request.path in ("/", ""):
            return self._index()
        name = request.path.lstrip("/")
        if _NAME.match(name) and (self.folder / name).is_file():
            return self._message(name)
        return _page("404", "<p>没有这封邮件 / No such message. <a href='/'>返回 / Back</a></p>", 404)

    def _index(self) -> Response:
        index = self.folder / "index.txt"
        lines = index.read_text(encoding="utf-8").splitlines() if index.is_file() else []
        rows = []
        for line in reversed(lines):
            parts = line.split("\t")
            if len(parts) != 4:
                continue
            name, sender, recipients, subject = (html.escape(p) for p in parts)
            rows.append(
                f"<tr><td>{name[:15]}</td><td>{sender}</td><td>{recipients}</td>"
                f'<td><a href="/{quote(parts[0])}">{subject}</a></td></tr>'
            )
        table = (
            "<table><tr><th>时间 / Time</th><th>发件人 / From</th><th>收件人 / To</th>"
            "<th>主题 / Subject</th></tr>" + "".join(rows) + "</table>"
            if rows
            else "<p>还没有邮件 / No mail yet.</p>"
        )
        return _page(
            "邮件 / Mail", f"<h1>本地邮件 / Local mail</h1><p>{html.escape(str(self.folder))}</p>{table}"
        )

    def _message(self, name: str) -> Response:
        raw = (self.folder / name).read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        headers = "".join(
            f"<tr><th>{html.escape(h)}</th><td>{html.escape(str(message[h] or ''))}</td></tr>"
            for h in ("Subject", "From", "To", "Date", "Message-ID")
        )
        parts = [
            f"<pre>{html.escape(part.get_content())}</pre>"
            for part in message.walk()
            if part.get_content_type() == "text/plain"
        ]
        body = "".join(parts) or "<p>没有纯文本部分 / No text part.</p>"
        return _page(
            str(message["Subject"] or name),
            f"<p><a href='/'>返回 / Back</a></p><table>{headers}</table>{body}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7082)
    parser.add_argument("--dir", type=Path, default=Path(".mail"))
    args = parser.parse_args()
    viewer = MailViewer(args.dir, args.port).start()
    print(f"mail viewer on {viewer.base_url} for {args.dir.resolve()}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        viewer.stop()


if __name__ == "__main__":
    main()
