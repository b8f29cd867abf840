"""Run an untrusted parser in a separate, resource-limited process.

pypdf's documentation asks callers to contain parser failures, and its advisories include infinite loops and
memory exhaustion on crafted files. `run_isolated` runs one call in a fresh child process with an address-space
limit (RLIMIT_AS) and a wall-clock timeout, and turns every way the child can fail into one of four exceptions.

Mechanism: a small fork server. The first call starts `python -c "...serve()"` (fork+exec via subprocess, so
the calling app's threads are never forked, and its __main__ is never re-imported, unlike multiprocessing's
spawn/forkserver children). The server preloads pypdf and the PDF loader once, then forks one short-lived child
per call: the child applies the limits, runs the target and writes its result as JSON; the server enforces the
timeout (SIGKILL) and reports how the child ended. A warm call costs a fork and a pipe round trip (milliseconds).

Data crosses the boundary only as JSON (never pickle), so even a child compromised by a malicious file cannot
make the parent execute anything. Targets are named "module:function" and must return JSON-able plain data
(tuples arrive as lists).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import logging
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.frames import MAX_RESULT_BYTES, read_frame, write_frame

log = logging.getLogger(__name__)

#: Modules the server imports once, so children start warm.
PRELOAD_MODULES = ("pypdf", "ingest.loaders.pdf")
#: Extra time the parent waits for the server beyond the child's own timeout.
SERVER_GRACE_S = 10.0

#: Environment variables the server inherits; everything else (API keys, tokens) stays in the parent.
_ENV_PASSTHROUGH = frozenset({"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "HOME", "SYSTEMROOT", "TZ"})

_EXIT_MEMORY = 86  # child ran out of memory while reporting
_EXIT_INTERNAL = 87  # child could not report at all


class IsolationError(Exception):
    """The isolated call did not produce a result."""


class ChildTimeout(IsolationError):
    """The child exceeded its wall-clock time and was killed."""


class ChildMemoryError(IsolationError):
    """The child hit its memory limit (or sent back an oversized result)."""


class ChildCrashed(IsolationError):
    """The child (or the server) died without reporting: segfault, abort, a signal or an exit code."""


class ChildRaised(IsolationError):
    """The target raised an exception; only its type name and message cross the boundary."""

    def __init__(self, type_name: str, message: str) -> None:
        self.type_name = type_name
        self.message = message
        super().__init__(f"{type_name}: {message}")


# --------------------------------------------------------------------------------------------------------------
# Server side (runs in the server process and its forked children)
# --------------------------------------------------------------------------------------------------------------


def _apply_limits(memory_mb: int | None, timeout_s: float) -> None:
    import resource

    # CPU time as a backstop should the server ever fail to kill the child at the wall-clock deadline.
    cpu = math.ceil(timeout_s) + 5
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    if memory_mb and memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # hard limit too: the parser cannot raise it
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps of crashing parsers
    with contextlib.suppress(OSError):
        os.nice(5)  # parsing yields to the interactive requests the parent serves


def _resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _child(write_fd: int, request: dict[str, Any]) -> None:
    """Body of the forked child: never returns."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        _apply_limits(request.get("memory_mb"), float(request["timeout_s"]))
        try:
            result = _resolve(request["target"])(*request.get("args", []))
            payload = json.dumps({"ok": result}, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except MemoryError:
            payload = b'{"memory": true}'
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message, never a traceback
            payload = json.dumps({"raised": [type(exc).__name__, str(exc)[:1000]]}).encode()
        data = memoryview(payload)
        while data:
            data = data[os.write(write_fd, data) :]
    except MemoryError:
        code = _EXIT_MEMORY
    except BaseException:  # noqa: BLE001
        code = _EXIT_INTERNAL
    finally:
        os._exit(code)


def _run_one(request: dict[str, Any], control_fd: int) -> tuple[dict[str, Any], bytes | None]:
    """Fork a child for one request, collect its output, enforce the timeout."""
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(write_fd, request)
    os.close(write_fd)
    deadline = started + float(request["timeout_s"])
    chunks: list[bytes] = []
    size = 0
    status: dict[str, Any] | None = None
    try:
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                status = {"status": "timeout"}
                break
            ready = select.select([read_fd, control_fd], [], [], wait)[0]
            if control_fd in ready:  # the parent went away: stop everything
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                sys.exit(0)
            if read_fd in ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_RESULT_BYTES:
                    status = {"status": "memory", "detail": "result too large"}
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
    if status is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, wait_status = os.waitpid(pid, 0)
    elapsed = round(time.monotonic() - started, 4)
    if status is not None:
        return {**status, "elapsed": elapsed}, None
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return {"status": "crashed", "detail": f"signal {name}", "elapsed": elapsed}, None
    code = os.WEXITSTATUS(wait_status)
    if code == _EXIT_MEMORY:
        return {"status": "memory", "elapsed": elapsed}, None
    if code != 0 or not chunks:
        return {"status": "crashed", "detail": f"exit code {code}", "elapsed": elapsed}, None
    return {"status": "done", "elapsed": elapsed}, b"".join(chunks)


def serve() -> None:
    """Server main loop: one request frame in, one status frame (+ result frame) out, until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; we exit when it closes our stdin
    for module in PRELOAD_MODULES:
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    control_fd, out_fd = sys.stdin.fileno(), sys.stdout.fileno()
    while True:
        frame = read_frame(control_fd)
        if frame is None:
            return
        status, payload = _run_one(json.loads(frame), control_fd)
        write_frame(out_fd, json.dumps(status).encode())
        if payload is not None:
            write_frame(out_fd, payload)


# --------------------------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parent.parent)  # the directory holding the `ingest` package
        # A minimal environment: a parser compromised by a malicious file finds no API keys or tokens.
        env = {k: v for k, v in os.environ.items() if k in _ENV_PASSTHROUGH}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from ingest.isolation import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
            env=env,
            start_new_session=True,  # killing the group also kills a child the server could not stop
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.in_fd = self.proc.stdin.fileno()
        self.out_fd = self.proc.stdout.fileno()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.kill()
        self.close()

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)

    def call(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
        deadline = time.monotonic() + float(request["timeout_s"]) + SERVER_GRACE_S
        write_frame(self.in_fd, json.dumps(request).encode())
        status_frame = read_frame(self.out_fd, deadline)
        if status_frame is None:
            raise EOFError
        status = json.loads(status_frame)
        payload = read_frame(self.out_fd, deadline) if status.get("status") == "done" else None
        if status.get("status") == "done" and payload is None:
            raise EOFError
        return status, payload


_idle: list[_Server] = []
_pool_lock = threading.Lock()
_MAX_IDLE = 4


def _acquire() -> _Server:
    with _pool_lock:
        while _idle:
            server = _idle.pop()
            if server.alive():
                return server
            server.close()
    return _Server()


def _release(server: _Server) -> None:
    with _pool_lock:
        if server.alive() and len(_idle) < _MAX_IDLE:
            _idle.append(server)
            return
    server.close()


@atexit.register
def shutdown() -> None:
    """Stop idle servers (they would also exit on their own once this process closes their stdin)."""
    with _pool_lock:
        servers, _idle[:] = list(_idle), []
    try:
        for server in servers:
            server.close()
    except KeyboardInterrupt:  # Ctrl-C while exiting: stop the parsers without waiting, and without a traceback
        for server in servers:
            with contextlib.suppress(Exception):
                server.proc.kill()


def warm_up() -> None:
    """Start a server ahead of the first file (pays interpreter start-up and pypdf import once, ~0.3 s)."""
    run_isolated(_probe, "echo", None, timeout_s=30)


def _target_name(target: Callable[..., Any] | str) -> str:
    if isinstance(target, str):
        return target
    return f"{target.__module__}:{target.__qualname__}"


def run_isolated(
    target: Callable[..., Any] | str, *args: Any, timeout_s: float, memory_mb: int | None = None
) -> Any:
    """Call `target(*args)` in a forked child with limits and return its JSON-decoded result.

    Args:
        target: A module-level function (or "module:function"); its arguments and result must be JSON-able.
        timeout_s: Wall-clock limit for the call.
        memory_mb: Address-space limit for the child in MiB (None or 0: unlimited).

    Raises:
        ChildTimeout, ChildMemoryError, ChildCrashed, ChildRaised (all IsolationError).
    """
    name = _target_name(target)
    request = {"target": name, "args": list(args), "timeout_s": timeout_s, "memory_mb": memory_mb}
    server = _acquire()
    try:
        status, payload = server.call(request)
    except TimeoutError:
        server.kill()
        raise ChildTimeout(f"no answer within {timeout_s:.1f} s") from None
    except (EOFError, OSError, ValueError) as e:
        server.kill()
        raise ChildCrashed(f"isolation server failed ({type(e).__name__})") from None
    except BaseException:  # KeyboardInterrupt, SystemExit: the server is mid-request and cannot be reused
        server.kill()
        raise
    _release(server)

    kind = status.get("status")
    if kind == "timeout":
        log.warning("isolated call %s killed after %.1f s", name, timeout_s)
        raise ChildTimeout(f"no result within {timeout_s:.1f} s")
    if kind == "memory":
        raise ChildMemoryError(status.get("detail") or "memory limit reached")
    if kind == "crashed":
        raise ChildCrashed(status.get("detail") or "child died")
    assert payload is not None
    try:
        message = json.loads(payload.decode("utf-8", "surrogatepass"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ChildCrashed("child sent malformed output") from e
    if not isinstance(message, dict):
        raise ChildCrashed("child sent malformed output")
    if "ok" in message:
        return message["ok"]
    if message.get("memory"):
        raise ChildMemoryError("memory limit reached")
    raised = message.get("raised") or ["Error", "unknown"]
    raise ChildRaised(str(raised[0]), str(raised[1]))


def _probe(action: str, arg: Any = None) -> Any:
    """Misbehaving target for tests and health checks of the containment; never called in normal operation."""
    if action == "echo":
        return arg
    if action == "sleep":
        time.sleep(float(arg))
        return "woke up"
    if action == "allocate":
        hog = []
        while True:
            hog.append(bytearray(32 * 1024 * 1024))
    if action == "segfault":
        import ctypes

        ctypes.string_at(0)
    if action == "exit":
        os._exit(int(arg))
    if action == "raise":
        raise ValueError(str(arg))
    if action == "unjsonable":
        return object()
    raise ValueError(f"unknown probe action {action!r}")
