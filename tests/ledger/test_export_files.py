"""`journal export` never overwrites a file by accident: not its own inputs (database, -wal,
-shm, key; by path, symlink or hard link), not an existing output without --force, never half
a file; a damaged database or a key that did not sign the journal is refused first."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from terminal.cli import main
from terminal.ledger.errors import KeyMismatch
from terminal.signing import DeviceKey
from tests.ledger.helpers import cli_as_nobody, open_ledger, sale


def digest_tree(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
    }


@pytest.fixture
def terminal(tmp_path):
    """A database with three sales whose WAL is still beside it (the ledger stays open, as on
    a running terminal), and the key that signed them."""
    ledger = open_ledger(tmp_path)
    for n in range(3):
        sale(ledger, 1000 + n, n)
    ledger.key.save(tmp_path / "key.pem")
    yield tmp_path, ledger
    ledger.close()


def export(folder: Path, out: Path | str, *extra: str) -> int:
    db, key = folder / "terminal.db", folder / "key.pem"
    return main(
        ["journal", "export", "--db", str(db), "--key", str(key), "--out", str(out), *extra]
    )


@pytest.mark.parametrize("target", ["terminal.db", "terminal.db-wal", "terminal.db-shm", "key.pem"])
@pytest.mark.parametrize("force", [False, True])
def test_export_onto_its_own_inputs_is_refused_and_they_stay_unchanged(
    terminal, capsys, target, force
):
    folder, _ = terminal
    assert (folder / target).exists()
    before = digest_tree(folder)
    assert export(folder, folder / target, *(["--force"] if force else [])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "own inputs" in err and "Traceback" not in err
    assert digest_tree(folder) == before


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_export_onto_a_link_to_the_database_is_refused(terminal, capsys, link):
    folder, _ = terminal
    alias = folder / "alias.jsonl"
    if link == "symlink":
        alias.symlink_to(folder / "terminal.db")
    else:
        os.link(folder / "terminal.db", alias)
    before = digest_tree(folder)
    assert export(folder, alias, "--force") == 2
    assert "own inputs" in capsys.readouterr().err
    assert digest_tree(folder) == before


def test_an_existing_output_is_kept_unless_forced(terminal, capsys):
    folder, _ = terminal
    out = folder / "journal.jsonl"
    out.write_text("yesterday's export\n")
    assert export(folder, out) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "yesterday's export\n"
    assert export(folder, out, "--force") == 0
    assert out.read_text().count("\n") == 4  # three records and the end line
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_export_to_a_new_file_leaves_no_temporary_file(terminal):
    folder, _ = terminal
    assert export(folder, folder / "out.jsonl") == 0
    names = sorted(p.name for p in folder.iterdir())
    assert "out.jsonl" in names and not [n for n in names if n.startswith(".")]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (folder / "out.jsonl").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_a_key_that_did_not_sign_the_journal_is_refused_and_nothing_is_written(terminal, capsys):
    folder, ledger = terminal
    other = DeviceKey.generate()
    other.save(folder / "other.pem")
    out = folder / "out.jsonl"
    db = str(folder / "terminal.db")
    code = main(
        ["journal", "export", "--db", db, "--key", str(folder / "other.pem"), "--out", str(out)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert ledger.key.kid in err and other.kid in err and "restore" in err
    assert not out.exists() and not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    # To stdout too: nothing at all, not half an export.
    assert main(["journal", "export", "--db", db, "--key", str(folder / "other.pem")]) == 2
    assert capsys.readouterr().out == ""


def test_the_ledger_refuses_to_append_with_another_key(tmp_path):
    ledger = open_ledger(tmp_path)
    sale(ledger, 1000)
    ledger.close()
    before = (tmp_path / "terminal.db").read_bytes()
    other = DeviceKey.generate()
    with pytest.raises(KeyMismatch) as refused:
        open_ledger(tmp_path, other)
    assert ledger.key.kid in str(refused.value) and other.kid in str(refused.value)
    assert "new database" in str(refused.value)
    assert (tmp_path / "terminal.db").read_bytes() == before
    assert open_ledger(tmp_path, ledger.key).queue()[0] == 1  # the right key still works


def test_a_damaged_database_is_refused_before_the_key_or_the_output(tmp_path, capsys):
    db = tmp_path / "terminal.db"
    ledger = open_ledger(tmp_path)
    for n in range(30):
        sale(ledger, 1000, n)
    ledger.close()
    data = bytearray(db.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096 : page * 4096 + 12] = b"\xa5" * 12
    db.write_bytes(bytes(data))
    out = tmp_path / "out.jsonl"
    missing_key = tmp_path / "no-key.pem"
    code = main(
        ["journal", "export", "--db", str(db), "--key", str(missing_key), "--out", str(out)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "terminal.db" in err and "no-key" not in err
    assert db.read_bytes() == bytes(data) and not out.exists()


def test_export_into_a_missing_directory_is_one_line(terminal, capsys):
    folder, _ = terminal
    assert export(folder, folder / "nope" / "out.jsonl") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such directory" in err


def test_export_into_a_directory_it_may_not_write_is_one_line(open_folder):
    folder = open_folder
    folder.chmod(0o777)  # nobody may make the database's -shm here, not write into `locked`
    ledger = open_ledger(folder)
    sale(ledger, 1000)
    ledger.close()
    key = folder / "key.pem"
    ledger.key.save(key)
    os.chown(key, 65534, 65534)
    os.chmod(folder / "terminal.db", 0o644)
    locked = folder / "locked"
    locked.mkdir(mode=0o555)
    db = str(folder / "terminal.db")
    out = str(locked / "out.jsonl")
    code, err = cli_as_nobody(["journal", "export", "--db", db, "--key", str(key), "--out", out])
    assert code == 2, err
    assert err.count("\n") == 1 and "locked" in err and "Traceback" not in err
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize("kind", ["fifo", "device", "link to a fifo"])
def test_export_never_replaces_a_fifo_or_a_device_even_with_force(terminal, capsys, kind):
    """Hostile test H1: `--out /dev/full --force` exited 0 having renamed over the device."""
    folder, _ledger = terminal
    target = folder / "special"
    if kind == "device":
        try:
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # like /dev/full
        except PermissionError:
            pytest.skip("creating a device node needs root")
    else:
        os.mkfifo(folder / "fifo")
        if kind == "fifo":
            target = folder / "fifo"
        else:
            target.symlink_to(folder / "fifo")
    assert export(folder, target, "--force") == 2
    assert "give a regular file" in capsys.readouterr().err
    assert not stat.S_ISREG(os.stat(target).st_mode)  # still the fifo or the device
