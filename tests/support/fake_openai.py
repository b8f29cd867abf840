"""A real OpenAI-compatible HTTP server for tests, scriptable like a fake (queue + history).

It speaks the wire protocol the ``openai`` SDK expects (``/v1/chat/completions`` with and without
``stream``, ``/v1/models``, ``/v1/embeddings``) over a real socket with real chunked transfer, so the
client under test is exercised end to end: timeouts, retries, SSE parsing, connection handling.

Usage::

    with FakeOpenAIServer() as server:
        server.enqueue(Reply(text="Hallo Welt", delay_between_s=0.1))
        client = OpenAI(base_url=server.base_url, api_key="test")
        ...
        assert server.requests[-1].json["model"] == "fake-model"

Or as a pytest fixture: ``from tests.support.fake_openai import fake_openai`` (or re-export it in a
``conftest.py``) and take ``fake_openai`` as an argument.

Faults are produced per reply: slow first token (``delay_before_s``), drip-feeding
(``delay_between_s`` with many ``chunks``), dropped connection (``drop_after_chunks``), malformed SSE /
invalid JSON (``malformed``), empty ``choices`` (``empty_choices``), HTTP errors (``status``,
``error_body``, ``headers``), a stream that just ends (``truncate``: no final chunk, no ``[DONE]``) and
a complete stream without the ``[DONE]`` sentinel (``omit_done``). Every wait is interruptible, so
``close()`` returns quickly even in the middle of a drip-feed and joins all handler threads.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import itertools
import json
import logging
import math
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "fake-model"


@dataclass
class Reply:
    """One scripted answer to a ``/v1/chat/completions`` request.

    Attributes:
        text: Answer text; split into word-sized deltas when streaming and ``chunks`` is None.
        chunks: Explicit content deltas for streaming (joined for non-streaming answers).
        status: HTTP status; anything >= 400 sends ``error_body`` (or an OpenAI-style error) instead.
        delay_before_s: Seconds before the first content delta (streaming: after headers and the role
            chunk; non-streaming: before the response headers).
        delay_between_s: Seconds between content deltas (non-streaming: between body slices).
        drop_after_chunks: Close the connection abruptly after this many content deltas (0 = right after
            the role chunk), without the terminating zero-length chunk.
        malformed: Send an invalid-JSON ``data:`` line and a garbage line after the first delta
            (non-streaming: an invalid JSON body).
        empty_choices: Every chunk (or the completion) carries ``"choices": []``.
        truncate: End the stream cleanly after the content deltas: no final chunk, no ``[DONE]``.
        omit_done: Send the final chunk with ``finish_reason`` but no ``data: [DONE]``.
        finish_reason: ``finish_reason`` of the final chunk / choice.
        error_body: Body for error statuses: a dict is sent as JSON, a str as it is.
        headers: Extra response headers (e.g. ``{"Retry-After": "0"}``).
    """

    text: str = "OK"
    chunks: list[str] | None = None
    status: int = 200
    delay_before_s: float = 0.0
    delay_between_s: float = 0.0
    drop_after_chunks: int | None = None
    malformed: bool = False
    empty_choices: bool = False
    truncate: bool = False
    omit_done: bool = False
    finish_reason: str = "stop"
    error_body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return re.findall(r"\S+\s*|\s+", self.text) or [""]


@dataclass
class RecordedRequest:
    """One request the server received. Header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


def echo_responder(request_json: dict[str, Any]) -> str:
    """Default responder: echoes the last user message."""
    for message in reversed(request_json.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return f"Echo: {content if isinstance(content, str) else json.dumps(content)}"
    return "Echo: (keine Nachricht)"


def hash_embedding(text: str, dim: int) -> list[float]:
    """A deterministic unit vector for ``text`` (the fake's embedding)."""
    raw = b"".join(hashlib.sha256(f"{i}:{text}".encode()).digest() for i in range(math.ceil(dim / 8)))
    values = [(n / 0xFFFFFFFF) * 2.0 - 1.0 for n in struct.unpack(f"<{dim}I", raw[: dim * 4])]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def error_json(
    message: str, code: str | None = None, *, kind: str = "invalid_request_error", param: str | None = None
) -> dict[str, Any]:
    """An error body shaped like OpenAI's."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _default_error(status: int) -> dict[str, Any]:
    codes = {429: "rate_limit_exceeded", 500: "server_error", 503: "service_unavailable"}
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return error_json(f"Fake upstream error {status}", codes.get(status), kind=kind)


class _ClientGone(Exception):
    """The client went away, or the server is shutting down: stop this response."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # close() joins handler threads itself, with a bound
    allow_reuse_address = True
    fake: FakeOpenAIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # socket timeout: a silent client cannot pin a handler thread forever
    server: _Server

    # -- plumbing ------------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.server.fake._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._unregister(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("fake-openai: " + format, *args)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self.server.fake._stop.wait(seconds):
            raise _ClientGone
        if self.server.fake._stop.is_set():
            raise _ClientGone

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as e:
            raise _ClientGone from e

    def _write_chunk(self, data: bytes) -> None:
        self._write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

    def _event(self, payload: dict[str, Any] | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self._write_chunk(f"data: {text}\n\n".encode())

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _start(self, status: int, content_type: str, headers: dict[str, str], length: int | None) -> None:
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.send_header("x-request-id", f"req-fake-{next(self.server.fake._ids)}")
        for name, value in headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
        except OSError as e:
            raise _ClientGone from e

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self._start(status, "application/json", headers or {}, len(data))
        self._write(data)

    # -- routing -------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch(None)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        self._dispatch(body if body is not None else {"_invalid": raw.decode("utf-8", "replace")})

    def _dispatch(self, body: Any) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0].rstrip("/")
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake._record(RecordedRequest(self.command, path, headers, body))
        try:
            if fake.api_key is not None and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                self._send_json(401, error_json("Incorrect API key provided.", "invalid_api_key"))
            elif self.command == "GET" and path == "/v1/models":
                self._send_json(
                    200,
                    {
                        "object": "list",
                        "data": [
                            {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                            for m in fake.models
                        ],
                    },
                )
            elif self.command == "POST" and path == "/v1/chat/completions":
                self._chat(body)
            elif self.command == "POST" and path == "/v1/embeddings":
                self._embeddings(body)
            else:
                self._send_json(404, error_json(f"Unknown path {path}"))
        except _ClientGone:
            self._drop()

    # -- endpoints -----------------------------------------------------------------------------
    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        model = body.get("model") or DEFAULT_MODEL
        if fake.enforce_models and model not in fake.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            self._send_json(404, error_json(message, "model_not_found"))
            return
        reply = fake._next_reply(body)
        if reply.status >= 400:
            self._sleep(reply.delay_before_s)
            self._send_json(reply.status, reply.error_body or _default_error(reply.status), reply.headers)
        elif body.get("stream"):
            self._stream(body, model, reply)
        else:
            self._complete(body, model, reply)

    def _stream(self, body: dict[str, Any], model: str, reply: Reply) -> None:
        base = {
            "id": f"chatcmpl-fake-{next(self.server.fake._ids)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choices = (
                []
                if reply.empty_choices
                else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            )
            return {**base, "choices": choices}

        self._start(200, "text/event-stream; charset=utf-8", reply.headers, None)
        self._event(chunk({"role": "assistant", "content": ""}))
        self._sleep(reply.delay_before_s)
        pieces = reply.pieces()
        for i, piece in enumerate(pieces):
            if reply.drop_after_chunks is not None and i >= reply.drop_after_chunks:
                self._drop()
                return
            if i:
                self._sleep(reply.delay_between_s)
            self._event(chunk({"content": piece}))
            if reply.malformed and i == 0:
                self._write_chunk(b'data: {"id": "broken", "choices": [{"delta": {"content": "x"\n\n')
                self._write_chunk(b"this line is not server-sent events at all\n\n")
        if reply.drop_after_chunks is not None and reply.drop_after_chunks >= len(pieces):
            self._drop()
            return
        if not reply.truncate:
            self._event(chunk({}, reply.finish_reason))
            if (body.get("stream_options") or {}).get("include_usage"):
                self._event({**base, "choices": [], "usage": _usage(body, "".join(pieces))})
            if not reply.omit_done:
                self._event("[DONE]")
        self._write(b"0\r\n\r\n")

    def _complete(self, body: dict[str, Any], model: str, reply: Reply) -> None:
        self._sleep(reply.delay_before_s)
        text = "".join(reply.pieces())
        choices = (
            []
            if reply.empty_choices
            else [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ]
        )
        body = {
            "id": f"chatcmpl-fake-{next(self.server.fake._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": choices,
            "usage": _usage(body, text),
        }
        data = b'{"id": "chatcmpl-broken", "choices": [' if reply.malformed else json.dumps(body).encode()
        self._start(200, "application/json", reply.headers, len(data))
        if reply.truncate or reply.drop_after_chunks is not None:
            self._write(data[: len(data) // 2])  # fewer bytes than Content-Length promised
            self._drop()
            return
        n = max(len(reply.pieces()), 1) if reply.delay_between_s > 0 else 1
        for i in range(n):
            if i:
                self._sleep(reply.delay_between_s)
            self._write(data[i * len(data) // n : (i + 1) * len(data) // n])

    def _embeddings(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        inputs = body.get("input")
        if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            self._send_json(400, error_json("'input' is required", param="input"))
            return
        dim = int(body.get("dimensions") or fake.embedding_dim)
        data = []
        for i, item in enumerate(inputs):
            vector = hash_embedding(item if isinstance(item, str) else json.dumps(item), dim)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = sum(len(str(item).split()) for item in inputs)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or "fake-embedding",
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages") or [])
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class FakeOpenAIServer:
    """A scriptable OpenAI-compatible server on 127.0.0.1 (random free port) in a background thread.

    Args:
        models: Model ids listed by ``GET /v1/models``.
        enforce_models: Answer 404 ``model_not_found`` for chat requests naming another model.
        api_key: When set, requests without ``Authorization: Bearer <api_key>`` get a 401.
        embedding_dim: Dimension of the ``/v1/embeddings`` vectors (a request's ``dimensions`` wins).
        responder: Answers chat requests when the queue is empty: ``responder(request_json) -> str``.
    """

    def __init__(
        self,
        *,
        models: list[str] | None = None,
        enforce_models: bool = False,
        api_key: str | None = None,
        embedding_dim: int = 8,
        responder: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.models = list(models or [DEFAULT_MODEL])
        self.enforce_models = enforce_models
        self.api_key = api_key
        self.embedding_dim = embedding_dim
        self.responder: Callable[[dict[str, Any]], str] = responder or echo_responder
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -----------------------------------------------------------------------------
    def enqueue(self, *replies: Reply) -> FakeOpenAIServer:
        """Queue replies for the next chat requests, in order."""
        with self._lock:
            self._queue.extend(replies)
        return self

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Recorded ``/v1/chat/completions`` requests."""
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def open_connections(self) -> int:
        """Connections currently being served (a finished or abandoned stream drops out)."""
        with self._lock:
            return len(self._connections)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, as clients expect it."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running; use start() or a with-block")
        return int(self._httpd.server_address[1])

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        self._stop.clear()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def close(self, timeout_s: float = 3.0) -> None:
        """Stop serving, cut open connections (even mid drip-feed) and join every thread."""
        if self._httpd is None:
            return
        self._stop.set()
        self._httpd.shutdown()
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        end = time.monotonic() + timeout_s
        for thread in [*connections.values(), self._thread]:
            if thread is not None:
                thread.join(max(end - time.monotonic(), 0))
        self._httpd.server_close()
        self._httpd = None
        if leftover := self.alive_threads():
            logger.warning("fake-openai: %d threads still alive after close()", len(leftover))

    def alive_threads(self) -> list[threading.Thread]:
        """Handler and server threads that are still running (empty after a clean ``close()``)."""
        with self._lock:
            threads = list(self._connections.values())
        if self._thread is not None and self._thread.is_alive():
            threads.append(self._thread)
        return [t for t in threads if t.is_alive()]

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- used by the handler ---------------------------------------------------------------------
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return Reply(text=self.responder(body))

    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections[conn] = threading.current_thread()

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A running :class:`FakeOpenAIServer`, closed (and checked for leftover threads) after the test."""
    with FakeOpenAIServer() as server:
        yield server
    assert not server.alive_threads(), "FakeOpenAIServer left threads running"
