"""`scripts/provision --dry-run`: what each step would do on this device, found by looking only
(no network, no writes)."""

from __future__ import annotations

import sys

from terminal.provision import identity, services, software
from terminal.provision.steps import STEPS, Options, Run, _useradd
from terminal.provision.system import (
    apt_packages,
    check_host,
    existing_groups,
    missing_packages,
    read_host,
    user_groups,
)


def plan(options: Options, out=None) -> int:
    out = out or sys.stdout
    run = Run(options, out)
    host = read_host()
    lines = []
    problems = check_host(host)
    lines.append(host.describe() + (f" — problem: {'; '.join(problems)}" if problems else ""))
    files = run.files
    if options.rekey:
        lines.append(
            "move the key, certificate and ledger to retired-<time>/, make a new key (--rekey)"
        )
    elif files.key.exists():
        lines.append(f"keep the device key {files.key}")
    else:
        lines.append(f"make a new device key on this device at {files.key} (0600)")
    present = identity.current_identity(files) if files.key.exists() else None
    if (
        present
        and not (options.reenroll or options.rekey)
        and (not options.platform or options.platform == present.platform)
    ):
        lines.append(f"keep the enrollment: {present.device_id} at {present.platform}")
    else:
        code = "the code given" if options.code else "a code asked for"
        url = options.platform or (present.platform if present else "--platform (missing!)")
        lines.append(f"enroll at {url} with {code}; write certificate, CA, platform keys")
    if options.root is not None:
        lines.append("none (--root: packages belong to the host)")
    else:
        missing = missing_packages(apt_packages(host))
        lines.append(f"apt-get install {' '.join(missing)}" if missing else "none missing")
    groups = ",".join(existing_groups())
    if options.root is not None or user_groups("qr-terminal") is None:
        lines.append(f"{' '.join(_useradd())}; usermod -aG {groups} qr-terminal")
    else:
        lines.append(f"keep user qr-terminal (groups wanted: {groups})")
    name = software.release_name(options.source)
    if software.is_complete(run.opt / "releases" / name):
        lines.append(
            f"keep release {name}"
            + ("" if software.current_release(run.opt) == name else "; switch current to it")
        )
    else:
        lines.append(f"install release {name} into {run.opt / 'releases'}; current → it")
    lines.append(f"write {run.device_file} ([device], [merchant], [platform], [paths])")
    unit_dir = run.unit_dir
    lines.append(
        f"install units into {unit_dir}; systemctl enable + start "
        f"{services.MAIN_UNIT} and timers; wait until it reports ready"
    )
    lines.append("run qr-terminal selftest as qr-terminal")
    print("계획 / plan (--dry-run: nothing is changed, nothing is sent):", file=out)
    for number, ((ko, en), line) in enumerate(zip(STEPS, lines, strict=True), start=1):
        print(f"[{number}/{len(STEPS)}] {ko} / {en}: {line}", file=out)
    return 0
