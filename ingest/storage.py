"""What the ingest writes besides Chroma: content-addressed document copies, the writer lock that keeps a second
ingest out, and clear messages when the index cannot be written at all (disk full, read-only, broken device).

Copies are named ``<sha256><suffix>`` and written to a temporary name first, then renamed: a crash leaves at
worst a stray temporary file or a copy no document refers to, and :meth:`DocumentCopies.collect_strays`
removes both on the next run (an erased document must not leave its file behind).
"""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.errors import IndexError_, IndexLockedError

log = logging.getLogger(__name__)

_COPY = re.compile(r"^[0-9a-f]{64}(\.[a-z0-9]{1,10})?$")
_TMP = re.compile(r"^\.[0-9a-f]{64}(\.[a-z0-9]{1,10})?\.\d+\.tmp$")

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
# How SQLite (Chroma) and the OS describe the same failures in text, when no errno travels with the exception.
_FULL_TEXT = ("disk is full", "no space left", "file too large", "quota exceeded")
_READ_ONLY_TEXT = ("readonly database", "read-only file system", "permission denied")
_IO_TEXT = ("disk i/o error", "input/output error")


def storage_kind(exc: BaseException | None) -> str | None:
    """"full", "read_only", "io" or None: what kind of storage failure ``exc`` (or its cause) is."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _FULL:
            return "full"
        if isinstance(exc, OSError) and exc.errno in _READ_ONLY:
            return "read_only"
        text = str(exc).lower()
        for kind, needles in (("full", _FULL_TEXT), ("read_only", _READ_ONLY_TEXT), ("io", _IO_TEXT)):
            if any(n in text for n in needles):
                return kind
        exc = exc.__cause__ or exc.__context__
    return None


def index_write_error(where: object, exc: BaseException) -> IndexError_ | None:
    """A clear German/English error for a failed write to the index, or None if ``exc`` is no storage failure."""
    kind = storage_kind(exc)
    kept_de = "Der bisherige Index bleibt unverändert und abrufbar."
    kept_en = "The existing index stays unchanged and available."
    if kind == "full":
        return IndexError_(
            f"Der Index ({where}) kann nicht geschrieben werden: Der Speicherplatz ist erschöpft (Datenträger voll "
            f"oder Grenze für Dateigrößen erreicht). Bitte Speicherplatz freigeben und den Ingest wiederholen. {kept_de}",
            f"The index ({where}) cannot be written: out of storage space (disk full or file size limit reached). "
            f"Free some space and run the ingest again. {kept_en}",
        )
    if kind == "read_only":
        return IndexError_(
            f"Der Index ({where}) kann nicht geschrieben werden: Der Ordner ist schreibgeschützt (fehlende "
            "Schreibrechte oder schreibgeschützter Datenträger). Bitte die Schreibrechte prüfen oder mit --index "
            f"bzw. LOTSE_INDEX_DIR einen beschreibbaren Ordner wählen. {kept_de}",
            f"The index ({where}) cannot be written: the folder is read-only (no write permission or a read-only "
            f"device). Check the permissions or choose a writable folder with --index or LOTSE_INDEX_DIR. {kept_en}",
        )
    if kind == "io":
        return IndexError_(
            f"Der Index ({where}) kann nicht geschrieben werden: Schreibfehler des Datenträgers (voll, "
            f"schreibgeschützt oder defekt). Bitte freien Speicher und Schreibrechte prüfen. {kept_de}",
            f"The index ({where}) cannot be written: the storage device reported a write error (full, read-only or "
            f"damaged). Check free space and permissions. {kept_en}",
        )
    return None


def raise_write_error(where: object, exc: OSError) -> None:
    """Re-raise a failed local write as an IndexError_ (the generic form when the cause is unknown)."""
    mapped = index_write_error(where, exc)
    if mapped is None:
        detail = exc.strerror or type(exc).__name__
        mapped = IndexError_(
            f"Der Index ({where}) kann nicht geschrieben werden ({detail}). Bitte Speicherplatz und Schreibrechte "
            "prüfen. Der bisherige Index bleibt unverändert und abrufbar.",
            f"The index ({where}) cannot be written ({detail}). Check free space and permissions. The existing "
            "index stays unchanged and available.",
        )
    raise mapped from exc


class DocumentCopies:
    """The content-addressed copies served for citation links (and parsed from) in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, digest: str, suffix: str) -> Path:
        return self.folder / f"{digest}{suffix}"

    def keep(self, data: bytes, digest: str, suffix: str) -> Path:
        """Store ``data`` under its digest (no-op when an intact copy exists); returns the copy's path."""
        target = self.path(digest, suffix)
        try:
            if target.is_file() and target.stat().st_size == len(data):
                return target
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as e:
            raise_write_error(self.folder, e)
        return target

    def drop(self, digest: str, suffix: str, still_used: bool) -> None:
        if still_used:
            return
        try:
            self.path(digest, suffix).unlink(missing_ok=True)
        except OSError as e:
            raise_write_error(self.folder, e)

    def collect_strays(self, wanted: Iterable[str]) -> int:
        """Delete copies no live document refers to and temporary files left by a crash; returns how many."""
        keep = set(wanted)
        removed = 0
        try:
            entries = list(os.scandir(self.folder)) if self.folder.is_dir() else []
            for entry in entries:
                stray = _TMP.match(entry.name) or (_COPY.match(entry.name) and entry.name not in keep)
                if stray and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed += 1
        except OSError as e:
            raise_write_error(self.folder, e)
        if removed:
            log.info("removed %d stray document copies", removed)
        return removed


def writer_lock(lock_path: Path, timeout: float) -> FileLock:
    """The index's writer lock, held; a second writer gets IndexLockedError, an unwritable index a clear IndexError_."""
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout as e:
        raise IndexLockedError(
            f"Ein anderer Ingest schreibt gerade in diesen Index ({lock_path.parent}). "
            "Warten Sie, bis er fertig ist, und starten Sie dann erneut.",
            f"Another ingest is writing to this index ({lock_path.parent}). "
            "Wait until it has finished, then start again.",
        ) from e
    except OSError as e:
        raise_write_error(lock_path.parent, e)
    return lock
