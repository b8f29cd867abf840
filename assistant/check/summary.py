"""Optional short LLM summary per factor, grounded only in the passages the factor already cites.

The model sees the cited passages (numbered exactly like the factor's citations) and the gap labels of the
criteria file; the plan text itself is never sent, so a plan cannot smuggle instructions into the prompt. The reply
goes through the same checks as a chat answer: output sanitised, the canary refused, ``[n]`` numbers that name no
source removed (``check_citations``), and a reply without any valid citation dropped. Any ``LLMError`` leaves the
factor without a summary; the extractive report is complete on its own.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor

from assistant.check.assess import FactorResult
from assistant.check.texts import rating_label
from assistant.citations import check_citations
from assistant.errors import LLMError
from assistant.llm import ChatModel
from assistant.prompts import CANARY, SYSTEM_PROMPT_DE, source_block
from assistant.text import sanitize_model_output

log = logging.getLogger(__name__)

SUMMARY_DEADLINE_S = 25.0
MAX_SUMMARY_CHARS = 1200
_REF = re.compile(r"\[(\d{1,3})\]")
#: How an open point is named in the prompt: [missing?][english?].
_GAP = {True: ("fehlt", "missing"), False: ("nur vage", "only vague")}


def summary_messages(result: FactorResult) -> list[dict[str, str]]:
    """The prompt for one factor, in the report's language (``result.lang``): its task, open points and the
    instruction to answer in that language, so an English report gets an English summary."""
    english = result.lang == "en"
    open_points = [
        f"- {c.criterion.label_in(result.lang)} ({_GAP[c.status == 'fehlt'][english]})"
        for c in result.criteria
        if c.status != "erfuellt"
    ] or [("- no open points" if english else "- keine offenen Punkte")]
    rating = rating_label(result.rating, result.lang)
    if english:
        task = (
            f"A project plan was checked for the success factor \"{result.label}\" (traffic light: {rating}).\n"
            "Open points found by the check:\n" + "\n".join(open_points) + "\n\n"
            "Summarise in two or three sentences what the municipality should clarify next for this factor and "
            "why, based only on the sources (they are German). Support every statement with [n]."
        )
    else:
        task = (
            f"Ein Projektplan wurde zum Erfolgsfaktor „{result.label}“ geprüft (Ampel: {rating}).\n"
            "Offene Punkte laut Prüfung:\n" + "\n".join(open_points) + "\n\n"
            "Fasse in zwei bis drei Sätzen zusammen, was die Kommune zu diesem Faktor als Nächstes klären sollte "
            "und warum, ausschließlich auf Grundlage der Quellen. Belege jede Aussage mit [n]."
        )
    hint = "Answer in English." if english else "Antworte auf Deutsch."
    return [
        {"role": "system", "content": SYSTEM_PROMPT_DE},
        {"role": "user", "content": f"{source_block(result.hits)}\n\n<frage>\n{task}\n</frage>\n\n{hint}"},
    ]


def summarize_factor(model: ChatModel, result: FactorResult, deadline_s: float = SUMMARY_DEADLINE_S) -> str | None:
    """A checked summary with the factor's citation numbers, or None (no sources, model failed, no valid [n])."""
    if not result.hits:
        return None
    try:
        raw = model.complete(summary_messages(result), deadline_s=deadline_s)
    except LLMError as e:
        log.info("summary for %s skipped: %s", result.factor, e)
        return None
    if CANARY in raw:
        return None
    checked = check_citations(sanitize_model_output(raw).strip(), len(result.hits))
    if not checked.numbers or len(checked.text) > MAX_SUMMARY_CHARS:
        return None
    # check_citations renumbers by first appearance; map back to the factor's own citation numbers.
    return _REF.sub(lambda m: f"[{checked.numbers[int(m.group(1)) - 1]}]", checked.text)


def summarize_all(model: ChatModel, results: list[FactorResult], deadline_s: float = SUMMARY_DEADLINE_S) -> int:
    """Fill ``summary`` of every factor (in parallel); returns how many summaries were written."""
    with ThreadPoolExecutor(max_workers=len(results) or 1, thread_name_prefix="check-summary") as pool:
        summaries = list(pool.map(lambda r: summarize_factor(model, r, deadline_s), results))
    for result, summary in zip(results, summaries, strict=True):
        result.summary = summary
    return sum(s is not None for s in summaries)
