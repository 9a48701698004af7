"""``verivote vote``: an elector's machine adds the two credential halves, encrypts the
choices (given with ``--choice`` or asked on the terminal), casts the ballot and saves the
receipt; ``--batch`` casts one ballot per line of a CSV file (docs/getting-started.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def vote(args: argparse.Namespace) -> list[str]:
    """Run ``verivote vote``; returns the lines to print. Raises ValueError for bad input
    (the roles' exit code 2), as the other role commands."""
    from verivote.board.client import BoardClient
    from verivote.roles.voter import Election

    election = Election(BoardClient(args.board))
    if args.batch is not None:
        return _vote_batch(election, args.batch)
    if args.credential is None:
        raise ValueError("give --credential FILE (or --batch FILE)")
    if args.choice:
        choices = election.parse_choices(args.choice)
    elif sys.stdin.isatty():
        choices = _ask(election)
    else:
        raise ValueError("give the choices with --choice CONTEST=CANDIDATE (or vote on a terminal)")
    return _cast(election, args.credential, choices, args.receipt, args.audit)


def _cast(
    election: Any, credential_files: list[Path], choices: Any, receipt: Path | None, audit: bool
) -> list[str]:
    from verivote.roles.handout import read_credential
    from verivote.roles.statedir import write_private

    credential = read_credential(credential_files)
    outcome = election.vote(credential, choices, audit=audit)
    first = credential_files[0]
    path = receipt or first.with_name(first.name.split(".")[0] + ".receipt")
    write_private(path, (outcome.receipt.to_text() + "\n").encode(), replace=True)
    said = []
    if outcome.audit is not None:
        said.append(
            f"audited encryption posted as entry {outcome.audit.index}: it encrypts your "
            "choices (anyone can check it on the board); it does not count"
        )
    said.append(
        f"ballot cast as entry {outcome.receipt.index}, tracking code "
        f"{outcome.receipt.tracking_code}; receipt saved to {path}"
    )
    return said


def _vote_batch(election: Any, batch: Path) -> list[str]:
    """Cast one ballot per line of ``batch`` (CSV with a ``credential,choices`` header)."""
    import csv

    try:
        rows = list(csv.reader(batch.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{batch}: cannot read: {exc}") from None
    if not rows or [c.strip() for c in rows[0]] != ["credential", "choices"]:
        raise ValueError(f"{batch}:1: the header must be credential,choices")
    cast = 0
    for number, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) != 2:
            raise ValueError(
                f"{batch}:{number}: expected two cells, credential and choices (quote the "
                "choices when they hold commas)"
            )
        try:
            choices = election.parse_choices(row[1].split())
        except ValueError as exc:
            raise ValueError(f"{batch}:{number}: {exc}") from None
        files = [Path(p.strip()) for p in row[0].split("+")]
        _cast(election, files, choices, None, False)
        cast += 1
    return [f"{cast} ballots cast; each receipt saved beside its credential"]


def _ask(election: Any) -> dict[str, list[str]]:
    """Ask the voter for each contest's choices on the terminal."""
    from verivote.election.ballot import votes_from_choices

    m = election.manifest
    print(m.title)
    out: dict[str, list[str]] = {}
    for contest in m.contests:
        how = (
            f"rank up to {contest.ranks}, your first preference first"
            if contest.ranked
            else f"choose up to {contest.limit}"
        )
        print(f"\n{contest.title} ({how}; Enter alone for blank)")
        for n, cand in enumerate(contest.candidates, 1):
            print(f"  {n}. {cand.name}")
        while True:
            picked = input("your choice (numbers): ").replace(",", " ").split()
            try:
                ids = [contest.candidates[int(p) - 1].id for p in picked if int(p) >= 1]
                if len(ids) != len(picked):
                    raise IndexError
                votes_from_choices(m, {contest.id: ids})
            except (ValueError, IndexError) as exc:
                print(f"  not a valid choice ({exc or 'no such number'}); try again")
                continue
            out[contest.id] = ids
            break
    return out
