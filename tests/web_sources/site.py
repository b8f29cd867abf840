"""A small website on loopback, served by the tests themselves: static routes with ETags, and hostile ones.

Routes can be changed between two syncs (``site.routes[...] = ...``); ``site.hits`` records every request path
with its conditional headers, so a test sees exactly what the crawler fetched.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHROME = """
<header><a href="/">Startseite</a> Plattform Verstetigung - Kopfzeile</header>
<nav><ul><li><a href="/">Start</a></li><li><a href="/leitfaden.html">Leitfaden</a></li>
<li><a href="mailto:redaktion@example.org">Kontakt</a></li><li><a href="javascript:void(0)">Menü</a></li>
<li><a href="file:///etc/passwd">Datei</a></li><li><a href="http://nutzer:geheim@127.0.0.1/x">Login</a></li>
<li><a href="https://www.example.org/extern">Extern</a></li></ul></nav>
<div id="cookie-banner" class="cookie-consent">Wir verwenden Cookies. Alle akzeptieren?</div>
"""
FOOTER = "<footer>Impressum · Datenschutz · Fußzeile der Plattform</footer>"
NAV_WORDS = ("Kopfzeile", "Cookies", "Fußzeile", "Impressum")


def page(title: str, body: str, links: str = "") -> bytes:
    """An HTML page with navigation, a cookie banner and a footer around ``body``."""
    return (
        f"<!doctype html><html lang='de'><head><meta charset='utf-8'><title>{title} | Plattform</title></head>"
        f"<body>{CHROME}<main><h1>{title}</h1>{body}{links}</main>{FOOTER}</body></html>"
    ).encode()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a crawler that hangs up on an endless page is the point of the test, not an error


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


@dataclass
class Hit:
    path: str
    if_none_match: str | None
    user_agent: str | None


class TestSite:
    __test__ = False  # not a test class for pytest

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.etags = True  # False: a server without validators (never 304)
        self.stopping = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                site.hits.append(
                    Hit(self.path, self.headers.get("If-None-Match"), self.headers.get("User-Agent"))
                )
                route = site.routes.get(self.path)
                if route is None:
                    self._send(404, b"nicht gefunden", "text/plain")
                    return
                if route.handler is not None:
                    route.handler(self)
                    return
                etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                if site.etags and route.status == 200 and self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", None, {"ETag": etag})
                    return
                headers = (
                    {"ETag": etag, **route.headers} if site.etags and route.status == 200 else route.headers
                )
                self._send(route.status, route.body, route.content_type, headers)

            def _send(
                self, status: int, body: bytes, ctype: str | None, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # shutdown() waits for serve_forever's next poll, by default 0.5 s: half a second per test at teardown.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> TestSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def fetched(self, path: str) -> int:
        return sum(1 for h in self.hits if h.path == path)

    # -- hostile routes ------------------------------------------------------------------------------------
    def endless(self, handler: BaseHTTPRequestHandler) -> None:
        """HTML that never ends (no Content-Length, no end)."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"<html><body><main><p>")
        try:
            while not self.stopping.is_set():
                handler.wfile.write(b"endlos " * 8192)
        except OSError:
            pass

    def trickle(self, handler: BaseHTTPRequestHandler) -> None:
        """A slow server: a few bytes every 0.2 s, never finishing within the crawler's deadline."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        try:
            for _ in range(200):
                if self.stopping.is_set():
                    return
                handler.wfile.write(b"<p>langsam</p>")
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


def gzip_bomb(megabytes: int = 200) -> bytes:
    """A gzip body of a few hundred KB that unpacks to ``megabytes`` MB."""
    return gzip.compress(b"<p>" + b" " * (megabytes * 1024 * 1024), compresslevel=9)
