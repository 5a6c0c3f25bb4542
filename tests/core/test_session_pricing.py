"""The session prices with the configuration's rates (price_sale, the one rule) and reads
customer barcodes in the issuer's configured format."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from terminal.core.benefits import BenefitRates, price_sale
from terminal.core.session.commands import AuthorizeCode, CreateCharge, RecordSale
from terminal.core.session.events import Authorized, Committed, Scanned
from terminal.core.tokens import BarcodeFormat, customer_barcode
from tests.core.test_session import CONFIG, Driver, first, sale_entry, to_charge

RATES = BenefitRates(100, 50_000, 200, 20_000, 0, merchant_discount_bp=700)


@given(st.integers(min_value=1, max_value=CONFIG.max_sale_won))
def test_the_charge_is_price_sale_on_the_merchants_rates(list_won):
    driver = Driver(replace(CONFIG, discount_bp=700, rates=RATES))
    driver.keys(*str(list_won), "enter")
    create = driver.last(CreateCharge)
    price = price_sale(list_won, RATES)
    assert (create.list_won, create.discount_won, create.amount_won) == (
        price.list_won,
        price.discount_won,
        price.charged_won,
    )


def test_a_barcode_of_the_issuers_format_is_the_same_code_as_its_qr():
    shop_format = BarcodeFormat("1234", 24)
    driver = Driver(replace(CONFIG, barcode=shop_format))
    to_charge(driver, "5", "00", "0")
    out = driver.send(Scanned("EU1:THE-QR-OF-TOKEN-77", "QRCode"))
    request = first(out, AuthorizeCode).request
    record = first(driver.send(Authorized(request, "77", offline=False)), RecordSale)
    driver.send(Committed(record.request, sale_entry("t1", 5_000, token_id="77")))
    driver.keys("enter")
    to_charge(driver, "3", "00", "0")
    out = driver.send(Scanned(customer_barcode(77, shop_format), "Code128"))
    assert not any(isinstance(c, AuthorizeCode) for c in out)
    assert driver.screen.code == "replayed"
