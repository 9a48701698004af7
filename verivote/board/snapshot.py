"""Snapshots: the board's state after its first ``N`` entries, kept in its store, so that
a restart replays only the entries after ``N`` (docs/operations.md, "Restarting").

(Signed tree heads are the log's *checkpoints* in the RFC 9162 sense; a snapshot is the
board's own, private copy of its rule-book state and is never published.)

A snapshot is one byte string: the board operator's Ed25519 signature (64 bytes) over

    frame("verivote/board-snapshot", fingerprint, SHA-512(payload))

followed by ``payload``, the canonical JSON (:func:`verivote.encoding.dumps`) of::

    {"version": 1, "election": fingerprint hex, "size": N, "root": hex (32 bytes),
     "state": the rule book's state (:mod:`verivote.election.state_codec`),
     "posted": {"keys": 16-byte keys, "indices": 8-byte indices} (base64, big-endian)}

``root`` is the Merkle root of the first ``N`` entries, ``posted`` the board's index of
re-postable entries. The label is used for nothing else, so a snapshot's signature cannot
pass for a head's or an entry's.

:func:`load` accepts a snapshot only after checking, in this order: the store holds at
least ``N`` entries and a manifest; the signature verifies under the manifest's board key
(so only the operator could have written it: a database-only attacker cannot forge or
alter one); the payload decodes strictly, is of :data:`VERSION`, and names this
election's fingerprint and the size the store filed it under; the Merkle root of the
store's first ``N`` stored leaf hashes equals ``root``; the state decodes. Anything else
raises :class:`SnapshotRefused` with the reason, and the board replays the whole log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from verivote.board.merkle import MerkleTree, leaf_hash
from verivote.board.store import Store
from verivote.election.entries import Entry, entry_from_line
from verivote.election.manifest import Manifest
from verivote.election.state import ElectionState
from verivote.election.state_codec import (
    DEDUP_SIZE,
    INDEX_SIZE,
    decode_state,
    encode_state,
    pack_ints,
    unpack_ints,
)
from verivote.encoding import dumps, frame, loads
from verivote.errors import DecodeError, EntryRejected, VerificationError, VerivoteError
from verivote.proofs.codec import expect_keys
from verivote.signatures import SIGNATURE_SIZE, Signer, verify_signature

VERSION = 1
LABEL = b"verivote/board-snapshot"
_FIELDS = ("version", "election", "size", "root", "state", "posted")


class SnapshotRefused(VerivoteError):
    """A stored snapshot that is not used: missing a piece, not the operator's, of another
    version or election, or not of this log."""


@dataclass
class Restored:
    """What a board takes from an accepted snapshot."""

    size: int
    tree: MerkleTree
    state: ElectionState
    posted: dict[int, int]


def _message(fingerprint: bytes, payload: bytes) -> bytes:
    return frame(LABEL, fingerprint, hashlib.sha512(payload).digest())


def seal(signer: Signer, fingerprint: bytes, payload: bytes) -> bytes:
    """``payload`` signed as a snapshot of the election ``fingerprint``."""
    return signer.sign(_message(fingerprint, payload)) + payload


def encode(signer: Signer, state: ElectionState, tree: MerkleTree, posted: dict[int, int]) -> bytes:
    """The signed snapshot of a board whose state, tree and re-post index are given (the
    state after exactly ``len(tree)`` entries). Raises ValueError for a state that has no
    snapshot (:func:`~verivote.election.state_codec.snapshottable`)."""
    manifest = state.manifest
    if manifest is None or state.index != len(tree):
        raise ValueError("a snapshot needs a manifest and a state of the whole tree")
    payload = dumps(
        {
            "version": VERSION,
            "election": manifest.fingerprint.hex(),
            "size": len(tree),
            "root": tree.root().hex(),
            "state": encode_state(state),
            "posted": {
                "keys": pack_ints(posted.keys(), DEDUP_SIZE),
                "indices": pack_ints(list(posted.values()), INDEX_SIZE),
            },
        }
    )
    return seal(signer, manifest.fingerprint, payload)


def _manifest(store: Store) -> Manifest:
    """The manifest of the store's entry 0, its organiser's signature checked."""
    state = ElectionState()
    try:
        state.apply(entry_from_line(store.line(0)))
    except (DecodeError, EntryRejected) as exc:
        raise SnapshotRefused(f"entry 0 is not a manifest ({exc})") from None
    assert state.manifest is not None
    return state.manifest


def load(store: Store, lookup: Callable[[int], Entry] | None = None) -> Restored | None:
    """The state in ``store``'s snapshot, checked as the module docstring says; None when
    the store keeps no snapshot. The restored state looks earlier entries up with
    ``lookup`` (the board's :meth:`~verivote.board.log.Board.entry`). Raises
    SnapshotRefused naming what failed."""
    kept = store.snapshot()
    if kept is None:
        return None
    size, data = kept
    count = store.count()
    if not 0 < size <= count:
        raise SnapshotRefused(f"it covers {size} entries, the store holds {count}")
    manifest = _manifest(store)
    signature, payload = data[:SIGNATURE_SIZE], data[SIGNATURE_SIZE:]
    try:
        verify_signature(
            manifest.board_key,
            _message(manifest.fingerprint, payload),
            signature,
            "snapshot signed by the board key",
        )
    except VerificationError as exc:
        raise SnapshotRefused(str(exc)) from None
    try:
        obj = loads(payload)
        expect_keys(obj, _FIELDS, "snapshot")
    except DecodeError as exc:
        raise SnapshotRefused(str(exc)) from None
    if obj["version"] != VERSION:
        raise SnapshotRefused(f"version {obj['version']!r}, this verivote reads {VERSION}")
    if obj["election"] != manifest.fingerprint.hex():
        raise SnapshotRefused("it is of another election")
    if obj["size"] != size:
        raise SnapshotRefused(f"it says {obj['size']!r} entries, the store filed it under {size}")
    leaves = store.leaves(0, size)
    tree = MerkleTree.from_leaves(leaves)
    if len(tree) != size or tree.root().hex() != obj["root"]:
        raise SnapshotRefused(f"its root is not the root of the store's first {size} entries")

    def entry_at(index: int) -> Entry:
        """An entry before the snapshot, its line checked against its leaf."""
        if not 0 <= index < size:
            raise DecodeError(f"entry {index} is not before the snapshot")
        line = store.line(index)
        if leaf_hash(line) != leaves[index]:
            raise DecodeError(f"entry {index} does not match its leaf hash")
        return entry_from_line(line)

    try:
        state = decode_state(obj["state"], manifest, lookup, entry_at)
        expect_keys(obj["posted"], ("keys", "indices"), "snapshot posted")
        keys = unpack_ints(obj["posted"]["keys"], DEDUP_SIZE, "snapshot posted")
        indices = unpack_ints(obj["posted"]["indices"], INDEX_SIZE, "snapshot posted")
        if len(keys) != len(indices):
            raise DecodeError("snapshot posted: as many keys as indices")
    except DecodeError as exc:
        raise SnapshotRefused(str(exc)) from None
    if state.index != size:
        raise SnapshotRefused(f"its state is of {state.index} entries, not {size}")
    posted = dict(zip(keys, indices, strict=True))
    return Restored(size, tree, state, posted)
