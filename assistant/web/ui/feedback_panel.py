"""Feedback per answer (helpful / not helpful / "Quelle ist falsch", optional comment).

Records go through :class:`assistant.feedback.FeedbackStore`: question, answer, rating, comment, cited sources,
mode and time, nothing about the person. Editors read them at ``/redaktion/`` (:mod:`.editor`), never here.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from assistant.errors import LotseError
from assistant.services import Services
from assistant.web.security import ClientLimits, client_key_of
from assistant.web.ui.conversation import Turn, citation_line
from assistant.web.ui.render import esc, notice_html
from assistant.web.ui.texts import Lang, t

log = logging.getLogger(__name__)


class FeedbackPanel:
    def __init__(self, services: Services, limits: ClientLimits) -> None:
        self.services = services
        self.limits = limits
        self.store = services.feedback

    # -- per answer ------------------------------------------------------------------------------------
    def build_form(self) -> None:
        with gr.Column(elem_id="lotse-feedback", elem_classes=["lotse-box"]):
            self.heading = gr.HTML(self.heading_html("de"))
            with gr.Row():
                self.target = gr.Dropdown(
                    choices=[], value=None, label=t("de", "fb_target"), scale=2, elem_id="lotse-fb-target"
                )
                self.comment = gr.Textbox(
                    label=t("de", "fb_comment"),
                    placeholder=t("de", "fb_comment_ph"),
                    max_length=2000,
                    lines=2,
                    scale=3,
                    elem_id="lotse-fb-comment",
                )
            with gr.Row():
                self.helpful = gr.Button(
                    t("de", "fb_helpful"), size="sm", variant="secondary", elem_id="lotse-fb-helpful"
                )
                self.not_helpful = gr.Button(
                    t("de", "fb_not_helpful"), size="sm", variant="secondary", elem_id="lotse-fb-not-helpful"
                )
                self.wrong_source = gr.Button(
                    t("de", "fb_wrong_source"),
                    size="sm",
                    variant="secondary",
                    elem_id="lotse-fb-wrong-source",
                )
            self.status = gr.HTML(notice_html([], "de"), elem_id="lotse-fb-status")

    @staticmethod
    def heading_html(lang: Lang) -> str:
        return f'<h2 class="lotse-h2-small">{esc(t(lang, "fb_heading"))}</h2>'

    def wire(self, turns: gr.State, lang: gr.Radio) -> None:
        for button, rating in (
            (self.helpful, "helpful"),
            (self.not_helpful, "not_helpful"),
            (self.wrong_source, "wrong_source"),
        ):
            button.click(
                self._rater(rating),
                [self.target, self.comment, turns, lang],
                [self.status, self.comment],
                show_progress="hidden",
            )

    def _rater(self, rating: str) -> Any:
        def handler(
            index: int | None, comment: str, turns: list[Turn] | None, lang: Lang, request: gr.Request
        ) -> tuple[str, Any]:
            wait = self.limits.feedback.check(client_key_of(request))
            if wait is not None:
                return notice_html([t(lang, "err_rate", seconds=int(wait) + 1)], lang, error=True), gr.skip()
            return self.rate(rating, index, comment, turns, lang)

        return handler

    def rate(
        self, rating: str, index: int | None, comment: str, turns: list[Turn] | None, lang: Lang
    ) -> tuple[str, Any]:
        """Store one rating of the chosen answer (default: the latest) and thank the user."""
        turns = turns or []
        if not turns:
            return notice_html([t(lang, "fb_no_answer")], lang, error=True), gr.skip()
        turn = turns[index] if isinstance(index, int) and 0 <= index < len(turns) else turns[-1]
        try:
            self.store.add(
                question=turn.question,
                answer=turn.answer,
                rating=rating,
                comment=(comment or "").strip(),
                sources=[f"{c.source}: {citation_line(c, 'de')}" for c in turn.citations],
                mode=turn.mode,
            )
        except LotseError as e:
            return notice_html([e.public(lang)], lang, error=True), gr.skip()
        return notice_html([t(lang, "fb_thanks")], lang), ""
