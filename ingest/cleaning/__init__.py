"""Pure text-cleaning functions shared by the loaders, in four modules:

* `textnorm`: Unicode and whitespace normalisation, markup removal, plausible titles, unreadable text.
* `pdf_lines`: PDF fragments into lines; running headers/footers and page numbers.
* `pdf_layout`: headings, slides, and the whole PDF path from lines to blocks (`pdf_pages_to_blocks`).
* `paragraphs`: lines into paragraphs (hyphenation, lists, sentence ends) and paragraphs into blocks.

Everything works on plain strings and small dataclasses, so it can be unit-tested without files, and the PDF
child process can call it without touching the parent's state. The names below are the public surface.
"""

from ingest.cleaning.paragraphs import (
    Heading,
    Line,
    Para,
    build_blocks,
    ends_sentence,
    join_lines,
    paragraphs_from_lines,
    paragraphs_from_text,
)
from ingest.cleaning.pdf_layout import (
    PdfText,
    body_font_size,
    numbering_depth,
    pdf_pages_to_blocks,
    slide_pages,
)
from ingest.cleaning.pdf_lines import (
    MIN_VISIBLE_SIZE,
    CleanStats,
    Fragment,
    is_page_number_line,
    lines_from_fragments,
    remove_running_lines,
)
from ingest.cleaning.textnorm import (
    bad_char_count,
    is_garbage,
    normalize_multiline,
    normalize_paragraph,
    normalize_unicode,
    plausible_title,
    sanitize_plain,
    strip_markup,
)

__all__ = [
    "MIN_VISIBLE_SIZE",
    "CleanStats",
    "Fragment",
    "Heading",
    "Line",
    "Para",
    "PdfText",
    "bad_char_count",
    "body_font_size",
    "build_blocks",
    "ends_sentence",
    "is_garbage",
    "is_page_number_line",
    "join_lines",
    "lines_from_fragments",
    "normalize_multiline",
    "normalize_paragraph",
    "normalize_unicode",
    "numbering_depth",
    "paragraphs_from_lines",
    "paragraphs_from_text",
    "pdf_pages_to_blocks",
    "plausible_title",
    "remove_running_lines",
    "sanitize_plain",
    "slide_pages",
    "strip_markup",
]
