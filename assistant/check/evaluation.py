"""Measuring the Verstetigungs-Check's detection against hand-labelled plans (``tests/eval/plans/``).

The set is a folder of plans and one ``labels.jsonl``: per plan its file, its ``split`` (``dev`` or ``test``;
settings are chosen on dev only) and, per criterion the plan fulfils, fragments of the plan sentence(s) that
fulfil it. A criterion not listed is not fulfilled (or only vaguely: vague counts as not fulfilled here).

Scoring is strict about evidence: a criterion reported "erfüllt" counts as a true positive only when one of its
evidence sentences contains a labelled fragment; "erfüllt" with evidence from an unrelated sentence is both a
false positive and a false negative. The gold rating of a factor applies the check's own traffic-light rule
(``assess.rate``) to the labelled statuses, so rating agreement measures detection, not the rule.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.check.assess import CriterionResult, analyse_sentences, detect, rate
from assistant.check.criteria import CheckConfig, load_config
from assistant.check.match import SentenceJudge
from assistant.check.plan import Plan, read_plan_file
from assistant.errors import InputError

SPLITS = ("dev", "test")


@dataclass
class PlanCase:
    id: str
    file: Path
    split: str
    labels: dict[str, list[str]]
    style: str = ""
    strength: str = ""


def load_plan_set(folder: Path) -> list[PlanCase]:
    """The labelled plans of ``folder`` (``labels.jsonl`` next to the plan files)."""
    path = Path(folder) / "labels.jsonl"
    if not path.is_file():
        raise InputError(
            f"„{path}“ fehlt: Der Ordner muss eine labels.jsonl mit den beschrifteten Plänen enthalten.",
            f"'{path}' is missing: the folder needs a labels.jsonl with the labelled plans.",
        )
    cases = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(
                f"{path}:{i}: kein gültiges JSON ({e}).", f"{path}:{i}: invalid JSON ({e})."
            ) from e
        cases.append(
            PlanCase(
                id=raw["id"],
                file=Path(folder) / raw["file"],
                split=raw.get("split", "dev"),
                labels={k: list(v) for k, v in (raw.get("labels") or {}).items() if v},
                style=raw.get("style", ""),
                strength=raw.get("strength", ""),
            )
        )
    return cases


def gold_result(result: CriterionResult, fragments: list[str]) -> CriterionResult:
    return CriterionResult(result.criterion, "erfuellt" if fragments else "fehlt")


def evidence_texts(result: CriterionResult) -> list[str]:
    return [m.sentence.text for m in result.evidence()]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
        }


@dataclass
class SplitScore:
    plans: int = 0
    criteria: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    factors: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    ratings_agree: int = 0
    ratings_total: int = 0
    critical_missed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def overall(self) -> Counts:
        total = Counts()
        for c in self.factors.values():
            total.add(c)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "plans": self.plans,
            "overall": self.overall().to_dict(),
            "factors": {k: v.to_dict() for k, v in self.factors.items()},
            "criteria": {k: v.to_dict() for k, v in self.criteria.items()},
            "rating_agreement": round(self.ratings_agree / self.ratings_total, 3)
            if self.ratings_total
            else None,
            "critical_missed": self.critical_missed,
            "errors": self.errors,
        }


def score_plan(
    case: PlanCase, plan: Plan, config: CheckConfig, judge: SentenceJudge | None, score: SplitScore
) -> None:
    analysed = analyse_sentences(plan, config)
    for factor, fc in config.factors.items():
        results = detect(analysed, fc, config, judge=judge)
        gold = [gold_result(r, case.labels.get(r.criterion.id, [])) for r in results]
        for r in results:
            cid = r.criterion.id
            fragments = case.labels.get(cid, [])
            said = r.status == "erfuellt"
            right = said and any(f in t for t in evidence_texts(r) for f in fragments)
            c = Counts(tp=int(right), fp=int(said and not right), fn=int(bool(fragments) and not right))
            score.criteria[cid].add(c)
            score.factors[factor].add(c)
            if fragments and r.criterion.critical and r.status == "fehlt":
                score.critical_missed.append(f"{case.id}:{cid}")
            if said and not right:
                score.errors.append(f"{case.id}:{cid} FP {evidence_texts(r)[:1]}")
            if fragments and not right:
                score.errors.append(f"{case.id}:{cid} FN ({r.status}) {fragments[:1]}")
        score.ratings_total += 1
        score.ratings_agree += rate(results, config)[0] == rate(gold, config)[0]
    score.plans += 1


def run_check_eval(
    folder: Path, config: CheckConfig | None = None, judge: SentenceJudge | None = None
) -> dict:
    """Precision and recall per criterion and factor, rating agreement and critical misses, dev and test apart."""
    config = config or load_config()
    known = {c.id for fc in config.factors.values() for c in fc.criteria}
    cases = load_plan_set(folder)
    scores = {s: SplitScore() for s in SPLITS}
    for case in cases:
        unknown = set(case.labels) - known
        if unknown:
            raise InputError(
                f"{case.id}: unbekannte Kriterien {sorted(unknown)}.",
                f"{case.id}: unknown criteria {sorted(unknown)}.",
            )
        plan = read_plan_file(case.file)
        score_plan(case, plan, config, judge, scores[case.split])
    return {"set": str(folder), "plans": len(cases), "splits": {s: v.to_dict() for s, v in scores.items()}}


def format_check_eval(report: dict, errors: bool = False) -> str:
    out = [f"Verstetigungs-Check, Evaluation: {report['set']} ({report['plans']} Pläne)"]
    for split, s in report["splits"].items():
        o = s["overall"]
        out += [
            "",
            f"== {split} ({s['plans']} Pläne) ==",
            f"gesamt: Precision {o['precision']:.3f}  Recall {o['recall']:.3f}  "
            f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']}); Ampel-Übereinstimmung {s['rating_agreement']}",
            f"kritische Kriterien als fehlend gemeldet, obwohl im Plan: {len(s['critical_missed'])} "
            f"{s['critical_missed']}",
            "je Faktor:",
        ]
        out += [
            f"  {k:20} P {v['precision']:.3f}  R {v['recall']:.3f}  (tp {v['tp']}, fp {v['fp']}, fn {v['fn']})"
            for k, v in s["factors"].items()
        ]
        out.append("je Kriterium:")
        out += [
            f"  {k:20} P {v['precision']:.3f}  R {v['recall']:.3f}  (tp {v['tp']}, fp {v['fp']}, fn {v['fn']})"
            for k, v in s["criteria"].items()
        ]
        if errors:
            out.append("Abweichungen:")
            out += [f"  {e}" for e in s["errors"]]
    return "\n".join(out)
