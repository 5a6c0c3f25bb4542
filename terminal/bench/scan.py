"""`scripts/bench scan`: the pipeline beside each decoder library and their union, on the tuning
split, the unseen split (terminal/sim/counter.py, another seed) and the real photographs.

Every contestant gets the same preloaded greyscale frames (rendering and file decoding happen
before any clock starts), in a shuffled order each round. The empty-frame cost is the mean over
several rounds on the same frames, as a ratio to zxing-cpp's own cost in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from terminal.scan.backoff import RepairBackoff
from terminal.scan.decoders import FORMATS, OpencvBackend, ZbarBackend, ZxingBackend
from terminal.scan.fusion import Fusion
from terminal.scan.pipeline import Pipeline
from terminal.sim.counter import CATEGORIES
from terminal.sim.dataset import (
    HOLD_FRAMES,
    HOLD_SPLITS,
    PHOTO_NOTES,
    SPLITS,
    Hold,
    Sample,
    counter_frames,
    counter_holds,
    real_photos,
    same_text,
)

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "qr-photos"
LIBRARIES = ("zxing-cpp", "zbar", "opencv")
UNION = "libraries∪"
HOLDS_PER_CATEGORY = 5


def photo_folder(option: str | None) -> Path | None:
    """The --photos folder, or the shared one when present; exits 2 on a folder that is not."""
    if option is None:
        return PHOTOS if PHOTOS.is_dir() else None
    folder = Path(option)
    if not folder.is_dir():
        print(f"scripts/bench: --photos {option}: not a folder of photographs", file=sys.stderr)
        raise SystemExit(2)
    return folder


def contestants() -> dict[str, Callable]:
    """Each library as shipped (restricted to QR + Code128), and our pipeline."""
    pipeline = Pipeline()
    return {
        "zxing-cpp": ZxingBackend(FORMATS).decode,
        "zbar": ZbarBackend(FORMATS).decode,
        "opencv": OpencvBackend(FORMATS).decode,
        "pipeline": lambda gray: pipeline.decode(gray).codes,
    }


def verdicts(decode: Callable, samples: list[Sample]) -> tuple[set[str], set[str], list[float]]:
    """(names read right, names answered with a text that is not theirs, ms per frame)."""
    right, wrong, times = set(), set(), []
    for sample in samples:
        started = time.perf_counter()
        codes = decode(sample.gray)
        times.append((time.perf_counter() - started) * 1000)
        texts = {same_text(code.text) for code in codes}
        if sample.expected in texts:
            right.add(sample.name)
        if texts - {sample.expected} - sample.also_true:
            wrong.add(sample.name)
    return right, wrong, times


def score(names: dict[str, Callable], samples: list[Sample]) -> dict[str, tuple]:
    """Each contestant's verdicts on `samples`, contestants in a shuffled order."""
    order = list(names)
    random.shuffle(order)
    results = {name: verdicts(names[name], samples) for name in order}
    union = set().union(*(results[name][0] for name in LIBRARIES))
    return {name: results[name] for name in names} | {UNION: (union, set(), [])}


def print_table(title: str, groups: dict[str, list[Sample]], names: dict[str, Callable]) -> dict:
    """Rows: groups and overall; columns: reads per contestant. Returns overall verdicts."""
    columns = [*names, UNION]
    print(f"\n### {title}")
    print(f"{'':18}{'frames':>7} " + " ".join(f"{c:>10}" for c in columns))
    overall: dict[str, list] = {c: [set(), set(), []] for c in columns}
    for group, samples in groups.items():
        results = score(names, samples)
        for column in columns:
            read, wrong, times = results[column]
            overall[column][0].update(read)
            overall[column][1].update(wrong)
            overall[column][2].extend(times)
        print(
            f"{group:18}{len(samples):7} "
            + " ".join(f"{len(results[c][0]) / len(samples):10.0%}" for c in columns)
        )
    total = sum(len(s) for s in groups.values())
    print(
        f"{'overall':18}{total:7} "
        + " ".join(f"{len(overall[c][0]):>5} {len(overall[c][0]) / total:4.0%}" for c in columns)
    )
    print(f"{'wrong texts':18}{'':7} " + " ".join(f"{len(overall[c][1]):10}" for c in columns))
    print(
        f"{'median ms':18}{'':7} "
        + " ".join(
            f"{statistics.median(overall[c][2]):10.2f}" if overall[c][2] else f"{'':10}"
            for c in columns
        )
    )
    for column in columns:
        if overall[column][1]:
            print(f"  {column} wrong on: {', '.join(sorted(overall[column][1]))}")
    return overall


def split_groups(split: str, per_category: int) -> dict[str, list[Sample]]:
    seed = SPLITS[split]
    return {c: list(counter_frames(c, per_category, seed)) for c in CATEGORIES}


def photo_groups(folder: Path) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = {}
    for sample in real_photos(folder):
        kind = "QR photos" if sample.name.startswith("qrcode") else "Code128 photos"
        groups.setdefault(kind, []).append(sample)
    return groups


def empty_cost(names: dict[str, Callable], empties: list, rounds: int, judge=verdicts) -> dict:
    """Mean ms per empty frame for each contestant, rounds in shuffled order; and the frames
    (or holds) any contestant answered, each counted once. `judge` is `verdicts` for frames,
    `hold_verdicts` for holds."""
    spent: dict[str, list[float]] = {name: [] for name in names}
    wrong: dict[str, set[str]] = {name: set() for name in names}
    for _ in range(rounds):
        order = list(names)
        random.shuffle(order)
        for name in order:
            _, answered, times = judge(names[name], empties)
            spent[name] += times
            wrong[name] |= answered
    return {name: (statistics.mean(spent[name]), wrong[name]) for name in names}


def bench_scan(
    repeat: int,
    photos: str | None = None,
    splits: tuple[str, ...] = ("tuning", "unseen"),
    per_category: int = 48,
    empties: int = 150,
) -> None:
    folder = photo_folder(photos)
    names = contestants()
    print("\n## scan: decoders restricted to QR + Code128, on preloaded frames")
    for split in splits:
        groups = split_groups(split, per_category)
        print_table(
            f"{split} split (seed {SPLITS[split]}): simulated counter, 640×480, "
            f"{per_category} per category",
            groups,
            names,
        )
    if folder is not None:
        print_table(f"real photographs ({folder})", photo_groups(folder), names)
        for name, (text, why) in PHOTO_NOTES.items():
            print(f"  {name}: {text!r} also counts as right: {why}")
    else:
        print(f"\n(no real photographs at {PHOTOS}, and no --photos DIR: skipped)")
    empty = list(counter_frames("empty", empties, SPLITS[splits[-1]]))
    cost = empty_cost(names, empty, max(2, repeat // 10))
    print(f"\n### empty frames ({len(empty)}, {splits[-1]} split): mean ms, false answers")
    for name, (ms, wrong) in cost.items():
        ratio = ms / cost["zxing-cpp"][0]
        print(f"{name:12} {ms:8.3f} ms {ratio:6.2f}× zxing-cpp {len(wrong):4} answered")
    print(
        f"pipeline / zxing-cpp on an empty frame: "
        f"{cost['pipeline'][0] / cost['zxing-cpp'][0]:.2f}× (budget ≤ 1.2×)"
    )
    bench_holds(HOLDS_PER_CATEGORY, empties // HOLD_FRAMES, max(2, repeat // 10))


def hold_contestants() -> dict[str, Callable[[], Callable]]:
    """Per hold, a fresh frame → codes function (fusion remembers the frames of one hold)."""
    zxing, pipeline = ZxingBackend(FORMATS), Pipeline()

    def through(fusion: Fusion, backoff: bool = False) -> Callable[[], Callable]:
        def start() -> Callable:
            fusion.reset()
            if not backoff:
                return lambda gray: fusion.update(gray, pipeline.decode(gray))
            spots = RepairBackoff()

            def decode(gray):
                result = pipeline.decode(gray, spots.allows)
                spots.update(result)
                return fusion.update(gray, result)

            return decode

        return start

    return {
        "zxing-cpp": lambda: zxing.decode,
        "pipeline": lambda: lambda gray: pipeline.decode(gray).codes,
        # The scan worker's default: Code128 reads confirmed, no averaging, no back-off.
        "+confirm": through(Fusion(average=False)),
        "+confirm+backoff": through(Fusion(average=False), backoff=True),
        "+confirm+fusion": through(Fusion()),
    }


def hold_verdicts(start: Callable[[], Callable], holds: list[Hold]):
    """(holds read within their frames: name → the frame (1-based) of the first read, holds
    answered with a wrong text, ms per frame)."""
    right, wrong, times = {}, set(), []
    for hold in holds:
        decode = start()
        for number, gray in enumerate(hold.frames, 1):
            started = time.perf_counter()
            codes = decode(gray)
            times.append((time.perf_counter() - started) * 1000)
            texts = {same_text(code.text) for code in codes}
            if hold.expected in texts:
                right.setdefault(hold.name, number)
            if texts - {hold.expected}:
                wrong.add(hold.name)
    return right, wrong, times


def print_holds(split: str, per_category: int, frames: int, names: dict) -> None:
    """Holds per category read within their first `frames` frames, per contestant."""
    print(
        f"\n### holds, {split} (seed {HOLD_SPLITS[split]}): {per_category} per category, "
        f"read within the first {frames} frames (10 fps)"
    )
    print(f"{'':18}{'holds':>6} " + " ".join(f"{c:>16}" for c in names))
    overall = {name: [{}, set()] for name in names}
    total = 0
    for category in CATEGORIES:
        holds = list(counter_holds(category, per_category, HOLD_SPLITS[split], frames))
        total += len(holds)
        order = list(names)
        random.shuffle(order)
        results = {name: hold_verdicts(names[name], holds) for name in order}
        for name in names:
            overall[name][0].update(results[name][0])
            overall[name][1] |= results[name][1]
        print(
            f"{category:18}{len(holds):6} "
            + " ".join(f"{len(results[n][0]) / len(holds):16.0%}" for n in names)
        )
    print(
        f"{'overall':18}{total:6} "
        + " ".join(f"{len(overall[n][0]):>10} {len(overall[n][0]) / total:4.0%}" for n in names)
    )
    print(f"{'wrong texts':18}{'':6} " + " ".join(f"{len(overall[n][1]):16}" for n in names))
    for within in (1, 3, 5):
        print(
            f"{f'read by frame {within}':18}{'':6} "
            + " ".join(
                f"{sum(f <= within for f in overall[n][0].values()) / total:16.0%}" for n in names
            )
        )
    for name in names:
        if overall[name][1]:
            print(f"  {name} wrong on: {', '.join(sorted(overall[name][1]))}")


def bench_holds(
    per_category: int,
    empties: int,
    rounds: int,
    splits: tuple[str, ...] = tuple(HOLD_SPLITS),
    frames: int = HOLD_FRAMES,
) -> None:
    """Holds of consecutive frames: any frame read (per frame) or fused, and the cost per
    frame of holds with no code, against zxing-cpp's in the same run."""
    names = hold_contestants()
    for split in splits:
        print_holds(split, per_category, frames, names)
    empty = list(counter_holds("empty", empties, HOLD_SPLITS[splits[-1]], frames))
    cost = empty_cost(names, empty, rounds, hold_verdicts)
    print(f"\n### empty holds ({len(empty)} × {frames} frames, {splits[-1]} split): ms per frame")
    base = cost["zxing-cpp"][0]
    for name, (ms, answered) in cost.items():
        print(f"{name:16} {ms:8.3f} ms {ms / base:6.2f}× zxing-cpp {len(answered):4} answered")


def main(argv: list[str] | None = None) -> int:
    """For tuning runs: `python -m terminal.bench.scan --splits tuning --no-photos`."""
    parser = argparse.ArgumentParser(prog="python -m terminal.bench.scan")
    parser.add_argument("--splits", nargs="+", choices=list(SPLITS), default=list(SPLITS))
    parser.add_argument("--per-category", type=int, default=48)
    parser.add_argument("--empties", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--photos", metavar="DIR")
    parser.add_argument("--holds", type=int, default=0, help="holds per category; only holds")
    parser.add_argument("--hold-splits", nargs="+", choices=list(HOLD_SPLITS), default=None)
    parser.add_argument(
        "--unseen-seed",
        type=int,
        metavar="SEED",
        help=f"report on this seed instead of {SPLITS['unseen']} (frames and holds): another "
        "split nothing was tuned on, to see the spread between seeds",
    )
    args = parser.parse_args(argv)
    if args.unseen_seed is not None:
        if args.unseen_seed == SPLITS["tuning"]:
            parser.error(f"--unseen-seed {args.unseen_seed} is the tuning seed; pick another")
        SPLITS["unseen"] = HOLD_SPLITS["fresh"] = args.unseen_seed
    if args.holds:
        splits = tuple(args.hold_splits or HOLD_SPLITS)
        empties = max(1, args.empties // HOLD_FRAMES)
        bench_holds(args.holds, empties, max(2, args.repeat // 10), splits)
        return 0
    bench_scan(args.repeat, args.photos, tuple(args.splits), args.per_category, args.empties)
    return 0


if __name__ == "__main__":
    sys.exit(main())
