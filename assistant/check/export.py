"""Export of a check report as Markdown or as a Word document (python-docx).

Both carry the same content in the same order: overview table of traffic lights, per factor the reason, what the
plan says, gaps, next steps, guidance and numbered sources with verbatim quotes; then the building blocks for the
application and one bibliography. Plan text is user input: Markdown output escapes HTML and table pipes, DOCX
output drops characters XML cannot hold.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

from assistant.check.assess import (
    MAX_EVIDENCE,
    RATING_LABELS,
    STATUS_LABELS,
    CriterionResult,
    FactorResult,
    SentenceMatch,
)
from assistant.check.blocks import short_reference
from assistant.check.plan import PlanSentence
from assistant.check.report import DISCLAIMER, CheckReport
from assistant.errors import InputError

EXPORT_SUFFIXES = (".md", ".docx")
_EMOJI = {"gruen": "🟢", "gelb": "🟡", "rot": "🔴"}
_FILL = {"gruen": "C6EFCE", "gelb": "FFEB9C", "rot": "FFC7CE"}
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def check_out_path(path: Path, plan_path: Path | None = None) -> Path:
    """Refuse an unsupported report type or a report that would overwrite the plan, before any work is done."""
    path = Path(path)
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise InputError(
            f"Der Bericht kann als .md oder .docx gespeichert werden, nicht als „{path.suffix or '(ohne Endung)'}“. "
            "Bitte z. B. --out bericht.docx angeben.",
            f"The report can be saved as .md or .docx, not '{path.suffix or '(none)'}'.",
        )
    if plan_path is not None and path.resolve() == Path(plan_path).resolve():
        raise InputError(
            "Der Bericht würde den Projektplan überschreiben. Bitte einen anderen Dateinamen für --out wählen.",
            "The report would overwrite the plan. Choose another --out file name.",
        )
    return path


def write_report(report: CheckReport, path: Path) -> Path:
    """Write ``report`` as .md or .docx (by suffix), atomically."""
    path = check_out_path(path)
    data = to_docx(report) if path.suffix.lower() == ".docx" else to_markdown(report).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lotse-report-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(
            f"Der Bericht konnte nicht gespeichert werden ({e.strerror or e}). Bitte Pfad und Schreibrechte prüfen.",
            f"The report could not be saved ({e.strerror or e}).",
        ) from e
    return path


def _where(s: PlanSentence) -> str:
    parts = [f"Abschnitt „{s.section}“" if s.section else "", f"S. {s.page}" if s.page else ""]
    joined = ", ".join(p for p in parts if p)
    return f" ({joined})" if joined else ""


# --- Markdown ----------------------------------------------------------------------------------------------


def _evidence(c: CriterionResult) -> list[SentenceMatch]:
    """The plan sentences that fulfil ``c`` (none unless "erfüllt")."""
    return c.evidence()[:MAX_EVIDENCE]


def _md(text: str) -> str:
    """Plain text for Markdown: no raw HTML, no accidental markup at line start."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"^([#>*+\-]|\d+\.)(\s)", r"\\\1\2", text)


def _cell(text: str) -> str:
    return _md(text).replace("|", "\\|").replace("\n", " ")


def _md_factor(i: int, f: FactorResult) -> list[str]:
    out = [f"## {i}. {f.label} – {_EMOJI[f.rating]} {RATING_LABELS[f.rating].upper()}", "", _md(f.reason), ""]
    if f.summary:
        out += ["**Zusammenfassung (Sprachmodell, belegt):** " + _md(f.summary), ""]
    out += ["### Was der Plan schon sagt", ""]
    out += [f"- „{_md(s.text)}“{_md(_where(s))}" for s in f.found] or ["- Der Plan enthält dazu keine Aussage."]
    out += ["", "### Kriterien", ""]
    for c in f.criteria:
        out.append(f"- {c.criterion.label}: **{STATUS_LABELS[c.status]}**")
        out += [f"  - belegt durch: „{_md(m.sentence.text)}“{_md(_where(m.sentence))}" for m in _evidence(c)]
    if f.gaps:
        out += ["", "### Lücken", ""] + [f"- {_md(g)}" for g in f.gaps]
    if f.steps:
        out += ["", "### Nächste Schritte", ""] + [f"{n}. {_md(s)}" for n, s in enumerate(f.steps, start=1)]
    if f.guidance:
        out += ["", "### Aus den Leitfäden", ""] + [f"- „{_md(t)}“ [{n}]" for t, n in f.guidance]
    if f.citations:
        out += ["", "### Quellen", ""]
        out += [f"{c.n}. {_md(short_reference(c))} – „{_md(c.quote)}“ ({_md(c.source)})" for c in f.citations]
    return out + [""]


def to_markdown(report: CheckReport) -> str:
    mode = "mit Sprachmodell-Zusammenfassungen" if report.mode == "llm" else "extraktiv, ohne Sprachmodell"
    out = [
        f"# Verstetigungs-Check: {_md(report.plan.name)}",
        "",
        f"Erstellt am {report.created} · Modus: {mode}",
        "",
        f"_{_md(DISCLAIMER)}_",
        "",
        "## Übersicht",
        "",
        "| Erfolgsfaktor | Ampel | Begründung |",
        "|---|---|---|",
    ]
    out += [f"| {_cell(f.label)} | {_EMOJI[f.rating]} {RATING_LABELS[f.rating]} | {_cell(f.reason)} |" for f in report.factors]
    out.append("")
    for notice in report.notices:
        out += [f"> Hinweis: {_md(notice)}", ""]
    for i, f in enumerate(report.factors, start=1):
        out += _md_factor(i, f)
    if report.blocks:
        out += ["## Bausteine für den Antrag", "", "Wörtliche Aussagen aus der Wissensbasis, mit Quelle zum Übernehmen.", ""]
        for b in report.blocks:
            out += [f"### {_md(b.topic)}", ""]
            out += [f"- „{_md(s.text)}“ [{s.n}]" for s in b.statements]
            out += ["", "Quellen:", ""] + [f"{c.n}. {_md(short_reference(c))}" for c in b.citations] + [""]
    if report.bibliography:
        out += ["## Literaturverzeichnis", ""] + [f"- {_md(e.text)}" for e in report.bibliography] + [""]
    return "\n".join(out)


# --- DOCX --------------------------------------------------------------------------------------------------


def _x(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _shade(cell, fill: str) -> None:  # type: ignore[no-untyped-def]
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def to_docx(report: CheckReport) -> bytes:
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    doc.core_properties.title = _x(f"Verstetigungs-Check: {report.plan.name}")[:250]
    doc.core_properties.author = "Verstetigungslotse"
    doc.add_heading(_x(f"Verstetigungs-Check: {report.plan.name}"), level=0)
    mode = "mit Sprachmodell-Zusammenfassungen" if report.mode == "llm" else "extraktiv, ohne Sprachmodell"
    doc.add_paragraph(f"Erstellt am {report.created} · Modus: {mode}")
    doc.add_paragraph(DISCLAIMER).runs[0].italic = True

    doc.add_heading("Übersicht", level=1)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Erfolgsfaktor", "Ampel", "Begründung"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for f in report.factors:
        row = table.add_row().cells
        row[0].text = f.label
        row[1].text = RATING_LABELS[f.rating].upper()
        row[1].paragraphs[0].runs[0].bold = True
        _shade(row[1], _FILL[f.rating])
        row[2].text = _x(f.reason)
    for notice in report.notices:
        doc.add_paragraph(_x(f"Hinweis: {notice}"))

    for f in report.factors:
        doc.add_heading(f"{f.label} – {RATING_LABELS[f.rating].upper()}", level=1)
        doc.add_paragraph(_x(f.reason))
        if f.summary:
            p = doc.add_paragraph()
            p.add_run("Zusammenfassung (Sprachmodell, belegt): ").bold = True
            p.add_run(_x(f.summary))
        doc.add_heading("Was der Plan schon sagt", level=2)
        for s in f.found:
            doc.add_paragraph(_x(f"„{s.text}“{_where(s)}"), style="List Bullet")
        if not f.found:
            doc.add_paragraph("Der Plan enthält dazu keine Aussage.")
        doc.add_heading("Kriterien", level=2)
        for c in f.criteria:
            p = doc.add_paragraph(style="List Bullet")
            p.add_run(_x(f"{c.criterion.label}: "))
            p.add_run(STATUS_LABELS[c.status]).bold = True
            for m in _evidence(c):
                doc.add_paragraph(_x(f"belegt durch: „{m.sentence.text}“{_where(m.sentence)}"), style="List Bullet 2")
        if f.gaps:
            doc.add_heading("Lücken", level=2)
            for g in f.gaps:
                doc.add_paragraph(_x(g), style="List Bullet")
        if f.steps:
            doc.add_heading("Nächste Schritte", level=2)
            for step in f.steps:
                doc.add_paragraph(_x(step), style="List Number")
        if f.guidance:
            doc.add_heading("Aus den Leitfäden", level=2)
            for text, n in f.guidance:
                doc.add_paragraph(_x(f"„{text}“ [{n}]"), style="Quote")
        if f.citations:
            doc.add_heading("Quellen", level=2)
            for cited in f.citations:
                p = doc.add_paragraph()
                p.add_run(f"[{cited.n}] ").bold = True
                p.add_run(_x(short_reference(cited)) + " ")
                p.add_run(_x(f"„{cited.quote}“")).italic = True
                p.add_run(_x(f" ({cited.source})")).font.size = Pt(8)

    if report.blocks:
        doc.add_heading("Bausteine für den Antrag", level=1)
        doc.add_paragraph("Wörtliche Aussagen aus der Wissensbasis, mit Quelle zum Übernehmen.")
        for b in report.blocks:
            doc.add_heading(_x(b.topic), level=2)
            for statement in b.statements:
                doc.add_paragraph(_x(f"„{statement.text}“ [{statement.n}]"))
            for cited in b.citations:
                doc.add_paragraph(_x(f"[{cited.n}] {short_reference(cited)}")).runs[0].font.size = Pt(9)

    if report.bibliography:
        doc.add_heading("Literaturverzeichnis", level=1)
        for e in report.bibliography:
            p = doc.add_paragraph(_x(e.text))
            p.paragraph_format.left_indent = Pt(18)
            p.paragraph_format.first_line_indent = Pt(-18)

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
