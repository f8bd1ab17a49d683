"""The console's message catalogues: zh-CN and en have the same keys and placeholders, no zh-CN
text is the English one, every key a template names exists, every enumerated value a page shows
has its words, and the templates hold no text outside the catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.console.web import CONSOLE_DIR, MissingMessage, Texts, catalogue

TEMPLATES = sorted((CONSOLE_DIR / "templates").glob("*.html"))
# Texts that are the same in both languages on purpose: none today (codes and numbers only).
SAME_ALLOWED = re.compile(r"^[\d\s\W_]*$")


def test_same_keys_and_placeholders() -> None:
    en, zh = catalogue("en"), catalogue("zh-CN")
    assert set(en) == set(zh)
    assert len(en) > 200
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", zh[key])), key


def test_no_zh_text_is_the_english_one() -> None:
    en, zh = catalogue("en"), catalogue("zh-CN")
    same = [k for k in en if en[k] == zh[k] and not SAME_ALLOWED.match(en[k])]
    assert same == []
    untranslated = [
        k
        for k, v in zh.items()
        if re.search(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", "", v)) and not re.search(r"[\u4e00-\u9fff]", v)
    ]
    assert untranslated == []


def _template_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES:
        keys |= set(re.findall(r"\bt\('([a-z_]+\.[A-Za-z_.-]+)'\s*[,)]", path.read_text(encoding="utf-8")))
    return keys


def test_every_key_a_template_names_exists() -> None:
    keys = _template_keys()
    assert len(keys) > 100
    for lang in ("en", "zh-CN"):
        assert sorted(keys - set(catalogue(lang))) == [], lang


@pytest.mark.parametrize(
    ("group", "enum_path"),
    [
        ("stage", "shared.domain.policy:Stage"),
        ("hold", "shared.domain.holds:HoldReason"),
        ("holdfilter", "shared.services.collections.lists:HoldFilter"),
        ("invoice", "shared.domain.ledger:InvoiceStatus"),
        ("exemption", "shared.domain.customer:ExemptionKind"),
        ("batch", "shared.services.collections.approvals:BatchStatus"),
        ("change", "shared.domain.changes:ChangeKind"),
        ("case", "shared.domain.fraud:CaseStatus"),
        ("severity", "shared.domain.fraud:Severity"),
        ("category", "shared.domain.fraud:Category"),
        ("enf", "shared.domain.enforcement:EnforcementState"),
        ("holdenf", "shared.domain.enforcement:HoldEnforcement"),
        ("ticket", "shared.domain.service_request:TicketState"),
        ("mode", "shared.settings:EnforcementMode"),
        ("actionkind", "shared.domain.collections_models:ActionKind"),
    ],
)
def test_every_enumerated_value_has_its_words(group: str, enum_path: str) -> None:
    import importlib

    module, name = enum_path.split(":")
    enum = getattr(importlib.import_module(module), name)
    for lang in ("en", "zh-CN"):
        missing = [m.value for m in enum if f"{group}.{m.value}" not in catalogue(lang)]
        assert missing == [], (lang, group)


def test_templates_hold_no_text_outside_the_catalogues() -> None:
    """Between tags, a template has only expressions, punctuation and the two language names."""
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", text, flags=re.S)
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S)
        between = re.sub(r"<[^>]+>", "\n", text)
        words = [
            w
            for w in re.findall(r"[A-Za-z\u4e00-\u9fff]{2,}", between)
            if w not in ("English",) and w != "中文"
        ]
        assert words == [], (path.name, words)


def test_a_missing_key_fails_loudly_and_codes_fall_back() -> None:
    texts = Texts("en", "Asia/Shanghai")
    with pytest.raises(MissingMessage):
        texts.t("no.such.key")
    assert (
        texts.tv("stage", "warning") == "warning"
        and Texts("zh-CN", "Asia/Shanghai").tv("stage", "warning") == "警告"
    )
    assert texts.money("12800.5 CNY") == "12,800.50 CNY"
    assert texts.when("2026-03-23T02:00:00+00:00") == "2026-03-23 10:00 (Asia/Shanghai)"
    assert texts.act("place_hold:suspension") == "Suspend · suspended"


def test_static_files_are_all_in_the_repository() -> None:
    """No CDN, font host or analytics: every URL a template or stylesheet names is our own."""
    for path in [*TEMPLATES, *(CONSOLE_DIR / "static").iterdir()]:
        text = Path(path).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert "url(http" not in text and "@import" not in text, path.name


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_dry_run_banner_is_on_every_page_while_in_dry_run(lang: str) -> None:
    from functions.console.web import _environment

    texts = Texts(lang, "Asia/Shanghai")
    context = {
        "t": texts.t,
        "tv": texts.tv,
        "act": texts.act,
        "money": texts.money,
        "when": texts.when,
        "day": texts.day,
        "lang": lang,
        "caller": None,
        "roles": set(),
        "can": lambda role: False,
        "path": "/console",
        "v": "0",
        "message_key": "error.unexpected",
        "values": {},
    }
    template = _environment().get_template("error.html")  # every page extends base.html
    banner = catalogue(lang)["banner.dry_run"]
    assert banner in template.render(dry_run=True, **context)
    assert banner not in template.render(dry_run=False, **context)
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        assert (
            path.name.startswith("_")
            or path.name == "base.html"
            or text.startswith('{% extends "base.html" %}')
        )
