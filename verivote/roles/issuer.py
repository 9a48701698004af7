"""The credential issuer: makes the second half of every elector's credential, publishes
the public halves and seals them.

The registrar makes one half of each credential and the issuer the other; an elector's
device adds the two secret halves, and the board accepts a ballot only under the sum of
the public halves. So neither the registrar nor the issuer alone can vote for an elector
(docs/protocol.md, "Split credentials"). The registrar tells the issuer which elector
holds which slot (its ``slots.csv``: elector id, e-mail, slot — no secret); the issuer
hands its secret halves to the electors over its own channel.

State directory: ``role.json``, ``issuer.key`` (secret kind ``issuer``: the Ed25519 seed
that signs the ``issuer`` and ``seal`` entries), ``public.key`` (hex, the election file's
``issuer_key``), ``electors.json`` (elector id → slot, public half, e-mail),
``posted.jsonl`` and ``receipts.txt`` (:mod:`verivote.roles.authored`). Each secret half
goes to ``DIR/ID.issuer.credential`` (mode 0600) or one mail-merge CSV; the issuer keeps
no copy.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from verivote.election.manifest import Manifest
from verivote.election.roll import Half, issuer_bodies, make_halves
from verivote.encoding import dumps, from_hex, loads
from verivote.roles import authored, statedir
from verivote.roles.handout import hand_out
from verivote.roles.organiser import NotDue
from verivote.roles.registrar import ElectorFileError
from verivote.roles.statedir import StateDir
from verivote.roles.transport import BoardView, Poster, read_board
from verivote.signatures import Signer

KEY_FILE, PUBLIC_FILE, ELECTORS_FILE = "issuer.key", "public.key", "electors.json"
SECRET_KIND = "issuer"


def keygen(directory: Path, passphrase: str) -> bytes:
    """Make the issuer's state directory and signing key; returns the public key."""
    sd = statedir.create(directory, "issuer", {})
    signer = Signer.generate()
    sd.write_secret(KEY_FILE, SECRET_KIND, signer.seed, passphrase)
    sd.write(PUBLIC_FILE, signer.public_key.hex().encode() + b"\n")
    return signer.public_key


def awaited_slot(filled_registrar: int, filled_issuer: int, slot: int | None) -> int:
    """The slot the issuer completes next, given how many slots have the registrar's half
    and how many the issuer's. The issuer completes slots in the order the registrar filled
    them, so a half can only go to slot ``filled_issuer``; with ``slot`` given it must be
    that one, and without it only one slot may be waiting — otherwise the issuer could not
    know the elector in front of it is the one the registrar put in that slot, and the two
    halves of two electors would be paired. Raises NotDue when no slot awaits and
    ValueError for a missing or wrong ``slot``."""
    if filled_issuer >= filled_registrar:
        raise NotDue("no slot awaits the issuer's half: the registrar has not added anyone")
    waiting = filled_registrar - filled_issuer
    if slot is None and waiting > 1:
        raise ValueError(
            f"{waiting} slots await the issuer's half ({filled_issuer} to "
            f"{filled_registrar - 1}): say which is this elector's with --slot (the "
            "registrar's `registrar add` printed it); they are completed in order"
        )
    if slot is not None and slot != filled_issuer:
        raise ValueError(
            f"slot {slot} is not the next to complete: slot {filled_issuer} is (slots get "
            "the issuer's half in the order the registrar filled them)"
        )
    return filled_issuer


def read_slots(path: Path) -> list[tuple[str, str, int]]:
    """The rows ``(elector_id, email, slot)`` of the registrar's ``slots.csv``, which
    must number the slots 0, 1, 2, … in order. Raises ElectorFileError."""
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError) as exc:
        raise ElectorFileError(f"{path}: cannot read: {exc}") from None
    if not rows or [c.strip() for c in rows[0]] != ["elector_id", "email", "slot"]:
        raise ElectorFileError(f"{path}:1: the header must be elector_id,email,slot")
    out: list[tuple[str, str, int]] = []
    for line, row in enumerate(rows[1:], 2):
        if len(row) != 3 or row[2].strip() != str(len(out)):
            raise ElectorFileError(f"{path}:{line}: expected elector_id,email,{len(out)}")
        out.append((row[0].strip(), row[1].strip(), len(out)))
    if not out:
        raise ElectorFileError(f"{path}: no electors")
    return out


class Issuer:
    """The credential issuer of state directory ``directory``, its key decrypted."""

    def __init__(self, directory: Path, passphrase: str) -> None:
        self.sd = StateDir(directory, "issuer")
        self.signer = Signer(self.sd.read_secret(KEY_FILE, SECRET_KIND, passphrase))

    def _view(self, board: str) -> BoardView:
        view = read_board(board)
        if view.manifest.issuer_key != self.signer.public_key:
            raise NotDue(f"{board}: the election names another issuer key")
        return view

    def _post(self, manifest: Manifest, poster: Poster, body: dict[str, Any]) -> None:
        authored.post(self.sd, poster, self.signer, manifest.fingerprint, "issuer", body)

    def electors(self) -> dict[str, dict[str, Any]]:
        """The issuer's list: elector id → slot, half, pop (hex), email."""
        if not self.sd.file(ELECTORS_FILE).exists():
            return {}
        data: dict[str, dict[str, Any]] = loads(self.sd.read(ELECTORS_FILE).strip())
        return data

    def _halves(self) -> list[Half]:
        known = sorted(self.electors().values(), key=lambda v: int(v["slot"]))
        return [
            Half(int(v["slot"]), from_hex(v["half"], 32, "half"), from_hex(v["pop"], 64, "pop"))
            for v in known
        ]

    def import_electors(
        self,
        board: str,
        slots_path: Path,
        poster: Poster,
        *,
        credentials_dir: Path | None = None,
        mail_merge: Path | None = None,
    ) -> list[str]:
        """Make the issuer's half for every slot of the registrar's ``slots_path``, hand
        the secret halves out and post the public halves. The registrar's roll must be on
        the board with as many slots. Run again, it posts what is not on the board yet."""
        view = self._view(board)
        m, st = view.manifest, view.state
        assert st.roll is not None
        known = self.electors()
        if not known:
            if (credentials_dir is None) == (mail_merge is None):
                raise NotDue("say where the credentials go: --credentials DIR or --mail-merge")
            if st.phase != "setup":
                raise NotDue("the roll is fixed once the election opens: use issuer add")
            rows = read_slots(slots_path)
            if st.roll.slots[0] != len(rows):
                raise NotDue(
                    f"the registrar's roll on the board has {st.roll.slots[0]} slots, "
                    f"{slots_path} {len(rows)}"
                )
            secrets, halves = make_halves(m.fingerprint, "issuer", 0, len(rows))
            hand_out(
                "issuer", [(e, mail) for e, mail, _ in rows], secrets, credentials_dir, mail_merge
            )
            known = {
                eid: {**h.to_dict(), "slot": slot, "email": mail}
                for (eid, mail, slot), h in zip(rows, halves, strict=True)
            }
            self.sd.write(ELECTORS_FILE, dumps(known) + b"\n")
            said = [f"{len(rows)} issuer halves issued"]
        else:
            said = [f"{len(known)} electors imported already"]
        bodies = list(issuer_bodies(self._halves()))
        for body in bodies[st.roll.issuer_parts :]:
            self._post(m, poster, body)
        said.append(
            f"issuer halves: {len(bodies) - st.roll.issuer_parts} part(s) posted, "
            f"{len(bodies)} in all"
        )
        return said

    def add(
        self,
        board: str,
        elector_id: str,
        email: str,
        poster: Poster,
        *,
        credentials_dir: Path | None = None,
        mail_merge: Path | None = None,
        slot: int | None = None,
    ) -> list[str]:
        """Complete the credential of an elector the registrar added during voting: the
        issuer's half for the next slot the registrar filled, which must be ``slot`` when
        given (the slot ``registrar add`` printed for this elector). NotDue when no slot
        awaits; ValueError when several do and ``slot`` is not given, or ``slot`` is not
        the next one (see :func:`awaited_slot`)."""
        known = self.electors()
        if elector_id in known:
            raise NotDue(f"elector {elector_id!r} has the issuer's half already")
        view = self._view(board)
        m, st = view.manifest, view.state
        assert st.roll is not None
        filled_i = awaited_slot(*st.roll.slots, slot)
        secrets, halves = make_halves(m.fingerprint, "issuer", filled_i, 1)
        hand_out("issuer", [(elector_id, email)], secrets, credentials_dir, mail_merge)
        known[elector_id] = {**halves[0].to_dict(), "slot": filled_i, "email": email}
        self.sd.write(ELECTORS_FILE, dumps(known) + b"\n", replace=True)
        (body,) = issuer_bodies(halves, st.roll.issuer_parts)
        self._post(m, poster, body)
        return [f"elector {elector_id}: issuer half posted for slot {filled_i}"]

    def seal(self, board: str, poster: Poster) -> list[str]:
        """Seal the ``issuer`` entries this issuer posted (before the close)."""
        return authored.seal(self.sd, self._view(board), "issuer", self.signer, poster)
