"""The platform bench runs end to end at a tiny size (no timing is asserted)."""

from __future__ import annotations

from terminal.sim.platform.bench import bench_platform


def test_the_platform_bench_prints_every_contestant_and_a_verdict(capsys):
    medians = bench_platform(rounds=1, scale=0.02)
    out = capsys.readouterr().out
    assert "1 per request, HTTPS (baseline)" in out and "target: ≥ 2,000 records/s" in out
    assert set(medians) == {
        "batches of 500, HTTPS",
        "batches of 50, HTTPS",
        "1 per request, HTTPS (baseline)",
        "batches of 500, in-process",
    }
    assert all(rate > 0 for rate in medians.values())
