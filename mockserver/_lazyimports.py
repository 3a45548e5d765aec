"""Start-up: third-party modules that are slow to import and rarely needed, made lazy.

``jsonschema`` imports ``rfc3987_syntax`` (from the ``format-nongpl`` extra) as soon as it
is imported, only to check the ``iri`` formats; that module builds a Lark grammar at
import, 1-2 s on this machine, which was most of ``mockserver serve``'s start-up. A
stand-in takes its place in ``sys.modules`` and imports the real module the first time an
IRI is actually checked: the checks are the same, only later.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_SLOW = "rfc3987_syntax"


def install() -> None:
    """Put the stand-in in place (no-op if already imported or not installed)."""
    if _SLOW in sys.modules or importlib.util.find_spec(_SLOW) is None:
        return
    stub = types.ModuleType(_SLOW, "lazy stand-in for rfc3987_syntax (see mockserver._lazyimports)")
    lock = threading.Lock()

    def real() -> Any:
        with lock:
            if sys.modules.get(_SLOW) is stub:
                del sys.modules[_SLOW]
            return importlib.import_module(_SLOW)

    def is_valid_syntax(rule: str, value: str) -> bool:
        return bool(real().is_valid_syntax(rule, value))

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):  # the import system probing (__path__ ...): not a use
            raise AttributeError(name)
        return getattr(real(), name)

    stub.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stub.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[_SLOW] = stub


install()
