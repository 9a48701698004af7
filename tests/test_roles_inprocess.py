"""The roles' operations in one process against a served board: the ceremony step is
re-runnable (a second run posts nothing), a trustee working from files (``--out``) produces
entries that post later, the registrar's import writes a mail-merge file, refuses a second
issue and resumes the posting of the roll, and the organiser's steps say what they await."""

from __future__ import annotations

import csv

import pytest

from tests.live_board import serving
from verivote.board.log import Board
from verivote.election.roll import credential_from_text
from verivote.roles import organiser, registrar, trustee
from verivote.roles.board_operator import utc_now
from verivote.roles.organiser import NotDue, Organiser
from verivote.roles.transport import Poster, read_board, read_entries
from verivote.signatures import Signer

PW = "pass"


def election(tmp_path):
    tables = [trustee.keygen(tmp_path / f"t{i}", f"T{i}", PW) for i in (1, 2, 3)]
    reg_key = registrar.keygen(tmp_path / "reg", PW)
    board_signer = Signer.generate()
    (tmp_path / "e.toml").write_text(
        'election_id = "e1"\ntitle = "E"\nthreshold = 2\nmin_category_size = 1\n'
        'categories = ["a", "b"]\n'
        f'registrar_key = "{reg_key.hex()}"\nboard_key = "{board_signer.public_key.hex()}"\n'
        '[[contests]]\nid = "c"\ntitle = "C"\nkind = "approval"\nlimit = 2\n'
        'candidates = [{ id = "x", name = "X" }, { id = "y", name = "Y" }]\n' + "".join(tables)
    )
    organiser.init(tmp_path / "org", tmp_path / "e.toml", PW, opens="now", closes="+1h")
    board = Board(utc_now, board_signer)
    board.append(read_entries(tmp_path / "org" / organiser.ELECTION_FILE, utc_now())[0])
    return board


def test_ceremony_is_rerunnable_and_works_from_files(tmp_path):
    board = election(tmp_path)
    with serving(board) as url:
        t1, t2, t3 = (trustee.Trustee(tmp_path / f"t{i}", PW) for i in (1, 2, 3))
        said = t1.ceremony_step(url, Poster(url, None))
        assert said == [
            "trustee 1: announced",
            "trustee 1: waiting for trustees [2, 3] to announce",
        ]
        assert t1.ceremony_step(url, Poster(url, None)) == [
            "trustee 1: waiting for trustees [2, 3] to announce"
        ]
        # trustee 2 works from files: what it writes is posted later
        offline = Poster(None, tmp_path / "t2.jsonl")
        said = t2.ceremony_step(url, offline)
        assert said == ["trustee 2: announced", "trustee 2: waiting for the board"]
        offline.finish()
        before = len(board)
        Poster(url, None).post(read_entries(tmp_path / "t2.jsonl", utc_now())[0])
        assert len(board) == before + 1
        t3.ceremony_step(url, Poster(url, None))
        for t in (t1, t2, t3):
            t.ceremony_step(url, Poster(url, None))
        st = read_board(url).state
        assert len(st.shares) == 6 and not st.complaints
        count = len(board)
        for t in (t1, t2, t3):
            t.ceremony_step(url, Poster(url, None))
        assert len(board) == count  # nothing more was due
        # a trustee's polynomial survives in its (encrypted) state directory
        again = trustee.Trustee(tmp_path / "t1", PW)
        secrets = again.secrets(read_board(url).manifest, create=False)
        assert (
            secrets is not None
            and secrets.coefficients
            == t1.secrets(read_board(url).manifest, create=False).coefficients
        )

        org = Organiser(tmp_path / "org", PW)
        with pytest.raises(NotDue, match="registrar has not posted the roll"):
            org.open(url, Poster(url, None))
        with pytest.raises(NotDue, match="tally comes after the close"):
            org.tally(url, Poster(url, None))

        reg = registrar.Registrar(tmp_path / "reg", PW)
        (tmp_path / "v.csv").write_text(
            "elector_id,category,weight,email\nV1,a,1,v1@example.org\nV2,b,2,\n"
        )
        merge = tmp_path / "merge.csv"
        said = reg.import_electors(url, tmp_path / "v.csv", Poster(url, None), mail_merge=merge)
        assert said == ["2 credentials issued", "roll: 1 part(s) posted, 1 in all"]
        rows = list(csv.DictReader(merge.open()))
        assert [r["elector_id"] for r in rows] == ["V1", "V2"] and rows[0]["email"]
        assert merge.stat().st_mode & 0o777 == 0o600
        roll = read_board(url).state.roll
        for r in rows:
            assert credential_from_text(r["credential"]).public_key in roll.records
        assert b"vv1-" not in (tmp_path / "reg" / registrar.ELECTORS_FILE).read_bytes()
        # a second import issues nothing and posts nothing new
        again_said = reg.import_electors(url, tmp_path / "v.csv", Poster(url, None))
        assert again_said == ["2 electors imported already", "roll: 0 part(s) posted, 1 in all"]

        assert org.open(url, Poster(url, None)) == [
            "joint key of trustees [1, 2, 3] posted",
            "opened with 2 electors on the roll",
        ]
        assert org.open(url, Poster(url, None)) == ["the election is open already (phase voting)"]
        with pytest.raises(NotDue, match="voting closes at"):
            org.close(url, Poster(url, None))
        with pytest.raises(NotDue, match="no tally"):
            t1.decrypt(url, Poster(url, None))


def test_a_bad_share_is_complained_of_and_justified(tmp_path):
    from verivote.election import ceremony
    from verivote.election.entries import sign_entry
    from verivote.roles.organiser import joint_key_body
    from verivote.roles.trustee import combined_share

    board = election(tmp_path)
    with serving(board) as url:
        t1, t2, t3 = (trustee.Trustee(tmp_path / f"t{i}", PW) for i in (1, 2, 3))
        for t in (t1, t2, t3):
            t.ceremony_step(url, Poster(url, None))
        m = read_board(url).manifest
        s1, s2, s3 = (t.secrets(m, create=False) for t in (t1, t2, t3))
        # trustee 1 sends trustee 2 a wrong share
        wrong = ceremony._encrypt_share(s1, m, 2, s1.evaluate(2) + 1, None)
        board.append(sign_entry(t1.signer, m.fingerprint, "share", wrong, utc_now()))
        assert "trustee 1: share sent to trustee 3" in t1.ceremony_step(url, Poster(url, None))
        said = t2.ceremony_step(url, Poster(url, None))
        assert "trustee 2: complained about trustee 1's share" in said
        said = t1.ceremony_step(url, Poster(url, None))
        assert "trustee 1: justified the share complained of by trustee 2" in said
        for t in (t1, t2, t3):
            t.ceremony_step(url, Poster(url, None))
        view = read_board(url)
        assert view.state.justified == {(1, 2)}
        assert len([e for e in view.entries if e.type == "complaint"]) == 1
        assert joint_key_body(view)["qualified"] == [1, 2, 3]
        org = Organiser(tmp_path / "org", PW)
        board.append(org._sign("joint_key", joint_key_body(view)))
        view = read_board(url)
        # trustee 2's share of the key uses the revealed value, not the wrong one it received
        expected = s1.evaluate(2) + s2.evaluate(2) + s3.evaluate(2)
        assert combined_share(view, s2) == expected
