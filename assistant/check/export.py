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

from assistant.check.assess import MAX_EVIDENCE, CriterionResult, FactorResult, SentenceMatch
from assistant.check.blocks import short_reference
from assistant.check.plan import PlanSentence
from assistant.check.report import CheckReport
from assistant.check.texts import rating_label, status_label, tr
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


def _where(s: PlanSentence, lang: str = "de") -> str:
    parts = [tr(lang, "section", name=s.section) if s.section else "", tr(lang, "page", page=s.page) if s.page else ""]
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


def _md_factor(i: int, f: FactorResult, lang: str) -> list[str]:
    light = rating_label(f.rating, lang).upper()
    out = [f"## {i}. {f.label} – {_EMOJI[f.rating]} {light}", "", _md(f.reason), ""]
    if f.summary:
        out += [f"**{tr(lang, 'summary')}:** " + _md(f.summary), ""]
    out += [f"### {tr(lang, 'found')}", ""]
    out += [f"- „{_md(s.text)}“{_md(_where(s, lang))}" for s in f.found] or [f"- {tr(lang, 'found_none')}"]
    out += ["", f"### {tr(lang, 'criteria')}", ""]
    for c in f.criteria:
        out.append(f"- {_md(c.criterion.label_in(lang))}: **{status_label(c.status, lang)}**")
        out += [
            f"  - {tr(lang, 'evidence')}: „{_md(m.sentence.text)}“{_md(_where(m.sentence, lang))}" for m in _evidence(c)
        ]
    if f.gaps:
        out += ["", f"### {tr(lang, 'gaps')}", ""] + [f"- {_md(g)}" for g in f.gaps]
    if f.steps:
        out += ["", f"### {tr(lang, 'steps')}", ""] + [f"{n}. {_md(s)}" for n, s in enumerate(f.steps, start=1)]
    if f.guidance:
        out += ["", f"### {tr(lang, 'guidance')}", ""] + [f"- „{_md(t)}“ [{n}]" for t, n in f.guidance]
    if f.citations:
        out += ["", f"### {tr(lang, 'sources')}", ""]
        out += [
            f"{c.n}. {_md(short_reference(c, lang))} – „{_md(c.quote)}“ ({_md(c.source)})" for c in f.citations
        ]
    return out + [""]


def to_markdown(report: CheckReport) -> str:
    lang = report.lang
    out = [
        f"# {_md(tr(lang, 'title', name=report.plan.name))}",
        "",
        tr(lang, "created", when=report.created, mode=report.mode_label()),
        "",
        f"_{_md(tr(lang, 'disclaimer'))}_",
        "",
        f"## {tr(lang, 'overview')}",
        "",
        f"| {tr(lang, 'col_factor')} | {tr(lang, 'col_light')} | {tr(lang, 'col_reason')} |",
        "|---|---|---|",
    ]
    out += [
        f"| {_cell(f.label)} | {_EMOJI[f.rating]} {rating_label(f.rating, lang)} | {_cell(f.reason)} |"
        for f in report.factors
    ]
    out.append("")
    for notice in report.notices:
        out += [f"> {tr(lang, 'notice')}: {_md(notice)}", ""]
    for i, f in enumerate(report.factors, start=1):
        out += _md_factor(i, f, lang)
    if report.blocks:
        out += [f"## {tr(lang, 'blocks')}", "", tr(lang, "blocks_note"), ""]
        for b in report.blocks:
            out += [f"### {_md(b.topic)}", ""]
            out += [f"- „{_md(s.text)}“ [{s.n}]" for s in b.statements]
            out += ["", f"{tr(lang, 'sources')}:", ""]
            out += [f"{c.n}. {_md(short_reference(c, lang))}" for c in b.citations] + [""]
    if report.bibliography:
        out += [f"## {tr(lang, 'bibliography')}", ""] + [f"- {_md(e.text_in(lang))}" for e in report.bibliography]
        out += [""]
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
    """The report as a Word document: overview table, one section per factor, building blocks, bibliography."""
    import docx

    lang = report.lang
    doc = docx.Document()
    doc.core_properties.title = _x(tr(lang, "title", name=report.plan.name))[:250]
    doc.core_properties.author = "Verstetigungslotse"
    doc.core_properties.language = "en" if lang == "en" else "de-DE"
    doc.add_heading(_x(tr(lang, "title", name=report.plan.name)), level=0)
    doc.add_paragraph(tr(lang, "created", when=report.created, mode=report.mode_label()))
    doc.add_paragraph(tr(lang, "disclaimer")).runs[0].italic = True
    _docx_overview(doc, report)
    for f in report.factors:
        _docx_factor(doc, f, lang)
    _docx_blocks_and_bibliography(doc, report)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _docx_overview(doc, report: CheckReport) -> None:  # type: ignore[no-untyped-def]
    """The table of factors with their traffic light and reason, then the check's notices."""
    lang = report.lang
    doc.add_heading(tr(lang, "overview"), level=1)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    heads = (tr(lang, "col_factor"), tr(lang, "col_light"), tr(lang, "col_reason"))
    for cell, text in zip(table.rows[0].cells, heads, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for f in report.factors:
        row = table.add_row().cells
        row[0].text = f.label
        row[1].text = rating_label(f.rating, lang).upper()
        row[1].paragraphs[0].runs[0].bold = True
        _shade(row[1], _FILL[f.rating])
        row[2].text = _x(f.reason)
    for notice in report.notices:
        doc.add_paragraph(_x(f"{tr(lang, 'notice')}: {notice}"))


def _docx_factor(doc, f: FactorResult, lang: str) -> None:  # type: ignore[no-untyped-def]
    """One factor's section: rating and reason, what the plan says, criteria with evidence, gaps, steps,
    guidance from the sources and their references."""
    from docx.shared import Pt

    doc.add_heading(f"{f.label} – {rating_label(f.rating, lang).upper()}", level=1)
    doc.add_paragraph(_x(f.reason))
    if f.summary:
        p = doc.add_paragraph()
        p.add_run(f"{tr(lang, 'summary')}: ").bold = True
        p.add_run(_x(f.summary))
    doc.add_heading(tr(lang, "found"), level=2)
    for s in f.found:
        doc.add_paragraph(_x(f"„{s.text}“{_where(s, lang)}"), style="List Bullet")
    if not f.found:
        doc.add_paragraph(tr(lang, "found_none"))
    doc.add_heading(tr(lang, "criteria"), level=2)
    for c in f.criteria:
        p = doc.add_paragraph(style="List Bullet")
        p.add_run(_x(f"{c.criterion.label_in(lang)}: "))
        p.add_run(status_label(c.status, lang)).bold = True
        for m in _evidence(c):
            text = f"{tr(lang, 'evidence')}: „{m.sentence.text}“{_where(m.sentence, lang)}"
            doc.add_paragraph(_x(text), style="List Bullet 2")
    for key, items, style in (("gaps", f.gaps, "List Bullet"), ("steps", f.steps, "List Number")):
        if items:
            doc.add_heading(tr(lang, key), level=2)
            for item in items:
                doc.add_paragraph(_x(item), style=style)
    if f.guidance:
        doc.add_heading(tr(lang, "guidance"), level=2)
        for text, n in f.guidance:
            doc.add_paragraph(_x(f"„{text}“ [{n}]"), style="Quote")
    if f.citations:
        doc.add_heading(tr(lang, "sources"), level=2)
        for cited in f.citations:
            p = doc.add_paragraph()
            p.add_run(f"[{cited.n}] ").bold = True
            p.add_run(_x(short_reference(cited, lang)) + " ")
            p.add_run(_x(f"„{cited.quote}“")).italic = True
            p.add_run(_x(f" ({cited.source})")).font.size = Pt(8)


def _docx_blocks_and_bibliography(doc, report: CheckReport) -> None:  # type: ignore[no-untyped-def]
    """The cited building blocks for the chosen topics, then the bibliography (hanging indent)."""
    from docx.shared import Pt

    lang = report.lang
    if report.blocks:
        doc.add_heading(tr(lang, "blocks"), level=1)
        doc.add_paragraph(tr(lang, "blocks_note"))
        for b in report.blocks:
            doc.add_heading(_x(b.topic), level=2)
            for statement in b.statements:
                doc.add_paragraph(_x(f"„{statement.text}“ [{statement.n}]"))
            for cited in b.citations:
                doc.add_paragraph(_x(f"[{cited.n}] {short_reference(cited, lang)}")).runs[0].font.size = Pt(9)

    if report.bibliography:
        doc.add_heading(tr(lang, "bibliography"), level=1)
        for e in report.bibliography:
            p = doc.add_paragraph(_x(e.text_in(lang)))
            p.paragraph_format.left_indent = Pt(18)
            p.paragraph_format.first_line_indent = Pt(-18)
