"""The conversation as the UI keeps it (one `Turn` per answered question) and its Markdown export."""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from assistant.chat import AnswerResult
from assistant.citations import group_by_document
from assistant.types import Citation
from assistant.web.ui.texts import Lang, mode_label, t

log = logging.getLogger(__name__)

#: Exports are written here and served once by gradio (which copies them into its own cache).
EXPORT_DIR = Path(tempfile.gettempdir()) / "lotse-exports"
EXPORT_MAX_AGE_S = 3600


@dataclass
class Turn:
    """One question and its answer, with what the user needs to quote it later."""

    question: str
    answer: str
    mode: str
    citations: list[Citation] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    fallback: bool = False
    abstained: bool = False
    language: str = "de"
    filters: list[str] = field(default_factory=list)

    @classmethod
    def from_result(cls, result: AnswerResult, filters: list[str]) -> Turn:
        return cls(
            question=result.question,
            answer=result.answer,
            mode=result.mode,
            citations=list(result.citations),
            notices=list(result.notices),
            fallback=result.fallback,
            abstained=result.abstained,
            language=result.language,
            filters=filters,
        )


def history_of(turns: list[Turn], max_messages: int) -> list[dict[str, str]]:
    """The chat history the service accepts: the most recent ``max_messages`` user/assistant messages."""
    messages: list[dict[str, str]] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.answer})
    if max_messages <= 0:
        return []
    return messages[-max_messages:]


def citation_line(c: Citation, lang: Lang) -> str:
    """ "Title (Publisher, 2024), Seite 3, Abschnitt „…“" – plain text, for exports and feedback records."""
    place = _place(c, lang)
    return _document_line(c) + (f", {place}" if place else "")


def _document_line(c: Citation) -> str:
    """ "Title (Publisher, 2024)": what a document's card says once for all its quotes."""
    meta = ", ".join(p for p in (c.publisher, str(c.year) if c.year else "") if p)
    return c.title + (f" ({meta})" if meta else "")


def _place(c: Citation, lang: Lang) -> str:
    """ "Seite 3, Abschnitt „…“": where in its document one quote stands."""
    parts = [f"{t(lang, 'page')} {c.page}"] if c.page else []
    if c.section:
        parts.append(f"{t(lang, 'section')} „{c.section}“")
    return ", ".join(parts)


def _absolute(url: str, origin: str) -> str:
    """The link as the export writes it: same-site paths made absolute, http(s) kept, anything else dropped."""
    if url.startswith("/") and not url.startswith("//"):
        return origin.rstrip("/") + url if origin else url
    return url if urlsplit(url).scheme in ("http", "https") else ""


def _inert(text: str) -> str:
    """Text stays text in the exported file: no inline HTML, and no link or image of any kind.

    Escaping every ``[`` (after the backslashes) leaves no inline link, image or reference definition, so a
    question such as ``[hier](javascript:…)`` is exported as its characters, never as a link.
    """
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("<", "&lt;").replace(">", "&gt;")


def _quote_block(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in _inert(text).splitlines())


def _bold_span(c: Citation) -> str:
    """The quote with the span that answers the question in bold (same words; Markdown emphasis only)."""
    span = c.answer_span
    if not span or not 0 <= span[0] < span[1] <= len(c.quote) or "\n" in c.quote[span[0] : span[1]]:
        return c.quote
    a, b = span
    return f"{c.quote[:a]}**{c.quote[a:b]}**{c.quote[b:]}"


def export_markdown(turns: list[Turn], lang: Lang, origin: str = "", now: datetime | None = None) -> str:
    """The whole conversation with numbered sources, page references and links, as a Markdown document."""
    when = (now or datetime.now()).strftime("%d.%m.%Y, %H:%M")
    out = [f"# {t(lang, 'ex_title', when=when)}", "", f"_{t(lang, 'ex_note')}_", ""]
    for i, turn in enumerate(turns, start=1):
        out += [f"## {t(lang, 'ex_question')} {i}", "", _quote_block(turn.question), ""]
        if turn.filters:
            out += [f"{t(lang, 'ex_filters')}: {', '.join(turn.filters)}", ""]
        mode = mode_label(turn.mode, lang) + (f". {t(lang, 'fallback')}" if turn.fallback else "")
        # Hard line breaks: extractive answers put one quoted sentence per line.
        answer = _inert(turn.answer).replace("\n", "  \n")
        out += [f"### {t(lang, 'ex_answer')}", "", f"_{t(lang, 'mode_lead')}: {mode}_", "", answer, ""]
        for notice in turn.notices:
            out += [f"_{t(lang, 'notice')}: {_inert(notice)}_", ""]
        if turn.citations:
            out += [f"### {t(lang, 'sources')}", ""]
            # One entry per document, its quotes below it, each with its own [n], page and link.
            for doc in group_by_document(turn.citations):
                source = doc.first.source.replace("`", "")
                out += [f"- {_inert(doc.label())} {_inert(_document_line(doc.first))}. `{source}`", ""]
                for c in doc.citations:
                    place, link = _place(c, lang), _absolute(c.url, origin)
                    out.append(
                        f"  - {_inert(f'[{c.n}]')}"
                        + (f" {_inert(place)}" if place else "")
                        + (f" – <{link}>" if link else "")
                    )
                    out.append("")
                    out.append("    " + _quote_block(f"„{_bold_span(c)}“").replace("\n", "\n    "))
                    out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_export(turns: list[Turn], lang: Lang, origin: str = "") -> str:
    """Write the export to a fresh file and return its path; files older than an hour are removed."""
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    _purge_old(EXPORT_DIR)
    folder = EXPORT_DIR / uuid.uuid4().hex
    folder.mkdir()
    name = f"Verstetigungslotse-{'Gespraech' if lang != 'en' else 'conversation'}-{datetime.now():%Y-%m-%d-%H%M}.md"
    path = folder / re.sub(r"[^A-Za-z0-9._-]", "_", name)
    path.write_text(export_markdown(turns, lang, origin), encoding="utf-8")
    return str(path)


def _purge_old(root: Path) -> None:
    cutoff = time.time() - EXPORT_MAX_AGE_S
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                for f in folder.iterdir():
                    f.unlink()
                folder.rmdir()
        except OSError as e:  # another worker removed it first, or it is not ours
            log.debug("could not purge export %s: %s", folder, e)
