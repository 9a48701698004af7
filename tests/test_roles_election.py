"""A whole election through the roles' commands, each a separate process: a board served
on loopback, an organiser, three trustees (threshold 2) each with its own state directory,
a registrar importing 200 electors in three categories, voters casting through
``verivote vote`` (most of them from one batch file, a few one by one, one after an audit,
one changing their mind), one elector barred after voting. The record verifies, and the
result equals the weighted votes the test cast."""

from __future__ import annotations

import json
import random
import time
from collections import Counter

from tests.roles_shell import background, free_port, run, shell_env
from verivote.board.client import BoardClient

ELECTORS = 200
CATEGORIES = ("members", "affiliated", "supporters")
LEADERS = ("ashworth", "begum", "carver", "dlamini")
VOTING_SECONDS = 60
PASSES = {
    "BOARD_PASS": "board secret",
    "ORG_PASS": "organiser secret",
    "REG_PASS": "registrar secret",
    "T1_PASS": "trustee one",
    "T2_PASS": "trustee two",
    "T3_PASS": "trustee three",
}

ELECTION = """\
election_id = "council-2026"
title = "Council election"
threshold = 2
min_category_size = 5
categories = ["members", "affiliated", "supporters"]
registrar_key = "{registrar}"
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


def test_a_whole_election_through_the_role_commands(tmp_path):
    rng = random.Random(2026)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = shell_env(**PASSES)
    def sh(script: str) -> str:
        t = time.monotonic()
        out = run(script, tmp_path, env)
        print(f"{time.monotonic() - t:6.2f} s  {script.splitlines()[-1][:60]}")
        return out

    started = time.monotonic()

    sh(
        "verivote board init --dir board --store sqlite:board.db --passphrase-env BOARD_PASS\n"
        "verivote registrar keygen --dir registrar --passphrase-env REG_PASS\n"
        + "".join(
            f"verivote trustee keygen --dir t{i} --name 'Trustee {i}' --passphrase-env T{i}_PASS\n"
            for i in (1, 2, 3)
        )
    )
    leaders = ", ".join(f'{{ id = "{c}", name = "{c.title()}" }}' for c in LEADERS)
    (tmp_path / "election.toml").write_text(
        ELECTION.format(
            registrar=(tmp_path / "registrar" / "public.key").read_text().strip(),
            board=(tmp_path / "board" / "public.key").read_text().strip(),
            leaders=leaders,
        )
        + "".join((tmp_path / f"t{i}" / "public.toml").read_text() for i in (1, 2, 3))
    )
    sh(
        "verivote organiser init election.toml --dir organiser --passphrase-env ORG_PASS "
        f"--opens now --closes +{VOTING_SECONDS}s\n"
        "verivote board load organiser/election.entry --dir board --passphrase-env BOARD_PASS\n"
    )
    serve = (
        "verivote serve --store sqlite:board.db --key board/board.key "
        f"--passphrase-env BOARD_PASS --port {port}"
    )
    with background(serve, tmp_path, env, port):
        ceremony = "".join(
            f"verivote trustee ceremony --dir t{i} --board {url} --passphrase-env T{i}_PASS\n"
            for i in (1, 2, 3)
        )
        sh(ceremony * 3)

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
            f"verivote organiser open --dir organiser --board {url} --passphrase-env ORG_PASS\n"
        )
        assert (tmp_path / "creds" / "E000.credential").stat().st_mode & 0o777 == 0o600

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
            "credential,choices\n" + "".join(f'creds/{e}.credential,"{spec(e)}"\n' for e in batch)
        )
        single_cmds = "".join(
            f"verivote vote --board {url} --credential creds/{e}.credential "
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
            f"verivote vote --board {url} --credential creds/{changer}.credential "
            "--choice leader=dlamini --choice council=z\n"
        )
        barred = batch[1]
        out = sh(
            f"verivote registrar bar {barred} --reason membership-lapsed --dir registrar "
            f"--board {url} --passphrase-env REG_PASS\n"
        )
        assert f"elector {barred} barred" in out
        del choices[barred]
        voting_done = time.monotonic() - started
        assert voting_done < VOTING_SECONDS, f"voting took {voting_done:.0f} s"

        out = sh(
            f"verivote organiser close --dir organiser --board {url} --passphrase-env ORG_PASS "
            "--wait\n"
            f"verivote organiser tally --dir organiser --board {url} --passphrase-env ORG_PASS\n"
            f"verivote trustee decrypt --dir t2 --board {url} --passphrase-env T2_PASS\n"
            f"verivote trustee decrypt --dir t3 --board {url} --passphrase-env T3_PASS\n"
            f"verivote organiser result --dir organiser --board {url} --passphrase-env ORG_PASS\n"
            f"verivote verify {url} --json\n"
        )
        report = json.loads(out[out.index("\n{") + 1 :])
        assert report["valid"] is True
        result = BoardClient(url).entries()[-1]
        assert result.type == "result"

    weights = {e: w for e, _, w in electors}
    leader, council = Counter[str](), Counter[str]()
    for eid, (lead, approved) in choices.items():
        leader[lead] += weights[eid]
        for c in approved:
            council[c] += weights[eid]
    contests = {c["id"]: c["overall"] for c in result.body["contests"]}
    assert contests["leader"] == {c: leader[c] for c in LEADERS}
    assert contests["council"] == {c: council[c] for c in "xyz"}
    assert result.body["trustees"] == [2, 3] and result.body["missing"] == [1]
