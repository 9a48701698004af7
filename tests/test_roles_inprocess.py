"""The roles' operations in one process against a served board: the ceremony step is
re-runnable (a second run posts nothing), a trustee working from files (``--out``) produces
entries that post later, the registrar's import writes a mail-merge file, refuses a second
issue and resumes the posting of the roll, and the organiser's steps say what they await."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from tests.live_board import serving
from verivote.board.log import Board
from verivote.election.manifest import format_time
from verivote.roles import authored, issuer, organiser, registrar, trustee, voter
from verivote.roles.handout import read_credential
from verivote.roles.organiser import NotDue, Organiser
from verivote.roles.transport import Poster, read_board, read_entries
from verivote.signatures import Signer

PW = "pass"


class Clock:
    """The time the board and the roles read, set by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> str:
        return format_time(self.now)

    def move(self, moment: str) -> None:
        self.now = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    for module in (authored, organiser, trustee, voter):
        monkeypatch.setattr(module, "utc_now", c)
    return c


def election(tmp_path, clock):
    tables = [trustee.keygen(tmp_path / f"t{i}", f"T{i}", PW) for i in (1, 2, 3)]
    reg_key = registrar.keygen(tmp_path / "reg", PW)
    iss_key = issuer.keygen(tmp_path / "iss", PW)
    board_signer = Signer.generate()
    (tmp_path / "e.toml").write_text(
        'election_id = "e1"\ntitle = "E"\nthreshold = 2\nmin_category_size = 1\n'
        'categories = ["a", "b"]\nmax_additions = 1\n'
        f'registrar_key = "{reg_key.hex()}"\nboard_key = "{board_signer.public_key.hex()}"\n'
        f'issuer_key = "{iss_key.hex()}"\n'
        '[[contests]]\nid = "c"\ntitle = "C"\nkind = "approval"\nlimit = 2\n'
        'candidates = [{ id = "x", name = "X" }, { id = "y", name = "Y" }]\n' + "".join(tables)
    )
    organiser.init(
        tmp_path / "org", tmp_path / "e.toml", PW, opens="+1h", closes="+1h", now=clock.now
    )
    board = Board(clock, board_signer)
    board.append(read_entries(tmp_path / "org" / organiser.ELECTION_FILE, clock())[0])
    org = Organiser(tmp_path / "org", PW)
    with serving(board) as url:
        said = org.ceremony(url, Poster(url, None))
    assert said[0].startswith("key ceremony run ")
    return board


def test_ceremony_is_rerunnable_and_works_from_files(tmp_path, clock):
    board = election(tmp_path, clock)
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
        Poster(url, None).post(read_entries(tmp_path / "t2.jsonl", clock())[0])
        assert len(board) == before + 1
        t3.ceremony_step(url, Poster(url, None))
        for t in (t1, t2, t3):
            t.ceremony_step(url, Poster(url, None))
        st = read_board(url).state
        assert st.keygen is not None
        assert len(st.keygen.shares) == 6 and not st.keygen.complaints
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
        with pytest.raises(NotDue, match="justifications deadline"):
            org.open(url, Poster(url, None))
        clock.move(org.manifest.opens)
        with pytest.raises(NotDue, match="have not posted the roll"):
            org.open(url, Poster(url, None))
        with pytest.raises(NotDue, match="tally comes after the close"):
            org.tally(url, Poster(url, None))

        reg = registrar.Registrar(tmp_path / "reg", PW)
        (tmp_path / "v.csv").write_text(
            "elector_id,category,weight,email\nV1,a,1,v1@example.org\nV2,b,2,\n"
        )
        merge = tmp_path / "merge.csv"
        said = reg.import_electors(url, tmp_path / "v.csv", Poster(url, None), mail_merge=merge)
        assert said[0].startswith("2 registrar halves issued")
        assert said[1] == "roll: 1 part(s) posted, 1 in all"
        rows = list(csv.DictReader(merge.open()))
        assert [r["elector_id"] for r in rows] == ["V1", "V2"] and rows[0]["email"]
        assert merge.stat().st_mode & 0o777 == 0o600
        assert b"vvh1-" not in (tmp_path / "reg" / registrar.ELECTORS_FILE).read_bytes()
        # a second import issues nothing and posts nothing new
        again_said = reg.import_electors(url, tmp_path / "v.csv", Poster(url, None))
        assert again_said == ["2 electors imported already", "roll: 0 part(s) posted, 1 in all"]
        with pytest.raises(NotDue, match="lack the registrar's or the issuer's half"):
            org.open(url, Poster(url, None))
        # the issuer hands out the second halves, to files
        iss = issuer.Issuer(tmp_path / "iss", PW)
        slots = tmp_path / "reg" / registrar.SLOTS_FILE
        said = iss.import_electors(url, slots, Poster(url, None), credentials_dir=tmp_path / "c")
        assert said == ["2 issuer halves issued", "issuer halves: 1 part(s) posted, 1 in all"]
        roll = read_board(url).state.roll
        for r in rows:
            half = tmp_path / "r.txt"
            half.write_text(r["credential"] + "\n")
            mine = tmp_path / "c" / f"{r['elector_id']}.issuer.credential"
            assert read_credential([half, mine]).public_key in roll.records
        assert b"vvh1-" not in (tmp_path / "iss" / issuer.ELECTORS_FILE).read_bytes()
        # each party kept its copy and the receipt of what it posted
        for sd in (reg.sd, iss.sd):
            assert len(authored.posted(sd)) == 1
            kind, index, text = sd.file(authored.RECEIPTS_FILE).read_text().split()
            assert text.startswith("vvr1:") and board.entry(int(index)).type == kind

        assert org.open(url, Poster(url, None)) == [
            "joint key of trustees [1, 2, 3] posted",
            "opened with 2 electors on the roll",
        ]
        assert org.open(url, Poster(url, None)) == ["the election is open already (phase voting)"]
        with pytest.raises(NotDue, match="no seal from the registrar and the issuer"):
            org.close(url, Poster(url, None))
        with pytest.raises(NotDue, match="no tally"):
            t1.decrypt(url, Poster(url, None))
        said = reg.seal(url, Poster(url, None))
        assert said[0].startswith("registrar seal posted: 1 entries")
        assert reg.seal(url, Poster(url, None)) == ["the registrar has sealed already"]
        iss.seal(url, Poster(url, None))
        with pytest.raises(NotDue, match="voting closes at"):
            org.close(url, Poster(url, None))
        clock.move(org.manifest.closes)
        assert org.close(url, Poster(url, None))[0].startswith("closed: 0 ballots")


def test_a_suppressed_entry_is_found_before_sealing(tmp_path, clock):
    """The registrar's copies hold an entry the board never published: it refuses to seal
    and says which."""
    board = election(tmp_path, clock)
    with serving(board) as url:
        reg = registrar.Registrar(tmp_path / "reg", PW)
        (tmp_path / "v.csv").write_text("elector_id,category,weight\nV1,a,1\nV2,a,1\n")
        reg.import_electors(url, tmp_path / "v.csv", Poster(url, None), credentials_dir=tmp_path)
        # the registrar signs a revocation that the board drops (here: kept only in the copy)
        dropped = Poster(None, tmp_path / "dropped.jsonl")
        reg._post(read_board(url).manifest, dropped, "amend", {"action": "revoke"})
        with pytest.raises(authored.MissingEntry, match="amend entry number 2 is not on the"):
            reg.seal(url, Poster(url, None))


def test_a_bad_share_is_complained_of_and_justified(tmp_path, clock):
    from verivote.election import ceremony
    from verivote.election.entries import sign_entry
    from verivote.roles.organiser import joint_key_body
    from verivote.roles.trustee import combined_share

    board = election(tmp_path, clock)
    with serving(board) as url:
        t1, t2, t3 = (trustee.Trustee(tmp_path / f"t{i}", PW) for i in (1, 2, 3))
        for t in (t1, t2, t3):
            t.ceremony_step(url, Poster(url, None))
        m = read_board(url).manifest
        s1, s2, s3 = (t.secrets(m, create=False) for t in (t1, t2, t3))
        # trustee 1 sends trustee 2 a wrong share
        wrong = ceremony._encrypt_share(s1, m, 2, s1.evaluate(2) + 1, None)
        run = read_board(url).state.schedule.run.hex()
        wrong = {**wrong, "run": run}
        board.append(sign_entry(t1.signer, m.fingerprint, "share", wrong, clock()))
        assert "trustee 1: share sent to trustee 3" in t1.ceremony_step(url, Poster(url, None))
        said = t2.ceremony_step(url, Poster(url, None))
        assert "trustee 2: complained about trustee 1's share" in said
        said = t1.ceremony_step(url, Poster(url, None))
        assert "trustee 1: justified the share complained of by trustee 2" in said
        for t in (t1, t2, t3):
            t.ceremony_step(url, Poster(url, None))
        view = read_board(url)
        assert view.state.keygen is not None and view.state.keygen.justified == {(1, 2)}
        assert len([e for e in view.entries if e.type == "complaint"]) == 1
        assert joint_key_body(view)["qualified"] == [1, 2, 3]
        org = Organiser(tmp_path / "org", PW)
        clock.move(org.manifest.opens)
        board.append(org._sign("joint_key", joint_key_body(view)))
        view = read_board(url)
        # trustee 2's share of the key uses the revealed value, not the wrong one it received
        expected = s1.evaluate(2) + s2.evaluate(2) + s3.evaluate(2)
        assert combined_share(view, s2) == expected


def test_the_issuer_completes_only_the_slot_it_is_sure_of():
    """An added elector's issuer half goes to the next slot the registrar filled; when
    several wait, the issuer must be told which (else two electors' halves could pair)."""
    from verivote.roles.issuer import awaited_slot

    assert awaited_slot(5, 4, None) == 4
    assert awaited_slot(5, 4, 4) == 4
    assert awaited_slot(7, 4, 4) == 4
    with pytest.raises(ValueError, match=r"3 slots await the issuer's half \(4 to 6\): say which"):
        awaited_slot(7, 4, None)
    with pytest.raises(ValueError, match="slot 5 is not the next to complete: slot 4 is"):
        awaited_slot(7, 4, 5)
    with pytest.raises(ValueError, match="slot 3 is not the next"):
        awaited_slot(5, 4, 3)
    with pytest.raises(NotDue, match="no slot awaits the issuer's half"):
        awaited_slot(4, 4, None)
