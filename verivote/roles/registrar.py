"""The registrar: imports the electors, makes the registrar's half of each credential,
publishes the roll and its amendments, and seals them.

State directory: ``role.json``, ``registrar.key`` (secret kind ``registrar``: the Ed25519
seed that signs the roll and amendments), ``public.key`` (hex, for the election file),
``electors.json`` (each elector id with its slot, the registrar's public half, category,
weight and e-mail: the registrar's private list; the board sees only the halves,
categories and weights, never the ids or e-mail addresses), ``slots.csv`` (elector id,
e-mail and slot: what the credential issuer needs to hand out its halves, no secret),
``posted.jsonl`` and ``receipts.txt`` (its own copies of what it posted and their author
receipts, :mod:`verivote.roles.authored`).

The electors' file is CSV with a header naming the columns ``elector_id``, ``category``,
``weight`` and optionally ``email``. Every bad row is reported with its line, and nothing
is issued unless every row is good. Each elector's secret half goes to its own file
(``DIR/ID.registrar.credential``, mode 0600) or to one CSV for a mail merge
(``elector_id,email,credential``); the registrar keeps no copy of any secret. The
elector's credential is complete once the issuer's half is added
(:mod:`verivote.roles.issuer`): neither party alone can vote for an elector.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verivote.election.manifest import Manifest, check_id
from verivote.election.roll import (
    MAX_WEIGHT,
    add_body,
    make_halves,
    registrar_items,
    revoke_body,
    roll_bodies,
)
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, VerivoteError
from verivote.roles import authored, statedir
from verivote.roles.handout import hand_out
from verivote.roles.organiser import NotDue
from verivote.roles.statedir import StateDir
from verivote.roles.transport import BoardView, Poster, read_board
from verivote.signatures import Signer

KEY_FILE, PUBLIC_FILE, ELECTORS_FILE = "registrar.key", "public.key", "electors.json"
SLOTS_FILE = "slots.csv"
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

    def _post(self, manifest: Manifest, poster: Poster, kind: str, body: dict[str, Any]) -> None:
        authored.post(self.sd, poster, self.signer, manifest.fingerprint, kind, body)

    def electors(self) -> dict[str, dict[str, Any]]:
        """The registrar's list: elector id → slot, half (hex), pop, category, weight, email."""
        if not self.sd.file(ELECTORS_FILE).exists():
            return {}
        data: dict[str, dict[str, Any]] = loads(self.sd.read(ELECTORS_FILE).strip())
        return data

    def _save(self, known: dict[str, dict[str, Any]]) -> None:
        self.sd.write(ELECTORS_FILE, dumps(known) + b"\n", replace=True)
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        out.writerow(["elector_id", "email", "slot"])
        for eid, v in sorted(known.items(), key=lambda kv: int(kv[1]["slot"])):
            out.writerow([eid, v["email"], v["slot"]])
        self.sd.write(SLOTS_FILE, buffer.getvalue().encode(), replace=True)

    def import_electors(
        self,
        board: str,
        csv_path: Path,
        poster: Poster,
        *,
        credentials_dir: Path | None = None,
        mail_merge: Path | None = None,
    ) -> list[str]:
        """Make the registrar's half of each credential of the electors in ``csv_path``,
        hand the secret halves out (files in ``credentials_dir`` or one ``mail_merge``
        CSV), write ``slots.csv`` for the issuer and post the roll. Run again after an
        interruption, it posts the parts of the roll not yet on the board."""
        view = self._view(board)
        m, st = view.manifest, view.state
        known = self.electors()
        if not known:
            if (credentials_dir is None) == (mail_merge is None):
                raise NotDue("say where the credentials go: --credentials DIR or --mail-merge")
            if st.phase != "setup":
                raise NotDue("the roll is fixed once the election opens: use registrar add")
            electors = read_electors(csv_path, m.categories)
            secrets, halves = make_halves(m.fingerprint, "registrar", 0, len(electors))
            items = registrar_items(halves, [(e.category, e.weight) for e in electors])
            known = {
                e.elector_id: {**item, "slot": n, "email": e.email}
                for n, (e, item) in enumerate(zip(electors, items, strict=True))
            }
            hand_out(
                "registrar",
                [(e.elector_id, e.email) for e in electors],
                secrets,
                credentials_dir,
                mail_merge,
            )
            self._save(known)
            said = [
                f"{len(electors)} registrar halves issued; slots for the issuer in "
                f"{self.sd.file(SLOTS_FILE)}"
            ]
        else:
            said = [f"{len(known)} electors imported already"]
        assert st.roll is not None
        items = [
            {k: v[k] for k in ("half", "pop", "category", "weight")}
            for v in sorted(known.values(), key=lambda v: int(v["slot"]))
            if not v.get("added")
        ]
        bodies = list(roll_bodies(items))
        for body in bodies[st.roll.parts :]:
            self._post(m, poster, "roll", body)
        said.append(f"roll: {len(bodies) - st.roll.parts} part(s) posted, {len(bodies)} in all")
        return said

    def bar(self, board: str, elector_id: str, reason: str, poster: Poster) -> list[str]:
        """Revoke elector ``elector_id``'s credential for ``reason`` (an identifier such as
        ``barred`` or ``membership-lapsed``): a signed public amendment. NotDue while the
        issuer's half of the elector's slot is not on the board."""
        check_id(reason, "reason")
        known = self.electors()
        if elector_id not in known:
            raise NotDue(f"no elector {elector_id!r} in {self.sd.file(ELECTORS_FILE)}")
        view = self._view(board)
        assert view.state.roll is not None
        key = view.state.roll.slot_key(int(known[elector_id]["slot"]))
        if key is None:
            raise NotDue(f"elector {elector_id}'s credential is not complete on the board")
        if key in view.state.roll.revoked:
            return [f"elector {elector_id} is barred already"]
        self._post(view.manifest, poster, "amend", revoke_body(key, reason))
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
        """Add one elector during voting (a signed public amendment for the next slot) and
        hand out its registrar half; the issuer completes it (``verivote issuer add``)."""
        check_id(reason, "reason")
        known = self.electors()
        if elector.elector_id in known:
            raise NotDue(f"elector {elector.elector_id!r} is on the list already")
        view = self._view(board)
        m = view.manifest
        if elector.category not in m.categories:
            raise DecodeError(f"category {elector.category!r} is not one of the election's")
        assert view.state.roll is not None
        slot = view.state.roll.slots[0]
        secrets, halves = make_halves(m.fingerprint, "registrar", slot, 1)
        (item,) = registrar_items(halves, [(elector.category, elector.weight)])
        hand_out(
            "registrar", [(elector.elector_id, elector.email)], secrets, credentials_dir, mail_merge
        )
        known[elector.elector_id] = {**item, "slot": slot, "email": elector.email, "added": True}
        self._save(known)
        self._post(m, poster, "amend", add_body(item, reason))
        return [
            f"elector {elector.elector_id} added ({elector.category}) in slot {slot}; "
            "the issuer completes the credential with verivote issuer add"
        ]

    def seal(self, board: str, poster: Poster) -> list[str]:
        """Seal the roll and amendments this registrar posted (before the close)."""
        view = self._view(board)
        return authored.seal(self.sd, view, "registrar", self.signer, poster)
