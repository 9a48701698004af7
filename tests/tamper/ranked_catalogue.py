"""The ranked part of the tamper catalogue: a valid record with a ranked contest, and the
attacks on its mixes, their decryptions and the public count.

:func:`build_ranked_base` runs a small election on the ranked demo's manifest (the leader
ranked by the alternative vote, the rule change tallied): fourteen electors, a re-vote, a
revocation of a voter who had voted, one ballot from a faulty device ranking a candidate
twice; trustees 1 and 2 mix and decrypt. Each case in :data:`RANKED_CASES` changes a copy
of its entries (the adversary and its keys as in :mod:`tamper.catalogue`).

``cd tests && python -m tamper.ranked_catalogue OUT [GROUP]`` writes these cases as a
corpus, in the format of :func:`tamper.catalogue.write_corpus`.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verivote.demo_ranked import cast_faulty, count_ranked, ranked_election
from verivote.election.mixing import first_inputs, make_mix
from verivote.election.ranked_result import lot_seed
from verivote.elgamal import encrypt
from verivote.encoding import loads

from .catalogue import Case, Mutation, write_corpus
from .forge import BaseRecord, Forge, element_times_g, outside_subgroup

RANKINGS: list[list[str]] = [
    ["ashworth", "begum"],
    ["begum"],
    ["carver", "dlamini", "begum"],
    ["dlamini", "ashworth", "begum", "carver"],
    ["begum", "carver"],
    ["ashworth"],
    ["carver", "begum"],
    ["begum", "ashworth", "dlamini"],
    ["dlamini", "carver"],
    ["ashworth", "carver"],
    ["begum", "dlamini"],
    ["carver"],
]
VOTERS = 14
FAULTY = 12  # a device that ranks a candidate twice
REVOTER = 1
REVOKED = 5
PRESENT = [1, 2]


def build_ranked_base(group: str, directory: Path) -> BaseRecord:
    """Run the ranked election, export it to ``directory`` and read it back as dicts."""
    sim = ranked_election(VOTERS, group, seed=11)
    sim.run_ceremony()
    sim.publish_roll()
    ballots: dict[int, list[int]] = {}
    for voter, ranking in enumerate(RANKINGS):
        ballots[voter] = [sim.cast(voter, {"leader": ranking, "rule-change": ["yes"]})]
    ballots[REVOTER].append(sim.cast(REVOTER, {"leader": ["carver", "ashworth"]}))
    ballots[FAULTY] = [cast_faulty(sim, FAULTY, [2, 2, 0, 0])]
    revocations = {REVOKED: sim.revoke(REVOKED)}
    sim.close()
    count_ranked(sim, PRESENT)
    sim.board.export(directory)
    entries = [loads(line) for line in (directory / "board.jsonl").read_bytes().splitlines()]
    heads = [loads(line) for line in (directory / "heads.jsonl").read_bytes().splitlines()]
    return BaseRecord(sim, entries, heads, ballots, -1, revocations, -1)


RANKED_CASES: list[Case] = []
BOARD = ("board",)
ORGANISER = ("board", "organiser")


def ranked_case(
    name: str, keys: tuple[str, ...], expect: str, at: str, *, modp: bool = False
) -> Callable[[Mutation], Mutation]:
    """Register a ranked case; with a colluding author (the last key, not the board) also
    its twin without that key, caught by ``<at>.signature``."""

    def register(mutate: Mutation) -> Mutation:
        author = keys[-1]
        note = f"with {author}" if author != "board" else ""
        RANKED_CASES.append(Case(name, keys, mutate, expect, at, modp=modp, note=note))
        if author != "board":
            RANKED_CASES.append(
                Case(
                    f"{name}-no-{author.split(':')[0]}",
                    keys[:-1],
                    mutate,
                    f"{at}.signature",
                    at,
                    note=f"without the {author} key",
                )
            )
        return mutate

    return register


def _group0(f: Forge, entry_type: str, nth: int = 0) -> tuple[int, dict[str, Any]]:
    i = f.index(entry_type, nth)
    return i, f.body(i)["groups"][0]


# ------------------------------------------------------------------ mixes
@ranked_case("mix-drops-ballot", ("board", "trustee:1"), "mix.shape", "mix")
def mix_drops(f: Forge) -> int:
    """The first mixer drops one output row of a group (the proof left as it was)."""
    i, group = _group0(f, "mix")
    del group["output"][0]
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-duplicates-ballot", ("board", "trustee:1"), "mix.proof", "mix")
def mix_duplicates(f: Forge) -> int:
    """The first mixer outputs one row twice in place of another."""
    i, group = _group0(f, "mix")
    group["output"][1] = copy.deepcopy(group["output"][0])
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-replaces-ballot", ("board", "trustee:1"), "mix.proof", "mix")
def mix_replaces(f: Forge) -> int:
    """The first mixer replaces an output row by a fresh encryption of another ranking."""
    i, group = _group0(f, "mix")
    key = f.base.sim.joint_key
    group["output"][0] = [encrypt(key, v)[0].to_dict() for v in (2, 1, 0, 0)]
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-reorders-without-proof", ("board", "trustee:1"), "mix.proof", "mix")
def mix_reorders(f: Forge) -> int:
    """The first mixer swaps two output rows after proving its shuffle."""
    i, group = _group0(f, "mix")
    out = group["output"]
    out[0], out[1] = out[1], out[0]
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-of-other-ballots", ("board", "trustee:1"), "mix.chain", "mix")
def mix_other_input(f: Forge) -> int:
    """The first mixer shuffles, with a valid proof, an input in which one counted
    ballot's row is replaced by its own encryption of another ranking."""
    b = f.base
    m, key = b.manifest, b.sim.joint_key
    mixes = b.sim.board.state.ranked
    assert mixes is not None
    contest = m.contest("leader")
    ballots = mixes.ballots()
    groups = tuple(tuple(g["categories"]) for g in f.body(f.index("mix"))["groups"])
    inputs = first_inputs(m, contest, ballots, groups)
    _, rows = inputs[0]
    rows[0] = tuple(encrypt(key, v)[0] for v in (3, 0, 0, 0))
    body, _ = make_mix(m, key, "leader", 1, inputs)
    i = f.index("mix")
    f.body(i)["groups"] = body["groups"]
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-twice-by-one-trustee", BOARD, "mix.trustee", "mix")
def mix_twice(f: Forge) -> int:
    """The first mix entry repeated just after itself."""
    i = f.index("mix")
    f.entries.insert(i + 1, copy.deepcopy(f.entries[i]))
    return i + 1


@ranked_case("mix-groups-merged", ("board", "trustee:1"), "mix.groups", "mix")
def mix_groups_merged(f: Forge) -> int:
    """The first mixer names a group with other categories than the tally's."""
    i, group = _group0(f, "mix")
    group["categories"] = list(f.base.manifest.categories)
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-outside-group", ("board", "trustee:1"), "mix.decode", "mix")
def mix_outside_group(f: Forge) -> int:
    """An output ciphertext replaced by an element outside the prime-order subgroup."""
    i, group = _group0(f, "mix")
    group["output"][0][0]["a"] = outside_subgroup(f.base.group)
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-missing", BOARD, "entry.order", "mix_decryption")
def mix_missing(f: Forge) -> int:
    """The second mix deleted: the decryptions come before the chain is complete."""
    del f.entries[f.index("mix", 1)]
    return f.index("mix_decryption")


# ------------------------------------------------------------------ decryptions
@ranked_case(
    "mix-decryption-altered",
    ("board", "trustee:1"),
    "mix_decryption.proof",
    "mix_decryption",
    modp=True,
)
def mix_decryption_altered(f: Forge) -> int:
    """One decryption share of a mixed ciphertext multiplied by g."""
    i, group = _group0(f, "mix_decryption")
    share = group["shares"][0][0]
    share["d"] = element_times_g(f.base.group, share["d"])
    f.sign(i, "trustee:1")
    return i


@ranked_case("mix-decryption-twice", BOARD, "mix_decryption.trustee", "mix_decryption")
def mix_decryption_twice(f: Forge) -> int:
    """The first decryption of the mixed ballots repeated just after itself."""
    i = f.index("mix_decryption")
    f.entries.insert(i + 1, copy.deepcopy(f.entries[i]))
    return i + 1


@ranked_case(
    "mix-decryption-row-missing", ("board", "trustee:1"), "mix_decryption.decode", "mix_decryption"
)
def mix_decryption_short(f: Forge) -> int:
    """A decryption that leaves out the shares of one row."""
    i, group = _group0(f, "mix_decryption")
    del group["shares"][0]
    f.sign(i, "trustee:1")
    return i


@ranked_case("ranked-result-one-decryption", BOARD, "ranked_result.trustees", "ranked_result")
def ranked_one_decryption(f: Forge) -> int:
    """The second decryption of the mixed ballots deleted: fewer than k."""
    del f.entries[f.index("mix_decryption", 1)]
    return f.index("ranked_result")


# ------------------------------------------------------------------ the public count
def _ranked(f: Forge) -> tuple[int, dict[str, Any]]:
    i = f.index("ranked_result")
    return i, f.body(i)


@ranked_case("ranked-ballot-altered", ORGANISER, "ranked_result.ballots", "ranked_result")
def ranked_ballot_altered(f: Forge) -> int:
    """A decrypted ballot's first preference changed."""
    i, body = _ranked(f)
    row = body["groups"][0]["ballots"][0]
    row[0] = 1 if row[0] != 1 else 2
    f.sign(i, "organiser")
    return i


def _invalid_group(body: dict[str, Any]) -> dict[str, Any]:
    return next(g for g in body["groups"] if g["invalid"])


@ranked_case("ranked-invalid-counted", ORGANISER, "ranked_result.invalid", "ranked_result")
def ranked_invalid_counted(f: Forge) -> int:
    """The ballot ranking a candidate twice taken off the invalid list and counted as a
    first preference."""
    i, body = _ranked(f)
    group = _invalid_group(body)
    del group["invalid"][0]
    group["count"]["invalid_ballots"] = {}
    group["count"]["valid_ballots"] += 1
    f.sign(i, "organiser")
    return i


@ranked_case("ranked-invalid-in-count", ORGANISER, "ranked_result.count", "ranked_result")
def ranked_invalid_in_count(f: Forge) -> int:
    """The invalid ballot left on the invalid list but counted as valid in its group."""
    i, body = _ranked(f)
    count = _invalid_group(body)["count"]
    count["invalid_ballots"] = {}
    count["valid_ballots"] += 1
    f.sign(i, "organiser")
    return i


@ranked_case("ranked-stage-altered", ORGANISER, "ranked_result.count", "ranked_result")
def ranked_stage_altered(f: Forge) -> int:
    """One candidate's votes at the last stage of the overall count raised by one."""
    i, body = _ranked(f)
    votes = body["overall"]["stages"][-1]["votes"]
    name = next(iter(votes))
    whole, frac = votes[name].split(".")
    votes[name] = f"{int(whole) + 1}.{frac}"
    f.sign(i, "organiser")
    return i


@ranked_case("ranked-seed-chosen", ORGANISER, "ranked_result.seed", "ranked_result")
def ranked_seed_chosen(f: Forge) -> int:
    """The organiser draws the lots from a seed of its own choosing."""
    i, body = _ranked(f)
    body["seed"] = lot_seed(f.base.manifest, "leader", b"chosen").hex()
    f.sign(i, "organiser")
    return i


@ranked_case("ranked-trustees-listed", ORGANISER, "ranked_result.trustees", "ranked_result")
def ranked_trustees(f: Forge) -> int:
    """The result claims trustee 3 decrypted too."""
    i, body = _ranked(f)
    body["trustees"] = [1, 2, 3]
    f.sign(i, "organiser")
    return i


@ranked_case("ranked-result-extra-key", ORGANISER, "ranked_result.decode", "ranked_result")
def ranked_extra_key(f: Forge) -> int:
    """A ranked result with a key the protocol does not define."""
    i, body = _ranked(f)
    body["winner"] = "ashworth"
    f.sign(i, "organiser")
    return i


@ranked_case("result-before-ranked-result", BOARD, "entry.order", "result")
def result_first(f: Forge) -> int:
    """The result moved before the ranked result (times kept in order)."""
    i, j = f.index("ranked_result"), f.index("result")
    f.entries[i], f.entries[j] = f.entries[j], f.entries[i]
    f.entries[i]["time"], f.entries[j]["time"] = f.entries[j]["time"], f.entries[i]["time"]
    return i


def main(argv: list[str]) -> int:
    """``python -m tamper.ranked_catalogue OUT [GROUP]``: the ranked corpus."""
    if not 1 <= len(argv) <= 2:
        print("usage: python -m tamper.ranked_catalogue OUT [ed25519|modp4096]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        base = build_ranked_base(argv[1] if len(argv) == 2 else "ed25519", Path(tmp))
    write_corpus(Path(argv[0]), base, RANKED_CASES)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
