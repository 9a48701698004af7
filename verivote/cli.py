"""The ``verivote`` command: ``demo`` runs a whole election; ``verify`` checks a record;
``export`` writes the record of a board kept in a SQLite or PostgreSQL store; ``serve``,
``receipt check`` and ``watch`` are the board's commands (:mod:`verivote.cli_board`).

Exit codes: 0 valid, 1 invalid, 2 unreadable or not a record (and for usage errors).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from verivote.cli_board import (
    BOARD_COMMANDS,
    add_board_commands,
    is_url,
    run_board_command,
    verify_url,
)
from verivote.cli_count import add_count_command, run_count
from verivote.groups import DEFAULT_GROUP, GROUP_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verivote", description="End-to-end verifiable elections."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a complete example election and verify its record")
    demo.add_argument(
        "--voters", type=int, default=1000, help="electors on the roll (default 1000)"
    )
    demo.add_argument("--group", choices=GROUP_NAMES, default=DEFAULT_GROUP)
    demo.add_argument(
        "--out", type=Path, default=Path("record"), help="record directory (default ./record)"
    )
    demo.add_argument(
        "--seed", type=int, default=None, help="fix the simulated electorate and votes"
    )
    demo.add_argument(
        "--ranked",
        action="store_true",
        help="a ranked leadership ballot (alternative vote, mixed and counted in public)",
    )
    verify = sub.add_parser("verify", help="verify a published record")
    verify.add_argument("record", help="record directory (holding board.jsonl) or board URL")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument(
        "--jobs", type=int, default=1, help="processes that check ballots (default 1)"
    )
    verify.add_argument(
        "--dask",
        default=None,
        metavar="SCHEDULER",
        help="check ballots on a Dask cluster: a scheduler address, or 'local' for this "
        "machine's cores (needs the dask extra)",
    )
    verify.add_argument(
        "--html",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the report as one self-contained HTML page",
    )
    # export: the record of a board kept in a durable store
    export = sub.add_parser("export", help="write the record of a board kept in a store")
    export.add_argument(
        "--store", required=True, help="sqlite:PATH or postgres:DSN (libpq string or URI)"
    )
    export.add_argument("--election", required=True, help="the election's id")
    export.add_argument("--out", type=Path, required=True, help="record directory to write")
    # serve, receipt check, watch: the board's commands (verivote/cli_board.py)
    add_board_commands(sub)
    add_count_command(sub)  # count: verivote/cli_count.py
    return parser


def _export(spec: str, election_id: str, out: Path) -> int:
    """Export the signed part of a stored board; 0 done, 2 when the store cannot be read
    or holds another election."""
    from verivote.board.log import export_store
    from verivote.board.store import open_store
    from verivote.encoding import loads
    from verivote.errors import VerivoteError

    try:
        store = open_store(spec, election_id)
        try:
            first = store.line(0) if store.count() else None
            found = loads(first).get("body", {}).get("election_id") if first else None
            if found != election_id:
                held = "no election" if first is None else f"election {found!r}"
                print(f"verivote export: the store holds {held}", file=sys.stderr)
                return 2
            path, written, stored = export_store(store, out)
        finally:
            store.close()
    except (VerivoteError, OSError, ImportError) as exc:
        print(f"verivote export: {exc}", file=sys.stderr)
        return 2
    print(f"{written} entries written to {path}", end="")
    print(f" ({stored - written} after the last signed head left out)" if stored > written else "")
    return 0


def _progress(entries: int, done: int, total: int) -> None:
    share = done / total if total else 1.0
    bar = "#" * int(share * 30)
    print(f"\r[{bar:<30}] {share:6.1%} {entries:>10,} entries", end="", file=sys.stderr)


def _verify(
    path: Path, as_json: bool, jobs: int = 1, html: Path | None = None, dask: str | None = None
) -> int:
    from verivote.verify.pipeline import BallotRunner
    from verivote.verify.record import RecordUnreadable, verify_record
    from verivote.verify.report import render

    if jobs < 1:
        print("verivote verify: --jobs must be at least 1", file=sys.stderr)
        return 2
    runner: BallotRunner | None = None
    if dask is not None:
        from verivote.verify.dask_runner import DaskRunner, DaskUnavailable

        try:
            runner = DaskRunner(dask)
        except DaskUnavailable as exc:
            print(f"verivote verify: {exc}", file=sys.stderr)
            return 2
    tty = sys.stderr.isatty()
    try:
        report = verify_record(path, jobs=jobs, progress=_progress if tty else None, runner=runner)
    except (RecordUnreadable, OSError) as exc:
        print(f"verivote verify: {exc}", file=sys.stderr)
        return 2
    finally:
        if tty:
            print(file=sys.stderr)
    if html is not None:
        from verivote.verify.html import write_html

        try:
            write_html(report, path, html)
        except OSError as exc:
            print(f"verivote verify: cannot write {html}: {exc.strerror}", file=sys.stderr)
            return 2
    print(json.dumps(report.to_dict(), indent=2) if as_json else render(report))
    return 0 if report.valid else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``verivote`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        if args.voters < 1:
            print("verivote demo: --voters must be at least 1", file=sys.stderr)
            return 2
        if args.ranked:
            from verivote.demo_ranked import main_ranked_demo

            return main_ranked_demo(args.voters, args.group, args.out, args.seed)
        from verivote.demo import main_demo

        return main_demo(args.voters, args.group, args.out, args.seed)
    if args.command == "count":
        return run_count(args)
    if args.command == "export":
        return _export(args.store, args.election, args.out)
    # the board's commands, and verify URL (verivote/cli_board.py)
    if args.command in BOARD_COMMANDS:
        return run_board_command(args)
    if is_url(args.record):
        return verify_url(
            args.record, lambda path: _verify(path, args.json, args.jobs, args.html, args.dask)
        )
    return _verify(Path(args.record), args.json, args.jobs, args.html, args.dask)


if __name__ == "__main__":
    sys.exit(main())
