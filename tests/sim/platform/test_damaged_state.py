"""A damaged simulator state directory is one line naming the file, exit 2, and nothing is
rewritten: a missing CA key used to make a new CA over the old certificate, cutting off every
enrolled device (hostile test M4)."""

from __future__ import annotations

from terminal.cli import main


def test_a_missing_ca_key_is_refused_and_the_ca_kept(tmp_path, capsys):
    state = tmp_path / "platform"
    assert main(["platform", "code", "--state-dir", str(state)]) == 0
    certificate = (state / "ca-cert.pem").read_bytes()
    (state / "ca-key.pem").unlink()
    assert main(["platform", "code", "--state-dir", str(state)]) == 2
    assert "ca-key.pem: missing beside its partner" in capsys.readouterr().err
    assert (state / "ca-cert.pem").read_bytes() == certificate
    assert not (state / "ca-key.pem").exists()


def test_a_damaged_database_is_one_line(tmp_path, capsys):
    state = tmp_path / "platform"
    assert main(["platform", "code", "--state-dir", str(state)]) == 0
    for name in ("platform.db-wal", "platform.db-shm"):
        (state / name).unlink(missing_ok=True)
    (state / "platform.db").write_bytes(b"garbage" * 100)
    assert main(["platform", "code", "--state-dir", str(state)]) == 2
    assert "platform.db: file is not a database" in capsys.readouterr().err
    assert (state / "platform.db").read_bytes() == b"garbage" * 100
