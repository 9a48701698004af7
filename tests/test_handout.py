"""The electors' credential halves on disk: each party's file per elector (or a mail
merge), the voter's machine adding the two, a combined file, and what is refused."""

from __future__ import annotations

import pytest

from verivote.election.roll import credential_from_halves, half_secret_text, make_halves
from verivote.errors import DecodeError
from verivote.roles.handout import combine_files, half_file, hand_out, read_credential
from verivote.roles.statedir import StateError

FP = bytes(64)


def test_two_halves_make_the_credential_in_either_order(tmp_path):
    r_secrets, r_halves = make_halves(FP, "registrar", 0, 2)
    i_secrets, i_halves = make_halves(FP, "issuer", 0, 2)
    electors = [("E1", "e1@example.org"), ("E2", "")]
    hand_out("registrar", electors, r_secrets, tmp_path, None)
    hand_out("issuer", electors, i_secrets, tmp_path, None)
    r_file, i_file = half_file(tmp_path, "E1", "registrar"), half_file(tmp_path, "E1", "issuer")
    assert r_file.stat().st_mode & 0o777 == 0o600
    expected = credential_from_halves(
        half_secret_text(r_secrets[0]), half_secret_text(i_secrets[0])
    )
    assert read_credential([r_file, i_file]).public_key == expected.public_key
    assert read_credential([i_file, r_file]).public_key == expected.public_key
    # the combined key is the sum of the published halves, not either half
    assert expected.public_key not in (r_halves[0].key, i_halves[0].key)
    combined = combine_files([r_file, i_file], tmp_path / "E1.credential")
    assert read_credential([combined]).public_key == expected.public_key
    assert combined.stat().st_mode & 0o777 == 0o600


def test_one_half_alone_or_a_stranger_file_is_refused(tmp_path):
    secrets, _ = make_halves(FP, "registrar", 0, 1)
    hand_out("registrar", [("E1", "")], secrets, tmp_path, None)
    with pytest.raises(DecodeError, match="two halves"):
        read_credential([half_file(tmp_path, "E1", "registrar")])
    (tmp_path / "other").write_text("vv1-" + "00" * 32 + "\n")
    with pytest.raises(DecodeError, match="starts with 'vvh1-'"):
        read_credential([half_file(tmp_path, "E1", "registrar"), tmp_path / "other"])
    with pytest.raises(DecodeError, match="cannot read"):
        read_credential([tmp_path / "missing", tmp_path / "other"])


def test_no_half_is_overwritten(tmp_path):
    secrets, _ = make_halves(FP, "issuer", 0, 1)
    hand_out("issuer", [("E1", "")], secrets, tmp_path, None)
    with pytest.raises(StateError, match="refusing to overwrite"):
        hand_out("issuer", [("E1", "")], secrets, tmp_path, None)
    merge = tmp_path / "merge.csv"
    hand_out("issuer", [("E1", "a@b.org")], secrets, None, merge)
    assert merge.read_text().splitlines()[1].startswith("E1,a@b.org,vvh1-")
    with pytest.raises(StateError, match="refusing to overwrite"):
        hand_out("issuer", [("E1", "")], secrets, None, merge)
