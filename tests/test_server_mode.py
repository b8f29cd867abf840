"""The same ingest and retrieval against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import StoreUnavailableError
from tests.conftest import free_port, make_services
from tests.test_pipeline import DOC_A, DOC_B

pytestmark = pytest.mark.server


def _chroma_bin() -> str:
    candidate = Path(sys.executable).with_name("chroma")
    return str(candidate) if candidate.exists() else (shutil.which("chroma") or "chroma")


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [_chroma_bin(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as r:
                json.loads(r.read())
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma server did not start")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_chroma(tmp_path / "chroma-server", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(DOC_A, encoding="utf-8")
    (folder / "b.txt").write_text(DOC_B, encoding="utf-8")
    return folder


def test_ingest_search_remove_against_server(chroma_server: str, docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    writer = make_services(tmp_path / "w", embedder, chroma_url=chroma_server)
    report = writer.pipeline().run([docs])
    assert sorted(report.added) == ["a.md", "b.txt"] and report.chunks > 0

    # A second app process (own settings, own lexical index) sees the same index.
    reader = make_services(tmp_path / "r", embedder, chroma_url=chroma_server)
    hits = reader.retriever.retrieve("Zweckverband Betrieb für mehrere Gemeinden", k=3).hits
    assert hits and hits[0].chunk.source == "a.md"

    assert writer.pipeline().run([docs]).embedded_chunks == 0

    writer.pipeline().remove("a.md")
    reader.retriever.invalidate()
    hits = reader.retriever.retrieve("Zweckverband Betrieb für mehrere Gemeinden", k=5).hits
    assert all(h.chunk.source != "a.md" for h in hits), "erasure must reach every process"


def test_server_down_gives_clear_error_and_recovers(tmp_path: Path, docs: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    services = make_services(tmp_path / "x", embedder, chroma_url=f"http://127.0.0.1:{port}")
    with pytest.raises(StoreUnavailableError, match="Wissensbasis nicht verfügbar"):
        services.store.documents()
    proc = start_chroma(tmp_path / "late-server", port)
    try:
        services.pipeline().run([docs])
        assert len(services.store.documents()) == 2
    finally:
        proc.terminate()
        proc.wait(10)
