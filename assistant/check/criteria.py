"""The editable criteria of the Verstetigungs-Check (``assistant/data/check_factors.yaml``), loaded and validated.

Keywords are matched as substrings of the folded sentence (lower case, umlauts without dots, ß as ss, the same
folding the lexical index uses), so "Folgekosten" finds "Folgekostenrechnung" and "Zustaendigkeit" finds
"Zuständigkeit". A keyword starting with ``re:`` is a regular expression over the folded text.

Paraphrases are short phrases matched through the German analyzer of the lexical index: a sentence says the
paraphrase when it contains every content word's stem, as a word or as a part of a compound ("Zeit der
Parkplatzsuche messen" is said by "Die Suchzeit nach einem Parkplatz messen wir …" only if all three stems
occur). ``exclude`` patterns name sentences that share a keyword but speak about something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import ConfigError
from assistant.retrieval.analyzer import GermanAnalyzer, fold
from assistant.types import FACTOR_LABELS, FACTORS

DEFAULT_CRITERIA = Path(__file__).resolve().parent.parent / "data" / "check_factors.yaml"
EVIDENCE_KINDS = ("amount", "date", "number", "actor")
_analyzer: GermanAnalyzer | None = None


def analyzer() -> GermanAnalyzer:
    """The analyzer for paraphrases and plan sentences (the lexical index's, with its built-in vocabulary)."""
    global _analyzer
    if _analyzer is None:
        _analyzer = GermanAnalyzer()
    return _analyzer


def stems(text: str) -> frozenset[str]:
    """Stems of the words of ``text`` and of the parts of its compounds."""
    return frozenset(analyzer().analyze(text))


def fold_text(text: str) -> str:
    """Lower-case and fold a whole text the way keywords are folded."""
    return fold(" ".join(text.lower().split()))


@dataclass(frozen=True)
class Pattern:
    """One keyword: shown as written, matched folded."""

    shown: str
    regex: re.Pattern[str]

    def search(self, folded: str) -> bool:
        return self.regex.search(folded) is not None


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    keywords: tuple[Pattern, ...]
    combinations: tuple[tuple[tuple[Pattern, ...], ...], ...]
    evidence: tuple[str, ...]
    critical: bool
    query: str
    step: str
    paraphrases: tuple[str, ...] = ()
    paraphrase_stems: tuple[frozenset[str], ...] = ()
    exclude: tuple[Pattern, ...] = ()
    label_en: str = ""
    step_en: str = ""

    def label_in(self, lang: str) -> str:
        """The label in ``lang`` (the German one when no English one is configured)."""
        return self.label_en if lang == "en" and self.label_en else self.label

    def step_in(self, lang: str) -> str:
        return self.step_en if lang == "en" and self.step_en else self.step

    @property
    def descriptions(self) -> tuple[str, ...]:
        """What the criterion means, in words: compared with plan sentences by dense similarity."""
        return (self.label, self.query, *self.paraphrases)

    def matches(self, folded: str) -> bool:
        return self.score(folded) > 0

    def score(self, folded: str, sentence_stems: frozenset[str] = frozenset()) -> int:
        """How strongly a sentence addresses the criterion: keywords found plus combinations fully met plus
        paraphrases said (0: not, or an ``exclude`` pattern says it speaks about something else)."""
        if any(p.search(folded) for p in self.exclude):
            return 0
        hits = sum(p.search(folded) for p in self.keywords)
        hits += sum(
            all(any(p.search(folded) for p in group) for group in combo) for combo in self.combinations
        )
        if sentence_stems:
            hits += sum(bool(ps) and ps <= sentence_stems for ps in self.paraphrase_stems)
        return hits


@dataclass(frozen=True)
class FactorConfig:
    factor: str
    label: str
    guidance_query: str
    topic: str
    topic_query: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class CheckConfig:
    factors: dict[str, FactorConfig]
    vagueness: tuple[Pattern, ...]
    evidence: dict[str, Pattern]
    green_from: float
    yellow_from: float
    dense_alone: float = 1.0
    dense_margin: float = 1.0
    dense_model: str = ""

    def topics(self) -> dict[str, FactorConfig]:
        """Known building-block topics (case-insensitive) → their factor."""
        return {f.topic.casefold(): f for f in self.factors.values()}


def _pattern(raw: Any, where: str) -> Pattern:
    if isinstance(raw, dict) and set(raw) == {"match", "label"}:  # a regex with a readable name
        inner = _pattern(raw["match"], where)
        return Pattern(str(raw["label"]), inner.regex)
    if not isinstance(raw, str) or not raw.strip():
        raise _bad(f"{where}: leeres oder ungültiges Stichwort {raw!r}")
    if raw.startswith("re:"):
        try:
            return Pattern(raw, re.compile(fold(raw[3:])))  # written lower-case and folded
        except re.error as e:
            raise _bad(f"{where}: regulärer Ausdruck {raw!r} ist ungültig ({e})") from e
    return Pattern(raw, re.compile(re.escape(fold_text(raw))))


def _bad(detail: str) -> ConfigError:
    return ConfigError(
        f"Die Prüfkriterien (check_factors.yaml) sind fehlerhaft: {detail}. Bitte die Datei korrigieren.",
        f"The check criteria (check_factors.yaml) are invalid: {detail}.",
    )


def _criterion(c: object, where: str) -> Criterion:
    """One criterion of the file, validated (``where`` names it in the error message)."""
    if not isinstance(c, dict) or not c.get("id") or not c.get("label"):
        raise _bad(f"{where}: 'id' und 'label' sind Pflicht")
    ev = c.get("evidence") or []
    ev = [ev] if isinstance(ev, str) else list(ev)
    if any(e not in EVIDENCE_KINDS for e in ev):
        raise _bad(f"{where}: evidence erlaubt nur {', '.join(EVIDENCE_KINDS)}")
    keywords = tuple(_pattern(k, where) for k in c.get("keywords") or [])
    combos = tuple(
        tuple(tuple(_pattern(k, where) for k in group) for group in combo) for combo in c.get("combinations") or []
    )
    paraphrases = tuple(str(x) for x in c.get("paraphrases") or [])
    if not keywords and not combos and not paraphrases:
        raise _bad(f"{where}: 'keywords', 'combinations' oder 'paraphrases' angeben")
    label_en = str(c.get("label_en") or "")
    return Criterion(
        id=str(c["id"]),
        label=str(c["label"]),
        keywords=keywords,
        combinations=combos,
        evidence=tuple(ev),
        critical=bool(c.get("critical", False)),
        query=str(c.get("query") or c["label"]),
        step=str(c.get("step") or f"{c['label']}: im Plan ergänzen."),
        paraphrases=paraphrases,
        paraphrase_stems=tuple(stems(x) for x in paraphrases),
        exclude=tuple(_pattern(k, where) for k in c.get("exclude") or []),
        label_en=label_en,
        step_en=str(c.get("step_en") or (f"{label_en}: add it to the plan." if label_en else "")),
    )


def load_config(path: Path | None = None) -> CheckConfig:
    """Read and validate the criteria file; raise ConfigError with a German message on any problem."""
    path = path or DEFAULT_CRITERIA
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise _bad(f"{path} nicht lesbar ({e})") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("factors"), dict):
        raise _bad("der Abschnitt 'factors' fehlt")
    missing = [f for f in FACTORS if f not in raw["factors"]]
    unknown = [f for f in raw["factors"] if f not in FACTORS]
    if missing or unknown:
        raise _bad(f"erwartet werden genau die Faktoren {', '.join(FACTORS)}")
    evidence_raw = raw.get("evidence") or {}
    evidence = {k: _pattern(evidence_raw.get(k), f"evidence.{k}") for k in EVIDENCE_KINDS}
    vagueness = tuple(_pattern(v, "vagueness") for v in raw.get("vagueness") or [])
    rating = raw.get("rating") or {}
    green, yellow = float(rating.get("green_from", 0.8)), float(rating.get("yellow_from", 0.5))
    if not 0 < yellow <= green <= 1:
        raise _bad("rating: es muss 0 < yellow_from ≤ green_from ≤ 1 gelten")
    factors: dict[str, FactorConfig] = {}
    for factor in FACTORS:
        spec = raw["factors"][factor] or {}
        criteria = [_criterion(c, f"{factor}.criteria[{i}]") for i, c in enumerate(spec.get("criteria") or [])]
        if not criteria:
            raise _bad(f"{factor}: keine Kriterien")
        factors[factor] = FactorConfig(
            factor=factor,
            label=FACTOR_LABELS[factor],
            guidance_query=str(spec.get("guidance_query") or FACTOR_LABELS[factor]),
            topic=str(spec.get("topic") or FACTOR_LABELS[factor]),
            topic_query=str(spec.get("topic_query") or spec.get("topic") or FACTOR_LABELS[factor]),
            criteria=tuple(criteria),
        )
    matching = raw.get("matching") or {}
    return CheckConfig(
        factors,
        vagueness,
        evidence,
        green,
        yellow,
        dense_alone=float(matching.get("dense_alone", 1.0)),
        dense_margin=float(matching.get("dense_margin", 1.0)),
        dense_model=str(matching.get("dense_model") or ""),
    )
