"""`qr-terminal demo`: runs what the kit can do so far, end to end, on its embedded defaults."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from terminal.config import ConfigError, load_config
from terminal.core.benefits import BenefitRates, MonthToDate, sale_benefits
from terminal.core.money import format_won


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


def run_demo(workdir: Path | None = None, headless: bool = False) -> int:
    def step(text: str) -> None:
        print(f"• {text}", flush=True)

    try:
        loaded = load_config(device_file=None, env={})
    except ConfigError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 2
    config = loaded.config
    workdir = workdir or Path(tempfile.mkdtemp(prefix="qr-terminal-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    step(
        f"configuration loaded: {config.issuer.name_ko} ({config.issuer.name_en}), "
        f"merchant {config.merchant.name_ko} [{config.merchant.id}], device {config.device.id}"
    )
    amount = 12_000
    earned = MonthToDate(city_won=config.benefits.city_monthly_cap_won - 500)
    benefits = sale_benefits(amount, rates_for(config), earned)
    step(
        f"benefits of a {format_won(amount)} sale for a customer who already earned "
        f"{format_won(earned.city_won)} of the {format_won(config.benefits.city_monthly_cap_won)} "
        f"monthly city cap: city {format_won(benefits.city_won)}, "
        f"district {format_won(benefits.district_won)}, 상생 {format_won(benefits.merchant_won)}, "
        f"total {format_won(benefits.total_won)}"
    )
    step(
        "not built yet, so not shown: payment QR codes, camera scanning, the ledger "
        "and the platform sync"
    )
    step(f"files: {workdir}")
    return 0
