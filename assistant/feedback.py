"""Feedback on answers, kept in Chroma next to the index so every app replica sees the same records.

Stored: question, answer, rating, optional comment, cited sources, mode, time. Not stored: IP addresses,
user agents, session ids or any other data about the person. Records older than the retention period are
purged on every write.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from assistant.errors import InputError
from assistant.store import ChromaStore

Rating = Literal["helpful", "not_helpful", "wrong_source"]
RATINGS = ("helpful", "not_helpful", "wrong_source")
MAX_TEXT = 4000


class FeedbackStore:
    def __init__(self, store: ChromaStore, retention_days: int = 365) -> None:
        self.store = store
        self.retention_days = retention_days

    def _col(self) -> Any:
        return self.store.collection("feedback")

    def add(
        self,
        *,
        question: str,
        answer: str,
        rating: str,
        comment: str = "",
        sources: list[str] | None = None,
        mode: str = "",
    ) -> str:
        if rating not in RATINGS:
            raise InputError(
                f"Bewertung muss eine von {', '.join(RATINGS)} sein.", f"Rating must be one of {', '.join(RATINGS)}."
            )
        now = datetime.now(UTC)
        record_id = uuid.uuid4().hex
        meta: dict[str, Any] = {
            "rating": rating,
            "created_at": now.isoformat(timespec="seconds"),
            "created_ts": int(now.timestamp()),
            "question": question[:MAX_TEXT],
            "comment": comment[:MAX_TEXT],
            "mode": mode[:20],
        }
        if sources:
            meta["sources"] = [s[:300] for s in sources[:20]]
        col = self._col()
        self.store._call(col.add, ids=[record_id], embeddings=[[1.0]], documents=[answer[:MAX_TEXT]], metadatas=[meta])
        self.purge(now)
        return record_id

    def purge(self, now: datetime | None = None) -> int:
        cutoff = int(((now or datetime.now(UTC)) - timedelta(days=self.retention_days)).timestamp())
        col = self._col()
        old = self.store._call(col.get, where={"created_ts": {"$lt": cutoff}}, include=[])["ids"]
        if old:
            self.store._call(col.delete, ids=old)
        return len(old)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        col = self._col()
        got = self.store._call(col.get, include=["documents", "metadatas"])
        items = [
            {"id": i, "answer": d, **m} for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        items.sort(key=lambda r: r.get("created_ts", 0), reverse=True)
        return items[:limit]

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(RATINGS, 0)
        for item in self.recent(limit=1_000_000):
            counts[item["rating"]] = counts.get(item["rating"], 0) + 1
        return counts
