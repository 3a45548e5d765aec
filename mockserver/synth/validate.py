"""The two checks that need a real JSON Schema validator.

Is a schema's ``example`` valid (else it is not used), and does a ``oneOf`` value match exactly
one branch. ``$ref`` strings are resolved through the callback of the running
:func:`~mockserver.synth.synthesize` call (held in a context variable); validators and example
verdicts are cached per schema object.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeVar

from jsonschema import Draft202012Validator
from jsonschema import validators as _jsonschema_validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from mockserver.synth.schema import _MISSING, Resolve

_T = TypeVar("_T")

# Validators and example verdicts hold their schema alive, so keep fewer of them.
_VALIDATOR_CACHE_LIMIT: Final = 4_096

_RESOLVE: contextvars.ContextVar[Resolve | None] = contextvars.ContextVar(
    "mockserver_synth_resolve", default=None
)


def _ref_keyword(
    validator: Any, ref: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # Contract refs point into the whole OpenAPI document, which a per-node validator does not
    # hold; resolving them through the caller's callback also copes with circular refs.
    resolve = _RESOLVE.get()
    if resolve is None or not isinstance(ref, str):
        raise LookupError(f"cannot resolve {ref!r} outside synthesize()")
    yield from validator.descend(instance, resolve(ref))


_RefValidator = _jsonschema_validators.create(
    meta_schema=Draft202012Validator.META_SCHEMA,
    validators={**Draft202012Validator.VALIDATORS, "$ref": _ref_keyword},
    type_checker=Draft202012Validator.TYPE_CHECKER,
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)

_VALIDATORS: dict[int, tuple[object, Validator]] = {}
_EXAMPLES: dict[int, tuple[object, Any]] = {}


def _cache_put(cache: dict[int, tuple[object, _T]], key_obj: object, value: _T) -> None:
    # Entries hold their key object so its id cannot be reused while cached.
    if len(cache) >= _VALIDATOR_CACHE_LIMIT:
        cache.clear()
    cache[id(key_obj)] = (key_obj, value)


def _is_valid(schema: object, instance: Any) -> bool:
    if schema is True:
        return True
    if not isinstance(schema, Mapping):
        return False
    entry = _VALIDATORS.get(id(schema))
    if entry is not None and entry[0] is schema:
        validator = entry[1]
    else:
        validator = _RefValidator(schema, format_checker=_RefValidator.FORMAT_CHECKER)
        _cache_put(_VALIDATORS, schema, validator)
    try:
        return validator.is_valid(instance)
    except Exception:  # noqa: BLE001 - whatever resolve() or the regex engine raises
        # An unresolvable ref, a regex Python cannot compile, ...: not proven valid.
        return False


def _valid_example(schema: Mapping[str, Any]) -> Any:
    if "example" in schema:
        candidate = schema["example"]
    else:
        examples = schema.get("examples")
        if not isinstance(examples, list) or not examples:
            return _MISSING
        candidate = examples[0]
    entry = _EXAMPLES.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    verdict = candidate if _is_valid(schema, candidate) else _MISSING
    _cache_put(_EXAMPLES, schema, verdict)
    return verdict
