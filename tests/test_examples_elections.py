"""The example elections run as a user runs them — ``python examples/NAME.py`` in a
subprocess, at a small size — and say what they claim: the leadership election's AV
winner equals the script's own recount of the rankings it cast, a barred elector is
refused, the record verifies and the HTML report is written; the ballot service casts
through its own routes and the voter's check finds a counted ballot counted and a
replaced one replaced. Both examples run at the same time (most of their time is spent
waiting for the election's opening and closing times)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 600


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, Path]]:
    base = tmp_path_factory.mktemp("examples")
    runs = {
        "leadership": (
            base / "leadership",
            ["--electors", "40", "--late", "2", "--seed", "7"],
            "leadership_election.py",
        ),
        "service": (base / "service", ["--electors", "3"], "ballot_service.py"),
    }
    procs = {k: _start(script, *args, "--keep", str(d)) for k, (d, args, script) in runs.items()}
    out = {}
    for key, proc in procs.items():
        stdout, _ = proc.communicate(timeout=TIMEOUT)
        out[key] = (proc.returncode, stdout, runs[key][0])
    return out


def test_the_leadership_election_runs_and_its_count_equals_the_recount(outputs):
    code, out, work = outputs["leadership"]
    assert code == 0, out[-3000:]
    assert "SUCCESS" in out.splitlines()[-1]
    # the published winner and the script's own recount of the rankings it cast
    found = re.search(r"recount of the (\d+) rankings cast and counted: elected (\[.*?\]); "
                      r"published: (\[.*?\])", out)  # fmt: skip
    assert found and found.group(2) == found.group(3) and int(found.group(1)) > 20
    assert "every round of the published count equals the recount" in out
    # a barred elector's new ballot is refused by the board, naming the check
    assert "the board refused the entry: ballot.credential: credential was revoked" in out
    # two late registrations, each a public amendment and the issuer's half
    assert out.count("added (registered) in slot") == 2
    assert out.count("issuer half posted for slot") == 2
    # mixed by two trustees in turn, decrypted, counted by category and overall
    assert "mix 1 of 2" in out and "mix 2 of 2" in out
    assert re.search(r"^   overall:\n     round 1: first preferences", out, re.M)
    assert "verify: VALID" in out
    report = (work / "report.html").read_text(encoding="utf-8")
    assert "Rounds of the count" in report
    assert "counted: the tally at entry" in out  # a voter's receipt check


def test_the_ballot_service_casts_and_the_voter_check_tells_counted_from_replaced(outputs):
    code, out, _ = outputs["service"]
    assert code == 0, out[-3000:]
    assert out.splitlines()[-1] == "SUCCESS"
    assert "GET /ballot: 'Candidate selection, Northfield constituency'" in out
    assert out.count(": cast, entry ") == 3
    assert "YOUR BALLOT IS THERE AND WAS COUNTED at every place checked." in out
    assert "NOT OK at the live board: your ballot does not count: a later ballot" in out
    assert "and the whole record verifies with the result" in out


def test_voter_check_reads_only_receipts(tmp_path):
    bad = tmp_path / "r.txt"
    bad.write_text("not a receipt\n")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "voter_check.py"), str(bad), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("voter_check: cannot read the receipt")
