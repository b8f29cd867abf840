"""The editors' work on the index: documents, uploads, web sources and content gaps, in one service.

One code path for every front end: the editors' API (:mod:`assistant.web.editor_api`), the editors' page
(:mod:`assistant.web.ui.editor`) and ``lotse sources remove`` call these functions; none of them imports FastAPI
or gradio.

Uploads are kept in ``<index>/uploads/`` (next to the document copies, so every app process that serves the
index sees them) with their metadata in that folder's ``manifest.yaml``, and indexed by the same isolated,
incremental pipeline as ``lotse ingest`` (:class:`ingest.pipeline.IngestPipeline`). The type of an upload is
taken from its bytes; its name only has a say between text formats (:mod:`assistant.uploads`). A refused upload
leaves the index and the upload folder as they were.

Erasure removes the registry record (invisible to every process at once: the registry's generation token
moves, see :mod:`assistant.store`), the chunks, the stored copy, the word account and the uploaded file; each
app process rebuilds its lexical index when it next sees the new token (at most ``refresh_s``, 2 s, later).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import (
    ConflictError,
    EncryptedDocumentError,
    FileTooLargeError,
    IngestError,
    InputError,
    NoTextLayerError,
    NotFoundError,
    ParseError,
    ParseMemoryError,
    ParseTimeoutError,
    UnsafePathError,
    UnsupportedFormatError,
    WebFetchError,
)
from assistant.services import Services
from assistant.store import DocumentRecord
from assistant.uploads import clean_meta, safe_stem, sniff_suffix

log = logging.getLogger(__name__)

UPLOADS = "uploads"
MANIFEST = "manifest.yaml"
_ERRORS: dict[str, type[IngestError]] = {
    cls.code: cls
    for cls in (IngestError, UnsupportedFormatError, FileTooLargeError, UnsafePathError, EncryptedDocumentError,
                NoTextLayerError, ParseError, ParseTimeoutError, ParseMemoryError, WebFetchError)
}
def source_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]


class EditorService:
    """Documents, uploads, web sources and content gaps of one index (thread-safe; one writer at a time)."""

    _lock = threading.Lock()  # one editing operation per process; the pipeline's file lock covers processes

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.uploads = self.settings.index_dir / UPLOADS

    # -- documents --------------------------------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        docs = sorted(self.services.store.documents().values(), key=lambda d: d.ingested_at, reverse=True)
        return [self.describe(d) for d in docs]

    def describe(self, doc: DocumentRecord) -> dict[str, Any]:
        account = self._accounts().load(doc.doc_id) or {}
        return {
            "id": doc.doc_id,
            "source": doc.source,
            "title": doc.title,
            "publisher": doc.publisher,
            "year": doc.year,
            "doc_type": doc.doc_type,
            "topics": list(doc.topics),
            "pages": doc.page_count,
            "chunks": doc.chunk_count,
            "words_indexed": account.get("words_indexed"),
            "words_removed": account.get("words_removed", {}),
            "warnings": account.get("warnings", []),
            "updated_at": doc.ingested_at,
            "origin": self._origin(doc),  # additive: upload, web or folder
        }

    def document(self, doc_id: str) -> dict[str, Any]:
        """One document with its account and its chunks as indexed (what ``lotse show`` prints)."""
        doc = self._record(doc_id)
        chunks = sorted(self.services.store.live_chunks({doc.doc_id: doc}), key=lambda c: c.chunk_index)
        return self.describe(doc) | {
            "account": self._accounts().load(doc.doc_id),
            "chunk_texts": [{"page": c.page, "section": c.section, "text": c.text} for c in chunks],
        }

    def upload(self, filename: str, data: bytes, meta: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Index an uploaded file; (``added``/``updated``/``unchanged``, document). Refusals raise IngestError."""
        limit = self.settings.max_file_mb * 1024 * 1024
        shown = Path(filename.replace("\\", "/")).name[:120] or "upload"
        if len(data) > limit:
            raise FileTooLargeError(
                f"„{shown}“ ist zu groß ({len(data) / 2**20:.1f} MB, erlaubt sind {self.settings.max_file_mb} MB).",
                f"'{shown}' is too large ({len(data) / 2**20:.1f} MB, {self.settings.max_file_mb} MB allowed).",
            )
        name = safe_stem(shown) + sniff_suffix(data, shown)
        with self._lock:
            existing = self.services.store.documents().get(_doc_id(name))
            if existing is not None and Path(existing.root) != self.uploads.resolve():
                raise ConflictError(
                    f"Ein Dokument „{name}“ stammt bereits aus {existing.root}. Bitte die Datei umbenennen.",
                    f"A document '{name}' already comes from {existing.root}. Rename the file.",
                )
            path = self.uploads / name
            manifest = self._manifest()
            before_bytes = path.read_bytes() if path.exists() else None
            before_meta = manifest.get(name)
            entry = dict(before_meta or {}) | clean_meta(meta or {})
            if entry:
                manifest[name] = entry
            self._write(path, data)
            self._save_manifest(manifest)
            try:
                status = self._ingest(path, name)
            except BaseException:
                self._restore(path, name, before_bytes, before_meta)
                raise
        return status, self.describe(self._record(_doc_id(name)))

    def update(self, doc_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        """Change an uploaded document's metadata (re-indexed at once: the metadata is part of every chunk)."""
        fields = clean_meta(meta)
        if not fields:
            raise InputError("Keine Metadaten angegeben (title, publisher, year, doc_type, topics).",
                             "No metadata given (title, publisher, year, doc_type, topics).")
        with self._lock:
            doc = self._record(doc_id)
            if self._origin(doc) != "upload":
                raise ConflictError(
                    f"„{doc.source}“ wurde nicht hochgeladen; seine Metadaten stehen in der manifest.yaml von "
                    f"{doc.root}.",
                    f"'{doc.source}' was not uploaded; its metadata lives in the manifest.yaml of {doc.root}.",
                )
            manifest = self._manifest()
            before = manifest.get(doc.source)
            manifest[doc.source] = dict(before or {}) | fields
            self._save_manifest(manifest)
            try:
                self._ingest(self.uploads / doc.source, doc.source)
            except BaseException:
                self._restore(None, doc.source, None, before, keep_file=True)
                raise
        return self.describe(self._record(doc_id))

    def reindex(self, doc_id: str) -> dict[str, Any]:
        """Parse, chunk and embed a document again from its origin (upload, folder or web page)."""
        doc = self._record(doc_id)
        origin = self._origin(doc)
        if origin == "web":
            return {"document": self.describe(doc), "sync": self.sync_source(doc.root)}
        path = self.uploads / doc.source if origin == "upload" else Path(doc.root) / doc.source
        if not path.is_file():
            raise ConflictError(
                f"Die Datei von „{doc.source}“ ist nicht mehr da ({path}); der indexierte Stand bleibt.",
                f"The file of '{doc.source}' is gone ({path}); the indexed version stays.",
            )
        with self._lock:
            self._ingest(path, doc.source, force=True)
        return {"document": self.describe(self._record(doc_id))}

    def erase(self, doc_id: str) -> dict[str, Any]:
        """Erase a document everywhere, then check that nothing of it is left; returns what was checked."""
        store = self.services.store
        with self._lock:
            doc = self._record(doc_id)
            origin = self._origin(doc)
            removed = self.services.pipeline().remove(doc.doc_id)
            if removed is None:
                raise NotFoundError(*_not_found(doc_id))
            if origin == "upload":
                manifest = self._manifest()
                if manifest.pop(doc.source, None) is not None:
                    self._save_manifest(manifest)
                (self.uploads / doc.source).unlink(missing_ok=True)
        self.services.retriever.invalidate()
        snapshot = self.services.retriever.snapshot()
        others = any(d.content_sha256 == doc.content_sha256 for d in store.documents().values())
        copy = self.settings.files_dir / f"{doc.content_sha256}{doc.suffix}"
        checks = {
            "registry": doc.doc_id not in store.documents(),
            "chunks": not store.chunks_of(doc.doc_id),
            "stored_copy": others or not copy.exists(),
            "account": self._accounts().load(doc.doc_id) is None,
            "uploaded_file": not (self.uploads / doc.source).exists() if origin == "upload" else True,
            "lexical_index": doc.doc_id not in snapshot.live
            and all(c.doc_id != doc.doc_id for c in snapshot.by_id.values()),
        }
        if not all(checks.values()):
            log.error("erasure of %s incomplete: %s", doc.doc_id, checks)
        note = {
            "folder": (f"Die Datei liegt weiter in {doc.root}; sie kehrt beim nächsten 'lotse ingest' dieses "
                       "Ordners zurück, wenn sie dort nicht gelöscht wird.",
                       f"The file is still in {doc.root}; it returns with the next 'lotse ingest' of that folder "
                       "unless it is deleted there."),
            "web": ("Die Seite kehrt beim nächsten Sync zurück, solange die Web-Quelle registriert ist "
                    "(Quelle entfernen: lotse sources remove).",
                    "The page returns with the next sync while its web source is registered (remove the source: "
                    "lotse sources remove)."),
        }.get(origin)
        refresh = getattr(self.services.retriever, "refresh_s", 2.0)
        return {
            "erased": self.describe(doc) | {"words_indexed": None},
            "verified": all(checks.values()),
            "checks": checks,
            # Every other app process sees the new generation token at its next check, at most this late.
            "other_processes_within_s": refresh,
            **({"note": note[0], "note_en": note[1]} if note else {}),
        }

    # -- web sources ------------------------------------------------------------------------------------
    def sources(self) -> list[dict[str, Any]]:
        from ingest.web.sync import WebSources

        docs = self.services.store.documents().values()
        out = []
        for url, src in WebSources(self.settings.index_dir).load().items():
            out.append({
                "id": source_id(url), "url": url, "max_pages": src.max_pages, "added_at": src.added_at,
                "last_sync": src.last_sync, "last_result": src.last_result,
                "documents": sum(1 for d in docs if d.root == url),
            })
        return out

    def source_url(self, ref: str) -> str:
        for src in self.sources():
            if ref in (src["id"], src["url"]):
                return str(src["url"])
        # The reference is not echoed: the page's fields may carry anything, and a reply never repeats it.
        raise NotFoundError("Keine solche Web-Quelle. 'lotse sources' listet sie.",
                            "No such web source. 'lotse sources' lists them.")

    def sync_source(self, url: str, max_pages: int | None = None) -> dict[str, Any]:
        """Register (first time) and sync one web source; the sync's outcome plus the run's report."""
        from ingest.pipeline import IngestReport
        from ingest.web.fetch import WebLimits
        from ingest.web.sync import WebSources, sync_source

        report = IngestReport()
        with self._lock:
            outcome = sync_source(self.services.pipeline(), WebSources(self.settings.index_dir), url,
                                  WebLimits.from_settings(self.settings), report, max_pages,
                                  self.settings.web_max_pages)
        self.services.retriever.invalidate()
        return {"source": outcome.to_dict() | {"id": source_id(outcome.source)}, "report": report.to_contract()}

    def remove_source(self, ref: str) -> dict[str, Any]:
        """Unregister a web source and erase every document that came from it."""
        from ingest.web.sync import WebSources

        url = self.source_url(ref)
        registry = WebSources(self.settings.index_dir)
        pipeline = self.services.pipeline()
        with self._lock:
            erased = []
            for doc in [d for d in self.services.store.documents().values() if d.root == url]:
                if pipeline.remove(doc.doc_id) is not None:
                    erased.append(doc.source)
            sources = registry.load()
            sources.pop(url, None)
            registry.save(sources)
        self.services.retriever.invalidate()
        left = [d.source for d in self.services.store.documents().values() if d.root == url]
        return {"removed": url, "id": source_id(url), "documents_erased": erased, "verified": not left}

    # -- content gaps -----------------------------------------------------------------------------------
    def questions(self) -> dict[str, Any]:
        from assistant.questions import QuestionLog, content_gaps
        from assistant.retrieval.analyzer import GermanAnalyzer

        log_ = QuestionLog.of(self.services.store, self.settings)
        feedback = self.services.feedback.recent(limit=1_000_000)
        return content_gaps(log_, feedback, GermanAnalyzer().analyze)

    # -- internals --------------------------------------------------------------------------------------
    def _record(self, doc_id: str) -> DocumentRecord:
        doc = self.services.store.documents().get(doc_id)
        if doc is None:
            raise NotFoundError(*_not_found(doc_id))
        return doc

    def _origin(self, doc: DocumentRecord) -> str:
        if doc.root.startswith(("http://", "https://")):
            return "web"
        return "upload" if Path(doc.root) == self.uploads.resolve() else "folder"

    def _accounts(self) -> Any:
        from ingest.account import AccountStore

        return AccountStore(self.settings.index_dir / "accounts")

    def _ingest(self, path: Path, name: str, *, force: bool = False) -> str:
        report = self.services.pipeline().run([path], prune=False, force=force)
        self.services.retriever.invalidate()
        failed = next((f for f in report.failed if f.get("path") == name), report.failed[0] if report.failed else None)
        if failed is not None:
            cls = _ERRORS.get(str(failed.get("code")), IngestError)
            raise cls(str(failed["error"]), str(failed.get("error_en") or failed["error"]))
        if report.duplicates:
            dup = report.duplicates[0]
            raise ConflictError(
                f"Der Inhalt ist schon indexiert als „{dup['duplicate_of']}“.",
                f"This content is already indexed as '{dup['duplicate_of']}'.",
            )
        for status in ("added", "updated", "unchanged"):
            if name in getattr(report, status):
                return status
        return "unchanged"

    def _manifest(self) -> dict[str, dict[str, Any]]:
        try:
            data = yaml.safe_load((self.uploads / MANIFEST).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}

    def _save_manifest(self, manifest: dict[str, dict[str, Any]]) -> None:
        self._write(self.uploads / MANIFEST,
                    yaml.safe_dump(manifest, allow_unicode=True, sort_keys=True).encode("utf-8"))

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def _restore(
        self, path: Path | None, name: str, data: bytes | None, meta: dict[str, Any] | None, *, keep_file: bool = False
    ) -> None:
        """Put the upload folder back as it was before a refused upload or update."""
        manifest = self._manifest()
        if meta is None:
            manifest.pop(name, None)
        else:
            manifest[name] = meta
        self._save_manifest(manifest)
        if path is not None and not keep_file:
            if data is None:
                path.unlink(missing_ok=True)
            else:
                self._write(path, data)


def _doc_id(source: str) -> str:
    from ingest.chunking import doc_id_for

    return doc_id_for(source)


def _not_found(doc_id: str) -> tuple[str, str]:
    """Not echoed (see source_url)."""
    return ("Kein Dokument mit dieser ID im Index.", "No document with this id in the index.")
