"""Who may read the stored feedback: editors at /redaktion/ behind gradio's login (LOTSE_EDITOR_TOKEN), nobody else.

Apps over an empty index (feedback needs no documents): one without the setting, one with it. A stored feedback
record carries a marker; the tests look for that marker in everything a visitor can fetch.
"""

from __future__ import annotations

import concurrent.futures
import json
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from assistant.config import load_settings
from assistant.errors import ConfigError
from assistant.secrets import hash_token
from assistant.web.app import LOGIN_ATTEMPTS_PER_MINUTE, create_app
from assistant.web.ui.editor import editor_auth
from tests.conftest import make_services

TOKEN = "Redaktion-2026-geheim-7f3a9c"  # 28 characters
BASE = "http://127.0.0.1"
PUBLIC_HOST = "lotse.stadt.example"


def _store_marked_feedback(client: TestClient) -> str:
    marker = f"Wer betreibt die Parkplatz-App? {uuid.uuid4().hex[:8]}"
    r = client.post(
        "/api/feedback",
        json={"question": marker, "answer": "…", "rating": "not_helpful", "comment": f"Kommentar {marker}"},
    )
    assert r.status_code == 201, r.text
    return marker


@pytest.fixture(scope="module")
def open_app(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The whole app (UI included) without LOTSE_EDITOR_TOKEN."""
    services = make_services(tmp_path_factory.mktemp("editor-off"), embedder, rate_limit=0)
    with TestClient(create_app(services), base_url=BASE) as client:
        yield client


@pytest.fixture(scope="module")
def editor_app(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The whole app with LOTSE_EDITOR_TOKEN set."""
    services = make_services(
        tmp_path_factory.mktemp("editor-on"), embedder, rate_limit=0, editor_token=TOKEN, allowed_hosts=PUBLIC_HOST
    )
    with TestClient(create_app(services), base_url=BASE) as client:
        yield client


def _login(client: TestClient, password: str = TOKEN, user: str = "redaktion", peer: str = "127.0.0.9") -> Any:
    other = TestClient(client.app, base_url=BASE, client=(peer, 50001))
    return other, other.post("/redaktion/login", data={"username": user, "password": password})


def _gradio_call(client: TestClient, prefix: str, api_name: str, data: list[Any]) -> tuple[int, str]:
    """Call a gradio endpoint the way any HTTP client can (POST, then read the event stream)."""
    r = client.post(f"{prefix}/gradio_api/call/{api_name}", json={"data": data})
    if r.status_code != 200:
        return r.status_code, r.text
    event_id = r.json()["event_id"]
    r = client.get(f"{prefix}/gradio_api/call/{api_name}/{event_id}")
    return r.status_code, r.text


def _every_get_route(client: TestClient) -> dict[str, Any]:
    """Every parameterless GET route of the API (from its OpenAPI schema), the pages outside the schema, and the
    public gradio app's config and API info."""
    schema = client.get("/openapi.json").json()["paths"]
    paths = [path for path, methods in schema.items() if "get" in methods and "{" not in path]
    assert "/api/health" in paths, paths
    paths += ["/openapi.json", "/docs", "/", "/widget.js", "/ui/config", "/ui/gradio_api/info", "/ui/",
              "/redaktion/", "/redaktion/config"]
    return {path: client.get(path) for path in paths}


# --- without the setting ---------------------------------------------------------------------------------------
def test_without_token_nobody_can_read_feedback(open_app: TestClient) -> None:
    marker = _store_marked_feedback(open_app)
    services = open_app.app.state.services  # type: ignore[attr-defined]
    from assistant.feedback import FeedbackStore

    assert any(r["question"] == marker for r in FeedbackStore(services.store).recent())  # it was stored

    responses = _every_get_route(open_app)
    for path, response in responses.items():
        assert marker not in response.text, path
    assert responses["/redaktion/"].status_code == 404
    assert responses["/redaktion/config"].status_code == 404

    # The public chat has no editors' view: no tab, no table, no endpoint that could fill one.
    config = responses["/ui/config"].json()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    labels = {c.get("props", {}).get("label") for c in config["components"]}
    assert "lotse-ed-table" not in ids and "Rückmeldungen" not in labels, labels
    assert "Fragen" in labels  # the inspection itself works
    # The API offers no way to list feedback: only POST exists.
    assert open_app.get("/api/feedback").status_code == 405
    paths = open_app.get("/openapi.json").json()["paths"]
    assert set(paths["/api/feedback"]) == {"post"}


def test_short_or_blank_token_is_refused_or_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTSE_EDITOR_TOKEN", "kurz")
    with pytest.raises(ConfigError, match="LOTSE_EDITOR_TOKEN ist zu kurz") as caught:
        load_settings()
    assert "secrets.token_urlsafe" in str(caught.value)
    monkeypatch.setenv("LOTSE_EDITOR_TOKEN", "   ")
    assert load_settings().editor_secret is None  # blank means off
    monkeypatch.setenv("LOTSE_EDITOR_TOKEN", TOKEN)
    assert load_settings().editor_secret == TOKEN
    assert TOKEN not in repr(load_settings())  # a SecretStr: never printed in logs or tracebacks


def test_editor_auth_compares_user_and_token() -> None:
    async_check = editor_auth(hash_token(TOKEN))

    def check(user: str, password: str) -> bool:
        # A loop of its own in a thread: a session-wide browser fixture may keep a loop running in this one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return bool(pool.submit(anyio.run, async_check, user, password).result())

    assert check("redaktion", TOKEN) and check(" Redaktion ", TOKEN)
    for user, password in [("redaktion", TOKEN[:-1]), ("redaktion", TOKEN + "x"), ("redaktion", ""),
                           ("admin", TOKEN), ("", TOKEN), ("redaktion", TOKEN.upper())]:
        assert not check(user, password), (user, password)


# --- with the setting --------------------------------------------------------------------------------------------
def test_editors_page_needs_login(editor_app: TestClient) -> None:
    marker = _store_marked_feedback(editor_app)
    for path, response in _every_get_route(editor_app).items():
        assert marker not in response.text, path

    page = editor_app.get("/redaktion/")
    assert page.status_code == 200  # gradio's login form
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    for path in ("/redaktion/config", "/redaktion/gradio_api/info"):
        r = editor_app.get(path)
        assert r.status_code == 401, path
        assert "Benutzername: redaktion" in r.json()["detail"]["auth_message"]
    assert _gradio_call(editor_app, "/redaktion", "rueckmeldungen", ["de"])[0] == 401

    for user, password in (("redaktion", "falsch-falsch-falsch"), ("admin", TOKEN)):
        client, r = _login(editor_app, password, user)
        assert r.status_code == 400
        assert client.get("/redaktion/config").status_code == 401

    client, r = _login(editor_app)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert "lotse-ed-table" in client.get("/redaktion/config").text
    status, stream = _gradio_call(client, "/redaktion", "rueckmeldungen", ["de"])
    assert status == 200 and "event: complete" in stream, stream
    data = json.loads(stream.split("event: complete\ndata: ", 1)[1].split("\n", 1)[0])
    assert marker in data[0] and "Nicht hilfreich" in data[0]

    # The public chat stays without the editors' view even when the editors' page exists.
    ids = {c.get("props", {}).get("elem_id") for c in client.get("/ui/config").json()["components"]}
    assert "lotse-ed-table" not in ids

    client.get("/redaktion/logout", follow_redirects=False)
    assert client.get("/redaktion/config").status_code == 401


def test_other_websites_cannot_read_the_editors_page_through_an_editors_browser(editor_app: TestClient) -> None:
    """gradio grants any origin credentialed CORS on a non-localhost host; its login cookie is SameSite=None."""
    client, r = _login(editor_app, peer="127.0.0.12")
    assert r.status_code == 200
    foreign = {"Host": PUBLIC_HOST, "Origin": "https://evil.example"}
    reads = {
        "config": client.get("/redaktion/config", headers=foreign),
        "preflight": client.options(
            "/redaktion/gradio_api/call/rueckmeldungen",
            headers=foreign | {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        ),
        "ui": client.get("/ui/config", headers=foreign),
    }
    assert reads["config"].status_code == 200  # the cookie is valid: only CORS keeps the page from reading it
    for what, response in reads.items():
        granted = {k for k in response.headers if k.lower().startswith("access-control-")}
        assert not granted, (what, granted)
    # The public API keeps its own allow-list semantics (empty list: no foreign origin).
    assert editor_app.get("/api/health", headers=foreign).status_code == 403


def test_login_attempts_are_rate_limited_per_client(editor_app: TestClient) -> None:
    peer = "127.0.0.10"
    for _ in range(LOGIN_ATTEMPTS_PER_MINUTE):
        assert _login(editor_app, "geraten-geraten-1234", peer=peer)[1].status_code == 400
    client, r = _login(editor_app, peer=peer)  # even the right password: guessing has to stop
    assert r.status_code == 429
    assert "Zu viele Anfragen" in r.json()["error"] and int(r.headers["retry-after"]) >= 1
    assert client.get("/redaktion/config").status_code == 401
    assert _login(editor_app, peer="127.0.0.11")[1].status_code == 200  # others are not locked out
