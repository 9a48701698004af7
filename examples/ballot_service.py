"""How a ballot service imports verivote: a small web service of its own on top of the
board's client.

A party's ballot website serves the ballot, takes the encrypted ballot the voter's own
client made, casts it on the public board and hands back the board's receipt. It never
sees a vote in clear nor a credential: the voter's client encrypts and signs, and the
client checks what the service says against the public board. The service is a few
routes (Starlette, in verivote's ``server`` extra) over :class:`verivote.ElectionClient`:

    GET  /ballot   the manifest, the contests and the joint key, read from the board
                   (the organiser's signature and the trustees' proofs checked)
    POST /cast     a signed, encrypted ballot entry → the board's receipt (vvr1:…)

Run it against a live board::

    python examples/ballot_service.py serve --board http://127.0.0.1:8080 --port 8090

or, with no arguments, end to end: the script sets up a small election with verivote's
role commands (docs/getting-started.md), starts the service in its own process, plays a
few voters' clients against it (one changes their mind and votes again), counts the
election, then runs ``examples/voter_check.py`` with a receipt against the live board and
against the downloaded record. Exit code 0 when everything worked.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from _commands import (
    Failed,
    Shell,
    ceremony_and_roll,
    free_port,
    keys_toml,
    make_keys,
    open_election,
    opening_delay,
    run_in_workdir,
    say,
    seconds_per_operation,
    serve_board,
    step,
    trustees_toml,
    write_csv,
)

import verivote

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- the service
def make_app(board_url: str) -> Any:
    """The ballot service's web application over the board at ``board_url``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    board = verivote.ElectionClient(board_url)

    async def ballot(request: Request) -> JSONResponse:
        manifest = board.manifest()  # its organiser signature checked
        return JSONResponse(
            {
                "title": manifest.title,
                "closes": manifest.closes,
                "contests": [c.to_dict() for c in manifest.contests],
                "manifest": manifest.to_dict(),
                "joint_key": board.joint_key().hex(),  # from the trustees' proofs
            }
        )

    async def cast(request: Request) -> JSONResponse:
        try:
            entry = await request.json()
            if not isinstance(entry, dict) or entry.get("type") != "ballot":
                return JSONResponse({"error": "expected a signed ballot entry"}, 400)
            receipt = board.client.post_ballot(entry)
        except verivote.PostRejected as exc:
            return JSONResponse({"refused": exc.check, "reason": exc.reason}, 422)
        except verivote.BoardClientError as exc:
            return JSONResponse({"error": f"the board: {exc}"}, 502)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, 400)
        return JSONResponse(
            {
                "receipt": receipt.to_text(),
                "entry": receipt.index,
                "tracking_code": receipt.tracking_code,
            }
        )

    return Starlette(routes=[Route("/ballot", ballot), Route("/cast", cast, methods=["POST"])])


def serve(board_url: str, port: int) -> None:
    """Serve the ballot service on 127.0.0.1:``port`` until interrupted."""
    import uvicorn

    uvicorn.run(make_app(board_url), host="127.0.0.1", port=port, log_level="warning")


# --------------------------------------------------------------------------- a voter's client
def _http(url: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            result: dict[str, Any] = json.load(answer)
            return result
    except urllib.error.HTTPError as exc:
        raise Failed(f"{url}: {exc.code} {exc.read().decode(errors='replace')}") from None


def voter_client(
    service: str, board_url: str, halves: list[Path], choices: dict[str, list[str]]
) -> verivote.Receipt:
    """What runs on a voter's machine: fetch the ballot from the service, check it against
    the public board, encrypt and sign on this machine, send it, check the receipt."""
    offered = _http(f"{service}/ballot")
    manifest = verivote.Manifest.from_dict(offered["manifest"])
    board = verivote.ElectionClient(board_url)
    if manifest.fingerprint != board.manifest().fingerprint:
        raise Failed("the service offers another election than the board's")
    joint_key = board.joint_key()
    if joint_key.hex() != offered["joint_key"]:
        raise Failed("the service offers another key than the trustees' joint key")
    credential = verivote.credential_from_halves(*(p.read_text().strip() for p in halves))
    prepared = verivote.encrypt_ballot(manifest, joint_key, credential, choices)
    entry = verivote.sign_entry(credential, manifest.fingerprint, "ballot", prepared.body, "-")
    answer = _http(f"{service}/cast", entry.to_dict())
    receipt = verivote.read_receipt(answer["receipt"])
    if receipt.tracking_code != prepared.tracking_code:
        raise Failed("the receipt is not for the ballot this machine made")
    board.check_receipt(receipt)  # signed by the board, the ballot at its entry
    return receipt


# --------------------------------------------------------------------------- end to end
ELECTION = """election_id = "selection-2026"
title = "Candidate selection, Northfield constituency"
threshold = 2
min_category_size = 2
categories = ["members"]
{keys}
[[contests]]
id = "candidate"
title = "Parliamentary candidate"
kind = "plurality"
candidates = [
  {{ id = "okoro", name = "Grace Okoro" }},
  {{ id = "patel", name = "Dev Patel" }},
  {{ id = "quinn", name = "Rory Quinn" }},
]

[[contests]]
id = "hustings"
title = "Hold an open hustings next time?"
kind = "referendum"
candidates = [{{ id = "yes", name = "Yes" }}, {{ id = "no", name = "No" }}]

{trustees}"""
CHOICES = [
    {"candidate": ["okoro"], "hustings": ["yes"]},
    {"candidate": ["patel"], "hustings": ["no"]},
    {"candidate": ["okoro"], "hustings": ["no"]},
    {"candidate": ["quinn"], "hustings": ["yes"]},
]


def end_to_end(sh: Shell, electors: int) -> int:
    work = sh.work
    step("1. The board, the trustees, the registrar and the issuer make their keys")
    busy = make_keys(sh)
    (work / "election.toml").write_text(
        ELECTION.format(keys=keys_toml(work), trustees=trustees_toml(work))
    )
    unit = seconds_per_operation()
    window = int(10 + 1.5 * unit * (300 * electors + 2500 * 6))
    step(f"2. The organiser signs the election (voting lasts {window} s); the board is served")
    times = f"--opens +{opening_delay(busy)}s --closes +{window}s"
    init = "organiser init election.toml --dir organiser --passphrase-env ORGANISER_PASS"
    sh.run("organiser", f"{init} {times}")
    board_url = serve_board(sh)
    step("3. Key ceremony and the roll")
    ids = [f"N{i:03d}" for i in range(1, electors + 1)]
    write_csv(
        work / "electors.csv",
        ["elector_id", "category", "weight"],
        [(i, "members", 1) for i in ids],
    )
    ceremony_and_roll(sh, board_url, "electors.csv")
    open_election(sh, board_url)

    step("4. The ballot service starts, in its own process, on top of the board's client")
    port = free_port()
    service = f"http://127.0.0.1:{port}"
    say(f"  [ballot service] $ python examples/ballot_service.py serve --board {board_url} "
        f"--port {port} &")  # fmt: skip
    sh.background(
        [sys.executable, str(HERE / "ballot_service.py"), "serve", "--board", board_url,
         "--port", str(port)], f"{service}/ballot", "service.log",
    )  # fmt: skip
    offered = _http(f"{service}/ballot")
    say(f"   GET /ballot: {offered['title']!r}, contests "
        f"{[c['id'] for c in offered['contests']]}, closes {offered['closes']}")  # fmt: skip

    step("5. Voters' clients fetch the ballot, encrypt on their machine and cast via the service")
    receipts: dict[str, Path] = {}
    for n, eid in enumerate(ids):
        choices = CHOICES[n % len(CHOICES)]
        halves = [work / "credentials" / f"{eid}.{r}.credential" for r in ("registrar", "issuer")]
        receipt = voter_client(service, board_url, halves, choices)
        path = work / f"{eid}.receipt"
        path.write_text(receipt.to_text() + "\n")
        receipts[eid] = path
        say(f"   {eid}: cast, entry {receipt.index}, tracking code {receipt.tracking_code[:16]}…")
    changed = ids[1]
    first = work / f"{changed}.first.receipt"
    receipts[changed].rename(first)
    halves = [work / "credentials" / f"{changed}.{r}.credential" for r in ("registrar", "issuer")]
    receipt = voter_client(service, board_url, halves, {"candidate": ["quinn"]})
    receipts[changed].write_text(receipt.to_text() + "\n")
    say(f"   {changed} changes their mind and votes again: entry {receipt.index}")

    step("6. Seals, close, tally, two trustees decrypt, the result")
    for role, env in (("registrar", "REGISTRAR_PASS"), ("issuer", "ISSUER_PASS")):
        sh.run(role, f"{role} seal --dir {role} --board {board_url} --passphrase-env {env}", show=1)
    org = f"--dir organiser --board {board_url} --passphrase-env ORGANISER_PASS"
    sh.run("organiser", f"organiser close {org} --wait")
    sh.run("organiser", f"organiser tally {org}")
    for i in (1, 2):
        trustee = f"--dir trustee{i} --board {board_url} --passphrase-env T{i}_PASS"
        sh.run(f"trustee {i}", f"trustee decrypt {trustee}")
    sh.run("organiser", f"organiser result {org}", show=12)
    export = "export --store sqlite:board.db --election selection-2026 --out record"
    sh.run("observer", export, show=1)

    step("7. Voters check their receipts (examples/voter_check.py)")
    checks = [
        (ids[0], receipts[ids[0]], [board_url, "record"], 0),
        (changed, first, [board_url], 1),
    ]
    ok = True
    for eid, path, sources, expect in checks:
        say(f"  [{eid}] $ python examples/voter_check.py {path.name} {' '.join(sources)}")
        done = subprocess.run(
            [sys.executable, str(HERE / "voter_check.py"), str(path), *sources],
            cwd=work,
            capture_output=True,
            text=True,
        )
        for line in (done.stdout + done.stderr).strip().splitlines():
            say(f"      {line}")
        if done.returncode != expect:
            say(f"   voter_check exited {done.returncode}, expected {expect}")
            ok = False
    say("\n" + ("SUCCESS" if ok else "FAILURE"))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="serve the ballot service against a live board")
    srv.add_argument("--board", required=True, help="the board's URL")
    srv.add_argument("--port", type=int, default=8090, help="port on 127.0.0.1 (8090)")
    parser.add_argument("--electors", type=int, default=6, help="electors (end to end; 6)")
    parser.add_argument("--keep", type=Path, help="run in this new directory and keep it")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.board, args.port)
        return 0
    if args.electors < 2:
        parser.error("--electors must be at least 2")
    return run_in_workdir(
        parser, args.keep, "ballot-service-", True, lambda sh: end_to_end(sh, args.electors)
    )


if __name__ == "__main__":
    sys.exit(main())
