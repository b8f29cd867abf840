"""Markdown loader: YAML front matter into metadata/title, "#" headings into heading paths, markup stripped.

A small line-based reader rather than a full CommonMark parser: it covers what documentation and knowledge
articles use (headings, paragraphs, lists, quotes, tables, code fences, links, images, emphasis, inline HTML).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from assistant.types import LoadedDocument
from ingest.account import DocumentAccount
from ingest.bounds import cut_text
from ingest.cleaning import (
    Heading,
    Para,
    build_blocks,
    join_lines,
    normalize_multiline,
    sanitize_plain,
    strip_markup,
)
from ingest.loaders.text import decode_text, display_name, no_text, read_limited

if TYPE_CHECKING:
    from ingest.loaders import ParseLimits

MAX_FRONT_MATTER = 64 * 1024

# --------------------------------------------------------------------------------------------------------------
# Front matter
# --------------------------------------------------------------------------------------------------------------


def _plain(value: Any, budget: list[int], depth: int = 0) -> Any:
    """YAML value as plain data (str/int/float/bool/list/dict), sanitised, bounded (YAML aliases can explode)."""
    budget[0] -= 1
    if budget[0] < 0 or depth > 4:
        return None
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        items = [_plain(v, budget, depth + 1) for v in list(value)[:100]]
        return [v for v in items if v is not None]
    if isinstance(value, dict):
        out = {}
        for k, v in list(value.items())[:100]:
            pv = _plain(v, budget, depth + 1)
            if pv is not None:
                out[sanitize_plain(k, 100)] = pv
        return out
    return sanitize_plain(value, 2000)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(front matter source or None, body). Front matter is a leading block between '---' and '---'/'...'."""
    if not re.match(r"^---[ \t]*\n", text):
        return None, text
    m = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.M)
    if not m:
        return None, text
    return text[4 : 4 + m.start()], text[4 + m.end() :].lstrip("\n")


def parse_front_matter(source: str, name: str) -> tuple[dict[str, Any], list[str]]:
    """Metadata from YAML front matter; malformed front matter yields a warning, never a failure."""
    problem = None
    data: Any = None
    if len(source) > MAX_FRONT_MATTER:
        problem = "zu groß"
    else:
        try:
            data = yaml.safe_load(source)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problem = f"YAML-Fehler{f' in Zeile {mark.line + 1}' if mark else ''}"
    if problem is None and data is not None and not isinstance(data, dict):
        problem = "kein Schlüssel-Wert-Block"
    if problem:
        return {}, [
            f"Der YAML-Kopf (Front Matter) von „{name}“ ist fehlerhaft ({problem}) und wurde ignoriert."
        ]
    meta = _plain(data or {}, [2000])
    return (meta if isinstance(meta, dict) else {}), []


# --------------------------------------------------------------------------------------------------------------
# Inline markup
# --------------------------------------------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>])")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\((?:[^()]|\([^()]*\))*\)|\[[^\]]*\])?")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^()]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+|mailto:[^>\s]+)>", re.I)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")


def inline_to_text(text: str) -> str:
    """Plain text of one Markdown line/paragraph: links -> their text, images dropped, emphasis/code unwrapped.

    Gender stars ("Bürger*innen") are not emphasis and stay as they are.
    """
    protected: list[str] = []

    def protect(value: str) -> str:
        protected.append(value)
        return f"\x00{len(protected) - 1}\x00"

    text = _CODE_SPAN.sub(lambda m: protect(m.group(2).strip()), text)
    text = _ESCAPE.sub(lambda m: protect(m.group(1)), text)
    text = _IMAGE.sub("", text)
    text = _AUTOLINK.sub(lambda m: protect(m.group(1)), text)
    for _ in range(3):  # nested links/emphasis
        text = _LINK.sub(r"\1", text)
        text = _REF_LINK.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _HTML_TAG.sub("", text)
    for _ in range(3):
        text = _STRONG.sub(r"\2", text)
        text = _EM_STAR.sub(r"\1", text)
        text = _EM_UNDERSCORE.sub(r"\1", text)
        text = _STRIKE.sub(r"\1", text)
    text = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], text)
    return strip_markup(text) if ("<" in text or "&" in text) else text


# --------------------------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_DELIM = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|(\d{1,9}[.)]))\s+")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_BLOCK_JUNK = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.S | re.I)


def _split_row(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)]


def parse_markdown(body: str) -> list[Heading | Para]:
    """Headings and paragraphs of a Markdown body (front matter already removed)."""
    lines = _BLOCK_JUNK.sub("", body).split("\n")
    items: list[Heading | Para] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            text = ""
            for line in buf:
                text = join_lines(text, line) if text else line.strip()
            items.append(Para(inline_to_text(text)))
            buf.clear()

    i = 0
    while i < len(lines):
        line = _QUOTE.sub("", lines[i]) if _QUOTE.match(lines[i]) else lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        fence = _FENCE.match(line)
        atx = _ATX.match(line)
        if fence:
            flush()
            marker = fence.group(1)
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker[0] * len(marker)):
                code.append(lines[i])
                i += 1
            items.append(Para(normalize_multiline("\n".join(code))))
        elif atx:
            flush()
            if atx.group(2):
                items.append(Heading(len(atx.group(1)), inline_to_text(atx.group(2))))
        elif buf and _SETEXT.match(line):
            heading = inline_to_text(" ".join(part.strip() for part in buf))
            buf.clear()
            items.append(Heading(1 if line.strip().startswith("=") else 2, heading))
        elif _RULE.match(line) or not line.strip() or _REF_DEF.match(line):
            flush()
        elif "|" in line and _TABLE_DELIM.match(nxt) and "|" in nxt:
            flush()
            rows = [_split_row(line)]
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_split_row(lines[i]))
                i += 1
            text = "\n".join(" | ".join(inline_to_text(c) for c in row) for row in rows)
            items.append(Para(normalize_multiline(text)))
            continue
        elif m := _LIST_ITEM.match(line):
            flush()
            buf.append((m.group(1) + " " if m.group(1) else "") + line[m.end() :])
        else:
            buf.append(line)
        i += 1
    flush()
    return items


def load_markdown(path: Path, limits: ParseLimits) -> LoadedDocument:
    """Load a Markdown file."""
    name = display_name(path)
    text, warnings = decode_text(read_limited(path, limits), path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    source, body = split_front_matter(text)
    metadata: dict[str, Any] = {}
    if source is not None:
        metadata, fm_warnings = parse_front_matter(source, name)
        warnings.extend(fm_warnings)
    account = DocumentAccount()
    items = parse_markdown(cut_text(body, limits.max_chars, account, name))
    blocks = build_blocks(items)
    if not blocks:
        raise no_text(path)
    title = (
        metadata.get("title") if isinstance(metadata.get("title"), str) and metadata.get("title") else None
    )
    if title is None:
        headings = [h for h in items if isinstance(h, Heading) and h.text.strip()]
        top = [h for h in headings if h.level == 1] or headings
        title = sanitize_plain(top[0].text) if top else None
    return LoadedDocument(
        blocks=blocks, title=title or None, metadata=metadata, warnings=warnings, account=account
    )
