"""The chat service: one question in, a cited answer out, as a stream of events.

Used by the CLI, the web UI, the widget and the HTTP API; it imports no web framework.

Flow: validate input → make the question standalone (LLM rewrite or, without an LLM, the previous question's
topic) → hybrid retrieval → abstain when the best passages do not match well enough → answer with the LLM
(streamed, citations checked afterwards) or extractively (verbatim sentences). If the LLM fails at any point the
user gets a notice and the extractive answer.

Around it: `assistant.answer_stream` (the answer, its events, the stream that holds the answer slot),
`assistant.followup` (follow-up detection and the search terms), `assistant.llm_reply` (the review of a model's
reply before anyone sees it).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence

from assistant.answer_stream import AnswerResult, AnswerStream, ChatEvent, EventType, collect
from assistant.citations import citations_for, make_citation
from assistant.config import Settings
from assistant.errors import InputError, LLMError, RateLimitError
from assistant.extractive import MAX_SENTENCES, MAX_SENTENCES_LIMIT, compose, select_sentences
from assistant.followup import looks_like_followup, search_terms
from assistant.llm import ChatModel
from assistant.llm_reply import WITHHELD_NOTICE, review_reply
from assistant.prompts import CANARY, answer_messages
from assistant.retrieval.base import RetrievalResult, Retriever
from assistant.retrieval.filters import Filters
from assistant.retrieval.hybrid import dense_confidence
from assistant.text import guess_language, looks_like_injection
from assistant.types import ScoredChunk

# The answer's types live in assistant.answer_stream; importers of assistant.chat keep finding them here.
__all__ = [
    "ABSTAIN_BELOW",
    "BUSY",
    "AnswerResult",
    "AnswerStream",
    "ChatEvent",
    "ChatService",
    "EventType",
    "collect",
    "looks_like_followup",
]

log = logging.getLogger(__name__)

#: Abstain below this retrieval confidence; chosen with the dense floor and ceiling on the sample set and the real
#: development split (see `assistant.retrieval.hybrid.DENSE_FLOOR` for the grid and the figures).
ABSTAIN_BELOW = 0.34

_PLACE = re.compile(
    r"\b(?:Stadt|Gemeinde|Landkreis|Kreis|City|Region|in|aus|nach|von)\s+([A-ZÄÖÜ][a-zäöüß]+(?:[- ][A-ZÄÖÜ][a-zäöüß]+)?)"
)


ABSTAIN_TEXT = {
    "de": "Dazu geben die Dokumente der Wissensbasis keine Auskunft. Ich beantworte nur Fragen, die sich mit "
    "Quellen belegen lassen.",
    "en": "The documents in the knowledge base do not answer this. I only answer questions I can back with sources.",
}
SUGGEST_LEAD = {"de": "Themen, zu denen es Quellen gibt:", "en": "Topics the sources do cover:"}
FALLBACK_NOTICE = {
    "de": "{reason} Stattdessen: wörtliche Auszüge aus den Quellen.",
    "en": "{reason} Instead: verbatim excerpts from the sources.",
}
BUSY = (
    "Der Lotse ist gerade ausgelastet. Bitte versuchen Sie es in einigen Sekunden erneut.",
    "The Lotse is busy right now. Please try again in a few seconds.",
)


def _score(retrieval: RetrievalResult) -> float:
    """Whether the passages answer the question: a German search uses the full confidence; for a search in
    another language only dense similarity says anything (its words are unknown to the German lexical index).
    The language is that of what was searched (a translated question is a German search), not of the UI."""
    if guess_language(retrieval.query) == "de":
        return retrieval.confidence
    return dense_confidence(retrieval.dense_best)


class ChatService:
    """Answers questions from the indexed documents.

    Args:
        retriever: Any `Retriever` over the index (the hybrid one in production).
        model: An OpenAI-compatible chat model, or None for the extractive mode.
        settings: Limits and answer settings.
    """

    def __init__(self, retriever: Retriever, model: ChatModel | None, settings: Settings) -> None:
        self.retriever = retriever
        self.model = model
        self.settings = settings
        self._slots = threading.BoundedSemaphore(settings.max_concurrent_answers)
        self.slot_wait_s = settings.answer_wait_s
        #: Called with (question, language) after an abstention: the editors' question log (assistant.questions).
        self.on_abstain: Callable[[str, str], None] | None = None

    def slots_free(self) -> int:
        """Answer slots free right now (the health check reports saturation from it)."""
        return self._slots._value  # type: ignore[attr-defined]  # threading.Semaphore keeps its count here

    # -- input -----------------------------------------------------------------------------------------
    def validate(self, question: str, history: Sequence[dict[str, str]] | None) -> list[dict[str, str]]:
        s = self.settings
        if not isinstance(question, str) or not question.strip():
            raise InputError("Bitte eine Frage eingeben.", "Please enter a question.")
        if len(question) > s.max_question_chars:
            raise InputError(
                f"Die Frage ist zu lang ({len(question)} Zeichen, erlaubt sind {s.max_question_chars}). "
                "Bitte kürzer fassen.",
                f"The question is too long ({len(question)} characters, {s.max_question_chars} allowed).",
            )
        turns: list[dict[str, str]] = []
        for turn in history or []:
            if (
                not isinstance(turn, dict)
                or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)
            ):
                raise InputError(
                    "Verlauf ungültig: erwartet werden Einträge mit role 'user'/'assistant' und content.",
                    "Invalid history: entries need role 'user'/'assistant' and content.",
                )
            turns.append({"role": turn["role"], "content": turn["content"][: 4 * s.max_question_chars]})
        if len(turns) > s.max_history_turns:
            raise InputError(
                f"Zu langer Verlauf ({len(turns)} Einträge, erlaubt {s.max_history_turns}). Neues Gespräch beginnen.",
                f"History too long ({len(turns)} entries, {s.max_history_turns} allowed). Start a new conversation.",
            )
        return turns

    # -- public ----------------------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        history: Sequence[dict[str, str]] | None = None,
        filters: Filters | None = None,
        *,
        language: str | None = None,
        max_quotes: int | None = None,
    ) -> AnswerResult:
        """The whole answer at once; ``language`` as for `stream` (None: the question's language)."""
        return collect(self.stream(question, history, filters, language=language, max_quotes=max_quotes))

    def stream(
        self,
        question: str,
        history: Sequence[dict[str, str]] | None = None,
        filters: Filters | None = None,
        *,
        language: str | None = None,
        max_quotes: int | None = None,
    ) -> AnswerStream:
        """Validate and take an answer slot now (errors raise before any event), then stream events.

        ``max_quotes`` asks an extractive answer for more (or fewer) quotes than the default
        (the answer sentence and two supporting ones). The slot is released when the stream is exhausted or
        closed, e.g. by a client that disconnects.
        """
        turns = self.validate(question, history)
        quotes = MAX_SENTENCES if max_quotes is None else max_quotes
        if not isinstance(quotes, int) or not 1 <= quotes <= MAX_SENTENCES_LIMIT:
            raise InputError(
                f"Anzahl der Zitate muss zwischen 1 und {MAX_SENTENCES_LIMIT} liegen.",
                f"The number of quotes must be between 1 and {MAX_SENTENCES_LIMIT}.",
            )
        if not self._slots.acquire(timeout=self.slot_wait_s):
            raise RateLimitError(*BUSY)
        return AnswerStream(
            self._stream(question.strip(), turns, filters or Filters(), language, quotes), self._slots.release
        )

    # -- internals -------------------------------------------------------------------------------------
    def _stream(
        self,
        question: str,
        history: list[dict[str, str]],
        filters: Filters,
        language: str | None,
        quotes: int,
    ) -> Iterator[ChatEvent]:
        started = time.perf_counter()
        lang = language or guess_language(question)
        query, context = self._search_terms(question, history)
        yield ChatEvent("status", {"stage": "retrieving", "search_query": f"{context} {query}".strip()})
        retrieval = self._retrieve(query, context, filters)
        search_query = retrieval.query
        score = _score(retrieval)
        if (
            not retrieval.hits
            or score < ABSTAIN_BELOW
            or looks_like_injection(question)
            or self._unknown_place(question, retrieval)
        ):
            result = self._abstain(question, search_query, retrieval, lang)
        elif self.model is not None:
            result = yield from self._llm_answer(question, search_query, history, retrieval, lang, quotes)
        else:
            result = self._extractive(question, search_query, retrieval, lang, quotes)
        result.seconds = time.perf_counter() - started
        if result.abstained and self.on_abstain is not None:
            self.on_abstain(question, lang)
        if not result.fallback and result.mode == "extractive" or result.abstained:
            yield ChatEvent("token", result.answer)
        yield ChatEvent("citations", [c.to_contract() for c in result.citations])
        yield ChatEvent("done", result)

    def _unknown_place(self, question: str, retrieval: RetrievalResult) -> str | None:
        """A named place ("der Stadt Bamberg", "in Ulm") that no indexed document mentions: the documents
        cannot answer questions about it, however well the rest of the question matches."""
        for match in _PLACE.finditer(question):
            name = match.group(1)
            if not retrieval.knows(self.retriever.analyzer.words(name)):
                return name
        return None

    def search(
        self,
        question: str,
        history: Sequence[dict[str, str]],
        filters: Filters | None = None,
        *,
        k: int | None = None,
    ) -> RetrievalResult:
        """Retrieve passages for a question in its conversation (chat, API and ``lotse eval`` share this)."""
        query, context = self._search_terms(question, history)
        return self._retrieve(query, context, filters, k)

    def _retrieve(
        self, query: str, context: str, filters: Filters | None, k: int | None = None
    ) -> RetrievalResult:
        # Only recognisable follow-ups get the previous question as context. Measured on tests/eval: searching
        # every question with history in context, or only those that find nothing alone, answers out-of-scope
        # questions with passages on the previous topic (45 of 57 would no longer abstain).
        return self.retriever.retrieve(query, k=k or self.settings.top_k, filters=filters, context=context)

    def _search_terms(self, question: str, history: Sequence[dict[str, str]]) -> tuple[str, str]:
        return search_terms(self.model, question, history, self.settings.max_question_chars)

    def standalone_query(self, question: str, history: Sequence[dict[str, str]]) -> str:
        """The question as one standalone search text (for display), using the history for follow-ups."""
        query, context = self._search_terms(question, history)
        return f"{context} {query}".strip()

    def _abstain(
        self, question: str, search_query: str, retrieval: RetrievalResult, lang: str
    ) -> AnswerResult:
        titles: list[str] = []
        for hit in retrieval.hits:
            if hit.chunk.title not in titles:
                titles.append(hit.chunk.title)
        suggestions = titles[:3] or []
        text = ABSTAIN_TEXT[lang]
        if suggestions:
            text += "\n" + SUGGEST_LEAD[lang] + "\n" + "\n".join(f"- {t}" for t in suggestions)
        return AnswerResult(
            answer=text,
            mode="llm" if self.model is not None else "extractive",
            abstained=True,
            citations=[],
            question=question,
            search_query=search_query,
            confidence=retrieval.confidence,
            language=lang,
        )

    def _extractive(
        self,
        question: str,
        search_query: str,
        retrieval: RetrievalResult,
        lang: str,
        quotes: int = MAX_SENTENCES,
    ) -> AnswerResult:
        terms = f"{search_query} {retrieval.translated}".strip()  # an English question's German words too
        picks = select_sentences(terms, retrieval.hits, self.retriever.analyzer, max_sentences=quotes)
        if not picks:
            return self._abstain(question, search_query, retrieval, lang)
        text, order = compose(picks, lang)
        base = self.settings.public_base_url
        citations = []
        lead = picks[0]
        for n, i in enumerate(order, start=1):
            chunk = retrieval.hits[i].chunk
            spans = [p.sentence for p in picks if p.hit_index == i]
            start, end = min(s.start for s in spans), max(s.end for s in spans)
            # One verbatim quote per source: the chosen sentences and what lies between them
            # (select_sentences keeps that span short).
            quote = chunk.text[start:end]
            marked = None
            if i == lead.hit_index:  # mark the answer: its expression (amount, date), else its whole sentence
                offset = lead.sentence.start - start
                a, b = lead.span or (0, len(lead.sentence.text))
                marked = (offset + a, offset + b)
            citations.append(make_citation(n, retrieval.hits[i], quote, base, marked))
        return AnswerResult(
            answer=text,
            mode="extractive",
            abstained=False,
            citations=citations,
            question=question,
            search_query=search_query,
            confidence=retrieval.confidence,
            language=lang,
        )

    def _llm_answer(
        self,
        question: str,
        search_query: str,
        history: list[dict[str, str]],
        retrieval: RetrievalResult,
        lang: str,
        quotes: int = MAX_SENTENCES,
    ) -> Generator[ChatEvent, None, AnswerResult]:
        """Stream the model's reply, then act on its review (`assistant.llm_reply.review_reply`): withhold it,
        answer extractively instead, abstain, or send the reviewed text with its citations."""
        assert self.model is not None
        # The passages holding the best-ranked sentences go first, so a small model sees the answer early.
        picks = select_sentences(search_query, retrieval.hits, self.retriever.analyzer, max_sentences=quotes)
        lead = list(dict.fromkeys(p.hit_index for p in picks))
        hits: list[ScoredChunk] = [retrieval.hits[i] for i in lead] + [
            h for i, h in enumerate(retrieval.hits) if i not in lead
        ]
        messages = answer_messages(question, hits, history[-self.settings.max_history_turns :], lang)
        yield ChatEvent("status", {"stage": "generating"})
        try:
            raw = yield from _reply_tokens(self.model, messages)
        except LLMError as e:
            log.warning("LLM failed, falling back to extractive answer: %s", e)
            # details: the log above
            return (
                yield from self._fallback(question, search_query, retrieval, lang, quotes, e.public(lang))
            )
        review = review_reply(raw, question, hits, lang)
        if review.outcome == "fallback":
            result = yield from self._fallback(question, search_query, retrieval, lang, quotes, review.reason)
            result.unsupported_sentences = review.unsupported
            return result
        if review.outcome in ("withheld", "abstain"):
            yield ChatEvent("reset", None)
            result = self._abstain(question, search_query, retrieval, lang)
            if review.outcome == "withheld":
                result.notices.append(WITHHELD_NOTICE[lang])
            elif review.invalid:
                result.removed_citations = review.invalid
            return result
        citations = citations_for(hits, review.numbers, review.text, self.settings.public_base_url)
        if review.invalid or review.text != raw:
            yield ChatEvent("reset", None)
            yield ChatEvent("token", review.text)
        return AnswerResult(
            answer=review.text,
            mode="llm",
            abstained=False,
            citations=citations,
            question=question,
            search_query=search_query,
            notices=review.notices(lang),
            removed_citations=review.invalid,
            unsupported_sentences=review.unsupported,
            confidence=retrieval.confidence,
            language=lang,
        )

    def _fallback(
        self,
        question: str,
        search_query: str,
        retrieval: RetrievalResult,
        lang: str,
        quotes: int,
        reason: str,
    ) -> Generator[ChatEvent, None, AnswerResult]:
        """Withdraw what the model streamed and answer extractively, with a notice that says why."""
        yield ChatEvent("reset", None)
        fallback = self._extractive(question, search_query, retrieval, lang, quotes)
        fallback.fallback = True
        fallback.notices.append(FALLBACK_NOTICE[lang].format(reason=reason))
        yield ChatEvent("notice", fallback.notices[-1])
        yield ChatEvent("token", fallback.answer)
        return fallback


def _reply_tokens(model: ChatModel, messages: list[dict[str, str]]) -> Generator[ChatEvent, None, str]:
    """Pass the model's tokens on as they come, stopping before the canary; return the whole reply."""
    parts: list[str] = []
    for token in model.stream(messages):
        parts.append(token)
        if CANARY in "".join(parts[-3:]):
            break
        yield ChatEvent("token", token)
    return "".join(parts)
