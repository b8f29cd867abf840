"""Small text utilities: German-aware sentence splitting, language guess, output sanitising."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations after which a period does not end a sentence (lower-cased, without the final period).
_ABBREVIATIONS = {
    "z. b",
    "z.b",
    "d. h",
    "d.h",
    "u. a",
    "u.a",
    "bzw",
    "ca",
    "vgl",
    "ggf",
    "evtl",
    "inkl",
    "zzgl",
    "nr",
    "abs",
    "art",
    "s",
    "bspw",
    "usw",
    "etc",
    "dr",
    "prof",
    "str",
    "mio",
    "mrd",
    "tsd",
    "jh",
    "gem",
    "i. d. r",
    "i.d.r",
    "o. ä",
    "u. ä",
    "sog",
    "max",
    "min",
    "bzgl",
    "einschl",
    "insb",
    "rd",
    "e. v",
    "e.v",
    "gmbh",
    "kap",
    "abb",
    "tab",
    "anm",
    "hrsg",
    "aufl",
    "jan",
    "feb",
    "okt",
    "nov",
    "dez",
    "sept",
    "z",
    "d",
    "u",
    "i",
    "o",
}

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"”“»)]?\s+(?=[\"„“«(]?[A-ZÄÖÜ0-9])")
_LIST_MARKER = re.compile(r"^\s*(?:(?:[-–•*▪◦]|\d{1,2}[.)]|[a-z][.)])\s+)?(?:\[[ xX]\]\s+)?")
# Segments of one line: bullets inside a line ("… • Zweiter Punkt") start a new list item as a line break does.
_SEGMENT = re.compile(r"[^\n•▪◦]+")
_MONTHS = (
    "januar",
    "februar",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
    "jan",
    "feb",
    "mär",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "okt",
    "nov",
    "dez",
)
# "… z. B.", "(bzw.", ", d. h." at the end of a candidate sentence: the period belongs to the abbreviation.
_ENDS_WITH_ABBREVIATION = re.compile(
    r"(?:^|[^\w.])(?:"
    + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")\.$",
    re.IGNORECASE,
)
_OPENERS = "([{„“\"'»«‚"
#: A parenthesis left open this many characters before a boundary is taken as lost (PDF residue), not as one
#: the sentence is still inside.
_MAX_PAREN_SPAN = 300


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the source text
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Split German prose into sentences, keeping offsets into ``text``.

    Line breaks and bullets that separate list items or paragraphs always end a sentence; periods after common
    abbreviations ("z. B.", "(bzw.", "Abs."), ordinal numbers and dates ("1. Januar 2021", "am 21.4. 2015") do
    not, and neither does a period inside parentheses that close later ("(vgl. Anlage 2. Teil B)").
    """
    out: list[Sentence] = []
    for seg in _SEGMENT.finditer(text):
        line, base = seg.group(0), seg.start()
        marker = _LIST_MARKER.match(line)
        start = marker.end() if marker else 0
        for m in _BOUNDARY.finditer(line):
            if m.start() <= start:
                continue
            if not _ends_sentence(line, start, m):
                continue
            _emit(out, line, base, start, m.start())
            start = m.end()
        _emit(out, line, base, start, len(line))
    return out


def _ends_sentence(line: str, start: int, m: re.Match[str]) -> bool:
    candidate = line[start : m.start()].rstrip()
    following = line[m.end() :]
    last_word = re.search(r"(\S+)\.$", candidate)
    if last_word:
        word = last_word.group(1).lower().rstrip(".").lstrip(_OPENERS)
        if _ENDS_WITH_ABBREVIATION.search(candidate):
            return False
        next_word = re.match(r"[\"„“«(]?(\w+)", following)
        nxt = next_word.group(1).lower() if next_word else ""
        # "e. V.", "i. d. R." (lower case first: "Variante A. Z. B. kostet …" ends after "A.")
        single = last_word.group(1).lstrip(_OPENERS)
        if len(single) == 1 and single.islower() and re.match(r"\s?[^\W\d_]\.", following):
            return False
        if re.fullmatch(r"\d{1,2}", word):  # ordinal ("im 19. Jahrhundert") or day ("1. Januar")
            return False
        if re.fullmatch(r"\d{1,2}\.\d{1,2}", word) and (nxt.isdigit() or nxt in _MONTHS):  # "21.4. 2015"
            return False
    # Inside a parenthesis that closes later on the line: "(vgl. Anlage 2. Teil B)" is one sentence.
    opened = line.rfind("(", start, m.start())
    if opened >= 0 and line.count("(", start, m.start()) > line.count(")", start, m.start()):
        close = line.find(")", m.start())
        if close >= 0 and close - opened <= _MAX_PAREN_SPAN:
            return False
    return True


def _emit(out: list[Sentence], line: str, base: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = base + start + lead
    out.append(Sentence(stripped, s, s + len(stripped)))


# Words that mark a question as English or German: question and function words and the domain's commonest nouns.
# No English one is a German word too ("an", "will", "also", "was" are left out).
_EN_WORDS = frozenset(
    {
        "the", "what", "how", "which", "who", "when", "where", "why", "is", "are", "does", "do", "can", "should", "of",
        "and", "to", "in", "for", "with", "after", "funding", "city", "cities", "municipality", "municipalities",
        "please", "ignore", "print", "your", "you", "my", "this", "that", "it", "have", "has", "had", "into", "from",
        "by", "on", "at", "be", "been", "were", "they", "their", "there", "our", "we", "us", "many", "much", "did",
        "according", "would", "could", "must", "under", "about", "between", "than", "these", "those", "whose", "its",
        "if", "or", "any", "each", "other", "such", "only", "more", "most",
    }
)
_DE_WORDS = frozenset(
    {
        "der", "die", "das", "und", "wie", "was", "welche", "wer", "wann", "wo", "warum", "ist", "sind", "kann",
        "können", "soll", "muss", "für", "mit", "nach", "von", "zu", "im", "in", "den", "dem", "eine", "ein", "es",
        "nicht", "auf", "bei", "gibt", "wird", "werden", "kommune", "kommunen", "förderung",
    }
)


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


_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*")
_MARKUP = re.compile(
    r"\[@?[\w-]+\([^)]*\)\]|\[\[|\]\]|\]\(|\{\{|\}\}|\{%|%\}|</?[a-zA-Z][\w:.-]*[\s>/]|`|\[\^|&[a-z]+;|"
    r"^\s*[#>]+\s|\*\*|__|^\s*\|"
)
_SHELL = re.compile(
    r"^\s*(?:\$\s|>\s|#\s*(?:npm|pip|git)|(?:npm|npx|pip3?|git|make|cd|sudo|docker|docker-compose|curl|wget|yarn|"
    r"python3?|node|bash|sh|apt(?:-get)?|brew|mkdir|cp|mv|rm|ls|cat|export|source)\s+[-\w./:~$@=]+)"
)
_CODE = re.compile(
    r"[{};]\s*$|=>|==|!=|&&|\|\||\w+\([^()]*\)\s*[;{.]|\b(?:def|import|function|const|let|var|return|class)\s+\w|"
    r"\b\w+_\w+\b|\b[a-z]+[A-Z]\w*\(|\s--?[a-z][\w-]+(?:=\S+)?"
)
_PATH = re.compile(
    r"(?:^|[\s(])(?:~|\.{1,2})?/[\w.-]+/[\w./-]+|\b[A-Za-z]:\\|\b[\w-]+/[\w-]+\.(?:md|py|js|json|ya?ml|"
    r"html?|txt|csv|pdf|sh|toml|cfg|ini)\b"
)
_NAVIGATION = re.compile(
    r"\b(?:zum\s+inhalt|zur\s+navigation|springen|startseite|hauptmenü|menü|impressum|datenschutz\w*|barrierefreiheit|"
    r"kontakt|sitemap|nach\s+oben|zurück|weiter(?:lesen)?|mehr\s+erfahren|seite\s+\d+\s+von\s+\d+|teilen|drucken|"
    r"cookie\w*|anmelden|suche|skip\s+to|read\s+more|home)\b",
    re.IGNORECASE,
)
_HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b")  # commit ids, checksums
# A heading or table-of-contents line: "§ 6 Vermeidung von Interessenkonflikten", "5.1 Anforderungen …".
_HEADING = re.compile(r"^(?:§+\s*\d+\w?|(?:\d+\s+)?\d+(?:\.\d+)+\.?|[IVX]+\.)\s+\S")
_SEPARATORS = re.compile(r"\s[|›»>/·]\s")
# A pointer elsewhere, not a statement: "(Siehe dazu die Forderungen der OKF DE.)", "Vgl. Kapitel 3.".
_REFERENCE = re.compile(r"^\W*(?:siehe|vgl\.)\s", re.I)
# A postal address or imprint: a German postcode before a capitalised place name next to a street or an e-mail
# address ("... 11011 Berlin per E-Mail an: ada@bundestag.de Open Knowledge Foundation ... Singerstr.").
_POSTCODE = re.compile(r"\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]")
_ADDRESS_PART = re.compile(r"@[\w-]+\.\w|\bstr(?:aße|\.)|\bplatz\s+\d|\bpostfach\b", re.I)


def prose_problem(text: str) -> str | None:
    """Why ``text`` is not a prose sentence a person could quote, or None when it is.

    Rejected: bare URLs (or sentences mostly made of links), shell commands, code, file paths, link or citation
    markup (Markdown, Liquid, ``[@link(...)]``), navigation text, short pointers elsewhere ("Siehe dazu ...",
    "Vgl. Kapitel 3."), postal addresses, titles in capitals, and sentences that end inside a parenthesis or a
    hyphenated word.
    """
    urls = sum(len(m.group(0)) for m in _URL.finditer(text))
    words_outside = len(_URL.sub(" ", text).split())
    if urls and (urls > 0.25 * len(text) or words_outside < 6):
        return "url"
    if _MARKUP.search(text):
        return "markup"
    if _SHELL.search(text):
        return "shell"
    if len(_CODE.findall(text)) >= 1 and sum(ch in "{}[]()<>=;$`\\|_" for ch in text) > 0.04 * len(text):
        return "code"
    if _PATH.search(text):
        return "path"
    if _HASH.search(text):
        return "code"
    if _HEADING.match(text) and not text.rstrip().endswith((".", "!", "?")) and len(text.split()) <= 12:
        return "heading"
    if text.rstrip().endswith(("…", "...")) and re.search(r"\.{4,}|…\s*\d*$|\s\d+$", text):
        return "heading"
    if _REFERENCE.match(text) and len(text.split()) <= 12:
        return "reference"
    if _POSTCODE.search(text) and _ADDRESS_PART.search(text):
        return "address"
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 8 and sum(ch.isupper() for ch in letters) > 0.7 * len(letters):
        return "heading"  # "WAS IST CODE FOR GERMANY?": a slide title in capitals
    if re.search(r"\w-$", text.rstrip()):
        return "fragment"  # "Wieso offene Nahverkehrs-": the line ends inside a hyphenated word
    if text.count("(") > text.count(")"):
        return "parenthesis"
    closing = text.find(")")
    if text.count(")") > text.count("(") and 0 <= closing < 20:  # 'nomy”) wurde 2016 …': cut off at the start
        return "fragment"
    separators = len(_SEPARATORS.findall(text))
    navigation = len(_NAVIGATION.findall(text))
    unfinished = not text.rstrip().endswith((".", "!", "?", "“", '"', ")"))
    if separators >= 2 or (navigation and unfinished and (navigation >= 2 or len(text.split()) < 8)):
        return "navigation"
    return None
