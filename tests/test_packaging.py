"""The distribution: the wheel carries the licence and the type marker, its metadata states
the licence by its SPDX name, and the package ships nothing but verivote."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_licence_file_is_apache_2():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    project = CONFIG["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]


def test_build_system_accepts_the_spdx_licence_string():
    requires = [r.replace(" ", "") for r in CONFIG["build-system"]["requires"]]
    assert "setuptools>=77" in requires


def test_docs_and_test_extras_have_pdoc():
    extras = CONFIG["project"]["optional-dependencies"]
    assert any(r.startswith("pdoc") for r in extras["docs"])
    assert any(r.startswith("pdoc") for r in extras["test"])


def _setuptools_version() -> tuple[int, ...]:
    try:
        from importlib.metadata import version

        return tuple(int(p) for p in version("setuptools").split(".")[:2])
    except Exception:
        return (0,)


@pytest.mark.skipif(
    _setuptools_version() < (77,),
    reason="setuptools>=77 is not installed here (the test extra installs it)",
)
def test_wheel_carries_licence_and_py_typed(tmp_path):
    # build from a copy, so the source tree gains no build/ or egg-info
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "verivote", src / "verivote", ignore=shutil.ignore_patterns("__pycache__")
    )
    # the PEP 517 hook pip would call, without pip's start-up and without network
    code = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "dist")],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "dist").glob("verivote-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = archive.read(metadata).decode()
        licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
        assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()
    assert "verivote/py.typed" in names
    assert "verivote/board/api.py" in names and "verivote/groups/ed25519.py" in names
    assert not [n for n in names if not n.startswith(("verivote/", "verivote-"))]
    assert "License-Expression: Apache-2.0" in meta
    assert "License-File: LICENSE" in meta
    assert "Classifier: Typing :: Typed" in meta
