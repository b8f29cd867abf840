"""The chat page as a user opens it (/ -> /ui/), checked with axe-core in Chromium, no rule disabled."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.web.app import create_app
from tests.conftest import LiveServer, make_services

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def server(
    corpus_index_dir: Path, embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    index = tmp_path_factory.mktemp("a11y-index") / "index"
    shutil.copytree(corpus_index_dir, index, ignore=shutil.ignore_patterns("ingest.lock"))
    with LiveServer(create_app(make_services(index, embedder, rate_limit=0))) as live:
        yield live


@pytest.fixture
def page(browser, server: LiveServer) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_chat_page_as_opened_has_no_accessibility_violations(page: Any, server: LiveServer) -> None:
    if not AXE.is_file():
        pytest.fail(
            "axe-core fehlt: `cd tests/browser && npm install --no-audit --no-fund` (make browser-deps)."
        )
    page.goto(server.url + "/")
    page.wait_for_url("**/ui/**")
    page.get_by_label("Ihre Frage").wait_for()
    page.get_by_role("button", name="Fragen", exact=True).wait_for()
    # Final colours, not a control halfway through a transition (no axe rule is disabled).
    page.add_style_tag(
        content="*, *::before, *::after { transition: none !important; animation: none !important; }"
    )
    page.wait_for_timeout(300)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
             const r = await axe.run(document, {resultTypes: ['violations']});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 5).map(n => [n.target, n.failureSummary])}));
           }"""
    )
    assert violations == [], violations
