"""Ranked contests through the roles: the election file takes ``kind = "ranked"`` with its
rule, ranks and seats; after the tally each trustee mixes in turn (``trustee mix``), then
decrypts the tally and the mixed ballots (``trustee decrypt``); the organiser's ``result``
posts the ranked result (round by round) before the result, and the record verifies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.live_board import serving
from tests.test_roles_inprocess import PW, clock  # noqa: F401  (the fixture)
from verivote.board.log import Board
from verivote.count import RULES, profile_from_fields
from verivote.election.entries import entry_from_line, sign_entry
from verivote.roles import issuer, organiser, registrar, trustee, voter
from verivote.roles.election_file import ElectionFileError, read_election_file
from verivote.roles.handout import read_credential
from verivote.roles.organiser import NotDue, Organiser
from verivote.roles.transport import Poster, read_board, read_entries
from verivote.signatures import Signer
from verivote.verify.record import verify_record

HEAD = (
    'election_id = "r1"\ntitle = "R"\nthreshold = 2\nmin_category_size = 1\n'
    'categories = ["a", "b"]\nopens = "+1h"\ncloses = "+1h"\n'
)
LEADER = (
    '[[contests]]\nid = "leader"\ntitle = "Leader"\nkind = "ranked"\nrule = "av"\n'
    'candidates = [{ id = "x", name = "X" }, { id = "y", name = "Y" }, { id = "z", name = "Z" }]\n'
)


def keys_toml(reg: bytes, iss: bytes, board: bytes) -> str:
    return (
        f'registrar_key = "{reg.hex()}"\nissuer_key = "{iss.hex()}"\nboard_key = "{board.hex()}"\n'
    )


def _file(tmp_path: Path, contest: str) -> Path:
    k = Signer.generate().public_key
    t = f'[[trustees]]\nname = "T"\nsign_key = "{k.hex()}"\nbox_key = "{k.hex()}"\n'
    other = Signer.generate().public_key
    path = tmp_path / "e.toml"
    path.write_text(HEAD + keys_toml(k, other, Signer.generate().public_key) + contest + t * 2)
    return path


def test_the_election_file_takes_a_ranked_contest(tmp_path):
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(microsecond=0)
    key = Signer.generate().public_key
    m = read_election_file(_file(tmp_path, LEADER), key, now=now)
    (c,) = m.contests
    assert (c.kind, c.rule, c.ranks, c.seats, c.limit) == ("ranked", "av", 3, 1, 3)
    m = read_election_file(_file(tmp_path, LEADER + "ranks = 2\n"), key, now=now)
    assert m.contests[0].ranks == 2
    bad = {
        LEADER.replace('rule = "av"\n', ""): "contests[0].rule: missing",
        LEADER.replace('"av"', '"borda"'): "contests[0].rule: 'borda' is not one of",
        LEADER + "limit = 1\n": "contests[0].limit: a ranked contest's limit is its ranks",
        LEADER + "seats = 2\n": "seats in 1..candidates-1 (av: 1)",
        LEADER.replace('"ranked"', '"plurality"'): "contests[0].rule: only a ranked contest",
    }
    for text, message in bad.items():
        with pytest.raises(ElectionFileError, match=re.escape(message)):
            read_election_file(_file(tmp_path, text), key, now=now)


def test_a_ranked_election_is_mixed_decrypted_and_counted_by_the_roles(tmp_path, clock):  # noqa: F811
    tables = [trustee.keygen(tmp_path / f"t{i}", f"T{i}", PW) for i in (1, 2, 3)]
    reg_key = registrar.keygen(tmp_path / "reg", PW)
    iss_key = issuer.keygen(tmp_path / "iss", PW)
    board_signer = Signer.generate()
    (tmp_path / "e.toml").write_text(
        HEAD.replace('opens = "+1h"\ncloses = "+1h"\n', "")
        + keys_toml(reg_key, iss_key, board_signer.public_key)
        + LEADER
        + "".join(tables)
    )
    organiser.init(
        tmp_path / "org", tmp_path / "e.toml", PW, opens="+1h", closes="+1h", now=clock.now
    )
    board = Board(clock, board_signer)
    board.append(read_entries(tmp_path / "org" / organiser.ELECTION_FILE, clock())[0])
    org = Organiser(tmp_path / "org", PW)
    ts = [trustee.Trustee(tmp_path / f"t{i}", PW) for i in (1, 2, 3)]
    reg = registrar.Registrar(tmp_path / "reg", PW)
    iss = issuer.Issuer(tmp_path / "iss", PW)
    rankings = {"V1": ["x", "y"], "V2": ["y", "z"], "V3": ["z", "y"], "V4": ["y"], "V5": ["x"]}
    with serving(board) as url:
        post = Poster(url, None)
        org.ceremony(url, post)
        for _ in range(2):
            for t in ts:
                t.ceremony_step(url, post)
        csv = "elector_id,category,weight\n" + "".join(
            f"{v},{'a' if i < 3 else 'b'},1\n" for i, v in enumerate(rankings)
        )
        (tmp_path / "v.csv").write_text(csv)
        reg.import_electors(url, tmp_path / "v.csv", post, credentials_dir=tmp_path / "c")
        iss.import_electors(
            url, tmp_path / "reg" / registrar.SLOTS_FILE, post, credentials_dir=tmp_path / "c"
        )
        clock.move(org.manifest.opens)
        org.open(url, post)
        election = voter.Election(voter.BoardClient(url))
        for v, ranking in rankings.items():
            files = [tmp_path / "c" / f"{v}.{role}.credential" for role in ("registrar", "issuer")]
            election.vote(read_credential(files), {"leader": ranking})
        reg.bar(url, "V5", "membership-lapsed", post)
        reg.seal(url, post)
        iss.seal(url, post)
        clock.move(org.manifest.closes)
        org.close(url, post)
        with pytest.raises(NotDue, match="no tally on the board yet: the ranked ballots"):
            ts[0].mix(url, post)
        org.tally(url, post)
        said = ts[0].decrypt(url, post)
        assert said[0] == "trustee 1: decryption share posted"
        assert said[1].startswith("trustee 1: waiting: contest leader: 0 of the 2 mixes")
        with pytest.raises(NotDue, match="0 of the 2 mixes are on the board"):
            ts[0].decrypt(url, post)  # nothing left to post until the mixes are in
        said = ts[0].mix(url, post)
        assert said == ["trustee 1: contest leader mixed (4 ballots in 2 group(s)), mix 1 of 2"]
        assert ts[0].mix(url, post) == ["trustee 1: contest leader already mixed by this trustee"]
        # trustee 3 decrypts the tally before the last mix, then mixes and decrypts again
        said = ts[2].decrypt(url, post)
        assert said[0] == "trustee 3: decryption share posted"
        assert said[1].startswith("trustee 3: waiting: contest leader: 1 of the 2 mixes")
        ts[2].mix(url, post)
        assert ts[1].mix(url, post) == ["trustee 2: contest leader has its mixes (trustees [1, 3])"]
        with pytest.raises(NotDue, match="0 of 2 decryptions of the mixed ballots"):
            org.result(url, post)
        assert ts[2].decrypt(url, post) == [
            "trustee 3: decryption already on the board",
            "trustee 3: contest leader: mixed ballots' shares posted",
        ]
        assert ts[0].decrypt(url, post)[1] == (
            "trustee 1: contest leader: mixed ballots' shares posted"
        )
        said = org.result(url, post)
        assert said[0] == "leader: ranked result posted; the count of all groups:"
        assert "alternative vote, 1 seat(s); 4 valid ballot(s)" in said[1]
        st = read_board(url).state
        assert st.result is not None and st.phase == "done"
        board.export(tmp_path / "record")
    report = verify_record(tmp_path / "record")
    assert report.valid, report.failures[:3]
    (leader,) = [c for c in report.result["contests"] if c["id"] == "leader"]
    counted = [r for v, r in rankings.items() if v != "V5"]
    ids = ["x", "y", "z"]
    profile = profile_from_fields(ids, [[ids.index(c) for c in r] for r in counted], seats=1)
    recount = RULES["av"](profile, 1, b"")
    assert leader["elected"] == recount.names(recount.elected) == ["y"]
    # the roles' replay trusts the board's checks of the mixes' proofs (as of ballots'):
    # a mix whose shuffle proof is false, re-signed by its trustee, still replays; the
    # verifier names it
    lines = (tmp_path / "record" / "board.jsonl").read_bytes().splitlines()
    at = next(i for i, line in enumerate(lines) if b'"type":"mix"' in line)
    mixed = entry_from_line(lines[at])
    body = json.loads(json.dumps(mixed.body))
    proof = body["groups"][0]["proof"]["s"]
    proof["s1"], proof["s2"] = proof["s2"], proof["s1"]
    forged = sign_entry(ts[0].signer, org.manifest.fingerprint, "mix", body, mixed.time)
    lines[at] = forged.to_line()
    (tmp_path / "record" / "board.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    assert read_board(str(tmp_path / "record")).state.phase == "done"
    checks = {f.check for f in verify_record(tmp_path / "record").failures}
    assert "mix.proof" in checks
