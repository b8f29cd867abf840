"""OpenAICompatibleChat against a real OpenAI-compatible HTTP server (no SDK internals patched)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.errors import LLMError, LLMResponseError, LLMTimeoutError, LLMUnavailableError
from assistant.llm import ChatModel, OpenAICompatibleChat
from tests.support.fake_openai import FakeOpenAIServer, Reply

pytestmark = pytest.mark.server

MESSAGES = [
    {"role": "system", "content": "Du bist der Verstetigungslotse."},
    {"role": "user", "content": "Wie finanzieren wir die Datenplattform dauerhaft?"},
]
KEY = "sk-test-123"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=KEY) as srv:
        yield srv
    assert not srv.alive_threads()


@pytest.fixture
def make_chat(server: FakeOpenAIServer) -> Callable[..., OpenAICompatibleChat]:
    def make(**overrides: Any) -> OpenAICompatibleChat:
        options: dict[str, Any] = {"first_token_timeout_s": 1.0, "deadline_s": 1.5, "connect_timeout_s": 1.0}
        options.update(overrides)
        base_url = options.pop("base_url", server.base_url)
        return OpenAICompatibleChat(
            base_url, options.pop("model", "fake-model"), options.pop("api_key", KEY), **options
        )

    return make


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def consume(stream: Iterator[str], into: list[str]) -> str:
    for piece in stream:
        into.append(piece)
    return "".join(into)


def assert_clear_message(err: LLMError, *needles: str) -> None:
    for text in (str(err), err.message_en):
        assert "Traceback" not in text and text.strip()
        for needle in needles:
            assert needle in text


def wait_until(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- happy paths and what goes over the wire ---------------------------------------------------------
def test_complete_returns_text_of_a_non_streaming_request(server, make_chat):
    server.enqueue(Reply(text="Über einen Betreiberverbund [1]."))
    assert make_chat().complete(MESSAGES) == "Über einen Betreiberverbund [1]."
    assert not server.chat_requests[-1].json.get("stream")


def test_stream_yields_the_deltas_in_order(server, make_chat):
    server.enqueue(Reply(chunks=["Über ", "einen ", "Betreiber", "verbund."]))
    assert list(make_chat().stream(MESSAGES)) == ["Über ", "einen ", "Betreiber", "verbund."]


def test_request_carries_model_messages_parameters_and_key(server, make_chat):
    chat = make_chat(temperature=0.3, max_tokens=123, extra_headers={"X-Gateway": "lotse"})
    "".join(chat.stream(MESSAGES))
    request = server.chat_requests[-1]
    assert request.path == "/v1/chat/completions"
    assert request.json["model"] == "fake-model"
    assert request.json["messages"] == MESSAGES
    assert request.json["stream"] is True
    assert request.json["temperature"] == 0.3
    assert request.json["max_tokens"] == 123
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-gateway"] == "lotse"


def test_no_key_never_falls_back_to_the_environment(make_chat, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    with FakeOpenAIServer() as open_server:
        chat = make_chat(base_url=open_server.base_url, api_key=None)
        assert chat.complete(MESSAGES).startswith("Echo: ")
        assert "sk-from-env" not in open_server.chat_requests[-1].headers.get("authorization", "")


def test_is_a_chat_model(make_chat):
    model: ChatModel = make_chat()
    assert callable(model.stream) and callable(model.complete)


# -- deadlines -----------------------------------------------------------------------------------------
def test_slow_first_token_times_out_after_first_token_timeout(server, make_chat):
    # The role chunk arrives at once; only text counts as the first token.
    server.enqueue(Reply(text="viel zu spät", delay_before_s=10))
    chat = make_chat(first_token_timeout_s=0.5, deadline_s=5)
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError) as info:
        list(chat.stream(MESSAGES))
    assert 0.4 < time.monotonic() - started < 1.5
    assert_clear_message(info.value, "LOTSE_LLM_FIRST_TOKEN_TIMEOUT_S")
    assert "0,5 s" in str(info.value) and "0.5 s" in info.value.message_en


def test_drip_feed_stops_at_the_overall_deadline(server, make_chat):
    server.enqueue(Reply(chunks=["Wort "] * 500, delay_between_s=0.1))
    partial: list[str] = []
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError) as info:
        consume(make_chat(deadline_s=1.5).stream(MESSAGES), partial)
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 4
    assert 3 < len(partial) < 30  # text arrived, and the caller can still discard it
    assert_clear_message(info.value, "LOTSE_LLM_DEADLINE_S")
    # The worker closes the response at its next read: the server sees the client go away.
    assert wait_until(lambda: server.open_connections == 0)


def test_per_call_deadline_overrides_the_default(server, make_chat):
    server.enqueue(Reply(chunks=["x"] * 500, delay_between_s=0.1))
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        list(make_chat(deadline_s=30).stream(MESSAGES, deadline_s=0.8))
    assert time.monotonic() - started < 2.5


def test_complete_drip_fed_body_stops_at_the_deadline(server, make_chat):
    server.enqueue(Reply(chunks=["x"] * 100, delay_between_s=0.1))
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        make_chat(deadline_s=1.0).complete(MESSAGES)
    assert time.monotonic() - started < 3


def test_complete_slow_response_times_out(server, make_chat):
    server.enqueue(Reply(text="spät", delay_before_s=10))
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        make_chat(deadline_s=0.8).complete(MESSAGES)
    assert time.monotonic() - started < 2.5


def test_abandoned_stream_frees_the_connection(server, make_chat):
    server.enqueue(Reply(chunks=["x"] * 500, delay_between_s=0.05))
    stream = make_chat(deadline_s=30).stream(MESSAGES)
    assert next(stream) == "x"
    stream.close()  # e.g. the browser went away
    assert wait_until(lambda: server.open_connections == 0)


def test_no_retry_is_sent_after_the_caller_gave_up(server, make_chat):
    server.enqueue(Reply(status=503, headers={"Retry-After": "1"}), Reply(text="für niemanden"))
    with pytest.raises(LLMTimeoutError):
        list(make_chat(first_token_timeout_s=0.4, max_retries=1).stream(MESSAGES))
    time.sleep(1.3)  # the SDK's retry is due after 1 s; it must not reach the server
    assert len(server.chat_requests) == 1


# -- broken answers -----------------------------------------------------------------------------------
def test_dropped_connection_raises_after_the_partial_text(server, make_chat):
    server.enqueue(Reply(chunks=["eins ", "zwei ", "drei ", "vier"], drop_after_chunks=2))
    partial: list[str] = []
    with pytest.raises(LLMResponseError) as info:
        consume(make_chat().stream(MESSAGES), partial)
    assert partial == ["eins ", "zwei "]
    assert_clear_message(info.value)


def test_malformed_event_raises_response_error(server, make_chat):
    server.enqueue(Reply(chunks=["eins ", "zwei"], malformed=True))
    partial: list[str] = []
    with pytest.raises(LLMResponseError) as info:
        consume(make_chat().stream(MESSAGES), partial)
    assert partial == ["eins "]
    assert_clear_message(info.value)


def test_malformed_json_body_raises_response_error(server, make_chat):
    server.enqueue(Reply(text="x", malformed=True))
    with pytest.raises(LLMResponseError):
        make_chat().complete(MESSAGES)


@pytest.mark.parametrize("streaming", [True, False])
def test_empty_choices_raise_response_error(server, make_chat, streaming):
    server.enqueue(Reply(text="a b", empty_choices=True))
    chat = make_chat()
    with pytest.raises(LLMResponseError) as info:
        list(chat.stream(MESSAGES)) if streaming else chat.complete(MESSAGES)
    assert "choices" in str(info.value)


def test_stream_ending_without_final_chunk_or_done_is_truncated(server, make_chat):
    server.enqueue(Reply(text="Die Antwort bricht", truncate=True))
    partial: list[str] = []
    with pytest.raises(LLMResponseError):
        consume(make_chat().stream(MESSAGES), partial)
    assert "".join(partial) == "Die Antwort bricht"


def test_finished_stream_without_done_sentinel_is_accepted(server, make_chat):
    server.enqueue(Reply(text="Vollständig.", omit_done=True))
    assert "".join(make_chat().stream(MESSAGES)) == "Vollständig."


def test_content_filter_and_empty_answer_are_response_errors(server, make_chat):
    server.enqueue(Reply(text="x", finish_reason="content_filter"), Reply(chunks=[]))
    with pytest.raises(LLMResponseError, match="Inhaltsfilter"):
        list(make_chat().stream(MESSAGES))
    with pytest.raises(LLMResponseError, match="leere Antwort"):
        list(make_chat().stream(MESSAGES))


# -- unavailable endpoint and wrong configuration ---------------------------------------------------
def test_one_500_is_retried_then_succeeds(server, make_chat):
    server.enqueue(Reply(status=500), Reply(text="Zweiter Versuch"))
    assert "".join(make_chat(max_retries=1).stream(MESSAGES)) == "Zweiter Versuch"
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize("status", [500, 503, 429])
def test_persistent_server_errors_are_unavailable_after_bounded_retries(server, make_chat, status):
    server.enqueue(*[Reply(status=status)] * 5)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as info:
        make_chat(max_retries=1, deadline_s=10).complete(MESSAGES)
    assert time.monotonic() - started < 3
    assert len(server.chat_requests) == 2
    assert_clear_message(info.value, str(status))


def test_connection_refused_is_unavailable_within_seconds(make_chat):
    chat = make_chat(base_url=closed_port_url(), max_retries=1, deadline_s=30, first_token_timeout_s=20)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as info:
        list(chat.stream(MESSAGES))
    assert time.monotonic() - started < 4
    assert_clear_message(info.value, "LOTSE_LLM_BASE_URL")


def test_wrong_key_says_how_to_fix_it(server, make_chat):
    with pytest.raises(LLMUnavailableError) as info:
        list(make_chat(api_key="sk-wrong").stream(MESSAGES))
    assert_clear_message(info.value, "LOTSE_LLM_API_KEY", "401")
    assert len(server.chat_requests) == 1  # not retried


def test_unknown_model_names_the_model_setting(server, make_chat):
    server.enforce_models = True
    with pytest.raises(LLMUnavailableError) as info:
        make_chat(model="llama9:999b").complete(MESSAGES)
    assert_clear_message(info.value, "LOTSE_LLM_MODEL", "llama9:999b")


def test_bad_request_is_a_response_error(server, make_chat):
    server.enqueue(Reply(status=400))
    with pytest.raises(LLMResponseError, match="400"):
        make_chat().complete(MESSAGES)


# -- ping ------------------------------------------------------------------------------------------------
def test_ping_lists_models(server, make_chat):
    assert make_chat().ping() == ["fake-model"]
    assert server.requests[-1].method == "GET" and server.requests[-1].path == "/v1/models"


def test_ping_fails_fast_and_clearly(server, make_chat):
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="LOTSE_LLM_BASE_URL"):
        make_chat(base_url=closed_port_url()).ping(timeout_s=2)
    with pytest.raises(LLMUnavailableError, match="LOTSE_LLM_API_KEY"):
        make_chat(api_key="sk-wrong").ping()
    with pytest.raises(LLMUnavailableError, match="LOTSE_LLM_MODEL"):
        make_chat(model="nicht-da").ping(require_model=True)
    assert make_chat(model="nicht-da").ping() == ["fake-model"]  # only a warning without require_model
    assert time.monotonic() - started < 3
