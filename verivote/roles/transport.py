"""How the roles read the board and post to it.

Reading: :func:`read_board` fetches every entry of a live board (``http://…``) or of an
exported record directory (for an air-gapped machine) and replays them through the rule
book, so a role builds what it posts from what is on the board — never from its own
counters. A board whose entries do not replay is refused (:class:`BoardStateError`).
Every rule runs on every entry, but a ballot's signature and proofs, and the proofs of
shuffle and of decryption in ``mix`` and ``mix_decryption`` entries, are not re-checked
(they were checked by the board before it stored the entry): that is the verifier's work
(``verivote verify``), and a role's command must not cost a full verification each time
it runs.

Posting: :func:`deliver` either posts signed entries (with :func:`with_retry`: back-off on
503 answers and connection errors) or writes them to an entry file, one canonical JSON
object ``{"body", "sig", "type"}`` per line, which ``verivote post FILE`` (or, for the
election entry, ``verivote board load FILE``) later posts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from verivote.board.client import BoardClient, BoardClientError, PostRejected
from verivote.board.receipt import RECORD_FILE, Receipt
from verivote.election.ballot import decode_ballot, tracking_code
from verivote.election.checker import BallotResult, dedup_key
from verivote.election.entries import Entry, entry_from_dict, entry_from_line
from verivote.election.manifest import Manifest
from verivote.election.state import BallotCheck, ElectionState
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, EntryRejected, VerivoteError
from verivote.roles.statedir import write_private

T = TypeVar("T")
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds to wait before each new attempt after a 503 or a connection error."""
BALLOT_TYPES = ("ballot", "audit")


class BoardStateError(VerivoteError):
    """The board cannot be read, or what it holds does not replay through the rule book."""


@dataclass
class BoardView:
    """A board's entries and the election state they build."""

    entries: list[Entry]
    state: ElectionState

    @property
    def manifest(self) -> Manifest:
        """The election's manifest."""
        assert self.state.manifest is not None
        return self.state.manifest


def is_url(text: str) -> bool:
    """Whether ``text`` names a live board rather than a record directory."""
    return text.startswith(("http://", "https://"))


def _entries(source: str) -> list[Entry]:
    if is_url(source):
        return with_retry(lambda: BoardClient(source).entries())
    path = Path(source) / RECORD_FILE
    try:
        with path.open("rb") as handle:
            return [entry_from_line(line.rstrip(b"\n")) for line in handle if line.strip()]
    except OSError as exc:
        raise BoardStateError(f"{path}: cannot read: {exc.strerror}") from None
    except DecodeError as exc:
        raise BoardStateError(f"{path}: not a record: {exc}") from None


def read_board(source: str) -> BoardView:
    """The board at ``source`` (URL or record directory), replayed. Raises
    BoardStateError if it is empty or an entry does not replay, BoardClientError if the
    board cannot be reached."""
    entries = _entries(source)
    if not entries:
        raise BoardStateError(f"{source}: the board holds no election")
    state = ElectionState(lookup=lambda i: entries[i], replay=True)
    for i, entry in enumerate(entries):
        try:
            checked = _decoded(state, i, entry) if entry.type == "ballot" else None
            state.apply(entry, checked)
        except EntryRejected as exc:
            raise BoardStateError(f"{source}: entry {i} does not replay: {exc}") from None
    return BoardView(entries, state)


def _decoded(state: ElectionState, index: int, entry: Entry) -> BallotCheck | None:
    """A ballot's state-free check, strictly decoded (signature and proofs not re-checked);
    None when it does not decode, so that the rule book rejects it by name."""
    manifest = state.manifest
    if manifest is None:
        return None
    try:
        credential, selections, _ = decode_ballot(manifest, entry.body)
    except DecodeError:
        return None
    tracker = dedup_key(tracking_code(manifest.fingerprint, entry.body_bytes).encode())
    alphas = tuple(dedup_key(ct.alpha.to_bytes()) for cts in selections for ct in cts)
    return BallotResult(index, entry.time, credential, None, tracker, alphas), selections


def with_retry(
    action: Callable[[], T],
    delays: Iterable[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``action()``, tried again after each of ``delays`` while it fails with a 503 answer
    or a connection error; any other failure (a refusal, a 4xx) is raised at once."""
    pending = list(delays)
    while True:
        try:
            return action()
        except PostRejected:
            raise
        except BoardClientError as exc:
            if exc.status not in (None, 503) or not pending:
                raise
        sleep(pending.pop(0))


def _find(client: BoardClient, entry: Entry) -> int | None:
    """The index of ``entry`` (same type, body and signature) on the board, if there."""
    for index, other in enumerate(client.entries()):
        if (other.type, other.body, other.signature) == (entry.type, entry.body, entry.signature):
            return index
    return None


def post_entry(client: BoardClient, entry: Entry) -> int:
    """Post an authored entry with retries; returns its index. An attempt that failed in
    transit may have reached the board: when a later attempt is refused, the entry is
    looked for on the board before the refusal is reported."""
    lost = False

    def attempt() -> int:
        nonlocal lost
        try:
            return client.post_entry(entry)
        except PostRejected:
            found = _find(client, entry) if lost else None
            if found is None:
                raise
            return found
        except BoardClientError:
            lost = True
            raise

    return with_retry(attempt)


def cast(client: BoardClient, entry: Entry) -> Receipt:
    """Post a ballot or audit entry with retries; returns the checked receipt."""
    return with_retry(lambda: client.post_ballot(entry))


def entry_line(entry: Entry) -> bytes:
    """An entry file's line for ``entry`` (no time: the board sets it)."""
    return dumps({"type": entry.type, "body": entry.body, "sig": entry.signature.hex()})


def write_entries(path: Path, entries: list[Entry]) -> Path:
    """Write ``entries`` to a new entry file (refusing to overwrite one)."""
    return write_private(path, b"".join(entry_line(e) + b"\n" for e in entries))


def read_entries(path: Path, now: str) -> list[Entry]:
    """The entries of an entry file, timed ``now``. Raises DecodeError naming the line."""
    out = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise DecodeError(f"{path}: cannot read: {exc.strerror}") from None
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            obj: Any = loads(raw, canonical=False)
            if not isinstance(obj, dict) or set(obj) != {"type", "body", "sig"}:
                raise DecodeError("expected exactly body, sig, type")
            out.append(entry_from_dict({**obj, "time": now}))
        except DecodeError as exc:
            raise DecodeError(f"{path}:{number}: not a signed entry: {exc}") from None
    return out


class Poster:
    """Where a role's signed entries go: the board at ``url``, or (with ``out``) an entry
    file written when :meth:`finish` is called."""

    def __init__(self, url: str | None, out: Path | None) -> None:
        if out is None and (url is None or not is_url(url)):
            raise BoardStateError("to post, give the board's URL (or --out FILE)")
        self.client = BoardClient(url) if out is None and url is not None else None
        self.out = out
        self.pending: list[Entry] = []

    def post(self, entry: Entry) -> int | None:
        """Post ``entry`` (its index) or keep it for the file (None)."""
        if self.client is None:
            self.pending.append(entry)
            return None
        if entry.type in BALLOT_TYPES:
            return cast(self.client, entry).index
        return post_entry(self.client, entry)

    def finish(self) -> Path | None:
        """Write the kept entries to the entry file, if there is one and anything to write."""
        if self.out is None or not self.pending:
            return None
        return write_entries(self.out, self.pending)
