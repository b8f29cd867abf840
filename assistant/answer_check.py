"""Checks on a language model's answer: is it an answer at all, and do its facts stand in the cited passages?

A small model behind an OpenAI-compatible server answered "[1] [2][3]" or "[1]" as if that were an answer, echoed
the question, or named cities no passage mentioned. So the reply is checked, not trusted:

* `degenerate_reason` finds replies that are no answer (only citation markers, under a few words, an echo of the
  question, repetition); the chat service then falls back to the extractive answer with a notice.
* `unsupported_sentences` finds sentences with a number, date or proper name that no passage they cite holds;
  the chat service drops them and reports the count.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.citations import cited_numbers
from assistant.text import split_sentences

#: Fewer words than this (citation markers not counted) is no answer.
MIN_WORDS = 3

_MARKERS = re.compile(r"\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")
_WORD = re.compile(r"[0-9A-Za-zÄÖÜäöüß][\wÄÖÜäöüß.,-]*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_LIST_NUMBER = re.compile(r"^\s*\d{1,2}[.)]\s")
_ACRONYM_OR_MIXED = re.compile(r"\b(?:[A-ZÄÖÜ]{2,}[a-zäöü]?s?|[A-ZÄÖÜ][a-zäöü]+[A-ZÄÖÜ][\wäöü]*)\b")
# Capitalised words after a cue that introduces a name: "in Ulm", "der Stadt Bamberg", "Projekt Sentilo".
_NAME_CUE = re.compile(
    r"\b(?i:in|aus|nach|von|bei|Stadt|Städte[n]?|Gemeinde|Landkreis|Kreis|Kanton|Region|Land|Projekt|Plattform|"
    r"Initiative|Firma|Unternehmen|Herr|Frau|City|Cities)\s+((?:[A-ZÄÖÜ][a-zäöüß]+(?:[- ][A-ZÄÖÜ][a-zäöüß]+)?)"
    r"(?:\s*(?:,|und|sowie|oder)\s*[A-ZÄÖÜ][a-zäöüß]+(?:[- ][A-ZÄÖÜ][a-zäöüß]+)?)*)"
)
_LIST_SEP = re.compile(r"\s*(?:,|\bund\b|\bsowie\b|\boder\b)\s*")
# Words a cue may be followed by that are not names ("in Deutschland" is a name; "in Zukunft" is not).
_NOT_NAMES = {
    "zukunft",
    "zusammenarbeit",
    "form",
    "ordnung",
    "betrieb",
    "höhe",
    "summe",
    "bezug",
    "folge",
    "frage",
    "rahmen",
    "abstimmung",
    "kooperation",
    "absprache",
    "kraft",
    "verbindung",
    "regel",
    "zeiten",
    "teilen",
    "bereichen",
    "projekten",
    "kommunen",
    "städten",
    "gemeinden",
    "deutschland",
}


def _words(text: str) -> list[str]:
    return [w.lower().strip(".,-") for w in _WORD.findall(_MARKERS.sub(" ", text))]


def degenerate_reason(reply: str, question: str) -> str | None:
    """Why ``reply`` is no answer to ``question`` ("markers", "short", "echo", "repetition"), or None."""
    words = [w for w in _words(reply) if w]
    if not words:
        return "markers"
    if len(words) < MIN_WORDS:
        return "short"
    asked = {w for w in _words(question) if w}
    if len(words) <= len(asked) + 3 and len(set(words) & asked) >= 0.8 * len(set(words)):
        return "echo"
    sentences = [" ".join(_words(s.text)) for s in split_sentences(_MARKERS.sub(" ", reply))]
    sentences = [s for s in sentences if s]
    if len(sentences) >= 3 and Counter(sentences).most_common(1)[0][1] >= 0.5 * len(sentences):
        return "repetition"
    if len(words) >= 12:
        trigrams = Counter(zip(words, words[1:], words[2:], strict=False))
        top = trigrams.most_common(1)[0][1]
        if top >= 3 and 3 * top >= 0.4 * len(words):
            return "repetition"
    return None


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _fold(text: str) -> str:
    return " ".join(re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text).split()).lower()


def facts(sentence: str) -> list[str]:
    """Numbers (dates included), acronyms and proper names in ``sentence`` that a cited passage must hold."""
    text = _MARKERS.sub(" ", sentence)
    text = _LIST_NUMBER.sub(" ", text)
    found: list[str] = [n for n in _NUMBER.findall(text)]
    found += _ACRONYM_OR_MIXED.findall(text)
    for m in _NAME_CUE.finditer(text):
        for name in _LIST_SEP.split(m.group(1)):
            if name and name.lower() not in _NOT_NAMES:
                found.append(name)
    return list(dict.fromkeys(found))


def _held(fact: str, passages: Sequence[str]) -> bool:
    if fact[0].isdigit():
        digits = _digits(fact)
        return any(digits in _digits_runs(p) for p in passages)
    folded = fact.lower()
    return any(folded in _fold(p) for p in passages)


def _digits_runs(passage: str) -> set[str]:
    """Every number of the passage as digits only ("300.000" -> "300000"; "21.4.2015" -> "2142015", "21", ...)."""
    runs: set[str] = set()
    for m in _NUMBER.finditer(passage):
        runs.add(_digits(m.group(0)))
        runs.update(re.findall(r"\d+", m.group(0)))
    return runs


@dataclass(frozen=True)
class Unsupported:
    sentence: str
    missing: list[str]


def unsupported_sentences(answer: str, passages: Sequence[str]) -> list[Unsupported]:
    """Sentences of ``answer`` with a number, date or name that none of the passages they cite holds.

    ``passages[n - 1]`` is the text of source ``[n]``. A sentence without a marker is held to the sources its
    paragraph cites (a model often puts the marker only at the end of a paragraph), else to all cited ones.
    """
    out: list[Unsupported] = []
    all_cited = [n for n in cited_numbers(answer) if 1 <= n <= len(passages)]
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d{1,2}[.)])\s)", answer):
        paragraph_cited = [n for n in cited_numbers(paragraph) if 1 <= n <= len(passages)] or all_cited
        for s in split_sentences(paragraph):
            cited = [n for n in cited_numbers(s.text) if 1 <= n <= len(passages)] or paragraph_cited
            texts = [passages[n - 1] for n in cited]
            missing = [f for f in facts(s.text) if not _held(f, texts)]
            if missing:
                out.append(Unsupported(s.text, missing))
    return out


def drop_sentences(answer: str, drop: Sequence[Unsupported]) -> str:
    """``answer`` without the given sentences (whitespace tidied, line structure kept)."""
    for u in drop:
        answer = answer.replace(u.sentence, "", 1)
    answer = re.sub(r"[ \t]{2,}", " ", answer)
    answer = re.sub(r"[ \t]+\n", "\n", answer)
    answer = re.sub(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])?[ \t]*$\n?", "", answer, flags=re.MULTILINE)
    return answer.strip()
