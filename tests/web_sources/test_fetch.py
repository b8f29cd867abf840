"""The guarded fetch and the pure discovery functions, against a website on loopback (no index, no embedding)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ingest.web.discover import extract_links, normalise, parse_sitemap
from ingest.web.fetch import HttpFetcher, WebFetchError, WebLimits
from ingest.web.sync import check_source_url, is_url
from tests.web_sources.site import Route, TestSite, gzip_bomb, page

LIMITS = WebLimits(allow_private=True, timeout_s=2, deadline_s=1.5, delay_s=0, max_page_bytes=1024 * 1024)


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        yield s


def fetcher(site: TestSite, limits: WebLimits = LIMITS) -> HttpFetcher:
    return HttpFetcher(limits, "127.0.0.1")


def test_loopback_is_refused_unless_the_setting_allows_it(site: TestSite) -> None:
    site.routes["/"] = Route(page("Start", "<p>Hallo</p>"))
    with pytest.raises(WebFetchError, match="interne Adresse") as e:
        fetcher(site, replace(LIMITS, allow_private=False)).get(site.url + "/")
    assert "LOTSE_WEB_ALLOW_PRIVATE" in e.value.message_en
    assert site.hits == []  # refused before connecting
    assert fetcher(site).get(site.url + "/").status == 200


def test_default_settings_refuse_private_targets() -> None:
    from assistant.config import Settings

    assert WebLimits.from_settings(Settings()).allow_private is False


def test_redirects_stay_on_the_host_and_never_loop(site: TestSite) -> None:
    site.routes["/alt"] = Route(status=301, headers={"Location": "/neu"})
    site.routes["/neu"] = Route(page("Neu", "<p>Ziel</p>"))
    resp = fetcher(site).get(site.url + "/alt")
    assert (resp.status, resp.url) == (200, site.url + "/neu")

    site.routes["/a"] = Route(status=302, headers={"Location": "/b"})
    site.routes["/b"] = Route(status=302, headers={"Location": "/a"})
    with pytest.raises(WebFetchError, match="Weiterleitungsschleife"):
        fetcher(site).get(site.url + "/a")

    site.routes["/weg"] = Route(status=302, headers={"Location": f"http://localhost:{site.port}/neu"})
    with pytest.raises(WebFetchError, match="anderen Host") as e:
        fetcher(site).get(site.url + "/weg")
    assert not e.value.transient
    assert not any(h.path == "/neu" and h is site.hits[-1] for h in site.hits)

    for i in range(8):
        site.routes[f"/k{i}"] = Route(status=307, headers={"Location": f"/k{i + 1}"})
    with pytest.raises(WebFetchError, match="Mehr als 5 Weiterleitungen"):
        fetcher(site).get(site.url + "/k0")


def test_endless_page_and_compressed_bomb_stop_at_the_limit(site: TestSite) -> None:
    site.routes["/endlos"] = Route(handler=site.endless)
    with pytest.raises(WebFetchError, match="größer als 1 MB"):
        fetcher(site).get(site.url + "/endlos")
    site.routes["/bombe"] = Route(gzip_bomb(200), headers={"Content-Encoding": "gzip"})
    with pytest.raises(WebFetchError, match="größer als 1 MB"):
        fetcher(site).get(site.url + "/bombe")
    site.routes["/klein.gz"] = Route(
        gzip.compress(page("Klein", "<p>gepackt</p>")), headers={"Content-Encoding": "gzip"}
    )
    assert b"gepackt" in fetcher(site).get(site.url + "/klein.gz").body


def test_slow_server_is_a_transient_failure(site: TestSite) -> None:
    site.routes["/langsam"] = Route(handler=site.trickle)
    with pytest.raises(WebFetchError, match="länger als 1.5 s") as e:
        fetcher(site).get(site.url + "/langsam")
    assert e.value.transient


def test_politeness_spaces_requests(site: TestSite) -> None:
    import time

    site.routes["/"] = Route(page("Start", "<p>x</p>"))
    f = fetcher(site, replace(LIMITS, delay_s=0.3))
    start = time.monotonic()
    for _ in range(3):
        f.get(site.url + "/")
    assert time.monotonic() - start >= 0.6
    assert f.requests == 3
    assert site.hits[0].user_agent == LIMITS.user_agent


def test_links_keep_same_host_documents_and_count_the_rest() -> None:
    html = page(
        "Start", '<a href="/a.html#teil">A</a><a href="b/">B</a><a href="/bild.png">Bild</a>'
    ).decode()
    links = extract_links(html, "http://127.0.0.1:9/start/", "127.0.0.1")
    assert links.same_host == [
        "http://127.0.0.1:9/",
        "http://127.0.0.1:9/leitfaden.html",
        "http://127.0.0.1:9/a.html",
        "http://127.0.0.1:9/start/b/",
    ]
    assert links.skipped == {
        "mailto:": 1,
        "javascript:": 1,
        "file:": 1,
        "mit Zugangsdaten": 1,
        "anderer Host": 1,
    }


def test_sitemaps_and_their_refusals() -> None:
    urlset = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + b"".join(f"<url><loc> http://h/p{i} </loc></url>".encode() for i in range(3))
        + b"</urlset>"
    )
    assert parse_sitemap(urlset) == ("urlset", ["http://h/p0", "http://h/p1", "http://h/p2"])
    assert parse_sitemap(gzip.compress(urlset))[1][0] == "http://h/p0"
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://h/s1.xml</loc>'
        b"</sitemap></sitemapindex>"
    )
    assert parse_sitemap(index) == ("sitemapindex", ["http://h/s1.xml"])
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url></urlset>'
    )
    with pytest.raises(ValueError, match="DTD"):
        parse_sitemap(laughs)
    with pytest.raises(ValueError, match="well-formed"):
        parse_sitemap(b"<urlset><url>")


@pytest.mark.parametrize(
    ("arg", "why"),
    [
        ("javascript:alert(1)", "javascript"),
        ("file:///etc/passwd", "file"),
        ("mailto:a@b.de", "mailto"),
        ("https://nutzer:pw@example.org/", "Zugangsdaten"),
        ("ftp://example.org/", "ftp"),
    ],
)
def test_source_urls_that_are_refused(arg: str, why: str) -> None:
    from assistant.errors import InputError

    assert is_url(arg)
    with pytest.raises(InputError, match=why):
        check_source_url(arg)


def test_paths_are_not_urls() -> None:
    assert not is_url("docs/leitfaden.pdf")
    assert not is_url("C:/daten")
    assert is_url("https://example.org/sitemap.xml")
    assert normalise("HTTP://Example.ORG#x") == "http://example.org/"
