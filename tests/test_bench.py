"""The benchmark sections still run end to end (tiny sizes; no timing is asserted)."""

from terminal.bench.ledger import bench_ledger


def test_ledger_bench_reports_both_wal_states_and_a_verdict(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bench_ledger(1, rounds=5, settle_commits=5)
    out = capsys.readouterr().out
    assert "### fresh database" in out and "### steady state" in out
    assert "bare + one ES256 signature" in out
    assert "target ≤ 1.3× bare: " in out
    assert list(tmp_path.iterdir()) == []  # its databases are removed afterwards
