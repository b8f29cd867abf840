"""Reading a project plan: pasted text or an uploaded .md/.txt/.docx/.pdf file, into quotable sentences.

Plans are user data, never index content: they are read in memory (PDFs through a temporary file that is deleted
as soon as the isolated PDF loader has returned) and nothing here touches the store. Every problem becomes a
German `LotseError` (``InputError`` for text, ``IngestError`` subclasses for files), never a traceback.

Markdown (also pasted text and .txt) and PDF plans are read by the parsers that read indexed documents
(``ingest.loaders``): one definition of front matter, headings, paragraphs, lists, tables and markup for both. Sentences keep the plan's wording; only
whitespace is normalised and markup (``#``, ``**``, list markers, link targets) is dropped, so a quote in a report
can be found again in the plan.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import (
    FileTooLargeError,
    InputError,
    NoTextLayerError,
    ParseError,
    UnsupportedFormatError,
)
from assistant.text import split_sentences
from assistant.types import Block

log = logging.getLogger(__name__)

PLAN_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf")
PASTED_NAME = "Eingefügter Text"


@dataclass(frozen=True)
class PlanLimits:
    """Limits for one plan.

    Attributes:
        max_bytes: Largest accepted file.
        max_chars: Most characters of plan text after extraction.
        min_chars: Fewer characters cannot describe a project.
        max_pages: Most PDF pages.
        timeout_s: Wall time for parsing a PDF (isolated child process).
        memory_mb: Memory limit of the PDF child process.
        max_docx_unpacked: Largest total uncompressed size of a DOCX archive (zip bombs).
    """

    max_bytes: int = 5 * 1024 * 1024
    max_chars: int = 50_000
    min_chars: int = 80
    max_pages: int = 100
    timeout_s: float = 30.0
    memory_mb: int = 512
    max_docx_unpacked: int = 60 * 1024 * 1024


@dataclass(frozen=True)
class PlanSentence:
    """One sentence of the plan: verbatim text, the heading it stands under, its PDF page (if any)."""

    text: str
    section: str = ""
    page: int | None = None


@dataclass
class Plan:
    """A plan ready for the check."""

    name: str
    kind: str  # "text", "md", "txt", "docx", "pdf"
    text: str
    sentences: list[PlanSentence]
    warnings: list[str] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class _Block:
    text: str
    section: str = ""
    page: int | None = None
    heading: bool = False


# --- public entry points -----------------------------------------------------------------------------------


def plan_from_text(text: str, limits: PlanLimits = PlanLimits(), name: str = PASTED_NAME) -> Plan:  # noqa: B008
    """A plan from pasted text (Markdown or plain text)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(
            "Bitte einen Projektplan einfügen oder eine Datei hochladen.",
            "Please paste a project plan or upload a file.",
        )
    if len(text) > limits.max_chars * 2:  # generous before cleaning, exact after
        raise _too_long(len(text), limits)
    return _plan_from_blocks(_markdown_blocks(text), name, "text", limits)


def read_plan_file(path: Path, limits: PlanLimits = PlanLimits()) -> Plan:  # noqa: B008
    """A plan from a file on disk (CLI). The file is read once and never copied."""
    path = Path(path)
    name = _display_name(path.name)
    _check_suffix(name)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"„{name}“ ist keine Datei.", f"'{name}' is not a file.")
        if size > limits.max_bytes:
            raise _too_large(name, size, limits)
        with path.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except FileNotFoundError as e:
        raise InputError(
            f"Die Datei „{name}“ wurde nicht gefunden. Bitte den Pfad prüfen.", f"File '{name}' not found."
        ) from e
    except OSError as e:
        raise InputError(
            f"Die Datei „{name}“ kann nicht gelesen werden ({e.strerror or e}). Bitte Dateirechte prüfen.",
            f"File '{name}' cannot be read ({e.strerror or e}).",
        ) from e
    return read_plan_bytes(data, path.name, limits)


def read_plan_bytes(data: bytes, filename: str, limits: PlanLimits = PlanLimits()) -> Plan:  # noqa: B008
    """A plan from uploaded bytes; the type is taken from the file name and checked against the content."""
    name = _display_name(filename)
    suffix = _check_suffix(name)
    if len(data) > limits.max_bytes:
        raise _too_large(name, len(data), limits)
    if not data.strip():
        raise NoTextLayerError(
            f"„{name}“ ist leer. Bitte eine Datei mit dem Projektplan hochladen.",
            f"'{name}' is empty. Please upload a file containing the project plan.",
        )
    if suffix == ".docx":
        return _plan_from_blocks(_docx_blocks(data, name, limits), name, "docx", limits)
    if suffix == ".pdf":
        blocks, warnings = _pdf_blocks(data, name, limits)
        plan = _plan_from_blocks(blocks, name, "pdf", limits)
        plan.warnings.extend(warnings)
        return plan
    from ingest.loaders.text import decode_text

    text, warnings = decode_text(data, Path(name))
    # .txt too: plain text is Markdown without markup, and plans saved as .txt often carry some.
    plan = _plan_from_blocks(_markdown_blocks(text), name, suffix.lstrip(".").replace("markdown", "md"), limits)
    plan.warnings.extend(warnings)
    return plan


# --- checks and messages -----------------------------------------------------------------------------------

_NAME_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _display_name(filename: str) -> str:
    name = _NAME_JUNK.sub("", Path(filename or "").name) or "(ohne Namen)"
    return name if len(name) <= 80 else name[:60] + "…" + name[-19:]


def _check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in PLAN_SUFFIXES:
        raise UnsupportedFormatError(
            f"„{name}“: Der Dateityp „{suffix or '(ohne Endung)'}“ wird für den Verstetigungs-Check nicht "
            "unterstützt. Möglich sind Word (.docx), PDF (.pdf), Markdown (.md) und Text (.txt); alternativ den "
            "Text direkt einfügen.",
            f"'{name}': file type '{suffix or '(none)'}' is not supported. Use .docx, .pdf, .md or .txt, or paste "
            "the text.",
        )
    return suffix


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")


def _too_large(name: str, size: int, limits: PlanLimits) -> FileTooLargeError:
    return FileTooLargeError(
        f"„{name}“ ist mit {_mb(size)} zu groß für den Verstetigungs-Check (höchstens {_mb(limits.max_bytes)}). "
        "Bitte nur den Projektplan ohne Anlagen und Bilder hochladen oder den Text einfügen.",
        f"'{name}' is too large ({size} bytes, limit {limits.max_bytes}). Upload the plan without attachments "
        "or paste its text.",
    )


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _too_long(chars: int, limits: PlanLimits) -> InputError:
    return InputError(
        f"Der Plan ist mit {_thousands(chars)} Zeichen zu lang (höchstens {_thousands(limits.max_chars)}). Bitte "
        "auf die Abschnitte zu Projekt, Betrieb, Organisation und Finanzierung kürzen.",
        f"The plan is too long ({chars} characters, at most {limits.max_chars}). Shorten it to the relevant parts.",
    )


# --- formats -----------------------------------------------------------------------------------------------

#: Word and e-mail pastes bullet with "•" and GitHub-style checklists box items with "[ ]"; the Markdown parser
#: (written for documents, where neither marks a list) would run such lines together, so they become "- " items.
_PASTED_BULLET = re.compile(r"^(\s*)(?:[•▪◦‣●–]\s+|(?:[-*+]|\d{1,2}[.)])\s+\[[ xX]\]\s+)", re.M)


def _markdown_blocks(text: str) -> list[_Block]:
    """Markdown (or plain pasted text) read by the ingest loader's parser: front matter dropped, headings into
    sections, markup stripped exactly as for indexed documents."""
    from ingest.cleaning import build_blocks
    from ingest.loaders.markdown import parse_markdown, split_front_matter

    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    _, body = split_front_matter(text)
    return _loaded_blocks(build_blocks(parse_markdown(_PASTED_BULLET.sub(r"\1- ", body))))


def _loaded_blocks(loaded: list[Block]) -> list[_Block]:
    """The ingest loaders' blocks as plan blocks: a heading block where the section changes, then one block per
    paragraph line (table rows and list items stay separate quotes)."""
    blocks: list[_Block] = []
    last_section = None
    for block in loaded:
        section = block.heading_path[-1] if block.heading_path else ""
        if section and section != last_section:
            blocks.append(_Block(section, section, block.page, heading=True))
        last_section = section
        for para in block.text.split("\n\n"):
            for line in para.split("\n"):
                line = " ".join(line.split())
                if line:
                    blocks.append(_Block(line, section, block.page))
    return blocks


def _docx_blocks(data: bytes, name: str, limits: PlanLimits) -> list[_Block]:
    """Paragraphs (headings by style) and table rows of a .docx, read in memory."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError(
            f"„{name}“ ist kein .docx-Dokument, sondern eine ältere oder kennwortgeschützte Office-Datei. "
            "Bitte in Word ohne Kennwort als „Word-Dokument (.docx)“ speichern.",
            f"'{name}' is a legacy or password-protected Office file, not .docx. Save it as .docx without password.",
        )
    not_docx = ParseError(
        f"„{name}“ ist kein gültiges Word-Dokument (.docx). Bitte die Datei in Word öffnen und als "
        "„Word-Dokument (.docx)“ speichern, oder den Text einfügen.",
        f"'{name}' is not a valid Word document (.docx). Save it again as .docx or paste the text.",
    )
    _check_docx_archive(data, name, limits, not_docx)

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - python-docx raises many types for damaged files
        log.info("docx parse failed: %s", e)
        raise not_docx from e

    blocks: list[_Block] = []
    section = ""
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = " ".join(item.text.split())
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            if style.lower().startswith(("heading", "überschrift", "title", "titel")):
                section = text
                blocks.append(_Block(text, section, heading=True))
            else:
                blocks.append(_Block(text, section))
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                if cells:
                    blocks.append(_Block(" | ".join(cells), section))
    return blocks


def _check_docx_archive(data: bytes, name: str, limits: PlanLimits, not_docx: ParseError) -> None:
    """Refuse what is no .docx archive, or one too large unpacked, before python-docx unpacks anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                raise not_docx
            if len(infos) > 2000 or sum(i.file_size for i in infos) > limits.max_docx_unpacked:
                raise FileTooLargeError(
                    f"„{name}“ ist entpackt zu groß oder enthält zu viele Teile. Bitte nur den Text des Plans "
                    "(ohne eingebettete Bilder und Anlagen) hochladen.",
                    f"'{name}' is too large when unpacked. Upload the plan's text without embedded media.",
                )
    except zipfile.BadZipFile as e:
        from ingest.loaders.text import sniff_kind

        kind, kind_en = sniff_kind(data[:1024])
        raise ParseError(
            f"„{name}“ ist kein Word-Dokument (.docx), sondern offenbar {kind}. Bitte die Datei in Word als "
            "„Word-Dokument (.docx)“ speichern, oder den Text einfügen.",
            f"'{name}' is not a Word document (.docx) but apparently {kind_en}. Save it as .docx or paste the text.",
        ) from e


def _pdf_blocks(data: bytes, name: str, limits: PlanLimits) -> tuple[list[_Block], list[str]]:
    """PDF text through the project's isolated loader; the temporary copy is deleted right after parsing.

    The copy carries the user's file name (in a private temporary folder), so the loader's messages name it.
    """
    from ingest.loaders import ParseLimits, load_file

    safe = re.sub(r"[^\w.\- ]", "_", Path(name).stem)[:80].strip() or "plan"
    with tempfile.TemporaryDirectory(prefix="lotse-plan-") as folder:
        tmp = Path(folder) / f"{safe}.pdf"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        loaded = load_file(
            tmp,
            ParseLimits(
                max_file_bytes=limits.max_bytes,
                max_pages=limits.max_pages,
                timeout_s=limits.timeout_s,
                memory_mb=limits.memory_mb,
            ),
        )
    return _loaded_blocks(loaded.blocks), list(loaded.warnings)


# --- blocks to sentences -----------------------------------------------------------------------------------


def _plan_from_blocks(blocks: list[_Block], name: str, kind: str, limits: PlanLimits) -> Plan:
    text = "\n\n".join(b.text for b in blocks)
    if len(text) > limits.max_chars:
        raise _too_long(len(text), limits)
    body = [b for b in blocks if not b.heading]
    if len("".join(b.text for b in body)) < limits.min_chars:
        raise InputError(
            f"„{name}“ enthält zu wenig Text für eine Prüfung (mindestens {limits.min_chars} Zeichen). "
            "Bitte den vollständigen Projektplan einfügen oder hochladen.",
            f"'{name}' contains too little text for a check (at least {limits.min_chars} characters).",
        )
    sentences: list[PlanSentence] = []
    for block in body:
        for piece in _sentences(block.text):
            if len(piece) >= 3:
                sentences.append(PlanSentence(piece, block.section, block.page))
    return Plan(name=name, kind=kind, text=text, sentences=sentences)


# `split_sentences` never splits after a number (to keep "am 3. Februar" together); plans end many sentences
# with a year or a norm number ("… im November 2025. Die App …"), so four or more digits before ". Capital" end a
# sentence here (ordinals have one or two digits).
_AFTER_YEAR = re.compile(r"(?<=\d{4}\.)\s+(?=[„\"(]?[A-ZÄÖÜ])")


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for s in split_sentences(text):
        out.extend(p.strip() for p in _AFTER_YEAR.split(s.text) if p.strip())
    return out
