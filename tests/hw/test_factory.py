"""The factory: which backend each kind gets from config, environment or "auto", and why; each
opens as chosen; a bad override is refused by name."""

import pytest

from terminal.config.loader import load_config
from terminal.core.keys import Key
from terminal.hw import factory
from terminal.hw.device import DeviceUnavailable
from terminal.hw.feedback import Signal


def config(**settings):
    env = {f"QR_TERMINAL__{k.upper()}": str(v) for k, v in settings.items()}
    return load_config(env=env).config


def test_the_environment_overrides_the_config_and_says_so():
    choice = factory.choose("display", config(), {"QR_TERMINAL_DISPLAY": "window"})
    assert (choice.backend, choice.reason) == ("window", "environment QR_TERMINAL_DISPLAY")
    choice = factory.choose("display", config(), {})
    assert (choice.backend, choice.reason) == ("headless", "config display.backend = 'headless'")


def test_a_bad_override_names_the_variable_and_the_choices():
    with pytest.raises(DeviceUnavailable, match=r"QR_TERMINAL_PRINTER='laser': use one of none"):
        factory.check_environment({"QR_TERMINAL_PRINTER": "laser"})
    listed = {c.kind: c for c in factory.describe(config(), {"QR_TERMINAL_PRINTER": "laser"})}
    assert listed["printer"].backend == "?" and listed["display"].backend == "headless"


def test_auto_display_prefers_a_desktop_then_the_framebuffer_then_headless(tmp_path):
    fb = tmp_path / "fb0"
    cfg = config(display__backend="auto", display__framebuffer=str(fb))
    assert factory.choose("display", cfg, {"DISPLAY": ":0"}).backend == "window"
    assert factory.choose("display", cfg, {}).backend == "headless"
    fb.write_bytes(b"")
    choice = factory.choose("display", cfg, {})
    assert choice.backend == "framebuffer" and str(fb) in choice.reason


def test_auto_input_follows_a_window_display_and_the_gpio_header():
    cfg = config(display__backend="window")
    assert factory.choose("input", cfg, {}).backend == "window"
    cfg = config(gpio__backend="lgpio")
    assert factory.choose("input", cfg, {}).backend == "gpio"


def test_describe_covers_every_kind():
    assert [c.kind for c in factory.describe(config(), {})] == list(factory.KINDS)


def test_fakes_open_from_the_environment(tmp_path):
    script = tmp_path / "keys.txt"
    script.write_text("0 1\n0 enter\n")
    cfg = config(input__script=str(script))
    env = {"QR_TERMINAL_INPUT": "script", "QR_TERMINAL_FEEDBACK": "record",
           "QR_TERMINAL_PRINTER": "dummy", "QR_TERMINAL_DISPLAY": "headless"}  # fmt: skip
    display = factory.open_display(cfg, env, png_folder=tmp_path / "screens")
    assert display.name == "headless" and display.layout.canvas == (480, 320)
    keys = factory.open_input(cfg, display, env)
    assert [e.key for e in keys.events(5.0)] == [Key.D1, Key.ENTER]
    feedback = factory.open_feedback(cfg, env)
    feedback.play(Signal.SUCCESS)
    assert feedback.played == [Signal.SUCCESS]
    printer = factory.open_printer(cfg, env)
    assert printer.name == "dummy" and printer.paper_width == 384
    assert factory.open_printer(cfg, {}) is None  # printer.backend = "none"


def test_gpio_input_and_feedback_share_gpiozeros_mock_pins():
    cfg = config(input__backend="gpio", gpio__buttons='["17=enter"]')
    keys = factory.open_input(cfg, None, {})
    feedback = factory.open_feedback(cfg, {}, wait=lambda seconds: False)
    try:
        assert keys.check().device == "gpio-matrix+gpio-buttons"
        assert feedback.check().found["pins"] == "MockFactory"
    finally:
        keys.close()
        feedback.close()


def test_window_input_without_a_window_is_refused():
    with pytest.raises(DeviceUnavailable, match=r"need display.backend = 'window'"):
        factory.open_input(config(input__backend="window"), None, {})


def test_a_headless_display_that_cannot_write_names_the_setting(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cfg = config(paths__state_dir=str(blocker))
    with pytest.raises(DeviceUnavailable, match=r"cannot create .*paths.state_dir"):
        factory.open_display(cfg, {})


def test_check_all_reports_each_device_and_a_problem_as_a_check(tmp_path):
    env = {"QR_TERMINAL_PRINTER": "network"}  # printer.host is empty: cannot work
    checks = {c.kind: c for c in factory.check_all(config(), env)}
    assert set(checks) == {"display", "input", "feedback", "printer", "camera"}
    assert checks["display"].ok and checks["feedback"].ok and checks["camera"].ok
    assert checks["printer"].problem == "printer: printer.backend = 'network' needs printer.host"
