"""Signed tree heads: the board operator's signed statement "my log of election E had
``size`` entries with Merkle root ``root`` at ``time``".

The operator signs with the Ed25519 key published in the manifest (``board_key``) over

    frame("verivote/tree-head/v1", fingerprint, election_id, size (8 bytes), root, time)

Two heads of the same election and size with different roots, both validly signed, prove
the operator showed different boards to different people (a split view). A later head must
be consistent with every earlier one (RFC 9162 consistency proof).

JSON form: ``{"election": id, "root": hex, "sig": hex, "size": n, "time": str}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verivote.board.merkle import HASH_SIZE
from verivote.election.manifest import check_id, check_time
from verivote.encoding import frame, from_hex
from verivote.errors import DecodeError
from verivote.signatures import SIGNATURE_SIZE, Signer, verify_signature

LABEL = b"verivote/tree-head/v1"


def head_message(fingerprint: bytes, election_id: str, size: int, root: bytes, time: str) -> bytes:
    """The bytes the board operator signs for a tree head."""
    return frame(
        LABEL, fingerprint, election_id.encode(), size.to_bytes(8, "big"), root, time.encode()
    )


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A signed tree head: the board operator's statement that election ``election_id``'s
    log had ``size`` entries with Merkle root ``root`` at ``time``. Constructing or
    decoding one does not check the signature; :meth:`verify` does (InvalidSignature)."""

    election_id: str
    size: int
    root: bytes
    time: str
    signature: bytes

    def verify(self, board_key: bytes, fingerprint: bytes) -> None:
        """Check the operator's signature; raises InvalidSignature."""
        message = head_message(fingerprint, self.election_id, self.size, self.root, self.time)
        verify_signature(board_key, message, self.signature, f"tree head of size {self.size}")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "election": self.election_id,
            "size": self.size,
            "root": self.root.hex(),
            "time": self.time,
            "sig": self.signature.hex(),
        }

    @classmethod
    def from_dict(cls, obj: Any) -> TreeHead:
        """Strict decoding; raises DecodeError."""
        if not isinstance(obj, dict) or set(obj) != {"election", "size", "root", "time", "sig"}:
            raise DecodeError("tree head: expected exactly election, root, sig, size, time")
        size = obj["size"]
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 2**63:
            raise DecodeError("tree head: size must be a non-negative integer")
        return cls(
            check_id(obj["election"], "tree head election"),
            size,
            from_hex(obj["root"], HASH_SIZE, "tree head root"),
            check_time(obj["time"], "tree head time"),
            from_hex(obj["sig"], SIGNATURE_SIZE, "tree head signature"),
        )


def sign_head(
    signer: Signer, fingerprint: bytes, election_id: str, size: int, root: bytes, time: str
) -> TreeHead:
    """Sign a tree head as the board operator."""
    message = head_message(fingerprint, election_id, size, root, time)
    return TreeHead(election_id, size, root, time, signer.sign(message))
