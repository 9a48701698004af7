"""Hand-made profiles with outcomes worked out by hand, ties, the lot, rankings."""

from __future__ import annotations

import hashlib

import pytest

from verivote.count import (
    SCALE,
    InvalidRanking,
    Lot,
    alternative_vote,
    approval,
    build_profile,
    check_ranking,
    lot_digest,
    plurality,
    profile_from_fields,
    scottish_stv,
    votes_text,
)
from verivote.errors import DecodeError, ParameterError

# Tennessee's capital (a textbook example): Memphis leads on first preferences, Knoxville
# wins by transfers.
M, N, C, K = range(4)
TENNESSEE = build_profile(
    ["Memphis", "Nashville", "Chattanooga", "Knoxville"],
    [((M, N, C, K), 42), ((N, C, K, M), 26), ((C, K, N, M), 15), ((K, C, N, M), 17)],
)


def units(text: str) -> int:
    whole, frac = text.split(".")
    return int(whole) * SCALE + int(frac)


def test_av_tennessee():
    report = alternative_vote(TENNESSEE)
    assert report.names(report.excluded) == ["Chattanooga", "Nashville"]
    assert report.names(report.elected) == ["Knoxville"]
    assert [s.votes for s in report.stages] == [
        tuple(v * SCALE for v in (42, 26, 15, 17)),
        tuple(v * SCALE for v in (42, 26, 0, 32)),
        tuple(v * SCALE for v in (42, 0, 0, 58)),
    ]
    assert report.stages[-1].elected == (K,)
    assert report.quota is None and report.lots == ()


def test_plurality_tennessee_and_stv_agrees_with_av():
    assert plurality(TENNESSEE).elected == (M,)
    stv = scottish_stv(TENNESSEE, seats=1)
    assert stv.elected == (K,) and stv.excluded == (C, N)
    assert stv.quota == 51 * SCALE
    # Knoxville reaches the quota (58 ≥ 51) at stage 3 with two continuing for one seat
    assert stv.elected_at_end == ()


# Two seats, quota 5. Stage 1: A 7, B 2, C 2, D 1; A is elected. Stage 2, A's surplus of 2
# over 7 papers: each at trunc5(2/7) = 0.28571; B gets 4 × 0.28571 = 1.14284, C gets 0.85713,
# 0.00003 is lost. Stage 3 excludes D (its paper is non-transferable). Stage 4 excludes C:
# two papers go to B at 1, three (from A) have no next preference (0.85713). B, the one
# continuing candidate for the one seat left, is elected at the end with 5.14284.
A, B, C2, D = range(4)
SMALL = build_profile(
    "ABCD",
    [((A, B), 4), ((A, C2), 3), ((B,), 2), ((C2, B), 2), ((D,), 1)],
)


def test_stv_by_hand():
    report = scottish_stv(SMALL, seats=2)
    assert report.quota == 5 * SCALE and report.valid_ballots == 12
    assert [(s.action, s.candidate) for s in report.stages] == [
        ("first-preferences", None),
        ("surplus", A),
        ("exclusion", D),
        ("exclusion", C2),
    ]
    table = [[votes_text(v) for v in s.votes] for s in report.stages]
    assert table == [
        ["7.00000", "2.00000", "2.00000", "1.00000"],
        ["5.00000", "3.14284", "2.85713", "1.00000"],
        ["5.00000", "3.14284", "2.85713", "0.00000"],
        ["5.00000", "5.14284", "0.00000", "0.00000"],
    ]
    assert [votes_text(s.non_transferable) for s in report.stages] == [
        "0.00000",
        "0.00000",
        "1.00000",
        "1.85713",
    ]
    assert [s.loss for s in report.stages] == [0, 3, 3, 3]
    assert report.elected == (A, B) and report.elected_at_end == (B,)
    assert report.excluded == (D, C2)
    assert [s.elected for s in report.stages] == [(A,), (), (), (B,)]


def test_stv_surplus_of_transferred_papers_weights_each_by_its_value():
    # Three seats, valid 19, quota 5. A's surplus of 7 passes 12 papers to B at
    # trunc5(7/12) = 0.58333; B (3 + 6.99996) exceeds the quota with papers of two values,
    # and each moves at trunc5(B's surplus × its value / B's votes).
    profile = build_profile("ABCD", [((0, 1, 2), 12), ((1, 3), 3), ((2,), 2), ((3,), 2)])
    report = scottish_stv(profile, seats=3)
    assert report.quota == 5 * SCALE
    second = report.stages[1]
    assert second.votes[1] == 3 * SCALE + 12 * 58333
    b_votes = second.votes[1]
    surplus = b_votes - 5 * SCALE
    third = report.stages[2]
    assert (third.action, third.candidate) == ("surplus", 1)
    to_c = 12 * (surplus * 58333 // b_votes)
    to_d = 3 * (surplus * SCALE // b_votes)
    assert (to_c, to_d) == (12 * 29166, 3 * 49999)
    assert third.votes[2] == 2 * SCALE + to_c
    assert third.votes[3] == 2 * SCALE + to_d
    assert third.loss == second.loss + surplus - to_c - to_d
    assert report.names(report.elected) == ["A", "B", "C"]


# Five candidates, AV and one-seat STV. Stage 1: A 20, B 8, C 7, D 5, E 4. E's papers go to
# C (stage 2: B 8, C 11); D's to B (4) and C (1) (stage 3: B 12, C 12). B and C tie for the
# fewest: at stage 2, the most recent stage where they differed, B had fewer, so B is
# excluded, although at stage 1 C had fewer.
TIE = build_profile(
    "ABCDE",
    [((0,), 20), ((1,), 8), ((2,), 7), ((3, 1), 4), ((3, 2), 1), ((4, 2), 4)],
)


def test_av_tie_broken_by_the_most_recent_stage_where_they_differed():
    report = alternative_vote(TIE)
    assert report.names(report.excluded) == ["E", "D", "B"]
    assert report.stages[2].votes[1] == report.stages[2].votes[2] == 12 * SCALE
    assert report.names(report.elected) == ["A"] and report.lots == ()


def test_stv_tie_broken_by_the_most_recent_stage_where_they_differed():
    report = scottish_stv(TIE, seats=1)
    assert report.names(report.excluded) == ["E", "D", "B", "C"]
    assert report.names(report.elected_at_end) == ["A"] and report.lots == ()


def test_narrowing_among_three_tied():
    # B, C and D end stage 2 on 6 each; at stage 1 (their last difference) B and C had 5,
    # D 6: D is spared, and B and C, equal at every stage, go to a lot.
    profile = build_profile(
        "ABCDE", [((0,), 10), ((1,), 5), ((2,), 5), ((3,), 6), ((4, 1), 1), ((4, 2), 1)]
    )
    report = alternative_vote(profile, seed=b"s")
    assert report.stages[1].votes[1:4] == (6 * SCALE, 6 * SCALE, 6 * SCALE)
    assert report.lots == (Lot(2, "exclusion", (1, 2), report.lots[0].order),)
    assert report.excluded[:2] == (4, report.lots[0].order[0])


ABC = build_profile("ABC", [((0,), 3), ((1,), 3), ((2,), 5)])


def test_lot_digest_is_sha256_of_the_framed_fields():
    frame = b"".join(
        len(p).to_bytes(4, "big") + p
        for p in (b"verivote/count/lot/v1", b"\x01\x02", (1).to_bytes(4, "big"), "Bé".encode())
    )
    assert lot_digest(b"\x01\x02", 1, "Bé") == hashlib.sha256(frame).digest()
    assert lot_digest(b"", 1, "A").hex() == KNOWN_DIGEST


# check values for docs/counting.md (SHA-256 of the framed fields, computed once)
KNOWN_DIGEST = "fc4f7a5063cffe12d64a98c2784fcf69c824f46fef7036642f9951383dc5b9c5"


def test_lot_digest_check_values():
    digest = lot_digest(bytes.fromhex("0102"), 7, "Shaukat Butt").hex()
    assert digest == "465f06a9629ff7e239f7726c625aae082b48881134fc219489f8d8b019ee17f1"


@pytest.mark.parametrize("seed", [b"", b"\x00", b"record-hash"])
def test_tie_at_every_stage_goes_to_a_reproducible_lot(seed):
    report = alternative_vote(ABC, seed=seed)
    first = min((0, 1), key=lambda c: lot_digest(seed, 1, "AB"[c]))
    assert report.lots == (
        Lot(stage=1, purpose="exclusion", tied=(0, 1), order=(first, 1 - first)),
    )
    assert report.excluded[0] == first
    assert alternative_vote(ABC, seed=seed) == report


def test_the_seed_decides_the_lot():
    outcomes = {alternative_vote(ABC, seed=bytes([i])).excluded[0] for i in range(32)}
    assert outcomes == {0, 1}


def test_plurality_and_approval():
    profile = build_profile("ABCD", [((0, 1), 4), ((1, 2), 3), ((2, 1), 2), ((3,), 1)])
    assert plurality(profile).elected == (0,)
    assert plurality(profile, seats=2).elected == (0, 1)
    report = approval(profile, seats=2)
    assert report.stages[0].votes == tuple(v * SCALE for v in (4, 9, 5, 1))
    assert report.elected == (1, 2) and report.stages[0].action == "approvals"


def test_plurality_tie_across_the_last_seat_is_drawn():
    profile = build_profile("ABC", [((0,), 5), ((1,), 3), ((2,), 3)])
    report = plurality(profile, seats=2, seed=b"x")
    (lot,) = report.lots
    assert (lot.purpose, lot.tied) == ("seat", (1, 2))
    assert report.elected == (0, lot.order[0])


def test_withdrawn_candidates_are_struck_from_the_rankings():
    profile = build_profile("ABC", [((0, 1), 2), ((1,), 1), ((2,), 2)], withdrawn=[1])
    report = alternative_vote(profile)
    assert report.valid_ballots == 4
    assert dict(report.invalid) == {"only-withdrawn": 1}
    assert report.to_dict()["withdrawn"] == ["B"]
    assert "B" not in report.to_dict()["stages"][0]["votes"]


def test_report_dict_shape():
    data = scottish_stv(SMALL, seats=2).to_dict()
    assert {"rule", "seats", "valid_ballots", "quota", "elected", "excluded", "stages"} <= set(data)
    assert data["quota"] == "5.00000" and data["elected"] == ["A", "B"]
    assert data["stages"][1]["votes"] == {
        "A": "5.00000",
        "B": "3.14284",
        "C": "2.85713",
        "D": "1.00000",
    }
    assert data["stages"][1]["action"] == "surplus" and data["stages"][1]["candidate"] == "A"
    assert scottish_stv(SMALL, seats=2).to_json() == scottish_stv(SMALL, seats=2).to_json()


# --- rankings ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "ranking"),
    [((2,), (2,)), ((1, 0, 2), (1, 0, 2)), ((0, None, None), (0,)), ([2, 1], (2, 1))],
)
def test_valid_rankings(fields, ranking):
    assert check_ranking(fields, 3) == ranking


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ((), "empty"),
        ((None, None), "empty"),
        ((None, 1), "gap"),
        ((0, None, 1), "gap"),
        ((0, 0), "repeat"),
        ((1, 2, 1), "repeat"),
        ((3,), "out-of-range"),
        ((-1,), "out-of-range"),
        ((True,), "out-of-range"),
        (("1",), "out-of-range"),
        ((0, None, 5), "out-of-range"),
    ],
)
def test_invalid_rankings_say_why(fields, reason):
    with pytest.raises(InvalidRanking) as info:
        check_ranking(fields, 3)
    assert info.value.reason == reason
    assert isinstance(info.value, DecodeError)


def test_profile_from_decoded_fields_counts_the_invalid():
    profile = profile_from_fields(
        ["X", "Y"], [(0, 1), (0, 1), (1, None), (None, 0), (1, 1), (None, None)]
    )
    assert profile.ballots == (((0, 1), 2), ((1,), 1))
    assert dict(profile.invalid) == {"empty": 1, "gap": 1, "repeat": 1}
    assert alternative_vote(profile).to_dict()["invalid_ballots"] == dict(profile.invalid)


@pytest.mark.parametrize(
    "call",
    [
        lambda: build_profile("AB", [((0,), 0)]),
        lambda: build_profile("AB", [((0,), 1)], withdrawn=[2]),
        lambda: build_profile(["A", " A "], []),
        lambda: build_profile([], []),
        lambda: build_profile(0, []),
        lambda: scottish_stv(SMALL, seats=0),
        lambda: alternative_vote(SMALL, seats=2),
        lambda: alternative_vote(build_profile("A", [], withdrawn=[0])),
        lambda: alternative_vote(ABC, seed="00"),
        lambda: scottish_stv(SMALL, seed=bytearray(b"x")),
        lambda: plurality(SMALL, seed=None),
    ],
)
def test_bad_parameters_are_rejected(call):
    with pytest.raises(ParameterError):
        call()


def test_candidates_by_index_and_names_normalised():
    assert build_profile(3, []).candidates == ("0", "1", "2")
    assert build_profile(["  Ann   Lee ", "Bo"], []).candidates == ("Ann Lee", "Bo")


def test_equal_surpluses_go_by_the_most_recent_stage_where_they_differed():
    # Three seats, valid 34, quota 9. Stage 1: A 8, B 7, C 6, D 5, E 8. D's exclusion gives
    # A 2 and B 3: both reach 10 at stage 2 with equal surpluses of 1; A had more at stage 1,
    # so A's surplus goes first (stage 3), then B's (stage 4), each at trunc5(1/10) = 0.1.
    profile = build_profile(
        "ABCDE",
        [((0, 2), 8), ((1, 2), 7), ((2,), 6), ((3, 0), 2), ((3, 1), 3), ((4,), 8)],
    )
    report = scottish_stv(profile, seats=3)
    assert report.quota == 9 * SCALE
    assert report.stages[1].elected == (0, 1)
    assert [(s.action, s.candidate) for s in report.stages[2:4]] == [("surplus", 0), ("surplus", 1)]
    assert report.stages[2].votes[2] == 6 * SCALE + 8 * 10_000
    assert report.stages[3].votes[2] == 6 * SCALE + 15 * 10_000
    assert report.lots == ()
    assert report.names(report.elected) == ["A", "B", "E"]
    assert report.names(report.excluded) == ["D", "C"]


def test_equal_surpluses_at_every_stage_go_to_a_lot():
    profile = build_profile("ABCD", [((0, 2), 10), ((1, 2), 10), ((2,), 5), ((3,), 4)])
    report = scottish_stv(profile, seats=2, seed=b"\x07")
    # quota 10: A and B elected at stage 1 on 10 each; the seats are filled, so no surplus
    # is transferred and no lot is needed to order them
    assert report.elected == (0, 1) and report.lots == ()
    report = scottish_stv(profile, seats=3, seed=b"\x07")
    # quota 8: A and B elected with surpluses of 2, equal at every stage: a lot says whose
    # goes first
    (lot,) = report.lots
    assert (lot.stage, lot.purpose, lot.tied) == (1, "surplus", (0, 1))
    assert report.stages[1].candidate == lot.order[0]
