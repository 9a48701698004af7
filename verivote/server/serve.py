"""``verivote serve``: the board kept in a store, served over HTTP by uvicorn."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from verivote.board.log import Board
from verivote.board.store import open_store
from verivote.election.manifest import format_time
from verivote.encoding import from_hex
from verivote.errors import VerivoteError
from verivote.signatures import Signer


def utc_clock() -> str:
    """The current UTC time in the record's format."""
    return format_time(datetime.now(UTC))


def read_operator_key(path: Path) -> Signer:
    """The board operator's Ed25519 key from ``path``: its 32-byte seed in hex (white
    space around it ignored). Raises OSError or DecodeError."""
    return Signer(from_hex(path.read_text(encoding="ascii").strip(), 32, "operator key"))


def open_board(spec: str, election_id: str, key_file: Path) -> Board:
    """The board kept in the store ``spec`` (``sqlite:PATH`` or ``postgres:DSN``), timed by
    the UTC clock and signed with the operator key in ``key_file``, which must be the
    manifest's board key. Raises VerivoteError, OSError or ImportError."""
    operator = read_operator_key(key_file)
    board = Board.open(open_store(spec, election_id), utc_clock, operator)
    manifest = board.state.manifest
    if manifest is None:
        raise VerivoteError(f"{spec}: the store holds no election yet")
    if election_id and manifest.election_id != election_id:
        raise VerivoteError(f"{spec}: the store holds election {manifest.election_id!r}")
    if manifest.board_key != operator.public_key:
        raise VerivoteError(f"{key_file}: not the board key of election {manifest.election_id}")
    return board


def main_serve(spec: str, election_id: str, key_file: Path, host: str, port: int) -> int:
    """CLI entry: serve until interrupted; 2 when the board cannot be opened or the
    server extra is missing."""
    try:
        import uvicorn

        from verivote.server.app import create_app
    except ImportError as exc:
        print(f"verivote serve: needs the server extra ({exc})", file=sys.stderr)
        return 2
    try:
        board = open_board(spec, election_id, key_file)
    except (VerivoteError, OSError, ImportError) as exc:
        print(f"verivote serve: {exc}", file=sys.stderr)
        return 2
    manifest = board.state.manifest
    assert manifest is not None
    print(f"serving {manifest.election_id} ({len(board)} entries) on http://{host}:{port}")
    uvicorn.run(create_app(board), host=host, port=port, log_level="info")
    return 0
