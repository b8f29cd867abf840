"""`lotse eval`: retrieval and answer quality on a JSONL question set.

Question lines (see tests/eval/README.md)::

    {"id", "kind", "question", "source", "page", "phrase"}                 answerable
    {"id", "kind": "followup", "history": [...], "question", "standalone", "source", "page", "phrase"}
    {"id", "kind": "out_of_scope", "question", "answerable": false}

A retrieved passage *hits* when it comes from the expected source (and page, for paged documents) and contains
the expected phrase (compared after folding whitespace and line-break hyphenation).

Report (JSON, one object)::

    {"questions", "answerable", "out_of_scope",
     "retrieval": {"hit@1", "hit@5", "mrr@10", "phrase_recall@5", "doc_hit@5"},
     "by_kind": {kind: {"n", "hit@1", "hit@5", "mrr@10"}},
     "followup": {"n", "hit@5", "standalone_hit@5"},
     "abstention": {"out_of_scope_abstained", "answerable_abstained"},
     "answers": {"n", "citations_valid", "sentences_verbatim", "phrase_in_answer", "phrase_in_first_quote",
                 "quotes_per_answer", "non_prose_quotes", "unsupported_sentences"},
     "by_split": {split: {"answerable", "hit@5", "mrr@10", "answers": {...as above}}}   (only for sets with a "split" field)
     "latency_ms": {"retrieval_p50", "retrieval_p95", "answer_p50", "answer_p95"},
     "misses": [{"id", "question", "expected", "top"}]}

``answers.phrase_in_answer`` is the share of answerable questions whose answer text itself contains the
expected phrase: what the user reads, where ``hit@k`` only says the passage was among the sources;
``phrase_in_first_quote`` asks the same of the first quoted sentence (the one a person reads out as the answer;
for a language-model answer, its first citation's quote). ``non_prose_quotes`` counts quotes that are mostly
URL, code, path or markup; ``unsupported_sentences`` counts language-model sentences whose numbers, dates or
names no cited passage carries. Question sets with a ``split`` field ("dev"/"test") are also reported per split:
tune on "dev", report "test".
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.citations import cited_numbers
from assistant.errors import InputError
from assistant.services import Services
from assistant.types import ScoredChunk


def load_questions(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"Fragendatei nicht lesbar: {path} ({e.strerror}).", f"Cannot read {path}.") from e
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(
                f"{path}, Zeile {number}: kein gültiges JSON ({e.msg}).",
                f"{path}, line {number}: invalid JSON.",
            ) from e
        if not isinstance(item, dict) or "question" not in item:
            raise InputError(
                f"{path}, Zeile {number}: Feld 'question' fehlt.", f"{path}, line {number}: no question."
            )
        items.append(item)
    return items


def norm(text: str) -> str:
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return " ".join(text.split()).lower()


def is_hit(hit: ScoredChunk, item: dict[str, Any], need_phrase: bool = True) -> bool:
    c = hit.chunk
    if c.source != item.get("source"):
        return False
    if item.get("page") and c.page != item["page"]:
        return False
    return not need_phrase or norm(item.get("phrase") or "") in norm(c.text)


def _first_hit(hits: list[ScoredChunk], item: dict[str, Any]) -> int | None:
    for i, h in enumerate(hits, start=1):
        if is_hit(h, item):
            return i
    return None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in 0..100: the p95 of `lotse eval` and of the benchmarks. NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@dataclass
class _Tally:
    """What the questions of one run showed, question by question; `_report` turns it into the report."""

    ranks: dict[str, int | None] = field(default_factory=dict)
    by_kind: dict[str, list[int | None]] = field(default_factory=lambda: defaultdict(list))
    split_ranks: dict[str, list[int | None]] = field(default_factory=lambda: defaultdict(list))
    doc_hits: int = 0
    retrieval_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    followup_hits: list[bool] = field(default_factory=list)
    standalone_hits: list[bool] = field(default_factory=list)
    #: one per answered question: what the user read
    answer_rows: list[dict[str, Any]] = field(default_factory=list)


def run_eval(services: Services, path: Path, *, k: int = 10, answers: bool = True) -> dict[str, Any]:
    """Retrieve (and, with `answers`, answer) every question of the set at `path`; the report described above."""
    items = load_questions(path)
    chat = services.chat
    tally = _Tally()
    services.retriever.snapshot()  # build the lexical index before timing anything
    for item in items:
        answerable = item.get("answerable", True) and item.get("kind") != "out_of_scope"
        history = [{"role": "user", "content": h} for h in item.get("history", [])]
        t0 = time.perf_counter()
        result = chat.search(item["question"], history, k=k)
        tally.retrieval_ms.append((time.perf_counter() - t0) * 1000)
        if answerable:
            _score_retrieval(tally, item, result.hits, services, k)
        if answerable and item.get("split"):
            rank = tally.ranks[item["id"]]
            tally.split_ranks[item["split"]].append(rank)
        if answers:
            t1 = time.perf_counter()
            answer = chat.answer(item["question"], history)
            tally.answer_ms.append((time.perf_counter() - t1) * 1000)
            tally.answer_rows.append(answer_row(item, answerable, answer))
    return _report(items, tally)


def _score_retrieval(
    tally: _Tally, item: dict[str, Any], hits: list[Any], services: Services, k: int
) -> None:
    """Rank of the first hit for an answerable question; follow-ups also asked stand-alone; misses kept."""
    rank = _first_hit(hits, item)
    tally.ranks[item["id"]] = rank
    tally.by_kind[item.get("kind", "factual")].append(rank)
    tally.doc_hits += any(is_hit(h, item, need_phrase=False) for h in hits[:5])
    if item.get("kind") == "followup":
        tally.followup_hits.append(rank is not None and rank <= 5)
        if item.get("standalone"):
            alone = services.retriever.retrieve(item["standalone"], k=k)
            r2 = _first_hit(alone.hits, item)
            tally.standalone_hits.append(r2 is not None and r2 <= 5)
    if rank is None or rank > 5:
        tally.misses.append(
            {
                "id": item["id"],
                "question": item["question"],
                "expected": f"{item.get('source')} S.{item.get('page')} „{item.get('phrase')}“",
                "rank": rank,
                "top": [f"{h.chunk.source} S.{h.chunk.page} {h.chunk.section[:60]}" for h in hits[:3]],
            }
        )


def _rank_metrics(rs: list[int | None]) -> dict[str, float]:
    n = len(rs) or 1
    return {
        "n": len(rs),
        "hit@1": round(sum(r == 1 for r in rs) / n, 4),
        "hit@5": round(sum(r is not None and r <= 5 for r in rs) / n, 4),
        "mrr@10": round(sum(1 / r for r in rs if r is not None and r <= 10) / n, 4),
    }


def _rate(xs: list[bool]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def _report(items: list[dict[str, Any]], tally: _Tally) -> dict[str, Any]:
    all_ranks = list(tally.ranks.values())
    overall = _rank_metrics(all_ranks)
    rows = tally.answer_rows
    retrieval_ms, answer_ms = tally.retrieval_ms, tally.answer_ms
    return {
        "questions": len(items),
        "answerable": len(all_ranks),
        "out_of_scope": len(items) - len(all_ranks),
        "retrieval": {
            "hit@1": overall["hit@1"],
            "hit@5": overall["hit@5"],
            "mrr@10": overall["mrr@10"],
            "phrase_recall@5": overall["hit@5"],
            "doc_hit@5": round(tally.doc_hits / (len(all_ranks) or 1), 4),
        },
        "by_kind": {kind: _rank_metrics(rs) for kind, rs in sorted(tally.by_kind.items())},
        "followup": {
            "n": len(tally.followup_hits),
            "hit@5": _rate(tally.followup_hits),
            "standalone_hit@5": _rate(tally.standalone_hits),
        },
        "abstention": {
            "out_of_scope_abstained": _rate([r["abstained"] for r in rows if not r["answerable"]]),
            "answerable_abstained": _rate([r["abstained"] for r in rows if r["answerable"]]),
        },
        "answers": _answer_metrics(rows),
        "by_split": {
            split: {
                "answerable": m["n"],
                "hit@5": m["hit@5"],
                "mrr@10": m["mrr@10"],
                "answers": _answer_metrics([r for r in rows if r["split"] == split]),
            }
            for split, m in sorted((split, _rank_metrics(rs)) for split, rs in tally.split_ranks.items())
        },
        "latency_ms": {
            "retrieval_p50": round(statistics.median(retrieval_ms), 1) if retrieval_ms else None,
            "retrieval_p95": round(percentile(retrieval_ms, 95), 1) if retrieval_ms else None,
            "answer_p50": round(statistics.median(answer_ms), 1) if answer_ms else None,
            "answer_p95": round(percentile(answer_ms, 95), 1) if answer_ms else None,
        },
        "misses": tally.misses,
    }


#: Quotes in an answer: „…“ [n]. An extractive answer quotes a list with its line breaks, one quote per line
#: otherwise; in a model's prose a „word“ may stand anywhere, so there a quote never spans lines.
_QUOTED = re.compile(r"„(.+?)“ ((?:\[\d+\])+)")
_QUOTED_EXTRACTIVE = re.compile(r"^„(.+?)“ ((?:\[\d+\])+)$", re.S | re.M)


def _quotes_of(answer: Any) -> list[tuple[str, str]]:
    """(quoted text, its ``[n]`` markers) for each quote of an answer's text."""
    pattern = _QUOTED_EXTRACTIVE if answer.mode == "extractive" else _QUOTED
    return pattern.findall(answer.answer)


def answer_row(item: dict[str, Any], answerable: bool, answer: Any) -> dict[str, Any]:
    """What one answer showed the user, for the answer metrics."""
    quoted = [sentence for sentence, _ in _quotes_of(answer)]
    if not quoted and answer.citations:  # a language-model answer: its quotes are the citations'
        quoted = [c.quote for c in answer.citations]
    phrase = norm(item.get("phrase") or "")
    shown = not answer.abstained
    return {
        "answerable": answerable,
        "abstained": answer.abstained,
        "split": item.get("split"),
        "has_phrase": answerable and bool(phrase),
        "in_answer": shown and bool(phrase) and phrase in norm(answer.answer),
        "in_first_quote": shown and bool(phrase) and bool(quoted) and phrase in norm(quoted[0]),
        "quotes": len(quoted) if shown else None,
        "non_prose": sum(non_prose(q) for q in quoted) + sum(non_prose(c.quote) for c in answer.citations),
        "citations_valid": shown and _citations_valid(answer),
        "verbatim": _verbatim(answer.answer, answer.citations)
        if shown and answer.mode == "extractive"
        else None,
        "unsupported": getattr(answer, "unsupported_sentences", 0),
    }


def _citations_valid(answer: Any) -> bool:
    numbers = cited_numbers(answer.answer)
    return bool(numbers) and all(1 <= n <= len(answer.citations) for n in numbers)


def _answer_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(xs: list[bool]) -> float | None:
        return round(sum(xs) / len(xs), 4) if xs else None

    shown = [r for r in rows if not r["abstained"]]
    with_phrase = [r for r in rows if r["has_phrase"]]
    quotes = [r["quotes"] for r in shown if r["quotes"] is not None]
    return {
        "n": len(shown),
        "citations_valid": rate([r["citations_valid"] for r in shown]),
        "sentences_verbatim": rate([r["verbatim"] for r in shown if r["verbatim"] is not None]),
        "phrase_in_answer": rate([r["in_answer"] for r in with_phrase]),
        "phrase_in_first_quote": rate([r["in_first_quote"] for r in with_phrase]),
        "quotes_per_answer": round(statistics.mean(quotes), 2) if quotes else None,
        "non_prose_quotes": sum(r["non_prose"] for r in rows),
        "unsupported_sentences": sum(r["unsupported"] for r in rows),
    }


_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:de|org|com|net|io|eu)/\S*")
_MARKUP = re.compile(
    r"\[@?\w+\([^)]*\)\]|\]\([^)]*\)|\{\{.*?\}\}|\{%.*?%\}|</?[a-zA-Z][^>]*>|`[^`]+`|\[\^?\d+\]|&\w+;|[#*_]{2,}"
)
_CODE = re.compile(
    r"(?:^|\s)(?:\$|npm|pip|git|make|cd|sudo|docker|curl|yarn|python3?|node)\s+[-\w./]+|"
    r"(?:^|\s)--?[a-z][\w-]+|\b\w+\([^)]*\)\s*[;{]|\w+\s*=\s*[\"'\d\[{]|[{};]\s*$|(?:^|\s)(?:/[\w.-]+){2,}"
)


def non_prose(text: str) -> bool:
    """A quote that is mostly URL, code, a path or markup rather than prose a person could read out.

    Independent of the extractive answer's own filter, so that ``lotse eval`` can catch what that filter misses.
    """
    if not text.strip():
        return False
    residue = sum(len(m.group(0)) for pattern in (_URL, _MARKUP, _CODE) for m in pattern.finditer(text))
    letters = sum(ch.isalpha() for ch in text)
    return residue >= 0.3 * len(text) or letters < 0.5 * len(text)


def _verbatim(text: str, citations: list[Any]) -> bool:
    """Every quoted sentence of an extractive answer occurs verbatim in the quote of each citation it names."""
    found = _QUOTED_EXTRACTIVE.findall(text)
    if not found:
        return False
    for sentence, refs in found:
        for n in cited_numbers(refs):
            if not 1 <= n <= len(citations) or sentence not in citations[n - 1].quote:
                return False
    return True


def format_report(report: dict[str, Any]) -> str:
    r, a, ab, lat = report["retrieval"], report["answers"], report["abstention"], report["latency_ms"]
    lines = [
        f"Fragen: {report['questions']} ({report['answerable']} beantwortbar, {report['out_of_scope']} außerhalb)",
        f"Retrieval: hit@1 {r['hit@1']:.3f}  hit@5 {r['hit@5']:.3f}  MRR@10 {r['mrr@10']:.3f}  "
        f"Dokument+Seite@5 {r['doc_hit@5']:.3f}",
    ]
    for kind, m in report["by_kind"].items():
        lines.append(
            f"  {kind:<13} n={m['n']:<3} hit@1 {m['hit@1']:.3f}  hit@5 {m['hit@5']:.3f}  MRR {m['mrr@10']:.3f}"
        )
    f = report["followup"]
    if f["n"]:
        lines.append(f"Folgefragen: hit@5 {f['hit@5']} (eigenständig formuliert: {f['standalone_hit@5']})")
    lines.append(
        f"Enthaltung: außerhalb {ab['out_of_scope_abstained']}, beantwortbar {ab['answerable_abstained']}"
    )
    lines.append(
        f"Antworten: Belege gültig {a['citations_valid']}, wörtlich {a['sentences_verbatim']}, "
        f"erwartete Aussage in der Antwort {a['phrase_in_answer']}, im ersten Zitat "
        f"{a['phrase_in_first_quote']}; Zitate je Antwort {a['quotes_per_answer']}, "
        f"keine Prosa {a['non_prose_quotes']}, unbelegte Sätze {a['unsupported_sentences']}"
    )
    for split, m in report.get("by_split", {}).items():
        sa = m["answers"]
        lines.append(
            f"  Teil {split}: n={m['answerable']} hit@5 {m['hit@5']} MRR@10 {m['mrr@10']}  in der Antwort "
            f"{sa['phrase_in_answer']}  im ersten Zitat {sa['phrase_in_first_quote']}  "
            f"Zitate je Antwort {sa['quotes_per_answer']}  keine Prosa {sa['non_prose_quotes']}"
        )
    lines.append(
        f"Latenz: Retrieval p50 {lat['retrieval_p50']} ms, p95 {lat['retrieval_p95']} ms; "
        f"Antwort p50 {lat['answer_p50']} ms, p95 {lat['answer_p95']} ms"
    )
    if report["misses"]:
        lines.append(f"Verfehlt (nicht unter den Top 5): {len(report['misses'])}")
        for m in report["misses"]:
            lines.append(
                f"  {m['id']}: {m['question']}\n     erwartet {m['expected']}\n     bekam {m['top']}"
            )
    return "\n".join(lines)
