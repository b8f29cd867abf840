"""HTTP API over the shared corpus index: JSON, SSE, health, feedback and the OpenAI-compatible endpoint."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.feedback import FeedbackStore
from assistant.web.app import create_app
from tests.conftest import LiveServer, make_services

pytestmark = pytest.mark.slow

QUESTION = "Welche Betreibermodelle kommen für den Dauerbetrieb einer digitalen Lösung in Frage?"


@pytest.fixture(scope="module")
def client(corpus_services) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(corpus_services, with_ui=False), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def live(corpus_services) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(create_app(corpus_services, with_ui=False)) as server:
        yield server


def _events(body: str) -> list[tuple[str, object]]:
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_ask_returns_the_contract(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "extractive" and body["abstained"] is False
    assert {"n", "source", "title", "page", "section", "quote", "url"} <= set(body["citations"][0])
    # Additive: the span that answers the question, as offsets into the first quote; LLM checks' count.
    start, end = body["citations"][0]["answer_span"]
    assert 0 <= start < end <= len(body["citations"][0]["quote"])
    assert body["unsupported_sentences"] == 0


def test_ask_takes_more_quotes_on_request(client: TestClient) -> None:
    short = client.post("/api/ask", json={"question": QUESTION}).json()
    longer = client.post("/api/ask", json={"question": QUESTION, "max_quotes": 6}).json()
    assert short["answer"].count("„") <= 3 < longer["answer"].count("„")
    assert client.post("/api/ask", json={"question": QUESTION, "max_quotes": 0}).status_code == 422


def test_chat_streams_sse_events_in_order(client: TestClient) -> None:
    r = client.post("/api/chat", json={"question": QUESTION})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    kinds = [e for e, _ in events]
    assert kinds[0] == "status" and kinds[-2:] == ["citations", "done"] and "token" in kinds
    done = events[-1][1]
    assert isinstance(done, dict) and done["citations"] == events[-2][1]


def test_bad_input_is_refused_before_streaming(client: TestClient) -> None:
    r = client.post("/api/chat", json={"question": "x" * 5000})
    assert r.status_code == 400 and "zu lang" in r.json()["error"]
    r = client.post("/api/chat", json={"question": "Hallo", "collection": "intern"})
    assert r.status_code == 422 and "unbekannte Felder" in r.json()["error"]


def test_chunked_oversized_body_is_refused(live: LiveServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    conn.putrequest("POST", "/api/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    piece = b'{"question": "' + b"a" * 60_000
    try:
        for _ in range(6):
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            piece = b"a" * 60_000
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert conn.getresponse().status == 413


def test_health_and_feedback(client: TestClient, corpus_services) -> None:  # type: ignore[no-untyped-def]
    health = client.get("/api/health").json()
    assert health["status"] == "ready" and health["documents"] == 17 and health["mode"] == "extractive"
    r = client.post("/api/feedback", json={"question": QUESTION, "answer": "…", "rating": "wrong_source",
                                           "comment": "Seite stimmt nicht", "sources": ["a.pdf"]})
    assert r.status_code == 201
    stored = FeedbackStore(corpus_services.store).recent(limit=5)
    assert any(item["comment"] == "Seite stimmt nicht" and item["rating"] == "wrong_source" for item in stored)
    assert all("ip" not in key.lower() for item in stored for key in item)


def test_openai_client_reads_answer_and_sources(live: LiveServer) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0, timeout=60)
    completion = client.chat.completions.create(
        model="verstetigungslotse", messages=[{"role": "user", "content": QUESTION}]
    )
    choice = completion.choices[0]
    assert "[1]" in choice.message.content and "Quellen:" in choice.message.content
    sources = choice.model_extra["sources"]
    assert sources and sources[0]["quote"]

    stream = client.chat.completions.create(
        model="verstetigungslotse", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    text, streamed_sources = "", None
    for chunk in stream:
        delta = chunk.choices[0].delta.content or ""
        text += delta
        extra = chunk.choices[0].model_extra or {}
        streamed_sources = extra.get("sources", streamed_sources)
    assert text == choice.message.content
    assert streamed_sources == sources


def _post_until_served(port: int, path: str, deadline: float) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """POST the question until the server takes it (200) or the deadline passes; 429 means "slot busy"."""
    while time.time() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", path, body=json.dumps({"question": QUESTION}),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        if response.status == 200:
            return conn, response
        assert response.status == 429, response.status
        conn.close()
        time.sleep(0.2)
    pytest.fail("the answer slot was not freed after clients disconnected")


def test_disconnecting_sse_client_frees_its_slot(corpus_index_dir, embedder) -> None:  # type: ignore[no-untyped-def]
    # One slot only: if a hung-up stream kept its slot, every later request would get 429 until the deadline.
    # The server may take a moment to notice a disconnect (a busy CI machine), so each step waits for the
    # slot instead of expecting it at once.
    services = make_services(corpus_index_dir, embedder, max_concurrent_answers=1, rate_limit=0)
    services.chat.slot_wait_s = 0.5
    with LiveServer(create_app(services, with_ui=False)) as server:
        deadline = time.time() + 30
        for _ in range(3):
            conn, response = _post_until_served(server.port, "/api/chat", deadline)
            response.read(20)  # the first bytes of the stream, then hang up
            conn.close()
        conn, response = _post_until_served(server.port, "/api/ask", deadline)
        assert json.loads(response.read())["citations"]
        conn.close()


def test_requests_beyond_the_queue_are_refused_at_once_and_health_still_answers(corpus_index_dir, embedder) -> None:  # type: ignore[no-untyped-def]
    """One answer computing, none may wait: the next request gets 429 "busy" in well under the slot wait,
    /api/health answers meanwhile, and once the answer is done the service takes requests again."""
    import threading

    services = make_services(corpus_index_dir, embedder, max_concurrent_answers=1, max_waiting_answers=0,
                             answer_wait_s=60, rate_limit=0)
    release, entered = threading.Event(), threading.Event()
    retrieve = services.chat.retriever.retrieve

    def held_retrieve(*args, **kwargs):  # type: ignore[no-untyped-def]
        entered.set()
        release.wait(60)
        return retrieve(*args, **kwargs)

    services.chat.retriever.retrieve = held_retrieve  # type: ignore[method-assign]
    body = json.dumps({"question": QUESTION})
    headers = {"Content-Type": "application/json"}
    with LiveServer(create_app(services, with_ui=False)) as server:
        first = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        first.request("POST", "/api/ask", body=body, headers=headers)
        assert entered.wait(30)
        try:
            for path in ("/api/ask", "/api/chat", "/v1/chat/completions"):
                payload = body if path != "/v1/chat/completions" else json.dumps(
                    {"messages": [{"role": "user", "content": QUESTION}]})
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                started = time.monotonic()
                conn.request("POST", path, body=payload, headers=headers)
                response = conn.getresponse()
                refusal = json.loads(response.read())
                assert response.status == 429 and refusal["code"] == "busy", (path, refusal)
                assert "ausgelastet" in refusal["error"] and response.getheader("Retry-After")
                assert time.monotonic() - started < 5, "refused without waiting for the 60 s slot"
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", "/api/health")
            assert conn.getresponse().status == 200
            conn.close()
        finally:
            release.set()
        assert first.getresponse().status == 200
        first.close()
        conn, response = _post_until_served(server.port, "/api/ask", time.time() + 30)
        assert json.loads(response.read())["citations"]
        conn.close()
