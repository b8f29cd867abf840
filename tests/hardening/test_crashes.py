"""Crashes and storage faults: `kill -9` in the middle of an ingest, clean restarts, a full or read-only disk.

* ``kill -9`` at random points of many `lotse ingest` runs (the real CLI in a subprocess) whose folder flips
  between two versions of a small corpus, so every run has updates, additions, removals and a duplicate to
  do. After every kill the index must be consistent (every live document has exactly its chunks, every chunk
  of a live version belongs to it, the served copy matches), and a final complete run must end with exactly
  the documents, chunk ids and document copies of a reference ingest: no orphans, no duplicates. Then the app
  starts and answers with citations. Runs are random; the seed is in every assertion message and
  ``CRASH_TEST_SEED=<seed>`` replays a run.
* A clean stop loses nothing: a finished ingest and a stopped and restarted server serve the same index, and
  feedback acknowledged before the stop is still there.
* Disk full and read-only data directory, made real for root and non-root alike without privileges:
  ``RLIMIT_FSIZE`` (writes past the limit fail with EFBIG, as on a full disk; CPython ignores SIGXFSZ) and a
  seccomp filter that fails every write-open, unlink and rename with EROFS, as a read-only mount does
  (``chmod`` does not stop root, ``chattr +i`` and mounts need capabilities CI does not have). `lotse ingest`
  must fail with one clear German message (English with ``--lang en``), no traceback, and a running app must
  keep answering from the old index.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import platform
import random
import re
import resource
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port, make_services
from tests.test_pipeline import DOC_A, DOC_B

pytestmark = pytest.mark.slow

# --------------------------------------------------------------------------------------------------------------
# Storage faults (also imported by the child processes of this module)
# --------------------------------------------------------------------------------------------------------------

_SECCOMP_ARCH: dict[str, tuple[int, dict[str, int]]] = {
    # audit architecture, syscall numbers (asm/unistd_64.h; aarch64 uses the generic table, without open())
    "x86_64": (0xC000003E, {"open": 2, "openat": 257, "openat2": 437, "creat": 85, "unlink": 87, "unlinkat": 263,
                            "rename": 82, "renameat": 264, "renameat2": 316, "mkdir": 83, "mkdirat": 258,
                            "rmdir": 84, "link": 86, "linkat": 265, "symlink": 88, "symlinkat": 266,
                            "truncate": 76, "seccomp": 317}),
    "aarch64": (0xC00000B7, {"openat": 56, "openat2": 437, "unlinkat": 35, "renameat": 38, "renameat2": 276,
                             "mkdirat": 34, "linkat": 37, "symlinkat": 36, "truncate": 45, "seccomp": 277}),
}


def deny_writes() -> None:
    """Make this process (all its threads, and its children) see every file system as mounted read-only.

    A seccomp filter answers EROFS to opening a file for writing or creating it, and to unlink, rename, link,
    symlink and truncate; mkdir answers EEXIST, which is what a read-only mount says for the existing folders
    the code under test creates "if missing". Unprivileged (no_new_privs), irreversible, Linux only.
    """
    machine = platform.machine()
    if machine not in _SECCOMP_ARCH:
        raise RuntimeError(f"no seccomp syscall table for {machine}: add one to _SECCOMP_ARCH")
    audit_arch, nr = _SECCOMP_ARCH[machine]
    ld, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JSET|K, BPF_RET|K
    allow, fail = 0x7FFF0000, 0x00050000  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    prog: list[tuple[int, int, int, int]] = [(ld, 0, 0, 4), (jeq, 1, 0, audit_arch), (ret, 0, 0, allow), (ld, 0, 0, 0)]
    for name, flags_arg in (("open", 1), ("openat", 2)):
        if name in nr:  # open(path, flags) / openat(dirfd, path, flags): refuse only when opening for writing
            prog += [(jeq, 0, 4, nr[name]), (ld, 0, 0, 16 + 8 * flags_arg), (jset, 0, 1, write_flags),
                     (ret, 0, 0, fail | errno.EROFS), (ret, 0, 0, allow)]
    answers = {"mkdir": errno.EEXIST, "mkdirat": errno.EEXIST, "openat2": errno.ENOSYS}
    for name in ("creat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "rmdir", "link", "linkat",
                 "symlink", "symlinkat", "truncate", "mkdir", "mkdirat", "openat2"):
        if name in nr:
            prog += [(jeq, 0, 1, nr[name]), (ret, 0, 0, fail | answers.get(name, errno.EROFS))]
    prog.append((ret, 0, 0, allow))
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", c, jt, jf, k) for c, jt, jf, k in prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC): every thread, also those started before
    if libc.syscall(nr["seccomp"], 1, 1, ctypes.byref(fprog)) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")


def fill_disk(limit_bytes: int, pid: int = 0) -> None:
    """Writes at or beyond ``limit_bytes`` into any file of process ``pid`` (0: this one) fail with EFBIG, as on
    a full disk; pipes are unaffected. Only the soft limit changes, so the test can give the space back."""
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    soft = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
    resource.prlimit(pid or os.getpid(), resource.RLIMIT_FSIZE, (soft, hard))


def apply_fault(fault: str) -> None:
    if fault == "read-only":
        deny_writes()
    elif fault.startswith("disk-full"):
        fill_disk(int(fault.partition(":")[2] or 0))
    else:
        raise ValueError(fault)


_CHILD = """
import sys
sys.path.insert(0, {root!r})
fault, argv = sys.argv[1], sys.argv[2:]
from tests.hardening.test_crashes import apply_fault
from assistant.cli import main
if fault != "none":
    apply_fault(fault)
sys.exit(main(argv))
"""


def _env(index: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), LOTSE_INDEX_DIR=str(index), LOTSE_RATE_LIMIT="0")
    return env


def lotse_cmd(*args: str, fault: str = "none") -> list[str]:
    """The `lotse` CLI (python -m assistant), optionally under a storage fault applied at start."""
    if fault == "none":
        return [sys.executable, "-m", "assistant", *args]
    return [sys.executable, "-c", _CHILD.format(root=str(ROOT)), fault, *args]


def lotse(index: Path, *args: str, fault: str = "none", timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(lotse_cmd(*args, fault=fault), cwd=index.parent, env=_env(index), capture_output=True,
                          text=True, timeout=timeout)


# --------------------------------------------------------------------------------------------------------------
# A small corpus in two versions
# --------------------------------------------------------------------------------------------------------------

C_TEXT = "# Wirkung\n\nWirkungsindikatoren und eine Baseline machen den Nutzen eines Projekts für den Rat sichtbar.\n"
D_HTML = (
    "<html><head><title>Betreibermodelle</title></head><body><main><h1>Betreibermodelle</h1>"
    "<p>Eine Anstalt öffentlichen Rechts kann den Betrieb der Datenplattform für mehrere Kommunen übernehmen.</p>"
    "</main></body></html>"
)
QUESTION = "Wie hoch sind die Folgekosten der urbanen Datenplattform?"


def _pdf_factory() -> Any:
    from tests.hardening.test_hostile_files import pdf_factory

    return pdf_factory


def corpus_states(scratch: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Two versions of a folder: every flip between them updates, adds, removes and duplicates documents."""
    factory = _pdf_factory()
    report = factory.make_report_pdf(scratch / "a.pdf").read_bytes()
    pages = factory.make_pdf_with_pages(
        scratch / "b.pdf", 4, text="Die Stadt finanziert den Betrieb der Sensorik ab 2027 aus dem Kernhaushalt."
    ).read_bytes()
    a = {
        "bericht.pdf": report,
        "a.md": DOC_A.encode(),
        "b.txt": DOC_B.encode(),
        "c.md": C_TEXT.encode(),
        "kopie-von-a.md": DOC_A.encode(),
    }
    b = {
        "bericht.pdf": pages,
        "a.md": DOC_A.replace("120.000", "95.000").encode(),
        "b.txt": DOC_B.encode(),
        "sub/d.html": D_HTML.encode(),
        "sub/kopie-von-b.txt": DOC_B.encode(),
    }
    return a, b


def set_folder(folder: Path, state: dict[str, bytes]) -> None:
    """Make ``folder`` hold exactly ``state`` (files rewritten in place, as an editor's sync would)."""
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in state:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for rel, data in state.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)


@dataclass
class IndexView:
    """What an index holds, in terms that must match between two ingests of the same folder."""

    documents: dict[str, tuple[str, str, int]]  # source -> (doc id, version, chunk count)
    chunk_ids: list[str]
    total: int  # records in the chunk collection, orphans included
    copies: list[str]


def view(index: Path, embedder) -> IndexView:  # type: ignore[no-untyped-def]
    from assistant.store import ChromaStore

    store = ChromaStore(embedder.model_id, embedder.dim, path=index / "chroma")
    try:
        docs = store.documents()
        chunks = store.live_chunks(docs)
        total = store.count()
    finally:
        store.reopen()
    files = index / "files"
    return IndexView(
        {d.source: (d.doc_id, d.version, d.chunk_count) for d in docs.values()},
        sorted(c.id for c in chunks),
        total,
        sorted(p.name for p in files.iterdir()) if files.is_dir() else [],
    )


def assert_consistent(index: Path, embedder, states: tuple[dict[str, bytes], ...], why: str) -> None:  # type: ignore[no-untyped-def]
    """What must hold at every instant, also right after a kill: every live document has exactly its own chunks
    of one complete version of its file, and the copy served for it is that version."""
    from assistant.store import ChromaStore

    store = ChromaStore(embedder.model_id, embedder.dim, path=index / "chroma")
    try:
        docs = store.documents()
        chunks = store.live_chunks(docs)
    finally:
        store.reopen()
    known = {rel: {hashlib.sha256(s[rel]).hexdigest() for s in states if rel in s} for st in states for rel in st}
    per_doc: dict[str, int] = {}
    for chunk in chunks:
        per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
    for doc in docs.values():
        assert doc.source in known and doc.content_sha256 in known[doc.source], f"{why}: {doc.source} unknown"
        assert per_doc.get(doc.doc_id, 0) == doc.chunk_count, f"{why}: {doc.source} has a partial chunk set"
        copy = index / "files" / f"{doc.content_sha256}{doc.suffix}"
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == doc.content_sha256, f"{why}: copy of {doc.source}"
    assert len({c.id for c in chunks}) == len(chunks), f"{why}: duplicate chunk ids"


def reference_view(folder_state: dict[str, bytes], tmp_path: Path, embedder) -> IndexView:  # type: ignore[no-untyped-def]
    """The same folder ingested once, without interruptions, in this process."""
    folder = tmp_path / "reference" / "docs"
    folder.mkdir(parents=True)
    set_folder(folder, folder_state)
    services = make_services(tmp_path / "reference" / "index", embedder)
    report = services.pipeline().run([folder])
    assert not report.failed, report.failed
    services.store.reopen()
    return view(tmp_path / "reference" / "index", embedder)


# --------------------------------------------------------------------------------------------------------------
# kill -9 at random points
# --------------------------------------------------------------------------------------------------------------

KILLS = 15


def _holds_lock(pid: int, lock: Path) -> bool:
    """Whether ``pid`` holds the ingest's file lock (from /proc/locks: the run is past its start-up)."""
    try:
        inode = lock.stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return False
    return any(f" {pid} " in line and line.split()[5].endswith(f":{inode}") for line in lines if "FLOCK" in line)


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _wait_gone(pids: list[int], deadline_s: float) -> list[int]:
    """Poll until none of ``pids`` runs any more (zombies count as gone); returns those still running."""
    import psutil

    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + deadline_s
    alive = [p for p in pids if running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if running(p)]
    return alive


def test_kill_9_at_random_points_never_corrupts_the_index(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """15 `lotse ingest` runs, each stopped at a random point: mostly ``kill -9`` at a random time after the run
    took the writer lock (the work: parsing, embedding, chunk writes, registry flips, clean-up, pruning), some
    at a random time after start-up began, two by Ctrl-C. Consistent after every single stop; exactly like a
    clean ingest after the next complete run; the app then answers with citations."""
    seed = int(os.environ.get("CRASH_TEST_SEED") or random.SystemRandom().randrange(2**31))
    rng = random.Random(seed)
    tag = f"[seed {seed}; replay with CRASH_TEST_SEED={seed}]"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    states = corpus_states(scratch)
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    set_folder(docs, states[0])

    first = lotse(index, "ingest", str(docs), "--json")
    assert first.returncode == 0, f"{tag} {first.stdout} {first.stderr}"
    window = max(1.0, 1.3 * json.loads(first.stdout)["seconds"])  # how long the work of one run takes
    lock = index / "ingest.lock"

    log: list[str] = []
    interrupts = {rng.randrange(2, KILLS // 2), rng.randrange(KILLS // 2, KILLS)}  # Ctrl-C, the clean variant
    for i in range(KILLS):
        state = states[(i + 1) % 2]
        set_folder(docs, state)
        proc = subprocess.Popen(lotse_cmd("ingest", str(docs), "--json"), cwd=tmp_path, env=_env(index),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            started = time.monotonic()
            after_lock = i in interrupts or rng.random() < 0.75
            if after_lock:  # most kills land in the work: poll until the run holds the lock
                while proc.poll() is None and not _holds_lock(proc.pid, lock):
                    assert time.monotonic() - started < 120, f"{tag} run {i} never took the lock"
                    time.sleep(0.01)
            delay = rng.uniform(0, window if after_lock else 4.0 + window)
            time.sleep(delay)  # the random kill point is the point of the test, not a synchronisation
            children = _descendants(proc.pid)
            sig = signal.SIGINT if i in interrupts else signal.SIGKILL
            if proc.poll() is None:
                proc.send_signal(sig)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # Ctrl-C ends a run with 130 ("Abgebrochen."), or -SIGINT when it arrives while the interpreter exits.
        assert proc.returncode in (0, 130, -signal.SIGINT, -signal.SIGKILL), f"{tag} run {i}: {err[-2000:]}"
        log.append(f"run {i}: {sig.name} {'after lock +' if after_lock else 'after start +'}{delay:.2f}s "
                   f"-> exit {proc.returncode}")
        why = f"{tag} after {log[-1]} (history: {'; '.join(log[:-1])})"
        assert "Traceback" not in err, f"{why}: {err[-2000:]}"
        if sig == signal.SIGINT and proc.returncode == 130:
            assert "Abgebrochen." in err, f"{why}: {err[-500:]}"
        elif proc.returncode == 0:
            assert json.loads(out)["failed"] == [], f"{why}: {out}"
        # The parser server of a killed run must not outlive it (it watches its stdin).
        assert not _wait_gone(children, 30), f"{why}: child processes outlived the killed ingest"
        assert_consistent(index, embedder, states, why)

    final_state = states[KILLS % 2]
    done = lotse(index, "ingest", str(docs), "--json")
    assert done.returncode == 0 and not json.loads(done.stdout)["failed"], f"{tag} {done.stdout} {done.stderr}"
    got, want = view(index, embedder), reference_view(final_state, tmp_path, embedder)
    history = "; ".join(log)
    assert got.documents == want.documents, f"{tag} documents differ from a clean ingest ({history})"
    assert got.chunk_ids == want.chunk_ids, f"{tag} chunks differ from a clean ingest ({history})"
    assert got.total == len(got.chunk_ids), f"{tag} {got.total - len(got.chunk_ids)} orphaned chunks ({history})"
    assert got.copies == want.copies, f"{tag} document copies differ ({history})"
    _assert_app_answers(index, embedder, set(got.documents), tag)


def _assert_app_answers(index: Path, embedder, sources: set[str], tag: str) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from assistant.web.app import create_app

    services = make_services(index, embedder, rate_limit=0)
    try:
        with TestClient(create_app(services, with_ui=False), base_url="http://localhost") as client:
            health = client.get("/api/health").json()
            assert health["status"] == "ready" and health["documents"] == len(sources), f"{tag} {health}"
            answer = client.post("/api/ask", json={"question": QUESTION}).json()
            assert answer["citations"] and not answer["abstained"], f"{tag} {answer}"
            assert {c["source"] for c in answer["citations"]} <= sources, f"{tag} {answer['citations']}"
    finally:
        services.store.reopen()


def test_leftovers_of_a_crash_are_collected_by_the_next_run(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """What a kill can leave behind, made deterministic: a half-written document copy (killed while copying),
    the copy of a version that never went live (killed before the registry flip) and the copy of a version that
    is no longer live (killed between the flip and the clean-up). The next run removes exactly these, so an
    erased or replaced document leaves no file behind; copies of live documents and foreign files stay."""
    docs, index, before = _indexed(tmp_path, embedder, corpus_states(tmp_path)[0])
    files = index / "files"
    live = set(before.copies)
    strays = {
        f".{'a' * 64}.pdf.4242.tmp": b"%PDF-1.7 halb geschrieben",
        f"{'b' * 64}.md": b"# Nie live gewordene Fassung\n",
        f"{hashlib.sha256(b'alte Fassung').hexdigest()}.txt": b"alte Fassung",
    }
    for name, data in strays.items():
        (files / name).write_bytes(data)
    (files / "notiz-der-redaktion.txt").write_bytes(b"not ours: never touched")
    services = make_services(index, embedder)
    report = services.pipeline().run([docs])
    services.store.reopen()
    assert report.embedded_chunks == 0 and sorted(report.unchanged) == sorted(before.documents)
    assert {p.name for p in files.iterdir()} == live | {"notiz-der-redaktion.txt"}
    assert view(index, embedder).documents == before.documents


# --------------------------------------------------------------------------------------------------------------
# Clean stop and restart
# --------------------------------------------------------------------------------------------------------------


def _http(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


class AppProcess:
    """The app in its own process (``lotse serve`` or a faulted child), reachable on a free loopback port."""

    def __init__(self, index: Path, cmd: list[str], port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(cmd, cwd=index.parent, env=_env(index), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def __enter__(self) -> AppProcess:
        deadline = time.monotonic() + 180
        while True:
            assert self.proc.poll() is None, f"app exited: {self.proc.communicate()[1][-3000:]}"
            assert time.monotonic() < deadline, "app did not become ready"
            try:
                status, _ = _http(self.port, "GET", "/api/health")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a clean stop, as systemd or docker stop does
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ask(port: int) -> list[tuple[str, int | None, str]]:
    status, answer = _http(port, "POST", "/api/ask", {"question": QUESTION})
    assert status == 200 and answer["citations"] and not answer["abstained"], answer
    return [(c["source"], c["page"], c["quote"]) for c in answer["citations"]]


def test_clean_stop_and_restart_lose_nothing(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """A completed ingest, then the server stopped with SIGTERM and started again: the same documents, the
    same cited answer, and feedback acknowledged before the stop is still there."""
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    set_folder(docs, corpus_states(tmp_path)[0])
    done = lotse(index, "ingest", str(docs), "--json")
    assert done.returncode == 0, done.stderr
    expected = view(index, embedder)
    assert expected.documents and expected.total == len(expected.chunk_ids)

    port = free_port()
    serve = lotse_cmd("serve", "--host", "127.0.0.1", "--port", str(port))
    with AppProcess(index, serve, port) as app:
        health = _http(port, "GET", "/api/health")[1]
        cited = _ask(port)
        status, ack = _http(port, "POST", "/api/feedback", {"question": QUESTION, "answer": "x",
                                                             "rating": "wrong_source", "comment": "Seite fehlt"})
        assert status == 201 and ack["id"], ack
        code, err = app.stop()  # uvicorn shuts down gracefully, then ends by the signal it was sent
        assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in err, err[-3000:]
        assert "Traceback" not in err, err[-3000:]

    assert view(index, embedder) == expected, "the stopped server changed the index"
    # Restarted (in this process, with the session's embedder): everything is still there.
    from fastapi.testclient import TestClient

    from assistant.feedback import FeedbackStore
    from assistant.web.app import create_app

    services = make_services(index, embedder, rate_limit=0)
    try:
        with TestClient(create_app(services, with_ui=False), base_url="http://localhost") as client:
            again = client.get("/api/health").json()
            assert (again["documents"], again["chunks"]) == (health["documents"], health["chunks"])
            answer = client.post("/api/ask", json={"question": QUESTION}).json()
            assert [(c["source"], c["page"], c["quote"]) for c in answer["citations"]] == cited
        items = FeedbackStore(services.store, 365).recent(limit=10)
        assert [(i["id"], i["rating"], i["comment"]) for i in items] == [(ack["id"], "wrong_source", "Seite fehlt")]
    finally:
        services.store.reopen()


# --------------------------------------------------------------------------------------------------------------
# Disk full, read-only
# --------------------------------------------------------------------------------------------------------------

_FAULTED_APP = """
import sys
sys.path.insert(0, {root!r})
fault, port = sys.argv[1], int(sys.argv[2])
import uvicorn
from assistant.config import load_settings
from assistant.services import build_services
from assistant.web.app import create_app
from tests.hardening.test_crashes import apply_fault
services = build_services(load_settings())
services.chat.answer({question!r})  # warm: model, store and lexical index are loaded before the disk fails
app = create_app(services, with_ui=False)
apply_fault(fault)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""

def _start_faulted_app(index: Path, fault: str) -> AppProcess:
    port = free_port()
    cmd = [sys.executable, "-c", _FAULTED_APP.format(root=str(ROOT), question=QUESTION), fault, str(port)]
    return AppProcess(index, cmd, port)


def _indexed(tmp_path: Path, embedder, state: dict[str, bytes]) -> tuple[Path, Path, IndexView]:  # type: ignore[no-untyped-def]
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    set_folder(docs, state)
    services = make_services(index, embedder)
    assert not services.pipeline().run([docs]).failed
    services.store.reopen()
    return docs, index, view(index, embedder)


def _refused(run: subprocess.CompletedProcess[str], words: str) -> str:
    """`lotse ingest --json` failed as a whole with one clear German message and nothing on stderr."""
    assert run.returncode == 1, run.stdout + run.stderr
    error = json.loads(run.stdout)
    assert error["code"] == "index_error" and "kann nicht geschrieben werden" in error["error"], error
    assert re.search(words, error["error"]) and "bleibt unverändert" in error["error"], error
    assert not run.stderr.strip(), run.stderr  # no traceback, no log noise
    return str(error["error"])


def _recovers(index: Path, docs: Path, tmp_path: Path, embedder, state: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    """With space and write access back, the next ingest ends exactly like a clean one."""
    services = make_services(index, embedder)
    report = services.pipeline().run([docs])
    services.store.reopen()
    assert not report.failed, report.failed
    got, want = view(index, embedder), reference_view(state, tmp_path, embedder)
    assert (got.documents, got.chunk_ids, got.copies) == (want.documents, want.chunk_ids, want.copies)
    assert got.total == len(got.chunk_ids), "orphaned chunks after recovery"


@pytest.mark.server
def test_disk_full_gives_a_clear_error_and_loses_nothing(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The disk fills up (RLIMIT_FSIZE, for the ingest and the running app alike).

    Full before anything reaches the index (a large new file cannot be copied): `lotse ingest` stops with
    "Speicherplatz erschöpft", the index is untouched to the byte, the app keeps answering. Full in the middle
    of writing chunks: the same clear stop; live documents stay the old ones. Embedded Chroma applies the
    chunks already written when it next reads, which needs space too, so the app may report "Wissensbasis
    nicht verfügbar" meanwhile; once space is back it answers again, without a restart, from the old index.
    """
    state_a, state_b = corpus_states(tmp_path)
    docs, index, before = _indexed(tmp_path, embedder, state_a)
    limit = 2_000_000
    with _start_faulted_app(index, f"disk-full:{limit}") as app:
        cited = _ask(app.port)
        set_folder(docs, {**state_b, "0-anhang.pdf": b"%PDF-1.7\n" + b"Messreihe " * 340_000})  # 3.4 MB
        _refused(lotse(index, "ingest", str(docs), "--json", fault=f"disk-full:{limit}"),
                 r"Speicherplatz ist erschöpft")
        assert view(index, embedder) == before, "the index changed although nothing could be written"
        health = _http(app.port, "GET", "/api/health")[1]
        assert health["status"] == "ready" and _ask(app.port) == cited, health

        (docs / "0-anhang.pdf").unlink()
        fill_disk(0, app.pid)  # the disk is full for the app too; the ingest starts with a little space left
        _refused(lotse(index, "ingest", str(docs), "--json", fault="disk-full:65536"),
                 r"Schreibfehler des Datenträgers|Speicherplatz ist erschöpft")
        assert view(index, embedder).documents == before.documents, "live documents changed"
        assert_consistent(index, embedder, (state_a, state_b), "after a disk-full failure")
        health = _http(app.port, "GET", "/api/health")[1]
        assert health["status"] == "ready" or health["reasons"][0].startswith("Wissensbasis nicht verfügbar")
        status, body = _http(app.port, "POST", "/api/ask", {"question": QUESTION})
        assert status == 200 or body["error"].startswith("Wissensbasis nicht verfügbar"), body

        fill_disk(resource.RLIM_INFINITY, app.pid)  # space again
        deadline = time.monotonic() + 60
        while _http(app.port, "GET", "/api/health")[1]["status"] != "ready":
            assert time.monotonic() < deadline, "the app did not recover once space was back"
            time.sleep(0.2)
        assert _ask(app.port) == cited
    _recovers(index, docs, tmp_path, embedder, state_b)


@pytest.mark.server
def test_read_only_data_directory_gives_a_clear_error_and_is_still_served(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The data directory turns read-only (a seccomp filter answers EROFS, for the ingest and the running app):
    `lotse ingest` and `lotse remove` stop with "schreibgeschützt" (English with --lang en), nothing changes,
    and the running app keeps answering with the same citations."""
    state_a, state_b = corpus_states(tmp_path)
    docs, index, before = _indexed(tmp_path, embedder, state_a)
    with _start_faulted_app(index, "read-only") as app:
        cited = _ask(app.port)
        set_folder(docs, state_b)
        _refused(lotse(index, "ingest", str(docs), "--json", fault="read-only"), r"Ordner ist schreibgeschützt")
        english = lotse(index, "ingest", str(docs), "--lang", "en", fault="read-only")
        assert english.returncode == 1 and english.stderr.startswith("Error: The index"), english.stderr
        assert "the folder is read-only" in english.stderr and "Traceback" not in english.stderr
        erase = lotse(index, "remove", "a.md", "--json", fault="read-only")
        assert erase.returncode == 1 and "schreibgeschützt" in json.loads(erase.stdout)["error"], erase.stdout
        # A process that starts only now cannot even open an embedded Chroma read-only; it says why.
        fresh = lotse(index, "search", "Folgekosten", fault="read-only")
        assert fresh.returncode == 1 and "Der Ordner ist schreibgeschützt" in fresh.stderr, fresh.stderr
        assert "Traceback" not in fresh.stderr

        health = _http(app.port, "GET", "/api/health")[1]
        assert health["status"] == "ready" and health["documents"] == len(before.documents), health
        assert _ask(app.port) == cited
    assert view(index, embedder) == before
    _recovers(index, docs, tmp_path, embedder, state_b)
