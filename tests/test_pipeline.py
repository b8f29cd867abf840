"""Incremental, atomic ingest into a real embedded Chroma."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.errors import EmbeddingMismatchError, IndexLockedError
from assistant.store import ChromaStore
from tests.conftest import make_services

DOC_A = """---
title: Testleitfaden Anschlussfinanzierung
publisher: Testredaktion
year: 2025
doc_type: leitfaden
topics: [finanzierung]
---
# Testleitfaden Anschlussfinanzierung

## Folgekosten

Die Folgekosten einer urbanen Datenplattform betragen im Beispiel 120.000 Euro pro Jahr.
Sie müssen rechtzeitig im Haushaltsplan veranschlagt werden.

## Zweckverband

Ein Zweckverband kann den Betrieb für mehrere Gemeinden übernehmen und die Kosten nach Einwohnern verteilen.
"""

DOC_B = """Kommunikation mit dem Rat
=========================

Der Rat entscheidet über die Verstetigung. Eine kurze Beschlussvorlage mit Folgekosten hilft.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    _write(folder, "a.md", DOC_A)
    _write(folder, "sub/b.txt", DOC_B)
    return folder


def _sources(services) -> set[str]:  # type: ignore[no-untyped-def]
    return {d.source for d in services.store.documents().values()}


def test_incremental_add_unchanged_update_remove(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    services = make_services(tmp_path / "idx", embedder)
    pipeline = services.pipeline()

    first = pipeline.run([docs])
    assert sorted(first.added) == ["a.md", "sub/b.txt"] and not first.failed
    assert first.documents == 2 and first.chunks == services.store.count()

    again = pipeline.run([docs])
    assert again.embedded_chunks == 0, "an unchanged folder must cost no embedding work"
    assert sorted(again.unchanged) == ["a.md", "sub/b.txt"]

    _write(docs, "a.md", DOC_A.replace("120.000", "95.000"))
    _write(docs, "c.md", "# Neu\n\nEin neues Dokument über Wirkungsindikatoren und Baselines.\n")
    (docs / "sub" / "b.txt").unlink()
    third = pipeline.run([docs])
    assert third.updated == ["a.md"] and third.added == ["c.md"] and third.removed == ["sub/b.txt"]
    assert _sources(services) == {"a.md", "c.md"}
    texts = " ".join(c.text for c in services.store.live_chunks())
    assert "95.000" in texts and "120.000" not in texts
    # No chunk of an old version, no chunk of a removed document is left behind.
    assert services.store.count() == sum(d.chunk_count for d in services.store.documents().values())


def test_chunks_carry_metadata_and_offsets(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    services = make_services(tmp_path / "idx", embedder)
    services.pipeline().run([docs])
    chunks = [c for c in services.store.live_chunks() if c.source == "a.md"]
    assert chunks, "a.md produced no chunks"
    assert {c.title for c in chunks} == {"Testleitfaden Anschlussfinanzierung"}
    assert any(c.section == "Zweckverband" for c in chunks)
    assert all(c.metadata["publisher"] == "Testredaktion" and c.metadata["year"] == 2025 for c in chunks)
    assert all(c.metadata.get("factor_finanzierung") for c in chunks)
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids))
    # Deterministic ids: a fresh index over the same content gives the same ids.
    other = make_services(tmp_path / "idx2", embedder)
    other.pipeline().run([docs])
    assert sorted(ids) == sorted(c.id for c in other.store.live_chunks() if c.source == "a.md")


def test_one_bad_file_does_not_spoil_the_run(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    (docs / "kaputt.pdf").write_bytes(b"%PDF-1.7\n this is not really a pdf")
    (docs / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (docs / "leer.txt").write_text("", encoding="utf-8")
    services = make_services(tmp_path / "idx", embedder)
    report = services.pipeline().run([docs])
    failed = {f["path"]: f["error"] for f in report.failed}
    assert set(failed) == {"kaputt.pdf", "bild.png", "leer.txt"}
    assert "nicht unterstützt" in failed["bild.png"]
    assert sorted(report.added) == ["a.md", "sub/b.txt"]
    for message in failed.values():
        assert "Traceback" not in message and len(message) < 600


def test_duplicate_content_is_indexed_once(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    _write(docs, "kopie-von-a.md", DOC_A)
    services = make_services(tmp_path / "idx", embedder)
    report = services.pipeline().run([docs])
    assert report.duplicates == [
        {"path": "kopie-von-a.md", "duplicate_of": "a.md", "error": report.duplicates[0]["error"]}
    ]
    assert _sources(services) == {"a.md", "sub/b.txt"}


def test_erasure_removes_chunks_and_file_copy(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    services = make_services(tmp_path / "idx", embedder)
    services.pipeline().run([docs])
    record = next(d for d in services.store.documents().values() if d.source == "a.md")
    copy = services.settings.files_dir / f"{record.content_sha256}{record.suffix}"
    assert copy.is_file()
    removed = services.pipeline().remove("a.md")
    assert removed is not None and removed.source == "a.md"
    assert not copy.exists()
    assert services.store.chunks_of(record.doc_id) == []
    result = services.retriever.retrieve("Folgekosten urbane Datenplattform Zweckverband", k=10)
    assert all(h.chunk.source != "a.md" for h in result.hits)


def test_second_writer_is_refused(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from filelock import FileLock

    services = make_services(tmp_path / "idx", embedder)
    pipeline = services.pipeline()
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with FileLock(str(pipeline.lock_path)):
            held.set()
            release.wait(10)

    pipeline.lock_path.parent.mkdir(parents=True, exist_ok=True)
    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    try:
        with pytest.raises(IndexLockedError, match="anderer Ingest"):
            pipeline.run([docs])
    finally:
        release.set()
        t.join()
    assert pipeline.run([docs]).documents == 2


def test_other_embedding_model_is_refused(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    services = make_services(tmp_path / "idx", embedder)
    services.pipeline().run([docs])
    services.store.reopen()
    other = ChromaStore("openai:text-embedding-3-small", 1536, path=tmp_path / "idx" / "chroma")
    with pytest.raises(EmbeddingMismatchError, match="--reset"):
        other.documents()


def test_half_written_update_stays_invisible(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Chunks of a new version written without the registry flip (a crash) are never retrieved."""
    import numpy as np

    from assistant.types import Chunk

    services = make_services(tmp_path / "idx", embedder)
    services.pipeline().run([docs])
    record = next(d for d in services.store.documents().values() if d.source == "a.md")
    ghost = Chunk(
        id=f"{record.doc_id}:deadbeef:00000", doc_id=record.doc_id, version="deadbeef",
        text="Geisterabschnitt über Folgekosten", source="a.md", title="x", page=None, section="",
        chunk_index=0, char_start=0, char_end=10,
    )
    services.store.add_chunks([ghost], np.asarray([embedder.embed_passages([ghost.text])[0]]))
    result = services.retriever.retrieve("Geisterabschnitt über Folgekosten", k=10)
    assert all("Geister" not in h.chunk.text for h in result.hits)
    report = services.pipeline().run([docs])
    assert report.embedded_chunks == 0
    assert services.store.count() == report.chunks, "the orphan is collected on the next ingest"


def test_reset_lets_another_embedding_model_take_over(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    services = make_services(tmp_path / "idx", embedder)
    services.pipeline().run([docs])
    services.store.reopen()
    other = ChromaStore("openai:text-embedding-3-small", 1536, path=tmp_path / "idx" / "chroma")
    other.reset()
    assert other.documents() == {} and other.count() == 0


def test_damaged_index_names_the_rebuild_and_reset_rebuilds(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """A damaged Chroma file: a clear error with the rebuild command; `--reset` moves it aside and starts anew."""
    from assistant.errors import StoreUnavailableError

    services = make_services(tmp_path / "idx", embedder)
    services.pipeline().run([docs])
    services.store.reopen()
    database = tmp_path / "idx" / "chroma" / "chroma.sqlite3"
    damaged = bytearray(database.read_bytes())
    damaged[:4096] = b"x" * 4096
    database.write_bytes(bytes(damaged))

    broken = make_services(tmp_path / "idx", embedder)
    with pytest.raises(StoreUnavailableError, match="beschädigt.*--reset"):
        broken.store.documents()
    broken.store.reset()
    report = broken.pipeline().run([docs])
    assert report.documents == 2 and not report.failed
    assert _sources(broken) == {"a.md", "sub/b.txt"}
    assert len(list((tmp_path / "idx").glob("chroma.beschaedigt-*"))) == 1, "the damaged folder is kept aside"


def test_ignore_setting_skips_files_in_folders_one_cannot_write_to(docs: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    _write(docs, "README.md", "# Über diese Sammlung\n\nDiese Sammlung enthält Leitfäden zur Verstetigung.\n")
    _write(docs, "LICENSE", "MIT License")
    plain = make_services(tmp_path / "plain", embedder)
    plain.pipeline().run([docs])
    assert "README.md" in _sources(plain)  # without the setting it is a document like any other
    services = make_services(tmp_path / "idx", embedder, ingest_ignore="README.md, LICENSE")
    report = services.pipeline().run([docs])
    assert not report.failed, report.failed  # LICENSE is skipped, not refused as an unknown type
    assert "README.md" not in _sources(services) and _sources(services)
