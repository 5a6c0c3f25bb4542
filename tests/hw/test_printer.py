"""Receipts: the slip's content, its raster through escpos (Dummy and a real TCP socket), the
bytes rebuilt into the image and its QR decoded with zxing-cpp."""

import dataclasses
import socket
import threading
from datetime import datetime

import numpy as np
import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from terminal.hw.printer import network_printer, serial_printer, usb_printer
from terminal.sim.printer import DummyPrinter
from terminal.ui.receipt_image import Line, MerchantFacts, Slip, draw_slip, slip_lines, vat_split

TXN = "0190a1b2-c3d4-7e5f-8a9b-0123456789ab"
MERCHANT = MerchantFacts(
    "혜택플러스 분식",
    "123-45-67890",
    "인천광역시 부평구 부평대로 1",
    "홍길동",
    False,
    "SIM-0000001",
)
SALE = Slip(
    kind="sale",
    merchant=MERCHANT,
    at=datetime(2026, 11, 22, 19, 30, 5),
    list_won=12000,
    discount_won=600,
    method="인천e음 QR",
    approval_number="00001234",
    txn_id=TXN,
    seq=42,
    cashback=(("인천시 캐시백", 1140), ("부평구 캐시백", 228)),
    receipt_url=f"https://receipt.example.invalid/r/{TXN}",
)


def rasters(data: bytes) -> Image.Image:
    """Rebuilds the printed picture from ESC/POS bytes: every GS v 0 block, stacked."""
    blocks, at = [], 0
    while (at := data.find(b"\x1dv0", at)) >= 0:
        width_bytes = int.from_bytes(data[at + 4 : at + 6], "little")
        height = int.from_bytes(data[at + 6 : at + 8], "little")
        body = np.frombuffer(data[at + 8 : at + 8 + width_bytes * height], np.uint8)
        bits = np.unpackbits(body.reshape(height, width_bytes), axis=1)  # 1 = a burnt dot
        blocks.append(np.where(bits == 1, 0, 255).astype(np.uint8))
        at += 8 + width_bytes * height
    assert blocks, "no raster image in the printer's bytes"
    return Image.fromarray(np.vstack(blocks))


def pairs(slip: Slip) -> dict[str, str]:
    return {line.text: line.value for line in slip_lines(slip) if line.style == "pair"}


def test_the_printed_bytes_rebuild_the_slip_and_its_qr_decodes():
    printer = DummyPrinter(paper_width=384)
    slip = draw_slip(SALE, 384)
    printer.print_image(slip)
    data = printer.output
    assert data.startswith(b"\x1b@")  # ESC @: a printer left in another mode starts clean
    assert data.rstrip(b"\n").endswith((b"\x1dVA\x00", b"\x1dV\x00", b"\x1dV\x01", b"\x1dVB\x00"))
    printed = rasters(data)
    assert printed.size == slip.size
    assert np.array_equal(np.asarray(printed) < 128, np.asarray(slip.convert("L")) < 128)
    decoded = zxingcpp.read_barcodes(printed, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in decoded] == [SALE.receipt_url]


def test_a_long_slip_split_into_fragments_rebuilds_whole():
    long = dataclasses.replace(SALE, cashback=tuple((f"층 {n}", n) for n in range(40)))
    slip = draw_slip(long, 576)
    assert slip.height > 960  # escpos sends it in more than one GS v 0 block
    printer = DummyPrinter(paper_width=576)
    printer.print_image(slip)
    assert printer.output.count(b"\x1dv0") >= 2
    assert np.array_equal(np.asarray(rasters(printer.output)), np.asarray(slip.convert("L")))


def test_a_sale_carries_what_a_korean_receipt_carries():
    lines = slip_lines(SALE)
    texts = " ".join(line.text for line in lines)
    for fact in ("혜택플러스 분식", "123-45-67890", "홍길동", "인천광역시 부평구", "SIM-0000001"):
        assert fact in texts
    shown = pairs(SALE)
    assert shown["거래일시"] == "2026-11-22 19:30:05"
    assert shown["승인번호"] == "00001234"
    assert shown["판매금액"] == "12,000원"
    assert shown["선할인"] == "-600원"
    assert shown["결제금액"] == "11,400원"
    assert (shown["공급가액"], shown["부가세"]) == ("10,364원", "1,036원")
    assert shown["인천시 캐시백 적립"] == "1,140원"
    assert shown["캐시백 합계"] == "1,368원"
    assert shown["거래번호"] == "일련번호 42"
    assert Line("left", TXN, size=16) in lines
    assert Line("qr", SALE.receipt_url) in lines


def test_a_tax_exempt_merchant_prints_no_vat():
    exempt = dataclasses.replace(SALE, merchant=dataclasses.replace(MERCHANT, tax_exempt=True))
    shown = pairs(exempt)
    assert "부가세" not in shown and shown["면세물품가액"] == "11,400원"


def test_a_refund_slip_quotes_the_original_approval_and_reverses_the_amounts():
    refund = dataclasses.replace(
        SALE,
        kind="refund",
        approval_number="00001299",
        original_approval_number="00001234",
        original_txn_id=TXN,
    )
    lines = slip_lines(refund)
    shown = pairs(refund)
    assert lines[0] == Line("centre", "환불 영수증", size=34)
    assert shown["원거래 승인번호"] == "00001234"
    assert shown["승인번호"] == "00001299"
    assert shown["환불금액"] == "-11,400원"
    assert shown["인천시 캐시백 회수"] == "-1,140원"


def test_an_offline_acceptance_says_the_approval_is_pending():
    assert pairs(dataclasses.replace(SALE, approval_number=""))["승인번호"].startswith("오프라인")


@given(st.integers(-10_000_000, 10_000_000))
def test_vat_and_supply_add_up_and_vat_is_a_rounded_eleventh(total):
    supply, vat = vat_split(total)
    assert supply + vat == total
    assert abs(vat * 11 - total) <= 5.5


def test_a_network_printer_sends_the_same_bytes_over_tcp():
    server = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def serve():
        connection, _ = server.accept()
        with connection:
            while chunk := connection.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=serve)
    thread.start()
    slip = draw_slip(SALE, 384)
    printer = network_printer("127.0.0.1", server.getsockname()[1], 384)
    printer.print_image(slip)
    printer.close()
    thread.join(timeout=10)
    server.close()
    dummy = DummyPrinter(384)
    dummy.print_image(slip)
    assert bytes(received) == dummy.output


def test_absent_printers_say_which_and_what_to_do(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free_port = probe.getsockname()[1]
    checks = [
        network_printer("127.0.0.1", free_port, 384).check(),
        serial_printer(str(tmp_path / "ttyUSB9"), 9600, 384).check(),
        usb_printer(0x0416, 0x5011, 384).check(),
    ]
    for check, fix in zip(checks, ("printer.host", "dialout", "lsusb"), strict=True):
        assert not check.ok
        assert check.problem.startswith(f"printer: cannot open the {check.backend} printer")
        assert fix in check.problem


def test_a_slip_wider_than_the_paper_is_refused():
    with pytest.raises(ValueError, match="576 dots wide, the paper 384"):
        DummyPrinter(384).print_image(draw_slip(SALE, 576))
