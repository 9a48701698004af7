"""The roles' commands of ``verivote``: ``board``, ``organiser``, ``trustee``,
``registrar``, ``issuer``, ``credential``, ``vote`` (:mod:`verivote.cli_vote`) and
``post`` (docs/getting-started.md walks through them).

Each person runs their own commands with their own state directory (``--dir``); secrets
in it are encrypted under a passphrase read from the environment variable named by
``--passphrase-env`` or asked on the terminal. Commands that post take ``--board URL``
(retrying with back-off on 503 answers and connection errors) or ``--out FILE`` to write
the signed entries to a file instead (for an air-gapped machine: ``--board`` may then name
an exported record directory), which ``verivote post FILE --board URL`` posts later.

Exit codes: 0 done (or nothing left to do), 1 the board refused an entry (its check and
reason are printed) or an entry the registrar or issuer posted is missing when it seals,
2 bad input, an unreadable file or state directory, a wrong passphrase or an unreachable
board, 3 not due yet (the message says what is awaited).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROLE_COMMANDS = (
    "board",
    "organiser",
    "trustee",
    "registrar",
    "issuer",
    "credential",
    "vote",
    "post",
)
PASS_HELP = "environment variable holding the passphrase (default: ask on the terminal)"


def _common(parser: argparse.ArgumentParser, *, board: bool = True, out: bool = True) -> None:
    parser.add_argument("--dir", type=Path, required=True, help="this person's state directory")
    parser.add_argument("--passphrase-env", metavar="NAME", help=PASS_HELP)
    if board:
        parser.add_argument(
            "--board", required=True, help="the board's URL (or, with --out, a record directory)"
        )
    if out:
        parser.add_argument(
            "--out", type=Path, help="write the signed entries to this file instead of posting"
        )


def add_role_commands(sub: Any) -> None:
    """Add the roles' commands to the subcommand parsers ``sub``."""
    board = sub.add_parser("board", help="the board operator: create the store and key")
    acts = board.add_subparsers(dest="action", required=True)
    init = acts.add_parser("init", help="create the store and the board's signing key")
    _common(init, board=False, out=False)
    init.add_argument("--store", required=True, help="sqlite:PATH or postgres:DSN")
    init.add_argument("--election", default="", help="the election's id (needed for postgres)")
    load = acts.add_parser("load", help="put the organiser's signed election entry in the store")
    load.add_argument("file", type=Path, help="entry file (organiser's election.entry)")
    _common(load, board=False, out=False)

    org = sub.add_parser("organiser", help="the organiser: manifest, open, close, count")
    acts = org.add_subparsers(dest="action", required=True)
    init = acts.add_parser("init", help="make the manifest from an election file (TOML)")
    init.add_argument("election_file", type=Path, help="the election file (TOML)")
    _common(init, board=False, out=False)
    init.add_argument("--opens", help="opening time: UTC 2026-09-01T09:00:00Z, now or +N[smhd]")
    init.add_argument("--closes", help="closing time: UTC time, or +N[smhd] after opening")
    for name, text in (
        ("ceremony", "open the key ceremony: its run id and deadlines"),
        ("open", "post the joint key and open the election"),
        ("close", "close the election (after its closing time)"),
        ("tally", "post the encrypted tally"),
        ("result", "post the decrypted result"),
    ):
        step = acts.add_parser(name, help=text)
        _common(step)
        if name == "close":
            step.add_argument("--wait", action="store_true", help="wait for the closing time")
        if name == "open":
            step.add_argument(
                "--wait",
                action="store_true",
                help="wait for the ceremony's last deadline and the opening time",
            )
        if name == "ceremony":
            step.add_argument(
                "--ceremony-minutes",
                type=float,
                metavar="MINUTES",
                help="length of the ceremony, its four deadlines a quarter apart "
                "(default: up to the opening time)",
            )

    trustee = sub.add_parser("trustee", help="a trustee: keys, key ceremony, decryption")
    acts = trustee.add_subparsers(dest="action", required=True)
    keygen = acts.add_parser("keygen", help="make the trustee's keys")
    _common(keygen, board=False, out=False)
    keygen.add_argument("--name", required=True, help="the trustee's name in the manifest")
    step = acts.add_parser("ceremony", help="do what is due in the key ceremony")
    _common(step)
    step.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep watching the board this long until nothing is awaited (default 0)",
    )
    _common(acts.add_parser("mix", help="mix the ranked ballots (after the tally, in turn)"))
    _common(
        acts.add_parser(
            "decrypt", help="post this trustee's decryption shares (tally, mixed ballots)"
        )
    )

    reg = sub.add_parser("registrar", help="the registrar: electors, credentials, roll")
    acts = reg.add_subparsers(dest="action", required=True)
    _common(acts.add_parser("keygen", help="make the registrar's key"), board=False, out=False)
    imp = acts.add_parser("import", help="issue credentials to the electors of a CSV file")
    imp.add_argument("csv", type=Path, help="CSV with elector_id, category, weight[, email]")
    _common(imp)
    bar = acts.add_parser("bar", help="revoke an elector's credential (public amendment)")
    bar.add_argument("elector_id", help="the elector's id, as in the imported CSV")
    bar.add_argument("--reason", required=True, help="an identifier such as membership-lapsed")
    _common(bar)
    add = acts.add_parser("add", help="add an elector during voting (public amendment)")
    add.add_argument("elector_id", help="the new elector's id (not yet on the roll)")
    add.add_argument("--category", required=True, help="one of the manifest's categories")
    add.add_argument("--weight", type=int, default=1, help="the elector's weight")
    add.add_argument(
        "--email", default="", help="address for the credential's mail-merge row (optional)"
    )
    add.add_argument("--reason", default="late-registration", help="(default late-registration)")
    _common(add)
    _common(acts.add_parser("seal", help="seal the roll and amendments (before the close)"))

    iss = sub.add_parser("issuer", help="the credential issuer: the second credential halves")
    acts = iss.add_subparsers(dest="action", required=True)
    _common(acts.add_parser("keygen", help="make the issuer's key"), board=False, out=False)
    iimp = acts.add_parser("import", help="issue the second halves for the registrar's slots")
    iimp.add_argument("slots", type=Path, help="the registrar's slots.csv (elector_id,email,slot)")
    _common(iimp)
    iadd = acts.add_parser("add", help="complete the credential of an elector added in voting")
    iadd.add_argument("elector_id", help="the elector the registrar added")
    iadd.add_argument("--email", default="", help="address for the mail-merge row (optional)")
    iadd.add_argument(
        "--slot",
        type=int,
        default=None,
        help="the elector's slot, as `registrar add` printed it; required when several "
        "added electors await the issuer's half (default: the only one waiting)",
    )
    _common(iadd)
    _common(acts.add_parser("seal", help="seal the issuer's entries (before the close)"))
    for parser in (imp, add, iimp, iadd):
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--credentials", type=Path, help="directory for ID.ROLE.credential files"
        )
        where.add_argument("--mail-merge", type=Path, help="one CSV: elector_id,email,credential")

    cred = sub.add_parser("credential", help="an elector's credential files")
    acts = cred.add_subparsers(dest="action", required=True)
    comb = acts.add_parser("combine", help="put the two halves into one credential file")
    comb.add_argument("halves", type=Path, nargs=2, help="the registrar's and the issuer's file")
    comb.add_argument("--out", type=Path, required=True, help="the combined file (new)")

    vote = sub.add_parser("vote", help="encrypt, cast and keep the receipt")
    vote.add_argument("--board", required=True, help="the board's URL")
    vote.add_argument(
        "--credential",
        type=Path,
        action="append",
        help="the registrar's and the issuer's credential files (give it twice), or one "
        "combined file",
    )
    vote.add_argument(
        "--choice",
        action="append",
        default=[],
        metavar="CONTEST=CANDIDATE[,…]",
        help="a choice (repeat per contest; CONTEST= is blank); asked when none and a terminal",
    )
    vote.add_argument("--receipt", type=Path, help="receipt file (default DIR/ID.receipt)")
    vote.add_argument("--audit", action="store_true", help="audit one encryption first (Benaloh)")
    vote.add_argument(
        "--batch",
        type=Path,
        help="CSV of credential,choices lines (credential: FILE+FILE or one combined FILE; "
        "choices as CONTEST=CANDIDATE separated by spaces)",
    )

    post = sub.add_parser("post", help="post the signed entries of an entry file")
    post.add_argument("file", type=Path, help="entry file written with --out")
    post.add_argument("--board", required=True, help="the board's URL")


def run_role_command(args: argparse.Namespace) -> int:
    """Run a role's command; prints what was done, returns the exit code."""
    from verivote.board.client import PostRejected
    from verivote.errors import VerivoteError
    from verivote.roles.authored import MissingEntry
    from verivote.roles.organiser import NotDue

    name = " ".join(filter(None, [args.command, getattr(args, "action", None)]))
    try:
        for line in _dispatch(args):
            print(line)
    except PostRejected as exc:
        print(
            f"verivote {name}: the board refused the entry: {exc.check}: {exc.reason}",
            file=sys.stderr,
        )
        return 1
    except MissingEntry as exc:
        print(f"verivote {name}: {exc}", file=sys.stderr)
        return 1
    except NotDue as exc:
        print(f"verivote {name}: not yet: {exc}", file=sys.stderr)
        return 3
    except (VerivoteError, OSError, ValueError) as exc:
        print(f"verivote {name}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"verivote {name}: interrupted", file=sys.stderr)
        return 2
    return 0


def _pass(args: argparse.Namespace, *, confirm: bool = False) -> str:
    from verivote.roles.statedir import passphrase

    return passphrase(args.passphrase_env, confirm=confirm)


def _poster(args: argparse.Namespace) -> Any:
    from verivote.roles.transport import Poster

    return Poster(args.board, args.out)


def _finish(poster: Any, said: list[str]) -> list[str]:
    path = poster.finish()
    return [*said, f"entries written to {path}"] if path else said


def _dispatch(args: argparse.Namespace) -> list[str]:
    if args.command == "board":
        return _board(args)
    if args.command == "organiser":
        return _organiser(args)
    if args.command == "trustee":
        return _trustee(args)
    if args.command == "registrar":
        return _registrar(args)
    if args.command == "issuer":
        return _issuer(args)
    if args.command == "credential":
        from verivote.roles.handout import combine_files

        path = combine_files(args.halves, args.out)
        return [f"credential written to {path}"]
    if args.command == "vote":
        from verivote.cli_vote import vote

        return vote(args)
    from verivote.roles.board_operator import utc_now
    from verivote.roles.transport import Poster, read_entries

    poster = Poster(args.board, None)
    done = [poster.post(e) for e in read_entries(args.file, utc_now())]
    return [f"{len(done)} entries posted (indices {', '.join(map(str, done))})"]


def _board(args: argparse.Namespace) -> list[str]:
    from verivote.roles import board_operator

    if args.action == "init":
        key = board_operator.init(args.dir, args.store, _pass(args, confirm=True), args.election)
        return [
            f"store {args.store} created; the board's key is in {args.dir}",
            f"board key: {key.hex()}",
        ]
    indices = board_operator.load(args.dir, args.file, _pass(args))
    return [f"{len(indices)} entries stored (indices {', '.join(map(str, indices))})"]


def _organiser(args: argparse.Namespace) -> list[str]:
    from verivote.roles import organiser

    if args.action == "init":
        m = organiser.init(
            args.dir,
            args.election_file,
            _pass(args, confirm=True),
            opens=args.opens,
            closes=args.closes,
        )
        return [
            f"election {m.election_id}: opens {m.opens}, closes {m.closes} (UTC)",
            f"fingerprint {m.fingerprint.hex()[:32]}…",
            f"signed election entry: {args.dir / organiser.ELECTION_FILE}",
        ]
    org = organiser.Organiser(args.dir, _pass(args))
    poster = _poster(args)
    if args.action == "ceremony":
        said = org.ceremony(args.board, poster, minutes=args.ceremony_minutes)
    elif args.action == "open":
        said = org.open(args.board, poster, wait=args.wait)
    elif args.action == "close":
        said = org.close(args.board, poster, wait=args.wait)
    elif args.action == "tally":
        said = org.tally(args.board, poster)
    else:
        said = org.result(args.board, poster)
    return _finish(poster, said)


def _trustee(args: argparse.Namespace) -> list[str]:
    from verivote.roles import trustee

    if args.action == "keygen":
        table = trustee.keygen(args.dir, args.name, _pass(args, confirm=True))
        return [f"keys made; for the election file ({args.dir / trustee.PUBLIC_FILE}):", table]
    t = trustee.Trustee(args.dir, _pass(args))
    poster = _poster(args)
    if args.action == "ceremony":
        return _finish(poster, t.ceremony_step(args.board, poster, wait=args.wait))
    if args.action == "mix":
        return _finish(poster, t.mix(args.board, poster))
    return _finish(poster, t.decrypt(args.board, poster))


def _added_elector_destination(args: argparse.Namespace) -> dict[str, Path | None]:
    """Where an elector added during voting gets their credential half: ``add`` needs one
    of ``--credentials DIR`` or ``--mail-merge`` (ValueError otherwise)."""
    if args.credentials is None and args.mail_merge is None:
        raise ValueError("say where the credential goes: --credentials DIR or --mail-merge")
    return {"credentials_dir": args.credentials, "mail_merge": args.mail_merge}


def _registrar(args: argparse.Namespace) -> list[str]:
    from verivote.roles import registrar

    if args.action == "keygen":
        key = registrar.keygen(args.dir, _pass(args, confirm=True))
        return [f"registrar key: {key.hex()}"]
    reg = registrar.Registrar(args.dir, _pass(args))
    poster = _poster(args)
    if args.action == "import":
        said = reg.import_electors(
            args.board,
            args.csv,
            poster,
            credentials_dir=args.credentials,
            mail_merge=args.mail_merge,
        )
    elif args.action == "bar":
        said = reg.bar(args.board, args.elector_id, args.reason, poster)
    elif args.action == "seal":
        said = reg.seal(args.board, poster)
    else:
        elector = registrar.Elector(args.elector_id, args.category, args.weight, args.email)
        said = reg.add(
            args.board,
            elector,
            args.reason,
            poster,
            **_added_elector_destination(args),
        )
    return _finish(poster, said)


def _issuer(args: argparse.Namespace) -> list[str]:
    from verivote.roles import issuer

    if args.action == "keygen":
        key = issuer.keygen(args.dir, _pass(args, confirm=True))
        return [f"issuer key: {key.hex()}"]
    iss = issuer.Issuer(args.dir, _pass(args))
    poster = _poster(args)
    if args.action == "import":
        said = iss.import_electors(
            args.board,
            args.slots,
            poster,
            credentials_dir=args.credentials,
            mail_merge=args.mail_merge,
        )
    elif args.action == "add":
        said = iss.add(
            args.board,
            args.elector_id,
            args.email,
            poster,
            **_added_elector_destination(args),
            slot=args.slot,
        )
    else:
        said = iss.seal(args.board, poster)
    return _finish(poster, said)
