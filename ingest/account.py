"""The per-document account: where every extracted word went.

Each line of text a parser yields either reaches a block (and so a chunk) or is removed with a reason. Words are
counted per line before any joining, so the account adds up exactly: ``words_extracted == words_indexed +
sum(removed.values())``. Editors read it in ``lotse ingest --json`` (``accounts``) and ``lotse show DOC``.

Reasons for removed words:

* ``running_line``: header/footer text that recurs on most pages.
* ``page_number``: a line that is only a page number.
* ``footnote_marker``: a superscript number set apart from its text.
* ``duplicate``: a paragraph repeated on the same page (or a repeated paragraph collapsed in a text file).
* ``garbage``: glyph codes from a font without a character map (not readable text).
* ``invisible``: text set smaller than a point (a classic carrier of hidden instructions).
* ``over_limit``: text beyond the per-document work bound (``LOTSE_INGEST_MAX_CHARS``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REASONS = (
    "running_line",
    "page_number",
    "footnote_marker",
    "duplicate",
    "garbage",
    "invisible",
    "over_limit",
)

#: More than this share of extracted words removed as unreadable (garbage/invisible) earns a warning.
UNREADABLE_WARN_SHARE = 0.2


_NO_WORD = re.compile(r"(?<!\S)[^\w\s]+(?!\S)|(?<!\S)_+(?!\S)")


def count_words(text: str) -> int:
    """Whitespace-separated tokens that hold at least one letter or digit (C-speed: a 90 MB text takes seconds)."""
    return len(text.split()) - len(_NO_WORD.findall(text))


@dataclass
class DocumentAccount:
    """Where the words of one document went.

    Attributes:
        words_extracted: Words the parser yielded (including the ones removed).
        removed: Words removed, by reason (see module docstring).
        pages_without_text: Pages that had no text layer (and were not OCR'd).
        ocr_pages: Pages whose text comes from optical character recognition.
        warnings: Human-readable notes (German).
    """

    words_extracted: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    pages_without_text: list[int] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def words_indexed(self) -> int:
        return self.words_extracted - sum(self.removed.values())

    def extracted(self, text: str) -> int:
        n = count_words(text)
        self.words_extracted += n
        return n

    def remove(self, reason: str, text: str = "", words: int | None = None) -> None:
        """Count words as removed (they must have been counted as extracted, too)."""
        assert reason in REASONS, reason
        n = count_words(text) if words is None else words
        if n:
            self.removed[reason] += n

    def merge_removed(self, removed: dict[str, int]) -> None:
        for reason, n in removed.items():
            self.remove(reason, words=n)

    def to_dict(self) -> dict[str, Any]:
        return {
            "words_extracted": self.words_extracted,
            "words_indexed": self.words_indexed,
            "words_removed": {r: self.removed[r] for r in REASONS if self.removed.get(r)},
            "pages_without_text": list(self.pages_without_text),
            "ocr_pages": list(self.ocr_pages),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentAccount:
        return cls(
            words_extracted=int(data.get("words_extracted", 0)),
            removed=Counter({k: int(v) for k, v in (data.get("words_removed") or {}).items()}),
            pages_without_text=list(data.get("pages_without_text") or []),
            ocr_pages=list(data.get("ocr_pages") or []),
            warnings=list(data.get("warnings") or []),
        )


class AccountStore:
    """The accounts of indexed documents, one JSON file per document id (read by ``lotse show``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, doc_id: str) -> Path:
        return self.folder / f"{doc_id}.json"

    def save(self, doc_id: str, account: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self._path(doc_id).with_suffix(".tmp")
        tmp.write_text(json.dumps(account, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self._path(doc_id))

    def load(self, doc_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(doc_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def drop(self, doc_id: str) -> None:
        with contextlib.suppress(OSError):
            self._path(doc_id).unlink()
