"""The journal as it leaves the device: the signer check, the signed export lines with their
end line, and writing an export file without overwriting anything (reading the journal is
terminal/ledger/reader.py's)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from terminal.core.records import GENESIS_HASH, canonical_json
from terminal.files import refuse_non_regular_target
from terminal.ledger.errors import KeyMismatch
from terminal.signing import DeviceKey, JwsError, b64url_decode, jws_verify


class ExportRefused(ValueError):
    """The export would overwrite a file it must not (an input, or an existing output)."""


def signer_mismatch(jws: str, key: DeviceKey, where: str) -> KeyMismatch | None:
    """None when `key` signed this record; else the error that names both keys and the fix."""
    try:
        jws_verify(jws, {key.kid: key.public_key})
        return None
    except JwsError:
        pass
    try:
        signer = json.loads(b64url_decode(jws.split(".")[0])).get("kid", "?")
    except (ValueError, AttributeError):
        signer = "?"
    return KeyMismatch(
        f"{where} was signed by device key {signer}, not by the loaded key {key.kid}: restore "
        f"the device key {signer} to append to or export this journal; a replaced key needs a "
        "new database and a new certificate (re-enrol the device), after exporting the old "
        "journal with the old key"
    )


def export_lines(
    rows: Iterable[tuple[int, str, str]], key: DeviceKey, device_id: str, now_ms: int
) -> Iterator[str]:
    """JSON lines: one per record, then an end line signed by the device naming the exported
    range and the export time, so that cutting records off the end is detected and an old
    export shows its age. Raises KeyMismatch (before yielding it) at a record `key` did not
    sign: an export must never vouch for another signer's records."""
    head = key.jws(b"").split(".")[0]  # every record the key signs starts with this header
    first_seq, last_seq, last_hash, last_jws = 0, 0, GENESIS_HASH, None
    for seq, jws, record_hash in rows:
        if not jws.startswith(head + "."):
            mismatch = signer_mismatch(jws, key, f"journal record seq {seq}")
            if mismatch:
                raise mismatch
        yield json.dumps({"seq": seq, "jws": jws})
        first_seq = first_seq or seq
        last_seq, last_hash, last_jws = seq, record_hash, jws
    if last_jws is not None:
        mismatch = signer_mismatch(last_jws, key, f"journal record seq {last_seq}")
        if mismatch:
            raise mismatch
    end = {
        "device_id": device_id,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "last_hash": last_hash,
        "exported_ms": now_ms,
    }
    yield json.dumps({"end": key.jws(canonical_json(end))})


def database_files(db: Path) -> list[Path]:
    """The database, the files SQLite keeps beside it and the terminal's run.lock (replacing it
    would let a second terminal start), beside `db` and beside the file a symlinked `db` names."""
    from terminal.ledger.reader import RUN_LOCK

    files: list[Path] = []
    for database in dict.fromkeys((Path(db), Path(os.path.realpath(db)))):
        suffixed = (database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))
        files += [database, *suffixed, database.parent / RUN_LOCK]
    return files


def refuse_own_inputs(out: Path, inputs: Iterable[Path]) -> None:
    """Raises ExportRefused if `out` is (or links to) one of `inputs`, existing or not yet."""
    target = os.path.realpath(out)
    for source in inputs:
        same = target == os.path.realpath(source)
        if not same and out.exists() and source.exists():
            same = os.path.samefile(out, source)
        if same:
            raise ExportRefused(
                f"{out} is one of the export's own inputs ({source}); choose another output file"
            )


def check_target(out: Path, inputs: Iterable[Path], *, force: bool) -> None:
    """Every refusal of `out` that needs no lines, so that a caller can run them before it
    reads anything (write_new_file runs them again)."""
    refuse_own_inputs(out, inputs)
    refuse_non_regular_target(out)  # even with --force: never rename over /dev/full or a fifo
    if out.is_dir():
        raise ExportRefused(f"{out} is a directory; give a file name")
    if not out.parent.is_dir():
        raise ExportRefused(f"{out.parent}: no such directory")
    if (out.exists() or out.is_symlink()) and not force:
        raise ExportRefused(f"{out} exists; choose a new file, or add --force to replace it")


def write_new_file(out: Path, lines: Iterable[str], inputs: Iterable[Path], *, force: bool) -> int:
    """Writes `lines` to a temporary file beside `out`, then renames it into place: `out` is
    never half-written, never one of `inputs`, and never replaced unless `force`. Returns the
    number of lines. If producing the lines fails, nothing is left behind."""
    check_target(out, inputs, force=force)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    count = 0
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            for line in lines:
                file.write(line + "\n")
                count += 1
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp made it 0600; an export is not secret
        _move_into_place(temporary, out, force)
        _fsync_directory(out.parent)  # the rename itself survives a power cut
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return count


def _move_into_place(temporary: str, out: Path, force: bool) -> None:
    if force:
        os.replace(temporary, out)  # replaces a symlink itself, never the file it points to
        return
    try:
        os.link(temporary, out)  # fails if `out` appeared meanwhile: no race, no overwrite
    except FileExistsError:
        raise ExportRefused(f"{out} appeared while exporting; nothing was replaced") from None
    except OSError:  # a file system without hard links (FAT on an SD card)
        if out.exists():
            raise ExportRefused(f"{out} exists; nothing was replaced") from None
        os.rename(temporary, out)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _umask() -> int:
    """The process umask, read without setting it (os.umask would change it for every thread
    of the process for a moment)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022
