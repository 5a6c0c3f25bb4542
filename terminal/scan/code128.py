"""Code128 as the numeric payment barcode uses it: the symbol table, code set C (two digits per
symbol) and the mod-103 checksum."""

from __future__ import annotations

import numpy as np

# Element widths (bar, space, bar, …) of Code128 values 0–102, Start C (105) and Stop (106).
_WIDTHS = (
    "212222",
    "222122",
    "222221",
    "121223",
    "121322",
    "131222",
    "122213",
    "122312",
    "132212",
    "221213",
    "221312",
    "231212",
    "112232",
    "122132",
    "122231",
    "113222",
    "123122",
    "123221",
    "223211",
    "221132",
    "221231",
    "213212",
    "223112",
    "312131",
    "311222",
    "321122",
    "321221",
    "312212",
    "322112",
    "322211",
    "212123",
    "212321",
    "232121",
    "111323",
    "131123",
    "131321",
    "112313",
    "132113",
    "132311",
    "211313",
    "231113",
    "231311",
    "112133",
    "112331",
    "132131",
    "113123",
    "113321",
    "133121",
    "313121",
    "211331",
    "231131",
    "213113",
    "213311",
    "213131",
    "311123",
    "311321",
    "331121",
    "312113",
    "312311",
    "332111",
    "314111",
    "221411",
    "431111",
    "111224",
    "111422",
    "121124",
    "121421",
    "141122",
    "141221",
    "112214",
    "112412",
    "122114",
    "122411",
    "142112",
    "142211",
    "241211",
    "221114",
    "413111",
    "241112",
    "134111",
    "111242",
    "121142",
    "121241",
    "114212",
    "124112",
    "124211",
    "411212",
    "421112",
    "421211",
    "212141",
    "214121",
    "412121",
    "111143",
    "111341",
    "131141",
    "114113",
    "114311",
    "411113",
    "411311",
    "113141",
    "114131",
    "311141",
    "411131",
)
START_C, STOP = 105, 106
_SPECIAL = {START_C: "211232", STOP: "2331112"}
SYMBOL_MODULES = 11  # every symbol but the stop
STOP_MODULES = 13  # the stop symbol with its final bar
DIGIT_PAIRS = 100  # set C values 0–99 stand for "00"–"99"
CHECK_VALUES = 103  # the check symbol is a sum mod 103: any value 0–102


def pattern(value: int) -> np.ndarray:
    """The modules of one symbol, 1.0 for bar and 0.0 for space."""
    widths = _SPECIAL.get(value) or _WIDTHS[value]
    bits = [float(index % 2 == 0) for index, width in enumerate(widths) for _ in range(int(width))]
    return np.array(bits)


def barcode_modules(digits: str) -> np.ndarray:
    """All modules of `digits` (an even count) in code set C, without quiet zones."""
    values = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
    return np.concatenate([pattern(v) for v in (START_C, *values, checksum(values), STOP)])


def checksum(values: list[int]) -> int:
    """The check symbol of set C data symbols `values`: start value plus position-weighted
    values, mod 103."""
    return (START_C + sum(i * v for i, v in enumerate(values, 1))) % CHECK_VALUES


def barcode_length(pairs: int) -> int:
    """Modules of a set C barcode of `pairs` digit pairs: start, pairs, check, stop."""
    return SYMBOL_MODULES * (pairs + 2) + STOP_MODULES
