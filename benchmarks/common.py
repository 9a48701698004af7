"""Shared set-up for ``ballots.py`` and ``election.py``: one election of the benchmark's
shape, set up through verivote's public API.

The shape is ElectionGuard's usual benchmark ballot: one plurality contest, four candidates,
vote for one; three elector categories; three trustees, any two of whom can decrypt. The
key ceremony is the real one (announcements with Schnorr proofs, encrypted shares opened by
their recipients, the joint key recomputed from the announcements), so the joint key and
each trustee's secret share are exactly what an election would use.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import verivote
from verivote.election import ceremony
from verivote.election.manifest import Candidate, Contest, Manifest, format_time
from verivote.groups import Element, Scalar, get_group
from verivote.signatures import Signer

CATEGORIES = (("members", 0.6), ("affiliated", 0.25), ("registered", 0.15))
CANDIDATES = ("ashworth", "begum", "carver", "dlamini")
POPULARITY = (0.38, 0.31, 0.19, 0.12)
START = datetime(2026, 9, 1, 9, 0, 0, tzinfo=UTC)
"""The ceremony happens on this day; voting opens a day later."""
TRUSTEES = 3
THRESHOLD = 2


@dataclass
class BenchElection:
    """Everyone's keys and the public bodies of the set-up, for one group."""

    manifest: Manifest
    organiser: Signer
    registrar: Signer
    board: Signer
    issuer: Signer
    trustees: list[ceremony.TrusteeSecrets]
    announcement_bodies: list[dict[str, Any]]
    share_bodies: list[dict[str, Any]]
    joint_key_body: dict[str, Any]
    joint_key: Element
    secret_shares: dict[int, Scalar] = field(repr=False)
    """Trustee index -> ``x_j``, as each trustee computes it from the shares it opened."""
    announcements: dict[int, ceremony.Announcement] = field(repr=False)

    @property
    def qualified(self) -> tuple[int, ...]:
        return tuple(sorted(self.announcements))


def make_manifest(
    group: str,
    trustees: list[ceremony.TrusteeSecrets],
    keys: tuple[Signer, Signer, Signer, Signer],
    voting_seconds: int = 86_400,
    min_category_size: int = 10,
) -> Manifest:
    """The benchmark manifest: one contest, four candidates, vote for one."""
    organiser, registrar, board, issuer = keys
    contest = Contest(
        "leader",
        "Party leader",
        "plurality",
        tuple(Candidate(c, c.capitalize()) for c in CANDIDATES),
        1,
    )
    opens = START + timedelta(days=1)
    return Manifest(
        election_id="bench-2026",
        title="Benchmark election: 1 contest, 4 candidates, vote for 1",
        group_name=group,
        contests=(contest,),
        categories=tuple(c for c, _ in CATEGORIES),
        opens=format_time(opens),
        closes=format_time(opens + timedelta(seconds=voting_seconds)),
        threshold=THRESHOLD,
        trustees=tuple(s.info(f"Trustee {s.index}") for s in trustees),
        organiser_key=organiser.public_key,
        registrar_key=registrar.public_key,
        board_key=board.public_key,
        issuer_key=issuer.public_key,
        min_category_size=min_category_size,
    )


def make_election(group: str, voting_seconds: int = 86_400) -> BenchElection:
    """Keys, manifest and a complete key ceremony for ``group``."""
    grp = get_group(group)
    keys = (Signer.generate(), Signer.generate(), Signer.generate(), Signer.generate())
    trustees = [ceremony.TrusteeSecrets.generate(grp, i, THRESHOLD) for i in range(1, TRUSTEES + 1)]
    m = make_manifest(group, trustees, keys, voting_seconds)
    announcement_bodies = [ceremony.make_announcement(s, m) for s in trustees]
    announcements = {
        a.index: a for a in (ceremony.check_announcement(b, m) for b in announcement_bodies)
    }
    share_bodies = [
        ceremony.make_share(s, m, other.index)
        for s in trustees
        for other in trustees
        if other.index != s.index
    ]
    received: dict[int, dict[int, Scalar]] = {
        s.index: {s.index: ceremony.own_share(s, s.index)} for s in trustees
    }
    for body in share_bodies:
        to = body["to"]
        received[to][body["from"]] = ceremony.open_share(trustees[to - 1], m, body)
    qualified = sorted(announcements)
    joint_key_body = ceremony.make_joint_key_body(announcements, qualified)
    joint_key = ceremony.joint_public_key(announcements, qualified)
    secret_shares = {
        j: ceremony.combined_secret_share(received[j], qualified=qualified) for j in received
    }
    return BenchElection(
        m,
        keys[0],
        keys[1],
        keys[2],
        keys[3],
        trustees,
        announcement_bodies,
        share_bodies,
        joint_key_body,
        joint_key,
        secret_shares,
        announcements,
    )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def code_version() -> str:
    """The verivote commit measured, and whether the working tree differed from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "verivote"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "verivote (no git checkout)"
    changed = sorted(line[3:] for line in dirty if line.strip())
    try:
        last = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%h", "--", "verivote"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        last = head
    where = f"verivote at commit `{head}`"
    if last and last != head:
        where += f" (package last changed at `{last}`)"
    if not changed:
        return where
    return f"{where} with uncommitted changes to {', '.join(changed)}"


RECORD_CODE = (
    "encoding.py",
    "signatures.py",
    "elgamal.py",
    "groups",
    "proofs",
    "election",
    "board/merkle.py",
    "board/heads.py",
)
"""The parts of verivote that decide what a record's lines hold."""


def code_digest() -> str:
    """SHA-256 over the source files that make a record (:data:`RECORD_CODE`): a cached
    record made by other code may no longer verify."""
    package = Path(verivote.__file__).resolve().parent
    digest = hashlib.sha256()
    for part in RECORD_CODE:
        base = package / part
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def machine_line() -> str:
    """One line describing the machine, for the output's header."""
    return (
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores; "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )
