"""`qr-terminal emv parse` and `qr-terminal qr sale` as a user runs them."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import zxingcpp
from PIL import Image

from terminal.cli import main
from terminal.core import emv
from terminal.signing import DeviceKey
from tests.core.test_emv import BASE, LONG_CITY, VECTORS, with_crc


def test_emv_parse_prints_one_json_tree_per_payload(capsys):
    assert main(["emv", "parse", *VECTORS[:3]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first["valid"] and first["objects"]["26"]["00"] == "br.gov.bcb.pix"


def test_emv_parse_reads_stdin_and_exits_2_on_any_invalid(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(VECTORS[0] + "\n" + VECTORS[1][:-1] + "0\n"))
    assert main(["emv", "parse"]) == 2
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert "bad_crc" in captured.err


def test_emv_parse_with_nothing_on_stdin_says_so_and_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n  \n"))
    assert main(["emv", "parse"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no payload given" in captured.err
    assert "Traceback" not in captured.err


def test_emv_parse_keeps_hangul_readable_in_json(capsys):
    payload = with_crc(BASE + "64150002ko0105혜택플러스")
    assert main(["emv", "parse", payload]) == 0
    out = capsys.readouterr().out
    assert "혜택플러스" in out and "\\u" not in out
    assert json.loads(out)["objects"]["64"]["01"] == "혜택플러스"


def test_emv_parse_reads_a_payload_over_a_length_limit_with_a_warning(capsys):
    assert main(["emv", "parse", LONG_CITY]) == 0
    captured = capsys.readouterr()
    tree = json.loads(captured.out)
    assert tree["valid"] and tree["objects"]["60"] == "KHAN CHAMKARMONS"
    assert len(tree["warnings"]) == 1 and "id 60" in tree["warnings"][0]
    assert "warning: id 60" in captured.err


def test_emv_parse_error_json_keeps_hangul_readable(capsys):
    payload = with_crc(BASE + "64150002ko0105혜택플러스")[:-1] + "0"
    assert main(["emv", "parse", payload]) == 2
    out = capsys.readouterr().out
    assert "혜택플러스" in out and json.loads(out)["valid"] is False


def test_qr_sale_with_a_key_builds_renders_and_prints(tmp_path, capsys):
    key = DeviceKey.generate()
    key.save(tmp_path / "key.pem")
    png = tmp_path / "sale.png"
    code = main(
        ["qr", "sale", "--amount", "12,000", "--png", str(png), "--key", str(tmp_path / "key.pem")]
    )
    assert code == 0
    captured = capsys.readouterr()
    payload = captured.out.strip()
    assert "throwaway" not in captured.err
    assert emv.to_tree(emv.parse(payload))["54"] == "12000"
    assert zxingcpp.read_barcode(np.asarray(Image.open(png))).text == payload


def test_qr_sale_without_a_key_says_so(capsys):
    assert main(["qr", "sale", "--amount", "500"]) == 0
    assert "throwaway key" in capsys.readouterr().err


def test_qr_sale_refuses_a_bad_amount(capsys):
    assert main(["qr", "sale", "--amount", "12.5"]) == 2
    assert "not an amount" in capsys.readouterr().err


def test_qr_sale_for_a_discounting_merchant_asks_for_the_charged_amount(capsys, monkeypatch):
    monkeypatch.setenv("QR_TERMINAL__MERCHANT__SANGSAENG_MODE", "discount")
    monkeypatch.setenv("QR_TERMINAL__MERCHANT__SANGSAENG_RATE_BP", "500")
    assert main(["qr", "sale", "--amount", "12000"]) == 0
    captured = capsys.readouterr()
    assert emv.to_tree(emv.parse(captured.out.strip()))["54"] == "11400"
    assert "선할인 600원 off the list 12,000원" in captured.err


def test_qr_sale_with_a_key_path_that_is_not_a_key_file_says_what_it_is(capsys, tmp_path):
    """The key check once suggested `chmod 600 /dev/null`."""
    assert main(["qr", "sale", "--amount", "500", "--key", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "/dev/null: is a character device, not a key file" in err
    assert "chmod" not in err and "Traceback" not in err
