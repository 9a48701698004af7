"""The board's commands of ``verivote``: ``serve``, ``receipt check``, ``watch``,
``compare`` (two copies of the heads, offline), and ``verify URL`` (download a live
board's record, then verify it).

Exit codes: 0 fine, 1 a verdict against the board or the receipt (said in plain words),
2 unreadable input, an unreachable board or a usage error. Heavy imports wait until a
command runs, so ``verivote verify`` never loads the web stack.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

BOARD_COMMANDS = ("serve", "receipt", "watch", "compare")


def add_board_commands(sub: Any) -> None:
    """Add ``serve``, ``receipt check`` and ``watch`` to the subcommand parsers ``sub``."""
    serve = sub.add_parser("serve", help="serve a board kept in a store over HTTP")
    serve.add_argument("--store", required=True, help="sqlite:PATH or postgres:DSN")
    serve.add_argument(
        "--key",
        type=Path,
        required=True,
        help="the board's key file (board.key of verivote board init, or a seed in hex)",
    )
    serve.add_argument(
        "--passphrase-env", metavar="NAME", help="environment variable holding its passphrase"
    )
    serve.add_argument("--election", default="", help="the election's id (needed for postgres)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    serve.add_argument(
        "--workers",
        type=int,
        default=-1,
        metavar="N",
        help="processes checking ballots' proofs (default: one per core; 0: in the server)",
    )
    serve.add_argument(
        "--max-inflight",
        type=int,
        default=32,
        metavar="N",
        help="ballots checked or appended at once; more are answered 503 (32)",
    )
    serve.add_argument(
        "--latency-target",
        type=float,
        default=0.25,
        metavar="S",
        help="admit no more ballots than the service completes in S seconds (0.25)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=1000,
        metavar="N",
        help="open connections; more are closed at once (1000)",
    )
    serve.add_argument(
        "--read-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds a client has to send a request's headers, and again its body (10)",
    )
    serve.add_argument(
        "--head-every",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds between published heads while the log grows (5)",
    )
    receipt = sub.add_parser("receipt", help="check a voter's receipt")
    actions = receipt.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="check a receipt against a record or a board")
    check.add_argument("receipt", type=Path, help="file with the receipt (vvr1:… text or JSON)")
    check.add_argument("source", help="record directory, or the board's URL")
    watch = sub.add_parser("watch", help="watch a board's signed heads for a split view")
    watch.add_argument("url", help="the board's URL")
    watch.add_argument("--state", type=Path, default=Path("watch.jsonl"), help="heads kept")
    watch.add_argument("--interval", type=float, default=60.0, help="seconds between polls")
    watch.add_argument("--once", action="store_true", help="poll once and stop")
    watch.add_argument("--import", dest="other", type=Path, help="another observer's heads")
    compare = sub.add_parser("compare", help="compare two copies of a board's heads offline")
    compare.add_argument("a", type=Path, help="record directory, heads.jsonl or watch state")
    compare.add_argument("b", type=Path, help="record directory, heads.jsonl or watch state")
    compare.add_argument(
        "--election", type=Path, help="record directory or watch state naming the election"
    )


def is_url(text: str) -> bool:
    """Whether ``text`` names a board by URL rather than a record directory."""
    return text.startswith(("http://", "https://"))


def run_board_command(args: argparse.Namespace) -> int:
    """Run ``serve``, ``receipt check`` or ``watch``."""
    if args.command == "serve":
        from verivote.server.serve import ServeOptions, main_serve

        limits = ("max_inflight", "max_connections", "read_timeout", "head_every", "latency_target")
        for name in limits:
            if getattr(args, name) <= 0:
                option = "--" + name.replace("_", "-")
                print(f"verivote serve: {option} must be positive", file=sys.stderr)
                return 2
        options = ServeOptions(
            workers=args.workers,
            max_inflight=args.max_inflight,
            max_connections=args.max_connections,
            header_timeout=args.read_timeout,
            body_timeout=args.read_timeout,
            head_every=args.head_every,
            latency_target=args.latency_target,
        )
        return main_serve(
            args.store, args.election, args.key, args.host, args.port, options, args.passphrase_env
        )
    if args.command == "receipt":
        return check_receipt_command(args.receipt, args.source)
    if args.command == "compare":
        return compare_command(args.a, args.b, args.election)
    return watch_command(args.url, args.state, args.interval, args.once, args.other)


def check_receipt_command(receipt_file: Path, source: str) -> int:
    """``verivote receipt check``: 0 the ballot is there and counts (or will, if nothing
    changes before the close), 1 it is missing or does not count — an audit, replaced by a
    later ballot, its credential revoked (said why) —, 2 the receipt or the source cannot
    be read."""
    from verivote.board.client import BoardClient, BoardSource
    from verivote.board.receipt import read_receipt
    from verivote.board.receipt_check import RecordSource, check_receipt
    from verivote.errors import ReceiptError, VerivoteError

    try:
        receipt = read_receipt(receipt_file.read_text(encoding="utf-8"))
    except (VerivoteError, OSError, UnicodeDecodeError) as exc:
        print(f"verivote receipt check: cannot read the receipt: {exc}", file=sys.stderr)
        return 2
    try:
        where = BoardSource(BoardClient(source)) if is_url(source) else RecordSource(Path(source))
        verdict = check_receipt(receipt, where)
    except ReceiptError as exc:
        print(str(exc))
        return 1
    except (VerivoteError, OSError) as exc:
        print(f"verivote receipt check: cannot read {source}: {exc}", file=sys.stderr)
        return 2
    print(verdict.message)
    return 0


def watch_command(url: str, state: Path, interval: float, once: bool, other: Path | None) -> int:
    """``verivote watch``: 0 nothing wrong seen, 1 misbehaviour (a split view's evidence
    is printed as JSON), 2 the state, the other file or (with ``--once``) the board cannot
    be read."""
    from verivote.board.client import BoardClient
    from verivote.board.watch import SplitViewError, Watcher, poll, watch
    from verivote.errors import VerificationError, VerivoteError

    try:
        client = BoardClient(url)
        watcher = Watcher(state)
        if other is not None:
            if watcher.pinned is None:
                poll(watcher, client)
            result = watcher.exchange(other, client.consistency)
            print(
                f"imported {result.imported} heads from {other} "
                f"({result.unchecked} unchecked, {result.foreign} not signed by this board)"
            )
        if once:
            head, _ = poll(watcher, client)
            print(f"head of size {head.size} at {head.time}: consistent with every head seen")
            return 0
        watch(watcher, client, interval, print)
    except SplitViewError as exc:
        print(str(exc), file=sys.stderr)
        print(json.dumps(exc.evidence(), indent=2))
        return 1
    except VerificationError as exc:
        print(f"verivote watch: {exc}", file=sys.stderr)
        return 1
    except (VerivoteError, OSError) as exc:
        print(f"verivote watch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def compare_command(a: Path, b: Path, election: Path | None = None) -> int:
    """``verivote compare A B [--election E]``: 0 no fork between the two copies of the
    heads, 1 a fork (said in words on stderr, the evidence as JSON on stdout), 2 a side
    cannot be read, nothing names the election, or the pins are of different elections."""
    from verivote.board.compare import compare_heads, evidence, load_side
    from verivote.board.watch import SplitViewError
    from verivote.errors import VerificationError, VerivoteError

    try:
        pin = load_side(election).pin if election is not None else None
        if election is not None and pin is None:
            raise VerificationError(f"{election} names no election")
        verdict = compare_heads(load_side(a), load_side(b), pin)
    except SplitViewError as exc:
        print(str(exc), file=sys.stderr)
        print(json.dumps(evidence(exc), indent=2))
        return 1
    except (VerificationError, VerivoteError, OSError) as exc:
        print(f"verivote compare: {exc}", file=sys.stderr)
        return 2
    print(verdict.message)
    return 0


def verify_url(url: str, verify: Callable[[Path], int], save: Path | None = None) -> int:
    """``verivote verify URL``: download the board's record to a temporary directory (or
    to ``save``, which must be new or empty, and is kept) and run ``verify`` on it; 2 when
    the board cannot be read or ``save`` holds files already."""
    from verivote.board.client import BoardClient
    from verivote.errors import VerivoteError

    if save is not None and save.exists() and (not save.is_dir() or any(save.iterdir())):
        print(f"verivote verify: --save {save}: not a new or empty directory", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="verivote-record-") as tmp:
        directory = Path(tmp) if save is None else save
        try:
            BoardClient(url).download_record(directory)
        except (VerivoteError, OSError) as exc:
            print(f"verivote verify: cannot download {url}: {exc}", file=sys.stderr)
            return 2
        return verify(directory)
