"""Text normalisation shared by every loader: Unicode (ligatures, umlauts, invisible characters), whitespace,
markup removal for untrusted values, plausible titles, and the test for unreadable glyph-code text."""

from __future__ import annotations

import html
import re
import unicodedata

# --------------------------------------------------------------------------------------------------------------
# Unicode and whitespace
# --------------------------------------------------------------------------------------------------------------

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
# Characters that are never content: C0/C1 controls (tab and newline are handled separately), replacement
# characters, private-use code points (symbol-font bullets), zero-width characters and bidi overrides.
_JUNK = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ue000-\uf8ff\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_SOFT_HYPHEN_BREAK = re.compile(r"\u00ad[ \t]*\n[ \t]*")
_DIAERESIS_BEFORE = re.compile(r"\u00a8 ?([aouAOUei])")
_DIAERESIS_AFTER = re.compile(r"([aouAOU])\u00a8")
_DOT_LEADER = re.compile(r"(?:[ \t]*\.){4,}[ \t]*")


def _with_diaeresis(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFC", match.group(1) + "\u0308")


def normalize_unicode(text: str) -> str:
    """NFC, ligatures expanded, soft hyphens and invisible/control characters removed; keeps line breaks.

    Umlauts and ß are kept (and repaired when a PDF split them into letter plus spacing diaeresis).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _SOFT_HYPHEN_BREAK.sub("", text).replace("\u00ad", "")
    text = text.translate(_LIGATURES)
    if "\u00a8" in text:
        text = _DIAERESIS_AFTER.sub(_with_diaeresis, _DIAERESIS_BEFORE.sub(_with_diaeresis, text))
    text = unicodedata.normalize("NFC", text)
    return _JUNK.sub("", text)


def normalize_paragraph(text: str) -> str:
    """One paragraph as a single line: normalised Unicode, single spaces, no leading/trailing space."""
    text = _DOT_LEADER.sub(" … ", normalize_unicode(text))
    return " ".join(text.split())


def normalize_multiline(text: str) -> str:
    """Structured text (table rows, code) keeps its line breaks and indentation; runs of spaces inside a line
    become one, blank lines are dropped."""
    out = []
    for line in normalize_unicode(text).split("\n"):
        body = line.lstrip(" \t")
        if body.strip():
            indent = line[: len(line) - len(body)].replace("\t", "    ")
            out.append(indent + _SPACES.sub(" ", body).rstrip())
    return "\n".join(out)


_TAG = re.compile(r"<[A-Za-z/!?][^>]*>|<[A-Za-z/!?][^>]*$")
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_SCHEME = re.compile(r"(?i)\b(?:javascript|vbscript|data)\s*:(?=\S)\S*")


def strip_markup(text: str) -> str:
    """Entities decoded; scripts, styles, comments and tags (also entity-encoded ones like "&lt;script&gt;")
    and script URLs removed.

    Decoding and stripping run twice, so a tag encoded once is decoded and then stripped. The stripping is an
    HTML parser's (selectolax/lexbor): a ``>`` inside a quoted attribute or a comment does not end the tag early,
    as it did for a regular expression. Raw-text elements (``<xmp>``, ``<textarea>``, ``<plaintext>``) hand their
    content back as text, tags and all; whatever still looks like a tag after that is removed by pattern.
    """
    for _ in range(2):
        text = html.unescape(text)
        if "<" in text:
            text = _parsed_text(text)
    return _SCHEME.sub("", _TAG.sub(" ", _SCRIPT.sub(" ", text)))


def _parsed_text(text: str) -> str:
    """The text of an HTML fragment without scripts and styles; its entities are already decoded."""
    from selectolax.lexbor import LexborHTMLParser

    # "&" is literal here (decoded above): escaped, the parser gives it back as it was instead of decoding again.
    tree = LexborHTMLParser(text.replace("&", "&amp;"))
    tree.strip_tags(["script", "style"])
    root = tree.root
    return root.text(separator=" ") if root is not None else ""


def sanitize_plain(value: object, max_len: int = 500) -> str:
    """Plain text from an untrusted metadata value: no markup, no controls, single spaces, bounded length."""
    text = normalize_paragraph(strip_markup(str(value)))
    if len(text) > max_len:
        text = text[: max_len - 1].rstrip() + "…"
    return text


_FILENAME_LIKE = re.compile(
    r"\.(indd|idml|docx?|dotx?|pdf|pptx?|xlsx?|odt|ods|odp|rtf|txt|tex|dvi|qxp|qxd|pub|vsdx?|html?|ai|eps|psd)$",
    re.I,
)
_JUNK_TITLE = re.compile(
    r"^(untitled|unbenannt|ohne titel|titel|title|document|dokument|präsentation|presentation|"
    r"powerpoint[- ]präsentation|folie|slide|page|seite|microsoft word|layout|entwurf|draft)[\s\d_.-]*$",
    re.I,
)


def plausible_title(raw: object) -> str | None:
    """A sanitised PDF/HTML title, or None when it is empty or clearly not a title (file names, "Untitled")."""
    if raw is None:
        return None
    text = sanitize_plain(raw, max_len=300)
    text = re.sub(r"^microsoft (word|powerpoint|excel)\s*-\s*", "", text, flags=re.I)
    if sum(ch.isalpha() for ch in text) < 3:
        return None
    if _FILENAME_LIKE.search(text) or _JUNK_TITLE.match(text):
        return None
    if " " not in text and ("_" in text or "\\" in text or "/" in text):
        return None
    if re.match(r"^[a-z]:\\|^/(users|home|tmp|var)/", text, re.I):
        return None
    return text


# --------------------------------------------------------------------------------------------------------------
# Unreadable text (fonts without a character map)
# --------------------------------------------------------------------------------------------------------------


def bad_char_count(text: str) -> int:
    """Characters that never occur in readable extracted text (controls, replacement and private-use chars)."""
    return sum(1 for ch in text if ch not in "\n\r " and (_JUNK.match(ch) is not None or ch == "\t"))


def is_garbage(text: str) -> bool:
    """True when a text fragment is mostly glyph codes rather than characters (no ToUnicode map in the font)."""
    bad = bad_char_count(text)
    if not bad:
        return False
    visible = len(text) - text.count(" ") - text.count("\n")
    return bad >= 0.15 * visible or visible <= 3


def letters(text: str) -> int:
    """Number of letters in a text."""
    return sum(ch.isalpha() for ch in text)
