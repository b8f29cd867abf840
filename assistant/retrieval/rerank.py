"""Optional cross-encoder reranking through an HTTP ``/rerank`` server (``LOTSE_RERANK_URL``).

Deployments that run a reranker (Infinity, Hugging Face TEI, vLLM, or a hosted Cohere/Jina endpoint) can let it
order the best fused candidates. Two request shapes cover them:

* ``"cohere"`` (Cohere, Jina, vLLM, Infinity): ``{"model", "query", "documents", "top_n"}``, answered with
  ``{"results": [{"index", "relevance_score"}]}`` (Infinity: the same list under ``"data"``);
* ``"tei"`` (Hugging Face text-embeddings-inference): ``{"query", "texts"}``, answered with
  ``[{"index", "score"}]``.

The answer parser accepts every one of these response shapes whatever was sent. The reranker must never make
search worse than without it: a strict deadline covers the whole call (connect, send, wait, read), and any
failure (timeout, HTTP error, malformed JSON, an index out of range) returns None, so the caller keeps its own
ranking and logs why.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Literal, Protocol

import httpx

log = logging.getLogger(__name__)

RerankAPI = Literal["cohere", "tei"]


class Reranker(Protocol):
    """Scores passages against a query; None when it cannot (the caller keeps its ranking)."""

    def rerank(self, query: str, texts: Sequence[str]) -> list[float] | None:
        """One relevance score per text (higher is better), or None on any failure."""
        ...


def parse_scores(payload: Any, n: int) -> list[float]:
    """Scores per input position from any of the supported response shapes.

    Texts the server left out (``top_n`` smaller than the list) get ``-inf``, so they sort last.

    Raises:
        ValueError: When the payload has none of the shapes, or an index is missing or out of range.
    """
    items = payload.get("results", payload.get("data")) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise ValueError("no 'results' or 'data' list in the reranker response")
    scores = [-math.inf] * n
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("reranker result is not an object")
        index = item.get("index")
        score = item.get("relevance_score", item.get("score"))
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n:
            raise ValueError(f"reranker index out of range: {index!r}")
        if not isinstance(score, int | float) or isinstance(score, bool) or math.isnan(score):
            raise ValueError(f"reranker score is not a number: {score!r}")
        scores[index] = float(score)
    return scores


class HTTPReranker:
    """Client of a ``/rerank`` endpoint with a strict deadline.

    Args:
        url: Full endpoint URL, e.g. ``http://localhost:7997/rerank``.
        model: Model name sent with the request (ignored by servers that host one model).
        api_key: Sent as ``Authorization: Bearer ...`` when set.
        timeout_s: Deadline for the whole call; past it the search goes on without reranking.
        api: Request shape, see the module docstring.
    """

    def __init__(
        self,
        url: str,
        model: str = "",
        api_key: str | None = None,
        timeout_s: float = 1.0,
        api: RerankAPI = "cohere",
    ) -> None:
        self.url, self.model, self.api, self.timeout_s = url, model, api, timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s))
        # The deadline is enforced by waiting on a worker: httpx's timeouts are per phase, so a server that
        # trickles its answer byte by byte could otherwise hold a search for many times `timeout_s`.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rerank")

    def body(self, query: str, texts: Sequence[str]) -> dict[str, Any]:
        if self.api == "tei":
            return {"query": query, "texts": list(texts), "truncate": True}
        body: dict[str, Any] = {"query": query, "documents": list(texts), "top_n": len(texts)}
        if self.model:
            body["model"] = self.model
        return body

    def _call(self, query: str, texts: Sequence[str]) -> list[float]:
        response = self._client.post(self.url, json=self.body(query, texts))
        response.raise_for_status()
        return parse_scores(response.json(), len(texts))

    def rerank(self, query: str, texts: Sequence[str]) -> list[float] | None:
        if not texts:
            return []
        future = self._pool.submit(self._call, query, texts)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            future.cancel()
            log.warning(
                "reranker %s took longer than %.2fs; keeping the local ranking", self.url, self.timeout_s
            )
        except (httpx.HTTPError, ValueError) as e:
            log.warning("reranker %s failed (%s); keeping the local ranking", self.url, e)
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
