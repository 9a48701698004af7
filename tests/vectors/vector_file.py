"""Writing a known-answer file, or checking that it is up to date (``--check``): shared by
the vector generators run as scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def render(content: Any) -> str:
    """The file's text: sorted keys, one-space indent, ASCII only, a final newline."""
    return json.dumps(content, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def write_or_check(path: Path, content: Any, argv: list[str]) -> int:
    """With ``--check`` in ``argv``: 0 if ``path`` holds exactly ``content``'s text, else 1
    (printing which file is stale). Otherwise write it and return 0."""
    text = render(content)
    if "--check" in argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"stale: {path.name}")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0
