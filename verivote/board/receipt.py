"""Voters' receipts: proof that a ballot is on the board, checkable by anyone.

When the board accepts a ballot it hands the voter a :class:`Receipt`: the election
(id and fingerprint), the ballot's tracking code, its entry number, the Merkle leaf hash of
its record line, and an inclusion proof of that leaf in a freshly signed tree head. Later,
against the published record or the live board,
:func:`~verivote.board.receipt_check.check_receipt` establishes that

1. the board holds the same election (``election``);
2. the receipt's head is signed by that election's board key (``signature``);
3. the ballot is still the entry the receipt names (``missing`` otherwise);
4. the board's latest signed head extends the receipt's head: an RFC 9162 consistency
   proof (``rewritten`` otherwise) — and includes the ballot;
5. the entry is a ``ballot``, not an ``audit`` (``audit``), no later entry under the
   latest head replaces it with another ballot of the same credential (``replaced``) or
   revokes the credential (``revoked``), and — once the ``close`` and ``tally`` entries
   are there — that it was counted.

Each failure is a :class:`~verivote.errors.ReceiptError` in plain words. Neither this
module nor the checks import web or storage code.

Text form (to print or show as a QR code): ``vvr1:`` followed by the unpadded base64url of
the fixed binary layout ::

    u8 len ‖ election_id ‖ fingerprint (64) ‖ tracking code (32) ‖ index (u64) ‖ leaf (32)
    ‖ head size (u64) ‖ head root (32) ‖ head time (20, ASCII) ‖ head signature (64)
    ‖ u8 n ‖ n proof hashes (32 each)

about 1,230 characters for a board of a million entries, against 2,700 for the base64 of
the JSON form. Decoding is strict: one text per receipt.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verivote.board.heads import TreeHead
from verivote.board.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from verivote.election.ballot import tracking_code
from verivote.election.entries import Entry
from verivote.election.manifest import check_id, check_time
from verivote.encoding import dumps, from_hex, loads
from verivote.errors import DecodeError, InvalidInclusion, ReceiptError
from verivote.signatures import SIGNATURE_SIZE

if TYPE_CHECKING:
    from verivote.board.log import Board

PREFIX = "vvr1:"
FINGERPRINT_SIZE = 64
TIME_SIZE = 20
MAX_PROOF = 64
RECORD_FILE = "board.jsonl"
HEADS_FILE = "heads.jsonl"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a voter keeps: the ballot's place on the board and a signed head covering it:
    the election, the tracking code, the entry's index and leaf hash, a tree head signed by
    the board and the inclusion proof from the leaf to that head. Decoding
    (:meth:`from_text`, :meth:`from_dict`) is strict (DecodeError); :meth:`check_self`
    checks it agrees with itself; :func:`~verivote.board.receipt_check.check_receipt`
    checks it against a board or a record."""

    election_id: str
    fingerprint: bytes
    tracking_code: str
    index: int
    head: TreeHead
    proof: tuple[bytes, ...]
    leaf: bytes

    def check_self(self) -> None:
        """Check that the receipt agrees with itself: one election, and the proof leads
        from the leaf to its head's root. Raises ReceiptError (kind ``receipt``)."""
        if self.head.election_id != self.election_id:
            raise ReceiptError(
                "receipt", "the receipt is damaged: its tree head is for another election"
            )
        try:
            verify_inclusion(self.leaf, self.index, self.head.size, self.proof, self.head.root)
        except InvalidInclusion as exc:
            raise ReceiptError(
                "receipt", f"the receipt is damaged: its proof does not lead to its head ({exc})"
            ) from None

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """The JSON form (canonical with :func:`verivote.encoding.dumps`)."""
        return {
            "version": 1,
            "election": self.election_id,
            "fingerprint": self.fingerprint.hex(),
            "tracking_code": self.tracking_code,
            "index": self.index,
            "head": self.head.to_dict(),
            "proof": [p.hex() for p in self.proof],
            "leaf": self.leaf.hex(),
        }

    @classmethod
    def from_dict(cls, obj: Any) -> Receipt:
        """Strict decoding of the JSON form; raises DecodeError."""
        keys = {"version", "election", "fingerprint", "tracking_code", "index", "head"}
        if not isinstance(obj, dict) or set(obj) != keys | {"proof", "leaf"}:
            raise DecodeError(
                f"receipt: expected exactly the keys {sorted(keys | {'proof', 'leaf'})}"
            )
        if type(obj["version"]) is not int or obj["version"] != 1:
            raise DecodeError("receipt: unknown version")
        index, proof = obj["index"], obj["proof"]
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 2**63:
            raise DecodeError("receipt: index must be a non-negative integer")
        if not isinstance(proof, list) or len(proof) > MAX_PROOF:
            raise DecodeError(f"receipt: proof must be a list of at most {MAX_PROOF} hashes")
        code = from_hex(obj["tracking_code"], 32, "receipt tracking code")
        return cls(
            check_id(obj["election"], "receipt election"),
            from_hex(obj["fingerprint"], FINGERPRINT_SIZE, "receipt fingerprint"),
            code.hex(),
            index,
            TreeHead.from_dict(obj["head"]),
            tuple(from_hex(p, HASH_SIZE, "receipt proof") for p in proof),
            from_hex(obj["leaf"], HASH_SIZE, "receipt leaf"),
        )

    # ------------------------------------------------------------------ text
    def to_bytes(self) -> bytes:
        """The fixed binary layout of the module docstring."""
        eid = self.election_id.encode()
        return b"".join(
            [
                bytes([len(eid)]),
                eid,
                self.fingerprint,
                bytes.fromhex(self.tracking_code),
                self.index.to_bytes(8, "big"),
                self.leaf,
                self.head.size.to_bytes(8, "big"),
                self.head.root,
                self.head.time.encode(),
                self.head.signature,
                bytes([len(self.proof)]),
                *self.proof,
            ]
        )

    def to_text(self) -> str:
        """``vvr1:`` and the unpadded base64url of :meth:`to_bytes`."""
        return PREFIX + base64.urlsafe_b64encode(self.to_bytes()).rstrip(b"=").decode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Receipt:
        """Strict decoding of :meth:`to_bytes`; raises DecodeError."""
        reader = _Reader(data)
        election_id = check_id(
            reader.take(reader.take(1)[0]).decode("ascii", "replace"), "receipt election"
        )
        fingerprint = reader.take(FINGERPRINT_SIZE)
        code = reader.take(32).hex()
        index = int.from_bytes(reader.take(8), "big")
        leaf = reader.take(HASH_SIZE)
        size = int.from_bytes(reader.take(8), "big")
        root = reader.take(HASH_SIZE)
        time = check_time(reader.take(TIME_SIZE).decode("ascii", "replace"), "receipt head time")
        signature = reader.take(SIGNATURE_SIZE)
        count = reader.take(1)[0]
        if count > MAX_PROOF:
            raise DecodeError(f"receipt: a proof has at most {MAX_PROOF} hashes")
        proof = tuple(reader.take(HASH_SIZE) for _ in range(count))
        if reader.left():
            raise DecodeError("receipt: trailing bytes")
        if index >= 2**63 or size >= 2**63:
            raise DecodeError("receipt: index or size out of range")
        head = TreeHead(election_id, size, root, time, signature)
        return cls(election_id, fingerprint, code, index, head, proof, leaf)

    @classmethod
    def from_text(cls, text: str) -> Receipt:
        """Decode :meth:`to_text` (surrounding white space ignored); raises DecodeError
        for anything else, non-canonical base64 included."""
        text = text.strip()
        if not text.startswith(PREFIX):
            raise DecodeError(f"receipt: the text form starts with {PREFIX!r}")
        body = text[len(PREFIX) :]
        try:
            data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise DecodeError("receipt: not base64url") from None
        receipt = cls.from_bytes(data)
        if receipt.to_text() != PREFIX + body:
            raise DecodeError("receipt: the text is not in canonical form")
        return receipt


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise DecodeError("receipt: truncated")
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def left(self) -> int:
        return len(self.data) - self.at


def read_receipt(text: str) -> Receipt:
    """A receipt in either form — the text form (``vvr1:…``) or its JSON form — with
    surrounding white space ignored; raises DecodeError for anything else. Nothing is
    checked against a board here (:func:`~verivote.board.receipt_check.check_receipt`)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return Receipt.from_dict(loads(stripped, canonical=False))
    return Receipt.from_text(stripped)


def ballot_tracking_code(fingerprint: bytes, entry: Entry) -> str:
    """The tracking code of a ``ballot`` entry, or of the ballot an ``audit`` entry opens;
    ValueError for any other entry."""
    if entry.type == "ballot":
        return tracking_code(fingerprint, entry.body_bytes)
    if entry.type == "audit" and isinstance(entry.body.get("ballot"), dict):
        return tracking_code(fingerprint, dumps(entry.body["ballot"]))
    raise ValueError(f"a {entry.type} entry has no tracking code")


def issue_receipt(
    board: Board,
    index: int,
    head: TreeHead | None = None,
    code: Callable[[bytes, Entry], str] | None = None,
) -> Receipt:
    """The receipt for the ballot (or audit) at ``index``, under ``head`` (a freshly signed
    head from ``board.head()`` by default); ``code`` names the entry in the receipt (the
    ballot's tracking code by default; an author's receipt passes its entry code). Call it
    while nothing is appended to this board. Raises ValueError if the entry is not a ballot
    (with the default code) or the head does not cover it."""
    manifest = board.state.manifest
    if manifest is None:
        raise ValueError("the board is empty")
    head = board.head() if head is None else head
    if not 0 <= index < head.size:
        raise ValueError(f"entry {index} is not covered by a head of size {head.size}")
    entry = board.entry(index)
    return Receipt(
        manifest.election_id,
        manifest.fingerprint,
        (code or ballot_tracking_code)(manifest.fingerprint, entry),
        index,
        head,
        tuple(board.tree.inclusion_proof(index, head.size)),
        leaf_hash(entry.to_line()),
    )
