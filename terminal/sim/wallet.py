"""A simulated customer wallet: reads the terminal's screen with a real decoder (zxing-cpp),
checks the sale QR's signature with the key the platform bound to that merchant and terminal
(refusing swapped, re-priced and expired QRs) before paying it at the platform, pays a shop's
printed QR stand (고정형) the amount the customer types after the same check, and shows its own
one-time tokens as a QR and a Code128 barcode.

The platform is reached through a link: `InProcessLink` (a PlatformServer in this process) or
`AdminLink` (the simulator's loopback admin endpoint, from another process).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from terminal.core.sale_qr import SaleQr, SaleQrError, read_sale_qr, verify_sale_qr
from terminal.core.session.stand import Stand, StandError, verify_stand_qr
from terminal.signing import load_jwks, verify_raw
from terminal.ui.codeimage import render_code128, render_qr


class WalletRefusal(Exception):
    """The wallet will not pay; `reason`: no_code, swapped, re-priced (bad_signature),
    expired, malformed, or the platform's refusal (e.g. insufficient_funds, paid)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Binding:
    """What the platform says a terminal is: its merchant and its device keys by kid."""

    merchant_id: str
    keys: dict[str, ec.EllipticCurvePublicKey]


@dataclass(frozen=True)
class Token:
    token_id: int
    qr_text: str
    barcode_text: str
    expires_at: int

    def qr_image(self, size: int = 300) -> Image.Image:
        return render_qr(self.qr_text, size)

    def barcode_image(self, width: int = 600, height: int = 160) -> Image.Image:
        return render_code128(self.barcode_text, width, height)


@dataclass(frozen=True)
class StandPaid:
    """A payment to a printed stand, as the platform answered it."""

    stand: Stand
    payment_id: str
    amount_won: int
    paid_at_ms: int


class PlatformLink(Protocol):
    def binding(self, terminal_id: str) -> Binding | None: ...
    def pay(self, charge_id: str, payload: str, wallet_ref: str) -> str: ...
    def pay_stand(self, payload: str, amount_won: int, wallet_ref: str) -> dict: ...
    def open_wallet(self, balance_won: int) -> str: ...
    def issue_token(self, wallet_ref: str) -> Token: ...


class InProcessLink:
    """A PlatformServer running in this process (its `call` runs on the server's loop)."""

    def __init__(self, server):
        self.server = server

    def binding(self, terminal_id: str) -> Binding | None:
        from terminal.sim.platform.admin import device_summary

        summary = self.server.call(device_summary, terminal_id)
        return _binding(summary)

    def pay(self, charge_id: str, payload: str, wallet_ref: str) -> str:
        from terminal.sim.platform.charges import PaymentRefused, pay

        try:
            return self.server.call(pay, charge_id, payload, wallet_ref)
        except PaymentRefused as refused:
            raise WalletRefusal(refused.reason, str(refused)) from None

    def pay_stand(self, payload: str, amount_won: int, wallet_ref: str) -> dict:
        from terminal.sim.platform.charges import PaymentRefused
        from terminal.sim.platform.stands import pay_stand

        try:
            return self.server.call(pay_stand, payload, amount_won, wallet_ref)
        except PaymentRefused as refused:
            raise WalletRefusal(refused.reason, str(refused)) from None

    def open_wallet(self, balance_won: int) -> str:
        from terminal.sim.platform.wallets import open_wallet

        return self.server.call(open_wallet, balance_won)

    def issue_token(self, wallet_ref: str) -> Token:
        from terminal.sim.platform.wallets import issue_token

        issued = self.server.call(issue_token, wallet_ref)
        return Token(issued.token_id, issued.qr_text, issued.barcode_text, issued.expires_at)


class AdminLink:
    """The simulator's admin endpoint on loopback (`qr-terminal platform serve` prints it)."""

    def __init__(self, admin_url: str, timeout: float = 10.0):
        self.admin_url, self.timeout = admin_url.rstrip("/"), timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.admin_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def binding(self, terminal_id: str) -> Binding | None:
        status, summary = self._call("GET", f"/admin/devices/{terminal_id}")
        return _binding(summary) if status == 200 else None

    def pay(self, charge_id: str, payload: str, wallet_ref: str) -> str:
        status, answer = self._call(
            "POST",
            f"/admin/charges/{charge_id}/pay",
            {"payload": payload, "wallet_ref": wallet_ref},
        )
        if status != 200:
            raise WalletRefusal(answer.get("refused", "refused"), answer.get("detail", ""))
        return answer["receipt"]

    def pay_stand(self, payload: str, amount_won: int, wallet_ref: str) -> dict:
        status, answer = self._call(
            "POST",
            "/admin/stands/pay",
            {"payload": payload, "amount": amount_won, "wallet_ref": wallet_ref},
        )
        if status != 201:
            raise WalletRefusal(answer.get("refused", "refused"), answer.get("detail", ""))
        return answer

    def open_wallet(self, balance_won: int) -> str:
        return self._call("POST", "/admin/wallets", {"balance": balance_won})[1]["wallet_ref"]

    def issue_token(self, wallet_ref: str) -> Token:
        status, answer = self._call("POST", f"/admin/wallets/{wallet_ref}/tokens")
        if status != 201:
            raise LookupError(answer.get("error", f"no wallet {wallet_ref}"))
        return Token(**answer)


def _binding(summary: dict | None) -> Binding | None:
    if summary is None:
        return None
    keys = load_jwks(summary["jwks"]) if summary["jwks"]["keys"] else {}
    return Binding(summary["merchant_id"], keys)


def read_screen(image: Image.Image | np.ndarray | Path) -> list[str]:
    """The QR texts a phone camera would read off the terminal's screen (zxing-cpp)."""
    import zxingcpp

    if isinstance(image, Path):
        image = Image.open(image)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in found if code.valid]


@dataclass(frozen=True)
class Payment:
    sale: SaleQr
    receipt: str


class Wallet:
    """One customer's phone: a wallet at the platform and a clock (Unix seconds)."""

    def __init__(self, link: PlatformLink, wallet_ref: str, now: Callable[[], float] = time.time):
        self.link, self.wallet_ref, self._now = link, wallet_ref, now

    @classmethod
    def open(cls, link: PlatformLink, balance_won: int = 1_000_000, **options) -> Wallet:
        return cls(link, link.open_wallet(balance_won), **options)

    def check(self, payload: str) -> SaleQr:
        """The sale if its QR is genuine, for its own merchant and terminal, and unexpired."""
        bindings: dict[str, Binding | None] = {}

        def check(*args) -> bool:
            # (merchant_id, terminal_id, kid, message, signature); older cores passed only the
            # last three, so the binding then comes from the parsed QR below.
            merchant_id, terminal_id = args[:2] if len(args) == 5 else (sale_ids or ("", ""))
            kid, message, signature = args[-3:]
            binding = bindings.setdefault(terminal_id, self.link.binding(terminal_id))
            if binding is None or binding.merchant_id != merchant_id or kid not in binding.keys:
                raise LookupError(kid)
            return verify_raw(binding.keys[kid], message, signature)

        sale_ids = _ids(payload)
        try:
            sale = verify_sale_qr(payload, check, int(self._now()))
        except SaleQrError as error:
            reason = {"unknown_key": "swapped", "bad_signature": "re-priced"}.get(
                error.reason, error.reason
            )
            raise WalletRefusal(reason, str(error)) from None
        return sale

    def pay_payload(self, payload: str) -> Payment:
        sale = self.check(payload)
        return Payment(sale, self.link.pay(sale.charge_id, payload, self.wallet_ref))

    def check_stand(self, payload: str) -> Stand:
        """The stand if its QR is signed by a key the platform bound to its merchant and
        terminal (a printed stand does not expire)."""
        bindings: dict[str, Binding | None] = {}

        def check(merchant_id, terminal_id, kid, message, signature) -> bool:
            binding = bindings.setdefault(terminal_id, self.link.binding(terminal_id))
            if binding is None or binding.merchant_id != merchant_id or kid not in binding.keys:
                raise LookupError(kid)
            return verify_raw(binding.keys[kid], message, signature)

        try:
            return verify_stand_qr(payload, check)
        except StandError as error:
            reason = {"unknown_key": "swapped", "bad_signature": "re-priced"}.get(
                error.reason, error.reason
            )
            raise WalletRefusal(reason, str(error)) from None

    def pay_stand(self, payload: str, amount_won: int) -> StandPaid:
        """Reads a printed stand's QR, checks it, and pays it the amount the customer typed."""
        stand = self.check_stand(payload)
        answer = self.link.pay_stand(payload, amount_won, self.wallet_ref)
        return StandPaid(stand, answer["payment_id"], answer["amount"], answer["paid_at_ms"])

    def pay_screen(self, image: Image.Image | np.ndarray | Path) -> Payment:
        """Scans the terminal's screen and pays the sale QR on it."""
        texts = read_screen(image)
        if not texts:
            raise WalletRefusal("no_code", "no QR code found on the screen")
        return self.pay_payload(texts[0])

    def token(self) -> Token:
        """A fresh one-time code to show the terminal (QR and Code128)."""
        return self.link.issue_token(self.wallet_ref)


def _ids(payload: str) -> tuple[str, str] | None:
    try:
        sale = read_sale_qr(payload)[0]
    except SaleQrError:
        return None
    return sale.merchant_id, sale.terminal_id
