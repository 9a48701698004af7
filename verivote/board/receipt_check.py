"""Checking a voter's receipt against a board: the pure core, over an injected source.

:func:`check_receipt` reads the board through a :class:`ReceiptSource` — a published
record directory (:class:`RecordSource`, here) or a board's HTTP service
(:class:`verivote.board.client.BoardSource`) — and checks, in this order:

1. the board's first entry is a signed manifest of the receipt's election (``election``);
2. the receipt's tree head is signed by that manifest's board key (``signature``), and
   its inclusion proof leads from its leaf to that head (``receipt``);
3. the board's latest head is signed by the same key (``board``);
4. the entry the receipt names is still the ballot, byte for byte (``missing``);
5. the latest head extends the receipt's head: RFC 9162 consistency (``rewritten``);
6. the latest head includes the ballot at its entry (``missing``);
7. the entry is a ``ballot``, not an ``audit`` — an audit is revealed, never counted
   (``audit``);
8. no later entry under the latest head revokes the ballot's credential (``revoked``) nor
   casts another ballot with it (``replaced``): only a credential's last ballot counts;
9. whether voting has closed and the tally been posted: :class:`ReceiptCheck` says whether
   the ballot was counted, or that it will count unless one of the events of step 8
   happens before the close.

Each failure is a :class:`~verivote.errors.ReceiptError` whose message says in plain words
what is wrong; ``kind`` names it for programs. Imports no web or storage code, so the
verifier can use it.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from verivote.board.heads import TreeHead
from verivote.board.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from verivote.board.receipt import HEADS_FILE, RECORD_FILE, Receipt, ballot_tracking_code
from verivote.election.entries import Entry, entry_from_line
from verivote.election.manifest import Manifest
from verivote.encoding import loads
from verivote.errors import (
    DecodeError,
    InvalidConsistency,
    InvalidInclusion,
    ReceiptError,
    VerificationError,
)


def _short(data: bytes) -> str:
    return data.hex()[:16] + "…"


class ReceiptSource(Protocol):
    """Where :func:`check_receipt` reads the board: each call may raise DecodeError,
    OSError or a client error when the source cannot be read."""

    def line(self, index: int) -> bytes | None:
        """The record line at ``index`` (0 is the manifest), None beyond the log."""
        ...

    def latest_head(self) -> TreeHead:
        """The board's latest signed tree head."""
        ...

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        ...

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The consistency proof from the tree of ``first`` entries to ``second``."""
        ...

    def lines(self, start: int, end: int) -> Iterable[bytes]:
        """The record lines ``start`` to ``end`` (exclusive), in log order."""
        ...


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """A receipt that checked: where the ballot is, the head that covers it now, and —
    from the entries under that head — the ``close`` and ``tally`` entries' indexes when
    they are there. The ballot is its credential's last and the credential not revoked."""

    index: int
    head: TreeHead
    close: int | None = None
    tally: int | None = None

    @property
    def counted(self) -> bool:
        """True once the tally is posted: it counts the ballot (``verivote verify``
        checks that the tally is the product of exactly the counted ballots)."""
        return self.tally is not None

    @property
    def message(self) -> str:
        """The verdict in plain words."""
        where = (
            f"your ballot is on the board at entry {self.index}, included in the head of "
            f"size {self.head.size} signed at {self.head.time}"
        )
        if self.tally is not None:
            return (
                f"{where}; it is your credential's last ballot, the credential was not "
                f"revoked, and it was counted: the tally at entry {self.tally} includes it"
            )
        if self.close is not None:
            return (
                f"{where}; it is your credential's last ballot, the credential was not "
                f"revoked, and voting closed at entry {self.close}: it will be counted "
                "(no tally is posted yet)"
            )
        return (
            f"{where}; so far it is your credential's last ballot and the credential is "
            "not revoked: it will be counted unless a later ballot with your credential "
            "replaces it or the credential is revoked before voting closes"
        )


def _manifest(line: bytes | None) -> Manifest:
    try:
        if line is None:
            raise DecodeError("the board is empty")
        entry = entry_from_line(line)
        if entry.type != "election":
            raise DecodeError(f"entry 0 is a {entry.type} entry")
        manifest = Manifest.from_dict(entry.body)
        entry.verify(manifest.organiser_key, b"", "election signed by the organiser")
    except (DecodeError, VerificationError) as exc:
        raise ReceiptError(
            "board", f"the board's first entry is not a signed election manifest ({exc})"
        ) from None
    return manifest


def signed_heads(receipt: Receipt, source: ReceiptSource, manifest: Manifest) -> TreeHead:
    """The receipt's own head and the board's latest head must both be signed by this
    election's board, and the receipt must be consistent in itself; returns the latest head.
    Raises ReceiptError ``signature``, ``receipt`` or ``board``."""
    fp = manifest.fingerprint
    try:
        receipt.head.verify(manifest.board_key, fp)
    except VerificationError:
        raise ReceiptError(
            "signature", "the receipt's tree head is not signed by this election's board"
        ) from None
    receipt.check_self()
    latest = source.latest_head()
    try:
        if latest.election_id != manifest.election_id:
            raise VerificationError("another election")
        latest.verify(manifest.board_key, fp)
    except VerificationError:
        raise ReceiptError(
            "board", "the board's latest tree head is not signed by this election's board"
        ) from None
    return latest


def still_there(receipt: Receipt, source: ReceiptSource, latest: TreeHead, what: str) -> None:
    """The board's ``latest`` head must extend the receipt's head (consistency proof) and
    include the receipt's entry at its index (inclusion proof). ``what`` names the entry in
    the messages ("ballot", "entry"). Raises ReceiptError ``rewritten`` or ``missing``."""
    old, n = receipt.head, receipt.index
    if latest.size < old.size:
        raise ReceiptError(
            "rewritten",
            f"the board rewrote its history after your receipt: its latest signed head "
            f"covers {latest.size} entries, fewer than the {old.size} of your receipt's head",
        )
    try:
        verify_consistency(
            old.size, latest.size, old.root, latest.root, source.consistency(old.size, latest.size)
        )
    except InvalidConsistency:
        raise ReceiptError(
            "rewritten",
            f"the board rewrote its history after your receipt: its head of size "
            f"{latest.size} signed at {latest.time} does not extend the head of size "
            f"{old.size} signed at {old.time} in your receipt",
        ) from None
    try:
        verify_inclusion(
            receipt.leaf, n, latest.size, source.inclusion(n, latest.size), latest.root
        )
    except InvalidInclusion:
        raise ReceiptError(
            "missing",
            f"your {what} is missing: the board's head of size {latest.size} does not "
            f"include it as entry {n}",
        ) from None


def check_receipt(receipt: Receipt, source: ReceiptSource) -> ReceiptCheck:
    """Check ``receipt`` against the board ``source`` shows; returns where the ballot is.

    Raises :class:`~verivote.errors.ReceiptError` saying in plain words what is wrong
    (see the module docstring for the order of the checks)."""
    manifest = _manifest(source.line(0))
    fp = manifest.fingerprint
    if manifest.election_id != receipt.election_id or fp != receipt.fingerprint:
        raise ReceiptError(
            "election",
            f"this receipt is for another election: it names {receipt.election_id!r} "
            f"(fingerprint {_short(receipt.fingerprint)}), the board holds "
            f"{manifest.election_id!r} (fingerprint {_short(fp)})",
        )
    latest = signed_heads(receipt, source, manifest)
    n = receipt.index
    line = source.line(n) if n < latest.size else None
    if line is None:
        raise ReceiptError(
            "missing",
            f"your ballot is missing: the board's latest signed head covers {latest.size} "
            f"entries, so there is no entry {n}",
        )
    if leaf_hash(line) != receipt.leaf:
        raise ReceiptError("missing", f"your ballot is missing: entry {n} is not your ballot")
    try:
        code = ballot_tracking_code(fp, entry_from_line(line))
    except (DecodeError, ValueError):
        code = ""
    if code != receipt.tracking_code:
        raise ReceiptError(
            "receipt", f"the receipt is damaged: its tracking code is not that of entry {n}"
        )
    still_there(receipt, source, latest, "ballot")
    return _standing(manifest, receipt, source, entry_from_line(line), latest)


def _credential_hex(entry: Entry) -> str | None:
    """The credential a ballot or audit names (hex), None if it names none."""
    body = entry.body.get("ballot") if entry.type == "audit" else entry.body
    key = body.get("credential") if isinstance(body, dict) else None
    return key if isinstance(key, str) else None


def _signed(entry: Entry, key: bytes, fingerprint: bytes) -> bool:
    try:
        entry.verify(key, fingerprint, entry.type)
    except VerificationError:
        return False
    return True


def _standing(
    manifest: Manifest, receipt: Receipt, source: ReceiptSource, entry: Entry, latest: TreeHead
) -> ReceiptCheck:
    """Steps 7 to 9: whether the ballot on the board is one that counts. A later entry
    counts here only if its author signed it (the ballot's credential, the registrar, the
    organiser): one the verifier would reject for its signature neither replaces, revokes,
    closes nor tallies."""
    n = receipt.index
    if entry.type != "ballot":
        raise ReceiptError(
            "audit",
            f"your ballot was not cast: entry {n} is an audit of it — the ballot was revealed "
            "(opened for checking), and an audited ballot is never counted",
        )
    credential = _credential_hex(entry)
    key = bytes.fromhex(credential) if credential is not None and len(credential) == 64 else b""
    fp = manifest.fingerprint
    close = tally = None
    for at, later in enumerate(source.lines(n + 1, latest.size), start=n + 1):
        try:
            other = entry_from_line(later)
        except (DecodeError, ValueError):
            continue  # not an entry: the verifier reports it; it cannot revoke or replace
        if (
            other.type == "ballot"
            and _credential_hex(other) == credential
            and _signed(other, key, fp)
        ):
            raise ReceiptError(
                "replaced",
                f"your ballot does not count: a later ballot with the same credential was "
                f"posted at entry {at} ({other.time}), and only a credential's last ballot "
                "counts",
            )
        if (
            other.type == "amend"
            and other.body.get("action") == "revoke"
            and other.body.get("key") == credential
            and _signed(other, manifest.registrar_key, fp)
        ):
            raise ReceiptError(
                "revoked",
                f"your ballot does not count: the registrar revoked its credential at entry "
                f"{at} ({other.time}, reason {other.body.get('reason')!r}), and no ballot of a "
                "revoked credential counts",
            )
        if other.type in ("close", "tally") and _signed(other, manifest.organiser_key, fp):
            if other.type == "close" and close is None:
                close = at
            if other.type == "tally" and tally is None:
                tally = at
    return ReceiptCheck(n, latest, close, tally)


class RecordSource:
    """A published record directory as a :class:`ReceiptSource`: the tree is rebuilt from
    ``board.jsonl``; the latest head is the last line of ``heads.jsonl``. Memory: one
    offset and about two hashes per entry. Raises OSError if a file cannot be read."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / RECORD_FILE
        self.tree = MerkleTree()
        self.offsets = array("Q")
        with self.path.open("rb") as handle:
            offset = 0
            for raw in handle:
                self.offsets.append(offset)
                offset += len(raw)
                self.tree.append(leaf_hash(raw.rstrip(b"\n")))
        heads = [h for h in (directory / HEADS_FILE).read_bytes().split(b"\n") if h.strip()]
        self._last = heads[-1] if heads else None

    def line(self, index: int) -> bytes | None:
        """See :meth:`ReceiptSource.line`."""
        if not 0 <= index < len(self.offsets):
            return None
        with self.path.open("rb") as handle:
            handle.seek(self.offsets[index])
            return handle.readline().rstrip(b"\n")

    def latest_head(self) -> TreeHead:
        """The last head of ``heads.jsonl``, which must be the root of the entries it
        covers (ReceiptError ``board`` otherwise)."""
        if self._last is None:
            raise ReceiptError("board", "the record publishes no signed tree head")
        try:
            head = TreeHead.from_dict(loads(self._last))
        except DecodeError as exc:
            raise ReceiptError(
                "board", f"the record's last tree head is unreadable ({exc})"
            ) from None
        if head.size > len(self.tree) or self.tree.root(head.size) != head.root:
            raise ReceiptError(
                "board",
                f"the record's entries do not match its last signed head (size {head.size}): "
                "board.jsonl was changed after the head was signed",
            )
        return head

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """See :meth:`ReceiptSource.inclusion`."""
        return self.tree.inclusion_proof(index, size)

    def consistency(self, first: int, second: int) -> list[bytes]:
        """See :meth:`ReceiptSource.consistency`."""
        return self.tree.consistency_proof(first, second)

    def lines(self, start: int, end: int) -> Iterator[bytes]:
        """See :meth:`ReceiptSource.lines`."""
        end = min(end, len(self.offsets))
        if start >= end:
            return
        with self.path.open("rb") as handle:
            handle.seek(self.offsets[start])
            for _ in range(start, end):
                yield handle.readline().rstrip(b"\n")
