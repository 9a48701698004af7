"""``verivote serve``: the board kept in a store, served over HTTP by uvicorn.

Exit codes: 0 stopped by a signal; 2 the board cannot be opened (no such store, an empty
or foreign file, no election yet, the wrong key), the address cannot be bound (a port out
of range, in use, or not allowed), or the server extra is missing. Each is one line on
standard error; "serving on …" is printed only once the socket is bound.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from verivote.board.log import SNAPSHOT_EVERY, Board
from verivote.board.store import open_store
from verivote.election.manifest import format_time
from verivote.encoding import from_hex
from verivote.errors import DecodeError, VerivoteError
from verivote.roles import keyfile
from verivote.roles.statedir import passphrase
from verivote.signatures import Signer

EXIT_UNUSABLE = 2


@dataclass(frozen=True)
class ServeOptions:
    """The service's limits (``verivote serve`` options)."""

    workers: int = 0
    max_inflight: int = 32
    max_connections: int = 1000
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    head_every: float = 5.0
    latency_target: float = 0.25
    max_entry_body: int = 64 * 1024 * 1024
    snapshot_every: int = SNAPSHOT_EVERY


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
    spec: str,
    election_id: str,
    key_file: Path,
    passphrase_env: str | None = None,
    snapshot_every: int = SNAPSHOT_EVERY,
) -> Board:
    """The board kept in the store ``spec`` (``sqlite:PATH`` or ``postgres:DSN``), timed by
    the UTC clock and signed with the operator key in ``key_file``, which must be the
    manifest's board key. Nothing is created or written: a missing, empty or foreign
    store is refused (opening writes nothing; the service then keeps a snapshot of the
    board's state every ``snapshot_every`` entries and at phase changes, or with 0 only
    when it stops). Raises VerivoteError, OSError or ImportError."""
    operator = read_operator_key(key_file, passphrase_env)
    try:
        store = open_store(spec, election_id)
    except FileNotFoundError:
        raise VerivoteError(
            f"{spec}: no such store (create it with: verivote board init --store {spec})"
        ) from None
    board = Board.open(store, utc_clock, operator, snapshot_every=snapshot_every)
    manifest = board.state.manifest
    if manifest is None:
        raise VerivoteError(
            f"{spec}: the store holds no election yet (post the manifest first: "
            "verivote organiser init)"
        )
    if election_id and manifest.election_id != election_id:
        raise VerivoteError(f"{spec}: the store holds election {manifest.election_id!r}")
    if manifest.board_key != operator.public_key:
        raise VerivoteError(f"{key_file}: not the board key of election {manifest.election_id}")
    return board


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``. Raises VerivoteError (one line) for a port
    out of range, an unknown host, or an address in use or not allowed."""
    if not 0 <= port <= 65535:
        raise VerivoteError(f"port {port} is out of range (0 to 65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise VerivoteError(f"cannot listen on {host}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise VerivoteError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def _raise_file_limit(wanted: int) -> None:
    """Raise the soft limit of open files towards ``wanted`` (within the hard limit)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform dependent
        pass


def main_serve(
    spec: str,
    election_id: str,
    key_file: Path,
    host: str,
    port: int,
    options: ServeOptions | None = None,
    passphrase_env: str | None = None,
) -> int:
    """CLI entry: serve until interrupted; :data:`EXIT_UNUSABLE` (one line on standard
    error) when the board cannot be opened, the address cannot be bound or the server
    extra is missing."""
    opts = options or ServeOptions()
    try:
        import uvicorn

        from verivote.server.app import create_app
        from verivote.server.guard import guarded_protocol, limit_logging
    except ImportError as exc:
        print(f"verivote serve: needs the server extra ({exc})", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        sock = bind(host, port)
    except VerivoteError as exc:
        print(f"verivote serve: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        board = open_board(spec, election_id, key_file, passphrase_env, opts.snapshot_every)
    except (VerivoteError, OSError, ImportError) as exc:
        sock.close()
        print(f"verivote serve: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    manifest = board.state.manifest
    assert manifest is not None
    _raise_file_limit(opts.max_connections + 256)
    # The event loop shares the interpreter with the threads that append and sign: hand
    # the lock over every millisecond rather than every 5, or every socket write waits.
    sys.setswitchinterval(0.001)
    limit_logging()
    workers = opts.workers if opts.workers >= 0 else (os.cpu_count() or 1)
    app = create_app(
        board,
        workers=workers,
        max_inflight=opts.max_inflight,
        body_timeout=opts.body_timeout,
        head_every=opts.head_every,
        latency_target=opts.latency_target,
        max_entry_body=opts.max_entry_body,
    )
    config = uvicorn.Config(
        app,
        http=guarded_protocol(opts.max_connections, opts.header_timeout),
        log_level="warning",
        access_log=False,
        timeout_keep_alive=5,
        backlog=1024,
    )
    bound = sock.getsockname()
    print(
        f"serving {manifest.election_id} ({len(board)} entries) on "
        f"http://{host}:{bound[1]} ({workers} proof workers)",
        flush=True,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles the signal itself
        pass
    finally:
        sock.close()
        board.store.close()
    return 0
