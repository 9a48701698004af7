"""A constituency selection whose board operator cheats — and who catches it.

Members of a local party choose their candidate for the next election. The vote runs on a
verivote board (``verivote serve`` on 127.0.0.1) kept by a board operator — the vendor —
with an organiser, three trustees (any two decrypt), a registrar who keeps the membership
list and a credential issuer, each with their own state directory and passphrase, each
doing their part with the commands of ``docs/getting-started.md``; the members vote
through the public API (``verivote.ElectionClient``) and keep their receipts; two
observers keep the board's signed heads (``verivote watch``).

Then the operator cheats, in each of the ways members have alleged of vendor systems, one
scenario per option. It cheats as a real operator could: on its own SQLite store and on
the record it publishes, re-signing the board's tree heads with its own key so that the
log still looks whole (``examples/dishonest_board.py``) — never by signing as the
organiser, the registrar, a trustee or a voter, whose keys it does not have.

  --changes-votes         swaps the candidates' encrypted votes in some ballots
  --adds-votes            adds ballots under credentials nobody on the roll holds
  --removes-members       quietly removes members from the roll
  --suppresses-registrar  drops the registrar's decision to bar a lapsed member
  --drops-ballots         drops the ballots of the branch it thinks backs a rival
  --split-view            shows one observer a different board from the other
  --honest                cheats not at all: every check passes
  --all                   the honest run and every scenario (the default)

For each, the example prints who caught it — the verifier (``verivote verify``, with the
check that failed), a member's receipt check (``verivote receipt check``, in plain
words), the registrar's seal, or observers comparing the board's signed heads
(``verivote watch`` / ``verivote compare``) — and exits 0 when every scenario was caught
and the honest board passed every check, 1 when not, 2 when the election itself could not
be run.

The election itself is ``examples/dishonest_election.py``; the operator's tools are
``examples/dishonest_board.py``. ``--keep DIR`` keeps every file (state directories, the
honest and the doctored records, receipts, observers' heads) to try the commands by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the two modules beside this one

import dishonest_board as ops
from dishonest_election import (
    CANDIDATES,
    FAVOURITE,
    RIVAL,
    TARGET_BRANCH,
    CeremonyLate,
    CommandFailed,
    Election,
    Member,
    Server,
    run_election,
    say,
    verivote_cmd,
)

import verivote

SCENARIOS = (
    "changes-votes",
    "adds-votes",
    "removes-members",
    "suppresses-registrar",
    "drops-ballots",
    "split-view",
)
FORKED = {"drops-ballots", "split-view"}
"""Scenarios that need the operator's second, doctored board beside the honest one."""


# --------------------------------------------------------------------------- catching


@dataclass(frozen=True)
class Catch:
    """Who caught a scenario, by which check (a verifier check name, a receipt's verdict
    kind, a split-view kind), in their words."""

    who: str
    how: str
    detail: str


REPORTS: dict[Path, verivote.Report] = {}


def verify_record(record: Path) -> verivote.Report:
    """The verifier's report on ``record`` (each record is verified once)."""
    if record not in REPORTS:
        REPORTS[record] = verivote.verify_record(record)
    return REPORTS[record]


def verifier(record: Path, expect: Iterable[str]) -> tuple[verivote.Report, list[Catch]]:
    """``verivote verify RECORD``: the report, and a catch for the first failure of each
    check in ``expect`` (plus the record's first failure: read that one first)."""
    report = verify_record(record)
    say(f"    $ verivote verify {record.name}")
    if report.valid:
        say("      VALID: every check passed")
        return report, []
    wanted = list(expect)
    shown = [report.failures[0]] + [
        next(f for f in report.failures if f.check == c)
        for c in wanted
        if any(f.check == c for f in report.failures) and report.failures[0].check != c
    ]
    say(f"      INVALID: {len(report.failures)} failure(s); the first, and the ones to read:")
    for f in shown:
        where = f"entry {f.index} ({f.type})" if f.type not in ("head", "log", "-") else f.type
        say(f"      {where} failed {f.check}: {f.reason}")
    return report, [Catch("the verifier", f.check, f.reason) for f in shown]


def receipt_check(
    election: Election, member_id: str, record: Path, quiet: bool = False
) -> Catch | None:
    """``verivote receipt check RECEIPT RECORD`` for one member: None when it holds."""
    member = election.members[member_id]
    assert member.receipt is not None
    if not quiet:
        say(f"    $ verivote receipt check {member.receipt} {record.name}")
    receipt = verivote.read_receipt((election.dir / member.receipt).read_text())
    try:
        checked = verivote.check_receipt(receipt, verivote.RecordSource(record))
    except verivote.ReceiptError as exc:
        if not quiet:
            say(f"      {exc} [{exc.kind}]")
        return Catch(f"{member_id}'s receipt check", exc.kind, str(exc))
    if not quiet:
        say(f"      {checked.message}")
    return None


def result_line(report: verivote.Report) -> str:
    """The verified result, candidate by candidate."""
    assert report.result is not None
    counts = report.result["contests"][0]["overall"]
    return ", ".join(f"{CANDIDATES[c]} {n}" for c, n in counts.items())


def heads_exchange(command: str) -> Catch | None:
    """``verivote watch … --import`` or ``verivote compare``: a catch on exit 1."""
    say(f"    $ verivote {command}")
    code, out = verivote_cmd(command, check=False)
    text = out.splitlines()[0] if out else ""  # the verdict in words (evidence follows)
    say(f"      {text}")
    if code == 1:
        kind = "split view"
        for word in ("fork", "inconsistent", "time"):
            if f'"split_view": "{word}"' in out or f"({word}" in out:
                kind = word
        return Catch("observers comparing heads", kind, text)
    if code != 0:
        raise CommandFailed(f"verivote {command} exited {code}: {out}")
    return None


def doctor(election: Election, name: str, edit: Callable[[list[ops.Line]], list[ops.Line]]) -> Path:
    """The operator's doctored copy of the honest record, heads re-signed; its directory."""
    log = ops.read_record(election.record)
    new = ops.rewrite(log, edit, election.operator_key(), election.manifest.fingerprint)
    return ops.write_record(election.dir / f"record-{name}", new)


def ballots_of(log_lines: list[ops.Line], keys: set[bytes]) -> list[int]:
    """Positions in ``log_lines`` of the ballots cast under ``keys``."""
    found = []
    for n, (_, line) in enumerate(log_lines):
        entry = json.loads(line)
        if entry["type"] == "ballot" and bytes.fromhex(entry["body"]["credential"]) in keys:
            found.append(n)
    return found


def target_voters(election: Election) -> list[Member]:
    return [m for m in election.voters() if m.branch == TARGET_BRANCH]


# --------------------------------------------------------------------------- scenarios


def honest(election: Election) -> list[Catch]:
    """Nothing is changed: the record verifies, every receipt holds, the observer's heads
    agree with the record. Returns what failed (nothing, on an honest board)."""
    say("== honest: the operator plays it straight")
    report, failed = verifier(election.record, [])
    if report.valid:
        say(f"      result: {result_line(report)}")
    voters = election.voters()
    bad = [c for m in voters if (c := receipt_check(election, m.id, election.record, True))]
    say(
        f"    every member checks their receipt: {len(voters) - len(bad)} of {len(voters)} "
        "find their ballot on the board (the barred member's is shown as revoked)"
    )
    failed += [c for c in bad if c.how != "revoked"]
    seen = heads_exchange(f"compare observer-a.jsonl {election.record.name}")
    return failed + ([seen] if seen else [])


def changes_votes(election: Election) -> list[Catch]:
    """In three ballots of the target branch the operator swaps the rival's and its
    favourite's ciphertexts (and their proofs): it cannot read a vote, but a vote for the
    rival would become one for the favourite. Caught by the ballot's signature."""
    say("== changes-votes: the operator swaps two candidates' encrypted votes in 3 ballots")
    victims = target_voters(election)[:3]
    keys = {m.credential_key for m in victims}
    order = list(CANDIDATES)
    i, j = order.index(RIVAL), order.index(FAVOURITE)

    def swap(lines: list[ops.Line]) -> list[ops.Line]:
        for n in ballots_of(lines, keys):
            place, line = lines[n]
            entry = json.loads(line)
            for contest in entry["body"]["contests"]:
                for value in contest.values():  # every per-candidate list: selections, proofs…
                    if isinstance(value, list) and len(value) == len(order):
                        value[i], value[j] = value[j], value[i]
            lines[n] = (place, ops.canonical(entry))
        return lines

    record = doctor(election, "changes-votes", swap)
    _, catches = verifier(record, ["ballot.signature", "close.counts"])
    found = receipt_check(election, victims[0].id, record)
    return catches + ([found] if found else [])


def adds_votes(election: Election) -> list[Catch]:
    """The operator casts five ballots for its favourite under credentials it made itself,
    slipped in among the members' ballots with plausible times. Caught because no such
    credential is on the roll; and the members' receipts no longer match the log."""
    say("== adds-votes: the operator adds 5 ballots for people not on the roll")
    log = ops.read_record(election.record)
    ballots = log.indexes("ballot")
    places = [ballots[n * len(ballots) // 5] for n in range(5)]
    forged = []
    for place in places:
        credential = verivote.Signer.generate()
        prepared = verivote.encrypt_ballot(
            election.manifest, election.joint_key, credential, {"candidate": [FAVOURITE]}
        )
        when = log.entry(place)["time"]  # the time of the ballot it goes before
        entry = verivote.sign_entry(
            credential, election.manifest.fingerprint, "ballot", prepared.body, when
        )
        forged.append((place - 0.5, entry.to_line()))
    record = doctor(election, "adds-votes", lambda lines: lines + forged)
    _, catches = verifier(record, ["ballot.credential"])
    later = next(m for m in election.voters() if m.id != election.barred)
    found = receipt_check(election, later.id, record)
    return catches + ([found] if found else [])


def removes_members(election: Election) -> list[Catch]:
    """The operator takes five members of the target branch off the roll it publishes, so
    that their ballots do not count. The roll part is signed by the registrar and the
    issuer's part by the issuer: a changed part fails its signature."""
    say("== removes-members: the operator quietly takes 5 members off the roll")
    victims = {m.credential_key for m in target_voters(election)[:5]}

    def remove(lines: list[ops.Line]) -> list[ops.Line]:
        # the registrar's roll part and the issuer's part (one each for a roll this size)
        # list the halves slot by slot: the operator drops the victims' slots from both, so
        # that the rest still pair up
        slots = {n for n, key in enumerate(election.slots) if key in victims}
        for n, (place, line) in enumerate(lines):
            entry = json.loads(line)
            if entry["type"] not in ("roll", "issuer"):
                continue
            for name, items in entry["body"].items():
                if isinstance(items, list):
                    entry["body"][name] = [x for k, x in enumerate(items) if k not in slots]
            lines[n] = (place, ops.canonical(entry))
        return lines

    record = doctor(election, "removes-members", remove)
    _, catches = verifier(record, ["roll.signature", "issuer.signature"])
    return catches


def suppresses_registrar(election: Election) -> list[Catch]:
    """The operator drops the registrar's amendment barring a lapsed member — who voted
    for the operator's favourite — so that the ballot counts. The registrar sealed what it
    posted, and the seal no longer matches."""
    say(f"== suppresses-registrar: the operator drops the registrar's bar on {election.barred}")

    def drop(lines: list[ops.Line]) -> list[ops.Line]:
        return [(p, line) for p, line in lines if json.loads(line)["type"] != "amend"]

    record = doctor(election, "suppresses-registrar", drop)
    _, catches = verifier(record, ["seal.counts", "tally.recompute"])
    return [
        Catch("the registrar's seal", c.how, c.detail) if c.how == "seal.counts" else c
        for c in catches
    ]


def drops_ballots(election: Election) -> list[Catch]:
    """At the close, the operator drops every ballot from the target branch and lets the
    organiser and the trustees count what is left (see :func:`fork_board`). The
    published record is consistent in itself; the members' receipts are not."""
    say(
        f"== drops-ballots: the operator dropped the {TARGET_BRANCH} branch's "
        f"{len(election.dropped)} ballots before the close"
    )
    record = election.forked_record
    assert record is not None
    report, catches = verifier(record, [])
    if report.valid:
        say(f"      result: {result_line(report)}")
        say(f"      (the honest count: {result_line(verify_record(election.record))};")
        say("      nothing in a record shows the ballots that were left out of it)")
    caught = [c for m in election.dropped if (c := receipt_check(election, m, record, True))]
    found = receipt_check(election, election.dropped[0], record)
    say(
        f"    {len(caught)} of the {len(election.dropped)} members whose ballots were dropped "
        "find their receipts do not hold"
    )
    seen = heads_exchange(f"compare observer-a.jsonl {record.name}")
    return catches + ([found] if found else []) + ([seen] if seen else [])


def split_view(election: Election) -> list[Catch]:
    """Observer A is shown the honest board, observer B the doctored one: each verifies
    on its own. When they exchange the heads they kept, the operator's own signatures show
    two different histories."""
    say("== split-view: the operator shows observer B a different board from observer A")
    assert election.forked_record is not None
    for record in (election.record, election.forked_record):
        report = verify_record(record)
        say(f"    $ verivote verify {record.name}: {'VALID' if report.valid else 'INVALID'}")
    live = heads_exchange(
        f"watch {election.forked_url} --state observer-b.jsonl --import observer-a.jsonl --once"
    )
    offline = heads_exchange(
        f"compare observer-a.jsonl observer-b.jsonl --election {election.record.name}"
    )
    return [c for c in (live, offline) if c]


RUNS: dict[str, Callable[[Election], list[Catch]]] = {
    "changes-votes": changes_votes,
    "adds-votes": adds_votes,
    "removes-members": removes_members,
    "suppresses-registrar": suppresses_registrar,
    "drops-ballots": drops_ballots,
    "split-view": split_view,
}


def verdict(name: str, catches: list[Catch]) -> tuple[bool, str]:
    """Whether a run went as it should — the honest run found nothing wrong, a scenario
    was caught — and the line that says so."""
    found = "; ".join(f"{c.who} ({c.how})" for c in catches)
    if name == "honest":
        return (
            (True, "clean: every check passed") if not catches else (False, "NOT CLEAN: " + found)
        )
    return (True, "caught by " + found) if catches else (False, "NOT CAUGHT")


def summary(outcome: dict[str, list[Catch]]) -> int:
    """Print one line per run; 0 when every run went as it should, else 1."""
    status = 0
    for name, catches in outcome.items():
        ok, line = verdict(name, catches)
        status |= not ok
        say(f"  {name:22} {line}")
    return status


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="A constituency selection whose board operator cheats, and who "
        "catches it. With no scenario option, runs them all (--all).",
        epilog="exit status: 0 every scenario caught and the honest run clean; 1 a "
        "scenario not caught or the honest run not clean; 2 the election could not run.",
    )
    parser.add_argument("--honest", action="store_true", help="the operator does not cheat")
    for name in SCENARIOS:
        parser.add_argument(
            f"--{name}", action="store_true", help=(RUNS[name].__doc__ or "").split(".")[0]
        )
    parser.add_argument("--all", action="store_true", help="the honest run and every scenario")
    parser.add_argument("--electors", type=int, default=120, help="members on the roll (120)")
    parser.add_argument("--seed", type=int, default=2026, help="who votes for whom (2026)")
    parser.add_argument("--keep", type=Path, help="keep every file in this new directory")
    return parser.parse_args(argv)


def selection(args: argparse.Namespace) -> tuple[bool, list[str]]:
    """Whether to check the honest board, and the scenarios to run: those named; with
    ``--all`` or no option at all, the honest run and every scenario."""
    chosen = [n for n in SCENARIOS if getattr(args, n.replace("-", "_"))]
    if args.all or not (chosen or args.honest):
        return True, list(SCENARIOS)
    return args.honest, chosen


def main(argv: list[str] | None = None) -> int:
    """Run the election and the chosen scenarios; the exit status (module docstring)."""
    args = parse(argv)
    run_honest, chosen = selection(args)
    if args.electors < 12:
        print("dishonest_operator: --electors must be at least 12", file=sys.stderr)
        return 2
    if args.keep is not None and args.keep.exists():
        print(f"dishonest_operator: {args.keep} exists already", file=sys.stderr)
        return 2
    workdir = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="verivote-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    servers: list[Server] = []
    outcome: dict[str, list[Catch]] = {}
    try:
        say(f"A constituency selection: {args.electors} members, 3 candidates, 3 trustees")
        fork = bool(FORKED & set(chosen))
        try:
            election = run_election(workdir, args.electors, args.seed, fork, servers)
        except CeremonyLate:  # a busy machine: once more, with a longer timetable
            say("  a trustee missed a deadline of the key ceremony: starting again, more slowly")
            for server in servers:
                server.stop()
            servers.clear()
            os.chdir(workdir.parent)
            shutil.rmtree(workdir)
            workdir.mkdir()
            election = run_election(workdir, args.electors, args.seed, fork, servers, slack=9)
        if run_honest:
            outcome["honest"] = honest(election)
        for name in chosen:
            outcome[name] = RUNS[name](election)
    except (CommandFailed, verivote.VerivoteError) as exc:  # e.g. a ballot cast too late
        print(f"dishonest_operator: the election could not run: {exc}", file=sys.stderr)
        return 2
    finally:
        for server in servers:
            server.stop()
        os.chdir("/")
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    say(f"\nsummary ({time.monotonic() - started:.0f} s)")
    status = summary(outcome)
    if args.keep:
        say(f"every file is kept in {workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
