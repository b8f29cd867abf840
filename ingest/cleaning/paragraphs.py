"""Paragraphs and blocks: lines joined into paragraphs (hyphenation undone, list items and sentence ends kept
apart) and paragraphs grouped into `Block`s under their heading path. Used by every loader."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.types import Block
from ingest.cleaning.textnorm import letters as _letters
from ingest.cleaning.textnorm import normalize_paragraph, normalize_unicode


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


def _next_cell_of_row(prev: Line, line: Line) -> bool:
    """`line` starts the next cell of the table row `prev` belongs to: it sits to the right and a few lines
    higher (at the row's top), not a column's height higher (a new text column starts at the top of the page)."""
    if prev.x is None or line.x is None or prev.y is None or line.y is None or len(line.text.strip()) > 40:
        return False
    size = max(line.size, prev.size, 1.0)
    return line.x > prev.x + size and 0 < line.y - prev.y <= 12 * size


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
            if brk and not line.gap_before and _next_cell_of_row(prev, line):
                brk = False  # the last column of a table row ("… der Distribution." → "0..1") stays with its row
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
