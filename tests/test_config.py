"""The config loader merges its layers in order and refuses every kind of bad input clearly."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from terminal.config import ConfigError, check_file, load_config, render_effective
from tests.conftest import REPO


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_defaults_load_and_are_frozen(config_dir):
    loaded = load_config(device_file=None, env={}, directory=config_dir)
    config = loaded.config
    assert config.issuer.id == "incheon"
    assert config.camera.backend == "sim"
    assert config.decoder.formats == ("QRCode", "Code128")
    assert loaded.sources[("camera", "backend")] == "defaults.toml"
    assert loaded.sources[("benefits", "city_rate_bp")] == "issuers/incheon.toml"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.camera.backend = "v4l2"  # type: ignore[misc]


def test_layers_apply_in_order_defaults_issuer_device_environment(config_dir):
    device = config_dir / "device.example.toml"
    env = {"QR_TERMINAL__CAMERA__BACKEND": "v4l2", "QR_TERMINAL__SYNC__BATCH_SIZE": "7"}
    loaded = load_config(device_file=device, env=env, directory=config_dir)
    config = loaded.config
    assert config.issuer.name_ko == "부평e음"
    assert config.benefits.district_topup_bp == 200
    assert config.merchant.sangsaeng_rate_bp == 300
    assert config.display.backend == "framebuffer"
    assert config.camera.backend == "v4l2"  # the environment beats the device file
    assert config.sync.batch_size == 7
    assert loaded.sources[("camera", "backend")] == "environment QR_TERMINAL__CAMERA__BACKEND"
    assert loaded.sources[("merchant", "mcc")] == str(device)
    assert loaded.sources[("display", "rotation")] == "defaults.toml"


def test_effective_config_render_names_every_source(config_dir):
    text = render_effective(load_config(device_file=None, env={}, directory=config_dir))
    assert 'backend = "sim"' in text
    assert "# issuers/incheon.toml" in text
    assert 'formats = ["QRCode", "Code128"]' in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[camera]\nbakcend = "sim"\n', "[camera] unknown key 'bakcend'"),
        ('[camera]\nfps = "fast"\n', "[camera] fps = 'fast' must be a whole number"),
        ("[camera]\nfps = 1000\n", "[camera] fps = 1000 must be at most 120"),
        ('[camera]\nbackend = "usb"\n', "must be one of sim, picamera2, v4l2, files"),
        ("[camera]\nautofocus = 1\n", "must be true or false"),
        ('[gpio]\nkeypad_rows = [5, "x"]\n', "has an element 'x' of the wrong type"),
        ("[widgets]\nsize = 1\n", "unknown section [widgets]"),
        ("[benefits]\ncity_rate_bp = 9000\n", "section [benefits] cannot be set here"),
        ("[merchant]\nsangsaeng_rate_bp = 900\n", "outside the issuer's 상생 range 100..500"),
        ('[merchant]\nmcc = "58"\n', "must be four digits"),
        ('[device]\nissuer = "gangnam"\n', "has no profile"),
        ("[camera\nfps = 3\n", "broken TOML"),
        ("[gpio]\nred_led_pin = 18\n", "a pin is used twice"),
    ],
)
def test_bad_device_file_is_refused_naming_file_key_and_value(
    tmp_path, config_dir, content, expected
):
    device = write(tmp_path / "device.toml", content)
    with pytest.raises(ConfigError) as caught:
        load_config(device_file=device, env={}, directory=config_dir)
    message = str(caught.value)
    assert expected in message
    if "cannot" not in expected and "twice" not in expected:
        assert str(device) in message


def test_missing_device_file_is_named(tmp_path, config_dir):
    with pytest.raises(ConfigError, match=r"device\.toml: file not found"):
        load_config(device_file=tmp_path / "device.toml", env={}, directory=config_dir)


def test_every_problem_is_reported_at_once(tmp_path, config_dir):
    device = write(tmp_path / "d.toml", "[camera]\nfps = 0\nwidth = 1\n[sound]\nenabled = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(device_file=device, env={}, directory=config_dir)
    assert len(caught.value.problems) == 3


def test_bad_environment_override_names_the_variable(config_dir):
    with pytest.raises(ConfigError, match="environment: \\[camera\\] fps = -3"):
        load_config(env={"QR_TERMINAL__CAMERA__FPS": "-3"}, directory=config_dir)
    with pytest.raises(ConfigError, match="QR_TERMINAL__CAMERA: expected"):
        load_config(env={"QR_TERMINAL__CAMERA": "x"}, directory=config_dir)


def test_setting_missing_from_every_layer_is_refused(tmp_path, config_dir):
    copy = tmp_path / "cfg"
    shutil.copytree(config_dir, copy)
    defaults = copy / "defaults.toml"
    defaults.write_text(defaults.read_text().replace("max_fps = 15", ""))
    with pytest.raises(ConfigError, match=r"\[decoder\] max_fps is not set by any layer"):
        load_config(env={}, directory=copy)


def test_issuer_profile_with_wrong_id_is_refused(tmp_path, config_dir):
    copy = tmp_path / "cfg"
    shutil.copytree(config_dir, copy)
    profile = copy / "issuers" / "incheon.toml"
    profile.write_text(profile.read_text().replace('id = "incheon"', 'id = "seoro"'))
    with pytest.raises(ConfigError, match="must be 'incheon'"):
        load_config(env={}, directory=copy)
    assert check_file(profile, directory=copy)


def test_shipped_files_all_pass_check(config_dir):
    files = [config_dir / "defaults.toml", config_dir / "device.example.toml"]
    files += sorted((config_dir / "issuers").glob("*.toml"))
    assert len(files) >= 7
    for path in files:
        assert check_file(path, directory=config_dir) == [], path


def test_every_issuer_profile_states_figures_are_configuration(config_dir):
    names = set()
    for path in (config_dir / "issuers").glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        assert "configuration, not law" in text
        names.add(path.stem)
    assert {"incheon", "bupyeong", "seoro", "michuhol", "yeonsu"} <= names


def test_check_file_reports_incomplete_issuer_profile(tmp_path):
    issuers = tmp_path / "issuers"
    issuers.mkdir()
    profile = write(issuers / "x.toml", '[issuer]\nid = "x"\n')
    problems = check_file(profile, directory=REPO / "firmware_config")
    assert any("[benefits] city_rate_bp is missing" in p for p in problems)


def test_configured_rates_and_limits_reach_the_payment_core(config_dir):
    from terminal.config.merchant import limits_for, rates_for, sale_for

    config = load_config(device_file=config_dir / "device.example.toml", env={}).config
    rates = rates_for(config)
    assert (rates.city_rate_bp, rates.district_topup_bp, rates.merchant_rate_bp) == (1000, 200, 300)
    assert limits_for(config).max_amount_won == config.offline.max_amount_won
    sale = sale_for(config, 12000, "kid", 1_795_000_000.5, bytes(8))
    assert sale.expires_at == 1_795_000_000 + config.qr.sale_expiry_seconds
    assert (sale.merchant_id, sale.terminal_id, sale.mcc) == (
        "M2024001234",
        "D20261122-0042",
        "5462",
    )
