"""The deployment package (.funcignore) keeps every file the app reads at run time."""

from __future__ import annotations

import subprocess

import pytest

from tools.azurite import REPO_ROOT

RUNTIME_FILES = [
    "function_app.py",
    "host.json",
    "requirements.txt",
    "functions/health.py",
    "shared/settings.py",
    "policy/collections.toml",
    "policy/triage.toml",
    "docs/openapi.yaml",
    "console/templates/base.html",
    "console/messages/zh-CN.json",
    "console/static/console.js",
    "docs/openapi-examples.json",
    "functions/static/api-docs.js",
]
NOT_DEPLOYED = [
    "tests/unit/test_funcignore.py",
    "tools/devhost/host.py",
    "local.settings.json",
    "docs/runbook.md",
]


def excluded(path: str) -> bool:
    result = subprocess.run(
        ["git", "-c", "core.excludesFile=.funcignore", "check-ignore", "--no-index", "-q", path],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


@pytest.mark.parametrize("path", RUNTIME_FILES)
def test_runtime_files_are_deployed(path: str) -> None:
    assert (REPO_ROOT / path).exists(), path
    assert not excluded(path), f"{path} is read at run time but .funcignore leaves it out"


@pytest.mark.parametrize("path", NOT_DEPLOYED)
def test_development_files_are_left_out(path: str) -> None:
    assert excluded(path)
