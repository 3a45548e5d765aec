"""Method + path -> operation, the way API gateways do it.

A segment trie: at every level static segments are tried before templated ones, so
``/locations/cities`` beats ``/locations/{id}``. All matching templates are collected in
that order; the first one that has the method wins, otherwise the answer is 405 with the
methods the path does have.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from mockserver.contract.model import Operation

PATH_PARAM = re.compile(r"{([^}/]+)}")
"""A ``{name}`` parameter in a path template (group 1 is the name)."""


@dataclass(slots=True)
class RouteMatch:
    """The operation a request is for and its raw path parameters."""

    operation: Operation
    path_params: dict[str, str]


@dataclass(slots=True)
class RouteMiss:
    """No operation: ``allowed`` is non-empty when the path exists with other methods."""

    allowed: list[str]
    nearest: list[str]


@dataclass(slots=True, eq=False)
class _Node:
    static: dict[str, _Node] = field(default_factory=dict)
    # (segment template, compiled regex, child): more literal characters first
    dynamic: list[tuple[str, re.Pattern[str], _Node]] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def template_pattern(template: str, value: str) -> str:
    """The regex source of a path template (or one segment of it), anchored at neither end.

    The literal text is escaped and each ``{name}`` becomes a group ``(?P<pN>value)``
    (``value`` is the regex a parameter's value must match), in template order.
    """
    parts: list[str] = []
    last = 0
    for m in PATH_PARAM.finditer(template):
        parts.append(re.escape(template[last : m.start()]))
        parts.append(f"(?P<p{len(parts)}>{value})")
        last = m.end()
    parts.append(re.escape(template[last:]))
    return "".join(parts)


def _segment_regex(segment: str) -> re.Pattern[str]:
    # DOTALL and \Z: a percent-decoded segment may hold a newline, still one segment.
    return re.compile(template_pattern(segment, ".+?") + r"\Z", re.DOTALL)


class Router:
    """Routes requests to the operations of every mounted contract."""

    def __init__(self, operations: list[Operation]) -> None:
        self._root = _Node()
        self._templates: list[str] = []
        self.operations = operations
        for op in operations:
            self._add(op)

    def _add(self, op: Operation) -> None:
        node = self._root
        for segment in _segments(op.full_path):
            if "{" not in segment:
                node = node.static.setdefault(segment, _Node())
                continue
            for template, _, child in node.dynamic:
                if template == segment or (
                    PATH_PARAM.fullmatch(template) and PATH_PARAM.fullmatch(segment)
                ):
                    node = child
                    break
            else:
                child = _Node()
                node.dynamic.append((segment, _segment_regex(segment), child))
                node.dynamic.sort(key=lambda d: -len(PATH_PARAM.sub("", d[0])))
                node = child
        # The first contract mounted wins a clash (same method and path in two contracts).
        node.operations.setdefault(op.method, op)
        if op.full_path not in self._templates:
            self._templates.append(op.full_path)

    def match(self, method: str, path: str) -> RouteMatch | RouteMiss:
        """Find the operation for ``method`` and the (percent-decoded) ``path``."""
        method = method.upper()
        found: list[tuple[_Node, list[str]]] = []
        self._collect(self._root, _segments(path), 0, [], found)
        for node, values in found:
            op = node.operations.get(method)
            if op is None and method == "HEAD":
                op = node.operations.get("GET")
            if op is not None:
                return RouteMatch(op, self._params(op, values))
        if found:
            allowed = sorted({m for node, _ in found for m in node.operations})
            return RouteMiss(allowed=allowed, nearest=[])
        nearest = difflib.get_close_matches(path, self._templates, n=3, cutoff=0.5)
        return RouteMiss(allowed=[], nearest=nearest)

    def _collect(
        self,
        node: _Node,
        segments: list[str],
        index: int,
        values: list[str],
        found: list[tuple[_Node, list[str]]],
    ) -> None:
        if index == len(segments):
            if node.operations:
                found.append((node, list(values)))
            return
        segment = segments[index]
        child = node.static.get(segment)
        if child is not None:
            self._collect(child, segments, index + 1, values, found)
        for _, regex, dyn in node.dynamic:
            m = regex.match(segment)
            if m is None:
                continue
            captured = list(m.groups())
            if any(v == "" for v in captured):
                continue
            self._collect(dyn, segments, index + 1, values + captured, found)

    @staticmethod
    def _params(op: Operation, values: list[str]) -> dict[str, str]:
        names = PATH_PARAM.findall(op.full_path)
        return dict(zip(names, values, strict=False))
