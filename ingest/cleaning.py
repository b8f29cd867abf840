"""Pure text-cleaning functions shared by the loaders.

Everything here works on plain strings and small dataclasses, so it can be unit-tested without files, and the
PDF child process can call it without touching the parent's state. The PDF path runs in three steps:

1. `lines_from_fragments` turns the text pieces pypdf reports (with position, font size and weight) into lines,
   dropping text from fonts without a usable character map (pypdf then yields control-character garbage).
2. `remove_running_lines` drops headers/footers that recur on most pages and page-number lines.
3. `pdf_pages_to_blocks` finds headings (font size, bold, numbering), rebuilds paragraphs (joining words
   hyphenated across line breaks) and groups them into `Block`s with page and heading path.

Markdown, HTML and text loaders use the Unicode/whitespace normalisation, `join_lines`, `paragraphs_from_text`
and `build_blocks`.
"""

from __future__ import annotations

import html
import math
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.types import Block
from ingest.account import count_words

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
    """Entities decoded; scripts, tags (also entity-encoded ones like "&lt;script&gt;") and script URLs removed."""
    for _ in range(2):
        text = html.unescape(text)
        text = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    return _SCHEME.sub("", text)


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


# --------------------------------------------------------------------------------------------------------------
# Fragments -> lines
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One visual line of a PDF page.

    Attributes:
        text: Raw line text (not yet normalised).
        size: Dominant font size in points, 0.0 when unknown.
        bold: Whether (nearly) all of the line is set in a bold font.
        x, y: Position of the line's first character in PDF user space (y grows upwards), None when unknown.
        gap_before: Unreadable text was dropped just before this line, so it must not be glued to the previous one.
    """

    text: str
    size: float = 0.0
    bold: bool = False
    x: float | None = None
    y: float | None = None
    gap_before: bool = False


#: Text set smaller than this (in points) cannot be read by anyone and is dropped.
MIN_VISIBLE_SIZE = 1.0

#: A piece of text as pypdf reports it: (text, x, y, font size, bold, font key).
Fragment = tuple[str, "float | None", "float | None", float, bool, str]


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


class _LineBuilder:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.parts: list[str] = []
        self.sizes: Counter[float] = Counter()
        self.bold_chars = 0
        self.chars = 0
        self.x: float | None = None
        self.y: float | None = None
        self.last_x: float | None = None
        self.last_y: float | None = None
        self.gap = False
        self.pending_gap = False
        self.marker: tuple[float, int, bool] | None = None  # a line-initial digit piece: (size, chars, bold)
        self.removed: Counter[str] = Counter()  # words dropped while building lines, by reason

    @property
    def size(self) -> float:
        return self.sizes.most_common(1)[0][0] if self.sizes else 0.0

    def flush(self) -> None:
        text = "".join(self.parts)
        if (
            text.strip()
            and not any(ch.isalnum() for ch in text)
            and (self.gap or text.strip() in ("-", "–", "—"))
        ):
            # a lone hyphen or stray punctuation left over from dropped unreadable text
            self.pending_gap = self.pending_gap or self.gap
            text = ""
        if text.strip():
            bold = self.chars > 0 and self.bold_chars >= 0.9 * self.chars
            self.lines.append(Line(text, self.size, bold, self.x, self.y, self.gap))
        self.parts, self.sizes, self.bold_chars, self.chars = [], Counter(), 0, 0
        self.x = self.y = self.last_x = self.last_y = None
        self.gap = False
        self.marker = None

    def starts_new_line(self, x: float | None, y: float | None, size: float, piece: str) -> bool:
        cur = self.size
        if y is not None and self.last_y is not None and abs(y - self.last_y) > 0.7 * max(size, cur, 1.0):
            return True
        if x is not None and self.last_x is not None and x < self.last_x - 1.0:
            return True  # text jumps back to the left on the same baseline: another column or text box
        if size > 0 and cur > 0 and max(size, cur) / min(size, cur) >= 1.3:
            return _letters(piece) >= 2 and _letters("".join(self.parts)) >= 2
        return False

    def add(self, piece: str, x: float | None, y: float | None, size: float, bold: bool) -> None:
        if not piece.strip():
            if self.parts:
                self.parts.append(piece)
            return
        stripped = piece.strip()
        if self.parts:
            cur = self.size
            if size > 0 and cur > 0 and size < 0.8 * cur and stripped.isdigit() and len(stripped) <= 3:
                self.removed["footnote_marker"] += 1
                return  # superscript footnote marker ("wurden¹.")
            if self.starts_new_line(x, y, size, piece):
                self.flush()
        n = len(stripped)
        if not self.parts:
            self.x, self.y = x, y
            self.gap, self.pending_gap = self.pending_gap, False
            if stripped.isdigit() and n <= 3 and size > 0:
                self.marker = (size, n, bold)
        elif self.marker is not None:
            marker_size, marker_chars, marker_bold = self.marker
            self.marker = None
            if size > 0 and marker_size < 0.8 * size and len(self.parts) == 1:
                # footnote marker at the start of a line ("¹ Funktionen des ...")
                self.removed["footnote_marker"] += count_words("".join(self.parts))
                self.parts.clear()
                self.sizes[round(marker_size, 1)] -= marker_chars
                self.sizes += Counter()  # drop zero counts
                self.chars -= marker_chars
                self.bold_chars -= marker_chars if marker_bold else 0
        self.parts.append(piece)
        self.sizes[round(size, 1)] += n
        self.chars += n
        self.bold_chars += n if bold else 0
        self.last_x, self.last_y = x, y


def lines_from_fragments(fragments: Iterable[Fragment], removed: Counter[str] | None = None) -> list[Line]:
    """Build lines from one page's text fragments (in content-stream order).

    A new line starts where pypdf put a line break, where the text jumps left or to another baseline, and where
    the font size changes sharply (a sidebar heading set on the same baseline as body text). Fragments of a font
    whose text is mostly glyph codes are dropped entirely, and the next line is marked with `gap_before`.
    Words dropped on the way (garbage, invisible, footnote markers) are added to `removed` by reason.
    """
    removed = removed if removed is not None else Counter()
    frags = list(fragments)
    font_bad: Counter[str] = Counter()
    font_all: Counter[str] = Counter()
    for text, _x, _y, _size, _bold, font in frags:
        if font:
            font_bad[font] += bad_char_count(text)
            font_all[font] += len(text) - text.count(" ") - text.count("\n")
    garbage_fonts = {f for f, bad in font_bad.items() if bad >= 3 and bad >= 0.2 * font_all[f]}

    builder = _LineBuilder()
    for text, x, y, size, bold, font in frags:
        if not text or 0 < size < MIN_VISIBLE_SIZE:
            removed["invisible"] += count_words(text)
            continue  # invisible text (a classic carrier of hidden instructions)
        if font in garbage_fonts or is_garbage(text):
            removed["garbage"] += count_words(_JUNK.sub(" ", text.replace("\t", " ")))
            if text.strip():
                builder.flush()
                builder.pending_gap = True
            continue
        if bad_char_count(text):
            text = _JUNK.sub("", text.replace("\t", " "))
        for i, piece in enumerate(text.split("\n")):
            if i > 0:
                builder.flush()
                x = y = None  # later pieces of a multi-line fragment: position unknown
            if piece:
                builder.add(piece, x, y, size, bold)
    builder.flush()
    removed.update(builder.removed)
    return builder.lines


# --------------------------------------------------------------------------------------------------------------
# Running headers/footers and page numbers
# --------------------------------------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(
    r"""^(?:
        [-–—]?\s*\d{1,4}\s*[-–—]?                                   # 3   - 3 -
      | (?:seite|page|s\.|p\.)\s*\d{1,4}(?:\s*(?:von|of|/|aus)\s*\d{1,4})?   # Seite 3 von 8, S. 3
      | \d{1,4}\s*(?:/|von|of|\|)\s*\d{1,4}                         # 3 / 8
      | [ivx]{1,6}                                                  # roman numerals of front matter
    )$""",
    re.I | re.X,
)


def is_page_number_line(text: str) -> bool:
    """True for lines that are only a page number ("3", "- 3 -", "Seite 3 von 8", "S. 3", "3/8", "iv")."""
    return bool(_PAGE_NUMBER.match(" ".join(text.split())))


def _line_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(normalize_unicode(text).lower().split()))


@dataclass
class CleanStats:
    """What the PDF cleaning removed (numbers of lines/paragraphs), for logging and measurement."""

    running_lines: int = 0
    page_number_lines: int = 0
    footnote_markers: int = 0
    duplicate_paragraphs: int = 0
    removed_words: Counter[str] = field(default_factory=Counter)  # words removed, by account reason


def remove_running_lines(
    pages: Sequence[Sequence[Line]],
    page_heights: Sequence[float | None] | None = None,
    edge: int = 4,
    margin: float = 0.08,
    stats: CleanStats | None = None,
) -> list[list[Line]]:
    """Drop running headers/footers and page-number lines.

    Candidates are the first and last `edge` lines of each page (content order) and lines within the top/bottom
    `margin` of the page height. A candidate is a running line when its text, with digits replaced, recurs among
    the candidates of at least half the pages (and at least two). Page-number lines are dropped among candidates
    on any page.
    """
    stats = stats if stats is not None else CleanStats()
    n = len(pages)

    def candidates(i: int) -> set[int]:
        lines = pages[i]
        idx = set(range(min(edge, len(lines)))) | set(range(max(0, len(lines) - edge), len(lines)))
        height = page_heights[i] if page_heights and i < len(page_heights) else None
        if height:
            idx |= {
                j
                for j, ln in enumerate(lines)
                if ln.y is not None and not margin * height < ln.y < (1 - margin) * height
            }
        return idx

    cands = [candidates(i) for i in range(n)]
    counts: Counter[str] = Counter()
    for i in range(n):
        counts.update({_line_key(pages[i][j].text) for j in cands[i]})
    threshold = max(2, math.ceil(0.5 * n))
    running = {key for key, c in counts.items() if c >= threshold and key}

    out: list[list[Line]] = []
    for i in range(n):
        kept: list[Line] = []
        running_here: list[Line] = []
        for j, line in enumerate(pages[i]):
            if j in cands[i]:
                if is_page_number_line(line.text):
                    stats.page_number_lines += 1
                    stats.removed_words["page_number"] += count_words(line.text)
                    continue
                if n >= 2 and _line_key(line.text) in running:
                    running_here.append(line)
                    continue
            kept.append(line)
        if not kept and running_here:
            # Nothing but "running" lines: rather the page's own text (one line per page differing only in
            # numbers) than an empty page.
            kept = [ln for ln in pages[i] if ln in running_here]
        else:
            stats.running_lines += len(running_here)
            stats.removed_words["running_line"] += sum(count_words(ln.text) for ln in running_here)
        out.append(kept)
    return out


# --------------------------------------------------------------------------------------------------------------
# Hyphenation and paragraphs
# --------------------------------------------------------------------------------------------------------------

_ENUM_WORDS = frozenset(
    {
        "und",
        "oder",
        "bzw",
        "bzw.",
        "sowie",
        "als",
        "bis",
        "wie",
        "noch",
        "statt",
        "beziehungsweise",
        "u.",
        "&",
    }
)


def join_lines(left: str, right: str) -> str:
    """Join two consecutive lines of one paragraph, undoing hyphenation at the line break.

    "Verstetigungs-" + "strategie" -> "Verstetigungsstrategie"; the hyphen stays before an upper-case part or a
    digit ("Smart-" + "City" -> "Smart-City"), after abbreviations and digits ("IT-" + "gestützt"), and in
    enumerations ("Bundes-" + "und Landesmittel" -> "Bundes- und Landesmittel"). A soft hyphen always joins.
    """
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left or right
    if left.endswith("\u00ad"):
        return left[:-1] + right
    last = left.split()[-1]
    if ("://" in last or last.startswith("www.")) and left[-1] in "/._=&?#" and not right[0].isupper():
        return left + right  # a URL broken across lines
    if left.endswith("-") and len(left) >= 2 and left[-2].isalpha():
        word = left.split()[-1][:-1]
        first = right.split(maxsplit=1)[0].rstrip(",;:")
        if first.lower() in _ENUM_WORDS:
            return left + " " + right
        stem = word.rsplit("-", 1)[-1]
        keep = any(ch.isdigit() for ch in stem) or (stem.isupper() and _letters(stem) >= 1)
        if right[0].islower() and not keep:
            return left[:-1] + right
        return left + right
    if left.endswith("-") and len(left) >= 2 and not left[-2].isspace():
        first = right.split(maxsplit=1)[0].rstrip(",;:")
        return left + (" " if first.lower() in _ENUM_WORDS else "") + right  # „Injury Crash“-Karte, 2019-2021
    return left + " " + right


def _url_continues(prev: str, text: str) -> bool:
    last = prev.split()[-1] if prev.split() else ""
    return ("://" in last or last.startswith("www.")) and text[:1].islower()


_ABBREVIATIONS = frozenset(
    [
        "z.",
        "b.",
        "z.b.",
        "ca.",
        "bzw.",
        "vgl.",
        "nr.",
        "s.",
        "u.a.",
        "d.h.",
        "etc.",
        "inkl.",
        "ggf.",
        "evtl.",
        "bspw.",
        "sog.",
        "u.",
        "dr.",
        "prof.",
        "abs.",
        "art.",
        "mio.",
        "mrd.",
        "tsd.",
        "usw.",
        "bzgl.",
        "zzgl.",
        "insb.",
        "v.a.",
        "o.ä.",
        "u.ä.",
        "i.d.r.",
        "z.t.",
        "st.",
        "str.",
    ]
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”“»«’)\]]*$")
_LIST_START = re.compile(r"^(?:[•◦▪▫●○■□‣⁃∙·►✓]\s*|[-–—*]\s+|\(?\d{1,2}[.)]\s+|[a-z]\)\s+)")


def ends_sentence(text: str) -> bool:
    """True when a line ends a sentence (., !, ?, … - but not after abbreviations like "z. B." or "Nr.")."""
    text = text.rstrip()
    if not _SENTENCE_END.search(text):
        return False
    last = text.split()[-1].lower()
    if last in _ABBREVIATIONS:
        return False
    return not re.fullmatch(r"\d{1,2}\.", last)  # ordinals: "am 3." (but "im Jahr 2019." ends a sentence)


def _is_list_start(text: str) -> bool:
    return bool(_LIST_START.match(text.strip()))


def paragraphs_from_lines(lines: Sequence[Line]) -> list[str]:
    """Rebuild paragraphs from the body lines of one page region.

    A paragraph ends before a line marked `gap_before`, before a list item, at a clearly larger vertical gap,
    and after a line that ends a sentence - with positions known, only when that line is also short (the last
    line of a justified paragraph) or the text moves to another column.
    """
    spacings = [
        a.y - b.y
        for a, b in zip(lines, lines[1:], strict=False)
        if a.y is not None
        and b.y is not None
        and abs(a.size - b.size) <= 0.5
        and 0 < a.y - b.y < 3 * max(a.size, 1)
    ]
    spacing = statistics.median(spacings) if spacings else None
    lengths = [len(ln.text.strip()) for ln in lines if len(ln.text.strip()) >= 15]
    typical_len = statistics.median(lengths) if lengths else None

    paragraphs: list[str] = []
    current = ""
    prev: Line | None = None
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if prev is not None and current:
            brk = line.gap_before
            gap = prev.y - line.y if prev.y is not None and line.y is not None else None
            prev_text = prev.text.strip()
            if not brk and _is_list_start(text):
                brk = (
                    bool(re.match(r"^[•◦▪▫●○■□‣⁃∙·►✓–—*-]", text))
                    or ends_sentence(prev_text)
                    or prev_text.endswith(":")
                )
            if not brk and spacing and gap is not None and gap > 1.35 * spacing:
                brk = True
            if not brk and ends_sentence(prev_text) and not _url_continues(prev_text, text):
                # With positions known, a sentence end closes the paragraph only at a short line (the last line
                # of a justified paragraph) or where the text moves elsewhere (column change).
                unknown = spacing is None or gap is None
                moved = gap is not None and spacing is not None and (gap <= 0 or gap > 1.6 * spacing)
                short = typical_len is not None and len(prev_text) < 0.8 * typical_len
                brk = unknown or moved or short
            if brk:
                paragraphs.append(current)
                current = ""
        current = join_lines(current, text) if current else text
        prev = line
    if current:
        paragraphs.append(current)
    return [p for p in (normalize_paragraph(p) for p in paragraphs) if p]


def paragraphs_from_text(text: str) -> list[str]:
    """Paragraphs of plain text: blank lines and sentence-ending lines end a paragraph; hyphenation joined."""
    lines: list[Line] = []
    gap = False
    for raw in normalize_unicode(text).split("\n"):
        if not raw.strip():
            gap = True
            continue
        lines.append(Line(raw, gap_before=gap))
        gap = False
    return paragraphs_from_lines(lines)


# --------------------------------------------------------------------------------------------------------------
# Headings and blocks
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    page: int | None = None


@dataclass(frozen=True)
class Para:
    text: str
    page: int | None = None


def build_blocks(items: Iterable[Heading | Para]) -> list[Block]:
    """Group paragraphs into blocks: one block per run of paragraphs with the same page and heading path.

    A heading is content too: one with no text under it (a bold one-line slide item, "Fördervolumen: 8 Mio €",
    a chapter heading followed directly by the next chapter) is kept as a paragraph of its parent section
    instead of being overwritten by the next heading.
    """
    stack: list[list[Any]] = []  # [level, text, page, covered]
    blocks: list[Block] = []
    paras: list[str] = []
    key: tuple[int | None, tuple[str, ...]] | None = None

    def flush() -> None:
        if paras and key is not None:
            blocks.append(Block(text="\n\n".join(paras), page=key[0], heading_path=key[1]))
        paras.clear()

    def add(text: str, page: int | None) -> None:
        nonlocal key
        new_key = (page, tuple(entry[1] for entry in stack))
        if new_key != key:
            flush()
            key = new_key
        paras.append(text)
        for entry in stack:
            entry[3] = True

    def pop() -> None:
        level, text, page, covered = stack.pop()
        if not covered:
            add(text, page)

    for item in items:
        if isinstance(item, Heading):
            text = normalize_paragraph(item.text)
            if not text:
                continue
            while stack and stack[-1][0] >= item.level:
                pop()
            stack.append([item.level, text, item.page, False])
            continue
        text = item.text if "\n" in item.text else normalize_paragraph(item.text)
        if not text.strip():
            continue
        add(text, item.page)
    while stack:
        pop()
    flush()
    return blocks


_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+(?=[^\W\d_])")


def numbering_depth(text: str) -> int:
    """Depth of a numbered heading ("2" -> 1, "2.1" -> 2, "2.1.3 ..." -> 3), 0 when not numbered."""
    m = _NUMBERED_HEADING.match(text.strip())
    return m.group(1).count(".") + 1 if m else 0


def _heading_shape(text: str) -> bool:
    text = text.strip()
    if _letters(text) < 2 or len(text) > 150 or len(text.split()) > 16:
        return False
    if text[-1] in ",;" or (ends_sentence(text) and not text.endswith("?")):
        return False
    if _is_list_start(text) and not numbering_depth(text):
        return False
    first = text[0]
    return first.isupper() or first.isdigit() or first in "„\"'(»"


def body_font_size(pages: Sequence[Sequence[Line]]) -> float:
    """The font size carrying most characters (0.0 when sizes are unknown)."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page:
            if line.size > 0:
                sizes[round(line.size * 2) / 2] += len(line.text.strip())
    return sizes.most_common(1)[0][0] if sizes else 0.0


@dataclass
class PdfText:
    """Result of cleaning the lines of a PDF."""

    blocks: list[Block]
    headings: list[Heading]
    title: str | None
    stats: CleanStats = field(default_factory=CleanStats)


def _heading_levels(pages: Sequence[Sequence[Line]], body: float) -> list[list[int]]:
    """Heading level per line (0 = body text)."""
    large = sorted(
        {
            round(ln.size * 2) / 2
            for page in pages
            for ln in page
            if body and ln.size >= max(body * 1.15, body + 1.0)
        },
        reverse=True,
    )
    rank = {size: i + 1 for i, size in enumerate(large)}
    levels: list[list[int]] = []
    for page in pages:
        page_levels = []
        for i, ln in enumerate(page):
            level = 0
            text = ln.text.strip()
            if _heading_shape(text):
                depth = numbering_depth(text)
                size_key = round(ln.size * 2) / 2
                if size_key in rank:
                    level = rank[size_key]
                elif ln.bold and (not body or ln.size >= 0.95 * body) and _standalone(page, i):
                    level = len(large) + max(depth, 1)
                elif depth and (ln.size == 0 or not body):
                    level = len(large) + depth
            page_levels.append(level)
        levels.append(page_levels)
    return levels


def _standalone(page: Sequence[Line], i: int) -> bool:
    """A bold line at body size is a heading only if it is not a fragment of running text."""
    line = page[i]
    text = line.text.strip()
    nxt = page[i + 1] if i + 1 < len(page) else None
    if len(text) > 100 or text.endswith("-") or line.gap_before:
        return False
    return nxt is None or not (nxt.gap_before or nxt.text.strip()[:1].islower())


def _continues_heading(first: Line, last: Line, line: Line, level: int, body: float) -> bool:
    """Whether `line` is the next line of a heading that wraps (same style, directly below)."""
    if abs(line.size - last.size) >= 0.3 or line.bold != last.bold or numbering_depth(line.text):
        return False
    if last.y is not None and line.y is not None and not 0 < last.y - line.y <= 1.6 * max(last.size, 1):
        return False
    text = line.text.strip()
    if len(text) > 150 or ends_sentence(text) or line.gap_before:
        return False
    return level > 0 and (not body or line.size >= max(body * 1.15, body + 1.0) or line.bold)


_PlacedHeading = tuple[Heading, "float | None", float]  # heading, y of its first line, font size


def _page_sequence(
    page: Sequence[Line], page_levels: Sequence[int], pno: int, body: float
) -> list[Line | _PlacedHeading]:
    """Body lines and headings of one page in content order; wrapped heading lines merged into one heading."""
    seq: list[Line | _PlacedHeading] = []
    i = 0
    while i < len(page):
        level = page_levels[i]
        if not level:
            seq.append(page[i])
            i += 1
            continue
        first = last = page[i]
        text = first.text.strip()
        i += 1
        while (
            i < len(page)
            and page_levels[i] in (0, level)
            and _continues_heading(first, last, page[i], level, body)
            and len(text) + len(page[i].text) <= 200
        ):
            text, last = join_lines(text, page[i].text.strip()), page[i]
            i += 1
        seq.append((Heading(level, normalize_paragraph(text), pno), first.y, first.size))
    return seq


def _side_headings_in_place(seq: list[Line | _PlacedHeading]) -> list[Line | _PlacedHeading]:
    """Move stacked side headings next to the body text they label.

    Fact sheets and reports often set section labels in a side column; the content stream then holds all labels
    of a page first and the body text after them. When two or more headings follow each other directly, each is
    placed before the first following body line that does not lie clearly above it.
    """
    out: list[Line | _PlacedHeading] = []
    i = 0
    while i < len(seq):
        j = i
        while j < len(seq) and not isinstance(seq[j], Line):
            j += 1
        run = seq[i:j]
        k = j
        while k < len(seq) and isinstance(seq[k], Line):
            k += 1
        body_run = seq[j:k]
        if len(run) < 2 or not body_run or any(h[1] is None for h in run):  # type: ignore[index]
            out.extend(seq[i:k])
            i = k
            continue
        pending = list(run)
        for line in body_run:
            assert isinstance(line, Line)
            while pending and (line.y is None or pending[0][1] >= line.y - 1.5 * max(line.size, 1)):  # type: ignore[index,operator]
                out.append(pending.pop(0))
            out.append(line)
        out.extend(pending)
        i = k
    return out


#: A slide: a landscape page with at most this many words and lines (presentation exports: 16:9 or 4:3 pages).
SLIDE_MAX_WORDS = 220
SLIDE_MAX_LINES = 40


def slide_pages(
    pages: Sequence[Sequence[Line]],
    page_heights: Sequence[float | None] | None,
    page_widths: Sequence[float | None] | None,
) -> set[int]:
    """Indexes of presentation-style pages: landscape, few lines and words. Only when most text pages of the
    document are such pages (a landscape table in a report is not a slide)."""
    if not page_heights or not page_widths:
        return set()
    found = set()
    texty = 0
    for i, page in enumerate(pages):
        if not page:
            continue
        texty += 1
        h = page_heights[i] if i < len(page_heights) else None
        w = page_widths[i] if i < len(page_widths) else None
        words = sum(count_words(ln.text) for ln in page)
        if h and w and w > 1.2 * h and words <= SLIDE_MAX_WORDS and len(page) <= SLIDE_MAX_LINES:
            found.add(i)
    return found if texty and len(found) >= 0.6 * texty else set()


def _slide_levels(page: Sequence[Line]) -> list[int]:
    """A slide's title (the first run of lines in the page's largest font) is its one heading; every other line,
    bold or large, is content of the slide ("Projektlaufzeit: 2019–2023", "Fördervolumen: 8 Mio €")."""
    levels = [0] * len(page)
    sizes = [ln.size for ln in page if ln.size > 0 and _letters(ln.text) >= 2]
    if not sizes:
        return levels
    top = max(sizes)
    start = next((i for i, ln in enumerate(page) if ln.size >= top - 0.5 and _letters(ln.text) >= 2), None)
    if start is None or not _heading_shape(page[start].text) and len(page[start].text.strip()) > 150:
        return levels
    i = start
    while i < len(page) and i - start < 3 and abs(page[i].size - page[start].size) < 0.5:
        levels[i] = 1
        i += 1
        prev_y, y = page[i - 1].y, page[i].y if i < len(page) else None
        if prev_y is not None and y is not None and not 0 < prev_y - y <= 1.6 * max(page[i].size, 1):
            break  # the next line in the title font is not directly below: not part of the title
    return levels


def pdf_pages_to_blocks(
    pages: Sequence[Sequence[Line]],
    page_heights: Sequence[float | None] | None = None,
    page_widths: Sequence[float | None] | None = None,
) -> PdfText:
    """Clean the lines of all pages of a PDF into blocks (see module docstring). Presentation-style pages
    (`slide_pages`) keep their title as the only heading, so a slide's lines stay together as one section."""
    stats = CleanStats()
    pages = remove_running_lines(pages, page_heights, stats=stats)
    body = body_font_size(pages)
    if body:
        kept_pages = []
        for page in pages:
            kept = []
            for ln in page:
                if re.fullmatch(r"\d{1,3}[.)]?", ln.text.strip()) and 0 < ln.size < 0.85 * body:
                    stats.footnote_markers += 1
                    stats.removed_words["footnote_marker"] += count_words(ln.text)
                    continue
                kept.append(ln)
            kept_pages.append(kept)
        pages = kept_pages
    levels = _heading_levels(pages, body)
    for i in slide_pages(pages, page_heights, page_widths):
        levels[i] = _slide_levels(pages[i])

    items: list[Heading | Para] = []
    headings: list[Heading] = []
    first_page: list[tuple[Heading, int]] = []  # headings on page 1 with the number of paragraphs before them
    paras_on_first_page = 0
    for pno, (page, page_levels) in enumerate(zip(pages, levels, strict=True), start=1):
        seen_paras: set[str] = set()
        body_lines: list[Line] = []

        def flush_body(
            pno: int = pno, body_lines: list[Line] = body_lines, seen: set[str] = seen_paras
        ) -> None:
            nonlocal paras_on_first_page
            for para in paragraphs_from_lines(body_lines):
                if len(para) >= 30 and para in seen:
                    stats.duplicate_paragraphs += 1
                    stats.removed_words["duplicate"] += count_words(para)
                    continue
                seen.add(para)
                items.append(Para(para, pno))
                paras_on_first_page += pno == 1
            body_lines.clear()

        for entry in _side_headings_in_place(_page_sequence(page, page_levels, pno, body)):
            if isinstance(entry, Line):
                body_lines.append(entry)
                continue
            flush_body()
            heading = entry[0]
            items.append(heading)
            headings.append(heading)
            if pno == 1:
                first_page.append((heading, paras_on_first_page))
        flush_body()

    return PdfText(build_blocks(items), headings, _pdf_title(first_page, headings), stats)


def _pdf_title(first_page: list[tuple[Heading, int]], headings: list[Heading]) -> str | None:
    """The first of the largest headings on page 1, with a short same-level heading right after it as subtitle
    ("Best Practice Beispiele ... – Boston")."""
    if not first_page:
        return headings[0].text if headings else None
    top = min(h.level for h, _ in first_page)
    i = next(i for i, (h, _) in enumerate(first_page) if h.level == top)
    title, paras_before = first_page[i][0].text, first_page[i][1]
    if i + 1 < len(first_page):
        second, paras = first_page[i + 1]
        if second.level == top and paras == paras_before and len(second.text.split()) <= 6:
            title = f"{title} – {second.text}"
    return title
