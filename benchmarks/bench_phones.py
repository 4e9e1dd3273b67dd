"""Single-core throughput of importer.phones.normalise.normalise_phone (the plain lane of its region first, then
the cached checks).

Run: .venv/bin/python benchmarks/bench_phones.py [--count N] [--repeats R]

Prints numbers/s for clean E.164, bare 10-digit national numbers, messy formats and invalid inputs,
every value distinct (cold cache), then a mixed column where values repeat (warm cache), and the
plain ``phonenumbers.parse`` + ``is_valid_number`` baseline for comparison; and the load average before and after.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.measure import load_watch  # noqa: E402
from importer.phones.normalise import Phone, _normalise_cached, normalise_phone  # noqa: E402

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _mobiles(rng: random.Random, count: int) -> list[str]:
    return [str(rng.randint(6_000_000_000, 9_999_999_999)) for _ in range(count)]


def _messy(mobile: str, index: int) -> str:
    shapes = (
        f"+91 {mobile[:5]} {mobile[5:]}",
        f"0{mobile[:5]}-{mobile[5:]}",
        f"({mobile[:3]}) {mobile[3:6]}-{mobile[6:]}",
        f"'0{mobile}",
        f'="0{mobile}"',
        f"tel:+91-{mobile}",
        f"0091 {mobile}",
        f"91{mobile}",
        f"{mobile}.0",
        f"{mobile} ext. {index % 1000}",
        f"+91\u00a0{mobile}",
        mobile.translate(_FULL_WIDTH),
    )
    return shapes[index % len(shapes)]


def _sheet_mix(mobile: str, index: int) -> str:
    """The four shapes of benchmarks/make_data.py, in turn."""
    shapes = (f"+91 {mobile[:5]} {mobile[5:]}", "0" + mobile, f"{mobile[:2]}-{mobile[2:6]}-{mobile[6:]}", mobile)
    return shapes[index % len(shapes)]


def _invalid(rng: random.Random, index: int) -> str:
    shapes = (
        str(rng.randint(10_000, 99_999)),
        "N/A",
        f"call me {index}",
        f"+91{rng.randint(10_000_000, 99_999_999)}",
        f"{rng.randint(1_000_000_000, 5_999_999_999)}",
        f"9.{rng.randint(10_000, 99_999)}E+09",
    )
    return shapes[index % len(shapes)]


def _rate(values: Sequence[str], normalise: Callable[[str], object], repeats: int) -> float:
    """Best of ``repeats`` passes (cache cleared before each), in values per CPU second of this process,
    so other work on a busy machine distorts the figure less than wall-clock time would."""
    best = float("inf")
    for _ in range(repeats):
        _normalise_cached.cache_clear()
        started = time.process_time()
        for value in values:
            normalise(value)
        best = min(best, time.process_time() - started)
    return len(values) / best


def _baseline(value: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, "IN"))
    except phonenumbers.NumberParseException:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    count = args.count
    rng = random.Random(20240601)
    mobiles = _mobiles(rng, count)
    clean = ["+91" + mobile for mobile in mobiles]
    messy = [_messy(mobile, index) for index, mobile in enumerate(mobiles)]
    invalid = [_invalid(rng, index) for index in range(count)]
    sheet_mix = [_sheet_mix(mobile, index) for index, mobile in enumerate(mobiles)]
    repeated = [rng.choice(clean[:5000] + messy[:5000]) for _ in range(count)]
    assert all(isinstance(normalise_phone(value), Phone) for value in messy[:1000])
    rows = (
        ("clean E.164 (+919876543210)", clean, normalise_phone),
        ("national 10-digit (9876543210)", mobiles, normalise_phone),
        ("messy formats", messy, normalise_phone),
        ("sheet mix (+91 98765 43210, 0…, 98-…, 10 digits)", sheet_mix, normalise_phone),
        ("invalid inputs", invalid, normalise_phone),
        ("repeated values (10k distinct)", repeated, normalise_phone),
        ("baseline parse+is_valid_number, clean", clean, _baseline),
    )
    with load_watch():
        print(f"normalise_phone, single core, {count:,} values per row, best of {args.repeats}, cold cache")
        for label, values, normalise in rows:
            print(f"  {label:<50} {_rate(values, normalise, args.repeats):>12,.0f} numbers/s")


if __name__ == "__main__":
    main()
