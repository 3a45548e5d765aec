"""Integers and numbers: bounds, exclusive bounds, ``multipleOf`` and format ranges.

Arithmetic is exact (fractions) so that a value drawn for ``multipleOf: 0.1`` passes the same
float check jsonschema performs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, Final

from mockserver.synth.base import _State
from mockserver.synth.schema import _number

_FORMAT_RANGES: Final = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _fraction(value: int | float) -> Fraction:
    # str() first so 0.1 means one tenth, as the contract author meant.
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _multiple_ok(value: int | float, divisor: int | float) -> bool:
    """The check jsonschema's ``multipleOf`` performs, float quirks included."""
    if isinstance(divisor, float):
        try:
            quotient = value / divisor
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(divisor)).denominator == 1
    return value % divisor == 0


def _in_bounds(value: int | float, schema: Mapping[str, Any]) -> bool:
    minimum = _number(schema.get("minimum"))
    maximum = _number(schema.get("maximum"))
    ex_min = _number(schema.get("exclusiveMinimum"))
    ex_max = _number(schema.get("exclusiveMaximum"))
    return not (
        (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
        or (ex_min is not None and value <= ex_min)
        or (ex_max is not None and value >= ex_max)
    )


def _window(
    lo: Fraction | None, hi: Fraction | None, default: tuple[int, int], span: int
) -> tuple[Fraction, Fraction]:
    """A human-sized range inside [lo, hi], preferring ``default`` when the bounds allow."""
    a = Fraction(default[0]) if lo is None else max(lo, Fraction(default[0]))
    b = Fraction(default[1]) if hi is None else min(hi, Fraction(default[1]))
    if a <= b:
        return a, b
    if lo is not None and hi is not None and lo > hi:
        return lo, lo
    if lo is not None and (hi is None or lo > Fraction(default[1])):
        return lo, lo + span if hi is None else min(hi, lo + span)
    assert hi is not None
    return (hi - span if lo is None else max(lo, hi - span)), hi


class _Numbers(_State):
    """Numeric scalars."""

    def _integer(self, schema: Mapping[str, Any]) -> int:
        minimum = _number(schema.get("minimum"))
        maximum = _number(schema.get("maximum"))
        ex_min = _number(schema.get("exclusiveMinimum"))
        ex_max = _number(schema.get("exclusiveMaximum"))
        lows = [math.ceil(minimum)] if minimum is not None else []
        lows += [math.floor(ex_min) + 1] if ex_min is not None else []
        highs = [math.floor(maximum)] if maximum is not None else []
        highs += [math.ceil(ex_max) - 1] if ex_max is not None else []
        fmt = schema.get("format")
        if fmt in _FORMAT_RANGES:
            lows.append(_FORMAT_RANGES[fmt][0])
            highs.append(_FORMAT_RANGES[fmt][1])
        lo = Fraction(max(lows)) if lows else None
        hi = Fraction(min(highs)) if highs else None
        default = (1_600_000_000, 1_800_000_000) if fmt == "unix-time" else (0, 1000)
        multiple = _number(schema.get("multipleOf"))
        # Integer multiples of p/q (in lowest terms) are exactly the multiples of p.
        step = _fraction(multiple).numerator if multiple is not None and multiple > 0 else 1

        def accept(exact: Fraction) -> int | None:
            value = int(exact)
            if multiple is not None and multiple > 0 and not _multiple_ok(value, multiple):
                return None
            return value

        a, b = _window(lo, hi, default, 1000)
        value = self._pick_multiple(a, b, lo, hi, Fraction(step), accept)
        return int(a) if value is None else int(value)

    def _float(self, schema: Mapping[str, Any]) -> float | int:
        minimum = _number(schema.get("minimum"))
        maximum = _number(schema.get("maximum"))
        ex_min = _number(schema.get("exclusiveMinimum"))
        ex_max = _number(schema.get("exclusiveMaximum"))
        lows = [Fraction(v) for v in (minimum, ex_min) if v is not None]
        highs = [Fraction(v) for v in (maximum, ex_max) if v is not None]
        lo = max(lows) if lows else None
        hi = min(highs) if highs else None
        a, b = _window(lo, hi, (0, 1000), 1000)
        multiple = _number(schema.get("multipleOf"))
        if multiple is not None and multiple > 0:
            divisor = multiple

            def accept(exact: Fraction) -> int | float | None:
                value: int | float = int(exact) if isinstance(divisor, int) else float(exact)
                ok = _in_bounds(value, schema) and _multiple_ok(value, divisor)
                return value if ok else None

            found = self._pick_multiple(a, b, lo, hi, _fraction(multiple), accept)
            return float(a) if found is None else found
        fa, fb = float(a), float(b)
        for value in (round(self.rng.uniform(fa, fb), 2), self.rng.uniform(fa, fb), (fa + fb) / 2):
            if _in_bounds(value, schema):
                return value
        return fa

    def _pick_multiple(
        self,
        a: Fraction,
        b: Fraction,
        lo: Fraction | None,
        hi: Fraction | None,
        step: Fraction,
        accept: Callable[[Fraction], int | float | None],
    ) -> int | float | None:
        """A random ``k * step`` in [a, b] (else near the bounds) that ``accept`` approves."""
        ranges = [(math.ceil(a / step), math.floor(b / step))]
        full_lo = math.ceil(lo / step) if lo is not None else None
        full_hi = math.floor(hi / step) if hi is not None else None
        if full_lo is not None:
            last = full_hi if full_hi is not None else full_lo + 10
            ranges += [(full_lo, min(last, full_lo + 10)), (max(full_lo, last - 10), last)]
        elif full_hi is not None:
            ranges.append((full_hi - 10, full_hi))
        for k_lo, k_hi in ranges:
            if k_lo > k_hi:
                continue
            tries = [self.rng.randint(k_lo, k_hi) for _ in range(4)]
            tries += list(range(k_lo, min(k_hi, k_lo + 3) + 1))
            tries += list(range(k_hi, max(k_lo, k_hi - 3) - 1, -1))
            for k in tries:
                value = accept(k * step)
                if value is not None:
                    return value
        return None
