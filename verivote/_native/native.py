"""The compiled ristretto255 backend: thin wrappers over ``ristretto.c`` (through cffi).

The C functions read exactly 32 bytes per element and scalar, so every length is checked
here before a call. Verification only: the C code runs in variable time (see
``ristretto.c``); never pass it a secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from verivote._native._ristretto import ffi, lib
from verivote.errors import InvalidElement, ParameterError

_new = ffi.new
_buffer = ffi.buffer
_INVALID = "ristretto255: not the canonical encoding of an element"


def _element(p: bytes) -> bytes:
    if not isinstance(p, bytes) or len(p) != 32:
        raise InvalidElement("ristretto255: an element is exactly 32 bytes")
    return p


def _scalar(k: int) -> bytes:
    if not 0 <= k < 1 << 255:
        raise ParameterError("ristretto255: scalar out of range")
    return k.to_bytes(32, "little")


def _count(points: bytes) -> int:
    if not isinstance(points, bytes) or len(points) % 32:
        raise ParameterError("ristretto255: packed points are a multiple of 32 bytes")
    return len(points) // 32


class NativeBackend:
    """See :class:`verivote._native.Backend`."""

    name = "native"

    def is_valid(self, p: bytes) -> bool:
        return isinstance(p, bytes) and len(p) == 32 and lib.vv_is_valid(p) == 1

    def add(self, a: bytes, b: bytes) -> bytes:
        out = _new("unsigned char[32]")
        if lib.vv_add(out, _element(a), _element(b)) != 0:
            raise InvalidElement(_INVALID)
        return bytes(_buffer(out))

    def sub(self, a: bytes, b: bytes) -> bytes:
        out = _new("unsigned char[32]")
        if lib.vv_sub(out, _element(a), _element(b)) != 0:
            raise InvalidElement(_INVALID)
        return bytes(_buffer(out))

    def neg(self, a: bytes) -> bytes:
        out = _new("unsigned char[32]")
        if lib.vv_neg(out, _element(a)) != 0:
            raise InvalidElement(_INVALID)
        return bytes(_buffer(out))

    def scalarmult(self, k: int, p: bytes) -> bytes:
        out = _new("unsigned char[32]")
        if lib.vv_scalarmult(out, _scalar(k), _element(p)) != 0:
            raise InvalidElement(_INVALID)
        return bytes(_buffer(out))

    def msm(self, scalars: Sequence[int], points: Sequence[bytes]) -> bytes:
        n = len(points)
        if len(scalars) != n:
            raise ParameterError("ristretto255: as many scalars as points are needed")
        for i, p in enumerate(points):
            if not isinstance(p, bytes) or len(p) != 32:
                raise InvalidElement(f"ristretto255: point {i} is not 32 bytes")
        packed_points = b"".join(points)
        packed_scalars = b"".join([_scalar(k) for k in scalars])
        out = _new("unsigned char[32]")
        rc = lib.vv_msm(out, packed_scalars, packed_points, n)
        if rc == -2:
            raise MemoryError("ristretto255: multi-scalar multiplication out of memory")
        if rc != 0:
            raise InvalidElement(f"{_INVALID} (point {rc - 1})")
        return bytes(_buffer(out))

    def msm_packed(self, scalars: bytes, points: bytes) -> bytes:
        n = _count(points)
        if not isinstance(scalars, bytes) or len(scalars) != 32 * n:
            raise ParameterError("ristretto255: as many scalars as points are needed")
        out = _new("unsigned char[32]")
        rc = lib.vv_msm(out, scalars, points, n)
        if rc == -2:
            raise MemoryError("ristretto255: multi-scalar multiplication out of memory")
        if rc != 0:
            raise InvalidElement(f"{_INVALID} (point {rc - 1})")
        return bytes(_buffer(out))

    def sum(self, points: Sequence[bytes]) -> bytes:
        for i, p in enumerate(points):
            if not isinstance(p, bytes) or len(p) != 32:
                raise InvalidElement(f"ristretto255: point {i} is not 32 bytes")
        out = _new("unsigned char[32]")
        rc = lib.vv_sum(out, b"".join(points), len(points))
        if rc != 0:
            raise InvalidElement(f"{_INVALID} (point {rc - 1})")
        return bytes(_buffer(out))

    def sum_runs(self, points: bytes, k: int) -> bytes:
        n = _count(points)
        if not isinstance(k, int) or k < 1 or n % k:
            raise ParameterError("ristretto255: the points do not split into runs of k")
        m = n // k
        out = _new("unsigned char[]", 32 * m or 1)
        rc = lib.vv_sum_runs(out, points, k, m)
        if rc != 0:
            raise InvalidElement(f"{_INVALID} (point {rc - 1})")
        return bytes(_buffer(out, 32 * m))

    def valid_flags(self, points: bytes) -> bytes:
        n = _count(points)
        flags = _new("unsigned char[]", n or 1)
        lib.vv_valid_flags(flags, points, n)
        return bytes(_buffer(flags, n))

    def from_uniform(self, h: bytes) -> bytes:
        if not isinstance(h, bytes) or len(h) != 64:
            raise ParameterError("ristretto255: element derivation takes 64 bytes")
        out = _new("unsigned char[32]")
        lib.vv_from_uniform(out, h)
        return bytes(_buffer(out))

    def to_edwards(self, p: bytes) -> bytes:
        out = _new("unsigned char[32]")
        if lib.vv_to_edwards(out, _element(p)) != 0:
            raise InvalidElement(_INVALID)
        return bytes(_buffer(out))

    def from_edwards(self, e: bytes) -> bytes:
        if not isinstance(e, bytes) or len(e) != 32:
            raise InvalidElement("edwards25519: a point is exactly 32 bytes")
        out = _new("unsigned char[32]")
        if lib.vv_from_edwards(out, e) != 0:
            raise InvalidElement("edwards25519: not the canonical encoding of a point")
        return bytes(_buffer(out))
