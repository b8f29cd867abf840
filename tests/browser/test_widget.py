"""The embeddable widget in a real browser: a host page on one origin embeds /widget.js from the Lotse on another.

Servers: the Lotse API (allow-list = the host page's origin) over the shared corpus index, and a tiny host site.
The same host site reached as http://localhost:PORT is a different, non-allowed origin (a look-alike).
Screenshots go to $LOTSE_SCREENSHOT_DIR when set (else a temporary folder).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from assistant.web.app import create_app
from tests.conftest import LiveServer, free_port, make_services

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
QUESTION = "Wie lang sollte eine Beschlussvorlage zur Verstetigung eines Smart-City-Projekts höchstens sein?"
FOLLOWUP = "Und was gehört in die Anlagen?"
DIN_Q = "Was regelt die DIN SPEC 91357?"
# Markup in documents: the Markdown loader strips tags and link targets at ingest; the plain-text loader keeps
# every character, so the widget must show it as text.
HOSTILE_MD = """# Betrieb des Sensornetzes Kleinhausen

Der Eigenbetrieb Stadtwerke Kleinhausen trägt die Betriebsverantwortung für das Sensornetz.

Die Betriebsverantwortung für das Sensornetz <img src=x onerror=alert(1)> liegt beim Eigenbetrieb Stadtwerke Kleinhausen.

Das jährliche Wartungsbudget des Sensornetzes <script>alert(1)</script> beträgt 40.000 Euro.

Mehr zum Sensornetz steht im [Betriebshandbuch](javascript:alert(1)) der Stadtwerke Kleinhausen.
"""
HOSTILE_TXT = """Parkraumsensoren in Großdorf

Das Tiefbauamt Großdorf betreibt die Parkraumsensoren der Innenstadt.

Die Parkraumsensoren <img src=x onerror=alert(1)> werden vom Tiefbauamt Großdorf betrieben.

Das Tiefbauamt Großdorf veröffentlicht die Belegungsdaten <script>alert(1)</script> als offene Daten.

Das Handbuch der Parkraumsensoren liegt unter [Handbuch](javascript:alert(1)) beim Tiefbauamt Großdorf.
"""
HOSTILE_QUESTIONS = {
    "Wer trägt die Betriebsverantwortung für das Sensornetz in Kleinhausen?": "Eigenbetrieb Stadtwerke Kleinhausen",
    "Wer betreibt die Parkraumsensoren in Großdorf?": "Tiefbauamt Großdorf",
}

# Host-page CSS that would wreck a widget without style isolation.
HOSTILE_CSS = """<style>
*{font-family:"Comic Sans MS",cursive!important;color:#ff00ff!important;line-height:3!important}
div{display:none!important;transform:rotate(180deg)}
button{display:none!important}
.p,.fab,.log,.m,textarea{display:none!important;visibility:hidden!important}
</style>"""

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wissensplattform Smart Cities (Testseite)</title>
<style>
body{{margin:0;font-family:Georgia,serif;background:#fafafa;color:#222}}
header{{background:#2d6a4f;color:#fff;padding:14px 24px}} header p{{margin:0;font-size:22px}}
main{{max-width:760px;margin:24px auto;padding:0 16px}} h1{{color:rgb(45,106,79)}}
#host-button{{background:rgb(200,230,201);border:1px solid #2d6a4f;padding:6px 12px;color:#1b4332}}
</style>{hostile}</head>
<body><header><p>Wissensplattform Smart Cities</p></header>
<main><h1>Verstetigung von Modellprojekten</h1>
<p>Diese Seite steht für eine Seite der Wissensplattform. Unten rechts ist der Verstetigungslotse eingebunden.</p>
<p><button id="host-button" type="button">Schaltfläche der Plattform</button></p></main>
<script src="{api}/widget.js" data-lang="{lang}" data-title="{title}" data-position="right" defer></script>
</body></html>"""


def host_site(targets: dict[str, str]) -> Starlette:
    """The 'knowledge platform': one page that embeds the widget of the chosen Lotse server."""

    async def page(request: Request) -> HTMLResponse:
        q = request.query_params
        api = targets[q.get("to", "corpus")]
        headers = {}
        if q.get("csp"):
            # A strict platform: only the Lotse's script and API, no inline styles, Trusted Types enforced
            # (any HTML sink such as innerHTML would throw).
            headers["Content-Security-Policy"] = (
                f"default-src 'none'; script-src {api}; connect-src {api}; style-src 'none'; "
                "require-trusted-types-for 'script'; trusted-types 'none'"
            )
        return HTMLResponse(PAGE.format(
            api=html.escape(api, quote=True),
            lang="en" if q.get("lang") == "en" else "de",
            title=html.escape(q.get("title", "Verstetigungslotse"), quote=True),
            hostile=HOSTILE_CSS if q.get("hostile") else "",
        ), headers=headers)

    return Starlette(routes=[Route("/", page)])


@dataclass
class Site:
    api: LiveServer
    app: Any
    host_origin: str
    foreign_origin: str
    targets: dict[str, str]
    shots: Path


@pytest.fixture(scope="module")
def site(corpus_index_dir: Path, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    host_port = free_port()
    host_origin = f"http://127.0.0.1:{host_port}"
    services = make_services(corpus_index_dir, embedder, allowed_origins=host_origin, rate_limit=0)
    app = create_app(services, with_ui=False)
    targets: dict[str, str] = {}
    shots = Path(os.environ.get("LOTSE_SCREENSHOT_DIR") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    with LiveServer(app) as api, LiveServer(host_site(targets), port=host_port):
        targets["corpus"] = api.url
        yield Site(api, app, host_origin, f"http://localhost:{host_port}", targets, shots)


@dataclass
class Watch:
    """Everything the page did that must not happen: dialogs, requests, console errors."""

    dialogs: list[str] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def hosts(self) -> set[str]:
        return {urlsplit(r.url).hostname or r.url for r in self.requests}

    def chat_requests(self) -> list[Any]:
        return [r for r in self.requests if r.url.endswith("/api/chat") and r.method == "POST"]


@pytest.fixture
def context(browser, request: pytest.FixtureRequest) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    viewport = getattr(request, "param", None) or {"width": 1280, "height": 800}
    ctx = browser.new_context(viewport=viewport)
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


def open_page(context: Any, url: str) -> tuple[Any, Watch]:
    page = context.new_page()
    watch = Watch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: watch.requests.append(r))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.goto(url)
    page.locator(".fab").wait_for()
    return page, watch


def shadow_focus(page: Any) -> str | None:
    """Class or id of the focused element inside the widget, or None when focus is outside it."""
    return page.evaluate(
        """() => { const h = document.querySelector('[data-lotse-widget]');
                   if (document.activeElement !== h) return null;
                   const a = h.shadowRoot.activeElement; return a ? (a.id || a.className) : null; }"""
    )


def ask(page: Any, question: str) -> Any:
    """Open the panel if needed, type the question, send it with Enter; returns the new bot message locator."""
    if not page.locator(".p").is_visible():
        page.locator(".fab").click()
    before = page.locator(".m.b").count()
    box = page.locator("textarea")
    box.fill(question)
    box.press("Enter")
    message = page.locator(".m.b").nth(before)
    message.wait_for()
    page.wait_for_function(
        "n => { const m = document.querySelector('[data-lotse-widget]').shadowRoot.querySelectorAll('.m.b')[n];"
        " return m && !m.hasAttribute('aria-busy'); }",
        arg=before,
    )
    return message


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail("axe-core fehlt: `cd tests/browser && npm install --no-audit --no-fund` (make browser-deps).")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
             const r = await axe.run(document, {resultTypes: ['violations']});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.map(n => n.target)}));
           }"""
    )


# --- tests ------------------------------------------------------------------------------------------------------
def test_cited_answer_with_source_link(site: Site, context: Any) -> None:
    page, watch = open_page(context, site.host_origin + "/")
    page.locator(".fab").click()
    dialog = page.get_by_role("dialog", name="Verstetigungslotse")
    assert dialog.is_visible()

    message = ask(page, QUESTION)
    text = message.locator(".t").inner_text()
    assert "[1]" in text and "Beschlussvorlage" in text, text
    assert message.locator(".err").count() == 0
    link = message.locator(".src a").first
    href = link.get_attribute("href")
    assert href and href.startswith(site.api.url + "/documents/"), href
    assert link.get_attribute("target") == "_blank"
    assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    first_source = message.locator(".src li.card").first  # the document of [1], with all its quotes
    assert first_source.locator("strong").inner_text().strip()  # title
    first_quote = first_source.locator("blockquote").first
    assert first_quote.inner_text().startswith("„")  # verbatim quote
    # The span that answers the question is marked inside the first quote; the quote text is unchanged.
    mark = first_source.locator("blockquote mark")
    assert mark.count() == 1 and mark.inner_text().strip() in first_quote.inner_text()
    # Short by default: the answer's own source shows, the supporting ones wait behind "Weitere Belege".
    more = message.locator(".src details.more")
    if more.count():
        assert more.locator("summary").inner_text().startswith("Weitere Belege")
        assert not more.locator("li").first.is_visible()
        more.locator("summary").click()
        assert more.locator("li").first.is_visible()

    # The document link works (and is served by the Lotse, not the host).
    doc = page.request.get(href.split("#")[0])
    assert doc.ok, doc.status

    # A follow-up sends the history kept in page memory; nothing else identifies the user.
    ask(page, FOLLOWUP)
    first, second = watch.chat_requests()[:2]
    assert json.loads(first.post_data)["history"] == []
    body = json.loads(second.post_data)
    assert body["lang"] == "de" and body["question"] == FOLLOWUP
    assert [t["role"] for t in body["history"]] == ["user", "assistant"]
    assert body["history"][0]["content"] == QUESTION
    headers = second.all_headers()
    assert headers.get("origin") == site.host_origin
    assert "cookie" not in headers and "authorization" not in headers and "referer" not in headers

    # An answer that quotes one document twice (the glossary, [1] and [3]): one card with both quotes, each
    # with its own number and link; the numbers are those of the answer text.
    cited = site.app.state.services.chat.answer(DIN_Q).citations
    by_source: dict[str, list[Any]] = {}
    for c in cited:
        by_source.setdefault(c.source, []).append(c)
    twice = next((cs for cs in by_source.values() if len(cs) > 1), None)
    assert twice is not None, [(c.n, c.source) for c in cited]  # guards the corpus, not the widget
    message = ask(page, DIN_Q)
    cards = message.locator(".src li.card")
    assert cards.count() == len(by_source)
    card = cards.nth(list(by_source).index(twice[0].source))
    if not card.is_visible():
        message.locator(".src details.more summary").click()
    assert card.locator(":scope > .ref").inner_text().strip() == "[" + ", ".join(str(c.n) for c in twice) + "]"
    assert card.locator(":scope > strong").inner_text() == twice[0].title
    quotes = card.locator("li.qi")
    assert quotes.count() == len(twice)
    for i, c in enumerate(twice):
        quote = quotes.nth(i)
        assert quote.is_visible()
        assert quote.locator(":scope > .ref").inner_text() == f"[{c.n}]"
        assert quote.locator("blockquote").inner_text().split() == f"„{c.quote}“".split()
        assert quote.locator("a").get_attribute("href") == site.api.url + c.url
    text = message.locator(".t").inner_text()
    assert all(f"[{c.n}]" in text for c in cited), text
    assert message.locator(".src li.qi").count() == len(cited)

    assert watch.hosts() == {"127.0.0.1"}, watch.hosts()
    assert not watch.dialogs and not watch.errors, (watch.dialogs, watch.errors)
    page.screenshot(path=str(site.shots / "widget-desktop.png"))


def test_foreign_origin_gets_visible_refusal(site: Site, context: Any) -> None:
    page, watch = open_page(context, site.foreign_origin + "/")
    message = ask(page, QUESTION)
    error = message.locator(".err")
    assert error.is_visible()
    assert "nicht berechtigt" in error.inner_text()
    assert error.get_attribute("role") == "alert"
    assert message.locator(".t").inner_text() == ""
    assert message.locator(".src li").count() == 0
    assert watch.hosts() <= {"127.0.0.1", "localhost"}
    page.screenshot(path=str(site.shots / "widget-refused.png"))


def test_rate_limit_message_in_widget(site: Site, context: Any) -> None:
    limiter = site.app.state.limiter
    page, _ = open_page(context, site.host_origin + "/")
    limiter.per_minute = 1
    try:
        first = ask(page, QUESTION)
        assert first.locator(".src li").count() >= 1
        second = ask(page, FOLLOWUP)
        assert "Zu viele Anfragen" in second.locator(".err").inner_text()
    finally:
        limiter.per_minute = 0
        limiter._hits.clear()


def test_keyboard_open_escape_and_focus_return(site: Site, context: Any) -> None:
    page, watch = open_page(context, site.host_origin + "/")
    page.focus("#host-button")
    page.keyboard.press("Tab")
    assert shadow_focus(page) == "fab"
    fab = page.locator(".fab")
    assert fab.get_attribute("aria-expanded") == "false"

    page.keyboard.press("Enter")
    assert page.locator(".p").is_visible()
    assert fab.get_attribute("aria-expanded") == "true"
    assert shadow_focus(page) == "lotse-q"

    page.keyboard.press("Escape")
    assert not page.locator(".p").is_visible()
    assert shadow_focus(page) == "fab"

    page.keyboard.press("Space")
    assert page.locator(".p").is_visible() and shadow_focus(page) == "lotse-q"
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.locator(".m.b .src li").first.wait_for()
    # Tab reaches the close button and the source links; Escape from anywhere in the panel closes it.
    page.locator(".m.b .src a").first.focus()
    page.keyboard.press("Escape")
    assert not page.locator(".p").is_visible() and shadow_focus(page) == "fab"
    assert len(watch.chat_requests()) == 1


def test_styles_isolated_both_ways(site: Site, context: Any) -> None:
    page, _ = open_page(context, site.host_origin + "/?hostile=1")
    fab = page.locator(".fab")
    assert fab.is_visible()
    style = fab.evaluate("e => { const s = getComputedStyle(e); return [s.color, s.fontFamily, s.display]; }")
    assert style[0] == "rgb(255, 255, 255)" and "system-ui" in style[1] and style[2] == "flex", style
    fab.click()
    assert page.locator(".p").is_visible() and page.locator("textarea").is_visible()
    page.screenshot(path=str(site.shots / "widget-hostile-css.png"))

    # And nothing of the widget's CSS reaches the host page.
    clean, _ = open_page(context, site.host_origin + "/")
    host_button = clean.locator("#host-button").evaluate(
        "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.fontFamily]; }"
    )
    assert host_button[0] == "rgb(200, 230, 201)", host_button
    assert clean.locator("h1").evaluate("e => getComputedStyle(e).color") == "rgb(45, 106, 79)"


def test_works_under_strict_host_csp(site: Site, context: Any) -> None:
    page, watch = open_page(context, site.host_origin + "/?csp=1")
    fab = page.locator(".fab")
    assert fab.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 79, 138)"  # styled
    message = ask(page, QUESTION)
    assert message.locator(".src a").count() >= 1
    assert not watch.errors, watch.errors
    # The policy is really in force: inline styles of the page are blocked, HTML sinks throw.
    assert page.locator("h1").evaluate("e => getComputedStyle(e).color") != "rgb(45, 106, 79)"
    assert page.evaluate(
        "() => { try { document.createElement('div').innerHTML = '<b>x</b>'; return 'allowed'; }"
        " catch (e) { return 'blocked'; } }"
    ) == "blocked"


@pytest.mark.parametrize("context", [{"width": 360, "height": 740}], indirect=True)
def test_phone_width(site: Site, context: Any) -> None:
    page, _ = open_page(context, site.host_origin + "/")
    page.locator(".fab").click()
    panel = page.locator(".p").bounding_box()
    assert panel and panel["x"] == 0 and panel["width"] == 360 and panel["height"] >= 700, panel
    box = page.locator("textarea").bounding_box()
    send = page.locator(".s").bounding_box()
    assert box and send and box["x"] >= 0 and send["x"] + send["width"] <= 360 and box["y"] + box["height"] <= 740
    message = ask(page, QUESTION)
    assert message.locator(".src li").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no horizontal scrolling
    assert page.locator(".x").is_visible()
    page.screenshot(path=str(site.shots / "widget-phone.png"))


def test_english_labels(site: Site, context: Any) -> None:
    page, watch = open_page(context, site.host_origin + "/?lang=en&title=Ask%20KTS")
    fab = page.get_by_role("button", name="Ask the Lotse")
    fab.click()
    assert page.get_by_role("dialog", name="Ask KTS").is_visible()
    assert page.locator("textarea").get_attribute("placeholder", timeout=1000).startswith("Ask")
    message = ask(page, QUESTION)
    assert message.locator(".sh").inner_text() == "Sources"
    assert json.loads(watch.chat_requests()[0].post_data)["lang"] == "en"


def test_no_serious_accessibility_violations(site: Site, context: Any) -> None:
    page, _ = open_page(context, site.host_origin + "/")
    page.locator(".fab").click()
    ask(page, QUESTION)
    found = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)


def fake_stream(page: Any, site: Site, events: list[tuple[str, Any]], crlf: bool = False) -> None:
    """Answer the page's /api/chat requests with the given Server-Sent Events instead of the real server."""
    body = "".join(f"event: {e}\ndata: {json.dumps(d, ensure_ascii=False)}\n\n" for e, d in events)
    if crlf:
        body = body.replace("\n", "\r\n")
    cors = {"Access-Control-Allow-Origin": site.host_origin, "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Allow-Methods": "POST, OPTIONS"}

    def fake(route: Any) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
        else:
            route.fulfill(status=200, headers=cors | {"Content-Type": "text/event-stream"}, body=body)

    page.route(site.api.url + "/api/chat", fake)


def test_stream_error_and_cut_off_are_shown(site: Site, context: Any) -> None:
    page, _ = open_page(context, site.host_origin + "/")
    fake_stream(page, site, [("status", {"stage": "retrieving"}), ("token", "Teil"),
                             ("error", {"error": "Wissensbasis nicht verfügbar.", "error_en": "Unavailable.",
                                        "code": "store_unavailable"})], crlf=True)
    message = ask(page, "Frage eins")
    assert message.locator(".err").inner_text() == "Wissensbasis nicht verfügbar."
    assert message.locator(".t").inner_text() == "Teil"  # what arrived stays visible

    page.unroute(site.api.url + "/api/chat")
    fake_stream(page, site, [("status", {"stage": "generating"}), ("token", "Angefangen, aber")])
    message = ask(page, "Frage zwei")
    assert "unterbrochen" in message.locator(".err").inner_text()
    assert message.locator(".t").inner_text() == "Angefangen, aber"


def test_hostile_stream_renders_inert(site: Site, context: Any) -> None:
    """A compromised or buggy answer stream: markup, markdown images and bad links stay text, fetch nothing."""
    doc_link = "/documents/abc123#page=2"
    events = [
        ("status", {"stage": "generating"}),
        ("token", "<img src=x onerror=alert(1)>"),
        ("reset", None),
        ("token", "Teil 1 "),
        ("notice", "<b onmouseover=alert(2)>Hinweis</b>"),
        ("done", {
            "answer": "Siehe <script>alert(3)</script> ![bild](http://evil.example/track.png) [1] [2] [3]",
            "mode": "llm", "abstained": False, "notices": [],
            "citations": [
                {"n": 1, "title": "<img src=y onerror=alert(4)>", "source": "a.md", "page": 2, "section": "",
                 "quote": "<a href=javascript:alert(5)>klick</a>", "publisher": "", "year": None,
                 "url": "javascript:alert(6)"},
                {"n": 2, "title": "Fremd", "source": "b.md", "page": None, "section": "", "quote": "q",
                 "publisher": "", "year": None, "url": "http://evil.example/doc"},
                {"n": 3, "title": "Echt", "source": "c.md", "page": 2, "section": "S", "quote": "q",
                 "publisher": "KTS", "year": 2024, "url": doc_link},
            ],
        }),
    ]
    page, watch = open_page(context, site.host_origin + "/")
    fake_stream(page, site, events)
    page.route("http://evil.example/**", lambda route: route.abort())
    message = ask(page, "Test")
    text = message.inner_text()
    for literal in ("<script>alert(3)</script>", "![bild](http://evil.example/track.png)",
                    "<img src=y onerror=alert(4)>", "<a href=javascript:alert(5)>klick</a>",
                    "<b onmouseover=alert(2)>Hinweis</b>"):
        assert literal in text, literal
    links = message.locator("a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == site.api.url + doc_link
    assert message.locator("img, script, b").count() == 0
    page.wait_for_timeout(300)
    assert not watch.dialogs
    assert all(urlsplit(r.url).hostname == "127.0.0.1" for r in watch.requests), [r.url for r in watch.requests]


@pytest.fixture(scope="module")
def hostile_api(site: Site, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile-docs")
    (folder / "sensornetz.md").write_text(HOSTILE_MD, encoding="utf-8")
    (folder / "parkraumsensoren.txt").write_text(HOSTILE_TXT, encoding="utf-8")
    # Markup in metadata reaches the sources list as titles (sentences with markup are never quoted).
    (folder / "manifest.yaml").write_text(
        "parkraumsensoren.txt:\n  title: \"Parkraumsensoren <img src=x onerror=alert(1)> Großdorf\"\n"
        "sensornetz.md:\n  title: \"Sensornetz <script>alert(1)</script> Kleinhausen\"\n", encoding="utf-8")
    index = tmp_path_factory.mktemp("hostile-index")
    services = make_services(index, embedder, allowed_origins=site.host_origin, rate_limit=0)
    report = services.pipeline().run([folder])
    assert not report.failed, report.failed
    services.store.reopen()
    with LiveServer(create_app(services, with_ui=False)) as api:
        site.targets["hostile"] = api.url
        yield api.url


def test_hostile_document_renders_inert(site: Site, hostile_api: str, context: Any) -> None:
    page, watch = open_page(context, site.host_origin + "/?to=hostile")
    texts = []
    for question, expected in HOSTILE_QUESTIONS.items():
        message = ask(page, question)
        assert message.locator(".err").count() == 0, message.inner_text()
        texts.append(message.inner_text())
        assert expected in texts[-1], texts[-1]
    # Markup that reaches the widget (here: the documents' titles) is shown literally, as text.
    literal = "\n".join(texts)
    assert "<img src=x onerror=alert(1)>" in literal and "<script>alert(1)</script>" in literal, literal
    shadow_html = page.evaluate("document.querySelector('[data-lotse-widget]').shadowRoot.innerHTML")
    assert "<img" not in shadow_html.replace("&lt;img", "") and "<script" not in shadow_html.replace("&lt;script", "")
    hrefs = [a.get_attribute("href") or "" for a in page.locator(".m.b a").all()]
    assert hrefs and all(h.startswith(hostile_api + "/documents/") for h in hrefs), hrefs
    page.wait_for_timeout(300)
    assert not watch.dialogs, watch.dialogs
    assert watch.hosts() == {"127.0.0.1"}, [r.url for r in watch.requests]
