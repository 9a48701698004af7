"""The canonical encodings.

Two encodings, each with exactly one byte string per object:

* **Length-prefixed bytes** for everything that is hashed or signed: each field is its
  4-byte big-endian length followed by its bytes (:func:`frame`). No separator can be
  confused with content, and ``None`` / ``[]`` / ``b""`` never collide because callers frame
  a tag with every field.
* **Canonical JSON** for the published record: UTF-8, object keys sorted, no insignificant
  white space, no floats, no duplicate keys, byte strings as lowercase hex
  (:func:`dumps`, :func:`loads`). :func:`loads` rejects any input that :func:`dumps` would
  not have produced, so a record line has one spelling only.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

from verivote.errors import DecodeError

_LEN = struct.Struct(">I")


def frame(*parts: bytes) -> bytes:
    """Concatenate ``parts``, each preceded by its length as 4 big-endian bytes."""
    pack = _LEN.pack
    return b"".join([pack(len(p)) + p for p in parts])


def frame_all(parts: Iterable[bytes]) -> bytes:
    """Like :func:`frame` for an iterable; the count is framed first."""
    items = list(parts)
    return _LEN.pack(len(items)) + frame(*items)


def encode_uint(value: int, length: int) -> bytes:
    """Big-endian unsigned integer in exactly ``length`` bytes."""
    if value < 0:
        raise DecodeError(f"negative integer {value} has no unsigned encoding")
    try:
        return value.to_bytes(length, "big")
    except OverflowError:
        raise DecodeError(f"integer does not fit in {length} bytes") from None


def from_hex(text: object, length: int | None = None, what: str = "value") -> bytes:
    """Decode lowercase hex; with ``length``, require exactly that many bytes.

    Rejects upper case, odd length, white space and anything that is not a string.
    """
    if not isinstance(text, str):
        raise DecodeError(f"{what}: expected a hex string, got {type(text).__name__}")
    if length is not None and len(text) != 2 * length:
        raise DecodeError(f"{what}: expected {length} bytes of hex, got {len(text)} characters")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise DecodeError(f"{what}: not hex") from None
    if len(data) * 2 != len(text) or data.hex() != text:
        raise DecodeError(f"{what}: hex must be lowercase without spaces")
    return data


def _reject_float(text: str) -> Any:
    raise DecodeError(f"floats are not allowed in the record: {text[:20]}")


def _reject_constant(text: str) -> Any:
    raise DecodeError(f"{text} is not allowed in the record")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DecodeError(f"duplicate key {key!r}")
        out[key] = value
    return out


class _Unsure(Exception):
    """Raised inside the fast canonical parse when the text may not be canonical: the
    exact path (:func:`_loads_exact`) then decides, with its own error."""


def _sorted_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The fast parse's object hook: an object's keys, in the order written, must be
    distinct and in increasing code-point order (the order ``dumps`` sorts them into);
    anything else goes to the exact path."""
    out = dict(pairs)
    if len(pairs) > 1:
        keys = list(out)
        if len(keys) != len(pairs) or keys != sorted(keys):
            raise _Unsure
    return out


def _canonical_int(text: str) -> int:
    """The fast parse's integers: ``-0`` is the one spelling JSON's grammar allows that
    differs from the integer's own (``0``)."""
    if text == "-0":
        raise _Unsure
    return int(text)


def _unsure(text: str) -> Any:
    raise _Unsure


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)
_DECODER = json.JSONDecoder(
    parse_float=_reject_float, parse_constant=_reject_constant, object_pairs_hook=_pairs
)
_FAST_DECODER = json.JSONDecoder(
    parse_float=_unsure,
    parse_constant=_unsure,
    parse_int=_canonical_int,
    object_pairs_hook=_sorted_pairs,
)
_NOT_IN_FAST_PATH = (b" ", b"\\", b"\n", b"\r", b"\t")
_UNSURE: Any = object()


def dumps(obj: Any) -> bytes:
    """The canonical JSON bytes of ``obj`` (dicts with str keys, lists, str, int, bool, None)."""
    _check_types(obj)
    try:
        return _ENCODER.encode(obj).encode("utf-8")
    except UnicodeEncodeError:
        raise DecodeError("a string with a lone surrogate has no UTF-8 encoding") from None


def _check_types(obj: Any) -> None:
    # Exact str leaves (most of a record: hex) are skipped without a call; anything else,
    # str subclasses included, takes the isinstance tests below.
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise DecodeError(f"object key {key!r} is not a string")
            if type(value) is not str:
                _check_types(value)
    elif isinstance(obj, list):
        for value in obj:
            if type(value) is not str:
                _check_types(value)
    elif isinstance(obj, float):
        raise DecodeError("floats are not allowed in the record")
    elif obj is not None and not isinstance(obj, str | int | bool):
        raise DecodeError(f"{type(obj).__name__} cannot be encoded in the record")


def loads(data: bytes | str, *, canonical: bool = True) -> Any:
    """Parse JSON strictly; with ``canonical`` (the default) also require that ``data`` is
    exactly what :func:`dumps` produces for the parsed value.

    Raises :class:`DecodeError` for malformed text, duplicate keys, floats, NaN, integers too
    large to parse, and non-canonical spellings.

    Canonical bytes are checked without encoding the value again when that is provably the
    same test (:func:`_canonical_fast`); every other input, and every input that fails,
    goes through the exact re-encoding comparison, so the result and each error message
    are those of re-encoding in all cases.
    """
    if canonical and isinstance(data, bytes | bytearray):
        obj = _canonical_fast(data)
        if obj is not _UNSURE:
            return obj
    return _loads_exact(data, canonical)


def _canonical_fast(data: bytes | bytearray) -> Any:
    """The value of ``data`` if it is certainly canonical JSON, else :data:`_UNSURE`.

    Why this accepts only canonical text (and so may skip re-encoding it):

    * no space, tab, newline, carriage return or backslash occurs anywhere: so there is no
      white space between tokens, and every string holds raw characters only (no escape),
      which ``dumps`` writes raw too (the decoder refuses raw control characters, and valid
      UTF-8 holds no lone surrogate);
    * the object hook requires each object's keys distinct and in increasing code-point
      order, the order ``dumps`` sorts them into;
    * numbers must be integers (a float or NaN sends the text to the exact path), which
      JSON's grammar spells without ``+`` or leading zeros, and the integer hook refuses
      ``-0``, the one integer whose spelling differs from Python's;
    * ``true``, ``false`` and ``null`` have one spelling each;
    * valid UTF-8 is the encoding of its own decoding, byte for byte."""
    for byte in _NOT_IN_FAST_PATH:
        if byte in data:
            return _UNSURE
    try:
        return _FAST_DECODER.decode(data.decode("utf-8"))
    except (_Unsure, ValueError, RecursionError):
        return _UNSURE


def _loads_exact(data: bytes | str, canonical: bool) -> Any:
    """:func:`loads` by decoding and, with ``canonical``, re-encoding and comparing."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        obj = _DECODER.decode(text)
    except DecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"not valid JSON: {exc}") from None
    if canonical:
        # A lone surrogate (escaped as \ud800 to \udfff, or in a str) has no UTF-8 encoding: it is
        # a decode error, not a UnicodeEncodeError escaping to the caller.
        try:
            raw = bytes(data) if isinstance(data, bytes | bytearray) else data.encode("utf-8")
            again = _ENCODER.encode(obj).encode("utf-8")
        except UnicodeEncodeError:
            raise DecodeError("a string with a lone surrogate has no UTF-8 encoding") from None
        if again != raw:
            raise DecodeError("JSON is not in canonical form (sorted keys, no spaces)")
    return obj
