"""Small strict helpers for decoding proofs from their JSON form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from verivote.encoding import from_hex
from verivote.errors import DecodeError
from verivote.groups.base import Group, Scalar


def expect_keys(obj: Any, keys: Iterable[str], what: str) -> None:
    """Require ``obj`` to be a dict with exactly ``keys``."""
    if not isinstance(obj, dict):
        raise DecodeError(f"{what}: expected an object, got {type(obj).__name__}")
    wanted = set(keys)
    if set(obj) != wanted:
        missing = sorted(wanted - set(obj))
        extra = sorted(set(obj) - wanted)
        raise DecodeError(f"{what}: missing {missing} / unexpected {extra}")


def scalar_list(group: Group, obj: Any, what: str, length: int | None = None) -> list[Scalar]:
    """Decode a JSON list of hex scalars, optionally of a fixed length."""
    if not isinstance(obj, list):
        raise DecodeError(f"{what}: expected a list")
    if length is not None and len(obj) != length:
        raise DecodeError(f"{what}: expected {length} scalars, got {len(obj)}")
    size = group.scalar_size
    width = 2 * size
    order = group.order
    out: list[Scalar] = []
    for x in obj:
        # The common case inline: lowercase hex of exactly ``size`` bytes, reduced modulo
        # the order (what from_hex and decode_scalar accept); anything else goes through
        # them, for their exact errors.
        if type(x) is str and len(x) == width:
            try:
                data = bytes.fromhex(x)
            except ValueError:
                data = b""
            if len(data) == size and data.hex() == x:
                value = int.from_bytes(data, "big")
                if value < order:
                    out.append(Scalar(group, value))
                    continue
        out.append(group.decode_scalar(from_hex(x, size, what)))
    return out
