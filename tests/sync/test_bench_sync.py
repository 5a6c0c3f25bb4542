"""`scripts/bench sync` still runs end to end (tiny sizes; no timing is asserted)."""

from terminal.bench.sync import bench_sync


def test_sync_bench_prints_both_tables_with_ratios(capsys):
    bench_sync(1, records=12, auth_per_round=2)
    out = capsys.readouterr().out
    assert "draining 12 queued records" in out
    for row in ("sync, batches of 50", "per record, kept-alive", "per record, new connection"):
        assert row in out
    assert "PlatformClient.authorize" in out and "ours / bare same request:" in out
