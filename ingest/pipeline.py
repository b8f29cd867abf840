"""The incremental ingest run.

For every file below the given folders: read the bytes once, hash them, keep a content-addressed copy (served for
citation links and parsed from, so a file changing while it is read cannot mix two states), parse it in isolation,
chunk, embed and commit it (see :mod:`assistant.store` for why a commit is atomic). A content hash that did not
change means no work at all. Files gone from a folder are removed from the index. One bad file is reported and
the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.embeddings import Embedder
from assistant.errors import (
    FileTooLargeError,
    IndexLockedError,
    IngestError,
    UnsafePathError,
    UnsupportedFormatError,
)
from assistant.store import ChromaStore, DocumentRecord
from ingest.chunking import CHUNKER_VERSION, chunk_document, doc_id_for
from ingest.loaders import SUPPORTED_SUFFIXES, ParseLimits, load_file
from ingest.manifest import FolderRules, load_rules, resolve_metadata

log = logging.getLogger(__name__)

EMBED_BATCH = 32
MAX_SOURCE_CHARS = 1000


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
        }


@dataclass(frozen=True)
class Candidate:
    path: Path
    root: Path
    source: str  # path relative to root, POSIX separators


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_name_problem(rel: str) -> str | None:
    if any(not ch.isprintable() for ch in rel):
        return "Der Dateiname enthält Steuerzeichen."
    if len(rel) > MAX_SOURCE_CHARS:
        return f"Der Dateipfad ist länger als {MAX_SOURCE_CHARS} Zeichen."
    return None


class IngestPipeline:
    """Keeps the index in step with folders of documents.

    Args:
        store: Where chunks and the registry live.
        embedder: Makes the passage vectors (the store checks it matches the index).
        files_dir: Where document copies are kept for citation links.
        lock_path: File lock that keeps a second writer out.
        limits: Parser limits per file.
        progress: Show a progress bar (on a terminal).
    """

    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        files_dir: Path,
        lock_path: Path,
        limits: ParseLimits | None = None,
        progress: bool = False,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.files_dir = files_dir
        self.lock_path = lock_path
        self.limits = limits or ParseLimits()
        self.progress = progress

    # -- public ----------------------------------------------------------------------------------------
    def run(self, paths: Sequence[Path], *, prune: bool = True) -> IngestReport:
        """Ingest files and folders. With ``prune``, documents whose file left an ingested folder are removed."""
        report = IngestReport()
        start = time.perf_counter()
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path), timeout=0)
        try:
            lock.acquire()
        except Timeout as e:
            raise IndexLockedError(
                f"Ein anderer Ingest schreibt gerade in diesen Index ({self.lock_path.parent}). "
                "Warten Sie, bis er fertig ist, und starten Sie dann erneut.",
                f"Another ingest is writing to this index ({self.lock_path.parent}). "
                "Wait until it has finished, then start again.",
            ) from e
        try:
            self.store.collect_orphans()
            docs = self.store.documents()
            seen_hashes = {d.content_sha256: d.source for d in docs.values()}
            for root, candidates, rules in self._expand(paths, report):
                report.warnings.extend(rules.warnings)
                present: set[str] = set()
                for cand in self._progress(candidates, "Dokumente"):
                    present.add(doc_id_for(cand.source))
                    self._ingest_one(cand, rules, docs, seen_hashes, report)
                if prune and root is not None:
                    self._prune(root, present, docs, report)
            final = self.store.documents()
            report.documents = len(final)
            report.chunks = sum(d.chunk_count for d in final.values())
        finally:
            lock.release()
        report.seconds = time.perf_counter() - start
        return report

    def remove(self, ref: str) -> DocumentRecord | None:
        """Erase one document by source path, doc id or title; returns what was removed (None if unknown)."""
        with FileLock(str(self.lock_path), timeout=10):
            docs = self.store.documents()
            match = next(
                (d for d in docs.values() if ref in (d.doc_id, d.source, d.title) or d.source.endswith("/" + ref)),
                None,
            )
            if match is None:
                return None
            self.store.remove_document(match.doc_id)
            self._drop_copy(match, docs)
            return match

    # -- internals -------------------------------------------------------------------------------------
    def _progress(self, items: list[Candidate], label: str) -> Iterator[Candidate]:
        if not (self.progress and sys.stderr.isatty()):
            yield from items
            return
        from tqdm import tqdm

        yield from tqdm(items, desc=label, unit="Datei", file=sys.stderr)

    def _expand(
        self, paths: Sequence[Path], report: IngestReport
    ) -> Iterator[tuple[Path | None, list[Candidate], FolderRules]]:
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                root = path.resolve()
                rules = load_rules(root)
                yield root, self._walk(root, rules, report), rules
            elif path.is_file() or path.is_symlink():
                root = path.parent.resolve()
                rules = load_rules(root)
                yield None, [Candidate(path, root, path.name)], rules
            else:
                report.failed.append(
                    {"path": str(path), "error": f"Nicht gefunden: {path} ist weder Datei noch Ordner."}
                )

    def _walk(self, root: Path, rules: FolderRules, report: IngestReport) -> list[Candidate]:
        found: list[Candidate] = []
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            base = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames
                if not d.startswith(".") and not rules.is_ignored((base / d).relative_to(root).as_posix() + "/x")
            )
            for name in sorted(filenames):
                rel = (base / name).relative_to(root).as_posix()
                if name.startswith(".") or rules.is_ignored(rel):
                    continue
                found.append(Candidate(base / name, root, rel))
        return found

    def _ingest_one(
        self,
        cand: Candidate,
        rules: FolderRules,
        docs: dict[str, DocumentRecord],
        seen_hashes: dict[str, str],
        report: IngestReport,
    ) -> None:
        try:
            data = self._read(cand)
            digest = _sha256(data)
            doc_id = doc_id_for(cand.source)
            previous = docs.get(doc_id)
            owner = seen_hashes.get(digest)
            if owner is not None and owner != cand.source:
                report.duplicates.append(
                    {
                        "path": cand.source,
                        "duplicate_of": owner,
                        "error": f"Inhalt identisch mit {owner}; wird nur einmal indexiert.",
                    }
                )
                return
            manifest_meta = rules.manifest.get(cand.source, {})
            version = _sha256(
                f"{digest}|{json.dumps(manifest_meta, sort_keys=True, default=str)}|{CHUNKER_VERSION}".encode()
            )[:16]
            if previous is not None and previous.version == version:
                report.unchanged.append(cand.source)
                seen_hashes[digest] = cand.source
                return
            copy = self._keep_copy(data, digest, cand.path.suffix.lower())
            loaded = load_file(copy, self.limits, name=cand.source)
            meta = resolve_metadata(cand.source, loaded.metadata, loaded.title, rules)
            for warning in loaded.warnings:
                report.warnings.append(f"{cand.source}: {warning}")
            chunk_meta = {k: meta[k] for k in ("publisher", "year", "doc_type", "topics", "language", "licence")}
            chunk_meta.update({f"factor_{f}": True for f in meta["factors"]})
            chunks = chunk_document(
                loaded, doc_id=doc_id, version=version, source=cand.source, title=meta["title"], metadata=chunk_meta
            )
            if not chunks:
                raise IngestError(
                    f"{cand.source}: kein indexierbarer Text gefunden.", f"{cand.source}: no indexable text found."
                )
            self._embed_and_write(chunks, report)
            record = DocumentRecord(
                doc_id=doc_id,
                version=version,
                source=cand.source,
                root=str(cand.root),
                title=meta["title"],
                suffix=cand.path.suffix.lower(),
                content_sha256=digest,
                chunk_count=len(chunks),
                ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
                publisher=meta["publisher"],
                year=meta["year"],
                doc_type=meta["doc_type"],
                topics=meta["topics"],
                language=meta["language"],
                licence=meta["licence"],
                sample=meta["sample"],
                page_count=loaded.page_count,
                references=meta["references"],
            )
            self.store.commit_document(record)  # the flip: new version live, old one invisible
            self.store.delete_chunks(doc_id, keep_version=version)
            if previous is not None and previous.content_sha256 != digest:
                self._drop_copy(previous, {**docs, doc_id: record})
            docs[doc_id] = record
            seen_hashes[digest] = cand.source
            (report.updated if previous is not None else report.added).append(cand.source)
        except IngestError as e:
            log.info("skipped %s: %s", cand.source, e)
            report.failed.append({"path": cand.source, "error": str(e), "code": e.code})
        except OSError as e:
            report.failed.append(
                {"path": cand.source, "error": f"Datei nicht lesbar: {e.strerror or e}", "code": "os_error"}
            )

    def _read(self, cand: Candidate) -> bytes:
        problem = _safe_name_problem(cand.source)
        if problem:
            raise UnsafePathError(f"{cand.source!r}: {problem} Bitte umbenennen.", f"{cand.source!r}: unsafe name.")
        real = cand.path.resolve()
        if not real.is_relative_to(cand.root):
            raise UnsafePathError(
                f"{cand.source}: verweist außerhalb des Ingest-Ordners ({real}) und wird nicht gelesen.",
                f"{cand.source}: points outside the ingest folder ({real}) and is not read.",
            )
        suffix = cand.path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnsupportedFormatError(
                f"{cand.source}: Dateityp '{suffix or '(ohne Endung)'}' wird nicht unterstützt. "
                f"Unterstützt: {', '.join(sorted(SUPPORTED_SUFFIXES))}.",
                f"{cand.source}: file type '{suffix or '(none)'}' is not supported.",
            )
        size = real.stat().st_size
        if size > self.limits.max_file_bytes:
            raise FileTooLargeError(
                f"{cand.source}: {size / 1e6:.1f} MB überschreitet die Grenze von "
                f"{self.limits.max_file_bytes / 1e6:.0f} MB (LOTSE_MAX_FILE_MB).",
                f"{cand.source}: {size / 1e6:.1f} MB exceeds the limit (LOTSE_MAX_FILE_MB).",
            )
        with open(real, "rb") as fh:
            return fh.read(self.limits.max_file_bytes + 1)

    def _keep_copy(self, data: bytes, digest: str, suffix: str) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        target = self.files_dir / f"{digest}{suffix}"
        if not target.exists():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return target

    def _drop_copy(self, record: DocumentRecord, docs: dict[str, DocumentRecord]) -> None:
        still_used = any(
            d.content_sha256 == record.content_sha256 and d.doc_id != record.doc_id for d in docs.values()
        )
        if not still_used:
            (self.files_dir / f"{record.content_sha256}{record.suffix}").unlink(missing_ok=True)

    def _embed_and_write(self, chunks: list[Any], report: IngestReport) -> None:
        texts = [c.contextual_text for c in chunks]
        import numpy as np

        vectors = [self.embedder.embed_passages(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
        self.store.add_chunks(chunks, np.concatenate(vectors))
        report.embedded_chunks += len(chunks)
        report.embedded_chars += sum(len(t) for t in texts)

    def _prune(self, root: Path, present: set[str], docs: dict[str, DocumentRecord], report: IngestReport) -> None:
        for doc in list(docs.values()):
            if doc.root == str(root) and doc.doc_id not in present:
                self.store.remove_document(doc.doc_id)
                self._drop_copy(doc, docs)
                docs.pop(doc.doc_id, None)
                report.removed.append(doc.source)

