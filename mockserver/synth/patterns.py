"""Strings for regex ``pattern`` keywords.

rstr's generator, made to repeat briefly and to give the same output whatever the hash seed,
and a cache of compiled and parsed patterns (contract regexes Python rejects are remembered as
``None``).
"""

from __future__ import annotations

import importlib
import random
import re
import string
import warnings
from itertools import chain
from typing import Any, Final, Literal

from rstr.xeger import Xeger

_CACHE_LIMIT: Final = 50_000
# What rstr raises on constructs it does not support (unknown opcode, group reference, ...).
_RSTR_ERRORS: Final = (LookupError, ValueError, TypeError, AttributeError, RecursionError)
# What "." and negated character classes draw from: printable, no control characters.
_REGEX_ANY: Final = string.ascii_letters + string.digits + string.punctuation + " "


class _Xeger(Xeger):
    """rstr's regex generator with short repeats and output independent of hash seeds."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.mode: Literal["normal", "short", "long"] = "normal"
        cases = dict(self._cases)
        cases["any"] = lambda _value: self._random.choice(_REGEX_ANY)
        cases["not_literal"] = lambda value: self._random.choice(_REGEX_ANY.replace(chr(value), ""))
        self._cases = cases

    def _handle_in(self, value: Any) -> Any:
        candidates = list(chain(*(self._handle_state(item) for item in value)))
        if candidates and candidates[0] is False:
            # rstr builds this from a set, whose order changes with PYTHONHASHSEED.
            excluded = set(candidates[1:])
            candidates = [c for c in _REGEX_ANY if c not in excluded] or [
                c for c in string.printable if c not in excluded
            ]
        return self._random.choice(candidates)

    def _handle_repeat(self, start_range: int, end_range: int, value: str) -> str:
        if self.mode == "short":
            times = start_range
        elif self.mode == "long":
            times = min(end_range, start_range + 40)
        else:
            times = self._random.randint(start_range, min(end_range, start_range + 6))
        return "".join("".join(self._handle_state(item) for item in value) for _ in range(times))

    def generate(self, parsed: Any) -> str:
        """A string for a pattern already parsed by :func:`_parsed`."""
        try:
            return self._build_string(parsed)
        finally:
            self._cache.clear()


# The parser rstr itself uses; parsing once per pattern beats rstr re-parsing on every call.
_sre_parse: Any = importlib.import_module("re._parser")
_COMPILED: dict[str, tuple[re.Pattern[str], Any] | None] = {}


def _compiled_and_parsed(pattern: str) -> tuple[re.Pattern[str], Any] | None:
    if pattern not in _COMPILED:
        if len(_COMPILED) >= _CACHE_LIMIT:
            _COMPILED.clear()
        try:
            # Contract regexes like "[[a-z]" make re warn (FutureWarning); that is the
            # contract's business, and must not surface (or fail tests) on every request.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _COMPILED[pattern] = (re.compile(pattern), _sre_parse.parse(pattern))
        except (re.error, TypeError, ValueError, RecursionError):
            _COMPILED[pattern] = None
    return _COMPILED[pattern]


def _compiled(pattern: str) -> re.Pattern[str] | None:
    entry = _compiled_and_parsed(pattern)
    return None if entry is None else entry[0]


def _search(pattern: str, text: str) -> bool:
    regex = _compiled(pattern)
    return regex is not None and regex.search(text) is not None
