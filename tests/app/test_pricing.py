"""One rule prices a sale everywhere: with the merchant's 선할인 configured, the sale QR's
amount, the ledger record and the approved screen all agree with price_sale on the merchant's
rates; and the session reads customer barcodes in the issuer's configured format."""

from __future__ import annotations

import pytest

from terminal.app.settings import session_config
from terminal.config.merchant import barcode_for, price_for, rates_for
from terminal.core.benefits import price_sale
from terminal.core.sale_qr import read_sale_qr
from terminal.core.session.model import Approved, Charge
from terminal.ledger.reader import read_records
from tests.app.kit import Kit, kit_config

DISCOUNT = {
    "QR_TERMINAL__MERCHANT__SANGSAENG_MODE": "discount",
    "QR_TERMINAL__MERCHANT__SANGSAENG_RATE_BP": "300",
}


@pytest.fixture
def kit(tmp_path):
    kit = Kit(tmp_path / "state", config=kit_config(tmp_path / "state", **DISCOUNT))
    yield kit
    kit.app.shutdown()


def test_a_discounted_sale_is_priced_by_the_merchants_rates_everywhere(kit):
    price = price_sale(12_345, rates_for(kit.config))
    assert price == price_for(kit.config, 12_345) and price.discount_won == 370  # floored
    kit.app.press("1", "2", "3", "4", "5", "enter")
    charge = kit.app.run(
        until=lambda s: isinstance(s.screen, Charge) and s.screen.payload, timeout=10
    ).screen
    assert (charge.list_won, charge.discount_won, charge.amount_won) == (12_345, 370, 11_975)
    assert read_sale_qr(charge.payload)[0].amount_won == price.charged_won
    kit.camera.show(kit.receipt(charge.charge_id, price.charged_won, charge.payload))
    entry = kit.app.run(until=kit.screen_is(Approved), timeout=20).screen.entry
    assert (entry.amount_won, entry.list_won, entry.discount_won) == (11_975, 12_345, 370)
    (record,) = read_records(kit.ledger.path)
    assert (record.amount_won, record.list_won, record.discount_won) == (11_975, 12_345, 370)


def test_the_session_takes_the_configurations_rates_and_barcode(tmp_path):
    config = kit_config(tmp_path, **DISCOUNT)
    session = session_config(config)
    assert session.rates == rates_for(config) and session.discount_bp == 300
    assert session.barcode == barcode_for(config)
    for amount in (1, 33, 12_345, 999_999):
        assert session.price(amount) == price_sale(amount, rates_for(config))


def test_rates_and_a_different_discount_cannot_disagree():
    from terminal.core.benefits import BenefitRates
    from terminal.core.session.model import SessionConfig

    rates = BenefitRates(100, 0, 0, 0, 0, merchant_discount_bp=300)
    with pytest.raises(ValueError, match="discount_bp"):
        SessionConfig(discount_bp=500, rates=rates)
