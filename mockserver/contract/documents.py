"""Read contract files (YAML or JSON) and bundle cross-file ``$ref``s into one document.

Bundling keeps every ``$ref`` as a reference (never inlines), so circular schemas such as
Stripe's stay finite. A file ``b.yaml`` referenced from the root lands under
``/x-mockserver-files/b.yaml`` and every ``$ref`` is rewritten to a local ``#/...`` pointer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from mockserver.errors import ContractError

FILES_KEY = "x-mockserver-files"
# Keys whose values are example data, not OpenAPI structure: a "$ref" inside is data.
_DATA_KEYS = frozenset({"example", "value", "default", "enum", "const"})
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_YAML_ALIASES = 10_000
MAX_EXPANDED_NODES = 2_000_000


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that keeps dates as strings and bounds alias expansion.

    YAML 1.1 turns ``2024-01-01`` into a ``datetime.date``, which is not JSON; contracts
    mean the string. Aliases are counted because a "billion laughs" document expands
    exponentially in anything that walks it.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.MarkedYAMLError(
                    problem=f"more than {MAX_YAML_ALIASES} YAML aliases (alias bomb?)",
                    problem_mark=event.start_mark,
                )
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_document(path: Path) -> Any:
    """Parse one YAML or JSON file; errors name the file, line and column."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ContractError(str(path), "", f"cannot read the file: {exc.strerror}") from None
    if size > MAX_DOCUMENT_BYTES:
        raise ContractError(str(path), "", f"file is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(str(path), f"byte {exc.start}", "not UTF-8 text") from None
    except OSError as exc:
        raise ContractError(str(path), "", f"cannot read the file: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(
                str(path), f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}"
            ) from None
    try:
        loader = _Loader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
        if loader.aliases and _expanded_size(data) > MAX_EXPANDED_NODES:
            raise ContractError(
                str(path),
                "",
                f"invalid YAML: aliases expand to more than {MAX_EXPANDED_NODES} nodes "
                "(alias bomb?)",
            )
        return _string_keys(data)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ContractError(str(path), where, f"invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise ContractError(str(path), "", f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ContractError(str(path), "", "invalid YAML: nested too deeply") from None


def _string_keys(data: Any) -> Any:
    # YAML reads `200:` (and `400:` under components/responses) as an int; JSON pointers
    # and the spec mean strings. Shared (aliased) nodes are converted once.
    done: set[int] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if id(node) in done:
            continue
        done.add(id(node))
        if isinstance(node, dict):
            if any(not isinstance(k, str) for k in node):
                items = list(node.items())
                node.clear()
                for k, v in items:
                    key = (
                        k
                        if isinstance(k, str)
                        else (
                            "null"
                            if k is None
                            else str(k).lower()
                            if isinstance(k, bool)
                            else str(k)
                        )
                    )
                    node[key] = v
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return data


def _expanded_size(data: Any) -> int:
    # Size as if every alias were copied, memoised per shared object: linear time.
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        hit = sizes.get(id(node))
        if hit is not None:
            return hit
        sizes[id(node)] = 1  # cycles (recursive aliases) count once
        children = node.values() if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                break
        sizes[id(node)] = total
        return total

    return size(data)


def escape_pointer_token(token: str) -> str:
    """Escape one JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    """Unescape one JSON pointer token (RFC 6901)."""
    return token.replace("~1", "/").replace("~0", "~")


def split_pointer(pointer: str) -> list[str]:
    """``/a/b~1c`` -> ``['a', 'b/c']``."""
    if pointer in ("", "/"):
        return [] if pointer == "" else [""]
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [unescape_pointer_token(t) for t in pointer[1:].split("/")]


class PointerError(LookupError):
    """A JSON pointer does not resolve; ``missing`` is the token that was not found."""

    def __init__(self, missing: str, parent: str) -> None:
        self.missing = missing
        self.parent = parent
        super().__init__(f"no {missing!r} in {parent or '/'}")


def resolve_pointer(document: Any, pointer: str) -> Any:
    """Follow a JSON pointer into ``document``."""
    node = document
    walked = ""
    for token in split_pointer(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise PointerError(token, walked)
        walked += "/" + escape_pointer_token(token)
    return node


class Bundler:
    """Loads a root contract and every file it references into one document."""

    def __init__(self, root: Path, *, allow_remote: bool = False) -> None:
        self.root = root.resolve()
        self.base_dir = self.root.parent
        self.allow_remote = allow_remote
        self._keys: dict[Path, str] = {self.root: ""}
        self._docs: dict[Path, Any] = {}
        # (file, pointer of the $ref node, rewritten ref, original ref) for dangling-ref checks
        self._refs: list[tuple[Path, str, str, str]] = []

    def bundle(self) -> dict[str, Any]:
        """Return the root document with external files under ``x-mockserver-files``."""
        root_doc = read_document(self.root)
        if not isinstance(root_doc, dict):
            raise ContractError(str(self.root), "", "a contract must be a mapping at the top level")
        self._docs[self.root] = root_doc
        pending = [self.root]
        while pending:
            current = pending.pop()
            self._walk(self._docs[current], current, "", pending, set())
        files = {
            key: self._docs[path] for path, key in self._keys.items() if key and path in self._docs
        }
        if files:
            root_doc[FILES_KEY] = files
        self._check_refs(root_doc)
        return root_doc

    def _key_for(self, path: Path) -> str:
        if path not in self._keys:
            self._keys[path] = path.relative_to(self.base_dir).as_posix()
        return self._keys[path]

    def _walk(
        self, node: Any, file: Path, pointer: str, pending: list[Path], seen: set[int]
    ) -> None:
        # `seen` makes YAML aliases (shared objects) walked once: no exponential blow-up.
        if isinstance(node, dict):
            if id(node) in seen:
                return
            seen.add(id(node))
            ref = node.get("$ref")
            if isinstance(ref, str):
                node["$ref"] = self._rewrite(ref, file, pointer, pending)
            in_responses = pointer.endswith("/responses")
            for key, value in node.items():
                if not isinstance(value, dict | list):
                    continue
                if key in _DATA_KEYS and not (key == "default" and in_responses):
                    continue
                self._walk(
                    value, file, f"{pointer}/{escape_pointer_token(str(key))}", pending, seen
                )
        elif isinstance(node, list):
            if id(node) in seen:
                return
            seen.add(id(node))
            for i, value in enumerate(node):
                if isinstance(value, dict | list):
                    self._walk(value, file, f"{pointer}/{i}", pending, seen)

    def _rewrite(self, ref: str, file: Path, pointer: str, pending: list[Path]) -> str:
        where = f"{pointer}/$ref" if pointer else "/$ref"
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            raise ContractError(
                str(file),
                where,
                f"remote $ref {ref!r} is not allowed: put the referenced file beside the "
                "contract and refer to it by relative path",
            )
        fragment = unquote(parts.fragment)
        if fragment and not fragment.startswith("/"):
            raise ContractError(str(file), where, f"$ref {ref!r}: fragment must be a JSON pointer")
        if parts.path:
            target = (file.parent / unquote(parts.path)).resolve()
            if not target.is_relative_to(self.base_dir):
                raise ContractError(
                    str(file),
                    where,
                    f"$ref {ref!r} points outside the contract's folder {self.base_dir}",
                )
            if not target.is_file():
                raise ContractError(str(file), where, f"$ref {ref!r}: file {target} not found")
            if target not in self._docs:
                self._docs[target] = read_document(target)
                self._key_for(target)
                pending.append(target)
        else:
            target = file
        key = self._keys.get(target) if target != self.root else ""
        if key is None:
            key = self._key_for(target)
        prefix = f"/{FILES_KEY}/{escape_pointer_token(key)}" if key else ""
        absolute = f"#{prefix}{fragment}"
        self._refs.append((file, where, absolute, ref))
        return absolute

    def _check_refs(self, document: dict[str, Any]) -> None:
        checked: set[str] = set()
        for file, where, ref, original in self._refs:
            if ref in checked:
                continue
            try:
                resolve_pointer(document, ref[1:])
            except PointerError as exc:
                raise ContractError(
                    str(file),
                    where,
                    f"dangling $ref {original!r}: {exc.missing!r} not found",
                ) from None
            checked.add(ref)
            self._check_chain(document, file, where, ref)

    def _check_chain(self, document: dict[str, Any], file: Path, where: str, ref: str) -> None:
        # A $ref whose target is only another $ref, and so on back to itself, describes
        # nothing: every tool following it loops. Schemas that recurse *through*
        # properties (Stripe's) are fine and not caught here.
        seen = [ref]
        node = resolve_pointer(document, ref[1:])
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            nxt = node["$ref"]
            if nxt in seen:
                chain = " -> ".join([*seen, nxt])
                raise ContractError(str(file), where, f"circular $ref chain: {chain}")
            seen.append(nxt)
            try:
                node = resolve_pointer(document, nxt[1:])
            except (PointerError, ValueError):
                return
