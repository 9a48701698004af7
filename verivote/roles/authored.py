"""What the registrar and the credential issuer keep of what they post, and their seal.

Each keeps its own copy of every entry it signs (``posted.jsonl``: one canonical JSON
object ``{"type", "body"}`` per line, in the order signed) and, for every entry posted to
a live board, the author receipt the board's signed head gives it (``receipts.txt``: the
entry's type, index and ``vvr1:…`` text per line; see
:mod:`verivote.board.author_receipt`). Its seal (:func:`seal`) is computed from its own
copies, not from the board: a board that dropped one of its entries makes the seal differ
from the board's, and the party is told which entry is missing before anything is posted.
"""

from __future__ import annotations

from typing import Any

from verivote.board.author_receipt import entry_code
from verivote.board.client import BoardClient
from verivote.board.merkle import leaf_hash
from verivote.board.receipt import Receipt
from verivote.election.entries import Entry, entry_from_line, sign_entry
from verivote.election.seal import ENTRY_ROLE, seal_body
from verivote.encoding import dumps, loads
from verivote.errors import VerivoteError
from verivote.roles.board_operator import utc_now
from verivote.roles.organiser import NotDue
from verivote.roles.statedir import StateDir
from verivote.roles.transport import BoardView, Poster
from verivote.signatures import Signer

POSTED_FILE, RECEIPTS_FILE = "posted.jsonl", "receipts.txt"


class MissingEntry(VerivoteError):
    """An entry this party posted is not on the board (exit code 1)."""


def _append(sd: StateDir, name: str, line: bytes) -> None:
    path = sd.file(name)
    with path.open("ab") as handle:
        handle.write(line + b"\n")
    path.chmod(0o600)


def posted(sd: StateDir) -> list[tuple[str, dict[str, Any]]]:
    """This party's own copies ``(type, body)`` of what it signed, in order."""
    path = sd.file(POSTED_FILE)
    if not path.exists():
        return []
    out = []
    for raw in path.read_bytes().splitlines():
        if raw.strip():
            obj = loads(raw)
            out.append((str(obj["type"]), dict(obj["body"])))
    return out


def post(
    sd: StateDir,
    poster: Poster,
    signer: Signer,
    fingerprint: bytes,
    kind: str,
    body: dict[str, Any],
) -> Entry:
    """Sign ``body`` as an entry of ``kind``, keep its copy, post it and, on a live board,
    keep its author receipt. Returns the entry."""
    entry = sign_entry(signer, fingerprint, kind, body, utc_now())
    if kind in ENTRY_ROLE:
        _append(sd, POSTED_FILE, dumps({"type": kind, "body": body}))
    index = poster.post(entry)
    if index is not None and poster.client is not None:
        receipt = author_receipt(poster.client, index)
        _append(sd, RECEIPTS_FILE, f"{kind} {index} {receipt.to_text()}".encode())
    return entry


def author_receipt(client: BoardClient, index: int) -> Receipt:
    """The receipt for entry ``index`` of the board: a freshly signed head covering it and
    the inclusion proof, checked against itself and the board's key."""
    manifest = client.manifest()
    head = client.head()
    line = client.line(index)
    entry = entry_from_line(line)
    receipt = Receipt(
        manifest.election_id,
        manifest.fingerprint,
        entry_code(manifest.fingerprint, entry),
        index,
        head,
        tuple(client.inclusion(index, head.size)),
        leaf_hash(line),
    )
    head.verify(manifest.board_key, manifest.fingerprint)
    receipt.check_self()
    return receipt


def seal(sd: StateDir, view: BoardView, role: str, signer: Signer, poster: Poster) -> list[str]:
    """Post ``role``'s seal over its own copies, once; refuses (MissingEntry) when the
    board's entries of this party differ from the copies. NotDue after the close."""
    st = view.state
    if st.seals is not None and role in st.seals.sealed:
        return [f"the {role} has sealed already"]
    if st.phase not in ("setup", "voting"):
        raise NotDue(f"a seal comes before the close (phase {st.phase})")
    mine = posted(sd)
    on_board = [(e.type, e.body) for e in view.entries if ENTRY_ROLE.get(e.type) == role]
    for n, (kind, body) in enumerate(mine):
        if n >= len(on_board) or on_board[n] != (kind, body):
            raise MissingEntry(
                f"your {kind} entry number {n + 1} is not on the board as posted: keep "
                f"{sd.file(RECEIPTS_FILE)} as evidence and do not seal"
            )
    if len(on_board) > len(mine):
        raise MissingEntry(
            f"the board holds {len(on_board) - len(mine)} {role} entries you did not post"
        )
    body = seal_body(view.manifest.fingerprint, role, mine)
    post(sd, poster, signer, view.manifest.fingerprint, "seal", body)
    return [f"{role} seal posted: {body['entries']} entries, hash {body['hash'][:16]}…"]
