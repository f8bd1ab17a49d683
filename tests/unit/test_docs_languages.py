"""The documents the partner's people work from exist in English and in Chinese (zh-CN), with
the same headings.

`docs/NAME.md` has its twin `docs/zh-CN/NAME.md`, except the developer documents listed in
`ENGLISH_ONLY` (with the reason); `README.md`'s first part (up to "## Configuration") has
`README.zh-CN.md`. Twins have the same heading structure (the same levels in the same order,
outside code blocks), link to each other near the top, and the Chinese one is written in Chinese
(not a copy of the English).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.azurite import REPO_ROOT

DOCS = REPO_ROOT / "docs"
ZH_DOCS = DOCS / "zh-CN"
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_ONLY: dict[str, str] = {}  # document name -> why it has no Chinese twin
README_FIRST_PART_ENDS = "## Configuration"
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)


def _pairs() -> list[tuple[Path, Path]]:
    pairs = [(REPO_ROOT / "README.md", REPO_ROOT / "README.zh-CN.md")]
    pairs += [
        (path, ZH_DOCS / path.name) for path in sorted(DOCS.glob("*.md")) if path.name not in ENGLISH_ONLY
    ]
    return pairs


def headings(text: str) -> list[str]:
    """The heading levels (`#`, `##`, ...) in order, code blocks left out."""
    return re.findall(r"^(#{1,6}) \S", FENCE.sub("", text), flags=re.MULTILINE)


def test_every_english_document_has_a_chinese_twin_and_no_chinese_one_stands_alone() -> None:
    english = {path.name for path in DOCS.glob("*.md")} - set(ENGLISH_ONLY)
    chinese = {path.name for path in ZH_DOCS.glob("*.md")}
    assert sorted(english - chinese) == [], "write docs/zh-CN/ for these"
    assert sorted(chinese - english) == [], "these Chinese documents have no English twin"
    assert (REPO_ROOT / "README.zh-CN.md").is_file()


@pytest.mark.parametrize(("english", "chinese"), _pairs(), ids=lambda p: p.name)
def test_twins_have_the_same_headings_link_each_other_and_the_chinese_is_chinese(
    english: Path, chinese: Path
) -> None:
    en_text = english.read_text(encoding="utf-8")
    zh_text = chinese.read_text(encoding="utf-8")
    if english.name == "README.md":
        en_text = en_text[: en_text.index(README_FIRST_PART_ENDS)]
    assert headings(en_text) == headings(zh_text), f"{chinese.name}: headings differ from {english.name}"
    readme = english.name == "README.md"
    to_chinese = "README.zh-CN.md" if readme else f"zh-CN/{chinese.name}"
    to_english = "README.md" if readme else f"../{english.name}"
    assert f"({to_chinese})" in en_text[:600], f"{english.name} should link its twin near the top"
    assert f"({to_english})" in zh_text[:600], f"{chinese.name} should link its twin near the top"
    prose = [
        line
        for line in FENCE.sub("", zh_text).splitlines()
        if line.strip() and not line.lstrip().startswith(("|", "`", "<!--", "-->"))
    ]
    chinese_lines = sum(1 for line in prose if CJK.search(line))
    assert chinese_lines >= 0.5 * len(prose), f"{chinese.name}: most prose lines should be Chinese"


def test_english_only_documents_exist_and_have_no_half_twin() -> None:
    for name in ENGLISH_ONLY:
        assert (DOCS / name).is_file(), f"{name} is listed as English-only but does not exist"
        assert not (ZH_DOCS / name).exists(), f"{name} has a Chinese twin: remove it from ENGLISH_ONLY"
