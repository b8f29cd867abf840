"""PDF lines: the text fragments pypdf reports into visual lines (garbage and invisible text dropped and
counted), and running headers/footers and page numbers removed (counted). Runs in the PDF child process too."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ingest.account import count_words
from ingest.cleaning.paragraphs import Line
from ingest.cleaning.textnorm import _JUNK, bad_char_count, is_garbage, normalize_unicode
from ingest.cleaning.textnorm import letters as _letters

# --------------------------------------------------------------------------------------------------------------
# Fragments -> lines
# --------------------------------------------------------------------------------------------------------------


#: Text set smaller than this (in points) cannot be read by anyone and is dropped.
MIN_VISIBLE_SIZE = 1.0

#: A piece of text as pypdf reports it: (text, x, y, font size, bold, font key).
Fragment = tuple[str, "float | None", "float | None", float, bool, str]


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
