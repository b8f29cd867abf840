"""Scale path: one `chroma run` server on 127.0.0.1, two app processes (`lotse serve`) sharing it, and the CLI
as a third process that ingests and erases.

The HTTP API tests of tests/web/test_api.py run unchanged against each app process (``client`` and ``live``
are the real servers here). On top: both processes see a CLI ingest without a restart (the retriever checks
the registry's generation every ~2 s), and `lotse remove` erases a document for both while they are being
queried (the GDPR erasure test): afterwards no answer of either process cites it, its file is gone and Chroma
holds none of its chunks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import CORPUS, ROOT, free_port, make_services
from tests.test_server_mode import start_chroma
from tests.web.test_api import (  # the same tests, collected here against the app processes
    QUESTION,
    test_ask_returns_the_contract,
    test_bad_input_is_refused_before_streaming,
    test_chat_streams_sse_events_in_order,
    test_chunked_oversized_body_is_refused,
    test_openai_client_reads_answer_and_sources,
)

pytestmark = [pytest.mark.server, pytest.mark.slow]

__all__ = [
    "test_ask_returns_the_contract",
    "test_bad_input_is_refused_before_streaming",
    "test_chat_streams_sse_events_in_order",
    "test_chunked_oversized_body_is_refused",
    "test_openai_client_reads_answer_and_sources",
]

#: A small index: QUESTION is answered from the first; the second makes it more than one document.
BASE_DOCS = ("handreichung-betreibermodelle.pdf", "checkliste-verstetigung.md")

NOTE_NAME = "praxisnotiz-lindenbus.md"
NOTE = """---
title: Praxisnotiz Rufbus Lindenau (fiktives Beispiel)
doc_type: praxisbeispiel
---
# Praxisnotiz Rufbus Lindenau

## Betrieb nach dem Förderende

Den Rufbus „Lindenbus“ betreiben nach dem Förderende die Stadtwerke Lindenau als Regelangebot.
Die jährlichen Betriebskosten des Lindenbus von 85.000 Euro teilen sich Landkreis und Stadt je zur Hälfte.
"""
NOTE_QUESTION = "Wer betreibt den Lindenbus nach dem Förderende, und wer trägt seine Betriebskosten?"


@dataclass
class AppProcess:
    """One `lotse serve` process; ``url`` and ``port`` make it usable where the API tests expect a LiveServer."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


@dataclass
class Cluster:
    chroma_url: str
    index: Path  # shared by every process: document copies for /documents/ links, the ingest lock
    workdir: Path
    apps: list[AppProcess] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))}
        return env | {"PYTHONPATH": str(ROOT), "LOTSE_CHROMA_URL": self.chroma_url,
                      "LOTSE_INDEX_DIR": str(self.index), "LOTSE_RATE_LIMIT": "0"}

    def lotse(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The CLI as a third process (`lotse …` is `python -m assistant …`)."""
        return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=self.workdir, env=self.env(),
                              capture_output=True, text=True, timeout=600)


def _start_app(cluster: Cluster) -> AppProcess:
    port = free_port()
    log = cluster.workdir / f"app-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port)],
                                cwd=cluster.workdir, env=cluster.env(), stdout=out, stderr=subprocess.STDOUT)
    return AppProcess(proc, port, log)


def _wait_ready(app: AppProcess, deadline: float) -> None:
    while True:
        if app.proc.poll() is not None:
            pytest.fail(f"app process exited with {app.proc.returncode}:\n{app.log_tail()}")
        try:
            if httpx.get(f"{app.url}/api/health", timeout=10).json()["status"] == "ready":
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"app process not ready in time:\n{app.log_tail()}")
        time.sleep(0.3)


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Cluster]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("scale")
    port = free_port()
    chroma = start_chroma(root / "chroma-server", port)
    cluster = Cluster(f"http://127.0.0.1:{port}", root / "index", root / "work")
    cluster.workdir.mkdir()
    try:
        # The base index is written in-process (the session's embedder is loaded already); the CLI ingest of
        # the test below is the third process.
        writer = make_services(cluster.index, embedder, chroma_url=cluster.chroma_url)
        report = writer.pipeline().run([CORPUS / name for name in BASE_DOCS])
        assert report.documents == len(BASE_DOCS) and not report.failed, report.failed
        cluster.apps = [_start_app(cluster), _start_app(cluster)]
        deadline = time.monotonic() + 240  # two processes import gradio and load the model on a busy machine
        for app in cluster.apps:
            _wait_ready(app, deadline)
        yield cluster
    finally:
        _stop(*(app.proc for app in cluster.apps))
        _stop(chroma)


@pytest.fixture(params=[0, 1], ids=["app1", "app2"])
def app(request: pytest.FixtureRequest, cluster: Cluster) -> AppProcess:
    return cluster.apps[request.param]


@pytest.fixture
def client(app: AppProcess) -> Iterator[httpx.Client]:
    """Stands in for the TestClient of tests/web/test_api.py: same interface, a real process behind it."""
    with httpx.Client(base_url=app.url, timeout=120) as c:
        yield c


@pytest.fixture
def live(app: AppProcess) -> AppProcess:
    return app


# --- what the API tests cannot know: shared state ---------------------------------------------------------------
def _chroma(cluster: Cluster):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(cluster.chroma_url.rsplit(":", 1)[1])
    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))


def test_health_and_feedback_are_shared(cluster: Cluster, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.feedback import FeedbackStore

    healths = [httpx.get(f"{a.url}/api/health", timeout=60).json() for a in cluster.apps]
    for health in healths:
        assert health["status"] == "ready" and health["mode"] == "extractive", health
        assert health["documents"] == len(BASE_DOCS) and health["chunks"] > 0
    assert healths[0] == healths[1], "both processes report the same index"

    for n, app in enumerate(cluster.apps, start=1):
        r = httpx.post(f"{app.url}/api/feedback", timeout=60,
                       json={"question": QUESTION, "answer": "…", "rating": "helpful", "comment": f"von App {n}"})
        assert r.status_code == 201, r.text
    reader = make_services(cluster.workdir / "reader", embedder, chroma_url=cluster.chroma_url)
    comments = {item["comment"] for item in FeedbackStore(reader.store).recent(limit=50)}
    assert {"von App 1", "von App 2"} <= comments, "feedback of every replica lands in the shared store"


def _ask(app: AppProcess, question: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = httpx.post(f"{app.url}/api/ask", json={"question": question}, timeout=120)
    return r.status_code, r.json()


def _cited_sources(body: dict) -> set[str]:  # type: ignore[type-arg]
    return {c["source"] for c in body.get("citations", [])}


def _ingest_note(cluster: Cluster) -> None:
    folder = cluster.workdir / "neu"
    folder.mkdir(exist_ok=True)
    (folder / NOTE_NAME).write_text(NOTE, encoding="utf-8")
    r = cluster.lotse("ingest", str(folder), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["failed"] == []


def _wait_until_cited(app: AppProcess, deadline_s: float = 90.0) -> dict:  # type: ignore[type-arg]
    """Poll one process until an answer cites the note: it must pick up another process's ingest by itself."""
    deadline = time.monotonic() + deadline_s
    while True:
        status, body = _ask(app, NOTE_QUESTION)
        assert status == 200, body
        if NOTE_NAME in _cited_sources(body):
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"{app.url} did not see the new document within {deadline_s} s: {body}")
        time.sleep(0.5)


def test_cli_ingest_reaches_both_processes_without_restart(cluster: Cluster) -> None:
    for app in cluster.apps:
        assert NOTE_NAME not in _cited_sources(_ask(app, NOTE_QUESTION)[1])
    _ingest_note(cluster)
    for app in cluster.apps:
        body = _wait_until_cited(app)
        assert "85.000 Euro" in body["answer"]
        url = next(c["url"] for c in body["citations"] if c["source"] == NOTE_NAME)
        r = httpx.get(f"{app.url}{url}", timeout=60)  # the shared index dir holds the copy for every process
        assert r.status_code == 200 and "Lindenbus" in r.text


def test_erasure_reaches_both_processes_while_they_are_queried(cluster: Cluster) -> None:
    _ingest_note(cluster)  # incremental: a no-op if the test above ran
    urls = [next(c["url"] for c in _wait_until_cited(app)["citations"] if c["source"] == NOTE_NAME)
            for app in cluster.apps]
    doc_id = urls[0].rsplit("/", 1)[1]
    copies = list((cluster.index / "files").iterdir())

    # (sent_at, status, cited sources) per process, while `lotse remove` runs in a third process
    log: list[list[tuple[float, int, set[str]]]] = [[], []]
    stop = threading.Event()

    def hammer(i: int) -> None:
        with httpx.Client(base_url=cluster.apps[i].url, timeout=120) as http:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    r = http.post("/api/ask", json={"question": NOTE_QUESTION})
                except httpx.HTTPError:
                    log[i].append((sent, -1, set()))  # counted as an error below
                    continue
                log[i].append((sent, r.status_code, _cited_sources(r.json()) if r.status_code == 200 else set()))

    threads = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in (0, 1)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while not all(sum(NOTE_NAME in s for _, _, s in entries) >= 2 for entries in log):
            assert time.monotonic() < deadline, "queries did not run against the document before the erasure"
            time.sleep(0.2)
        remove_started = time.monotonic()
        r = cluster.lotse("remove", NOTE_NAME, "--json")
        removed_at = time.monotonic()
        assert r.returncode == 0 and json.loads(r.stdout)["removed"] == NOTE_NAME, r.stdout + r.stderr

        def settled(entries: list[tuple[float, int, set[str]]]) -> bool:
            after = [s for sent, _, s in entries if sent > removed_at]
            return len(after) >= 5 and not any(NOTE_NAME in s for s in after[-5:])

        deadline = time.monotonic() + 60
        while not (all(settled(entries) for entries in log) and time.monotonic() > removed_at + 6):
            assert time.monotonic() < deadline, "the erased document stayed retrievable"
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(130)

    for i, entries in enumerate(log):
        assert all(status == 200 for _, status, _ in entries), f"app{i + 1}: errors during the erasure"
        assert any(remove_started < sent < removed_at for sent, _, _ in entries), "no query ran during the erasure"
        after = [(sent, s) for sent, _, s in entries if sent > removed_at]
        first_clean = next(n for n, (_, s) in enumerate(after) if NOTE_NAME not in s)
        assert after[first_clean][0] - removed_at < 20, f"app{i + 1} served the erased document for too long"
        assert not any(NOTE_NAME in s for _, s in after[first_clean:]), f"app{i + 1}: the document came back"

    for app, url in zip(cluster.apps, urls, strict=True):
        status, body = _ask(app, NOTE_QUESTION)
        assert status == 200 and NOTE_NAME not in _cited_sources(body)
        assert "85.000" not in body["answer"]
        assert httpx.get(f"{app.url}{url}", timeout=60).status_code == 404
    client = _chroma(cluster)
    assert client.get_collection("lotse_chunks").get(where={"doc_id": doc_id}, include=[])["ids"] == []
    assert client.get_collection("lotse_documents").get(ids=[doc_id], include=[])["ids"] == []
    assert len(list((cluster.index / "files").iterdir())) == len(copies) - 1, "the document copy is erased too"
