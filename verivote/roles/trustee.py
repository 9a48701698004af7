"""A trustee: its keys, its part of the key ceremony and its decryption share.

State directory: ``role.json`` (its name), ``trustee.key`` (secret kind ``trustee``: a
canonical JSON object with the Ed25519 seed ``sign``, the X25519 key ``box`` and, once the
trustee has announced, the ``election`` fingerprint and the polynomial's
``coefficients``), and ``public.toml`` (the ``[[trustees]]`` table for the organiser's
election file). The polynomial is saved — encrypted — before its announcement is posted,
so a step interrupted between the two is resumed with the same polynomial.

:func:`ceremony_step` reads the board and does whatever is still due in the organiser's
ceremony run (every entry carries the run id, before its deadline): announce; once every
trustee has announced, send each other trustee its share; open and check every share
received (:func:`~verivote.election.keygen.check_received`), complaining about a bad or
missing one (:func:`~verivote.election.keygen.complaint_bodies`); answer each complaint
against this trustee with a justification. Run again, it does only what is left, so it
can be re-run until the organiser posts the joint key; with a waiting time it keeps
watching the board until nothing is awaited from the other trustees. :func:`decrypt`
posts the trustee's proven decryption share of the tally on the board, its secret share
combined over the qualified set only (:func:`~verivote.election.keygen.secret_share`).
For ranked contests, :func:`mix` posts the trustee's shuffle of the ranked ballots (one
after another, ``threshold`` trustees mix each contest), and :func:`decrypt`, once the
mixes are in, also posts its proven shares of the mixed ballots.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey

from verivote.election import ceremony, decryption
from verivote.election import keygen as run_rules
from verivote.election.entries import Entry, sign_entry
from verivote.election.manifest import Manifest
from verivote.encoding import dumps, from_hex, loads
from verivote.errors import VerivoteError
from verivote.groups.base import Scalar
from verivote.roles import statedir
from verivote.roles.board_operator import utc_now
from verivote.roles.organiser import NotDue
from verivote.roles.statedir import StateDir
from verivote.roles.transport import BoardView, Poster, read_board
from verivote.signatures import Signer

KEY_FILE, PUBLIC_FILE = "trustee.key", "public.toml"
SECRET_KIND = "trustee"
POLL_SECONDS = 0.5


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def keygen(directory: Path, name: str, passphrase: str) -> str:
    """Make the trustee's state directory and keys; returns the ``[[trustees]]`` table
    (also saved as ``public.toml``)."""
    if not name or len(name) > 200 or not name.isprintable():
        raise statedir.StateError("a trustee's name is 1 to 200 printable characters")
    sd = statedir.create(directory, "trustee", {"name": name})
    signer, box = Signer.generate(), PrivateKey.generate()
    secret = {"sign": signer.seed.hex(), "box": bytes(box).hex()}
    sd.write_secret(KEY_FILE, SECRET_KIND, dumps(secret), passphrase)
    table = (
        f"[[trustees]]\nname = {_toml_string(name)}\n"
        f'sign_key = "{signer.public_key.hex()}"\nbox_key = "{bytes(box.public_key).hex()}"\n'
    )
    sd.write(PUBLIC_FILE, table.encode())
    return table


class Trustee:
    """The trustee of state directory ``directory``, its secrets decrypted."""

    def __init__(self, directory: Path, passphrase: str) -> None:
        self.sd = StateDir(directory, "trustee")
        self.passphrase = passphrase
        self.secret: dict[str, Any] = loads(self.sd.read_secret(KEY_FILE, SECRET_KIND, passphrase))
        self.signer = Signer(from_hex(self.secret["sign"], 32, "trustee sign key"))
        self.box = PrivateKey(from_hex(self.secret["box"], 32, "trustee box key"))

    def index(self, manifest: Manifest) -> int:
        """This trustee's number in ``manifest``; NotDue if the manifest does not list it."""
        for info in manifest.trustees:
            if info.sign_key == self.signer.public_key:
                if info.box_key != bytes(self.box.public_key):
                    raise NotDue(f"trustee {info.index} of the manifest has another box key")
                return info.index
        raise NotDue("the manifest does not list this trustee's key")

    def secrets(self, manifest: Manifest, *, create: bool) -> ceremony.TrusteeSecrets | None:
        """The trustee's secrets for this election: the saved polynomial, or (``create``)
        a fresh one, saved encrypted before it is returned. None if there is none yet."""
        group, index = manifest.group, self.index(manifest)
        fingerprint = manifest.fingerprint.hex()
        saved = self.secret.get("coefficients")
        if saved is not None:
            if self.secret.get("election") != fingerprint:
                raise NotDue("this trustee's polynomial is for another election")
            coefficients = tuple(group.decode_scalar(bytes.fromhex(a)) for a in saved)
        elif create:
            fresh = ceremony.TrusteeSecrets.generate(group, index, manifest.threshold)
            coefficients = fresh.coefficients
            self.secret = {
                **self.secret,
                "election": fingerprint,
                "coefficients": [a.hex() for a in coefficients],
            }
            blob = dumps(self.secret)
            self.sd.write_secret(KEY_FILE, SECRET_KIND, blob, self.passphrase, replace=True)
        else:
            return None
        return ceremony.TrusteeSecrets(group, index, self.signer, self.box, coefficients)

    def _sign(self, manifest: Manifest, entry_type: str, body: dict[str, Any]) -> Entry:
        return sign_entry(self.signer, manifest.fingerprint, entry_type, body, utc_now())

    def ceremony_step(self, board: str, poster: Poster, *, wait: float = 0.0) -> list[str]:
        """Do what is due in the ceremony (module docstring); returns what was done and
        what is awaited. With ``wait`` (seconds), keep watching the board until nothing
        is awaited from the other trustees; NotDue if something still is after ``wait``."""
        said: list[str] = []
        deadline = time.monotonic() + wait
        while True:
            view = read_board(board)
            posted, waiting = self._ceremony_pass(view, poster, said)
            if posted and poster.client is not None:
                continue  # what was posted may unlock the next step
            if waiting is None:
                return said
            if time.monotonic() >= deadline:
                if wait:
                    raise NotDue(f"{'; '.join(said)}; still {waiting}")
                return [*said, waiting]
            time.sleep(POLL_SECONDS)

    def _ceremony_pass(
        self, view: BoardView, poster: Poster, said: list[str]
    ) -> tuple[int, str | None]:
        """One look at the board: post what is due; returns how many entries were posted
        and what is awaited from others (None when nothing is)."""
        m, st = view.manifest, view.state
        me = self.index(m)
        if st.joint_key is not None:
            said.append(f"trustee {me}: the ceremony is over (joint key posted)")
            return 0, None
        n = len(m.trustees)
        if st.schedule is None:
            return 0, f"trustee {me}: waiting for the organiser's ceremony entry"
        run = st.schedule.run
        if me not in st.announcements:
            secrets = self.secrets(m, create=True)
            assert secrets is not None
            body = run_rules.with_run(ceremony.make_announcement(secrets, m), run)
            poster.post(self._sign(m, "trustee", body))
            said.append(f"trustee {me}: announced")
            return 1, f"trustee {me}: waiting for the board"
        secrets = self.secrets(m, create=False)
        if secrets is None:
            raise NotDue(f"trustee {me} announced on the board, but this state holds no polynomial")
        waiting = [i for i in range(1, n + 1) if i not in st.announcements]
        if waiting:
            return 0, f"trustee {me}: waiting for trustees {waiting} to announce"
        posted = 0
        kc = st.keygen
        assert kc is not None
        for j in range(1, n + 1):
            if j != me and (me, j) not in kc.shares:
                body = run_rules.with_run(ceremony.make_share(secrets, m, j), run)
                poster.post(self._sign(m, "share", body))
                said.append(f"trustee {me}: share sent to trustee {j}")
                posted += 1
        checked, awaited = self._check_shares(view, secrets, poster, said)
        posted += checked
        for j, i in kc.complaints:
            if i == me and (me, j) not in kc.justified and not _justified(view, me, j):
                body = run_rules.with_run(ceremony.make_justification(secrets, m, j), run)
                poster.post(self._sign(m, "justification", body))
                said.append(f"trustee {me}: justified the share complained of by trustee {j}")
                posted += 1
        return posted, awaited

    def _check_shares(
        self, view: BoardView, secrets: ceremony.TrusteeSecrets, poster: Poster, said: list[str]
    ) -> tuple[int, str | None]:
        m, st, me = view.manifest, view.state, secrets.index
        assert st.keygen is not None and st.schedule is not None
        kc = st.keygen
        awaited = [i for i in sorted(kc.announcements) if i != me and (i, me) not in kc.shares]
        if awaited and utc_now() < st.schedule.shares:
            return 0, f"trustee {me}: waiting for shares from trustees {awaited}"
        received = run_rules.check_received(
            secrets, m, kc.announcements, (e.body for e in view.entries if e.type == "share")
        )
        filed = {against for frm, against in kc.complaints if frm == me}
        posted = 0
        for body in run_rules.complaint_bodies(secrets, m, received, st.schedule.run):
            if body["against"] in filed:
                continue
            poster.post(self._sign(m, "complaint", body))
            said.append(f"trustee {me}: complained about trustee {body['against']}'s share")
            posted += 1
        note = f"trustee {me}: shares from trustees {sorted(set(received.values) - {me})} checked"
        if note not in said:
            said.append(note)
        return posted, None

    def mix(self, board: str, poster: Poster) -> list[str]:
        """Post this trustee's ``mix`` of every ranked contest that still needs one: the
        current rows of each breakdown group (the counted ballots, or the previous mix's
        output) re-encrypted and shuffled, with a proof of shuffle. Mixes are chained, so
        the trustees mix one after another; a contest already mixed by ``threshold``
        trustees, or by this one, is reported and left alone. NotDue before the tally,
        or if this trustee is not qualified."""
        from verivote.election.mixing import make_mix

        view = read_board(board)
        m, st = view.manifest, view.state
        me = self.index(m)
        if st.tally is None:
            raise NotDue("no tally on the board yet: the ranked ballots are mixed after it")
        if st.ranked is None:
            return [f"trustee {me}: no ranked contest to mix"]
        if me not in st.qualified:
            raise NotDue(f"trustee {me} is not in the qualified set {list(st.qualified)}")
        assert st.joint_key is not None
        said = []
        for cid, chain in st.ranked.mixes().items():
            if me in chain.mixers:
                said.append(f"trustee {me}: contest {cid} already mixed by this trustee")
            elif chain.complete():
                said.append(f"trustee {me}: contest {cid} has its mixes (trustees {chain.mixers})")
            else:
                body, _ = make_mix(m, st.joint_key, cid, me, chain.groups)
                poster.post(self._sign(m, "mix", body))
                rows = sum(len(rows) for _, rows in chain.groups)
                said.append(
                    f"trustee {me}: contest {cid} mixed ({rows} ballots in "
                    f"{len(chain.groups)} group(s)), mix {len(chain.mixers) + 1} of {m.threshold}"
                )
        return said

    def decrypt(self, board: str, poster: Poster) -> list[str]:
        """Post this trustee's decryption share of the tally on the board and, for every
        ranked contest mixed by ``threshold`` trustees, its proven decryption share of the
        last mix's rows (``mix_decryption``). What is already on the board is reported,
        not repeated; a ranked contest still being mixed is reported as awaited. NotDue
        before the tally, if this trustee is not qualified, or when nothing could be
        posted and a ranked contest still awaits its mixes."""
        from verivote.election.ranked_result import make_mix_decryption

        view = read_board(board)
        m, st = view.manifest, view.state
        me = self.index(m)
        if st.tally is None:
            raise NotDue("no tally on the board yet")
        if me not in st.qualified:
            raise NotDue(f"trustee {me} is not in the qualified set {list(st.qualified)}")
        said, awaited, posted = [], [], 0
        secrets = self.secrets(m, create=False)
        if secrets is None:
            raise NotDue("this state holds no polynomial: the trustee never announced")
        x = combined_share(view, secrets)
        if me in st.decryptions:
            said.append(f"trustee {me}: decryption already on the board")
        else:
            body = decryption.make_decryption(m, st.tally, me, x)
            poster.post(self._sign(m, "decryption", body))
            said.append(f"trustee {me}: decryption share posted")
            posted += 1
        if st.ranked is not None:
            for cid, chain in st.ranked.mixes().items():
                if cid in st.ranked.results or me in st.ranked.shares.get(cid, {}):
                    said.append(f"trustee {me}: contest {cid}: mixed ballots already decrypted")
                elif not chain.complete():
                    awaited.append(
                        f"contest {cid}: {len(chain.mixers)} of the {m.threshold} mixes are on "
                        "the board (verivote trustee mix), then decrypt again"
                    )
                else:
                    body = make_mix_decryption(m, chain, me, x)
                    poster.post(self._sign(m, "mix_decryption", body))
                    said.append(f"trustee {me}: contest {cid}: mixed ballots' shares posted")
                    posted += 1
        if awaited and not posted:
            raise NotDue(f"trustee {me}: " + "; ".join(awaited))
        return said + [f"trustee {me}: waiting: {a}" for a in awaited]


def _justified(view: BoardView, me: int, to: int) -> bool:
    return any(
        e.type == "justification" and e.body.get("from") == me and e.body.get("to") == to
        for e in view.entries
    )


def combined_share(view: BoardView, secrets: ceremony.TrusteeSecrets) -> Scalar:
    """``x_j``: this trustee's secret share over the qualified set — the shares the
    qualified trustees sent it (opened from the board, or revealed by a justification) and
    its own. NotDue if one of them is missing or does not check."""
    m, st, me = view.manifest, view.state, secrets.index
    assert st.keygen is not None
    shares = [e.body for e in view.entries if e.type == "share"]
    received = run_rules.check_received(secrets, m, st.keygen.announcements, shares)
    justifications = [e.body for e in view.entries if e.type == "justification"]
    received = run_rules.take_justifications(received, st.keygen.announcements, justifications)
    try:
        return run_rules.secret_share(received, st.qualified)
    except VerivoteError as exc:
        raise NotDue(f"trustee {me}: {exc}") from None
