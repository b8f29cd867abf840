"""Finding and reading the files of an ingest folder, and refusing what must not be read.

A file is read once per run, in full, through one file descriptor: the pipeline hashes exactly these bytes and
parses a copy of exactly these bytes, so a file that changes while it is read can never mix two versions.
Refused, each with a German reason (English in ``message_en``) that names the file in a safe form:

* names with control or format characters (line breaks, terminal escape codes, direction overrides), names that
  are not valid UTF-8, names with angle brackets (markup; Windows does not allow them either) and paths longer
  than ``MAX_SOURCE_CHARS``;
* symlinks that lead out of the ingest folder, to files or to folders. Folder links are never followed (a link
  inside the folder would only ingest the same files twice);
* anything that is not a regular file: a named pipe would block the run forever, a device never ends;
* files over the size limit, also when they grow while being read.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import FileTooLargeError, IngestError, UnsafePathError, UnsupportedFormatError
from ingest.loaders import SUPPORTED_SUFFIXES, ParseLimits
from ingest.manifest import FolderRules

MAX_SOURCE_CHARS = 1000
#: Longest file path a report shows (real folder paths reach 150 characters); longer ones keep start and end.
SHOWN_CHARS = 240


@dataclass(frozen=True)
class Candidate:
    path: Path
    root: Path | str  # a folder, or the URL of a web source
    source: str  # path relative to root, POSIX separators; for a web document its URL
    fetched: bool = False  # a crawler's own download of ``source`` (no folder to stay inside)


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not valid UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _harmless(ch: str) -> bool:
    # Unicode spaces (no-break space, thin space) are common in names copied from documents and harmless.
    return ch.isprintable() or unicodedata.category(ch) == "Zs"


def shown(name: str) -> str:
    """A file name as reports show it: control and format characters escaped (``\\n``, ``\\x1b``, ``\\u202e``),
    bytes that are not UTF-8 as ``\\xff``, at most ``SHOWN_CHARS`` characters. Safe in a terminal, a log and
    JSON encoded as UTF-8 (no lone surrogates)."""
    text = "".join(ch if _harmless(ch) else _escape(ch) for ch in name)
    return text if len(text) <= SHOWN_CHARS else text[:100] + "…" + text[-(SHOWN_CHARS - 101) :]


def name_problem(rel: str) -> tuple[str, str] | None:
    """Why a relative path must not become a document source (German, English), or None."""
    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in rel):
        return (
            "Der Dateiname ist kein gültiger UTF-8-Text (falsche Zeichenkodierung).",
            "The file name is not valid UTF-8 (wrong character encoding).",
        )
    if not all(_harmless(ch) for ch in rel):
        return (
            "Der Dateiname enthält Steuer- oder Formatzeichen (z. B. einen Zeilenumbruch, einen Terminal-Steuercode "
            "oder einen Wechsel der Schreibrichtung).",
            "The file name contains control or format characters (e.g. a line break, a terminal escape code or a "
            "text direction override).",
        )
    if "<" in rel or ">" in rel:
        return (
            "Der Dateiname enthält spitze Klammern (< >), wie sie in HTML-Code vorkommen.",
            "The file name contains angle brackets (< >) as used in HTML code.",
        )
    if len(rel) > MAX_SOURCE_CHARS:
        return (
            f"Der Dateipfad ist länger als {MAX_SOURCE_CHARS} Zeichen.",
            f"The file path is longer than {MAX_SOURCE_CHARS} characters.",
        )
    return None


def _outside(name: str, target: Path, folder: bool = False) -> UnsafePathError:
    what_de, what_en = ("Ordner-Verknüpfung", "folder link") if folder else ("Verknüpfung", "link")
    return UnsafePathError(
        f"„{name}“ ist eine {what_de} (Symlink) auf „{shown(str(target))}“ außerhalb des Ingest-Ordners und wird "
        "nicht gelesen. Bitte die Dateien selbst in den Ordner legen.",
        f"'{name}' is a {what_en} (symlink) to '{shown(str(target))}' outside the ingest folder and is not read. "
        "Put the files themselves into the folder.",
    )


def _not_regular(name: str) -> IngestError:
    return IngestError(
        f"„{name}“ ist keine normale Datei (sondern z. B. eine Named Pipe, ein Gerät oder ein Socket) und wird "
        "nicht gelesen.",
        f"'{name}' is not a regular file (but e.g. a named pipe, a device or a socket) and is not read.",
    )


_READ_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOENT: (
        "die Datei ist nicht mehr vorhanden oder eine Verknüpfung ins Leere",
        "the file is gone or a dangling link",
    ),
    errno.EACCES: ("keine Leserechte", "no read permission"),
    errno.EPERM: ("keine Leserechte", "no read permission"),
    errno.ELOOP: (
        "die Verknüpfung hat sich beim Lesen geändert oder ist zyklisch",
        "the link changed while it was read or is cyclic",
    ),
    errno.EIO: ("Lesefehler des Datenträgers", "read error of the storage device"),
    errno.EISDIR: ("ein Ordner, keine Datei", "a folder, not a file"),
}


def read_error(source: str, e: OSError) -> IngestError:
    """A German message for a source file that could not be read."""
    de, en = _READ_REASONS.get(e.errno or 0, (e.strerror or type(e).__name__,) * 2)
    name = shown(source)
    return IngestError(
        f"„{name}“ kann nicht gelesen werden ({de}). Bitte Datei, Dateirechte und Pfad prüfen.",
        f"'{name}' cannot be read ({en}). Check the file, its permissions and the path.",
    )


def walk(root: Path, rules: FolderRules, refused: list[tuple[str, IngestError]]) -> list[Candidate]:
    """The files below ``root`` in a stable order; folder links leading outside are added to ``refused``."""
    found: list[Candidate] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        keep: list[str] = []
        for d in sorted(dirnames):
            rel = (base / d).relative_to(root).as_posix()
            if d.startswith(".") or rules.is_ignored(rel + "/x"):
                continue
            if (base / d).is_symlink():
                target = (base / d).resolve()
                if not target.is_relative_to(root):
                    refused.append((rel + "/", _outside(shown(rel) + "/", target, folder=True)))
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = (base / name).relative_to(root).as_posix()
            if name.startswith(".") or rules.is_ignored(rel):
                continue
            found.append(Candidate(base / name, root, rel))
    return found


def read_candidate(cand: Candidate, limits: ParseLimits) -> bytes:
    """All bytes of a candidate, or an IngestError saying why it is refused (OSError for other read failures)."""
    problem = name_problem(cand.source)
    name = shown(cand.source)
    if problem:
        raise UnsafePathError(
            f"„{name}“: {problem[0]} Bitte die Datei umbenennen.", f"'{name}': {problem[1]} Rename the file."
        )
    real = cand.path.resolve()
    if not cand.fetched and not real.is_relative_to(cand.root):
        raise _outside(name, real)
    suffix = cand.path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFormatError(
            f"„{name}“: Dateityp „{suffix or '(ohne Endung)'}“ wird nicht unterstützt. "
            f"Unterstützt: {', '.join(sorted(SUPPORTED_SUFFIXES))}.",
            f"'{name}': file type '{suffix or '(none)'}' is not supported.",
        )
    if not stat.S_ISREG(os.stat(real).st_mode):
        raise _not_regular(name)
    # O_NOFOLLOW: a link swapped in after the check above is not followed; O_NONBLOCK: a named pipe swapped in
    # cannot block the open (the fstat below refuses it).
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(name)
        if st.st_size > limits.max_file_bytes:
            raise _too_large(name, st.st_size, limits.max_file_bytes)
        data = fh.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise _too_large(name, len(data), limits.max_file_bytes, grew=True)
    return data


def _too_large(name: str, size: int, limit: int, *, grew: bool = False) -> FileTooLargeError:
    mb, limit_mb = f"{size / 1e6:.1f}".replace(".", ","), f"{limit / 1e6:.0f}"
    de = f"wurde beim Lesen größer als {limit_mb} MB" if grew else f"ist mit {mb} MB größer als {limit_mb} MB"
    en = (
        f"grew beyond {limit_mb} MB while it was read"
        if grew
        else f"has {size / 1e6:.1f} MB, over {limit_mb} MB"
    )
    return FileTooLargeError(
        f"„{name}“ {de} (Grenze: LOTSE_MAX_FILE_MB). Bitte die Datei aufteilen oder verkleinern oder die Grenze "
        "erhöhen.",
        f"'{name}' {en} (limit: LOTSE_MAX_FILE_MB). Split or shrink the file, or raise the limit.",
    )
