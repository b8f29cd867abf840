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


#: Front matter keys whose text is content a reader sees on the page (VitePress hero and feature cards, Hugo and
#: Jekyll descriptions), not configuration.
_TEXT_KEYS = frozenset(
    {"title", "name", "text", "tagline", "description", "details", "excerpt", "summary", "subtitle", "lead"}
)
#: Front matter keys whose contents are no page prose (image credits, author cards, navigation, head tags).
_NOT_TEXT_PARENTS = frozenset(
    {
        "image",
        "images",
        "logo",
        "avatar",
        "links",
        "authors",
        "author",
        "tags",
        "categories",
        "icon",
        "head",
        "meta",
    }
)
_NOT_PROSE = re.compile(
    r"^(?:https?://|/|\.{0,2}/|mailto:|#)|^[\w.-]+\.(?:png|jpe?g|svg|gif|webp|md|html?)$", re.I
)


#: "en_title", "de_subtitle": a multilingual site's per-language variants of the text keys.
_LANG_PREFIX = re.compile(r"^[a-z]{2}_")
#: A byline is a person's or an organisation's name ("Jörg Reichert (Code for Leipzig)"), not a slug
#: ("victoria-boeck") that a theme looks up elsewhere.
_BYLINE = re.compile(r"^(?=.*[A-ZÄÖÜ])(?=.*[^\W\d_][\s(])[^/@<>]{3,120}$")


def _text_key(key: str) -> bool:
    return key in _TEXT_KEYS or _LANG_PREFIX.sub("", key) in _TEXT_KEYS


def front_matter_text(meta: dict[str, Any], *, with_title: bool) -> list[str]:
    """The prose of front matter fields shown on the page, in order (byline, hero name/text/tagline, feature
    titles and details, description, per-language variants such as ``en_title``). The top-level title is the
    document's title already; it is only taken when asked (it is content too: the page shows it)."""
    out: list[str] = []

    def add(value: str) -> None:
        text = " ".join(value.split())
        if sum(ch.isalpha() for ch in text) >= 3 and not _NOT_PROSE.search(text) and text not in out:
            out.append(text)

    def walk(value: Any, key: str, depth: int) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                name = str(k).lower()
                if depth == 0 and name in ("author", "authors"):
                    # a plain byline is shown on the page; author cards (dicts) and slugs are not prose
                    for person in v if isinstance(v, list) else [v]:
                        if isinstance(person, str) and _BYLINE.match(person.strip()):
                            add(person)
                    continue
                if (depth == 0 and name == "title" and not with_title) or name in _NOT_TEXT_PARENTS:
                    continue
                walk(v, name, depth + 1)
        elif isinstance(value, list):
            for v in value:
                walk(v, key, depth + 1)
        elif isinstance(value, str) and _text_key(key):
            add(value)

    if with_title and isinstance(meta.get("title"), str):
        add(meta["title"])  # first, as the page shows it above everything else
    walk(meta, "", 0)
    return out


# --------------------------------------------------------------------------------------------------------------
# Site-generator markup (Liquid, Hugo shortcodes, MyST/Sphinx roles, VitePress containers, citation markers)
# --------------------------------------------------------------------------------------------------------------

_LIQUID_CAPTION = re.compile(r"\{%-?\s*include\b[^%]*?\bcaption\s*=\s*([\"'])(.*?)\1[^%]*%\}", re.S)
_LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)  # also Hugo's {{< shortcode >}} and {{% shortcode %}}
_MYST_ROLE = re.compile(r"\{[\w:+-]+\}`([^`]*)`")
_ROLE_TARGET = re.compile(r"^(.*?)\s*<[^<>]*>$", re.S)
_CITATION = re.compile(r"\s?\[@[^\]\n]*\]")
_HEADING_ATTRS = re.compile(r"\s*\{[#.][^{}\n]*\}[ \t]*$", re.M)
_CONTAINER = re.compile(r"^[ \t]*:{3,}[ \t]*(?:\{?[\w-]+\}?)?[ \t]*(.*)$", re.M)


def _role_text(match: re.Match[str]) -> str:
    inner = match.group(1)
    m = _ROLE_TARGET.match(inner)
    return (m.group(1) if m and m.group(1) else inner).strip()


def clean_site_markup(body: str) -> str:
    """Markup of site generators out of a Markdown body, never shown in a quote: Liquid/Hugo tags (an include's
    caption is kept as a line of text), MyST/Sphinx roles (their text kept), citation markers such as
    "[@link(EGOVGBLN)]", heading attributes ("{#anchor}"), VitePress container fences (their title kept)."""
    body = _LIQUID_CAPTION.sub(lambda m: "\n\n" + m.group(2) + "\n\n", body)
    body = _LIQUID.sub("", body)
    body = _MYST_ROLE.sub(_role_text, body)
    body = _CITATION.sub("", body)
    body = _HEADING_ATTRS.sub("", body)
    return _CONTAINER.sub(lambda m: "\n" + m.group(1) + "\n" if m.group(1).strip() else "", body)


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
_SCRIPT_SETUP = re.compile(r"<script\s+setup\b[^>]*>(.*?)</script\s*>", re.S | re.I)
_JS_STRING_PROP = re.compile(
    r"""(?<![\w$.])([A-Za-z_]\w*)\s*:\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')"""
)
_FOOTNOTE_DEF = re.compile(r"^\s{0,3}\[\^[^\]]+\]:\s*(.*)$")


def script_data_text(script: str) -> str:
    """The page text held as data in a VitePress ``<script setup>`` block (the team table: ``const members =
    [{ name: "…", title: "…", links: […] }]``): one line per record with its text properties as the source
    writes them (``name: "Fabian Reinold", title: "Team Lead"``), so a quote stays verbatim; code, links,
    icons and images are left out. A record ends where a text key repeats."""
    records: list[list[str]] = []
    seen: set[str] = set()
    for m in _JS_STRING_PROP.finditer(script):
        key = m.group(1)
        if not _text_key(key.lower()):
            continue
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if sum(ch.isalpha() for ch in value) < 2 or _NOT_PROSE.search(value):
            continue
        if not records or key in seen:
            records.append([])
            seen.clear()
        seen.add(key)
        quote = '"' if m.group(2) is not None else "'"
        records[-1].append(f"{key}: {quote}{value}{quote}")
    return "\n\n".join(", ".join(r) for r in records if r)


def _split_row(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)]


def _code_block(lines: list[str], i: int, marker: str) -> tuple[Para, int]:
    """The fenced code block starting at line ``i`` as one multi-line paragraph, and the index of its closing
    fence (or the end)."""
    code: list[str] = []
    while i < len(lines) and not lines[i].strip().startswith(marker[0] * len(marker)):
        code.append(lines[i])
        i += 1
    return Para(normalize_multiline("\n".join(code))), i


def parse_markdown(body: str) -> list[Heading | Para]:
    """Headings and paragraphs of a Markdown body (front matter already removed)."""
    body = _SCRIPT_SETUP.sub(lambda m: "\n\n" + script_data_text(m.group(1)) + "\n\n", body)
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
            code, i = _code_block(lines, i + 1, fence.group(1))
            items.append(code)
        elif atx:
            flush()
            if atx.group(2):
                items.append(Heading(len(atx.group(1)), inline_to_text(atx.group(2))))
        elif buf and _SETEXT.match(line):
            heading = inline_to_text(" ".join(part.strip() for part in buf))
            buf.clear()
            items.append(Heading(1 if line.strip().startswith("=") else 2, heading))
        elif fn := _FOOTNOTE_DEF.match(line):
            flush()  # a footnote's text is content ("[^1]: Barrierefreie Informationstechnik-Verordnung 2.0 <…>")
            buf.append(fn.group(1))
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
    items = parse_markdown(clean_site_markup(cut_text(body, limits.max_chars, account, name)))
    # Front matter prose (a VitePress home page keeps all its text there) comes first, as the page shows it.
    # The title is shown on the page too: content, unless the body repeats it as a heading; a page that holds
    # nothing but a title still has no text.
    fm_title = " ".join(str(metadata.get("title") or "").split()).casefold()
    shown = any(isinstance(i, Heading) and " ".join(i.text.split()).casefold() == fm_title for i in items[:3])
    front = front_matter_text(metadata, with_title=False)
    if not shown and (front or any(isinstance(i, Para) and i.text.strip() for i in items)):
        front = front_matter_text(metadata, with_title=True)
    blocks = build_blocks([Para(text) for text in front] + items)
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
