"""One HTTP GET with every limit a crawler of strangers' servers needs.

Built on ``http.client`` on purpose: it follows no redirects, decodes nothing and resolves nothing behind our
back, so each of those steps happens here, where it is checked:

* SSRF: the host name is resolved once, every address is checked, and the connection goes to the checked
  address (no second lookup a DNS-rebinding server could answer differently). Loopback, private, link-local,
  multicast and reserved addresses are refused unless ``allow_private`` is set (tests, intranet sites).
* Redirects are followed by hand, at most ``max_redirects``, never to another host, never in a loop.
* Bodies are read in pieces under a byte limit and an overall deadline (a server that trickles one byte a
  second never trips a read timeout); gzip/deflate are decoded here with a bound on the decoded size, so a
  compressed bomb stops at the limit instead of filling memory.
* Requests to the host start at most once per ``delay_s`` (politeness), whatever the number of threads.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from assistant.errors import WebFetchError

if TYPE_CHECKING:
    from assistant.config import Settings

READ_CHUNK = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class WebLimits:
    """Limits of one crawl (see the ``web_*`` settings for what each means)."""

    allow_private: bool = False
    timeout_s: float = 15.0
    deadline_s: float = 60.0
    delay_s: float = 1.0
    concurrency: int = 2
    max_redirects: int = 5
    max_page_bytes: int = 10 * 1024 * 1024
    max_file_bytes: int = 100 * 1024 * 1024
    user_agent: str = "Verstetigungslotse-Crawler/1.0"

    @classmethod
    def from_settings(cls, settings: Settings) -> WebLimits:
        return cls(
            allow_private=settings.web_allow_private,
            timeout_s=settings.web_timeout_s,
            deadline_s=settings.web_deadline_s,
            delay_s=settings.web_delay_s,
            concurrency=settings.web_concurrency,
            max_page_bytes=settings.web_max_page_mb * 1024 * 1024,
            max_file_bytes=settings.max_file_mb * 1024 * 1024,
            user_agent=settings.web_user_agent,
        )


@dataclass
class WebResponse:
    url: str  # after redirects
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'").lower()
        return None


def url_problem(url: str, host: str | None = None) -> tuple[str, str] | None:
    """Why ``url`` must not be fetched (German, English), or None. ``host``: the only host allowed."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "die Adresse ist keine gültige URL", "the address is not a valid URL"
    if parts.scheme not in ("http", "https"):
        scheme = parts.scheme or "(ohne)"
        return (
            f"das Schema „{scheme}:“ wird nicht abgerufen (nur http und https)",
            f"the scheme '{scheme}:' is not fetched (only http and https)",
        )
    if parts.username is not None or parts.password is not None:
        return (
            "die Adresse enthält Zugangsdaten (Benutzer:Passwort@); solche Adressen werden nicht abgerufen",
            "the address contains credentials (user:password@); such addresses are not fetched",
        )
    if not parts.hostname:
        return "die Adresse nennt keinen Host", "the address names no host"
    if host is not None and parts.hostname != host:
        return (
            f"die Adresse liegt auf einem anderen Host ({parts.hostname}) als die Quelle ({host})",
            f"the address is on another host ({parts.hostname}) than the source ({host})",
        )
    return None


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever the host name would resolve to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class HttpFetcher:
    """GETs documents of one host under :class:`WebLimits`; counts its requests in ``requests``."""

    def __init__(self, limits: WebLimits, host: str) -> None:
        self.limits = limits
        self.host = host
        self.delay_s = limits.delay_s
        self.requests = 0
        self._lock = threading.Lock()
        self._next_start = 0.0

    def get(self, url: str, headers: dict[str, str] | None = None, *, kind: str = "page") -> WebResponse:
        """The response to GET ``url`` after redirects (304, 4xx and 5xx are returned with an empty body).

        Raises:
            WebFetchError: refused address, redirect trouble, timeout, connection failure, over a limit.
        """
        seen: set[str] = set()
        current = url
        for _ in range(self.limits.max_redirects + 1):
            seen.add(current)
            resp = self._once(current, headers or {}, kind)
            if resp.status not in REDIRECTS:
                return resp
            location = resp.headers.get("location", "")
            target = urljoin(current, location).split("#")[0]
            problem = (
                url_problem(target, self.host) if location else ("keine Zieladresse", "no target address")
            )
            if problem:
                raise WebFetchError(
                    f"Weiterleitung von {current} nicht gefolgt: {problem[0]}.",
                    f"Redirect from {current} not followed: {problem[1]}.",
                )
            if target in seen:
                raise WebFetchError(
                    f"Weiterleitungsschleife bei {url} (zurück zu {target}).",
                    f"Redirect loop at {url} (back to {target}).",
                )
            current = target
        raise WebFetchError(
            f"Mehr als {self.limits.max_redirects} Weiterleitungen ab {url}.",
            f"More than {self.limits.max_redirects} redirects from {url}.",
        )

    # -- internals -------------------------------------------------------------------------------------
    def _wait_turn(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self.delay_s
            self.requests += 1
        if start > now:
            time.sleep(start - now)

    def _address(self, host: str, port: int) -> str:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise WebFetchError(
                f"Der Host {host} ist nicht auflösbar ({e}).",
                f"The host {host} cannot be resolved ({e}).",
                transient=True,
            ) from e
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not self.limits.allow_private and any(_blocked(ip) for ip in addresses):
            raise WebFetchError(
                f"{host} zeigt auf eine interne Adresse ({addresses[0]}); interne Adressen werden zum Schutz des "
                "Servers nicht abgerufen (LOTSE_WEB_ALLOW_PRIVATE=true erlaubt sie, nur für Intranet-Seiten).",
                f"{host} points to an internal address ({addresses[0]}); internal addresses are not fetched to "
                "protect the server (LOTSE_WEB_ALLOW_PRIVATE=true allows them, for intranet sites only).",
            )
        return str(addresses[0])

    def _once(self, url: str, headers: dict[str, str], kind: str) -> WebResponse:
        problem = url_problem(url, self.host)
        if problem:
            raise WebFetchError(
                f"{url} wird nicht abgerufen: {problem[0]}.", f"{url} is not fetched: {problem[1]}."
            )
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._address(parts.hostname or "", port)
        conn_cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        conn = conn_cls(parts.hostname or "", port, address, self.limits.timeout_s)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {
            "User-Agent": self.limits.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/pdf,application/xml;q=0.9,text/plain;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            **headers,
        }
        self._wait_turn()
        deadline = time.monotonic() + self.limits.deadline_s
        try:
            conn.request("GET", path, headers=sent)
            raw = conn.getresponse()
            resp = WebResponse(url, raw.status, {k.lower(): v for k, v in raw.getheaders()})
            if raw.status == 200:
                resp.body = self._read_body(raw, resp, url, deadline, kind)
            return resp
        except WebFetchError:
            raise
        except TimeoutError as e:
            raise WebFetchError(
                f"{url}: Zeitüberschreitung ({self.limits.timeout_s:g} s ohne Antwort).",
                f"{url}: timed out ({self.limits.timeout_s:g} s without a response).",
                transient=True,
            ) from e
        except (OSError, http.client.HTTPException) as e:
            raise WebFetchError(
                f"{url}: Verbindung fehlgeschlagen ({type(e).__name__}: {e}).",
                f"{url}: connection failed ({type(e).__name__}: {e}).",
                transient=True,
            ) from e
        finally:
            conn.close()

    def _read_body(
        self, raw: http.client.HTTPResponse, resp: WebResponse, url: str, deadline: float, kind: str
    ) -> bytes:
        limit = (
            self.limits.max_file_bytes
            if kind == "file" or resp.media_type == "application/pdf"
            else (self.limits.max_page_bytes)
        )
        mb = f"{limit / 1024 / 1024:g}"
        too_large = WebFetchError(
            f"{url} ist größer als {mb} MB (entpackt) und wird nicht gelesen (Grenze: LOTSE_WEB_MAX_PAGE_MB für "
            "Seiten, LOTSE_MAX_FILE_MB für Dateien).",
            f"{url} is larger than {mb} MB (decoded) and is not read (limit: LOTSE_WEB_MAX_PAGE_MB for pages, "
            "LOTSE_MAX_FILE_MB for files).",
        )
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            decoder: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decoder = zlib.decompressobj()
        elif encoding in ("identity", ""):
            decoder = None
        else:
            raise WebFetchError(
                f"{url}: unbekannte Kompression „{encoding}“ (erbeten waren gzip oder deflate).",
                f"{url}: unknown content encoding '{encoding}' (gzip or deflate were asked for).",
            )
        out = bytearray()
        while True:
            if time.monotonic() > deadline:
                raise WebFetchError(
                    f"{url}: Der Abruf dauerte länger als {self.limits.deadline_s:g} s (sehr langsamer Server oder "
                    "endlose Seite) und wurde abgebrochen.",
                    f"{url}: the download took longer than {self.limits.deadline_s:g} s (very slow server or "
                    "endless page) and was stopped.",
                    transient=True,
                )
            piece = raw.read1(READ_CHUNK) if hasattr(raw, "read1") else raw.read(READ_CHUNK)
            if not piece:
                break
            if decoder is None:
                out += piece
            else:
                try:
                    # max_length bounds what one piece may expand to: a bomb stops at the limit
                    out += decoder.decompress(piece, limit + 1 - len(out))
                    while decoder.unconsumed_tail and len(out) <= limit:
                        out += decoder.decompress(decoder.unconsumed_tail, limit + 1 - len(out))
                except zlib.error as e:
                    raise WebFetchError(
                        f"{url}: Die komprimierte Antwort ist beschädigt ({e}).",
                        f"{url}: the compressed response is damaged ({e}).",
                    ) from e
            if len(out) > limit:
                raise too_large
        return bytes(out)
