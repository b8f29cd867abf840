"""Web sources: the registry of sites the index follows, and one sync of a site (crawl, then index).

The registry is ``web_sources.json`` in the index folder: per source its page limit, the last sync's outcome
and, per URL, the validators (ETag, Last-Modified), content hash and links that make the next sync cheap.
It is written atomically (temporary file, then rename), so a crash never leaves half a registry.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from ingest.pipeline import IngestPipeline, IngestReport
from ingest.sources import Candidate
from ingest.web.crawler import Crawler, PageState
from ingest.web.discover import normalise
from ingest.web.fetch import WebLimits, url_problem

log = logging.getLogger(__name__)

REGISTRY_NAME = "web_sources.json"


def is_url(text: str) -> bool:
    """Whether a command-line argument means a web address rather than a path (any ``scheme:`` prefix but a
    Windows drive letter counts, so ``file:`` and ``javascript:`` get a clear refusal, not 'file not found')."""
    head, sep, _ = text.partition(":")
    if Path(text).exists():
        return False
    return bool(sep) and len(head) > 1 and head.replace("+", "").replace("-", "").replace(".", "").isalnum()


def check_source_url(url: str) -> str:
    """The normalised source URL, or InputError saying why it cannot be a web source."""
    problem = url_problem(url.strip())
    if problem:
        raise InputError(
            f"„{url}“ kann keine Web-Quelle sein: {problem[0]}.",
            f"'{url}' cannot be a web source: {problem[1]}.",
        )
    return normalise(url)


@dataclass
class WebSource:
    url: str
    max_pages: int
    added_at: str = ""
    last_sync: str = ""
    last_result: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)  # url -> PageState fields

    def page_states(self) -> dict[str, PageState]:
        return {url: PageState(**state) for url, state in self.pages.items()}


class WebSources:
    """The registered web sources of one index folder."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / REGISTRY_NAME

    def load(self) -> dict[str, WebSource]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.warning("web source registry %s unreadable (%s); starting empty", self.path, e)
            return {}
        return {url: WebSource(**entry) for url, entry in raw.get("sources", {}).items()}

    def save(self, sources: dict[str, WebSource]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".web_sources.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {"sources": {u: asdict(s) for u, s in sources.items()}}, fh, ensure_ascii=False, indent=1
            )
        os.replace(tmp, self.path)


@dataclass
class SyncOutcome:
    """What one sync of one source did (the web part of the run's report)."""

    source: str
    mode: str
    fetched: int
    not_modified: int
    gone: list[str]
    requests: int
    complete: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_source(
    pipeline: IngestPipeline,
    registry: WebSources,
    url: str,
    limits: WebLimits,
    report: IngestReport,
    max_pages: int | None = None,
    default_max_pages: int = 200,
) -> SyncOutcome:
    """Crawl one web source and bring the index in step with it; register it on first use.

    ``max_pages`` (from ``--max-pages``) changes the source's registered limit; a new source without it gets
    ``default_max_pages``.
    """
    url = check_source_url(url)
    start = time.perf_counter()
    sources = registry.load()
    source = sources.get(url) or WebSource(url, max_pages or 0, added_at=_now())
    if max_pages:
        source.max_pages = max_pages
    source.max_pages = source.max_pages or default_max_pages
    indexed = {d.source for d in pipeline.store.documents().values() if d.root == url}
    work_dir = Path(tempfile.mkdtemp(prefix="lotse-crawl-", dir=_work_parent(pipeline)))
    try:
        crawl = Crawler(limits, source.max_pages, work_dir, source.page_states(), indexed).crawl(url)
        candidates = [Candidate(f.path, url, f.url, fetched=True) for f in crawl.fetched]
        keep = set(crawl.keep) | set(crawl.not_modified)
        if not crawl.complete:
            keep |= indexed  # the crawl could not tell what is gone: nothing leaves the index
        report.failed.extend(crawl.failed)
        report.warnings.extend(crawl.warnings)
        failed_before = len(report.failed)
        pipeline.run_web(url, candidates, keep, report, prune=True)
        report.unchanged.extend(crawl.not_modified)
        not_indexed = {f["path"] for f in report.failed[failed_before:]}
        source.pages = _next_states(source.page_states(), crawl.states, keep, not_indexed)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    report.seconds += time.perf_counter() - start
    outcome = SyncOutcome(
        source=url,
        mode=crawl.mode,
        fetched=len(crawl.fetched),
        not_modified=len(crawl.not_modified),
        gone=crawl.gone,
        requests=crawl.requests,
        complete=crawl.complete,
        seconds=round(time.perf_counter() - start, 2),
    )
    source.last_sync = _now()
    source.last_result = outcome.to_dict() | {"failed": len(crawl.failed)}
    sources = registry.load()  # another sync may have registered a source meanwhile
    if url in sources or crawl.fetched or crawl.not_modified:  # a site that never answered is not registered
        sources[url] = source
        registry.save(sources)
    return outcome


def _next_states(
    previous: dict[str, PageState], fetched: dict[str, PageState], keep: set[str], not_indexed: set[str]
) -> dict[str, dict[str, Any]]:
    """Validators for the next sync: new ones for what was indexed now, old ones for what stays unchanged.

    A document the pipeline could not index keeps no validators, so the next sync downloads it again instead
    of being told 304 for a version that never reached the index.
    """
    states: dict[str, PageState] = {u: s for u, s in previous.items() if u in keep}
    states.update(fetched)
    return {u: asdict(s) for u, s in states.items() if u not in not_indexed}


def _work_parent(pipeline: IngestPipeline) -> Path:
    parent = pipeline.files_dir.parent / "crawl-tmp"
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
