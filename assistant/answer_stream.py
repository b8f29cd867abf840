"""An answer and the events that deliver it: what every channel (CLI, web UI, widget, HTTP API) receives.

`ChatService.stream` (assistant.chat) yields `ChatEvent`s inside an `AnswerStream`, which holds the answer slot
until the stream ends or is closed; `collect()` drains one into its `AnswerResult` for the channels that do not
show tokens as they come. Events: status, token, reset (withdraw the tokens so far), notice, citations, done
(its data is the `AnswerResult`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.types import AnswerMode, Citation

log = logging.getLogger(__name__)


EventType = Literal["status", "token", "reset", "notice", "citations", "done"]


@dataclass(frozen=True)
class ChatEvent:
    type: EventType
    data: Any


@dataclass
class AnswerResult:
    answer: str
    mode: AnswerMode
    abstained: bool
    citations: list[Citation]
    question: str
    search_query: str = ""
    notices: list[str] = field(default_factory=list)
    fallback: bool = False
    removed_citations: list[int] = field(default_factory=list)
    #: Language-model sentences dropped because a number, date or name in them stands in no passage they cite.
    unsupported_sentences: int = 0
    confidence: float = 0.0
    language: str = "de"
    seconds: float = 0.0

    def to_contract(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "mode": self.mode,
            "abstained": self.abstained,
            "citations": [c.to_contract() for c in self.citations],
            "notices": self.notices,
            "fallback": self.fallback,
            "removed_citations": self.removed_citations,
            "unsupported_sentences": self.unsupported_sentences,
            "confidence": self.confidence,
            "search_query": self.search_query,
        }


class AnswerStream:
    """Iterator of chat events that releases its answer slot exactly once when done or closed."""

    def __init__(self, events: Iterator[ChatEvent], release: Any) -> None:
        self._events = events
        self._release = release
        self._closed = False

    def __iter__(self) -> AnswerStream:
        return self

    def __next__(self) -> ChatEvent:
        if self._closed:
            raise StopIteration
        try:
            return next(self._events)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the slot now. Safe to call from another thread while a step is still running there
        (a web server closes the stream when its client disconnects): that step ends, nothing follows."""
        if not self._closed:
            self._closed = True
            try:
                self._events.close()  # type: ignore[attr-defined]
            except ValueError:  # "generator already executing" in a worker thread; it stops after this step
                log.debug("answer stream closed while a step was running")
            finally:
                self._release()


def collect(events: Iterable[ChatEvent]) -> AnswerResult:
    """Drain a chat event stream into its answer. Every channel that does not show tokens as they come
    (``answer()``, the JSON API, the OpenAI endpoint) goes through here; the stream is closed in any case, so its
    answer slot is released also when a step raises."""
    result: AnswerResult | None = None
    try:
        for event in events:
            if event.type == "done":
                result = event.data
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    if result is None:  # a stream always ends with "done" unless it raised
        raise RuntimeError("chat event stream ended without an answer")
    return result
