"""``verivote count BALLOTS.blt --rule av|scottish-stv|plurality|approval [--seats N]
[--json] [--seed HEX]``: count a plaintext preference profile with the same code that
counts decrypted ranked ballots, so a result can be checked against real elections and
other counting programs.

Exit codes: 0 counted (the report on stdout), 2 unreadable or malformed file, or a usage
error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

RULE_CHOICES = ("av", "scottish-stv", "plurality", "approval")


def add_count_command(subparsers: Any) -> None:
    """Add ``count`` to the subcommand parsers ``subparsers``."""
    count = subparsers.add_parser(
        "count", help="count a preference profile (BLT file) by AV, Scottish STV, …"
    )
    count.add_argument("ballots", type=Path, help="the preference profile, in BLT format")
    count.add_argument("--rule", required=True, choices=RULE_CHOICES, help="counting rule")
    count.add_argument("--seats", type=int, default=None, help="seats (default: the file's)")
    count.add_argument("--json", action="store_true", help="print the report as JSON")
    count.add_argument(
        "--seed", default="", help="hex seed of any lot drawn to break a tie (default empty)"
    )


def run_count(args: argparse.Namespace) -> int:
    """Run ``verivote count``: print the report, return 0; or one line on stderr, return 2."""
    from verivote.count import RULES, read_blt
    from verivote.count.text import render_text
    from verivote.errors import VerivoteError

    try:
        seed = bytes.fromhex(args.seed)
    except ValueError:
        return _fail("--seed must be hex")
    if args.seats is not None and args.seats < 1:
        return _fail("--seats must be at least 1")
    try:
        profile = read_blt(args.ballots)
        report = RULES[args.rule](profile, args.seats, seed)
    except OSError as exc:
        return _fail(f"cannot read {args.ballots}: {exc.strerror or exc}")
    except VerivoteError as exc:
        return _fail(f"{args.ballots}: {exc}")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(render_text(report))
    return 0


def _fail(message: str) -> int:
    print(f"verivote count: {message}", file=sys.stderr)
    return 2
