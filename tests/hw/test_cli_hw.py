"""`qr-terminal hw list|check|try`: output, exit codes, and one-line errors for bad input."""

import json

import pytest

from terminal.cli import main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for kind in ("DISPLAY", "INPUT", "FEEDBACK", "PRINTER", "CAMERA"):
        monkeypatch.delenv(f"QR_TERMINAL_{kind}", raising=False)
    monkeypatch.delenv("QR_TERMINAL_DEVICE_FILE", raising=False)
    monkeypatch.setenv("QR_TERMINAL__PATHS__STATE_DIR", str(tmp_path / "state"))


def test_list_says_which_backend_and_why(capsys):
    assert main(["hw", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["display", "headless"]
    assert "config display.backend = 'headless'" in lines[0]
    assert [line.split()[0] for line in lines] == ["display", "input", "feedback", "printer",
                                                   "camera"]  # fmt: skip


def test_list_json_for_tools(capsys, monkeypatch):
    monkeypatch.setenv("QR_TERMINAL_PRINTER", "dummy")
    assert main(["hw", "list", "--json"]) == 0
    listed = {row["kind"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["printer"] == {
        "kind": "printer", "backend": "dummy", "reason": "environment QR_TERMINAL_PRINTER"
    }  # fmt: skip


def test_check_prints_each_device_and_exits_0_when_all_are_usable(capsys):
    assert main(["hw", "check"]) == 0
    out = capsys.readouterr().out
    assert "feedback: gpio GPIO" in out and "camera: sim" in out


def test_check_exits_1_when_a_device_has_a_problem(capsys, monkeypatch):
    monkeypatch.setenv("QR_TERMINAL_PRINTER", "network")
    assert main(["hw", "check"]) == 1
    assert "PROBLEM: printer: printer.backend = 'network' needs printer.host" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["hw", "list"], {"QR_TERMINAL_DISPLAY": "tv"}, "QR_TERMINAL_DISPLAY='tv': use one of"),
        (["hw", "try", "printer"], {}, "printer.backend = 'none': set printer.backend"),
        (["hw", "list", "--device", "/nonexistent/device.toml"], {}, "/nonexistent/device.toml"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, monkeypatch, argv, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("seconds", ["x", "0", "-1", "99999"])
def test_a_bad_duration_is_refused_by_argparse(capsys, seconds):
    with pytest.raises(SystemExit) as stopped:
        main(["hw", "try", "display", "--seconds", seconds])
    assert stopped.value.code == 2
    assert "--seconds" in capsys.readouterr().err


def test_try_printer_prints_a_test_slip_on_the_dummy(capsys, monkeypatch):
    monkeypatch.setenv("QR_TERMINAL_PRINTER", "dummy")
    assert main(["hw", "try", "printer"]) == 0
    assert "printed a test slip, 384×" in capsys.readouterr().out


def test_try_display_writes_the_test_pattern_headless(capsys, tmp_path):
    assert main(["hw", "try", "display", "--seconds", "0.01"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "state" / "screens" / "frame-00001.png").is_file()
    assert "test pattern written to" in out


def test_try_input_echoes_scripted_keys_until_cancel_twice(capsys, monkeypatch, tmp_path):
    script = tmp_path / "keys.txt"
    script.write_text("0 7\n0 enter\n0 cancel\n0 cancel\n0 9\n")
    monkeypatch.setenv("QR_TERMINAL_INPUT", "script")
    monkeypatch.setenv("QR_TERMINAL__INPUT__SCRIPT", str(script))
    assert main(["hw", "try", "input", "--seconds", "5"]) == 0
    echoed = [line.split()[-1] for line in capsys.readouterr().out.splitlines()[2:]]
    assert echoed == ["7", "enter", "cancel", "cancel"]  # stopped before the 9
