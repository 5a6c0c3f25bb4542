"""`qr-terminal demo`: the whole kit on a laptop. The platform simulator (HTTPS + mTLS on
127.0.0.1) enrolls a fresh device; the real app runs on the simulated camera, a window or PNG
frames, and scripted keys through a shop day (terminal/demo/day.py); at the end the platform
must hold exactly what the journal holds, and the journal export must verify."""

from __future__ import annotations

import contextlib
import io
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from terminal.core.money import format_won


def run_demo(
    workdir: Path | None = None,
    headless: bool = False,
    interactive: bool = False,
    online_sales: int = 16,
    offline_sales: int = 6,
) -> int:
    from terminal.cli import describe_error
    from terminal.config.loader import ConfigError
    from terminal.demo.day import Day, DemoFailed, journal_holds, platform_holds
    from terminal.demo.world import open_world
    from terminal.sim.platform.pki import SimulatorStateError

    def say(text: str) -> None:
        print(f"• {text}" if not text.startswith("  ") else text, flush=True)

    if workdir is not None and any(ord(c) < 32 or ord(c) == 127 for c in str(workdir)):
        print(f"error: --workdir {str(workdir)!r}: a control character in the path; give a "
              "plain folder name", file=sys.stderr)  # fmt: skip
        return 2
    # Absolute: the app resolves a relative screens folder under its own state folder.
    workdir = Path(workdir or tempfile.mkdtemp(prefix="qr-terminal-demo-")).absolute()
    if workdir.exists() and any(workdir.iterdir()):
        print(f"error: {workdir}: not empty; give a new or empty --workdir", file=sys.stderr)
        return 2
    started = time.monotonic()
    fresh = not workdir.exists() or not any(workdir.iterdir())
    try:
        world = open_world(workdir, headless=headless, interactive=interactive)
    except (OSError, sqlite3.Error, SimulatorStateError, ConfigError) as error:
        # A full disk or an unwritable folder: say so in one line and leave nothing half-made.
        if fresh:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"error: {workdir}: cannot set up the demo there ({error})", file=sys.stderr)
        return 2
    say(f"platform simulator at {world.server.url} (mutual TLS; CA {world.server.ca_path})")
    say(
        f"device {world.config.device.id} enrolled with a one-time code; key made on the device; "
        f"merchant {world.config.merchant.name_ko} [{world.config.merchant.id}]"
    )
    if interactive:
        from terminal.demo.interactive import play_interactive

        try:
            return play_interactive(world, say)
        finally:
            world.close()
    day = Day(world, say)
    try:
        day.play(online_sales, offline_sales)
        journal = journal_holds(world)
        held = platform_holds(world)
    except DemoFailed as error:
        print(f"error: the demo day stopped: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a disk filled during the day: say where, not "(input)"
        world.close()
        if fresh:
            shutil.rmtree(workdir, ignore_errors=True)  # and give the space back
        print(f"error: --workdir {workdir}: {describe_error(error).removeprefix('(input): ')}",
              file=sys.stderr)  # fmt: skip
        return 2
    finally:
        # Whatever happened, the app's threads and the simulator stop (nothing left running).
        world.close()
    tally = day.tally
    say(
        f"{tally.sales} sales ({tally.online_mpm} MPM + {tally.online_cpm} CPM online, "
        f"{tally.offline_mpm} MPM + {tally.offline_cpm} CPM offline), "
        f"{format_won(tally.sales_won)}; refused: {', '.join(tally.refused) or 'none'}"
    )
    if held != journal:
        print(
            f"error: the platform holds {len(held)} records, the journal {len(journal)}: "
            f"missing {sorted(journal - held)[:3]}, extra {sorted(held - journal)[:3]}",
            file=sys.stderr,
        )
        return 1
    say(f"the platform holds exactly the journal's {len(journal)} records: none lost, none twice")
    if verify_journal(world, workdir) != 0:
        return 1
    say(
        f"journal exported and verified against the device certificate and the platform CA "
        f"→ {workdir / 'journal.jsonl'}"
    )
    frames = sorted(world.frames.glob("*.png"))
    if frames:
        say(f"{len(frames)} screen frames → {world.frames}")
    say(f"done in {time.monotonic() - started:.1f} s; everything is in {workdir}")
    return 0


def verify_journal(world, workdir: Path) -> int:
    """The same commands a technician or an auditor runs, in-process."""
    from terminal.cli import main

    files = world.files
    export = workdir / "journal.jsonl"
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        code = main(
            [
                "journal",
                "export",
                "--db",
                str(files.database),
                "--key",
                str(files.key),
                "--out",
                str(export),
            ]
        )
        if code == 0:
            code = main(
                [
                    "journal",
                    "verify",
                    str(export),
                    "--cert",
                    str(files.cert),
                    "--ca",
                    str(files.platform_ca),
                ]
            )
    if code != 0:
        print(quiet.getvalue(), end="")
        print("error: the journal export did not verify (above)", file=sys.stderr)
    return code
