"""The honest election of ``examples/dishonest_operator.py``: a constituency selection run
with the role commands of ``docs/getting-started.md`` against ``verivote serve``.

Every person has their own state directory and passphrase: the board operator
(``operator/``), the organiser, three trustees (any two decrypt), the registrar and the
credential issuer. The members vote through the public API (``verivote.ElectionClient``)
with the two halves of their credential and keep their receipts (``receipts/ID.receipt``);
an observer keeps the board's signed heads (``verivote watch``, ``observer-a.jsonl``).

The commands run inside this process through the ``verivote`` command's own entry point
(``verivote.cli.main``), word for word as they would be typed in a shell; only the board's
server runs in a process of its own. This saves an interpreter start per command.
"""

from __future__ import annotations

import io
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import dishonest_board as ops
from nacl.signing import SigningKey

import verivote
from verivote.cli import main as verivote_main

ELECTION_ID = "selection-2026"
BRANCHES = ("north", "south", "town")
CANDIDATES = {"hartley": "Rosa Hartley", "qureshi": "Imran Qureshi", "bell": "Tom Bell"}
FAVOURITE, RIVAL, TARGET_BRANCH = "bell", "qureshi", "north"
"""The operator wants Bell selected; it believes the north branch backs Qureshi."""
LEANINGS = {
    "north": {"qureshi": 6, "hartley": 2, "bell": 2},
    "south": {"hartley": 4, "qureshi": 3, "bell": 3},
    "town": {"bell": 4, "hartley": 4, "qureshi": 2},
}
PASSPHRASES = {
    "OPERATOR_PASS": "operator passphrase",
    "ORGANISER_PASS": "organiser passphrase",
    "REGISTRAR_PASS": "registrar passphrase",
    "ISSUER_PASS": "issuer passphrase",
    "T1_PASS": "first trustee passphrase",
    "T2_PASS": "second trustee passphrase",
    "T3_PASS": "third trustee passphrase",
}
ELECTION_FILE = """\
election_id = "{eid}"
title = "Selection of the parliamentary candidate, Eastfield constituency"
threshold = 2
min_category_size = 2
categories = ["north", "south", "town"]
registrar_key = "{registrar}"
issuer_key = "{issuer}"
board_key = "{board}"

[[contests]]
id = "candidate"
title = "Our candidate"
kind = "plurality"
limit = 1
candidates = [{candidates}]

"""
STARTED = time.monotonic()


class CommandFailed(Exception):
    """A command of the honest election failed: the example cannot go on."""


def say(text: str) -> None:
    print(text, flush=True)


def step(text: str) -> None:
    """A step of the election, with the seconds since the start."""
    say(f"  [{time.monotonic() - STARTED:4.0f} s] {text}")


def verivote_cmd(command: str, check: bool = True) -> tuple[int, str]:
    """Run ``verivote COMMAND`` (shell words) in this process; its exit code and all it
    printed. With ``check``, CommandFailed unless it exits 0."""
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        try:
            code = verivote_main(shlex.split(command))
        except SystemExit as exc:  # a usage error
            code = exc.code if isinstance(exc.code, int) else 2
    if check and code != 0:
        raise CommandFailed(f"verivote {command} exited {code}:\n{out.getvalue()}")
    return code, out.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``verivote serve`` on the SQLite store ``store``, in its own process, on a free
    loopback port, signing with the operator's key."""

    def __init__(self, workdir: Path, store: str, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"serve-{name}.log"
        command = [sys.executable, "-m", "verivote", *shlex.split(
            f"serve --store sqlite:{store} --key operator/board.key "
            f"--passphrase-env OPERATOR_PASS --port {self.port} --workers 0"
        )]  # fmt: skip
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/head", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    text = self.log.read_text()
                    raise CommandFailed(f"verivote serve did not start:\n{text}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (this process started it)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@dataclass
class Member:
    """An elector: their branch (category), whom they voted for, their receipt."""

    id: str
    branch: str
    choice: str | None = None
    receipt: Path | None = None
    credential_key: bytes = b""


@dataclass
class Election:
    """The honest election as it ran, and what the operator has to cheat with."""

    dir: Path
    members: dict[str, Member]
    barred: str
    manifest: verivote.Manifest
    joint_key: verivote.Element
    url: str
    """The honest board."""
    slots: list[bytes]
    """The credentials on the public roll, in slot order."""
    record: Path
    """The honest board's record, exported by the operator."""
    forked_url: str = ""
    """The doctored board (:func:`fork_board`), if any."""
    forked_record: Path | None = None
    """The doctored board's record, which the operator publishes."""
    dropped: list[str] = field(default_factory=list)
    """The members whose ballots the doctored board dropped."""

    def voters(self) -> list[Member]:
        """The members who voted."""
        return [m for m in self.members.values() if m.choice]

    def operator_key(self) -> SigningKey:
        """The board's signing key, from the operator's own key file."""
        return ops.board_key(self.dir / "operator" / "board.key", PASSPHRASES["OPERATOR_PASS"])


class CeremonyLate(CommandFailed):
    """A trustee missed a deadline of the key ceremony (the machine was too busy for the
    timetable): the election must start again with more time."""


def run_election(
    workdir: Path, electors: int, seed: int, fork: bool, servers: list[Server], slack: float = 5
) -> Election:
    """The honest election, from the keys to the published result, in ``workdir``; with
    ``fork``, the operator also runs a doctored board from the close on
    (:func:`fork_board`). The servers started are added to ``servers`` and left running
    for the observers. ``slack`` scales the key ceremony's timetable. Raises CeremonyLate
    when a trustee misses a deadline, CommandFailed when another command fails."""
    rng = random.Random(seed)
    os.environ.update(PASSPHRASES)
    os.chdir(workdir)
    started = time.monotonic()
    verivote_cmd("board init --dir operator --store sqlite:board.db --passphrase-env OPERATOR_PASS")
    verivote_cmd("registrar keygen --dir registrar --passphrase-env REGISTRAR_PASS")
    verivote_cmd("issuer keygen --dir issuer --passphrase-env ISSUER_PASS")
    for i, name in enumerate(("Ada Okafor", "Bo Lindqvist", "Chen Wei"), start=1):
        verivote_cmd(f"trustee keygen --dir trustee{i} --name '{name}' --passphrase-env T{i}_PASS")
    keygens = time.monotonic() - started
    # The key ceremony's deadlines and the voting hours are real time: size them from how
    # long the keys took, so that a busy machine gets more. The ceremony starts once the
    # board is served (about as long again) and its four deadlines are spread evenly up to
    # the opening; each step must leave the three trustees time to act.
    lead = max(16, round(slack * keygens + 2))
    voting = max(8, round(keygens * (1 + 0.025 * electors)))
    text = ELECTION_FILE.format(
        eid=ELECTION_ID,
        registrar=Path("registrar/public.key").read_text().strip(),
        issuer=Path("issuer/public.key").read_text().strip(),
        board=Path("operator/public.key").read_text().strip(),
        candidates=", ".join(f'{{ id = "{c}", name = "{n}" }}' for c, n in CANDIDATES.items()),
    )
    Path("election.toml").write_text(
        text + "".join(Path(f"trustee{i}/public.toml").read_text() for i in (1, 2, 3))
    )
    verivote_cmd(
        "organiser init election.toml --dir organiser --passphrase-env ORGANISER_PASS "
        f"--opens +{lead}s --closes +{voting}s"
    )
    opens = time.monotonic() + lead
    verivote_cmd(
        "board load organiser/election.entry --dir operator --passphrase-env OPERATOR_PASS"
    )
    servers.append(Server(workdir, "board.db", "honest"))
    url = servers[0].url
    wait = round(opens - time.monotonic())
    step(f"the board is served at {url}; voting opens in {wait} s, for {voting} s")

    # The key ceremony: each trustee does what is due, until nothing is awaited.
    verivote_cmd(
        f"organiser ceremony --dir organiser --board {url} --passphrase-env ORGANISER_PASS"
    )
    for _ in range(3):
        for i in (1, 2, 3):
            trustee = f"--dir trustee{i} --board {url} --passphrase-env T{i}_PASS"
            try:
                verivote_cmd(f"trustee ceremony {trustee}")
            except CommandFailed as exc:
                late = ".time:" in str(exc)
                raise (CeremonyLate if late else CommandFailed)(str(exc)) from None
    # The roll: the registrar's halves, then the issuer's; then the organiser opens.
    members = {f"M{n:03d}": Member(f"M{n:03d}", BRANCHES[n % 3]) for n in range(electors)}
    Path("electors.csv").write_text(
        "elector_id,category,weight,email\n"
        + "".join(f"{m.id},{m.branch},1,{m.id.lower()}@example.org\n" for m in members.values())
    )
    registrar = f"--dir registrar --board {url} --passphrase-env REGISTRAR_PASS"
    issuer = f"--dir issuer --board {url} --passphrase-env ISSUER_PASS"
    verivote_cmd(f"registrar import electors.csv {registrar} --credentials credentials")
    verivote_cmd(f"issuer import registrar/slots.csv {issuer} --credentials credentials")
    verivote_cmd(
        f"organiser open --dir organiser --board {url} --passphrase-env ORGANISER_PASS --wait"
    )
    step(f"the election is open: {electors} members on the roll")
    watch("observer-a", url)

    # About four in five members vote, each on their own device with both halves.
    client = verivote.ElectionClient(url)
    Path("receipts").mkdir()
    for member in members.values():
        if rng.random() > 0.8:
            continue
        leaning = LEANINGS[member.branch]
        member.choice = rng.choices(list(leaning), weights=list(leaning.values()))[0]
        halves = [
            Path(f"credentials/{member.id}.{role}.credential").read_text().strip()
            for role in ("registrar", "issuer")
        ]
        credential = verivote.credential_from_halves(*halves)
        member.credential_key = credential.public_key
        cast = client.cast(credential, {"candidate": [member.choice]})
        member.receipt = Path(f"receipts/{member.id}.receipt")
        member.receipt.write_text(cast.receipt.to_text() + "\n")
    # A member whose membership had lapsed voted (for the operator's favourite); the
    # registrar bars them by a public amendment, so that their ballot does not count.
    voted = [m for m in members.values() if m.choice]
    barred = next(m for m in voted if m.choice == FAVOURITE)
    verivote_cmd(f"registrar bar {barred.id} --reason membership-lapsed {registrar}")
    verivote_cmd(f"registrar seal {registrar}")
    verivote_cmd(f"issuer seal {issuer}")
    step(
        f"{len(voted)} members voted; {barred.id} was barred (membership lapsed); the "
        "registrar and the issuer sealed what they posted"
    )
    watch("observer-a", url)
    election = Election(
        workdir, members, barred.id, client.manifest(), client.joint_key(), url,
        list(client.roll().records), workdir / "record-honest",
    )  # fmt: skip
    boards = [url]
    if fork:
        servers.append(fork_board(workdir, election))
        election.forked_url = servers[-1].url
        boards.append(election.forked_url)
    for board in boards:  # the organiser and the trustees count what each board shows
        organiser = f"--dir organiser --board {board} --passphrase-env ORGANISER_PASS"
        verivote_cmd(f"organiser close {organiser} --wait")
        verivote_cmd(f"organiser tally {organiser}")
        for i in (1, 3):
            verivote_cmd(
                f"trustee decrypt --dir trustee{i} --board {board} --passphrase-env T{i}_PASS"
            )
        verivote_cmd(f"organiser result {organiser}")
    watch("observer-a", url)
    verivote_cmd(f"export --store sqlite:board.db --election {ELECTION_ID} --out {election.record}")
    if fork:
        watch("observer-b", election.forked_url)
        election.forked_record = workdir / "record-published"
        verivote_cmd(
            f"export --store sqlite:board-doctored.db --election {ELECTION_ID} "
            f"--out {election.forked_record}"
        )
    step("closed, tallied, decrypted by trustees 1 and 3; result posted; record exported")
    return election


def watch(observer: str, url: str) -> None:
    """An observer polls the board once, keeping its signed heads in OBSERVER.jsonl."""
    verivote_cmd(f"watch {url} --state {observer}.jsonl --once")


def fork_board(workdir: Path, election: Election) -> Server:
    """At the close, the operator copies its store, drops from the copy every ballot cast
    under a credential of the target branch (it cannot read ballots, but the public roll
    says which branch each credential belongs to), re-signs the heads and serves the copy
    as a second board. The organiser and the trustees, shown that board, close, tally and
    decrypt it as honestly as the first."""
    records = verivote.ElectionClient(election.url).roll().records
    target = {key for key, record in records.items() if record.category == TARGET_BRANCH}

    def drop(lines: list[ops.Line]) -> list[ops.Line]:
        def cast_by_target(line: bytes) -> bool:
            entry = json.loads(line)
            return (
                entry["type"] == "ballot" and bytes.fromhex(entry["body"]["credential"]) in target
            )

        return [(place, line) for place, line in lines if not cast_by_target(line)]

    log = ops.read_store(workdir / "board.db")
    doctored = ops.rewrite(log, drop, election.operator_key(), election.manifest.fingerprint)
    ops.write_store(workdir / "board.db", workdir / "board-doctored.db", doctored)
    election.dropped = [m.id for m in election.voters() if m.credential_key in target]
    return Server(workdir, "board-doctored.db", "doctored")
