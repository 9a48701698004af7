"""Smoke test of the scale benchmark's tooling at a tiny size: the benchmark-only record
generator (``benchmarks/records.py``) writes a record that the verifier finds valid, with
the result the generator cast, and ``benchmarks/scale.py`` measures a verification run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench_modules() -> tuple[object, object]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import records
        import scale
    finally:
        sys.path.remove(str(BENCHMARKS))
    return records, scale


def test_generated_record_verifies(bench_modules: tuple, tmp_path: Path) -> None:
    records, scale = bench_modules
    meta = records.generate(tmp_path / "rec", 6, "ristretto255", jobs=1)
    assert meta["ballots"] == 6 and meta["fast_paths"] is True

    from verivote.verify.record import verify_record

    report = verify_record(tmp_path / "rec", jobs=1)
    assert report.valid, report.failures
    assert report.by_type["ballot"] == 6
    assert report.result is not None
    assert report.result["contests"][0]["overall"] == meta["result"]

    run = scale.verify_run(tmp_path / "rec", 6, jobs=1)
    assert run.valid and run.ballots == 6
    assert run.cpu > 0 and run.wall > 0


def test_public_paths_give_the_same_powers(bench_modules: tuple) -> None:
    records, _ = bench_modules
    from verivote.groups.ristretto255 import Ristretto255Group

    group = Ristretto255Group()  # a private instance: the shared one stays untouched
    x = group.random_scalar()
    base = group.generator ** group.scalar(7)
    want = base**x
    product = getattr(group, "secret_product", None)
    want_product = None if product is None else product([base, group.generator], [x, 5])
    with records.public_paths(group):
        assert base**x == want
        assert base ** group.scalar(0) == group.identity
        if product is not None:
            assert product([base, group.generator], [x, 5]) == want_product
    assert "_pow_secret" not in vars(group)
