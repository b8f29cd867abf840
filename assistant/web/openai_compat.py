"""OpenAI-compatible `/v1/chat/completions` and `/v1/models`, so any OpenAI client can use the Lotse as a model.

Every choice carries a ``sources`` list (as private-gpt does) with the verified citations; the answer content
also ends with a short numbered source list, so clients that only show ``content`` still show where it comes
from. System messages from the client are ignored: nobody can replace the Lotse's rules.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from assistant.chat import AnswerResult, AnswerStream, collect
from assistant.citations import sources_text
from assistant.errors import InputError
from assistant.services import Services
from assistant.web.api import closing_stream
from assistant.web.errors import error_payload

MODEL_ID = "verstetigungslotse"


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None


class CompletionRequest(BaseModel):
    model: str = MODEL_ID
    messages: list[Message] = Field(min_length=1, max_length=100)
    stream: bool = False
    # Accepted for compatibility and ignored: sampling is the Lotse's decision.
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    user: str | None = None

    model_config = {"extra": "ignore"}


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")


def _split(req: CompletionRequest) -> tuple[str, list[dict[str, str]]]:
    turns = [{"role": m.role, "content": _text(m.content)} for m in req.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1]["role"] != "user":
        raise InputError(
            "Die letzte Nachricht muss eine Frage (role 'user') sein.",
            "The last message must be a question (role 'user').",
        )
    return turns[-1]["content"], turns[:-1]


def source_list(result: AnswerResult) -> str:
    """The sources under the answer text, one entry per document (the ``sources`` field stays flat)."""
    lines = sources_text(result.citations, result.language, quotes=False)
    return "\n\n" + "\n".join(lines) if lines else ""


def _sources(result: AnswerResult) -> list[dict[str, Any]]:
    return [c.to_contract() for c in result.citations]


def build_openai_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["openai"])

    @router.get("/v1/models", summary="Modelle (OpenAI-kompatibel)")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "lotse"}]}

    @router.post("/v1/chat/completions", summary="Chat Completions (OpenAI-kompatibel, mit Quellen)", response_model=None)
    def completions(req: CompletionRequest) -> dict[str, Any] | StreamingResponse:
        question, history = _split(req)
        events = services.chat.stream(question, history)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if req.stream:
            return StreamingResponse(
                closing_stream(_stream(events, completion_id, created), events), media_type="text/event-stream",
                headers={"Cache-Control": "no-store"},
            )
        result = collect(events)
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": MODEL_ID,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.answer + source_list(result)},
                    "finish_reason": "stop",
                    "sources": _sources(result),
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "lotse": {"mode": result.mode, "abstained": result.abstained, "notices": result.notices},
        }

    return router


def _chunk(completion_id: str, created: int, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish, **extra}
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
            "choices": [choice]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _stream(events: AnswerStream, completion_id: str, created: int) -> Iterator[str]:
    """Stream the answer. Tokens are held back until the answer is checked, because an OpenAI client cannot
    take back streamed text the way the Lotse's own UIs do on a "reset" event; so the checked answer goes
    out in pieces once it is final."""
    yield _chunk(completion_id, created, {"role": "assistant", "content": ""})
    try:
        result = collect(events)
    except Exception as e:  # noqa: BLE001 - any failure ends the stream with an error and [DONE], never mid-air
        yield f"data: {json.dumps({'error': error_payload(e)}, ensure_ascii=False)}\n\n"
    else:
        text = result.answer + source_list(result)
        for i in range(0, len(text), 64):
            yield _chunk(completion_id, created, {"content": text[i : i + 64]})
        yield _chunk(completion_id, created, {}, "stop", sources=_sources(result))
    yield "data: [DONE]\n\n"
