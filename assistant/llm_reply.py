"""A language model's reply, reviewed before the user sees it (the LLM path of `assistant.chat`).

`review_reply` decides what becomes of a complete reply, in this order:

1. it carries the canary or lines of the system prompt: withheld (the chat abstains with WITHHELD_NOTICE);
2. it is no usable answer (only markers, too short, an echo, repetition): the extractive answer instead;
3. sentences whose numbers, dates or names stand in no passage they cite are dropped; nothing cited left: the
   extractive answer instead;
4. no valid citation at all: the chat abstains;
5. otherwise the answer, with its citation numbers checked against the passages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from assistant.answer_check import degenerate_reason, drop_sentences, unsupported_sentences
from assistant.citations import check_citations
from assistant.prompts import CANARY, SYSTEM_PROMPT_DE
from assistant.text import sanitize_model_output
from assistant.types import ScoredChunk

log = logging.getLogger(__name__)

DEGENERATE_REASON = {
    "de": "Die Antwort des Sprachmodells war keine brauchbare Antwort ({why}).",
    "en": "The language model's reply was no usable answer ({why}).",
}
DEGENERATE_WHY = {
    "markers": ("nur Quellenangaben", "only source markers"),
    "short": ("zu kurz", "too short"),
    "echo": ("wiederholte die Frage", "repeated the question"),
    "repetition": ("wiederholte sich", "repeated itself"),
    "unsupported": (
        "keine Aussage war durch die zitierten Quellen belegt",
        "no statement was backed by its sources",
    ),
}
UNSUPPORTED_NOTICE = {
    "de": "{n} Satz/Sätze der Antwort wurden entfernt: Zahlen, Daten oder Namen darin stehen in keiner zitierten "
    "Quelle.",
    "en": "{n} sentence(s) removed: numbers, dates or names in them stand in none of the cited sources.",
}
WITHHELD_NOTICE = {
    "de": "Die Antwort wurde zurückgehalten, weil sie interne Anweisungen enthielt.",
    "en": "The answer was withheld because it contained internal instructions.",
}
INVALID_CITATIONS_NOTICE = {
    "de": "Nicht existierende Quellenangaben wurden entfernt: {numbers}",
    "en": "Citations of sources that do not exist were removed: {numbers}",
}


@dataclass
class ReplyReview:
    """What becomes of a reply: ``withheld``, ``fallback`` (with `reason`), ``abstain`` or ``answer``."""

    outcome: Literal["withheld", "fallback", "abstain", "answer"]
    text: str = ""
    #: For an answer: the passages (1-based, into the hits the model saw) its citations name, in order.
    numbers: list[int] = field(default_factory=list)
    #: Citation numbers the model made up (no such passage); they are removed from the text.
    invalid: list[int] = field(default_factory=list)
    #: Sentences dropped because a number, date or name in them stands in no passage they cite.
    unsupported: int = 0
    #: Why the extractive answer replaces the reply (user-facing, in the answer's language).
    reason: str = ""

    def notices(self, lang: str) -> list[str]:
        """What the user is told about the reply's repairs."""
        notices = []
        if self.invalid:
            notices.append(
                INVALID_CITATIONS_NOTICE[lang].format(numbers=", ".join(f"[{n}]" for n in self.invalid))
            )
        if self.unsupported:
            notices.append(UNSUPPORTED_NOTICE[lang].format(n=self.unsupported))
        return notices


def review_reply(raw: str, question: str, hits: list[ScoredChunk], lang: str) -> ReplyReview:
    """Review the model's complete reply to ``question`` over ``hits`` (the passages in prompt order)."""
    if CANARY in raw or _leaks_system_prompt(raw):
        return ReplyReview("withheld")
    cleaned = sanitize_model_output(raw)
    why = degenerate_reason(cleaned, question)
    if why is not None:
        log.warning("degenerate LLM reply (%s), falling back to extractive answer: %r", why, raw[:200])
        return ReplyReview("fallback", reason=_degenerate(why, lang))
    checked = check_citations(cleaned, len(hits))
    unsupported = 0
    if checked.numbers:
        # Every number, date and name must stand in a passage the sentence cites; other sentences go.
        passages = [_passage_text(hits[n - 1]) for n in checked.numbers]
        dropped = unsupported_sentences(checked.text, passages)
        if dropped:
            log.info("dropping %d unsupported LLM sentences: %s", len(dropped), [d.missing for d in dropped])
            unsupported = len(dropped)
            rest = drop_sentences(checked.text, dropped)
            rechecked = check_citations(rest, len(checked.numbers))
            if not rechecked.numbers or degenerate_reason(rest, question):
                return ReplyReview(
                    "fallback", reason=_degenerate("unsupported", lang), unsupported=unsupported
                )
            checked.text = rechecked.text
            checked.numbers = [checked.numbers[n - 1] for n in rechecked.numbers]
    if not checked.numbers:
        return ReplyReview("abstain", invalid=checked.invalid)
    return ReplyReview(
        "answer", text=checked.text, numbers=checked.numbers, invalid=checked.invalid, unsupported=unsupported
    )


def _degenerate(why: str, lang: str) -> str:
    de, en = DEGENERATE_WHY[why]
    return DEGENERATE_REASON[lang].format(why=de if lang == "de" else en)


def _passage_text(hit: ScoredChunk) -> str:
    """What a citation of ``hit`` backs: its text, and the title and section it stands under."""
    c = hit.chunk
    return f"{c.title}\n{c.section}\n{c.text}"


def _leaks_system_prompt(text: str) -> bool:
    lines = [ln.strip() for ln in SYSTEM_PROMPT_DE.splitlines() if len(ln.strip()) > 40]
    return any(ln[:60] in text for ln in lines)
