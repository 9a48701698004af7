"""Where the real STV profiles are: ``<repo>/../shared/data/stv`` (CI puts ``shared/`` beside
the clone), or the directory named by ``VERIVOTE_STV_DATA``. They are never copied into the
repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def stv_data() -> Path:
    """The directory of the Glasgow 2007 BLT files and ``expected.json``; skips the
    calling test, saying where it looked, when the directory is absent."""
    override = os.environ.get("VERIVOTE_STV_DATA")
    path = Path(override) if override else REPO.parent / "shared" / "data" / "stv"
    if not (path / "expected.json").is_file():
        pytest.skip(
            f"real STV data not found at {path} (set VERIVOTE_STV_DATA to the directory "
            "holding the Glasgow 2007 BLT files and expected.json)"
        )
    return path
