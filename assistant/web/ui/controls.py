"""Small gradio controls shared by the public chat and the editors' page."""

from __future__ import annotations

import gradio as gr

from assistant.web.ui.texts import t


def language_radio() -> gr.Radio:
    """The German/English switch in the page header (German first)."""
    return gr.Radio(
        [("Deutsch", "de"), ("English", "en")],
        value="de",
        label=t("de", "language"),
        elem_id="lotse-lang",
        scale=0,
        min_width=220,
    )
