"""BallotChecker.check_many (the verifier's batched path) against checking one by one:
the same results, failures included, in every group; one false proof among many named."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from tamper.catalogue import CASES, Case
from tamper.forge import BaseRecord, build_base, scalar_flip

from verivote.demo import SimulatedElection
from verivote.election.checker import BallotChecker, BallotResult
from verivote.election.entries import sign_entry
from verivote.encoding import dumps
from verivote.verify.record import Report, verify_record

# the cases that tamper with a ballot's signature, encoding, elements or proofs
BALLOT_CASES = (
    "selection-proof-flipped",
    "limit-proof-flipped",
    "ciphertext-outside-subgroup",
    "ciphertext-changed",
    "ballot-reencrypted",
    "ballot-in-plain-sight",
    "ballot-wrong-types",
    "range-commitment-torsion",
    "range-a-",
)
MODP_CASES = ("selection-proof-flipped", "ciphertext-outside-subgroup", "range-a-false")


def _one_by_one(self: BallotChecker, batch: list[tuple[int, bytes]]) -> list[BallotResult]:
    return [self.check_and_tally(index, line) for index, line in batch]


def _table(report: Report) -> list[tuple[int, str, str, str]]:
    return [(f.index, f.type, f.check, f.reason) for f in report.failures]


def _cases(group: str) -> list[Case]:
    names = MODP_CASES if group == "modp4096" else BALLOT_CASES
    chosen = [c for c in CASES if any(c.name.startswith(n) for n in names)]
    if group == "modp4096":  # the twins (signature) are the same on every group
        chosen = [c for c in chosen if c.name in names]
    return chosen


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], BaseRecord]:
    built: dict[str, BaseRecord] = {}

    def get(group: str) -> BaseRecord:
        if group not in built:
            built[group] = build_base(group, tmp_path_factory.mktemp(f"base-{group}"))
        return built[group]

    return get


@pytest.mark.parametrize("group", ["ed25519", "ristretto255", "modp4096"])
def test_batched_report_equals_one_by_one(
    group: str,
    bases: Callable[[str], BaseRecord],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = bases(group)
    cases = _cases(group)
    seen: set[str] = set()
    ran = 0
    for n, c in enumerate(cases):
        try:
            forged, _ = c.forge(base)
        except (KeyError, ValueError, NotImplementedError):  # a case not made for this group
            continue
        directory = forged.write(tmp_path / str(n))
        batched = verify_record(directory)
        with monkeypatch.context() as m:
            m.setattr(BallotChecker, "check_many", _one_by_one)
            alone = verify_record(directory)
        assert _table(batched) == _table(alone), c.name
        assert batched.result == alone.result, c.name
        assert not batched.valid, c.name
        seen.update(f.check for f in batched.failures)
        ran += 1
    assert ran >= (2 if group == "modp4096" else 6)
    assert {"ballot.proof", "ballot.decode"} <= seen


@pytest.mark.parametrize(("group", "voters"), [("ristretto255", 40), ("modp4096", 10)])
def test_one_false_proof_among_many_is_named(group: str, voters: int) -> None:
    sim = SimulatedElection(voters, group, seed=5)
    sim.run_ceremony()
    sim.publish_roll()
    m, key = sim.manifest, sim.joint_key
    contest = m.contests[0]
    time = "2026-01-01T00:00:00Z"
    lines: list[bytes] = []
    for voter in range(voters):
        choice = {contest.id: [contest.candidates[voter % len(contest.candidates)].id]}
        body = copy.deepcopy(sim.prepare(voter, choice).body)
        if voter == voters // 2 + 1:  # one response of one selection proof flipped
            proof = body["contests"][0]["proofs"][2]
            proof["s"][1] = scalar_flip(m.group, proof["s"][1])
        entry = sign_entry(sim.credentials[voter], m.fingerprint, "ballot", body, time)
        lines.append(dumps(entry.to_dict()))
    roll = {r.key: (r.category, r.weight) for r in sim.records}
    batch = [(100 + n, line) for n, line in enumerate(lines)]
    batched = BallotChecker(m, key, roll).check_many(batch)
    alone = [BallotChecker(m, key, roll).check_and_tally(i, line) for i, line in batch]
    assert batched == alone
    failed = [r for r in batched if r.failure is not None]
    assert [r.index for r in failed] == [100 + voters // 2 + 1]
    check, reason = failed[0].failure or ("", "")
    assert check == "ballot.proof"
    assert reason.startswith(f"contest {contest.id}, candidate {contest.candidates[2].id}: ")
    assert all(r.accumulated for r in batched if r.failure is None)


def test_one_false_proof_in_ten_thousand_is_named() -> None:
    """10,000 range proofs (1,250 ballots of two contests: 4 + 2 selection proofs and 2
    limit proofs) in one batch on ristretto255's compiled backend; one selection proof is
    false in its b-equation only (its challenge holds). The batch names that ballot with
    the check and reason of checking it alone."""
    from test_range_multi import false_proof

    from verivote.election.ballot import selection_context
    from verivote.elgamal import Ciphertext

    sim = SimulatedElection(3, "ristretto255", seed=7)
    if sim.manifest.group.backend.name != "native":
        pytest.skip("the compiled ristretto255 backend is not built")
    sim.run_ceremony()
    sim.publish_roll()
    m, key = sim.manifest, sim.joint_key
    contest = m.contests[0]
    per_ballot = sum(len(c.candidates) + 1 for c in m.contests)
    assert per_ballot == 8 and not any(c.ranked for c in m.contests)
    time = "2026-01-01T00:00:00Z"
    honest: list[bytes] = []
    for voter in range(2):  # honest ballots, reused: the batch stays cheap to build
        choice = {contest.id: [contest.candidates[voter].id]}
        body = sim.prepare(voter, choice).body
        honest.append(
            dumps(sign_entry(sim.credentials[voter], m.fingerprint, "ballot", body, time).to_dict())
        )
    prepared = sim.prepare(2, {contest.id: [contest.candidates[1].id]})
    body = copy.deepcopy(prepared.body)
    credential = bytes.fromhex(body["credential"])
    ct = Ciphertext.from_dict(m.group, body["contests"][0]["selections"][3])
    ctx = selection_context(m.ballot_context(key), credential, 0, 3)
    _, proof = false_proof(m.group, key, 0, 1, ctx, ct=ct, nonce=prepared.nonces[0][3], which="b")
    body["contests"][0]["proofs"][3] = proof.to_dict()
    false_line = dumps(
        sign_entry(sim.credentials[2], m.fingerprint, "ballot", body, time).to_dict()
    )
    bad = 1234
    batch = [(n, false_line if n == bad else honest[n % 2]) for n in range(1_250)]
    assert len(batch) * per_ballot == 10_000
    roll = {r.key: (r.category, r.weight) for r in sim.records}
    results = BallotChecker(m, key, roll).check_many(batch)
    failed = [r for r in results if r.failure is not None]
    alone = BallotChecker(m, key, roll).check_and_tally(bad, false_line)
    assert [(r.index, r.failure) for r in failed] == [(bad, alone.failure)]
    assert alone.failure == (
        "ballot.proof",
        f"contest {contest.id}, candidate {contest.candidates[3].id}: "
        "range: branch 1: b_j is not h^s_j · (β/g^j)^-c_j",
    )
