"""Websites as sources, end to end: a small site on loopback is crawled into a real (temporary) index, synced
again unchanged, then changed; each case of the issue shows in the report and in the index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import IngestReport
from ingest.web.fetch import WebLimits
from ingest.web.sync import WebSources, sync_source
from tests.conftest import make_services
from tests.ingest.pdf_factory import make_pdf_with_pages
from tests.web_sources.site import NAV_WORDS, Route, TestSite, page

LIMITS = WebLimits(allow_private=True, timeout_s=2, deadline_s=1.5, delay_s=0, max_page_bytes=1024 * 1024)

LEITFADEN = "<p>Der Leitfaden beschreibt, wie ein Pilotprojekt in den Regelbetrieb überführt wird.</p>"
FINANZ = "<p>Die Finanzierung nach dem Förderende sichert ein Beschluss des Gemeinderats.</p>"
LATIN1 = "<p>Die Bürgerbeteiligung stärkt die Akzeptanz größerer Vorhaben.</p>"


def sitemap(site: TestSite, paths: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{site.url}{p}</loc></url>" for p in paths)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


LISTED = [
    "/",
    "/leitfaden.html",
    "/finanzierung.html",
    "/alt.html",
    "/fehlt.html",
    "/langsam.html",
    "/latin1.html",
    "/intern/geheim.html",
    "/bild.html",
    "/weg.html",
    "/schleife.html",
    "/noindex.html",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestSite]:
    pdf = make_pdf_with_pages(
        tmp_path_factory.mktemp("pdf") / "studie.pdf",
        1,
        "Die Studie zur Verstetigung empfiehlt eine feste Stelle für den Betrieb.",
    )
    with TestSite() as s:
        s.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /intern/\n", content_type="text/plain")
        s.routes["/sitemap.xml"] = Route(sitemap(s, LISTED), content_type="application/xml")
        s.routes["/"] = Route(
            page(
                "Startseite",
                "<p>Willkommen auf der Plattform für kommunale Pilotprojekte.</p>",
                '<a href="/dateien/studie.pdf">Studie (PDF)</a>',
            )
        )
        s.routes["/leitfaden.html"] = Route(page("Leitfaden", LEITFADEN))
        s.routes["/finanzierung.html"] = Route(page("Finanzierung", FINANZ))
        s.routes["/alt.html"] = Route(status=301, headers={"Location": "/leitfaden.html"})
        s.routes["/langsam.html"] = Route(handler=s.trickle)
        s.routes["/latin1.html"] = Route(
            page("Beteiligung", LATIN1).decode().replace("charset='utf-8'", "").encode("latin-1"),
            content_type="text/html; charset=iso-8859-1",
        )
        s.routes["/intern/geheim.html"] = Route(page("Intern", "<p>Nicht für die Öffentlichkeit.</p>"))
        s.routes["/weg.html"] = Route(status=302, headers={"Location": f"http://localhost:{s.port}/"})
        s.routes["/schleife.html"] = Route(status=301, headers={"Location": "/schleife.html"})
        s.routes["/noindex.html"] = Route(
            page("Entwurf", "<p>Unfertiger Entwurf.</p>").replace(
                b"<title>", b'<meta name="robots" content="noindex"><title>'
            )
        )
        s.routes["/bild.html"] = Route(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
        s.routes["/dateien/studie.pdf"] = Route(pdf.read_bytes(), content_type="application/pdf")
        yield s


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    return tmp_path_factory.mktemp("webindex")


def sync(index: Path, embedder: Any, url: str, max_pages: int | None = None) -> tuple[IngestReport, Any, Any]:
    services = make_services(index, embedder)
    report = IngestReport()
    outcome = sync_source(services.pipeline(), WebSources(index), url, LIMITS, report, max_pages)
    return report, outcome, services


def failure(report: IngestReport, path: str) -> dict[str, Any]:
    return next(f for f in report.failed if f["path"].endswith(path))


def test_first_sync_indexes_the_site_within_its_rules(site: TestSite, index: Path, embedder: Any) -> None:
    report, outcome, services = sync(index, embedder, site.url + "/sitemap.xml")
    docs = services.store.documents()
    sources = {d.source for d in docs.values()}
    assert sources == {
        site.url + p
        for p in ("/", "/leitfaden.html", "/finanzierung.html", "/latin1.html", "/dateien/studie.pdf")
    }
    assert outcome.mode == "sitemap" and outcome.complete
    # robots.txt: the disallowed folder is never requested
    assert site.fetched("/intern/geheim.html") == 0
    assert any("robots.txt" in w and "noindex" in w for w in report.warnings)
    assert site.fetched("/noindex.html") == 1
    # the redirect lands on a page that is indexed once, under its own URL
    assert site.fetched("/alt.html") == 1 and (site.url + "/alt.html") not in sources
    # 404, slow server and wrong content type are reported with a reason; the run went on
    slow = failure(report, "/langsam.html")["error"].replace(site.url, "")  # a port may contain "404"
    assert "404" not in slow and "länger als" in slow
    assert failure(report, "/langsam.html")["transient"] is True
    assert "image/png" in failure(report, "/bild.html")["error"]
    assert outcome.gone == [site.url + "/fehlt.html"]
    assert "anderen Host (localhost)" in failure(report, "/weg.html")["error"]
    assert "Weiterleitungsschleife" in failure(report, "/schleife.html")["error"]
    # main content only: navigation, cookie banner and footer never become chunks
    texts = [c.text for c in services.store.live_chunks()]
    assert len(texts) >= 5
    assert not [t for t in texts if any(word in t for word in NAV_WORDS)]
    assert any("Regelbetrieb" in t for t in texts)
    # non-UTF-8 page read in its declared charset
    latin = services.retriever.retrieve("Bürgerbeteiligung Akzeptanz", k=3).hits[0].chunk
    assert latin.source == site.url + "/latin1.html" and "größerer" in latin.text
    # the linked PDF is a document whose source, and citation link, is its URL
    from assistant.citations import document_url

    pdf = services.retriever.retrieve("Studie Verstetigung feste Stelle", k=3).hits[0].chunk
    assert pdf.source == site.url + "/dateien/studie.pdf"
    assert document_url(pdf, "https://lotse.example").startswith(site.url + "/dateien/studie.pdf")
    registry = WebSources(index).load()
    assert list(registry) == [site.url + "/sitemap.xml"]


def test_unchanged_resync_costs_no_parsing_or_embedding(site: TestSite, index: Path, embedder: Any) -> None:
    before = len(site.hits)
    report, outcome, _ = sync(index, embedder, site.url + "/sitemap.xml")
    assert report.embedded_chunks == 0 and not report.added and not report.updated and not report.removed
    assert outcome.fetched == 0  # every indexed page and the PDF answered 304 Not Modified
    assert outcome.not_modified == 5
    conditional = [h for h in site.hits[before:] if h.if_none_match]
    assert {h.path for h in conditional} == {
        "/",
        "/leitfaden.html",
        "/finanzierung.html",
        "/latin1.html",
        "/dateien/studie.pdf",
    }


def test_changes_gone_pages_and_transient_failures(site: TestSite, index: Path, embedder: Any) -> None:
    site.routes["/finanzierung.html"] = Route(
        page("Finanzierung", FINANZ + "<p>Neu: ein Haushaltstitel.</p>")
    )
    site.routes["/leitfaden.html"] = Route(status=503)  # down for now: the indexed version stays
    site.routes["/latin1.html"] = Route(status=410)  # gone for good: leaves the index
    site.routes["/sitemap.xml"] = Route(
        sitemap(site, [p for p in LISTED if p != "/"]), content_type="application/xml"
    )  # start page dropped from the sitemap
    report, outcome, services = sync(index, embedder, site.url + "/sitemap.xml")
    sources = {d.source for d in services.store.documents().values()}
    assert report.updated == [site.url + "/finanzierung.html"]
    assert site.url + "/leitfaden.html" in sources
    kept = failure(report, "/leitfaden.html")
    assert kept["transient"] is True and kept["previous_version_kept"] is True and "503" in kept["error"]
    assert site.url + "/latin1.html" not in sources
    assert site.url + "/" not in sources
    assert set(report.removed) >= {site.url + "/latin1.html", site.url + "/"}
    # the PDF was linked only from the dropped start page: it went with it
    assert site.url + "/dateien/studie.pdf" not in sources


def test_unreachable_sitemap_removes_nothing(site: TestSite, index: Path, embedder: Any) -> None:
    services = make_services(index, embedder)
    before = {d.source for d in services.store.documents().values()}
    site.routes["/sitemap.xml"] = Route(status=500)
    report, outcome, services = sync(index, embedder, site.url + "/sitemap.xml")
    assert not outcome.complete and not report.removed
    assert {d.source for d in services.store.documents().values()} == before
    assert "500" in failure(report, "/sitemap.xml")["error"]


def test_start_page_crawl_follows_links_up_to_max_pages(tmp_path: Path, embedder: Any) -> None:
    with TestSite() as s:
        links = "".join(f'<a href="/seite{i}.html">Seite {i}</a>' for i in range(10))
        s.routes["/"] = Route(page("Start", "<p>Übersicht über die Praxisbeispiele der Kommunen.</p>", links))
        for i in range(10):
            s.routes[f"/seite{i}.html"] = Route(
                page(f"Seite {i}", f"<p>Praxisbeispiel Nummer {i} aus Kommune {i}.</p>")
            )
        report, outcome, services = sync(tmp_path, embedder, s.url + "/", max_pages=4)
        assert outcome.mode == "start_page"
        assert len(services.store.documents()) == 4
        assert any("--max-pages" in w for w in report.warnings)
        assert s.fetched("/seite9.html") == 0


def test_sitemap_index_with_thousands_of_urls_is_bounded(tmp_path: Path, embedder: Any) -> None:
    import gzip

    with TestSite() as s:
        s.routes["/sitemap_index.xml"] = Route(
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{s.url}/teil1.xml'
            f"</loc></sitemap><sitemap><loc>{s.url}/teil2.xml.gz</loc></sitemap></sitemapindex>".encode(),
            content_type="application/xml",
        )
        s.routes["/teil1.xml"] = Route(
            sitemap(s, [f"/p{i}.html" for i in range(3000)]), content_type="text/xml"
        )
        s.routes["/teil2.xml.gz"] = Route(
            gzip.compress(sitemap(s, ["/extra.html"])), content_type="application/gzip"
        )
        for i in range(3):
            s.routes[f"/p{i}.html"] = Route(page(f"Seite {i}", f"<p>Praxisbeispiel {i} einer Kommune.</p>"))
        report, outcome, services = sync(tmp_path, embedder, s.url + "/sitemap_index.xml", max_pages=3)
        assert {d.source for d in services.store.documents().values()} == {
            s.url + f"/p{i}.html" for i in range(3)
        }
        assert any("2998 weitere Adressen" in w for w in report.warnings)
        assert outcome.requests == 1 + 1 + 2 + 3  # robots.txt, index, two parts, three pages

        # the next sync with a larger limit keeps what it cannot reach: nothing listed is lost
        s.routes["/p1.html"] = Route(status=503)
        report, outcome, services = sync(tmp_path, embedder, s.url + "/sitemap_index.xml", max_pages=3)
        assert len(services.store.documents()) == 3 and not report.removed


def test_start_url_disallowed_by_robots_is_not_fetched(tmp_path: Path, embedder: Any) -> None:
    with TestSite() as s:
        s.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /\n", content_type="text/plain")
        s.routes["/"] = Route(page("Start", "<p>x</p>"))
        report, outcome, _ = sync(tmp_path, embedder, s.url + "/")
        assert [h.path for h in s.hits] == ["/robots.txt"]
        assert "robots.txt" in report.failed[0]["error"] and not outcome.complete
        assert not WebSources(tmp_path).load()
