"""The optional reranker client against a real local HTTP server speaking each common ``/rerank`` shape."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.retrieval.glossary import Glossary
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.rerank import HTTPReranker, parse_scores
from assistant.services import DEFAULT_GLOSSARY, build_reranker
from assistant.types import Chunk, ScoredChunk


@dataclass
class Reply:
    """What the fake answers next: a shape that scores by a keyword, or a fault."""

    shape: str = "cohere"  # cohere | infinity | tei
    status: int = 200
    delay_s: float = 0.0
    body: bytes | None = None  # raw body overrides the shape
    top_n: int | None = None  # answer only the best n


class FakeReranker:
    """Scores each text by how often it contains the word ``Treffer``; replies are queued, requests kept."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(
                    {"path": self.path, "json": body, "auth": self.headers.get("Authorization")}
                )
                reply = fake.replies.popleft() if fake.replies else Reply()
                time.sleep(reply.delay_s)
                texts = body.get("documents") or body.get("texts") or []
                ranked = sorted(range(len(texts)), key=lambda i: -texts[i].count("Treffer"))[: reply.top_n]
                if reply.body is not None:
                    data = reply.body
                elif reply.shape == "tei":
                    data = json.dumps(
                        [{"index": i, "score": float(texts[i].count("Treffer"))} for i in ranked]
                    ).encode()
                else:
                    key = "data" if reply.shape == "infinity" else "results"
                    items = [{"index": i, "relevance_score": texts[i].count("Treffer") / 10} for i in ranked]
                    data = json.dumps({key: items, "model": body.get("model", "")}).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rerank"
        # shutdown() waits for serve_forever's next poll, by default 0.5 s: half a second per test at teardown.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeReranker]:
    server = FakeReranker()
    yield server
    server.close()


TEXTS = ["nichts", "ein Treffer", "Treffer Treffer Treffer", "zwei Treffer, Treffer"]


@pytest.mark.parametrize("shape", ["cohere", "infinity"])
def test_cohere_request_shape_and_both_response_shapes(fake: FakeReranker, shape: str) -> None:
    fake.replies.append(Reply(shape=shape))
    client = HTTPReranker(fake.url, model="bge-reranker-v2-m3", api_key="geheim", timeout_s=5)
    scores = client.rerank("Frage", TEXTS)
    assert scores == pytest.approx([0.0, 0.1, 0.3, 0.2])
    sent = fake.requests[-1]
    assert sent["json"] == {"query": "Frage", "documents": TEXTS, "top_n": 4, "model": "bge-reranker-v2-m3"}
    assert sent["auth"] == "Bearer geheim"


def test_tei_request_and_response_shape(fake: FakeReranker) -> None:
    fake.replies.append(Reply(shape="tei"))
    client = HTTPReranker(fake.url, timeout_s=5, api="tei")
    assert client.rerank("Frage", TEXTS) == [0.0, 1.0, 3.0, 2.0]
    assert fake.requests[-1]["json"]["texts"] == TEXTS
    assert "documents" not in fake.requests[-1]["json"]
    assert fake.requests[-1]["auth"] is None


def test_texts_left_out_by_the_server_sort_last(fake: FakeReranker) -> None:
    fake.replies.append(Reply(top_n=2))
    scores = HTTPReranker(fake.url, timeout_s=5).rerank("Frage", TEXTS)
    assert scores is not None
    assert scores[2] == pytest.approx(0.3) and scores[3] == pytest.approx(0.2)
    assert scores[0] == scores[1] == -math.inf


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, body=b'{"error": "boom"}'),
        Reply(status=422, body=b'{"detail": "wrong shape"}'),
        Reply(body=b"<html>gateway</html>"),
        Reply(body=b'{"results": [{"index": 7, "relevance_score": 0.5}]}'),
        Reply(body=b'{"results": [{"index": 0, "relevance_score": "hoch"}]}'),
        Reply(body=b'{"ranking": []}'),
    ],
    ids=["500", "422", "not-json", "index-out-of-range", "score-not-a-number", "unknown-shape"],
)
def test_any_failure_gives_none(fake: FakeReranker, reply: Reply) -> None:
    fake.replies.append(reply)
    assert HTTPReranker(fake.url, timeout_s=5).rerank("Frage", TEXTS) is None


def test_strict_deadline(fake: FakeReranker) -> None:
    fake.replies.append(Reply(delay_s=2.0))
    client = HTTPReranker(fake.url, timeout_s=0.3)
    started = time.perf_counter()
    assert client.rerank("Frage", TEXTS) is None
    assert time.perf_counter() - started < 1.0
    # The next call is unaffected by the hung one.
    assert client.rerank("Frage", TEXTS) == pytest.approx([0.0, 0.1, 0.3, 0.2])


def test_unreachable_server_gives_none() -> None:
    server = FakeReranker()
    url = server.url
    server.close()
    assert HTTPReranker(url, timeout_s=1).rerank("Frage", TEXTS) is None


def test_parse_scores_rejects_booleans() -> None:
    with pytest.raises(ValueError):
        parse_scores([{"index": True, "score": 1.0}], 2)


# -- in the hybrid retriever -------------------------------------------------------------------------------
def scored(texts: list[str]) -> list[ScoredChunk]:
    return [
        ScoredChunk(
            Chunk(f"c{i}", "doc", "v1", t, "doc.md", "Titel", None, "", i, 0, len(t)), 1.0 - i / 10, i + 1
        )
        for i, t in enumerate(texts)
    ]


def hybrid(reranker: HTTPReranker, top: int = 3) -> HybridRetriever:
    # Only the reranking step is exercised here; store and embedder are never touched.
    return HybridRetriever(None, None, Glossary.load(DEFAULT_GLOSSARY), reranker=reranker, rerank_top=top)  # type: ignore[arg-type]


def test_hybrid_reorders_only_the_top_candidates(fake: FakeReranker) -> None:
    fused = scored(["a", "b Treffer", "c Treffer Treffer", "d Treffer Treffer Treffer"])
    order, reranked = hybrid(HTTPReranker(fake.url, timeout_s=5), top=3)._rerank("Frage", fused)
    assert reranked
    assert [h.chunk.id for h in order] == ["c2", "c1", "c0", "c3"]  # c3 was not among the top 3
    assert len(fake.requests[-1]["json"]["documents"]) == 3
    assert fake.requests[-1]["json"]["documents"][0].startswith("Titel")  # title context goes with the text


def test_hybrid_keeps_its_ranking_when_the_reranker_fails(fake: FakeReranker) -> None:
    fake.replies.append(Reply(status=503, body=b"{}"))
    fused = scored(["a", "b Treffer", "c Treffer Treffer"])
    order, reranked = hybrid(HTTPReranker(fake.url, timeout_s=5))._rerank("Frage", fused)
    assert not reranked
    assert order == fused


# -- settings ----------------------------------------------------------------------------------------------
def test_settings_build_the_reranker_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_reranker(Settings()) is None
    monkeypatch.setenv("LOTSE_RERANK_URL", "http://127.0.0.1:7997/rerank")
    monkeypatch.setenv("LOTSE_RERANK_API", "tei")
    monkeypatch.setenv("LOTSE_RERANK_TIMEOUT_S", "0.5")
    reranker = build_reranker(Settings())
    assert isinstance(reranker, HTTPReranker)
    assert (reranker.api, reranker.timeout_s) == ("tei", 0.5)


def test_settings_refuse_a_reranker_url_without_scheme() -> None:
    with pytest.raises(ConfigError, match="LOTSE_RERANK_URL"):
        Settings(rerank_url="localhost:7997/rerank").validate_usable()
