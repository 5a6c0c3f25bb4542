"""The session state machine, flow by flow: each test drives it with events as the app would."""

from __future__ import annotations

from dataclasses import replace

import pytest

from terminal.core.keys import Key, KeyEvent
from terminal.core.pin import hash_pin
from terminal.core.session import initial_state, step
from terminal.core.session.commands import (
    AuthorizeCode,
    CancelCharge,
    CreateCharge,
    Feedback,
    PrintReceipt,
    PrintReport,
    RecordClose,
    RecordRefund,
    RecordSale,
    SelfTest,
    Show,
    SyncNow,
    VerifyReceipt,
)
from terminal.core.session.events import (
    Authorized,
    ChargeFailed,
    ChargePaid,
    ChargeReady,
    ClockTrust,
    Committed,
    DayClosed,
    DayLoaded,
    Declined,
    DeviceTrouble,
    LedgerFailed,
    ReceiptAccepted,
    Scanned,
    SelfTestDone,
    StandPayments,
    SyncStatus,
    Tick,
)
from terminal.core.session.model import (
    AmountEntry,
    Approved,
    Authorizing,
    Charge,
    CloseConfirm,
    Closing,
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
    Technician,
    TxnEntry,
)
from terminal.core.session.report import split_vat, upfront_discount, z_report
from terminal.core.tokens import customer_barcode

T0 = 1_790_000_000_000
MANAGER_PIN, TECH_PIN = "1234", "9876"
CONFIG = SessionConfig(
    brand="부평e음",
    merchant_name="혜택플러스 분식",
    device_id="SIM-0000001",
    max_sale_won=500_000,
    presets=(Preset("떡볶이", 4_000), Preset("순대", 5_000), Preset("김밥", 3_500)),
    # Cheap scrypt parameters (the session checks whatever it is given; the config refuses
    # weak ones): the PIN flows stay fast.
    manager_pin_hash=hash_pin(MANAGER_PIN, b"manager-salt-16b", ln=4, r=1).text(),
    technician_pin_hash=hash_pin(TECH_PIN, b"technician-salt!", ln=4, r=1).text(),
)


def tick(now_ms: int) -> Tick:
    """Wall and monotonic time move together here: no clock jumps (test_pin_lockout.py)."""
    return Tick(now_ms, now_ms)


def key(name: str) -> KeyEvent:
    return KeyEvent(Key(name), 0.0)


class Driver:
    """Feeds events and keeps the commands, like the app's session loop."""

    def __init__(self, config: SessionConfig = CONFIG, entries=()):
        self.state = initial_state(config)
        self.commands: list = []
        self.send(DayLoaded(tuple(entries), T0), tick(T0))

    def send(self, *events):
        out = []
        for event in events:
            self.state, commands = step(self.state, event)
            out += commands
        self.commands += out
        return out

    def keys(self, *names: str):
        return self.send(*(key(n) for n in names))

    @property
    def screen(self):
        return self.state.screen

    def last(self, kind):
        return [c for c in self.commands if isinstance(c, kind)][-1]


def first(commands, kind):
    """The first command of `kind` in `commands` (fails the test if there is none)."""
    return next(c for c in commands if isinstance(c, kind))


def sale_entry(txn: str, amount: int, method="cpm", seq=1, **more) -> TxnEntry:
    return TxnEntry(txn, seq, "sale", method, amount, T0, **more)


def to_charge(driver: Driver, *digits: str) -> Charge:
    driver.keys(*digits, "enter")
    create = driver.last(CreateCharge)
    driver.send(ChargeReady(create.request, "C" * 20, "000201...", T0 + 300_000))
    return driver.screen


def test_home_until_the_day_is_loaded_then_digits_start_amount_entry():
    driver = Driver()
    assert isinstance(driver.screen, Home)
    driver.keys("1", "2", "00", "0")
    assert driver.screen == AmountEntry(digits="12000")
    assert isinstance(driver.commands[-1], Show)


def test_amount_keys_backspace_clear_plus_and_no_leading_zero():
    driver = Driver()
    driver.keys("0", "00", "5", "00", "backspace")
    assert driver.screen.digits == "50"
    driver.keys("plus", "3", "0", "0", "0")
    assert driver.screen.total_won == 3_050
    driver.keys("backspace", "backspace", "backspace", "backspace", "backspace")
    assert driver.screen == AmountEntry()  # the "+"-line came back off with backspace
    driver.keys("7", "clear")
    assert driver.screen.total_won == 0


def test_amount_above_the_issuers_maximum_is_refused_keystroke_by_keystroke():
    driver = Driver()
    driver.keys("5", "00", "00", "00")  # 5,000,000 > 500,000: the last 00 does not type
    assert driver.screen.total_won == 500_00
    assert "최대" in driver.screen.note
    driver.keys("0")
    assert driver.screen.total_won == 500_000


def test_enter_with_nothing_typed_asks_for_an_amount():
    driver = Driver()
    driver.keys("0", "plus", "enter")
    assert driver.screen == AmountEntry(note="금액을 입력하세요")


def test_preset_items_add_up_and_respect_the_limit():
    driver = Driver(replace(CONFIG, max_sale_won=10_000))
    driver.keys("F1")
    assert isinstance(driver.screen, Items)
    driver.keys("1", "enter", "F1", "2", "enter")
    assert driver.screen.total_won == 9_000
    assert [line.label for line in driver.screen.lines] == ["떡볶이", "순대"]
    driver.keys("F1", "3", "enter")  # 12,500 would pass the maximum
    assert driver.screen.total_won == 9_000 and "최대" in driver.screen.note
    driver.keys("F1", "4")  # no item 4
    assert driver.screen.typed == ""


def test_enter_makes_a_charge_with_upfront_discount():
    driver = Driver(replace(CONFIG, discount_bp=500))
    out = driver.keys("1", "0", "0", "0", "0", "enter")
    create = first(out, CreateCharge)
    assert (create.list_won, create.discount_won, create.amount_won) == (10_000, 500, 9_500)
    assert isinstance(driver.screen, Charge) and driver.screen.charge_id == ""
    driver.send(ChargeReady(create.request, "C" * 20, "PAYLOAD", T0 + 300_000))
    assert driver.screen.payload == "PAYLOAD"


def test_mpm_paid_online_is_approved_only_after_the_commit():
    driver = Driver()
    charge = to_charge(driver, "1", "2", "00", "0")
    out = driver.send(ChargePaid(charge.charge_id, 12_000))
    record = first(out, RecordSale)
    assert (record.method, record.offline, record.charge_id) == ("mpm", False, "C" * 20)
    assert isinstance(driver.screen, Recording)
    driver.send(Committed(record.request + 1, sale_entry("stray", 12_000)))
    assert isinstance(driver.screen, Recording)  # an answer to another request changes nothing
    out = driver.send(Committed(record.request, sale_entry("t1", 12_000, "mpm")))
    assert isinstance(driver.screen, Approved)
    assert Feedback("approved") in out
    assert driver.screen.receipt_text.endswith("t1")


def test_mpm_paid_offline_by_the_customers_receipt():
    driver = Driver()
    charge = to_charge(driver, "9", "00", "0")
    out = driver.send(Scanned("ER1:RECEIPT", "QRCode"))
    verify = first(out, VerifyReceipt)
    assert (verify.charge_id, verify.amount_won) == (charge.charge_id, 9_000)
    out = driver.send(ReceiptAccepted(verify.request, "ref"))
    record = first(out, RecordSale)
    assert (record.method, record.offline) == ("mpm", True)
    driver.send(Committed(record.request, sale_entry("t2", 9_000, "mpm", offline=True)))
    assert isinstance(driver.screen, Approved)


def test_cpm_withdraws_the_qr_then_records_after_authorization():
    driver = Driver()
    to_charge(driver, "5", "00", "0")
    driver.send(SyncStatus(online=True))
    out = driver.send(Scanned("EU1:TOKEN", "QRCode"))
    assert CancelCharge("C" * 20) in out
    authorize = first(out, AuthorizeCode)
    assert (authorize.amount_won, authorize.online) == (5_000, True)
    driver.send(Scanned("EU1:TOKEN", "QRCode"))  # scans while checking are ignored
    assert isinstance(driver.screen, Authorizing)
    out = driver.send(Authorized(authorize.request, "77", offline=False))
    record = first(out, RecordSale)
    assert (record.method, record.token_id) == ("cpm", "77")
    driver.send(Committed(record.request, sale_entry("t3", 5_000, token_id="77")))
    assert isinstance(driver.screen, Approved)


def test_cpm_offline_refusal_shows_the_korean_reason_then_a_fresh_qr():
    driver = Driver()
    to_charge(driver, "5", "00", "0")
    out = driver.send(Scanned(customer_barcode(77), "Code128"))
    authorize = first(out, AuthorizeCode)
    assert authorize.online is False
    message = "바코드 결제는 온라인에서만 됩니다. QR 코드를 보여 달라고 하세요."
    out = driver.send(Declined(authorize.request, "barcode_online_only", message))
    assert isinstance(driver.screen, Refused) and driver.screen.message_ko == message
    assert Feedback("refused") in out
    out = driver.send(tick(T0 + CONFIG.refused_ms))
    assert isinstance(driver.screen, Charge)
    assert any(isinstance(c, CreateCharge) for c in out)  # the withdrawn QR is made again


def test_a_code_that_paid_cannot_pay_again_in_either_form():
    driver = Driver()
    to_charge(driver, "5", "00", "0")
    out = driver.send(Scanned(customer_barcode(77), "Code128"))
    request = first(out, AuthorizeCode).request
    out = driver.send(Authorized(request, "77", offline=False))
    record = first(out, RecordSale)
    driver.send(Committed(record.request, sale_entry("t4", 5_000, token_id="77")))
    driver.keys("enter")
    to_charge(driver, "3", "00", "0")
    out = driver.send(Scanned(customer_barcode(77), "Code128"))
    assert not any(isinstance(c, AuthorizeCode) for c in out)
    assert driver.screen.code == "replayed"
    driver.keys("enter")
    out = driver.send(Scanned("EU1:SAME-TOKEN-AS-QR", "QRCode"))
    request = first(out, AuthorizeCode).request
    out = driver.send(Authorized(request, "77", offline=True))
    assert not any(isinstance(c, RecordSale) for c in out)
    assert driver.screen.code == "replayed"


def test_cancel_voids_the_charge_and_a_late_qr_is_withdrawn():
    driver = Driver()
    charge = to_charge(driver, "1", "00", "0")
    out = driver.keys("cancel")
    assert CancelCharge(charge.charge_id) in out and isinstance(driver.screen, Home)
    driver.keys("2", "00", "0", "enter")
    create = driver.last(CreateCharge)
    driver.keys("cancel")
    out = driver.send(ChargeReady(create.request, "L" * 20, "P", T0 + 300_000))
    assert out == [CancelCharge("L" * 20)]


def test_expired_qr_is_renewed_then_the_shopkeeper_is_told():
    driver = Driver(replace(CONFIG, max_renewals=1))
    charge = to_charge(driver, "1", "00", "0")
    out = driver.send(tick(charge.expires_ms))
    assert CancelCharge(charge.charge_id) in out
    create = first(out, CreateCharge)
    assert driver.screen.renewals == 1 and "새로" in driver.screen.note
    driver.send(ChargeReady(create.request, "R" * 20, "P2", charge.expires_ms + 300_000))
    out = driver.send(tick(charge.expires_ms + 300_000))
    assert CancelCharge("R" * 20) in out
    assert isinstance(driver.screen, Notice) and "유효시간" in driver.screen.title


def test_charge_failure_still_takes_customer_codes():
    driver = Driver()
    driver.keys("1", "00", "0", "enter")
    driver.send(ChargeFailed(driver.last(CreateCharge).request, "플랫폼에 연결할 수 없습니다"))
    assert isinstance(driver.screen, Charge) and driver.screen.note
    out = driver.send(Scanned("EU1:X", "QRCode"))
    assert any(isinstance(c, AuthorizeCode) for c in out)


def test_authorization_without_answer_times_out_to_a_refusal():
    driver = Driver()
    to_charge(driver, "1", "00", "0")
    driver.send(Scanned("EU1:X", "QRCode"))
    driver.send(tick(T0 + CONFIG.answer_timeout_ms + 1))
    assert driver.screen.code == "timeout"


def test_ledger_failure_is_never_approved():
    driver = Driver()
    charge = to_charge(driver, "1", "00", "0")
    out = driver.send(ChargePaid(charge.charge_id, 1_000))
    record = first(out, RecordSale)
    driver.send(LedgerFailed(record.request, "저장 공간이 가득 찼습니다."))
    assert isinstance(driver.screen, Notice) and driver.screen.tone == "error"
    driver.keys("enter")
    assert isinstance(driver.screen, Home)


def test_approved_prints_on_request_and_returns_home_by_itself():
    driver = Driver()
    charge = to_charge(driver, "1", "00", "0")
    record = [first(driver.send(ChargePaid(charge.charge_id, 1_000)), RecordSale)]
    driver.send(Committed(record[0].request, sale_entry("t5", 1_000)))
    out = driver.keys("F1")
    assert PrintReceipt(sale_entry("t5", 1_000), copy=False) in out
    driver.send(tick(T0 + CONFIG.approved_ms))
    assert isinstance(driver.screen, Home)


def test_auto_print_prints_the_receipt_with_the_approval():
    driver = Driver(replace(CONFIG, auto_print=True))
    charge = to_charge(driver, "1", "00", "0")
    record = [first(driver.send(ChargePaid(charge.charge_id, 1_000)), RecordSale)]
    out = driver.send(Committed(record[0].request, sale_entry("t6", 1_000)))
    assert PrintReceipt(sale_entry("t6", 1_000)) in out


def test_history_reprint_and_partial_refund_with_the_manager_pin():
    sale = sale_entry("s1", 10_000, seq=1)
    driver = Driver(entries=[sale, sale_entry("s2", 3_000, seq=2)])
    driver.keys("F2")
    assert isinstance(driver.screen, History)
    driver.keys("F2")  # down to the older sale
    out = driver.keys("F3")
    assert PrintReceipt(sale, copy=True) in out
    driver.keys("F4")
    assert driver.screen == PinEntry("refund", txn_id="s1")
    driver.keys("1", "1", "1", "1", "enter")
    assert driver.screen == PinEntry("refund", txn_id="s1")  # cleared for the next try
    assert driver.state.ctx.manager_pin_failures == 1
    driver.keys(*MANAGER_PIN, "enter")
    assert driver.screen == RefundAmount(sale, 10_000, "10000")
    driver.keys("clear", "9", "9", "9", "9", "9")  # 99,999 > 10,000: the last 9 is refused
    assert driver.screen.typed_won == 9_999 and driver.screen.note
    driver.keys("clear", "4", "00", "0", "enter")
    refund = driver.last(RecordRefund)
    assert (refund.amount_won, refund.void) == (4_000, False)
    assert isinstance(driver.screen, Refunding)
    entry = TxnEntry("r1", 3, "refund", "cpm", 4_000, T0, original_txn="s1")
    driver.send(Committed(refund.request, entry))
    assert driver.screen == RefundDone(entry)
    driver.keys("enter", "F2", "F2", "F2", "F4", *MANAGER_PIN, "enter")
    assert driver.screen.remaining_won == 6_000  # bounded by what is left


def test_wrong_pin_three_times_locks_pin_entry():
    driver = Driver()
    driver.keys("menu")
    for _ in range(3):
        driver.keys("0", "enter")
    assert driver.screen == Notice(
        "PIN 입력 잠김", ("PIN이 맞지 않습니다.", "30초 후에 다시 하세요."), "error"
    )
    driver.keys("enter", "menu")
    assert driver.screen.lines == ("PIN을 여러 번 틀렸습니다.", "30초 후에 다시 하세요.")


def test_refund_refused_by_the_platform_says_why():
    driver = Driver(entries=[sale_entry("s1", 10_000)])
    driver.keys("F2", "F4", *MANAGER_PIN, "enter", "enter")
    refund = driver.last(RecordRefund)
    assert refund.void is True
    driver.send(Declined(refund.request, "refund_refused", "환불할 수 없는 거래입니다."))
    assert isinstance(driver.screen, Notice) and "환불할 수 없는" in driver.screen.lines[1]


def test_scanning_a_digital_receipt_finds_the_sale_in_history():
    driver = Driver(entries=[sale_entry("s1", 1_000), sale_entry("s2", 2_000, seq=2)])
    driver.send(Scanned(CONFIG.receipt_prefix + "s1", "QRCode"))
    assert driver.screen == History(cursor=1)


def test_day_close_shows_and_prints_the_z_report():
    entries = [sale_entry("s1", 10_000, "mpm"), sale_entry("s2", 5_000, "cpm", offline=True)]
    driver = Driver(replace(CONFIG, auto_print=True), entries=entries)
    driver.keys("F3", *MANAGER_PIN, "enter")
    assert isinstance(driver.screen, CloseConfirm)
    assert driver.screen.preview.net_won == 15_000
    out = driver.keys("enter")
    close = first(out, RecordClose)
    assert isinstance(driver.screen, Closing)
    report = replace(z_report(entries), close_seq=3)
    out = driver.send(DayClosed(close.request, report))
    assert driver.screen == ReportView(report) and PrintReport(report) in out
    driver.keys("enter")
    assert driver.state.ctx.today == ()


def test_technician_menu_syncs_and_self_tests():
    driver = Driver()
    driver.keys("menu", *TECH_PIN, "enter")
    assert isinstance(driver.screen, Technician)
    assert SyncNow() in driver.keys("F1")
    assert SelfTest() in driver.keys("F2")
    driver.send(SelfTestDone(("camera: ok", "printer: ok")))
    assert driver.screen.lines == ("camera: ok", "printer: ok")


def test_status_changes_redraw_without_leaving_the_sale():
    driver = Driver()
    to_charge(driver, "1", "00", "0")
    out = driver.send(SyncStatus(False, queue_depth=3, oldest_ms=T0, parked=1))
    assert isinstance(out[0], Show) and isinstance(driver.screen, Charge)
    out = driver.send(DeviceTrouble("printer", "용지 없음"), ClockTrust(False))
    assert Feedback("alert") in out
    assert driver.state.ctx.status.troubles == (("printer", "용지 없음"),)
    driver.send(DeviceTrouble("printer"))
    assert driver.state.ctx.status.troubles == ()


def test_stand_payments_join_todays_list_once():
    stand = TxnEntry("p1", 0, "stand", "mpm", 7_000, T0)
    driver = Driver()
    driver.send(StandPayments((stand,)), StandPayments((stand,)))
    assert driver.state.ctx.today == (stand,)


def test_z_report_adds_up():
    entries = [
        sale_entry("a", 9_500, "mpm", list_won=10_000, discount_won=500, city_won=950),
        sale_entry("b", 5_000, "cpm", offline=True, city_won=500),
        TxnEntry(
            "c", 3, "refund", "mpm", 4_750, T0, discount_won=250, city_won=-475, original_txn="a"
        ),
        TxnEntry("d", 0, "stand", "mpm", 2_000, T0),
    ]
    report = z_report(entries)
    assert (report.sales_count, report.sales_won) == (2, 14_500)
    assert (report.mpm_won, report.cpm_won, report.offline_count) == (9_500, 5_000, 1)
    assert (report.refund_count, report.refund_won, report.stand_won) == (1, 4_750, 2_000)
    assert report.net_won == 14_500 + 2_000 - 4_750
    assert report.discount_won == 250 and report.cashback_won == 975
    assert report.supply_won + report.vat_won == report.net_won


@pytest.mark.parametrize(
    ("gross", "supply", "vat"),
    [(11_000, 10_000, 1_000), (1_000, 909, 91), (0, 0, 0), (5, 5, 0), (-1_000, -909, -91)],
)
def test_vat_split(gross, supply, vat):
    assert split_vat(gross) == (supply, vat)


def test_upfront_discount_floors_to_the_won():
    assert upfront_discount(12_345, 300) == 370
