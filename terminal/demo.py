"""`qr-terminal demo`: the kit end to end on its embedded defaults, with no network.

A merchant QR is shown and read back by the simulated app; a customer shows a signed token to
the simulated camera, the pipeline reads it, the offline rules accept it, the sale is signed and
committed to the ledger, and the exported journal verifies against the device certificate.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from PIL import Image

from terminal.config import ConfigError, load_config
from terminal.config.merchant import limits_for, rates_for, sale_for
from terminal.core.benefits import MonthToDate, sale_benefits
from terminal.core.money import format_won
from terminal.core.offline import ClockState, accept_offline_token
from terminal.core.receipt import PaymentReceipt, build_receipt, sale_digest, verify_receipt
from terminal.core.sale_qr import build_sale_qr, verify_sale_qr
from terminal.core.tokens import CustomerToken, build_customer_token, customer_barcode
from terminal.ledger.store import Ledger
from terminal.ledger.verify import verify_export
from terminal.scan.pipeline import Pipeline
from terminal.scan.worker import ScanWorker
from terminal.signing import BoundDeviceKeys, DeviceKey, PlatformKeys
from terminal.sim.ca import SimCA
from terminal.sim.camera import SimCamera, customer_shows
from terminal.sim.scene import render
from terminal.ui.codeimage import render_code128, render_qr
from terminal.ui.screens import message_screen, sale_qr_screen

# The issuer code in platform-signed tokens (two ASCII letters); the simulator issues "IE".
PLATFORM_ISSUER = "IE"
PLATFORM_KID = "sim-platform-1"


def decode_image(path: Path) -> list[str]:
    """What a real decoder reads off a saved screen: the round trip a phone would make."""
    image = np.asarray(Image.open(path).convert("L"))
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
    return [code.text for code in zxingcpp.read_barcodes(image, formats=formats)]


def scan_phone(config, text: str, seed: int) -> tuple[list, object]:
    """A customer swings a phone showing `text` past the simulated camera; the scan events."""
    camera = SimCamera(customer_shows(text), fps=config.camera.fps, seed=seed)
    pipeline = Pipeline(config.decoder.backends, config.decoder.formats)
    worker = ScanWorker(camera, pipeline, config.decoder.max_fps, config.decoder.hold_release_ms)
    return worker.run_to_end(timeout=300), worker.stats()


def run_demo(workdir: Path | None = None, headless: bool = False) -> int:
    def step(text: str) -> None:
        print(f"• {text}", flush=True)

    try:
        config = load_config(device_file=None, env={}).config
    except ConfigError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 2
    workdir = workdir or Path(tempfile.mkdtemp(prefix="qr-terminal-demo-"))
    screens = workdir / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    size, font = (config.display.width, config.display.height), config.display.font
    colour, brand = config.issuer.colour_primary, config.issuer.name_ko
    step(
        f"configuration: {brand} ({config.issuer.name_en}), merchant {config.merchant.name_ko} "
        f"[{config.merchant.id}], device {config.device.id}"
    )
    if not headless:
        step("screens are written as PNG files (no window backend yet)")

    now = time.time()
    synced_ms = int(now * 1000)  # the simulated device synchronised its clock as it started
    device_key = DeviceKey.generate()
    device_key.save(workdir / "device-key.pem")
    ca = SimCA(datetime.datetime.fromtimestamp(now, datetime.UTC))
    certificate = ca.issue(device_key.csr(config.device.serial, config.device.id), config.device.id)
    (workdir / "device-cert.pem").write_bytes(certificate)
    step(
        f"device key generated on the device (P-256, mode 0600, kid {device_key.kid}); "
        "the simulator's CA signed its CSR"
    )
    platform_key = DeviceKey.generate()
    platform = PlatformKeys({PLATFORM_KID: platform_key.public_key})

    # 1. Merchant-presented QR: build, sign, show; the customer's app reads and checks it.
    amount = 12_000
    sale = sale_for(config, amount, device_key.kid, now, os.urandom(8))
    payload = build_sale_qr(sale, device_key.sign)
    screen = screens / "01-sale-qr.png"
    sale_qr_screen(payload, amount, brand, colour, size, font).save(screen)
    enrolled = BoundDeviceKeys()  # the app knows each device key with its merchant and terminal
    enrolled.bind(config.merchant.id, config.device.id, device_key.public_key)
    app_view = verify_sale_qr(decode_image(screen)[0], enrolled.check_sale, int(now))
    step(
        f"sale QR for {format_won(amount)} shown ({len(payload)} characters) → {screen.name}; "
        f"the app decoded it and verified the terminal's signature (charge {app_view.charge_id})"
    )
    receipt = build_receipt(
        PaymentReceipt(
            PLATFORM_ISSUER,
            sale.charge_id,
            amount,
            int(now) + 5,
            os.urandom(8),
            sale_digest(payload),
        ),
        PLATFORM_KID,
        platform_key.sign,
    )
    render_qr(receipt, 360).save(screens / "02-phone-receipt.png")
    verify_receipt(
        decode_image(screens / "02-phone-receipt.png")[0],
        platform.check_tagged,
        sale_payload=payload,
        charge_id=sale.charge_id,
        amount_won=amount,
        expected_issuer=PLATFORM_ISSUER,
    )
    ledger = Ledger(workdir / "terminal.db", device_key, config.device.id)
    mpm = ledger.record_sale(
        amount_won=amount,
        method="mpm",
        benefits=sale_benefits(amount, rates_for(config)),
        clock=ClockState(int(now * 1000) + 5_000, True, synced_ms),
        offline=True,
        charge_id=sale.charge_id,
    )
    step(
        f"the app's payment receipt ({len(receipt)} characters) verified offline for this "
        f"charge; the sale is committed as seq {mpm.record.seq}"
    )

    # 2. Customer-presented token, offline: camera → pipeline → rules → ledger → approved.
    token = CustomerToken(
        PLATFORM_ISSUER, 42_000_000_000_012_345, os.urandom(8), int(now), 180, 50_000
    )
    token_text = build_customer_token(token, PLATFORM_KID, platform_key.sign)
    camera_frame = render(SimCamera(customer_shows(token_text), seed=7).shot_at(1.4), 7)
    cv2.imwrite(str(screens / "03-camera-sees-phone.png"), camera_frame)
    events, stats = scan_phone(config, token_text, seed=7)
    if len(events) != 1:
        step(f"ERROR: the simulated camera produced {len(events)} scan events, expected 1")
        return 1
    step(
        f"simulated camera: a phone swings in, is held, leaves; {stats.frames_decoded} frames at "
        f"{stats.fps:.0f} fps, exactly 1 scan event, read at {events[0].timestamp:.2f} s "
        f"by the '{events[0].step}' step"
    )

    def decide(text: str, at_ms: int):
        clock = ClockState(at_ms, synced_since_boot=True, last_trusted_ms=synced_ms)
        accepted, refused = accept_offline_token(
            text,
            amount,
            check=platform.check_tagged,
            expected_issuer=PLATFORM_ISSUER,
            already_seen=ledger.seen,
            limits=limits_for(config),
            unsynced=ledger.unsynced(),
            clock=clock,
        )
        return accepted, refused, clock

    now_ms = int(now * 1000) + 20_000
    accepted, refused, clock = decide(events[0].code.text, now_ms)
    if refused:
        step(f"ERROR: the offline rules refused a fresh token: {refused}")
        return 1
    benefits = sale_benefits(amount, rates_for(config), MonthToDate())
    recorded = ledger.record_sale(
        amount_won=amount,
        method="cpm",
        benefits=benefits,
        clock=clock,
        offline=True,
        token_id=str(accepted.token_id),
    )
    # Only now, after the commit returned, is the sale shown as approved.
    message_screen(
        "결제 완료",
        [format_won(amount), f"적립 {format_won(benefits.total_won)}"],
        "#2E7D32",
        size,
        font,
    ).save(screens / "04-paid.png")
    step(
        f"offline sale APPROVED after commit: seq {recorded.record.seq}, txn "
        f"{recorded.record.txn_id}, cashback {format_won(benefits.total_won)} → 04-paid.png"
    )

    for label, text, at_ms in (
        ("the same token again", token_text, now_ms + 5_000),
        (
            "a token 200 s old",
            build_customer_token(
                CustomerToken(PLATFORM_ISSUER, 7, os.urandom(8), int(now) - 200, 180, 50_000),
                PLATFORM_KID,
                platform_key.sign,
            ),
            now_ms,
        ),
        ("the numeric barcode", customer_barcode(token.token_id), now_ms),
    ):
        _, refused, _ = decide(text, at_ms)
        step(f"{label}: REFUSED [{refused.code}] {refused.message_ko}")
    message_screen("결제 거절", [refused.message_ko[:18]], "#C62828", size, font).save(
        screens / "05-refused.png"
    )
    render_code128(customer_barcode(token.token_id), 480, 140).save(
        screens / "06-phone-barcode.png"
    )

    export = workdir / "journal.jsonl"
    export.write_text("\n".join(ledger.export_lines(now_ms)) + "\n", encoding="utf-8")
    depth, _ = ledger.queue()
    ledger.close()
    from cryptography import x509

    problems = verify_export(
        export.read_text().splitlines(), x509.load_pem_x509_certificate(certificate).public_key()
    )
    verdict = "OK" if not problems else "; ".join(map(str, problems))
    step(
        f"journal exported and verified against the device certificate: {verdict}; "
        f"{depth} record(s) wait in the outbox"
    )
    step(
        "not built yet, so not shown: the platform simulator and sync, the keypad and display "
        "loop, provisioning"
    )
    step(
        f"files: {workdir} (terminal.db, device-key.pem, device-cert.pem, journal.jsonl, screens/)"
    )
    step(
        f"check it yourself: qr-terminal journal verify {export} --cert "
        f"{workdir / 'device-cert.pem'}"
    )
    return 1 if problems else 0
