"""`qr-terminal demo`: runs what the kit can do so far, end to end, on its embedded defaults."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from PIL import Image

from terminal.codes_cli import sale_for
from terminal.config import ConfigError, load_config
from terminal.core.benefits import BenefitRates, MonthToDate, sale_benefits
from terminal.core.money import format_won
from terminal.core.receipt import PaymentReceipt, build_receipt, verify_receipt
from terminal.core.sale_qr import build_sale_qr, verify_sale_qr
from terminal.core.tokens import (
    CustomerToken,
    TokenError,
    build_customer_token,
    customer_barcode,
    parse_customer_barcode,
    verify_customer_token,
)
from terminal.scan.pipeline import Pipeline
from terminal.scan.worker import ScanWorker
from terminal.signing import DeviceKey, PlatformKeys
from terminal.sim.camera import SimCamera, customer_shows
from terminal.sim.scene import render
from terminal.ui.codeimage import render_code128, render_qr
from terminal.ui.screens import message_screen, sale_qr_screen

# The issuer code in platform-signed tokens (two ASCII letters); the simulator issues "IE".
PLATFORM_ISSUER = "IE"


def rates_for(config) -> BenefitRates:
    """The benefit rates of the configured issuer and merchant."""
    b = config.benefits
    return BenefitRates(
        city_rate_bp=b.city_rate_bp,
        city_monthly_cap_won=b.city_monthly_cap_won,
        district_topup_bp=b.district_topup_bp,
        district_monthly_cap_won=b.district_monthly_cap_won,
        merchant_rate_bp=config.merchant.sangsaeng_rate_bp,
    )


def decode_image(path: Path) -> list[str]:
    """What a real decoder reads off a saved screen: the round trip a phone would make."""
    image = np.asarray(Image.open(path).convert("L"))
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
    return [code.text for code in zxingcpp.read_barcodes(image, formats=formats)]


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
    size = (config.display.width, config.display.height)
    colour, brand = config.issuer.colour_primary, config.issuer.name_ko
    step(
        f"configuration: {brand} ({config.issuer.name_en}), merchant {config.merchant.name_ko} "
        f"[{config.merchant.id}], device {config.device.id}"
    )
    if not headless:
        step("screens are written as PNG files (the window backend is not built yet)")

    device_key = DeviceKey.generate()
    device_key.save(workdir / "device-key.pem")
    (workdir / "device.csr.pem").write_bytes(device_key.csr(config.device.serial, config.device.id))
    step(f"device key generated (P-256, mode 0600, kid {device_key.kid}) and CSR written")
    platform_key = DeviceKey.generate()
    platform = PlatformKeys({"sim-platform-1": platform_key.public_key})
    now = int(time.time())

    # 1. Merchant-presented QR: build, sign, show, and read it back as the customer's app would.
    amount = 12_000
    sale = sale_for(config, amount, device_key.kid, now, os.urandom(8))
    payload = build_sale_qr(sale, device_key.sign)
    screen = screens / "01-sale-qr.png"
    sale_qr_screen(payload, amount, brand, colour, size, config.display.font).save(screen)
    decoded = decode_image(screen)
    app_view = verify_sale_qr(
        decoded[0], lambda kid, m, s: {device_key.kid: device_key}[kid].verify(m, s), now
    )
    step(
        f"sale QR for {format_won(amount)} shown ({len(payload)} characters) → {screen.name}; "
        f"the app decoded it and verified the terminal's signature: charge {app_view.charge_id}, "
        f"{format_won(app_view.amount_won)}, expires in {config.qr.sale_expiry_seconds} s"
    )
    receipt = build_receipt(
        PaymentReceipt(PLATFORM_ISSUER, sale.charge_id, amount, now + 5, os.urandom(8)),
        "sim-platform-1",
        platform_key.sign,
    )
    receipt_path = screens / "02-phone-receipt.png"
    render_qr(receipt, 360).save(receipt_path)
    verify_receipt(
        decode_image(receipt_path)[0],
        platform.check_tagged,
        charge_id=sale.charge_id,
        amount_won=amount,
        expected_issuer=PLATFORM_ISSUER,
    )
    step(f"the app's payment receipt ({len(receipt)} characters) verified offline for this charge")

    # 2. Customer-presented token: the simulated platform issues one, the phone shows it.
    token = CustomerToken(PLATFORM_ISSUER, 4_2000_0000_0001_2345, os.urandom(8), now, 180, 50_000)
    token_text = build_customer_token(token, "sim-platform-1", platform_key.sign)
    camera = SimCamera(customer_shows(token_text), fps=config.camera.fps, seed=7)
    cv2.imwrite(str(screens / "03-camera-sees-phone.png"), render(camera.shot_at(1.4), 7))
    worker = ScanWorker(
        camera,
        Pipeline(config.decoder.backends, config.decoder.formats),
        config.decoder.max_fps,
        config.decoder.hold_release_ms,
    )
    worker.start()
    worker.finished.wait()
    worker.stop()
    stats = worker.stats()
    events = [worker.events.get_nowait() for _ in range(worker.events.qsize())]
    step(
        f"simulated camera: a customer swings a phone showing a {len(token_text)}-character token "
        f"in, holds it, leaves; {stats.frames_decoded} frames at {stats.fps:.0f} fps, "
        f"{len(events)} scan event(s), first read at {events[0].timestamp:.2f} s "
        f"by the '{events[0].step}' step"
        if events
        else "simulated camera: NO code was read"
    )
    if len(events) != 1:
        return 1
    verified = verify_customer_token(
        events[0].code.text, platform.check_tagged, now + 20, PLATFORM_ISSUER
    )
    step(
        f"customer token verified with the platform key: token {verified.token_id}, "
        f"offline cap {format_won(verified.offline_cap_won)}"
    )
    try:
        verify_customer_token(token_text, platform.check_tagged, now + 200, PLATFORM_ISSUER)
        step("ERROR: an expired token was accepted")
        return 1
    except TokenError as error:
        step(f"the same token 200 s later is refused: {error}")
    barcode_path = screens / "04-phone-barcode.png"
    render_code128(customer_barcode(token.token_id), 480, 140).save(barcode_path)
    token_id = parse_customer_barcode(decode_image(barcode_path)[0])
    step(f"its numeric Code128 form names token {token_id} (online authorization only)")

    earned = MonthToDate(city_won=config.benefits.city_monthly_cap_won - 500)
    benefits = sale_benefits(amount, rates_for(config), earned)
    step(
        f"cashback of this sale for a customer with {format_won(earned.city_won)} of the "
        f"{format_won(config.benefits.city_monthly_cap_won)} city cap used: "
        f"city {format_won(benefits.city_won)}, district {format_won(benefits.district_won)}, "
        f"상생 {format_won(benefits.merchant_won)}, total {format_won(benefits.total_won)}"
    )
    paid = message_screen(
        "결제 완료", [format_won(amount), f"적립 {format_won(benefits.total_won)}"], "#2E7D32", size
    )
    paid.save(screens / "05-paid-screen-preview.png")  # look only: no ledger yet
    step("not built yet, so not shown: the signed journal and offline queue, and the platform sync")
    step(f"files: {workdir} (keys, CSR, screens/)")
    return 0
