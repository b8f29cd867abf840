"""Small text utilities: German-aware sentence splitting, language guess, output sanitising."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations after which a period does not end a sentence (lower-cased, without the final period).
_ABBREVIATIONS = {
    "z. b", "z.b", "d. h", "d.h", "u. a", "u.a", "bzw", "ca", "vgl", "ggf", "evtl", "inkl", "zzgl", "nr", "abs",
    "art", "s", "bspw", "usw", "etc", "dr", "prof", "str", "mio", "mrd", "tsd", "jh", "gem", "i. d. r", "i.d.r",
    "o. ä", "u. ä", "sog", "max", "min", "bzgl", "einschl", "insb", "rd", "e. v", "e.v", "gmbh", "kap", "abb",
    "tab", "anm", "hrsg", "aufl", "jan", "feb", "okt", "nov", "dez", "sept", "z", "d", "u", "i", "o",
}

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"”“»)]?\s+(?=[\"„“«(]?[A-ZÄÖÜ0-9])")
_LIST_MARKER = re.compile(r"^\s*(?:[-–•*▪◦]|\d{1,2}[.)]|[a-z][.)])\s+")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the source text
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Split German prose into sentences, keeping offsets into ``text``.

    Line breaks that separate list items or paragraphs always end a sentence; periods after common
    abbreviations ("z. B.", "bzw.", "Abs.") and ordinal numbers do not.
    """
    out: list[Sentence] = []
    for line_match in re.finditer(r"[^\n]+", text):
        line, base = line_match.group(0), line_match.start()
        marker = _LIST_MARKER.match(line)
        skip = marker.end() if marker else 0
        start = skip
        for m in _BOUNDARY.finditer(line):
            candidate = line[start : m.start()].rstrip()
            last_word = re.search(r"(\S+)\.$", candidate)
            if last_word:
                word = last_word.group(1).lower().rstrip(".")
                tail = candidate[-6:].lower().rstrip(".")
                if word in _ABBREVIATIONS or tail.strip() in _ABBREVIATIONS or word.isdigit():
                    continue
            _emit(out, line, base, start, m.start())
            start = m.end()
        _emit(out, line, base, start, len(line))
    return out


def _emit(out: list[Sentence], line: str, base: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = base + start + lead
    out.append(Sentence(stripped, s, s + len(stripped)))


_EN_WORDS = {
    "the", "what", "how", "which", "who", "when", "where", "why", "is", "are", "does", "do", "can", "should",
    "of", "and", "to", "in", "for", "with", "after", "funding", "city", "cities", "municipality", "municipalities",
    "please", "ignore", "print", "your", "you", "my", "this", "that", "it",
}
_DE_WORDS = {
    "der", "die", "das", "und", "wie", "was", "welche", "wer", "wann", "wo", "warum", "ist", "sind", "kann",
    "können", "soll", "muss", "für", "mit", "nach", "von", "zu", "im", "in", "den", "dem", "eine", "ein", "es",
    "nicht", "auf", "bei", "gibt", "wird", "werden", "kommune", "kommunen", "förderung",
}


def guess_language(text: str) -> str:
    """'en' when the text is clearly English, else 'de' (the product's default language)."""
    words = re.findall(r"[a-zA-ZäöüÄÖÜß]+", text.lower())
    en = sum(w in _EN_WORDS for w in words)
    de = sum(w in _DE_WORDS for w in words) + 2 * bool(re.search(r"[äöüß]", text.lower()))
    return "en" if en >= 2 and en > de else "de"


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BARE_SCHEME = re.compile(r"\b(?:javascript|data|vbscript)\s*:", re.IGNORECASE)


def sanitize_model_output(text: str) -> str:
    """Make language-model output inert before any front end sees it.

    Markdown images are dropped (they would fetch from foreign hosts), links keep only their text,
    HTML tags are removed, and dangerous URL schemes are defused. Front ends still render the result as text.
    """
    text = _MD_IMAGE.sub(lambda m: m.group(1), text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _HTML_TAG.sub("", text)
    return _BARE_SCHEME.sub(lambda m: m.group(0).replace(":", " :"), text)


_INJECTION = re.compile(
    r"(ignor\w*\s+(all\w*\s+)?(previous|prior|vorherig\w*|bisherig\w*|obig\w*|the\s+retrieved)|system\s*-?\s*prompt|"
    r"developer\s+mode|entwicklermodus|du\s+bist\s+(jetzt|ab\s+jetzt|nun)|you\s+are\s+now|"
    r"vergiss\s+(die|alle|deine)|forget\s+(all|your|the)|</?\s*(context|system|quellen)\s*>|^\s*system\s*:|"
    r"neue\s+anweisung|new\s+instruction|reveal\s+the|verrate\s+(mir\s+)?(dein|den|die))",
    re.IGNORECASE | re.MULTILINE,
)
_BASE64_BLOB = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


def looks_like_injection(question: str) -> bool:
    """Attempts to instruct the system rather than ask it (German, English, base64-encoded)."""
    if _INJECTION.search(question):
        return True
    import base64
    import binascii

    for blob in _BASE64_BLOB.findall(question):
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4)).decode("utf-8", "ignore")
        except (binascii.Error, ValueError):
            continue
        if _INJECTION.search(decoded):
            return True
    return False
