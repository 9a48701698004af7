"""verivote.election.tally: weighted homomorphic tally, breakdown groups, strict decoding."""

from __future__ import annotations

import functools
import os
import pickle
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verivote import elgamal
from verivote.election.manifest import Candidate, Contest, Manifest, TrusteeInfo
from verivote.election.tally import (
    EncryptedTally,
    TallyAccumulator,
    breakdown_groups,
    check_tally,
    positions,
)
from verivote.elgamal import Ciphertext
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, ParameterError, ProtocolError
from verivote.groups import GROUP_NAMES, Group, Scalar, get_group
from verivote.signatures import Signer

CATEGORIES = ("members", "affiliated", "registered")
N_TRUSTEES, THRESHOLD = 3, 2


# --- a small election, built once per group and shared with test_decryption -------------
def make_manifest(group_name: str, min_size: int = 3) -> Manifest:
    """Two contests (plurality of 4, approval of 3 choose 2), three categories, 2 of 3."""
    trustees = tuple(
        TrusteeInfo(i, f"trustee {i}", Signer.generate().public_key, os.urandom(32))
        for i in range(1, N_TRUSTEES + 1)
    )
    leader = Contest(
        "leader",
        "Party leader",
        "plurality",
        tuple(Candidate(c, c.title()) for c in ("alice", "bob", "carol", "dave")),
        1,
    )
    council = Contest(
        "council",
        "Council",
        "approval",
        tuple(Candidate(c, c.title()) for c in ("erin", "frank", "grace")),
        2,
    )
    return Manifest(
        election_id="test-election",
        title="Test election",
        group_name=group_name,
        contests=(leader, council),
        categories=CATEGORIES,
        opens="2026-01-01T00:00:00Z",
        closes="2026-01-02T00:00:00Z",
        threshold=THRESHOLD,
        trustees=trustees,
        organiser_key=Signer.generate().public_key,
        registrar_key=Signer.generate().public_key,
        board_key=Signer.generate().public_key,
        issuer_key=Signer.generate().public_key,
        min_category_size=min_size,
    )


# (category, weight, leader choice or None for blank, council choices)
# Every weight class of a breakdown group holds at least min_size (3) ballots: members all
# weigh 2, the others 1 (mixed classes are merged: see tests/test_weighted_privacy.py).
PLAIN = [
    ("members", 2, 0, (0, 1)),
    ("members", 2, 1, (2,)),
    ("members", 2, 0, ()),
    ("members", 2, None, (1, 2)),
    ("members", 2, 2, (0,)),
    ("affiliated", 1, 3, (0, 2)),
    ("registered", 1, 1, (1,)),
    ("registered", 1, 0, (0, 1)),
]
SUPERSEDED = ("members", 2, 3, (0, 1, 2))  # counted once, then replaced by a re-vote
GROUPS = (("members",), ("affiliated", "registered"))


@dataclass(frozen=True)
class Scenario:
    group: Group
    manifest: Manifest
    secret: Scalar
    joint_key: object
    shares: dict[int, Scalar]  # trustee index -> f(index)
    ballots: list[tuple[str, int, list[list[Ciphertext]]]]
    superseded: tuple[str, int, list[list[Ciphertext]]]
    tally: EncryptedTally


def plaintext(leader: int | None, council: tuple[int, ...]) -> list[list[int]]:
    return [[int(i == leader) for i in range(4)], [int(i in council) for i in range(3)]]


def expected_counts(categories: tuple[str, ...]) -> list[list[int]]:
    """Weighted plaintext sums per contest and candidate over ``categories``."""
    out = [[0] * 4, [0] * 3]
    for cat, weight, leader, council in PLAIN:
        if cat in categories:
            for c, row in enumerate(plaintext(leader, council)):
                for j, v in enumerate(row):
                    out[c][j] += weight * v
    return out


def encrypt_ballot(key, leader, council) -> list[list[Ciphertext]]:
    return [[elgamal.encrypt(key, v)[0] for v in row] for row in plaintext(leader, council)]


@functools.cache
def scenario(group_name: str) -> Scenario:
    group = get_group(group_name)
    manifest = make_manifest(group_name)
    coefficients = [group.random_nonzero_scalar() for _ in range(THRESHOLD)]
    shares = {
        i: sum((a * (i**e) for e, a in enumerate(coefficients)), group.scalar(0))
        for i in range(1, N_TRUSTEES + 1)
    }
    joint_key = group.generator ** coefficients[0]
    ballots = [(cat, w, encrypt_ballot(joint_key, ld, co)) for cat, w, ld, co in PLAIN]
    cat, w, ld, co = SUPERSEDED
    superseded = (cat, w, encrypt_ballot(joint_key, ld, co))
    acc = TallyAccumulator(manifest)
    acc.add(*ballots[0])
    acc.add(*superseded)
    for b in ballots[1:]:
        acc.add(*b)
    acc.remove(*superseded)
    return Scenario(
        group, manifest, coefficients[0], joint_key, shares, ballots, superseded, acc.finish()
    )


@pytest.fixture(scope="module", params=GROUP_NAMES)
def sc(request) -> Scenario:
    return scenario(request.param)


def decrypt_all(sc: Scenario, tally: EncryptedTally) -> list[int]:
    solver = elgamal.DiscreteLog.for_group(sc.group, 100)
    return [solver.solve(elgamal.decrypt_to_element(sc.secret, ct)) for ct in tally.ciphertexts()]


# --- breakdown rule -----------------------------------------------------------------------
CATS = ("a", "b", "c", "d")


def test_breakdown_no_merge():
    assert breakdown_groups({"a": 5, "b": 7, "c": 5, "d": 9}, CATS, 5) == (
        ("a",),
        ("b",),
        ("c",),
        ("d",),
    )


def test_breakdown_small_category_merges_with_next_smallest():
    # c (2) is smallest, a (6) next smallest: merged at a's position, in manifest order.
    assert breakdown_groups({"a": 6, "b": 9, "c": 2, "d": 8}, CATS, 5) == (
        ("a", "c"),
        ("b",),
        ("d",),
    )


def test_breakdown_merged_group_may_merge_again():
    # d+c = 4 is still small: it merges with a (5) next, placed at a's position.
    assert breakdown_groups({"a": 5, "b": 9, "c": 1, "d": 3}, CATS, 5) == (
        ("a", "c", "d"),
        ("b",),
    )


def test_breakdown_all_small_gives_one_group():
    assert breakdown_groups({"a": 1, "b": 1, "c": 2, "d": 0}, CATS, 10) == (CATS,)


def test_breakdown_ties_take_the_earlier():
    # b and d tie for fewest: b is earlier; next-smallest tie between c and d: c is earlier.
    assert breakdown_groups({"a": 9, "b": 1, "c": 3, "d": 1}, CATS, 2) == (
        ("a",),
        ("b", "d"),
        ("c",),
    )
    assert breakdown_groups({"a": 9, "b": 1, "c": 3, "d": 3}, CATS, 2) == (
        ("a",),
        ("b", "c"),
        ("d",),
    )


def test_breakdown_missing_counts_are_zero_and_single_category():
    assert breakdown_groups({"a": 7}, ("a", "b"), 3) == (("a", "b"),)
    assert breakdown_groups({}, ("a",), 3) == (("a",),)


@pytest.mark.parametrize(
    "counts, cats, min_size",
    [({"x": 1}, CATS, 1), ({"a": -1}, CATS, 1), ({}, CATS, 0), ({}, (), 1), ({}, ("a", "a"), 1)],
)
def test_breakdown_rejects_bad_parameters(counts, cats, min_size):
    with pytest.raises(ParameterError):
        breakdown_groups(counts, cats, min_size)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=8), st.integers(1, 25))
def test_breakdown_property(sizes, min_size):
    cats = tuple(f"c{i}" for i in range(len(sizes)))
    counts = dict(zip(cats, sizes, strict=True))
    groups = breakdown_groups(counts, cats, min_size)
    flat = [c for g in groups for c in g]
    assert sorted(flat) == sorted(cats) and len(flat) == len(cats)  # a partition
    for g in groups:
        assert list(g) == sorted(g, key=cats.index)  # manifest order inside a group
    assert [g[0] for g in groups] == sorted((g[0] for g in groups), key=cats.index)
    if len(groups) > 1:
        assert all(sum(counts[c] for c in g) >= min_size for g in groups)
    assert breakdown_groups(counts, cats, min_size) == groups  # deterministic


# --- accumulation -----------------------------------------------------------------------
def test_tally_decrypts_to_weighted_sums(sc):
    t = sc.tally
    assert t.groups == GROUPS
    assert t.ballots == {"members": 5, "affiliated": 1, "registered": 2}
    assert t.weights == {"members": 10, "affiliated": 1, "registered": 2}
    assert t.counted == 8 and t.total_weight == 13
    counts = decrypt_all(sc, t)
    expected: list[int] = []
    for c in range(2):
        expected += expected_counts(CATEGORIES)[c]
        for g in GROUPS:
            expected += expected_counts(g)[c]
    assert counts == expected
    assert len(positions(sc.manifest, t)) == len(counts) == 21
    assert (
        positions(sc.manifest, t)[11]
        == "contest leader, group affiliated+registered, candidate dave"
    )


def test_remove_divides_out_exactly(sc):
    acc = TallyAccumulator(sc.manifest)
    for b in sc.ballots:
        acc.add(*b)
    assert acc.finish() == sc.tally
    acc.add(*sc.superseded)
    assert acc.counts["members"] == 6 and acc.weights["members"] == 12
    assert acc.finish() != sc.tally
    acc.remove(*sc.superseded)
    assert acc.finish() == sc.tally


def test_merge_equals_one_accumulator(sc):
    left, right = TallyAccumulator(sc.manifest), TallyAccumulator(sc.manifest)
    for i, b in enumerate(sc.ballots):
        (left if i % 2 else right).add(*b)
    left.merge(pickle.loads(pickle.dumps(right)))  # as from a worker process
    assert left.counts == sc.tally.ballots and left.weights == sc.tally.weights
    assert left.finish() == sc.tally


def test_add_rejects_bad_ballots_without_changing_state(sc):
    acc = TallyAccumulator(sc.manifest)
    _, _, sels = sc.ballots[0]
    other = get_group(next(n for n in GROUP_NAMES if n != sc.group.name))
    foreign = [[Ciphertext.zero(other)] * 4, [Ciphertext.zero(other)] * 3]
    bad = [
        ("nobody", 1, sels, "unknown category"),
        ("members", 0, sels, "weight"),
        ("members", True, sels, "weight"),
        ("members", 1, sels[:1], "2 contests"),
        ("members", 1, [sels[0], sels[1][:2]], "contest council"),
        ("members", 1, foreign, "another group"),
    ]
    for cat, weight, selections, fragment in bad:
        with pytest.raises(ParameterError, match=fragment):
            acc.add(cat, weight, selections)
    assert acc.counts == dict.fromkeys(CATEGORIES, 0)
    with pytest.raises(ParameterError, match="nothing to remove"):
        acc.remove("members", 1, sels)
    with pytest.raises(ParameterError, match="different elections"):
        acc.merge(TallyAccumulator(make_manifest(sc.group.name)))


def test_empty_tally_is_one_group_of_zeros():
    manifest = make_manifest("ed25519")
    t = TallyAccumulator(manifest).finish()
    assert t.groups == (CATEGORIES,) and t.counted == 0
    zero = Ciphertext.zero(manifest.group)
    assert all(ct == zero for ct in t.ciphertexts())


# --- encoding and check_tally -------------------------------------------------------------
def test_round_trip_is_canonical(sc):
    body = sc.tally.to_dict()
    again = EncryptedTally.from_dict(sc.manifest, loads(dumps(body)))
    assert again == sc.tally and dumps(again.to_dict()) == dumps(body)
    assert check_tally(loads(dumps(body)), sc.manifest, sc.tally) == sc.tally


def _body(sc: Scenario) -> dict:
    return loads(dumps(sc.tally.to_dict()))


@pytest.mark.parametrize(
    "tamper, fragment",
    [
        (lambda b: b.update(extra=1), "unexpected"),
        (lambda b: b["ballots"].pop("members"), "tally ballots"),
        (lambda b: b.update(counted=True), "counted"),
        (lambda b: b.update(counted=9), "not the sum"),
        (lambda b: b["weights"].update(members=-1), "weights members"),
        (lambda b: b["contests"].reverse(), "was due"),
        (lambda b: b["contests"][0]["overall"].pop(), "4 ciphertexts"),
        (lambda b: b["contests"][1].update(groups=[]), "non-empty"),
        (lambda b: b["contests"][1]["groups"][0].update(categories=["staff"]), "'staff'"),
        (lambda b: b["contests"][0]["overall"][0].update(a="00" * 3), "ciphertext a"),
    ],
)
def test_from_dict_rejects_malformed(sc, tamper, fragment):
    body = _body(sc)
    tamper(body)
    with pytest.raises(DecodeError, match=fragment):
        EncryptedTally.from_dict(sc.manifest, body)


def test_check_tally_names_changed_ciphertext(sc):
    body = _body(sc)
    overall = body["contests"][0]["overall"]
    overall[0], overall[1] = overall[1], overall[0]
    with pytest.raises(ProtocolError, match="contest leader, overall, candidate alice"):
        check_tally(body, sc.manifest, sc.tally)
    body = _body(sc)
    cts = body["contests"][1]["groups"][1]["ciphertexts"]
    g = sc.group.generator
    cts[2] = (Ciphertext.from_dict(sc.group, cts[2]) * Ciphertext(g, g)).to_dict()
    with pytest.raises(
        ProtocolError, match=r"contest council, group affiliated\+registered, candidate grace"
    ):
        check_tally(body, sc.manifest, sc.tally)


def test_check_tally_names_changed_counts_and_grouping(sc):
    body = _body(sc)
    body["ballots"].update(members=4, affiliated=2)
    with pytest.raises(ProtocolError, match="category members has 4 ballots"):
        check_tally(body, sc.manifest, sc.tally)
    body = _body(sc)
    body["weights"]["registered"] = 3
    with pytest.raises(ProtocolError, match="category registered has weight 3"):
        check_tally(body, sc.manifest, sc.tally)
    # Publishing the small categories separately breaks the privacy rule.
    body = _body(sc)
    for contest in body["contests"]:
        merged = contest["groups"][1]
        contest["groups"][1:] = [
            {"categories": ["affiliated"], "ciphertexts": merged["ciphertexts"]},
            {"categories": ["registered"], "ciphertexts": merged["ciphertexts"]},
        ]
    with pytest.raises(ProtocolError, match="contest leader: breakdown groups"):
        check_tally(body, sc.manifest, sc.tally)


def test_expected_tally_is_frozen(sc):
    with pytest.raises(AttributeError):
        sc.tally.counted = 0  # type: ignore[misc]
    assert replace(sc.tally, counted=0) != sc.tally


@pytest.mark.parametrize("bound", [1, 2, 4096])
def test_deferred_products_equal_ballot_by_ballot_products(sc, monkeypatch, bound):
    """add() defers its multiplications (one Group.product per position for many ballots);
    the running products are exactly those of multiplying each weighted ciphertext in at
    once, whenever the pending contributions are flushed."""
    from verivote.election import tally as tally_module

    monkeypatch.setattr(tally_module, "_PENDING_MAX", bound)
    acc = TallyAccumulator(sc.manifest)
    zero = Ciphertext.zero(sc.group)
    manual = {cat: [zero] * 7 for cat in CATEGORIES}
    for cat, weight, selections in sc.ballots:
        acc.add(cat, weight, selections)
        flat = [ct**weight for row in selections for ct in row]
        manual[cat] = [a * c for a, c in zip(manual[cat], flat, strict=True)]
    products, *_ = acc.parts()
    assert products == manual
    assert acc.finish() == sc.tally
