"""Origin allow-list, per-client rate limits and security headers for the public endpoints.

Origins: a browser sends ``Origin`` on every cross-origin request and on same-origin POSTs. The allow-list is
compared exactly (scheme, host and port), so ``https://platform.example.evil.com`` or ``http://`` instead of
``https://`` never match; ``Origin: null`` (sandboxed frames, file://) is refused; an empty list refuses every
foreign origin. Requests without ``Origin`` are not from a browser page (curl, SDKs, servers); they cannot be
stopped by origin checks anyway and are governed by the rate limit alone.

Hosts: a DNS-rebinding page (``http://evil.example:8000`` whose name suddenly resolves to the server) is
same-origin with itself, so the origin check above lets it through; only the ``Host`` header it must send
(``evil.example:8000``) gives it away. :class:`HostPolicy` answers only under configured names. Starlette's
``TrustedHostMiddleware`` does the same comparison, but as a separate layer it would answer in English plain
text without our security headers and could not exempt the load balancer's health check.

Rate limits: a sliding one-minute window per client, keyed by a salted hash of the peer address (no IP address
is stored). Every process keeps its own window; behind a load balancer with N replicas the effective limit is
at most N times the configured one, which the reverse proxy should cap (see docs/production.md).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from assistant.config import normalise_host

_SALT = os.urandom(16)


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


class OriginPolicy:
    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(normalise_origin(o) for o in allowed)

    def verdict(self, request: Request) -> tuple[bool, str | None]:
        """(allowed, origin to echo in CORS headers or None)."""
        origin = request.headers.get("origin")
        if origin is None:
            return True, None
        norm = normalise_origin(origin)
        if norm == "null":
            return False, None
        own = f"{request.url.scheme}://{request.url.netloc}".lower()
        if norm == own:
            return True, None
        if norm in self.allowed:
            return True, origin
        return False, None


class HostPolicy:
    """``Host`` allow-list: exact names, ``*.domain`` for its subdomains, ``*`` for any (Starlette's semantics)."""

    def __init__(self, allowed: Iterable[str]) -> None:
        names = [normalise_host(h) for h in allowed if h.strip()]
        self.allow_any = "*" in names
        self.exact = frozenset(n for n in names if not n.startswith("*"))
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))

    def allows(self, host_header: str | None) -> bool:
        host = host_name(host_header)
        if self.allow_any:
            return True
        if host is None:
            return False
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))


def host_name(host_header: str | None) -> str | None:
    """The name part of a ``Host`` header ('[::1]:8000' -> '::1', 'Lotse.de:443' -> 'lotse.de'), None if malformed."""
    if not host_header:
        return None
    value = host_header.strip()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :] if end > 0 else "x"
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        name = value[1:end]
    else:
        name, sep, port = value.rpartition(":")
        if not sep:
            name = value
        elif not port.isdigit():
            return None
    name = normalise_host(name)
    if not name or any(not (ch.isalnum() or ch in ".-:") for ch in name) or not name.isascii():
        return None
    return name


class RateLimiter:
    """Sliding-window limiter: at most ``per_minute`` requests per client key in any 60 s (0 = off)."""

    def __init__(self, per_minute: int, max_clients: int = 50_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def client_key(request: Request) -> str:
        host = request.client.host if request.client else "unknown"
        return hashlib.sha256(_SALT + host.encode()).hexdigest()[:16]

    def check(self, key: str) -> float | None:
        """None when allowed, else seconds until the next request would be allowed."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_clients:  # bounded memory under address spraying
                    self._evict(now)
                hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > 60.0:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(0.5, 60.0 - (now - hits[0]))
            hits.append(now)
            return None

    def blocked(self, key: str) -> float | None:
        """Like :meth:`check`, but counts nothing: for limits on failures, asked before the attempt."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._hits.get(key, ()) if now - t <= 60.0]
            if len(recent) >= self.per_minute:
                return max(0.5, 60.0 - (now - recent[0]))
            return None

    def _evict(self, now: float) -> None:
        stale = [k for k, v in self._hits.items() if not v or now - v[-1] > 60.0]
        for k in stale:
            del self._hits[k]
        if len(self._hits) >= self.max_clients:
            self._hits.clear()


def client_key_of(request: Any) -> str:
    """The rate-limit key of a Starlette request or a ``gr.Request`` (which wraps one)."""
    inner = getattr(request, "request", None)
    return RateLimiter.client_key(inner if inner is not None else request)


@dataclass
class Admission:
    """Answer requests admitted (being computed or waiting for a slot), counted in the event loop."""

    limit: int
    in_flight: int = 0

    @property
    def saturated(self) -> bool:
        return self.in_flight >= self.limit


@dataclass
class ClientLimits:
    """Every per-client limit of the app, shared by all channels (API, widget, OpenAI endpoint, web UI)."""

    answers: RateLimiter
    feedback: RateLimiter
    logins: RateLimiter
    admission: Admission
    body_timeout_s: float

    @classmethod
    def from_settings(cls, settings: Any, logins_per_minute: int = 10) -> ClientLimits:
        return cls(
            answers=RateLimiter(settings.rate_limit),
            feedback=RateLimiter(settings.feedback_rate_limit),
            logins=RateLimiter(logins_per_minute),
            admission=Admission(settings.max_concurrent_answers + settings.max_waiting_answers),
            body_timeout_s=settings.body_timeout_s,
        )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# The UI must never be framed (clickjacking of the admin/editor functions); the widget lives in a shadow DOM
# on the host page and needs no frame either.
FRAME_ANCESTORS = "frame-ancestors 'none'"


class BodyTooLarge(Exception):
    """The body grew past the limit while it arrived."""


class BodyTimeout(Exception):
    """The body did not arrive in full within the deadline (a client that stopped sending)."""


class ClientGone(Exception):
    """The client disconnected before its body was complete."""


async def read_body(receive, max_bytes: int, timeout_s: float) -> bytes:  # type: ignore[no-untyped-def]
    """The whole request body, at most ``max_bytes``, within ``timeout_s`` in all.

    Read before anything else takes a resource: a ``Content-Length`` check alone does not stop a chunked body,
    and a body that stops arriving half way (``Content-Length: 200`` and 80 bytes sent) would otherwise hold a
    worker thread and an answer slot for as long as the connection stays open (the 2026-12 probe locked every
    other client out with forty such requests).
    """
    import anyio

    body = bytearray()
    with anyio.move_on_after(timeout_s) as scope:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise ClientGone
            body += message.get("body", b"")
            if len(body) > max_bytes:
                raise BodyTooLarge
            if not message.get("more_body", False):
                return bytes(body)
    assert scope.cancelled_caught  # noqa: S101 - only a timeout leaves the loop
    raise BodyTimeout


def replay(body: bytes, receive):  # type: ignore[no-untyped-def]
    """A ``receive`` that hands the app the body read by :func:`read_body`, then waits for the disconnect."""
    sent = False

    async def replayed():  # type: ignore[no-untyped-def]
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
