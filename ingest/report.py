"""What an ingest run tells its caller: the report (the ``--json`` contract of ``lotse ingest``) and the progress
shown while it runs."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import IngestError
from ingest.sources import Candidate, shown


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    embedded_chars: int = 0
    seconds: float = 0.0
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # source -> DocumentAccount.to_dict()

    def fail(self, source: str, error: IngestError, *, previous_kept: bool) -> None:
        """Report a file that could not be indexed, and whether its last indexed version stays live."""
        de, en = str(error), error.message_en
        if previous_kept:
            de += " Die zuletzt indexierte Fassung bleibt abrufbar, bis eine lesbare Fassung eingelesen wird."
            en += " The last indexed version stays available until a readable version is ingested."
        entry: dict[str, Any] = {"path": shown(source), "error": de, "error_en": en, "code": error.code}
        if previous_kept:
            entry["previous_version_kept"] = True
        self.failed.append(entry)

    def to_contract(self) -> dict[str, Any]:
        """JSON of the interface contract: counts for added/updated/unchanged/removed, plus details."""
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": self.failed,
            "documents": self.documents,
            "chunks": self.chunks,
            "duplicates": self.duplicates,
            "warnings": self.warnings,
            "details": {
                "added": self.added,
                "updated": self.updated,
                "removed": self.removed,
            },
            "embedded_chunks": self.embedded_chunks,
            "seconds": round(self.seconds, 2),
            # additive: per indexed document, where its extracted words went (ingest.account)
            "accounts": self.accounts,
        }


def progress(items: list[Candidate], label: str, enabled: bool, slow_s: float) -> Iterator[Candidate]:
    """The items, with a progress bar on a terminal, or without one a line on stderr for a file that takes
    longer than ``slow_s``."""
    if not enabled:
        yield from items
        return
    if not sys.stderr.isatty():
        # Without a terminal (e.g. with --json, whose stdout stays one object) a file that takes longer than
        # slow_s gets a line on stderr, so a slow file shows which one it is; quick runs stay quiet.
        for i, cand in enumerate(items, start=1):
            note = f"[{i}/{len(items)}] {shown(cand.source)} … (Ingest läuft / ingest running)"
            timer = threading.Timer(slow_s, lambda note=note: print(note, file=sys.stderr, flush=True))
            timer.daemon = True
            timer.start()
            try:
                yield cand
            finally:
                timer.cancel()
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=label, unit="Datei", file=sys.stderr)
