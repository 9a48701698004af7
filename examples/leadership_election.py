"""A party leadership election, run the way a real one is: every person with their own
state directory and their own process, the board served over HTTP on this machine.

Four candidates stand for leader; the electors rank them and the count is the
alternative vote. The electorate has three categories — party members, affiliated
supporters (members of affiliated unions and societies) and registered supporters — and
the result is published overall and by category, round by round. Before the close the
registrar bars some registered supporters with public, reasoned amendments (one of them
then tries to vote again and is refused), and a rush of late registrations comes in near
the deadline. After the close the trustees mix the ranked ballots, decrypt them with
proofs, the organiser publishes the count, and the record is verified (and an HTML report
written). The winner is checked against a recount of the rankings this script cast.

Only verivote's commands are used (``verivote board|organiser|trustee|registrar|issuer|
vote|serve|export|verify|receipt``, as in docs/getting-started.md) and, to read the
board's published result, the public Python API (``verivote.ElectionClient``).

    python examples/leadership_election.py                 # the default electorate
    python examples/leadership_election.py --electors 60   # a quick run
    python examples/leadership_election.py --keep DIR      # keep every state directory

Exit code 0 when every step worked, the record verifies and the published winner equals
the recount; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _commands import (
    Shell,
    ceremony_and_roll,
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
from verivote.count import RULES, profile_from_fields

CANDIDATES = [
    ("ashworth", "Sam Ashworth"),
    ("begum", "Nadia Begum"),
    ("carver", "Joe Carver"),
    ("dlamini", "Thandi Dlamini"),
]
# how each category tends to rank the candidates (weights of a first preference)
LEANING = {
    "members": (0.34, 0.36, 0.18, 0.12),
    "affiliated": (0.30, 0.28, 0.30, 0.12),
    "registered": (0.22, 0.44, 0.14, 0.20),
}
SHARE = {"members": 0.6, "affiliated": 0.15, "registered": 0.25}
BAR_REASONS = ("member-of-another-party", "not-on-electoral-register", "abusive-conduct")


# --------------------------------------------------------------------------- the electorate
def electorate(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` electors as (id, category), members first."""
    out: list[tuple[str, str]] = []
    for cat, prefix in (("members", "M"), ("affiliated", "A"), ("registered", "R")):
        count = n - len(out) if cat == "registered" else round(n * SHARE[cat])
        out += [(f"{prefix}{i:05d}", cat) for i in range(1, count + 1)]
    return out


def ranking(category: str, rng: random.Random) -> list[str]:
    """A ranking of 1 to 4 candidates, drawn from the category's leaning."""
    weights = list(LEANING[category])
    ids = [c for c, _ in CANDIDATES]
    out: list[str] = []
    for _ in range(rng.choice([1, 2, 2, 3, 3, 4, 4])):
        pick = rng.choices(range(len(ids)), weights=weights, k=1)[0]
        out.append(ids[pick])
        weights[pick] = 0.0
    return out


def election_file(work: Path, additions: int) -> str:
    """The organiser's election file: one ranked contest, counted by the alternative vote."""
    candidates = ",\n".join(f'  {{ id = "{c}", name = "{n}" }}' for c, n in CANDIDATES)
    return f"""election_id = "leadership-2026"
title = "Party leadership election 2026"
threshold = 2
min_category_size = 10
max_additions = {additions}
categories = ["members", "affiliated", "registered"]
{keys_toml(work)}
[[contests]]
id = "leader"
title = "Leader of the party"
kind = "ranked"
rule = "av"
candidates = [
{candidates},
]

{trustees_toml(work)}"""


# --------------------------------------------------------------------------- the story
def run(args: argparse.Namespace, sh: Shell) -> int:
    rng = random.Random(args.seed)
    work = sh.work
    n = args.electors
    late = max(2, n // 100) if args.late is None else args.late
    barred_n = max(2, n // 200)
    started = time.monotonic()

    say(f"== A party leadership election: {n} electors, {late} late registrations ==")
    say(f"   (everything happens in {work})")
    step("1. Everyone makes their keys, each in their own state directory")
    busy = make_keys(sh)

    step("2. The organiser writes the election file: a ranked contest counted by AV")
    (work / "election.toml").write_text(election_file(work, late))
    # the voting window: enough for this machine to encrypt and check every ballot
    unit = seconds_per_operation()
    # measured (in units of one group operation, load 2 to 5): a ranked ballot's
    # encryption and the board's check of it take 80 to 120 with two voters' processes;
    # a one-off command in this process 800 to 2000, more as the board grows (it reads
    # the board; 6000 more with --processes: starting Python); starting a voters'
    # process about 4000. The window is 40% longer than the upper figures, and five
    # seconds more (the load can grow while the electors vote).
    commands = barred_n + 2 * late + 3
    per_command = 800 + 3 * n + (6000 if args.processes else 0)
    expected = args.turnout * n
    predicted = unit * (240 / max(1, args.jobs) * expected + per_command * commands + 4000 * 2)
    window = args.voting_seconds or int(5 + 1.4 * predicted)
    say(f"   one group operation takes {unit * 1000:.2f} ms here: voting lasts {window} s")
    times = f"--opens +{opening_delay(busy)}s --closes +{window}s"
    sh.run("organiser", "organiser init election.toml --dir organiser "
                        f"--passphrase-env ORGANISER_PASS {times}")  # fmt: skip

    step("3. The board operator loads the election and serves the board")
    url = serve_board(sh, args.port)

    step("4. Key ceremony (three trustees, any two can decrypt) and the roll, at once")
    people = electorate(n, rng)
    write_csv(
        work / "electors.csv",
        ["elector_id", "category", "weight", "email"],
        [(eid, cat, 1, f"{eid.lower()}@example.org") for eid, cat in people],
    )
    ceremony_and_roll(sh, url, "electors.csv")
    open_election(sh, url)
    board = verivote.ElectionClient(url)
    roll = board.roll()
    say(
        f"   on the board: {len(roll)} credentials; by category "
        f"{dict(Counter(r.category for r in roll.records.values()))}"
    )

    step("5. Voting: the electors' machines encrypt and cast their rankings")
    cast: dict[str, tuple[str, list[str]]] = {}
    voters = [p for p in people if rng.random() < args.turnout]
    barred = rng.sample([p for p in people if p[1] == "registered"], barred_n)
    early_barred = {eid for eid, _ in barred[: barred_n // 2]}
    first = [p for p in voters if p[0] not in early_barred]
    for eid, cat in first:
        cast[eid] = (cat, ranking(cat, rng))
    _vote_batches(sh, url, work, [(e, cast[e][1]) for e, _ in first], args.jobs)
    say(f"   {len(first)} ballots cast; every receipt saved beside its credential")

    step("6. The registrar bars registered supporters, each with a public reason")
    registrar = f"--dir registrar --board {url} --passphrase-env REGISTRAR_PASS"
    for eid, _ in barred:
        reason = rng.choice(BAR_REASONS)
        sh.run("registrar", f"registrar bar {eid} --reason {reason} {registrar}", show=1)
        if cast.pop(eid, None) is not None:
            say(f"      {eid} had voted: that ballot no longer counts")
    again = barred[0][0]
    say(f"   {again} is barred and tries to vote: the board must refuse it")
    halves = f"credentials/{again}.registrar.credential credentials/{again}.issuer.credential"
    sh.run(
        f"elector {again}",
        f"vote --board {url} --credential {halves.replace(' ', ' --credential ')} "
        "--choice leader=begum",
        expect=1,
    )
    say("      refused (exit 1): the credential is revoked")

    step(f"7. The registration rush: {late} supporters register near the deadline")
    issuer = f"--dir issuer --board {url} --passphrase-env ISSUER_PASS"
    late_people = [(f"L{i:04d}", "registered") for i in range(1, late + 1)]
    for eid, cat in late_people:
        sh.run("registrar", f"registrar add {eid} --category {cat} {registrar} "
                            "--credentials credentials", show=1)  # fmt: skip
        sh.run("issuer", f"issuer add {eid} {issuer} --credentials credentials", show=1)
        cast[eid] = (cat, ranking(cat, rng))
    _vote_batches(sh, url, work, [(e, cast[e][1]) for e, _ in late_people], 1)

    step("8. Before the close the registrar and the issuer seal what they posted")
    sh.run("registrar", f"registrar seal {registrar}", show=1)
    sh.run("issuer", f"issuer seal {issuer}", show=1)
    left = _closes_in(board)
    say(f"   voting took {time.monotonic() - started:.0f} s so far; the close is in {left:.0f} s")

    step("9. The organiser closes the election and posts the encrypted tally")
    org = f"--dir organiser --board {url} --passphrase-env ORGANISER_PASS"
    sh.run("organiser", f"organiser close {org} --wait")
    sh.run("organiser", f"organiser tally {org}")

    step("10. Trustees 1 and 3 mix the ranked ballots in turn, then decrypt (2 is away)")
    for action in ("mix", "decrypt"):
        for i in (1, 3):
            trustee = f"--dir trustee{i} --board {url} --passphrase-env T{i}_PASS"
            sh.run(f"trustee {i}", f"trustee {action} {trustee}")

    step("11. The organiser publishes the count, round by round")
    sh.run("organiser", f"organiser result {org}", show=0)
    published = _show_result(board)

    step("12. Anyone exports the record and verifies it")
    export = "export --store sqlite:board.db --election leadership-2026 --out record"
    sh.run("observer", export, show=1)
    verify = f"verify record --jobs {args.jobs} --html report.html --json"
    verdict = json.loads(sh.run("observer", verify, show=0))
    valid = verdict.get("valid") is True
    say(f"   verify: {'VALID' if valid else 'INVALID'}; the HTML report is {work / 'report.html'}")
    a_voter = first[0][0]
    sh.run(
        f"elector {a_voter}",
        ["receipt", "check", f"credentials/{a_voter}.receipt", "record"],
        show=2,
    )

    step("13. An independent recount of the rankings this script cast")
    ok = _recount(cast, published) and valid
    sh.report()
    say(f"\ndone in {time.monotonic() - started:.0f} s: " + ("SUCCESS" if ok else "FAILURE"))
    return 0 if ok else 1


def _vote_batches(
    sh: Shell, url: str, work: Path, ballots: Sequence[tuple[str, list[str]]], jobs: int
) -> None:
    """Cast ``ballots`` with ``verivote vote --batch``, split over ``jobs`` processes."""
    jobs = max(1, min(jobs, len(ballots)))
    runs = []
    for j in range(jobs):
        part = ballots[j::jobs]
        name = f"batch-{len(list(work.glob('batch-*.csv')))}.csv"
        write_csv(
            work / name,
            ["credential", "choices"],
            [
                (
                    f"credentials/{e}.registrar.credential+credentials/{e}.issuer.credential",
                    "leader=" + ",".join(r),
                )
                for e, r in part
            ],
        )
        runs.append((f"voters {j + 1}/{jobs}", ["vote", "--board", url, "--batch", name]))
    if runs:
        sh.together(runs)


def _closes_in(board: verivote.ElectionClient) -> float:
    from datetime import UTC, datetime

    closes = datetime.strptime(board.manifest().closes, "%Y-%m-%dT%H:%M:%SZ")
    return (closes.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()


def _rounds(count: dict[str, Any]) -> list[str]:
    names = dict(CANDIDATES)
    lines = []
    for stage in count["stages"]:
        what = (
            "first preferences"
            if stage["candidate"] is None
            else (f"{names.get(stage['candidate'], stage['candidate'])} excluded")
        )
        votes = "  ".join(
            f"{names.get(c, c).split()[-1]} {float(v):.0f}" for c, v in stage["votes"].items()
        )
        lines.append(f"     round {stage['number']}: {what:<28} {votes}")
    elected = ", ".join(names.get(c, c) for c in count["elected"])
    lines.append(f"     elected: {elected} ({count['valid_ballots']} valid ballots)")
    return lines


def _show_result(board: verivote.ElectionClient) -> dict[str, Any]:
    """Read the published ranked result from the board and print it by category."""
    (entry,) = board.entries(entry_type="ranked_result")
    body = entry.body
    for group in body["groups"]:
        say(f"   {' + '.join(group['categories'])}:")
        for line in _rounds(group["count"]):
            say(line)
        if group["invalid"]:
            say(f"     invalid ballots: {len(group['invalid'])}")
    say("   overall:")
    for line in _rounds(body["overall"]):
        say(line)
    return dict(body)


def _recount(cast: dict[str, tuple[str, list[str]]], published: dict[str, Any]) -> bool:
    ids = [c for c, _ in CANDIDATES]
    rows = [[ids.index(c) for c in r] for _, r in cast.values()]
    profile = profile_from_fields(ids, rows, seats=1)
    recount = RULES["av"](profile, 1, bytes.fromhex(published["seed"]))
    mine = recount.names(recount.elected)
    theirs = published["overall"]["elected"]
    same = recount.to_dict() == published["overall"]
    say(
        f"   recount of the {len(rows)} rankings cast and counted: elected {mine}; "
        f"published: {theirs}"
    )
    say(
        "   every round of the published count equals the recount"
        if same
        else "   THE PUBLISHED COUNT DIFFERS FROM THE RECOUNT"
    )
    return bool(same and mine == theirs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--electors", type=int, default=300, help="electors on the roll (300)")
    parser.add_argument("--late", type=int, default=None, help="late registrations (1%%)")
    parser.add_argument("--turnout", type=float, default=0.8, help="share who vote (0.8)")
    parser.add_argument("--jobs", type=int, default=2, help="voters' processes at once (2)")
    parser.add_argument("--seed", type=int, default=2026, help="the electorate's behaviour")
    parser.add_argument("--port", type=int, default=0, help="the board's port (a free one)")
    parser.add_argument("--voting-seconds", type=int, default=0, help="(default: estimated)")
    parser.add_argument(
        "--processes",
        action="store_true",
        help="start a new process for every command (default: one-off commands run in "
        "this process, each person with their own state directory)",
    )
    parser.add_argument("--keep", type=Path, help="run in this new directory and keep it")
    args = parser.parse_args(argv)
    if args.electors < 20:
        parser.error("--electors must be at least 20")
    return run_in_workdir(
        parser, args.keep, "leadership-", not args.processes, lambda sh: run(args, sh)
    )


if __name__ == "__main__":
    sys.exit(main())
