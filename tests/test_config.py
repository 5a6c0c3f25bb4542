"""The config loader merges its layers in order and refuses every kind of bad input clearly."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
        (
            "[merchant]\nsangsaeng_rate_bp = 900\n",
            "outside the issuer's 상생 cashback range 100..500",
        ),
        (
            '[merchant]\nsangsaeng_mode = "discount"\nsangsaeng_rate_bp = 800\n',
            "outside the issuer's 선할인 discount range 100..700",
        ),
        ('[merchant]\nsangsaeng_mode = "later"\n', "must be one of cashback, discount"),
        ('[device]\nid = "SIM-1\\n"\n', "[device] id = 'SIM-1\\n' must be 1-40 letters"),
        ('[merchant]\nname_ko = "분식\\n"\n', "must be one line of text"),
        ('[device]\nissuer = "incheon\\n"\n', "must be a lower-case issuer profile name"),
        ("[device]\nissuer = 5\n", "[device] issuer = 5 must be text in quotes"),
        ("[merchant]\nsangsaeng_mode = 5\n", "must be text in quotes"),
        ('[issuer]\nid = "bupyeong"\n', "section [issuer] cannot be set here"),
        ('[merchant]\nmcc = "58"\n', "must be four digits"),
        ('[device]\nissuer = "gangnam"\n', "has no profile"),
        ("[camera\nfps = 3\n", "broken TOML"),
        ("[gpio]\nred_led_pin = 18\n", "pin 18 is used twice: by buzzer_pin"),
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


# --- §5 domain rules in configuration ----------------------------------------------------


def copy_config(tmp_path: Path, config_dir: Path) -> Path:
    copy = tmp_path / "cfg"
    shutil.copytree(config_dir, copy)
    return copy


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("max_amount_won = 50001", "max_amount_won"),
        ("max_total_won = 999999", "max_total_won"),
        ("max_count = 31", "max_count"),
        ("max_age_hours = 200", "max_age_hours"),
    ],
)
def test_an_issuer_profile_cannot_raise_offline_limits(tmp_path, config_dir, line, key):
    copy = copy_config(tmp_path, config_dir)
    profile = copy / "issuers" / "incheon.toml"
    profile.write_text(profile.read_text() + f"\n[offline]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(env={}, directory=copy)
    message = str(caught.value)
    assert f"[offline] {key}" in message and "may only tighten" in message
    assert str(profile) in message
    assert any("may only tighten" in p for p in check_file(profile, directory=copy))


def test_an_issuer_profile_may_tighten_offline_limits(tmp_path, config_dir):
    copy = copy_config(tmp_path, config_dir)
    profile = copy / "issuers" / "incheon.toml"
    profile.write_text(profile.read_text() + "\n[offline]\nmax_amount_won = 20000\n")
    loaded = load_config(env={}, directory=copy)
    assert loaded.config.offline.max_amount_won == 20000
    assert check_file(profile, directory=copy) == []


def test_an_environment_override_of_the_issuer_id_is_refused(config_dir):
    """It used to change the id and keep the other issuer's names and rates."""
    with pytest.raises(ConfigError) as caught:
        load_config(env={"QR_TERMINAL__ISSUER__ID": "bupyeong"}, directory=config_dir)
    message = str(caught.value)
    assert "QR_TERMINAL__ISSUER__ID" in message and "cannot be overridden" in message
    assert "QR_TERMINAL__DEVICE__ISSUER=" in message


def test_choosing_another_issuer_brings_its_own_names(config_dir):
    config = load_config(env={"QR_TERMINAL__DEVICE__ISSUER": "bupyeong"}, directory=config_dir)
    assert (config.config.issuer.id, config.config.issuer.name_ko) == ("bupyeong", "부평e음")


def test_a_discounting_merchant_gets_a_discount_and_no_cashback_layer(config_dir):
    from terminal.config.merchant import price_for, rates_for

    env = {"QR_TERMINAL__MERCHANT__SANGSAENG_MODE": "discount"}
    config = load_config(env={**env, "QR_TERMINAL__MERCHANT__SANGSAENG_RATE_BP": "700"}).config
    rates = rates_for(config)
    assert (rates.merchant_rate_bp, rates.merchant_discount_bp) == (0, 700)
    assert price_for(config, 12_000).charged_won == 12_000 - 840


def test_an_issuer_that_allows_only_cashback_refuses_a_discounting_merchant(tmp_path, config_dir):
    copy = copy_config(tmp_path, config_dir)
    profile = copy / "issuers" / "incheon.toml"
    text = profile.read_text().replace(
        'sangsaeng_modes = ["cashback", "discount"]', 'sangsaeng_modes = ["cashback"]'
    )
    profile.write_text(text)
    with pytest.raises(ConfigError, match="the issuer allows only cashback"):
        load_config(env={"QR_TERMINAL__MERCHANT__SANGSAENG_MODE": "discount"}, directory=copy)


def test_the_issuer_barcode_format_reaches_the_core(tmp_path, config_dir):
    from terminal.config.merchant import barcode_for
    from terminal.core.tokens import customer_barcode, parse_customer_barcode

    default = barcode_for(load_config(env={}, directory=config_dir).config)
    assert (default.prefix, default.digits) == ("97", 24)
    copy = copy_config(tmp_path, config_dir)
    profile = copy / "issuers" / "incheon.toml"
    text = profile.read_text().replace('barcode_prefix = "97"', 'barcode_prefix = "941"')
    profile.write_text(text.replace("barcode_digits = 24", "barcode_digits = 21"))
    barcode = barcode_for(load_config(env={}, directory=copy).config)
    code = customer_barcode(12345, barcode)
    assert len(code) == 21 and code.startswith("941")
    assert parse_customer_barcode(code, barcode) == 12345


def test_an_impossible_issuer_barcode_format_is_refused(tmp_path, config_dir):
    copy = copy_config(tmp_path, config_dir)
    profile = copy / "issuers" / "incheon.toml"
    text = profile.read_text().replace('barcode_prefix = "97"', 'barcode_prefix = "9410"')
    profile.write_text(text.replace("barcode_digits = 24", "barcode_digits = 21"))
    with pytest.raises(ConfigError, match="leaves 16 digits for the token id"):
        load_config(env={}, directory=copy)


def test_check_of_an_empty_defaults_file_is_refused(tmp_path):
    """An empty defaults.toml used to pass `config check`; the loader then could not use it."""
    empty = write(tmp_path / "defaults.toml", "")
    problems = check_file(empty, directory=tmp_path)
    assert any("[device] id is missing" in p for p in problems)
    assert any("[offline] max_count is missing" in p for p in problems)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("issuers/incheon.toml", "issuer = 5\n"),
        ("issuers/incheon.toml", "[issuer]\nid = 5\n"),
        ("issuers/incheon.toml", 'benefits = "x"\n[issuer]\nid = "incheon"\n'),
        ("issuers/incheon.toml", '[benefits]\nsangsaeng_modes = "cashback"\n'),
        ("issuers/incheon.toml", "[offline]\nmax_count = 1.5\n"),
        ("device.toml", "issuer = 5\n"),
        ("device.toml", "issuer = {id = 5}\n"),
        ("device.toml", "[device]\nissuer = [1, 2]\n"),
        ("defaults.toml", "device = 5\n"),
        ("defaults.toml", "[device]\nid = 5\n"),
    ],
)
def test_check_of_wrongly_typed_toml_reports_instead_of_crashing(
    tmp_path, config_dir, name, content
):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    write(path, content)
    problems = check_file(path, directory=config_dir)
    assert problems and all(isinstance(p, str) and "\n" not in p for p in problems)


toml_values = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(0, 99), st.text(max_size=4)), max_size=3),
)


def toml_text(data: dict) -> str:
    from terminal.config.loader import _toml_value

    lines = []
    for section, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{section}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
        else:
            lines.insert(0, f"{section} = {_toml_value(table)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=150)
@given(
    st.sampled_from(["issuers/incheon.toml", "device.toml", "defaults.toml"]),
    st.dictionaries(
        st.sampled_from(["device", "merchant", "issuer", "benefits", "offline", "camera"]),
        st.one_of(
            toml_values,
            st.dictionaries(
                st.sampled_from(["id", "issuer", "name_ko", "max_count", "sangsaeng_modes", "fps"]),
                toml_values,
                max_size=3,
            ),
        ),
        max_size=4,
    ),
)
def test_check_file_answers_problems_for_any_toml_never_raises(name, data):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(toml_text(data), encoding="utf-8")
        problems = check_file(path, directory=REPO / "firmware_config")
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)


def test_config_check_command_refuses_an_empty_defaults_file(tmp_path, capsys):
    from terminal.cli import main

    empty = write(tmp_path / "defaults.toml", "")
    before = empty.stat()
    assert main(["config", "check", str(empty)]) == 2
    captured = capsys.readouterr()
    assert "defaults.toml must set every setting" in captured.err
    assert "Traceback" not in captured.err and "ok:" not in captured.out
    assert empty.stat().st_mtime_ns == before.st_mtime_ns and empty.read_text() == ""


@pytest.mark.parametrize("name", ["empty.toml", "device.toml", "issuers/incheon.toml"])
def test_check_of_any_empty_config_file_is_refused(tmp_path, config_dir, name):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    write(path, "# nothing but a comment\n")
    assert any("sets nothing" in p for p in check_file(path, directory=config_dir))


def test_an_empty_device_file_is_refused_rather_than_run_as_the_demo_identity(tmp_path, config_dir):
    device = write(tmp_path / "device.toml", "")
    with pytest.raises(ConfigError, match="sets nothing"):
        load_config(device_file=device, env={}, directory=config_dir)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QR_TERMINAL__OFFLINE__MAX_AMOUNT_WON", "5000000"),
        ("QR_TERMINAL__OFFLINE__MAX_TOTAL_WON", "5000000"),
        ("QR_TERMINAL__OFFLINE__MAX_COUNT", "1000"),
    ],
)
def test_the_environment_cannot_raise_offline_limits(config_dir, name, value):
    """Review finding: QR_TERMINAL__OFFLINE__MAX_AMOUNT_WON raised 50,000 to 5,000,000 won."""
    with pytest.raises(ConfigError) as caught:
        load_config(env={name: value}, directory=config_dir)
    assert name in str(caught.value) or "environment" in str(caught.value)
    assert "may only tighten" in str(caught.value)


def test_the_environment_may_tighten_offline_limits(config_dir):
    loaded = load_config(env={"QR_TERMINAL__OFFLINE__MAX_COUNT": "3"}, directory=config_dir)
    assert loaded.config.offline.max_count == 3


@pytest.mark.parametrize(
    "name", ["QR_TERMINAL__BENEFITS__CITY_RATE_BP", "QR_TERMINAL__SALE__MAX_AMOUNT_WON"]
)
def test_the_environment_cannot_change_the_issuers_rates_or_sale_rules(config_dir, name):
    with pytest.raises(ConfigError) as caught:
        load_config(env={name: "9999"}, directory=config_dir)
    assert name in str(caught.value) and "a device cannot change it" in str(caught.value)


def test_config_show_never_prints_a_pin_hash(config_dir):
    from terminal.config.pins import make_pin_hash

    pin_hash = make_pin_hash("1234")
    loaded = load_config(
        env={"QR_TERMINAL__COUNTER__MANAGER_PIN_HASH": pin_hash}, directory=config_dir
    )
    shown = render_effective(loaded)
    assert loaded.config.counter.manager_pin_hash == pin_hash
    assert pin_hash.split("$")[-1] not in shown and 'manager_pin_hash = "(set, hidden)"' in shown
    assert 'technician_pin_hash = ""' in shown
