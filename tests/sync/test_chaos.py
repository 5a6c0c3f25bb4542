"""The sync chaos run (`scripts/chaos sync`) in a small size: it prints its counts and "ok"."""

from terminal.bench.sync_chaos import main


def test_sync_chaos_small_run_prints_counts_and_ok(capsys):
    assert main(["--records", "300", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "held by the platform:      300" in out
    assert "lost 0, doubled or unknown 0, changed 0, still queued 0" in out
    assert out.rstrip().endswith("ok")
