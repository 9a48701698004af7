"""``verivote verify --dask``: on a Dask LocalCluster, chunks of the log read and checked by
the workers (:class:`DaskChunks`) and ballot batches sent to them (:class:`DaskRunner`) give
the same report as the local verifier, failures included (the order-dependent rules stay in
the main process); a tampered record index stops the run."""

from __future__ import annotations

import pytest

from verivote import cli
from verivote.encoding import dumps, loads
from verivote.verify.chunked import verify_chunked
from verivote.verify.index import INDEX_FILE, IndexMismatch, write_index
from verivote.verify.record import MAX_LINE, verify_record

from .catalogue import CASES
from .forge import Forge, build_base

distributed = pytest.importorskip("distributed")

# A tamper of each kind the workers see (a false proof, a bad signature), one the main
# process decides after the workers (a duplicate, re-votes re-ordered), and a roll change.
NAMES = (
    "selection-proof-flipped",
    "ballot-duplicated",
    "revotes-swapped",
    "ballot-replayed-to-credential",
    "ballot-revoked-credential",
    "ballot-no-credential",
)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base("ed25519", tmp_path_factory.mktemp("dask-base"))


# What the workers decide (a false proof), what the reduction decides after them (a ballot
# repeated, a credential twice on the roll, a ballot outside voting hours, re-votes
# re-ordered), and a line changed under the signed heads (the Merkle root from the chunks).
CHUNKED = (
    "selection-proof-flipped",
    "ballot-duplicated",
    "roll-credential-twice",
    "ballot-after-closing",
    "revotes-swapped",
    "entry-retimed-naive",
)


def _chunked_report(directory, cluster, every=4):
    from verivote.verify.dask_runner import DaskChunks

    return verify_chunked(directory, DaskChunks(cluster.scheduler_address), every).to_dict()


def test_chunks_valid_record_same_report(base, cluster, tmp_path):
    directory = Forge(base, ()).write(tmp_path)
    local = verify_record(directory).to_dict()
    assert local["valid"]
    assert _chunked_report(directory, cluster) == local
    write_index(directory, 8, MAX_LINE)
    assert _chunked_report(directory, cluster) == local


@pytest.mark.parametrize("name", CHUNKED)
def test_chunks_tampered_record_same_report(name, base, cluster, tmp_path):
    (case,) = [c for c in CASES if c.name == name]
    forged, _ = case.forge(base)
    directory = forged.write(tmp_path)
    local = verify_record(directory).to_dict()
    assert not local["valid"]
    assert _chunked_report(directory, cluster) == local


def test_chunks_tampered_index_stops_the_run(base, cluster, tmp_path):
    directory = Forge(base, ()).write(tmp_path)
    write_index(directory, 4, MAX_LINE)
    lines = [loads(line) for line in (directory / INDEX_FILE).read_bytes().splitlines()]
    lines[3]["offset"] += 1  # a checkpoint in the middle of a line: the workers find it
    (directory / INDEX_FILE).write_bytes(b"".join(dumps(x) + b"\n" for x in lines))
    with pytest.raises(IndexMismatch, match="chunk 1 "):
        _chunked_report(directory, cluster)


def test_chunks_unreadable_on_the_workers(base, cluster, tmp_path, monkeypatch):
    """A record the workers cannot read (not on a shared filesystem) is a clear error."""
    from verivote.verify import chunked
    from verivote.verify.record import RecordUnreadable

    directory = Forge(base, ()).write(tmp_path)
    real = chunked.ChunkSetup
    monkeypatch.setattr(
        chunked, "ChunkSetup", lambda path, *rest: real(str(tmp_path / "nowhere"), *rest)
    )
    with pytest.raises(RecordUnreadable, match="same path on every worker"):
        _chunked_report(directory, cluster)


def _dask_report(directory, cluster):
    from verivote.verify.dask_runner import DaskRunner

    return verify_record(directory, runner=DaskRunner(cluster.scheduler_address)).to_dict()


def test_valid_record_same_report(base, cluster, tmp_path):
    directory = Forge(base, ()).write(tmp_path)
    local = verify_record(directory).to_dict()
    assert local["valid"]
    assert _dask_report(directory, cluster) == local


@pytest.mark.parametrize("name", NAMES)
def test_tampered_record_same_failures(name, base, cluster, tmp_path):
    (case,) = [c for c in CASES if c.name == name]
    forged, _ = case.forge(base)
    directory = forged.write(tmp_path)
    local = verify_record(directory).to_dict()
    assert not local["valid"]
    assert _dask_report(directory, cluster) == local


def test_cli_dask_option(base, cluster, tmp_path, capsys):
    directory = Forge(base, ()).write(tmp_path)
    assert cli.main(["verify", str(directory), "--dask", cluster.scheduler_address]) == 0
    assert "VALID" in capsys.readouterr().out


def test_unreachable_scheduler_is_a_clear_error():
    from verivote.verify.dask_runner import DaskRunner, DaskUnavailable

    with pytest.raises(DaskUnavailable, match="cannot reach the Dask scheduler"):
        DaskRunner("tcp://127.0.0.1:9", timeout=2)
