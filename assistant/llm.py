"""Chat models behind one small protocol, and the OpenAI-compatible adapter with strict deadlines.

``OpenAICompatibleChat`` talks to any server that speaks the OpenAI chat-completions protocol (OpenAI,
Azure OpenAI v1, vLLM, Ollama ``/v1``, llama.cpp server) with standard parameters only. Each call has
three limits, all measured from the first ``next()`` on ``stream()`` (or the call of ``complete``/``ping``):

* ``connect_timeout_s``: establishing the connection (the SDK's connect timeout, per attempt).
* ``first_token_timeout_s``: until the first non-empty text delta has arrived (streaming only).
* ``deadline_s``: until the answer has arrived completely, however slowly the server drips it.

The SDK's timeouts bound single socket operations only, so a server sending a token every few seconds
never trips them. The SDK call therefore runs in a worker thread and the caller waits on a queue with the
remaining time: on expiry the caller raises ``LLMTimeoutError`` at once, and the worker closes the
response as soon as its pending read returns (at most one SDK read timeout later). A request hook keeps
the SDK from sending retries for a call whose caller has already given up (timeout or closed generator).

A stream counts as complete when a choice carried a ``finish_reason``; a missing ``data: [DONE]`` alone is
tolerated because some servers omit it, a stream that just stops is ``LLMResponseError``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import openai

from assistant.errors import LLMError, LLMResponseError, LLMTimeoutError, LLMUnavailableError

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

logger = logging.getLogger(__name__)

T = TypeVar("T")
Messages = Sequence[Mapping[str, Any]]

_worker = threading.local()  # holds the stop event of the call a worker thread is running


class _Cancelled(Exception):
    """The caller has given up; raised before any further request so the SDK does not retry for nobody."""


def _abort_if_cancelled(request: object) -> None:
    stop = getattr(_worker, "stop", None)
    if stop is not None and stop.is_set():
        raise _Cancelled


class ChatModel(Protocol):
    """A chat language model. It raises only ``assistant.errors.LLMError`` subclasses."""

    def stream(self, messages: Messages, *, deadline_s: float | None = None) -> Iterator[str]:
        """Yield the answer as text deltas.

        Args:
            messages: OpenAI-style messages (``{"role": ..., "content": ...}``).
            deadline_s: Overall limit for this answer; the model's default when None.

        Raises:
            LLMError: Possibly after some text was yielded; the caller decides whether to discard it.
        """
        ...

    def complete(self, messages: Messages, *, deadline_s: float | None = None) -> str:
        """Return the whole answer (same arguments and errors as ``stream``)."""
        ...

    def ping(self, timeout_s: float = 5.0, *, require_model: bool = False) -> list[str]:
        """Check quickly that the endpoint answers (and lists the model); raises ``LLMError``."""
        ...


class OpenAICompatibleChat:
    """``ChatModel`` for any OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        base_url: Endpoint including ``/v1``, e.g. ``http://localhost:11434/v1``.
        model: Model name as the server knows it.
        api_key: Bearer key; None for servers without authentication.
        connect_timeout_s: Limit for establishing a connection.
        first_token_timeout_s: Limit until the first text arrives; while streaming also the SDK read
            timeout, i.e. the longest silence tolerated between two chunks.
        deadline_s: Default overall limit per answer.
        max_retries: SDK retries on connection errors, timeouts, 408/409/429 and 5xx (with backoff).
        temperature: Sampling temperature.
        max_tokens: Upper bound of answer tokens.
        extra_headers: Additional HTTP headers on every request (e.g. for a gateway).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        *,
        connect_timeout_s: float = 3.0,
        first_token_timeout_s: float = 20.0,
        deadline_s: float = 60.0,
        max_retries: int = 1,
        temperature: float = 0.1,
        max_tokens: int = 800,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url, self.model, self.max_retries = base_url, model, max_retries
        self.connect_timeout_s, self.first_token_timeout_s, self.deadline_s = (
            connect_timeout_s,
            first_token_timeout_s,
            deadline_s,
        )
        self.temperature, self.max_tokens = temperature, max_tokens
        # A placeholder key: without one the SDK would read OPENAI_API_KEY itself or refuse to start.
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "no-key",
            max_retries=max_retries,
            timeout=openai.Timeout(deadline_s, connect=connect_timeout_s),
            default_headers=dict(extra_headers or {}),
            http_client=openai.DefaultHttpxClient(event_hooks={"request": [_abort_if_cancelled]}),
        )

    def stream(self, messages: Messages, *, deadline_s: float | None = None) -> Iterator[str]:
        """Yield text deltas; see ``ChatModel.stream``."""
        deadline = deadline_s or self.deadline_s
        read_s = min(self.first_token_timeout_s, deadline)
        return self._run(lambda stop: self._stream_deltas(messages, read_s, stop), deadline, read_s)

    def complete(self, messages: Messages, *, deadline_s: float | None = None) -> str:
        """Return the whole answer of one non-streaming request; see ``ChatModel.complete``."""
        deadline = deadline_s or self.deadline_s
        return "".join(self._run(lambda stop: self._complete_text(messages, deadline), deadline, None))

    def ping(self, timeout_s: float = 5.0, *, require_model: bool = False) -> list[str]:
        """Ask ``GET /models`` quickly and without retries (start-up check, health endpoint).

        Args:
            timeout_s: Overall limit for the check.
            require_model: Also fail when the configured model is not listed (some gateways list none).

        Returns:
            The model ids the server lists.

        Raises:
            LLMError: Endpoint unreachable, too slow, key rejected or (``require_model``) model missing.
        """
        client = self._client.with_options(
            timeout=openai.Timeout(timeout_s, connect=self.connect_timeout_s), max_retries=0
        )

        def produce(stop: threading.Event) -> Generator[list[str]]:
            try:
                yield [m.id for m in client.models.list()]
            except (openai.OpenAIError, ValueError) as e:
                raise self._translate(e, received=False) from e

        ids = next(self._run(produce, timeout_s, None))
        if self.model not in ids:
            logger.warning("LLM endpoint %s does not list model %r", self.base_url, self.model)
            if require_model:
                listed = ", ".join(ids[:10]) or "-"
                raise LLMUnavailableError(
                    f"Das Modell „{self.model}“ ist unter {self.base_url} nicht vorhanden. Prüfen Sie "
                    f"LOTSE_LLM_MODEL (verfügbar: {listed}).",
                    f"Model '{self.model}' is not available at {self.base_url}. Check LOTSE_LLM_MODEL "
                    f"(available: {listed}).",
                )
        return ids

    def _run(
        self,
        produce: Callable[[threading.Event], Generator[T]],
        deadline_s: float,
        first_item_s: float | None,
    ) -> Iterator[T]:
        """Run ``produce`` in a worker thread and yield its items while enforcing the limits."""
        started = time.monotonic()
        deadline = started + deadline_s
        first_deadline = min(started + first_item_s, deadline) if first_item_s is not None else deadline
        items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        stop = threading.Event()

        def work() -> None:
            _worker.stop = stop
            pieces = produce(stop)
            try:
                for piece in pieces:
                    items.put(("item", piece))
                    if stop.is_set() or time.monotonic() > deadline:
                        return  # closing the generator (finally) closes the HTTP response
                items.put(("done", None))
            except BaseException as e:  # handed over to the caller's thread
                items.put(("error", e))
            finally:
                pieces.close()

        threading.Thread(target=work, name="llm-call", daemon=True).start()
        got_item = False
        try:
            while True:
                try:
                    kind, value = items.get(
                        timeout=max((deadline if got_item else first_deadline) - time.monotonic(), 0)
                    )
                except queue.Empty:
                    overall = got_item or first_item_s is None
                    logger.warning(
                        "LLM %s: %s limit reached after %.1f s",
                        self.model,
                        "overall" if overall else "first-token",
                        time.monotonic() - started,
                    )
                    raise self._timeout(overall, deadline_s if overall else first_item_s) from None
                if kind == "error":
                    error = value if isinstance(value, LLMError) else self._translate(value, got_item)
                    cause = error.__cause__ or value
                    logger.warning(
                        "LLM call to %s failed: %s: %s", self.base_url, type(cause).__name__, cause
                    )
                    raise error from cause
                if kind == "done":
                    return
                got_item = True
                yield value
        finally:
            stop.set()

    def _stream_deltas(self, messages: Messages, read_s: float, stop: threading.Event) -> Generator[str]:
        received, saw_choice, text_seen, finish = False, False, False, None
        try:
            with self._client.chat.completions.create(
                model=self.model,
                messages=_wire(messages),
                stream=True,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                timeout=openai.Timeout(read_s, connect=self.connect_timeout_s),
            ) as chunks:
                received = True
                for chunk in chunks:
                    # Chunks without choices are legal (Azure filter results, usage): skip them.
                    for choice in getattr(chunk, "choices", None) or []:
                        saw_choice = True
                        if choice.delta is not None and choice.delta.content:
                            text_seen = True
                            yield choice.delta.content
                        finish = choice.finish_reason or finish
                    if stop.is_set():
                        return
        except (openai.OpenAIError, ValueError) as e:  # ValueError: invalid JSON in a data line
            raise self._translate(e, received) from e
        self._check_end(saw_choice, text_seen, finish)

    def _complete_text(self, messages: Messages, deadline_s: float) -> Generator[str]:
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=_wire(messages),
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                timeout=openai.Timeout(deadline_s, connect=self.connect_timeout_s),
            )
        except (openai.OpenAIError, ValueError) as e:
            raise self._translate(e, received=False) from e
        choice = (getattr(completion, "choices", None) or [None])[0]
        text = (choice.message.content if choice is not None and choice.message else None) or ""
        self._check_end(choice is not None, bool(text), choice.finish_reason if choice is not None else None)
        yield text

    def _check_end(self, saw_choice: bool, text_seen: bool, finish: str | None) -> None:
        if not saw_choice:
            raise LLMResponseError(
                "Die Antwort des Sprachmodells enthielt keine Auswahl (leere „choices“).",
                "The model's answer contained no choices (empty 'choices').",
            )
        if finish is None:
            raise LLMResponseError(
                "Die Antwort des Sprachmodells brach unvollständig ab (kein Abschluss).",
                "The model's answer ended incomplete (no final chunk).",
            )
        if finish == "content_filter":
            raise LLMResponseError(
                "Die Antwort wurde vom Inhaltsfilter des Sprachmodells blockiert.",
                "The answer was blocked by the model's content filter.",
            )
        if not text_seen:
            raise LLMResponseError(
                "Das Sprachmodell lieferte eine leere Antwort.", "The model returned an empty answer."
            )
        if finish == "length":
            logger.warning("LLM answer cut at max_tokens=%d (model %s)", self.max_tokens, self.model)

    @staticmethod
    def _timeout(overall: bool, limit_s: float | None) -> LLMTimeoutError:
        en = f"{limit_s or 0:.1f}".removesuffix(".0")
        de = en.replace(".", ",")
        if overall:
            return LLMTimeoutError(
                f"Das Sprachmodell hat nicht innerhalb von {de} s geantwortet; die Antwort wurde "
                "abgebrochen. Bitte erneut versuchen (Grenze: LOTSE_LLM_DEADLINE_S).",
                f"The language model did not finish within {en} s; the answer was cancelled. Please retry "
                "(limit: LOTSE_LLM_DEADLINE_S).",
            )
        return LLMTimeoutError(
            f"Das Sprachmodell hat nach {de} s noch nicht zu antworten begonnen. Bitte erneut versuchen "
            "(Grenze: LOTSE_LLM_FIRST_TOKEN_TIMEOUT_S).",
            f"The language model had not started answering after {en} s. Please retry "
            "(limit: LOTSE_LLM_FIRST_TOKEN_TIMEOUT_S).",
        )

    def _translate(self, e: BaseException, received: bool) -> LLMError:
        """Map SDK and parsing failures to the error tree (``received``: the response body had started)."""
        url, status = self.base_url, getattr(e, "status_code", None)
        if isinstance(e, openai.APITimeoutError):
            return LLMTimeoutError(
                f"Zeitüberschreitung bei der Verbindung zum Sprachmodell unter {url}.",
                f"Timed out talking to the language model at {url}.",
            )
        if isinstance(e, openai.APIConnectionError) and received:
            return LLMResponseError(
                "Die Verbindung zum Sprachmodell brach mitten in der Antwort ab.",
                "The connection to the language model broke off mid-answer.",
            )
        if isinstance(e, openai.APIConnectionError):
            return LLMUnavailableError(
                f"Das Sprachmodell unter {url} ist nicht erreichbar. Läuft der Dienst, und stimmt "
                "LOTSE_LLM_BASE_URL?",
                f"The language model at {url} is not reachable. Is it running, and is LOTSE_LLM_BASE_URL "
                "right?",
            )
        if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
            return LLMUnavailableError(
                f"Das Sprachmodell unter {url} lehnt den API-Schlüssel ab (HTTP {status}). Setzen Sie einen "
                "gültigen Schlüssel in LOTSE_LLM_API_KEY.",
                f"The language model at {url} rejected the API key (HTTP {status}). Set a valid key in "
                "LOTSE_LLM_API_KEY.",
            )
        if isinstance(e, openai.NotFoundError):
            return LLMUnavailableError(
                f"Modell „{self.model}“ wurde unter {url} nicht gefunden (HTTP 404). Prüfen Sie "
                "LOTSE_LLM_MODEL und ob LOTSE_LLM_BASE_URL auf „/v1“ endet.",
                f"Model '{self.model}' was not found at {url} (HTTP 404). Check LOTSE_LLM_MODEL and whether "
                "LOTSE_LLM_BASE_URL ends in '/v1'.",
            )
        if isinstance(e, openai.APIStatusError) and (e.status_code >= 500 or e.status_code == 429):
            what = "ist überlastet" if status == 429 else "meldet einen Serverfehler"
            return LLMUnavailableError(
                f"Das Sprachmodell {what} (HTTP {status}, {self.max_retries} Wiederholung(en)). Bitte "
                "später erneut versuchen.",
                f"The language model failed with HTTP {status} ({self.max_retries} retries). Please try "
                "later.",
            )
        if isinstance(e, openai.APIStatusError):
            return LLMResponseError(
                f"Das Sprachmodell hat die Anfrage abgelehnt (HTTP {status}).",
                f"The language model rejected the request (HTTP {status}).",
            )
        return LLMResponseError(
            "Das Sprachmodell lieferte eine unlesbare Antwort (fehlerhafter Datenstrom).",
            "The language model returned an unreadable answer (malformed data).",
        )


def _wire(messages: Messages) -> list[ChatCompletionMessageParam]:
    return cast("list[ChatCompletionMessageParam]", [dict(m) for m in messages])
