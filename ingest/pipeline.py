"""The incremental ingest run.

For every file below the given folders: read the bytes once, hash them, keep a content-addressed copy (served for
citation links and parsed from, so a file changing while it is read cannot mix two states), parse it in isolation,
chunk, embed and commit it (see :mod:`assistant.store` for why a commit is atomic). A content hash that did not
change means no work at all. Files gone from a folder are removed from the index. One bad file is reported and
the run goes on.

What users are promised when things go wrong:

* A file that cannot be indexed (damaged, hostile, refused; see :mod:`ingest.sources`) is listed in the report
  with a German reason (``error``, English in ``error_en``). If an earlier version of it is indexed, that version
  stays live and the reason says so: a broken upload must not silently withdraw a document. Deleting the file (or
  ``lotse remove``) withdraws it.
* The same content under two names is indexed once; when the file that held it is renamed or deleted, another
  file with that content takes over in the same run, so the content never drops out of the index.
* A crash (``kill -9``) at any point leaves the previous state live; the next run removes orphaned chunks and
  stray document copies and finishes the work.
* When the index cannot be written (disk full, read-only, device error) the run stops with one clear
  ``IndexError_`` instead of failing file by file; what was committed before stays consistent and served.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.embeddings import Embedder
from assistant.errors import IngestError, StoreUnavailableError
from assistant.store import ChromaStore, DocumentRecord
from ingest.account import AccountStore
from ingest.chunking import CHUNKER_VERSION, chunk_document, doc_id_for
from ingest.loaders import ParseLimits, load_file
from ingest.manifest import FolderRules, load_rules, resolve_metadata
from ingest.report import IngestReport, progress
from ingest.sources import Candidate, read_candidate, read_error, shown, walk
from ingest.storage import DocumentCopies, index_write_error, writer_lock

log = logging.getLogger(__name__)

EMBED_BATCH = 32
#: A file that takes longer is named on stderr (progress without a terminal). Long enough that an ordinary run
#: (model load and a few small files on a busy two-core host) stays silent, short enough that a stuck one shows.
SLOW_FILE_S = 30.0


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class _RunState:
    """Bookkeeping of one run: the live registry, who holds which content, which files had their turn."""

    docs: dict[str, DocumentRecord]
    owners: dict[str, str]  # content sha256 -> source of the live document holding it
    settled: set[str] = field(default_factory=set)  # sources processed in this run (any outcome)
    prune_roots: set[str] = field(default_factory=set)  # roots whose vanished files are removed in this run

    def owner_is_leaving(self, owner: str) -> bool:
        """The owner's file was not seen (yet) in a folder that is being pruned: it may be gone."""
        record = self.docs.get(doc_id_for(owner))
        return owner not in self.settled and record is not None and record.root in self.prune_roots


class IngestPipeline:
    """Keeps the index in step with folders of documents.

    Args:
        store: Where chunks and the registry live.
        embedder: Makes the passage vectors (the store checks it matches the index).
        files_dir: Where document copies are kept for citation links.
        lock_path: File lock that keeps a second writer out.
        limits: Parser limits per file.
        progress: Show a progress bar (on a terminal).
        ignore: Patterns skipped in every folder, as if listed in its ``.lotseignore`` (for folders one cannot
            write to, e.g. a read-only share whose README and licence files are not documents).
    """

    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        files_dir: Path,
        lock_path: Path,
        limits: ParseLimits | None = None,
        progress: bool = False,
        ignore: Sequence[str] = (),
    ) -> None:
        self.ignore = list(ignore)
        self.store = store
        self.embedder = embedder
        self.files_dir = files_dir
        self.lock_path = lock_path
        self.limits = limits or ParseLimits()
        self.progress = progress
        self._force = False

    # -- public ----------------------------------------------------------------------------------------
    def run(self, paths: Sequence[Path], *, prune: bool = True, force: bool = False) -> IngestReport:
        """Ingest files and folders. With ``prune``, documents whose file left an ingested folder are removed.
        With ``force``, unchanged files are parsed and embedded again (the editors' "re-index")."""
        report = IngestReport()
        self._force = force
        start = time.perf_counter()
        lock = writer_lock(self.lock_path, timeout=0)
        try:
            with self._index_writes():
                self.store.collect_orphans()
                docs = self.store.documents()
                self.copies.collect_strays(f"{d.content_sha256}{d.suffix}" for d in docs.values())
                state = _RunState(docs, {d.content_sha256: d.source for d in docs.values()})
                for root, candidates, rules in self._expand(paths, report):
                    report.warnings.extend(rules.warnings)
                    if prune and root is not None:
                        state.prune_roots.add(str(root))
                    present: set[str] = set()
                    waiting: list[Candidate] = []
                    for cand in progress(candidates, "Dokumente", self.progress, SLOW_FILE_S):
                        present.add(doc_id_for(cand.source))
                        if not self._ingest_one(cand, rules, state, report, may_wait=True):
                            waiting.append(cand)
                    for cand in waiting:  # duplicates of content whose file may have been renamed or deleted
                        self._ingest_one(cand, rules, state, report, may_wait=False)
                    if prune and root is not None:
                        self._prune(root, present, state, report)
                final = self.store.documents()
            report.documents = len(final)
            report.chunks = sum(d.chunk_count for d in final.values())
        finally:
            lock.release()
        report.seconds = time.perf_counter() - start
        return report

    def run_web(
        self, root: str, candidates: Sequence[Candidate], keep: set[str], report: IngestReport, *, prune: bool
    ) -> IngestReport:
        """Index the fetched documents of the web source ``root`` (see :mod:`ingest.web`) into ``report``.

        With ``prune``, a document of this source is removed unless it was fetched now or its URL is in
        ``keep`` (unchanged since the last sync, or failing for now: its indexed version stays).
        """
        lock = writer_lock(self.lock_path, timeout=0)
        try:
            with self._index_writes():
                docs = self.store.documents()
                state = _RunState(docs, {d.content_sha256: d.source for d in docs.values()})
                present = {doc_id_for(url) for url in keep}
                for cand in candidates:
                    present.add(doc_id_for(cand.source))
                    self._ingest_one(cand, FolderRules(), state, report, may_wait=False)
                if prune:
                    self._prune(root, present, state, report)
                final = self.store.documents()
            report.documents = len(final)
            report.chunks = sum(d.chunk_count for d in final.values())
        finally:
            lock.release()
        return report

    def remove(self, ref: str) -> DocumentRecord | None:
        """Erase one document by source path, doc id or title; returns what was removed (None if unknown)."""
        lock = writer_lock(self.lock_path, timeout=10)
        try:
            with self._index_writes():
                docs = self.store.documents()
                match = next(
                    (
                        d
                        for d in docs.values()
                        if ref in (d.doc_id, d.source, d.title) or d.source.endswith("/" + ref)
                    ),
                    None,
                )
                if match is None:
                    return None
                self.store.remove_document(match.doc_id)
                self._drop_copy(match, docs)
                self.accounts.drop(match.doc_id)
                return match
        finally:
            lock.release()

    # -- internals -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _index_writes(self) -> Iterator[None]:
        """Turn a store failure caused by a full, read-only or broken disk into one clear message."""
        try:
            yield
        except StoreUnavailableError as e:
            mapped = index_write_error(self.store.target, e)
            if mapped is None:
                raise
            log.info("index write failed: %s", e)
            raise mapped from e

    def _expand(
        self, paths: Sequence[Path], report: IngestReport
    ) -> Iterator[tuple[Path | None, list[Candidate], FolderRules]]:
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                root = path.resolve()
                rules = load_rules(root)
                rules.ignore += self.ignore
                refused: list[tuple[str, IngestError]] = []
                candidates = walk(root, rules, refused)
                for rel, error in refused:
                    report.fail(rel, error, previous_kept=False)
                yield root, candidates, rules
            elif path.is_file() or path.is_symlink():
                root = path.parent.resolve()
                rules = load_rules(root)
                yield None, [Candidate(path, root, path.name)], rules
            else:
                name = shown(str(path))
                report.failed.append(
                    {
                        "path": name,
                        "error": f"Nicht gefunden: „{name}“ ist weder Datei noch Ordner.",
                        "error_en": f"Not found: '{name}' is neither a file nor a folder.",
                        "code": "not_found",
                    }
                )

    def _ingest_one(
        self, cand: Candidate, rules: FolderRules, state: _RunState, report: IngestReport, *, may_wait: bool
    ) -> bool:
        """Index one file (or report why not). False: it duplicates content whose owner has not had its turn
        yet; call again once the rest of the folder is done."""
        docs = state.docs
        previous = docs.get(doc_id_for(cand.source))
        copy: Path | None = None
        try:
            data = read_candidate(cand, self.limits)
            digest = _sha256(data)
            owner = state.owners.get(digest)
            if owner is not None and owner != cand.source:
                if not state.owner_is_leaving(owner):
                    self._duplicate(cand.source, owner, previous, state, report)
                    return True
                if may_wait:
                    return False
                # The owner's file is gone (renamed or deleted): this file takes the content over.
            manifest_meta = rules.manifest.get(cand.source, {})
            version = _sha256(
                f"{digest}|{json.dumps(manifest_meta, sort_keys=True, default=str)}|{CHUNKER_VERSION}".encode()
            )[:16]
            if previous is not None and previous.version == version and not self._force:
                report.unchanged.append(cand.source)
                state.owners[digest] = cand.source
                state.settled.add(cand.source)
                return True
            copy = self.copies.keep(data, digest, cand.path.suffix.lower())
            record = self._index(cand, copy, digest, version, rules, report)
            self.store.commit_document(record)  # the flip: new version live, old one invisible
            self.store.delete_chunks(record.doc_id, keep_version=version)
            if self._force:  # same version re-made: chunks past the new count would otherwise stay live
                self.store.delete_chunk_ids([c.id for c in self.store.chunks_of(record.doc_id)
                                             if c.version == version and c.chunk_index >= record.chunk_count])
            docs[record.doc_id] = record
            if previous is not None and previous.content_sha256 != digest:
                if state.owners.get(previous.content_sha256) == cand.source:
                    del state.owners[previous.content_sha256]
                self._drop_copy(previous, docs)
            state.owners[digest] = cand.source
            (report.updated if previous is not None else report.added).append(cand.source)
        except IngestError as e:
            log.info("skipped %s: %s", shown(cand.source), e)
            report.fail(cand.source, e, previous_kept=previous is not None)
            self._discard(copy, docs)
        except OSError as e:  # reading the source failed (writes to the index raise IndexError_)
            report.fail(cand.source, read_error(cand.source, e), previous_kept=previous is not None)
            self._discard(copy, docs)
        state.settled.add(cand.source)
        return True

    def _duplicate(
        self, source: str, owner: str, previous: DocumentRecord | None, state: _RunState, report: IngestReport
    ) -> None:
        """``source`` holds the content ``owner`` already holds: reported, not indexed twice."""
        report.duplicates.append(
            {
                "path": source,
                "duplicate_of": owner,
                "error": f"Inhalt identisch mit {owner}; wird nur einmal indexiert.",
            }
        )
        if previous is not None:  # its own earlier content is in no file any more
            self._withdraw(previous, state)
            report.removed.append(source)
        state.settled.add(source)

    def _index(
        self, cand: Candidate, copy: Path, digest: str, version: str, rules: FolderRules, report: IngestReport
    ) -> DocumentRecord:
        """Parse, chunk, embed and write the chunks of one file; returns the record to commit."""
        doc_id = doc_id_for(cand.source)
        loaded = load_file(copy, self.limits, name=cand.source)
        meta = resolve_metadata(cand.source, loaded.metadata, loaded.title, rules)
        for warning in loaded.warnings:
            report.warnings.append(f"{cand.source}: {warning}")
        account = loaded.account.to_dict() if loaded.account is not None else None
        chunk_meta = {k: meta[k] for k in ("publisher", "year", "doc_type", "topics", "language", "licence")}
        chunk_meta.update({f"factor_{f}": True for f in meta["factors"]})
        chunks = chunk_document(
            loaded,
            doc_id=doc_id,
            version=version,
            source=cand.source,
            title=meta["title"],
            metadata=chunk_meta,
        )
        if not chunks:
            raise IngestError(
                f"„{cand.source}“: kein indexierbarer Text gefunden.",
                f"'{cand.source}': no indexable text found.",
            )
        self._embed_and_write(chunks, report)
        if account is not None:
            account["chunks"] = len(chunks)
            report.accounts[cand.source] = account
            self.accounts.save(doc_id, account)
        return DocumentRecord(
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

    @property
    def copies(self) -> DocumentCopies:
        return DocumentCopies(self.files_dir)

    @property
    def accounts(self) -> AccountStore:
        return AccountStore(self.files_dir.parent / "accounts")

    def _drop_copy(self, record: DocumentRecord, docs: dict[str, DocumentRecord]) -> None:
        still_used = any(
            d.content_sha256 == record.content_sha256 and d.doc_id != record.doc_id for d in docs.values()
        )
        self.copies.drop(record.content_sha256, record.suffix, still_used)

    def _discard(self, copy: Path | None, docs: dict[str, DocumentRecord]) -> None:
        """Delete a copy made for a file that then failed, unless a live document uses it."""
        if copy is not None and copy.name not in {f"{d.content_sha256}{d.suffix}" for d in docs.values()}:
            self.copies.drop(copy.stem, copy.suffix, still_used=False)

    def _embed_and_write(self, chunks: list[Any], report: IngestReport) -> None:
        texts = [c.contextual_text for c in chunks]
        import numpy as np

        vectors = [
            self.embedder.embed_passages(texts[i : i + EMBED_BATCH])
            for i in range(0, len(texts), EMBED_BATCH)
        ]
        self.store.add_chunks(chunks, np.concatenate(vectors))
        report.embedded_chunks += len(chunks)
        report.embedded_chars += sum(len(t) for t in texts)

    def _withdraw(self, doc: DocumentRecord, state: _RunState) -> None:
        """Remove a document from the index (registry first, so it is invisible at once) and forget its copy."""
        self.store.remove_document(doc.doc_id)
        self.accounts.drop(doc.doc_id)
        state.docs.pop(doc.doc_id, None)
        self._drop_copy(doc, state.docs)
        if state.owners.get(doc.content_sha256) == doc.source:
            del state.owners[doc.content_sha256]

    def _prune(self, root: Path | str, present: set[str], state: _RunState, report: IngestReport) -> None:
        for doc in list(state.docs.values()):
            if doc.root == str(root) and doc.doc_id not in present:
                self._withdraw(doc, state)
                report.removed.append(doc.source)
