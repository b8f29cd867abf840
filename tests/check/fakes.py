"""A scriptable chat model for the check's LLM summaries: replies are queued, requests are recorded."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from assistant.errors import LLMError


class FakeChatModel:
    """``ChatModel`` fake. ``enqueue`` a reply text or an ``LLMError``; ``default`` answers when the queue is
    empty. ``history`` holds the messages of every call (thread-safe: summaries run in parallel)."""

    def __init__(self, default: str | LLMError | None = None) -> None:
        self.default = default
        self.history: list[list[dict[str, Any]]] = []
        self._queue: deque[str | LLMError] = deque()
        self._lock = threading.Lock()

    def enqueue(self, *replies: str | LLMError) -> FakeChatModel:
        self._queue.extend(replies)
        return self

    def complete(self, messages: Sequence[Mapping[str, Any]], *, deadline_s: float | None = None) -> str:
        with self._lock:
            self.history.append([dict(m) for m in messages])
            reply = self._queue.popleft() if self._queue else self.default
        if isinstance(reply, LLMError):
            raise reply
        if reply is None:
            raise LLMError("Kein Antworttext vorbereitet.")
        return reply

    def stream(self, messages: Sequence[Mapping[str, Any]], *, deadline_s: float | None = None) -> Iterator[str]:
        yield self.complete(messages, deadline_s=deadline_s)
