"""`scripts/bench scan`: each decoder and the pipeline, on real photos and simulated frames."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from terminal.scan.decoders import FORMATS, OpencvBackend, ZbarBackend, ZxingBackend
from terminal.scan.pipeline import Pipeline
from terminal.sim.dataset import Sample, real_photos, simulated
from terminal.sim.scene import CATEGORIES

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "qr-photos"


def photo_folder(option: str | None) -> Path | None:
    """The --photos folder, or the shared one when present; exits 2 on a folder that is not."""
    if option is None:
        return PHOTOS if PHOTOS.is_dir() else None
    folder = Path(option)
    if not folder.is_dir():
        print(f"scripts/bench: --photos {option}: not a folder of photographs", file=sys.stderr)
        raise SystemExit(2)
    return folder


def decoders() -> dict[str, Callable]:
    """Each single library as shipped (restricted to QR + Code128), and our pipeline."""
    pipeline = Pipeline()
    return {
        "zxing-cpp": ZxingBackend(FORMATS).decode,
        "zbar": ZbarBackend(FORMATS).decode,
        "opencv": OpencvBackend(FORMATS).decode,
        "pipeline": lambda gray: pipeline.decode(gray).codes,
    }


def run(decode: Callable, samples: list[Sample]) -> tuple[set[str], set[str], list[float]]:
    """(names read right, names answered wrongly, ms per frame) for one decoder."""
    right, wrong, times = set(), set(), []
    for sample in samples:
        started = time.perf_counter()
        texts = [code.text.rstrip("\r\n") for code in decode(sample.gray)]
        times.append((time.perf_counter() - started) * 1000)
        if sample.expected is None:
            if texts:
                wrong.add(sample.name)
        elif sample.expected in texts:
            right.add(sample.name)
        elif texts:
            wrong.add(sample.name)
    return right, wrong, times


def p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def table(title: str, samples: list[Sample], names: dict[str, Callable]) -> dict[str, tuple]:
    results = {name: run(decode, samples) for name, decode in names.items()}
    total = sum(1 for s in samples if s.expected is not None)
    print(f"\n### {title}: {total} frames with a code")
    print(f"{'decoder':12} {'decoded':>12} {'wrong':>6} {'median ms':>10} {'p95 ms':>8}")
    for name, (right, wrong, times) in results.items():
        print(
            f"{name:12} {len(right):5}/{total:<4} {len(right) / total:5.0%} {len(wrong):4} "
            f"{statistics.median(times):10.2f} {p95(times):8.2f}"
        )
    singles = [results[n][0] for n in names if n != "pipeline"]
    union = set().union(*singles)
    print(f"{'union of 3':12} {len(union):5}/{total:<4} {len(union) / total:5.0%}")
    for name, (_, wrong, _) in results.items():
        if wrong:
            print(f"  {name} wrong on: {', '.join(sorted(wrong))}")
    return results


def bench_scan(
    repeat: int, photos: str | None = None, per_category: int = 100, empties: int = 200
) -> None:
    folder = photo_folder(photos)
    names = decoders()
    print("\n## scan: decoders restricted to QR + Code128 (ratios against the same run)")
    if folder is not None:
        table(f"real photographs ({folder})", list(real_photos(folder)), names)
    else:
        print(f"(no real photographs at {PHOTOS}, and no --photos DIR: skipped)")

    print(f"\n### simulated frames, 640×480, {per_category} per category: decoded")
    print(f"{'category':14} " + " ".join(f"{n:>10}" for n in names))
    with_code: list[Sample] = []
    totals = dict.fromkeys(names, 0)
    wrong_total = dict.fromkeys(names, 0)
    times: dict[str, list[float]] = {n: [] for n in names}
    for category in CATEGORIES:
        samples = list(simulated(category, per_category))
        with_code += samples
        row = []
        for name, decode in names.items():
            right, wrong, spent = run(decode, samples)
            totals[name] += len(right)
            wrong_total[name] += len(wrong)
            times[name] += spent
            row.append(f"{len(right) / len(samples):10.0%}")
        print(f"{category:14} " + " ".join(row))
    empty = list(simulated("empty", empties))
    empty_ms = {}
    for name, decode in names.items():
        spent = []
        for round_index in range(max(1, repeat // 10)):
            _, wrong, ms = run(decode, empty)
            spent += ms
            if round_index == 0:  # the same frames again: count each false positive once
                wrong_total[name] += len(wrong)
        empty_ms[name] = statistics.mean(spent)
    overall = len(with_code)
    print(f"{'overall':14} " + " ".join(f"{totals[n] / overall:10.0%}" for n in names))
    print(f"{'wrong texts':14} " + " ".join(f"{wrong_total[n]:10}" for n in names))
    print(f"{'median ms':14} " + " ".join(f"{statistics.median(times[n]):10.2f}" for n in names))
    print(f"{'p95 ms':14} " + " ".join(f"{p95(times[n]):10.2f}" for n in names))

    print(f"{'empty mean ms':14} " + " ".join(f"{empty_ms[n]:10.2f}" for n in names))
    fastest = min((n for n in names if n != "pipeline"), key=empty_ms.get)
    best = max((n for n in names if n != "pipeline"), key=totals.get)
    print(
        f"\npipeline vs fastest single backend ({fastest}) on an empty frame: "
        f"{empty_ms['pipeline'] / empty_ms[fastest]:.2f}× (target ≤ 1.2×)"
    )
    print(
        f"pipeline vs {fastest} on a frame with a code (median): "
        f"{statistics.median(times['pipeline']) / statistics.median(times[fastest]):.2f}× "
        "(target ≤ 1.5×)"
    )
    print(
        f"pipeline vs best single backend ({best}) decoded: "
        f"{totals['pipeline'] / max(1, totals[best]):.2f}×"
    )
