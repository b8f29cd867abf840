"""Extractive answers: verbatim sentences from the best passages, each with its ``[n]``, the answer first.

No word is invented: every sentence of the answer body is a substring of a cited chunk. Only prose is quoted (no
URLs, commands, code, paths, markup or navigation; see `assistant.text.prose_problem`). Sentences are scored by
how many of the question's (stemmed, compound-split) terms they contain, weighted by how rare each term is among
the candidate passages (terms only in the section heading or the sentence before count at a reduced weight, so
"Sie sollte kurz sein" under "Die Beschlussvorlage" is about the Beschlussvorlage), by whether they hold the kind
of expression the question asks for (a date for "wann", an amount for "wie hoch", see `assistant.answer_types`),
plus the retrieval rank of their passage; near-duplicates are skipped. A list item inherits the words of the
unfinished sentence it continues ("... gewähren, dass sie" / "einen Aktenausdruck zur Verfügung stellen,"). The best
sentence leads (the one a person would read out as the answer), followed by at most two supporting ones, grouped by
passage in document order; chosen sentences that follow each other on one line form one quote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer_types import AnswerType, answer_span, answer_strength, asked_for
from assistant.retrieval.analyzer import GermanAnalyzer
from assistant.text import Sentence, looks_like_injection, prose_problem, split_sentences
from assistant.types import ScoredChunk

#: The answer quote plus at most two supporting quotes; more on request (API/CLI parameter, "weitere Belege").
#: A quote may hold sentences that follow each other on one line; all quotes together stay within MAX_CHARS.
MAX_SENTENCES = 3
#: Upper bound for the request parameter.
MAX_SENTENCES_LIMIT = 8
MAX_CHARS = 900
MIN_SENTENCE_CHARS = 25
MAX_SENTENCE_CHARS = 450
QUOTE_SPAN = 600
#: Weight of query terms found only in a sentence's context (its section heading, the sentence before).
#: Measured with `lotse eval` (answers.phrase_in_answer): sample corpus 0.584 -> 0.632, real fact sheets
#: 0.600 -> 0.600. The heading only sharpens sentences that match by themselves: letting it carry a sentence alone
#: gave 0.642 but 0.578 on the fact sheets and quoted marginal sentences under a matching heading. The sentence
#: before may carry one (see `score_sentences`).
CONTEXT_WEIGHT = 0.5
#: Bonus for a sentence that holds the kind of expression the question asks for (full for a strong expression
#: such as "1. Januar 2021" for "wann", half for a weak one such as a bare year). Expected phrase in the answer /
#: in the first quote, dev splits of tests/eval/realdocs_dev_pdf.jsonl and _pages.jsonl (sample set):
#: 0 -> 0.569/0.422, 0.546/0.417 (0.584/0.411); 0.15 -> 0.578/0.431, 0.565/0.407 (0.611/0.453);
#: 0.3 -> 0.578/0.413, 0.565/0.398 (0.616/0.463).
ANSWER_TYPE_BONUS = 0.15
#: Bonus of a sentence from the best passage (halved for the second, a third for the third, ...).
RANK_BONUS = 0.25
#: Weight of a query term found only inside a compound of the sentence.
COMPOUND_WEIGHT = 0.3

LEAD = {
    "de": "Wörtliche Auszüge aus den Quellen:",
    "en": "Verbatim excerpts from the sources (in German):",
}


@dataclass(frozen=True)
class Pick:
    hit_index: int  # index into the hits given to compose()
    sentence: Sentence
    score: float
    #: Offsets inside ``sentence.text`` of the expression that answers the question (a date, an amount), if any.
    span: tuple[int, int] | None = None


def _quotable(text: str) -> bool:
    """Prose sentences only: no table rows, no headings or lead-ins ending in a colon, no fragments, no URLs,
    code or markup, and nothing that tries to instruct a model (text planted in a document is never quoted)."""
    return (
        MIN_SENTENCE_CHARS <= len(text) <= MAX_SENTENCE_CHARS
        and not text.endswith(":")
        and text.count(" | ") < 2
        and sum(ch.isalpha() for ch in text) > 0.6 * len(text)
        and prose_problem(text) is None
        and not looks_like_injection(text)
    )


def _terms(analyzer: GermanAnalyzer, text: str) -> set[str]:
    return set(analyzer.analyze(text))


_COMPOUND_MARK = "\0compound:"
#: The end of a line that breaks off mid-sentence: a comma, a colon or a word in lower case.
_LEADS_IN = re.compile(r"(?:[,:]|\b[a-zäöüß]\w*)\s*$")


def _compound_hits(query_terms: set[str], terms: set[str]) -> set[str]:
    """Query terms (5+ letters) found only inside a longer term, plus a mark that says they were partial."""
    found = {t for t in query_terms - terms if len(t) >= 5 and any(t in u for u in terms if len(u) > len(t))}
    return found | {_COMPOUND_MARK + t for t in found}


def select_sentences(
    question: str, hits: Sequence[ScoredChunk], analyzer: GermanAnalyzer, max_sentences: int = MAX_SENTENCES
) -> list[Pick]:
    return _choose(score_sentences(question, hits, analyzer), hits, analyzer, max_sentences)


@dataclass(frozen=True)
class _Candidate:
    hit_index: int
    sentence: Sentence
    terms: set[str]
    #: The terms around it: its section heading, the whole sentence before it, the lead-in it continues.
    context: set[str]
    #: The part of ``context`` that may carry a sentence sharing no word with the question (not the heading).
    carried: set[str]


def _candidates(hits: Sequence[ScoredChunk], analyzer: GermanAnalyzer) -> list[_Candidate]:
    """Every quotable sentence of the hits with its terms and the terms around it."""
    out: list[_Candidate] = []
    for i, hit in enumerate(hits):
        heading = _terms(analyzer, hit.chunk.section.rsplit(" › ", 1)[-1]) if hit.chunk.section else set()
        previous: set[str] = set()
        # The terms of an unfinished sentence that this one continues: "... gewähren, dass sie" heads the list
        # items "einen Aktenausdruck zur Verfügung stellen," ... up to the item that ends the sentence. Only a
        # line that breaks off after a comma or a small word ("dass sie", "wenn") asks to be continued: one that
        # ends in a noun may be a PDF fragment or a heading followed by a new sentence.
        lead_in: set[str] = set()
        for s in split_sentences(hit.chunk.text):
            terms = _terms(analyzer, s.text)
            quotable = _quotable(s.text)
            if quotable:
                out.append(_Candidate(i, s, terms, heading | previous | lead_in, previous | lead_in))
            # Only a complete sentence carries over: in messy PDF text a "sentence" may be a line fragment.
            ending = s.text.rstrip()[-1:]
            previous = terms if quotable and ending in ".!?" else set()
            if ending in ".!?":
                lead_in = set()
            elif not lead_in and _LEADS_IN.search(s.text):
                lead_in = terms
    return out


def score_sentences(question: str, hits: Sequence[ScoredChunk], analyzer: GermanAnalyzer) -> list[Pick]:
    """Every quotable sentence of the hits that matches the question, best first."""
    query_terms = _terms(analyzer, question)
    candidates = _candidates(hits, analyzer) if query_terms else []
    if not candidates:
        return []
    kind: AnswerType | None
    kind, asking = asked_for(question)
    if kind not in (None, "named", "definition"):  # "wie oft", "wie hoch": no topic words ("welche X" may be)
        topic = query_terms - _terms(analyzer, asking)
        if topic:
            query_terms = topic
    # A query term inside a compound of the sentence ("Übergang" in "Betriebsübergang") counts at a reduced
    # weight: the analyzer splits only compounds it knows.
    terms_of = [c.terms | _compound_hits(query_terms, c.terms) for c in candidates]
    # Rare terms among the candidates say more about relevance than ubiquitous ones.
    df = {t: sum(t in terms for terms in terms_of) for t in query_terms}
    weight = {t: math.log(1 + len(candidates) / (1 + df[t])) for t in query_terms}
    total = sum(weight.values()) or 1.0
    scored: list[Pick] = []
    for c, terms in zip(candidates, terms_of, strict=True):
        # Terms of the section heading and the sentence before count at a reduced weight: "Sie sollte kurz
        # sein; ... höchstens vier Seiten" under "Die Beschlussvorlage" is about the Beschlussvorlage.
        own = sum(weight[t] for t in query_terms & terms) - (1 - COMPOUND_WEIGHT) * sum(
            weight[t] for t in query_terms & terms if _COMPOUND_MARK + t in terms
        )
        if own <= 0 and not (c.carried & query_terms and answer_strength(kind, c.sentence.text) > 0):
            # The heading alone never carries a sentence (every sentence under it would qualify); the sentence
            # it continues may, when it holds what the question asks for: "Der Betrieb verursacht Kosten." /
            # "Sie liegen bei 40.000 Euro." Expected phrase in the answer / first quote, dev: real 0.645/0.516
            # -> 0.659/0.525, sample set unchanged 0.658/0.526. Carrying any such sentence: 0.650/0.521 and
            # 0.674/0.542, but it added marginal supporting quotes (the next sentence of the best passage).
            continue
        around = (c.context - terms) & query_terms
        overlap = (own + CONTEXT_WEIGHT * sum(weight[t] for t in around)) / total
        rank_bonus = RANK_BONUS / (1 + c.hit_index)
        length_penalty = 0.1 if len(c.sentence.text) > 300 else 0.0
        typed = ANSWER_TYPE_BONUS * answer_strength(kind, c.sentence.text)
        score = overlap + typed + rank_bonus - length_penalty
        scored.append(Pick(c.hit_index, c.sentence, score, answer_span(kind, c.sentence.text)))
    scored.sort(key=lambda p: p.score, reverse=True)
    return scored


def _choose(
    scored: list[Pick], hits: Sequence[ScoredChunk], analyzer: GermanAnalyzer, max_sentences: int
) -> list[Pick]:
    chosen: list[Pick] = []
    chosen_terms: list[set[str]] = []
    chars = 0
    for pick in scored:
        terms = _terms(analyzer, pick.sentence.text)
        if any(len(terms & other) / max(1, len(terms | other)) > 0.6 for other in chosen_terms):
            continue
        if chosen and pick.score < 0.35 * chosen[0].score:
            break
        if chars + len(pick.sentence.text) > MAX_CHARS and chosen:
            continue
        same = [p.sentence for p in chosen if p.hit_index == pick.hit_index]
        if same:
            # One citation quotes one verbatim span per passage: keep its sentences close together.
            start = min([pick.sentence.start, *(x.start for x in same)])
            end = max([pick.sentence.end, *(x.end for x in same)])
            if end - start > QUOTE_SPAN:
                continue
            # ... and the text between them is quoted too: it must be prose as well (no URL lines in between).
            span_text = hits[pick.hit_index].chunk.text[start:end]
            if any(prose_problem(x.text) for x in split_sentences(span_text)):
                continue
        # The limit counts quotes: a sentence next to a chosen one joins its quote (see _join_adjacent).
        # Counting sentences instead, expected phrase in the answer / first quote, dev split: pages 0.620/0.481
        # (now 0.639/0.500), PDFs 0.606/0.532 (0.615/0.532), sample set 0.605/0.511 (0.658/0.526).
        if len(_join_adjacent([*chosen, pick], hits)) > max_sentences:
            continue
        chosen.append(pick)
        chosen_terms.append(terms)
        chars += len(pick.sentence.text)
    # The answer first; the supporting sentences after it, by passage (in the order of their best sentence's
    # score) and in document order within a passage, so they read like a short excerpt.
    if not chosen:
        return []
    lead, rest = chosen[0], chosen[1:]
    first_seen: dict[int, int] = {lead.hit_index: 0}
    for order, pick in enumerate(rest, start=1):
        first_seen.setdefault(pick.hit_index, order)
    rest.sort(key=lambda p: (first_seen[p.hit_index], p.sentence.start))
    return _join_adjacent([lead, *rest], hits)


def _join_adjacent(picks: list[Pick], hits: Sequence[ScoredChunk]) -> list[Pick]:
    """Chosen sentences that follow each other on the same line of a passage become one quote, in the place of
    the first of them in ``picks`` (so the answer sentence stays first).

    The answer often sits next to the sentence that names the question's topic ("Der Auftraggeber kann
    Nebenangebote zulassen. Fehlt eine Angabe, sind keine Nebenangebote zugelassen."): read as one excerpt, the
    first quote holds both. The joined text is still a verbatim span of the passage.
    """
    out: list[Pick] = []
    for pick in picks:
        text = hits[pick.hit_index].chunk.text
        for n, other in enumerate(out):
            if other.hit_index != pick.hit_index:
                continue
            a, b = sorted((other.sentence, pick.sentence), key=lambda x: x.start)
            gap = text[a.end : b.start]
            if a.end <= b.start and not gap.strip() and "\n" not in gap:
                joined = Sentence(text[a.start : b.end], a.start, b.end)
                shift = other.sentence.start - a.start
                span = (other.span[0] + shift, other.span[1] + shift) if other.span else None
                out[n] = Pick(other.hit_index, joined, other.score, span)
                break
        else:
            out.append(pick)
    return out


def compose(picks: Sequence[Pick], language: str) -> tuple[str, list[int]]:
    """Answer text with ``[n]`` markers and the hit indices in citation order."""
    order: list[int] = []
    lines: list[str] = [LEAD.get(language, LEAD["de"])]
    for pick in picks:
        if pick.hit_index not in order:
            order.append(pick.hit_index)
        n = order.index(pick.hit_index) + 1
        lines.append(f"„{pick.sentence.text}“ [{n}]")
    return "\n".join(lines), order
