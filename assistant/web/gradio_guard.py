"""The app's own checks on everything that reaches the mounted gradio apps (``/ui``, ``/redaktion``).

Why the app checks, and not only gradio: in December 2026 a probe read any file the server could read through
``/ui``. gradio 6.31 checks a client's ``FileData`` path (``processing_utils._check_allowed``) only once
``blocks.has_launched`` is true, and an app mounted with ``gr.mount_gradio_app`` never launches; the path was
copied into gradio's cache and served back (``/proc/self/environ`` with the editors' token, ``/etc/passwd``, the
Chroma database). So the rules below hold whatever gradio does, and survive a gradio upgrade:

* **File references in requests** (any JSON object with a ``path`` or ``url`` key) are accepted only in the input
  slot of an upload field (``gr.File``), and only for a file that this client uploaded through the upload
  route, that still lies in gradio's upload folder. Everything else is refused with 400 before gradio parses it.
  Functions without an upload field accept no file reference at all.
* **Serving files** (``/gradio_api/file=…``): only regular files inside gradio's upload/cache folder; no proxy
  route, no other folder, whatever gradio's own allow-list says.
* **Uploads** only where the page has an upload field, at most ``upload_rate_limit`` per minute and client,
  ``upload_client_mb`` per client and ``upload_total_mb`` in all; files nobody consumed go after ``upload_ttl_s``.
* **Only gradio's known routes** accept a POST (the queue, calls, uploads, cancel/reset, streams).

The request body is read first, within ``body_timeout_s`` (:func:`assistant.web.security.read_body`), so a
client that stops sending holds neither a thread nor an answer slot.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

#: POST routes below ``<mount>/gradio_api/`` that gradio's own page uses; anything else is refused.
POST_ROUTES = re.compile(
    r"^/(queue/join|call/(?:v2/)?[\w-]+|run/[\w-]+|api/[\w-]+|upload|cancel|reset"
    r"|stream/[\w-]+(?:/close)?)/?$"
)
#: Routes that name the function they run in the path.
_NAMED_CALL = re.compile(r"^/(?:call/(?:v2/)?|run/|api/)([\w-]+)/?$")
#: Largest JSON body of a gradio call: a question, a pasted plan (PlanLimits.max_chars) and a little state.
MAX_GRADIO_JSON_BYTES = 512 * 1024


def refusal(status: int, de: str, en: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": de, "error_en": en, "code": code}, status_code=status, headers=headers)


FILE_REFUSED = (
    "Dateiangaben werden nur für Dateien angenommen, die Sie gerade in ein Upload-Feld hochgeladen haben.",
    "File references are accepted only for files you have just uploaded into an upload field.",
)
NOT_AVAILABLE = ("Nicht verfügbar.", "Not available.")


def upload_folder() -> Path:
    """gradio's upload and cache folder, resolved (``GRADIO_TEMP_DIR`` or ``<tmp>/gradio``)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()).resolve()


def inside_upload_folder(path: str) -> Path | None:
    """The resolved path when it is a regular file inside gradio's upload folder (no symlink way out), else None."""
    if not path or "\0" in path:
        return None
    try:
        resolved = Path(path).resolve()
        lexical = Path(os.path.abspath(path))  # what gradio's own routes open
        root = upload_folder()
        if not resolved.is_relative_to(root) or resolved == root or not resolved.is_file():
            return None
        if not (lexical.is_relative_to(root) or lexical.resolve() == resolved):
            return None
    except (OSError, ValueError):
        return None
    return resolved


def file_refs(value: Any) -> list[dict[str, Any]]:
    """Every JSON object in ``value`` that could name a file for gradio (a ``path`` or ``url`` key)."""
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "path" in item or "url" in item:
                found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@dataclass
class _Upload:
    client: str
    size: int
    at: float


@dataclass
class UploadRegistry:
    """Which client uploaded which file, with per-client and total bounds, and deletion after a time to live."""

    per_minute: int
    client_bytes: int
    total_bytes: int
    ttl_s: float
    _files: dict[Path, _Upload] = field(default_factory=dict)
    _recent: dict[str, list[float]] = field(default_factory=dict)
    _reserved: dict[str, int] = field(default_factory=dict)  # uploads admitted and still arriving
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, client: str, length: int) -> Response | None:
        """None when ``client`` may upload ``length`` more bytes now, else the refusal."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            recent = [t for t in self._recent.get(client, []) if now - t < 60.0]
            self._recent[client] = recent
            if self.per_minute and len(recent) >= self.per_minute:
                return refusal(429, "Zu viele Uploads. Bitte in einer Minute erneut versuchen.",
                               "Too many uploads. Please try again in a minute.", "rate_limited",
                               {"Retry-After": "60"})
            held = sum(u.size for u in self._files.values() if u.client == client) + self._reserved.get(client, 0)
            if held + length > self.client_bytes:
                return refusal(413, "Zu viele hochgeladene Daten. Bitte erst die laufende Prüfung abschließen.",
                               "Too much uploaded data. Please finish the running check first.", "too_large")
            if sum(u.size for u in self._files.values()) + sum(self._reserved.values()) + length > self.total_bytes:
                return refusal(503, "Der Upload-Speicher ist gerade voll. Bitte in einigen Minuten erneut versuchen.",
                               "Upload storage is full right now. Please try again in a few minutes.", "busy",
                               {"Retry-After": "120"})
            recent.append(now)
            self._reserved[client] = self._reserved.get(client, 0) + length
            if len(self._recent) > 50_000:  # bounded under address spraying
                self._recent = {k: v for k, v in self._recent.items() if v and now - v[-1] < 60.0}
        return None

    def release(self, client: str, length: int) -> None:
        """An admitted upload has ended (recorded or failed): its reservation is over."""
        with self._lock:
            left = self._reserved.get(client, 0) - length
            if left > 0:
                self._reserved[client] = left
            else:
                self._reserved.pop(client, None)

    def record(self, client: str, paths: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for raw in paths:
                path = inside_upload_folder(raw)
                if path is not None:
                    self._files[path] = _Upload(client, path.stat().st_size, now)

    def owned_by(self, client: str, raw: str) -> bool:
        path = inside_upload_folder(raw)
        with self._lock:
            upload = self._files.get(path) if path is not None else None
            return upload is not None and upload.client == client and time.monotonic() - upload.at < self.ttl_s

    def forget(self, raw: str) -> None:
        """The file was consumed (and deleted by its handler)."""
        path = inside_upload_folder(raw) or Path(raw).resolve()
        with self._lock:
            self._files.pop(path, None)

    def _expire(self, now: float) -> None:
        for path, upload in list(self._files.items()):
            if now - upload.at >= self.ttl_s:
                del self._files[path]
                try:
                    path.unlink(missing_ok=True)
                    if path.parent != upload_folder() and not any(path.parent.iterdir()):
                        path.parent.rmdir()
                except OSError as e:
                    log.warning("could not delete expired upload %s: %s", path.name, e)

    def sweep(self) -> None:
        with self._lock:
            self._expire(time.monotonic())


@dataclass
class MountedGradio:
    """One mounted gradio app: its path prefix and which input slots of which function take an upload."""

    prefix: str
    upload_slots: dict[int, frozenset[int]]  # function id -> input positions of upload fields
    names: dict[str, int]  # api name -> function id

    @classmethod
    def of(cls, prefix: str, blocks: Any) -> MountedGradio:
        import gradio as gr

        slots: dict[int, frozenset[int]] = {}
        names: dict[str, int] = {}
        for fn_id, fn in blocks.fns.items():
            slots[fn_id] = frozenset(
                i for i, c in enumerate(fn.inputs) if isinstance(c, (gr.File, gr.UploadButton))
            )
            if fn.api_name:
                names[str(fn.api_name)] = fn_id
        return cls(prefix.rstrip("/"), slots, names)

    @property
    def has_upload(self) -> bool:
        return any(self.upload_slots.values())

    def target(self, route: str, body: Any) -> int | None:
        """The function a call runs, or None when the route names none (or an unknown one)."""
        match = _NAMED_CALL.match(route)
        if match:
            return self.names.get(match.group(1))
        if route.rstrip("/") == "/queue/join" and isinstance(body, dict):
            fn = body.get("fn_index")
            return fn if isinstance(fn, int) and fn in self.upload_slots else None
        return None

    def check_call(self, route: str, body: Any, client: str, uploads: UploadRegistry) -> Response | None:
        """None when every file reference in the call is allowed, else a refusal that names no path."""
        if isinstance(body, Unparsable):
            return refusal(400, "Anfrage ungültig.", "Invalid request.", "invalid")
        data = body.get("data") if isinstance(body, dict) else None
        # Only the page's own route (queue/join, by fn_index) may carry an upload: the named-call routes map
        # names and positions differently from what this check sees (fn_index overrides, skipped inputs).
        fn = self.target(route, body) if route.rstrip("/") == "/queue/join" else None
        allowed_slots = self.upload_slots.get(fn, frozenset()) if fn is not None else frozenset()
        other = {k: v for k, v in body.items() if k != "data"} if isinstance(body, dict) else body
        refs = file_refs(other)
        if isinstance(data, list):
            for i, value in enumerate(data):
                for ref in file_refs(value):
                    if i not in allowed_slots or not uploads.owned_by(client, str(ref.get("path") or "")):
                        refs.append(ref)
        else:
            refs += file_refs(data)
        if refs:
            log.warning("refused a gradio call with %d file reference(s) outside this client's uploads", len(refs))
            return refusal(400, *FILE_REFUSED, "file_not_allowed")
        return None


class Unparsable:
    """A body too deeply nested to walk: refused, never handed to gradio."""


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None
    except RecursionError:
        return Unparsable()


def file_route_path(route: str) -> str | None:
    """The file a ``/file=…`` or ``/file/…`` route asks for, or None for other routes.

    ``route`` comes from the ASGI path, which the server has already percent-decoded once, exactly as gradio's
    route receives it; decoding it again would check another path than gradio serves.
    """
    for lead in ("/file=", "/file/"):
        if route.startswith(lead):
            return route[len(lead):]
    return None


def served_file_allowed(route: str) -> bool:
    """Whether a file route may be served: only regular files in gradio's upload/cache folder."""
    raw = file_route_path(route)
    return raw is not None and not raw.startswith(("http:", "https:", "//")) and inside_upload_folder(
        raw if os.path.isabs(raw) else str(upload_folder() / raw)
    ) is not None


#: What a client reads instead of gradio's own error text: that text may carry exception messages, file
#: paths of the cache or the input echoed back. Our functions never raise to gradio (they render their errors
#: in the page), so whatever gradio reports is an input it could not process.
PUBLIC_ERROR = (
    "Die Eingabe konnte nicht verarbeitet werden. / The input could not be processed."
)
_EVENT_STREAMS = re.compile(r"^/gradio_api/(queue/data|call/(?:v2/)?[\w-]+/[\w-]+)/?$")


def is_event_stream(route: str) -> bool:
    return bool(_EVENT_STREAMS.match(route))


def _public_errors(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: PUBLIC_ERROR if k == "error" and isinstance(v, str) else _public_errors(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public_errors(v) for v in value]
    return value


class EventSanitizer:
    """Rewrites gradio's server-sent events line by line so that no error event carries gradio's own text."""

    def __init__(self) -> None:
        self._pending = b""
        self._error_event = False

    def feed(self, chunk: bytes, final: bool) -> bytes:
        lines = (self._pending + chunk).split(b"\n")
        if final:
            self._pending = b""
            return b"\n".join(self._line(line) for line in lines)
        self._pending = lines.pop()  # an incomplete line waits for the next chunk
        return b"".join(self._line(line) + b"\n" for line in lines)

    def _line(self, line: bytes) -> bytes:
        if line.startswith(b"event:"):
            self._error_event = line.split(b":", 1)[1].strip() == b"error"
            return line
        if not line.startswith(b"data:"):
            return line
        payload = line[5:].strip()
        value = parse_json(payload)
        if self._error_event:
            self._error_event = False
            if isinstance(value, dict):
                value = _public_errors(value)
            elif value is not None:
                value = PUBLIC_ERROR
            return b"data: " + json.dumps(value, ensure_ascii=False).encode()
        output = value.get("output") if isinstance(value, dict) else None
        if isinstance(value, dict) and ("error" in value or (isinstance(output, dict) and "error" in output)):
            return b"data: " + json.dumps(_public_errors(value), ensure_ascii=False).encode()
        return line
