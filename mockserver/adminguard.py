"""Who may call the admin API (``/__mockserver/``).

Bound to loopback (the default), the admin API answers only requests whose ``Host`` is a
loopback name: a web page cannot reach it through DNS rebinding. Bound beyond loopback,
every admin call needs the admin token (``Authorization: Bearer <token>`` or
``X-Mockserver-Token``); when none is configured one is generated at start and printed.
No CORS headers are ever sent, so no other origin can read admin answers.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for loopback names and addresses (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host part of a ``Host`` header: ``[::1]:8000`` -> ``::1``, ``a:80`` -> ``a``."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an admin call is refused."""

    status: int
    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class AdminGuard:
    """The admin API's access rule for one server."""

    token: str | None
    allowed_hosts: frozenset[str]

    @classmethod
    def for_binding(
        cls, bind_host: str, token: str | None = None, allowed_hosts: list[str] | None = None
    ) -> AdminGuard:
        """The guard for a server bound to ``bind_host``.

        Beyond loopback a token is required: the configured one or a fresh random one.
        """
        allowed = set(LOOPBACK_NAMES) | {h.lower() for h in allowed_hosts or []}
        if not is_loopback(bind_host):
            token = token or secrets.token_urlsafe(24)
            if bind_host not in ("0.0.0.0", "::", ""):
                allowed.add(bind_host.strip("[]").lower())
        return cls(token=token, allowed_hosts=frozenset(allowed))

    def check(
        self,
        *,
        host: str,
        authorization: str | None,
        header_token: str | None,
        query_token: str | None,
    ) -> Denial | None:
        """None when the call may proceed, else why not."""
        if self.token is None:
            if host_name(host) not in self.allowed_hosts and not is_loopback(host_name(host)):
                return Denial(
                    403,
                    "Forbidden",
                    f"the admin API answers only loopback hosts; Host {host!r} is not one "
                    "(set admin.allowed_hosts to add names)",
                )
            return None
        presented = header_token or query_token
        if presented is None and authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer":
                presented = value.strip()
        if not presented or not hmac.compare_digest(presented.encode(), self.token.encode()):
            return Denial(
                401,
                "Unauthorized",
                "the admin API needs the admin token: Authorization: Bearer <token> or "
                "X-Mockserver-Token",
            )
        return None
