"""The local mail viewer (tools/mailviewer.py) shows what the real SMTP server kept."""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

from tools.mailsink import MailSink
from tools.mailviewer import MailViewer


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


def test_the_viewer_lists_kept_mail_newest_first_and_shows_its_text(tmp_path: Path) -> None:
    sink = MailSink(0, tmp_path).start()
    viewer = MailViewer(tmp_path).start()
    try:
        status, body = _get(viewer.base_url + "/")
        assert status == 200 and "No mail yet" in body and "还没有邮件" in body
        for subject in ("催款提醒 first reminder", "暂停通知 <second> & last"):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "cg@example.cn", "ap@customer.cn", subject
            message.set_content(f"正文 body of {subject}")
            with smtplib.SMTP("127.0.0.1", sink.port) as client:
                client.send_message(message)
        status, body = _get(viewer.base_url + "/")
        assert status == 200
        assert body.index("暂停通知 &lt;second&gt; &amp; last") < body.index("催款提醒 first reminder")
        name = sorted(p.name for p in tmp_path.glob("*.eml"))[0]
        status, page = _get(f"{viewer.base_url}/{name}")
        assert status == 200 and "正文 body of 催款提醒 first reminder" in page
        assert _get(f"{viewer.base_url}/../index.txt")[0] == 404
        assert _get(f"{viewer.base_url}/nothing.eml")[0] == 404
    finally:
        viewer.stop()
        sink.stop()
