"""What a dishonest board operator can do to its own board, with its own files and key.

The operator of a verivote board holds three things nobody else does: the board's store
(here a SQLite file), the record it exports, and the key that signs the board's tree
heads. This module does with them what a real operator could, using only the documented
formats — ``docs/protocol.md`` (the record's lines, the signed heads, the RFC 9162 Merkle
tree) and ``docs/state-directories.md`` (the board's encrypted key file) — and nothing of
verivote's code:

* :func:`board_key` opens the operator's own key file with its passphrase;
* :func:`read_record` / :func:`write_record` read and write a record directory;
* :func:`read_store` / :func:`write_store` read a SQLite store and write a doctored copy
  (dropping the store's append-only triggers, which protect against accidents, not
  against the file's owner);
* :func:`rewrite` changes the log's lines and then re-signs every tree head over the
  changed log, so that the heads stay consistent with it (no ``log.root`` failure).

None of this is an attack on verivote's code: it is what the owner of the files can do.
What it cannot do is sign as anyone else — the organiser, the registrar, the issuer, a
trustee or a voter — and that, with the voters' receipts and observers who keep the
board's heads, is what catches it (``examples/dishonest_operator.py``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from nacl.signing import SigningKey

RECORD_FILE, HEADS_FILE = "board.jsonl", "heads.jsonl"
HEAD_LABEL = b"verivote/tree-head/v1"


def canonical(obj: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces, UTF-8), as the record writes it."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def frame(*parts: bytes) -> bytes:
    """Each part as a 4-byte big-endian length and its bytes (docs/protocol.md)."""
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def board_key(key_file: Path, passphrase: str) -> SigningKey:
    """The board's Ed25519 signing key from its secret file (docs/state-directories.md,
    "The secret file, version 1"): scrypt of the passphrase, then ChaCha20-Poly1305 with
    every other field as associated data."""
    obj = json.loads(key_file.read_text())
    kdf = obj["kdf"]
    key = hashlib.scrypt(
        passphrase.encode(),
        salt=bytes.fromhex(kdf["salt"]),
        n=2 ** kdf["log2_n"],
        r=kdf["r"],
        p=kdf["p"],
        maxmem=2**26,
        dklen=32,
    )
    header = {k: v for k, v in obj.items() if k != "ciphertext"}
    seed = ChaCha20Poly1305(key).decrypt(
        bytes.fromhex(obj["nonce"]), bytes.fromhex(obj["ciphertext"]), canonical(header)
    )
    return SigningKey(seed)


def leaf_hash(line: bytes) -> bytes:
    """RFC 9162 leaf hash of a record line."""
    return hashlib.sha256(b"\x00" + line).digest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 Merkle tree hash of the leaf hashes ``leaves`` (at least one)."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)  # largest power of two below n
    left, right = merkle_root(leaves[:split]), merkle_root(leaves[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass
class Log:
    """A board's log: its record lines and its signed heads (decoded JSON objects)."""

    lines: list[bytes]
    heads: list[dict[str, Any]]

    def entry(self, index: int) -> dict[str, Any]:
        """Entry ``index`` as JSON."""
        result: dict[str, Any] = json.loads(self.lines[index])
        return result

    def indexes(self, entry_type: str) -> list[int]:
        """The indexes of the entries of ``entry_type``, in log order."""
        return [i for i in range(len(self.lines)) if self.entry(i)["type"] == entry_type]


def read_record(directory: Path) -> Log:
    """The log of a record directory (``board.jsonl`` and ``heads.jsonl``)."""
    lines = (directory / RECORD_FILE).read_bytes().splitlines()
    heads = [json.loads(h) for h in (directory / HEADS_FILE).read_bytes().splitlines() if h]
    return Log(lines, heads)


def write_record(directory: Path, log: Log) -> Path:
    """Write ``log`` as a record directory (created if needed); returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RECORD_FILE).write_bytes(b"".join(line + b"\n" for line in log.lines))
    (directory / HEADS_FILE).write_bytes(b"".join(canonical(h) + b"\n" for h in log.heads))
    return directory


def read_store(path: Path) -> Log:
    """The log kept in the SQLite store ``path`` (tables ``entries`` and ``heads``)."""
    db = sqlite3.connect(path)
    try:
        lines = [bytes(row[0]) for row in db.execute("SELECT line FROM entries ORDER BY idx")]
        heads = [json.loads(row[0]) for row in db.execute("SELECT head FROM heads ORDER BY seq")]
    finally:
        db.close()
    return Log(lines, heads)


def write_store(source: Path, target: Path, log: Log) -> None:
    """Copy the store ``source`` (safe while a server is using it) to ``target`` and put
    ``log`` in the copy in place of what it held. The store's triggers refuse every update
    and delete; the file's owner simply drops them and puts them back afterwards."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target, isolation_level=None)
    try:
        src.backup(dst)
        triggers = dst.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        saved = list(triggers)
        dst.execute("BEGIN")
        for name, _ in saved:
            dst.execute(f'DROP TRIGGER "{name}"')
        dst.execute("DELETE FROM entries")
        dst.execute("DELETE FROM heads")
        dst.executemany(
            "INSERT INTO entries (idx, line, leaf) VALUES (?, ?, ?)",
            [(i, line, leaf_hash(line)) for i, line in enumerate(log.lines)],
        )
        dst.executemany(
            "INSERT INTO heads (seq, head) VALUES (?, ?)",
            [(i, canonical(h)) for i, h in enumerate(log.heads)],
        )
        for _, sql in saved:
            dst.execute(sql)
        dst.execute("COMMIT")
    finally:
        src.close()
        dst.close()


Line = tuple[float, bytes]
"""A line of a log being rewritten, with its place in the original log: its old index,
or (for an inserted line) a fraction just below the index of the line it goes before."""


def rewrite(
    log: Log,
    edit: Callable[[list[Line]], Iterable[Line]],
    key: SigningKey,
    fingerprint: bytes,
) -> Log:
    """``log`` with its lines changed by ``edit`` and every head re-signed with ``key``.

    ``edit`` gets the lines with their places and returns the new list (lines changed,
    removed or inserted, places kept). Each old head of size ``s`` at time ``t`` becomes a
    head at ``t`` over the new lines whose place is below ``s``, signed afresh (two heads
    that come to the same size keep the first), so that the heads still describe the log
    exactly as an honest board's would."""
    new = sorted(edit([(float(i), line) for i, line in enumerate(log.lines)]))
    leaves = [leaf_hash(line) for _, line in new]
    heads: list[dict[str, Any]] = []
    for old in log.heads:
        size = sum(1 for place, _ in new if place < old["size"])
        if size == 0 or (heads and heads[-1]["size"] == size):
            continue
        heads.append(
            sign_head(
                key, fingerprint, old["election"], size, merkle_root(leaves[:size]), old["time"]
            )
        )
    return Log([line for _, line in new], heads)


def sign_head(
    key: SigningKey, fingerprint: bytes, election: str, size: int, root: bytes, time: str
) -> dict[str, Any]:
    """A tree head signed by the board's key (docs/protocol.md, "The record")."""
    message = frame(
        HEAD_LABEL, fingerprint, election.encode(), size.to_bytes(8, "big"), root, time.encode()
    )
    signature = key.sign(message).signature
    return {
        "election": election,
        "root": root.hex(),
        "sig": signature.hex(),
        "size": size,
        "time": time,
    }
