"""The gradio web chat, mounted by :func:`assistant.web.app.create_app` at ``/ui``.

Layout (one module per panel):

* header (title, answer mode, index size and last update) and the language switch – here
* tab "Fragen": filters, chat, question box, new conversation, export (:mod:`.chat_panel`), feedback form
  (:mod:`.feedback_panel`) and the sources panel beside the chat
* tab "Verstetigungs-Check": :func:`assistant.web.ui_check.build_check_tab`

Every function here takes its inputs from the page's own components and server-side state; none takes a file
except the check tab's upload field (:mod:`assistant.web.gradio_guard` enforces that for every request), and
all that compute an answer or a check count against the same per-client limit as the API.

The editors' view of the feedback is not here: it shows what others asked, and ``/ui`` is open to anyone who can
reach the app. It is a separate app behind a login at ``/redaktion/`` (:mod:`.editor`).
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from assistant.errors import LotseError
from assistant.services import Services
from assistant.web.gradio_guard import UploadRegistry
from assistant.web.security import ClientLimits
from assistant.web.ui.chat_panel import ChatPanel
from assistant.web.ui.controls import language_radio
from assistant.web.ui.conversation import Turn
from assistant.web.ui.feedback_panel import FeedbackPanel
from assistant.web.ui.render import header_html, sources_html
from assistant.web.ui.texts import Lang, doc_type_choices, examples, factor_choices, t
from assistant.web.ui_check import build_check_tab

log = logging.getLogger(__name__)

#: Waiting events beyond this are refused with gradio's "queue full" message instead of piling up.
QUEUE_MAX_SIZE = 64

CSS = """
.lotse-header h1 { font-size: 1.6rem; margin: 0 0 .25rem 0; }
.lotse-tagline { margin: 0 0 .25rem 0; }
.lotse-state { font-size: .9rem; margin: 0; }
/* Own greys: gradio's subdued text colour fails WCAG AA contrast (axe). */
.lotse-muted, .lotse-meta, .lotse-file, .lotse-answer-meta { color: #4b5563; }
.dark .lotse-muted, .dark .lotse-meta, .dark .lotse-file, .dark .lotse-answer-meta { color: #d1d5db; }
.lotse-sources h2, .lotse-editor h2, .lotse-h2-small { font-size: 1.15rem; margin: 0 0 .5rem 0; }
.lotse-source-list { list-style: none; padding: 0; margin: 0; }
.lotse-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem;
  margin-bottom: .6rem; background: var(--block-background-fill); }
.lotse-source, .lotse-source p { text-align: left; }
.lotse-source h3 { font-size: 1rem; margin: 0 0 .2rem 0; }
.lotse-n { font-weight: 700; margin-right: .25rem; }
.lotse-meta, .lotse-file, .lotse-answer-meta { font-size: .85rem; margin: .1rem 0; }
.lotse-file { font-family: var(--font-mono); overflow-wrap: anywhere; }
.lotse-source blockquote { margin: .4rem 0; padding: .2rem .6rem; border-left: 3px solid var(--color-accent);
  font-style: italic; white-space: pre-wrap; }
.lotse-doc-link { text-decoration: underline; display: inline-block; margin-top: .2rem; }
/* One card per document: its quotes one under another, each with its own [n], page and link. */
.lotse-quotes { list-style: none; padding: 0; margin: .2rem 0; }
.lotse-quote + .lotse-quote { border-top: 1px dashed var(--border-color-primary); padding-top: .3rem; margin-top: .3rem; }
.lotse-quote-meta { font-size: .85rem; margin: .1rem 0; color: #4b5563; }
.dark .lotse-quote-meta { color: #d1d5db; }
.lotse-box { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem; }
.lotse-notice, .lotse-error { border-radius: 8px; padding: .5rem .8rem; margin: .25rem 0; }
.lotse-notice { background: #fff8e1; border: 1px solid #c79100; color: #3e2c00; }
.lotse-error { background: #fdecea; border: 1px solid #b3261e; color: #5f1410; }
.lotse-notice p, .lotse-error p { display: inline; margin: 0; }
#lotse-sources-col { position: sticky; top: .5rem; align-self: flex-start; max-height: calc(100vh - 1rem);
  overflow-y: auto; }
/* An empty notice area takes no room between chat and question box. */
#lotse-notice:has(.lotse-notice-empty), #lotse-fb-status:has(.lotse-notice-empty) { display: none; }
.lotse-table-wrap { overflow-x: auto; }
.lotse-feedback { border-collapse: collapse; width: 100%; font-size: .9rem; }
.lotse-feedback th, .lotse-feedback td { border: 1px solid var(--border-color-primary); padding: .3rem .5rem;
  vertical-align: top; text-align: left; }
.lotse-counts { display: flex; gap: 1.5rem; list-style: none; padding: 0; }
"""

#: German is the page language until the user switches (gradio's page template says lang="en").
#: gradio's chatbot puts its example-question buttons in a role="list" without list items (axe, critical:
#: aria-required-children); such a container becomes a plain group, also when gradio renders it again.
JS_ON_LOAD = """() => {
  document.documentElement.lang = 'de';
  const fix = () => document.querySelectorAll('[role="list"]').forEach((el) => {
    if (!el.querySelector(':scope > [role="listitem"], :scope > li')) el.setAttribute('role', 'group');
  });
  fix();
  new MutationObserver(fix).observe(document.body, {childList: true, subtree: true});
}"""


def mount_options() -> dict[str, Any]:
    """Keyword arguments for ``gr.mount_gradio_app``: gradio 6 takes theme/CSS/JS there, not in ``Blocks``.

    No footer links (no API page, no gradio ads), no run history (it would keep questions in the browser).
    """
    return {
        "css": CSS,
        "js": JS_ON_LOAD,
        # White on blue-500 is 3.67:1 (axe, serious); blue-700 gives 6.7:1.
        "theme": gr.themes.Default(primary_hue="blue", secondary_hue="slate").set(
            button_primary_background_fill="*primary_700",
            button_primary_background_fill_hover="*primary_800",
            button_primary_background_fill_dark="*primary_700",
            button_primary_background_fill_hover_dark="*primary_800",
            button_primary_text_color="white",
            button_primary_text_color_dark="white",
        ),
        "footer_links": [],
        "run_history": False,
    }


def index_state(services: Services) -> dict[str, Any]:
    """Number of indexed documents and the newest ingest time, or the store's error message."""
    try:
        return services.index_status()
    except LotseError as e:
        return {"error": e.public()}


def build_ui(services: Services, limits: ClientLimits | None = None, uploads: UploadRegistry | None = None) -> gr.Blocks:
    """The web chat as a gradio Blocks app (queue and concurrency limits set, analytics off).

    ``limits`` are the app's per-client limits (shared with the API); ``uploads`` the app's upload registry.
    """
    mode = "llm" if services.chat.model is not None else "extractive"
    limits = limits or ClientLimits.from_settings(services.settings)
    chat = ChatPanel(services, limits)
    feedback = FeedbackPanel(services, limits)

    with gr.Blocks(title="Verstetigungslotse", analytics_enabled=False, delete_cache=(3600, 3600)) as blocks:
        turns = gr.State([])
        with gr.Row(equal_height=False):
            header = gr.HTML(header_html("de", mode, {}), elem_id="lotse-header-block")
            lang = language_radio()
        with gr.Tabs():
            with gr.Tab(t("de", "tab_chat"), id="chat") as chat_tab, gr.Row():
                with gr.Column(scale=3):
                    chat.build_filters()
                    chat.build_chat()
                    feedback.build_form()
                with gr.Column(scale=2, elem_id="lotse-sources-col"):
                    chat.build_sources()
            with gr.Tab(t("de", "tab_check"), id="check") as check_tab:
                check_labels = build_check_tab(services, limits, uploads, lang)

        chat.wire(turns, lang, feedback.target)
        feedback.wire(turns, lang)

        blocks.load(
            lambda lang_: header_html(lang_, mode, index_state(services)), [lang], [header], queue=False
        )
        chat.new_chat.click(
            lambda lang_: header_html(lang_, mode, index_state(services)), [lang], [header], queue=False
        )

        # (component, update for a language) – one list, so outputs and values cannot drift apart.
        labelled = _chat_labels(services, mode, header, chat_tab, chat, feedback)
        labelled.append((check_tab, lambda lg, tn: gr.update(label=t(lg, "tab_check"))))
        labelled += [(component, lambda lg, tn, update=update: update(lg)) for component, update in check_labels]

        def relabel(lang_: Lang, turns_: list[Turn] | None) -> list[Any]:
            return [update(lang_ or "de", turns_ or []) for _, update in labelled]

        lang.change(relabel, [lang, turns], [c for c, _ in labelled], queue=False, show_progress="hidden")
        lang.change(None, [lang], None, js="(l) => { document.documentElement.lang = l; return l; }")

    blocks.queue(default_concurrency_limit=services.settings.max_concurrent_answers, max_size=QUEUE_MAX_SIZE)
    return blocks


def _chat_labels(
    services: Services, mode: str, header: Any, chat_tab: Any, chat: ChatPanel, feedback: FeedbackPanel
) -> list[tuple[Any, Any]]:
    """(component, its update for a language and the turns) for the header and the chat tab."""
    return [
        (header, lambda lg, tn: header_html(lg, mode, index_state(services))),
        (chat_tab, lambda lg, tn: gr.update(label=t(lg, "tab_chat"))),
        (chat.filters, lambda lg, tn: gr.update(label=t(lg, "filters"))),
        (chat.factors, lambda lg, tn: gr.update(label=t(lg, "factors"), choices=factor_choices(lg))),
        (
            chat.doc_types,
            lambda lg, tn: gr.update(label=t(lg, "doc_types"), choices=doc_type_choices(lg)),
        ),
        (
            chat.chatbot,
            lambda lg, tn: gr.update(
                label=t(lg, "chat_label"), placeholder=t(lg, "placeholder"), examples=examples(lg)
            ),
        ),
        (
            chat.question,
            lambda lg, tn: gr.update(label=t(lg, "question"), placeholder=t(lg, "question_ph")),
        ),
        (chat.ask, lambda lg, tn: gr.update(value=t(lg, "ask"))),
        (chat.new_chat, lambda lg, tn: gr.update(value=t(lg, "new_chat"))),
        (chat.download, lambda lg, tn: gr.update(label=t(lg, "export"))),
        (chat.sources, lambda lg, tn: sources_html(tn[-1] if tn else None, lg, len(tn))),
        (feedback.heading, lambda lg, tn: feedback.heading_html(lg)),
        (feedback.target, lambda lg, tn: gr.update(label=t(lg, "fb_target"))),
        (
            feedback.comment,
            lambda lg, tn: gr.update(label=t(lg, "fb_comment"), placeholder=t(lg, "fb_comment_ph")),
        ),
        (feedback.helpful, lambda lg, tn: gr.update(value=t(lg, "fb_helpful"))),
        (feedback.not_helpful, lambda lg, tn: gr.update(value=t(lg, "fb_not_helpful"))),
        (feedback.wrong_source, lambda lg, tn: gr.update(value=t(lg, "fb_wrong_source"))),
    ]
