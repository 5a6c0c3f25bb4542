"""Provisioning's last step and the update's check run the installed selftest through one
function: a hang, a missing binary or an answer of another shape is a step failure with advice,
never a traceback (review #7)."""

from __future__ import annotations

import io
import json
import stat
import time

import pytest

from terminal.provision import services, steps
from terminal.provision.steps import Options, Run, step_selftest
from terminal.provision.system import Commands, ProvisionError
from terminal.provision.update import UpdateOptions, _verify

GOOD = {
    "passed": True,
    "counts": {"ok": 2, "warn": 1, "fail": 0, "skip": 0},
    "checks": [
        {"check": "key", "title_ko": "키", "title_en": "key", "status": "ok", "ko": "", "en": ""},
        {"check": "clock", "title_ko": "시계", "title_en": "clock", "status": "ok"},
        {"check": "printer", "title_ko": "프린터", "title_en": "printer", "status": "warn"},
    ],
}


def installed(root, body: str):
    """A release whose `qr-terminal` is the shell script `body`."""
    binary = root / "opt/qr-terminal/current/venv/bin/qr-terminal"
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\n{body}\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


def run_in(root) -> Run:
    options = Options(None, None, None, root, root, now_ms=0)
    return Run(options, out=io.StringIO())


def printing(document) -> str:
    return "cat <<'END'\n" + json.dumps(document) + "\nEND"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (printing({"unexpected": 1}), "something unexpected"),
        (printing({"checks": "all fine"}), "something unexpected"),
        (printing([1, 2]), "something unexpected"),
        (printing({"checks": []}), "no checks"),
        ("echo 'Traceback (most recent call last)' >&2; exit 1", "did not run: Traceback"),
    ],
)
def test_an_answer_of_another_shape_is_a_step_failure(tmp_path, body, said):
    installed(tmp_path, body)
    with pytest.raises(ProvisionError, match=said) as caught:
        step_selftest(run_in(tmp_path), {})
    assert "qr-terminal selftest" in caught.value.next_en


def test_a_hanging_selftest_is_a_step_failure(tmp_path, monkeypatch):
    installed(tmp_path, "exec sleep 30")
    monkeypatch.setattr(steps, "SELFTEST_TIMEOUT_S", 0.3)
    with pytest.raises(ProvisionError, match=r"did not finish in 0\.3 s"):
        step_selftest(run_in(tmp_path), {})


def test_a_missing_selftest_is_a_step_failure(tmp_path):
    with pytest.raises(ProvisionError, match="did not start"):
        step_selftest(run_in(tmp_path), {})


def test_a_failed_check_names_it_and_its_fix(tmp_path):
    failing = {"check": "key", "title_en": "device key", "status": "fail", "en": "unreadable"}
    installed(tmp_path, printing({"checks": [failing | {"fix_en": "re-provision"}]}))
    with pytest.raises(ProvisionError, match="device key: unreadable") as caught:
        step_selftest(run_in(tmp_path), {})
    assert caught.value.next_en == "re-provision"


def test_a_passing_report_is_counted(tmp_path):
    installed(tmp_path, printing(GOOD))
    state: dict = {}
    assert "2 ok, 1 warning(s), 0 skipped" in step_selftest(run_in(tmp_path), state)
    assert state["selftest"]["passed"] is True


def test_update_reads_the_selftest_with_the_same_function(tmp_path):
    installed(tmp_path, printing({"unexpected": 1}))
    options = UpdateOptions(source=tmp_path, root=tmp_path)
    commands = Commands(pretend=True, out=io.StringIO())
    opt = tmp_path / "opt/qr-terminal"
    problem = _verify(opt, options, commands, deadline=time.monotonic() + 30)
    assert problem == services.run_selftest(opt / "current/venv/bin/qr-terminal", tmp_path, 5)
    assert "something unexpected" in problem
