"""The editors' API against real `lotse serve` processes: two app processes on one `chroma run` server, sharing
the index folder as replicas behind a load balancer do.

Upload through one process, answer from the other; erase through the first and the second stops citing the
document within its refresh interval. Bad uploads are refused with a clear message and leave the index as it
was; the bearer token is checked before any body is read, and guessing it is rate-limited per client.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.test_server_mode import start_chroma
from tests.web.test_probe import TOKEN, Served, _serve, _stop

pytestmark = pytest.mark.server

GUIDE = """---
title: Parkraumsensorik Musterhausen
---
# Betrieb der Parkraumsensoren

Die Parkraumsensoren in Musterhausen betreibt nach dem Förderende der städtische Eigenbetrieb Stadtgrün.
Die Wartung der Sensoren übernimmt der Eigenbetrieb Stadtgrün mit zwei eigenen Technikern.
"""
QUESTION = "Wer betreibt die Parkraumsensoren in Musterhausen nach dem Förderende?"
OUT_OF_SCOPE = "Wie viele Einwohner hat der Mond im Jahr 1850?"
KEYS = {"id", "source", "title", "publisher", "year", "doc_type", "topics", "pages", "chunks", "words_indexed",
        "words_removed", "warnings", "updated_at"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served, Path]]:
    """Two `lotse serve` processes on one Chroma server and one shared index folder."""
    tmp = tmp_path_factory.mktemp("editor-api")
    port = free_port()
    chroma = start_chroma(tmp / "chroma-server", port)
    index = tmp / "index"
    env = {"LOTSE_CHROMA_URL": f"http://127.0.0.1:{port}", "LOTSE_RATE_LIMIT": "0", "LOTSE_MAX_FILE_MB": "1"}
    first = second = None
    try:
        first = _serve(tmp / "a", index, **env)
        second = _serve(tmp / "b", index, **env)
        yield first, second, index
    finally:
        for served in (first, second):
            if served is not None:
                _stop(served)
        chroma.terminate()
        chroma.wait(10)


def _documents(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    r = client.get(f"{url}/api/editor/documents", headers=AUTH)
    assert r.status_code == 200, r.text
    return list(r.json()["documents"])


def _cites(client: httpx.Client, url: str, title: str) -> bool:
    r = client.post(f"{url}/api/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    return any(c.get("title") == title for c in r.json()["citations"])


def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("geheim")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_upload_answer_elsewhere_then_erase_everywhere(replicas: tuple[Served, Served, Path]) -> None:
    a, b, index = replicas
    with httpx.Client(timeout=120) as client:
        r = client.post(f"{a.url}/api/editor/documents", headers=AUTH,
                        files={"file": ("Parkraum Sensoren.md", GUIDE.encode())},
                        data={"publisher": "Stadt Musterhausen", "year": "2025", "topics": "betrieb, sensorik"})
        assert r.status_code == 201, r.text
        doc = r.json()["document"]
        assert set(doc) >= KEYS and doc["title"] == "Parkraumsensorik Musterhausen"
        assert doc["publisher"] == "Stadt Musterhausen" and doc["year"] == 2025
        assert doc["topics"] == ["betrieb", "sensorik"] and doc["chunks"] >= 1 and doc["words_indexed"] > 20

        # The other process lists it and answers from it (shared Chroma server, shared document copies).
        listed = {d["id"]: d for d in _documents(client, b.url)}
        assert doc["id"] in listed and set(listed[doc["id"]]) >= KEYS
        assert _cites(client, b.url, doc["title"])
        assert client.get(f"{b.url}/documents/{doc['id']}").status_code == 200

        shown = client.get(f"{b.url}/api/editor/documents/{doc['id']}", headers=AUTH).json()["document"]
        assert any("Eigenbetrieb Stadtgrün" in c["text"] for c in shown["chunk_texts"])
        assert shown["account"]["words_indexed"] == doc["words_indexed"]

        patched = client.patch(f"{a.url}/api/editor/documents/{doc['id']}", headers=AUTH,
                               json={"doc_type": "leitfaden"})
        assert patched.status_code == 200 and patched.json()["document"]["doc_type"] == "leitfaden"
        again = client.post(f"{b.url}/api/editor/documents/{doc['id']}/reindex", headers=AUTH)
        assert again.status_code == 200 and again.json()["document"]["chunks"] == doc["chunks"]

        gone = client.delete(f"{a.url}/api/editor/documents/{doc['id']}", headers=AUTH)
        assert gone.status_code == 200, gone.text
        erased = gone.json()
        assert erased["verified"] is True and all(erased["checks"].values()), erased
        assert not list((index / "files").glob("*.md")) and not (index / "uploads" / doc["source"]).exists()
        # The other process: the registry is shared at once; its own lexical index within its refresh interval.
        deadline = time.monotonic() + erased["other_processes_within_s"] + 1.0
        while _cites(client, b.url, doc["title"]):
            assert time.monotonic() < deadline, "the second process still cites the erased document"
            time.sleep(0.3)
        assert doc["id"] not in {d["id"] for d in _documents(client, b.url)}
        assert client.get(f"{b.url}/documents/{doc['id']}").status_code == 404
        assert client.delete(f"{b.url}/api/editor/documents/{doc['id']}", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("leer.txt", b"", 422, "no_text"),
        ("leer.md", b"  \n\n ", 422, "no_text"),
        ("bericht.pdf", b"PK\x03\x04" + b"\x00" * 200, 415, "unsupported_format"),  # an Office file renamed
        ("bericht.pdf", b"Nur ein Text, der sich als PDF ausgibt.", 415, "unsupported_format"),
        ("programm.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 100, 415, "unsupported_format"),
        ("kaputt.pdf", b"%PDF-1.7\n1 0 obj <<\n" + b"\x13" * 300, 422, None),
        ("gesperrt.pdf", None, 422, "encrypted"),
        ("gross.txt", b"Wort " * 250_000, 413, None),  # 1.25 MB over LOTSE_MAX_FILE_MB=1
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(
    replicas: tuple[Served, Served, Path], name: str, data: bytes | None, status: int, code: str | None
) -> None:
    a, _, index = replicas
    payload = _encrypted_pdf() if data is None else data
    with httpx.Client(timeout=120) as client:
        before = _documents(client, a.url)
        uploads_before = sorted(p.name for p in (index / "uploads").glob("*")) if (index / "uploads").exists() else []
        r = client.post(f"{a.url}/api/editor/documents", headers=AUTH, files={"file": (name, payload)})
        assert r.status_code == status, r.text
        body = r.json()
        assert body["error"] and body["error_en"] and body["error"] != body["error_en"]
        if code is not None:
            assert body["code"] == code
        assert _documents(client, a.url) == before
        uploads_after = sorted(p.name for p in (index / "uploads").glob("*")) if (index / "uploads").exists() else []
        assert uploads_after == uploads_before


def test_the_token_is_checked_before_the_body_and_guessing_is_limited(replicas: tuple[Served, Served, Path]) -> None:
    a, _, _ = replicas
    transport = httpx.HTTPTransport(local_address="127.0.0.6")
    with httpx.Client(timeout=60, transport=transport) as client:
        anonymous = client.get(f"{a.url}/api/editor/documents")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
        assert "Authorization" in anonymous.json()["error"] and anonymous.json()["error_en"]
        # 3 MB without a token: refused as unauthenticated (not read, so not 'too large'); public bodies stay small.
        big = client.post(f"{a.url}/api/editor/documents", files={"file": ("x.txt", b"a" * 3_000_000)})
        assert big.status_code == 401
        assert client.post(f"{a.url}/api/ask", content=b"{" + b" " * 300_000 + b"}",
                           headers={"Content-Type": "application/json"}).status_code == 413
        # From another website: refused even with the token.
        foreign = client.get(f"{a.url}/api/editor/documents", headers=AUTH | {"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and "access-control-allow-origin" not in foreign.headers
        codes = [client.get(f"{a.url}/api/editor/documents", headers={"Authorization": f"Bearer falsch-{i}"}).status_code
                 for i in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        # The right token from this client waits too (it would otherwise confirm a guess) ...
        assert client.get(f"{a.url}/api/editor/documents", headers=AUTH).status_code == 429
    # ... while another client with the right token is served.
    with httpx.Client(timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.7")) as other:
        assert other.get(f"{a.url}/api/editor/documents", headers=AUTH).status_code == 200


def test_unanswered_questions_are_shared_grouped_and_anonymous(replicas: tuple[Served, Served, Path]) -> None:
    a, b, _ = replicas
    with httpx.Client(timeout=120) as client:
        for question in (OUT_OF_SCOPE, "Wie viele Einwohner hatte der Mond 1850?"):
            r = client.post(f"{a.url}/api/ask", json={"question": question},
                            headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "Tester/1.0"})
            assert r.status_code == 200 and r.json()["abstained"], r.text
        gaps = client.get(f"{b.url}/api/editor/questions", headers=AUTH)
        assert gaps.status_code == 200, gaps.text
        body = gaps.json()
        assert body["log_enabled"] is True and body["retention_days"] == 90
        moon = [g for g in body["questions"] if "Mond" in g["question"]]
        assert len(moon) == 1 and moon[0]["count"] == 2 and moon[0]["reasons"] == {"abstained": 2}
        assert moon[0]["last_at"]
        text = gaps.text
        assert "203.0.113.9" not in text and "127.0.0.1" not in text and "Tester" not in text
