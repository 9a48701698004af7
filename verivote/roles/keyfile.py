"""Secrets encrypted at rest under a passphrase: the ``verivote-secret`` file, version 1.

A secret file is one canonical JSON object (docs/state-directories.md)::

    {"format": "verivote-secret", "version": 1, "kind": KIND,
     "kdf": {"name": "scrypt", "log2_n": 15, "r": 8, "p": 1, "salt": HEX16},
     "aead": "chacha20poly1305", "nonce": HEX12, "ciphertext": HEX}

The key is scrypt(passphrase, salt, N = 2^log2_n, r, p) of 32 bytes; the plaintext is
encrypted with ChaCha20-Poly1305 under that key and the nonce, with the canonical JSON of
every other field (the object without ``ciphertext``) as associated data, so changing the
kind, the KDF's cost or the salt is caught like a changed ciphertext. Salt and nonce are
fresh for every write. The plaintext never touches the disk.

Reading refuses, with a :class:`SecretFileError` that says which: a file that is not a
secret file, a version or algorithm this code does not know, KDF costs outside sane bounds
(a hostile file cannot make the reader spend minutes or gigabytes), another kind of secret
than the one asked for, and a wrong passphrase or a changed file (the AEAD tag fails; the
two cannot be told apart, and the message says so).
"""

from __future__ import annotations

import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, VerivoteError

FORMAT = "verivote-secret"
VERSION = 1
KDF = "scrypt"
AEAD = "chacha20poly1305"
LOG2_N = 15
"""scrypt cost: N = 2^15, r = 8 — 32 MiB of memory per derivation (about 0.1 s)."""
R, P = 8, 1
MAX_LOG2_N = 20
SALT_SIZE, NONCE_SIZE, KEY_SIZE = 16, 12, 32
MAX_FILE = 1 << 20


class SecretFileError(VerivoteError):
    """A secret file could not be opened: not one, an unknown version or algorithm, the
    wrong kind, or a wrong passphrase / a changed file."""


def _derive(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    if not passphrase:
        raise SecretFileError("the passphrase is empty")
    kdf = Scrypt(salt=salt, length=KEY_SIZE, n=1 << log2_n, r=r, p=p)
    return kdf.derive(passphrase.encode("utf-8"))


def seal(kind: str, plaintext: bytes, passphrase: str, *, log2_n: int = LOG2_N) -> bytes:
    """The bytes of a secret file holding ``plaintext`` (a secret of ``kind``, e.g.
    ``trustee``), encrypted under ``passphrase`` with a fresh salt and nonce. Raises
    SecretFileError for an empty passphrase."""
    salt, nonce = secrets.token_bytes(SALT_SIZE), secrets.token_bytes(NONCE_SIZE)
    return _seal(kind, plaintext, passphrase, salt, nonce, log2_n)


def _seal(
    kind: str, plaintext: bytes, passphrase: str, salt: bytes, nonce: bytes, log2_n: int
) -> bytes:
    """:func:`seal` with the salt and nonce given (known-answer tests)."""
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "kdf": {"name": KDF, "log2_n": log2_n, "r": R, "p": P, "salt": salt.hex()},
        "aead": AEAD,
        "nonce": nonce.hex(),
    }
    key = _derive(passphrase, salt, log2_n, R, P)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, plaintext, dumps(header))
    return dumps({**header, "ciphertext": ciphertext.hex()}) + b"\n"


def _hex(value: Any, size: int | None, what: str) -> bytes:
    if not isinstance(value, str):
        raise SecretFileError(f"{what} is not hex")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise SecretFileError(f"{what} is not hex") from None
    if size is not None and len(raw) != size:
        raise SecretFileError(f"{what} must be {size} bytes")
    return raw


def _int(obj: dict[str, Any], name: str, lo: int, hi: int) -> int:
    value = obj.get(name)
    if type(value) is not int or not lo <= value <= hi:
        raise SecretFileError(f"kdf {name} must be an integer in {lo}..{hi}")
    return value


def is_secret_file(data: bytes) -> bool:
    """Whether ``data`` looks like a secret file (its format field), not whether it opens."""
    return data.lstrip().startswith(b"{") and f'"format":"{FORMAT}"'.encode() in data


def unseal(data: bytes, kind: str, passphrase: str) -> bytes:
    """The plaintext of the secret file ``data``, which must hold a secret of ``kind``.
    Raises SecretFileError naming what is wrong (see the module docstring)."""
    if len(data) > MAX_FILE:
        raise SecretFileError("not a verivote secret file (too long)")
    try:
        obj = loads(data.strip(), canonical=False)
    except DecodeError:
        raise SecretFileError("not a verivote secret file (not JSON)") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise SecretFileError("not a verivote secret file")
    if obj.get("version") != VERSION or type(obj.get("version")) is not int:
        raise SecretFileError(
            f"secret file version {obj.get('version')!r} is not supported (this verivote "
            f"reads version {VERSION})"
        )
    expected = {"format", "version", "kind", "kdf", "aead", "nonce", "ciphertext"}
    if set(obj) != expected:
        raise SecretFileError(f"secret file: expected exactly the fields {sorted(expected)}")
    if obj["kind"] != kind:
        raise SecretFileError(f"this file holds a {obj['kind']!r} secret, not a {kind!r} one")
    kdf = obj["kdf"]
    if not isinstance(kdf, dict) or kdf.get("name") != KDF:
        raise SecretFileError(f"secret file: unknown key derivation (only {KDF})")
    if set(kdf) != {"name", "log2_n", "r", "p", "salt"}:
        raise SecretFileError("secret file: kdf needs exactly name, log2_n, r, p, salt")
    if obj["aead"] != AEAD:
        raise SecretFileError(f"secret file: unknown cipher {obj['aead']!r} (only {AEAD})")
    log2_n = _int(kdf, "log2_n", 10, MAX_LOG2_N)
    r, p = _int(kdf, "r", 1, 32), _int(kdf, "p", 1, 16)
    salt = _hex(kdf["salt"], SALT_SIZE, "kdf salt")
    nonce = _hex(obj["nonce"], NONCE_SIZE, "nonce")
    ciphertext = _hex(obj["ciphertext"], None, "ciphertext")
    header = {k: v for k, v in obj.items() if k != "ciphertext"}
    key = _derive(passphrase, salt, log2_n, r, p)
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, dumps(header))
    except InvalidTag:
        raise SecretFileError(
            "wrong passphrase, or the secret file was changed (it does not decrypt)"
        ) from None
