"""``verivote verify --jobs N`` (N ≥ 2): chunks of the log read and checked on a pool of
worker processes (:class:`PoolChunks`) give the local verifier's report, failures
included; a tampered record index, or a worker that cannot read the record, stops the run
with a clear error."""

from __future__ import annotations

import dataclasses
import json

import pytest

from verivote import cli
from verivote.encoding import dumps, loads
from verivote.verify.chunked import verify_chunked
from verivote.verify.index import INDEX_FILE, IndexMismatch, write_index
from verivote.verify.pool_chunks import PoolChunks
from verivote.verify.record import MAX_LINE, verify_record

from .catalogue import CASES
from .forge import Forge, build_base
from .test_chunked import ROLL_AHEAD

# What the workers decide (a false proof, a ballot signed by another credential), what
# the reduction decides after them (a ballot repeated, re-votes re-ordered, a revoked
# credential, a ballot after the close), a roll broken in the setup, and a line changed
# under the signed heads (the Merkle root from the chunks).
NAMES = (
    "selection-proof-flipped",
    "ballot-replayed-to-credential",
    "ballot-duplicated",
    "revotes-swapped",
    "ballot-revoked-credential",
    "ballot-after-closing",
    "roll-credential-twice",
    "entry-retimed-naive",
    *ROLL_AHEAD,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base("ed25519", tmp_path_factory.mktemp("pool-base"))


def _pool_report(directory, every=4):
    return verify_chunked(directory, PoolChunks(2), every).to_dict()


def test_valid_record_same_report(base, tmp_path):
    directory = Forge(base, ()).write(tmp_path)
    local = verify_record(directory).to_dict()
    assert local["valid"]
    assert _pool_report(directory) == local
    write_index(directory, 8, MAX_LINE)
    assert verify_chunked(directory, PoolChunks(3)).to_dict() == local


@pytest.mark.parametrize("name", NAMES)
def test_tampered_record_same_report(name, base, tmp_path):
    (case,) = [c for c in CASES if c.name == name]
    forged, _ = case.forge(base)
    directory = forged.write(tmp_path)
    local = verify_record(directory).to_dict()
    assert not local["valid"]
    assert _pool_report(directory) == local


def test_tampered_index_stops_the_run(base, tmp_path):
    directory = Forge(base, ()).write(tmp_path)
    write_index(directory, 4, MAX_LINE)
    lines = [loads(line) for line in (directory / INDEX_FILE).read_bytes().splitlines()]
    lines[3]["offset"] += 1  # a checkpoint in the middle of a line: the workers find it
    (directory / INDEX_FILE).write_bytes(b"".join(dumps(x) + b"\n" for x in lines))
    with pytest.raises(IndexMismatch, match="chunk 1 "):
        _pool_report(directory)


def test_cli_jobs_same_json_as_one_process(base, tmp_path, capsys):
    (case,) = [c for c in CASES if c.name == "ballot-duplicated"]
    forged, _ = case.forge(base)
    directory = forged.write(tmp_path)
    assert cli.main(["verify", str(directory), "--json"]) == 1
    one = json.loads(capsys.readouterr().out)
    assert cli.main(["verify", str(directory), "--json", "--jobs", "2"]) == 1
    assert json.loads(capsys.readouterr().out) == one


def test_cli_jobs_unreadable_record_exit_2(base, tmp_path, capsys, monkeypatch):
    """A worker that cannot read the record: exit 2 and one line, no traceback."""
    directory = Forge(base, ()).write(tmp_path)
    real = PoolChunks.start

    def elsewhere(self, setup):
        real(self, dataclasses.replace(setup, path=str(tmp_path / "nowhere")))

    monkeypatch.setattr(PoolChunks, "start", elsewhere)
    assert cli.main(["verify", str(directory), "--json", "--jobs", "2"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is None and "nowhere" in out["error"]


def test_jobs_below_one_refused():
    with pytest.raises(ValueError, match="at least 1"):
        PoolChunks(0)


def test_packed_roll_round_trip():
    from verivote.verify.pipeline import PackedRoll

    rows = [(bytes([n]) * 32, "members" if n % 3 else "staff", 1 + n % 2) for n in range(50)]
    table = PackedRoll.pack(rows).mapping()
    assert table == {k: (c, w) for k, c, w in rows}
    assert len({id(v) for v in table.values()}) == 4  # one tuple per (category, weight)
    with pytest.raises(ValueError, match="32 bytes"):
        PackedRoll.pack([(b"short", "members", 1)])
