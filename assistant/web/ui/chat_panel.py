"""The chat panel: question box, streamed answers, filters, "Neues Gespräch" and the Markdown export.

The handlers only call :class:`assistant.chat.ChatService`; every text that reaches the page passes
:func:`render.md_safe` (chat bubbles) or the escaping HTML builders in :mod:`render` (sources, notices).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from typing import Any

import gradio as gr

from assistant.chat import AnswerResult
from assistant.errors import INTERNAL_TEXT, LotseError, PublicError, public_error
from assistant.retrieval.filters import Filters
from assistant.services import Services
from assistant.text import guess_language
from assistant.web.security import ClientLimits, client_key_of
from assistant.web.ui.conversation import Turn, history_of, write_export
from assistant.web.ui.render import md_safe, notice_html, sources_html
from assistant.web.ui.texts import (
    Lang,
    doc_type_choices,
    examples,
    factor_choices,
    mode_label,
    t,
)

log = logging.getLogger(__name__)

#: Seconds between two UI updates while tokens stream in (the browser gets a diff per update).
STREAM_INTERVAL_S = 0.05


def filter_labels(factors: list[str], doc_types: list[str], lang: Lang) -> list[str]:
    names = dict(factor_choices(lang)) | dict(doc_type_choices(lang))
    by_id = {v: k for k, v in names.items()}
    return [by_id.get(x, x) for x in [*factors, *doc_types]]


def answer_bubble(result: AnswerResult | Turn, lang: Lang) -> str:
    """The answer as the chat shows it: escaped text plus a one-line footer with the answer mode."""
    footer = f"{t(lang, 'mode_lead')}: {mode_label(result.mode, lang)}"
    if result.fallback:
        footer += f" – {t(lang, 'fallback')}"
    return f"{md_safe(result.answer)}\n\n*{md_safe(footer)}*"


def example_text(evt: gr.SelectData) -> str:
    """The question of a clicked example on the first screen."""
    value = evt.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value or "")


def _origin(request: gr.Request | None) -> str:
    try:
        url = request.request.url  # type: ignore[union-attr]
        return f"{url.scheme}://{url.netloc}"
    except AttributeError:
        return ""


def messages_of(turns: list[Turn], lang: Lang) -> list[dict[str, Any]]:
    """The chat bubbles of the conversation, rebuilt from the server-side turns.

    The chat never takes its messages back from the browser: a client could put anything into them, files
    included (the 2026-12 probe sent a ``FileData`` path to /etc/passwd in a message and got the file served).
    """
    messages: list[dict[str, Any]] = []
    for turn in turns:
        messages.append({"role": "user", "content": md_safe(turn.question)})
        messages.append({"role": "assistant", "content": answer_bubble(turn, "en" if turn.language == "en" else lang)})
    return messages


class ChatPanel:
    """Builds the chat components inside the current gradio layout and wires their events."""

    def __init__(self, services: Services, limits: ClientLimits) -> None:
        self.services = services
        self.limits = limits

    # -- layout ----------------------------------------------------------------------------------------
    def build_filters(self) -> None:
        with gr.Accordion(t("de", "filters"), open=False, elem_id="lotse-filters") as self.filters:
            self.factors = gr.CheckboxGroup(
                factor_choices("de"), label=t("de", "factors"), elem_id="lotse-factors"
            )
            self.doc_types = gr.CheckboxGroup(
                doc_type_choices("de"), label=t("de", "doc_types"), elem_id="lotse-doctypes"
            )

    def build_chat(self) -> None:
        self.chatbot = gr.Chatbot(
            label=t("de", "chat_label"),
            elem_id="lotse-chat",
            height=520,
            sanitize_html=True,
            allow_tags=False,
            render_markdown=True,
            latex_delimiters=[],
            buttons=["copy"],
            feedback_options=None,
            allow_file_downloads=False,
            placeholder=t("de", "placeholder"),
            examples=examples("de"),
            layout="bubble",
        )
        self.notice = gr.HTML(notice_html([], "de"), elem_id="lotse-notice")
        with gr.Row(equal_height=True):
            self.question = gr.Textbox(
                label=t("de", "question"),
                placeholder=t("de", "question_ph"),
                lines=1,  # with one line, Enter sends (gradio: multi-line boxes send with Shift+Enter)
                max_lines=6,
                max_length=self.services.settings.max_question_chars,
                scale=5,
                elem_id="lotse-question",
                autofocus=True,
            )
            self.ask = gr.Button(t("de", "ask"), variant="primary", scale=1, elem_id="lotse-ask")
        with gr.Row():
            self.new_chat = gr.Button(
                t("de", "new_chat"), variant="secondary", size="md", elem_id="lotse-new"
            )
            self.download = gr.DownloadButton(
                t("de", "export"),
                value=None,
                interactive=False,
                variant="secondary",
                size="md",
                elem_id="lotse-export",
            )

    def build_sources(self) -> None:
        self.sources = gr.HTML(sources_html(None, "de"), elem_id="lotse-sources")

    # -- events ----------------------------------------------------------------------------------------
    def wire(self, turns: gr.State, lang: gr.Radio, fb_target: gr.Dropdown) -> None:
        outputs = [
            self.chatbot,
            self.question,
            turns,
            self.sources,
            self.notice,
            self.download,
            fb_target,
            lang,
        ]
        inputs = [self.question, turns, self.factors, self.doc_types, lang]
        gr.on(
            [self.question.submit, self.ask.click],
            self.respond,
            inputs,
            outputs,
            show_progress="hidden",
            concurrency_id="answer",
        )
        self.chatbot.example_select(
            example_text,
            None,
            self.question,
            queue=False,
            show_progress="hidden",
        ).then(self.respond, inputs, outputs, show_progress="hidden", concurrency_id="answer")
        # The chatbot's own trash button clears the conversation just like "Neues Gespräch".
        gr.on(
            [self.new_chat.click, self.chatbot.clear],
            self.reset,
            [lang],
            [self.chatbot, turns, self.sources, self.notice, self.download, fb_target],
            queue=False,
            show_progress="hidden",
        )

    def reset(self, lang: Lang) -> tuple[Any, ...]:
        """Forget the conversation (the question box keeps what the user may already be typing)."""
        return (
            [],
            [],
            sources_html(None, lang),
            notice_html([], lang),
            gr.update(value=None, interactive=False),
            gr.update(choices=[], value=None),
        )

    def respond(
        self,
        question: str,
        turns: list[Turn] | None,
        factors: list[str] | None,
        doc_types: list[str] | None,
        lang: Lang | None,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat; on success update sources, export, feedback choices.

        Each update is the tuple of `wire`'s outputs: chat, question box, turns, sources, notice, export,
        feedback choices, language.
        """
        lang = lang or "de"
        question = (question or "").strip()
        turns = list(turns or [])
        messages = messages_of(turns, lang)
        skip = gr.skip()
        msg_lang = "en" if lang == "en" or (question and guess_language(question) == "en") else "de"
        refusal = self._refusal(question, msg_lang, request)
        if refusal is not None:
            yield skip, skip, skip, skip, notice_html([refusal], msg_lang, error=True), skip, skip, skip
            return
        messages += [
            {"role": "user", "content": md_safe(question)},
            {"role": "assistant", "content": f"*{t(msg_lang, 'searching')}*"},
        ]
        yield messages, "", skip, skip, notice_html([], lang), skip, skip, skip

        factors, doc_types = list(factors or []), list(doc_types or [])
        result, error = yield from self._stream_answer(question, turns, factors, doc_types, lang, msg_lang, messages)
        if result is None:
            error = error or PublicError("internal", *INTERNAL_TEXT).text(msg_lang)
            messages[-1] = {"role": "assistant", "content": "⚠️ " + md_safe(error)}
            yield (
                messages,
                question,
                skip,
                skip,
                notice_html([error], msg_lang, error=True),
                skip,
                skip,
                skip,
            )
            return
        yield self._finished(result, turns, factors, doc_types, lang, messages, request)

    def _refusal(self, question: str, msg_lang: Lang, request: gr.Request) -> str | None:
        """Why the question is not answered at all (too many questions from this client, or none), or None."""
        wait = self.limits.answers.check(client_key_of(request)) if question else None
        if wait is not None:
            return t(msg_lang, "err_rate", seconds=int(wait) + 1)
        if not question:
            return t(msg_lang, "err_empty")
        return None

    def _stream_answer(
        self,
        question: str,
        turns: list[Turn],
        factors: list[str],
        doc_types: list[str],
        lang: Lang,
        msg_lang: Lang,
        messages: list[dict[str, Any]],
    ) -> Generator[tuple[Any, ...], None, tuple[AnswerResult | None, str | None]]:
        """Yield the updates while the answer streams in; return (result, None) or (None, the public error)."""
        skip = gr.skip()
        result: AnswerResult | None = None
        notices: list[str] = []
        error: str | None = None
        try:
            filters = Filters.parse({"factors": factors, "doc_types": doc_types})
            # English chosen: the answer, the abstention text and every notice are English too; German chosen:
            # the service follows the question's language.
            stream = self.services.chat.stream(
                question, history_of(turns, self.services.settings.max_history_turns), filters,
                language="en" if lang == "en" else None,
            )
        except LotseError as e:
            stream, error = None, public_error(e).text(msg_lang)
        if stream is not None:
            parts: list[str] = []
            last = 0.0
            try:
                for event in stream:
                    if event.type == "token":
                        parts.append(event.data)
                        now = time.monotonic()
                        if now - last >= STREAM_INTERVAL_S:
                            last = now
                            messages[-1] = {"role": "assistant", "content": md_safe("".join(parts))}
                            yield messages, skip, skip, skip, skip, skip, skip, skip
                    elif event.type == "reset":
                        parts.clear()
                    elif event.type == "status" and not parts and event.data.get("stage") == "generating":
                        messages[-1] = {"role": "assistant", "content": f"*{t(msg_lang, 'writing')}*"}
                        yield messages, skip, skip, skip, skip, skip, skip, skip
                    elif event.type == "notice":
                        notices.append(str(event.data))
                        yield skip, skip, skip, skip, notice_html(notices, msg_lang), skip, skip, skip
                    elif event.type == "done":
                        result = event.data
            except Exception as e:  # noqa: BLE001 - the page shows the public text, the log the details
                if not isinstance(e, LotseError):
                    log.exception("web UI: answering failed")
                error = public_error(e).text(msg_lang)
            finally:
                stream.close()
        return result, error

    def _finished(
        self,
        result: AnswerResult,
        turns: list[Turn],
        factors: list[str],
        doc_types: list[str],
        lang: Lang,
        messages: list[dict[str, Any]],
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """The update after a complete answer: the new turn, its sources, the export and the feedback choices."""
        skip = gr.skip()
        answer_lang = "en" if result.language == "en" else lang
        turn = Turn.from_result(result, filter_labels(factors, doc_types, answer_lang))
        turns.append(turn)
        messages[-1] = {"role": "assistant", "content": answer_bubble(turn, answer_lang)}
        export = write_export(turns, answer_lang, _origin(request))
        choices = [(f"{i}. {x.question[:70]}", i - 1) for i, x in enumerate(turns, start=1)]
        return (
            messages,
            skip,
            turns,
            sources_html(turn, answer_lang, len(turns)),
            notice_html(result.notices, answer_lang),
            gr.update(value=export, interactive=True),
            gr.update(choices=choices, value=len(turns) - 1),
            "en" if answer_lang == "en" and lang != "en" else skip,
        )
