"""``verivote count``: the JSON shape, the text table, exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest
from count_data import stv_data

from verivote.cli import main

SMALL = '4 2\n4 1 2 0\n3 1 3 0\n2 2 0\n2 3 2 0\n1 4 0\n0\n"A"\n"B"\n"C"\n"D"\n"Small"\n'
TIED = '3 1\n3 1 0\n3 2 0\n5 3 0\n0\n"A"\n"B"\n"C"\n'


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.blt"
    path.write_text(SMALL, encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(["count", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_shape(capsys, small):
    code, out, err = run(capsys, small, "--rule", "scottish-stv", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["rule"] == "scottish-stv" and data["seats"] == 2
    assert data["valid_ballots"] == 12 and data["quota"] == "5.00000"
    assert data["elected"] == ["A", "B"] and data["excluded"] == ["D", "C"]
    assert [s["action"] for s in data["stages"]] == [
        "first-preferences",
        "surplus",
        "exclusion",
        "exclusion",
    ]
    for stage in data["stages"]:
        assert set(stage) >= {"action", "votes", "non_transferable"}
        assert set(stage["votes"]) == {"A", "B", "C", "D"}
        for amount in [*stage["votes"].values(), stage["non_transferable"]]:
            whole, frac = amount.split(".")
            assert whole.isdigit() and len(frac) == 5 and frac.isdigit()
    assert data["stages"][-1]["votes"]["B"] == "5.14284"
    assert data["stages"][-1]["non_transferable"] == "1.85713"


def test_text_table(capsys, small):
    code, out, _ = run(capsys, small, "--rule", "scottish-stv")
    assert code == 0
    assert "quota 5.00000" in out and "surplus of A" in out and "exclusion of D" in out
    assert "elected   B (at the end, stage 4)" in out
    row = next(line for line in out.splitlines() if line.startswith("B "))
    assert row.split()[1:] == ["2.00000", "3.14284", "3.14284", "5.14284"]


@pytest.mark.parametrize(
    ("rule", "seats", "elected"),
    [("av", "1", ["A"]), ("plurality", "1", ["A"]), ("approval", "2", ["B", "A"])],
)
def test_other_rules(capsys, small, rule, seats, elected):
    # A has 7 first preferences of 12; B is ranked on 8 ballots, A on 7
    code, out, _ = run(capsys, small, "--rule", rule, "--json", "--seats", seats)
    assert code == 0
    assert json.loads(out)["elected"] == elected


def test_seed_decides_a_lot_and_is_reported(capsys, tmp_path):
    path = tmp_path / "tied.blt"
    path.write_text(TIED, encoding="utf-8")
    drawn = set()
    for seed in ("00", "01", "02", "03", "04", "05", "06", "07"):
        code, out, _ = run(capsys, path, "--rule", "av", "--json", "--seed", seed)
        assert code == 0
        data = json.loads(out)
        assert data["seed"] == seed
        (lot,) = data["lots"]
        assert lot["tied"] == ["A", "B"] and data["excluded"][0] == lot["order"][0]
        drawn.add(lot["order"][0])
    assert drawn == {"A", "B"}
    code, out, _ = run(capsys, path, "--rule", "av", "--seed", "00")
    assert "lot       stage 1, exclusion: A, B drawn as" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "scottish-stv", "--seed", "xyz"], "--seed must be hex"),
        (["--rule", "scottish-stv", "--seats", "0"], "--seats must be at least 1"),
        (["--rule", "av", "--seats", "2"], "fills one seat"),
    ],
)
def test_usage_errors_exit_2(capsys, small, args, message):
    code, out, err = run(capsys, small, *args)
    assert code == 2 and out == ""
    assert err.startswith("verivote count: ") and message in err
    assert err.count("\n") == 1


def test_unreadable_and_malformed_files_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path / "missing.blt", "--rule", "av")
    assert code == 2 and "cannot read" in err and err.count("\n") == 1
    bad = tmp_path / "bad.blt"
    bad.write_text('2 1\n1 1 3 0\n0\n"A"\n"B"\n', encoding="utf-8")
    code, _, err = run(capsys, bad, "--rule", "av")
    assert code == 2 and err.count("\n") == 1
    assert "line 2: preference 3 is not a candidate" in err


def test_unknown_rule_is_a_usage_error(capsys, small):
    with pytest.raises(SystemExit) as info:
        main(["count", str(small), "--rule", "meek"])
    assert info.value.code == 2


def test_glasgow_json_matches_the_statutory_figures(capsys):
    data = stv_data()
    expected = json.loads((data / "expected.json").read_text(encoding="utf-8"))["Govan-2007"]
    code, out, _ = run(capsys, data / "Govan-2007.blt", "--rule", "scottish-stv", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["quota"] == expected["quota"]
    assert report["valid_ballots"] == expected["valid_ballots"]
    assert report["excluded"] == expected["excluded_in_order"]
    final = report["stages"][-1]["votes"]
    assert {n: final[n] for n in report["elected"]} == expected["final_votes_of_elected"]


def test_withdrawn_and_invalid_are_shown(capsys, tmp_path):
    path = tmp_path / "w.blt"
    path.write_text('3 1\n-2\n2 1 0\n1 2 0\n1 2 3 0\n1 0\n0\n"A"\n"B"\n"C"\n', "utf-8")
    code, out, _ = run(capsys, path, "--rule", "av")
    assert code == 0
    assert "withdrawn: B" in out
    assert "3 valid ballot(s), 2 invalid (empty 1, only-withdrawn 1)" in out
    code, out, _ = run(capsys, path, "--rule", "av", "--json")
    data = json.loads(out)
    assert data["invalid_ballots"] == {"empty": 1, "only-withdrawn": 1}
    assert data["withdrawn"] == ["B"] and data["elected"] == ["A"]
