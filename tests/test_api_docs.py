"""The API reference builds from the docstrings (README, "Python API"): pdoc runs without a
warning, and every public name has its entry, with its docstring, on the package's page."""

from __future__ import annotations

import re
import subprocess
import sys

import verivote

COMMAND = ["-m", "pdoc", "--no-show-source", "verivote", "verivote.board.api", "-o"]
"""README's command (``pdoc … -o build/api``), run here into a temporary directory."""


def test_api_reference_builds_with_every_public_name(tmp_path):
    out = tmp_path / "api"
    done = subprocess.run(
        [sys.executable, *COMMAND, str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "warn" not in done.stderr.lower(), done.stderr
    page = (out / "verivote.html").read_text(encoding="utf-8")
    assert (out / "verivote" / "board" / "api.html").is_file()
    sections = {
        m.group(1): m.start() for m in re.finditer(r'<section id="([A-Za-z_][\w.]*)">', page)
    }
    starts = [*sorted(sections.values()), len(page)]
    for name in sorted(set(verivote.__all__) - {"__version__"}):
        assert name in sections, f"{name} has no entry in the API reference"
        start = sections[name]
        end = next(s for s in starts if s > start)
        assert 'class="docstring"' in page[start:end], f"{name}: no docstring in the reference"


def test_readme_gives_the_command():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "pdoc --no-show-source verivote verivote.board.api -o build/api" in readme
