"""The selftest's device section: each adapter's own check(), as the hardware factory opens
them from the configuration; the fakes pass on a laptop, a missing device fails."""

from __future__ import annotations

import json

from terminal.cli import main
from terminal.hw import factory
from terminal.selftest.report import exit_code
from terminal.selftest.runner import Inputs, run
from tests.ledger.helpers import T0
from tests.selftest.helpers import provisioned


def selftest(device_file):
    return run(
        Inputs(
            device_file=device_file,
            env={},
            now_ms=T0 + 1000,
            wall_ms=lambda: T0 + 1000,
            offline=True,
            device_checks=lambda config: factory.check_all(config, env={}),
            ntp=lambda: True,
        )
    )


def test_fakes_pass_on_a_laptop(tmp_path):
    terminal = provisioned(tmp_path)
    results = selftest(terminal.device_file)
    devices = [r for r in results if r.check.startswith("device:")]
    assert {r.check for r in devices} >= {"device:display", "device:camera"}
    assert all(r.status == "ok" for r in devices), [r.en for r in devices]
    assert exit_code(results) == 0


def test_a_missing_camera_fails_with_its_reason(tmp_path):
    terminal = provisioned(tmp_path)
    with terminal.device_file.open("a", encoding="utf-8") as handle:
        handle.write('\n[camera]\nbackend = "v4l2"\ndevice = "/dev/video-not-there"\n')
    results = selftest(terminal.device_file)
    camera = next(r for r in results if r.check == "device:camera")
    assert camera.status == "fail"
    assert "video-not-there" in camera.en
    assert exit_code(results) == 1


def test_cli_runs_the_factory_checks(tmp_path, capsys):
    terminal = provisioned(tmp_path)
    main(["selftest", "--json", "--offline", "--device", str(terminal.device_file)])
    checks = {c["check"] for c in json.loads(capsys.readouterr().out)["checks"]}
    assert "device:display" in checks
