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


def test_scale_summary_projects_and_judges(bench_modules: tuple) -> None:
    _, scale = bench_modules

    def run(n: int, wall: float, main: float, total: float) -> object:
        return scale.Run(
            n, 2, "09:00:00", wall, 2 * wall, 0.1 * wall, main, 50.0, total, (0.5, 0.5), True, []
        )

    runs = [run(10_000, 10.0, 60.0, 160.0), run(100_000, 100.0, 240.0, 340.0)]
    text = "\n".join(scale.summary(runs, 2))
    # 100 s for 100,000 ballots: 422,664 take 422.7 s = 7.04 min, 2.35 x the 3 minutes
    assert "projected linearly from 100,000: **7.04 min**" in text
    assert "missed by 2.35×" in text
    # memory: 180 MiB more for 90,000 more ballots, so 340 + 2 MiB per 1,000 beyond
    assert f"{340 + 180 / 90_000 * 322_664:.0f} MiB for all processes" in text
    runs.append(run(422_664, 150.0, 500.0, 900.0))
    text = "\n".join(scale.summary(runs, 2))
    assert "measured: **2.50 min**" in text and ": met." in text
