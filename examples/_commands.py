"""What the examples share: running verivote's commands, each person in their own process
and state directory, and the first steps of every election (keys, board, ceremony, roll,
opening), exactly as docs/getting-started.md does them by hand.

Not a part of verivote: a script's helper, imported by the examples beside it.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import verivote

T0 = time.monotonic()
PASSPHRASES = {  # passphrases in the environment, as in docs/getting-started.md
    "BOARD_PASS": "board operator passphrase",
    "ORGANISER_PASS": "organiser passphrase",
    "T1_PASS": "first trustee passphrase",
    "T2_PASS": "second trustee passphrase",
    "T3_PASS": "third trustee passphrase",
    "REGISTRAR_PASS": "registrar passphrase",
    "ISSUER_PASS": "issuer passphrase",
}


def say(text: str = "") -> None:
    """Print one line of the story at once."""
    print(text, flush=True)


def step(text: str) -> None:
    """A numbered step of the story, with the seconds since the start."""
    say(f"\n[{time.monotonic() - T0:5.1f} s] {text}")


class Failed(Exception):
    """A step did not do what it should; the message says which."""


def words(command: str | Sequence[str]) -> list[str]:
    """A command's words: a string is split as the shell would."""
    return shlex.split(command) if isinstance(command, str) else list(command)


class Shell:
    """Runs ``verivote`` commands in the election's directory, each in its own process
    (or, with ``inprocess``, the one-off commands of :meth:`run` in this process through
    ``verivote.cli.main`` — each person still with their own state directory — which
    saves starting Python for each; :meth:`start` and :meth:`serve` always start
    processes). Keeps the seconds each kind of command took in ``spent``."""

    def __init__(self, work: Path, *, inprocess: bool = False) -> None:
        self.work = work
        self.env = {**os.environ, **PASSPHRASES}
        self.inprocess = inprocess
        self.startup = 2.0  # seconds to start a command's process (measured by make_keys)
        self.started: list[subprocess.Popen[bytes]] = []
        self.spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def _count(self, args: Sequence[str], seconds: float) -> None:
        kind = " ".join(a for a in args[:2] if not a.startswith("-"))
        self.spent[kind][0] += 1
        self.spent[kind][1] += seconds

    def _here(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        """``verivote ARGS`` in this process, in the election's directory."""
        from verivote.cli import main as verivote_main

        out, err = io.StringIO(), io.StringIO()
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        os.environ.update(PASSPHRASES)
        os.chdir(self.work)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = verivote_main(args)
                except SystemExit as exc:  # a usage error
                    code = exc.code if isinstance(exc.code, int) else 2
                except Exception as exc:  # what a process would show as a traceback
                    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
                    code = 1
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())

    def argv(self, args: Sequence[str]) -> list[str]:
        """``verivote ARGS`` as this Python runs it."""
        return [sys.executable, "-m", "verivote", *args]

    def run(self, who: str, command: str | Sequence[str], *, expect: int = 0, show: int = 3) -> str:
        """Run ``verivote COMMAND`` (a shell-quoted string or its words) as ``who``; print
        the command and the first ``show`` lines it printed; Failed unless it exits with
        ``expect``."""
        args = words(command)
        say(f"  [{who}] $ verivote {shlex.join(args)}")
        began = time.monotonic()
        if self.inprocess:
            done = self._here(args)
        else:
            done = subprocess.run(
                self.argv(args), cwd=self.work, env=self.env, capture_output=True, text=True
            )
        self._count(args, time.monotonic() - began)
        if done.returncode != expect:
            raise Failed(
                f"verivote {' '.join(args[:2])} exited {done.returncode} (expected {expect}): "
                f"{(done.stderr or done.stdout).strip()}"
            )
        out = done.stdout.strip().splitlines() or done.stderr.strip().splitlines()
        for line in out[:show]:
            say(f"      {line}")
        if len(out) > show > 0:
            say(f"      … ({len(out) - show} more lines)")
        return done.stdout

    def start(self, jobs: Sequence[tuple[str, str | Sequence[str]]]) -> list[Any]:
        """Start several people's commands at the same time, each in its own process."""
        procs = []
        for who, command in jobs:
            args = words(command)
            say(f"  [{who}] $ verivote {shlex.join(args)} &")
            proc = subprocess.Popen(
                self.argv(args),
                cwd=self.work,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            procs.append((who, args, proc, time.monotonic()))
        return procs

    def finish(self, procs: list[Any], show: int = 1) -> list[str]:
        """Wait for commands started with :meth:`start`; Failed if one failed."""
        outs = []
        for who, args, proc, began in procs:
            stdout, stderr = proc.communicate()
            self._count(args, time.monotonic() - began)
            if proc.returncode != 0:
                raise Failed(f"[{who}] verivote {' '.join(args[:2])}: {(stderr or stdout).strip()}")
            for line in stdout.strip().splitlines()[:show]:
                say(f"      [{who}] {line}")
            outs.append(stdout)
        return outs

    def run_each(self, jobs: Sequence[tuple[str, str | Sequence[str]]], show: int = 1) -> list[str]:
        """Run several people's commands one after the other."""
        return [self.run(who, command, show=show) for who, command in jobs]

    def together(self, jobs: Sequence[tuple[str, str | Sequence[str]]], show: int = 1) -> list[str]:
        """Run several people's commands at the same time and wait for them all."""
        return self.finish(self.start(jobs), show)

    def serve(self, port: int) -> subprocess.Popen[bytes]:
        """Start the board's HTTP service in the background; wait until it answers."""
        args = ["serve", "--store", "sqlite:board.db", "--key", "board/board.key"]
        args += ["--passphrase-env", "BOARD_PASS", "--port", str(port), "--head-every", "1"]
        say(f"  [board operator] $ verivote {shlex.join(args)} &")
        return self.background(self.argv(args), f"http://127.0.0.1:{port}/head", "serve.log")

    def background(self, argv: Sequence[str], ready: str, log: str) -> subprocess.Popen[bytes]:
        """Start ``argv`` in its own process group, its output to ``log``; wait until
        the URL ``ready`` answers (Failed after a minute or if it stops)."""
        proc = subprocess.Popen(
            list(argv),
            cwd=self.work,
            env=self.env,
            stdout=(self.work / log).open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(proc)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(ready, timeout=2):
                    return proc
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise Failed(f"{ready} did not answer: " + _tail(self.work / log)) from None
                time.sleep(0.2)

    def report(self) -> None:
        """Print where the commands' seconds went (wall seconds while each ran; commands
        started together overlap)."""
        say("   seconds spent in commands (wall time while each ran):")
        for kind, (count, seconds) in sorted(self.spent.items(), key=lambda kv: -kv[1][1]):
            say(f"     {seconds:6.1f} s  {int(count):3d} x verivote {kind}")

    def stop(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


def _tail(path: Path) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-3:])
    except OSError:
        return "(no log)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def seconds_per_operation() -> float:
    """This machine's time for one group exponentiation now (the unit of a ballot's cost)."""
    group = verivote.get_group()
    x = group.random_scalar()
    g = group.generator
    start = time.perf_counter()
    for _ in range(200):
        g = g**x
    return (time.perf_counter() - start) / 200


def make_keys(sh: Shell) -> float:
    """The board operator, three trustees, the registrar and the issuer make their keys,
    each in their own state directory (at the same time, or one after the other in this
    process). Returns the seconds a new process took to start meanwhile (also kept in
    ``sh.startup``): a measure of how busy this machine is, to time the election by."""
    start = time.monotonic()
    # how long starting a command's process takes now (the trustees' watchers are ones)
    probe = subprocess.Popen([sys.executable, "-c", "import verivote.cli, verivote.roles"])
    (sh.run_each if sh.inprocess else sh.together)(
        [
            ("board operator", "board init --dir board --store sqlite:board.db "
                               "--passphrase-env BOARD_PASS"),
            ("trustee 1", "trustee keygen --dir trustee1 --name 'Ada Okafor' "
                          "--passphrase-env T1_PASS"),
            ("trustee 2", "trustee keygen --dir trustee2 --name 'Bo Lindqvist' "
                          "--passphrase-env T2_PASS"),
            ("trustee 3", "trustee keygen --dir trustee3 --name 'Chen Wei' "
                          "--passphrase-env T3_PASS"),
            ("registrar", "registrar keygen --dir registrar --passphrase-env REGISTRAR_PASS"),
            ("issuer", "issuer keygen --dir issuer --passphrase-env ISSUER_PASS"),
        ]
    )  # fmt: skip
    probe.wait()
    sh.startup = time.monotonic() - start
    return sh.startup


def keys_toml(work: Path) -> str:
    """The election file's key lines, from the registrar's, issuer's and board's files."""
    keys = {r: (work / r / "public.key").read_text().strip() for r in ("registrar", "issuer")}
    return (
        f'registrar_key = "{keys["registrar"]}"\nissuer_key = "{keys["issuer"]}"\n'
        f'board_key = "{(work / "board" / "public.key").read_text().strip()}"\n'
    )


def trustees_toml(work: Path) -> str:
    """The three trustees' ``[[trustees]]`` tables."""
    return "".join((work / f"trustee{i}" / "public.toml").read_text() for i in (1, 2, 3))


def serve_board(sh: Shell, port: int = 0) -> str:
    """Load the organiser's election entry and serve the board on 127.0.0.1 (a free port
    unless ``port``); returns its URL."""
    load = "board load organiser/election.entry --dir board --passphrase-env BOARD_PASS"
    sh.run("board operator", load)
    port = port or free_port()
    sh.serve(port)
    url = f"http://127.0.0.1:{port}"
    say(f"   the board is at {url}")
    return url


def ceremony_and_roll(sh: Shell, url: str, electors: str) -> None:
    """The key ceremony (its four deadlines spread from now to the opening time; the
    trustees already watching the board so that each acts as soon as it may) and, at the
    same time, the registrar's and the issuer's halves of every credential for the
    ``electors`` CSV."""
    trustees = sh.start(
        [
            (f"trustee {i}", f"trustee ceremony --dir trustee{i} --board {url} "
                             f"--passphrase-env T{i}_PASS --wait 120")
            for i in (1, 2, 3)
        ]
    )  # fmt: skip
    time.sleep(max(2.0, 1.5 * sh.startup))  # until they watch the board
    sh.run("organiser", f"organiser ceremony --dir organiser --board {url} "
                        "--passphrase-env ORGANISER_PASS")  # fmt: skip
    sh.finish(sh.start([("registrar", f"registrar import {electors} --dir registrar --board "
                                      f"{url} --credentials credentials "
                                      "--passphrase-env REGISTRAR_PASS")]))  # fmt: skip
    sh.finish(sh.start([("issuer", f"issuer import registrar/slots.csv --dir issuer --board "
                                   f"{url} --credentials credentials "
                                   "--passphrase-env ISSUER_PASS")]))  # fmt: skip
    sh.finish(trustees, show=2)


def opening_delay(keys_seconds: float) -> int:
    """Seconds from the organiser's signature to the opening: the board must be loaded and
    served (some 4 s), the trustees' processes started (half as long again as
    ``keys_seconds``, :func:`make_keys`' measure of a process start) and the key ceremony
    held — four deadlines, each at least 3 s and a process start after the last, so that
    every trustee can act in each step on a loaded machine — and 2 s to spare."""
    step = max(3.0, keys_seconds)
    return int(max(18.0, 4 + 1.5 * keys_seconds + 4 * step + 2))


def open_election(sh: Shell, url: str) -> None:
    """The organiser posts the joint key and opens the election (waiting for the
    ceremony's last deadline and the opening time)."""
    sh.run("organiser", f"organiser open --dir organiser --board {url} "
                        "--passphrase-env ORGANISER_PASS --wait")  # fmt: skip


def run_in_workdir(
    parser: argparse.ArgumentParser,
    keep: Path | None,
    prefix: str,
    inprocess: bool,
    body: Callable[[Shell], int],
) -> int:
    """Run ``body`` with a :class:`Shell` in a new working directory: ``keep`` (which must
    not exist yet, and is kept) or a temporary one (removed afterwards). A :class:`Failed`
    step is printed and gives exit 1; the board and other processes are always stopped."""
    if keep is not None:
        if keep.exists():
            parser.error(f"{keep} exists; give a new directory")
        keep.mkdir(parents=True)
        work = keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix=prefix))
    sh = Shell(work, inprocess=inprocess)
    try:
        return body(sh)
    except Failed as exc:
        say(f"\nFAILED: {exc}")
        return 1
    finally:
        sh.stop()
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
