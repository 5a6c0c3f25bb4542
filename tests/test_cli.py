"""The qr-terminal command line: config show/check, demo, and --help everywhere."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from terminal.cli import build_parser, main
from tests.conftest import REPO


def test_config_check_passes_on_shipped_files(capsys):
    files = [str(p) for p in sorted((REPO / "firmware_config" / "issuers").glob("*.toml"))]
    files.append(str(REPO / "firmware_config" / "device.example.toml"))
    assert main(["config", "check", *files]) == 0
    assert capsys.readouterr().out.count("ok: ") == len(files)


def test_config_check_fails_and_explains(tmp_path, capsys):
    bad = tmp_path / "device.toml"
    bad.write_text("[camera]\nfps = 0\n")
    assert main(["config", "check", str(bad)]) == 2
    assert "[camera] fps = 0 must be at least 1" in capsys.readouterr().err


def test_config_show_prints_sources(capsys):
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert 'issuer = "incheon"' in out and "# defaults.toml" in out


def leaf_commands() -> list[list[str]]:
    """Every runnable command path, e.g. ["journal", "export"], walked from the parser."""
    leaves, stack = [], [([], build_parser())]
    while stack:
        path, parser = stack.pop()
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            leaves.append(path)
        for action in subs:
            stack.extend(([*path, name], sub) for name, sub in action.choices.items())
    return sorted(leaves)


def test_every_command_explains_itself_in_its_help(capsys):
    leaves = leaf_commands()
    assert ["journal", "verify"] in leaves and ["config", "check"] in leaves
    for path in leaves:
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0, path
        usage = capsys.readouterr().out
        assert f"qr-terminal {' '.join(path)}" in usage, path


def test_every_command_and_option_has_a_help_line():
    undescribed, stack = [], [("qr-terminal", build_parser())]
    while stack:
        name, parser = stack.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                undescribed += [f"{name} {c.dest}" for c in action._choices_actions if not c.help]
                stack.extend((f"{name} {n}", sub) for n, sub in action.choices.items())
            elif not action.help:
                undescribed.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert undescribed == []


def test_an_unknown_command_is_refused_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["pay-me"])
    assert exited.value.code == 2
    assert "invalid choice: 'pay-me'" in capsys.readouterr().err


def test_installed_console_script_runs():
    done = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "demo" in done.stdout
