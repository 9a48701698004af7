"""The three Glasgow City Council wards of 2007: every statutory figure in expected.json."""

from __future__ import annotations

import json
import time

import pytest
from count_data import stv_data

from verivote.count import SCALE, read_blt, scottish_stv, votes_text

WARDS = ["Govan-2007", "Hillhead-2007", "Partick-West-2007"]


@pytest.fixture(scope="module")
def expected():
    return json.loads((stv_data() / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reports():
    data = stv_data()
    return {ward: scottish_stv(read_blt(data / f"{ward}.blt")) for ward in WARDS}


def test_the_data_holds_the_three_wards(expected):
    assert sorted(expected) == WARDS


@pytest.mark.parametrize("ward", WARDS)
def test_ward_reproduces_every_statutory_figure(ward, expected, reports):
    want, report = expected[ward], reports[ward]
    names = report.names
    assert report.seats == want["seats"]
    assert report.valid_ballots == want["valid_ballots"]
    assert votes_text(report.quota) == want["quota"]
    assert names(report.excluded) == want["excluded_in_order"]
    surplus_order = [c for c in report.elected if c not in report.elected_at_end]
    assert names(tuple(surplus_order)) == want["elected_with_surplus_in_order"]
    # expected.json lists these two sets alphabetically, not in order of election
    assert sorted(names(report.elected_at_end)) == sorted(want["elected_at_end"])
    assert sorted(names(report.elected)) == sorted(want["elected"])
    assert report.final_votes() == want["final_votes_of_elected"]
    losers = [c for c in report.candidates if c not in names(report.elected)]
    assert sorted(set(losers) - set(names(report.excluded))) == sorted(want["not_elected_at_end"])
    assert report.lots == ()


@pytest.mark.parametrize("ward", WARDS)
def test_ward_stages_conserve_the_votes(ward, reports):
    report = reports[ward]
    for stage in report.stages:
        total = sum(stage.votes) + stage.non_transferable + stage.loss
        assert total == report.valid_ballots * SCALE, stage.number
    # the last stage transferred the last excluded candidate's papers (the README's
    # first convention): that candidate has no votes left
    assert report.stages[-1].action == "exclusion"
    assert report.stages[-1].votes[report.excluded[-1]] == 0


def test_govan_stage_figures(reports):
    # spot checks of one ward's stage table: Allison Hunter's surplus of 781 votes over
    # 2694 papers goes at 0.28990 each (781 / 2694 = 0.2899035…, truncated)
    report = reports["Govan-2007"]
    hunter = report.candidates.index("Allison Hunter")
    first, second = report.stages[0], report.stages[1]
    assert first.votes[hunter] == 2694 * SCALE
    assert (second.action, second.candidate) == ("surplus", hunter)
    assert second.votes[hunter] == 1913 * SCALE
    moved = sum(second.votes) - sum(first.votes) + 781 * SCALE
    assert moved + second.non_transferable + second.loss == 781 * SCALE
    # each paper went at 0.28990, so the loss is what 2694 papers lose: 781 - 2694 × 0.28990
    assert second.loss == 781 * SCALE - 2694 * 28990


def test_a_ward_counts_in_well_under_a_second():
    data = stv_data()
    profile = read_blt(data / "Partick-West-2007.blt")
    best = min(_timed(lambda: scottish_stv(profile)) for _ in range(3))
    assert best < 1.0, f"{best:.3f} s"


def _timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start
