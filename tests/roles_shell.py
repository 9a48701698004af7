"""Running the roles' commands as separate processes in tests: a shell with the installed
``verivote`` on its PATH, a free loopback port, and a server started in the background."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BIN = str(Path(sys.executable).parent)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shell_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PASS")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def run(script: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run ``script`` with bash -euo pipefail; its stdout, or AssertionError with both
    streams if it fails. The timeout is generous: steps that wait for an election's
    deadlines (set from measured set-up times) take longer on a loaded machine."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        f"exit {done.returncode}\n--- script\n{script}\n--- stdout\n{done.stdout}"
        f"\n--- stderr\n{done.stderr}"
    )
    return done.stdout


def run_failing(script: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run ``script`` that must fail; its exit code and standard error."""
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0, done.stdout
    return done.returncode, done.stderr


@contextmanager
def background(script: str, cwd: Path, env: dict[str, str], port: int):
    """Start ``script`` (a ``verivote serve``) in its own process group and wait until the
    board answers on ``port``; stop it afterwards."""
    log = (cwd / "serve.log").open("wb")
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/head", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise AssertionError(
                        "the server did not start:\n" + (cwd / "serve.log").read_text()
                    ) from None
                time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
