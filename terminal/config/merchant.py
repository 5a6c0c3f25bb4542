"""What this terminal's configuration means for a payment: cashback rates and 선할인, offline
limits, the issuer's numeric code format and the fields of its sale QR."""

from __future__ import annotations

from terminal.config.schema import Config
from terminal.core.benefits import DISCOUNT, BenefitRates, Price, price_sale
from terminal.core.ids import new_charge_id
from terminal.core.offline import OfflineLimits
from terminal.core.sale_qr import SaleQr
from terminal.core.tokens import BarcodeFormat


def rates_for(config: Config) -> BenefitRates:
    """The benefit rates of the configured issuer and merchant: the merchant's 상생 rate is
    cashback paid later or 선할인 at payment, as its configured mode says."""
    b, merchant = config.benefits, config.merchant
    discount = merchant.sangsaeng_mode == DISCOUNT
    return BenefitRates(
        city_rate_bp=b.city_rate_bp,
        city_monthly_cap_won=b.city_monthly_cap_won,
        district_topup_bp=b.district_topup_bp,
        district_monthly_cap_won=b.district_monthly_cap_won,
        merchant_rate_bp=0 if discount else merchant.sangsaeng_rate_bp,
        merchant_discount_bp=merchant.sangsaeng_rate_bp if discount else 0,
    )


def price_for(config: Config, list_won: int) -> Price:
    """What the customer is charged for `list_won`: the sale QR's and authorization's amount is
    its charged_won, less the merchant's 선할인 when it gives one."""
    return price_sale(list_won, rates_for(config))


def barcode_for(config: Config) -> BarcodeFormat:
    """The numeric payment code format of the configured issuer's wallets."""
    return BarcodeFormat(config.issuer.barcode_prefix, config.issuer.barcode_digits)


def limits_for(config: Config) -> OfflineLimits:
    """The offline acceptance limits of the configured issuer."""
    o = config.offline
    return OfflineLimits(o.enabled, o.max_amount_won, o.max_total_won, o.max_count, o.max_age_hours)


def sale_for(config: Config, amount_won: int, key_id: str, now: float, random: bytes) -> SaleQr:
    """Sale QR fields for this device's merchant, with a fresh charge id and configured expiry."""
    merchant = config.merchant
    return SaleQr(
        platform_guid=config.platform.guid,
        merchant_id=merchant.id,
        terminal_id=config.device.id,
        mcc=merchant.mcc,
        amount_won=amount_won,
        name_en=merchant.name_en,
        city_en=merchant.city_en,
        name_ko=merchant.name_ko,
        city_ko=merchant.city_ko,
        charge_id=new_charge_id(int(now * 1000), random),
        terminal_label=config.device.id,
        expires_at=int(now) + config.qr.sale_expiry_seconds,
        key_id=key_id,
    )
