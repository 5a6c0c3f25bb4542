"""PIN hashes in the configuration and `qr-terminal config pin-hash`: the salted scrypt hash is
made outside the core, checked at load (readable, not too weak, not too much work), the old
unsalted `*_pin_sha256` keys are refused with the command to run, and no hash is ever shown."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys

import pytest

from terminal.cli import main
from terminal.config import ConfigError, check_file, load_config
from terminal.config.pins import make_pin_hash
from terminal.core.pin import DEFAULT_LN, DEFAULT_R, hash_pin, parse_pin_hash, pin_matches

SALT = b"0123456789abcdef"


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(config_dir, env) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(env=env, directory=config_dir)
    return str(caught.value)


def test_a_made_hash_is_salted_uses_the_defaults_and_checks_the_pin():
    one, other = make_pin_hash("7410"), make_pin_hash("7410")
    assert one != other  # a fresh salt each time: equal PINs do not show as equal hashes
    stored = parse_pin_hash(one)
    assert (stored.ln, stored.r, stored.p, len(stored.salt)) == (DEFAULT_LN, DEFAULT_R, 1, 16)
    assert pin_matches("7410", one) and not pin_matches("7411", one)


def test_a_made_hash_loads_from_a_device_file(tmp_path, config_dir):
    stored = make_pin_hash("2580")
    device = write(
        tmp_path / "device.toml",
        (config_dir / "device.example.toml").read_text(encoding="utf-8")
        + f'\n[counter]\nmanager_pin_hash = "{stored}"\ntechnician_pin_hash = "{stored}"\n',
    )
    counter = load_config(device_file=device, env={}, directory=config_dir).config.counter
    assert counter.manager_pin_hash == stored == counter.technician_pin_hash
    assert check_file(device, config_dir) == []


@pytest.mark.parametrize("who", ["manager", "technician"])
def test_an_old_unsalted_sha256_is_refused_with_the_command_to_run(tmp_path, config_dir, who):
    old = hashlib.sha256(b"1234").hexdigest()
    device = write(
        tmp_path / "device.toml",
        (config_dir / "device.example.toml").read_text(encoding="utf-8")
        + f'\n[counter]\n{who}_pin_sha256 = "{old}"\n',
    )
    problems = check_file(device, config_dir)
    assert len(problems) == 1
    assert f"{who}_pin_sha256" in problems[0] and "unsalted" in problems[0]
    assert "qr-terminal config pin-hash" in problems[0] and f"{who}_pin_hash" in problems[0]
    assert old not in problems[0]


def test_an_old_sha256_in_the_environment_is_refused_too(config_dir):
    old = hashlib.sha256(b"1234").hexdigest()
    said = problems_of(config_dir, {"QR_TERMINAL__COUNTER__MANAGER_PIN_SHA256": old})
    assert "qr-terminal config pin-hash" in said and old not in said


WEAK = hash_pin("1234", SALT, ln=4, r=1).text()


@pytest.mark.parametrize(
    "value, says",
    [
        (hashlib.sha256(b"1234").hexdigest(), "not a PIN hash"),  # the old value, new key
        (WEAK, "MiB per guess"),
        (WEAK.replace("ln=4,r=1,p=1", "ln=14,r=8,p=3"), "more work"),  # would hang the counter
        (WEAK.replace("ln=4,r=1", "ln=15,r=8"), "more memory"),
        (WEAK.replace("ln=4,r=1", "ln=16,r=1"), "not valid scrypt"),  # crashed every PIN Enter
        ("5831$" + WEAK, "unknown hash scheme"),  # a PIN typed in by mistake is not quoted
        (WEAK.replace("scrypt", "argon2"), "unknown hash scheme"),
        (WEAK + " ", "not a PIN hash"),
    ],
)
def test_an_unusable_hash_is_refused_at_load_without_showing_it(config_dir, value, says):
    said = problems_of(config_dir, {"QR_TERMINAL__COUNTER__TECHNICIAN_PIN_HASH": value})
    assert says in said and said.count("qr-terminal config pin-hash") == 1
    assert "(hidden)" in said and value.split("$")[-1] not in said and value not in said
    assert "5831" not in said


def test_an_empty_pin_hash_keeps_the_action_locked_and_loads(config_dir):
    counter = load_config(env={}, directory=config_dir).config.counter
    assert (counter.manager_pin_hash, counter.technician_pin_hash) == ("", "")


# --- qr-terminal config pin-hash ---------------------------------------------------------------


def run_pin_hash(monkeypatch, capsys, stdin: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), "utf-8"))
    code = main(["config", "pin-hash"])
    return code, capsys.readouterr()


@pytest.mark.parametrize("stdin", [b"4821\n", b"4821", b"4821\r\n", b"00000000\n"])
def test_pin_hash_reads_one_line_of_stdin_and_prints_a_loadable_hash(
    monkeypatch, capsys, config_dir, stdin
):
    code, out = run_pin_hash(monkeypatch, capsys, stdin)
    assert code == 0 and out.err == ""
    stored = out.out.strip()
    assert out.out == stored + "\n"  # only the hash on stdout: `... | tee` or `$(...)` works
    assert pin_matches(stdin.decode().strip(), stored)
    env = {"QR_TERMINAL__COUNTER__MANAGER_PIN_HASH": stored}
    assert load_config(env=env, directory=config_dir).config.counter.manager_pin_hash == stored


def test_pin_hash_asks_twice_without_echo_at_a_terminal(monkeypatch, capsys):
    import getpass

    typed = iter(["135790", "135790"])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b""), "utf-8"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(typed))
    assert main(["config", "pin-hash"]) == 0
    out = capsys.readouterr()
    assert pin_matches("135790", out.out.strip()) and "manager_pin_hash" in out.err


@pytest.mark.parametrize(
    "answers, says",
    [(["1234", "1243"], "the two PINs differ"), (["12", "12"], "4 to 8 digits"), (EOFError, "")],
)
def test_pin_hash_at_a_terminal_refuses_in_one_line(monkeypatch, capsys, answers, says):
    import getpass

    def ask(prompt):
        if answers is EOFError:
            raise EOFError
        return answers.pop(0)

    answers = list(answers) if isinstance(answers, list) else answers
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b""), "utf-8"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(getpass, "getpass", ask)
    assert main(["config", "pin-hash"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.splitlines()) == 1
    assert out.err.startswith("error: PIN prompt: ") and says in out.err


@pytest.mark.parametrize("stdin", [b"12a4\n", b"123\n", b"987654321\n"])
def test_a_refused_pin_is_not_echoed(monkeypatch, capsys, stdin):
    code, out = run_pin_hash(monkeypatch, capsys, stdin)
    assert code == 2 and out.out == ""
    assert stdin.decode().strip() not in out.err


def test_pin_hash_with_stdin_closed_says_so(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", None)
    assert main(["config", "pin-hash"]) == 2
    assert capsys.readouterr().err == (
        "error: stdin: closed; pipe the PIN's 4-8 digits, or run it in a terminal\n"
    )


# --- config pin-hash at the edges (hostile review 2 L7): one line, exit 2, the PIN never shown


def pin_hash_process(stdin, stdout=subprocess.PIPE, **more) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "config", "pin-hash"],
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        **more,
    )


def test_pin_hash_answers_at_the_end_of_the_line_not_of_stdin():
    """`(echo 1234; sleep 60) | qr-terminal config pin-hash` waited for the whole minute."""
    process = pin_hash_process(subprocess.PIPE)
    try:
        process.stdin.write(b"4821\n")
        process.stdin.flush()  # and stdin stays open
        assert process.wait(timeout=30) == 0
        assert pin_matches("4821", process.stdout.read().decode().strip())
    finally:
        process.kill()
        process.communicate()


@pytest.mark.parametrize(
    "where, says",
    [
        ("/dev/full", "error: stdout: the hash was not written (No space left on device)"),
        ("closed", "error: stdout: closed; run it with stdout to a terminal or a file"),
    ],
)
def test_a_hash_that_cannot_be_handed_over_is_one_line(where, says):
    if where == "/dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    if where == "closed":  # `>&-`: the child starts without a file descriptor 1
        process = pin_hash_process(
            subprocess.PIPE, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1)
        )
    else:
        with open(where, "wb") as full:
            process = pin_hash_process(subprocess.PIPE, stdout=full)
    _, err = process.communicate(b"4821\n", timeout=30)
    assert process.returncode == 2 and err.decode() == says + "\n"


def test_a_stdin_that_cannot_be_read_is_one_line(tmp_path):
    with open(tmp_path / "out", "wb") as write_only:  # `0>file`
        process = pin_hash_process(write_only)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.decode() == (
        "error: stdin: cannot be read (Bad file descriptor); pipe the PIN's 4-8 digits\n"
    )


def test_a_pin_on_the_command_line_is_refused_without_showing_it(capsys):
    assert main(["config", "pin-hash", "5831"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.splitlines()) == 1 and "5831" not in out.err
    assert "shell history" in out.err


def test_non_utf8_typed_at_the_prompt_is_one_line(monkeypatch, capsys):
    import getpass

    def ask(prompt):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b""), "utf-8"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(getpass, "getpass", ask)
    assert main(["config", "pin-hash"]) == 2
    assert (
        capsys.readouterr().err == "error: PIN prompt: not UTF-8 text; type the PIN's 4-8 digits\n"
    )
