"""The parser isolation: every way a child can misbehave ends as one exception, quickly, with no traceback."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from ingest import isolation
from ingest.isolation import (
    ChildCrashed,
    ChildMemoryError,
    ChildRaised,
    ChildTimeout,
    _probe,
    run_isolated,
)


@pytest.fixture(scope="module", autouse=True)
def _warm_server():
    isolation.warm_up()


def test_result_crosses_as_plain_json_data():
    assert run_isolated(_probe, "echo", {"a": (1, 2), "ü": "ß"}, timeout_s=10) == {"a": [1, 2], "ü": "ß"}
    assert run_isolated("ingest.isolation:_probe", "echo", None, timeout_s=10) is None


def test_hang_is_killed_at_the_timeout():
    started = time.monotonic()
    with pytest.raises(ChildTimeout):
        run_isolated(_probe, "sleep", 60, timeout_s=1.0)
    assert 0.9 < time.monotonic() - started < 4


def test_memory_limit_becomes_child_memory_error():
    started = time.monotonic()
    with pytest.raises(ChildMemoryError):
        run_isolated(_probe, "allocate", None, timeout_s=30, memory_mb=200)
    assert time.monotonic() - started < 30


def test_segfault_becomes_child_crashed():
    with pytest.raises(ChildCrashed, match="SIGSEGV"):
        run_isolated(_probe, "segfault", None, timeout_s=10)


def test_exit_code_becomes_child_crashed():
    with pytest.raises(ChildCrashed, match="exit code 3"):
        run_isolated(_probe, "exit", 3, timeout_s=10)


def test_exception_in_target_crosses_as_type_and_message():
    with pytest.raises(ChildRaised) as exc:
        run_isolated(_probe, "raise", "kaputt", timeout_s=10)
    assert exc.value.type_name == "ValueError" and exc.value.message == "kaputt"
    with pytest.raises(ChildRaised, match="not JSON serializable"):
        run_isolated(_probe, "unjsonable", None, timeout_s=10)
    with pytest.raises(ChildRaised, match="ModuleNotFoundError"):
        run_isolated("no_such_module:function", timeout_s=10)


def test_failures_leave_no_children_and_the_server_keeps_working():
    psutil = pytest.importorskip("psutil")
    for action, arg in (("sleep", 60), ("segfault", None), ("exit", 9)):
        with pytest.raises(isolation.IsolationError):
            run_isolated(_probe, action, arg, timeout_s=0.5)
    assert run_isolated(_probe, "echo", "weiter", timeout_s=10) == "weiter"
    for server in list(isolation._idle):
        assert psutil.Process(server.proc.pid).children() == []


def test_no_traceback_reaches_the_parent_stderr(capfd):
    for action, arg in (("raise", "x"), ("segfault", None), ("allocate", None)):
        with pytest.raises(isolation.IsolationError):
            run_isolated(_probe, action, arg, timeout_s=20, memory_mb=200)
    assert "Traceback" not in capfd.readouterr().err


def test_warm_call_overhead_is_small():
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        run_isolated(_probe, "echo", "x", timeout_s=10)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.25


def test_parallel_callers_each_get_a_server():
    results: list[object] = []

    def call(i: int) -> None:
        results.append(run_isolated(_probe, "echo", i, timeout_s=20))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [0, 1, 2, 3]  # type: ignore[type-var]


def test_parser_process_does_not_inherit_secrets(monkeypatch):
    isolation.shutdown()  # the next call starts a fresh server with the patched environment
    monkeypatch.setenv("LOTSE_LLM_API_KEY", "sk-test-not-for-children")
    assert run_isolated("os:getenv", "LOTSE_LLM_API_KEY", timeout_s=10) is None
    assert run_isolated("os:getenv", "PATH", timeout_s=10)


def test_ctrl_c_during_exit_stops_the_parsers_quietly() -> None:
    """A second Ctrl-C while the process shuts its parser servers down prints no traceback."""
    import subprocess
    import sys

    code = (
        "import signal, os, time\n"
        "from ingest import isolation\n"
        "isolation.warm_up()\n"
        "server = isolation._idle[0]\n"
        "original = server.proc.wait\n"
        "def interrupted_wait(timeout=None):\n"
        "    os.kill(os.getpid(), signal.SIGINT); time.sleep(1); return original(timeout)\n"
        "server.proc.wait = interrupted_wait\n"
    )
    from tests.conftest import ROOT

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
