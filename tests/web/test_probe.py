"""The December 2026 probe, replayed against a real `lotse serve` (uvicorn, gradio mounted as in production).

1. Anonymous file read through the public UI: a ``FileData`` path in any input of any function listed in
   ``/ui/config`` and ``/redaktion/config`` must bring back no file content and no path hint.
2. Half-sent request bodies must not lock other clients out; health reports saturation.
3. The web UI and the plan check count against the same per-client limit as the API.
4. Feedback cannot be flooded.
5. Anonymous uploads are bounded and only accepted where the page has an upload field.
Plus the low findings: forwarded host headers, raw error texts, the CDN-loaded /docs page.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.secrets import hash_token
from tests.conftest import ROOT, free_port, make_services
from tests.support.fake_openai import FakeOpenAIServer, Reply

pytestmark = pytest.mark.server

TOKEN = "Probe-Redaktion-2026-9c1e55aa"
QUESTION = "Wer übernimmt den Betrieb nach dem Förderende?"
GUIDE = """---
title: Testleitfaden Betrieb
---
# Betrieb nach dem Förderende

Den Betrieb nach dem Förderende übernimmt in der Regel der kommunale Eigenbetrieb auf Grundlage eines
Betreibermodells. Die Betriebskosten von 85.000 Euro im Jahr stehen im Haushalt des Tiefbauamts.
"""
PLAN = ("# Projektplan Parksensoren\n\nDie Betriebskosten von rund 85.000 Euro im Jahr trägt das Tiefbauamt aus "
        "seinem Haushalt. Die Stadtwerke betreiben die Sensoren auf Basis eines Dienstleistungsvertrags.\n")


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    canary: Path
    canary_text: str

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture(scope="module")
def probe_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    docs = tmp_path_factory.mktemp("probe-docs")
    (docs / "betrieb.md").write_text(GUIDE, encoding="utf-8")
    index = tmp_path_factory.mktemp("probe-index")
    services = make_services(index, embedder)
    assert not services.pipeline().run([docs]).failed
    services.store.reopen()
    return index


def _serve(tmp: Path, index: Path, **env: str) -> Served:
    """Start `lotse serve` exactly as `make run` does and wait until it answers."""
    port = free_port()
    canary_text = f"CANARY{uuid.uuid4().hex}"
    canary = tmp / "geheim" / "canary.txt"
    canary.parent.mkdir(parents=True, exist_ok=True)
    # Long enough to pass as a plan: a check that read it would quote it in its report.
    canary.write_text(f"Geheimer Plan {canary_text}. Die Betriebskosten {canary_text} trägt das Tiefbauamt aus "
                      f"seinem Haushalt, die Stadtwerke betreiben die Sensoren. {canary_text}\n", encoding="utf-8")
    token_file = tmp / "editor-token"
    token_file.write_text(hash_token(TOKEN) + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_", "FORWARDED_"))}
    full_env = base | {
        "PYTHONPATH": str(ROOT), "LOTSE_INDEX_DIR": str(index), "LOTSE_EDITOR_TOKEN_FILE": str(token_file),
        "GRADIO_TEMP_DIR": str(tmp / "gradio-tmp"), "LOTSE_CANARY_IN_ENV": canary_text,
    } | env
    log = tmp / f"serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port)],
                                cwd=tmp, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", proc, log, canary, canary_text)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"lotse serve exited with {proc.returncode}:\n{served.log_tail()}")
        try:
            if httpx.get(f"{served.url}/api/health", timeout=5).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"lotse serve did not start:\n{served.log_tail()}")
        time.sleep(0.3)


def _stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(20)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, probe_index: Path) -> Iterator[Served]:
    """Production defaults, except no rate limit (this server is probed with many calls)."""
    served = _serve(tmp_path_factory.mktemp("probe-open"), probe_index, LOTSE_RATE_LIMIT="0",
                    LOTSE_FEEDBACK_RATE_LIMIT="0", LOTSE_UPLOAD_RATE_LIMIT="0")
    yield served
    _stop(served)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, probe_index: Path) -> Iterator[tuple[Served, FakeOpenAIServer]]:
    """Small limits, and a slow fake LLM so that answers can be held in flight on purpose."""
    with FakeOpenAIServer() as llm:
        served = _serve(
            tmp_path_factory.mktemp("probe-limited"), probe_index,
            LOTSE_RATE_LIMIT="4", LOTSE_FEEDBACK_RATE_LIMIT="3", LOTSE_BODY_TIMEOUT_S="2",
            LOTSE_MAX_CONCURRENT_ANSWERS="1", LOTSE_MAX_WAITING_ANSWERS="1", LOTSE_ANSWER_WAIT_S="1",
            LOTSE_UPLOAD_RATE_LIMIT="2", LOTSE_UPLOAD_CLIENT_MB="1",
            LOTSE_LLM_BASE_URL=llm.base_url, LOTSE_LLM_MODEL=llm.models[0],
        )
        yield served, llm
        _stop(served)


# --- helpers ----------------------------------------------------------------------------------------------------
def _login(client: httpx.Client, url: str) -> None:
    r = client.post(f"{url}/redaktion/login", data={"username": "redaktion", "password": TOKEN})
    assert r.status_code == 200, r.text


def _config(client: httpx.Client, url: str, prefix: str) -> dict[str, Any]:
    r = client.get(f"{url}{prefix}/config")
    assert r.status_code == 200, r.text
    return r.json()


def _file_data(path: str) -> dict[str, Any]:
    return {"path": path, "url": None, "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}


def _events(client: httpx.Client, url: str) -> str:
    """The whole event stream of one call (bounded in time)."""
    with client.stream("GET", url, timeout=30) as r:
        return r.read().decode("utf-8", errors="replace")


def _call(client: httpx.Client, base: str, prefix: str, api_name: str, data: list[Any]) -> str:
    """POST /gradio_api/call/<name> and, when accepted, read its events: everything the client gets back."""
    r = client.post(f"{base}{prefix}/gradio_api/call/{api_name}", json={"data": data})
    out = r.text
    if r.status_code == 200 and "event_id" in r.json():
        out += _events(client, f"{base}{prefix}/gradio_api/call/{api_name}/{r.json()['event_id']}")
    return out


def _queue(client: httpx.Client, base: str, prefix: str, fn_index: int, data: list[Any]) -> str:
    """The browser's own route: POST /queue/join, then read /queue/data for the session."""
    session = uuid.uuid4().hex[:10]
    r = client.post(f"{base}{prefix}/gradio_api/queue/join",
                    json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None})
    out = r.text
    if r.status_code == 200:
        out += _events(client, f"{base}{prefix}/gradio_api/queue/data?session_hash={session}")
    return out


def _fn_index(client: httpx.Client, url: str, api_name: str) -> int:
    deps = _config(client, url, "/ui")["dependencies"]
    return next(i for i, d in enumerate(deps) if d.get("api_name") == api_name)


def _client(address: str) -> httpx.Client:
    """A client that connects from another loopback address: another client for the rate limits."""
    return httpx.Client(timeout=30, transport=httpx.HTTPTransport(local_address=address))


def _served_files(text: str) -> list[str]:
    """Every gradio file URL in a response."""
    found = []
    for part in text.split("file=")[1:]:
        found.append(part.split('"')[0].split("\\")[0])
    return found


# --- 1. no file read through any function -----------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["/ui", "/redaktion"])
def test_no_function_reads_a_file_it_was_not_given(server: Served, prefix: str) -> None:
    targets = [str(server.canary), "/proc/self/environ", "/etc/passwd", str(server.canary.parent)]
    with httpx.Client(timeout=30) as client:
        if prefix == "/redaktion":
            _login(client, server.url)
        config = _config(client, server.url, prefix)
        deps = [(i, d) for i, d in enumerate(config["dependencies"]) if d.get("backend_fn")]
        assert len(deps) >= (8 if prefix == "/ui" else 2), "the config lists the page's functions"
        replies: list[str] = []
        for fn_index, dep in deps:
            for target in targets:
                file = _file_data(target)
                # Every input slot at once, and the probe's chat-message form.
                data: list[Any] = [file for _ in dep["inputs"]] or [file]
                message = [{"role": "user", "content": [{"type": "file", "file": file}]}]
                replies.append(_queue(client, server.url, prefix, fn_index, data))
                replies.append(_queue(client, server.url, prefix, fn_index, [QUESTION, message, [], [], "de"]))
                if dep.get("api_name"):
                    replies.append(_call(client, server.url, prefix, dep["api_name"], data))
        everything = "\n".join(replies)
        assert server.canary_text not in everything
        assert "root:x:0:0" not in everything and "LOTSE_INDEX_DIR" not in everything
        for target in targets:
            assert target not in everything, f"path hint for {target}"
        for served_path in _served_files(everything):
            r = client.get(f"{server.url}{prefix}/gradio_api/file={served_path}")
            assert server.canary_text not in r.text and "root:x:0:0" not in r.text
        # The file routes themselves serve nothing outside gradio's upload folder.
        for target in targets:
            r = client.get(f"{server.url}{prefix}/gradio_api/file={target}")
            assert r.status_code in (403, 404) and server.canary_text not in r.text and "root:x" not in r.text
            assert target not in r.text
        assert client.get(f"{server.url}{prefix}/gradio_api/proxy=http://127.0.0.1:1/").status_code in (403, 404)
        # Encoded once more than the server decodes: the guard checks the path gradio would open.
        twice = client.get(f"{server.url}{prefix}/gradio_api/file=%252Fetc%252Fpasswd")
        assert twice.status_code in (403, 404) and "root:x" not in twice.text


def test_the_chat_still_answers_and_the_check_takes_its_own_upload(server: Served) -> None:
    """The guard refuses files, not work: a plain question is answered, an uploaded plan is checked."""
    with httpx.Client(timeout=60) as client:
        reply = _call(client, server.url, "/ui", "respond", [QUESTION, [], [], "de"])
        assert "Eigenbetrieb" in reply and "event: complete" in reply
        plan = server.canary.parent.parent / "plan.md"
        plan.write_text(PLAN, encoding="utf-8")
        up = client.post(f"{server.url}/ui/gradio_api/upload", files={"files": ("plan.md", plan.read_bytes())})
        assert up.status_code == 200, up.text
        path = up.json()[0]
        on_run = _fn_index(client, server.url, "on_run")
        # Named-call routes never carry uploads (they map names and positions differently); the page's route does.
        named = client.post(f"{server.url}/ui/gradio_api/call/on_run", json={"data": [_file_data(path), "", "", "de"]})
        assert named.status_code == 400
        report = _queue(client, server.url, "/ui", on_run, [_file_data(path), "", "", "de"])
        assert "Verstetigungs-Check: plan.md" in report
        assert not Path(path).exists(), "the upload is deleted once read"
        # The page's language reaches the report: English chosen, an English report.
        english = _call(client, server.url, "/ui", "on_run", [None, PLAN, "", "en"])
        assert "Plan check:" in english and "Verstetigungs-Check" not in english
        # Someone else (another client address) cannot use a path this client uploaded.
        up2 = client.post(f"{server.url}/ui/gradio_api/upload", files={"files": ("plan2.md", PLAN.encode() + b"2")})
        other = httpx.Client(timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.7"))
        with other:
            refused = other.post(f"{server.url}/ui/gradio_api/queue/join",
                                 json={"data": [_file_data(up2.json()[0]), "", "", "de"], "fn_index": on_run,
                                       "session_hash": "other"})
        assert refused.status_code == 400 and "Upload" in refused.json()["error"]
        # A body too deeply nested to walk is refused, not a server error.
        deep = client.post(f"{server.url}/ui/gradio_api/queue/join", content=b"[" * 100_000,
                           headers={"Content-Type": "application/json"})
        assert deep.status_code == 400


# --- 2. half-sent bodies ----------------------------------------------------------------------------------------
def _half_sent(url: str, path: str, source: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10, source_address=(source, 0))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: 200\r\n\r\n{{\"question\": \"Wer".encode())
    return sock


def test_half_sent_bodies_do_not_lock_others_out_and_time_out(limited: tuple[Served, FakeOpenAIServer]) -> None:
    served, llm = limited
    # Eighteen clients, each well within its own rate limit, each holding a body that stops after a few bytes.
    paths = ("/api/chat", "/api/ask", "/v1/chat/completions") * 6
    socks = [_half_sent(served.url, p, f"127.0.1.{i + 1}") for i, p in enumerate(paths)]
    try:
        time.sleep(0.5)
        health = httpx.get(f"{served.url}/api/health", timeout=10).json()
        assert health["status"] == "ready" and health["saturated"] is False
        llm.enqueue(Reply(text="Der Eigenbetrieb übernimmt den Betrieb [1]."))
        with _client("127.0.0.3") as other:
            r = other.post(f"{served.url}/api/ask", json={"question": QUESTION})
        assert r.status_code == 200, r.text
        started = time.monotonic()
        for sock in socks:
            sock.settimeout(10)
            head = sock.recv(4096).decode(errors="replace")
            assert head.startswith("HTTP/1.1 408"), head[:200]
        assert time.monotonic() - started < 8
    finally:
        for sock in socks:
            sock.close()


def test_health_reports_saturation(limited: tuple[Served, FakeOpenAIServer]) -> None:
    served, llm = limited
    llm.enqueue(Reply(text="Langsam [1].", delay_before_s=4))
    import threading

    def ask() -> None:
        with _client("127.0.0.4") as c:
            c.post(f"{served.url}/api/ask", json={"question": QUESTION})

    slow = threading.Thread(target=ask)
    slow.start()
    try:
        deadline = time.monotonic() + 3
        seen = None
        while time.monotonic() < deadline:
            seen = httpx.get(f"{served.url}/api/health", timeout=5).json()
            if seen["saturated"]:
                break
            time.sleep(0.1)
        assert seen is not None and seen["saturated"] is True and seen["status"] == "busy", seen
    finally:
        slow.join(30)
    assert httpx.get(f"{served.url}/api/health", timeout=5).json()["status"] == "ready"


# --- 3. one limit per client on every channel -------------------------------------------------------------------
def test_web_ui_and_check_share_the_api_limit(limited: tuple[Served, FakeOpenAIServer]) -> None:
    served, llm = limited
    transport = httpx.HTTPTransport(local_address="127.0.0.5")
    with httpx.Client(timeout=60, transport=transport) as client:
        replies = []
        for _ in range(3):
            llm.enqueue(Reply(text="Der Eigenbetrieb [1]."))
            replies.append(_call(client, served.url, "/ui", "respond", [QUESTION, [], [], "de"]))
        assert all("Zu viele Anfragen" not in r for r in replies)
        check = _call(client, served.url, "/ui", "on_run", [None, PLAN, "", "de"])
        assert "Verstetigungs-Check" in check  # the fourth request of the minute
        refused_ui = _call(client, served.url, "/ui", "respond", [QUESTION, [], [], "de"])
        assert "Zu viele Anfragen" in refused_ui
        refused_check = _call(client, served.url, "/ui", "on_run", [None, PLAN, "", "de"])
        assert "Zu viele Anfragen" in refused_check and "Erfolgsfaktor" not in refused_check
        api = client.post(f"{served.url}/api/ask", json={"question": QUESTION})
        assert api.status_code == 429 and api.json()["code"] == "rate_limited"


# --- 4. feedback ------------------------------------------------------------------------------------------------
def test_feedback_is_rate_limited_and_bounded(limited: tuple[Served, FakeOpenAIServer]) -> None:
    served, _ = limited
    transport = httpx.HTTPTransport(local_address="127.0.0.6")
    entry = {"question": QUESTION, "answer": "Antwort", "rating": "helpful"}
    with httpx.Client(timeout=30, transport=transport) as client:
        too_long = client.post(f"{served.url}/api/feedback", json=entry | {"comment": "x" * 25_000})
        assert too_long.status_code in (413, 422)
        codes = [client.post(f"{served.url}/api/feedback", json=entry).status_code for _ in range(5)]
    assert codes[:2] == [201, 201] and 429 in codes


# --- 5. uploads -------------------------------------------------------------------------------------------------
def test_uploads_are_bounded_and_only_where_the_page_has_an_upload_field(
    limited: tuple[Served, FakeOpenAIServer],
) -> None:
    served, _ = limited
    transport = httpx.HTTPTransport(local_address="127.0.0.8")
    with httpx.Client(timeout=30, transport=transport) as client:
        # The editors' page has no upload field: no upload, logged in or not.
        assert client.post(f"{served.url}/redaktion/gradio_api/upload",
                           files={"files": ("a.txt", b"x")}).status_code == 404
        big = b"A" * 700_000
        first = client.post(f"{served.url}/ui/gradio_api/upload", files={"files": ("a.md", big)})
        assert first.status_code == 200
        over_quota = client.post(f"{served.url}/ui/gradio_api/upload", files={"files": ("b.md", big)})
        assert over_quota.status_code == 413  # LOTSE_UPLOAD_CLIENT_MB=1: this client holds 0.7 MB already
        assert client.post(f"{served.url}/ui/gradio_api/upload", files={"files": ("c.md", b"klein")}).status_code == 200
        third = client.post(f"{served.url}/ui/gradio_api/upload", files={"files": ("d.md", b"klein")})
        assert third.status_code == 429  # the third upload of the minute (LOTSE_UPLOAD_RATE_LIMIT=2)


# --- the low findings -------------------------------------------------------------------------------------------
def test_forwarded_host_is_not_echoed_and_docs_need_no_cdn(server: Served) -> None:
    with httpx.Client(timeout=30) as client:
        config = client.get(f"{server.url}/ui/config", headers={"X-Forwarded-Host": "evil.example",
                                                               "X-Forwarded-Proto": "https"}).json()
        assert "evil.example" not in json.dumps(config) and config["root"].startswith("http://127.0.0.1")
        _login(client, server.url)
        logout = client.get(f"{server.url}/redaktion/logout", headers={"X-Forwarded-Host": "evil.example"},
                            follow_redirects=False)
        assert "evil.example" not in logout.headers.get("location", "")
        assert client.get(f"{server.url}/docs").status_code == 404
        assert "cdn" not in client.get(f"{server.url}/openapi.json").text.lower()


def test_gradio_error_events_carry_no_raw_text(server: Served) -> None:
    with httpx.Client(timeout=30) as client:
        reply = _call(client, server.url, "/ui", "respond", [QUESTION, ["/tmp/kein-faktor"], [], "de"])
    assert "event: error" in reply
    assert "/tmp/kein-faktor" not in reply and "list of choices" not in reply
    assert "Die Eingabe konnte nicht verarbeitet werden" in reply


def test_editor_login_uses_the_token_file_hash(server: Served) -> None:
    with httpx.Client(timeout=30) as client:
        wrong = client.post(f"{server.url}/redaktion/login", data={"username": "redaktion", "password": TOKEN + "x"})
        assert wrong.status_code >= 400
        _login(client, server.url)
        assert client.get(f"{server.url}/redaktion/config").status_code == 200
