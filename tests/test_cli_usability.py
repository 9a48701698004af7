"""What a new user meets first: ``--version``, help with defaults, ``verify``'s result and
its JSON errors, ``demo --out`` onto unusable places, ``demo --seed`` and its progress."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

import pytest

import verivote
from verivote.cli import Parser, _parser, main, shows_default
from verivote.demo import run_demo


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "record"
    outcome = run_demo(voters=12, out=out, seed=5, say=lambda _: None)
    assert outcome.report.valid
    return out, outcome


def test_version():
    done = subprocess.run(
        [sys.executable, "-m", "verivote", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"verivote {verivote.__version__}"


def _subparsers(parser: argparse.ArgumentParser, path: str = "verivote"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subparsers(sub, f"{path} {name}")


def test_every_option_has_help_and_shows_its_default():
    seen = 0
    for path, parser in _subparsers(_parser()):
        text = parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if action.dest == "version":
                continue
            seen += 1
            assert action.help, f"{path} {action.option_strings or action.dest}: no help text"
            shown = parser._get_formatter()._expand_help(action)
            if shows_default(action):
                assert str(action.default) in shown or "default" in shown, (
                    f"{path} {action.option_strings}: default {action.default!r} not shown"
                )
        assert "usage:" in text
    assert seen > 10


def test_which_defaults_are_shown():
    parser = argparse.ArgumentParser()
    cases = {
        "--count": (0, True),
        "--wait": (0.0, True),
        "--name": ("x", True),
        "--empty": ("", False),
        "--many": ([], False),
        "--none": (None, False),
    }
    for flag, (default, shown) in cases.items():
        action = parser.add_argument(flag, default=default)
        assert shows_default(action) is shown, flag
    assert not shows_default(parser.add_argument("--flag", action="store_true"))
    assert not shows_default(parser.add_argument("--must", required=True, default="x"))
    assert not shows_default(parser.add_argument("positional"))
    text = " ".join(Parser(prog="x").format_help().split())
    assert "usage: x" in text


def test_demo_help_says_what_seed_fixes(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 1000)" in out and "(default: ristretto255)" in out
    assert "record itself differs" in out
    assert "exit status: 0" in out and "2 --out cannot take the record" in out


def test_verify_text_prints_the_verified_result(record, capsys):
    out, outcome = record
    assert main(["verify", str(out)]) == 0
    text = capsys.readouterr().out
    assert "VALID" in text and "result       decrypted and checked" in text
    for contest in outcome.result["contests"]:
        for cand, n in contest["overall"].items():
            name = outcome.manifest.contest(contest["id"]).candidates
            label = next(c.name for c in name if c.id == cand)
            assert re.search(rf"^{re.escape(label)}\s+{n}\b", text, re.M), (label, n)
    assert "members" in text and "decrypted by trustees 1, 2; absent: 3" in text


def test_verify_default_jobs_follow_the_size_of_the_log(tmp_path, monkeypatch):
    """Without --jobs, a log of AUTO_JOBS_MIB MiB or more is checked on one worker per
    core, a smaller one (or one that cannot be read) in this process."""
    from verivote import cli

    monkeypatch.setattr(cli.os, "sched_getaffinity", lambda _: {0, 1, 2}, raising=False)
    board = tmp_path / "board.jsonl"
    assert cli.auto_jobs(tmp_path) == 1  # no log: the verifier says why later
    board.write_bytes(b"x")
    assert cli.auto_jobs(tmp_path) == 1
    with board.open("r+b") as f:  # sparse: the size without the bytes
        f.truncate(cli.AUTO_JOBS_MIB * 2**20)
    assert cli.auto_jobs(tmp_path) == 3
    assert cli.auto_jobs(board) == 3
    used: list[int] = []
    monkeypatch.setattr(cli, "auto_jobs", lambda path: used.append(1) or 1)
    main(["verify", str(tmp_path), "--json"])
    assert used == [1]  # asked only when --jobs is not given
    main(["verify", str(tmp_path), "--json", "--jobs", "1"])
    assert used == [1]


def test_verify_invalid_record_prints_no_result(record, tmp_path, capsys):
    out, _ = record
    bad = tmp_path / "bad"
    bad.mkdir()
    lines = (out / "board.jsonl").read_bytes().splitlines()
    (bad / "board.jsonl").write_bytes(b"\n".join(lines[:-1]) + b"\n")  # the result dropped
    (bad / "heads.jsonl").write_bytes((out / "heads.jsonl").read_bytes())
    assert main(["verify", str(bad)]) == 1
    text = capsys.readouterr().out
    assert "INVALID" in text and "decrypted and checked" not in text


@pytest.mark.parametrize(
    "args",
    [["verify", "{missing}", "--json"], ["verify", "{record}", "--json", "--jobs", "0"]],
    ids=["not-a-record", "bad-jobs"],
)
def test_verify_json_error_object(args, record, tmp_path, capsys):
    out, _ = record
    argv = [a.format(missing=tmp_path / "nothing", record=out) for a in args]
    assert main(argv) == 2
    captured = capsys.readouterr()
    obj = json.loads(captured.out)
    assert obj["valid"] is None and isinstance(obj["error"], str) and obj["error"]
    assert captured.err.count("\n") == 1


def test_verify_json_error_for_an_unreachable_board(capsys):
    assert main(["verify", "http://127.0.0.1:9/", "--json"]) == 2
    obj = json.loads(capsys.readouterr().out)
    assert obj["valid"] is None and "cannot download" in obj["error"]


def _demo(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "verivote", "demo", "--voters", "5", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
    )


def test_demo_out_onto_an_existing_file(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    done = _demo("--out", str(target))
    assert done.returncode == 2
    assert done.stderr.strip() == f"verivote demo: {target} exists and is not a directory"
    assert "Traceback" not in done.stderr and target.read_text() == "keep me"


def test_demo_out_onto_a_directory_of_other_files(tmp_path):
    (tmp_path / "thesis.tex").write_text("keep me")
    done = _demo("--out", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "thesis.tex" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_demo_out_unwritable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        done = _demo("--out", str(locked / "record"))
    finally:
        locked.chmod(0o700)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot write in" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_out_under_a_file(tmp_path):
    (tmp_path / "afile").write_text("")
    done = _demo("--out", str(tmp_path / "afile" / "record"))
    assert done.returncode == 2
    assert done.stderr.startswith("verivote demo: cannot write in")
    assert done.stderr.count("\n") == 1


def test_demo_progress_total_is_fixed_and_seed_fixes_the_counts(tmp_path):
    lines_a: list[str] = []
    a = run_demo(voters=30, out=tmp_path / "a", seed=9, say=lines_a.append)
    b = run_demo(voters=30, out=tmp_path / "b", seed=9, say=lambda _: None)
    totals = {m.group(2) for line in lines_a if (m := re.match(r"\s+(\d+)/(\d+) voters", line))}
    assert len(totals) == 1, totals
    assert a.result == b.result and a.expected == b.expected
    # the record differs: keys and nonces come from the operating system
    assert (tmp_path / "a" / "board.jsonl").read_bytes() != (
        tmp_path / "b" / "board.jsonl"
    ).read_bytes()


def test_pytest_shows_skip_reasons():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert "-rs" in config["tool"]["pytest"]["ini_options"]["addopts"].split()
