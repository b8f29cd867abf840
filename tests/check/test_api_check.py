"""POST /api/check: the Verstetigungs-Check over HTTP, as an integration would call it (JSON in, the `lotse check`
contract out), its German errors, and its bound on parallel checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import assistant.check
from assistant.types import FACTORS
from assistant.web import api
from assistant.web.app import create_app
from tests.check.conftest import PLANS
from tests.check.test_report import CONTRACT_CITATION_KEYS, REF

pytestmark = pytest.mark.slow

WEAK = (PLANS / "plan-schwach.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def client(corpus_services) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(corpus_services, with_ui=False), base_url="http://127.0.0.1") as c:
        yield c


def test_weak_plan_over_http_is_rated_and_cited(client: TestClient, corpus_services) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/check", json={"plan": WEAK, "topics": ["Anschlussfinanzierung"]})
    assert r.status_code == 200, r.text
    body = r.json()
    sentences = {s.text for s in assistant.check.plan_from_text(WEAK).sentences}
    assert [f["factor"] for f in body["factors"]] == list(FACTORS)
    ratings = {f["factor"]: f["rating"] for f in body["factors"]}
    assert ratings["finanzierung"] == ratings["zustaendigkeiten"] == "rot", ratings
    assert set(ratings.values()) <= {"gruen", "gelb", "rot"}
    for f in body["factors"]:
        assert {"factor", "rating", "found", "gaps", "steps", "citations"} <= set(f)
        numbers = {c["n"] for c in f["citations"]}
        for statement in f["gaps"] + f["steps"]:
            assert {int(n) for n in REF.findall(statement)} <= numbers and REF.search(statement), statement
        assert set(f["found"]) <= sentences  # quotes from the plan, verbatim
        for c in f["citations"]:
            assert set(c) >= CONTRACT_CITATION_KEYS
    assert [b["topic"] for b in body["blocks"]] == ["Anschlussfinanzierung"]
    assert body["bibliography"] and body["plan"]["name"] == "Eingefügter Text"

    # Every quote is verbatim in a live chunk of the cited document, on the cited page and section.
    store = corpus_services.store
    doc_ids = {record.source: doc_id for doc_id, record in store.documents().items()}
    cited = [c for f in body["factors"] for c in f["citations"]] + [c for b in body["blocks"] for c in b["citations"]]
    assert cited
    for c in cited:
        chunks = store.chunks_of(doc_ids[c["source"]])
        assert any(c["quote"] in ch.text and ch.page == c["page"] and ch.section == c["section"] for ch in chunks), c


def test_lang_en_gives_the_same_findings_in_english(client: TestClient) -> None:
    german = client.post("/api/check", json={"plan": WEAK}).json()
    r = client.post("/api/check", json={"plan": WEAK, "lang": "en"})
    assert r.status_code == 200, r.text
    english = r.json()
    assert german["lang"] == "de" and english["lang"] == "en"
    assert [f["rating"] for f in english["factors"]] == [f["rating"] for f in german["factors"]]
    assert english["factors"][4]["label"] == "Secured funding" and english["factors"][4]["rating_label"] == "red"
    assert client.post("/api/check", json={"plan": WEAK, "lang": "fr"}).status_code == 422


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"plan": "Zu kurz."}, 400, "zu wenig Text"),
        ({"plan": "   "}, 400, "Bitte einen Projektplan einfügen"),
        ({"plan": WEAK, "index": "alle"}, 422, "unbekannte Felder"),
        ({"plan": "x" * 60_001}, 422, "Ungültige Anfrage"),
        ({"plan": WEAK, "topics": ["a", "b", "c", "d"]}, 422, "Felder prüfen (topics)"),
    ],
)
def test_bad_plans_get_german_errors_before_any_work(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any], status: int, fragment: str
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(assistant.check, "run_check", lambda *a, **k: calls.append(a))
    r = client.post("/api/check", json=body)
    assert r.status_code == status, r.text
    assert fragment.lower() in r.json()["error"].lower()
    assert calls == []


def test_parallel_checks_are_bounded_and_the_rest_told_to_wait(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    running: list[int] = []

    class Report:
        def to_contract(self) -> dict[str, Any]:
            return {"factors": []}

    def slow_check(*args: Any, **kwargs: Any) -> Report:
        running.append(1)
        release.wait(timeout=60)
        return Report()

    monkeypatch.setattr(assistant.check, "run_check", slow_check)
    monkeypatch.setattr(api, "CHECK_SLOT_WAIT_S", 0.2)  # read when the route is called
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(client.post("/api/check", json={"plan": WEAK}).status_code))
        for _ in range(api.CHECK_CONCURRENCY)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(running) < api.CHECK_CONCURRENCY:
        assert time.monotonic() < deadline, "the checks did not start"
        time.sleep(0.02)
    try:
        r = client.post("/api/check", json={"plan": WEAK})
        assert r.status_code == 429 and "ausgelastet" in r.json()["error"], r.text
        assert int(r.headers["retry-after"]) >= 1
    finally:
        release.set()
        for t in threads:
            t.join(timeout=60)
    assert results == [200] * api.CHECK_CONCURRENCY
    assert client.post("/api/check", json={"plan": WEAK}).status_code == 200  # slots were given back
