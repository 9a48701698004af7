"""The one Fiat–Shamir transcript used by every proof.

A transcript is a SHA-512 hash fed with framed, labelled fields, in this order:

1. the fixed prefix ``verivote/v1`` and the proof's protocol label (``schnorr``,
   ``chaum-pedersen``, ``range``…), so no two proof types share challenges;
2. the SHA-512 of the group's full description (name and every parameter);
3. the caller's context (for election proofs: the election context hash, and what the proof
   is bound to, e.g. the voter's credential and the contest);
4. every public input of the statement, then every commitment, each with its label.

The challenge is the digest reduced modulo the group order. Because the whole statement and
the group are hashed, a proof for one statement, key, election or group is never a proof for
another (strong Fiat–Shamir; the weak form, hashing commitments alone, is what broke Helios).
"""

from __future__ import annotations

import builtins
import hashlib
import struct
from collections.abc import Sequence

from verivote.groups.base import Element, Group, Scalar
from verivote.groups.unchecked import UncheckedElement

PREFIX = b"verivote/v1"
_LEN = struct.Struct(">I")
_COUNT = _LEN.pack(4)
_EIGHT = _LEN.pack(8)
_GROUP_DIGESTS: dict[str, bytes] = {}
_STARTS: dict[tuple[bytes, str], hashlib._Hash] = {}


def group_digest(group: Group) -> bytes:
    """SHA-512 of the group's description (cached per group)."""
    digest = _GROUP_DIGESTS.get(group.name)
    if digest is None:
        digest = hashlib.sha512(group.description()).digest()
        _GROUP_DIGESTS[group.name] = digest
    return digest


class Transcript:
    """An append-only, domain-separated hash of a proof's statement and commitments."""

    __slots__ = ("_group", "_hash")

    def __init__(self, protocol: bytes, group: Group, context: bytes) -> None:
        self._group = group
        # The first three fields are the same for every proof of a protocol in a group: the
        # hash state after them is computed once and copied (the same digest as feeding
        # them each time).
        start = _STARTS.get((protocol, group.name))
        if start is None:
            start = hashlib.sha512()
            for field in (PREFIX, protocol, group_digest(group)):
                start.update(_LEN.pack(len(field)) + field)
            _STARTS[(protocol, group.name)] = start
        self._hash = start.copy()
        self._hash.update(_LEN.pack(len(context)) + context)

    def bytes(self, label: bytes, data: bytes) -> Transcript:
        """Append a labelled byte string."""
        self._hash.update(_LEN.pack(len(label)) + label + _LEN.pack(len(data)) + data)
        return self

    def integer(self, label: builtins.bytes, value: int) -> Transcript:
        """Append a labelled non-negative integer (8 bytes, big-endian)."""
        self._hash.update(_LEN.pack(len(label)) + label + _EIGHT + value.to_bytes(8, "big"))
        return self

    def element(self, label: builtins.bytes, element: Element | UncheckedElement) -> Transcript:
        """Append a labelled group element (its canonical encoding)."""
        data = element.to_bytes()
        self._hash.update(_LEN.pack(len(label)) + label + _LEN.pack(len(data)) + data)
        return self

    def elements(
        self,
        label: builtins.bytes,
        elements: Sequence[Element | UncheckedElement],
    ) -> Transcript:
        """Append a labelled sequence of elements, count first."""
        pack = _LEN.pack
        parts = [pack(len(label)), label, _COUNT, len(elements).to_bytes(4, "big")]
        for element in elements:
            data = element.to_bytes()
            parts.append(pack(len(data)))
            parts.append(data)
        self._hash.update(b"".join(parts))  # the same bytes as one _put per field
        return self

    def scalar(self, label: builtins.bytes, scalar: Scalar) -> Transcript:
        """Append a labelled scalar."""
        return self.bytes(label, scalar.to_bytes())

    def challenge(self) -> Scalar:
        """The challenge: the digest so far, reduced modulo the group order."""
        digest = self._hash.copy().digest()
        return Scalar(self._group, int.from_bytes(digest, "big") % self._group.order)
