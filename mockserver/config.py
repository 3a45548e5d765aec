"""Configuration: ``mockserver.yaml`` and the ``x-mockserver`` block of contracts.

Every key is optional. A contract's ``x-mockserver`` gives defaults for that contract;
the config file overrides them; keyword arguments of ``MockServer`` override both.
Unknown keys are refused with the list of known ones, so typos never pass silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from mockserver.errors import ConfigError


@dataclass(slots=True)
class OAuthClient:
    """A registered OAuth2 client."""

    secret: str
    scopes: list[str] = field(default_factory=list)
    redirect_uris: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)  # empty: every grant


@dataclass(slots=True)
class OAuthConfig:
    """OAuth2 token issuance and enforcement."""

    token_ttl: int = 1799
    refresh_ttl: int = 86400
    code_ttl: int = 600
    token_path: str | None = None
    authorize_path: str | None = None
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    enforce: bool = True
    # Operations that need a token although the contract declares no security
    # (for contracts such as Amadeus' published ones, which omit it).
    require: list[str] = field(default_factory=list)
    realm: str = "mockserver"
    # RFC 6749 4.1.3 wants redirect_uri again at the token endpoint when the authorization
    # request had one; GitHub (and PyGithub) do not send it.
    require_redirect_uri: bool = True
    # Authorization header schemes that carry a bearer token; GitHub also takes "token".
    authorization_schemes: list[str] = field(default_factory=lambda: ["Bearer"])
    # http bearer schemes: reject tokens we did not issue (unless listed in api_keys).
    static_tokens_only: bool = False
    # Accepted API keys (apiKey schemes); empty: any non-empty key.
    api_keys: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RateLimitRule:
    """``requests`` per ``per_seconds`` window."""

    requests: int
    per_seconds: float = 1.0


@dataclass(slots=True)
class RateLimitConfig:
    """Rate limits: global and per operation (absent: no limit)."""

    requests: int | None = None
    per_seconds: float = 1.0
    by: str = "client"  # client | ip | global
    operations: dict[str, RateLimitRule] = field(default_factory=dict)
    # Answer a limit with 403 + X-RateLimit-* (GitHub style) instead of 429.
    status: int = 429


@dataclass(slots=True)
class PaginationConfig:
    """Paginated collections."""

    collection_size: int = 42
    # per operation key ("GET /things"): overrides of detection. Paging: style
    # (page|offset|pageoffset|cursor|link|none), page_param, size_param, offset_param,
    # cursor_param, before_param, cursor_by_id, default_size, max_size, first_page,
    # link_header. Datasets: id_field, collection_size, resource (false: no dataset), and
    # on item operations collection (the list path) and id_param.
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Page size when the operation's size parameter declares no default (or has none).
    default_page_size: int = 20
    # Seed each dataset with the items of the list operation's example first.
    seed_examples: bool = True


@dataclass(slots=True)
class AdminConfig:
    """Access to the admin API (``/__mockserver/``)."""

    # Required for every admin call when set; generated at start when the server is bound
    # beyond loopback and none is given.
    token: str | None = None
    # Host names (besides loopback ones) the admin API answers to.
    allowed_hosts: list[str] = field(default_factory=list)


# vcrpy's matcher names (see vcr/config.py); cassettes/replay.py maps them to vcrpy's own.
CASSETTE_MATCHERS = (
    "method",
    "uri",
    "url",
    "scheme",
    "host",
    "port",
    "path",
    "query",
    "headers",
    "body",
    "raw_body",
)
CASSETTE_REPEAT = ("last", "cycle", "error")
CASSETTE_FILTERS = ("headers", "params", "values", "drop_headers", "defaults")


@dataclass(slots=True)
class CassetteConfig:
    """Replaying and recording cassettes (``cassettes/replay.py``, ``cassettes/scrub.py``)."""

    # What a recorded request must agree on; host, scheme and port are left out so
    # recordings of the real host answer on the mock's.
    match_on: list[str] = field(default_factory=lambda: ["method", "path", "query"])
    # A request no recording matches: 404 naming the closest recordings (true), or the
    # contract's answer (false).
    strict: bool = False
    # Once every matching interaction played: repeat the last, cycle, or refuse (error).
    repeat: str = "last"
    # Scrubbing: extra headers/params to hide, literal values, headers never recorded,
    # and whether the built-in lists apply (defaults: true).
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Config:
    """Everything configurable, with defaults a first-time user never has to touch."""

    seed: int = 1
    oauth: OAuthConfig = field(default_factory=OAuthConfig)
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    pagination: PaginationConfig = field(default_factory=PaginationConfig)
    # Validate every answer against the contract and journal violations.
    self_check: bool = True
    # Reject invalid requests with 400 (false: journal the violation and answer anyway).
    validate_requests: bool = True
    max_body_bytes: int = 10 * 1024 * 1024
    journal_size: int = 1000
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    admin: AdminConfig = field(default_factory=AdminConfig)
    cassettes: CassetteConfig = field(default_factory=CassetteConfig)


_SECTIONS: dict[str, type] = {
    "oauth": OAuthConfig,
    "rate_limit": RateLimitConfig,
    "pagination": PaginationConfig,
    "admin": AdminConfig,
    "cassettes": CassetteConfig,
}


def _check_keys(data: Mapping[str, Any], cls: type, file: str, where: str) -> None:
    known = [f.name for f in fields(cls)]
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(
                file,
                f"{where}/{key}",
                f"unknown key {key!r}{suggestion}; known keys: {', '.join(known)}",
            )


def _typed(value: Any, kind: type | tuple[type, ...], file: str, where: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(file, where, f"expected a number, got {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(file, where, f"expected {names}, got {type(value).__name__} {value!r}")
    return value


def merge(base: Config, data: Mapping[str, Any] | None, file: str = "config") -> Config:
    """A new ``Config``: ``base`` updated with the keys present in ``data``."""
    if not data:
        return base
    if not isinstance(data, Mapping):
        raise ConfigError(file, "", "the configuration must be a mapping")
    _check_keys(data, Config, file, "")
    out = Config(
        seed=base.seed,
        oauth=_copy(base.oauth),
        rate_limit=_copy(base.rate_limit),
        pagination=_copy(base.pagination),
        self_check=base.self_check,
        validate_requests=base.validate_requests,
        max_body_bytes=base.max_body_bytes,
        journal_size=base.journal_size,
        faults=dict(base.faults),
        admin=_copy(base.admin),
        cassettes=_copy(base.cassettes),
    )
    for key, value in data.items():
        where = f"/{key}"
        if key in _SECTIONS:
            _typed(value, dict, file, where)
            _check_keys(value, _SECTIONS[key], file, where)
            _apply_section(getattr(out, key), value, file, where)
        elif key in ("seed", "max_body_bytes", "journal_size"):
            setattr(out, key, _typed(value, int, file, where))
        elif key in ("self_check", "validate_requests"):
            setattr(out, key, _typed(value, bool, file, where))
        elif key == "faults":
            _typed(value, dict, file, where)
            out.faults.update({str(k): dict(v) for k, v in value.items()})
    return out


def _copy(section: Any) -> Any:
    values = {f.name: getattr(section, f.name) for f in fields(section)}
    for name, value in values.items():
        if isinstance(value, dict):
            values[name] = dict(value)
        elif isinstance(value, list):
            values[name] = list(value)
    return type(section)(**values)


def _apply_section(section: Any, data: Mapping[str, Any], file: str, where: str) -> None:
    for key, value in data.items():
        path = f"{where}/{key}"
        if isinstance(section, OAuthConfig) and key == "clients":
            _typed(value, dict, file, path)
            for cid, spec in value.items():
                if isinstance(spec, str):
                    spec = {"secret": spec}
                _typed(spec, dict, file, f"{path}/{cid}")
                _check_keys(spec, OAuthClient, file, f"{path}/{cid}")
                if "secret" not in spec:
                    raise ConfigError(file, f"{path}/{cid}", "a client needs a 'secret'")
                section.clients[str(cid)] = OAuthClient(
                    secret=str(spec["secret"]),
                    scopes=[str(s) for s in spec.get("scopes") or []],
                    redirect_uris=[str(s) for s in spec.get("redirect_uris") or []],
                    grants=[str(s) for s in spec.get("grants") or []],
                )
        elif isinstance(section, RateLimitConfig) and key == "operations":
            _typed(value, dict, file, path)
            for op, rule in value.items():
                _typed(rule, dict, file, f"{path}/{op}")
                _check_keys(rule, RateLimitRule, file, f"{path}/{op}")
                if "requests" not in rule:
                    raise ConfigError(file, f"{path}/{op}", "a rate limit needs 'requests'")
                section.operations[str(op)] = RateLimitRule(
                    requests=int(_typed(rule["requests"], int, file, f"{path}/{op}/requests")),
                    per_seconds=float(
                        _typed(
                            rule.get("per_seconds", 1),
                            (int, float),
                            file,
                            f"{path}/{op}/per_seconds",
                        )
                    ),
                )
        elif isinstance(section, CassetteConfig):
            _apply_cassettes(section, key, value, file, path)
        elif isinstance(section, RateLimitConfig) and key == "by":
            if value not in ("client", "ip", "global"):
                raise ConfigError(file, path, "'by' must be one of: client, ip, global")
            section.by = value
        else:
            current = getattr(section, key)
            if isinstance(current, bool):
                setattr(section, key, _typed(value, bool, file, path))
            elif (
                isinstance(current, int) and not isinstance(current, bool) and key != "per_seconds"
            ):
                setattr(section, key, _typed(value, int, file, path))
            elif isinstance(current, float) or key == "per_seconds":
                setattr(section, key, float(_typed(value, (int, float), file, path)))
            elif isinstance(current, list):
                setattr(section, key, [str(v) for v in _typed(value, list, file, path)])
            elif isinstance(current, dict):
                setattr(section, key, dict(_typed(value, dict, file, path)))
            elif value is None or isinstance(value, str | int):
                setattr(section, key, value if value is None else type(value)(value))
            else:
                raise ConfigError(file, path, f"unexpected value {value!r}")
        if (
            key in ("token_ttl", "collection_size", "requests")
            and isinstance(getattr(section, key, None), int)
            and getattr(section, key) < 0
        ):
            raise ConfigError(file, path, "must not be negative")


def _apply_cassettes(section: CassetteConfig, key: str, value: Any, file: str, path: str) -> None:
    if key == "strict":
        section.strict = _typed(value, bool, file, path)
    elif key == "repeat":
        if value not in CASSETTE_REPEAT:
            raise ConfigError(file, path, f"'repeat' must be one of: {', '.join(CASSETTE_REPEAT)}")
        section.repeat = value
    elif key == "match_on":
        names = [str(v) for v in _typed(value, list, file, path)]
        for name in names:
            if name not in CASSETTE_MATCHERS:
                hint = difflib.get_close_matches(name, CASSETTE_MATCHERS, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(
                    file,
                    path,
                    f"unknown matcher {name!r}{suggestion}; known: {', '.join(CASSETTE_MATCHERS)}",
                )
        section.match_on = names
    elif key == "filters":
        _typed(value, dict, file, path)
        filters: dict[str, Any] = {}
        for name, item in value.items():
            if name not in CASSETTE_FILTERS:
                hint = difflib.get_close_matches(str(name), CASSETTE_FILTERS, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(
                    file,
                    f"{path}/{name}",
                    f"unknown key {name!r}{suggestion}; known keys: {', '.join(CASSETTE_FILTERS)}",
                )
            if name == "defaults":
                filters[name] = _typed(item, bool, file, f"{path}/{name}")
            else:
                filters[name] = [str(v) for v in _typed(item, list, file, f"{path}/{name}")]
        section.filters = filters


def load_config_file(path: str | Path, base: Config | None = None) -> Config:
    """Read a ``mockserver.yaml`` file on top of ``base``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), "", f"cannot read the config: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(str(file), where, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(file), "", f"invalid YAML: {exc}") from None
    return merge(base or Config(), data or {}, str(file))
