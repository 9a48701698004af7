"""An in-memory board: entries appended in order after the election's rules accept them,
under a Merkle tree whose heads the board operator signs.

Every entry goes through :meth:`verivote.election.state.ElectionState.apply` before it is
appended, so an invalid entry never reaches the log: the board refuses it with the same
:class:`~verivote.errors.EntryRejected` the verifier would report.

Published tree heads (``heads.jsonl`` in the record) are signed after every entry that
changes the election's phase (manifest, joint key, open, close, tally, result), every
:data:`CHECKPOINT_EVERY` entries, and on export, so the last one covers the whole log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from verivote.board.heads import TreeHead, sign_head
from verivote.board.merkle import MerkleTree, leaf_hash
from verivote.election.entries import Entry, sign_entry
from verivote.election.state import BallotCheck, ElectionState
from verivote.encoding import dumps
from verivote.signatures import Signer

RECORD_FILE = "board.jsonl"
HEADS_FILE = "heads.jsonl"
CHECKPOINT_EVERY = 1000
CHECKPOINT_TYPES = frozenset({"election", "joint_key", "open", "close", "tally", "result"})


class Board:
    """An append-only log of one election. ``clock()`` gives each entry its time;
    ``operator`` is the board operator's key (``board_key`` in the manifest)."""

    def __init__(self, clock: Callable[[], str], operator: Signer) -> None:
        self.clock = clock
        self.operator = operator
        self.entries: list[Entry] = []
        self.tree = MerkleTree()
        self.heads: list[TreeHead] = []
        self.state = ElectionState(lookup=self.entry)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def entry(self, index: int) -> Entry:
        """The entry at ``index``."""
        return self.entries[index]

    def append(self, entry: Entry, checked: BallotCheck | None = None) -> int:
        """Validate ``entry`` against the election so far and append it; returns its index.
        Raises EntryRejected (and appends nothing) if any rule fails."""
        self.state.apply(entry, checked)
        self.entries.append(entry)
        index = self.tree.append(leaf_hash(entry.to_line()))
        if entry.type in CHECKPOINT_TYPES or len(self.entries) % CHECKPOINT_EVERY == 0:
            self.checkpoint()
        return index

    def post(self, signer: Signer, entry_type: str, body: dict[str, Any]) -> int:
        """Sign ``body`` as ``signer``, time it now and append it."""
        manifest = self.state.manifest
        fingerprint = b"" if manifest is None else manifest.fingerprint
        return self.append(sign_entry(signer, fingerprint, entry_type, body, self.clock()))

    def head(self) -> TreeHead:
        """A freshly signed head of the whole log (not published by itself)."""
        manifest = self.state.manifest
        if manifest is None:
            raise ValueError("the board is empty")
        time = max(self.clock(), self.entries[-1].time)
        return sign_head(
            self.operator,
            manifest.fingerprint,
            manifest.election_id,
            len(self),
            self.tree.root(),
            time,
        )

    def checkpoint(self) -> TreeHead:
        """Sign and publish a head of the whole log."""
        if self.heads and self.heads[-1].size == len(self):
            return self.heads[-1]
        head = self.head()
        self.heads.append(head)
        return head

    def export(self, directory: Path) -> Path:
        """Write the record in ``directory``: ``board.jsonl`` (one canonical entry per line)
        and ``heads.jsonl`` (the published signed tree heads, the last covering the log)."""
        self.checkpoint()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / RECORD_FILE
        with path.open("wb") as out:
            for entry in self.entries:
                out.write(entry.to_line() + b"\n")
        with (directory / HEADS_FILE).open("wb") as out:
            for head in self.heads:
                out.write(dumps(head.to_dict()) + b"\n")
        return path
