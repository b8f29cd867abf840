"""The connection to Chroma: client lifecycle and what goes wrong on opening an index.

`ChromaConnection` creates the client (embedded ``PersistentClient`` in a data directory, or ``HttpClient`` to a
server with bounded timeouts), opens the two collections, checks that the index was built with the configured
embedding model, and tells a damaged index or a read-only folder from a server that does not answer. Every call
goes through `_call`, which turns a failure into StoreUnavailableError and reconnects on the next call.

What is stored, and how, is `assistant.store.ChromaStore`, built on this class.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.errors import EmbeddingMismatchError, StoreUnavailableError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def _looks_corrupt(e: BaseException) -> bool:
    """SQLite's words for a damaged database file, as Chroma passes them on."""
    text = str(e).lower()
    return any(w in text for w in ("file is not a database", "database disk image is malformed", "malformed"))


def _unavailable(target: str, e: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"Wissensbasis nicht verfügbar: Chroma unter {target} antwortet nicht ({type(e).__name__}: {e}). "
        "Prüfen Sie LOTSE_CHROMA_URL bzw. LOTSE_INDEX_DIR und ob der Chroma-Server läuft.",
        f"Knowledge base unavailable: Chroma at {target} does not answer ({type(e).__name__}: {e}). "
        "Check LOTSE_CHROMA_URL or LOTSE_INDEX_DIR and whether the Chroma server is running.",
    )


class ChromaConnection:
    """A Chroma client and the index's two collections, opened on first use. Thread-safe.

    Args:
        embedding_model: ``model_id`` of the embedder; recorded on creation and checked on every open.
        dim: Embedding dimension; recorded and checked like the model.
        path: Data directory for the embedded client (ignored when ``url`` is given).
        url: ``http(s)://host:port`` of a Chroma server.
        prefix: Collection name prefix.
        timeout_s: Limit of one request to a Chroma server (connecting: at most 3 s).
    """

    def __init__(
        self,
        embedding_model: str,
        dim: int,
        *,
        path: Path | None = None,
        url: str | None = None,
        prefix: str = "lotse",
        timeout_s: float = 20.0,
    ) -> None:
        if not path and not url:
            raise ValueError("ChromaStore needs a path or a url")
        self.embedding_model = embedding_model
        self.dim = dim
        self.path = path
        self.url = url
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.target = url or str(path)
        self._lock = threading.RLock()
        self._client: Any = None
        self._chunks: Any = None
        self._docs: Any = None

    # -- connection ------------------------------------------------------------------------------------
    def _new_client(self) -> Any:
        """A Chroma client for the configured target (server URL or embedded data directory)."""
        import chromadb
        import httpx
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False)
        if self.url:
            parts = urlsplit(self.url)
            host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 8000)
            # Chroma's HTTP client waits forever (httpx timeout=None): a hung server (stopped process, dropped
            # packets) would hold every answer slot and every health check. A bounded heartbeat first, because
            # the client's constructor already talks to the server; then the client's own session is bounded.
            timeout = httpx.Timeout(self.timeout_s, connect=min(3.0, self.timeout_s))
            origin = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:{port}"
            httpx.get(f"{origin}/api/v2/heartbeat", timeout=timeout).raise_for_status()
            client = chromadb.HttpClient(host=host, port=port, ssl=parts.scheme == "https", settings=settings)
            session = getattr(getattr(client, "_server", None), "_session", None)  # private in chromadb 1.5
            if isinstance(session, httpx.Client):
                session.timeout = timeout
            else:
                log.warning("cannot bound Chroma's HTTP timeouts with this chromadb version; a hung server blocks")
            return client
        assert self.path is not None
        self.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.path), settings=settings)

    def _forget_failed_client(self) -> None:
        """chromadb caches one system per data directory, also a half-started one whose open failed; the next
        open would reuse it and fail differently ('no attribute bindings'). Drop only this directory's entry."""
        if self.path is None:
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        for cache in ("_identifier_to_system", "_identifier_to_refcount"):  # private in chromadb 1.5
            getattr(SharedSystemClient, cache, {}).pop(str(self.path), None)

    def _connect(self) -> None:
        try:
            client = self._new_client()
            space = {"hnsw": {"space": "cosine"}}
            chunks = client.get_or_create_collection(
                f"{self.prefix}_chunks",
                embedding_function=None,
                configuration=space,  # type: ignore[arg-type]
                metadata={"embedding_model": self.embedding_model, "dim": self.dim, "schema": SCHEMA_VERSION},
            )
            docs = client.get_or_create_collection(
                f"{self.prefix}_documents", embedding_function=None, configuration=space  # type: ignore[arg-type]
            )
        except Exception as e:  # chromadb raises many types (connection, sqlite, rust bindings)
            from ingest.storage import storage_kind  # lazy: ingest builds on assistant

            self._forget_failed_client()

            if self.path is not None and _looks_corrupt(e):
                raise StoreUnavailableError(
                    f"Der Index in {self.path} ist beschädigt ({type(e).__name__}: {e}). Neu aufbauen mit: "
                    "lotse ingest corpus --reset (der beschädigte Ordner wird beiseitegelegt, nicht gelöscht).",
                    f"The index in {self.path} is damaged ({type(e).__name__}: {e}). Rebuild it with: "
                    "lotse ingest corpus --reset (the damaged folder is moved aside, not deleted).",
                ) from e
            if self.path is not None and storage_kind(e) == "read_only":
                raise StoreUnavailableError(
                    f"Die Wissensbasis in {self.path} lässt sich nicht öffnen: Der Ordner ist schreibgeschützt. "
                    "Chroma braucht auch zum Lesen Schreibrechte (Sperr- und Protokolldateien). Bitte dem Dienst "
                    "Schreibrechte geben oder LOTSE_INDEX_DIR auf einen beschreibbaren Ordner setzen.",
                    f"The knowledge base in {self.path} cannot be opened: the folder is read-only. Chroma needs write "
                    "access even to read (lock and log files). Grant the service write access or point "
                    "LOTSE_INDEX_DIR to a writable folder.",
                ) from e
            raise _unavailable(self.target, e) from e
        meta = chunks.metadata or {}
        if meta.get("embedding_model") != self.embedding_model or int(meta.get("dim", 0)) != self.dim:
            raise EmbeddingMismatchError(
                f"Der Index wurde mit dem Embedding-Modell {meta.get('embedding_model')!r} "
                f"({meta.get('dim')} Dimensionen) gebaut, konfiguriert ist {self.embedding_model!r} "
                f"({self.dim}). Modelle werden nicht gemischt. Neu indexieren mit: lotse ingest corpus --reset "
                "(oder LOTSE_EMBEDDINGS zurückstellen).",
                f"The index was built with embedding model {meta.get('embedding_model')!r} "
                f"({meta.get('dim')} dimensions), configured is {self.embedding_model!r} ({self.dim}). "
                "Models are never mixed. Re-index with: lotse ingest corpus --reset (or restore LOTSE_EMBEDDINGS).",
            )
        self._client, self._chunks, self._docs = client, chunks, docs

    def _collections(self) -> tuple[Any, Any]:
        # Bounded for a server: while one caller's connect hangs on an unresponsive server, the others give up
        # after the same limit instead of queueing behind it one timeout after another.
        if not self._lock.acquire(timeout=self.timeout_s if self.url else -1):
            raise _unavailable(self.target, TimeoutError("another connection attempt is still waiting"))
        try:
            if self._chunks is None:
                self._connect()
            return self._chunks, self._docs
        finally:
            self._lock.release()

    def collection(self, name: str) -> Any:
        """An auxiliary collection (e.g. feedback) on the same Chroma, so replicas share it."""
        self._collections()
        with self._lock:
            try:
                return self._client.get_or_create_collection(
                    f"{self.prefix}_{name}", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
            except Exception as e:
                self.reopen()
                raise _unavailable(self.target, e) from e

    def reopen(self) -> None:
        """Drop the client and connect again.

        An embedded Chroma caches its vector index per process; another process's writes become visible to
        queries only after reopening (measured with chromadb 1.5). The server client needs no reopen.
        """
        with self._lock:
            if self._client is not None and self.path is not None:
                try:
                    self._client.close()
                except Exception:  # closing a broken client must not stop us from reconnecting
                    log.debug("closing chroma client failed", exc_info=True)
            self._client = self._chunks = self._docs = None

    def reset(self) -> None:
        """Delete both collections (used by ``lotse ingest --reset``), e.g. to switch embedding model."""
        with self._lock:
            self.reopen()
            try:
                try:
                    client = self._new_client()
                except Exception as e:
                    self._forget_failed_client()
                    if self.path is None or not _looks_corrupt(e):
                        raise
                    # A damaged embedded index cannot even be opened to delete its collections: keep it for
                    # inspection under another name and start empty (the rebuild path of RELIABILITY.md).
                    aside = self.path.with_name(f"{self.path.name}.beschaedigt-{time.strftime('%Y%m%d-%H%M%S')}")
                    self.path.rename(aside)
                    log.warning("damaged index moved to %s; starting a new one", aside)
                    client = self._new_client()
                for name in (f"{self.prefix}_chunks", f"{self.prefix}_documents"):
                    if name in [c.name for c in client.list_collections()]:
                        client.delete_collection(name)
                if self.path is not None:
                    client.close()
            except Exception as e:
                raise _unavailable(self.target, e) from e

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if isinstance(e, (EmbeddingMismatchError, StoreUnavailableError)):
                raise
            # A server restart or a torn connection: reconnect once on the next call.
            self.reopen()
            raise _unavailable(self.target, e) from e
