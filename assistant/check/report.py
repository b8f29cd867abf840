"""The check as a service: plan in, report out (factors, building blocks, bibliography), plus its text form.

``run_check`` imports no web framework and writes nothing: the plan is never added to the index.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.check.assess import MAX_EVIDENCE, RATING_LABELS, STATUS_LABELS, FactorResult, assess
from assistant.check.blocks import BibEntry, BuildingBlock, bibliography, build_block, short_reference
from assistant.check.criteria import CheckConfig, load_config
from assistant.check.llm_judge import Verdict
from assistant.check.match import judge_for
from assistant.check.plan import Plan
from assistant.types import Citation

if TYPE_CHECKING:
    from assistant.services import Services

log = logging.getLogger(__name__)

MAX_TOPICS = 3
_SEVERITY = {"rot": 0, "gelb": 1, "gruen": 2}
DISCLAIMER = (
    "Automatische Prüfung anhand von Stichwörtern und der Wissensbasis des Verstetigungslotsen. Sie ersetzt keine "
    "fachliche Bewertung; bitte die zitierten Quellen selbst lesen."
)


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

    def factor(self, name: str) -> FactorResult:
        return next(f for f in self.factors if f.factor == name)

    def all_citations(self) -> list[Citation]:
        return [c for f in self.factors for c in f.citations] + [c for b in self.blocks for c in b.citations]

    def to_contract(self) -> dict[str, Any]:
        """``{"factors": [...]}`` as in the interface contract, plus the extra keys it allows."""
        return {
            "factors": [f.to_contract() for f in self.factors],
            "blocks": [b.to_contract() for b in self.blocks],
            "bibliography": [e.to_contract() for e in self.bibliography],
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
    """
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
            notices.append(
                f"Das Sprachmodell hat {len(verdicts)} {'Kriterium' if len(verdicts) == 1 else 'Kriterien'} "
                "beurteilt, jeweils mit einem wörtlich im Plan gefundenen Beleg; alle übrigen Kriterien sind "
                "extraktiv beurteilt."
            )
    factors = assess(plan, config, services.retriever, base_url, judge, verdicts)
    if summaries and services.chat_model is not None:
        from assistant.check.summary import summarize_all

        written = summarize_all(services.chat_model, factors)
        if written:
            mode = "llm"
        elif mode != "llm":
            notices.append("Das Sprachmodell hat keine belegbare Zusammenfassung geliefert; der Bericht ist extraktiv.")
    chosen = [t for t in (topics or []) if t and t.strip()][:MAX_TOPICS] or default_topics(factors)
    blocks = [build_block(services.retriever, t, config=config, base_url=base_url) for t in chosen]
    blocks = [b for b in blocks if b.statements]
    if not any(f.citations for f in factors):
        notices.append(
            "Die Wissensbasis enthält keine passenden Quellen (leerer Index?). Lücken und Schritte stehen ohne Beleg."
        )
    citations = [c for f in factors for c in f.citations] + [c for b in blocks for c in b.citations]
    report = CheckReport(plan, factors, blocks, bibliography(citations), mode, notices + plan.warnings)
    report.seconds = time.perf_counter() - started
    log.info("check of %s: %s in %.1fs", plan.name, [f.rating for f in factors], report.seconds)
    return report


# --- plain text for the terminal ---------------------------------------------------------------------------

def render_text(report: CheckReport) -> str:
    out = [f"Verstetigungs-Check: {report.plan.name} ({report.created})", ""]
    out.append("Ampel je Erfolgsfaktor:")
    for f in report.factors:
        out.append(f"  {RATING_LABELS[f.rating].upper():5}  {f.label}")
    for f in report.factors:
        out += ["", f"== {f.label}: {RATING_LABELS[f.rating].upper()} ==", f.reason]
        if f.summary:
            out += ["Zusammenfassung (Sprachmodell):", f"  {f.summary}"]
        out.append("Was der Plan schon sagt:")
        out += [f"  – „{s.text}“" for s in f.found] or ["  – (nichts gefunden)"]
        out.append("Kriterien:")
        for c in f.criteria:
            out.append(f"  [{STATUS_LABELS[c.status]:7}] {c.criterion.label}")
            out += [f"            belegt durch: „{m.sentence.text}“" for m in c.evidence()[:MAX_EVIDENCE]]
        if f.gaps:
            out.append("Lücken:")
            out += [f"  – {g}" for g in f.gaps]
        if f.steps:
            out.append("Nächste Schritte:")
            out += [f"  {i}. {s}" for i, s in enumerate(f.steps, start=1)]
        if f.guidance:
            out.append("Aus den Leitfäden:")
            out += [f"  „{text}“ [{n}]" for text, n in f.guidance]
        if f.citations:
            out.append("Quellen:")
            out += [f"  [{c.n}] {short_reference(c)} – „{c.quote}“" for c in f.citations]
    if report.blocks:
        out += ["", "== Bausteine für den Antrag =="]
        for b in report.blocks:
            out += ["", f"-- {b.topic} --", b.as_text()]
    if report.bibliography:
        out += ["", "== Literaturverzeichnis =="]
        out += [f"  {e.text}" for e in report.bibliography]
    for notice in report.notices:
        out.append(f"Hinweis: {notice}")
    out += ["", DISCLAIMER]
    return "\n".join(out)
