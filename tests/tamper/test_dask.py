"""``verivote verify --dask``: ballot checks on a Dask LocalCluster give the same report as
the local verifier, failures included (the order-dependent rules stay in the main
process)."""

from __future__ import annotations

import pytest

from verivote import cli
from verivote.verify.record import verify_record

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
