"""Deterministic synthesis of JSON values from JSON Schema (2020-12 dialect, OpenAPI flavoured).

The mock server answers with these values when a contract gives no example. The entry point is
:func:`synthesize`; everything random comes from the ``random.Random`` passed in, so the same
schema and seed always give the same value.

Schemas may contain ``$ref`` strings resolved through a callback, and the references may be
circular. Generation tracks the nesting depth: past ``max_depth`` (or once a node budget is
spent) it only emits what the schema requires, so it always terminates.

jsonschema is only used for the two checks that need a real validator (is an ``example`` valid,
does a ``oneOf`` value match exactly one branch); those validators are cached.

The package is split by job: :mod:`~mockserver.synth.walker` holds :func:`synthesize` and the
dispatch over a schema node, :mod:`~mockserver.synth.compose` ``$ref``/``allOf`` merging and
``anyOf``/``oneOf`` branch choice, :mod:`~mockserver.synth.containers` objects and arrays,
:mod:`~mockserver.synth.strings` and :mod:`~mockserver.synth.numeric` scalars,
:mod:`~mockserver.synth.patterns` regex strings, :mod:`~mockserver.synth.validate` the two
validator checks, :mod:`~mockserver.synth.base` the per-call state and
:mod:`~mockserver.synth.schema` the vocabulary they share.
"""

from __future__ import annotations

from mockserver.synth.schema import Direction, Resolve
from mockserver.synth.walker import clear_caches, synthesize

__all__ = ["Direction", "Resolve", "clear_caches", "synthesize"]
