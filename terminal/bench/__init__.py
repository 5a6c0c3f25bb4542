"""`scripts/bench`: speed measured as ratios against baselines taken in the same run."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

SALE_LIKE_PAYLOAD = (
    "00020101021226490015kr.incheon.eeum0111M00000000010211SIM-000000152045812530341054051200"
    "05802KR5919HYETAEK PLUS BUNSIK6007INCHEON6239052006H02P585HFFCA70P7X70711SIM-00000016424"
    "0002ko0108HYETAEK PLUS0202IC80960015kr.incheon.eeum011017953192170212Lmhjs3ADFOUp03438Im"
)[:250]


def median_us(action: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def bench_encode(repeat: int) -> None:
    """QR encoders on a 250-character payload: the one we render with is the baseline."""
    import qrcode
    import segno
    import zxingcpp

    from terminal.ui.codeimage import qr_backends, render_qr

    payload = SALE_LIKE_PAYLOAD
    assert len(payload) == 250

    def with_qrcode():
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        code.add_data(payload)
        code.make(fit=True)
        return code.get_matrix()

    candidates = {
        "zxing-cpp": lambda: zxingcpp.create_barcode(
            payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M"
        ).to_image(scale=1, add_quiet_zones=False),
        "segno": lambda: segno.make_qr(payload, error="m", boost_error=False).matrix,
        "qrcode": with_qrcode,
    }
    chosen = {"zxing": "zxing-cpp", "segno": "segno"}[qr_backends()[0]]
    results = {name: median_us(action, repeat) for name, action in candidates.items()}
    results[f"render_qr 480px ({chosen})"] = median_us(lambda: render_qr(payload, 480), repeat)
    base = results[chosen]
    print(f"\n## encode: QR matrix for a {len(payload)}-character payload, ECC M")
    print(f"{'encoder':32} {'median µs':>12} {'× ' + chosen:>14}")
    for name, value in results.items():
        print(f"{name:32} {value:12.1f} {value / base:14.2f}")
    print(f"chosen: {chosen} (fastest matrix encoder installed; segno is the pure-Python fallback)")


def bench_scan(repeat: int, photos: str | None = None) -> None:
    from terminal.bench.scan import bench_scan as run

    run(repeat, photos)


def bench_ledger(repeat: int) -> None:
    from terminal.bench.ledger import bench_ledger as run

    run(repeat)


def bench_sync(repeat: int) -> None:
    from terminal.bench.sync import bench_sync as run

    run(repeat)


def bench_platform(repeat: int) -> None:
    from terminal.sim.platform.bench import bench_platform as run

    run(rounds=max(1, min(repeat, 3)))  # each round uploads thousands of records


def bench_display(repeat: int) -> None:
    from terminal.bench.display import bench_display as run

    run(repeat)


def bench_app(repeat: int) -> None:
    from terminal.bench.app import bench_app as run

    run(repeat)


SECTIONS = {
    "encode": bench_encode,
    "scan": bench_scan,
    "ledger": bench_ledger,
    "sync": bench_sync,
    "display": bench_display,
    "platform": bench_platform,
    "app": bench_app,
}


def main(argv: list[str] | None = None) -> int:
    from terminal.cli import whole_number

    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=", ".join(SECTIONS))
    parser.add_argument(
        "--repeat", type=whole_number(1, 100_000), default=50, help="timed runs per measurement"
    )
    parser.add_argument(
        "--photos",
        metavar="DIR",
        help="scan: folder of real photographs (default ../shared/data/qr-photos when present)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    for name in args.sections or list(SECTIONS):
        if name == "scan":
            bench_scan(args.repeat, args.photos)
        else:
            SECTIONS[name](args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
