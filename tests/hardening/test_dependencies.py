"""Failing dependencies: the Chroma server down, hung and back; an embeddings endpoint that changes its
dimension; unusable configuration at start-up.

What users are owed (RELIABILITY.md): a clear German message with an English one, never an answer without
sources, nothing mixed into the index, and recovery without restarting the app once the dependency is back.
LLM endpoint faults at answer time are covered in tests/llm/test_llm.py and tests/test_chat.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.errors import EmbeddingError, EmbeddingMismatchError
from assistant.services import build_services
from assistant.web.app import create_app
from tests.conftest import ROOT, LiveServer, free_port, make_services
from tests.support.fake_openai import FakeOpenAIServer
from tests.test_pipeline import DOC_A, DOC_B
from tests.test_server_mode import start_chroma
from tests.web.test_api import _events

pytestmark = pytest.mark.server

QUESTION = "Wie hoch sind die Folgekosten der urbanen Datenplattform?"
LOCAL = "http://localhost"  # a host name the app answers under (TestClient's default "testserver" is not)


class ChromaProcess:
    """A `chroma run` server on a fixed port and data directory that a test can stop, pause and restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False

    def start(self) -> None:
        self.proc = start_chroma(self.path, self.port)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.resume()  # a stopped process would not act on SIGTERM
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections, but nothing answers (a hung server)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.proc is not None and self.paused:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.paused = False


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaProcess]:
    server = ChromaProcess(tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(DOC_A, encoding="utf-8")
    (folder / "b.txt").write_text(DOC_B, encoding="utf-8")
    return folder


def _assert_cited_answer(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["abstained"] is False and body["citations"], body
    assert "120.000 Euro" in body["answer"]


def _wait_for_cited_answer(post, deadline_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Poll until the app answers with sources again (it reconnects on its own)."""
    deadline = time.monotonic() + deadline_s
    while True:
        r = post("/api/ask", json={"question": QUESTION})
        if r.status_code == 200:
            _assert_cited_answer(r)
            return
        assert r.status_code == 503, r.text
        if time.monotonic() > deadline:
            pytest.fail(f"no recovery within {deadline_s} s: {r.text}")
        time.sleep(0.5)


def _wait_for_health(get, status: str, deadline_s: float = 60.0) -> dict:  # type: ignore[no-untyped-def, type-arg]
    deadline = time.monotonic() + deadline_s
    while True:
        health = get("/api/health").json()
        if health["status"] == status:
            return health  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            pytest.fail(f"health did not turn {status!r} within {deadline_s} s: {health}")
        time.sleep(0.5)


def _assert_refused(response: httpx.Response, *, de: str, en: str, code: str) -> None:
    """A clear refusal in both languages, and no answer text."""
    assert response.status_code == 503, response.text
    body = response.json()
    assert de in body["error"] and en in body["error_en"] and body["code"] == code, body
    assert "answer" not in body and "Traceback" not in response.text
    assert "127.0.0.1" not in response.text and "http" not in response.text, "internal addresses stay in the log"


def _assert_sse_refused(response: httpx.Response, *, de: str, en: str) -> None:
    """An SSE answer that ends in an error event and never carries answer text or sources."""
    if response.status_code != 200:
        _assert_refused(response, de=de, en=en, code=response.json()["code"])
        return
    events = _events(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "error" and not {"token", "citations", "done"} & set(kinds), kinds
    error = events[-1][1]
    assert isinstance(error, dict) and de in error["error"] and en in error["error_en"], error
    assert "127.0.0.1" not in response.text, "internal addresses stay in the log"


# --- Chroma server ---------------------------------------------------------------------------------------------
def test_chroma_down_degrades_clearly_and_recovers_without_restart(  # type: ignore[no-untyped-def]
    chroma: ChromaProcess, docs: Path, tmp_path: Path, embedder
) -> None:
    writer = make_services(tmp_path / "writer", embedder, chroma_url=chroma.url)
    assert writer.pipeline().run([docs]).documents == 2
    # With a language model: it must not be asked to answer at all while there are no sources to give it.
    with FakeOpenAIServer(responder=lambda _: "Die Folgekosten betragen im Beispiel 120.000 Euro pro Jahr [1].") as llm:
        app_services = make_services(tmp_path / "app", embedder, chroma_url=chroma.url, rate_limit=0,
                                     llm_base_url=llm.base_url, llm_model="fake-model")
        with TestClient(create_app(app_services, with_ui=False), base_url=LOCAL) as client:
            r = client.post("/api/ask", json={"question": QUESTION})
            _assert_cited_answer(r)
            assert r.json()["mode"] == "llm" and r.json()["fallback"] is False
            assert client.get("/api/health").json()["status"] == "ready"
            asked = len(llm.chat_requests)

            chroma.stop()
            health = client.get("/api/health").json()
            assert health["status"] == "degraded" and "documents" not in health
            assert any(r.startswith("Wissensbasis nicht verfügbar") for r in health["reasons"]), health
            refusal = {"de": "Wissensbasis nicht verfügbar", "en": "Knowledge base unavailable"}
            _assert_refused(client.post("/api/ask", json={"question": QUESTION}), code="store_unavailable",
                            **refusal)
            _assert_sse_refused(client.post("/api/chat", json={"question": QUESTION}), **refusal)
            r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
            _assert_refused(r, code="store_unavailable", **refusal)
            assert len(llm.chat_requests) == asked, "the model was asked to answer without sources"

            chroma.start()  # same port, same data: the app reconnects by itself
            _wait_for_cited_answer(client.post)
            health = _wait_for_health(client.get, "ready")
            assert health["documents"] == 2 and health["reasons"] == []


def test_hung_chroma_server_gives_bounded_clear_errors(  # type: ignore[no-untyped-def]
    chroma: ChromaProcess, docs: Path, tmp_path: Path, embedder
) -> None:
    # Chroma's own HTTP client has no timeout: without the store's limit every request below would hang for as
    # long as the server does, holding its answer slot, and health checks would pile up behind them.
    make_services(tmp_path / "writer", embedder, chroma_url=chroma.url).pipeline().run([docs])
    services = make_services(tmp_path / "app", embedder, chroma_url=chroma.url, rate_limit=0)
    services.store.timeout_s = 2.0
    with LiveServer(create_app(services, with_ui=False)) as live, httpx.Client(base_url=live.url,
                                                                              timeout=120) as http:
        _assert_cited_answer(http.post("/api/ask", json={"question": QUESTION}))
        chroma.pause()
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(lambda _: http.post("/api/ask", json={"question": QUESTION}), range(6)))
            health = http.get("/api/health").json()
            elapsed = time.monotonic() - started
        finally:
            chroma.resume()
        for r in answers:
            _assert_refused(r, de="Wissensbasis nicht verfügbar", en="Knowledge base unavailable",
                            code="store_unavailable")
        assert health["status"] == "degraded" and "Wissensbasis nicht verfügbar" in health["reasons"][0]
        assert elapsed < 60, f"requests against a hung Chroma took {elapsed:.0f} s"
        _wait_for_cited_answer(http.post)


# --- embeddings endpoint ---------------------------------------------------------------------------------------
def _index_state(index: Path) -> tuple[dict[str, str], int, set[int]]:
    """Registry (doc id -> version), chunk count and embedding dimensions, read with Chroma directly."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(index / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    docs = client.get_collection("lotse_documents").get(include=["metadatas"])
    registry = {i: str(m.get("version")) for i, m in zip(docs["ids"], docs["metadatas"], strict=True)
                if not i.startswith("~")}
    chunks = client.get_collection("lotse_chunks").get(include=["embeddings"])
    return registry, len(chunks["ids"]), {len(e) for e in chunks["embeddings"]}


def test_embeddings_of_another_dimension_are_refused_and_never_mixed(  # type: ignore[no-untyped-def]
    tmp_path: Path, docs: Path, caplog
) -> None:
    # The fake's vectors are hashes, not meaning: the question repeats the passage's words, so the lexical side
    # alone makes it answerable.
    question = "Welche Folgekosten hat eine urbane Datenplattform pro Jahr?"
    more = tmp_path / "more"
    more.mkdir()
    (more / "c.md").write_text("# Neu\n\nDie Folgekosten eines Sensornetzes liegen bei 30.000 Euro im Jahr.\n",
                               encoding="utf-8")
    with FakeOpenAIServer(embedding_dim=16) as server:
        settings = Settings(index_dir=tmp_path / "idx", embeddings="openai", embeddings_base_url=server.base_url,
                            embeddings_model="emb-test", embeddings_timeout_s=10, rate_limit=0)
        services = build_services(settings)
        assert services.pipeline().run([docs]).documents == 2
        before = _index_state(settings.index_dir)
        assert before[2] == {16}
        with TestClient(create_app(services, with_ui=False), base_url=LOCAL) as client:
            _assert_cited_answer(client.post("/api/ask", json={"question": question}))
            _wait_for_health(client.get, "ready")

            server.embedding_dim = 32  # the endpoint now serves another model under the same name
            # The public reads a short text; the operator's log names the cause.
            changed = {"de": "Die Suche ist gerade nicht verfügbar", "en": "Search is unavailable"}
            _assert_refused(client.post("/api/ask", json={"question": question}), code="embedding_error", **changed)
            _assert_sse_refused(client.post("/api/chat", json={"question": question}), **changed)
            health = _wait_for_health(client.get, "degraded")
            assert any("Die Suche ist gerade nicht verfügbar" in r for r in health["reasons"]), health
            assert "32 statt 16 Dimensionen" in caplog.text
            with pytest.raises(EmbeddingError, match="32 statt 16 Dimensionen"):
                services.pipeline().run([more], prune=False)

            # A process started now learns the new dimension from the endpoint; the index refuses it.
            fresh = build_services(settings)
            assert fresh.embedder.dim == 32
            with pytest.raises(EmbeddingMismatchError, match="--reset"):
                fresh.pipeline().run([more], prune=False)
            with TestClient(create_app(fresh, with_ui=False), base_url=LOCAL) as other:
                mismatch = {"de": "Modelle werden nicht gemischt", "en": "Models are never mixed"}
                _assert_refused(other.post("/api/ask", json={"question": question}), code="embedding_mismatch",
                                **mismatch)
                health = other.get("/api/health").json()
                assert health["status"] == "degraded" and "lotse ingest corpus --reset" in health["reasons"][0]

            assert _index_state(settings.index_dir) == before, "nothing may be written with other vectors"

            server.embedding_dim = 16  # the old model is back: the running app answers again, no restart
            _assert_cited_answer(client.post("/api/ask", json={"question": question}))
            _wait_for_health(client.get, "ready")


# --- configuration at start-up ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "hint"),
    [
        ({"LOTSE_LLM_BASE_URL": "http://127.0.0.1:9/v1"}, "LOTSE_LLM_MODEL"),
        ({"LOTSE_LLM_BASE_URL": "localhost:11434/v1", "LOTSE_LLM_MODEL": "llama3.1:8b"}, "Beispiel: http://"),
        ({"LOTSE_CHROMA_URL": "chroma-intern:8000"}, "LOTSE_CHROMA_URL"),
        ({"LOTSE_EMBEDDINGS": "openai"}, "LOTSE_EMBEDDINGS_BASE_URL"),
        ({"LOTSE_LLM_DEADLINE_S": "eine Minute"}, "LOTSE_LLM_DEADLINE_S"),
        ({"LOTSE_EMBEDDINGS": "openai", "LOTSE_EMBEDDINGS_MODEL": "m",
          "LOTSE_EMBEDDINGS_BASE_URL": "http://127.0.0.1:{port}/v1"}, "nicht erreichbar"),
    ],
    ids=["llm-without-model", "llm-url-without-scheme", "chroma-url", "embeddings-incomplete", "not-a-number",
         "embeddings-unreachable"],
)
def test_unusable_configuration_stops_serve_with_a_fix_hint(tmp_path: Path, env: dict[str, str], hint: str) -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))}
    clean |= {k: v.format(port=free_port()) for k, v in env.items()} | {"PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "assistant", "serve", "--port", str(port)], cwd=tmp_path, env=clean,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "Fehler: " in r.stderr and hint in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert time.monotonic() - started < 120


def test_rejected_llm_key_is_reported_at_start_up_and_serve_falls_back(tmp_path: Path) -> None:
    """A wrong key shows when the app starts, with the setting to fix; the app still serves (extractive
    fallback), and its log holds no client addresses (no access log)."""
    index = tmp_path / "index"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(DOC_A, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))} | {
        "PYTHONPATH": str(ROOT), "LOTSE_INDEX_DIR": str(index)}
    subprocess.run([sys.executable, "-m", "assistant", "ingest", str(docs)], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    port = free_port()
    with FakeOpenAIServer(api_key="sk-richtig") as llm:
        env |= {"LOTSE_LLM_BASE_URL": llm.base_url, "LOTSE_LLM_MODEL": "fake-model", "LOTSE_LLM_API_KEY": "sk-falsch"}
        log = (tmp_path / "serve.log").open("w+")
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port)], env=env,
                                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            answer = httpx.post(f"http://127.0.0.1:{port}/api/ask", timeout=60,
                                json={"question": "Wie hoch sind die Folgekosten einer urbanen Datenplattform?"})
            assert answer.status_code == 200 and answer.json()["citations"], answer.text
            assert answer.json()["fallback"], "the rejected key means verbatim excerpts instead"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        log.seek(0)
        output = log.read()
    assert "Warnung:" in output and "LOTSE_LLM_API_KEY" in output, output[-3000:]
    assert "Traceback" not in output
    assert not re.search(r'\d+\.\d+\.\d+\.\d+:\d+ - "(GET|POST) ', output), "an access log line names the client"
