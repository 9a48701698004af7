"""The chunked verifier (``verify --dask``'s reduction, here with the chunks read in this
process) gives the local verifier's report, failures included, on tampered records of every
kind: ballots (the workers' results), the rule book's order-dependent checks, lines that do
not decode, heads and truncations (the Merkle tree from the chunks' subtrees)."""

from __future__ import annotations

import pytest

from verivote.verify import record as record_module
from verivote.verify.chunked import LocalChunks, verify_chunked
from verivote.verify.index import write_index
from verivote.verify.record import MAX_LINE, verify_record

from .catalogue import CASES
from .forge import Forge, build_base

ROLL_AHEAD = ("elector-removed-registrar", "issuer-half-rogue", "roll-weight-changed")
"""Tampering with the roll, whose halves the workers check ahead of the rule book."""

NAMES = (
    # ballots: what the workers check, and what the rule book decides after them
    "selection-proof-flipped",
    "ballot-duplicated",
    "revotes-swapped",
    "ballot-revoked-credential",
    "ballot-after-closing",
    "audited-ballot-cast",
    # the roll and the phases around the ballots
    "roll-credential-twice",
    "amend-moved-after-close",
    "entry-after-result",
    # the log: a line that does not decode, truncation, heads
    "line-garbage",
    "truncated-during-voting",
    "ballot-dropped-naive",
    "head-split-view",
    "entry-backdated-behind-head",
    *ROLL_AHEAD,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base("ed25519", tmp_path_factory.mktemp("chunked-base"))


def test_valid_record_every_chunk_size(base, tmp_path):
    directory = Forge(base, ()).write(tmp_path)
    local = verify_record(directory).to_dict()
    assert local["valid"] and local["notices"]
    for every in (1, 8, 1024):
        assert verify_chunked(directory, LocalChunks(), every).to_dict() == local, every


def test_valid_record_with_index(base, tmp_path):
    directory = Forge(base, ()).write(tmp_path)
    write_index(directory, 4, MAX_LINE)
    assert verify_chunked(directory, LocalChunks()).to_dict() == verify_record(directory).to_dict()


@pytest.mark.parametrize("name", NAMES)
def test_tampered_record_same_report(name, base, tmp_path):
    (case,) = [c for c in CASES if c.name == name]
    forged, _ = case.forge(base)
    directory = forged.write(tmp_path)
    local = verify_record(directory).to_dict()
    assert not local["valid"]
    assert verify_chunked(directory, LocalChunks(), 4).to_dict() == local


def test_over_long_line_same_report(base, tmp_path, monkeypatch):
    """A line over the length limit (made small here) in the voting phase: the same
    ``entry.decode`` failure, and the same Merkle leaf for the heads."""
    forged = Forge(base, ("board",))
    at = base.index("ballot", 3)
    forged.entries.insert(at, b"x" * 5000)
    forged.reseal()
    directory = forged.write(tmp_path)
    from verivote.verify import chunk_scan, chunked

    for module in (record_module, chunk_scan, chunked):
        monkeypatch.setattr(module, "MAX_LINE", 4096)
    local = verify_record(directory).to_dict()
    assert ("entry.decode", at) in [(f["check"], f["index"]) for f in local["failures"]]
    assert verify_chunked(directory, LocalChunks(), 4).to_dict() == local
