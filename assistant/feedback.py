"""Feedback on answers, kept in Chroma next to the index so every app replica sees the same records.

Stored: question, answer, rating, optional comment, cited sources, mode, time. Not stored: IP addresses,
user agents, session ids or any other data about the person. Records older than the retention period are
purged on every write.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from assistant.errors import InputError, RateLimitError
from assistant.store import ChromaStore

Rating = Literal["helpful", "not_helpful", "wrong_source"]
RATINGS = ("helpful", "not_helpful", "wrong_source")
MAX_TEXT = 4000
log = logging.getLogger(__name__)
FULL = (
    "Rückmeldungen können gerade nicht gespeichert werden (Speicher voll). Die Redaktion ist informiert.",
    "Feedback cannot be stored right now (storage full). The editors have been notified.",
)


class FeedbackStore:
    """Feedback records in Chroma, bounded: at most ``max_entries`` (new ones are refused when full, so a flood
    never evicts what real users wrote) and comments of at most ``max_chars``."""

    def __init__(
        self, store: ChromaStore, retention_days: int = 365, max_entries: int = 20_000, max_chars: int = 2000
    ) -> None:
        self.store = store
        self.retention_days = retention_days
        self.max_entries = max_entries
        self.max_chars = max_chars

    @classmethod
    def of(cls, store: ChromaStore, settings: Any) -> FeedbackStore:
        return cls(store, settings.feedback_retention_days, settings.feedback_max_entries, settings.feedback_max_chars)

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
        if len(comment) > self.max_chars:
            raise InputError(
                f"Der Kommentar ist zu lang (höchstens {self.max_chars} Zeichen).",
                f"The comment is too long (at most {self.max_chars} characters).",
            )
        now = datetime.now(UTC)
        col = self._col()
        if self.store._call(col.count) >= self.max_entries:
            self.purge(now)
            if self.store._call(col.count) >= self.max_entries:
                log.warning("feedback store full (%d entries): new feedback refused", self.max_entries)
                raise RateLimitError(*FULL)
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
