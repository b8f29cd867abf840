"""The pieces behind the probe fixes, one by one (the whole server is in test_probe.py)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from datetime import datetime
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError, InputError, RateLimitError
from assistant.feedback import FeedbackStore
from assistant.secrets import hash_token, parse_hash, stored_hash, verify
from assistant.store import ChromaStore
from assistant.web.gradio_guard import EventSanitizer, UploadRegistry, file_refs
from assistant.web.security import BodyTimeout, BodyTooLarge, read_body
from assistant.web.ui.conversation import Turn, export_markdown

TOKEN = "Redaktion-2026-geheim-7f3a9c"


# --- editors' password ------------------------------------------------------------------------------------------
def test_password_is_kept_as_a_salted_hash_and_verified() -> None:
    stored = stored_hash(TOKEN)
    assert TOKEN not in stored and parse_hash(stored) is not None
    assert stored_hash(TOKEN) != stored, "salted: two hashes of one password differ"
    assert stored_hash(stored) == stored, "a configured hash is kept as it is"
    assert verify(TOKEN, stored) and not verify(TOKEN + "x", stored) and not verify("", stored)
    assert not verify(TOKEN, "scrypt$16$8$1$zz$zz") and parse_hash("scrypt$3$8$1$00$00") is None


def test_token_file_holds_the_password_or_its_hash(tmp_path: Path) -> None:
    plain, hashed, empty = tmp_path / "plain", tmp_path / "hashed", tmp_path / "empty"
    plain.write_text(f"\n{TOKEN}\n", encoding="utf-8")
    hashed.write_text(hash_token(TOKEN), encoding="utf-8")
    empty.write_text("\n", encoding="utf-8")
    assert Settings(editor_token_file=plain).validate_usable().editor_secret == TOKEN
    assert verify(TOKEN, Settings(editor_token_file=hashed).validate_usable().editor_secret or "")
    with pytest.raises(ConfigError, match="leer"):
        Settings(editor_token_file=empty).validate_usable()
    with pytest.raises(ConfigError, match="nicht lesbar"):
        Settings(editor_token_file=tmp_path / "missing").validate_usable()
    with pytest.raises(ConfigError, match="beide"):
        Settings(editor_token_file=plain, editor_token=TOKEN).validate_usable()
    bad = tmp_path / "bad"
    bad.write_text("scrypt$nonsense", encoding="utf-8")
    with pytest.raises(ConfigError, match="Hash"):
        Settings(editor_token_file=bad).validate_usable()


# --- request bodies ---------------------------------------------------------------------------------------------
def _run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine on a loop of its own (another test's loop may still be running in this thread)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _receiver(*messages: dict, then_wait: bool = True):  # type: ignore[no-untyped-def]
    queue = list(messages)

    async def receive():  # type: ignore[no-untyped-def]
        if queue:
            return queue.pop(0)
        if then_wait:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    return receive


def test_body_that_stops_arriving_times_out() -> None:
    receive = _receiver({"type": "http.request", "body": b'{"q', "more_body": True})
    started = time.monotonic()
    with pytest.raises(BodyTimeout):
        _run(read_body(receive, 1000, 0.3))
    assert time.monotonic() - started < 2


def test_body_limit_counts_chunks_and_complete_bodies_pass() -> None:
    chunks = [{"type": "http.request", "body": b"x" * 400, "more_body": True} for _ in range(3)]
    with pytest.raises(BodyTooLarge):
        _run(read_body(_receiver(*chunks), 1000, 5))
    whole = _receiver({"type": "http.request", "body": b"ab", "more_body": True},
                      {"type": "http.request", "body": b"c", "more_body": False})
    assert _run(read_body(whole, 1000, 5)) == b"abc"


# --- gradio guard pieces ----------------------------------------------------------------------------------------
def test_file_references_are_found_wherever_they_hide() -> None:
    data = ["text", [{"role": "user", "content": [{"type": "file", "file": {"path": "/etc/passwd"}}]}],
            {"nested": [{"url": "http://127.0.0.1/x"}]}, {"value": "no file"}]
    assert sorted(next(iter(r)) for r in file_refs(data)) == ["path", "url"]
    assert file_refs(["a", 1, None, {"b": [2]}]) == []


def test_error_events_lose_gradio_texts_and_keep_the_stream_shape() -> None:
    sanitizer = EventSanitizer()
    out = sanitizer.feed(b'event: error\ndata: {"error": "Cannot move /etc/passwd"}\n\nda', False)
    out += sanitizer.feed(b'ta: {"msg": "process_completed", "output": {"error": "/tmp/gradio/x"}}\n\n', False)
    out += sanitizer.feed(b'data: {"msg": "ok", "output": {"data": ["/tmp/kept"]}}\n\n', True)
    text = out.decode()
    assert "/etc/passwd" not in text and "/tmp/gradio/x" not in text
    assert text.count("Die Eingabe konnte nicht verarbeitet werden") == 2
    assert '"/tmp/kept"' in text, "only error texts are replaced"
    assert text.count("\n\n") == 3, "events stay separated"


def test_uploads_are_owned_bounded_and_expire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    registry = UploadRegistry(per_minute=3, client_bytes=100, total_bytes=150, ttl_s=0.5)
    upload = tmp_path / "abc" / "plan.md"
    upload.parent.mkdir()
    upload.write_bytes(b"x" * 60)
    outside = tmp_path.parent / "outside.md"
    outside.write_text("x", encoding="utf-8")
    assert registry.admit("a", 60) is None
    assert registry.admit("a", 50).status_code == 413, "an upload still arriving counts against the quota"
    registry.record("a", [str(upload), str(outside)])
    registry.release("a", 60)
    assert registry.owned_by("a", str(upload)) and not registry.owned_by("b", str(upload))
    assert not registry.owned_by("a", str(outside)), "never a file outside gradio's upload folder"
    assert registry.admit("a", 50).status_code == 413  # 60 + 50 over this client's 100
    assert registry.admit("b", 95).status_code == 503  # 60 + 95 over the total of 150
    for _ in range(3):
        assert registry.admit("b", 10) is None
        registry.release("b", 10)
    assert registry.admit("b", 10).status_code == 429  # the fourth upload of the minute
    time.sleep(0.6)
    registry.sweep()
    assert not upload.exists() and not registry.owned_by("a", str(upload)), "unconsumed uploads go after the TTL"


# --- feedback ---------------------------------------------------------------------------------------------------
def test_full_feedback_store_refuses_new_entries_and_keeps_the_old(tmp_path: Path) -> None:
    store = ChromaStore("test-model", 4, path=tmp_path / "chroma")
    feedback = FeedbackStore(store, retention_days=30, max_entries=3, max_chars=50)
    for i in range(3):
        feedback.add(question=f"Frage {i}", answer="Antwort", rating="helpful")
    with pytest.raises(RateLimitError, match="Speicher voll"):
        feedback.add(question="Flut", answer="Antwort", rating="helpful")
    with pytest.raises(InputError, match="zu lang"):
        FeedbackStore(store, max_chars=50).add(question="q", answer="a", rating="helpful", comment="x" * 51)
    assert sorted(r["question"] for r in feedback.recent()) == ["Frage 0", "Frage 1", "Frage 2"]


# --- export -----------------------------------------------------------------------------------------------------
def test_export_turns_links_in_the_question_into_text() -> None:
    from markdown_it import MarkdownIt

    turn = Turn(question="Siehe [hier](javascript:alert(1)), ![x](http://evil.example/p.png) und \\[y](javascript:z)"
                "\n[ref]: javascript:alert(2)\n[ref]", answer="Antwort [1] mit [Link](javascript:x)", mode="extractive")
    text = export_markdown([turn], "de", now=datetime(2026, 12, 4))
    tokens = MarkdownIt("commonmark").parse(text)
    inline = [child for t in tokens for child in (t.children or [])]
    assert not [c for c in inline if c.type in ("link_open", "image")], text
    rendered = MarkdownIt("commonmark").render(text)
    assert "javascript:alert(1)" in rendered and "<a " not in rendered and "<img" not in rendered
