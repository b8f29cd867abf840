"""The "Verstetigungs-Check" tab in a real browser: paste the weak sample plan (or upload it as a Word file), run
the check, see the traffic lights, the cited sources and the report downloads; nothing from the plan is rendered as
markup."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assistant.web.app import create_app
from tests.conftest import ROOT, LiveServer, make_services

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WEAK_PLAN = (ROOT / "examples" / "plans" / "plan-schwach.md").read_text(encoding="utf-8")
INJECTED = "\n\nDie jährlichen Folgekosten <img src=x onerror=alert(1)> <script>alert(2)</script> betragen 30.000 Euro.\n"
#: A check embeds a few dozen queries; on a busy CI machine that takes a while.
CHECK_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def server(corpus_index_dir: Path, tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    index = tmp_path_factory.mktemp("check-ui") / "index"
    shutil.copytree(corpus_index_dir, index, ignore=shutil.ignore_patterns("ingest.lock"))
    services = make_services(index, embedder, rate_limit=0)
    with LiveServer(create_app(services)) as live:
        yield live


def test_pasted_weak_plan_shows_red_lights_sources_and_downloads(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale="de-DE")
    context.set_default_timeout(30_000)
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    foreign: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: foreign.append(r.url)
        if r.url.startswith(("http:", "https:", "ws:", "wss:")) and urlsplit(r.url).hostname != "127.0.0.1"
        else None,
    )
    try:
        page.goto(server.url + "/ui/")
        page.get_by_role("tab", name="Verstetigungs-Check").click()
        page.locator("#lotse-check-text textarea").fill(WEAK_PLAN + INJECTED)
        page.locator("#lotse-check-run").click()

        overview = page.locator("#lotse-check-report .lotse-check-overview")
        overview.wait_for(timeout=CHECK_TIMEOUT_MS)
        for factor in ("finanzierung", "zustaendigkeiten"):
            row = overview.locator(f"tr[data-factor={factor}]")
            assert row.get_attribute("data-rating") == "rot"
            assert "rot" in row.locator(".lotse-light").inner_text()
            assert "kritisches Kriterium fehlt" in row.inner_text()
        assert overview.locator("tr[data-factor]").count() == 5

        finance = page.locator("#lotse-check-report section[data-factor=finanzierung]")
        assert "Fehlt: Finanzierungsquelle nach Förderende benannt (kritisch)." in finance.inner_text()
        sources = finance.locator(".lotse-check-source")
        assert sources.count() >= 3
        first = sources.first.inner_text()
        assert first.startswith("[1]") and "„" in first
        assert page.locator("#lotse-check-report").get_by_text("Literaturverzeichnis").count() == 1

        # Pasted Markdown is read like an indexed document: its markup is dropped, its words stay.
        assert "Die jährlichen Folgekosten betragen 30.000 Euro." in finance.inner_text()
        assert "onerror" not in page.locator("#lotse-check-report").inner_text()
        assert page.locator("#lotse-check-report img, #lotse-check-report script").count() == 0

        downloads = page.locator("#lotse-check-downloads")
        downloads.get_by_text(".docx").first.wait_for()
        assert "verstetigungs-check-Eingef" in downloads.inner_text() or ".md" in downloads.inner_text()
        page.screenshot(path="/tmp/ui-check.png", full_page=True)
    finally:
        context.close()
    assert not dialogs, dialogs
    assert not errors, errors
    assert not foreign, foreign


def test_uploaded_word_plan_is_checked_and_its_markup_stays_text(server: LiveServer, browser: Any, tmp_path: Path) -> None:
    from tests.check.test_ui_check import hostile_docx

    plan = tmp_path / "plan-mit-markup.docx"
    plan.write_bytes(hostile_docx())
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("dialog", lambda d: (problems.append(f"dialog {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: problems.append(f"error {e}"))
    try:
        page.goto(server.url + "/ui/")
        page.get_by_role("tab", name="Verstetigungs-Check").click()
        page.locator("#lotse-check-file input[type=file]").set_input_files(str(plan))
        page.locator("#lotse-check-file", has_text="plan-mit-markup").wait_for()  # gradio shows stem and suffix apart
        page.locator("#lotse-check-run").click()
        report = page.locator("#lotse-check-report")
        report.locator(".lotse-check-overview").wait_for(timeout=CHECK_TIMEOUT_MS)
        assert "Verstetigungs-Check: plan-mit-markup.docx" in report.locator("h2").first.inner_text()
        assert report.locator("tr[data-factor]").count() == 5
        assert "<img src=x onerror=alert(1)>" in report.inner_text()  # Word keeps it as text: shown as text
        assert report.locator("img, script, a[href^='javascript:' i]").count() == 0
        page.locator("#lotse-check-downloads").get_by_text(".docx").first.wait_for()
        # The uploaded file was read and deleted; the field is empty for the next plan.
        assert page.locator("#lotse-check-file", has_text="plan-mit-markup").count() == 0
        page.wait_for_timeout(300)  # give an injected handler the chance to fire
    finally:
        context.close()
    assert not problems, problems
