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
from tests.core.test_emv import VECTORS


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
