"""The fake speaks the real OpenAI protocol: proven with raw HTTP and with the official ``openai`` client."""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import openai
import pytest

from tests.support.fake_openai import FakeOpenAIServer, Reply, hash_embedding

pytestmark = pytest.mark.server


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv
    assert not srv.alive_threads()


@pytest.fixture
def client(server: FakeOpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=5)


def raw_post(server: FakeOpenAIServer, body: dict) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(server.base_url).port, timeout=5)
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    return conn.getresponse()


USER = [{"role": "user", "content": "Hallo"}]


def test_base_url_points_at_v1_on_loopback(server):
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"


def test_stream_is_chunked_sse_with_role_deltas_finish_and_done(server):
    server.enqueue(Reply(chunks=["a", "b", "c"], delay_between_s=0.15))
    response = raw_post(server, {"model": "m", "messages": USER, "stream": True})
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Type").startswith("text/event-stream")
    events, stamps = [], []
    for line in iter(response.readline, b""):
        if line.startswith(b"data: "):
            events.append(line[6:].strip().decode())
            stamps.append(time.monotonic())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:4]] == ["a", "b", "c"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert stamps[3] - stamps[1] > 0.25  # real delays between deltas, not one buffered body


def test_official_client_non_streaming(server, client):
    server.enqueue(Reply(text="Guten Tag"))
    completion = client.chat.completions.create(model="fake-model", messages=USER)
    assert completion.object == "chat.completion" and completion.id and completion.created
    assert completion.choices[0].message.content == "Guten Tag"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 2


def test_official_client_streaming_with_usage(server, client):
    server.enqueue(Reply(text="Eins zwei drei"))
    stream = client.chat.completions.create(
        model="fake-model", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Eins zwei drei"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_official_client_models_and_embeddings(server, client):
    assert [m.id for m in client.models.list()] == ["fake-model"]
    server.embedding_dim = 12
    result = client.embeddings.create(model="e", input=["Haushalt", "Haushalt", "Betrieb"])
    vectors = [d.embedding for d in result.data]
    assert all(len(v) == 12 for v in vectors)
    # The SDK asks for base64 (float32) by default, so compare with float32 precision.
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-6) for v in vectors)
    assert vectors[0] == vectors[1] != vectors[2]
    assert vectors[0] == pytest.approx(hash_embedding("Haushalt", 12), abs=1e-6)
    assert server.requests[-1].json["encoding_format"] == "base64"
    assert len(client.embeddings.create(model="e", input="x", dimensions=5).data[0].embedding) == 5


def test_history_records_path_headers_and_json(server, client):
    client.chat.completions.create(model="fake-model", messages=USER, temperature=0.2)
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.json["temperature"] == 0.2 and request.json["messages"] == USER


def test_queue_first_then_responder(server, client):
    server.enqueue(Reply(text="erste"), Reply(text="zweite"))
    server.responder = lambda body: f"{len(body['messages'])} Nachricht(en)"
    answers = [
        client.chat.completions.create(model="m", messages=USER).choices[0].message.content for _ in range(3)
    ]
    assert answers == ["erste", "zweite", "1 Nachricht(en)"]


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, openai.InternalServerError), (503, openai.InternalServerError), (429, openai.RateLimitError)],
)
def test_error_statuses_carry_an_openai_error_body(server, client, status, error):
    server.enqueue(
        Reply(status=status, error_body={"error": {"message": "kaputt", "type": "x", "code": None}})
    )
    with pytest.raises(error, match="kaputt") as info:
        client.chat.completions.create(model="m", messages=USER)
    assert info.value.status_code == status


def test_api_key_and_model_checks(client):
    with FakeOpenAIServer(api_key="richtig", enforce_models=True) as strict:
        wrong = openai.OpenAI(base_url=strict.base_url, api_key="falsch", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
        right = openai.OpenAI(base_url=strict.base_url, api_key="richtig", max_retries=0)
        with pytest.raises(openai.NotFoundError, match="does not exist"):
            right.chat.completions.create(model="anderes", messages=USER)


def test_faults_reach_the_official_client(server, client):
    def stream_text() -> str:
        out = client.chat.completions.create(model="m", messages=USER, stream=True)
        return "".join(c.choices[0].delta.content or "" for c in out if c.choices)

    server.enqueue(Reply(text="a b c", drop_after_chunks=1))
    with pytest.raises(openai.APIConnectionError):
        stream_text()
    server.enqueue(Reply(text="a b", malformed=True))
    with pytest.raises(json.JSONDecodeError):
        stream_text()
    server.enqueue(Reply(text="a b", empty_choices=True))
    assert stream_text() == ""
    server.enqueue(Reply(text="a b", truncate=True))
    assert stream_text() == "a b"  # the SDK alone does not notice; the adapter does


def test_stream_without_done_ends_without_final_chunk(server):
    server.enqueue(Reply(text="a b", truncate=True))
    body = raw_post(server, {"model": "m", "messages": USER, "stream": True}).read().decode()
    assert "[DONE]" not in body and '"finish_reason": "stop"' not in body


def test_close_is_quick_during_a_drip_feed():
    server = FakeOpenAIServer().start()
    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=30)
    server.enqueue(Reply(chunks=["x"] * 10_000, delay_between_s=1.0))
    outcome: list[object] = []

    def consume() -> None:
        try:
            outcome.append(
                sum(1 for _ in client.chat.completions.create(model="m", messages=USER, stream=True))
            )
        except openai.APIError as e:
            outcome.append(e)

    reader = threading.Thread(target=consume)
    reader.start()
    assert _wait(lambda: server.open_connections == 1)
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 1.0
    assert not server.alive_threads()
    reader.join(2)
    assert not reader.is_alive() and isinstance(outcome[0], openai.APIConnectionError)


def _wait(condition, timeout_s: float = 3.0) -> bool:
    end = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < end:
        time.sleep(0.02)
    return condition()
