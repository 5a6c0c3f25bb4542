"""What can go wrong when recording money, what the caller should do about it, and the one
translation of raw `sqlite3` errors into these types (by SQLite result code, never by text)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class LedgerError(Exception):
    """Base class. `message_ko` is what the shopkeeper sees; nothing was recorded."""

    message_ko = "거래를 저장하지 못했습니다."
    retry = False  # True: the same call may succeed if simply made again


class LedgerCorrupt(LedgerError):
    """The database file is damaged. Found at start; the file is left as it is for recovery."""

    message_ko = "거래 저장소가 손상되었습니다. 기술 지원에 연락하세요."


class LedgerMissing(LedgerError):
    """The journal this terminal started is gone (file deleted or emptied): starting a new one
    silently would restart the counter at 1 and lose the history. Restore it, or re-enrol."""

    message_ko = "거래 기록(원장)이 없어졌습니다. 백업에서 복구하거나 기기를 다시 등록하세요."


class LedgerFull(LedgerError):
    """The disk is full: the sale was refused and nothing was written. Free space, then retry."""

    message_ko = "저장 공간이 가득 찼습니다. 결제를 받을 수 없습니다."


class LedgerReadOnly(LedgerError):
    """The database cannot be written (read-only file, directory or file system, e.g. a failing
    SD card). The message says which and what to do."""

    message_ko = "저장소에 쓸 수 없습니다(읽기 전용). 기술 지원에 연락하세요."


class LedgerBusy(LedgerError):
    """Another process held the database longer than the busy timeout. Nothing was written."""

    message_ko = "저장소가 잠시 사용 중입니다. 다시 시도하세요."
    retry = True


class LedgerIOError(LedgerError):
    """The storage failed to read or write (SQLITE_IOERR): a failing card or a vanished file."""

    message_ko = "저장 장치 오류입니다. 기술 지원에 연락하세요."


class LedgerMisuse(LedgerError):
    """A programming error: the ledger was called from a thread that may not call it, inside a
    transaction it did not open, or after it was closed. Fix the caller; never retry."""

    message_ko = "단말기 내부 오류입니다. 기술 지원에 연락하세요."


class KeyMismatch(LedgerError):
    """The loaded device key did not sign this journal: appending would mix two signers."""

    message_ko = "기기 키가 거래 기록과 맞지 않습니다. 기술 지원에 연락하세요."


class RefundRefused(LedgerError):
    """A refund or void the journal does not allow: unknown original, or too much."""

    message_ko = "환불할 수 없는 거래입니다."


class TokenReplayed(LedgerError):
    """This customer token was already used on this terminal."""

    message_ko = "이미 사용된 결제 코드입니다. 새 코드를 요청하세요."


class SchemaTooNew(LedgerError):
    """The database was written by a newer version of this software: do not touch it."""

    message_ko = "새 버전이 만든 저장소입니다. 소프트웨어를 업데이트하세요."


class LedgerConstraint(LedgerError):
    """A write broke a constraint (unique id, append-only trigger): a programming error, or a
    replayed token, which the ledger reports as TokenReplayed instead."""


def translate(error: sqlite3.Error, path: Path) -> LedgerError:
    """The ledger's exception for a raw sqlite3 error, chosen by its SQLite result code.

    The primary code is the low byte of the extended code (sqlite.org/rescode.html)."""
    code = getattr(error, "sqlite_errorcode", None)
    name = getattr(error, "sqlite_errorname", None) or type(error).__name__
    detail = f"{path}: {error} ({name})"
    if code is None:  # not from the engine: a closed connection or a bad binding
        return LedgerMisuse(detail)
    primary = code & 0xFF
    if primary == sqlite3.SQLITE_FULL:
        return LedgerFull(f"{path}: the disk is full ({name}); free space, then retry")
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        return read_only(path, name)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return LedgerBusy(f"{path}: another process holds the database ({name}); retry")
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return LedgerCorrupt(
            f"{path} is damaged ({error}, {name}); its content was not changed: copy it for "
            "recovery, then provision a new database"
        )
    if primary == sqlite3.SQLITE_IOERR:
        return LedgerIOError(f"{path}: storage error ({name}); check the SD card and the disk")
    if primary == sqlite3.SQLITE_CONSTRAINT:
        return LedgerConstraint(detail)
    if primary == sqlite3.SQLITE_MISUSE:
        return LedgerMisuse(detail)
    return LedgerError(detail)


def read_only(path: Path, name: str) -> LedgerReadOnly:
    """Says which of file, directory or file system refuses writes, and what to do about it."""
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return LedgerReadOnly(
            f"the state directory {folder} is not writable by this user (SQLite needs to "
            f"create its -wal and -shm files there, {name}); make it writable "
            f"(chown/chmod u+w {folder}) or remount the file system read-write"
        )
    if path.exists() and not os.access(path, os.W_OK):
        return LedgerReadOnly(
            f"the database {path} is read-only ({name}); make it writable (chmod u+w {path})"
        )
    return LedgerReadOnly(
        f"{path} cannot be written ({name}): the file system may be mounted read-only or the "
        "SD card failing; check `mount` and the kernel log"
    )
