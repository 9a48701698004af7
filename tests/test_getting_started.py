"""docs/getting-started.md, run exactly: every ``sh`` block of the page, in order, each as
its own bash process in one empty directory, against ``verivote serve`` on a free loopback
port (the block that starts it, marked ``# in a second terminal``, runs in the
background). The page cannot rot: a command that stops working fails this test."""

from __future__ import annotations

import re
from pathlib import Path

from tests.roles_shell import background, free_port, run, shell_env

PAGE = Path(__file__).resolve().parent.parent / "docs" / "getting-started.md"
SERVER_MARK = "# in a second terminal"
VOTING_SECONDS = 20


def blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", PAGE.read_text(encoding="utf-8"), re.M | re.S)


def test_page_has_the_whole_election():
    text = "\n".join(blocks())
    for needed in (
        "verivote board init",
        "verivote trustee keygen",
        "verivote organiser init",
        "verivote serve",
        "verivote trustee ceremony",
        "verivote registrar import",
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


def test_getting_started_runs_as_written(tmp_path):
    port = free_port()
    env = shell_env(PORT=str(port), CLOSES=f"+{VOTING_SECONDS}s")
    server = None
    outputs = []
    try:
        for block in blocks():
            if block.startswith(SERVER_MARK):
                server = background(block, tmp_path, env, port)
                server.__enter__()
                continue
            outputs.append(run(block, tmp_path, env))
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    everything = "\n".join(outputs)
    # the result the page's votes give: R002 is barred, M002's audited ballot never counts
    assert re.search(r"begum\D+3\b", everything), everything
    assert "VALID" in everything
    assert "barred (membership-lapsed)" in everything
    for mode in ("board", "organiser", "trustee1", "registrar"):
        assert (tmp_path / mode).stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "trustee1" / "trustee.key").stat().st_mode & 0o777 == 0o600
    assert b"first trustee passphrase" not in (tmp_path / "trustee1" / "trustee.key").read_bytes()
