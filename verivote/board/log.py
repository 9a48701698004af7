"""An in-memory board: entries appended in order after the election's rules accept them.

Every entry goes through :meth:`verivote.election.state.ElectionState.apply` before it is
appended, so an invalid entry never reaches the log: the board refuses it with the same
:class:`~verivote.errors.EntryRejected` the verifier would report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from verivote.election.entries import Entry, sign_entry
from verivote.election.state import BallotCheck, ElectionState
from verivote.signatures import Signer

RECORD_FILE = "board.jsonl"


class Board:
    """An append-only log of one election. ``clock()`` gives each entry its time."""

    def __init__(self, clock: Callable[[], str]) -> None:
        self.clock = clock
        self.entries: list[Entry] = []
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
        return len(self.entries) - 1

    def post(self, signer: Signer, entry_type: str, body: dict[str, Any]) -> int:
        """Sign ``body`` as ``signer``, time it now and append it."""
        manifest = self.state.manifest
        fingerprint = b"" if manifest is None else manifest.fingerprint
        return self.append(sign_entry(signer, fingerprint, entry_type, body, self.clock()))

    def export(self, directory: Path) -> Path:
        """Write the record: ``board.jsonl`` (one canonical entry per line) in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / RECORD_FILE
        with path.open("wb") as out:
            for entry in self.entries:
                out.write(entry.to_line())
                out.write(b"\n")
        return path
