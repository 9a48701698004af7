"""``verivote vote`` without ``--choice`` on a terminal asks for each contest's choices,
asks again after an invalid answer, and takes Enter alone as a blank vote; ``--choice``
items are checked against the manifest."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.test_election_file import GOOD, read
from verivote.cli_vote import _ask
from verivote.errors import ParameterError
from verivote.roles.voter import Election


def test_prompt(tmp_path, monkeypatch, capsys):
    manifest = read(tmp_path, GOOD)
    answers = iter(["3", "1 2", "2", ""])  # no candidate 3; two where one is allowed
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert _ask(SimpleNamespace(manifest=manifest)) == {"leader": ["b"], "rule": []}
    shown = capsys.readouterr().out
    assert shown.count("try again") == 2 and "1. A" in shown and "Rule change?" in shown


def test_choice_options(tmp_path):
    election = Election.__new__(Election)
    election.manifest = read(tmp_path, GOOD)
    assert election.parse_choices(["leader=a", "rule="]) == {"leader": ["a"], "rule": []}
    for bad, message in (
        (["leader"], "expected CONTEST=CANDIDATE"),
        (["leader=a", "leader=b"], "given twice"),
        (["leader=c"], "no candidate 'c'"),
        (["leader=a,b"], "at most 1"),
        (["mayor=a"], "no contest 'mayor'"),
    ):
        with pytest.raises(ParameterError, match=message):
            election.parse_choices(bad)
