"""The editors' page in a real browser: absent without LOTSE_EDITOR_TOKEN; with it, gradio's login in front of the
feedback table, which is usable (refresh, language, logout) and free of serious accessibility violations.

Both apps run over empty indexes: feedback needs no documents. Records are stored through the same
``FeedbackStore`` the chat's feedback buttons use (giving feedback in the chat is tested in test_ui.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assistant.feedback import FeedbackStore
from assistant.web.app import create_app
from tests.conftest import LiveServer, make_services

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "Redaktion-Browser-2026-5d1e8b"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
FIRST = "Wie lange dauert die Übergabe an die Linienorganisation?"
SECOND = "Gibt es Beispiele für Zweckverbände beim Plattformbetrieb?"


def _server(factory: pytest.TempPathFactory, embedder: Any, **settings: Any) -> Iterator[tuple[LiveServer, Any]]:
    services = make_services(factory.mktemp("editor-ui") / "index", embedder, rate_limit=0, **settings)
    FeedbackStore(services.store).add(question=FIRST, answer="…", rating="wrong_source", comment="Seite falsch")
    with LiveServer(create_app(services)) as server:
        yield server, services


@pytest.fixture(scope="module")
def without_token(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[tuple[LiveServer, Any]]:
    yield from _server(tmp_path_factory, embedder)


@pytest.fixture(scope="module")
def with_token(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[tuple[LiveServer, Any]]:
    yield from _server(tmp_path_factory, embedder, editor_token=TOKEN)


class Watch:
    """Dialogs, page errors and requests that leave 127.0.0.1: none are allowed."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("dialog", lambda d: (self.problems.append(f"dialog {d.message}"), d.dismiss()))
        page.on("pageerror", lambda e: self.problems.append(f"error {e}"))
        page.on(
            "request",
            lambda r: self.problems.append(f"request {r.url}")
            if r.url.startswith(("http:", "https:", "ws:", "wss:")) and urlsplit(r.url).hostname != "127.0.0.1"
            else None,
        )


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="de-DE")
    context.set_default_timeout(30_000)
    page = context.new_page()
    watch = Watch(page)
    yield page
    context.close()
    assert not watch.problems, watch.problems


def _tabs(page: Any) -> list[str]:
    return [t.strip() for t in page.get_by_role("tab").all_inner_texts()]


def test_without_token_there_is_no_editors_view(without_token: tuple[LiveServer, Any], page: Any) -> None:
    server, _ = without_token
    page.goto(server.url + "/ui/")
    page.get_by_role("tab", name="Verstetigungs-Check").wait_for()
    assert _tabs(page) == ["Fragen", "Verstetigungs-Check"]
    assert FIRST not in page.locator("body").inner_text()
    response = page.goto(server.url + "/redaktion/")
    assert response is not None and response.status == 404


def test_with_token_editors_log_in_and_review_feedback(with_token: tuple[LiveServer, Any], page: Any) -> None:
    server, services = with_token
    page.goto(server.url + "/ui/")
    page.get_by_role("tab", name="Verstetigungs-Check").wait_for()
    assert _tabs(page) == ["Fragen", "Verstetigungs-Check"]  # the public chat never shows feedback

    page.goto(server.url + "/redaktion/")
    page.get_by_text("Benutzername: redaktion").wait_for()  # our German hint above gradio's login form
    page.get_by_label("Benutzername").fill("redaktion")
    page.get_by_label("Passwort").fill("geraten-aber-falsch")
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_text("Falsche Anmeldedaten").wait_for()
    assert page.locator("#lotse-ed-table").count() == 0
    assert FIRST not in page.locator("body").inner_text()

    page.get_by_label("Benutzername").fill("redaktion")
    page.get_by_label("Passwort").fill(TOKEN)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("tab", name="Rückmeldungen").click()
    table = page.locator("#lotse-ed-table")
    table.locator("td", has_text=FIRST).wait_for()
    assert page.locator("h1").inner_text() == "Verstetigungslotse – Redaktion"
    assert _tabs(page) == ["Dokumente", "Hochladen", "Web-Quellen", "Offene Fragen", "Rückmeldungen"]
    assert "Quelle ist falsch" in table.inner_text() and "Seite falsch" in table.inner_text()
    assert table.locator("[data-rating=wrong_source]").inner_text() == "1"

    FeedbackStore(services.store).add(question=SECOND, answer="…", rating="helpful")
    page.locator("#lotse-ed-refresh").click()
    table.locator("td", has_text=SECOND).wait_for()
    assert table.locator("[data-rating=helpful]").inner_text() == "1"

    page.locator("#lotse-lang").get_by_text("English").click()
    table.get_by_text("User feedback").wait_for()
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.locator("#lotse-lang").get_by_text("Deutsch").click()
    table.get_by_text("Rückmeldungen der Nutzerinnen und Nutzer").wait_for()
    _assert_accessible(page)

    page.locator("#lotse-ed-logout").click()
    page.get_by_role("button", name="Anmelden").wait_for()
    assert page.request.get(server.url + "/redaktion/config").status == 401


def _assert_accessible(page: Any) -> None:
    if not AXE.is_file():
        pytest.fail("axe-core fehlt: `cd tests/browser && npm install --no-audit --no-fund` (make browser-deps).")
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; animation: none !important; }")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map(n => n.target)}))"""
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious
