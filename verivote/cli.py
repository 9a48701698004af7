"""The ``verivote`` command: ``demo`` runs a whole election; ``verify`` checks a record;
``index`` writes a record's index (for ``verify --dask``); ``export`` writes the record of
a board kept in a SQLite or PostgreSQL store; ``serve``,
``receipt check`` and ``watch`` are the board's commands (:mod:`verivote.cli_board`).

Exit codes: 0 valid, 1 invalid, 2 unreadable or not a record (and for usage errors).
``demo``: 0 the record verifies and the result equals the votes cast, 1 not, 2 ``--out``
cannot take the record. ``verify --json`` prints a JSON object in every case: the report
(exit 0 or 1), or ``{"valid": null, "error": MESSAGE}`` (exit 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verivote import __version__
from verivote.cli_board import (
    BOARD_COMMANDS,
    add_board_commands,
    is_url,
    run_board_command,
    verify_url,
)
from verivote.cli_count import add_count_command, run_count
from verivote.cli_roles import ROLE_COMMANDS, add_role_commands, run_role_command
from verivote.groups import DEFAULT_GROUP, GROUP_NAMES

if TYPE_CHECKING:
    from verivote.verify.record import Report

AUTO_JOBS_MIB = 16
"""From this size of ``board.jsonl`` (about 4,000 ballots) ``verify`` checks the log on one
worker process per core unless ``--jobs`` says otherwise."""
DEMO_EPILOG = """exit status: 0 the record verifies and the decrypted result equals the votes
cast; 1 it does not; 2 --out cannot take the record (a file, a directory holding other
files, or a place where nothing can be written)."""
VERIFY_EPILOG = """exit status: 0 valid; 1 invalid (every failure named); 2 not a record,
unreadable, or the board cannot be reached. With --json, standard output is a JSON object
in every case: the report, or {"valid": null, "error": MESSAGE} on exit 2."""


def shows_default(action: argparse.Action) -> bool:
    """Whether an option's help should show its default: not for a positional argument, a
    required option, a flag, or a default that is nothing (None, "", an empty list)."""
    default = action.default
    return bool(
        action.option_strings
        and not action.required
        and default is not argparse.SUPPRESS
        and default is not None
        and not isinstance(default, bool)
        and not (isinstance(default, str | list | tuple) and not default)
    )


class HelpFormatter(argparse.HelpFormatter):
    """Help that shows every option's default (see :func:`shows_default`), unless the help
    text already states it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            shows_default(action)
            and "%(default)" not in text
            and "default" not in text
            and f"({default})" not in text
        ):
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """An argument parser whose help (and its sub-commands' help) shows the defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="verivote", description="End-to-end verifiable elections.")
    parser.add_argument("--version", action="version", version=f"verivote {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run a complete example election and verify its record",
        description="Run a simulated leadership election end to end on an in-memory board "
        "(timed from now by a simulated clock), write its record and verify it.",
        epilog=DEMO_EPILOG,
    )
    demo.add_argument("--voters", type=int, default=1000, help="electors on the roll")
    demo.add_argument(
        "--group", choices=GROUP_NAMES, default=DEFAULT_GROUP, help="the election's group"
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("record"),
        help="record directory: created if missing; an earlier record in it is replaced",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=None,
        help="fix the simulated electorate and its behaviour: each elector's category, who "
        "votes and in which order, their choices, who audits, re-votes or is barred, so "
        "the result is the same from run to run. Keys, nonces, proofs and entry times "
        "still differ, so the record itself differs (default: a random seed)",
    )
    verify = sub.add_parser(
        "verify",
        help="verify a published record",
        description="Check every entry of a published record; print the verdict and, for a "
        "valid record, the verified result.",
        epilog=VERIFY_EPILOG,
    )
    demo.add_argument(
        "--ranked",
        action="store_true",
        help="a ranked leadership ballot (alternative vote, mixed and counted in public)",
    )
    verify.add_argument("record", help="record directory (holding board.jsonl) or board URL")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="processes that read and check the log: 1 checks it all in this process; from "
        "2 on, worker processes each read and check their own chunks of the log (default: "
        f"one per core for a log of {AUTO_JOBS_MIB} MiB or more, about 4,000 ballots; 1 "
        "below that, where starting workers costs more than it saves)",
    )
    verify.add_argument(
        "--dask",
        default=None,
        metavar="SCHEDULER",
        help="check the log in chunks on a Dask cluster: a scheduler address, or 'local' "
        "for this machine's cores (needs the dask extra; every worker reads its chunks "
        "from the record, at the same path)",
    )
    verify.add_argument(
        "--html",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the report as one self-contained HTML page",
    )
    verify.add_argument(
        "--save",
        type=Path,
        default=None,
        metavar="DIR",
        help="with a board URL: keep the downloaded record in DIR (a new or empty "
        "directory), to check receipts and heads against it later",
    )
    # export: the record of a board kept in a durable store
    export = sub.add_parser("export", help="write the record of a board kept in a store")
    export.add_argument(
        "--store", required=True, help="sqlite:PATH or postgres:DSN (libpq string or URI)"
    )
    export.add_argument("--election", required=True, help="the election's id")
    export.add_argument("--out", type=Path, required=True, help="record directory to write")
    index = sub.add_parser(
        "index",
        help="write a record's index (index.jsonl), for verify --dask",
        description="Read board.jsonl once and write index.jsonl beside it: every K entries "
        "the byte offset, the entry number and the Merkle frontier. The verifier checks the "
        "index against the log; it never trusts it.",
    )
    index.add_argument("record", type=Path, help="record directory (holding board.jsonl)")
    index.add_argument("--every", type=int, default=1024, help="entries per chunk, a power of two")
    # serve, receipt check, watch: the board's commands (verivote/cli_board.py)
    add_board_commands(sub)
    add_count_command(sub)  # count: verivote/cli_count.py

    # board, organiser, trustee, registrar, issuer, credential, vote, post: the roles
    # (verivote/cli_roles.py)
    add_role_commands(sub)
    return parser


def _export(spec: str, election_id: str, out: Path) -> int:
    """Export the signed part of a stored board, with its record index (``index.jsonl``,
    for ``verify --jobs``/``--dask``); 0 done, 2 when the store cannot be read or holds
    another election."""
    from verivote.board.log import export_store
    from verivote.board.store import open_store
    from verivote.encoding import loads
    from verivote.errors import VerivoteError
    from verivote.verify.index import DEFAULT_EVERY, write_index
    from verivote.verify.record import MAX_LINE

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
        write_index(path.parent, DEFAULT_EVERY, MAX_LINE)
    except (VerivoteError, OSError, ImportError) as exc:
        print(f"verivote export: {exc}", file=sys.stderr)
        return 2
    print(f"{written} entries written to {path}", end="")
    print(f" ({stored - written} after the last signed head left out)" if stored > written else "")
    return 0


def _index(record: Path, every: int) -> int:
    """Write ``record/index.jsonl``; 0 done, 2 when the record cannot be read or written."""
    from verivote.verify.index import check_every, write_index
    from verivote.verify.record import MAX_LINE, RECORD_FILE

    try:
        check_every(every)
    except ValueError as exc:
        print(f"verivote index: {exc}", file=sys.stderr)
        return 2
    if not (record / RECORD_FILE).is_file():
        print(f"verivote index: {record}: no {RECORD_FILE} here", file=sys.stderr)
        return 2
    try:
        index = write_index(record, every, MAX_LINE)
    except OSError as exc:
        print(f"verivote index: {exc}", file=sys.stderr)
        return 2
    chunks = len(index.checkpoints) - 1
    print(f"{record / 'index.jsonl'}: {index.entries} entries in {chunks} chunk(s) of {every}")
    return 0


def _progress(entries: int, done: int, total: int) -> None:
    share = done / total if total else 1.0
    bar = "#" * int(share * 30)
    print(f"\r[{bar:<30}] {share:6.1%} {entries:>10,} entries", end="", file=sys.stderr)


def verify_error(message: str, as_json: bool) -> int:
    """Report that verification could not start or finish: one line on stderr and, with
    ``--json``, ``{"valid": null, "error": message}`` on stdout; returns exit status 2."""
    print(f"verivote verify: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"valid": None, "error": message}, indent=2))
    return 2


def result_text(path: Path, report: Report) -> str:
    """The verified result of a valid record as text: per contest the decrypted counts,
    overall and by category group, and the trustees who decrypted; or a line saying the
    record holds no result yet."""
    from verivote.election.decryption import render_result
    from verivote.election.entries import entry_from_line
    from verivote.election.manifest import Manifest
    from verivote.verify.record import RECORD_FILE

    if report.result is None:
        return "result       none on the record yet (the election is not counted)"
    board = path / RECORD_FILE if path.is_dir() else path
    with board.open("rb") as handle:
        manifest = Manifest.from_dict(entry_from_line(handle.readline().rstrip(b"\n")).body)
    return "result       decrypted and checked\n\n" + render_result(manifest, report.result)


def auto_jobs(path: Path) -> int:
    """``verify``'s default ``--jobs`` for the record at ``path``: the cores this process
    may run on when the log is at least :data:`AUTO_JOBS_MIB` MiB, else 1 (also when the
    log cannot be read: the verifier then says why)."""
    from verivote.verify.record import RECORD_FILE

    board = path / RECORD_FILE if path.is_dir() else path
    try:
        size = board.stat().st_size
    except OSError:
        return 1
    if size < AUTO_JOBS_MIB * 2**20:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


def _verify(
    path: Path,
    as_json: bool,
    jobs: int | None = None,
    html: Path | None = None,
    dask: str | None = None,
) -> int:
    from verivote.errors import VerivoteError
    from verivote.verify.chunked import ChunkMapper, verify_chunked
    from verivote.verify.dask_runner import DaskChunks, DaskUnavailable
    from verivote.verify.index import IndexMismatch
    from verivote.verify.pool_chunks import PoolChunks
    from verivote.verify.record import RecordUnreadable, verify_record
    from verivote.verify.report import render

    if jobs is not None and jobs < 1:
        return verify_error("--jobs must be at least 1", as_json)
    if dask is not None and jobs not in (None, 1):
        return verify_error(
            "--jobs and --dask: give one (with --dask the cluster's workers do the checks)",
            as_json,
        )
    mapper: ChunkMapper | None = None
    if dask is not None:
        try:
            mapper = DaskChunks(dask)
        except DaskUnavailable as exc:
            return verify_error(str(exc), as_json)
    else:
        jobs = auto_jobs(path) if jobs is None else jobs
        if jobs > 1:
            mapper = PoolChunks(jobs)
    tty = sys.stderr.isatty()
    try:
        if mapper is not None:
            report = verify_chunked(path, mapper, progress=_progress if tty else None)
        else:
            report = verify_record(path, progress=_progress if tty else None)
    except (RecordUnreadable, IndexMismatch, DaskUnavailable, OSError) as exc:
        return verify_error(str(exc), as_json)
    finally:
        if tty:
            print(file=sys.stderr)
    if html is not None:
        from verivote.verify.html import write_html

        try:
            write_html(report, path, html)
        except OSError as exc:
            return verify_error(f"cannot write {html}: {exc.strerror}", as_json)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(render(report))
        if report.valid:
            try:
                text = result_text(path, report)
            except (VerivoteError, OSError) as exc:
                text = f"result       cannot be shown: {exc}"
            print(text)
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
    if args.command == "index":
        return _index(args.record, args.every)
    # the board's commands, and verify URL (verivote/cli_board.py)
    if args.command in BOARD_COMMANDS:
        return run_board_command(args)
    if args.command in ROLE_COMMANDS:
        return run_role_command(args)
    if is_url(args.record):
        downloaded: list[Path] = []

        def run(path: Path) -> int:
            downloaded.append(path)
            return _verify(path, args.json, args.jobs, args.html, args.dask)

        status = verify_url(args.record, run, args.save)
        if not downloaded and args.json:  # verify_url said why on stderr
            print(json.dumps({"valid": None, "error": f"cannot download {args.record}"}))
        return status
    if args.save is not None:
        return verify_error("--save keeps a downloaded record: give a board URL", args.json)
    return _verify(Path(args.record), args.json, args.jobs, args.html, args.dask)


if __name__ == "__main__":
    sys.exit(main())
