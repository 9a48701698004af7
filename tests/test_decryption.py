"""verivote.election.decryption: threshold decryption shares, combination and the result."""

from __future__ import annotations

import copy
import functools
from dataclasses import replace

import pytest
from test_tally import CATEGORIES, GROUPS, THRESHOLD, Scenario, expected_counts, scenario

from verivote.election import decryption
from verivote.election.tally import ContestTally, EncryptedTally, TallyAccumulator
from verivote.elgamal import Ciphertext
from verivote.encoding import dumps, loads
from verivote.errors import DecodeError, InvalidProof, ParameterError, ProtocolError
from verivote.groups import GROUP_NAMES

PRESENT, ABSENT = (1, 3), 2  # trustee 2 does not take part


@functools.cache
def posted(group_name: str) -> dict[int, dict]:
    """The decryption bodies of the present trustees, through canonical JSON."""
    sc = scenario(group_name)
    return {
        j: loads(dumps(decryption.make_decryption(sc.manifest, sc.tally, j, sc.shares[j])))
        for j in PRESENT
    }


@functools.cache
def verified(group_name: str) -> dict[int, list]:
    sc = scenario(group_name)
    return {
        j: decryption.check_decryption(body, sc.manifest, sc.tally, public_key(sc, j))
        for j, body in posted(group_name).items()
    }


def public_key(sc: Scenario, j: int):
    return sc.group.generator ** sc.shares[j]


@pytest.fixture(scope="module", params=GROUP_NAMES)
def sc(request) -> Scenario:
    return scenario(request.param)


def body_of(sc: Scenario, j: int = 1) -> dict:
    return copy.deepcopy(posted(sc.group.name)[j])


def expected_result(sc: Scenario) -> dict:
    contests = []
    for c, contest in enumerate(sc.manifest.contests):
        ids = [cand.id for cand in contest.candidates]
        groups = [
            {"categories": list(g), "counts": dict(zip(ids, expected_counts(g)[c], strict=True))}
            for g in GROUPS
        ]
        overall = dict(zip(ids, expected_counts(CATEGORIES)[c], strict=True))
        contests.append({"id": contest.id, "overall": overall, "groups": groups})
    return {"trustees": list(PRESENT), "missing": [ABSENT], "added": 0, "contests": contests}


# --- the happy path -----------------------------------------------------------------------
def test_k_of_n_decryption_gives_the_plaintext_sums(sc):
    shares = verified(sc.group.name)
    counts = decryption.combine(sc.manifest, sc.tally, shares, THRESHOLD)
    body = decryption.make_result_body(sc.manifest, sc.tally, counts, [3, 1], [ABSENT])
    assert body == expected_result(sc)
    decryption.check_result(loads(dumps(body)), body)


def test_any_qualified_subset_gives_the_same_counts(sc):
    one = verified(sc.group.name)[1]
    # Trustee 2's shares computed directly (their proofs are what the other tests check).
    two = [ct.alpha ** sc.shares[2] for ct in sc.tally.ciphertexts()]
    a = decryption.combine(sc.manifest, sc.tally, {1: one, 2: two}, THRESHOLD)
    b = decryption.combine(sc.manifest, sc.tally, verified(sc.group.name), THRESHOLD)
    assert a == b


def test_render_result_table(sc):
    text = decryption.render_result(sc.manifest, expected_result(sc))
    lines = text.splitlines()
    assert lines[0] == "Party leader (leader)"
    assert lines[1].split() == ["candidate", "overall", "members", "affiliated+registered"]
    assert lines[3].split() == ["Alice", "5", "4", "1"]
    assert "Frank" in text and lines[-1] == "decrypted by trustees 1, 3; absent: 2"


def test_render_result_shows_a_ranked_contests_stages(sc):
    """A ranked contest (its ``ranked_result`` in the report's shape) is shown with its
    first preferences, every stage of its count and who was elected."""
    body = copy.deepcopy(expected_result(sc))
    stage = {"number": 1, "action": "first-preferences", "candidate": None}
    body["contests"][0].update(
        kind="ranked",
        elected=["alice"],
        stages=[
            {**stage, "votes": {"alice": "5.00000", "bob": "3.00000"}, "non_transferable": "0"},
            {
                "number": 2,
                "action": "exclusion",
                "candidate": "bob",
                "votes": {"alice": "7.00000", "bob": "0.00000"},
                "non_transferable": "1.00000",
            },
        ],
    )
    lines = decryption.render_result(sc.manifest, body).splitlines()
    assert lines[0] == "Party leader (leader): first preferences"
    assert "  stage 2: exclusion of Bob" in lines
    assert ["Alice", "5.00000", "7.00000"] in [line.split() for line in lines]
    assert ["non-transferable", "0", "1.00000"] in [line.split() for line in lines]
    assert "elected: Alice" in lines


def test_empty_election_decrypts_to_zero():
    sc = scenario("ed25519")
    manifest = sc.manifest
    tally = TallyAccumulator(manifest).finish()
    shares = {}
    for j in PRESENT:
        body = decryption.make_decryption(manifest, tally, j, sc.shares[j])
        shares[j] = decryption.check_decryption(body, manifest, tally, public_key(sc, j))
    assert decryption.combine(manifest, tally, shares, THRESHOLD) == [0] * 14
    body["shares"][0]["d"] = manifest.group.generator.hex()
    with pytest.raises(InvalidProof, match=r"trustee 3, share 0 .* must be the identity"):
        decryption.check_decryption(body, manifest, tally, public_key(sc, 3))


# --- shares that must be refused ------------------------------------------------------------
def _check(sc: Scenario, body: dict, key_of: int = 1):
    return decryption.check_decryption(body, sc.manifest, sc.tally, public_key(sc, key_of))


def test_wrong_share_value(sc):
    body = body_of(sc)
    d = sc.group.decode_element(bytes.fromhex(body["shares"][5]["d"]))
    body["shares"][5]["d"] = (d * sc.group.generator).hex()
    with pytest.raises(
        InvalidProof, match=r"trustee 1, share 5 \(contest leader, group members, candidate bob\)"
    ):
        _check(sc, body)


def _flip_low_bit(text: str) -> str:
    """Hex with the lowest bit of its last byte flipped (still a reduced scalar, except
    with negligible probability)."""
    data = bytearray.fromhex(text)
    data[-1] ^= 1
    return data.hex()


@pytest.mark.parametrize("field", ["c", "s"])
def test_flipped_proof_scalar(sc, field):
    body = body_of(sc)
    proof = body["shares"][0]["proof"]
    proof[field] = _flip_low_bit(proof[field])
    with pytest.raises(InvalidProof, match=r"trustee 1, share 0 .*chaum-pedersen"):
        _check(sc, body)


def test_shares_in_the_wrong_order(sc):
    body = body_of(sc)
    s = body["shares"]
    s[0], s[1] = s[1], s[0]
    with pytest.raises(InvalidProof, match=r"share 0 \(contest leader, overall, candidate alice"):
        _check(sc, body)


def test_share_checked_against_another_trustees_key(sc):
    with pytest.raises(InvalidProof, match="trustee 1, share 0"):
        _check(sc, body_of(sc, 1), key_of=3)
    # Relabelling trustee 1's shares as trustee 3's fails too: j is in the proof context.
    body = body_of(sc, 1)
    body["trustee"] = 3
    with pytest.raises(InvalidProof, match="trustee 3, share 0"):
        _check(sc, body, key_of=1)


def _with_overall(sc: Scenario, position: int, ct: Ciphertext) -> EncryptedTally:
    """The scenario's tally with the leader contest's overall ciphertext replaced."""
    first = sc.tally.contests[0]
    overall = list(first.overall)
    overall[position] = ct
    contests = (ContestTally(first.id, tuple(overall), first.groups), *sc.tally.contests[1:])
    return replace(sc.tally, contests=contests)


def test_shares_for_a_changed_tally(sc):
    ct = sc.tally.ciphertexts()[3]
    other = _with_overall(sc, 3, Ciphertext(ct.alpha * sc.group.generator, ct.beta))
    with pytest.raises(InvalidProof, match=r"share 3 \(contest leader, overall, candidate dave"):
        decryption.check_decryption(body_of(sc), sc.manifest, other, public_key(sc, 1))
    # A changed beta leaves the shares valid, but no count in range decrypts.
    junk = sc.group.hash_to_element(b"verivote/tests", b"junk")
    other = _with_overall(sc, 3, Ciphertext(ct.alpha, ct.beta * junk))
    with pytest.raises(ProtocolError, match=r"contest leader, overall, candidate dave.*\[0, 13\]"):
        decryption.combine(sc.manifest, other, verified(sc.group.name), THRESHOLD)


@pytest.mark.parametrize(
    "tamper, fragment",
    [
        (lambda b: b.update(extra=1), "unexpected"),
        (lambda b: b.update(trustee=True), "not a trustee index"),
        (lambda b: b.update(trustee=4), "not a trustee index"),
        (lambda b: b["shares"].pop(), "expected a list of 21 shares"),
        (lambda b: b["shares"][2].pop("proof"), "share 2"),
        (lambda b: b["shares"][2].update(d=b["shares"][2]["d"].upper()), "lowercase"),
        (lambda b: b["shares"][2].update(d="ab"), "share 2 d"),
        (lambda b: b["shares"][2]["proof"].update(c="ff" * 64), "chaum-pedersen proof c"),
    ],
)
def test_malformed_decryption(sc, tamper, fragment):
    body = body_of(sc)
    tamper(body)
    with pytest.raises(DecodeError, match=fragment):
        _check(sc, body)


def test_fewer_than_threshold_trustees(sc):
    with pytest.raises(ProtocolError, match="needs shares from 2 trustees, got 1: 1 missing"):
        decryption.combine(sc.manifest, sc.tally, {1: verified(sc.group.name)[1]}, THRESHOLD)
    with pytest.raises(ProtocolError, match="got 0: 2 missing"):
        decryption.combine(sc.manifest, sc.tally, {}, THRESHOLD)
    short = {j: v[:-1] for j, v in verified(sc.group.name).items()}
    with pytest.raises(ProtocolError, match="20 shares for 21 ciphertexts"):
        decryption.combine(sc.manifest, sc.tally, short, THRESHOLD)


def test_make_decryption_rejects_bad_arguments(sc):
    with pytest.raises(ParameterError, match="trustee index"):
        decryption.make_decryption(sc.manifest, sc.tally, 4, sc.shares[1])
    with pytest.raises(ParameterError, match="counts"):
        decryption.make_result_body(sc.manifest, sc.tally, [0] * 20, [1, 3], [2])


# --- the result -------------------------------------------------------------------------------
def test_changed_result_count(sc):
    want = expected_result(sc)
    body = copy.deepcopy(want)
    body["contests"][0]["groups"][1]["counts"]["bob"] += 1
    with pytest.raises(
        ProtocolError,
        match=r"contest leader, group affiliated\+registered, candidate bob: published 2, "
        "the decryption gives 1",
    ):
        decryption.check_result(body, want)
    body = copy.deepcopy(want)
    body["contests"][1]["overall"]["erin"] -= 1
    with pytest.raises(ProtocolError, match="contest council, overall, candidate erin"):
        decryption.check_result(body, want)


@pytest.mark.parametrize(
    "tamper, error, fragment",
    [
        (lambda b: b.update(missing=[]), ProtocolError, "result missing"),
        (lambda b: b.update(trustees=[1, 2]), ProtocolError, "result trustees"),
        (lambda b: b["contests"].reverse(), ProtocolError, "'council' where 'leader'"),
        (lambda b: b["contests"][0]["groups"].pop(), ProtocolError, "expected 2 groups"),
        (lambda b: b["contests"][0]["overall"].pop("dave"), ProtocolError, "candidates differ"),
        (lambda b: b["contests"][0]["overall"].update(dave=True), ProtocolError, "dave"),
        (lambda b: b.update(note="x"), DecodeError, "unexpected"),
        (
            lambda b: b["contests"][0]["groups"].reverse(),
            ProtocolError,
            r"group \['affiliated', 'registered'\] where members",
        ),
    ],
)
def test_malformed_result(sc, tamper, error, fragment):
    want = expected_result(sc)
    body = copy.deepcopy(want)
    tamper(body)
    with pytest.raises(error, match=fragment):
        decryption.check_result(body, want)
