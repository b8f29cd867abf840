"""Generate the Word and PDF versions of the sample plans from their Markdown sources.

    python examples/plans/make_files.py          # writes plan-mittel.docx and plan-schwach.pdf next to this file

The tests use the same functions (e.g. for an encrypted PDF). Only headings ("#") and paragraphs are understood,
which is all the sample plans use; "**bold**" markers are dropped.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse(md: str) -> list[tuple[int, str]]:
    """(level, text) items: level 1-6 for headings, 0 for paragraphs (lines of a paragraph joined)."""
    items: list[tuple[int, str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            items.append((0, " ".join(para)))
            para.clear()

    for line in md.splitlines():
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            flush()
            items.append((len(heading.group(1)), heading.group(2).strip()))
        elif not line.strip():
            flush()
        else:
            para.append(line.strip().replace("**", ""))
    flush()
    return items


def make_docx(md_path: Path, out: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = parse(md_path.read_text(encoding="utf-8"))[0][1]
    for level, text in parse(md_path.read_text(encoding="utf-8")):
        if level:
            document.add_heading(text, level=min(level - 1, 9) if level > 1 else 0)
        else:
            document.add_paragraph(text)
    document.save(str(out))
    return out


def make_pdf(md_path: Path, out: Path, *, user_password: str | None = None) -> Path:
    """A plain A4 PDF (Helvetica, Windows-1252, so „“–€ work without a font file); ``user_password`` encrypts it."""
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=20)
    items = parse(md_path.read_text(encoding="utf-8"))
    pdf.set_title(items[0][1])
    if user_password is not None:
        pdf.set_encryption(
            owner_password="eigentuemer-" + user_password,
            user_password=user_password,
            encryption_method=EncryptionMethod.RC4,
        )
    pdf.add_page()
    for level, text in items:
        if level:
            size = {1: 16, 2: 13}.get(level, 11.5)
            pdf.set_font("Helvetica", "B", size)
            pdf.ln(3)
            pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        else:
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(0, 5.2, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
    pdf.output(str(out))
    return out


def main() -> int:
    made = [
        make_docx(HERE / "plan-mittel.md", HERE / "plan-mittel.docx"),
        make_pdf(HERE / "plan-schwach.md", HERE / "plan-schwach.pdf"),
    ]
    for path in made:
        sys.stdout.write(f"{path.name}: {path.stat().st_size} Byte\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
