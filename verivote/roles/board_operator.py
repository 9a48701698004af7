"""The board operator: creates the store and the board's signing key, and puts the
organiser's signed election entry in the store before the board is served.

State directory: ``role.json`` (``store``: the store's spec), ``board.key`` (secret kind
``board``: the Ed25519 seed of the key that signs tree heads) and ``public.key`` (its
public half, hex, for the organiser's manifest).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from verivote.board.log import Board
from verivote.board.store import Store, open_store
from verivote.election.manifest import Manifest, format_time
from verivote.errors import ParameterError, StoreError
from verivote.roles import statedir
from verivote.roles.statedir import StateDir, StateError
from verivote.roles.transport import read_entries
from verivote.signatures import Signer

KEY_FILE, PUBLIC_FILE = "board.key", "public.key"
SECRET_KIND = "board"


def utc_now() -> str:
    """The current UTC time in the record's format (the board's clock)."""
    return format_time(datetime.now(UTC))


def create_store(spec: str, election_id: str = "") -> Store:
    """Create the empty store ``spec`` (``sqlite:PATH``, refusing an existing file, or
    ``postgres:DSN``, which needs ``election_id``). Raises StateError or StoreError."""
    kind, sep, rest = spec.partition(":")
    if kind == "sqlite" and sep and rest:
        from verivote.board.sqlite_store import SQLiteStore

        if Path(rest).exists():
            raise StateError(f"{rest} exists already: refusing to overwrite it")
        return SQLiteStore(rest, create=True)
    if kind in ("postgres", "postgresql") and sep and rest:
        from verivote.board.pg_store import PostgresStore

        if not election_id:
            raise StateError("a postgres store holds several elections: give --election ID")
        store = PostgresStore(spec if rest.startswith("//") else rest, election_id, create=True)
        if store.count():
            store.close()
            raise StateError(f"the store holds election {election_id!r} already")
        return store
    raise ParameterError(f"store {spec!r}: expected sqlite:PATH or postgres:DSN")


def init(directory: Path, spec: str, passphrase: str, election_id: str = "") -> bytes:
    """Make the board's state directory, its key (encrypted) and the empty store; returns
    the public key. Nothing is created if the directory or the store exists already."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise StateError(f"{directory} exists already and is not empty: refusing to overwrite it")
    create_store(spec, election_id).close()
    sd = statedir.create(directory, "board", {"store": spec, "election": election_id})
    signer = Signer.generate()
    sd.write_secret(KEY_FILE, SECRET_KIND, signer.seed, passphrase)
    sd.write(PUBLIC_FILE, signer.public_key.hex().encode() + b"\n")
    return signer.public_key


def operator_key(sd: StateDir, passphrase: str) -> Signer:
    """The board's signing key, decrypted."""
    return Signer(sd.read_secret(KEY_FILE, SECRET_KIND, passphrase))


def load(directory: Path, entry_file: Path, passphrase: str) -> list[int]:
    """Append the signed entries of ``entry_file`` (first of all the organiser's election
    entry) to the store, timed now; returns their indices. Refuses an election whose
    manifest names another board key (StateError), and any entry the rule book refuses
    (EntryRejected)."""
    sd = StateDir(directory, "board")
    operator = operator_key(sd, passphrase)
    entries = read_entries(entry_file, utc_now())
    for entry in entries:
        if entry.type == "election":
            manifest = Manifest.from_dict(entry.body)
            if manifest.board_key != operator.public_key:
                raise StateError(
                    f"{entry_file}: the election names board key {manifest.board_key.hex()}, "
                    f"not this board's {operator.public_key.hex()}"
                )
            if not sd.config.get("election"):
                sd.config["election"] = manifest.election_id
                sd.save_config()
    spec = str(sd.config["store"])
    election = str(sd.config.get("election") or "")
    try:
        store = open_store(spec, election)
    except FileNotFoundError:
        raise StoreError(f"{spec}: no such store") from None
    try:
        board = Board.open(store, utc_now, operator)
        return [board.append(e, stamp=True) for e in entries]
    finally:
        store.close()
