"""Sale QRs signed by an enrolled test device, as the terminal would show them."""

from __future__ import annotations

import os
import time

from terminal.core.ids import new_charge_id
from terminal.core.sale_qr import SaleQr, build_sale_qr
from terminal.signing import DeviceKey

MERCHANT = "M0000000001"  # firmware_config/defaults.toml: the simulator's merchant


def sale_qr(
    key: DeviceKey,
    terminal_id: str,
    amount: int,
    *,
    expires_in: int = 300,
    merchant_id: str = MERCHANT,
    now: float | None = None,
) -> tuple[SaleQr, str]:
    now = time.time() if now is None else now
    sale = SaleQr(
        platform_guid="kr.incheon.eeum",
        merchant_id=merchant_id,
        terminal_id=terminal_id,
        mcc="5812",
        amount_won=amount,
        name_en="HYETAEK PLUS BUNSIK",
        city_en="INCHEON",
        name_ko="혜택플러스 분식",
        city_ko="인천",
        charge_id=new_charge_id(int(now * 1000), os.urandom(8)),
        terminal_label=terminal_id,
        expires_at=int(now) + expires_in,
        key_id=key.kid,
    )
    return sale, build_sale_qr(sale, key.sign)


def charge_body(sale: SaleQr, payload: str) -> dict:
    return {
        "charge_id": sale.charge_id,
        "amount": sale.amount_won,
        "currency": "410",
        "expires_at_ms": sale.expires_at * 1000,
        "payload": payload,
    }
