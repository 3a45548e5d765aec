"""The state one :func:`~mockserver.synth.synthesize` call carries.

:class:`_State` holds the rng, the node budget, the regex generator and the memo of merged
schemas and resolved refs. The generator is assembled from mixins over it (composition,
containers, strings, numbers); the methods they call on each other are declared here for the
type checker.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockserver.synth.patterns import _Xeger
from mockserver.synth.schema import _MISSING, Direction, Resolve


class _State:
    """State of one :func:`synthesize` call: rng, node budget and memoised merges."""

    def __init__(
        self,
        rng: random.Random,
        resolve: Resolve,
        direction: Direction,
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.rng = rng
        self.resolve = resolve
        self.hidden_flag = "writeOnly" if direction == "response" else "readOnly"
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        # Minimal mode keeps finite schemas small; only an infinite required structure (a
        # binary tree whose children are both required) gets this far, and then stops.
        self.hard_nodes = 4 * max_nodes + 1_000
        self.nodes = 0
        self.xeger = _Xeger(rng)
        self.memo: dict[tuple[Any, ...], tuple[object, Any]] = {}

    def _memo_get(self, key: tuple[Any, ...], anchor: object) -> Any:
        entry = self.memo.get(key)
        if entry is not None and entry[0] is anchor:
            return entry[1]
        return _MISSING

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        key = ("ref", ref)
        entry = self.memo.get(key)
        if entry is not None:
            return entry[1]  # type: ignore[no-any-return]
        target = self.resolve(ref)
        self.memo[key] = (ref, target)
        return target

    if TYPE_CHECKING:

        def gen(self, schema: object, depth: int, hops: int, name: str | None) -> Any: ...

        @staticmethod
        def _infer_type(schema: Mapping[str, Any]) -> str: ...

        def _merged(self, schema: Mapping[str, Any]) -> dict[str, Any]: ...
