"""Finding the documents of a website: robots.txt, sitemaps (also sitemap indexes, also gzipped) and links.

Pure functions over bytes already fetched (see :mod:`ingest.web.fetch`), so each is tested without a server.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

from selectolax.lexbor import LexborHTMLParser

from ingest.web.fetch import url_problem

#: sitemaps.org caps one sitemap at 50,000 URLs and 50 MB; more is not a sitemap we read.
MAX_SITEMAP_URLS = 50_000
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
#: Links whose path ends like this are never documents the loaders read; they are not fetched at all.
_NOT_DOCUMENTS = re.compile(
    r"\.(?:jpe?g|png|gif|svg|webp|ico|css|js|json|zip|gz|tgz|rar|7z|mp[34]|avi|mov|webm|woff2?|ttf|eot|exe|dmg|"
    r"docx?|xlsx?|pptx?|odt|ods|csv|xml|rss|atom)$",
    re.I,
)


@dataclass
class Links:
    """Links found on one page: fetchable ones on the same host, and counts of those left out and why."""

    same_host: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    noindex: bool = False  # <meta name="robots" content="noindex">: the page does not want to be indexed

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def normalise(url: str) -> str:
    """Fragment dropped, scheme and host lower-case, empty path as '/' (one spelling per page)."""
    url = urldefrag(url.strip())[0]
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def robots_parser(body: bytes, url: str) -> RobotFileParser:
    parser = RobotFileParser(url)
    parser.parse(body.decode("utf-8", "replace").splitlines())
    return parser


def allow_all() -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse([])
    return parser


def maybe_gunzip(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Decompress a gzipped sitemap (``sitemap.xml.gz``) with a bound on the decoded size."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decoder.decompress(data, limit + 1)
    except zlib.error as e:
        raise ValueError(f"damaged gzip: {e}") from e
    if len(out) > limit:
        raise ValueError("sitemap larger than 50 MB when unpacked")
    return out


def sitemap_kind(data: bytes) -> str | None:
    """'urlset', 'sitemapindex' or None (not a sitemap), judged by the root element."""
    head = data[:2048].decode("utf-8", "replace")
    m = re.search(r"<(?:[A-Za-z_][\w.-]*:)?(urlset|sitemapindex)\b", head)
    return m.group(1) if m else None


def parse_sitemap(data: bytes) -> tuple[str, list[str]]:
    """(kind, <loc> URLs in document order) of a sitemap or sitemap index.

    Raises:
        ValueError: not well-formed, a DTD (no sitemap needs one; entity tricks live there), over the limits.
    """
    data = maybe_gunzip(data)
    if re.search(rb"<!DOCTYPE|<!ENTITY", data[:65536], re.I):
        raise ValueError("the sitemap declares a DTD or entities")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        raise ValueError(f"not well-formed XML ({e})") from e
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"root element <{kind}> is neither <urlset> nor <sitemapindex>")
    locs = [el.text.strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "loc" and el.text]
    return kind, locs[:MAX_SITEMAP_URLS]


def extract_links(html: str, base_url: str, host: str) -> Links:
    """The page's ``<a href>`` targets that may be fetched: same host, http(s), no credentials, not media."""
    links = Links()
    tree = LexborHTMLParser(html)
    base_node = tree.css_first("base[href]")
    base = urljoin(base_url, base_node.attributes.get("href") or "") if base_node is not None else base_url
    seen: set[str] = set()
    for meta in tree.css("meta[content]"):
        if (meta.attributes.get("name") or "").strip().lower() in ("robots", "lotse", "verstetigungslotse"):
            directives = {d.strip().lower() for d in (meta.attributes.get("content") or "").split(",")}
            links.noindex = links.noindex or bool(directives & {"noindex", "none"})
            if directives & {"nofollow", "none"}:
                return links
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        scheme = href.split(":", 1)[0].lower() if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href) else ""
        if scheme and scheme not in ("http", "https"):
            links.skip(f"{scheme}:")
            continue
        url = normalise(urljoin(base, href))
        problem = url_problem(url, host)
        if problem:
            parts = urlsplit(url)
            reason = "mit Zugangsdaten" if parts.username or parts.password else "anderer Host"
            links.skip(reason)
            continue
        if _NOT_DOCUMENTS.search(urlsplit(url).path):
            continue
        if url not in seen:
            seen.add(url)
            links.same_host.append(url)
    return links


def looks_like_pdf(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".pdf")
