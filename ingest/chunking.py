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
from itertools import groupby
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.types import Block, Chunk, LoadedDocument

CHUNK_CHARS = 900
OVERLAP_CHARS = 150
#: Bump when chunking changes: it is part of every document version, so a bump re-indexes everything.
CHUNKER_VERSION = "c3"  # c3: slide titles quoted, table header rows, bylines, footnotes, script data

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


def _sections(blocks: list[Block]) -> list[tuple[int | None, tuple[str, ...], list[Block]]]:
    return [
        (page, path, list(group))
        for (page, path), group in groupby(blocks, key=lambda b: (b.page, b.heading_path))
    ]


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
        for piece in _splitter.create_documents([text]):
            body = piece.page_content
            start = section_start + int(piece.metadata.get("start_index", 0))
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
                    section=section_label(path, title),
                    chunk_index=index,
                    char_start=start,
                    char_end=start + len(body),
                    # a citation from a page read by OCR says so (the text may hold recognition errors)
                    metadata={**metadata, "ocr": True} if page in ocr_pages else dict(metadata),
                )
            )
    return chunks
