"""Build of verivote's optional compiled backend (everything else is in pyproject.toml).

``verivote/_native/build_ristretto.py`` compiles the ristretto255 arithmetic through cffi.
When that fails (no C compiler, no Python headers), installation goes on without it and
verivote uses its pure-Python path (PyNaCl); see ``verivote/_native/__init__.py``.
"""

from __future__ import annotations

from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns instead of failing when the C extension cannot be built."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # compiler missing or failing: fall back, loudly
            self._skipped(exc)

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skipped(exc)

    def _skipped(self, exc: Exception) -> None:
        self.warn(
            f"verivote: the compiled ristretto255 backend was not built ({exc}); "
            "verivote will use its pure-Python backend"
        )


setup(
    cffi_modules=["verivote/_native/build_ristretto.py:ffibuilder"],
    cmdclass={"build_ext": OptionalBuildExt},
)
