"""``examples/dishonest_operator.py``, run as a user runs it: every scenario is caught by
the party and the check the example claims, and the honest board passes every check.

One run of the example (all scenarios, a small roll, its files kept) is shared by the
tests; the commands README.md gives a member who doubts a result are then run, word for
word, on the records it left: the honest one verifies, the doctored ones do not.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.roles_shell import background, free_port, shell_env
from verivote.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dishonest_operator.py"
README = ROOT / "README.md"

EXPECTED = {
    "changes-votes": [("the verifier", "ballot.signature"), ("receipt check", "missing")],
    "adds-votes": [("the verifier", "ballot.credential")],
    "removes-members": [("the verifier", "roll.signature")],
    "suppresses-registrar": [("the registrar's seal", "seal.counts")],
    "drops-ballots": [("receipt check", "missing"), ("observers comparing heads", "time")],
    "split-view": [("observers comparing heads", "time")],
}
"""Scenario → (who, check) pairs the summary must name."""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The example with every scenario on 24 members, its files kept."""
    kept = tmp_path_factory.mktemp("dishonest") / "files"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--all", "--electors", "24", "--keep", str(kept)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    return done, kept


def summary(stdout: str) -> dict[str, str]:
    lines = stdout[stdout.index("\nsummary") :].splitlines()[2:]
    return {m[1]: m[2] for line in lines if (m := re.match(r"\s+(\S+)\s+(.*)", line))}


def test_every_scenario_is_caught_and_the_honest_run_is_clean(run):
    done, _ = run
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = summary(done.stdout)
    assert verdicts["honest"] == "clean: every check passed"
    for scenario, catchers in EXPECTED.items():
        assert verdicts[scenario].startswith("caught by "), verdicts[scenario]
        for who, check in catchers:
            assert f"{who} ({check})" in verdicts[scenario], (scenario, verdicts[scenario])


def test_the_example_says_who_caught_what_in_plain_words(run):
    done, _ = run
    out = done.stdout
    assert "failed ballot.signature: ballot signed by its credential" in out
    assert "failed ballot.credential: credential is not on the roll" in out
    assert "failed seal.counts: the registrar sealed 2 entries" in out
    assert re.search(
        r"receipt check receipts/M\d{3}\.receipt record-changes-votes\n"
        r"\s+your ballot is missing: entry \d+ is not your ballot \[missing\]",
        out,
    )
    # the dropped ballots leave a record that verifies: only receipts and heads show it
    drops = out[out.index("== drops-ballots") : out.index("== split-view")]
    assert "VALID: every check passed" in drops
    assert "split view:" in out[out.index("== split-view") :]


def readme_commands() -> list[str]:
    """The command lines of README's block for a member who doubts a result."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## If you doubt a result") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block[1].splitlines() if line.startswith("verivote ")]


def test_the_readme_commands_for_a_doubting_member_work_as_written(run, capsys, monkeypatch):
    """README's commands for a member who doubts a result, run as written with the
    example's files in place of the member's (the honest board served again from its
    store for the download): on the honest record every command passes; on a doctored one
    verify fails naming the check, and a dropped ballot's receipt and the observer's heads
    fail against the record the operator published."""
    done, kept = run
    assert done.returncode == 0, done.stderr
    port = free_port()
    env = shell_env(OPERATOR_PASS="operator passphrase")
    commands = readme_commands()
    assert [c.split()[1] for c in commands] == ["verify", "verify", "receipt", "compare"]
    serve = (
        "verivote serve --store sqlite:board.db --key operator/board.key "
        f"--passphrase-env OPERATOR_PASS --port {port}"
    )

    def sh(line: str, record: str, receipt: str) -> tuple[int, str, str]:
        """The line, run in this process as the ``verivote`` command (exit, out, err)."""
        line = (
            line.replace("https://board.example.org", f"http://127.0.0.1:{port}")
            .replace("record/", f"{record}/")
            .replace("--save record", f"--save {record}")
            .replace("my-ballot.receipt", f"receipts/{receipt}.receipt")
            .replace("their-heads.jsonl", "observer-a.jsonl")
        )
        capsys.readouterr()
        code = main(shlex.split(line)[1:])
        out, err = capsys.readouterr()
        return code, out, err

    monkeypatch.chdir(kept)
    barred = re.search(r"(M\d{3}) was barred", run[0].stdout)
    assert barred is not None
    voter = min(p.stem for p in (kept / "receipts").iterdir() if p.stem != barred[1])
    with background(serve, kept, env, port):
        code, out, err = sh(commands[0], "downloaded", voter)
    assert code == 0, out + err
    assert "VALID" in out and (kept / "downloaded" / "board.jsonl").is_file()
    for line in commands[1:]:
        code, out, err = sh(line, "record-honest", voter)
        assert code == 0, (line, out + err)
    assert "<html" in (kept / "report.html").read_text(encoding="utf-8").lower()

    code, out, _ = sh(commands[1], "record-changes-votes", voter)
    assert code == 1 and "failed ballot.signature" in out
    dropped = re.search(
        r"(M\d{3})'s receipt check \(missing\)", summary(run[0].stdout)["drops-ballots"]
    )
    assert dropped is not None
    published = [sh(line, "record-published", dropped[1]) for line in commands[1:]]
    assert [code for code, _, _ in published] == [0, 1, 1]
    assert "your ballot is missing" in published[1][1] + published[1][2]
    assert "split view" in published[2][2]


def test_options_choose_the_runs_and_an_uncaught_scenario_fails_the_run():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import dishonest_operator as example
    finally:
        sys.path.remove(str(ROOT / "examples"))
    every = list(example.SCENARIOS)
    assert example.selection(example.parse([])) == (True, every)
    assert example.selection(example.parse(["--all"])) == (True, every)
    assert example.selection(example.parse(["--honest"])) == (True, [])
    assert example.selection(example.parse(["--split-view", "--adds-votes"])) == (
        False,
        ["adds-votes", "split-view"],
    )
    caught = [example.Catch("the verifier", "ballot.credential", "credential is not on the roll")]
    assert example.summary({"honest": [], "adds-votes": caught}) == 0
    assert example.summary({"honest": [], "adds-votes": []}) == 1  # not caught
    assert example.summary({"honest": caught}) == 1  # the honest board failed a check
