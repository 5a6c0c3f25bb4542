"""What the app takes from the configuration: the session's settings (presets checked) and the
screen theme."""

from __future__ import annotations

from terminal import __version__
from terminal.app.errors import AppError
from terminal.config.merchant import barcode_for, rates_for
from terminal.core.money import AmountError, parse_won
from terminal.core.session.model import Preset, SessionConfig
from terminal.ui.paint import Theme

MAX_PRESETS = 12


def session_config(config) -> SessionConfig:
    """What the session needs of the configuration. Raises AppError for a bad preset."""
    presets = []
    for text in config.counter.presets:
        label, _, won = text.rpartition("=")
        try:
            amount = parse_won(won)
        except AmountError:
            amount = 0
        if not label.strip() or amount <= 0:
            raise AppError(f"[counter] presets: {text!r} is not 'label=won' (e.g. '떡볶이=4000')")
        presets.append(Preset(label.strip(), amount))
    if len(presets) > MAX_PRESETS:
        raise AppError(f"[counter] presets: {len(presets)} given, at most {MAX_PRESETS} fit")
    rates = rates_for(config)
    return SessionConfig(
        brand=config.issuer.name_ko,
        merchant_name=config.merchant.name_ko,
        device_id=config.device.id,
        version=f"qr-terminal {__version__}",
        max_sale_won=config.sale.max_amount_won,
        presets=tuple(presets),
        # One rule prices a sale everywhere: the session prices with the merchant's rates.
        discount_bp=rates.merchant_discount_bp,
        rates=rates,
        barcode=barcode_for(config),
        manager_pin_hash=config.counter.manager_pin_hash,
        technician_pin_hash=config.counter.technician_pin_hash,
        receipt_prefix=config.printer.receipt_url,
        auto_print=config.counter.auto_print,
    )


def theme_for(config) -> Theme:
    """The screens' look: the issuer's colours, the display's font, the shop's time zone."""
    issuer = config.issuer
    return Theme(
        issuer.colour_primary, issuer.colour_accent, config.display.font, config.locale.timezone
    )
