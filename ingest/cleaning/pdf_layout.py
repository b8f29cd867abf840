"""PDF layout: headings (font size, weight, numbering), slides, and the whole PDF path from lines to blocks
(the lines themselves come from ingest.cleaning.pdf_lines, table header rows are merged by
ingest.cleaning.pdf_tables).

1. `lines_from_fragments` turns the text pieces pypdf reports (with position, font size and weight) into lines,
   dropping text from fonts without a usable character map (pypdf then yields control-character garbage).
2. `remove_running_lines` drops headers/footers that recur on most pages and page-number lines.
3. `pdf_pages_to_blocks` finds headings (font size, bold, numbering), rebuilds paragraphs (joining words
   hyphenated across line breaks) and groups them into `Block`s with page and heading path.

Every word removed on the way is counted by reason (see ingest.account).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.types import Block
from ingest.account import count_words
from ingest.cleaning.paragraphs import (
    Heading,
    Line,
    Para,
    _is_list_start,
    build_blocks,
    ends_sentence,
    join_lines,
    paragraphs_from_lines,
)
from ingest.cleaning.pdf_lines import CleanStats, remove_running_lines
from ingest.cleaning.pdf_tables import merge_table_headers
from ingest.cleaning.textnorm import letters as _letters
from ingest.cleaning.textnorm import normalize_paragraph

# --------------------------------------------------------------------------------------------------------------
# Headings
# --------------------------------------------------------------------------------------------------------------


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
                elif ln.bold and (not body or ln.size >= 0.95 * body) and _standalone(page, i) and not _label(text):
                    level = len(large) + max(depth, 1)
                elif depth and (ln.size == 0 or not body):
                    level = len(large) + depth
            page_levels.append(level)
        levels.append(page_levels)
    return levels


def _label(text: str) -> bool:
    """A bold lead-in that ends with a colon ("Veröffentlichungsdatum:", "Fördervolumen:") labels the value that
    follows it: content of the section, not a heading of its own."""
    return text.endswith(":")


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
        pages = _drop_footnote_markers(pages, body, stats)
    merged: list[list[Line]] = [merge_table_headers(lines) for lines in pages]
    pages = merged
    levels = _heading_levels(pages, body)
    slides = slide_pages(pages, page_heights, page_widths)
    for i in slides:
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
            if pno - 1 in slides:
                # A slide's title is often its main statement ("Potential: 43 Mrd. € KAS Studie"): it is quoted
                # with the slide's lines, not only named in the section path.
                items.append(Para(heading.text, pno))
            if pno == 1:
                first_page.append((heading, paras_on_first_page))
        flush_body()

    return PdfText(build_blocks(items), headings, _pdf_title(first_page, headings), stats)


def _drop_footnote_markers(pages: Sequence[Sequence[Line]], body: float, stats: CleanStats) -> list[list[Line]]:
    """Lines that are only a small number ("3", "12)") are footnote markers set apart by pypdf: counted, dropped."""
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
    return kept_pages


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
