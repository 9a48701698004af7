"""Receipts for every author, not only voters: proof that an entry is on the board.

The registrar, the credential issuer, the organiser and the trustees each get, for every
entry they post, a :class:`~verivote.board.receipt.Receipt` of the same form as a voter's
(text ``vvr1:…``): the entry's index, the Merkle leaf of its record line, an inclusion
proof under a freshly signed tree head, and an *entry code* in the tracking-code field —
for a ballot or an audit its tracking code, for any other entry

    SHA-256(frame("verivote/entry-code", fingerprint, type, canonical body))

in hex. :func:`check_author_receipt` checks it against a record or a live board as a
voter's receipt is checked (same election, signed head, the entry still there byte for
byte, the latest head consistent with the receipt's and including it), and raises
:class:`~verivote.errors.ReceiptError` in plain words otherwise. With these receipts and
its seal (:mod:`verivote.election.seal`), an author whose entry the board dropped has
signed evidence of it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from verivote.board.heads import TreeHead
from verivote.board.merkle import leaf_hash
from verivote.board.receipt import Receipt, ballot_tracking_code, issue_receipt
from verivote.board.receipt_check import (
    ReceiptCheck,
    ReceiptSource,
    _manifest,
    signed_heads,
    still_there,
)
from verivote.election.entries import Entry, entry_from_line
from verivote.encoding import frame
from verivote.errors import (
    DecodeError,
    ReceiptError,
)

if TYPE_CHECKING:
    from verivote.board.log import Board

LABEL = b"verivote/entry-code"


def entry_code(fingerprint: bytes, entry: Entry) -> str:
    """The code a receipt carries for ``entry`` (see the module docstring)."""
    if entry.type in ("ballot", "audit"):
        return ballot_tracking_code(fingerprint, entry)
    digest = hashlib.sha256(frame(LABEL, fingerprint, entry.type.encode(), entry.body_bytes))
    return digest.hexdigest()


def issue_author_receipt(board: Board, index: int, head: TreeHead | None = None) -> Receipt:
    """The receipt for the entry at ``index``, under ``head`` (a freshly signed head by
    default). Call it while nothing is appended to the board. Raises ValueError if the
    board is empty or the head does not cover the entry."""
    return issue_receipt(board, index, head, code=entry_code)


def check_author_receipt(receipt: Receipt, source: ReceiptSource) -> ReceiptCheck:
    """Check an author's ``receipt`` against the board ``source`` shows; returns where the
    entry is. Raises :class:`ReceiptError`: ``election``, ``signature``, ``receipt``
    (damaged), ``board``, ``missing`` (the entry is gone or not included by the latest
    head) or ``rewritten`` (the latest head does not extend the receipt's)."""
    manifest = _manifest(source.line(0))
    fp = manifest.fingerprint
    if manifest.election_id != receipt.election_id or fp != receipt.fingerprint:
        raise ReceiptError("election", "this receipt is for another election")
    latest = signed_heads(receipt, source, manifest)
    n = receipt.index
    line = source.line(n) if n < latest.size else None
    if line is None or leaf_hash(line) != receipt.leaf:
        raise ReceiptError(
            "missing", f"your entry is missing: entry {n} of the board is not what you posted"
        )
    try:
        code = entry_code(fp, entry_from_line(line))
    except (DecodeError, ValueError):
        code = ""
    if code != receipt.tracking_code:
        raise ReceiptError("receipt", f"the receipt is damaged: its code is not that of entry {n}")
    still_there(receipt, source, latest, "entry")
    return ReceiptCheck(n, latest)
