"""The choice of ristretto255 backend: the environment variable, and CI's compiled build."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from verivote._native import ENV_VAR, default_backend, get_backend, native_available
from verivote.errors import ParameterError


def _backend_in_subprocess(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if value is not None:
        env[ENV_VAR] = value
    code = "from verivote.groups import get_group\nprint(get_group('ristretto255').backend.name)\n"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_ci_builds_the_compiled_backend():
    # CI installs on a machine with a C compiler: a silent fallback to Python must fail it.
    if os.environ.get("CI") == "true":
        assert native_available(), "the compiled ristretto255 backend was not built"
        assert os.environ.get(ENV_VAR, "auto") in ("auto", "native", "")
        assert default_backend().name == "native"


@pytest.mark.parametrize("value", ["python", "PYTHON", " python "])
def test_force_python(value):
    run = _backend_in_subprocess(value)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "python"


@pytest.mark.skipif(not native_available(), reason="the compiled backend is not built")
@pytest.mark.parametrize("value", [None, "", "auto", "native"])
def test_native_when_built(value):
    run = _backend_in_subprocess(value)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "native"


def test_unknown_backend_name_is_refused():
    with pytest.raises(ParameterError):
        get_backend("gpu")
    run = _backend_in_subprocess("gpu")
    assert run.returncode != 0
    assert "unknown ristretto255 backend" in run.stderr


def test_the_c_source_says_it_handles_no_secrets():
    from pathlib import Path

    import verivote._native as pkg

    source = (Path(pkg.__file__).parent / "ristretto.c").read_text(encoding="utf-8")
    assert "VERIFICATION ONLY" in source and "VARIABLE TIME" in source
