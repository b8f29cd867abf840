"""Structure-following chunking.

Blocks that share a page and a heading path form a section; sections are split into chunks of at most
``CHUNK_CHARS`` characters with a small overlap by LangChain's RecursiveCharacterTextSplitter (paragraphs first,
then sentences). A chunk never spans two pages, two sections or two documents, so every chunk has exactly one
page and one heading path to cite.

Size: multilingual-e5-small reads at most 512 tokens; German text costs about 1.6 tokens per word, so ~900
characters (~130 words, ~230 tokens) plus the title/section header stays well inside the window and keeps
passages short enough to quote.
"""

from __future__ import annotations

import hashlib
import re
from itertools import groupby
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.types import Block, Chunk, LoadedDocument

CHUNK_CHARS = 900
OVERLAP_CHARS = 150
#: Bump when chunking changes: it is part of every document version, so a bump re-indexes everything.
CHUNKER_VERSION = "c4"  # c4: table header rows in their rows' sections, short preamble joins the first section

_splitter = RecursiveCharacterTextSplitter(
    chunk_size=CHUNK_CHARS,
    chunk_overlap=OVERLAP_CHARS,
    separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
    keep_separator="end",
    add_start_index=True,
    strip_whitespace=True,
)


def doc_id_for(source: str) -> str:
    # surrogateescape: a file name that is not valid UTF-8 still gets an id (the pipeline then refuses it).
    return hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def section_label(path: tuple[str, ...], title: str) -> str:
    """Heading path for display; a top heading that only repeats the document title is left out."""
    if path and " ".join(path[0].split()).casefold() == " ".join(title.split()).casefold():
        path = path[1:]
    return " › ".join(path)


#: A table's header row as the loaders write it: cells joined by " | " (a PDF header row, the first line of a
#: Markdown or HTML table).
_HEADER_ROW = re.compile(r"[^\n|]+(?: \| [^\n|]+){2,}")
MAX_HEADER_CHARS = 200


def table_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, header row) of the tables in a section's text. A table starts at a paragraph whose first line
    is a header row. A Markdown/HTML table (every line of the paragraph a row) ends with its paragraph; a PDF
    table (the header row a paragraph of its own, the rows as paragraphs after it) runs to the section's end or
    the next table."""
    spans: list[tuple[int, int, str]] = []
    for m in re.finditer(r"(?:^|(?<=\n\n))[^\n]+(?:\n[^\n]+)*", text):
        lines = m.group(0).split("\n")
        if not _HEADER_ROW.fullmatch(lines[0]) or len(lines[0]) > MAX_HEADER_CHARS:
            continue
        if spans and spans[-1][1] > m.start():
            spans[-1] = (spans[-1][0], m.start(), spans[-1][2])
        whole = len(lines) > 1 and all(" | " in line for line in lines)
        spans.append((m.start(), m.end() if whole else len(text), lines[0]))
    return spans


#: A document's preamble (text before its first heading) up to this length joins the first section's chunk.
PREAMBLE_CHARS = 300


def _sections(blocks: list[Block]) -> list[tuple[int | None, tuple[str, ...], list[Block]]]:
    sections = [
        (page, path, list(group))
        for (page, path), group in groupby(blocks, key=lambda b: (b.page, b.heading_path))
    ]
    # A short preamble (a page's title and byline from front matter, a cover line) is no passage of its own: as a
    # chunk of a few words it is never found ("Wer hat den Beitrag verfasst?" missed "Ernesto Ruge"). It joins the
    # section after it on the same page; the text stays contiguous, so offsets and quotes are unchanged.
    if len(sections) > 1:
        (page, path, first), (next_page, next_path, second) = sections[0], sections[1]
        if not path and page == next_page and sum(len(b.text) + 2 for b in first) <= PREAMBLE_CHARS:
            sections[:2] = [(next_page, next_path, first + second)]
    return sections


def chunk_document(
    doc: LoadedDocument,
    *,
    doc_id: str,
    version: str,
    source: str,
    title: str,
    metadata: dict[str, Any],
) -> list[Chunk]:
    """Split a loaded document into chunks whose offsets point into ``doc.text``."""
    chunks: list[Chunk] = []
    offset = 0  # start of the current block within doc.text ("\n\n"-joined blocks)
    ocr_pages = set(getattr(doc.account, "ocr_pages", None) or ())
    for page, path, blocks in _sections(doc.blocks):
        text = "\n\n".join(b.text for b in blocks)
        section_start = offset
        offset += len(text) + 2
        if not text.strip():
            continue
        tables = table_spans(text)
        label = section_label(path, title)
        for piece in _splitter.create_documents([text]):
            body = piece.page_content
            local = int(piece.metadata.get("start_index", 0))
            start = section_start + local
            # A chunk of table rows names the table's columns in its section, which lexical and dense search
            # both see, so a row's values meet their column names ("Kardinalität" … "0..1"); the text stays
            # verbatim and the section still starts with the real heading path.
            header = next((h for a, b, h in tables if a < local + len(body) and local < b), "")
            section = f"{label} › {header}" if header and label else header or label
            index = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{doc_id}:{version}:{index:05d}",
                    doc_id=doc_id,
                    version=version,
                    text=body,
                    source=source,
                    title=title,
                    page=page,
                    section=section,
                    chunk_index=index,
                    char_start=start,
                    char_end=start + len(body),
                    # a citation from a page read by OCR says so (the text may hold recognition errors)
                    metadata={**metadata, "ocr": True} if page in ocr_pages else dict(metadata),
                )
            )
    return chunks
