"""What kind of answer a question asks for, and where a sentence holds one.

"Wann" asks for a date, "wie hoch" for an amount, "wer" for an actor, "wie oft" for a frequency. A sentence that
holds such an expression is more likely the one a person would read out as the answer, and the expression itself
is the span to mark inside the quote. Pure functions on text, no index needed.
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal[
    "condition", "date", "amount", "duration", "frequency", "actor", "named", "reason", "definition"
]

_MONTH = r"(?:Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Jan\.|Feb\.|Okt\.)"
_NUMBER_WORD = (
    r"(?:ein|eine|einen|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreißig|hundert|"
    r"tausend|beiden|mehrere|einige|halbe[nm]?)"
)

# Question patterns, most specific first: "wie viele Jahre" asks for a duration, not an amount. An amount noun
# after "welche" may end a compound ("Welche Ausstattungsquote", "welcher Eigenanteil"); other heads may not
# ("welche Schnittstelle" asks for a name, not an actor; "welche Angebotsfrist" for a duration).
_QUESTION: list[tuple[AnswerType, re.Pattern[str]]] = [
    # "Wann ist eine DSFA nötig?" asks for a condition, not a date.
    (
        "condition",
        re.compile(
            r"\b(wann|unter\s+welchen\s+(bedingungen|voraussetzungen)|in\s+welchen\s+fällen)\b"
            r"(?=.*\b(nötig|notwendig|erforderlich|sinnvoll|lohnt|empfiehlt|gilt|darf|dürfen|muss|"
            r"müssen|soll|sollte|sollten|kann|können|braucht|brauchen|zulässig|möglich)\b)",
            re.I,
        ),
    ),
    (
        "frequency",
        re.compile(
            r"\b(wie\s+oft|wie\s+häufig|wie\s+regelmäßig|in\s+welche[mn]\s+(rhythmus|abstand|"
            r"abständen|turnus)|how\s+often)\b",
            re.I,
        ),
    ),
    (
        "duration",
        re.compile(
            r"\b(wie\s+lange?|wie\s+viele\s+(jahre|monate|wochen|tage)|welche[nr]?\s+(zeitraum|"
            r"laufzeit|dauer)|über\s+welchen\s+zeitraum|how\s+long)\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(wann|bis\s+wann|seit\s+wann|ab\s+wann|in\s+welche[mn]\s+jahr|seit\s+welche[mn]\s+jahr|"
            r"zu\s+welche[mn]\s+(zeitpunkt|datum)|welche[smnr]?\s+(datum|jahr|frist|termin|stichtag)|"
            r"when|what\s+year)\b",
            re.I,
        ),
    ),
    (
        "amount",
        re.compile(
            r"\b(wie\s*viele?|wieviele?|wie\s+hoch|wie\s+groß|wie\s+stark|welche[rnms]?\s+(?:\w*(?:betrag|"
            r"summe|anteil|höhe|budget|kosten|quote)|umfang|zahl|anzahl)|was\s+kostet|was\s+kosten|"
            r"how\s+(much|many|high))\b",
            re.I,
        ),
    ),
    (
        "actor",
        re.compile(
            r"\b(wer|wem|wen|von\s+wem|durch\s+wen|welche[rnms]?\s+(stelle|behörde|einrichtung|"
            r"organisation|akteur\w*|partner\w*|unternehmen|amt|team|gremi\w*|institution\w*|"
            r"abteilung|person\w*|verwaltung\w*|stadt|städte|kommunen?)|who)\b",
            re.I,
        ),
    ),
    ("reason", re.compile(r"\b(warum|weshalb|wieso|wozu|aus\s+welche[mn]\s+grund|why)\b", re.I)),
    (
        "definition",
        re.compile(r"\b(was\s+(ist|sind|bedeutet|bedeuten|versteht\s+man|meint|heißt)|what\s+is)\b", re.I),
    ),
    ("named", re.compile(r"\b(welche[rnms]?|nenne|nennen|was\s+für|which|what)\b", re.I)),
]

_ORG = (
    r"\b[\wÄÖÜäöüß-]*(?:amt|ämter|behörde|stelle|verwaltung|ministerium|rat|ausschuss|team|gmbh|verein|stiftung|"
    r"agentur|referat|abteilung|büro|dezernat|kommission|verband|gremium|landkreis|leitung|beauftragte[rn]?|"
    r"community|initiative|unternehmen|dienstleister|partner|labor|lab|zentrum|netzwerk|gruppe|bürgermeister\w*|"
    r"stadtwerke|universität|hochschule|institut|redaktion|autor\w*|mitarbeitende\w*)\b"
)
_AGENTIVE = (
    r"\b(?:verantwortlich|zuständig|federführend|koordiniert|betreibt|betrieben\s+von|übernimmt|übernehmen|"
    r"verfasst|erstellt|erarbeitet|entwickelt|geschrieben|schreibt|schreiben|leitet|organisiert|initiiert|"
    r"beauftragt|getragen|finanziert)\b"
)

# Expressions a sentence may hold, per answer type; the first pattern's match is the span to mark.
_EXPRESSIONS: dict[AnswerType, list[re.Pattern[str]]] = {
    "condition": [
        re.compile(r"\b(?:wenn|sofern|falls|soweit|sobald|vorausgesetzt|nur\s+dann|bei\s+\w+)\b", re.I),
    ],
    "date": [
        re.compile(rf"\b\d{{1,2}}\.\s?(?:\d{{1,2}}\.\s?\d{{2,4}}|{_MONTH}(?:\s\d{{4}})?)"),
        re.compile(
            rf"\b(?:(?:Anfang|Mitte|Ende|Herbst|Frühjahr|Sommer|Winter|seit|bis|ab)\s+)?{_MONTH}\s\d{{4}}\b"
        ),
        re.compile(
            r"\b(?:(?:Anfang|Mitte|Ende|seit|bis|ab|im\s+Jahr|Jahr)\s+)?(?:19|20)\d{2}(?:/\d{2,4})?\b"
        ),
        re.compile(r"\b(?:\d\.\s+)?Quartal\s+\d{4}\b|\b(?:spätestens|frühestens|fristgerecht)\b", re.I),
    ],
    "amount": [
        re.compile(
            r"(?:rund\s+|ca\.\s+|etwa\s+|über\s+|bis\s+zu\s+|mehr\s+als\s+|knapp\s+)?\d[\d.,]*\s?(?:%|Prozent|"
            r"Euro|EUR|€|Mio\.?|Millionen|Mrd\.?|Milliarden|Tsd\.?|Tausend)(?:\s(?:Euro|EUR|€))?",
            re.I,
        ),
        re.compile(r"(?:€|EUR)\s?\d[\d.,]*"),
        re.compile(r"\b\d[\d.,]*\s?(?:[A-ZÄÖÜa-zäöüß]\w+)"),
        re.compile(
            rf"\b{_NUMBER_WORD}\s+(?:Drittel|Viertel|Hälfte|Prozent|Millionen|Milliarden)\b|"
            r"\b(?:Hälfte|Drittel|Viertel)\b",
            re.I,
        ),
    ],
    "duration": [
        re.compile(
            rf"\b(?:\d+|{_NUMBER_WORD})(?:\s?(?:bis|-|–)\s?\d+)?\s+(?:Jahre?n?|Monate?n?|Wochen?|Tage?n?|"
            r"Stunden?|Minuten?)\b",
            re.I,
        ),
        re.compile(
            r"\b(?:dauerhaft|unbefristet|befristet|langfristig|bis\s+(?:zum|Ende)\b[^,.;]{0,25})", re.I
        ),
    ],
    "frequency": [
        re.compile(
            r"\b(?:täglich|wöchentlich|zweiwöchentlich|monatlich|vierteljährlich|quartalsweise|halbjährlich|"
            r"jährlich|alljährlich|zweijährlich|wöchentliche[nmrs]?|monatliche[nmrs]?|jährliche[nmrs]?)\b",
            re.I,
        ),
        re.compile(
            rf"\b(?:(?:\d+|{_NUMBER_WORD})\s?-?mal|einmal|zweimal|dreimal)\s+(?:im|pro|je|in\s+der|"
            r"in\s+jede[mrn]|jede[nrs]?)\s+\w+",
            re.I,
        ),
        re.compile(rf"\balle\s+(?:\d+|{_NUMBER_WORD}|paar)?\s*(?:Tage|Wochen|Monate|Jahre)\b", re.I),
        re.compile(r"\b(?:jede[nrs]?|pro|im)\s+(?:Woche|Monat|Quartal|Jahr|Tag)\b|\bregelmäßig\w*\b", re.I),
    ],
    "actor": [
        re.compile(_ORG, re.I),
        re.compile(r"\b[A-ZÄÖÜ]{2,}[a-z]?\b"),  # acronyms: OKF, ODIS, CDO
        re.compile(_AGENTIVE, re.I),
    ],
    "named": [
        re.compile(r"„[^“]{2,60}“|\"[^\"]{2,60}\""),
        re.compile(
            r"\b[A-ZÄÖÜ]{2,}[a-z]?\b|\b[A-ZÄÖÜ][a-zäöü]+[A-ZÄÖÜ]\w*\b"
        ),  # OParl, DCAT, decidim-style names
        re.compile(r"\b\w+\.(?:org|de|eu|io|com)\b"),
    ],
    "reason": [
        re.compile(
            r"\b(?:weil|denn|da\s+sie|da\s+es|da\s+die|damit|sodass|so\s+dass|um\s+\w+(?:\s+\w+){0,6}\s+zu|"
            r"deshalb|daher|Grund|Ziel|Zweck)\b",
            re.I,
        ),
    ],
    "definition": [
        re.compile(
            r"\b(?:ist\s+(?:ein|eine|der|die|das)|sind|bezeichnet|versteht\s+man|bedeutet|steht\s+für|"
            r"meint|umfasst|beschreibt)\b",
            re.I,
        ),
    ],
}


def question_type(question: str) -> AnswerType | None:
    """The kind of answer the question asks for, or None for open questions ("Wie gelingt ...?")."""
    return asked_for(question)[0]


def asked_for(question: str) -> tuple[AnswerType | None, str]:
    """The kind of answer and the words that ask for it ("wie oft"): those words are no topic of the question,
    and a sentence that says "oft" in another sense answers nothing."""
    for kind, pattern in _QUESTION:
        m = pattern.search(question)
        if m:
            # Nouns in the match ("welche Frist", "welche Stelle") are the topic; only the asking words go.
            words = m.group(0).split()
            at_start = not question[: m.start()].strip(' ¿"„')
            asking = [w for i, w in enumerate(words) if w[:1].islower() or (i == 0 and at_start)]
            return kind, " ".join(asking)
    return None, ""


def answer_span(kind: AnswerType | None, sentence: str) -> tuple[int, int] | None:
    """Offsets of the expression in ``sentence`` that answers a question of ``kind`` (strongest pattern first)."""
    if kind is None:
        return None
    for pattern in _EXPRESSIONS[kind]:
        m = pattern.search(sentence)
        if m and m.group(0).strip():
            start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            return start, m.end() - (len(m.group(0)) - len(m.group(0).rstrip()))
    return None


def answer_strength(kind: AnswerType | None, sentence: str) -> float:
    """1.0 when the sentence holds a strong expression of ``kind``, 0.5 for a weaker one, else 0."""
    if kind is None:
        return 0.0
    patterns = _EXPRESSIONS[kind]
    for i, pattern in enumerate(patterns):
        if pattern.search(sentence):
            return 1.0 if i == 0 else 0.5
    return 0.0
