"""Work bounds per document: repeated paragraphs collapsed, text beyond a size limit left out, both accounted.

A 90 MB text file of 60,000 identical lines once kept `lotse ingest` busy for more than ten minutes (a hundred
thousand chunks to embed) while the files after it waited. Now the raw text of text formats is cut at
``ParseLimits.max_chars`` before any cleaning (so the cleaning work is bounded too), a paragraph repeated more
than twice in a document is kept twice, and the cleaned text is cut at the same limit. Every word left out is
counted in the document's account (``duplicate``, ``over_limit``) and the document gets a warning.
"""

from __future__ import annotations

from assistant.types import Block, LoadedDocument
from ingest.account import DocumentAccount, count_words

#: A paragraph (of at least MIN_REPEAT_CHARS) is kept this many times; later repeats are collapsed.
KEEP_REPEATS = 2
MIN_REPEAT_CHARS = 30


def cut_text(text: str, max_chars: int, account: DocumentAccount, name: str) -> str:
    """The first `max_chars` characters of a raw text (at a line break where possible); the rest is counted."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars)
    cut = cut if cut > max_chars // 2 else max_chars
    rest = len(text[cut:].split())  # tokens, not count_words: a regex over 90 MB would take seconds per file
    account.words_extracted += rest
    account.remove("over_limit", words=rest)
    account.warnings.append(_limit_warning(name, max_chars))
    return text[:cut]


def _limit_warning(name: str, max_chars: int) -> str:
    return (
        f"„{name}“ ist länger als die Grenze von {f'{max_chars:_}'.replace('_', '.')} Zeichen pro Dokument; nur "
        "der Anfang wurde indexiert. Die Grenze lässt sich mit LOTSE_INGEST_MAX_CHARS anheben, besser wird das "
        "Dokument geteilt."
    )


def settle(doc: LoadedDocument, max_chars: int, name: str) -> LoadedDocument:
    """Collapse repeated paragraphs, apply the size bound and complete the document's account."""
    account = doc.account if isinstance(doc.account, DocumentAccount) else DocumentAccount()
    doc.account = account
    if not account.words_extracted or account.words_extracted == sum(account.removed.values()):
        # loaders of text formats count nothing themselves: what they hold is what they extracted
        headings = dict.fromkeys(h for b in doc.blocks for h in b.heading_path)
        account.words_extracted += sum(count_words(b.text) for b in doc.blocks) + sum(
            count_words(h) for h in headings
        )
    seen: dict[str, int] = {}
    total = 0
    collapsed = over = 0
    blocks: list[Block] = []
    for block in doc.blocks:
        kept: list[str] = []
        for para in block.text.split("\n\n"):
            if len(para) >= MIN_REPEAT_CHARS:
                n = seen.get(para, 0)
                seen[para] = n + 1
                if n >= KEEP_REPEATS:
                    collapsed += 1
                    account.remove("duplicate", para)
                    continue
            if total + len(para) > max_chars:
                over += 1
                account.remove("over_limit", para)
                continue
            total += len(para) + 2
            kept.append(para)
        if kept:
            blocks.append(Block("\n\n".join(kept), block.page, block.heading_path))
    if collapsed:
        account.warnings.append(
            f"„{name}“: {collapsed} wiederholte Absätze wurden zusammengefasst (jeder Absatz höchstens "
            f"{KEEP_REPEATS}-mal im Index)."
        )
    if over and not any("LOTSE_INGEST_MAX_CHARS" in w for w in account.warnings):
        account.warnings.append(_limit_warning(name, max_chars))
    doc.blocks = blocks
    for warning in account.warnings:
        if warning not in doc.warnings:
            doc.warnings.append(warning)
    return doc
