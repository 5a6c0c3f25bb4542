"""terminal/core stays pure: it imports only the standard library's pure modules and itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

CORE = REPO / "terminal" / "core"

# Pure computation only. Anything that reads files, sockets, clocks of the OS, devices or
# databases (os, io, socket, sqlite3, time, pathlib, subprocess, ...) stays out of the core.
PURE_STDLIB = {
    "__future__",
    "abc",
    "base64",
    "binascii",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "hashlib",
    "hmac",
    "itertools",
    "json",
    "math",
    "re",
    "string",
    "struct",
    "typing",
    "unicodedata",
    "uuid",
    "zlib",
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("terminal.core")  # relative imports stay inside the core
            elif node.module:
                names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names.add("<dynamic import>")
    return names


def offending_imports(path: Path) -> set[str]:
    return {
        name
        for name in imported_roots(path)
        if name.split(".")[0] not in PURE_STDLIB
        and not (name == "terminal.core" or name.startswith("terminal.core."))
    }


# Names the core may not use even though they need no import: builtins that do I/O, and the
# clock and randomness reached through otherwise pure modules. Time and randomness are passed in.
FORBIDDEN_NAMES = {"open", "print", "input", "breakpoint", "exec", "eval", "compile"}
FORBIDDEN_ATTRIBUTES = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("uuid", "uuid1"),  # the host's clock and MAC address
    ("uuid", "uuid4"),  # the OS's randomness
}
FORBIDDEN_ROOTS = {"time", "random", "secrets", "os", "io", "sys"}


def forbidden_uses(path: Path) -> set[str]:
    """Uses of I/O builtins, clock and randomness anywhere in a module, imported or not."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES | FORBIDDEN_ROOTS:
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = getattr(owner, "id", None) or getattr(owner, "attr", None)
            if (owner_name, node.attr) in FORBIDDEN_ATTRIBUTES:
                found.add(f"{owner_name}.{node.attr}")
    return found


def test_core_uses_no_io_builtins_clock_or_randomness():
    problems = {str(p.relative_to(REPO)): forbidden_uses(p) for p in sorted(CORE.rglob("*.py"))}
    assert {k: v for k, v in problems.items() if v} == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("print('x')\n", {"print"}),
        ("with open('f') as f:\n    pass\n", {"open"}),
        ("x = input()\n", {"input"}),
        ("show = print\n", {"print"}),  # not only calls: any reference
        ("import datetime\nt = datetime.datetime.now()\n", {"datetime.now"}),
        ("from datetime import date\nt = date.today()\n", {"date.today"}),
        ("import time\nt = time.time()\n", {"time"}),
        ("import random\nr = random.random()\n", {"random"}),
        ("import uuid\nu = uuid.uuid4()\n", {"uuid.uuid4"}),
        ("import datetime\nt = datetime.datetime.fromtimestamp(0, datetime.UTC)\n", set()),
        ("def f(now_ms: int) -> int:\n    return now_ms // 1000\n", set()),
    ],
)
def test_the_check_catches_io_builtins_clock_and_randomness(tmp_path, source, expected):
    module = tmp_path / "module.py"
    module.write_text(source)
    assert forbidden_uses(module) == expected


def test_core_imports_no_io_hardware_network_or_database():
    files = sorted(CORE.rglob("*.py"))
    assert files, "the core package is missing"
    problems = {str(p.relative_to(REPO)): offending_imports(p) for p in files}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_check_catches_forbidden_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlite3\nfrom terminal.ledger import x\nimport numpy as np\n")
    assert offending_imports(bad) == {"sqlite3", "terminal.ledger", "numpy"}


# The product's own layers never import the simulators; the hardware factory is the one place
# that may choose one (gpiozero's pin factory is the model). The demo, the benchmarks and the
# simulators themselves are the world around the product and may.
# `qr-terminal platform` exists to run the platform simulator: it is the world's command.
MAY_NAME_SIMULATORS = {"terminal/hw/factory.py", "terminal/cli/platform.py"}
WORLD_AROUND = ("terminal/sim/", "terminal/bench/", "terminal/demo/")


def test_only_the_hardware_factory_imports_the_simulators():
    offenders = {}
    for path in sorted((REPO / "terminal").rglob("*.py")):
        relative = str(path.relative_to(REPO))
        if relative in MAY_NAME_SIMULATORS or relative.startswith(WORLD_AROUND):
            continue
        sims = {name for name in imported_roots(path) if name.startswith("terminal.sim")}
        if sims:
            offenders[relative] = sims
    assert offenders == {}
