"""Whether a plan sentence speaks about a criterion: statements, negation, paraphrases and dense similarity.

A plan sentence is read as one or more statements (table cells joined by " | " and parts separated by ";" are
independent statements, each with its own vagueness), and each statement as clauses (", "). A clause with a
negation ("nicht", "kein", "niemand", "fehlt") says that something is absent, so its words fulfil nothing:
"Eine Ausgangsmessung gibt es bisher nicht" is no baseline, while in "Daten verbleiben nicht beim Anbieter,
sondern werden in das Dokumentenmanagement übertragen" the second clause still counts.

Dense similarity (``SentenceJudge``) compares each plan sentence with the criterion's descriptions (label,
guidance query, paraphrases) through the configured embedder. It adds sentences the words miss only when the
criterion is the sentence's nearest criterion and the similarity reaches ``matching.dense_alone``; and it
removes a keyword match whose criterion lies more than ``matching.dense_margin`` below the sentence's nearest
criterion, so a budget sentence that mentions the "Büro des Rates" is not evidence for informing the council.
Both thresholds are chosen on the dev split of ``tests/eval/plans`` (see its README).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.check.criteria import CheckConfig, Criterion, stems
from assistant.embeddings import Embedder

_STATEMENTS = re.compile(r"\s*(?:;|\s\|\s)\s*")
_CLAUSES = re.compile(r",\s+|\s+-\s+|\s+–\s+")
_NEGATION = re.compile(r"\b(?:nicht|kein(?:e|en|em|er|es)?|niemand|nichts|weder|fehlt|fehlen)\b")
#: Negation words that do not deny the statement ("nicht nur", "kein Herstellerzwang" is a positive property).
_NOT_DENYING = re.compile(
    r"\bnicht nur\b|\bnicht mehr als\b|\bkein(?:e|en|er)?\s+[\w-]*(?:zwang|bindung|abhangigkeit|lock-in)\b"
)
#: An indirect question ("ob …") affirms nothing; nor does a question in a table's label cell.
_WHETHER = re.compile(r"^\s*ob\b")
_QUESTION = re.compile(r"^\s*ob\b|.*\?\s*$")
#: Fewer words make a title or a cell label, not a statement about the project.
MIN_WORDS = 3


@dataclass(frozen=True)
class Statement:
    """One statement of a sentence: its affirmed text (negated clauses removed) and its vagueness markers."""

    affirmed: str
    markers: tuple[str, ...]
    negated: bool


def negated(clause: str) -> bool:
    return _NEGATION.search(_NOT_DENYING.sub(" ", clause)) is not None


def statements(folded: str, config: CheckConfig) -> tuple[Statement, ...]:
    out = []
    pieces = [p for p in _STATEMENTS.split(folded) if p.strip()]
    if " | " in folded and len(pieces) > 1 and (len(pieces[0].split()) <= 4 or pieces[0].endswith("?")):
        # A table row: its first cell names what the other cells say something about ("Kosten | 9.000 € im Jahr").
        pieces = [f"{pieces[0]} : {p}" for p in pieces[1:]]
    for part in pieces:
        if not part.strip():
            continue
        clauses = _CLAUSES.split(part)
        kept = [c for c in clauses if not negated(c) and not _QUESTION.match(c)]
        if any(negated(c) for c in clauses) and any(_WHETHER.match(c) for c in clauses):
            kept = []  # "Ob andere Kommunen sie nutzen könnten, haben wir nicht untersucht": all of it is denied
        markers = tuple(dict.fromkeys(p.shown for p in config.vagueness if p.search(part)))
        out.append(Statement(" , ".join(kept), markers, any(negated(c) for c in clauses)))
    return tuple(out)


@dataclass(frozen=True)
class LexicalHit:
    score: int
    markers: tuple[str, ...]  # empty when a statement without vagueness addresses the criterion
    evidence_text: str  # the affirmed text the evidence kinds (amount, date, ...) are looked for in


def lexical(
    parts: Sequence[Statement], sentence_stems: frozenset[str], criterion: Criterion
) -> LexicalHit | None:
    """The best statement of a sentence for ``criterion``: concrete ones first, then the strongest."""
    best: tuple[bool, int, Statement] | None = None
    for st in parts:
        if not st.affirmed.strip():
            continue
        score = criterion.score(st.affirmed, sentence_stems)
        if score and (best is None or (not st.markers, score) > (not best[2].markers, best[1])):
            best = (bool(st.markers), score, st)
    if best is None:
        return None
    # A vague statement is reported with its own markers; evidence may come from any affirmed statement.
    return LexicalHit(best[1], best[2].markers, " ; ".join(st.affirmed for st in parts))


def affirmed_stems(parts: Sequence[Statement]) -> frozenset[str]:
    return stems(" ".join(st.affirmed for st in parts))


class SentenceJudge:
    """Dense similarity between plan sentences and criterion descriptions (see the module docstring).

    Criterion vectors are computed once per judge; sentence vectors are cached per text, so a plan embeds each
    sentence once however many criteria look at it.
    """

    def __init__(self, embedder: Embedder, max_cached: int = 20_000) -> None:
        self.embedder = embedder
        self.max_cached = max_cached
        self._lock = threading.Lock()
        self._sentences: dict[str, np.ndarray] = {}
        self._criteria: dict[str, np.ndarray] = {}

    def prepare(self, texts: Iterable[str]) -> None:
        """Embed the sentences of a plan in one batch."""
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._sentences))
            if not todo:
                return
            if len(self._sentences) + len(todo) > self.max_cached:
                self._sentences.clear()
            for text, vector in zip(todo, self.embedder.embed_passages(todo), strict=True):
                self._sentences[text] = np.asarray(vector, dtype=np.float32)

    def _criterion(self, criterion: Criterion) -> np.ndarray:
        key = criterion.id + "\x00" + "\x00".join(criterion.descriptions)
        with self._lock:
            found = self._criteria.get(key)
        if found is None:
            found = np.stack([self.embedder.embed_query(d) for d in criterion.descriptions])
            with self._lock:
                self._criteria[key] = found
        return found

    def similarities(self, text: str, criteria: Sequence[Criterion]) -> dict[str, float]:
        """Cosine similarity of ``text`` to each criterion (the best of its descriptions)."""
        self.prepare([text])
        with self._lock:
            vector = self._sentences[text]
        return {c.id: float(np.max(self._criterion(c) @ vector)) for c in criteria}


_judges: dict[int, SentenceJudge] = {}
_judges_lock = threading.Lock()


def judge_for(embedder: Embedder | None, config: CheckConfig) -> SentenceJudge | None:
    """The shared judge for ``embedder``, or None when its model is not the one the thresholds were chosen for
    (``matching.dense_model``): similarities of another model live on another scale."""
    if embedder is None or getattr(embedder, "model_id", None) != config.dense_model:
        return None
    with _judges_lock:
        judge = _judges.get(id(embedder))
        if judge is None or judge.embedder is not embedder:
            judge = _judges[id(embedder)] = SentenceJudge(embedder)
        return judge
