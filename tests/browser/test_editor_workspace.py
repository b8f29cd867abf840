"""The editors' page in Chromium: log in, upload a document with metadata, see its word account and chunks,
find it in the document list, erase it after confirming, and see the open questions.

The page calls the same service as /api/editor/ (tests/web/test_editor_api.py); here the browser's side.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.questions import QuestionLog
from assistant.web.app import create_app
from tests.browser.test_editor import _assert_accessible, page  # noqa: F401 - the page fixture
from tests.conftest import LiveServer, make_services

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "Redaktion-Werkstatt-2026-41c7e0"
GUIDE = """# Winterdienst der Sensorik

Die Streusalzsensoren in Beispielstadt wartet nach dem Förderende der Bauhof mit eigenem Personal.
Die Kosten von 12.000 Euro im Jahr trägt der Haushalt des Bauhofs.
"""
GAP = "Wie viele Einwohner hat der Mond?"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[tuple[LiveServer, Any]]:
    services = make_services(tmp_path_factory.mktemp("editor-work") / "index", embedder, rate_limit=0,
                             editor_token=TOKEN)
    QuestionLog.of(services.store, services.settings).add(GAP)
    with LiveServer(create_app(services)) as server:
        yield server, services


def test_upload_see_the_account_and_erase(served: tuple[LiveServer, Any], page: Any, tmp_path: Path) -> None:  # noqa: F811
    server, services = served
    page.goto(server.url + "/redaktion/")
    page.get_by_label("Benutzername").fill("redaktion")
    page.get_by_label("Passwort").fill(TOKEN)
    page.get_by_role("button", name="Anmelden").click()
    page.locator("#lotse-ed-docs").get_by_text("Noch keine Dokumente im Index.").wait_for()

    page.get_by_role("tab", name="Hochladen").click()
    file = tmp_path / "winterdienst.md"
    file.write_text(GUIDE, encoding="utf-8")
    page.locator("#lotse-ed-file input[type=file]").set_input_files(str(file))
    page.locator("#lotse-ed-file").get_by_text("winterdienst.md").wait_for()
    page.get_by_label("Titel").fill("Winterdienst Beispielstadt")
    page.get_by_label("Herausgeber").fill("Bauhof Beispielstadt")
    page.get_by_label("Jahr").fill("2024")
    page.locator("#lotse-ed-upload").click()
    page.locator("#lotse-ed-upload-status").get_by_text("Neu im Index: Winterdienst Beispielstadt").wait_for(
        timeout=120_000)
    view = page.locator("#lotse-ed-upload-view")
    view.get_by_text("Wortbilanz:").wait_for()
    assert "Bauhof mit eigenem Personal" in view.inner_text()
    [doc] = services.store.documents().values()
    assert (doc.title, doc.publisher, doc.year) == ("Winterdienst Beispielstadt", "Bauhof Beispielstadt", 2024)

    page.get_by_role("tab", name="Dokumente").click()
    table = page.locator("#lotse-ed-docs")
    table.get_by_text("Winterdienst Beispielstadt").wait_for()
    assert table.locator(f'tr[data-doc="{doc.doc_id}"]').count() == 1
    _assert_accessible(page)

    page.locator("#lotse-ed-doc input").click()
    page.get_by_role("option", name="Winterdienst Beispielstadt (winterdienst.md)").click()
    page.locator("#lotse-ed-erase").click()  # not yet confirmed: nothing happens to the document
    page.locator("#lotse-ed-doc-status").get_by_text("Bitte das Löschen zuerst bestätigen").wait_for()
    assert services.store.documents()
    page.get_by_label("Ja, dieses Dokument mit allen Abschnitten löschen").check()
    page.locator("#lotse-ed-erase").click()
    page.locator("#lotse-ed-doc-status").get_by_text("Gelöscht: Winterdienst Beispielstadt").wait_for()
    table.get_by_text("Noch keine Dokumente im Index.").wait_for()
    assert services.store.documents() == {}
    assert not services.store.chunks_of(doc.doc_id)

    page.get_by_role("tab", name="Offene Fragen").click()
    page.locator("#lotse-ed-questions").get_by_text(GAP).wait_for()
    page.locator("#lotse-lang").get_by_text("English").click()
    page.get_by_role("tab", name="Open questions").wait_for()
    page.locator("#lotse-ed-questions").get_by_text("Question (latest wording)").wait_for()
