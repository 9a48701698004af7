"""Every tamper of the catalogue against the independent verifier: each one is caught by
the check that guards what it changed (or is a documented limit the verifier accepts), the
report names it, and no Python exception escapes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from verivote import cli
from verivote.verify.record import CHECKS, Report, verify_record

from .catalogue import CASES, Case, write_corpus
from .forge import BaseRecord, Forge, build_base
from .ranked_catalogue import RANKED_CASES

GROUPS = ("ed25519", "modp4096", "ristretto255")
# ristretto255 has no element of small order to add to a commitment: that case cannot be
# built there (an encoding of no element, the nearest thing, is ciphertext-outside-subgroup).
NOT_IN_RISTRETTO = {"range-commitment-torsion"}


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], BaseRecord]:
    """The valid record of each group, built once per session when first asked for."""
    built: dict[str, BaseRecord] = {}

    def get(group: str) -> BaseRecord:
        if group not in built:
            built[group] = build_base(group, tmp_path_factory.mktemp(f"base-{group}"))
        return built[group]

    return get


def _params() -> Iterator[object]:
    for c in CASES:
        yield pytest.param("ed25519", c, id=f"ed25519-{c.name}")
        if c.modp:
            yield pytest.param("modp4096", c, id=f"modp4096-{c.name}")
            if c.name not in NOT_IN_RISTRETTO:
                yield pytest.param("ristretto255", c, id=f"ristretto255-{c.name}")


def verify(c: Case, record: BaseRecord, directory: Path) -> tuple[Report, int | None]:
    forged, index = c.forge(record)
    forged.write(directory)
    return verify_record(directory), index  # any exception here fails the test


def _table(report: Report) -> list[tuple[int, str, str]]:
    return [(f.index, f.type, f.check) for f in report.failures]


@pytest.mark.parametrize("group", GROUPS)
def test_base_record_is_valid(group, base, tmp_path):
    report = verify_record(Forge(base(group), ()).write(tmp_path))
    assert report.valid, _table(report)
    assert report.result is not None and report.result["missing"] == [3, 4]
    assert report.by_type["complaint"] == 2 and report.by_type["justification"] == 1
    assert report.by_type["audit"] == 1 and report.by_type["amend"] == 3


@pytest.mark.parametrize(("group", "case"), list(_params()))
def test_tamper_is_caught(group, case, base, tmp_path):
    report, index = verify(case, base(group), tmp_path)
    failures = _table(report)
    expect = case.expected(group)
    if expect is None:  # a documented limit: every rule holds
        assert report.valid, failures
        return
    assert not report.valid
    assert expect in [f.check for f in report.failures], failures
    for f in report.failures:
        assert isinstance(f.reason, str) and f.reason, f
    if case.first:
        first = report.failures[0]
        assert first.check == expect, failures
        if index is not None:
            assert first.index == index, failures
        if case.at is not None:
            assert first.type == case.at, failures


def test_catalogue_shape():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names repeat"
    assert len(CASES) >= 25
    assert sum(c.modp for c in CASES) >= 8
    for c in CASES:
        assert c.description and c.description[0].isupper(), c.name
        if c.expect is None:
            assert "limit" in c.note, f"{c.name}: an accepted tamper must say why"
        assert not c.keys or "board" in c.keys, f"{c.name}: the adversary is the operator"


def test_catalogue_covers_every_entry_check():
    """Each check the verifier lists for an entry type is what catches some case."""
    expected = {c.expected(group) for c in CASES + RANKED_CASES for group in GROUPS}
    missing = {check for checks in CHECKS.values() for check in checks} - expected
    assert not missing, f"no tamper case is caught by {sorted(missing)}"
    for general in ("entry.decode", "entry.order", "entry.time", "record.complete"):
        assert general in expected
    for log in (
        "log.heads",
        "log.decode",
        "log.election",
        "log.signature",
        "log.order",
        "log.time",
    ):
        assert log in expected
    assert {"log.root", "log.complete"} <= expected


def test_cli_exit_codes(base, tmp_path, capsys):
    record = base("ed25519")
    valid = Forge(record, ()).write(tmp_path / "valid")
    assert cli.main(["verify", str(valid)]) == 0
    assert "VALID" in capsys.readouterr().out

    (tampered,) = [c for c in CASES if c.name == "tally-multiplied"]
    forged, _ = tampered.forge(record)
    directory = forged.write(tmp_path / "tampered")
    assert cli.main(["verify", str(directory)]) == 1
    assert "tally.recompute" in capsys.readouterr().out
    assert cli.main(["verify", "--json", str(directory)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["failures"][0]["check"] == "tally.recompute"

    assert cli.main(["verify", str(tmp_path / "no-such-record")]) == 2
    (tmp_path / "empty").mkdir()
    assert cli.main(["verify", str(tmp_path / "empty")]) == 2
    capsys.readouterr()


@pytest.mark.parametrize(
    "name", ["ballot-duplicated", "selection-proof-flipped", "revotes-swapped"]
)
def test_parallel_verifier_names_the_same_failures(name, base, tmp_path):
    (c,) = [c for c in CASES if c.name == name]
    forged, _ = c.forge(base("ed25519"))
    directory = forged.write(tmp_path)
    assert _table(verify_record(directory, jobs=2)) == _table(verify_record(directory))


def test_corpus_is_written(base, tmp_path):
    cases = [c for c in CASES if c.name in ("heads-missing", "ballots-swapped", "tally-twice")]
    write_corpus(tmp_path, base("ed25519"), cases)
    for c in cases:
        expect = json.loads((tmp_path / c.name / "expect.json").read_text())
        assert expect["check"] == c.expect and expect["valid"] == (c.expect is None)
        assert (tmp_path / c.name / "board.jsonl").is_file()
    assert not (tmp_path / "heads-missing" / "heads.jsonl").exists()
