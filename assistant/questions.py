"""The questions the Lotse could not answer: the platform's content gaps, for the editors.

Stored, like feedback (:mod:`assistant.feedback`), in a Chroma collection next to the index, so every app
process behind a load balancer writes to and reads from the same log. Stored per question: its text, language,
why it is listed (``abstained``) and the time. Not stored: IP address, user agent, session, history or any other
data about the person. Entries older than ``LOTSE_QUESTION_LOG_DAYS`` (default 90) are purged on every write and
never shown; ``LOTSE_QUESTION_LOG=false`` stores nothing.

Questions that were answered but rated "not helpful" or "wrong source" come from the feedback store (the user
sent them deliberately); :func:`content_gaps` merges both and groups similar questions.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.errors import LotseError
from assistant.store import ChromaStore
from assistant.text import looks_like_injection

log = logging.getLogger(__name__)

MAX_QUESTION = 1000
POOR_RATINGS = ("not_helpful", "wrong_source")
#: A question joins a group when its stemmed content words overlap those of one member this much (Jaccard).
#: Chosen on hand-made pairs: "Wer zahlt den Betrieb nach der Förderung?" / "Wer bezahlt den Betrieb nach
#: Förderende?" overlap 0.4 (2 of 5 terms), "… finanziert den Betrieb nach dem Ende der Förderung?" 0.6;
#: questions on other topics share no term.
GROUP_SIMILARITY = 0.4


class QuestionLog:
    """Abstained questions in Chroma, bounded and purged after ``retention_days``."""

    def __init__(
        self, store: ChromaStore, *, enabled: bool = True, retention_days: int = 90, max_entries: int = 20_000
    ) -> None:
        self.store = store
        self.enabled = enabled
        self.retention_days = retention_days
        self.max_entries = max_entries

    @classmethod
    def of(cls, store: ChromaStore, settings: Any) -> QuestionLog:
        return cls(store, enabled=settings.question_log, retention_days=settings.question_log_days,
                   max_entries=settings.question_log_max_entries)

    def _col(self) -> Any:
        return self.store.collection("questions")

    def add(self, question: str, lang: str = "de", reason: str = "abstained", now: datetime | None = None) -> bool:
        """Log one question; False when the log is off, the question looks hostile or the log is full."""
        question = " ".join(question.split())[:MAX_QUESTION]
        if not self.enabled or not question or looks_like_injection(question):
            return False
        now = now or datetime.now(UTC)
        col = self._col()
        self.purge(now)
        if self.store._call(col.count) >= self.max_entries:
            log.warning("question log full (%d entries): question not stored", self.max_entries)
            return False
        meta = {"created_at": now.isoformat(timespec="seconds"), "created_ts": int(now.timestamp()),
                "lang": lang[:5], "reason": reason[:20]}
        self.store._call(col.add, ids=[uuid.uuid4().hex], embeddings=[[1.0]], documents=[question],
                         metadatas=[meta])
        return True

    def record(self, question: str, lang: str) -> None:
        """The answer path's hook: log an abstention, never fail the answer because of the log."""
        try:
            self.add(question, lang)
        except LotseError as e:
            log.warning("question log not written: %s", e.code)

    def purge(self, now: datetime | None = None) -> int:
        col = self._col()
        old = self.store._call(col.get, where={"created_ts": {"$lt": self._cutoff(now)}}, include=[])["ids"]
        if old:
            self.store._call(col.delete, ids=old)
        return len(old)

    def entries(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Every question within the retention period, newest first."""
        col = self._col()
        got = self.store._call(col.get, where={"created_ts": {"$gte": self._cutoff(now)}},
                               include=["documents", "metadatas"])
        items = [{"question": d, **m} for d, m in zip(got["documents"], got["metadatas"], strict=True)]
        items.sort(key=lambda r: r.get("created_ts", 0), reverse=True)
        return items

    def _cutoff(self, now: datetime | None) -> int:
        return int(((now or datetime.now(UTC)) - timedelta(days=self.retention_days)).timestamp())


@dataclass
class QuestionGroup:
    """Similar questions: the most recent wording stands for the group."""

    question: str
    count: int = 0
    last_at: str = ""
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    members: list[set[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "count": self.count, "last_at": self.last_at,
                "reasons": self.reasons, "examples": self.examples}


def group_questions(items: Iterable[dict[str, Any]], terms_of: Any) -> list[QuestionGroup]:
    """Group questions (newest first) greedily by the overlap of their terms; biggest, then newest group first."""
    groups: list[QuestionGroup] = []
    for item in sorted(items, key=lambda r: r.get("created_ts", 0), reverse=True):
        text = str(item.get("question", "")).strip()
        if not text:
            continue
        terms = set(terms_of(text)) or {text.lower()}
        best, best_sim = None, 0.0
        for group in groups:
            sim = max(len(terms & m) / len(terms | m) for m in group.members)
            if sim > best_sim:
                best, best_sim = group, sim
        if best is None or best_sim < GROUP_SIMILARITY:
            best = QuestionGroup(question=text, last_at=str(item.get("created_at", "")))
            groups.append(best)
        best.count += 1
        if terms not in best.members:
            best.members.append(terms)
        reason = str(item.get("reason", ""))
        best.reasons[reason] = best.reasons.get(reason, 0) + 1
        if text not in best.examples and len(best.examples) < 5:
            best.examples.append(text)
    groups.sort(key=lambda g: (g.count, g.last_at), reverse=True)
    return groups


def content_gaps(questions: QuestionLog, feedback_items: Iterable[dict[str, Any]], terms_of: Any) -> dict[str, Any]:
    """Abstained and poorly rated questions of the retention period, grouped by similarity."""
    cutoff = questions._cutoff(None)
    poor = [
        {"question": f.get("question", ""), "created_at": f.get("created_at", ""),
         "created_ts": f.get("created_ts", 0), "reason": f.get("rating", "")}
        for f in feedback_items
        if f.get("rating") in POOR_RATINGS and int(f.get("created_ts", 0)) >= cutoff
    ]
    logged = questions.entries()
    groups = group_questions([*logged, *poor], terms_of)
    return {
        "questions": [g.to_dict() for g in groups],
        "total": len(logged) + len(poor),
        "retention_days": questions.retention_days,
        "log_enabled": questions.enabled,
    }
