"""The same failure reads the same on every channel: web UI, /api/ask, /api/chat, the OpenAI endpoint (plain and
streamed) and the CLI all show `assistant.errors.public_error`'s text.

No model is needed: the index is empty and built with the hash embedder; a failure is either real (a question
over the limit, every answer slot taken) or raised by the retriever in the middle of an answer.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant import commands
from assistant.cli import main
from assistant.config import Settings
from assistant.errors import INTERNAL_TEXT, InputError, LLMUnavailableError, RateLimitError, public_error
from assistant.services import Services, build_services
from assistant.web.app import create_app
from assistant.web.security import ClientLimits
from assistant.web.ui.chat_panel import ChatPanel
from tests.support.fake_embedder import HashEmbedder

QUESTION = "Wie wird ein Pilotprojekt verstetigt?"


class FailingRetriever:
    """Wraps the real retriever; ``retrieve`` raises ``error`` (a failure in the middle of an answer)."""

    def __init__(self, inner: Any, error: BaseException) -> None:
        self.inner, self.error = inner, error
        self.analyzer = inner.analyzer

    def retrieve(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


Setup = Callable[[Services], str]  # prepares the failure, returns the question that meets it


def too_long(services: Services) -> str:
    return ("Warum? " * services.settings.max_question_chars).strip()


def all_slots_taken(services: Services) -> str:
    services.chat.slot_wait_s = 0.01
    services.chat.stream(QUESTION)  # holds the only slot for the rest of the test (never read, never closed)
    return QUESTION


def raising(error: BaseException) -> Setup:
    def setup(services: Services) -> str:
        services.chat.retriever = FailingRetriever(services.retriever, error)  # type: ignore[assignment]
        return QUESTION

    return setup


FAILURES: dict[str, tuple[Setup, str]] = {
    "input_error": (too_long, "input_error"),
    "rate_limit": (all_slots_taken, "rate_limited"),
    "llm_unavailable": (
        raising(LLMUnavailableError("Verbindung zu http://10.0.0.5:8000/v1 abgelehnt", "refused by 10.0.0.5")),
        "llm_unavailable",
    ),
    "unexpected": (raising(RuntimeError("secret internal detail")), "internal"),
}


def new_services(index_dir: Path) -> Services:
    return build_services(Settings(index_dir=index_dir, rate_limit=0, max_concurrent_answers=1), HashEmbedder())


def expected(setup: Setup, index_dir: Path, lang: str) -> tuple[str, str]:
    """(text, code) `public_error` gives for the failure the setup provokes, met on the service itself."""
    services = new_services(index_dir)
    question = setup(services)
    try:
        services.chat.answer(question)
    except Exception as e:  # noqa: BLE001 - whatever it is, its public text is the reference
        public = public_error(e)
        return public.text(lang), public.code
    raise AssertionError("no failure provoked")


# -- one function per channel: the public text it shows ---------------------------------------------------------
def via_ui(services: Services, question: str, lang: str) -> str:
    panel = ChatPanel(services, ClientLimits.from_settings(services.settings))
    request = SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"))
    *_, last = panel.respond(question, [], [], [], lang, request)  # type: ignore[arg-type]
    return str(last[4])  # the notice area, as HTML


def _client(services: Services) -> TestClient:
    return TestClient(create_app(services, with_ui=False), base_url="http://127.0.0.1",
                      raise_server_exceptions=False)


def via_ask(services: Services, question: str, lang: str) -> str:
    r = _client(services).post("/api/ask", json={"question": question, "lang": lang})
    assert r.status_code >= 400
    return str(r.json()["error_en" if lang == "en" else "error"])


def via_chat(services: Services, question: str, lang: str) -> str:
    r = _client(services).post("/api/chat", json={"question": question, "lang": lang})
    if r.status_code >= 400:  # refused before the stream started
        return str(r.json()["error_en" if lang == "en" else "error"])
    blocks = [b for b in r.text.strip().split("\n\n") if b.startswith("event: error")]
    assert len(blocks) == 1, r.text
    return str(json.loads(blocks[0].split("data: ", 1)[1])["error_en" if lang == "en" else "error"])


def via_openai(services: Services, question: str, lang: str) -> str:
    r = _client(services).post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]})
    assert r.status_code >= 400
    return str(r.json()["error_en" if lang == "en" else "error"])


def via_openai_stream(services: Services, question: str, lang: str) -> str:
    r = _client(services).post(
        "/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": question}]}
    )
    if r.status_code >= 400:
        return str(r.json()["error_en" if lang == "en" else "error"])
    data = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]", r.text  # also after an error that is no Lotse error
    errors = [json.loads(d)["error"] for d in data[:-1] if "error" in json.loads(d)]
    assert len(errors) == 1, r.text
    return str(errors[0]["error_en" if lang == "en" else "error"])


def via_cli(services: Services, question: str, lang: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setattr(commands, "build_services", lambda settings: services)
    code = main(["ask", question, "--json", "--lang", lang, "--index", str(services.settings.index_dir)])
    assert code == 1
    return str(json.loads(capsys.readouterr().out)["error"])


CHANNELS: dict[str, Callable[..., str]] = {
    "ui": via_ui, "api_ask": via_ask, "api_chat": via_chat, "openai": via_openai,
    "openai_stream": via_openai_stream, "cli": via_cli,
}


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("channel", list(CHANNELS))
@pytest.mark.parametrize("failure", list(FAILURES))
def test_every_channel_shows_the_same_text(
    failure: str, channel: str, lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup, code = FAILURES[failure]
    text, met = expected(setup, tmp_path / "reference", lang)
    assert met == code
    services = new_services(tmp_path / "index")
    question = setup(services)
    extra = (monkeypatch, capsys) if channel == "cli" else ()
    shown = CHANNELS[channel](services, question, lang, *extra)
    assert (html.escape(text, quote=False) if channel == "ui" else text) in shown, (failure, channel, shown)
    assert "10.0.0.5" not in shown and "secret internal detail" not in shown  # details stay in the log


def test_the_texts_are_the_public_ones() -> None:
    """The reference itself: backend failures and bugs get their short public text, input errors their own."""
    assert public_error(RuntimeError("x")).text("de") == INTERNAL_TEXT[0]
    assert public_error(RuntimeError("x")).text("en") == INTERNAL_TEXT[1]
    assert public_error(LLMUnavailableError("intern", "internal")).text("en") == "The language model is unavailable."
    assert public_error(InputError("Zu lang.", "Too long.")).text("en") == "Too long."
    assert public_error(RateLimitError("Voll.", "Full.")).code == "rate_limited"
