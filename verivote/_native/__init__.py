"""Backends of the ristretto255 group: compiled C through cffi, or pure Python on PyNaCl.

Both compute the same functions on 32-byte ristretto255 encodings (RFC 9496) and give
byte-identical results (tests/test_ristretto.py checks it); they differ only in speed.

* ``native`` (:mod:`verivote._native.native`): ``ristretto.c``, compiled at installation by
  ``setup.py`` through cffi. Field and group arithmetic of edwards25519, the ristretto255
  encoding and a Pippenger multi-scalar multiplication. **Verification only**: it runs in
  variable time and must never be given a secret.
* ``python`` (:mod:`verivote._native.python`): encoding and decoding with Python integers,
  scalar multiplication by libsodium's edwards25519 functions through PyNaCl. Used when
  the extension was not built (no C compiler at installation).

Which one :func:`default_backend` returns is decided once, at the first call, by the
environment variable ``VERIVOTE_RISTRETTO_BACKEND``: ``native`` (the compiled one, or an
error if it is missing), ``python`` (always the fallback), or unset / ``auto`` (the
compiled one when it is importable, else the fallback). Tests and benchmarks can also
build either directly with :func:`get_backend`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

from verivote.errors import ParameterError

ENV_VAR = "VERIVOTE_RISTRETTO_BACKEND"
BACKEND_NAMES = ("native", "python")

__all__ = [
    "BACKEND_NAMES",
    "ENV_VAR",
    "Backend",
    "default_backend",
    "get_backend",
    "native_available",
]


class Backend(Protocol):
    """Arithmetic on canonical ristretto255 encodings.

    Every method that takes an element raises
    :class:`~verivote.errors.InvalidElement` when it is not exactly 32 bytes forming the
    canonical encoding of an element; scalars are integers ``0 <= k < 2^255``.
    """

    name: str

    def is_valid(self, p: bytes) -> bool:
        """True when ``p`` is the canonical encoding of an element (the identity included)."""

    def add(self, a: bytes, b: bytes) -> bytes:
        """The encoding of ``a + b``."""

    def sub(self, a: bytes, b: bytes) -> bytes:
        """The encoding of ``a - b``."""

    def neg(self, a: bytes) -> bytes:
        """The encoding of ``-a``."""

    def scalarmult(self, k: int, p: bytes) -> bytes:
        """The encoding of ``k·p``."""

    def msm(self, scalars: Sequence[int], points: Sequence[bytes]) -> bytes:
        """The encoding of ``sum k_i·p_i`` (the identity for no terms). The error for an
        invalid point names its index."""

    def msm_packed(self, scalars: bytes, points: bytes) -> bytes:
        """:meth:`msm` on packed operands: ``n`` scalars as 32-byte little-endian integers
        (any value below 2^256, used modulo the group order) and ``n`` points as 32-byte
        encodings, concatenated. ParameterError unless both hold the same whole number of
        32-byte items; InvalidElement naming the index of the first invalid point."""

    def sum(self, points: Sequence[bytes]) -> bytes:
        """The encoding of ``points[0] + … + points[n-1]`` (the identity for none), each
        point decoded once. InvalidElement naming the index of the first invalid point."""

    def sum_runs(self, points: bytes, k: int) -> bytes:
        """Sums of consecutive runs: ``points`` packs ``m·k`` encodings (``k >= 1``); the
        result packs ``m`` encodings, the ``i``-th the sum of points ``k·i .. k·i+k-1``.
        ParameterError for a length that is not a multiple of ``32·k``; InvalidElement
        naming the index of the first invalid point."""

    def valid_flags(self, points: bytes) -> bytes:
        """One byte per packed 32-byte item of ``points``: 1 when it is the canonical
        encoding of an element, else 0. ParameterError for a length that is not a multiple
        of 32."""

    def from_uniform(self, h: bytes) -> bytes:
        """RFC 9496's element derivation from 64 uniformly random bytes (MAP on each half,
        then the sum)."""

    def to_edwards(self, p: bytes) -> bytes:
        """The RFC 8032 encoding of the one point of ``p``'s class that lies in
        edwards25519's prime-order subgroup (the class's other points differ from it by a
        point of order 2 or 4). For PUBLIC elements only."""

    def from_edwards(self, e: bytes) -> bytes:
        """The ristretto255 encoding of the edwards25519 point ``e`` (RFC 8032 encoding, a
        point of the prime-order subgroup); InvalidElement when ``e`` is not canonical or
        not on the curve. For PUBLISHED values only."""


_DEFAULT: Backend | None = None


def native_available() -> bool:
    """True when the compiled extension was built and imports."""
    try:
        from verivote._native import _ristretto  # noqa: F401
    except ImportError:
        return False
    return True


def get_backend(name: str) -> Backend:
    """A backend by name (``"native"`` or ``"python"``); ParameterError for an unknown name
    or when ``"native"`` is asked for and the extension is not built."""
    if name == "native":
        if not native_available():
            raise ParameterError(
                "the compiled ristretto255 backend is not built "
                "(reinstall verivote with a C compiler present)"
            )
        from verivote._native.native import NativeBackend

        return NativeBackend()
    if name == "python":
        from verivote._native.python import PythonBackend

        return PythonBackend()
    raise ParameterError(f"unknown ristretto255 backend {name!r}; choose native or python")


def default_backend() -> Backend:
    """The backend chosen by ``VERIVOTE_RISTRETTO_BACKEND`` (read once, at the first call)."""
    global _DEFAULT
    if _DEFAULT is None:
        choice = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
        if choice == "auto":
            choice = "native" if native_available() else "python"
        _DEFAULT = get_backend(choice)
    return _DEFAULT
