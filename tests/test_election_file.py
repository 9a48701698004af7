"""The organiser's election file (TOML) and the registrar's electors' CSV: a good file gives
the manifest (or the rows); every mistake is named by its line and field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from verivote.roles.election_file import ElectionFileError, read_election_file
from verivote.roles.registrar import ElectorFileError, read_electors

NOW = datetime(2026, 9, 1, 9, 0, 0, tzinfo=UTC)
KEY = "ab" * 32
ORGANISER = bytes(32)

GOOD = f"""\
election_id = "leadership-2026"
title = "Leadership"
opens = 2026-09-01T10:00:00Z
closes = "2026-09-02T10:00:00Z"
threshold = 2
categories = ["members", "supporters"]
max_additions = 3
registrar_key = "{KEY}"
issuer_key = "{"ef" * 32}"
board_key = "{"12" * 32}"

[[contests]]
id = "leader"
title = "Leader"
kind = "plurality"
candidates = [{{ id = "a", name = "A" }}, {{ id = "b", name = "B" }}]

[[contests]]
id = "rule"
title = "Rule change?"
kind = "referendum"
candidates = [{{ id = "yes", name = "Yes" }}, {{ id = "no", name = "No" }}]

[[trustees]]
name = "T1"
sign_key = "{KEY}"
box_key = "{KEY}"

[[trustees]]
name = "T2"
sign_key = "{"cd" * 32}"
box_key = "{"cd" * 32}"
"""


def read(tmp_path, text, **kw):
    path = tmp_path / "election.toml"
    path.write_text(text)
    return read_election_file(path, ORGANISER, now=NOW, **kw)


def test_good_file(tmp_path):
    m = read(tmp_path, GOOD)
    assert m.election_id == "leadership-2026"
    assert (m.opens, m.closes) == ("2026-09-01T10:00:00Z", "2026-09-02T10:00:00Z")
    assert m.issuer_key == bytes.fromhex("ef" * 32) and m.max_additions == 3
    assert [c.limit for c in m.contests] == [1, 1]
    assert [t.index for t in m.trustees] == [1, 2] and m.min_category_size == 10
    assert m.board_key == bytes.fromhex("12" * 32)


def test_relative_times(tmp_path):
    m = read(tmp_path, GOOD, opens="now", closes="+10m")
    assert (m.opens, m.closes) == ("2026-09-01T09:00:00Z", "2026-09-01T09:10:00Z")
    m = read(tmp_path, GOOD, opens="+1d", closes="+2h")
    assert (m.opens, m.closes) == ("2026-09-02T09:00:00Z", "2026-09-02T11:00:00Z")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('kind = "plurality"', 'kind = "borda"', ":15: contests[0].kind: 'borda' is not one of"),
        ('title = "Leader"', "", ": contests[0].title: missing"),
        ("threshold = 2", "threshold = 3", ":5: threshold: need 1 <= threshold <= trustees"),
        ("threshold = 2", 'threshold = "2"', ":5: threshold: expected an integer"),
        ('"supporters"]', '"Supporters"]', ":6: categories[1]: category: 'Supporters' is not"),
        ('board_key = "' + "12" * 32 + '"', 'board_key = "abcd"', ":10: board_key: a key is 32"),
        ("opens = 2026-09-01T10:00:00Z", "opens = 2026-09-01T10:00:00", ":3: opens: give the time"),
        ('closes = "2026-09-02T10:00:00Z"', 'closes = "tomorrow"', ":4: closes: 'tomorrow' is not"),
        ('closes = "2026-09-02T10:00:00Z"', 'closes = "2026-08-02T10:00:00Z"', ":4: closes:"),
        ('name = "T2"', 'name = "T2"\nrole = "x"', ": trustees[1].role: unknown field"),
        ('sign_key = "' + "cd" * 32, 'sign_key = "zz' + "cd" * 31, ":31: trustees[1].sign_key:"),
        ('{ id = "b", name = "B" }', '{ id = "B", name = "B" }', ":12: contests[0]: contest"),
        ("threshold = 2", "threshold = 2\nquorum = 5", ":6: quorum: unknown field"),
    ],
)
def test_each_error_names_line_and_field(tmp_path, old, new, where):
    assert old in GOOD
    with pytest.raises(ElectionFileError) as err:
        read(tmp_path, GOOD.replace(old, new, 1))
    assert where in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "election.toml"))


def test_not_toml_names_the_line(tmp_path):
    with pytest.raises(ElectionFileError, match=r"not TOML: .*line 3"):
        read(tmp_path, 'election_id = "x"\ntitle = "t"\nthreshold = = 2\n')


def test_electors_csv(tmp_path):
    path = tmp_path / "voters.csv"
    path.write_text(
        "elector_id,category,weight,email\nM1,members,1,a@example.org\nS1,supporters,3,\n"
    )
    rows = read_electors(path, ("members", "supporters"))
    assert [(r.elector_id, r.category, r.weight, r.email) for r in rows] == [
        ("M1", "members", 1, "a@example.org"),
        ("S1", "supporters", 3, ""),
    ]


def test_electors_csv_names_every_bad_line(tmp_path):
    path = tmp_path / "voters.csv"
    path.write_text(
        "elector_id,category,weight\n"
        "M1,members,1\n"
        "M1,members,1\n"
        "M2,friends,1\n"
        "M3,members,0\n"
        "M 4,members,1\n"
        "M5,members,1,extra\n"
    )
    with pytest.raises(ElectorFileError) as err:
        read_electors(path, ("members",))
    lines = str(err.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:{n}" for n in (3, 4, 5, 6, 7)]
    assert "repeats line 2" in lines[0] and "'friends' is not one of members" in lines[1]
    assert "weight '0'" in lines[2] and "elector_id 'M 4'" in lines[3]
    assert "more cells than columns" in lines[4]


def test_electors_csv_header(tmp_path):
    path = tmp_path / "voters.csv"
    path.write_text("id,category,weight\nM1,members,1\n")
    with pytest.raises(ElectorFileError, match=r":1: the header must name .* missing elector_id"):
        read_electors(path, ("members",))


def test_issuer_key_is_required_and_distinct(tmp_path):
    without = "\n".join(line for line in GOOD.splitlines() if not line.startswith("issuer_key"))
    with pytest.raises(ElectionFileError, match="issuer_key: missing"):
        read(tmp_path, without + "\n")
    same = GOOD.replace(f'issuer_key = "{"ef" * 32}"', f'issuer_key = "{KEY}"')
    with pytest.raises(ElectionFileError, match="keys must differ"):
        read(tmp_path, same)


def test_max_additions_defaults_to_zero_and_must_be_an_integer(tmp_path):
    without = GOOD.replace("max_additions = 3\n", "")
    assert read(tmp_path, without).max_additions == 0
    with pytest.raises(ElectionFileError, match="max_additions: expected an integer"):
        read(tmp_path, GOOD.replace("max_additions = 3", 'max_additions = "3"'))
