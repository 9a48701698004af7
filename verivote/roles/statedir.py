"""A person's state directory: ``role.json`` (the role and its public configuration, in
clear) and the role's files, public ones in clear and secret ones as
:mod:`verivote.roles.keyfile` secret files.

The directory is created with mode 0700 and every file in it with 0600 (the umask cannot
widen them). :func:`create` refuses a directory that already holds anything, and
:meth:`StateDir.write` refuses to overwrite an existing file unless asked to ``replace`` it
(then it writes a temporary file and renames it over the old one, so a crash leaves one or
the other, never half of each). The passphrase comes from an environment variable named by
the caller or from a prompt; it is never written anywhere.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from verivote.encoding import dumps
from verivote.errors import VerivoteError
from verivote.roles import keyfile

ROLE_FILE = "role.json"
ROLES = ("board", "organiser", "trustee", "registrar", "issuer")


class StateError(VerivoteError):
    """A state directory that cannot be made or used: it exists already, it is another
    role's, a file is missing, or no passphrase was given."""


def passphrase(env_name: str | None, *, confirm: bool = False) -> str:
    """The passphrase: from the environment variable ``env_name`` when it is given (which
    must be set and not empty), else asked on the terminal (twice with ``confirm``).
    Raises StateError when neither gives one."""
    if env_name:
        value = os.environ.get(env_name, "")
        if not value:
            raise StateError(f"the environment variable {env_name} holds no passphrase")
        return value
    if not sys.stdin.isatty():
        raise StateError("no passphrase: give --passphrase-env NAME or run on a terminal")
    first = getpass.getpass("passphrase: ")
    if confirm and getpass.getpass("passphrase again: ") != first:
        raise StateError("the two passphrases differ")
    if not first:
        raise StateError("the passphrase is empty")
    return first


class StateDir:
    """An existing state directory of ``role``."""

    def __init__(self, path: Path, role: str) -> None:
        self.path = path
        self.role = role
        try:
            config = json.loads((path / ROLE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StateError(f"{path}: not a verivote state directory (no {ROLE_FILE})") from None
        except (OSError, ValueError) as exc:
            raise StateError(f"{path / ROLE_FILE}: unreadable: {exc}") from None
        if not isinstance(config, dict) or config.get("role") != role:
            found = config.get("role") if isinstance(config, dict) else None
            raise StateError(f"{path}: the state directory of a {found}, not of a {role}")
        self.config: dict[str, Any] = config

    def file(self, name: str) -> Path:
        """The path of ``name`` in the directory."""
        return self.path / name

    def write(self, name: str, data: bytes, *, replace: bool = False) -> Path:
        """Write ``data`` to ``name`` with mode 0600; StateError if it exists and not
        ``replace``."""
        return write_private(self.path / name, data, replace=replace)

    def read(self, name: str) -> bytes:
        """The bytes of ``name``; StateError if it is missing."""
        try:
            return (self.path / name).read_bytes()
        except OSError as exc:
            raise StateError(f"{self.path / name}: cannot read: {exc.strerror}") from None

    def write_secret(
        self, name: str, kind: str, plaintext: bytes, secret: str, *, replace: bool = False
    ) -> Path:
        """Encrypt ``plaintext`` under the passphrase ``secret`` into ``name``."""
        return self.write(name, keyfile.seal(kind, plaintext, secret), replace=replace)

    def read_secret(self, name: str, kind: str, secret: str) -> bytes:
        """Decrypt ``name``; SecretFileError if the passphrase is wrong or the file was
        changed."""
        try:
            return keyfile.unseal(self.read(name), kind, secret)
        except keyfile.SecretFileError as exc:
            raise keyfile.SecretFileError(f"{self.path / name}: {exc}") from None

    def save_config(self) -> None:
        """Write the configuration back."""
        self.write(ROLE_FILE, dumps(self.config) + b"\n", replace=True)


def write_private(path: Path, data: bytes, *, replace: bool = False) -> Path:
    """Write ``data`` to ``path`` readable by its owner only (0600); refuses to overwrite
    an existing file unless ``replace``. Raises StateError."""
    if not replace:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise StateError(f"{path} exists already: refusing to overwrite it") from None
        except OSError as exc:
            raise StateError(f"{path}: cannot write: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return path
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StateError(f"{path}: cannot write: {exc.strerror}") from None
    return path


def create(path: Path, role: str, config: dict[str, Any]) -> StateDir:
    """Make a new state directory for ``role`` at ``path`` (mode 0700) holding
    ``role.json``. Refuses (StateError) a path that exists and is not an empty directory."""
    if role not in ROLES:
        raise StateError(f"unknown role {role!r}")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise StateError(f"{path} exists already and is not empty: refusing to overwrite it")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise StateError(f"{path}: cannot create: {exc.strerror}") from None
    write_private(path / ROLE_FILE, dumps({**config, "role": role}) + b"\n")
    return StateDir(path, role)
