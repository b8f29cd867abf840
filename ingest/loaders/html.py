"""HTML loader (selectolax/lexbor): main content only, headings into heading paths, tables as rows of text.

Content root: <main>, else [role=main], else a single <article>, else <body>. Inside it, navigation and page
chrome (nav, header, footer, aside, forms, ...), scripts, embedded objects, hidden elements and cookie/consent
banners are skipped. A <header> inside the content root that holds a heading (an article header) is kept.
A page as a site generator's source holds it gets the Markdown loader's cleaning: front matter prose (title,
byline, hero, tagline, feature cards) as content, Liquid/Hugo tags, MyST roles and citation markers removed,
``<script setup>`` data (a VitePress team table) as text.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from assistant.types import LoadedDocument
from ingest.cleaning import (
    Heading,
    Para,
    build_blocks,
    normalize_multiline,
    normalize_paragraph,
    sanitize_plain,
)
from ingest.loaders.markdown import (
    _LIQUID,
    _LIQUID_CAPTION,
    _SCRIPT_SETUP,
    clean_site_markup,
    front_matter_text,
    parse_front_matter,
    script_data_text,
    split_front_matter,
)
from ingest.loaders.text import decode_text, display_name, no_text, read_limited

if TYPE_CHECKING:
    from ingest.loaders import ParseLimits

SKIP_TAGS = frozenset(
    [
        "nav",
        "header",
        "footer",
        "aside",
        "script",
        "style",
        "noscript",
        "template",
        "form",
        "iframe",
        "svg",
        "button",
        "select",
        "textarea",
        "input",
        "object",
        "embed",
        "canvas",
        "audio",
        "video",
        "map",
        "dialog",
        "head",
        "title",
        "meta",
        "link",
        "img",
        "picture",
        "source",
        "math",
    ]
)
BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "address",
        "details",
        "summary",
        "hr",
        "center",
        "caption",
        "fieldset",
        "legend",
        "body",
        "html",
    ]
)
HEADINGS = {f"h{i}": i for i in range(1, 7)}
_BANNER = re.compile(r"cookie|consent|gdpr|banner", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _skipped(node: LexborNode, root: LexborNode) -> bool:
    tag = node.tag
    attrs = node.attributes
    if tag == "header" and _in_article(node, root) and node.css_first("h1, h2, h3, h4, h5, h6") is not None:
        return False  # an article's own header (its title), not the site header
    if tag in SKIP_TAGS:
        return True
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    if _HIDDEN_STYLE.search(attrs.get("style") or ""):
        return True
    ident = f"{attrs.get('id') or ''} {attrs.get('class') or ''}"
    return bool(_BANNER.search(ident))


def _in_article(node: LexborNode, root: LexborNode) -> bool:
    if root.tag in ("main", "article"):
        return True
    parent = node.parent
    while parent is not None and parent.mem_id != root.mem_id:
        if parent.tag in ("article", "main"):
            return True
        parent = parent.parent
    return False


def _children(node: LexborNode) -> list[LexborNode]:
    return list(node.iter(include_text=True))


def inline_text(node: LexborNode, root: LexborNode) -> str:
    """Visible text below a node (skipping what `_skipped` drops), as one whitespace-normalised string."""
    parts: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_text_node:
            parts.append(current.text_content or "")
            continue
        if not current.is_element_node or (current is not node and _skipped(current, root)):
            continue
        if current.tag in ("br", "td", "th", "li", "p", "div"):
            parts.append(" ")
        stack.extend(reversed(_children(current)))
    return normalize_paragraph("".join(parts))


def _table_rows(table: LexborNode, root: LexborNode) -> list[str]:
    rows = []
    for tr in table.css("tr"):
        parent = tr.parent
        while parent is not None and parent.tag != "table":
            parent = parent.parent
        if parent is None or parent.mem_id != table.mem_id:
            continue  # row of a nested table: part of the outer cell's text
        cells = [inline_text(c, root) for c in tr.iter() if c.tag in ("td", "th")]
        cells = [c for c in cells if c]
        if cells:
            rows.append(" | ".join(cells))
    return rows


def extract_items(root: LexborNode) -> list[Heading | Para]:
    """Headings and paragraphs below the content root, in document order (iterative: no recursion limit)."""
    items: list[Heading | Para] = []
    buf: list[str] = []

    def flush() -> None:
        text = normalize_paragraph("".join(buf))
        if text:
            items.append(Para(text))
        buf.clear()

    stack: list[LexborNode | None] = [root]  # None marks the end of a block element
    while stack:
        node = stack.pop()
        if node is None:
            flush()
            continue
        if node.is_text_node:
            buf.append(node.text_content or "")
            continue
        if not node.is_element_node or (node is not root and _skipped(node, root)):
            continue
        tag = node.tag
        if tag == "br":
            buf.append(" ")
        elif tag in HEADINGS:
            flush()
            items.append(Heading(HEADINGS[tag], inline_text(node, root)))
        elif tag == "table":
            flush()
            caption = node.css_first("caption")
            if caption is not None and inline_text(caption, root):
                items.append(Para(inline_text(caption, root)))
            rows = _table_rows(node, root)
            if rows:
                items.append(Para("\n".join(rows)))
        elif tag == "pre":
            flush()
            code = normalize_multiline(node.text(deep=True) or "")
            if code:
                items.append(Para(code))
        elif tag in BLOCK_TAGS:
            flush()
            stack.append(None)
            stack.extend(reversed(_children(node)))
        else:
            stack.extend(reversed(_children(node)))
    flush()
    return items


def _meta(tree: LexborHTMLParser, *names: str) -> str | None:
    for name in names:
        for attr in ("name", "property", "itemprop"):
            node = tree.css_first(f'meta[{attr}="{name}"]')
            if node is not None:
                value = sanitize_plain(node.attributes.get("content") or "")
                if value:
                    return value
    return None


def _declared_charset(data: bytes) -> str | None:
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", data[:4096], re.I)
    return m.group(1).decode("ascii").lower() if m else None


def content_root(tree: LexborHTMLParser) -> LexborNode | None:
    root = tree.css_first("main") or tree.css_first('[role="main"]')
    if root is None:
        articles = tree.css("article")
        root = articles[0] if len(articles) == 1 else None
    return root or tree.body


def _script_setup_html(match: re.Match[str]) -> str:
    lines = script_data_text(match.group(1)).split("\n\n")
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)


def site_source(text: str, name: str) -> tuple[str, dict[str, Any], list[str], list[str]]:
    """An HTML page as a site generator's source holds it (Jekyll, Hugo, VitePress): the same cleaning as
    Markdown gets. Returns (HTML without front matter and template tags, front matter metadata, its prose,
    warnings). Liquid/Hugo tags go (an include's caption stays as a paragraph), ``<script setup>`` data
    (a VitePress team table) becomes one paragraph per record."""
    source, body = split_front_matter(text) if text.startswith("---") else (None, text)
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    if source is not None:
        meta, warnings = parse_front_matter(source, name)
    body = _LIQUID_CAPTION.sub(lambda m: f"<p>{html.escape(m.group(2))}</p>", body)
    body = _LIQUID.sub("", body)
    body = _SCRIPT_SETUP.sub(_script_setup_html, body)
    return body, meta, front_matter_text(meta, with_title=True) if meta else [], warnings


def _clean_item(item: Heading | Para) -> Heading | Para | None:
    """MyST/Sphinx roles, citation markers and heading anchors out of an extracted paragraph or heading."""
    text = clean_site_markup(item.text).strip()
    if not text:
        return None
    text = text if "\n" in item.text else normalize_paragraph(text)
    return Heading(item.level, text, item.page) if isinstance(item, Heading) else Para(text, item.page)


def load_html(path: Path, limits: ParseLimits) -> LoadedDocument:
    """Load an HTML page: main content as blocks, title and meta description/author/date as metadata."""
    data = read_limited(path, limits)
    text, warnings = decode_text(data, path, declared=_declared_charset(data))
    text, front_meta, front, fm_warnings = site_source(text, display_name(path))
    warnings.extend(fm_warnings)
    tree = LexborHTMLParser(text)
    root = content_root(tree)
    items = extract_items(root) if root is not None else []
    items = [c for c in (_clean_item(i) for i in items) if c is not None]
    if front:
        shown = {" ".join(i.text.split()).casefold() for i in items[:3] if isinstance(i, Heading)}
        lead: list[Heading | Para] = [Para(t) for t in front if " ".join(t.split()).casefold() not in shown]
        items = lead + items
    blocks = build_blocks(items)
    if not blocks:
        raise no_text(path)

    title_node = tree.css_first("title")
    title = sanitize_plain(title_node.text() or "") if title_node is not None else ""
    h1 = next((normalize_paragraph(h.text) for h in items if isinstance(h, Heading) and h.level == 1), "")
    suffix = title[len(h1) :].strip() if h1 and title.lower().startswith(h1.lower()) else None
    if not title or (suffix is not None and (not suffix or suffix[0] in "|–—-:·»/")):
        title = h1 or title  # "Artikel | Portalname" -> the article's own heading
    if isinstance(front_meta.get("title"), str) and front_meta["title"].strip():
        title = sanitize_plain(front_meta["title"])
    metadata: dict[str, Any] = {k: v for k, v in front_meta.items() if k != "title"}
    for key, names in (
        ("description", ("description", "og:description", "dc.description", "DC.description")),
        ("author", ("author", "article:author", "dc.creator", "DC.creator")),
        (
            "date",
            (
                "date",
                "article:published_time",
                "dcterms.date",
                "DC.date",
                "dc.date",
                "datePublished",
                "article:modified_time",
            ),
        ),
        ("keywords", ("keywords",)),
    ):
        value = _meta(tree, *names)
        if value:
            metadata[key] = value
    html_node = tree.css_first("html")
    lang = sanitize_plain((html_node.attributes.get("lang") or "") if html_node is not None else "", 20)
    if lang:
        metadata["language"] = lang
    return LoadedDocument(blocks=blocks, title=title or None, metadata=metadata, warnings=warnings)
