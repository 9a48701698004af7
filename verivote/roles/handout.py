"""Handing out the secret halves of the electors' credentials, and reading them back.

The registrar and the credential issuer each write their half of every elector's
credential (``vvh1-`` and the scalar in hex, :func:`~verivote.election.roll.half_secret_text`)
either to its own file ``DIR/ID.ROLE.credential`` (mode 0600; ``ROLE`` is ``registrar`` or
``issuer``) or to one CSV for a mail merge (``elector_id,email,credential``). Neither keeps
a copy. The elector's device adds the two halves (:func:`read_credential`); a file holding
both half texts, one per line (``verivote credential combine``), serves as well.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from verivote.election.roll import credential_from_halves, half_secret_text
from verivote.errors import DecodeError
from verivote.roles.statedir import StateError, write_private
from verivote.signatures import ScalarSigner


def half_file(directory: Path, elector_id: str, role: str) -> Path:
    """Where ``role``'s half of ``elector_id``'s credential goes in ``directory``."""
    return directory / f"{elector_id}.{role}.credential"


def hand_out(
    role: str,
    electors: Sequence[tuple[str, str]],
    secrets: Sequence[ScalarSigner],
    credentials_dir: Path | None,
    mail_merge: Path | None,
) -> None:
    """Write each ``(elector_id, email)``'s secret half to its file, or all of them to one
    mail-merge CSV. Refuses (StateError) to overwrite a file."""
    if mail_merge is not None:
        if mail_merge.exists():
            raise StateError(f"{mail_merge} exists already: refusing to overwrite it")
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        out.writerow(["elector_id", "email", "credential"])
        for (eid, email), s in zip(electors, secrets, strict=True):
            out.writerow([eid, email, half_secret_text(s)])
        write_private(mail_merge, buffer.getvalue().encode())
        return
    if credentials_dir is None:
        raise StateError("say where the credentials go: --credentials DIR or --mail-merge FILE")
    credentials_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = [half_file(credentials_dir, eid, role) for eid, _ in electors]
    clash = [eid for (eid, _), p in zip(electors, paths, strict=True) if p.exists()]
    if clash:
        raise StateError(
            f"{credentials_dir} holds {role} halves of {', '.join(clash[:5])} already: "
            "refusing to overwrite them"
        )
    for path, s in zip(paths, secrets, strict=True):
        write_private(path, (half_secret_text(s) + "\n").encode())


def _texts(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DecodeError(f"{path}: cannot read the credential: {exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_credential(paths: Sequence[Path]) -> ScalarSigner:
    """The elector's signing credential from its two half files (registrar's and
    issuer's, in either order), or from one combined file holding both. Raises
    DecodeError naming the file."""
    texts = [t for p in paths for t in _texts(p)]
    if len(texts) != 2:
        raise DecodeError(
            "a credential is two halves: give --credential twice (the registrar's and the "
            "issuer's file), or once with a combined file"
        )
    return credential_from_halves(texts[0], texts[1])


def combine_files(paths: Sequence[Path], out: Path) -> Path:
    """Write both halves into one file ``out`` (mode 0600), after checking they make a
    credential."""
    read_credential(paths)
    texts = [t for p in paths for t in _texts(p)]
    return write_private(out, ("\n".join(texts) + "\n").encode())
