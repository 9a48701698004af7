"""The valid record every tamper case starts from, and the adversary who changes it.

:func:`build_base` runs a small election on a :class:`~verivote.demo.SimulatedElection` —
four trustees (one disqualified by an unanswered complaint, one answering a complaint with
a valid justification), twelve electors plus a late registration, a re-vote, an audit, two
revocations (one of a voter who had voted) and a result with one qualified trustee absent —
exports it and reads it back as plain dicts.

:class:`Forge` is the adversary's workbench over a copy of those dicts. The adversary is the
board operator: with the ``board`` key it re-seals the log it changed (:meth:`Forge.reseal`:
a new Merkle tree, every head signed again). Other keys (``organiser``, ``registrar``,
``trustee:i``, ``voter:n``) are held only when a case says so; :meth:`Forge.sign` re-signs
an entry only with a key the adversary holds.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verivote.board.heads import sign_head
from verivote.board.merkle import MerkleTree, leaf_hash
from verivote.demo import SimulatedElection, _parse
from verivote.election import ceremony, decryption
from verivote.election.entries import Entry, entry_from_dict, signing_message
from verivote.election.keygen import with_run
from verivote.election.manifest import Manifest
from verivote.election.seal import ENTRY_ROLE, SEALING, seal_body
from verivote.election.state import ElectionState
from verivote.encoding import dumps, loads
from verivote.errors import EntryRejected, VerivoteError
from verivote.groups import Group
from verivote.signatures import Signer

Line = Any  # a record line: an entry (or head) dict, or raw bytes for a broken line

# ------------------------------------------------------------------ the valid record
CHOICES: list[dict[str, list[str]]] = [
    {"leader": ["ashworth"], "rule-change": ["yes"]},
    {"leader": ["begum"], "rule-change": ["no"]},
    {"leader": ["carver"], "rule-change": ["yes"]},
    {"leader": ["dlamini"]},
    {"leader": ["begum"], "rule-change": ["yes"]},
    {"leader": ["ashworth"], "rule-change": ["no"]},
    {"leader": [], "rule-change": ["yes"]},
    {"leader": ["carver"], "rule-change": ["no"]},
    {"leader": ["begum"]},
    {"leader": ["dlamini"], "rule-change": ["yes"]},
]
VOTERS = 12
REVOTER = 2  # casts twice: the second ballot counts
REVOKED = 3  # votes, then is barred: the ballot stops counting
AUDITOR = 9  # audits a ballot (Benaloh challenge), then casts another
ABSTAINER = 10  # never votes: a credential a colluding voter could lend
IDLE_REVOKED = 11  # barred without having voted
TRUSTEES = 4
QUALIFIED = (1, 2, 3)  # trustee 4 is disqualified by an unanswered complaint
PRESENT = (1, 2)  # trustee 3 is absent on counting day


@dataclass
class BaseRecord:
    """The valid record every case starts from, with the positions the cases need."""

    sim: SimulatedElection
    entries: list[dict[str, Any]]
    heads: list[dict[str, Any]]
    ballots: dict[int, list[int]]  # voter -> indexes of its ballot entries
    audit: int
    revocations: dict[int, int]  # voter -> index of the amend entry that revokes it
    late: int  # the late elector's number

    @property
    def manifest(self) -> Manifest:
        return self.sim.manifest

    @property
    def group(self) -> Group:
        return self.sim.manifest.group

    def index(self, entry_type: str, nth: int = 0) -> int:
        """Index of the ``nth`` entry of ``entry_type``."""
        return [i for i, e in enumerate(self.entries) if e["type"] == entry_type][nth]

    def role(self, role: str) -> Signer:
        """The signing key of ``role``: board, organiser, registrar, trustee:i, voter:n."""
        sim = self.sim
        name, _, number = role.partition(":")
        if name == "trustee":
            return sim.trustees[int(number) - 1].signer
        if name == "voter":
            return sim.credentials[int(number)]
        named = {
            "board": sim.board_signer,
            "organiser": sim.organiser,
            "registrar": sim.registrar,
            "issuer": sim.issuer,
        }
        return named[name]


def build_base(group: str, directory: Path) -> BaseRecord:
    """Run the election, export it to ``directory`` and read it back as dicts."""
    sim = SimulatedElection(VOTERS, group, seed=7, trustees=TRUSTEES, threshold=2)
    _ceremony(sim)
    sim.publish_roll()
    ballots: dict[int, list[int]] = {}
    audit = -1
    for voter, choice in enumerate(CHOICES):
        if voter == AUDITOR:
            body = sim.prepare(voter, choice).audit_body()
            audit = sim.board.post(sim.credentials[voter], "audit", body)
        ballots.setdefault(voter, []).append(sim.cast(voter, choice))
    ballots[REVOTER].append(sim.cast(REVOTER, {"leader": ["ashworth"], "rule-change": ["no"]}))
    revocations = {v: sim.revoke(v) for v in (REVOKED, IDLE_REVOKED)}
    late = sim.add_elector("members")
    ballots[late] = [sim.cast(late, {"leader": ["carver"], "rule-change": ["yes"]})]
    sim.close()
    sim.count(present=list(PRESENT))
    sim.board.export(directory)
    entries = [loads(line) for line in (directory / "board.jsonl").read_bytes().splitlines()]
    heads = [loads(line) for line in (directory / "heads.jsonl").read_bytes().splitlines()]
    return BaseRecord(sim, entries, heads, ballots, audit, revocations, late)


def _ceremony(sim: SimulatedElection) -> None:
    """Four trustees announce and share; trustee 1 complains against trustee 3, who answers
    with a valid justification; trustee 2 complains against trustee 4, who never answers
    and is left out of the qualified set {1, 2, 3}."""
    m, trustees, run = sim.manifest, sim.trustees, sim.schedule.run

    def post(signer: Signer, entry_type: str, body: dict[str, Any]) -> None:
        sim.board.post(signer, entry_type, with_run(body, run))

    for s in trustees:
        post(s.signer, "trustee", ceremony.make_announcement(s, m))
    for s in trustees:
        for other in trustees:
            if other.index != s.index:
                post(s.signer, "share", ceremony.make_share(s, m, other.index))
    t1, t2, t3, _ = trustees
    post(t1.signer, "complaint", ceremony.make_complaint(t1, m, 3, "the share does not open"))
    post(t3.signer, "justification", ceremony.make_justification(t3, m, 1))
    post(t2.signer, "complaint", ceremony.make_complaint(t2, m, 4, "no valid share"))
    qualified = QUALIFIED
    sim.clock.jump(_parse(sim.schedule.justifications))
    post(
        sim.organiser,
        "joint_key",
        ceremony.make_joint_key_body(sim.board.state.announcements, qualified),
    )
    sim.received = {j: {i: trustees[i - 1].evaluate(j) for i in qualified} for j in qualified}


# ------------------------------------------------------------------ the adversary
def line_bytes(line: Line) -> bytes:
    """The bytes of one record line (dicts in canonical JSON, raw lines as they are)."""
    return line if isinstance(line, bytes) else dumps(line)


class Forge:
    """The adversary's workbench: a copy of the base record and the keys the case holds.

    :meth:`sign` re-signs an entry only with a key the adversary holds; without it the old
    signature stays, and the verifier must reject the entry by its signature check.
    """

    def __init__(self, base: BaseRecord, keys: tuple[str, ...]) -> None:
        self.base = base
        self.keys = frozenset(keys)
        self.entries: list[Line] = copy.deepcopy(base.entries)
        self.heads: list[Line] | None = copy.deepcopy(base.heads)
        self.sealed = False

    # -- keys
    def holds(self, role: str) -> bool:
        return role in self.keys

    def signer(self, role: str) -> Signer:
        """A key the adversary holds; asking for another is a bug in the case."""
        if role not in self.keys:
            raise PermissionError(f"the adversary does not hold the {role} key")
        return self.base.role(role)

    def author(self, role: str) -> Signer:
        """The key of ``role`` if held, otherwise a key the adversary made up."""
        return self.base.role(role) if self.holds(role) else Signer.generate()

    def sign(self, index: int, role: str) -> None:
        """Re-sign entry ``index`` as ``role`` if that key is held."""
        if self.holds(role):
            self.entries[index]["sig"] = self._signature(self.entries[index], self.signer(role))

    def _signature(self, entry: dict[str, Any], signer: Signer) -> str:
        fingerprint = b"" if entry["type"] == "election" else self.base.manifest.fingerprint
        return signer.sign(signing_message(fingerprint, entry["type"], entry["body"])).hex()

    def make(self, entry_type: str, body: dict[str, Any], time: str, signer: Signer) -> dict:
        """A new entry signed by ``signer`` (a held key or one the adversary made up)."""
        entry = {"type": entry_type, "time": time, "body": body, "sig": ""}
        entry["sig"] = self._signature(entry, signer)
        return entry

    # -- access
    def entry(self, index: int) -> dict[str, Any]:
        return self.entries[index]

    def body(self, index: int) -> dict[str, Any]:
        return self.entries[index]["body"]

    def index(self, entry_type: str, nth: int = 0) -> int:
        """Index of the ``nth`` entry of ``entry_type`` in the forged log."""
        found = [
            i for i, e in enumerate(self.entries) if isinstance(e, dict) and e["type"] == entry_type
        ]
        return found[nth]

    # -- the operator's powers
    def reseal(self) -> None:
        """Recompute the Merkle tree over the log as it now is and sign every head again:
        the same sizes where the log still has that many entries, and a last head over the
        whole log; each head timed no earlier than the last entry it now covers (a careful
        operator keeps its heads consistent with the entries' times)."""
        board = self.signer("board")
        m = self.base.manifest
        tree = MerkleTree()
        for line in self.entries:
            tree.append(leaf_hash(line_bytes(line)))
        n = len(tree)
        old = [h for h in self.heads or [] if isinstance(h, dict) and h["size"] <= n]

        def covered(size: int, time: str) -> str:
            last = self.entries[size - 1] if size else None
            entry_time = last.get("time") if isinstance(last, dict) else None
            return max(time, entry_time) if isinstance(entry_time, str) else time

        heads = []
        for h in old:
            time = covered(h["size"], h["time"])
            if heads and time < heads[-1].time:
                time = heads[-1].time
            root = tree.root(h["size"])
            heads.append(sign_head(board, m.fingerprint, m.election_id, h["size"], root, time))
        if not heads or heads[-1].size != n:
            times = [h["time"] for h in self.base.heads] + [
                e["time"]
                for e in self.entries
                if isinstance(e, dict) and isinstance(e["time"], str)
            ]
            heads.append(sign_head(board, m.fingerprint, m.election_id, n, tree.root(), max(times)))
        self.heads = [h.to_dict() for h in heads]
        self.sealed = True

    def reseal_authors(self) -> None:
        """A colluding registrar or issuer re-makes its seal over its entries as the forged
        log now holds them (an honest one never does)."""
        honest = {e["body"]["role"]: e["body"] for e in self.base.entries if e["type"] == "seal"}
        for role in SEALING:
            if not self.holds(role):
                continue
            posted: list[tuple[str, dict[str, Any]]] = []
            for i, e in enumerate(self.entries):
                if not isinstance(e, dict):
                    continue
                if ENTRY_ROLE.get(e["type"]) == role:
                    posted.append((e["type"], e["body"]))
                elif e["type"] == "seal" and e["body"] == honest.get(role):  # not the case's
                    e["body"] = seal_body(self.base.manifest.fingerprint, role, posted)
                    self.sign(i, role)
                    break

    def observer_head(self, size: int) -> int:
        """Put back the head of ``size`` an observer kept from the honest board, just before
        the re-signed head of the same size; returns its position in heads.jsonl."""
        kept = next(h for h in self.base.heads if h["size"] == size)
        assert self.heads is not None
        at = next(i for i, h in enumerate(self.heads) if h["size"] >= size)
        self.heads.insert(at, copy.deepcopy(kept))
        return at

    def recount(self) -> None:
        """The colluding authorities redo close, tally, decryptions and result over the log
        as it now is; each entry is redone only if its author's key is held."""
        m, sim = self.base.manifest, self.base.sim
        decoded: list[Entry] = []
        state = ElectionState(lookup=lambda i: decoded[i])
        organiser = self.holds("organiser")
        for i, e in enumerate(self.entries):
            if e["type"] == "close" and organiser:
                e["body"] = state.close_counts()
                self.sign(i, "organiser")
            elif e["type"] == "tally" and organiser:
                e["body"] = state.expected_tally().to_dict()
                self.sign(i, "organiser")
            elif e["type"] == "decryption" and state.tally is not None:
                j = e["body"]["trustee"]
                if self.holds(f"trustee:{j}"):
                    x = ceremony.combined_secret_share(sim.received[j], qualified=QUALIFIED)
                    e["body"] = decryption.make_decryption(m, state.tally, j, x)
                    self.sign(i, f"trustee:{j}")
            elif e["type"] == "result" and organiser and state.tally is not None:
                present = sorted(state.decryptions)
                missing = [t.index for t in m.trustees if t.index not in state.decryptions]
                try:
                    counts = decryption.combine(m, state.tally, state.decryptions, m.threshold)
                except VerivoteError:
                    pass  # too few valid decryptions: the organiser cannot publish a result
                else:
                    added = state.close_counts()["added"]
                    body = decryption.make_result_body(
                        m, state.tally, counts, present, missing, added
                    )
                    e["body"] = body
                    self.sign(i, "organiser")
            entry = entry_from_dict(e)
            decoded.append(entry)
            try:
                state.apply(entry)
            except EntryRejected:
                state.skip()

    # -- output
    def write(self, directory: Path) -> Path:
        """Write ``board.jsonl`` and (unless removed) ``heads.jsonl`` in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "board.jsonl").write_bytes(
            b"".join(line_bytes(e) + b"\n" for e in self.entries)
        )
        if self.heads is not None:
            (directory / "heads.jsonl").write_bytes(
                b"".join(line_bytes(h) + b"\n" for h in self.heads)
            )
        return directory


# -- small tools
def scalar_flip(group: Group, text: str) -> str:
    """The scalar ``text`` with its lowest bit flipped (still a canonical scalar)."""
    value = int(group.decode_scalar(bytes.fromhex(text)))
    return group.scalar(value ^ 1).hex()


def element_times_g(group: Group, text: str) -> str:
    """The element ``text`` multiplied by the generator: a valid element, another value."""
    return (group.decode_element(bytes.fromhex(text)) * group.generator).hex()


def outside_subgroup(group: Group) -> str:
    """A canonical encoding of an element of order 2, outside the prime-order subgroup:
    the point (0, -1) of edwards25519, or p - 1 modulo the MODP prime. ristretto255 has
    no such element: there, a string of the right form that encodes no element (one of
    RFC 9496's A.2 vectors, refused because x^2 would not be a square)."""
    if group.name == "ed25519":
        return (b"\xec" + b"\xff" * 30 + b"\x7f").hex()
    if group.name == "ristretto255":
        return "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371"
    p = int(group.parameters()["p"], 16)
    return (p - 1).to_bytes(group.element_size, "big").hex()


def credential(f: Forge, voter: int) -> str:
    return f.base.sim.records[voter].key.hex()


def swap(f: Forge, i: int, j: int, *, retime: bool) -> None:
    """Swap entries ``i`` and ``j``; with ``retime`` each keeps the time of its position."""
    a, b = f.entries[i], f.entries[j]
    f.entries[i], f.entries[j] = b, a
    if retime:
        a["time"], b["time"] = b["time"], a["time"]
