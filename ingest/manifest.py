"""Document metadata and ignore rules of an ingest folder.

A folder may hold two control files, both optional:

* ``manifest.yaml``: metadata per file, keyed by the path relative to the folder::

      leitfaden-verstetigung.pdf:
        title: "Leitfaden: Vom Pilotprojekt in den Regelbetrieb"
        publisher: "Redaktion Verstetigungslotse (Beispielkorpus)"
        year: 2026
        doc_type: leitfaden
        topics: [finanzierung, zustaendigkeiten]

* ``.lotseignore``: one glob pattern per line (``#`` comments); a pattern ending in ``/`` ignores a folder.

Metadata precedence: manifest, then the file's own metadata (Markdown front matter, HTML meta, PDF info),
then defaults derived from the file name.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from assistant.types import FACTORS

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.yaml"
IGNORE_NAME = ".lotseignore"
CONTROL_FILES = frozenset({MANIFEST_NAME, IGNORE_NAME})


@dataclass
class FolderRules:
    manifest: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignore: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def is_ignored(self, rel: str) -> bool:
        path = PurePosixPath(rel)
        if rel in CONTROL_FILES:
            return True
        for pattern in self.ignore:
            if pattern.endswith("/"):
                folder = pattern.rstrip("/")
                if any(fnmatch.fnmatch(str(PurePosixPath(*path.parts[: i + 1])), folder) for i in range(len(path.parts) - 1)):
                    return True
            elif fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
                return True
        return False


def load_rules(root: Path) -> FolderRules:
    rules = FolderRules()
    manifest = root / MANIFEST_NAME
    if manifest.is_file():
        try:
            data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError("top level must be a mapping of file name to metadata")
            rules.manifest = {str(k): v for k, v in data.items() if isinstance(v, dict)}
        except (yaml.YAMLError, ValueError, UnicodeDecodeError) as e:
            rules.warnings.append(
                f"{manifest}: Manifest nicht lesbar ({e}); Metadaten werden aus den Dateien selbst genommen."
            )
    ignore = root / IGNORE_NAME
    if ignore.is_file():
        for line in ignore.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                rules.ignore.append(line)
    return rules


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value)[:4]) if value not in (None, "") else None
    except ValueError:
        return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _plain(value: Any, limit: int = 300) -> str:
    """Metadata is shown to users: keep it short, single-line, free of control characters."""
    text = " ".join(str(value).split()) if value is not None else ""
    return "".join(ch for ch in text if ch.isprintable())[:limit]


def resolve_metadata(rel: str, file_meta: dict[str, Any], file_title: str | None, rules: FolderRules) -> dict[str, Any]:
    """Merge manifest, file metadata and defaults into the normalised document metadata."""
    merged: dict[str, Any] = {**file_meta, **rules.manifest.get(rel, {})}
    stem = PurePosixPath(rel).stem.replace("-", " ").replace("_", " ").strip()
    title = _plain(merged.get("title") or file_title or stem.capitalize())
    topics = [t.lower() for t in _as_list(merged.get("topics") or merged.get("tags"))]
    return {
        "title": title,
        "publisher": _plain(merged.get("publisher") or merged.get("author") or ""),
        "year": _as_int(merged.get("year") or merged.get("date")),
        "doc_type": _plain(merged.get("doc_type") or merged.get("type") or "", 40).lower(),
        "topics": topics,
        "factors": [t for t in topics if t in FACTORS],
        "language": _plain(merged.get("language") or "de", 10),
        "licence": _plain(merged.get("licence") or merged.get("license") or "", 80),
        "sample": bool(merged.get("sample", False)),
        "references": [_plain(r, 400) for r in _as_list(merged.get("references"))],
    }
