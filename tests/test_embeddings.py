"""The OpenAI-compatible embeddings path, against a real HTTP server, and the model guard of the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import EmbeddingError, EmbeddingMismatchError
from assistant.services import build_services
from tests.support.fake_openai import FakeOpenAIServer
from tests.test_pipeline import DOC_A, DOC_B


def _settings(index: Path, server: FakeOpenAIServer, model: str = "text-embedding-test") -> Settings:
    return Settings(
        index_dir=index, embeddings="openai", embeddings_base_url=server.base_url, embeddings_model=model,
        embeddings_query_prefix="query: ", embeddings_passage_prefix="passage: ",
    )


def test_openai_embeddings_ingest_and_search(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(DOC_A, encoding="utf-8")
    (docs / "b.txt").write_text(DOC_B, encoding="utf-8")
    with FakeOpenAIServer(embedding_dim=16) as server:
        services = build_services(_settings(tmp_path / "idx", server))
        assert services.embedder.model_id == "openai:text-embedding-test" and services.embedder.dim == 16
        report = services.pipeline().run([docs])
        assert report.documents == 2 and not report.failed
        hits = services.retriever.retrieve("Zweckverband Betrieb mehrere Gemeinden", k=3).hits
        assert hits and hits[0].chunk.source == "a.md"
        sent = [r.json for r in server.requests if r.path.endswith("/embeddings")]
        inputs = [text for body in sent for text in body["input"]]
        assert any(t.startswith("passage: ") for t in inputs) and any(t.startswith("query: ") for t in inputs)

        # The index records the model: another model (even of the same dimension) is refused.
        services.store.reopen()
        with pytest.raises(EmbeddingMismatchError, match="--reset"):
            build_services(_settings(tmp_path / "idx", server, model="other-model")).store.documents()


def test_unreachable_embeddings_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    from tests.conftest import free_port

    settings = Settings(
        index_dir=tmp_path / "idx", embeddings="openai",
        embeddings_base_url=f"http://127.0.0.1:{free_port()}/v1", embeddings_model="m", embeddings_timeout_s=2,
    )
    with pytest.raises(EmbeddingError, match="LOTSE_EMBEDDINGS_BASE_URL"):
        build_services(settings)
