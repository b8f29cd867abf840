"""The editors' page at ``/redaktion/``: documents, upload, web sources, open questions and feedback, behind
gradio's own login (the panels besides feedback are in :mod:`assistant.web.ui.editor_panels`).

Feedback shows what other people asked, so it is never part of the public chat at ``/ui``. The page is a
separate gradio app, mounted only when ``LOTSE_EDITOR_TOKEN`` is set, with gradio's login form in front of every
route of it (page config, queue, API). Being its own path, a reverse proxy can additionally restrict it, e.g. to
the administration's network or single sign-on. User name ``redaktion``, password the token, compared in
constant time. :class:`assistant.web.guard.GuardMiddleware` rate-limits login attempts per client and removes the
credentialed CORS grant gradio would give any other website.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import gradio as gr

from assistant.editing import EditorService
from assistant.errors import LotseError
from assistant.secrets import verify
from assistant.services import Services
from assistant.web.ui.controls import language_radio
from assistant.web.ui.editor_panels import EditorPanels
from assistant.web.ui.render import esc, feedback_table_html, notice_html
from assistant.web.ui.texts import Lang, t

log = logging.getLogger(__name__)

EDITOR_USER = "redaktion"
RECENT_LIMIT = 50
#: Shown above gradio's login form (HTML inside gradio's own paragraph): German first, English below.
LOGIN_MESSAGE = f'<span lang="de">{esc(t("de", "ed_login"))}</span><br><span lang="en">{esc(t("en", "ed_login"))}</span>'


#: scrypt runs in a worker thread, at most two at once: gradio awaits the check in the event loop, and about 40 ms
#: of hashing per attempt there would stall every other client (review of the December fix).
_HASHING = threading.BoundedSemaphore(2)


def editor_auth(stored: str) -> Callable[[str, str], Awaitable[bool]]:
    """gradio ``auth`` callable: user ``redaktion`` and the password, checked against its stored scrypt hash.

    The user name is compared in constant time; the password's hash too (:func:`assistant.secrets.verify`).
    """
    expected_user = EDITOR_USER.encode()

    def verify_bounded(password: str) -> bool:
        with _HASHING:
            return verify(password, stored)

    async def check(username: str, password: str) -> bool:
        user_ok = hmac.compare_digest((username or "").strip().lower().encode(), expected_user)
        password_ok = await anyio.to_thread.run_sync(verify_bounded, password or "")
        if not (user_ok and password_ok):
            log.warning("editors' login refused")  # no user name or address: nothing about the person
        return user_ok and password_ok

    return check


class EditorPanel:
    """Recent feedback as a table, with counts per rating."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.feedback

    def build(self) -> None:
        self.table = gr.HTML(elem_id="lotse-ed-table")
        with gr.Row():
            self.refresh = gr.Button(
                t("de", "ed_refresh"), size="sm", scale=0, min_width=160, elem_id="lotse-ed-refresh"
            )

    def html(self, lang: Lang) -> str:
        days = self.services.settings.feedback_retention_days
        try:
            items = self.store.recent(limit=RECENT_LIMIT)
            counts = self.store.summary()
        except LotseError as e:
            return notice_html([e.localized(lang)], lang, error=True)
        return feedback_table_html(items, counts, lang or "de", days)


def _header(lang: Lang) -> str:
    return (
        f'<header class="lotse-header"><h1>{esc(t(lang, "ed_title"))}</h1>'
        f'<p class="lotse-tagline">{esc(t(lang, "ed_intro"))}</p>'
        f'<p><a href="logout" id="lotse-ed-logout">{esc(t(lang, "ed_logout"))}</a></p></header>'
    )


def build_editor_ui(services: Services) -> gr.Blocks:
    """The editors' page (mount it with :func:`editor_mount_options`, which adds the login)."""
    panel = EditorPanel(services)
    panels = EditorPanels(EditorService(services))
    with gr.Blocks(title="Verstetigungslotse – Redaktion", analytics_enabled=False) as blocks:
        with gr.Row(equal_height=False):
            header = gr.HTML(_header("de"), elem_id="lotse-ed-header")
            lang = language_radio()
        with gr.Tabs():
            panels.build()
            with gr.Tab(t("de", "tab_feedback"), id="feedback") as tab:
                panel.build()
        panels.wire(blocks, lang)

        blocks.load(panel.html, [lang], [panel.table], show_progress="hidden")
        # A stable API name: editors' scripts (and the tests) can fetch the table with the login cookie.
        panel.refresh.click(panel.html, [lang], [panel.table], show_progress="hidden", api_name="rueckmeldungen")

        def relabel(lang_: Lang) -> list[Any]:
            lang_ = lang_ or "de"
            return [
                _header(lang_),
                gr.update(label=t(lang_, "tab_feedback")),
                gr.update(value=t(lang_, "ed_refresh")),
                panel.html(lang_),
            ]

        lang.change(relabel, [lang], [header, tab, panel.refresh, panel.table], show_progress="hidden")
        lang.change(panels.relabel, [lang], panels.relabel_outputs(), show_progress="hidden")
        lang.change(None, [lang], None, js="(l) => { document.documentElement.lang = l; return l; }")

    blocks.queue(default_concurrency_limit=2, max_size=16)
    return blocks


def editor_mount_options(stored_hash: str) -> dict[str, Any]:
    """``gr.mount_gradio_app`` keywords for the editors' page: the chat's look plus gradio's login."""
    from assistant.web.ui import mount_options

    return mount_options() | {"auth": editor_auth(stored_hash), "auth_message": LOGIN_MESSAGE}
