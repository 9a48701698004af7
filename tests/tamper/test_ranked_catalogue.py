"""The ranked tampers against the independent verifier: each is caught by the check that
guards what it changed; the honest ranked record verifies and its published count is the
recount of the rankings cast."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from verivote.count import RULES, profile_from_fields
from verivote.election.ranked import field_value, fields_from_choice
from verivote.verify.record import verify_record

from .catalogue import Case
from .forge import BaseRecord, Forge
from .ranked_catalogue import (
    FAULTY,
    RANKED_CASES,
    RANKINGS,
    REVOKED,
    REVOTER,
    build_ranked_base,
)


@pytest.fixture(scope="session")
def ranked_base(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], BaseRecord]:
    built: dict[str, BaseRecord] = {}

    def get(group: str) -> BaseRecord:
        if group not in built:
            built[group] = build_ranked_base(group, tmp_path_factory.mktemp(f"ranked-{group}"))
        return built[group]

    return get


def _params() -> Iterator[object]:
    for c in RANKED_CASES:
        yield pytest.param("ed25519", c, id=f"ed25519-{c.name}")
        if c.modp:
            yield pytest.param("modp4096", c, id=f"modp4096-{c.name}")
            yield pytest.param("ristretto255", c, id=f"ristretto255-{c.name}")


@pytest.mark.parametrize(("group", "case"), list(_params()))
def test_ranked_tamper_is_caught(group: str, case: Case, ranked_base, tmp_path) -> None:
    forged, index = case.forge(ranked_base(group))
    report = verify_record(forged.write(tmp_path))
    failures = [(f.index, f.type, f.check) for f in report.failures]
    assert not report.valid
    first = report.failures[0]
    assert first.check == case.expected(group), failures
    if index is not None:
        assert first.index == index, failures
    assert first.type == case.at, failures


def test_ranked_base_is_valid_and_recounts(ranked_base, tmp_path) -> None:
    """ed25519 only: on modp4096 the honest mixes and decryptions are checked by the
    modp4096 tamper case (the verifier goes through them before the altered share)."""
    base = ranked_base("ed25519")
    report = verify_record(Forge(base, ()).write(tmp_path))
    assert report.valid, [(f.index, f.type, f.check, f.reason) for f in report.failures]
    assert report.by_type["mix"] == 2 and report.by_type["mix_decryption"] == 2
    ranked = base.sim.board.state.ranked
    assert ranked is not None
    body = ranked.results["leader"]
    # An independent recount of the plaintext rankings the electors cast.
    contest = base.manifest.contest("leader")
    cast = {v: fields_from_choice(contest, r) for v, r in enumerate(RANKINGS)}
    cast[REVOTER] = fields_from_choice(contest, ["carver", "ashworth"])
    cast[FAULTY] = [2, 2, 0, 0]
    del cast[REVOKED]
    decoded = [[field_value(v) for v in row] for row in cast.values()]
    ids = [c.id for c in contest.candidates]
    profile = profile_from_fields(ids, decoded, seats=1)
    recount = RULES["av"](profile, 1, bytes.fromhex(body["seed"]))
    assert body["overall"] == recount.to_dict()
    assert body["overall"]["invalid_ballots"] == {"repeat": 1}
    published = sorted(row for g in body["groups"] for row in g["ballots"])
    assert published == sorted(cast.values())
    shown = [c for c in report.result["contests"] if c["id"] == "leader"]
    assert shown and shown[0]["stages"] == body["overall"]["stages"]
