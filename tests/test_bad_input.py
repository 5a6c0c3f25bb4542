"""Every kind of bad input to the CLI gets one line naming the input and what to do, exit code 2,
no traceback, and leaves every file as it was (issue: every bad input refused cleanly)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from terminal.cli import main


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]  # "{d}" is replaced by the case's directory
    message: str  # a fragment the one-line error must contain
    stdin: bytes | None = None


def snapshot(directory: Path) -> dict[str, str]:
    """Names, modes and content hashes of everything under `directory`."""
    seen = {}
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            seen[str(path)] = "link:" + os.readlink(path)
        elif path.is_file():
            stat = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            seen[str(path)] = f"{stat.st_mode:o}:{digest}"
        else:
            seen[str(path)] = "dir"
    return seen


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def prepare(d: Path) -> None:
    """The inputs the cases point at."""
    (d / "dir").mkdir()
    (d / "loop").symlink_to(d / "loop")
    (d / "not-utf8.txt").write_bytes(b"0002\xff\xfe\n")
    (d / "empty.toml").write_text("")
    (d / "issuer-5.toml").write_text("[device]\nissuer = 5\n")
    (d / "tiny.png").write_bytes(_tiny_png())
    (d / "bomb.png").write_bytes(png_header_claiming(32000, 32000))
    (d / "not-an-image.png").write_text("hello")
    (d / "jws-5.jsonl").write_text('{"seq": 1, "jws": 5, "hash": "x"}\n')
    (d / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    (d / "long-line.jsonl").write_text('{"seq": 1, "jws": "' + "A" * 5_000_000 + '"}\n')
    (d / "garbage.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    (d / "not-a-db.db").write_bytes(b"this is not an SQLite database at all" * 10)
    (d / "journal.jsonl").write_text("")
    (d / "existing.png").write_bytes(b"not yours to replace")
    os.mkfifo(d / "fifo")
    (d / "fifo.png").symlink_to(d / "fifo")
    _card_without_its_shm(d / "card")


def _card_without_its_shm(card: Path) -> None:
    """A state directory copied from a running terminal without its -shm: the newest records
    are in terminal.db-wal, which a --terminal-stopped read cannot replay in place."""
    card.mkdir()
    live = card.parent / "live.db"
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE journal (seq INTEGER PRIMARY KEY, jws TEXT, hash TEXT)")
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{live}{suffix}", card / f"terminal.db{suffix}")
    writer.close()


def _tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (3, 3), 255).save(buffer, format="PNG")
    return buffer.getvalue()


CASES = [
    # --- files that are missing, directories, loops -------------------------------------
    Case("missing file", ["decode", "{d}/nope.png"], "nope.png"),
    Case("directory as file", ["config", "check", "{d}/dir"], "dir"),
    Case("symlink loop", ["config", "check", "{d}/loop"], "loop"),
    Case(
        "missing database",
        ["journal", "export", "--db", "{d}/nope.db", "--key", "{d}/k"],
        "nope.db",
    ),
    # --- undecodable text --------------------------------------------------------------
    Case("stdin not UTF-8", ["emv", "parse"], "UTF-8", stdin=b"0002\xff\xfe\n"),
    Case("file not UTF-8", ["config", "check", "{d}/not-utf8.txt"], "not-utf8.txt"),
    # --- nothing given -------------------------------------------------------------------
    Case("empty stdin", ["emv", "parse"], "no payload", stdin=b""),
    Case("a 1 MB line on stdin", ["emv", "parse"], "over 7089 characters", stdin=b"0" * 1_000_000),
    # --- type checks on parsed TOML / JSON / PEM ------------------------------------------
    Case("issuer = 5", ["config", "check", "{d}/issuer-5.toml"], "issuer"),
    Case("empty defaults", ["config", "check", "{d}/empty.toml"], "empty.toml"),
    Case(
        "jws is a number",
        ["journal", "verify", "{d}/jws-5.jsonl", "--cert", "{d}/garbage.pem"],
        "garbage.pem",
    ),
    Case(
        "not a certificate",
        ["journal", "verify", "{d}/journal.jsonl", "--cert", "{d}/garbage.pem"],
        "garbage.pem",
    ),
    Case(
        "not a database",
        ["journal", "export", "--db", "{d}/not-a-db.db", "--key", "{d}/k"],
        "not-a-db.db",
    ),
    Case(
        "a card's -wal that cannot be replayed",
        [
            "journal",
            "export",
            "--db",
            "{d}/card/terminal.db",
            "--key",
            "{d}/k",
            "--terminal-stopped",
        ],
        "terminal.db-wal",
    ),
    Case(
        "a report from a card's -wal that cannot be replayed",
        ["report", "--day", "2026-11-18", "--db", "{d}/card/terminal.db", "--terminal-stopped"],
        "copy terminal.db and terminal.db-wal",
    ),
    # --- size limits before work ----------------------------------------------------------
    Case("decompression bomb", ["decode", "{d}/bomb.png"], "bomb.png"),
    Case(
        "code image larger than any display",
        ["qr", "sale", "--amount", "1000", "--png", "{d}/out.png", "--size", "100000"],
        "size",
    ),
    # --- odd images ---------------------------------------------------------------------
    Case("not an image", ["decode", "{d}/not-an-image.png"], "not-an-image.png"),
    # --- fifos and devices: never read forever, never written over ------------------------
    Case("fifo as a config file", ["config", "check", "{d}/fifo"], "is a fifo"),
    Case(
        "fifo as an export to verify",
        ["journal", "verify", "{d}/fifo", "--cert", "{d}/fifo", "--ca", "{d}/fifo"],
        "is a fifo",
    ),
    Case("/dev/zero as a config file", ["config", "check", "/dev/zero"], "is a device"),
    # --- output files ---------------------------------------------------------------------
    Case(
        "png over an existing file",
        ["qr", "sale", "--amount", "1000", "--png", "{d}/existing.png"],
        "--force",
    ),
    Case("png name not .png", ["qr", "sale", "--amount", "1000", "--png", "{d}/key.pem"], ".png"),
    Case(
        "png onto a fifo, forced",
        ["qr", "sale", "--amount", "1000", "--png", "{d}/fifo.png", "--force"],
        "is a fifo",
    ),
    # --- PINs for `config pin-hash`: nothing is written, the PIN is never echoed ----------------
    Case("PIN too short", ["config", "pin-hash"], "stdin: a PIN is 4 to 8 digits", stdin=b"123\n"),
    Case("PIN too long", ["config", "pin-hash"], "4 to 8 digits", stdin=b"123456789\n"),
    Case("PIN not digits", ["config", "pin-hash"], "4 to 8 digits", stdin=b"12a4\n"),
    Case("PIN with spaces", ["config", "pin-hash"], "4 to 8 digits", stdin=b" 1234\n"),
    Case(
        "PIN in full-width digits",
        ["config", "pin-hash"],
        "4 to 8 digits",
        stdin="１２３４".encode(),
    ),
    Case("PIN empty stdin", ["config", "pin-hash"], "stdin: no PIN given", stdin=b""),
    Case("PIN empty line", ["config", "pin-hash"], "no PIN given", stdin=b"\n"),
    Case("PIN two lines", ["config", "pin-hash"], "4 to 8 digits", stdin=b"1234\n5678\n"),
    Case("PIN not UTF-8", ["config", "pin-hash"], "stdin: not UTF-8", stdin=b"12\xff4\n"),
    Case("PIN a megabyte", ["config", "pin-hash"], "not a PIN", stdin=b"1" * 1_000_000),
    # --- amounts ----------------------------------------------------------------------------
    Case("negative amount", ["qr", "sale", "--amount", "-5"], "amount"),
    Case("amount with decimals", ["qr", "sale", "--amount", "12.50"], "amount"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_cleanly(case, tmp_path, capsys, monkeypatch):
    prepare(tmp_path)
    before = snapshot(tmp_path)
    if case.stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(case.stdin), "utf-8"))
    argv = [arg.replace("{d}", str(tmp_path)) for arg in case.argv]
    try:
        code = main(argv)
    except SystemExit as exited:  # argparse refuses an option value before any handler runs
        code = exited.code
    captured = capsys.readouterr()
    assert code == 2, (case.name, captured.err)
    assert "Traceback" not in captured.err + captured.out
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert errors, f"{case.name}: no error line in {captured.err!r}"
    assert all(len(line) < 400 for line in errors), case.name
    assert case.message.lower() in captured.err.lower(), (case.name, captured.err)
    assert snapshot(tmp_path) == before, f"{case.name} changed files"


def test_a_broken_pipe_ends_quietly(tmp_path):
    """`qr-terminal emv parse < many | head -c 1`: the reader is gone, nothing to report."""
    import subprocess

    payload = "00020101021229370016A000000677010111011300668012345675802TH530376463046197"
    many = tmp_path / "payloads.txt"
    many.write_text((payload + "\n") * 5000)
    reader_gone = subprocess.run(
        f"{sys.executable} -m terminal.cli emv parse < {many} | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert reader_gone.stdout == "{"
    assert "Traceback" not in reader_gone.stderr and "Error" not in reader_gone.stderr


def test_a_tiny_image_gets_its_own_line_and_the_batch_goes_on(tmp_path, capsys):
    """An image under 4 px used to crash the texture gate and abandon the rest of the batch."""
    prepare(tmp_path)
    before = snapshot(tmp_path)
    code = main(["decode", str(tmp_path / "tiny.png"), str(tmp_path / "nope.png"),
                 str(tmp_path / "not-an-image.png")])  # fmt: skip
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and "Traceback" not in err
    assert [Path(line["file"]).name for line in lines] == [
        "tiny.png",
        "nope.png",
        "not-an-image.png",
    ]
    assert lines[0]["codes"] == [] and "error" in lines[1] and "error" in lines[2]
    assert snapshot(tmp_path) == before
