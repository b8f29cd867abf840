"""A deterministic stand-in for the e5 model: bag-of-words vectors on hashed axes, no weights, no threads.

Each lower-cased word gets its own axis (and sign) from a hash of the word, so a text's vector is its word counts.
On top sits one axis every text shares, with weight ``SHARED`` of the norm: e5 puts any two German texts
between about 0.7 and 0.95 cosine (see `assistant.retrieval.hybrid.DENSE_FLOOR`), and a plain bag of words
would put every passage below the floor the service abstains at. The cosine of two texts is therefore exact
and easy to work out by hand (see `expected_score`):

    cosine = SHARED + (1 - SHARED) * overlap,    overlap = counts_a · counts_b / (|counts_a| |counts_b|)

e.g. "Förderung Betrieb" against "Förderung Betrieb Kosten Personal": overlap 2 / √(2·4) = 0.7071, cosine 0.9268.
Tests that need meaning (paraphrases, other languages) use the real model and are marked slow.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

#: Share of the cosine every pair of texts has in common (e5's floor for unrelated German texts is near 0.75).
SHARED = 0.75
_WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def expected_score(a: str, b: str) -> float:
    """The cosine `HashEmbedder` gives ``a`` and ``b``, computed from their word counts (no hashing)."""
    ca, cb = words(a), words(b)
    na, nb = math.sqrt(sum(v * v for v in ca.values())), math.sqrt(sum(v * v for v in cb.values()))
    overlap = sum(ca[w] * cb[w] for w in ca) / (na * nb) if na and nb else 0.0
    return SHARED + (1 - SHARED) * overlap


class HashEmbedder:
    """`assistant.embeddings.Embedder` without a model: exact, reproducible scores in microseconds.

    ``history`` records every text embedded (passages and queries), so a test can see what was asked.
    """

    model_id = "test/hash-bag-of-words"

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim
        self.history: list[str] = []

    def _axis(self, word: str) -> tuple[int, float]:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        return 1 + value % (self.dim - 1), (1.0 if value >> 63 else -1.0)  # axis 0 is the shared one

    def _vector(self, text: str) -> np.ndarray:
        self.history.append(text)
        bag = np.zeros(self.dim, dtype=np.float64)
        for word, count in words(text).items():
            axis, sign = self._axis(word)
            bag[axis] += sign * count
        norm = np.linalg.norm(bag)
        vector = np.zeros(self.dim, dtype=np.float64)
        if norm:
            vector = bag / norm * math.sqrt(1 - SHARED)
        vector[0] = math.sqrt(SHARED) if norm else 1.0
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def collisions(self, *texts: str) -> list[tuple[str, str]]:
        """Pairs of distinct words in ``texts`` that share an axis (the exact score holds only without any)."""
        seen: dict[int, str] = {}
        clashes = []
        for word in sorted({w for t in texts for w in words(t)}):
            axis, _ = self._axis(word)
            if axis in seen:
                clashes.append((seen[axis], word))
            seen.setdefault(axis, word)
        return clashes
