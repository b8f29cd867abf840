"""Extractive answers: verbatim sentences from the best passages, each with its ``[n]``, the answer first.

No word is invented: every sentence of the answer body is a substring of a cited chunk. Only prose is quoted (no
URLs, commands, code, paths, markup or navigation; see `assistant.text.prose_problem`). Sentences are scored by
how many of the question's (stemmed, compound-split) terms they contain, weighted by how rare each term is among
the candidate passages (terms only in the section heading or the sentence before count at a reduced weight, so
"Sie sollte kurz sein" under "Die Beschlussvorlage" is about the Beschlussvorlage), by whether they hold the kind
of expression the question asks for (a date for "wann", an amount for "wie hoch", see `assistant.answer_types`),
by the retrieval rank of their passage and a few more features (`sentence_features`), with weights fitted on the
real documents' development questions (`WEIGHTS`); near-duplicates are skipped. A list item inherits the words of
the unfinished sentence it continues ("... gewähren, dass sie" / "einen Aktenausdruck zur Verfügung stellen,"),
and a list that ends within `QUOTE_SPAN` is quoted whole with its lead-in, across its lines. The best sentence
leads (the one a person would read out as the answer), followed by at most two supporting ones, grouped by
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
        and _mostly_words(text)
        and prose_problem(text) is None
        and not looks_like_injection(text)
    )


def _mostly_words(text: str) -> bool:
    """Letters make up most of it (no table of numbers)."""
    return sum(ch.isalpha() for ch in text) > 0.6 * len(text)


def _terms(analyzer: GermanAnalyzer, text: str) -> set[str]:
    return set(analyzer.analyze(text))


_COMPOUND_MARK = "\0compound:"
#: How a sentence, a quote or a list item may end; a line ending otherwise is a title, a slide line or a field.
_SENTENCE_ENDS = (".", "!", "?", "“", '"', ")", ";", ",")
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
    #: The first sentence of its passage.
    first: bool = False


def _candidates(hits: Sequence[ScoredChunk], analyzer: GermanAnalyzer) -> list[_Candidate]:
    """Every quotable sentence of the hits with its terms and the terms around it. A sentence that opens a list
    ("... gewähren, dass sie") is a candidate only together with its items (`_with_items`), and those items are
    then no candidates of their own; the items of a list that does not end within the span are."""
    out: list[_Candidate] = []
    for i, hit in enumerate(hits):
        heading = _terms(analyzer, hit.chunk.section.rsplit(" › ", 1)[-1]) if hit.chunk.section else set()
        previous: set[str] = set()
        # The terms of an unfinished sentence that this one continues: "... gewähren, dass sie" heads the list
        # items "einen Aktenausdruck zur Verfügung stellen," ... up to the item that ends the sentence. Only a
        # line that breaks off after a comma or a small word ("dass sie", "wenn") asks to be continued: one that
        # ends in a noun may be a PDF fragment or a heading followed by a new sentence.
        lead_in: set[str] = set()
        slide = _slide(hit.chunk.text)
        if slide is not None:
            out.append(_Candidate(i, slide, _terms(analyzer, slide.text), heading, set(), False))
            continue
        sentences = split_sentences(hit.chunk.text)
        listed = -1  # the end of a list quoted whole: its lead-in and items are no candidates of their own
        for n, s in enumerate(sentences):
            terms = _terms(analyzer, s.text)
            quotable = _quotable(s.text)
            # An item of a list opens no list of its own (a long list would be quoted from its middle on).
            whole = _with_items(hit.chunk.text, sentences, n) if s.start >= listed and not lead_in else None
            if whole is not None:
                out.append(
                    _Candidate(i, whole, _terms(analyzer, whole.text), heading | previous, previous, n == 0)
                )
                listed = whole.end
            elif quotable and s.start >= listed:
                out.append(_Candidate(i, s, terms, heading | previous | lead_in, previous | lead_in, n == 0))
            # Only a complete sentence carries over: in messy PDF text a "sentence" may be a line fragment.
            ending = s.text.rstrip()[-1:]
            previous = terms if quotable and ending in ".!?" else set()
            if ending in ".!?":
                lead_in = set()
            elif not lead_in and _LEADS_IN.search(s.text):
                lead_in = terms
    return out


def _with_items(text: str, sentences: Sequence[Sentence], n: int) -> Sentence | None:
    """The list that sentence ``n`` opens, quoted whole: the lead-in and the items on the lines below it, up to
    the item that ends the sentence ("... dass sie" / "1. einen Aktenausdruck zur Verfügung stellen," / ... /
    "4. den elektronischen Zugriff ... gestatten."), within `QUOTE_SPAN` characters. Quoting the lead-in with
    one or two items (the old way) left out the item the question asked about. None when sentence ``n`` opens
    no list, the items are not prose, or the list does not end within the span."""
    lead = sentences[n]
    if len(lead.text) < MIN_SENTENCE_CHARS or not _LEADS_IN.search(lead.text) or prose_problem(lead.text):
        return None
    end = lead.end
    for item in sentences[n + 1 :]:
        if "\n" not in text[end : item.start] or item.end - lead.start > QUOTE_SPAN or prose_problem(item.text):
            return None
        end = item.end
        if item.text.rstrip().endswith((".", "!", "?")):
            whole = text[lead.start : end]
            # The checks of a quotable sentence, on the whole list: nothing planted to instruct a model, no table
            # of numbers.
            if looks_like_injection(whole) or not _mostly_words(whole):
                return None
            return Sentence(whole, lead.start, end)
    return None


_BULLETS = ("●", "•", "▪", "■", "◦", "–", "-", "*", "→", "->", "✓")
_FIELD = re.compile(r"^(?:[-*•●]\s*)?[\w-]+:\s*[\"'\d\[{]")  # key: value data, not a bullet
_NOT_ON_A_SLIDE = frozenset({"url", "markup", "shell", "code", "path", "address", "navigation", "reference"})


def _slide(text: str) -> Sentence | None:
    """A passage that is a slide (a title and short bullet lines, few sentences), quoted whole; None otherwise."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    whole = text.strip()
    if not 3 <= len(lines) <= 12 or len(whole) > QUOTE_SPAN or any(len(line) > 100 for line in lines):
        return None
    if sum(line.endswith((".", "!", "?")) for line in lines) * 3 > len(lines) or any(
        line.endswith((",", ";")) for line in lines
    ):
        return None  # prose, or a list that continues a sentence (`_with_items`)
    if sum(line[-1].isdigit() for line in lines) * 2 > len(lines) or any(" | " in line for line in lines):
        return None  # a table of contents or a table
    if sum(line.startswith(_BULLETS) for line in lines[1:]) * 2 < len(lines) - 1:
        return None  # a slide's lines are bullets; a table header, a TOC or wrapped prose are not
    if any(prose_problem(line) in _NOT_ON_A_SLIDE or _FIELD.match(line) for line in lines):
        return None
    if prose_problem(" ".join(lines)) in _NOT_ON_A_SLIDE:
        return None  # e.g. an address split over lines
    if looks_like_injection(whole) or not _mostly_words(whole):
        return None
    start = len(text) - len(text.lstrip())
    return Sentence(whole, start, start + len(whole))


#: Weights of the sentence features (see `sentence_features`), fitted by ``python -m benchmarks answer_weights``
#: on the development split of the real-document questions only (a conditional logit: which candidate sentence
#: of a question holds the expected phrase), scaled so that ``overlap`` weighs 1. Before, four hand-set weights
#: (overlap 1, answer type 0.15, passage rank 0.25, long -0.1; the answer-type bonus measured at 0, 0.15 and 0.3)
#: put the phrase-holding sentence first for 0.587 of the dev questions that have one; fitted, 0.635 (0.641 under
#: 5-fold cross-validation by document; sample set, never fitted on, 0.547 either way). Expected phrase in the
#: answer / first quote (``lotse eval``), real dev 0.654/0.521 -> 0.687/0.535, sample set 0.658/0.526 ->
#: 0.674/0.532. Three more features (shared term pairs, the passage's retrieval score, title lines for questions
#: asking for a title) left the cross-validated top-1 unchanged and were dropped.
WEIGHTS: dict[str, float] = {
    "overlap": 1.0,
    "typed": 0.410,
    "rank": 0.716,
    "long": -0.022,
    "title": -0.101,
    "focus": 0.385,
    "rare": 0.884,
    "first": -0.116,
}


def sentence_features(
    question: str, hits: Sequence[ScoredChunk], analyzer: GermanAnalyzer
) -> list[tuple[Pick, dict[str, float]]]:
    """Every quotable sentence of the hits that matches the question, with the features it is scored on:

    - ``overlap``: the weighted share of the question's terms it holds (context terms at `CONTEXT_WEIGHT`),
    - ``typed``: whether it holds the kind of expression the question asks for (`answer_strength`),
    - ``rank``: 1 / (1 + rank of its passage),
    - ``long``: longer than 300 characters,
    - ``title``: a short line without a sentence end (a title, a slide line, a metadata field),
    - ``focus``: the share of its own terms that are question terms (a focused sentence, not a long one that
      happens to hold them),
    - ``rare``: the weight of its rarest matched question term relative to the question's rarest term,
    - ``first``: the first sentence of its passage (often a heading or a title carried into the text).
    """
    query_terms, kind = _question_terms(question, analyzer)
    candidates = _candidates(hits, analyzer) if query_terms else []
    if not candidates:
        return []
    # A query term inside a compound of the sentence ("Übergang" in "Betriebsübergang") counts at a reduced
    # weight: the analyzer splits only compounds it knows.
    terms_of = [c.terms | _compound_hits(query_terms, c.terms) for c in candidates]
    # Rare terms among the candidates say more about relevance than ubiquitous ones.
    df = {t: sum(t in terms for terms in terms_of) for t in query_terms}
    weight = {t: math.log(1 + len(candidates) / (1 + df[t])) for t in query_terms}
    total = sum(weight.values()) or 1.0
    rarest = max(weight.values(), default=1.0) or 1.0
    out: list[tuple[Pick, dict[str, float]]] = []
    for c, terms in zip(candidates, terms_of, strict=True):
        # Terms of the section heading and the sentence before count at a reduced weight: "Sie sollte kurz
        # sein; ... höchstens vier Seiten" under "Die Beschlussvorlage" is about the Beschlussvorlage.
        matched = query_terms & terms
        own = sum(weight[t] for t in matched) - (1 - COMPOUND_WEIGHT) * sum(
            weight[t] for t in matched if _COMPOUND_MARK + t in terms
        )
        strength = answer_strength(kind, c.sentence.text)
        if own <= 0 and not (c.carried & query_terms and strength > 0):
            # The heading alone never carries a sentence (every sentence under it would qualify); the sentence
            # it continues may, when it holds what the question asks for: "Der Betrieb verursacht Kosten." /
            # "Sie liegen bei 40.000 Euro." Expected phrase in the answer / first quote, dev: real 0.645/0.516
            # -> 0.659/0.525, sample set unchanged 0.658/0.526. Carrying any such sentence: 0.650/0.521 and
            # 0.674/0.542, but it added marginal supporting quotes (the next sentence of the best passage).
            continue
        around = (c.context - terms) & query_terms
        text = c.sentence.text.rstrip()
        features = {
            "overlap": (own + CONTEXT_WEIGHT * sum(weight[t] for t in around)) / total,
            "typed": strength,
            "rank": 1 / (1 + c.hit_index),
            "long": float(len(text) > 300),
            "title": float(not text.endswith(_SENTENCE_ENDS) and len(text.split()) <= 10),
            "focus": len(matched) / max(1, len(c.terms)),
            "rare": max((weight[t] for t in matched), default=0.0) / rarest,
            "first": float(c.first),
        }
        out.append((Pick(c.hit_index, c.sentence, 0.0, answer_span(kind, c.sentence.text)), features))
    return out


def _question_terms(question: str, analyzer: GermanAnalyzer) -> tuple[set[str], AnswerType | None]:
    """The question's topic terms and the kind of answer it asks for: the words that ask ("wie oft", "wie hoch")
    are no topic ("welche X" may be)."""
    terms = _terms(analyzer, question)
    kind, asking = asked_for(question)
    if kind not in (None, "named", "definition"):
        topic = terms - _terms(analyzer, asking)
        if topic:
            return topic, kind
    return terms, kind


def score_sentences(question: str, hits: Sequence[ScoredChunk], analyzer: GermanAnalyzer) -> list[Pick]:
    """Every quotable sentence of the hits that matches the question, best first."""
    scored = [
        Pick(p.hit_index, p.sentence, sum(WEIGHTS[k] * v for k, v in f.items()), p.span)
        for p, f in sentence_features(question, hits, analyzer)
    ]
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
        # Supporting quotes must score at least 0.35 of the answer's. Re-measured with the fitted weights (their
        # rank and rarity terms do not depend on the sentence's words), phrase in the answer / quotes per answer,
        # real dev and sample: 0.35 -> 0.719/2.92, 0.684/2.97; 0.5 -> 0.719/2.77, 0.679/2.91; 0.65 -> 0.691/2.27,
        # 0.658/2.54.
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
