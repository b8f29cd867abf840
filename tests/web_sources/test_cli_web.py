"""`lotse ingest URL` and `lotse sync` as scripts call them: the folder JSON contract plus a `web` key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.web_sources.site import Route, TestSite, page

pytestmark = pytest.mark.slow


def lotse(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))}
    env.update(PYTHONPATH=str(ROOT), LOTSE_WEB_DELAY_S="0", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        s.routes["/"] = Route(
            page(
                "Start",
                "<p>Die Plattform sammelt Erfahrungen aus kommunalen Pilotprojekten.</p>",
                '<a href="/wissen.html">Wissen</a><a href="/kaputt.html">Kaputt</a>',
            )
        )
        s.routes["/wissen.html"] = Route(
            page("Wissen", "<p>Ein Betreibermodell klärt, wer den Dienst dauerhaft betreibt und bezahlt.</p>")
        )
        yield s


def test_ingest_url_then_sync_json(site: TestSite, tmp_path: Path) -> None:
    allow = {"LOTSE_WEB_ALLOW_PRIVATE": "true"}
    index = str(tmp_path / "index")
    first = lotse("ingest", site.url + "/", "--index", index, "--json", env_extra=allow)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["added"] == 2 and out["removed"] == 0
    assert sorted(out["details"]["added"]) == [site.url + "/", site.url + "/wissen.html"]
    assert out["web"][0]["source"] == site.url + "/" and out["web"][0]["mode"] == "start_page"
    assert [f["path"] for f in out["failed"]] == []  # a 404 link is gone, not a failure
    assert sorted(out["web"][0]["gone"]) == [
        site.url + "/kaputt.html",
        site.url + "/leitfaden.html",
    ]  # nav link

    site.routes["/wissen.html"] = Route(status=404)
    second = lotse("sync", "--index", index, "--json", env_extra=allow)
    assert second.returncode == 0, second.stderr
    out = json.loads(second.stdout)
    assert (out["unchanged"], out["removed"], out["embedded_chunks"]) == (1, 1, 0)
    assert out["details"]["removed"] == [site.url + "/wissen.html"]

    status = json.loads(lotse("status", "--index", index, "--json").stdout)
    assert status["sources"] == [site.url + "/"]


def test_refusals_are_messages_and_change_nothing(site: TestSite, tmp_path: Path) -> None:
    index = str(tmp_path / "index")
    # production default: a loopback target is refused (SSRF), the index stays empty
    out = json.loads(lotse("ingest", site.url + "/", "--index", index, "--json").stdout)
    assert out["documents"] == 0 and site.hits == []
    assert "interne Adresse" in out["failed"][0]["error"]
    assert not (
        tmp_path / "index" / "web_sources.json"
    ).exists()  # not registered: `lotse sync` will not retry
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "http://nutzer:pw@127.0.0.1/"):
        proc = lotse("ingest", bad, "--index", index, "--json")
        assert proc.returncode == 1
        assert json.loads(proc.stdout)["code"] == "input_error"
    proc = lotse("sync", "--index", str(tmp_path / "leer"), "--json")
    assert proc.returncode == 1 and "Keine Web-Quellen" in json.loads(proc.stdout)["error"]
