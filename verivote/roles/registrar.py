"""The registrar: imports the electors, issues their credentials, publishes the roll and
its amendments.

State directory: ``role.json``, ``registrar.key`` (secret kind ``registrar``: the Ed25519
seed that signs the roll and amendments), ``public.key`` (hex, for the election file) and
``electors.json`` (each elector id with the public credential, category, weight and
e-mail: the registrar's private list; the board sees only the public credentials,
categories and weights, never the ids or e-mail addresses).

The electors' file is CSV with a header naming the columns ``elector_id``, ``category``,
``weight`` and optionally ``email``. Every bad row is reported with its line, and nothing
is issued unless every row is good. Each elector's secret credential goes to its own file
(``DIR/ID.credential``, mode 0600) or to one CSV for a mail merge
(``elector_id,email,credential``); the registrar keeps no copy of any secret credential.

How a credential is made is :func:`issue`'s alone: a change of the credential model (two
issuers, or electors who make their own keys) is a change of that function.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verivote.election.entries import Entry, sign_entry
from verivote.election.manifest import Manifest, check_id
from verivote.election.roll import (
    MAX_WEIGHT,
    CredentialRecord,
    add_body,
    credential_secret_text,
    issue_credentials,
    revoke_body,
    roll_bodies,
)
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, VerivoteError
from verivote.roles import statedir
from verivote.roles.board_operator import utc_now
from verivote.roles.organiser import NotDue
from verivote.roles.statedir import StateDir, StateError, write_private
from verivote.roles.transport import BoardView, Poster, read_board
from verivote.signatures import Signer

KEY_FILE, PUBLIC_FILE, ELECTORS_FILE = "registrar.key", "public.key", "electors.json"
SECRET_KIND = "registrar"
_ELECTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_ERRORS = 20


class ElectorFileError(VerivoteError, ValueError):
    """An electors' CSV with bad rows; the message lists them by line."""


@dataclass(frozen=True, slots=True)
class Elector:
    """One row of the electors' file."""

    elector_id: str
    category: str
    weight: int
    email: str


def keygen(directory: Path, passphrase: str) -> bytes:
    """Make the registrar's state directory and signing key; returns the public key."""
    sd = statedir.create(directory, "registrar", {})
    signer = Signer.generate()
    sd.write_secret(KEY_FILE, SECRET_KIND, signer.seed, passphrase)
    sd.write(PUBLIC_FILE, signer.public_key.hex().encode() + b"\n")
    return signer.public_key


def read_electors(path: Path, categories: Sequence[str]) -> list[Elector]:
    """The rows of the electors' CSV at ``path``. Raises ElectorFileError listing every
    bad row by line (up to 20): a missing column, an elector id that is not 1–64 letters,
    digits, ``.``, ``_`` or ``-`` or that repeats, a category not in ``categories``, a
    weight that is not an integer in 1..1,000,000, an e-mail without ``@``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ElectorFileError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("elector_id", "category", "weight") if c not in columns]
    if missing:
        raise ElectorFileError(
            f"{path}:1: the header must name elector_id, category, weight (and optionally "
            f"email); missing {', '.join(missing)}"
        )
    out: list[Elector] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        cells = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            errors.append(f"{path}:{line}: more cells than columns")
            continue
        eid, cat, raw_weight = cells["elector_id"], cells["category"], cells["weight"]
        email = cells.get("email", "")
        problem = None
        if not _ELECTOR_ID.match(eid):
            problem = f"elector_id {eid!r} is not 1-64 letters, digits, '.', '_' or '-'"
        elif eid in seen:
            problem = f"elector_id {eid!r} repeats line {seen[eid]}"
        elif cat not in categories:
            problem = f"category {cat!r} is not one of {', '.join(categories)}"
        elif not raw_weight.isdigit() or not 1 <= int(raw_weight) <= MAX_WEIGHT:
            problem = f"weight {raw_weight!r} is not an integer in 1..{MAX_WEIGHT}"
        elif email and ("@" not in email or any(c in email for c in " ,;<>")):
            problem = f"email {email!r} is not an e-mail address"
        if problem:
            errors.append(f"{path}:{line}: {problem}")
            continue
        seen[eid] = line
        out.append(Elector(eid, cat, int(raw_weight), email))
    if errors:
        more = f"\n… and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
        raise ElectorFileError("\n".join(errors[:MAX_ERRORS]) + more)
    if not out:
        raise ElectorFileError(f"{path}: no electors")
    return out


def issue(electors: Sequence[Elector]) -> tuple[list[Signer], list[CredentialRecord]]:
    """One credential per elector: the secrets (for the electors) and the public records
    (for the roll), in the same order."""
    return issue_credentials((e.category, e.weight) for e in electors)


class Registrar:
    """The registrar of state directory ``directory``, its key decrypted."""

    def __init__(self, directory: Path, passphrase: str) -> None:
        self.sd = StateDir(directory, "registrar")
        self.signer = Signer(self.sd.read_secret(KEY_FILE, SECRET_KIND, passphrase))

    def _view(self, board: str) -> BoardView:
        view = read_board(board)
        if view.manifest.registrar_key != self.signer.public_key:
            raise NotDue(f"{board}: the election names another registrar key")
        return view

    def _sign(self, manifest: Manifest, entry_type: str, body: dict[str, Any]) -> Entry:
        return sign_entry(self.signer, manifest.fingerprint, entry_type, body, utc_now())

    def electors(self) -> dict[str, dict[str, Any]]:
        """The registrar's list: elector id → key (hex), category, weight, email."""
        if not self.sd.file(ELECTORS_FILE).exists():
            return {}
        data: dict[str, dict[str, Any]] = loads(self.sd.read(ELECTORS_FILE).strip())
        return data

    def import_electors(
        self,
        board: str,
        csv_path: Path,
        poster: Poster,
        *,
        credentials_dir: Path | None = None,
        mail_merge: Path | None = None,
    ) -> list[str]:
        """Issue the credentials of the electors in ``csv_path``, hand them out (files in
        ``credentials_dir`` or one ``mail_merge`` CSV) and post the roll. Run again after
        an interruption, it posts the parts of the roll not yet on the board."""
        view = self._view(board)
        m, st = view.manifest, view.state
        known = self.electors()
        if not known:
            if (credentials_dir is None) == (mail_merge is None):
                raise NotDue("say where the credentials go: --credentials DIR or --mail-merge")
            if st.phase != "setup":
                raise NotDue("the roll is fixed once the election opens: use registrar add")
            electors = read_electors(csv_path, m.categories)
            secrets, records = issue(electors)
            known = {
                e.elector_id: {**r.to_dict(), "email": e.email}
                for e, r in zip(electors, records, strict=True)
            }
            _hand_out(electors, secrets, credentials_dir, mail_merge)
            self.sd.write(ELECTORS_FILE, dumps(known) + b"\n")
            said = [f"{len(electors)} credentials issued"]
        else:
            said = [f"{len(known)} electors imported already"]
        records = [
            CredentialRecord(bytes.fromhex(v["key"]), v["category"], v["weight"])
            for v in (known.values())
        ]
        assert st.roll is not None
        bodies = list(roll_bodies(records))
        for body in bodies[st.roll.parts :]:
            poster.post(self._sign(m, "roll", body))
        said.append(f"roll: {len(bodies) - st.roll.parts} part(s) posted, {len(bodies)} in all")
        return said

    def bar(self, board: str, elector_id: str, reason: str, poster: Poster) -> list[str]:
        """Revoke elector ``elector_id``'s credential for ``reason`` (an identifier such as
        ``barred`` or ``membership-lapsed``): a signed public amendment."""
        check_id(reason, "reason")
        known = self.electors()
        if elector_id not in known:
            raise NotDue(f"no elector {elector_id!r} in {self.sd.file(ELECTORS_FILE)}")
        view = self._view(board)
        key = bytes.fromhex(known[elector_id]["key"])
        assert view.state.roll is not None
        if key in view.state.roll.revoked:
            return [f"elector {elector_id} is barred already"]
        poster.post(self._sign(view.manifest, "amend", revoke_body(key, reason)))
        return [f"elector {elector_id} barred ({reason})"]

    def add(
        self,
        board: str,
        elector: Elector,
        reason: str,
        poster: Poster,
        *,
        credentials_dir: Path | None = None,
        mail_merge: Path | None = None,
    ) -> list[str]:
        """Add one elector during voting (a signed public amendment) and hand out its
        credential."""
        check_id(reason, "reason")
        known = self.electors()
        if elector.elector_id in known:
            raise NotDue(f"elector {elector.elector_id!r} is on the list already")
        view = self._view(board)
        if elector.category not in view.manifest.categories:
            raise DecodeError(f"category {elector.category!r} is not one of the election's")
        secrets, records = issue([elector])
        known[elector.elector_id] = {**records[0].to_dict(), "email": elector.email}
        _hand_out([elector], secrets, credentials_dir, mail_merge)
        self.sd.write(ELECTORS_FILE, dumps(known) + b"\n", replace=True)
        poster.post(self._sign(view.manifest, "amend", add_body(records[0], reason)))
        return [f"elector {elector.elector_id} added ({elector.category})"]


def _hand_out(
    electors: Sequence[Elector],
    secrets: Sequence[Signer],
    credentials_dir: Path | None,
    mail_merge: Path | None,
) -> None:
    """Write each secret credential to its file, or all of them to one mail-merge CSV."""
    if mail_merge is not None:
        if mail_merge.exists():
            raise StateError(f"{mail_merge} exists already: refusing to overwrite it")
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        out.writerow(["elector_id", "email", "credential"])
        for e, s in zip(electors, secrets, strict=True):
            out.writerow([e.elector_id, e.email, credential_secret_text(s)])
        write_private(mail_merge, buffer.getvalue().encode())
        return
    assert credentials_dir is not None
    credentials_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = [credentials_dir / f"{e.elector_id}.credential" for e in electors]
    clash = [e.elector_id for e, p in zip(electors, paths, strict=True) if p.exists()]
    if clash:
        raise StateError(
            f"{credentials_dir} holds credentials of {', '.join(clash[:5])} already: "
            "refusing to overwrite them"
        )
    for path, s in zip(paths, secrets, strict=True):
        write_private(path, (credential_secret_text(s) + "\n").encode())
