"""What can go wrong when recording money, and what the caller should do about it."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class. `message_ko` is what the shopkeeper sees; nothing was recorded."""

    message_ko = "거래를 저장하지 못했습니다."


class LedgerCorrupt(LedgerError):
    """The database file is damaged. Found at start; the file is left as it is for recovery."""

    message_ko = "거래 저장소가 손상되었습니다. 기술 지원에 연락하세요."


class LedgerFull(LedgerError):
    """The disk is full: the sale was refused and nothing was written. Free space, then retry."""

    message_ko = "저장 공간이 가득 찼습니다. 결제를 받을 수 없습니다."


class LedgerReadOnly(LedgerError):
    """The database cannot be written (read-only file or file system, e.g. a failing SD card)."""

    message_ko = "저장소에 쓸 수 없습니다(읽기 전용). 기술 지원에 연락하세요."


class RefundRefused(LedgerError):
    """A refund or void the journal does not allow: unknown original, or too much."""

    message_ko = "환불할 수 없는 거래입니다."


class TokenReplayed(LedgerError):
    """This customer token was already used on this terminal."""

    message_ko = "이미 사용된 결제 코드입니다. 새 코드를 요청하세요."


class SchemaTooNew(LedgerError):
    """The database was written by a newer version of this software: do not touch it."""

    message_ko = "새 버전이 만든 저장소입니다. 소프트웨어를 업데이트하세요."
