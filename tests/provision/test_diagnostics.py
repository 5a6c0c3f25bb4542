"""The support archive: every part is there, and no private key, certificate body, customer
token or signed record is inside, even when the logs carry them."""

from __future__ import annotations

import hashlib
import json
import tarfile
import time

import pytest

from terminal.cli import main
from terminal.config.pins import make_pin_hash
from terminal.ledger.store import Ledger
from terminal.provision.diagnostics import collect, redact, selftest_output
from terminal.provision.layout import DEVICE_FILE, ProvisionedPaths, StateFiles, under
from terminal.signing import DeviceKey
from terminal.sim.platform.server import PlatformServer
from tests.ledger.helpers import T0, sale
from tests.provision.test_provision_root import provision

TOKEN_TEXT = "EU1:6BF5 QE9$*%.-:/+ABCDEFGHIJKLMNOP0123456789XYZABCDEFGHIJKLMNOPQ"
BARCODE = "970012345678901234567890"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    with PlatformServer(tmp_path_factory.mktemp("platform")) as server:
        assert main(provision(server, root, "--code", server.new_code())) == 0
        files = StateFiles.from_paths(ProvisionedPaths(), root)
        device_id = json.loads(files.enrollment.read_text())["device_id"]
        ledger = Ledger(files.database, DeviceKey.load(files.key), device_id)
        now_n = (int(time.time() * 1000) - T0) // 1000
        recorded = [
            sale(ledger, 5000, now_n, offline=True, token="tok-secret-0001"),
            sale(ledger, 7000, now_n + 1),
        ]
        ledger.close()
        yield root, files, [r.jws for r in recorded], server


def members_of(archive) -> dict[str, str]:
    with tarfile.open(archive) as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read().decode() for m in tar.getmembers()
        }


def test_archive_has_every_part_and_no_secret(tree, tmp_path):
    root, files, jws_texts, _ = tree
    key_pem = files.key.read_text()
    cert_pem = files.cert.read_text()
    # Logs that (wrongly) carry every secret: the archive must still not.
    journal = "\n".join(
        [
            "Nov 22 10:00:01 pi qr-terminal[1]: <6>sale ok",
            f"Nov 22 10:00:02 pi qr-terminal[1]: <7>debug key {key_pem}",
            f"Nov 22 10:00:03 pi qr-terminal[1]: <7>record {jws_texts[0]}",
            f"Nov 22 10:00:04 pi qr-terminal[1]: <7>scanned {TOKEN_TEXT}",
            f"Nov 22 10:00:05 pi qr-terminal[1]: <7>barcode {BARCODE} read",
            f"Nov 22 10:00:06 pi qr-terminal[1]: <7>cert {cert_pem}",
        ]
    )
    out = tmp_path / "diag.tar.gz"
    collect(
        out,
        under(root, DEVICE_FILE),
        root,
        selftest_json=lambda: '{"passed": true}',
        journal=lambda: journal,
    )
    members = members_of(out)
    assert {
        "config-effective.toml",
        "device.toml",
        "certificate.txt",
        "selftest.json",
        "ledger.json",
        "versions.txt",
        "hardware.txt",
        "logs.txt",
        "enrollment.json",
    } <= set(members)
    everything = "\n".join(members.values())
    assert "PRIVATE KEY" not in everything
    for line in key_pem.splitlines()[1:-1] + cert_pem.splitlines()[1:-1]:
        assert line not in everything
    for jws in jws_texts:
        for part in jws.split("."):
            assert part not in everything
    assert "EU1:" not in everything and "QE9" not in everything
    assert BARCODE not in everything
    assert "tok-secret-0001" not in everything
    # The useful parts are still there.
    ledger = json.loads(members["ledger.json"])
    assert ledger["last_seq"] == 2 and ledger["by_state"] == {"pending": 2}
    assert "sale ok" in members["logs.txt"]
    assert "not after:" in members["certificate.txt"]
    assert "qr-terminal" in members["versions.txt"]
    assert out.stat().st_mode & 0o777 == 0o600


def test_cli_builds_an_archive_with_the_real_selftest(tree, tmp_path, capsys):
    root, *_ = tree
    out = tmp_path / "support.tar.gz"
    assert main(["maintain", "diagnostics", "--root", str(root), "--out", str(out)]) == 0
    selftest = json.loads(members_of(out)["selftest.json"])
    assert {c["check"] for c in selftest["checks"]} >= {"key", "certificate", "platform"}
    assert main(["maintain", "diagnostics", "--root", str(root), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_redact_keeps_public_digests():
    digest = "ab" * 32
    assert redact(f"fingerprint {digest}") == f"fingerprint {digest}"
    assert redact("password = hunter2") == "password = [redacted]"


PIN_HASH = make_pin_hash("4821")
TECHNICIAN_HASH = make_pin_hash("907314")
OLD_SHA256 = hashlib.sha256(b"4821").hexdigest()


def test_pin_hashes_never_reach_the_archive(tree, tmp_path):
    """A hash of a 4-8 digit PIN can be guessed offline (review #1): every key naming a pin is
    redacted in the device file, the effective configuration and the logs."""
    root, *_ = tree
    device = tmp_path / "device.toml"
    device.write_text(
        under(root, DEVICE_FILE).read_text()
        + f'\n[counter]\nmanager_pin_hash = "{PIN_HASH}"\n'
        + f'technician_pin_hash = "{TECHNICIAN_HASH}"\n'
    )
    out = tmp_path / "diag.tar.gz"
    journal = f'<7>counter {{"manager_pin_hash": "{PIN_HASH}", "ok": 1}}\n<7>pin = 4821\n'
    journal += f"<7>manager_pin_hash={PIN_HASH}\n<7>old: {OLD_SHA256}\n"
    collect(out, device, root, selftest_json=lambda: "{}", journal=lambda: journal)
    members = members_of(out)
    assert "manager_pin_hash = [redacted]" in members["device.toml"]
    assert "manager_pin_hash" in members["config-effective.toml"]  # it loaded: the key is there
    everything = "\n".join(members.values())
    for stored in (PIN_HASH, TECHNICIAN_HASH):
        assert stored not in everything
        assert stored.split("$")[2] not in everything and stored.split("$")[3] not in everything
    assert "4821" not in everything


@pytest.mark.parametrize(
    "line",
    [
        f'manager_pin_hash = "{PIN_HASH}"',
        f"manager_pin_hash={PIN_HASH}",
        f'  technician_pin_hash="{PIN_HASH}"',
        f'counter.manager_pin_hash = "{PIN_HASH}"',
        "PIN = 123456",
        f'"manager_pin_hash": "{PIN_HASH}",',
        f'    "Technician_PIN": "{PIN_HASH}"',
        f'manager_pin_sha256 = "{OLD_SHA256}"',  # an old file still holding the unsalted hash
    ],
)
def test_redact_hides_every_value_named_pin(line):
    redacted = redact(line)
    assert PIN_HASH.split("$")[3] not in redacted and OLD_SHA256 not in redacted
    assert "123456" not in redacted
    assert "[redacted]" in redacted


@pytest.mark.parametrize(
    "line",
    ["buzzer_pin = 18", "green_led_pin = 23", "rgb_led_pins = [22, 27, 17]", '"red_led_pin": 24,'],
)
def test_redact_keeps_the_gpio_wiring(line):
    assert redact(line) == line


def test_redacted_json_stays_json():
    document = {"facts": {"pin": [1, 2], "code": 5, "tokens": {"x": 1}, "note": "pin = 4821"}}
    redacted = json.loads(redact(json.dumps(document, indent=2)))
    assert redacted == {
        "facts": {
            "pin": "[redacted]",
            "code": "[redacted]",
            "tokens": {"x": 1},
            "note": "pin = [redacted]",
        }
    }


def test_a_secret_after_another_setting_on_a_log_line_is_hidden():
    line = "sync: status=ok pin=4821 next=1"
    assert redact(line) == "sync: status=ok pin=[redacted] next=1"


def test_an_archive_never_replaces_a_file_already_there(tree, tmp_path):
    root, *_ = tree
    out = tmp_path / "taken.tar.gz"
    out.write_bytes(b"someone else's file")
    with pytest.raises(FileExistsError):
        collect(out, None, root, selftest_json=lambda: "{}", journal=lambda: "")
    assert out.read_bytes() == b"someone else's file"
    assert [p.name for p in tmp_path.iterdir()] == ["taken.tar.gz"]


def test_a_hanging_or_missing_selftest_still_gives_an_archive_member(tmp_path):
    assert "timed out after 0.2 s" in selftest_output(["sleep", "30"], timeout_s=0.2)
    assert "did not start" in selftest_output([str(tmp_path / "no-such-binary")])
