"""The gradio web chat at /ui in a real browser (Debian chromium through Playwright).

Servers: the whole app (UI, API, documents) over a private copy of the shared corpus index, once without a
language model (extractive) and once against the scriptable fake OpenAI server; a third app over a tiny index
with a hostile document. Every page is watched for dialogs, page errors and requests that leave 127.0.0.1.
The answered chat page is saved to /tmp/ui-answer.png for a human look; more states go to
$LOTSE_SCREENSHOT_DIR when it is set.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assistant.errors import RateLimitError
from assistant.feedback import FeedbackStore
from assistant.web.app import create_app
from assistant.web.ui.texts import EXAMPLES, EXAMPLES_EN
from tests.conftest import LiveServer, make_services
from tests.support.fake_openai import FakeOpenAIServer, Reply

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT = Path("/tmp/ui-answer.png")
#: Read at import: the autouse fixture of tests/conftest.py clears LOTSE_* variables for each test.
SHOT_DIR = os.environ.get("LOTSE_SCREENSHOT_DIR")
FINANCE_Q = EXAMPLES[0]
DIN_Q = "Was regelt die DIN SPEC 91357?"

HOSTILE_TXT = """Betrieb des Sensornetzes Kleinhausen

Der Eigenbetrieb Stadtwerke Kleinhausen trägt die Betriebsverantwortung für das Sensornetz.

Die Betriebsverantwortung für das Sensornetz <img src=x onerror=alert(1)> liegt beim Eigenbetrieb Stadtwerke Kleinhausen.

Das jährliche Wartungsbudget des Sensornetzes <script>alert(1)</script> beträgt 40.000 Euro.

Mehr zum Sensornetz steht im [Betriebshandbuch](javascript:alert(1)) der Stadtwerke Kleinhausen.

Ein Foto des Sensornetzes: ![Sensor](http://evil.example/track.png) <img src="http://evil.example/pixel.gif">
"""
HOSTILE_MANIFEST = """{name}:
  title: "Sensornetz <img src=x onerror=alert(1)> <script>alert(1)</script> Kleinhausen"
"""
HOSTILE_Q = "Wer trägt die Betriebsverantwortung für das Sensornetz in Kleinhausen?"
HOSTILE_ANSWER = (
    "Die Betriebsverantwortung liegt beim Eigenbetrieb Stadtwerke Kleinhausen [1]. "
    "<img src=x onerror=alert(1)> <script>alert(2)</script> [Handbuch](javascript:alert(3)) "
    '![x](http://evil.example/answer.png) <a href="javascript:alert(4)">hier</a>'
)


# --- servers --------------------------------------------------------------------------------------------------
@dataclass
class App:
    server: LiveServer
    services: Any
    llm: FakeOpenAIServer | None = None

    @property
    def ui(self) -> str:
        return self.server.url + "/ui/"


def copy_index(source: Path, factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shared corpus index: the UI writes feedback into its index, and two embedded
    Chroma clients should not share one data directory."""
    target = factory.mktemp("ui-index") / "index"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("ingest.lock"))
    return target


@pytest.fixture(scope="module")
def app(corpus_index_dir: Path, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:  # type: ignore[no-untyped-def]
    services = make_services(copy_index(corpus_index_dir, tmp_path_factory), embedder, rate_limit=0)
    with LiveServer(create_app(services)) as server:
        yield App(server, services)


@pytest.fixture(scope="module")
def llm_app(corpus_index_dir: Path, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:  # type: ignore[no-untyped-def]
    with FakeOpenAIServer() as llm:
        services = make_services(
            copy_index(corpus_index_dir, tmp_path_factory),
            embedder,
            rate_limit=0,
            llm_base_url=llm.base_url,
            llm_model="fake-model",
            llm_max_retries=0,
        )
        with LiveServer(create_app(services)) as server:
            yield App(server, services, llm)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[App]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "docs"
    folder.mkdir()
    (folder / "sensornetz-kleinhausen.txt").write_text(HOSTILE_TXT, encoding="utf-8")
    # Markup in metadata reaches the sources panel as the title (sentences with markup are never quoted).
    (folder / "manifest.yaml").write_text(HOSTILE_MANIFEST.format(name="sensornetz-kleinhausen.txt"), encoding="utf-8")
    index = root / "index"
    with FakeOpenAIServer() as llm:
        services = make_services(
            index,
            embedder,
            rate_limit=0,
            llm_base_url=llm.base_url,
            llm_model="fake-model",
            llm_max_retries=0,
        )
        report = services.pipeline().run([folder])
        assert not report.failed, report.failed
        services.store.reopen()
        with LiveServer(create_app(services)) as server:
            yield App(server, services, llm)


# --- page helpers ---------------------------------------------------------------------------------------------
@dataclass
class Watch:
    """What the page must never do: open dialogs, throw, or contact anything but 127.0.0.1."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert not self.dialogs, f"dialog opened: {self.dialogs}"
        assert not self.foreign, f"requests left 127.0.0.1: {self.foreign}"
        assert not self.errors, f"page errors: {self.errors}"


@pytest.fixture
def context(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale="de-DE")
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


def open_ui(context: Any, app: App) -> tuple[Any, Watch]:
    page = context.new_page()
    watch = Watch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Any) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
            watch.foreign.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.goto(app.ui)
    page.locator("#lotse-question textarea").wait_for()
    page.get_by_text(re.compile(r"Dokumente? indexiert")).wait_for()
    return page, watch


def answered(page: Any, n: int) -> None:
    """Wait until the sources panel shows answer number ``n`` (the stream is complete then)."""
    page.locator(
        "#lotse-sources .lotse-answer-meta", has_text=re.compile(rf"(Antwort|Answer) {n}\b")
    ).wait_for()


def ask(page: Any, question: str, n: int = 1) -> None:
    page.locator("#lotse-question textarea").fill(question)
    page.locator("#lotse-ask").click()
    answered(page, n)


def new_conversation(page: Any) -> None:
    """Click "Neues Gespräch" and wait until the conversation is gone."""
    page.locator("#lotse-new").click()
    page.locator("#lotse-sources .lotse-muted", has_text="Hier erscheinen die Quellen").wait_for()


def bot_messages(page: Any) -> Any:
    return page.locator("#lotse-chat .message.bot")


def shot(page: Any, name: str) -> None:
    """Screenshot for a human look, only when $LOTSE_SCREENSHOT_DIR is set."""
    if SHOT_DIR:
        Path(SHOT_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOT_DIR) / f"ui-{name}.png"), full_page=True)


def sources(page: Any) -> list[str]:
    return page.locator("#lotse-sources .lotse-source").evaluate_all("els => els.map(e => e.dataset.source)")


# --- tests ----------------------------------------------------------------------------------------------------
def test_example_questions_are_answered_with_sources(app: App) -> None:
    """The first screen only offers questions the corpus answers (guards against retrieval changes)."""
    for question in EXAMPLES:
        result = app.services.chat.answer(question)
        assert not result.abstained and result.citations, question


def test_example_question_streams_cited_answer_with_sources(app: App, context: Any) -> None:
    page, watch = open_ui(context, app)
    shot(page, "first-screen")
    header = page.locator(".lotse-header")
    assert page.locator("h1").inner_text() == "Verstetigungslotse"
    assert "extraktiv, ohne Sprachmodell" in header.inner_text()
    docs = len(app.services.store.documents())
    assert f"{docs} Dokumente indexiert" in header.inner_text()
    assert "zuletzt aktualisiert" in header.inner_text()
    assert page.evaluate("document.documentElement.lang") == "de"

    page.get_by_text(FINANCE_Q).click()  # an example on the first screen
    answered(page, 1)
    answer = bot_messages(page).last.inner_text()
    assert "[1]" in answer and "extraktiv, ohne Sprachmodell" in answer, answer

    items = page.locator("#lotse-sources .lotse-source")
    assert items.count() >= 1
    first = items.first  # the card of the document that [1] quotes, with all its quotes
    assert re.match(r"\[1[,\]]", first.locator("h3").inner_text()), first.locator("h3").inner_text()
    assert first.locator(".lotse-quote").first.get_attribute("data-n") == "1"
    assert first.locator("blockquote").first.inner_text().strip("„“ \n")
    meta = first.locator(".lotse-meta").inner_text()
    assert re.search(r"\b20\d\d\b", meta), meta  # publisher · year · page · section
    link = first.locator("a.lotse-doc-link").first
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in (link.get_attribute("rel") or "")
    title = first.locator("h3").inner_text().split("] ", 1)[1]
    assert link.inner_text().startswith(f"„{title}“") and link.inner_text().endswith("öffnen (neuer Tab)")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    watch.check()


def test_citation_link_opens_document_at_page(app: App, context: Any) -> None:
    page, watch = open_ui(context, app)
    ask(page, DIN_Q)
    # The answer quotes one document twice (the glossary, [1] and [3]): one card with both quotes, each with
    # its own number and its own link to the passage; the numbers are those of the answer text.
    cited = app.services.chat.answer(DIN_Q).citations
    by_source: dict[str, list[Any]] = {}
    for c in cited:
        by_source.setdefault(c.source, []).append(c)
    twice = next((cs for cs in by_source.values() if len(cs) > 1), None)
    assert twice is not None, [(c.n, c.source) for c in cited]  # guards the corpus, not the UI
    cards = page.locator("#lotse-sources .lotse-source")
    assert cards.evaluate_all("els => els.map(e => e.dataset.source)") == list(by_source)  # one card each
    card = page.locator(f'#lotse-sources .lotse-source[data-source="{twice[0].source}"]')
    quotes = card.locator(".lotse-quote")
    assert quotes.evaluate_all("els => els.map(e => Number(e.dataset.n))") == [c.n for c in twice]
    if not card.is_visible():  # a supporting document: one click away
        page.locator("#lotse-sources details.lotse-more summary").click()
    for i, c in enumerate(twice):
        quote = quotes.nth(i)
        assert quote.is_visible()
        assert quote.locator(".lotse-quote-meta .lotse-n").inner_text() == f"[{c.n}]"
        assert quote.locator("blockquote").inner_text().split() == f"„{c.quote}“".split()
        assert quote.locator("a.lotse-doc-link").get_attribute("href") == c.url
    assert card.locator("h3").inner_text() == f"[{', '.join(str(c.n) for c in twice)}] {twice[0].title}"
    answer = bot_messages(page).last.inner_text()
    shown = page.locator("#lotse-sources .lotse-quote").evaluate_all("els => els.map(e => Number(e.dataset.n))")
    assert sorted(shown) == [c.n for c in cited] and all(f"[{c.n}]" in answer for c in cited), answer
    shot(page, "one-card-per-document")
    links = page.locator("#lotse-sources a.lotse-doc-link")
    hrefs = links.evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("/documents/") for h in hrefs), hrefs
    for href in hrefs:
        response = page.request.get(app.server.url + href.split("#")[0])
        assert response.status == 200, href
        kind = response.headers["content-type"]
        if kind.startswith("application/pdf"):
            assert response.body().startswith(b"%PDF")
            assert re.search(r"#page=\d+$", href), href  # PDFs open at the cited page
        else:  # Markdown/HTML/text: the reading view, scrolled to the marked quote
            assert kind.startswith("text/html") and "/ansicht?zitat=" in href and href.endswith("#zitat"), href
            assert '<mark id="zitat">' in response.text()
    # A reading view in the browser: the marked quote is on screen, the original file one click away.
    view = next((h for h in hrefs if "/ansicht" in h), None)
    if view is not None:
        reader = context.new_page()
        reader.goto(app.server.url + view)
        mark = reader.locator("mark#zitat")
        mark.wait_for()
        assert mark.is_visible() and mark.bounding_box() is not None
        assert reader.evaluate("() => { const r = document.querySelector('mark').getBoundingClientRect();"
                               " return r.top > -2 && r.top < window.innerHeight; }"), "scrolled to the quote"
        assert reader.get_by_role("link", name="Originaldatei").count() == 1
        reader.close()
    # A click opens the document in a new tab.
    with context.expect_page() as popup_info:
        links.first.click()
    popup = popup_info.value
    popup.wait_for_load_state("commit")
    assert urlsplit(popup.url).path == urlsplit(hrefs[0]).path
    popup.close()
    watch.check()


def test_feedback_is_stored_but_not_shown_to_visitors(app: App, context: Any) -> None:
    page, watch = open_ui(context, app)
    question = "Welche Betreibermodelle gibt es für eine Datenplattform?"
    page.locator("#lotse-question textarea").fill(question)
    page.locator("#lotse-question textarea").press("Enter")  # Enter sends
    answered(page, 1)
    page.locator("#lotse-fb-comment textarea").fill("Seitenangabe passt nicht zum Zitat.")
    page.locator("#lotse-fb-wrong-source").click()
    page.locator("#lotse-fb-status", has_text="Rückmeldung wurde gespeichert").wait_for()
    assert page.locator("#lotse-fb-comment textarea").input_value() == ""

    records = FeedbackStore(app.services.store).recent()
    mine = [r for r in records if r["question"] == question]
    assert len(mine) == 1, records
    assert mine[0]["rating"] == "wrong_source"
    assert mine[0]["comment"] == "Seitenangabe passt nicht zum Zitat."
    assert mine[0]["mode"] == "extractive" and mine[0]["sources"]

    # Editors read feedback at /redaktion/ behind a login (tests/browser/test_editor.py); /ui has no such view.
    tabs = page.get_by_role("tab").all_inner_texts()
    assert [t.strip() for t in tabs] == ["Fragen", "Verstetigungs-Check"], tabs
    assert page.locator("#lotse-ed-table").count() == 0
    watch.check()


def test_filter_narrows_sources(app: App, context: Any) -> None:
    page, watch = open_ui(context, app)
    question = "Was sollte vor dem Ende der Förderung geklärt sein?"
    ask(page, question)
    unfiltered = sources(page)
    assert any(not s.startswith("checkliste") for s in unfiltered), unfiltered

    new_conversation(page)
    page.locator("#lotse-filters").get_by_text("Filter: Erfolgsfaktor und Dokumenttyp").click()
    page.locator("#lotse-doctypes").get_by_label("Checkliste").check()
    ask(page, question)
    filtered = sources(page)
    assert filtered and all(s.startswith("checkliste") for s in filtered), filtered
    assert "Aktive Filter: Checkliste" in page.locator("#lotse-sources .lotse-answer-meta").inner_text()
    watch.check()


def test_export_and_new_conversation(app: App, context: Any) -> None:
    page, watch = open_ui(context, app)
    export = page.locator("#lotse-export")
    assert export.is_disabled()
    ask(page, FINANCE_Q, 1)
    ask(page, DIN_Q, 2)
    # textContent: supporting sources sit in a closed "Weitere Belege" disclosure, where innerText is empty.
    titles = page.locator("#lotse-sources .lotse-source h3").all_text_contents()
    with page.expect_download() as download_info:
        export.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".md")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("# Verstetigungslotse – Gespräch vom")
    assert FINANCE_Q in text and DIN_Q in text
    assert text.count("### Quellen") == 2
    for title in titles:
        assert title.split("] ", 1)[1] in text
    assert f"<{app.server.url}/documents/" in text  # absolute links that work outside the app
    # One entry per document, as in the panel (which shows the DIN answer): "[1, 3] Glossar" once, both quotes
    # below it.
    din_sources = text.rsplit("### Quellen", 1)[1]
    for title in titles:
        assert din_sources.count(f"- \\{title}") == 1, (title, din_sources)
    assert any(", " in title.split("]", 1)[0] for title in titles), titles

    new_conversation(page)
    page.get_by_text(EXAMPLES[1]).wait_for()  # the first screen is back
    assert bot_messages(page).count() == 0
    assert page.locator("#lotse-sources .lotse-source").count() == 0
    assert export.is_disabled()
    watch.check()


def test_language_toggle_and_english_question(app: App, context: Any) -> None:
    page, watch = open_ui(context, app)
    page.locator("#lotse-lang").get_by_text("English").click()
    page.get_by_label("Your question").wait_for()
    assert page.locator("#lotse-sources h2").inner_text() == "Sources"
    assert "extractive, without language model" in page.locator(".lotse-header").inner_text()
    page.wait_for_function("document.documentElement.lang === 'en'")
    # English all the way: the example questions and the check tab follow the switch.
    page.get_by_text(EXAMPLES_EN[0]).wait_for()
    assert page.get_by_text(EXAMPLES[0]).count() == 0
    page.get_by_role("tab", name="Plan check").click()
    page.get_by_role("button", name="Check plan").wait_for()
    assert "Upload your project plan" in page.locator("#lotse-check-intro").inner_text()
    page.get_by_role("tab", name="Ask").click()
    page.locator("#lotse-lang").get_by_text("Deutsch").click()
    page.get_by_label("Ihre Frage").wait_for()

    ask(page, "How do municipalities finance operations after the funding ends?")
    page.get_by_label("Your question").wait_for()  # an English question switches the labels
    assert "Answer mode: extractive" in page.locator("#lotse-sources .lotse-answer-meta").inner_text()
    shot(page, "english")
    watch.check()


def test_errors_are_shown_in_german(app: App, context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    page, watch = open_ui(context, app)
    page.locator("#lotse-ask").click()
    page.locator("#lotse-notice [role=alert]", has_text="Bitte eine Frage eingeben.").wait_for()

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise RateLimitError("Der Lotse ist gerade ausgelastet.", "busy")

    monkeypatch.setattr(app.services.chat, "stream", busy)
    page.locator("#lotse-question textarea").fill(FINANCE_Q)
    page.locator("#lotse-ask").click()
    page.locator("#lotse-notice [role=alert]", has_text="ausgelastet").wait_for()
    shot(page, "busy")
    assert "ausgelastet" in bot_messages(page).last.inner_text()
    assert page.locator("#lotse-question textarea").input_value() == FINANCE_Q  # nothing typed is lost
    watch.check()


def test_llm_answer_streams_and_fallback_is_visible(llm_app: App, context: Any) -> None:
    assert llm_app.llm is not None
    page, watch = open_ui(context, llm_app)
    assert "mit Sprachmodell" in page.locator(".lotse-header").inner_text()
    words = [
        "Kommunen ",
        "finanzieren ",
        "den ",
        "Betrieb ",
        "nach ",
        "Förderende ",
        "über ",
        "den ",
        "Haushalt ",
        "[1]",
        ". Schlusswort.",
    ]
    llm_app.llm.enqueue(Reply(chunks=words, delay_between_s=0.25))
    page.locator("#lotse-question textarea").fill(FINANCE_Q)
    page.locator("#lotse-ask").click()
    # Streaming: part of the answer is on screen while the rest is still coming.
    page.locator("#lotse-chat .message.bot", has_text="finanzieren").wait_for()
    assert "Schlusswort" not in bot_messages(page).last.inner_text()
    answered(page, 1)
    assert "Schlusswort" in bot_messages(page).last.inner_text()
    assert "mit Sprachmodell" in page.locator("#lotse-sources .lotse-answer-meta").inner_text()
    assert page.locator("#lotse-sources .lotse-source").count() >= 1

    new_conversation(page)
    llm_app.llm.enqueue(Reply(status=503))
    ask(page, DIN_Q)
    notice = page.locator("#lotse-notice [role=status]")
    assert "Stattdessen: wörtliche Auszüge aus den Quellen" in notice.inner_text()
    meta = page.locator("#lotse-sources .lotse-answer-meta").inner_text()
    assert "extraktiv, ohne Sprachmodell" in meta and "ausgefallen" in meta
    shot(page, "fallback")
    watch.check()


def test_hostile_answer_and_document_render_inert(hostile_app: App, context: Any) -> None:
    assert hostile_app.llm is not None
    page, watch = open_ui(context, hostile_app)
    hostile_app.llm.enqueue(Reply(text=HOSTILE_ANSWER))
    ask(page, HOSTILE_Q, 1)
    hostile_app.llm.enqueue(Reply(status=503))  # fallback: verbatim document sentences in chat and sources
    ask(page, "Wie hoch ist das Wartungsbudget des Sensornetzes und wo steht mehr dazu?", 2)
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    shot(page, "hostile")

    chat_text = page.locator("#lotse-chat").inner_text()
    assert "Stadtwerke Kleinhausen" in chat_text
    panel = page.locator("#lotse-sources").inner_text()
    assert "<script>alert(1)</script>" in panel or "<img src=x onerror=alert(1)>" in panel, panel
    for scope in ("#lotse-chat", "#lotse-sources"):
        assert page.locator(f"{scope} img").count() == 0
        assert page.locator(f"{scope} script").count() == 0
        assert page.locator(f"{scope} [onerror]").count() == 0
    assert page.locator("a[href^='javascript:' i]").count() == 0
    watch.check()


def test_no_serious_accessibility_violations(app: App, context: Any) -> None:
    if not AXE.is_file():
        pytest.fail(
            "axe-core fehlt: `cd tests/browser && npm install --no-audit --no-fund` (make browser-deps)."
        )
    page, watch = open_ui(context, app)
    ask(page, FINANCE_Q)
    # Measure final colours, not a button halfway through its enable transition.
    page.add_style_tag(
        content="*, *::before, *::after { transition: none !important; animation: none !important; }"
    )
    page.locator("#lotse-export:not([disabled])").wait_for()
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
             const r = await axe.run(document, {resultTypes: ['violations']});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 5).map(n => n.target)}));
           }"""
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    headings = page.locator("h1, h2, h3").evaluate_all("els => els.map(e => Number(e.tagName[1]))")
    assert headings[0] == 1 and all(b - a <= 1 for a, b in zip(headings, headings[1:], strict=False)), (
        headings
    )
    watch.check()
