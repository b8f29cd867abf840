"""Build the sample PDF documents of the corpus from their Markdown sources.

Run from the repository root:

    /tmp/venv/bin/python corpus/_build/make_pdfs.py                  # all documents
    /tmp/venv/bin/python corpus/_build/make_pdfs.py leitfaden-verstetigung
    /tmp/venv/bin/python corpus/_build/make_pdfs.py --manifest /tmp/manifest_parts/pdf.yaml

Each source ``src/<name>.md`` starts with YAML front matter (title, publisher, ...) followed by a small
Markdown subset: ``#``/``##``/``###`` headings, paragraphs, ``- `` bullet lists, ``1. `` numbered lists,
``> `` note boxes and simple ``| a | b |`` tables (an optional ``<!-- widths: 20 50 30 -->`` line before a
table sets relative column widths). The script does its own line wrapping and hyphenates long German words
at line ends (pyphen, ``de_DE``), as typeset PDFs do. The output is deterministic: a fixed creation date and
no other time-dependent data, so re-running the script yields byte-identical files.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from fpdf import FPDF

try:
    import pyphen
except ImportError as e:  # pragma: no cover - build-time dependency only
    raise SystemExit("pyphen fehlt: /tmp/venv/bin/pip install pyphen") from e

HERE = Path(__file__).resolve().parent
SRC_DIR = HERE / "src"
OUT_DIR = HERE.parent

# A fixed date keeps the output byte-identical between runs.
CREATION_DATE = datetime(2026, 1, 15, 9, 0, 0, tzinfo=UTC)
NOTICE = (
    "Beispielkorpus – fiktives Beispielmaterial des Verstetigungslotsen, keine amtliche Veröffentlichung."
)
MANIFEST_KEYS = (
    "title",
    "publisher",
    "year",
    "doc_type",
    "topics",
    "language",
    "licence",
    "sample",
    "references",
)

# Layout (mm / pt)
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 25.0, 25.0, 24.0, 24.0
TEXT_W = PAGE_W - MARGIN_L - MARGIN_R
BODY_PT, BODY_LH, PARA_GAP = 10.5, 5.4, 2.8
# level: (font size, line height, space before, space after)
HEADINGS = {1: (14.0, 7.0, 6.5, 2.5), 2: (12.0, 6.0, 4.5, 1.8), 3: (10.5, 5.4, 3.5, 1.2)}
TABLE_PT, TABLE_LH, CELL_PAD = 9.0, 4.4, 1.6
LIST_INDENT = 6.0
# Only hyphenate when the line would otherwise stay shorter than this share of the width (hyphenation zone).
HYPHEN_ZONE = 0.86
MIN_HYPHEN_WORD = 8

BLUE = (0, 72, 122)
DARK = (30, 30, 30)
GREY = (100, 100, 100)
LIGHT = (232, 239, 245)

# Characters outside cp1252 that may appear in sources and their replacements.
REPLACEMENTS = {
    "→": "->",
    "←": "<-",
    "≈": "ca.",
    "≥": ">=",
    "≤": "<=",
    "−": "-",
    "\u2011": "-",  # non-breaking hyphen
    "\u202f": " ",  # narrow no-break space
    "\u00a0": " ",
    "₂": "2",
    "✓": "x",
}
# Tokens that must not start a line (kept with the preceding word).
GLUE_TOKENS = {"%", "€", "Prozent", "Euro"}

_dic = pyphen.Pyphen(lang="de_DE")


def sanitize(text: str) -> str:
    """Map text to what the cp1252-encoded core fonts can show; replace anything else."""
    out = []
    for ch in text:
        ch = REPLACEMENTS.get(ch, ch)
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            print(f"Warnung: Zeichen {ch!r} nicht in cp1252, ersetzt", file=sys.stderr)
            ch = "?"
        out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- parsing


@dataclass
class Block:
    kind: str  # heading, para, bullet, number, note, table
    text: str = ""
    level: int = 0
    marker: str = ""
    rows: list[list[str]] = field(default_factory=list)
    widths: list[float] | None = None


def parse_source(path: Path) -> tuple[dict, list[Block]]:
    raw = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", raw, re.S)
    if not m:
        raise ValueError(f"{path}: YAML-Vorspann fehlt")
    meta = yaml.safe_load(m.group(1))
    blocks: list[Block] = []
    para: list[str] = []
    widths: list[float] | None = None
    table: list[list[str]] | None = None

    def flush_para() -> None:
        if para:
            blocks.append(Block("para", " ".join(para)))
            para.clear()

    def flush_table() -> None:
        nonlocal table, widths
        if table:
            blocks.append(Block("table", rows=table, widths=widths))
        table, widths = None, None

    for line in raw[m.end() :].splitlines():
        stripped = line.strip()
        if table is not None and not stripped.startswith("|"):
            flush_table()
        if not stripped:
            flush_para()
            continue
        if wm := re.match(r"<!--\s*widths:\s*([\d\s.]+)-->", stripped):
            flush_para()
            widths = [float(x) for x in wm.group(1).split()]
            continue
        if stripped.startswith("|"):
            flush_para()
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                continue
            table = (table or []) + [cells]
            continue
        if hm := re.match(r"^(#{1,3})\s+(.*)$", stripped):
            flush_para()
            blocks.append(Block("heading", hm.group(2).strip(), level=len(hm.group(1))))
            continue
        if line.startswith("- "):
            flush_para()
            blocks.append(Block("bullet", stripped[2:].strip(), marker="•"))
            continue
        if nm := re.match(r"^(\d+)\.\s+(.*)$", line):
            flush_para()
            blocks.append(Block("number", nm.group(2).strip(), marker=f"{nm.group(1)}."))
            continue
        if stripped.startswith(">"):
            flush_para()
            text = stripped.lstrip(">").strip()
            if blocks and blocks[-1].kind == "note" and text:
                blocks[-1].text += " " + text
            else:
                blocks.append(Block("note", text))
            continue
        if line.startswith("  ") and blocks and blocks[-1].kind in ("bullet", "number") and not para:
            blocks[-1].text += " " + stripped  # continuation of a list item
            continue
        para.append(stripped)
    flush_para()
    flush_table()
    return meta, blocks


# --------------------------------------------------------------------------- line wrapping


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for tok in text.split():
        if tokens and tok.rstrip(".,;:!?)“") in GLUE_TOKENS:
            tokens[-1] += " " + tok
        else:
            tokens.append(tok)
    return tokens


def _split_candidates(token: str) -> list[tuple[str, str]]:
    """Possible (left, right) splits of a token at a line end, longest left part first."""
    m = re.fullmatch(r"([„\"(]*)([A-Za-zÄÖÜäöüß-]+)([.,;:!?“\")]*)", token)
    if not m:
        return []
    lead, core, tail = m.groups()
    if len(core) < MIN_HYPHEN_WORD:
        return []
    cands: list[tuple[str, str]] = []
    if "-" in core.strip("-"):
        # Compound with a hyphen: break only after the existing hyphen(s).
        for i, ch in enumerate(core):
            if ch == "-" and 2 <= i < len(core) - 3:
                cands.append((lead + core[: i + 1], core[i + 1 :] + tail))
    else:
        for pos in _dic.positions(core):
            if pos >= 3 and len(core) - pos >= 4:
                cands.append((lead + core[:pos] + "-", core[pos:] + tail))
    return sorted(cands, key=lambda c: len(c[0]), reverse=True)


def wrap(pdf: FPDF, text: str, width: float, hyphenate: bool = True) -> list[str]:
    """Greedy line wrapping with hyphenation of long words inside the hyphenation zone."""
    lines: list[str] = []
    cur = ""
    pending = _tokens(text)
    while pending:
        tok = pending.pop(0)
        cand = f"{cur} {tok}" if cur else tok
        if pdf.get_string_width(cand) <= width:
            cur = cand
            continue
        prefix = f"{cur} " if cur else ""
        if hyphenate and pdf.get_string_width(cur) < HYPHEN_ZONE * width:
            for left, right in _split_candidates(tok):
                if pdf.get_string_width(prefix + left) <= width:
                    lines.append(prefix + left)
                    cur = ""
                    pending.insert(0, right)
                    break
            else:
                left = None
            if left is not None:
                continue
        if cur:
            lines.append(cur)
            cur = ""
            pending.insert(0, tok)
        else:  # a single token wider than the line: cut it hard
            cut = len(tok)
            while cut > 1 and pdf.get_string_width(tok[:cut]) > width:
                cut -= 1
            lines.append(tok[:cut])
            pending.insert(0, tok[cut:])
    if cur:
        lines.append(cur)
    return lines


# --------------------------------------------------------------------------- rendering


class SamplePDF(FPDF):
    """A4 document with running header (from page 2) and 'Seite N von M' footer."""

    def __init__(self, meta: dict):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.meta = meta
        self.set_auto_page_break(False)
        self.set_margins(MARGIN_L, MARGIN_T, MARGIN_R)
        self.y_pos = MARGIN_T

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "", 8.5)
        self.set_text_color(*GREY)
        self.set_xy(MARGIN_L, 11)
        self.cell(TEXT_W / 2, 4, sanitize(self.meta["short_title"]), align="L")
        self.set_xy(MARGIN_L + TEXT_W / 2, 11)
        self.cell(TEXT_W / 2, 4, "Beispielkorpus", align="R")
        self.set_draw_color(*GREY)
        self.set_line_width(0.2)
        self.line(MARGIN_L, 16, PAGE_W - MARGIN_R, 16)

    def footer(self) -> None:
        self.set_font("Helvetica", "", 8.5)
        self.set_text_color(*GREY)
        self.set_xy(MARGIN_L, PAGE_H - 14)
        self.cell(TEXT_W / 2, 4, sanitize(self.meta["publisher"]), align="L")
        self.set_xy(MARGIN_L + TEXT_W / 2, PAGE_H - 14)
        self.cell(TEXT_W / 2, 4, f"Seite {self.page_no()} von {{nb}}", align="R")

    # -- low level helpers
    def ensure_space(self, needed: float) -> None:
        if self.y_pos + needed > PAGE_H - MARGIN_B:
            self.add_page()
            self.y_pos = MARGIN_T

    def put_line(self, x: float, text: str, lh: float, w: float) -> None:
        self.set_xy(x, self.y_pos)
        self.cell(w, lh, text, align="L")

    # -- blocks
    def title_block(self) -> None:
        meta = self.meta
        self.set_font("Helvetica", "", 8.5)
        self.set_text_color(*GREY)
        self.set_xy(MARGIN_L, 12)
        self.cell(TEXT_W, 4, sanitize(NOTICE), align="L")
        self.set_fill_color(*BLUE)
        self.rect(MARGIN_L, 19, TEXT_W, 1.2, style="F")
        self.y_pos = 25
        self.set_font("Helvetica", "B", 9.5)
        self.set_text_color(*BLUE)
        self.put_line(MARGIN_L, sanitize(f"{meta['label'].upper()}  ·  {meta['publisher']}"), 5, TEXT_W)
        self.y_pos += 8
        self.set_font("Helvetica", "B", 20)
        self.set_text_color(*DARK)
        for line in wrap(self, sanitize(meta["title"]), TEXT_W, hyphenate=False):
            self.put_line(MARGIN_L, line, 9, TEXT_W)
            self.y_pos += 9
        if meta.get("subtitle"):
            self.y_pos += 1.5
            self.set_font("Helvetica", "", 12)
            self.set_text_color(*GREY)
            for line in wrap(self, sanitize(meta["subtitle"]), TEXT_W, hyphenate=False):
                self.put_line(MARGIN_L, line, 6, TEXT_W)
                self.y_pos += 6
        self.y_pos += 4
        # Notice box
        self.set_font("Helvetica", "", 9)
        box_lines = wrap(
            self,
            sanitize(
                "Hinweis: Dieses Dokument gehört zum Beispielkorpus des Verstetigungslotsen. Es ist fiktives "
                "Beispielmaterial und keine amtliche Veröffentlichung. Kommunen, Personen und Zahlen sind fiktiv, "
                f"soweit keine Quelle angegeben ist. Stand: {meta['year']}  ·  Lizenz: {meta['licence']}"
            ),
            TEXT_W - 8,
            hyphenate=False,
        )
        box_h = len(box_lines) * 4.6 + 5
        self.set_fill_color(*LIGHT)
        self.rect(MARGIN_L, self.y_pos, TEXT_W, box_h, style="F")
        self.set_fill_color(*BLUE)
        self.rect(MARGIN_L, self.y_pos, 1.2, box_h, style="F")
        self.set_text_color(*DARK)
        self.y_pos += 2.5
        for line in box_lines:
            self.put_line(MARGIN_L + 5, line, 4.6, TEXT_W - 8)
            self.y_pos += 4.6
        self.y_pos += 2.5 + 5

    def heading(self, block: Block) -> None:
        size, lh, before, after = HEADINGS[block.level]
        self.set_font("Helvetica", "B", size)
        lines = wrap(self, sanitize(block.text), TEXT_W, hyphenate=False)
        # keep the heading together with at least two body lines
        at_top = self.y_pos <= MARGIN_T + 0.1
        self.ensure_space((0 if at_top else before) + len(lines) * lh + after + 2 * BODY_LH)
        if self.y_pos > MARGIN_T + 0.1:
            self.y_pos += before
        self.set_text_color(*BLUE if block.level < 3 else DARK)
        for line in lines:
            self.put_line(MARGIN_L, line, lh, TEXT_W)
            self.y_pos += lh
        self.y_pos += after

    def paragraph(self, block: Block) -> None:
        self.set_font("Helvetica", "", BODY_PT)
        self.set_text_color(*DARK)
        for line in wrap(self, sanitize(block.text), TEXT_W):
            self.ensure_space(BODY_LH)
            self.put_line(MARGIN_L, line, BODY_LH, TEXT_W)
            self.y_pos += BODY_LH
        self.y_pos += PARA_GAP

    def list_item(self, block: Block, last: bool) -> None:
        self.set_font("Helvetica", "", BODY_PT)
        self.set_text_color(*DARK)
        x_text = MARGIN_L + LIST_INDENT
        for i, line in enumerate(wrap(self, sanitize(block.text), TEXT_W - LIST_INDENT)):
            self.ensure_space(BODY_LH)
            if i == 0:
                self.set_text_color(*BLUE)
                self.put_line(MARGIN_L + 1.5, block.marker, BODY_LH, LIST_INDENT)
                self.set_text_color(*DARK)
            self.put_line(x_text, line, BODY_LH, TEXT_W - LIST_INDENT)
            self.y_pos += BODY_LH
        self.y_pos += PARA_GAP if last else 1.0

    def note(self, block: Block) -> None:
        self.set_font("Helvetica", "", BODY_PT - 0.5)
        lines = wrap(self, sanitize(block.text), TEXT_W - 9)
        lh = BODY_LH - 0.2
        self.y_pos += 1
        for i, line in enumerate(lines):
            pad_top = 1.5 if i == 0 else 0
            pad_bottom = 1.5 if i == len(lines) - 1 else 0
            self.ensure_space(lh + pad_top + pad_bottom)
            self.set_fill_color(*LIGHT)
            self.rect(MARGIN_L, self.y_pos, TEXT_W, lh + pad_top + pad_bottom, style="F")
            self.set_fill_color(*BLUE)
            self.rect(MARGIN_L, self.y_pos, 1.2, lh + pad_top + pad_bottom, style="F")
            self.y_pos += pad_top
            self.set_text_color(*DARK)
            self.put_line(MARGIN_L + 5, line, lh, TEXT_W - 9)
            self.y_pos += lh + pad_bottom
        self.y_pos += PARA_GAP + 1

    def table(self, block: Block) -> None:
        rows = [[sanitize(c) for c in row] for row in block.rows]
        ncols = len(rows[0])
        weights = block.widths or [
            max(8.0, min(60.0, max(len(r[i]) if i < len(r) else 0 for r in rows))) for i in range(ncols)
        ]
        col_w = [TEXT_W * w / sum(weights) for w in weights]

        def layout(row: list[str], bold: bool) -> tuple[list[list[str]], float]:
            self.set_font("Helvetica", "B" if bold else "", TABLE_PT)
            cells = [
                wrap(self, row[i] if i < len(row) else "", col_w[i] - 2 * CELL_PAD) for i in range(ncols)
            ]
            return cells, max(len(c) for c in cells) * TABLE_LH + 2 * CELL_PAD

        def draw(row: list[str], bold: bool) -> None:
            cells, h = layout(row, bold)
            self.set_draw_color(*GREY)
            self.set_line_width(0.2)
            x = MARGIN_L
            for i, lines in enumerate(cells):
                if bold:
                    self.set_fill_color(*LIGHT)
                    self.rect(x, self.y_pos, col_w[i], h, style="DF")
                else:
                    self.rect(x, self.y_pos, col_w[i], h, style="D")
                self.set_font("Helvetica", "B" if bold else "", TABLE_PT)
                self.set_text_color(*DARK)
                for j, line in enumerate(lines):
                    self.set_xy(x + CELL_PAD, self.y_pos + CELL_PAD + j * TABLE_LH)
                    self.cell(col_w[i] - 2 * CELL_PAD, TABLE_LH, line, align="L")
                x += col_w[i]
            self.y_pos += h

        header, body = rows[0], rows[1:]
        _, header_h = layout(header, True)
        self.y_pos += 1
        self.ensure_space(header_h + layout(body[0], False)[1] if body else header_h)
        draw(header, True)
        for row in body:
            _, h = layout(row, False)
            if self.y_pos + h > PAGE_H - MARGIN_B:
                self.add_page()
                self.y_pos = MARGIN_T
                draw(header, True)
            draw(row, False)
        self.y_pos += PARA_GAP + 1.5


def build(src: Path, out_dir: Path) -> Path:
    meta, blocks = parse_source(src)
    pdf = SamplePDF(meta)
    pdf.set_title(sanitize(meta["title"]))
    pdf.set_author(sanitize(meta["publisher"]))
    pdf.set_subject(
        sanitize(f"{meta['label']} – Beispielkorpus des Verstetigungslotsen (fiktives Beispielmaterial)")
    )
    pdf.set_keywords(sanitize(", ".join(str(t) for t in meta.get("topics", []))))
    pdf.set_creator("corpus/_build/make_pdfs.py (Verstetigungslotse)")
    pdf.set_lang("de-DE")
    pdf.set_creation_date(CREATION_DATE)
    pdf.add_page()
    pdf.title_block()
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        match block.kind:
            case "heading":
                pdf.heading(block)
            case "para":
                pdf.paragraph(block)
            case "bullet" | "number":
                pdf.list_item(block, last=nxt is None or nxt.kind != block.kind)
            case "note":
                pdf.note(block)
            case "table":
                pdf.table(block)
    out = out_dir / f"{src.stem}.pdf"
    pdf.output(str(out))
    return out


def manifest_entry(meta: dict) -> dict:
    entry = {k: meta[k] for k in MANIFEST_KEYS if k in meta}
    entry.setdefault("language", "de")
    entry.setdefault("licence", "CC BY 4.0")
    entry.setdefault("sample", True)
    entry.setdefault("references", [])
    return {k: entry[k] for k in MANIFEST_KEYS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Erzeugt die Beispiel-PDFs des Korpus aus corpus/_build/src/*.md."
    )
    parser.add_argument("names", nargs="*", help="Dokumentnamen ohne Endung (Standard: alle)")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="Zielordner (Standard: corpus/)")
    parser.add_argument(
        "--manifest", type=Path, help="schreibt zusätzlich die Metadaten als YAML in diese Datei"
    )
    args = parser.parse_args(argv)
    sources = sorted(SRC_DIR.glob("*.md"))
    if args.names:
        sources = [s for s in sources if s.stem in args.names]
    manifest = {}
    for src in sources:
        out = build(src, args.out_dir)
        meta, _ = parse_source(src)
        manifest[out.name] = manifest_entry(meta)
        print(f"{out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    if args.manifest:
        args.manifest.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(
            manifest, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000
        )
        args.manifest.write_text(text, encoding="utf-8")
        print(f"Metadaten: {args.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
