"""One example state of every screen, with the longest texts and largest numbers the terminal
meets: `scripts/screens` draws them into docs/screens, and the layout test measures them."""

from __future__ import annotations

from dataclasses import replace

from terminal.core.offline import REFUSALS
from terminal.core.session.model import (
    AmountEntry,
    Approved,
    Authorizing,
    Booting,
    Charge,
    CloseConfirm,
    Closing,
    Context,
    History,
    Home,
    Items,
    Notice,
    PinEntry,
    Preset,
    Recording,
    RefundAmount,
    RefundDone,
    Refunding,
    Refused,
    ReportView,
    SessionConfig,
    State,
    Status,
    Technician,
    TxnEntry,
)
from terminal.core.session.report import z_report

NOW_MS = 1_790_000_000_000  # 2026-09-21 23:33 KST
# A sale QR as long as ours get (EMV fields, charge id, expiry, 86-character signature).
SALE_PAYLOAD = (
    "00020101021226490015kr.incheon.eeum0111M00000000010211SIM-00000015204581253034105407"
    "1990000" + "5802KR5919HYETAEK PLUS BUNSIK6007INCHEON62390520" + "0" * 20 + "0711SIM-0000001"
    "6446" + "0002ko0124혜택플러스 분식 부평시장점0202인천" + "80960015kr.incheon.eeum0110"
    "17900003000212device-kid-1"
    + "0343"
    + "A" * 43
    + "81560015kr.incheon.eeum0143"
    + "B" * 43
    + "6304ABCD"
)
PRESETS = tuple(
    Preset(label, won)
    for label, won in (
        ("떡볶이", 4_000), ("순대", 5_000), ("김밥", 3_500), ("라면", 4_500),
        ("어묵", 2_000), ("튀김 모둠", 6_000), ("쫄면", 7_000), ("오므라이스", 8_500),
        ("돈가스", 9_000), ("제육덮밥", 9_500), ("음료수", 1_500), ("포장 용기", 500),
    )
)  # fmt: skip
CONFIG = SessionConfig(
    brand="인천e음",
    merchant_name="혜택플러스 분식 부평시장점",
    device_id="SIM-0000001",
    version="qr-terminal 0.1.0",
    presets=PRESETS,
    discount_bp=500,
)


def _entries() -> tuple[TxnEntry, ...]:
    sales = [
        TxnEntry(f"s{i}", i, "sale", "mpm" if i % 2 else "cpm", 1_234_000 + i * 1000,
                 NOW_MS - (30 - i) * 600_000, offline=i % 5 == 0, list_won=0, city_won=1000)
        for i in range(1, 12)
    ]  # fmt: skip
    refund = TxnEntry("r1", 12, "refund", "mpm", 4_000, NOW_MS - 300_000, original_txn="s1")
    stand = TxnEntry("p1", 0, "stand", "mpm", 12_000, NOW_MS - 200_000)
    return (*sales, refund, stand)


def sample_states() -> dict[str, State]:
    """Every screen, by a file-name-friendly name."""
    today = _entries()
    busy = Status(online=False, queue_depth=27, oldest_ms=NOW_MS - 3 * 3_600_000, parked=2,
                  troubles=(("camera", "응답 없음"), ("printer", "용지 없음")))  # fmt: skip
    ctx = Context(CONFIG, NOW_MS, Status(online=True, clock_trusted=True), today, (), 100)
    bad = replace(ctx, status=busy)
    charge = Charge(1_990_000, 99_500, 1_890_500, 7, "0" * 20, SALE_PAYLOAD, NOW_MS + 300_000)
    approved_entry = TxnEntry(
        "0193f0a4-7c2e-7d3a-9f10-3b2a1c0d9e8f", 13, "sale", "cpm", 1_890_500, NOW_MS,
        offline=True, list_won=1_990_000, discount_won=99_500, city_won=30_000,
        district_won=37_810, merchant_won=18_905,
    )  # fmt: skip
    longest = max(REFUSALS.values(), key=len)
    no_qr = "QR을 만들지 못했습니다. 고객 결제 코드는 받을 수 있습니다"
    full = ("결제가 저장되지 않았습니다.", "저장 공간이 가득 찼습니다. 결제를 받을 수 없습니다.")
    expired = ("결제가 이루어지지 않았습니다.", "금액을 다시 입력하세요.")
    checks = (
        "카메라: 정상 15 fps",
        "프린터: 용지 없음",
        "플랫폼: mTLS 정상 42 ms",
        "디스크: 여유 3.1 GB",
    )
    receipt = CONFIG.receipt_prefix + approved_entry.txn_id
    report = replace(z_report(today * 9), close_seq=1234)
    sale = today[1]
    screens = {
        "booting": (Booting(), ctx),
        "home": (Home(), ctx),
        "home-alerts": (Home(note="결제를 취소했습니다"), bad),
        "amount": (AmountEntry("1990000"), ctx),
        "amount-lines": (
            AmountEntry(
                "500000", (PRESETS[5], Preset("", 1_000_000), PRESETS[7]), "1회 최대 2,000,000원"
            ),
            bad,
        ),
        "items": (Items(AmountEntry(), "12"), ctx),
        "charge": (charge, ctx),
        "charge-offline": (replace(charge, note="QR 유효시간이 지나 새로 만들었습니다"), bad),
        "charge-waiting": (replace(charge, charge_id="", payload="", asked_ms=NOW_MS), ctx),
        "charge-no-qr": (
            replace(charge, charge_id="", payload="", note=no_qr),
            bad,
        ),
        "authorizing": (Authorizing(charge, 8, "code", "EU1:...", NOW_MS), ctx),
        "checking-receipt": (Authorizing(charge, 8, "receipt", "ER1:...", NOW_MS), bad),
        "recording": (Recording(charge, 9, "cpm", True), ctx),
        "approved": (Approved(approved_entry, receipt, NOW_MS), ctx),
        "refused": (Refused(charge, "total_over_limit", longest, NOW_MS), bad),
        "notice": (Notice("저장 실패", full, "error"), ctx),
        "notice-expired": (Notice("QR 유효시간이 지났습니다", expired), ctx),
        "history": (History(cursor=2, note="영수증을 다시 출력합니다"), ctx),
        "history-empty": (History(), replace(ctx, today=())),
        "pin": (PinEntry("refund", "123", sale.txn_id), replace(ctx, manager_pin_failures=2)),
        "pin-tech": (PinEntry("tech"), bad),
        "refund-amount": (
            RefundAmount(sale, sale.amount_won, "1235000", "환불 가능 금액은 1,235,000원입니다"),
            ctx,
        ),
        "refunding": (Refunding(sale, 4_000, 11), ctx),
        "refund-done": (RefundDone(replace(sale, kind="void", original_txn=sale.txn_id)), ctx),
        "close-confirm": (CloseConfirm(z_report(today * 9)), bad),
        "closing": (Closing(12), ctx),
        "z-report": (ReportView(report), ctx),
        "technician": (Technician(checks), bad),
    }
    return {name: State(screen, context) for name, (screen, context) in screens.items()}


SIZES = ((320, 240), (480, 320), (800, 480))
PORTRAIT_SIZES = ((240, 320), (320, 480), (480, 800))  # the same panels turned 90°
