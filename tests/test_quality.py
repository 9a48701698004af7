"""The linters are part of the suite: ruff and strict mypy (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("mypy",)],
    ids=["ruff", "mypy"],
)
def test_tool_is_clean(command):
    result = _run(*command)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output}"
