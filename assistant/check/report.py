"""The check as a service: plan in, report out (factors, building blocks, bibliography), plus its text form.

``run_check`` imports no web framework and writes nothing: the plan is never added to the index.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.check.assess import MAX_EVIDENCE, FactorResult, assess
from assistant.check.blocks import BibEntry, BuildingBlock, bibliography, build_block, short_reference
from assistant.check.criteria import CheckConfig, load_config
from assistant.check.llm_judge import Verdict
from assistant.check.match import judge_for
from assistant.check.plan import Plan
from assistant.check.texts import rating_label, status_label, tr
from assistant.types import Citation

if TYPE_CHECKING:
    from assistant.services import Services

log = logging.getLogger(__name__)

MAX_TOPICS = 3
_SEVERITY = {"rot": 0, "gelb": 1, "gruen": 2}


@dataclass
class CheckReport:
    plan: Plan
    factors: list[FactorResult]
    blocks: list[BuildingBlock]
    bibliography: list[BibEntry]
    mode: str = "extractive"
    notices: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now().strftime("%d.%m.%Y %H:%M"))
    seconds: float = 0.0
    lang: str = "de"  # the language of the report's own words; plan sentences and quotes stay as written

    def mode_label(self) -> str:
        return tr(self.lang, "mode_llm" if self.mode == "llm" else "mode_extractive")

    def factor(self, name: str) -> FactorResult:
        return next(f for f in self.factors if f.factor == name)

    def all_citations(self) -> list[Citation]:
        return [c for f in self.factors for c in f.citations] + [c for b in self.blocks for c in b.citations]

    def to_contract(self) -> dict[str, Any]:
        """``{"factors": [...]}`` as in the interface contract, plus the extra keys it allows."""
        return {
            "factors": [f.to_contract() for f in self.factors],
            "blocks": [b.to_contract(self.lang) for b in self.blocks],
            "bibliography": [e.to_contract(self.lang) for e in self.bibliography],
            "mode": self.mode,
            "plan": {
                "name": self.plan.name,
                "kind": self.plan.kind,
                "chars": self.plan.chars,
                "sentences": len(self.plan.sentences),
                "warnings": self.plan.warnings,
            },
            "notices": self.notices,
            "created": self.created,
            "lang": self.lang,
        }


def default_topics(factors: list[FactorResult], limit: int = MAX_TOPICS) -> list[str]:
    """Topics for the building blocks: those of the weakest factors (never none)."""
    ranked = sorted(factors, key=lambda f: (_SEVERITY[f.rating], f.share))
    weak = [f.topic for f in ranked if f.rating != "gruen"][:limit]
    return weak or [ranked[0].topic]


def run_check(
    services: Services,
    plan: Plan,
    *,
    topics: list[str] | None = None,
    config: CheckConfig | None = None,
    summaries: bool = True,
    judge_criteria: bool = True,
    lang: str = "de",
) -> CheckReport:
    """Check ``plan`` against the five success factors.

    Args:
        services: Retriever (guidance passages) and, optionally, a chat model for short summaries.
        plan: The plan, see ``assistant.check.plan``.
        topics: Topics for "Bausteine für den Antrag"; default: the topics of the weakest factors.
        config: Criteria; default: ``assistant/data/check_factors.yaml``.
        summaries: Ask the chat model (if any) for a short cited summary per factor.
        judge_criteria: Let the chat model (if any) judge the criteria; a verdict counts only with a quote
            found verbatim in the plan (``assistant.check.llm_judge``).
        lang: Language of the report's own words ("de" or "en"); plan sentences and quotes stay as written.
    """
    lang = "en" if lang == "en" else "de"
    started = time.perf_counter()
    config = config or load_config()
    base_url = services.settings.public_base_url
    judge = judge_for(getattr(services, "embedder", None), config)
    notices: list[str] = []
    mode = "extractive"
    verdicts: dict[str, Verdict] = {}
    if judge_criteria and services.chat_model is not None:
        from assistant.check.llm_judge import llm_verdicts

        verdicts = llm_verdicts(services.chat_model, plan, config)
        if verdicts:
            mode = "llm"
            what = tr(lang, "criterion_one" if len(verdicts) == 1 else "criterion_many")
            notices.append(tr(lang, "llm_judged", n=len(verdicts), what=what))
    factors = assess(plan, config, services.retriever, base_url, judge, verdicts, lang)
    if summaries and services.chat_model is not None:
        from assistant.check.summary import summarize_all

        written = summarize_all(services.chat_model, factors)
        if written:
            mode = "llm"
        elif mode != "llm":
            notices.append(tr(lang, "no_summary"))
    chosen = [t for t in (topics or []) if t and t.strip()][:MAX_TOPICS] or default_topics(factors)
    blocks = [build_block(services.retriever, t, config=config, base_url=base_url) for t in chosen]
    blocks = [b for b in blocks if b.statements]
    if not any(f.citations for f in factors):
        notices.append(tr(lang, "no_sources"))
    citations = [c for f in factors for c in f.citations] + [c for b in blocks for c in b.citations]
    report = CheckReport(plan, factors, blocks, bibliography(citations), mode, notices + plan.warnings, lang=lang)
    report.seconds = time.perf_counter() - started
    log.info("check of %s: %s in %.1fs", plan.name, [f.rating for f in factors], report.seconds)
    return report


# --- plain text for the terminal ---------------------------------------------------------------------------

def render_text(report: CheckReport) -> str:
    lang = report.lang
    q = lambda text: f"„{text}“"  # noqa: E731 - plan sentences and quotes keep the marks of their language
    out = [tr(lang, "title", name=report.plan.name) + f" ({report.created})", ""]
    out.append(tr(lang, "lights"))
    for f in report.factors:
        width = 6 if lang == "en" else 5  # "YELLOW" / "GRÜN"
        out.append(f"  {rating_label(f.rating, lang).upper():{width}}  {f.label}")
    for f in report.factors:
        out += ["", f"== {f.label}: {rating_label(f.rating, lang).upper()} ==", f.reason]
        if f.summary:
            out += [tr(lang, "summary") + ":", f"  {f.summary}"]
        out.append(tr(lang, "found") + ":")
        out += [f"  – {q(s.text)}" for s in f.found] or [f"  – ({tr(lang, 'found_none')})"]
        out.append(tr(lang, "criteria") + ":")
        for c in f.criteria:
            out.append(f"  [{status_label(c.status, lang):7}] {c.criterion.label_in(lang)}")
            out += [f"            {tr(lang, 'evidence')}: {q(m.sentence.text)}" for m in c.evidence()[:MAX_EVIDENCE]]
        if f.gaps:
            out.append(tr(lang, "gaps") + ":")
            out += [f"  – {g}" for g in f.gaps]
        if f.steps:
            out.append(tr(lang, "steps") + ":")
            out += [f"  {i}. {s}" for i, s in enumerate(f.steps, start=1)]
        if f.guidance:
            out.append(tr(lang, "guidance") + ":")
            out += [f"  {q(text)} [{n}]" for text, n in f.guidance]
        if f.citations:
            out.append(tr(lang, "sources") + ":")
            out += [f"  [{c.n}] {short_reference(c, lang)} – {q(c.quote)}" for c in f.citations]
    if report.blocks:
        out += ["", f"== {tr(lang, 'blocks')} =="]
        for b in report.blocks:
            out += ["", f"-- {b.topic} --", b.as_text(lang)]
    if report.bibliography:
        out += ["", f"== {tr(lang, 'bibliography')} =="]
        out += [f"  {e.text_in(lang)}" for e in report.bibliography]
    for notice in report.notices:
        out.append(f"{tr(lang, 'notice')}: {notice}")
    out += ["", tr(lang, "disclaimer")]
    return "\n".join(out)
