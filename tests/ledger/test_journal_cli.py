"""`qr-terminal journal export` and `journal verify` as a technician runs them."""

from __future__ import annotations

from terminal.cli import main
from tests.ledger.helpers import open_ledger, sale, write_pki


def test_export_then_verify_passes_and_a_tampered_export_fails(tmp_path, capsys):
    ledger = open_ledger(tmp_path)
    for n in range(3):
        sale(ledger, 1000 + n, n)
    ledger.close()
    ledger.key.save(tmp_path / "key.pem")
    write_pki(tmp_path, ledger.key)
    export = tmp_path / "journal.jsonl"
    db, key, cert, ca = (
        str(tmp_path / n) for n in ("terminal.db", "key.pem", "cert.pem", "ca.pem")
    )
    assert main(["journal", "export", "--db", db, "--key", key, "--out", str(export)]) == 0
    assert main(["journal", "verify", str(export), "--cert", cert, "--ca", ca]) == 0
    assert "3 records, 0 problem(s)" in capsys.readouterr().err
    lines = export.read_text().splitlines()
    export.write_text("\n".join([lines[0], lines[2], lines[1], lines[3]]) + "\n")
    assert main(["journal", "verify", str(export), "--cert", cert, "--ca", ca]) == 1
    out = capsys.readouterr().out
    assert "seq 3: counter jumps" in out and "chain broken" in out


def test_export_of_a_missing_database_is_an_error(tmp_path, capsys):
    key = tmp_path / "key.pem"
    open_ledger(tmp_path).key.save(key)
    out = tmp_path / "out.jsonl"
    args = ["journal", "export", "--db", str(tmp_path / "none.db"), "--key", str(key)]
    assert main([*args, "--out", str(out)]) == 2
    assert "no such database" in capsys.readouterr().err
    assert not out.exists()


def test_export_without_a_key_writes_no_file(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    open_ledger(tmp_path).close()
    assert (
        main(["journal", "export", "--db", str(tmp_path / "terminal.db"), "--out", str(out)]) == 2
    )
    assert "--key" in capsys.readouterr().err
    assert not out.exists()
