"""Assessing a plan per success factor: what it says, what is missing or vague, a traffic light, next steps,
and the guidance passages that back every gap and step.

Detection stays explainable (see the header of ``check_factors.yaml`` and ``assistant.check.match``): a sentence
addresses a criterion when an affirmed (not negated) statement of it contains the criterion's keywords or says
one of its paraphrases, and, with the embedder the thresholds were chosen for, when dense similarity says so;
it counts as concrete unless it carries a vagueness marker ("soll geprüft werden", "ggf.", "noch offen") or
lacks the evidence the criterion asks for (an amount, a date, a named unit). Every "erfüllt" carries the plan
sentences that fulfil it. An LLM verdict replaces the extractive one only with a quote verified in the plan
(``assistant.check.llm_judge``). The rating follows the example evaluation of the corpus's "Checkliste
Verstetigung": share of criteria met (vague ones count half), red below 50 % or when a critical criterion is
missing, green from 80 % with every critical criterion concretely covered, yellow in between.

Guidance comes from the index only (``assistant.check.guidance``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from assistant.check.criteria import CheckConfig, Criterion, FactorConfig, fold_text
from assistant.check.guidance import CitationBook, cite_marker, guidance_passage
from assistant.check.llm_judge import Verdict
from assistant.check.match import (
    MIN_WORDS,
    LexicalHit,
    SentenceJudge,
    Statement,
    affirmed_stems,
    lexical,
    statements,
)
from assistant.check.plan import Plan, PlanSentence
from assistant.check.texts import EVIDENCE_MISSING, factor_label, rating_label, tr
from assistant.retrieval.hybrid import HybridRetriever
from assistant.types import Citation, ScoredChunk

log = logging.getLogger(__name__)

Status = Literal["erfuellt", "vage", "fehlt"]
Rating = Literal["gruen", "gelb", "rot"]

#: Most plan sentences listed under "found" per factor.
MAX_FOUND = 8
#: Most evidence sentences shown per fulfilled criterion.
MAX_EVIDENCE = 3


@dataclass(frozen=True)
class SentenceMatch:
    """A plan sentence that addresses a criterion, and why it may not count as concrete."""

    sentence: PlanSentence
    vague_markers: tuple[str, ...] = ()
    missing_evidence: tuple[str, ...] = ()

    @property
    def concrete(self) -> bool:
        return not self.vague_markers and not self.missing_evidence

    def why_vague(self, lang: str = "de") -> str:
        """Why the sentence is not concrete: its vagueness markers (quoted from the plan), missing evidence."""
        parts = []
        if self.vague_markers:
            shown = [tr(lang, "llm_vague") if m == LLM_VAGUE_MARKER else m for m in self.vague_markers[:2]]
            parts.append(", ".join(f"„{m}“" for m in shown))
        if self.missing_evidence:
            what = tr(lang, "or").join(EVIDENCE_MISSING[e][1 if lang == "en" else 0] for e in self.missing_evidence)
            parts.append(tr(lang, "without", what=what))
        return "; ".join(parts)


@dataclass
class CriterionResult:
    criterion: Criterion
    status: Status
    matches: list[SentenceMatch] = field(default_factory=list)
    citation: int | None = None
    judged_by: Literal["extraktiv", "llm"] = "extraktiv"

    def evidence(self) -> list[SentenceMatch]:
        """The plan sentences that fulfil the criterion (empty unless "erfüllt")."""
        return [m for m in self.matches if m.concrete] if self.status == "erfuellt" else []

    def to_contract(self, lang: str = "de") -> dict[str, Any]:
        vague = next((m for m in self.matches if not m.concrete), None)
        return {
            "id": self.criterion.id,
            "label": self.criterion.label_in(lang),
            "status": self.status,
            "critical": self.criterion.critical,
            "quotes": [m.sentence.text for m in self.matches[:3]],
            "why_vague": vague.why_vague(lang) if self.status == "vage" and vague else "",
            "citation": self.citation,
            "judged_by": self.judged_by,
            "evidence": [
                {"text": m.sentence.text, "section": m.sentence.section, "page": m.sentence.page}
                for m in self.evidence()[:MAX_EVIDENCE]
            ],
        }


@dataclass
class FactorResult:
    """The check of one factor. ``gaps`` and ``steps`` carry ``[n]`` markers that refer to ``citations``."""

    factor: str
    label: str
    rating: Rating
    reason: str
    share: float
    criteria: list[CriterionResult]
    found: list[PlanSentence]
    gaps: list[str]
    steps: list[str]
    citations: list[Citation]
    guidance: list[tuple[str, int]]  # (verbatim sentence, citation n)
    hits: list[ScoredChunk] = field(default_factory=list, repr=False)  # per citation, for the LLM summary
    summary: str | None = None
    topic: str = ""
    lang: str = "de"  # the language of label, reason, gaps and steps

    def to_contract(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "rating": self.rating,
            "found": [s.text for s in self.found],
            "gaps": self.gaps,
            "steps": self.steps,
            "citations": [c.to_contract() for c in self.citations],
            "label": self.label,
            "rating_label": rating_label(self.rating, self.lang),
            "reason": self.reason,
            "share": round(self.share, 3),
            "criteria": [c.to_contract(self.lang) for c in self.criteria],
            "guidance": [{"text": text, "n": n} for text, n in self.guidance],
            "summary": self.summary,
        }


# --- detection and rating (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Analysed:
    sentence: PlanSentence
    folded: str
    markers: tuple[str, ...]
    parts: tuple[Statement, ...] = ()
    stems: frozenset[str] = frozenset()

    @property
    def words(self) -> int:
        return len(self.folded.split())


def analyse_sentences(plan: Plan, config: CheckConfig) -> list[_Analysed]:
    out = []
    for s in plan.sentences:
        folded = fold_text(s.text)
        markers = tuple(dict.fromkeys(p.shown for p in config.vagueness if p.search(folded)))
        parts = statements(folded, config)
        out.append(_Analysed(s, folded, markers, parts, affirmed_stems(parts)))
    return out


def _judge_sentence(
    a: _Analysed,
    criterion: Criterion,
    config: CheckConfig,
    similarities: dict[str, float] | None,
) -> LexicalHit | None:
    """Whether sentence ``a`` speaks about ``criterion`` (see ``assistant.check.match``)."""
    if a.words < MIN_WORDS:
        return None
    hit = lexical(a.parts, a.stems, criterion)
    if similarities is None:
        return hit
    nearest = max(similarities.values())
    own = similarities[criterion.id]
    if hit is not None and nearest - own > config.dense_margin:
        return None  # the words are shared, but the sentence speaks about another criterion
    if hit is None and own >= config.dense_alone and own >= nearest and not any(p.negated for p in a.parts):
        markers = tuple(dict.fromkeys(m for p in a.parts for m in p.markers))
        return LexicalHit(1, markers, " ; ".join(p.affirmed for p in a.parts))
    return hit


def detect(
    analysed: list[_Analysed], factor: FactorConfig, config: CheckConfig, judge: SentenceJudge | None = None
) -> list[CriterionResult]:
    """Status of each criterion of ``factor`` in the plan; with a ``judge``, dense similarity takes part."""
    all_criteria = [c for fc in config.factors.values() for c in fc.criteria]
    sims: list[dict[str, float] | None] = [None] * len(analysed)
    if judge is not None:
        judge.prepare(a.sentence.text for a in analysed)
        sims = [judge.similarities(a.sentence.text, all_criteria) for a in analysed]
    results = []
    for criterion in factor.criteria:
        scored = []
        for a, sim in zip(analysed, sims, strict=True):
            hit = _judge_sentence(a, criterion, config, sim)
            if hit is None:
                continue
            has_evidence = not criterion.evidence or any(
                config.evidence[e].search(hit.evidence_text) for e in criterion.evidence
            )
            missing = () if has_evidence else criterion.evidence
            scored.append((hit.score, SentenceMatch(a.sentence, hit.markers, missing)))
        # Concrete first, then the sentences that address the criterion most directly, then plan order.
        scored.sort(key=lambda sm: (not sm[1].concrete, -sm[0]))
        matches = [m for _, m in scored]
        status: Status = "erfuellt" if any(m.concrete for m in matches) else "vage" if matches else "fehlt"
        results.append(CriterionResult(criterion, status, matches))
    return results


#: Shown as the vagueness marker of a sentence the language model judged non-committal.
LLM_VAGUE_MARKER = "unverbindlich laut Sprachmodell"


def apply_verdict(result: CriterionResult, verdict: Verdict | None) -> CriterionResult:
    """The LLM's verdict replaces the extractive one only with its verified quote; its sentence comes first."""
    if verdict is None:
        return result
    others = [m for m in result.matches if m.sentence != verdict.sentence]
    if verdict.status == "erfuellt":
        first = SentenceMatch(verdict.sentence)
    else:
        first = SentenceMatch(verdict.sentence, (LLM_VAGUE_MARKER,))
        others = [replace(m, vague_markers=m.vague_markers or (LLM_VAGUE_MARKER,)) for m in others]
    status: Status = "erfuellt" if verdict.status == "erfuellt" else "vage"
    return CriterionResult(result.criterion, status, [first, *others], result.citation, judged_by="llm")


def rate(results: list[CriterionResult], config: CheckConfig, lang: str = "de") -> tuple[Rating, str, float]:
    """Traffic light, the reason (in ``lang``), and the share of criteria met (vague ones count half)."""
    n = len(results)
    met = sum(r.status == "erfuellt" for r in results)
    vague = sum(r.status == "vage" for r in results)
    missing = n - met - vague
    share = (met + 0.5 * vague) / n if n else 0.0
    critical_missing = [r.criterion.label_in(lang) for r in results if r.criterion.critical and r.status == "fehlt"]
    critical_vague = [r.criterion.label_in(lang) for r in results if r.criterion.critical and r.status == "vage"]
    pct = lambda x: f"{round(100 * x)} %" if lang != "en" else f"{round(100 * x)}%"  # noqa: E731
    quoted = lambda xs: ", ".join(f"„{x}“" if lang != "en" else f"“{x}”" for x in xs)  # noqa: E731
    counts = tr(lang, "counts", met=met, n=n, vague=vague, missing=missing, share=pct(share))
    if critical_missing:
        return "rot", tr(lang, "red_critical", names=quoted(critical_missing), counts=counts), share
    if share < config.yellow_from:
        return "rot", tr(lang, "red_share", limit=pct(config.yellow_from), counts=counts), share
    if share >= config.green_from and not critical_vague:
        return "gruen", tr(lang, "green", counts=counts), share
    why = []
    if share < config.green_from:
        why.append(tr(lang, "green_from", limit=pct(config.green_from)))
    if critical_vague:
        why.append(tr(lang, "critical_vague", names=quoted(critical_vague)))
    return "gelb", tr(lang, "yellow", counts=counts, why="; ".join(why)), share


def assess_factor(
    analysed: list[_Analysed],
    factor: FactorConfig,
    config: CheckConfig,
    retriever: HybridRetriever,
    base_url: str = "",
    judge: SentenceJudge | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
    lang: str = "de",
) -> FactorResult:
    results = [apply_verdict(r, (verdicts or {}).get(r.criterion.id)) for r in detect(analysed, factor, config, judge)]
    rating, reason, share = rate(results, config, lang)
    book = CitationBook(base_url)

    guidance: list[tuple[str, int]] = []
    picked = guidance_passage(retriever, factor.guidance_query, factor.factor)
    if picked:
        guidance.append((picked[1], book.cite(*picked)))

    gaps: list[str] = []
    steps: list[tuple[tuple[int, int], str]] = []
    for r in results:
        if r.status == "erfuellt":
            continue
        picked = guidance_passage(retriever, r.criterion.query, factor.factor)
        r.citation = book.cite(*picked) if picked else None
        critical = tr(lang, "critical") if r.criterion.critical else ""
        label = r.criterion.label_in(lang)
        if r.status == "fehlt":
            gaps.append(tr(lang, "gap_missing", label=label, critical=critical) + cite_marker(r.citation))
        else:
            why = next(m for m in r.matches if not m.concrete).why_vague(lang)
            gaps.append(tr(lang, "gap_vague", label=label, critical=critical, why=why) + cite_marker(r.citation))
        order = (0 if r.criterion.critical else 1, 0 if r.status == "fehlt" else 1)
        steps.append((order, f"{r.criterion.step_in(lang)}{cite_marker(r.citation)}"))
    steps.sort(key=lambda s: s[0])

    found: list[PlanSentence] = []
    for m in sorted((m for r in results for m in r.matches), key=lambda m: not m.concrete):
        if m.sentence not in found:
            found.append(m.sentence)
    return FactorResult(
        factor=factor.factor,
        label=factor_label(factor.factor, factor.label, lang),
        rating=rating,
        reason=reason,
        share=share,
        criteria=results,
        found=found[:MAX_FOUND],
        gaps=gaps,
        steps=[s for _, s in steps],
        citations=book.citations,
        guidance=guidance,
        hits=book.hits,
        topic=factor.topic,
        lang=lang,
    )


def assess(
    plan: Plan,
    config: CheckConfig,
    retriever: HybridRetriever,
    base_url: str = "",
    judge: SentenceJudge | None = None,
    verdicts: Mapping[str, Verdict] | None = None,
    lang: str = "de",
) -> list[FactorResult]:
    """All five factors, in the order of ``assistant.types.FACTORS``; ``judge`` adds dense similarity,
    ``verdicts`` are LLM judgements with verified quotes (``assistant.check.llm_judge``); ``lang`` is the
    language of the report's own words (plan sentences and quotes stay as written)."""
    analysed = analyse_sentences(plan, config)
    return [
        assess_factor(analysed, fc, config, retriever, base_url, judge, verdicts, lang)
        for fc in config.factors.values()
    ]
