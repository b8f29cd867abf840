"""Crawling one web source: its sitemap or its start page, within robots.txt, one host and ``max_pages``.

The crawl only fetches; indexing is the pipeline's job (:meth:`ingest.pipeline.IngestPipeline.run_web`). Each
fetched document is written to a temporary file and handed over as a candidate whose source is its URL.

What happens to each URL, and so to the index:

* fetched (200): handed to the pipeline, whose content hash skips parsing and embedding when nothing changed;
* 304 Not Modified (we sent the ETag/Last-Modified of the indexed version): no download, no parsing; the links
  stored at the last sync keep the crawl going;
* 404 or 410, or no longer listed in the sitemap / linked from the site: leaves the index;
* any other failure (timeout, 5xx, too large, wrong type, redirect to another host, ...): reported, and the
  indexed version stays. When the crawl cannot start at all (robots.txt or the sitemap unreachable), nothing
  of the source is removed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest.web.discover import (
    Links,
    allow_all,
    extract_links,
    looks_like_pdf,
    normalise,
    parse_sitemap,
    robots_parser,
    sitemap_kind,
)
from ingest.web.documents import document_bytes, robots_error, sitemap_error, status_error
from ingest.web.fetch import HttpFetcher, WebFetchError, WebLimits, WebResponse

log = logging.getLogger(__name__)

ROBOTS_AGENT = "Verstetigungslotse"
MAX_CRAWL_DELAY_S = 30.0
MAX_CHILD_SITEMAPS = 100
@dataclass
class PageState:
    """What the last sync knew of one URL: validators for conditional requests and the page's links."""

    etag: str = ""
    last_modified: str = ""
    sha256: str = ""
    links: list[str] = field(default_factory=list)

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass
class Fetched:
    url: str
    path: Path
    state: PageState


@dataclass
class CrawlResult:
    fetched: list[Fetched] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)  # indexed URLs that stay although not fetched
    gone: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    states: dict[str, PageState] = field(default_factory=dict)
    complete: bool = True  # False: the crawl could not tell which pages are gone; nothing is removed
    mode: str = ""
    requests: int = 0

    def fail(self, url: str, error: WebFetchError, indexed: bool) -> None:
        entry: dict[str, Any] = {
            "path": url,
            "error": str(error),
            "error_en": error.message_en,
            "code": error.code,
            "transient": error.transient,
        }
        if indexed:
            entry["previous_version_kept"] = True
            entry["error"] += " Die zuletzt indexierte Fassung bleibt abrufbar."
            entry["error_en"] += " The last indexed version stays available."
        self.failed.append(entry)


class Crawler:
    """Crawls one source URL.

    Args:
        limits: Politeness, size and time limits, SSRF policy.
        max_pages: Most documents fetched (pages and files).
        work_dir: Where fetched bodies are written for the pipeline.
        previous: Page states of the last sync (validators, links).
        indexed: URLs whose documents are live in the index (only those get conditional requests).
    """

    def __init__(
        self,
        limits: WebLimits,
        max_pages: int,
        work_dir: Path,
        previous: dict[str, PageState],
        indexed: set[str],
    ) -> None:
        self.limits = limits
        self.max_pages = max_pages
        self.work_dir = work_dir
        self.previous = previous
        self.indexed = indexed
        self.result = CrawlResult()
        self._skipped: dict[str, int] = {}
        self._done: set[str] = set()

    def crawl(self, source: str) -> CrawlResult:
        source = normalise(source)
        host = urlsplit(source).hostname or ""
        fetcher = HttpFetcher(self.limits, host)
        res = self.result
        try:
            robots = self._robots(fetcher, source)
            if robots is None:
                return self._abandon()
            if not robots.can_fetch(ROBOTS_AGENT, source):
                res.fail(source, robots_error(source), indexed=False)
                return self._abandon()
            root = self._fetch(fetcher, source)
            if root is None:
                return self._abandon()
            if root.status == 200 and sitemap_kind(root.body):
                res.mode = "sitemap"
                urls = self._sitemap_urls(fetcher, root)
                if urls is None:
                    return self._abandon()
                allowed = [u for u in urls if self._allowed(robots, u)]
                self._fetch_all(fetcher, allowed, robots, follow=looks_like_pdf)
            else:
                res.mode = "start_page"
                self._fetch_all(fetcher, [source], robots, follow=lambda _u: True, first=root)
                if source not in self._done and normalise(root.url) not in self._done:
                    res.complete = False  # no links from the start page: which pages are gone is unknown
            if self._skipped:
                shown = ", ".join(f"{n}× {why}" for why, n in sorted(self._skipped.items()))
                res.warnings.append(f"{source}: Links übersprungen (nicht abrufbar): {shown}.")
            return res
        finally:
            res.requests = fetcher.requests

    # -- steps -----------------------------------------------------------------------------------------
    def _abandon(self) -> CrawlResult:
        self.result.complete = False
        return self.result

    def _robots(self, fetcher: HttpFetcher, source: str) -> Any:
        parts = urlsplit(source)
        url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            resp = fetcher.get(url, kind="page")
        except WebFetchError as e:
            self.result.fail(url, e, indexed=False)
            return None
        if resp.status == 200:
            robots = robots_parser(resp.body, url)
            delay = robots.crawl_delay(ROBOTS_AGENT)
            if delay:
                fetcher.delay_s = max(fetcher.delay_s, min(float(delay), MAX_CRAWL_DELAY_S))
            return robots
        if resp.status >= 500 or resp.status == 429:
            # RFC 9309: an unreachable robots.txt means "crawl nothing" for now
            self.result.fail(url, status_error(url, resp.status), indexed=False)
            return None
        return allow_all()  # 4xx: no rules

    def _allowed(self, robots: Any, url: str) -> bool:
        if robots.can_fetch(ROBOTS_AGENT, url):
            return True
        self._skip("durch robots.txt ausgeschlossen")
        return False

    def _skip(self, reason: str, n: int = 1) -> None:
        self._skipped[reason] = self._skipped.get(reason, 0) + n

    def _fetch(self, fetcher: HttpFetcher, url: str) -> WebResponse | None:
        """The source URL itself; None (reported) when it cannot be read at all."""
        state = self.previous.get(url) if url in self.indexed else None
        try:
            resp = fetcher.get(url, state.conditional_headers() if state else None, kind="page")
        except WebFetchError as e:
            self.result.fail(url, e, indexed=url in self.indexed)
            return None
        if resp.status not in (200, 304):
            self.result.fail(url, status_error(url, resp.status), indexed=url in self.indexed)
            return None
        return resp

    def _sitemap_urls(self, fetcher: HttpFetcher, root: WebResponse) -> list[str] | None:
        res = self.result
        try:
            kind, locs = parse_sitemap(root.body)
        except ValueError as e:
            res.fail(root.url, sitemap_error(root.url, str(e)), indexed=False)
            return None
        if kind == "sitemapindex":
            children, locs = locs[:MAX_CHILD_SITEMAPS], []
            if len(children) < len(locs):
                res.warnings.append(
                    f"{root.url}: nur die ersten {MAX_CHILD_SITEMAPS} Teil-Sitemaps werden gelesen."
                )
            for child in children:
                child = normalise(child)
                try:
                    resp = fetcher.get(child, kind="page")
                    if resp.status != 200:
                        raise status_error(child, resp.status)
                    child_kind, child_locs = parse_sitemap(resp.body)
                except WebFetchError as e:
                    res.fail(child, e, indexed=False)
                    return None  # a missing part would look like pages dropped from the sitemap
                except ValueError as e:
                    res.fail(child, sitemap_error(child, str(e)), indexed=False)
                    return None
                if child_kind == "urlset":
                    locs.extend(child_locs)
        host = urlsplit(root.url).hostname
        urls: list[str] = []
        for loc in locs:
            url = normalise(loc)
            if urlsplit(url).hostname != host or urlsplit(url).scheme not in ("http", "https"):
                self._skip("Sitemap-Eintrag auf anderem Host")
            elif url not in urls:
                urls.append(url)
        return urls

    def _fetch_all(
        self,
        fetcher: HttpFetcher,
        start: list[str],
        robots: Any,
        follow: Callable[[str], bool],
        first: WebResponse | None = None,
    ) -> None:
        """Fetch ``start`` and, breadth first, the same-host links for which ``follow`` is true."""
        res = self.result
        queue = list(dict.fromkeys(start))
        queued = set(queue)
        budget = self.max_pages
        with ThreadPoolExecutor(max_workers=self.limits.concurrency, thread_name_prefix="crawl") as pool:
            while queue and budget > 0:
                n = min(budget, self.limits.concurrency)  # bodies held in memory at once: one per worker
                batch, queue = queue[:n], queue[n:]
                pre = {start[0]: first} if first is not None else {}
                first = None
                responses = list(pool.map(lambda u, pre=pre: self._get(fetcher, u, pre.get(u)), batch))
                for url, outcome in zip(batch, responses, strict=True):
                    if isinstance(outcome, WebFetchError):
                        res.fail(url, outcome, indexed=url in self.indexed)
                        if url in self.indexed:
                            res.keep.add(url)
                        continue
                    links = self._settle(url, outcome, robots)
                    if links is None:
                        continue
                    budget -= 1
                    for link in links:
                        if link not in queued and follow(link) and self._allowed(robots, link):
                            queued.add(link)
                            queue.append(link)
        if queue:
            res.warnings.append(
                f"Grenze von {self.max_pages} Dokumenten erreicht (--max-pages); {len(queue)} weitere Adressen "
                "wurden nicht abgerufen, ihre indexierten Fassungen bleiben."
            )
            res.keep.update(u for u in queue if u in self.indexed)

    def _get(self, fetcher: HttpFetcher, url: str, ready: WebResponse | None) -> WebResponse | WebFetchError:
        if ready is not None:
            return ready
        state = self.previous.get(url) if url in self.indexed else None
        kind = "file" if looks_like_pdf(url) else "page"
        try:
            return fetcher.get(url, state.conditional_headers() if state else None, kind=kind)
        except WebFetchError as e:
            return e

    def _settle(self, url: str, resp: WebResponse, robots: Any) -> list[str] | None:
        """Record one response; the links to follow, or None when it yields no document."""
        res = self.result
        final = normalise(resp.url)
        if final != url and not self._allowed(robots, final):  # redirected into a disallowed folder
            return None
        if resp.status == 304:
            state = self.previous.get(url, PageState())
            res.not_modified.append(url)
            res.states[url] = state
            self._done.add(url)
            return state.links
        if resp.status in (404, 410):
            res.gone.append(url)
            return None
        if resp.status != 200:
            error = status_error(url, resp.status)
            res.fail(url, error, indexed=url in self.indexed)
            if url in self.indexed:
                res.keep.add(url)
            return None
        if final in self._done:  # a redirect to a page already fetched
            return None
        try:
            suffix, body = document_bytes(final, resp)
        except WebFetchError as e:
            res.fail(final, e, indexed=final in self.indexed)
            if final in self.indexed:
                res.keep.add(final)
            return None
        digest = hashlib.sha256(body).hexdigest()
        previous = self.previous.get(final)
        if previous is not None and previous.sha256 == digest:
            links = previous.links  # same bytes: no need to parse them again for links
        elif suffix == ".html":
            found: Links = extract_links(
                body.decode("utf-8-sig", "replace"), final, urlsplit(final).hostname or ""
            )
            for reason, n in found.skipped.items():
                self._skip(reason, n)
            links = found.same_host
            if found.noindex:
                self._skip("Seite mit robots-Meta „noindex“")
                return links  # followed, never indexed (an indexed version leaves the index)
        else:
            links = []
        path = self.work_dir / f"{digest}{suffix}"
        path.write_bytes(body)
        state = PageState(resp.headers.get("etag", ""), resp.headers.get("last-modified", ""), digest, links)
        res.states[final] = state
        res.fetched.append(Fetched(final, path, state))
        self._done.add(final)
        return links
