"""libsodium's ristretto255 functions, as the differential oracle of tests/test_ristretto.py.

PyNaCl does not bind libsodium's ``crypto_core_ristretto255_*`` functions, so the oracle is
the libsodium that the ``rbcl`` wheel bundles (a test dependency), called through ctypes
with libsodium's own return codes.

One known difference: libsodium 1.0.18 (the version rbcl and Debian 12 ship) ignores bit
255 when it checks that an encoding is canonical; RFC 9496 §4.3.1 rejects such encodings
(every s with bit 255 set is >= p), and so do libsodium 1.0.19 and later and verivote.
:func:`is_valid` applies the RFC's rule on top of the oracle's answer.
"""

from __future__ import annotations

import ctypes

from rbcl._sodium import _sodium as _lib

_lib.sodium_version_string.restype = ctypes.c_char_p
VERSION = _lib.sodium_version_string().decode()
IDENTITY = bytes(32)


def _out() -> ctypes.Array[ctypes.c_char]:
    return ctypes.create_string_buffer(32)


def is_valid_libsodium(p: bytes) -> bool:
    """libsodium's own verdict (bit 255 ignored before 1.0.19)."""
    return _lib.crypto_core_ristretto255_is_valid_point(p) == 1


def is_valid(p: bytes) -> bool:
    """libsodium's verdict with RFC 9496's bit-255 rule."""
    return len(p) == 32 and p[31] < 0x80 and is_valid_libsodium(p)


def add(a: bytes, b: bytes) -> bytes | None:
    out = _out()
    return out.raw if _lib.crypto_core_ristretto255_add(out, a, b) == 0 else None


def sub(a: bytes, b: bytes) -> bytes | None:
    out = _out()
    return out.raw if _lib.crypto_core_ristretto255_sub(out, a, b) == 0 else None


def scalarmult(k: int, p: bytes) -> bytes | None:
    """k·p for 0 <= k < 2^255 (libsodium clears bit 255 of the scalar); libsodium refuses
    an identity result (-1), which is returned here as the identity when p is valid."""
    assert 0 <= k < 1 << 255
    out = _out()
    if _lib.crypto_scalarmult_ristretto255(out, k.to_bytes(32, "little"), p) == 0:
        return out.raw
    return IDENTITY if is_valid_libsodium(p) else None


def from_hash(h: bytes) -> bytes:
    out = _out()
    assert _lib.crypto_core_ristretto255_from_hash(out, h) == 0
    return out.raw
