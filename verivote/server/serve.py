"""``verivote serve``: the board kept in a store, served over HTTP by uvicorn."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from verivote.board.log import Board
from verivote.board.store import open_store
from verivote.election.manifest import format_time
from verivote.encoding import from_hex
from verivote.errors import DecodeError, VerivoteError
from verivote.roles import keyfile
from verivote.roles.statedir import passphrase
from verivote.signatures import Signer


def utc_clock() -> str:
    """The current UTC time in the record's format."""
    return format_time(datetime.now(UTC))


def read_operator_key(path: Path, passphrase_env: str | None = None) -> Signer:
    """The board operator's Ed25519 key from ``path``: the encrypted ``board.key`` that
    ``verivote board init`` makes (its passphrase from the environment variable
    ``passphrase_env``, or asked), or a 32-byte seed in hex (white space around it
    ignored). Raises OSError or VerivoteError."""
    data = path.read_bytes()
    if keyfile.is_secret_file(data):
        secret = passphrase(passphrase_env)
        try:
            return Signer(keyfile.unseal(data, "board", secret))
        except keyfile.SecretFileError as exc:
            raise keyfile.SecretFileError(f"{path}: {exc}") from None
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise DecodeError(f"{path}: not a key file") from None
    return Signer(from_hex(text, 32, "operator key"))


def open_board(
    spec: str, election_id: str, key_file: Path, passphrase_env: str | None = None
) -> Board:
    """The board kept in the store ``spec`` (``sqlite:PATH`` or ``postgres:DSN``), timed by
    the UTC clock and signed with the operator key in ``key_file``, which must be the
    manifest's board key. Raises VerivoteError, OSError or ImportError."""
    operator = read_operator_key(key_file, passphrase_env)
    board = Board.open(open_store(spec, election_id), utc_clock, operator)
    manifest = board.state.manifest
    if manifest is None:
        raise VerivoteError(f"{spec}: the store holds no election yet")
    if election_id and manifest.election_id != election_id:
        raise VerivoteError(f"{spec}: the store holds election {manifest.election_id!r}")
    if manifest.board_key != operator.public_key:
        raise VerivoteError(f"{key_file}: not the board key of election {manifest.election_id}")
    return board


def main_serve(
    spec: str,
    election_id: str,
    key_file: Path,
    host: str,
    port: int,
    passphrase_env: str | None = None,
) -> int:
    """CLI entry: serve until interrupted; 2 when the board cannot be opened or the
    server extra is missing."""
    try:
        import uvicorn

        from verivote.server.app import create_app
    except ImportError as exc:
        print(f"verivote serve: needs the server extra ({exc})", file=sys.stderr)
        return 2
    try:
        board = open_board(spec, election_id, key_file, passphrase_env)
    except (VerivoteError, OSError, ImportError) as exc:
        print(f"verivote serve: {exc}", file=sys.stderr)
        return 2
    manifest = board.state.manifest
    assert manifest is not None
    print(f"serving {manifest.election_id} ({len(board)} entries) on http://{host}:{port}")
    uvicorn.run(create_app(board), host=host, port=port, log_level="info")
    return 0
