"""The roles' commands, each run as a separate process against ``verivote serve`` on a free
loopback port.

``docs/getting-started.md`` is run exactly: every ``sh`` block of the page, in order, each
as its own bash process in one empty directory (the block marked ``# in a second
terminal`` starts the server in the background), so the page cannot rot.

The "Done when" election: an organiser, three trustees (threshold 2) each with its own
state directory, a registrar importing 200 electors in three categories and a credential
issuer completing their credentials, the key ceremony on the organiser's timetable, voters
casting through ``verivote vote`` with their two credential halves (most of them from one
batch file, a few one by one, one after an audit, one changing their mind), one elector
barred after voting, one added during voting by both parties, both parties sealing before
the close. The record verifies, and the result equals the weighted votes the test cast.

Both elections spend most of their time waiting for their closing time, so the page runs in
a thread while the 200-elector election runs.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.roles_shell import background, free_port, run, run_failing, shell_env
from verivote.board.client import BoardClient
from verivote.board.store import open_store

PAGE = Path(__file__).resolve().parent.parent / "docs" / "getting-started.md"
SERVER_MARK = "# in a second terminal"
# Voting hours must cover everything between the manifest and the close; that takes longer on
# a busy machine, so both elections size them from how long the keygens before took.
PAGE_VOTING_FACTOR, PAGE_VOTING_MIN = 6, 20


ELECTORS = 200
CATEGORIES = ("members", "affiliated", "supporters")
LEADERS = ("ashworth", "begum", "carver", "dlamini")
VOTING_FACTOR, VOTING_MIN, VOTING_MAX = 9, 30, 240
CEREMONY_FACTOR, CEREMONY_MIN = 8, 60
"""Seconds from the manifest to the opening: the key ceremony's four deadlines fall in
them, each long enough for every trustee's process to act on a busy machine."""
PASSES = {
    "BOARD_PASS": "board secret",
    "ORG_PASS": "organiser secret",
    "REG_PASS": "registrar secret",
    "ISS_PASS": "issuer secret",
    "T1_PASS": "trustee one",
    "T2_PASS": "trustee two",
    "T3_PASS": "trustee three",
}

ELECTION = """\
election_id = "council-2026"
title = "Council election"
threshold = 2
min_category_size = 5
max_additions = 2
categories = ["members", "affiliated", "supporters"]
registrar_key = "{registrar}"
issuer_key = "{issuer}"
board_key = "{board}"

[[contests]]
id = "leader"
title = "Leader"
kind = "plurality"
candidates = [{leaders}]

[[contests]]
id = "council"
title = "Council (up to two)"
kind = "approval"
limit = 2
candidates = [{{ id = "x", name = "X" }}, {{ id = "y", name = "Y" }}, {{ id = "z", name = "Z" }}]
"""


def blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", PAGE.read_text(encoding="utf-8"), re.M | re.S)


def run_page(directory: Path) -> str:
    """Run the page's blocks in ``directory``; their output, joined."""
    port = free_port()
    env = shell_env(PORT=str(port))
    server = None
    outputs = []
    started = time.monotonic()
    try:
        for block in blocks():
            if "verivote organiser init" in block:
                seconds = PAGE_VOTING_FACTOR * (time.monotonic() - started)
                env["CLOSES"] = f"+{max(PAGE_VOTING_MIN, round(seconds))}s"
            if block.startswith(SERVER_MARK):
                server = background(block, directory, env, port)
                server.__enter__()
                continue
            outputs.append(run(block, directory, env))
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    return "\n".join(outputs)


@pytest.fixture(scope="module")
def page_run(tmp_path_factory):
    """The page, running in a thread from the first test that asks for it."""
    directory = tmp_path_factory.mktemp("page")
    with ThreadPoolExecutor(max_workers=1) as pool:
        future: Future[str] = pool.submit(run_page, directory)
        yield directory, future
        future.exception()  # let it finish before the module's teardown


def test_a_whole_election_through_the_role_commands(tmp_path, page_run):
    rng = random.Random(2026)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = shell_env(**PASSES)

    def sh(script: str) -> str:
        t = time.monotonic()
        out = run(script, tmp_path, env)
        print(f"{time.monotonic() - t:6.2f} s  {script.splitlines()[-1][:60]}")
        return out

    keygens = time.monotonic()
    sh(
        "verivote board init --dir board --store sqlite:board.db --passphrase-env BOARD_PASS\n"
        "verivote registrar keygen --dir registrar --passphrase-env REG_PASS\n"
        "verivote issuer keygen --dir issuer --passphrase-env ISS_PASS\n"
        + "".join(
            f"verivote trustee keygen --dir t{i} --name 'Trustee {i}' --passphrase-env T{i}_PASS\n"
            for i in (1, 2, 3)
        )
    )
    voting = round(VOTING_FACTOR * (time.monotonic() - keygens))
    voting = min(VOTING_MAX, max(VOTING_MIN, voting))
    lead = max(CEREMONY_MIN, round(CEREMONY_FACTOR * (time.monotonic() - keygens)))
    leaders = ", ".join(f'{{ id = "{c}", name = "{c.title()}" }}' for c in LEADERS)
    (tmp_path / "election.toml").write_text(
        ELECTION.format(
            registrar=(tmp_path / "registrar" / "public.key").read_text().strip(),
            issuer=(tmp_path / "issuer" / "public.key").read_text().strip(),
            board=(tmp_path / "board" / "public.key").read_text().strip(),
            leaders=leaders,
        )
        + "".join((tmp_path / f"t{i}" / "public.toml").read_text() for i in (1, 2, 3))
    )
    sh(
        "verivote organiser init election.toml --dir organiser --passphrase-env ORG_PASS "
        f"--opens +{lead}s --closes +{voting}s\n"
        "verivote board load organiser/election.entry --dir board --passphrase-env BOARD_PASS\n"
    )
    serve = (
        "verivote serve --store sqlite:board.db --key board/board.key "
        f"--passphrase-env BOARD_PASS --port {port}"
    )
    with background(serve, tmp_path, env, port):
        out = sh(
            f"verivote organiser ceremony --dir organiser --board {url} --passphrase-env ORG_PASS"
        )
        assert "key ceremony run" in out
        sh(
            "".join(
                f"verivote trustee ceremony --dir t{i} --board {url} --passphrase-env T{i}_PASS"
                ' --wait 300 & pids="${pids:-} $!"\n'
                for i in (1, 2, 3)
            )
            + "for pid in $pids; do wait $pid; done\n"
        )

        electors = [
            (f"E{n:03d}", CATEGORIES[n % 3] if n < 150 else "members", 1 + (n % 7 == 0))
            for n in range(ELECTORS)
        ]
        (tmp_path / "electors.csv").write_text(
            "elector_id,category,weight,email\n"
            + "".join(f"{e},{c},{w},{e.lower()}@example.org\n" for e, c, w in electors)
        )
        sh(
            f"verivote registrar import electors.csv --dir registrar --board {url} "
            "--credentials creds --passphrase-env REG_PASS\n"
            f"verivote issuer import registrar/slots.csv --dir issuer --board {url} "
            "--credentials creds --passphrase-env ISS_PASS\n"
            f"verivote organiser open --dir organiser --board {url} --passphrase-env ORG_PASS"
            " --wait\n"
        )
        opened = time.monotonic()
        for role in ("registrar", "issuer"):
            assert (tmp_path / "creds" / f"E000.{role}.credential").stat().st_mode & 0o777 == 0o600

        def cred(eid: str, sep: str = " ") -> str:
            files = [f"creds/{eid}.{role}.credential" for role in ("registrar", "issuer")]
            return sep.join(files) if sep != " " else " ".join(f"--credential {f}" for f in files)

        choices: dict[str, tuple[str, list[str]]] = {}
        for eid, _, _ in electors:
            if rng.random() < 0.85:
                council = rng.sample(["x", "y", "z"], rng.randint(0, 2))
                choices[eid] = (rng.choice(LEADERS), council)

        def spec(eid: str) -> str:
            leader, council = choices[eid]
            return f"leader={leader} council={','.join(council)}"

        voters = sorted(choices)
        singles, batch = voters[:3], voters[3:]
        (tmp_path / "batch.csv").write_text(
            "credential,choices\n" + "".join(f'{cred(e, "+")},"{spec(e)}"\n' for e in batch)
        )
        single_cmds = "".join(
            f"verivote vote --board {url} {cred(e)} "
            + " ".join(f"--choice {part}" for part in spec(e).split())
            + (" --audit" if n == 0 else "")
            + "\n"
            for n, e in enumerate(singles)
        )
        out = sh(single_cmds + f"verivote vote --board {url} --batch batch.csv\n")
        assert "audited encryption posted" in out
        # one voter changes their mind: the later ballot replaces the first
        changer = batch[0]
        choices[changer] = ("dlamini", ["z"])
        sh(
            f"verivote vote --board {url} {cred(changer)} "
            "--choice leader=dlamini --choice council=z\n"
        )
        barred = batch[1]
        out = sh(
            f"verivote registrar bar {barred} --reason membership-lapsed --dir registrar "
            f"--board {url} --passphrase-env REG_PASS\n"
        )
        assert f"elector {barred} barred" in out
        del choices[barred]
        # a late elector, added by a public amendment, votes
        out = sh(
            f"verivote registrar add LATE1 --category supporters --weight 2 --dir registrar "
            f"--board {url} --credentials creds --passphrase-env REG_PASS\n"
            f"verivote issuer add LATE1 --dir issuer --board {url} --credentials creds "
            "--passphrase-env ISS_PASS\n"
            "verivote credential combine creds/LATE1.registrar.credential "
            "creds/LATE1.issuer.credential --out creds/LATE1.credential\n"
            f"verivote vote --board {url} --credential creds/LATE1.credential "
            "--choice leader=carver --choice council=x,y\n"
        )
        assert "elector LATE1 added (supporters)" in out
        choices["LATE1"] = ("carver", ["x", "y"])
        took = time.monotonic() - opened
        assert took < voting, f"voting hours of {voting} s, but voting ended after {took:.0f} s"

        # no close before both seals: not due (exit 3)
        code, err = run_failing(
            f"verivote organiser close --dir organiser --board {url} --passphrase-env ORG_PASS",
            tmp_path,
            env,
        )
        assert code == 3 and "no seal from the registrar and the issuer" in err
        out = sh(
            f"verivote registrar seal --dir registrar --board {url} --passphrase-env REG_PASS\n"
            f"verivote issuer seal --dir issuer --board {url} --passphrase-env ISS_PASS\n"
        )
        assert "registrar seal posted: 3 entries" in out and "issuer seal posted: 2 entries" in out
        receipts = (tmp_path / "registrar" / "receipts.txt").read_text().split("\n")
        assert [r.split()[0] for r in receipts if r] == ["roll", "amend", "amend", "seal"]
        sh(
            f"verivote organiser close --dir organiser --board {url} --passphrase-env ORG_PASS "
            "--wait\n"
            f"verivote organiser tally --dir organiser --board {url} --passphrase-env ORG_PASS\n"
        )
        # not due yet (exit 3), and a wrong passphrase (exit 2): one line each, no traceback
        code, err = run_failing(
            f"verivote organiser result --dir organiser --board {url} --passphrase-env ORG_PASS",
            tmp_path,
            env,
        )
        assert code == 3 and "0 of the 2 decryptions needed" in err and len(err.splitlines()) == 1
        code, err = run_failing(
            f"verivote trustee decrypt --dir t1 --board {url} --passphrase-env T2_PASS",
            tmp_path,
            env,
        )
        assert code == 2 and "wrong passphrase" in err and "Traceback" not in err
        # trustee 3 is air-gapped: it decrypts from an exported record into a file, which
        # is carried over and posted
        out = sh(
            f"verivote trustee decrypt --dir t2 --board {url} --passphrase-env T2_PASS\n"
            "verivote export --store sqlite:board.db --election council-2026 --out rec\n"
            "verivote trustee decrypt --dir t3 --board rec --out t3.jsonl "
            "--passphrase-env T3_PASS\n"
            f"verivote post t3.jsonl --board {url}\n"
            f"verivote organiser result --dir organiser --board {url} --passphrase-env ORG_PASS\n"
            f"verivote verify {url} --json\n"
        )
        assert "1 entries posted" in out
        report = json.loads(out[out.index("\n{") + 1 :])
        assert report["valid"] is True
        result = BoardClient(url).entries()[-1]
        assert result.type == "result"

    weights = {e: w for e, _, w in electors} | {"LATE1": 2}
    leader, council = Counter[str](), Counter[str]()
    for eid, (lead, approved) in choices.items():
        leader[lead] += weights[eid]
        for c in approved:
            council[c] += weights[eid]
    contests = {c["id"]: c["overall"] for c in result.body["contests"]}
    assert contests["leader"] == {c: leader[c] for c in LEADERS}
    assert contests["council"] == {c: council[c] for c in "xyz"}
    assert result.body["trustees"] == [2, 3] and result.body["missing"] == [1]
    assert result.body["added"] == 1


def test_page_has_the_whole_election():
    text = "\n".join(blocks())
    for needed in (
        "verivote board init",
        "verivote trustee keygen",
        "verivote organiser init",
        "verivote serve",
        "verivote trustee ceremony",
        "verivote registrar import",
        "verivote issuer keygen",
        "verivote issuer import",
        "verivote organiser ceremony",
        "verivote registrar seal",
        "verivote issuer seal",
        "verivote organiser open",
        "verivote vote",
        "verivote registrar bar",
        "verivote organiser close",
        "verivote organiser tally",
        "verivote trustee decrypt",
        "verivote organiser result",
        "verivote verify",
        "verivote receipt check",
    ):
        assert needed in text, needed
    assert sum(b.startswith(SERVER_MARK) for b in blocks()) == 1


def test_getting_started_runs_as_written(page_run):
    directory, future = page_run
    everything = future.result(timeout=600)
    assert "VALID" in everything
    store = open_store(f"sqlite:{directory / 'board.db'}", "")
    try:
        result = json.loads(store.line(store.count() - 1))
    finally:
        store.close()
    # the page's votes: R002 is barred; M002's audited encryption never counts, its ballot does
    assert result["type"] == "result"
    overall = {c["id"]: c["overall"] for c in result["body"]["contests"]}
    assert overall == {
        "leader": {"ashworth": 2, "begum": 3, "carver": 1},
        "rule-change": {"yes": 3, "no": 2},
    }
    assert result["body"]["trustees"] == [1, 3]
    assert "barred (membership-lapsed)" in everything
    for name in ("board", "organiser", "trustee1", "registrar"):
        assert (directory / name).stat().st_mode & 0o777 == 0o700
    key = directory / "trustee1" / "trustee.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"first trustee passphrase" not in key.read_bytes()
